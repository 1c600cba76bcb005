"""Catchment polygons (isochrones) and nearest-provider service areas, for display.

Stage 4 of the pipeline (``network -> snap -> travel_times -> catchments -> ...``).

**Polygons are for display; travel times are the truth** (FIELD-NOTES 2). Whether an area is
"served", coverage figures and cold spots come from the travel-time table
(:mod:`apgeo.analysis.coverage`), never from a point-in-polygon test on these shapes. The
``children_*`` columns here say roughly how many children live inside a drawn shape, so a
map legend can show it; they can differ from coverage figures.

How a catchment is built (``method="edges"``, the default; FIELD-NOTES 1)
------------------------------------------------------------------------
One :func:`apgeo.routing.travel_times.travel_time_field` call gives the time from every provider to
every node, up to the largest threshold. For each threshold ``T``:

* every street edge whose start is reached in time is kept: wholly when its far end is
  reached through it (``time_u_s + travel_time_s <= T``), otherwise *cut at the exact
  remaining time* (the first ``(T - time_u_s) / travel_time_s`` of its geometry, or of the
  straight segment between its nodes when it has none). Two-way streets are two edges, so
  each direction contributes its own partial piece;
* the provider's own street is reached directly from the snapped point, both ways where
  the direction of travel allows, and the access leg (provider -> street) is drawn too;
* the pieces are buffered by a mode-specific width (:data:`DEFAULT_BUFFER_M`: walk 50 m,
  cycle 75 m, drive 100 m) and unioned; holes smaller than ``min_area_m2`` (5,000 m² by
  default) are filled and detached slivers smaller than it dropped, but real holes where
  nothing is reachable (parks, water, rail land) are kept;
* thresholds are built smallest first and each polygon is unioned into the next, so
  polygons of nested thresholds are nested by construction.

``method="convex_hull"`` is a *comparison* only: the convex hull of the same reached pieces,
buffered by the same width. It overreaches into land nobody can reach (osmnx-examples #4,
r5r #123). When the hull is degenerate (a point or a line: fewer than 3 reached nodes in a
row, osmnx #714) the edge-based polygon is returned instead, with a warning.

Direction
---------
``direction="from"`` (default) draws what can be reached *from* each provider. For walking
and cycling this equals the area from which the provider can be reached. For driving,
one-way streets make the two differ: ``direction="to"`` draws the area *from which* a car
reaches the provider in time (e.g. a taxi bringing a pupil), which is what a catchment of
homes means; edges are then cut from their far (``v``) end.

Children inside (``demand=``)
-----------------------------
``children_method="pwc"`` sums ``children_<ks>`` of the demand areas whose
population-weighted centroid lies in the polygon; ``"areal"`` shares each LSOA's children
by the fraction of its polygon's area inside (assumes children are spread evenly). The text
of the method is written to the ``children_method`` column.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Final, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from apgeo import schema as S
from apgeo import schema as _schema
from apgeo._errors import ApgeoValueError, CRSError, MissingColumnError
from apgeo._log import warn
from apgeo._progress import progress_bar
from apgeo._validate import (
    check_crs,
    check_geometries,
    check_unique,
    require_columns,
    require_rows,
    to_working_crs,
)
from apgeo.analysis.catchment_geometry import (
    _EPS_M,
    _QUAD_SEGS,
    _blocks,
    _buffer_union,
    _clean,
    _polygonal,
    _reach_m,
    _sources,
    _substrings,
)
from apgeo.network.area import choose_crs
from apgeo.network.modes import MODES, Mode, check_mode
from apgeo.routing.straight_line import DEFAULT_CIRCUITY, METHOD_LABEL, STRAIGHT_LINE_SPEEDS_KPH
from apgeo.routing.travel_times import (
    Direction,
    TravelTimeEngine,
    travel_time_field,
)
from apgeo.settings import WORKING_CRS

Method = Literal["edges", "convex_hull"]
ChildrenMethod = Literal["pwc", "areal"]

#: Default half-width (m) of the band drawn around reached streets, per mode.
DEFAULT_BUFFER_M: Final[dict[str, float]] = {"walk": 50.0, "cycle": 75.0, "drive": 100.0}
#: Holes and detached pieces smaller than this (m²) are filled / dropped by default.
DEFAULT_MIN_AREA_M2: Final[float] = 5_000.0
#: Text written to ``children_method``.
CHILDREN_METHOD_TEXT: Final[dict[str, str]] = {
    "pwc": "population-weighted centroids within the polygon",
    "areal": "areal share of LSOA polygons",
}
#: Text written to ``children_method`` by :func:`service_areas`.
SERVICE_CHILDREN_TEXT: Final[str] = (
    "areas whose population-weighted centroid is nearest to this provider by travel time"
)
SERVICE_AREA_METHOD: Final[str] = "nearest provider by network travel time"

THRESHOLD_MIN = _schema.THRESHOLD_MIN
AREA_KM2 = "area_km2"
METHOD = _schema.METHOD
CHILDREN_METHOD = "children_method"
PWC_EASTING = "pwc_easting"
PWC_NORTHING = "pwc_northing"

#: Most threads drawing catchments at once (one provider each).
_MAX_THREADS: Final[int] = 4



# ---- checks -----------------------------------------------------------------------------------


def _check_thresholds(thresholds_min: Sequence[float] | float) -> np.ndarray:
    if isinstance(thresholds_min, (int, float, np.number)) and not isinstance(thresholds_min, bool):
        values: list[Any] = [thresholds_min]
    else:
        try:
            values = list(thresholds_min)  # type: ignore[arg-type]
        except TypeError:
            raise ApgeoValueError(
                f"thresholds_min={thresholds_min!r}: give a number of minutes or a list such as (15, 30, 45)"
            ) from None
    if not values:
        raise ApgeoValueError("thresholds_min is empty: give at least one threshold in minutes")
    try:
        arr = np.array([float(v) for v in values if not isinstance(v, bool)], dtype=float)
    except (TypeError, ValueError):
        raise ApgeoValueError(
            f"thresholds_min={tuple(values)!r}: every threshold must be a number of minutes"
        ) from None
    if len(arr) != len(values) or not np.isfinite(arr).all() or (arr <= 0).any():
        raise ApgeoValueError(
            f"thresholds_min={tuple(values)!r}: every threshold must be a positive, finite "
            "number of minutes"
        )
    if (np.diff(arr) <= 0).any():
        raise ApgeoValueError(
            f"thresholds_min={tuple(values)!r} must be sorted in increasing order without "
            f"repeats, e.g. {tuple(sorted(set(arr.tolist())))!r}"
        )
    return arr


def _check_choice(value: object, name: str, choices: Sequence[str]) -> str:
    if value not in choices:
        raise ApgeoValueError(f"unknown {name}={value!r}; use one of {list(choices)}")
    return str(value)


def _check_area(value: float, name: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise ApgeoValueError(f"{name}={value!r} is not a number") from None
    if not math.isfinite(out) or out < 0:
        raise ApgeoValueError(f"{name}={value!r}: give a finite number >= 0")
    return out


def _resolve_buffer(buffer_m: float | None, mode: str) -> float:
    if buffer_m is None:
        return DEFAULT_BUFFER_M[mode]
    try:
        value = float(buffer_m)
    except (TypeError, ValueError):
        raise ApgeoValueError(f"buffer_m={buffer_m!r} is not a number of metres") from None
    if not math.isfinite(value) or value <= 0:
        raise ApgeoValueError(
            f"buffer_m={buffer_m!r}: give a positive width in metres (the band drawn around "
            f"reached streets; default {DEFAULT_BUFFER_M[mode]:g} m for {mode}), or None"
        )
    return value


def _resolve_mode(mode: str | None, engine: TravelTimeEngine) -> Mode:
    if mode is None:
        if engine.mode not in MODES:
            raise ApgeoValueError(
                f"the engine's network has mode {engine.mode!r}; pass mode='walk', 'cycle' or 'drive'"
            )
        return check_mode(engine.mode)
    checked = check_mode(mode)
    if engine.mode in MODES and engine.mode != checked:
        raise ApgeoValueError(
            f"mode={mode!r} but the engine's network is for {engine.mode!r}; build an engine "
            f"from a {mode} network, or pass mode={engine.mode!r}"
        )
    return checked


def _check_engine(engine: object) -> TravelTimeEngine:
    if not isinstance(engine, TravelTimeEngine):
        raise ApgeoValueError(
            f"engine must be an apgeo.routing.travel_times.TravelTimeEngine, not {type(engine).__name__}; "
            "build one with TravelTimeEngine.from_graph(network)"
        )
    return engine


def _prepare_providers(providers: object, *, id_column: str, crs: str | None) -> gpd.GeoDataFrame:
    """Validate providers and return a copy in ``crs`` (or its own projected CRS)."""
    if not isinstance(providers, gpd.GeoDataFrame):
        raise ApgeoValueError(
            f"providers must be a GeoDataFrame of points, not {type(providers).__name__}"
        )
    require_columns(providers, [id_column], source="providers")
    require_rows(providers, source="providers")
    check_unique(providers, id_column, source="providers")
    check_crs(providers, name="providers")
    check_geometries(providers, id_column=id_column, name="providers")
    if crs is None:
        crs = _metric_crs(providers)
    return to_working_crs(providers, name="providers", crs=crs)


def _metric_crs(gdf: gpd.GeoDataFrame) -> str:
    """The frame's own CRS when projected, else EPSG:27700 in Great Britain / UTM elsewhere."""
    assert gdf.crs is not None  # checked by the caller
    if gdf.crs.is_projected:
        return str(gdf.crs.to_string())
    lon, lat = (float(v) for v in gdf.to_crs("EPSG:4326").geometry.union_all().centroid.coords[0])
    return choose_crs(lon, lat)


