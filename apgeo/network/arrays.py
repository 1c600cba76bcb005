"""The array form of a network (node coordinates, edge endpoints, lengths, speeds, one-way
flags, geometries) and the graph built from it; :func:`network_from_frames` for node and
edge tables of any source.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Literal

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from apgeo._errors import ApgeoValueError, CRSError, NetworkError
from apgeo._log import logger
from apgeo._shared_switch import SharedSwitch
from apgeo.network.area import _is_gb
from apgeo.network.modes import (
    _ALLOW_VALUES,
    _DENY_VALUES,
    _PUSH_HIGHWAYS,
    _TAG_COLUMNS,
    Mode,
    _drive_speeds_kph,
    _is_oneway,
    _slope_factor,
    _usable_mask,
    check_mode,
    resolve_speeds,
)


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


def _gc_off() -> bool:
    was_enabled = gc.isenabled()
    gc.disable()
    return was_enabled


def _gc_back(was_enabled: bool) -> None:
    if was_enabled:
        gc.enable()


#: The process's garbage collector, paused while any thread builds (see :func:`_gc_paused`).
_GC_PAUSE = SharedSwitch(_gc_off, _gc_back)


def _gc_paused() -> AbstractContextManager[None]:
    """Pause the cyclic garbage collector while millions of acyclic dicts are made (it
    would rescan the growing heap again and again); restores the caller's setting. The
    collector is the process's: with several threads inside at once (engines built on
    threads), the first one in pauses it and the last one out restores it."""
    return _GC_PAUSE.held()


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


def check_network(G: nx.MultiDiGraph, *, name: str = "network") -> None:
    """Raise :class:`NetworkError` unless ``G`` is a non-empty apgeo network with a CRS.

    Parameters
    ----------
    G
        The network to check.
    name
        How to name it in the error.
    """
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
    "check_network",
    "network_from_frames",
]
