"""Service areas: each demand area assigned to its nearest provider, and the areas each
provider serves first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Literal, overload

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from apgeo import schema as S
from apgeo.analysis.catchment_geometry import (
    _blocks,
    _buffer_union,
    _clean,
    _polygonal,
    _sources,
    _substrings,
)
from apgeo.analysis.catchments import (
    _EPS_M,
    CHILDREN_METHOD,
    DEFAULT_MIN_AREA_M2,
    METHOD,
    SERVICE_AREA_METHOD,
    SERVICE_CHILDREN_TEXT,
    _check_area,
    _check_choice,
    _check_engine,
    _Demand,
    _finish,
    _prepare_providers,
    _resolve_buffer,
    _resolve_mode,
)
from apgeo.network.modes import Mode
from apgeo.routing.travel_times import (
    NEAREST_ID,
    Direction,
    TravelTimeEngine,
    nearest,
)

# ---- service areas ----------------------------------------------------------------------------


def nearest_provider_table(
    engine: TravelTimeEngine,
    providers: gpd.GeoDataFrame,
    demand: gpd.GeoDataFrame,
    *,
    direction: Direction = "to",
    id_column: str = S.SITE_ID,
    **snap_options: Any,
) -> pd.DataFrame:
    """Each demand area's nearest provider by network travel time.

    Areas are placed at their population-weighted centroid (``pwc_easting`` /
    ``pwc_northing``), else their point geometry, else (with a warning) their polygon
    centroid.

    Parameters
    ----------
    engine
        The travel-time engine.
    providers
        Provider sites (points).
    demand
        Demand areas.
    direction
        ``"to"`` the providers (default: children travel to them) or ``"from"`` them.
    id_column
        The providers' id column.
    **snap_options
        Passed to :func:`apgeo.routing.snap.snap_points`.

    Returns
    -------
    pandas.DataFrame
        ``area_id``, ``id_column`` (missing when no provider is reachable),
        ``provider_id`` (when providers have it), ``travel_time_s`` (``NaN`` when
        unreachable), in demand order.
    """
    engine = _check_engine(engine)
    direction_: Direction = (
        "from" if _check_choice(direction, "direction", ("from", "to")) == "from" else "to"
    )
    points = _prepare_providers(providers, id_column=id_column, crs=engine.crs)
    prepared = _Demand(
        demand,
        crs=engine.crs,
        key_stages=None,
        children_method="pwc",
        need_points=True,
        count_children=False,
    )
    return _assign(engine, points, prepared, direction_, id_column, **snap_options)


def _assign(
    engine: TravelTimeEngine,
    points: gpd.GeoDataFrame | pd.DataFrame,
    demand: _Demand,
    direction: Direction,
    id_column: str,
    **snap_options: Any,
) -> pd.DataFrame:
    assert demand.points is not None
    targets = gpd.GeoDataFrame(
        {S.AREA_ID: demand.area_ids},
        geometry=gpd.GeoSeries(demand.points, crs=engine.crs).values,
        crs=engine.crs,
    )
    table = nearest(
        engine,
        points,
        targets,
        source_id_column=id_column,
        target_id_column=S.AREA_ID,
        direction=direction,
        **snap_options,
    )
    out = pd.DataFrame(
        {S.AREA_ID: table[S.AREA_ID].to_numpy(), id_column: table[NEAREST_ID].to_numpy()}
    )
    if S.PROVIDER_ID in points.columns and S.PROVIDER_ID != id_column:
        lookup = dict(zip(points[id_column], points[S.PROVIDER_ID], strict=True))
        out[S.PROVIDER_ID] = [lookup.get(v) if v is not None else None for v in out[id_column]]
    out[S.TRAVEL_TIME_S] = table[S.TRAVEL_TIME_S].to_numpy(float)
    return out


@overload
def service_areas(
    engine: TravelTimeEngine,
    providers: gpd.GeoDataFrame,
    *,
    mode: Mode | None = ...,
    demand: gpd.GeoDataFrame | None = ...,
    key_stages: Sequence[str] | str | None = ...,
    buffer_m: float | None = ...,
    direction: Direction = ...,
    id_column: str = ...,
    min_area_m2: float = ...,
    return_assignment: Literal[False] = ...,
    **snap_options: Any,
) -> gpd.GeoDataFrame: ...


@overload
def service_areas(
    engine: TravelTimeEngine,
    providers: gpd.GeoDataFrame,
    *,
    mode: Mode | None = ...,
    demand: gpd.GeoDataFrame | None = ...,
    key_stages: Sequence[str] | str | None = ...,
    buffer_m: float | None = ...,
    direction: Direction = ...,
    id_column: str = ...,
    min_area_m2: float = ...,
    return_assignment: Literal[True],
    **snap_options: Any,
) -> tuple[gpd.GeoDataFrame, pd.DataFrame | None]: ...


def service_areas(
    engine: TravelTimeEngine,
    providers: gpd.GeoDataFrame,
    *,
    mode: Mode | None = None,
    demand: gpd.GeoDataFrame | None = None,
    key_stages: Sequence[str] | str | None = None,
    buffer_m: float | None = None,
    direction: Direction = "to",
    id_column: str = S.SITE_ID,
    min_area_m2: float = DEFAULT_MIN_AREA_M2,
    return_assignment: bool = False,
    **snap_options: Any,
) -> gpd.GeoDataFrame | tuple[gpd.GeoDataFrame, pd.DataFrame | None]:
    """Nearest-provider service areas (a network Voronoi diagram), for maps.

    Each street goes to the provider with the smallest travel time along it. A street whose
    two ends have different nearest providers is split at the exact point of equal travel
    time (so two providers on a grid split it on the midline). Unreachable streets belong
    to no provider. The streets of each provider are buffered and dissolved as in
    :func:`catchments`; neighbouring areas overlap only within ``buffer_m`` of their
    shared boundary.

    Polygons are for display; travel times are the truth (FIELD-NOTES 2).

    Parameters
    ----------
    engine
        A :class:`~apgeo.routing.travel_times.TravelTimeEngine`; its CRS is the output's CRS.
    providers
        Point GeoDataFrame with a unique ``id_column``.
    mode
        Default the engine's mode (must match); chooses the default ``buffer_m``.
    demand
        Optional LSOA table: adds ``children_<ks>``, the children of the areas whose
        population-weighted centroid is nearest to each provider *by travel time*
        (:func:`nearest_provider_table`), not a point-in-polygon count.
    key_stages
        Key stages to count (default every ``children_<ks>`` column in ``demand``).
    buffer_m
        Band width around streets, metres (default :data:`DEFAULT_BUFFER_M`).
    direction
        ``"to"`` (default): time from a point on the street to the provider (a pupil's
        journey); ``"from"``: from the provider.
    id_column
        Unique provider (site) id column.
    min_area_m2
        Holes and detached slivers smaller than this are removed.
    return_assignment
        Also return the :func:`nearest_provider_table` of ``demand`` (``None`` without it).
    **snap_options
        Passed to :func:`apgeo.routing.snap.snap_points`.

    Returns
    -------
    geopandas.GeoDataFrame or (geopandas.GeoDataFrame, pandas.DataFrame or None)
        One row per provider sorted by ``id_column``: ``provider_id`` (when present),
        ``id_column``, ``mode``, ``method``, ``area_km2``, ``children_<ks>`` and
        ``children_method`` (with ``demand``), geometry (empty when a provider is nearest
        to no street, e.g. it shares a spot with another). Known approximation: a
        provider's own street is split using the times at its two ends.
    """
    engine = _check_engine(engine)
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
            demand, crs=engine.crs, key_stages=key_stages, children_method="pwc", need_points=True
        )
    )
    from apgeo.routing.snap import snap_points

    snap_name = snap_options.pop("name", "providers")
    snapped = snap_points(engine, points, id_column=id_column, name=snap_name, **snap_options)
    times, owner = engine.nearest_node_field(snapped, direction=direction_)
    sources = _sources(engine, snapped, points)
    edges = engine.edges
    ui = edges["u_index"].to_numpy()
    vi = edges["v_index"].to_numpy()
    fwd = edges[S.TRAVEL_TIME_S].to_numpy(float)
    n = engine.n_nodes
    fastest = pd.Series(fwd).groupby(ui * n + vi).min()
    pos = fastest.index.get_indexer(vi * n + ui)
    rev = np.where(pos >= 0, fastest.to_numpy()[np.maximum(pos, 0)], np.inf)
    keep = ~np.isfinite(rev) | (ui < vi)  # one row per two-way street
    ui, vi, fwd, rev = ui[keep], vi[keep], fwd[keep], rev[keep]
    geoms = _blocks(engine).geometry.lines(np.flatnonzero(keep))
    lengths = np.asarray(shapely.length(geoms), dtype=float)
    # time at fraction f: via u = a0 + f * a1 (owner wa); via v = b0 + (1 - f) * b1 (owner wb)
    a0, b0 = times[ui], times[vi]
    a1, b1 = (fwd, rev) if direction_ == "from" else (rev, fwd)
    wa, wb = owner[ui], owner[vi]
    a_ok = np.isfinite(a0) & np.isfinite(a1) & (wa >= 0)
    b_ok = np.isfinite(b0) & np.isfinite(b1) & (wb >= 0)
    both = a_ok & b_ok & (wa != wb)
    with np.errstate(divide="ignore", invalid="ignore"):
        split = np.where(a1 + b1 > 0, (b0 + b1 - a0) / (a1 + b1), 0.5)
    split = np.where(both, np.clip(np.nan_to_num(split, nan=0.5), 0.0, 1.0), 0.0)
    whole_owner = np.where(a_ok & ~both, wa, np.where(b_ok & ~both, wb, -1))
    whole = whole_owner >= 0
    first = both & (split * lengths > _EPS_M)
    second = both & ((1 - split) * lengths > _EPS_M)
    piece_geoms = np.concatenate(
        [
            geoms[whole],
            _substrings(geoms[first], np.zeros(int(first.sum())), split[first] * lengths[first]),
            _substrings(geoms[second], split[second] * lengths[second], lengths[second]),
        ]
    )
    piece_owner = np.concatenate([whole_owner[whole], wa[first], wb[second]])

    has_provider_id = S.PROVIDER_ID in points.columns and S.PROVIDER_ID != id_column
    rows: list[dict[str, Any]] = []
    out_geoms: list[BaseGeometry] = []
    for i, source in enumerate(sources):
        mine = piece_geoms[piece_owner == i]
        lines = [*mine, *source.pieces(math.inf, direction_)]  # type: ignore[arg-type]
        geom = (
            _polygonal(_clean(_buffer_union(lines, width_m), min_area))
            if len(mine)
            else shapely.Polygon()
        )
        record: dict[str, Any] = {}
        if has_provider_id:
            record[S.PROVIDER_ID] = points[S.PROVIDER_ID].iloc[i]
        record[id_column] = points[id_column].iloc[i]
        record[S.MODE] = mode_
        record[METHOD] = SERVICE_AREA_METHOD
        rows.append(record)
        out_geoms.append(geom)
    out = _finish(rows, out_geoms, engine.crs, None, id_column, sort_threshold=False)
    assignment: pd.DataFrame | None = None
    if demand_ is not None:
        assignment = _assign(engine, snapped, demand_, direction_, id_column)
        if has_provider_id:
            lookup = dict(zip(points[id_column], points[S.PROVIDER_ID], strict=True))
            assignment.insert(
                2,
                S.PROVIDER_ID,
                [lookup.get(v) if v is not None else None for v in assignment[id_column]],
            )
        position = {sid: j for j, sid in enumerate(out[id_column])}
        counts = np.zeros((len(out), len(demand_.columns)))
        assigned = np.array(
            [position.get(v, -1) if v is not None else -1 for v in assignment[id_column]],
            dtype=np.int64,
        )
        ok = assigned >= 0
        np.add.at(counts, assigned[ok], demand_.children[ok])
        for j, column in enumerate(demand_.columns):
            out[column] = counts[:, j]
        out[CHILDREN_METHOD] = SERVICE_CHILDREN_TEXT
    if return_assignment:
        return out, assignment
    return out


__all__ = [
    "nearest_provider_table",
    "service_areas",
]