def _key_stage_columns(demand: pd.DataFrame, key_stages: Sequence[str] | str | None) -> list[str]:
    if key_stages is None:
        cols = [S.children_column(ks) for ks in S.KEY_STAGE_NAMES]
        found = [c for c in cols if c in demand.columns]
        if not found:
            raise MissingColumnError(
                f"demand has none of the columns {cols}; add children counts (apgeo.demand."
                "load_demand) or pass key_stages="
            )
        return found
    parsed = S.parse_key_stages(key_stages)
    if not parsed:
        raise ApgeoValueError(f"key_stages={key_stages!r} names no key stage; use e.g. 'KS3,KS4'")
    cols = [S.children_column(ks) for ks in parsed]
    require_columns(demand, cols, source="demand")
    return cols


class _Demand:
    """Demand areas prepared for children counts in one CRS."""

    def __init__(
        self,
        demand: object,
        *,
        crs: str,
        key_stages: Sequence[str] | str | None,
        children_method: str,
        need_points: bool = False,
        count_children: bool = True,
    ) -> None:
        if not isinstance(demand, gpd.GeoDataFrame):
            raise ApgeoValueError(
                f"demand must be a GeoDataFrame of LSOAs (apgeo.inputs.demand.load_demand), not "
                f"{type(demand).__name__}"
            )
        check_crs(demand, name="demand")
        require_columns(demand, [S.AREA_ID], source="demand")
        check_unique(demand, S.AREA_ID, source="demand")
        self.columns = _key_stage_columns(demand, key_stages) if count_children else []
        self.method = children_method
        self.area_ids = demand[S.AREA_ID].to_numpy(dtype=object)
        self.children = np.zeros((len(demand), len(self.columns)))
        for j, column in enumerate(self.columns):
            self.children[:, j] = pd.to_numeric(demand[column], errors="coerce").to_numpy(float)
        projected = demand.to_crs(crs)
        geoms = np.asarray(projected.geometry.to_numpy(), dtype=object)
        has_pwc = PWC_EASTING in demand.columns and PWC_NORTHING in demand.columns
        all_points = bool(len(demand)) and bool((demand.geometry.geom_type == "Point").all())
        self.polygons: np.ndarray | None = None
        self.points: np.ndarray | None = None
        if children_method == "areal":
            polygonal = demand.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).to_numpy()
            if not polygonal.all():
                ids = ", ".join(map(str, self.area_ids[~polygonal][:10]))
                raise ApgeoValueError(
                    f"children_method='areal' needs LSOA polygons, but {int((~polygonal).sum())} "
                    f"demand row(s) are not polygons ({S.AREA_ID}: {ids}); use children_method='pwc'"
                )
            self.polygons = geoms
        if children_method == "pwc" or need_points:
            if has_pwc:
                src_crs = (
                    demand.crs
                    if demand.crs is not None and demand.crs.is_projected
                    else WORKING_CRS
                )
                east = pd.to_numeric(demand[PWC_EASTING], errors="coerce").to_numpy(float)
                north = pd.to_numeric(demand[PWC_NORTHING], errors="coerce").to_numpy(float)
                bad_xy = ~(np.isfinite(east) & np.isfinite(north))
                if bad_xy.any():
                    ids = ", ".join(map(str, self.area_ids[bad_xy][:10]))
                    raise ApgeoValueError(
                        f"demand: {int(bad_xy.sum())} area(s) have no numeric {PWC_EASTING} / "
                        f"{PWC_NORTHING} ({S.AREA_ID}: {ids}); fill them or use "
                        "children_method='areal'"
                    )
                pts = gpd.GeoSeries(gpd.points_from_xy(east, north), crs=src_crs).to_crs(crs)
                self.points = np.asarray(pts.to_numpy(), dtype=object)
            elif all_points:
                self.points = geoms
            elif need_points:
                warn(
                    "demand has no population-weighted centroids (pwc_easting, pwc_northing) "
                    "and no point geometry; polygon centroids are used to find each area's "
                    "nearest provider",
                    stacklevel=4,
                )
                self.points = np.asarray(shapely.centroid(geoms), dtype=object)
            else:
                raise MissingColumnError(
                    "children_method='pwc' needs population-weighted centroids: columns "
                    f"{PWC_EASTING!r} and {PWC_NORTHING!r}, or point geometry; or use "
                    "children_method='areal' with LSOA polygons"
                )
            bad = shapely.is_missing(self.points) | shapely.is_empty(self.points)
            if bad.any():
                ids = ", ".join(map(str, self.area_ids[bad][:10]))
                raise ApgeoValueError(
                    f"demand: {int(bad.sum())} area(s) have no centroid ({S.AREA_ID}: {ids})"
                )

    @property
    def text(self) -> str:
        return CHILDREN_METHOD_TEXT[self.method]

    def inside(self, geoms: np.ndarray) -> np.ndarray:
        """Children per key-stage column inside each geometry: ``(n_geoms, n_columns)``."""
        out = np.zeros((len(geoms), len(self.columns)))
        if len(geoms) == 0:
            return out
        if self.method == "pwc":
            assert self.points is not None
            tree = shapely.STRtree(self.points)
            gi, pj = tree.query(geoms, predicate="intersects")
            np.add.at(out, gi, self.children[pj])
        else:
            assert self.polygons is not None
            tree = shapely.STRtree(self.polygons)
            gi, pj = tree.query(geoms, predicate="intersects")
            if len(gi):
                shared = shapely.area(shapely.intersection(geoms[gi], self.polygons[pj]))
                whole = shapely.area(self.polygons[pj])
                share = np.divide(shared, whole, out=np.zeros_like(shared), where=whole > 0)
                np.add.at(out, gi, self.children[pj] * np.clip(share, 0.0, 1.0)[:, None])
        return out


