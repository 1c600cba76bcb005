"""Public-transport times to a new site in milliseconds: the stop arrivals kept warm.

A public-transport search from an origin does not depend on where the journey ends until
the last walk: the earliest arrival *by vehicle* at every stop, for every departure of the
window, is the same whatever the destination. :class:`TransitStopField` runs range-RAPTOR
once with each stop as its own destination (no egress walk) and keeps those arrivals,
``(origins, stops, departures)``. A new or moved site then needs only its walk from the
stops near it and the walk all the way::

    field = TransitStopField(engine, origins, origin_id_column="area_id")
    table = field.travel_times(new_sites, destination_id_column="site_id")

The table equals :func:`apgeo.routing.transit.travel_time_table.transit_travel_time_table` for the
same sites, window, step and percentile: the search takes the minimum over the same
``stop arrival + egress walk`` sums, only in another order.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd

from apgeo.routing.transit.feed import BATCH_CELLS, DEFAULT_MAX_TRAVEL_TIME_S
from apgeo.routing.transit.range_raptor import LegIndex, prepare_scans, range_raptor
from apgeo.routing.transit.raptor import TransitEngine, _Legs, _ranks
from apgeo.routing.transit.travel_time_table import departure_times, nearest_rank_percentile
from apgeo.routing.travel_times import _check_limit
from apgeo.schema import DESTINATION_ID, MODE, ORIGIN_ID, TRAVEL_TIME_S


class TransitStopField:
    """Earliest arrivals by vehicle at every stop from every origin over a departure window.

    Parameters
    ----------
    engine
        A :class:`~apgeo.routing.transit.raptor.TransitEngine`.
    origins
        Origin points (any CRS), e.g. demand-area centroids.
    origin_id_column
        Unique id column of ``origins``.
    departure_window, step_min, percentile, max_travel_time_s
        As :func:`~apgeo.routing.transit.travel_time_table.transit_travel_time_table`.
    """

    def __init__(
        self,
        engine: TransitEngine,
        origins: gpd.GeoDataFrame | pd.DataFrame,
        *,
        origin_id_column: str,
        departure_window: tuple[str | float, str | float] = ("07:00", "09:00"),
        step_min: float = 1,
        percentile: float = 50,
        max_travel_time_s: float | None = DEFAULT_MAX_TRAVEL_TIME_S,
    ) -> None:
        self.engine = engine
        self.origin_id_column = origin_id_column
        self.percentile = float(percentile)
        self.deps = departure_times(departure_window, step_min)
        self.limit_s = _check_limit(max_travel_time_s)
        self.origins = engine.prepare_points(origins, id_column=origin_id_column, name="origins")
        n_o, n_s, n_t = len(self.origins), engine.n_stops, len(self.deps)
        #: ``(origins, stops, departures)`` arrival by vehicle, seconds after midnight
        self.arrivals = np.full((n_o, n_s, n_t), np.inf)
        if n_o == 0 or n_s == 0 or n_t == 0 or not engine.patterns:
            return
        if engine._scans is None:
            engine._scans = prepare_scans(engine.patterns)
            engine._transfer_index = LegIndex.build(engine._transfer_legs, n_s)
        assert engine._transfer_index is not None
        stops = np.arange(n_s)
        itself = LegIndex.build(_Legs(stops, stops, np.zeros(n_s), _ranks(stops)), n_s)
        cells = n_s * (engine.max_rides + 2)
        chunk = max(1, min(n_o, BATCH_CELLS // max(cells, 1), 512))
        for o0 in range(0, n_o, chunk):
            o1 = min(n_o, o0 + chunk)
            access = engine._walk_to_stops(self.origins.iloc[o0:o1], engine.max_walk_s, "from")
            found = range_raptor(
                engine._scans, engine._transfer_index, itself, access, self.deps, n_s,
                self.limit_s, engine.max_rides,
            )  # (stops, k, departures)
            self.arrivals[o0:o1] = found.transpose(1, 0, 2)

    def travel_times(
        self, destinations: gpd.GeoDataFrame | pd.DataFrame, *, destination_id_column: str
    ) -> pd.DataFrame:
        """The long table ``origin_id, destination_id, travel_time_s`` for these sites (the
        configured percentile over the window; ``NaN`` beyond the journey limit).

        Parameters
        ----------
        destinations
            The sites (points).
        destination_id_column
            Their unique id column.

        Returns
        -------
        pandas.DataFrame
            One row per origin and site.
        """
        engine, deps, limit = self.engine, self.deps, self.limit_s
        o = self.origins
        d = engine.prepare_points(destinations, id_column=destination_id_column, name="destinations")
        n_o, n_d, n_t = len(o), len(d), len(deps)
        out = np.full((n_o, n_d, n_t), np.inf)
        if n_o and n_d and n_t:
            walk_s = engine._walk_all_the_way(
                o, d, limit, origin_id_column=self.origin_id_column,
                destination_id_column=destination_id_column,
            )
            out[:] = deps[None, None, :] + walk_s[:, :, None]
            if engine.n_stops and engine.patterns:
                egress = engine._walk_to_stops(d, engine.max_walk_s, "to")  # (n_d, n_stops)
                any_near = bool(np.isfinite(egress).any())  # else walking only, as the search
                for j in range(n_d):
                    near = np.flatnonzero(np.isfinite(egress[j]))
                    if len(near) == 0:
                        continue
                    via = self.arrivals[:, near, :] + egress[j, near][None, :, None]
                    np.minimum(out[:, j, :], via.min(axis=1), out=out[:, j, :])
                if any_near and np.isfinite(limit):
                    out[out - deps[None, None, :] > limit] = np.inf
        times = out - deps[None, None, :]
        times = np.where(times <= limit, times, np.inf)
        value = nearest_rank_percentile(times, self.percentile, axis=2).reshape(-1)
        table = pd.DataFrame(
            {
                ORIGIN_ID: np.repeat(o[self.origin_id_column].to_numpy(), n_d),
                DESTINATION_ID: np.tile(d[destination_id_column].to_numpy(), n_o),
                TRAVEL_TIME_S: np.where(np.isfinite(value), value, np.nan),
            }
        )
        table.attrs.update({MODE: "transit", "max_travel_time_s": limit})
        return table

    def __repr__(self) -> str:
        n_o, n_s, n_t = self.arrivals.shape
        return f"TransitStopField({n_o} origins x {n_s} stops x {n_t} departures)"


__all__ = ["TransitStopField"]
