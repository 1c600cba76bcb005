"""Public-transport travel times: RAPTOR with walk legs and transfers, over a window of
departure times, summarised as the median or another percentile.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from apgeo._errors import ApgeoValueError
from apgeo._log import logger, warn
from apgeo._progress import progress_bar
from apgeo.routing.snap import snap_points
from apgeo.routing.snapped_times import direct_times, target_times
from apgeo.routing.transit.feed import (
    BATCH_CELLS,
    DEFAULT_MAX_TRAVEL_TIME_S,
    STRAIGHT_LINE_DETOUR,
    WALK_SPEED_KPH,
    TransferTimes,
    TransitFeed,
)
from apgeo.routing.transit.legs import StraightLineWalk, combine_transfers
from apgeo.routing.transit.range_raptor import LegIndex, Scans, prepare_scans, range_raptor
from apgeo.routing.transit.raptor_compiled import AVAILABLE as COMPILED_AVAILABLE
from apgeo.routing.transit.raptor_compiled import CompiledPatterns, range_raptor_compiled
from apgeo.routing.travel_times import (
    TravelTimeEngine,
    _check_limit,
    _snapped,
    travel_time_table,
)
from apgeo.schema import TRAVEL_TIME_S

SearchMethod = Literal["range", "per_departure"]


@dataclass(frozen=True, eq=False)
class _Pattern:
    """Trips calling at the same stops in the same order, none overtaking another.

    ``dep[i]`` / ``arr[i]``: departure / arrival times at position ``i`` of every trip,
    sorted (trips in order); ``arr`` has one extra ``inf`` entry per position for
    "no trip boarded yet".
    """

    stops: np.ndarray  # (m,) stop indices
    dep: np.ndarray  # (m, T)
    arr: np.ndarray  # (m, T + 1)
    first_dep: np.ndarray  # (T,) departure at the first stop
    last_arr: np.ndarray  # (T,) arrival at the last stop


def _patterns(stop_times: pd.DataFrame, stop_index: Mapping[Any, int]) -> list[_Pattern]:
    """Group trips into FIFO patterns (trips on one pattern never overtake)."""
    st = stop_times[stop_times["stop_id"].isin(list(stop_index))]
    st = st.sort_values(["trip_key", "stop_sequence"], kind="stable")
    stop_idx = st["stop_id"].map(stop_index).to_numpy(np.int64)
    times = st[["arrival_s", "departure_s"]].to_numpy(float)
    keys = st["trip_key"].to_numpy()
    bounds = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1], True])
    groups: dict[tuple[int, ...], list[np.ndarray]] = {}
    for lo, hi in itertools.pairwise(bounds):
        if hi - lo >= 2:
            groups.setdefault(tuple(stop_idx[lo:hi].tolist()), []).append(times[lo:hi])
    out: list[_Pattern] = []
    for stops_tuple, trips in groups.items():
        trips.sort(key=lambda a: (a[0, 1], a[-1, 0]))
        lanes: list[list[np.ndarray]] = []  # greedy split into lanes without overtaking
        for tt in trips:
            for lane in lanes:
                prev = lane[-1]
                if (tt >= prev).all():
                    lane.append(tt)
                    break
            else:
                lanes.append([tt])
        stops_arr = np.asarray(stops_tuple, dtype=np.int64)
        for lane in lanes:
            block = np.stack(lane)  # (T, m, 2)
            dep = np.ascontiguousarray(block[:, :, 1].T)
            arr = np.concatenate([block[:, :, 0].T, np.full((len(stops_arr), 1), np.inf)], axis=1)
            out.append(
                _Pattern(
                    stops=stops_arr,
                    dep=dep,
                    arr=np.ascontiguousarray(arr),
                    first_dep=dep[0].copy(),
                    last_arr=arr[-1, :-1].copy(),
                )
            )
    return out


def _ranks(rows: np.ndarray) -> list[np.ndarray]:
    """Split positions of ``rows`` into groups in which every row appears at most once.

    Lets ``target[rows] = min(target[rows], values)`` run as a few vectorised steps even
    when rows repeat (many transfers into one stop).
    """
    if len(rows) == 0:
        return []
    order = np.argsort(rows, kind="stable")
    sorted_rows = rows[order]
    starts = np.flatnonzero(np.r_[True, sorted_rows[1:] != sorted_rows[:-1]])
    rank = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
    return [order[rank == r] for r in range(int(rank.max()) + 1)]


class TransitEngine:
    """A GTFS feed joined to a walk network, ready for many-origin schedule searches.

    Parameters
    ----------
    feed
        A :class:`TransitFeed` (one service date).
    walk_engine
        A walking :class:`~apgeo.routing.travel_times.TravelTimeEngine` (e.g. from
        ``grid_network(..., mode="walk")`` or ``load_network(..., mode="walk")``); walking
        times, access legs and snapping come from it. ``None`` or a
        :class:`~apgeo.routing.transit.legs.StraightLineWalk` where no walk network exists:
        every walking leg is then crow-fly distance x 1.3 at ``walk_speed_kph`` (origins and
        destinations must be point GeoDataFrames; transfers are straight-line).
    max_walk_m
        Longest walk from the origin to the first stop and from the last stop to the
        destination, in metres at ``walk_speed_kph`` (default 1,000 m = 12.5 min; r5py's
        default is 12 min). Walking the whole way is not capped by it (only by the
        journey limit).
    transfer_radius_m
        Stops within this straight-line distance are joined by walking transfers.
    transfer_times
        ``"network"``: transfer times from the walk network (a transfer longer than
        ``2 x transfer_radius_m`` on foot is dropped); ``"straight_line"``: distance x 1.3 at
        ``walk_speed_kph`` (the fallback where no good walk network exists; always so without
        a walk network).
    walk_speed_kph
        Converts ``max_walk_m`` to a time limit and times straight-line transfers.
    max_rides
        Most vehicles in one journey (RAPTOR rounds; r5py allows 8).
    max_stop_distance_m
        Stops farther than this from every street of the walk network are left out with a
        warning listing them (e.g. the feed covers a wider area than the network);
        if every stop is that far, an error. Not used without a walk network.
    extra_transfers
        More walking transfers: ``from_stop_id``, ``to_stop_id``, ``travel_time_s`` (seconds)
        and optionally ``source``. For a pair the engine also links, the shorter time wins,
        except that a row with ``source == "transfers.txt"`` always wins (the timetable's
        own minimum). Pass ``transfer_radius_m=0`` to use only these.
    forbidden_transfers
        ``from_stop_id``, ``to_stop_id`` pairs never walked between (``transfer_type`` 3).
    strict
        Turn warnings into errors.
    compiled
        Run range-RAPTOR compiled (:mod:`apgeo.routing.transit.raptor_compiled`, numba,
        both cores) rather than as numpy array steps; same results. ``None`` (default):
        compiled when numba is installed.
    """

    def __init__(
        self,
        feed: TransitFeed,
        walk_engine: TravelTimeEngine | StraightLineWalk | None,
        *,
        max_walk_m: float = 1_000.0,
        transfer_radius_m: float = 400.0,
        transfer_times: TransferTimes = "network",
        walk_speed_kph: float = WALK_SPEED_KPH,
        max_rides: int = 4,
        max_stop_distance_m: float = 500.0,
        extra_transfers: pd.DataFrame | None = None,
        forbidden_transfers: pd.DataFrame | None = None,
        strict: bool = False,
        compiled: bool | None = None,
    ) -> None:
        if not isinstance(feed, TransitFeed):
            raise ApgeoValueError(f"feed must be a TransitFeed, not {type(feed).__name__}")
        if walk_engine is None:
            walk_engine = StraightLineWalk()
        if not isinstance(walk_engine, (TravelTimeEngine, StraightLineWalk)):
            raise ApgeoValueError(
                "walk_engine must be a TravelTimeEngine, a StraightLineWalk or None, not "
                f"{type(walk_engine).__name__}"
            )
        if isinstance(walk_engine, StraightLineWalk):
            transfer_times = "straight_line" if transfer_times == "network" else transfer_times
        elif walk_engine.mode not in ("walk", "unknown"):
            warn(
                f"walk_engine has mode {walk_engine.mode!r}; access legs and transfers should be "
                "walked: build it from a walk network",
                strict=strict,
            )
        for label, value in (
            ("max_walk_m", max_walk_m),
            ("transfer_radius_m", transfer_radius_m),
            ("walk_speed_kph", walk_speed_kph),
            ("max_stop_distance_m", max_stop_distance_m),
        ):
            if not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
                raise ApgeoValueError(f"{label}={value!r}: give a non-negative finite number")
        if walk_speed_kph <= 0:
            raise ApgeoValueError(f"walk_speed_kph={walk_speed_kph!r} must be positive")
        if transfer_times not in ("network", "straight_line"):
            raise ApgeoValueError(
                f"transfer_times={transfer_times!r}: use 'network' or 'straight_line'"
            )
        if not isinstance(max_rides, int) or max_rides < 1:
            raise ApgeoValueError(f"max_rides={max_rides!r}: give a whole number >= 1")
        self.feed = feed
        self.walk_engine = walk_engine
        self.straight_walk = walk_engine if isinstance(walk_engine, StraightLineWalk) else None
        self.max_walk_m = float(max_walk_m)
        self.transfer_radius_m = float(transfer_radius_m)
        self.transfer_times: TransferTimes = transfer_times
        self.walk_speed_kph = float(walk_speed_kph)
        self.max_rides = max_rides
        self.max_walk_s = self.max_walk_m / (self.walk_speed_kph / 3.6)
        self.strict = strict
        if compiled and not COMPILED_AVAILABLE:
            raise ApgeoValueError("compiled=True needs numba: pip install numba")
        self.compiled = COMPILED_AVAILABLE if compiled is None else bool(compiled)

        if self.straight_walk is not None:
            self._init_stops_straight(feed)
        else:
            self._init_stops_network(feed, max_stop_distance_m)
        self.patterns = _patterns(feed.stop_times, self.stop_index)
        self._scans: Scans | None = None
        self._compiled_patterns: CompiledPatterns | None = None
        self._transfer_index: LegIndex | None = None
        src, dst, w = combine_transfers(
            self._build_transfers(), self.stop_index, extra_transfers, forbidden_transfers
        )
        self._transfer_legs = _Legs(src, dst, w, _ranks(dst))
        logger.info(
            "transit engine: %d stops, %d patterns, %d walking transfers",
            self.n_stops,
            len(self.patterns),
            len(src),
        )

    def _init_stops_straight(self, feed: TransitFeed) -> None:
        """Every stop kept, in the straight-line walk's CRS."""
        assert self.straight_walk is not None
        gdf = self.straight_walk.points(feed.stops_gdf(), id_column="stop_id", name="GTFS stops")
        self.stops = gdf
        self.dropped_stops: tuple[Any, ...] = ()
        self.stop_ids = gdf["stop_id"].to_numpy(dtype=object)
        self.stop_index: dict[Any, int] = {s: i for i, s in enumerate(self.stop_ids)}
        self.stop_xy = StraightLineWalk.xy(gdf)

    def _init_stops_network(self, feed: TransitFeed, max_stop_distance_m: float) -> None:
        """Snap stops to the walk network; leave out those too far from it."""
        walk_engine = self.walk_engine
        assert isinstance(walk_engine, TravelTimeEngine)
        strict = self.strict
        gdf = feed.stops_gdf().to_crs(walk_engine.crs)
        snapped = snap_points(
            walk_engine,
            gdf,
            id_column="stop_id",
            warn_distance_m=math.inf,
            max_distance_m=1e12,
            name="GTFS stops",
        )
        far = snapped["snap_distance_m"].to_numpy(float) > max_stop_distance_m
        if far.all():
            xmin, ymin, xmax, ymax = gdf.total_bounds
            raise ApgeoValueError(
                f"all {len(gdf)} stops of GTFS feed {feed.name!r} are more than "
                f"{max_stop_distance_m:,.0f} m from the walk network (stops span x "
                f"{xmin:,.0f}..{xmax:,.0f}, y {ymin:,.0f}..{ymax:,.0f} in {walk_engine.crs}); "
                "load a network covering the feed's area"
            )
        if far.any():
            ids = snapped.loc[far, "stop_id"].to_numpy()
            dist = snapped.loc[far, "snap_distance_m"].to_numpy(float)
            listed = ", ".join(
                f"{i} ({d:,.0f} m)" for i, d in zip(ids[:10], dist[:10], strict=True)
            )
            warn(
                f"{int(far.sum())} GTFS stop(s) are more than {max_stop_distance_m:,.0f} m from "
                f"the walk network and were left out: {listed}"
                + (f" ... ({len(ids)} in all)" if len(ids) > 10 else ""),
                strict=strict,
            )
        self.stops = snapped.loc[~far].reset_index(drop=True)
        self.dropped_stops = tuple(snapped.loc[far, "stop_id"])
        self.stop_ids = self.stops["stop_id"].to_numpy(dtype=object)
        self.stop_index = {s: i for i, s in enumerate(self.stop_ids)}
        kept = gdf.set_index("stop_id").loc[self.stop_ids]
        self.stop_xy = np.column_stack(
            [kept.geometry.x.to_numpy(float), kept.geometry.y.to_numpy(float)]
        )

    @property
    def n_stops(self) -> int:
        """Number of stops kept (snapped to the walk network)."""
        return len(self.stop_ids)

    @property
    def transfers(self) -> pd.DataFrame:
        """Walking transfers: ``from_stop_id``, ``to_stop_id``, ``travel_time_s``."""
        tr = self._transfer_legs
        src, dst, w = tr.from_row, tr.to_row, tr.seconds
        return pd.DataFrame(
            {"from_stop_id": self.stop_ids[src], "to_stop_id": self.stop_ids[dst], TRAVEL_TIME_S: w}
        )

    def record(self) -> dict[str, Any]:
        """Engine settings for ``table.attrs``.

        Returns
        -------
        dict
            The feed's record and the engine's settings.
        """
        return {
            **self.feed.record(),
            "max_walk_m": self.max_walk_m,
            "transfer_radius_m": self.transfer_radius_m,
            "transfer_times": self.transfer_times,
            "walk_speed_kph": self.walk_speed_kph,
            "max_rides": self.max_rides,
            "stops_used": self.n_stops,
            "stops_left_out": len(self.dropped_stops),
            "walk_legs": self.walk_method,
        }

    @property
    def walk_method(self) -> str:
        """How the walking legs are timed (for labels)."""
        if self.straight_walk is not None:
            return self.straight_walk.describe(self.walk_speed_kph)
        return "walk street network"

    def prepare_points(
        self,
        frame: gpd.GeoDataFrame | pd.DataFrame,
        *,
        id_column: str,
        name: str,
        **snap_options: Any,
    ) -> pd.DataFrame:
        """Origins or destinations ready for :meth:`earliest_arrivals`: snapped to the walk
        network, or points in the working CRS for straight-line walking.

        Parameters
        ----------
        frame
            Point GeoDataFrame (any CRS), or a table this method already prepared (returned
            as it is).
        id_column
            The unique id column.
        name
            How to name the table in messages (``"origins"``, ``"destinations"``).
        **snap_options
            Passed to :func:`apgeo.routing.snap.snap_points` (unused for straight-line walking).

        Returns
        -------
        pandas.DataFrame
            The points snapped to the walk network (its snapped-point columns), or their
            working-CRS coordinates when walking is a straight-line estimate.
        """
        if self.straight_walk is not None:  # nothing to snap to: snap_options unused
            return self.straight_walk.points(frame, id_column=id_column, name=name)
        assert isinstance(self.walk_engine, TravelTimeEngine)
        return _snapped(self.walk_engine, frame, id_column=id_column, name=name, **snap_options)

    def _walk_all_the_way(
        self,
        o: pd.DataFrame,
        d: pd.DataFrame,
        limit: float,
        *,
        origin_id_column: str,
        destination_id_column: str,
    ) -> np.ndarray:
        """``(n_o, n_d)`` seconds walking from origin to destination, ``inf`` over ``limit``."""
        if self.straight_walk is not None:
            assert isinstance(o, gpd.GeoDataFrame) and isinstance(d, gpd.GeoDataFrame)
            walk_s = self.straight_walk.seconds(
                StraightLineWalk.xy(o), StraightLineWalk.xy(d), self.walk_speed_kph
            )
            return np.where(walk_s <= limit, walk_s, np.inf)
        assert isinstance(self.walk_engine, TravelTimeEngine)
        walk = travel_time_table(
            self.walk_engine,
            o,
            d,
            origin_id_column=origin_id_column,
            destination_id_column=destination_id_column,
            max_travel_time_s=None if math.isinf(limit) else limit,
        )[TRAVEL_TIME_S].to_numpy(float)
        return np.where(np.isnan(walk), np.inf, walk).reshape(len(o), len(d))

    # ---- walking legs -------------------------------------------------------------------

    def _walk_to_stops(
        self, snapped: pd.DataFrame, limit_s: float, direction: Literal["from", "to"]
    ) -> np.ndarray:
        """(len(snapped), n_stops) walking seconds from (``"from"``) or to the points."""
        if len(snapped) == 0:
            return np.empty((0, self.n_stops))
        if self.straight_walk is not None:
            assert isinstance(snapped, gpd.GeoDataFrame)
            times = self.straight_walk.seconds(
                StraightLineWalk.xy(snapped), self.stop_xy, self.walk_speed_kph
            )
            return np.where(times <= limit_s, times, np.inf)
        assert isinstance(self.walk_engine, TravelTimeEngine)
        field_s = self.walk_engine.node_times(
            snapped, max_travel_time_s=limit_s, direction=direction
        )
        times, _ = target_times(self.walk_engine, field_s, self.stops, direction)
        if direction == "from":
            direct = direct_times(snapped, self.stops)
        else:
            direct = direct_times(self.stops, snapped).T
        times = np.minimum(times, direct)
        return np.where(times <= limit_s, times, np.inf)

    def _build_transfers(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Walking transfers between distinct stops within the radius, as arrays."""
        from scipy.spatial import cKDTree

        n = self.n_stops
        empty = (np.empty(0, np.int64), np.empty(0, np.int64), np.empty(0))
        if n < 2 or self.transfer_radius_m <= 0:
            return empty
        tree = cKDTree(self.stop_xy)
        pairs = tree.query_pairs(self.transfer_radius_m, output_type="ndarray")
        if len(pairs) == 0:
            return empty
        src = np.concatenate([pairs[:, 0], pairs[:, 1]]).astype(np.int64)
        dst = np.concatenate([pairs[:, 1], pairs[:, 0]]).astype(np.int64)
        if self.transfer_times == "straight_line":
            dist = np.hypot(*(self.stop_xy[src] - self.stop_xy[dst]).T)
            w = dist * STRAIGHT_LINE_DETOUR / (self.walk_speed_kph / 3.6)
        else:
            limit = 2 * self.transfer_radius_m / (self.walk_speed_kph / 3.6)
            w = np.full(len(src), np.inf)
            order = np.argsort(src, kind="stable")
            src, dst = src[order], dst[order]
            sources = np.unique(src)
            for start in range(0, len(sources), 256):
                chunk = sources[start : start + 256]
                times = self._walk_to_stops(self.stops.iloc[chunk], limit, "from")
                row = np.searchsorted(chunk, src)
                inside = (row < len(chunk)) & (chunk[np.minimum(row, len(chunk) - 1)] == src)
                w[inside] = times[row[inside], dst[inside]]
        ok = np.isfinite(w)
        return src[ok], dst[ok], w[ok]

    # ---- the search ---------------------------------------------------------------------

    def earliest_arrivals(
        self,
        origins: gpd.GeoDataFrame | pd.DataFrame,
        destinations: gpd.GeoDataFrame | pd.DataFrame,
        departure_times_s: Sequence[float] | np.ndarray,
        *,
        origin_id_column: str,
        destination_id_column: str,
        max_travel_time_s: float | None = DEFAULT_MAX_TRAVEL_TIME_S,
        method: SearchMethod = "range",
        **snap_options: Any,
    ) -> np.ndarray:
        """Earliest arrival at every destination for every origin and departure time.

        Parameters
        ----------
        origins, destinations
            Point GeoDataFrames (any CRS) or tables already snapped to the walk engine.
        departure_times_s
            Departure times from the origins, seconds after midnight of the service date.
        origin_id_column, destination_id_column
            Unique id columns.
        max_travel_time_s
            Journeys longer than this are not searched for (``None``: no limit).
        method
            ``"range"`` (default): range-RAPTOR, departures searched latest first with the
            labels kept (:mod:`apgeo.routing.transit.range_raptor`, compiled in
            :mod:`apgeo.routing.transit.raptor_compiled` unless ``compiled=False``);
            ``"per_departure"``: one RAPTOR per departure time, numpy array steps (the
            reference). Both give the same arrivals.
        **snap_options
            Passed to :func:`apgeo.routing.snap.snap_points`.

        Returns
        -------
        numpy.ndarray
            ``(n_origins, n_destinations, n_departures)`` arrival times (seconds after
            midnight), ``inf`` where nothing arrives within the limit. Walking the whole way
            is included.
        """
        if method not in ("range", "per_departure"):
            raise ApgeoValueError(f"method={method!r}: use 'range' or 'per_departure'")
        limit = _check_limit(max_travel_time_s)
        deps = np.asarray(departure_times_s, dtype=float).reshape(-1)
        if not np.isfinite(deps).all():
            raise ApgeoValueError("departure_times_s must be finite seconds after midnight")
        o = self.prepare_points(origins, id_column=origin_id_column, name="origins", **snap_options)
        d = self.prepare_points(
            destinations, id_column=destination_id_column, name="destinations", **snap_options
        )
        n_o, n_d, n_t = len(o), len(d), len(deps)
        out = np.full((n_o, n_d, n_t), np.inf)
        if n_o == 0 or n_d == 0 or n_t == 0:
            return out
        walk_s = self._walk_all_the_way(
            o,
            d,
            limit,
            origin_id_column=origin_id_column,
            destination_id_column=destination_id_column,
        )
        out[:] = deps[None, None, :] + walk_s[:, :, None]
        if self.n_stops == 0 or not self.patterns:
            return out
        egress = self._walk_to_stops(d, self.max_walk_s, "to")  # (n_d, n_stops)
        eg_d, eg_s = np.nonzero(np.isfinite(egress))
        if len(eg_d) == 0:
            return out
        eg = _Legs(eg_s, eg_d, egress[eg_d, eg_s], _ranks(eg_d))
        if method == "range":
            self._range_search(o, deps, eg, n_d, limit, out)
            return _mask_limit(out, deps, limit)
        per_batch = max(1, BATCH_CELLS // self.n_stops)
        dep_chunk = min(n_t, per_batch)
        origin_chunk = max(1, min(n_o, per_batch // dep_chunk, 256))
        with progress_bar(total=n_o, desc="public transport", unit=" origin") as bar:
            for o0 in range(0, n_o, origin_chunk):
                o1 = min(n_o, o0 + origin_chunk)
                access = self._walk_to_stops(o.iloc[o0:o1], self.max_walk_s, "from")
                for t0 in range(0, n_t, dep_chunk):
                    t1 = min(n_t, t0 + dep_chunk)
                    arrival = self._raptor(access, deps[t0:t1], eg, n_d, limit)  # (n_d, q)
                    block = arrival.reshape(n_d, o1 - o0, t1 - t0).transpose(1, 0, 2)
                    np.minimum(out[o0:o1, :, t0:t1], block, out=out[o0:o1, :, t0:t1])
                bar.update(o1 - o0)
        return _mask_limit(out, deps, limit)

    def _range_search(
        self,
        o: pd.DataFrame,
        deps: np.ndarray,
        eg: _Legs,
        n_d: int,
        limit: float,
        out: np.ndarray,
    ) -> None:
        """Range-RAPTOR over origin batches, merged into ``out`` (n_o, n_d, n_t) in place."""
        if self._transfer_index is None:
            self._transfer_index = LegIndex.build(self._transfer_legs, self.n_stops)
        if self.compiled and self._compiled_patterns is None:
            self._compiled_patterns = CompiledPatterns.build(self.patterns, self.n_stops)
        if not self.compiled and self._scans is None:
            self._scans = prepare_scans(self.patterns)
        eg_index = LegIndex.build(eg, self.n_stops)
        n_o = len(o)
        cells = self.n_stops * (self.max_rides + 2)
        chunk = max(1, min(n_o, BATCH_CELLS // max(cells, 1), 512))
        if self.compiled:  # one origin at a time: memory does not grow with the batch
            chunk = max(1, min(n_o, BATCH_CELLS // max(self.n_stops, 1)))
        with progress_bar(total=n_o, desc="public transport", unit=" origin") as bar:
            for o0 in range(0, n_o, chunk):
                o1 = min(n_o, o0 + chunk)
                access = self._walk_to_stops(o.iloc[o0:o1], self.max_walk_s, "from")
                if self.compiled:
                    assert self._compiled_patterns is not None
                    arrival = range_raptor_compiled(
                        self._compiled_patterns, self._transfer_index, eg_index, access, deps,
                        n_d, limit, self.max_rides,
                    )  # (n_d, k, n_t)
                else:
                    assert self._scans is not None
                    arrival = range_raptor(
                        self._scans, self._transfer_index, eg_index, access, deps, n_d, limit,
                        self.max_rides,
                    )  # (n_d, k, n_t)
                block = arrival.transpose(1, 0, 2)
                np.minimum(out[o0:o1], block, out=out[o0:o1])
                bar.update(o1 - o0)

    def _raptor(
        self,
        access: np.ndarray,
        deps: np.ndarray,
        egress: _Legs,
        n_dest: int,
        limit: float,
    ) -> np.ndarray:
        """RAPTOR for ``access.shape[0] * len(deps)`` queries at once (origin-major order).

        ``access``: (k, n_stops) walking seconds from each origin. Returns
        ``(n_dest, n_queries)`` earliest arrivals by public transport (``inf`` if none).

        Labels are ``(n_stops, n_queries)``: ``label`` is the earliest arrival at each stop
        found so far by any means (boarding uses it), ``ride`` the arrivals by vehicle in
        the current round (egress and walking transfers start from it, so a journey never
        chains two walks). Round ``r`` boards only at stops improved in round ``r - 1``.
        """
        n_s = self.n_stops
        k, n_t = access.shape[0], len(deps)
        q = k * n_t
        cutoff = np.tile(deps, k) + limit
        label = (access.T[:, :, None] + deps[None, None, :]).reshape(n_s, q)
        dest = np.full((n_dest, q), np.inf)
        marked = np.isfinite(label).any(axis=1)
        lo_t, hi_t = float(deps.min()), float(deps.max()) + limit
        tr = self._transfer_legs
        for _round in range(self.max_rides):
            if not marked.any():
                break
            ride = np.full((n_s, q), np.inf)
            for pat in self.patterns:
                hits = np.flatnonzero(marked[pat.stops[:-1]])
                if len(hits) == 0:
                    continue
                # skip patterns with no trip still running after the first departure time
                # and leaving before the last cutoff (both sorted on a FIFO pattern)
                a = int(np.searchsorted(pat.last_arr, lo_t, side="left"))
                b = int(np.searchsorted(pat.first_dep, hi_t, side="right"))
                if a >= b:
                    continue
                none = pat.dep.shape[1]  # index of the inf column: no trip boarded yet
                cur = np.full(q, none, dtype=np.int64)
                boarded = False
                for i in range(int(hits[0]), len(pat.stops)):
                    s = pat.stops[i]
                    if boarded:
                        np.minimum(ride[s], pat.arr[i][cur], out=ride[s])
                    if marked[s] and i < len(pat.stops) - 1:
                        cand = np.searchsorted(pat.dep[i], label[s], side="left")
                        np.minimum(cur, cand, out=cur)
                        boarded = True
            ride[ride > cutoff[None, :]] = np.inf
            _min_legs(dest, ride, egress)
            new = ride
            if len(tr.to_row):
                walked = np.full((n_s, q), np.inf)
                _min_legs(walked, ride, tr)
                walked[walked > cutoff[None, :]] = np.inf
                new = np.minimum(ride, walked)
            marked = (new < label).any(axis=1)
            np.minimum(label, new, out=label)
        return dest


def _mask_limit(out: np.ndarray, deps: np.ndarray, limit: float) -> np.ndarray:
    """Arrivals later than departure + limit become ``inf``, in place."""
    if math.isfinite(limit):
        out[out - deps[None, None, :] > limit] = np.inf
    return out


@dataclass(frozen=True)
class _Legs:
    """Walking legs ``from_row -> to_row`` of ``seconds``; ``ranks`` from :func:`_ranks`."""

    from_row: np.ndarray
    to_row: np.ndarray
    seconds: np.ndarray
    ranks: list[np.ndarray]


def _min_legs(target: np.ndarray, source: np.ndarray, legs: _Legs) -> None:
    """``target[to] = min(target[to], source[from] + seconds)`` over all legs, in place."""
    for group in legs.ranks:
        rows = legs.to_row[group]
        via = source[legs.from_row[group]] + legs.seconds[group][:, None]
        np.minimum(target[rows], via, out=via)
        target[rows] = via


__all__ = ["TransitEngine"]