# ---- catchments -------------------------------------------------------------------------------


def catchments(
    engine: TravelTimeEngine,
    providers: gpd.GeoDataFrame,
    *,
    thresholds_min: Sequence[float] | float = (15, 30, 45, 60),
    mode: Mode | None = None,
    buffer_m: float | None = None,
    method: Method = "edges",
    direction: Direction = "from",
    demand: gpd.GeoDataFrame | None = None,
    children_method: ChildrenMethod = "pwc",
    key_stages: Sequence[str] | str | None = None,
    id_column: str = S.SITE_ID,
    min_area_m2: float = DEFAULT_MIN_AREA_M2,
    **snap_options: Any,
) -> gpd.GeoDataFrame:
    """Network catchment polygons (isochrones) of each provider, for maps.

    Polygons are for display; travel times are the truth (FIELD-NOTES 2): decide coverage
    from the travel-time table, not from these shapes. See the module docstring for how
    they are built.

    Parameters
    ----------
    engine
        A :class:`~apgeo.routing.travel_times.TravelTimeEngine`; its CRS is the output's CRS.
    providers
        Point GeoDataFrame (any CRS) with a unique ``id_column``.
    thresholds_min
        Travel-time thresholds in minutes, increasing (a single number is allowed).
    mode
        ``"walk"``, ``"cycle"`` or ``"drive"``; default the engine's mode (must match it).
        Chooses the default ``buffer_m``.
    buffer_m
        Half-width of the band drawn around reached streets, metres (default
        :data:`DEFAULT_BUFFER_M` for the mode).
    method
        ``"edges"`` (reached streets, partial streets cut at the exact time) or
        ``"convex_hull"`` (comparison only: overreaches).
    direction
        ``"from"`` the providers (default) or ``"to"`` them (differs for one-way driving).
    demand
        Optional LSOA table (:func:`apgeo.inputs.demand.load_demand`): adds ``children_<ks>``.
    children_method
        ``"pwc"`` (population-weighted centroids in the polygon; needs ``pwc_easting`` /
        ``pwc_northing`` or point geometry) or ``"areal"`` (area share of LSOA polygons).
    key_stages
        Key stages to count, e.g. ``"KS3,KS4"``; default every ``children_<ks>`` column
        found in ``demand``.
    id_column
        Unique provider (site) id column.
    min_area_m2
        Holes and detached slivers smaller than this are removed (0 keeps everything).
    **snap_options
        Passed to :func:`apgeo.routing.snap.snap_points` (e.g. ``max_distance_m``).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per provider and threshold, sorted by ``id_column`` then threshold:
        ``provider_id`` (when present and not the id column), ``id_column``, ``mode``,
        ``threshold_min``, ``method``, ``area_km2``, ``children_<ks>`` and
        ``children_method`` (when ``demand`` is given), geometry (Polygon or MultiPolygon,
        in the engine's CRS).

    Raises
    ------
    ApgeoValueError
        Bad thresholds, method, buffer, mode or empty provider geometry (ids named).
    CRSError
        ``providers`` or ``demand`` without a CRS.
    SnapError
        A provider lies outside the network (from :func:`apgeo.routing.snap.snap_points`).
    """
    engine = _check_engine(engine)
    thresholds = _check_thresholds(thresholds_min)
    method_ = _check_choice(method, "method", ("edges", "convex_hull"))
    children_method_ = _check_choice(children_method, "children_method", ("pwc", "areal"))
    direction_: Direction = (
        "from" if _check_choice(direction, "direction", ("from", "to")) == "from" else "to"
    )
    mode_ = _resolve_mode(mode, engine)
    width_m = _resolve_buffer(buffer_m, mode_)
    min_area = _check_area(min_area_m2, "min_area_m2")
    points = _prepare_providers(providers, id_column=id_column, crs=engine.crs)
    demand_ = (
        None
        if demand is None
        else _Demand(
            demand, crs=engine.crs, key_stages=key_stages, children_method=children_method_
        )
    )

    limits_s = thresholds * 60.0
    field = travel_time_field(
        engine,
        points,
        id_column=id_column,
        max_travel_time_s=float(limits_s[-1]),
        direction=direction_,
        **snap_options,
    )
    sources = _sources(engine, field.sources, points)
    blocks = _blocks(engine)
    tt_all = blocks.travel_time_s
    start_index = blocks.start_index(direction_)
    twins = blocks.twins
    tiles = blocks if method_ == "edges" else None

    def provider(i: int) -> tuple[list[dict[str, Any]], list[BaseGeometry], list[str]]:
        """Polygons of provider ``i`` at every threshold (independent of the others)."""
        source = sources[i]
        rows: list[dict[str, Any]] = []
        out_geoms: list[BaseGeometry] = []
        degenerate: list[str] = []

        # only the edges whose start is reached: the cost follows the catchment, not the network
        times = field.node_times_s[i]
        cand = blocks.candidates(times, float(limits_s[-1]), direction_)
        t_start, tt = times[start_index[cand]], tt_all[cand]
        cand_has_twin = twins[cand] >= 0
        cand_twin = np.where(cand_has_twin, twins[cand], 0)
        twin_end = times[start_index[cand_twin]] + tt_all[cand_twin]
        previous = shapely.Polygon()
        hull_raw: BaseGeometry = shapely.Point()
        hull_buf: BaseGeometry = shapely.Point()
        prev_limit = 0.0
        if tiles is not None:
            tile_done_s = tiles.last_reached_s(cand, t_start + tt)
            cand_tile = tiles.tile[cand]
            pyramid = tiles.done_pyramid(tile_done_s)
            cand_done_s = tile_done_s[cand_tile]
        else:
            cand_done_s = np.full(len(cand), np.inf)
        # line geometries only for the edges drawn one by one (not inside a reached tile)
        drawn = np.full(len(cand), tiles is None)  # the hull's fallback may need any edge
        for before, limit in itertools.pairwise([0.0, *limits_s.tolist()]):
            drawn |= (t_start < limit) & (t_start + tt > before) & (cand_done_s > limit)
        geoms = np.full(len(cand), None, dtype=object)
        geoms[drawn] = blocks.geometry.lines(cand[drawn])
        lengths = np.zeros(len(cand))
        lengths[drawn] = shapely.length(geoms[drawn])
        stages: list[tuple[float, float, list[BaseGeometry], list[BaseGeometry], np.ndarray]] = []
        for threshold, limit in zip(thresholds, limits_s):
            new = (t_start < limit) & (t_start + tt > prev_limit)
            tile_polygons: list[BaseGeometry] = []
            if tiles is not None:  # wholly reached tiles: one cached polygon per group
                new &= ~(cand_done_s <= limit)
                groups = tiles.reached_groups(
                    pyramid, float(limit), prev_limit if prev_limit > 0 else -np.inf
                )
                tile_polygons = tiles.group_polygons(groups, width_m)
            full = new & (t_start + tt <= limit)
            part = new & ~full
            # draw a two-way street once: skip a direction whose twin is wholly reached
            # (already drawn, or drawn now when the twin comes first)
            twin_full = cand_has_twin & (twin_end <= limit)
            redundant = twin_full & (part | (twin_end <= prev_limit) | (cand_twin < cand))
            full &= ~redundant
            part &= ~redundant
            reach = _reach_m(limit - t_start[part], tt[part], lengths[part])
            ok = reach > _EPS_M
            L = lengths[part][ok]
            if direction_ == "from":
                cut = _substrings(geoms[part][ok], np.zeros(len(L)), reach[ok])
            else:
                cut = _substrings(geoms[part][ok], L - reach[ok], L)
            pieces = [*geoms[full], *cut, *source.pieces(float(limit), direction_)]  # type: ignore[arg-type]
            stages.append((threshold, limit, pieces, tile_polygons, cut))
            prev_limit = float(limit)
        # what each threshold adds does not depend on the polygons of the smaller ones, so
        # those unions can run at once (one provider: the threads are free)
        if method_ == "edges":
            unions = _each(
                lambda stage: _buffer_union(stage[2], width_m, stage[3]),
                stages,
                threads=len(sources) == 1,
            )
        for k, (threshold, limit, pieces, _, cut) in enumerate(stages):
            if method_ == "edges":
                geom = _clean(shapely.union(previous, unions[k]), min_area)
            else:
                # hull of the buffered pieces: it contains the edge-based polygon exactly
                arr = np.empty(len(pieces), dtype=object)
                arr[:] = pieces
                hull_raw = shapely.convex_hull(
                    shapely.geometrycollections(np.asarray([hull_raw, *arr], dtype=object))
                )
                buffered = shapely.buffer(arr, width_m, quad_segs=_QUAD_SEGS)
                hull_buf = shapely.convex_hull(
                    shapely.geometrycollections(np.asarray([hull_buf, *buffered], dtype=object))
                )
                if hull_raw.geom_type == "Polygon" and hull_raw.area > 0:
                    geom = hull_buf
                else:  # degenerate hull (osmnx #714): fall back to the reached streets
                    degenerate.append(f"{points[id_column].iloc[i]} at {threshold:g} min")
                    reached = [
                        *geoms[(t_start < limits_s[-1]) & (t_start + tt <= limit)],
                        *cut,
                        *source.pieces(float(limit), direction_),
                    ]
                    geom = _clean(_buffer_union(reached, width_m), min_area)  # type: ignore[arg-type]
            geom = (
                _polygonal(shapely.union(geom, previous))
                if not previous.is_empty
                else _polygonal(geom)
            )
            previous = geom
            rows.append(
                _record(points, i, id_column=id_column, mode=mode_, threshold=threshold, method=method_)
            )
            out_geoms.append(geom)
        return rows, out_geoms, degenerate

    # providers are independent: GEOS releases the GIL, so threads use every core; results
    # are gathered in provider order, so they do not depend on the number of threads
    workers = max(1, min(len(sources), os.cpu_count() or 1, _MAX_THREADS))
    with progress_bar(total=len(sources), desc="catchments", unit=" site") as bar:

        def provider_done(i: int) -> Any:
            r = provider(i)
            bar.update(1)
            return r

        if workers > 1:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                results = list(pool.map(provider_done, range(len(sources))))
        else:
            results = [provider_done(i) for i in range(len(sources))]
    rows: list[dict[str, Any]] = []
    out_geoms: list[BaseGeometry] = []
    degenerate: list[str] = []
    for r, g, d in results:
        rows.extend(r)
        out_geoms.extend(g)
        degenerate.extend(d)
    if degenerate:
        warn(
            f"convex hull is degenerate (a point or a line: fewer than 3 reached nodes not in "
            f"a row) for {len(degenerate)} catchment(s): {', '.join(degenerate[:10])}; the "
            "buffered reached streets are returned instead (osmnx #714)",
            stacklevel=3,
        )
    return _finish(rows, out_geoms, engine.crs, demand_, id_column, sort_threshold=True)


