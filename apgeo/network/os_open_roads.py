"""Ordnance Survey Open Roads (``RoadLink``) as a network: its own ``startNode`` / ``endNode``
topology, ``function`` and ``formOfWay`` mapped to speeds and walk / cycle / drive rules.
OS Open Roads carries no one-way information, so every link is two-way (stated in the
report).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
import shapely.ops

from apgeo._errors import NetworkError
from apgeo._log import warn
from apgeo.network.line_layer import (
    _LINKABLE,
    _NO_ONEWAY_NOTE,
    _TRUE,
    DEFAULT_LINE_SPEED_MPH,
    EXACT_TOUCH_M,
    GENERIC_HIGHWAY,
    LineNetworkReport,
    _endpoints,
    _find_column,
    _finish,
    _fit_ends,
    _kph_text,
    _Pieces,
    _read_layer,
    _report,
    _split_loops,
)
from apgeo.network.modes import (
    MPH_TO_KPH,
    Mode,
    check_mode,
    resolve_speeds,
)

OS_FUNCTION_HIGHWAY: dict[str, str] = {
    "Motorway": "motorway",
    "A Road": "primary",
    "B Road": "secondary",
    "Minor Road": "tertiary",
    "Local Road": "residential",
    "Local Access Road": "residential",
    "Restricted Local Access Road": "residential",
    "Secondary Access Road": "service",
}
#: ``formOfWay`` values that replace the highway type (``Slip Road`` gives ``<type>_link``).
OS_FORM_HIGHWAY: dict[str, str] = {
    "Guided Busway": "bus_guideway",
    "Enclosed Traffic Area": "service",
    "Shared Use Carriageway": "living_street",
    "Track": "track",
}
#: Drive speed (mph) of a single-carriageway link by OS ``function``: UK limits, 30 mph
#: in built-up areas for everything below A roads, 40 mph on A roads (urban and rural
#: mixed), 20 mph on access roads, 10 mph on back lanes.
OS_FUNCTION_SPEED_MPH: dict[str, float] = {
    "Motorway": 70.0,
    "A Road": 40.0,
    "B Road": 30.0,
    "Minor Road": 30.0,
    "Local Road": 30.0,
    "Local Access Road": 20.0,
    "Restricted Local Access Road": 20.0,
    "Secondary Access Road": 10.0,
}
#: Dual and collapsed dual carriageways (mph); other functions keep the single value.
OS_DUAL_SPEED_MPH: dict[str, float] = {"Motorway": 70.0, "A Road": 50.0, "B Road": 40.0}
#: Slip roads (mph); other functions keep the single value.
OS_SLIP_SPEED_MPH: dict[str, float] = {"Motorway": 50.0, "A Road": 30.0, "B Road": 30.0}
#: Speed caps (mph) by ``formOfWay``.
OS_FORM_CAP_MPH: dict[str, float] = {
    "Roundabout": 20.0,
    "Enclosed Traffic Area": 10.0,
    "Shared Use Carriageway": 10.0,
    "Layby": 10.0,
    "Track": 10.0,
}
_OS_DUAL = frozenset({"Dual Carriageway", "Collapsed Dual Carriageway"})
_OS_KNOWN_FORMS = frozenset(
    {
        "Single Carriageway",
        "Dual Carriageway",
        "Collapsed Dual Carriageway",
        "Slip Road",
        "Roundabout",
        "Traffic Island Link",
        "Traffic Island Link At Junction",
        "Enclosed Traffic Area",
        "Shared Use Carriageway",
        "Guided Busway",
        "Layby",
        "Track",
    }
)
# ---- OS Open Roads ----------------------------------------------------------------------------


def _os_columns(gdf: gpd.GeoDataFrame) -> dict[str, str] | None:
    """OS Open Roads column names, or None when the layer is not OS Open Roads."""
    found = {
        "start": _find_column(gdf, "startNode", "start_node"),
        "end": _find_column(gdf, "endNode", "end_node"),
        "function": _find_column(gdf, "function", "roadFunction"),
        "form": _find_column(gdf, "formOfWay", "form_of_way"),
    }
    if any(v is None for v in found.values()):
        return None
    out = {k: str(v) for k, v in found.items()}
    for key, names in (
        ("id", ("identifier", "id", "gml_id", "toid")),
        ("trunk", ("trunkRoad", "trunk_road", "trunk")),
    ):
        column = _find_column(gdf, *names)
        if column is not None:
            out[key] = column
    return out


def is_os_open_roads(gdf: pd.DataFrame) -> bool:
    """True when ``gdf`` has the OS Open Roads ``RoadLink`` columns (``startNode``,
    ``endNode``, ``function`` or ``roadFunction``, ``formOfWay``; any case).

    Parameters
    ----------
    gdf
        A line layer.

    Returns
    -------
    bool
        Whether it is a GeoDataFrame with those columns.
    """
    return isinstance(gdf, gpd.GeoDataFrame) and _os_columns(gdf) is not None


def os_drive_speed_mph(function: str, form_of_way: str) -> float:
    """Free-flow drive speed (mph) of an OS Open Roads link.

    :data:`OS_FUNCTION_SPEED_MPH` by ``function``; :data:`OS_DUAL_SPEED_MPH` on dual and
    collapsed dual carriageways and :data:`OS_SLIP_SPEED_MPH` on slip roads where listed;
    then capped by :data:`OS_FORM_CAP_MPH` (e.g. 20 mph on roundabouts). Unknown
    functions get :data:`DEFAULT_LINE_SPEED_MPH`.

    Parameters
    ----------
    function
        The link's OS ``function`` (e.g. ``"A Road"``).
    form_of_way
        Its OS ``formOfWay`` (e.g. ``"Roundabout"``).

    Returns
    -------
    float
        Speed in miles per hour.
    """
    speed = OS_FUNCTION_SPEED_MPH.get(function, DEFAULT_LINE_SPEED_MPH)
    if form_of_way in _OS_DUAL:
        speed = OS_DUAL_SPEED_MPH.get(function, speed)
    elif form_of_way == "Slip Road":
        speed = OS_SLIP_SPEED_MPH.get(function, speed)
    return min(speed, OS_FORM_CAP_MPH.get(form_of_way, math.inf))


def _os_highway(function: str, form_of_way: str, trunk: bool) -> str:
    if form_of_way in OS_FORM_HIGHWAY:
        return OS_FORM_HIGHWAY[form_of_way]
    highway = OS_FUNCTION_HIGHWAY.get(function, GENERIC_HIGHWAY)
    if highway == "primary" and trunk:
        highway = "trunk"
    if form_of_way == "Slip Road" and highway in _LINKABLE:
        highway += "_link"
    return highway


def _truthy(value: object) -> bool:
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    return str(value).strip().lower() in _TRUE


def _os_topology(
    gdf: gpd.GeoDataFrame, columns: Mapping[str, str], *, dropped: Counter[str], source: str
) -> tuple[_Pieces, list[Any]]:
    """Pieces and node ids from ``startNode`` / ``endNode`` (merged multi-part links)."""
    geoms = gdf.geometry.to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        dropped["missing or empty geometry"] += int(missing.sum())
    geoms = shapely.force_2d(np.where(missing, None, geoms))
    multi = ~missing & (shapely.get_type_id(geoms) == 5)
    if multi.any():
        geoms[multi] = shapely.line_merge(geoms[multi])
    line = ~missing & (shapely.get_type_id(geoms) == 1)
    not_line = ~missing & ~line
    if not_line.any():
        dropped["not a single line (multi-part link that does not join up, or not a line)"] += int(
            not_line.sum()
        )
    start = gdf[columns["start"]]
    end = gdf[columns["end"]]
    no_topology = line & (start.isna() | end.isna()).to_numpy()
    if no_topology.any():
        dropped["missing startNode / endNode"] += int(no_topology.sum())
    ok = line & ~no_topology
    if "id" in columns:
        dup = gdf[columns["id"]].duplicated(keep="first").to_numpy() & ok
        if dup.any():
            dropped["repeated identifier (overlapping tiles)"] += int(dup.sum())
        ok &= ~dup
    zero = ok & (shapely.length(np.where(ok, geoms, None)) <= 0)
    if zero.any():
        dropped["zero length"] += int(zero.sum())
    ok &= ~zero
    rows = np.flatnonzero(ok)
    lines = geoms[rows]
    start_ids = start.to_numpy(dtype=object)[rows]
    end_ids = end.to_numpy(dtype=object)[rows]
    start_xy, end_xy = _endpoints(lines)
    ends = pd.DataFrame(
        {
            "node": np.concatenate([start_ids, end_ids]).astype(str),
            "x": np.concatenate([start_xy[:, 0], end_xy[:, 0]]),
            "y": np.concatenate([start_xy[:, 1], end_xy[:, 1]]),
        }
    )
    codes, node_ids = pd.factorize(ends["node"], sort=True)
    first = ends.groupby(codes, sort=True)[["x", "y"]].first().to_numpy(dtype=float)
    gap = np.hypot(ends["x"].to_numpy() - first[codes, 0], ends["y"].to_numpy() - first[codes, 1])
    conflicting = gap > 1.0
    if conflicting.any():
        warn(
            f"{source}: {int(conflicting.sum())} link end(s) lie more than 1 m from the position "
            f"of their startNode / endNode given by another link (largest gap {gap.max():.1f} m); "
            "the ends were moved onto the node. Check that the tiles come from one OS Open "
            "Roads release",
            stacklevel=4,
        )
    k = len(rows)
    pieces = _Pieces(
        geoms=lines,
        rows=rows.astype(np.int64),
        u=codes[:k].astype(np.int64),
        v=codes[k:].astype(np.int64),
        node_xy=first,
    )
    pieces = _split_loops(pieces, min_length_m=2 * EXACT_TOUCH_M, dropped=dropped)
    names: list[Any] = [str(n) for n in node_ids]
    names += [f"midpoint:{i}" for i in range(len(pieces.node_xy) - len(names))]
    return _fit_ends(pieces, dropped), names


def _os_edges(
    gdf: gpd.GeoDataFrame,
    p: _Pieces,
    columns: Mapping[str, str],
    *,
    speeds: Mapping[str, float],
    user_speeds: Mapping[str, float],
    source: str,
) -> tuple[pd.DataFrame, list[str]]:
    function = gdf[columns["function"]].map(lambda x: "" if pd.isna(x) else str(x).strip())
    form = gdf[columns["form"]].map(lambda x: "" if pd.isna(x) else str(x).strip())
    trunk = (
        gdf[columns["trunk"]].map(_truthy)
        if "trunk" in columns
        else pd.Series(False, index=gdf.index)
    )
    notes = [_NO_ONEWAY_NOTE]
    unknown_f = sorted(set(function) - set(OS_FUNCTION_HIGHWAY))
    unknown_w = sorted(set(form) - _OS_KNOWN_FORMS)
    if unknown_f or unknown_w:
        warn(
            f"{source}: unknown OS Open Roads value(s): function {unknown_f}, formOfWay "
            f"{unknown_w}; those links are treated as roads of unknown class at "
            f"{DEFAULT_LINE_SPEED_MPH:g} mph, usable by every mode",
            stacklevel=4,
        )
    f = function.to_numpy(dtype=object)[p.rows]
    w = form.to_numpy(dtype=object)[p.rows]
    t = trunk.to_numpy(dtype=bool)[p.rows]
    highway = np.array(
        [_os_highway(a, b, c) for a, b, c in zip(f, w, t, strict=True)], dtype=object
    )
    mph = np.array([os_drive_speed_mph(a, b) for a, b in zip(f, w, strict=True)], dtype=float)
    kph = mph * MPH_TO_KPH
    for i, h in enumerate(highway):  # explicit per-type overrides of the caller win
        if f"drive:{h}" in user_speeds:
            kph[i] = speeds[f"drive:{h}"]
    motor = np.full(len(f), None, dtype=object)
    motor[f == "Restricted Local Access Road"] = "private"
    ids = (
        gdf[columns["id"]].to_numpy(dtype=object)
        if "id" in columns
        else gdf.index.to_numpy(dtype=object)
    )
    edges = pd.DataFrame(
        {
            "u": p.u,
            "v": p.v,
            "geometry": p.geoms,
            "highway": highway,
            "oneway": "no",
            "maxspeed": _kph_text(kph),
            "motor_vehicle": motor,
            "osmid": ids[p.rows],
        }
    )
    return edges, notes


def network_from_os_open_roads(
    path_or_gdf: str | Path | gpd.GeoDataFrame,
    *,
    mode: Mode,
    speeds_kph: Mapping[str, float] | None = None,
    layer: str | None = None,
    label: str | None = None,
) -> tuple[nx.MultiDiGraph, LineNetworkReport]:
    """A mode's network from OS Open Roads ``RoadLink`` features.

    Topology comes from ``startNode`` / ``endNode`` (no snapping); mode rules and speeds
    from ``function`` and ``formOfWay`` (module docstring, :func:`os_drive_speed_mph`).
    OS Open Roads has no one-way information: every link is two-way for every mode.

    Parameters
    ----------
    path_or_gdf
        The ``RoadLink`` layer (GeoPackage, Shapefile, GeoJSON; of a GeoPackage with several
        layers the one called ``RoadLink`` is read unless ``layer`` says otherwise) or a
        GeoDataFrame with a CRS.
    mode
        ``"walk"``, ``"cycle"`` or ``"drive"``.
    speeds_kph
        Overrides, see :func:`apgeo.network.resolve_speeds`. ``{"drive": 48}`` forces one
        speed; ``{"drive:<osm type>": kph}`` replaces the OS table for links mapped to that
        type (``motorway``, ``primary``, ``residential``... see :data:`OS_FUNCTION_HIGHWAY`).
    layer, label
        As for :func:`network_from_lines`.

    Returns
    -------
    (networkx.MultiDiGraph, LineNetworkReport)
        The network (EPSG:27700) and what was read and dropped, with the connected
        components.

    Raises
    ------
    MissingColumnError
        The layer lacks the OS columns.
    CRSError, DataFileNotFoundError, NetworkError
        As :func:`network_from_lines`.
    """
    from apgeo._errors import MissingColumnError

    mode = check_mode(mode)
    speeds = resolve_speeds(speeds_kph)
    gdf, source = _read_layer(path_or_gdf, layer=layer, label=label)
    columns = _os_columns(gdf)
    if columns is None:
        raise MissingColumnError(
            f"{source} lacks the OS Open Roads RoadLink columns startNode, endNode, function "
            f"and formOfWay (it has {[str(c) for c in gdf.columns]}); read it with "
            "network_from_lines instead"
        )
    dropped: Counter[str] = Counter()
    pieces, names = _os_topology(gdf, columns, dropped=dropped, source=source)
    if len(pieces.geoms) == 0:
        raise NetworkError(
            f"{source} has no usable road link ({len(gdf)} feature(s); dropped: {dict(dropped)})"
        )
    edges, notes = _os_edges(
        gdf, pieces, columns, speeds=speeds, user_speeds=dict(speeds_kph or {}), source=source
    )
    G = _finish(pieces.node_xy, names, edges, mode=mode, speeds_kph=speeds_kph, source=source)
    report = _report(
        G,
        source=source,
        schema="os_open_roads",
        mode=mode,
        n_input=len(gdf),
        pieces=pieces,
        joins=0,
        splits=0,
        dropped=dropped,
        tolerance_m=0.0,
        notes=notes,
        join="topology",
        join_reason="OS Open Roads startNode / endNode",
    )
    return G, report


__all__ = [
    "OS_DUAL_SPEED_MPH",
    "OS_FORM_CAP_MPH",
    "OS_FORM_HIGHWAY",
    "OS_FUNCTION_HIGHWAY",
    "OS_FUNCTION_SPEED_MPH",
    "OS_SLIP_SPEED_MPH",
    "is_os_open_roads",
    "network_from_os_open_roads",
    "os_drive_speed_mph",
]
