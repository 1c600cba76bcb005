"""How far off the straight-line estimate is, measured per area on a real street network.

For every demand area (e.g. an LSOA's population-weighted centroid) and one mode:

- ``street_time_s``: the street-network time to the nearest site (the travel-time engine,
  access legs included, exactly as a study computes it);
- ``straight_line_time_s``: the straight-line estimate to the nearest site by crow-fly
  distance (:mod:`apgeo.routing.straight_line`: crow-fly x circuity factor / speed);
- ``ratio = street_time_s / straight_line_time_s``: 1 means the estimate was right, 0.5
  that the streets are twice as fast as the estimate says, 1.5 that they are slower;
- ``flipped``: whether the area is on the other side of a threshold (30 min by default)
  by the estimate than by the streets (the coverage a planner would read is then wrong).

It also measures what the two constants of the estimate stand for, so they can be fitted:
``circuity`` = shortest street distance to the nearest site / crow-fly distance to the
nearest site (door to door), and ``speed_kph`` = that street distance / ``street_time_s``
(an effective door-to-door speed, junctions, speed limits and access legs included).
With ``circuity_factor`` = the median circuity and ``speed_kph`` = the median effective
speed, the estimate's median ratio comes out close to 1.

:class:`StraightLineError` holds the per-area rows and, for any circuity factor and speed,
the summary a planner needs: median ratio, quartiles, 10th-90th percentiles, the share of
areas whose within-threshold status flips, and how many areas were measured and left out
(no street route to any site). ``scripts/measure_straight_line.py`` runs it on every real
network in the shared data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist

from apgeo import schema as S
from apgeo._errors import ApgeoValueError
from apgeo._validate import check_unique, require_columns, to_working_crs
from apgeo.routing.circuity import _METRES_PER_SECOND_KPH, length_engine
from apgeo.routing.straight_line import STRAIGHT_LINE_SPEEDS_KPH, circuity_for
from apgeo.routing.travel_times import TravelTimeEngine, travel_time_table

#: The threshold whose coverage the summary checks for flips (minutes): the study's
#: cold-spot threshold and the recommendations' default.
DEFAULT_THRESHOLD_MIN = 30.0

#: Per-area columns, in order.
AREA_COLUMNS: tuple[str, ...] = (
    S.AREA_ID,
    "crow_fly_m",
    "street_time_s",
    "street_distance_m",
    "circuity",
    "speed_kph",
)


@dataclass(frozen=True)
class StraightLineSummary:
    """The straight-line estimate's error over the measured areas, for one factor and speed.

    ``ratio_*`` are of street time / straight-line time over the measured areas;
    ``share_flipped`` is the share of them on the other side of ``threshold_min`` by the
    estimate (``n_optimistic``: within by the estimate, not by the streets;
    ``n_pessimistic``: the reverse).
    """

    mode: str
    circuity_factor: float
    speed_kph: float
    threshold_min: float
    n_areas: int
    n_unreachable: int
    ratio_median: float
    ratio_p10: float
    ratio_q25: float
    ratio_q75: float
    ratio_p90: float
    share_flipped: float
    n_optimistic: int
    n_pessimistic: int
    circuity_median: float
    speed_kph_median: float

    def as_row(self) -> dict[str, Any]:
        """The summary as one table row (plain Python values).

        Returns
        -------
        dict
            Field name -> value.
        """
        return dict(self.__dict__)


@dataclass(frozen=True)
class StraightLineError:
    """Street time and straight-line time to the nearest site, per area, for one mode.

    Attributes
    ----------
    mode
        The engine's mode.
    areas
        One row per area: :data:`AREA_COLUMNS` (``street_time_s`` and
        ``street_distance_m`` NaN where no street route reaches any site).
    """

    mode: str
    areas: pd.DataFrame

    @property
    def measured(self) -> pd.DataFrame:
        """The areas with a street route to some site and a crow-fly distance above 0."""
        a = self.areas
        return a[np.isfinite(a["street_time_s"]) & (a["crow_fly_m"] > 0)]

    def ratios(self, *, circuity_factor: float | None = None, speed_kph: float | None = None) -> pd.Series:
        """Street time / straight-line time per measured area, for this factor and speed
        (default: the committed ones for the mode).

        Parameters
        ----------
        circuity_factor, speed_kph
            The estimate's factor and speed in km/h (``None``: the mode's committed ones).

        Returns
        -------
        pandas.Series
            One ratio per measured area.
        """
        c, v = _parameters(self.mode, circuity_factor, speed_kph)
        m = self.measured
        return m["street_time_s"] / straight_line_time_s(m["crow_fly_m"], circuity_factor=c, speed_kph=v)

    def summary(
        self,
        *,
        circuity_factor: float | None = None,
        speed_kph: float | None = None,
        threshold_min: float = DEFAULT_THRESHOLD_MIN,
    ) -> StraightLineSummary:
        """Median ratio, spread and flipped share for this factor and speed (default: the
        committed ones for the mode; pass the old ones to see what they got wrong).

        Parameters
        ----------
        circuity_factor, speed_kph
            The estimate's factor and speed in km/h (``None``: the mode's committed ones).
        threshold_min
            Threshold in minutes for the share of areas put on the wrong side of it.

        Returns
        -------
        StraightLineSummary
            The summary.
        """
        if not np.isfinite(threshold_min) or threshold_min <= 0:
            raise ApgeoValueError(f"threshold_min must be a positive number of minutes, not {threshold_min!r}")
        c, v = _parameters(self.mode, circuity_factor, speed_kph)
        m = self.measured
        if m.empty:
            raise ApgeoValueError(
                f"no area could be measured ({len(self.areas)} areas, none with a street route to "
                "a site at a crow-fly distance above 0); check that the sites lie on the network"
            )
        ratio = self.ratios(circuity_factor=c, speed_kph=v).to_numpy(float)
        limit_s = threshold_min * 60.0
        by_street = m["street_time_s"].to_numpy(float) <= limit_s
        by_line = straight_line_time_s(m["crow_fly_m"], circuity_factor=c, speed_kph=v).to_numpy(float) <= limit_s
        p10, q25, med, q75, p90 = np.percentile(ratio, [10, 25, 50, 75, 90])
        return StraightLineSummary(
            mode=self.mode,
            circuity_factor=float(c),
            speed_kph=float(v),
            threshold_min=float(threshold_min),
            n_areas=len(m),
            n_unreachable=int((~np.isfinite(self.areas["street_time_s"])).sum()),
            ratio_median=float(med),
            ratio_p10=float(p10),
            ratio_q25=float(q25),
            ratio_q75=float(q75),
            ratio_p90=float(p90),
            share_flipped=float((by_street != by_line).mean()),
            n_optimistic=int((by_line & ~by_street).sum()),
            n_pessimistic=int((by_street & ~by_line).sum()),
            circuity_median=float(np.nanmedian(m["circuity"])),
            speed_kph_median=float(np.nanmedian(m["speed_kph"])),
        )


def straight_line_time_s(crow_fly_m: pd.Series | np.ndarray, *, circuity_factor: float, speed_kph: float) -> pd.Series:
    """The straight-line estimate (seconds) for crow-fly distances (metres).

    Parameters
    ----------
    crow_fly_m
        Crow-fly distances in metres.
    circuity_factor
        Road distance / crow-fly distance.
    speed_kph
        Speed in km/h.

    Returns
    -------
    pandas.Series
        Seconds (the input's index when it has one).
    """
    return pd.Series(np.asarray(crow_fly_m, dtype=float) * circuity_factor / (speed_kph / 3.6),
                     index=getattr(crow_fly_m, "index", None))


def _parameters(mode: str, circuity_factor: float | None, speed_kph: float | None) -> tuple[float, float]:
    if speed_kph is None and mode not in STRAIGHT_LINE_SPEEDS_KPH:
        raise ApgeoValueError(f"no straight-line speed for mode {mode!r}; pass speed_kph=")
    c = float(circuity_factor if circuity_factor is not None else circuity_for(mode))
    v = float(speed_kph if speed_kph is not None else STRAIGHT_LINE_SPEEDS_KPH[mode])
    if not np.isfinite(c) or c <= 0 or not np.isfinite(v) or v <= 0:
        raise ApgeoValueError(f"circuity_factor and speed_kph must be positive, not {c!r} and {v!r}")
    return c, v


def _nearest(table: pd.DataFrame, n_origins: int, n_destinations: int) -> np.ndarray:
    """Per origin, the smallest value of the long table (NaN when none is finite)."""
    values = table[S.TRAVEL_TIME_S].to_numpy(float).reshape(n_origins, n_destinations)
    finite = np.isfinite(values)
    out = np.full(n_origins, np.nan)
    rows = finite.any(axis=1)
    out[rows] = np.where(finite[rows], values[rows], np.inf).min(axis=1)
    return out


def measure_straight_line_error(
    network: nx.MultiDiGraph | TravelTimeEngine,
    areas: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    area_id_column: str = S.AREA_ID,
    site_id_column: str = S.SITE_ID,
    warn_distance_m: float | None = None,
    max_distance_m: float | None = None,
) -> StraightLineError:
    """Street time and straight-line time from every area to its nearest site, for one mode.

    Parameters
    ----------
    network
        A mode's street network (an apgeo graph or a travel-time engine); its mode names
        the straight-line speed.
    areas, sites
        Point GeoDataFrames with a CRS and unique ids (areas: population-weighted
        centroids; sites: provider sites or any destinations).
    area_id_column, site_id_column
        Their id columns.
    warn_distance_m, max_distance_m
        Passed to :func:`apgeo.routing.snap.snap_points` (a network of main roads only
        leaves long access legs: raise ``warn_distance_m`` to silence the warning knowingly).

    Returns
    -------
    StraightLineError
        Per-area rows; ``.summary()`` gives the median ratio, spread and flipped share.
        Street times use the engine's own access legs (walked, as in a study); the
        street distance comes from the same streets with every edge's "time" its length.
    """
    for gdf, col, name in ((areas, area_id_column, "areas"), (sites, site_id_column, "sites")):
        require_columns(gdf, [col], source=name)
        check_unique(gdf, col, source=name)
    if len(sites) == 0:
        raise ApgeoValueError("sites is empty: give at least one destination to measure against")
    engine = network if isinstance(network, TravelTimeEngine) else TravelTimeEngine.from_graph(network)
    mode = str(engine.mode)
    snap = {"warn_distance_m": warn_distance_m, "max_distance_m": max_distance_m}
    o = to_working_crs(areas, name="areas", crs=engine.crs)[[area_id_column, "geometry"]]
    d = to_working_crs(sites, name="sites", crs=engine.crs)[[site_id_column, "geometry"]]
    ids = dict(origin_id_column=area_id_column, destination_id_column=site_id_column)
    times = travel_time_table(engine, o, d, **ids, **snap)  # type: ignore[arg-type]
    lengths = travel_time_table(
        length_engine(engine), o, d, **ids, **snap, access_speed_kph=_METRES_PER_SECOND_KPH  # type: ignore[arg-type]
    )
    street_time_s = _nearest(times, len(o), len(d))
    street_distance_m = _nearest(lengths, len(o), len(d))
    oxy = np.column_stack([o.geometry.x.to_numpy(float), o.geometry.y.to_numpy(float)])
    dxy = np.column_stack([d.geometry.x.to_numpy(float), d.geometry.y.to_numpy(float)])
    crow_fly_m = cdist(oxy, dxy).min(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        circuity = np.where(crow_fly_m > 0, street_distance_m / crow_fly_m, np.nan)
        speed_kph = np.where(street_time_s > 0, street_distance_m / street_time_s * 3.6, np.nan)
    table = pd.DataFrame(
        {
            S.AREA_ID: o[area_id_column].to_numpy(),
            "crow_fly_m": crow_fly_m,
            "street_time_s": street_time_s,
            "street_distance_m": street_distance_m,
            "circuity": circuity,
            "speed_kph": speed_kph,
        }
    )
    return StraightLineError(mode=mode, areas=table)


__all__ = [
    "AREA_COLUMNS",
    "DEFAULT_THRESHOLD_MIN",
    "StraightLineError",
    "StraightLineSummary",
    "measure_straight_line_error",
    "straight_line_time_s",
]