def _each(func: Callable[[Any], BaseGeometry], items: list[Any], *, threads: bool) -> list[BaseGeometry]:
    """``[func(item) for item in items]``, on up to :data:`_MAX_THREADS` threads when
    ``threads`` (GEOS releases the GIL); results in the order of ``items``."""
    workers = min(len(items), os.cpu_count() or 1, _MAX_THREADS) if threads else 1
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(func, items))
    return [func(item) for item in items]


def _record(
    points: pd.DataFrame, i: int, *, id_column: str, mode: str, threshold: float, method: str
) -> dict[str, Any]:
    """One catchment row's columns for provider row ``i`` (its ``provider_id`` too, when
    that is a column other than the id)."""
    record: dict[str, Any] = {}
    if S.PROVIDER_ID in points.columns and S.PROVIDER_ID != id_column:
        record[S.PROVIDER_ID] = points[S.PROVIDER_ID].iloc[i]
    record[id_column] = points[id_column].iloc[i]
    record[S.MODE] = mode
    record[THRESHOLD_MIN] = float(threshold)
    record[METHOD] = method
    return record


def _finish(
    rows: list[dict[str, Any]],
    geoms: list[BaseGeometry],
    crs: str,
    demand: _Demand | None,
    id_column: str,
    *,
    sort_threshold: bool,
) -> gpd.GeoDataFrame:
    arr = np.empty(len(geoms), dtype=object)
    arr[:] = geoms
    table = pd.DataFrame(rows)
    table[AREA_KM2] = np.asarray(shapely.area(arr), dtype=float) / 1e6 if len(arr) else []
    if demand is not None:
        counts = demand.inside(arr)
        for j, column in enumerate(demand.columns):
            table[column] = counts[:, j]
        table[CHILDREN_METHOD] = demand.text if demand.method in CHILDREN_METHOD_TEXT else ""
    out = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(arr, crs=crs).values, crs=crs)
    keys = [id_column, THRESHOLD_MIN] if sort_threshold else [id_column]
    if len(out):
        out = out.sort_values(keys, kind="stable").reset_index(drop=True)
    return out


