"""GraphML files (as osmnx writes them) and osmnx graphs as networks, with a fast
streaming reader and the standard XML parser as its fallback.
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from apgeo._errors import CRSError, NetworkError
from apgeo._log import logger
from apgeo._validate import require_file
from apgeo.network.area import choose_crs
from apgeo.network.arrays import (
    _derive,
    _gc_paused,
    _graph_from_arrays,
    _object_array,
    _prepare,
    _Prepared,
)
from apgeo.network.modes import _TAG_COLUMNS, Mode, check_mode, resolve_speeds


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

    Parameters
    ----------
    path
        The GraphML file.
    mode
        ``"walk"``, ``"cycle"`` or ``"drive"``.
    speeds_kph
        Speed overrides, see :func:`apgeo.network.resolve_speeds`.
    crs
        Working CRS, ``"auto"``: EPSG:27700 in Great Britain, UTM elsewhere.
    slope_aware
        Adjust walk and cycle speeds to slope (needs node elevations in the file).

    Returns
    -------
    networkx.MultiDiGraph
        The mode's network in the working CRS.

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


__all__ = [
    "network_from_graphml",
]