# ---- straight-line fallback -------------------------------------------------------------------


def straight_line_catchments(
    providers: gpd.GeoDataFrame,
    *,
    thresholds_min: Sequence[float] | float = (15, 30, 45, 60),
    mode: Mode,
    circuity_factor: float = DEFAULT_CIRCUITY,
    speed_kph: float | None = None,
    demand: gpd.GeoDataFrame | None = None,
    children_method: ChildrenMethod = "pwc",
    key_stages: Sequence[str] | str | None = None,
    clip: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    id_column: str = S.SITE_ID,
) -> gpd.GeoDataFrame:
    """Circles for the clearly labelled fallback when no street network exists.

    radius = threshold (s) x speed (m/s) / circuity factor, e.g. 15 min walking at
    4.8 km/h with the default factor 1.3: 900 s x 1.333 m/s / 1.3 = 923 m. Every row
    says ``method="straight-line estimate"``: these ignore rivers, railways, hills and
    one-way streets (see :mod:`apgeo.routing.straight_line`). Polygons are for display; travel
    times are the truth (FIELD-NOTES 2).

    Parameters
    ----------
    providers
        Point GeoDataFrame with a unique ``id_column``; circles are drawn in its CRS when
        projected, else in EPSG:27700 (Great Britain) or the local UTM zone.
    thresholds_min
        Increasing thresholds in minutes.
    mode
        ``"walk"``, ``"cycle"`` or ``"drive"`` (chooses the default speed,
        :data:`apgeo.routing.straight_line.STRAIGHT_LINE_SPEEDS_KPH`).
    circuity_factor
        Street distance / crow-fly distance (>= 1; default 1.3).
    speed_kph
        Override the mode's speed.
    demand, children_method, key_stages
        As in :func:`catchments`.
    clip
        Optional boundary (e.g. the local authority): circles are cut to it. A bare
        geometry is taken to be in the output CRS.
    id_column
        Unique provider (site) id column.

    Returns
    -------
    geopandas.GeoDataFrame
        The columns of :func:`catchments`; ``method`` is ``"straight-line estimate"``.
    """
    thresholds = _check_thresholds(thresholds_min)
    mode_ = check_mode(mode)
    children_method_ = _check_choice(children_method, "children_method", ("pwc", "areal"))
    speed = float(speed_kph if speed_kph is not None else STRAIGHT_LINE_SPEEDS_KPH[mode_])
    if not math.isfinite(speed) or speed <= 0:
        raise ApgeoValueError(f"speed_kph={speed_kph!r}: give a positive number of km/h")
    try:
        circuity = float(circuity_factor)
    except (TypeError, ValueError):
        raise ApgeoValueError(f"circuity_factor={circuity_factor!r} is not a number") from None
    if not math.isfinite(circuity) or circuity < 1:
        raise ApgeoValueError(
            f"circuity_factor={circuity_factor!r} must be >= 1 (street distance >= crow-fly)"
        )
    if isinstance(providers, gpd.GeoDataFrame):
        check_crs(providers, name="providers")
    points = _prepare_providers(providers, id_column=id_column, crs=None)
    crs = str(points.crs.to_string()) if points.crs is not None else WORKING_CRS
    boundary: BaseGeometry | None = None
    if clip is not None:
        if isinstance(clip, (gpd.GeoDataFrame, gpd.GeoSeries)):
            if clip.crs is None:
                raise CRSError("clip has no CRS; set it first, e.g. clip.set_crs('EPSG:27700')")
            boundary = clip.to_crs(crs).union_all()
        elif isinstance(clip, BaseGeometry):
            boundary = clip
        else:
            raise ApgeoValueError(
                f"clip must be a polygon, GeoDataFrame or GeoSeries, not {type(clip).__name__}"
            )
    demand_ = (
        None
        if demand is None
        else _Demand(demand, crs=crs, key_stages=key_stages, children_method=children_method_)
    )
    centres = np.asarray(shapely.centroid(points.geometry.to_numpy()), dtype=object)
    radii_m = thresholds * 60.0 * (speed / 3.6) / circuity
    rows: list[dict[str, Any]] = []
    out_geoms: list[BaseGeometry] = []
    for i, centre in enumerate(centres):
        circles = shapely.buffer(np.full(len(radii_m), centre, dtype=object), radii_m, quad_segs=32)
        if boundary is not None:
            circles = shapely.intersection(circles, boundary)
        for threshold, circle in zip(thresholds, circles):
            rows.append(
                _record(points, i, id_column=id_column, mode=mode_, threshold=threshold, method=METHOD_LABEL)
            )
            out_geoms.append(_polygonal(circle))
    return _finish(rows, out_geoms, crs, demand_, id_column, sort_threshold=True)


__all__ = [
    "CHILDREN_METHOD_TEXT",
    "DEFAULT_BUFFER_M",
    "DEFAULT_MIN_AREA_M2",
    "catchments",
    "straight_line_catchments",
]
