"""Any road-line layer as a routable network: generic lines and Ordnance Survey Open Roads.

Stage 1 of the pipeline, next to the OpenStreetMap loaders: the result is the same
:class:`networkx.MultiDiGraph` (built through :func:`apgeo.network.network_from_frames`, so
every check and mode rule of the other loaders applies), in EPSG:27700, plus a
:class:`LineNetworkReport` saying what was joined, split and dropped.

Generic lines (:func:`network_from_lines`)
------------------------------------------
A Shapefile, GeoPackage or GeoJSON of road centrelines without topology (or a
GeoDataFrame). MultiLineStrings are exploded into pieces. How pieces are joined is the
``join`` argument, logged and recorded in the report (``report.join``, ``join_reason``):

* ``"shared_vertices"``, for layers exported from OpenStreetMap, whose ways are whole
  across junctions and meet where they share a vertex: every way is split at each interior
  vertex it shares with another way on its level (``layer``, ``bridge``, ``tunnel``), or
  where another way ends; nothing is snapped (:mod:`apgeo.network.shared_vertices`).
* ``"proximity"``, for council centrelines (the Sheffield gritting routes), steps 1-3
  below.
* ``"auto"`` (default): shared vertices for an OSM layer (``osm_id`` and ``highway``
  columns) or one where at least a quarter of the junction points lie inside a line,
  proximity otherwise.

Proximity: nodes are made at the ends of every piece (ends closer than 1 mm are one node),
and then:

1. *Dangling ends are joined.* An end touched by no other piece (a dangle) is merged with
   the nearest node within ``snap_tolerance_m`` that is not the other end of its own
   piece. Only dangles move: ends that already meet stay where they are, so a road
   digitised as many short pieces is never collapsed into one node.
2. *T-junctions are split.* A dangle still free after step 1 that lies within
   ``snap_tolerance_m`` of another piece's interior is moved onto that piece, which is
   split there; any node lying on another piece's interior (within 1 cm) splits it too
   (crossroads digitised without a vertex on the through road).
3. *Clean-up.* Closed rings and pieces whose two ends ended up at one node are split at
   their midpoint (a roundabout drawn as one closed line) or, when shorter than twice the
   tolerance, dropped; exact duplicate pieces are dropped; piece ends are moved onto their
   node so that geometry and topology agree.

Every step is deterministic (nodes are numbered by their coordinates, ties are broken by
id), and every join, split and drop is counted in the report.

Attributes used when present (column names are matched ignoring case, ``_`` and spaces):
``maxspeed`` (OSM style; bare numbers are mph), else ``speed_mph``, else ``speed_kph`` /
``speed_kmh``; ``oneway`` / ``one_way`` / ``is_oneway`` (``yes``/``true``/``1``/``T``:
one-way in the digitised direction, ``-1``/``reverse``: against it, ``no``/``false``/
``0``/blank: two-way); ``highway`` (an OSM highway type, which then decides the mode rules,
e.g. no walking on a ``motorway``); ``access``, ``foot``, ``bicycle``, ``motor_vehicle``,
``motorcar``, ``service``, ``area``, ``junction`` (a column, else GDAL's ``other_tags``
hstore string), applied by the same rules as a PBF's (:mod:`apgeo.network.modes`), the
length each tag leaves out reported (``report.mode_dropped_m``). In an OSM layer a
blank ``highway`` is not a street, ``oneway`` and ``maxspeed`` are read as OSM tags
(implied one-way on roundabouts, missing speeds imputed as for a PBF) and ``osm_id`` is
the edges' ``osmid``. Without them every line is a two-way road of OSM type
``"road"`` (road of unknown class) driven at :data:`DEFAULT_LINE_SPEED_MPH` (30 mph, the
UK built-up-area limit; override with ``speeds_kph={"drive:road": ...}``).

OS Open Roads (:func:`network_from_os_open_roads`)
--------------------------------------------------
``RoadLink`` features carry their topology in ``startNode`` / ``endNode``, which is used
instead of snapping. ``function`` and ``formOfWay`` decide the mode rules and speeds (see
:data:`OS_FUNCTION_HIGHWAY`, :func:`os_drive_speed_mph`):

* Motorways (and their slip roads) are for driving only;
* ``Guided Busway`` is for no mode;
* ``Restricted Local Access Road`` (gated or private roads) is closed to driving but kept
  for walking and cycling; ``Track`` is not driven;
* OS Open Roads has **no one-way information**: every link is two-way for every mode,
  including dual-carriageway links, slip roads and roundabouts. Drive times are therefore
  optimistic where one-way streets would force a detour; the report says so.

:func:`load_road_lines` reads a file and picks the OS reader when the columns
``startNode``, ``endNode``, ``function`` (or ``roadFunction``) and ``formOfWay`` are all
present, the generic reader otherwise.

Edges carry the source feature id (OS ``identifier``, else the row label) in their
``osmid`` attribute, the one free id attribute of the network form.
"""

from __future__ import annotations

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
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from apgeo._errors import ApgeoValueError, NetworkError
from apgeo._log import logger
from apgeo.network.arrays import _norm_column
from apgeo.network.line_layer import (
    _COORD_QUANTUM_M,
    EXACT_TOUCH_M,
    Join,
    LineNetworkReport,
    Schema,
    _as_objects,
    _check_tolerance,
    _degree,
    _endpoints,
    _explode,
    _finish,
    _fit_ends,
    _generic_edges,
    _Pieces,
    _read_layer,
    _report,
    _split_loops,
)
from apgeo.network.modes import (
    _TAG_COLUMNS,
    Mode,
    _exclusion_reasons,
    check_mode,
    resolve_speeds,
)
from apgeo.network.os_open_roads import is_os_open_roads, network_from_os_open_roads
from apgeo.network.shared_vertices import (
    _choose_join,
    _level_codes,
    _shared_vertex_topology,
    _SharedStats,
)

# ---- generic topology ---------------------------------------------------------------------






def _exact_nodes(geoms: np.ndarray, rows: np.ndarray) -> _Pieces:
    start, end = _endpoints(geoms)
    ends = np.vstack([start, end])
    keys = np.round(ends / _COORD_QUANTUM_M).astype(np.int64)
    unique, inverse = np.unique(keys, axis=0, return_inverse=True)
    inverse = inverse.reshape(-1)
    k = len(geoms)
    return _Pieces(
        geoms=geoms.copy(),
        rows=rows.copy(),
        u=inverse[:k].astype(np.int64),
        v=inverse[k:].astype(np.int64),
        node_xy=unique.astype(float) * _COORD_QUANTUM_M,
    )






def _join_dangles(p: _Pieces, *, tolerance_m: float) -> tuple[_Pieces, int]:
    """Merge every dangling end with the nearest node within the tolerance (step 1)."""
    n = len(p.node_xy)
    degree = _degree(p)
    dangles = np.flatnonzero(degree == 1)
    if len(dangles) == 0 or tolerance_m <= 0:
        return p, 0
    other = np.full(n, -1, dtype=np.int64)  # the far end of a dangle's only piece
    other[p.u] = np.where(degree[p.u] == 1, p.v, other[p.u])
    other[p.v] = np.where(degree[p.v] == 1, p.u, other[p.v])
    tree = cKDTree(p.node_xy)
    near = tree.query_ball_point(p.node_xy[dangles], r=tolerance_m)
    pair_a: list[int] = []
    pair_b: list[int] = []
    for d, candidates in zip(dangles.tolist(), near, strict=True):
        options = [c for c in candidates if c != d and c != other[d]]
        if not options:
            continue
        dist = np.hypot(*(p.node_xy[options] - p.node_xy[d]).T)
        order = np.lexsort((np.asarray(options), dist))
        pair_a.append(d)
        pair_b.append(options[int(order[0])])
    if not pair_a:
        return p, 0
    links = coo_matrix((np.ones(len(pair_a)), (pair_a, pair_b)), shape=(n, n))
    _, cluster = connected_components(links, directed=False)
    # representative: the member with the highest degree, then the lowest id
    order = np.lexsort((np.arange(n), -degree, cluster))
    first = np.ones(n, dtype=bool)
    first[1:] = cluster[order][1:] != cluster[order][:-1]
    rep_of_cluster = np.empty(cluster.max() + 1, dtype=np.int64)
    rep_of_cluster[cluster[order][first]] = order[first]
    rep = rep_of_cluster[cluster]
    joins = int((rep != np.arange(n)).sum())
    return (
        _Pieces(geoms=p.geoms, rows=p.rows, u=rep[p.u], v=rep[p.v], node_xy=p.node_xy),
        joins,
    )


def _split_t_junctions(p: _Pieces, *, tolerance_m: float) -> tuple[_Pieces, int]:
    """Split pieces where a dangle (within the tolerance) or any node (within 1 cm)
    touches their interior (step 2)."""
    degree = _degree(p)
    used = np.flatnonzero(degree > 0)
    if len(used) == 0:
        return p, 0
    radius = np.where(degree[used] == 1, max(tolerance_m, EXACT_TOUCH_M), EXACT_TOUCH_M)
    points = shapely.points(p.node_xy[used])
    tree = shapely.STRtree(p.geoms)
    hits: list[tuple[int, int, float]] = []  # (node, piece, distance)
    for r in np.unique(radius):
        sel = np.flatnonzero(radius == r)
        pi, pj = tree.query(points[sel], predicate="dwithin", distance=float(r))
        nodes = used[sel[pi]]
        incident = (p.u[pj] == nodes) | (p.v[pj] == nodes)
        nodes, pieces = nodes[~incident], pj[~incident]
        dist = shapely.distance(shapely.points(p.node_xy[nodes]), p.geoms[pieces])
        hits.extend(zip(nodes.tolist(), pieces.tolist(), dist.tolist(), strict=True))
    if not hits:
        return p, 0
    table = pd.DataFrame(hits, columns=["node", "piece", "distance"])
    table = table.sort_values(["node", "distance", "piece"], kind="stable")
    table = table.drop_duplicates("node", keep="first")
    lines = p.geoms[table["piece"].to_numpy()]
    node_points = shapely.points(p.node_xy[table["node"].to_numpy()])
    s = shapely.line_locate_point(lines, node_points)
    length = shapely.length(lines)
    table["s"] = s
    interior = (s > EXACT_TOUCH_M) & (s < length - EXACT_TOUCH_M)
    table = table[interior]
    if table.empty:
        return p, 0
    node_xy = p.node_xy.copy()
    dangling = degree[table["node"].to_numpy()] == 1
    moved = shapely.get_coordinates(
        shapely.line_interpolate_point(lines[interior][dangling], table["s"].to_numpy()[dangling])
    )
    node_xy[table["node"].to_numpy()[dangling]] = moved
    cut = table.sort_values(["piece", "s", "node"]).groupby("piece", sort=True)
    keep = np.ones(len(p.geoms), dtype=bool)
    geoms: list[Any] = []
    rows: list[int] = []
    us: list[int] = []
    vs: list[int] = []
    n_splits = 0
    for piece, group in cut:
        j = int(piece)  # type: ignore[arg-type]
        keep[j] = False
        line = p.geoms[j]
        positions = [0.0, *group["s"].tolist(), float(line.length)]
        chain = [int(p.u[j]), *group["node"].astype(int).tolist(), int(p.v[j])]
        for k in range(len(chain) - 1):
            geoms.append(shapely.ops.substring(line, positions[k], positions[k + 1]))
            rows.append(int(p.rows[j]))
            us.append(chain[k])
            vs.append(chain[k + 1])
        n_splits += len(group)
    return (
        _Pieces(
            geoms=np.concatenate([p.geoms[keep], _as_objects(geoms)]),
            rows=np.concatenate([p.rows[keep], np.asarray(rows, dtype=np.int64)]),
            u=np.concatenate([p.u[keep], np.asarray(us, dtype=np.int64)]),
            v=np.concatenate([p.v[keep], np.asarray(vs, dtype=np.int64)]),
            node_xy=node_xy,
        ),
        n_splits,
    )




def _drop_duplicates(p: _Pieces, dropped: Counter[str]) -> _Pieces:
    """Drop pieces that repeat another piece between the same nodes (either direction)."""
    a, b = np.minimum(p.u, p.v), np.maximum(p.u, p.v)
    length = np.round(shapely.length(p.geoms), 2)
    frame = pd.DataFrame({"a": a, "b": b, "length": length})
    candidates = frame[frame.duplicated(["a", "b", "length"], keep=False)]
    if candidates.empty:
        return p
    keep = np.ones(len(p.geoms), dtype=bool)
    for _, group in candidates.groupby(["a", "b", "length"], sort=True):
        members = group.index.to_numpy()
        for k, i in enumerate(members):
            for j in members[:k]:
                if not keep[j]:
                    continue
                gi, gj = p.geoms[i], p.geoms[j]
                if gi.equals_exact(gj, 0.01) or gi.equals_exact(gj.reverse(), 0.01):
                    keep[i] = False
                    break
    if (~keep).any():
        dropped["duplicate of another piece"] += int((~keep).sum())
    return _Pieces(p.geoms[keep], p.rows[keep], p.u[keep], p.v[keep], p.node_xy)


def _generic_topology(
    geoms: np.ndarray, rows: np.ndarray, *, tolerance_m: float, dropped: Counter[str]
) -> tuple[_Pieces, int, int]:
    pieces = _exact_nodes(geoms, rows)
    pieces = _split_loops(pieces, min_length_m=0.0, dropped=dropped)  # closed rings
    pieces, joins = _join_dangles(pieces, tolerance_m=tolerance_m)
    pieces = _split_loops(pieces, min_length_m=2 * tolerance_m, dropped=dropped)
    pieces, splits = _split_t_junctions(pieces, tolerance_m=tolerance_m)
    pieces = _fit_ends(pieces, dropped)
    pieces = _drop_duplicates(pieces, dropped)
    return pieces, joins, splits


def _shared_topology(
    gdf: gpd.GeoDataFrame, geoms: np.ndarray, rows: np.ndarray, *, dropped: Counter[str]
) -> tuple[_Pieces, _SharedStats]:
    pieces, stats = _shared_vertex_topology(geoms, rows, _level_codes(gdf), dropped)
    pieces = _split_loops(pieces, min_length_m=0.0, dropped=dropped)  # closed ways
    pieces = _fit_ends(pieces, dropped)
    pieces = _drop_duplicates(pieces, dropped)
    return pieces, stats


def _mode_dropped_m(edges: pd.DataFrame, mode: Mode) -> dict[str, float]:
    """Length (metres) of the pieces the mode's rules leave out, by the excluding tag."""
    table = pd.DataFrame(index=edges.index)
    for column in _TAG_COLUMNS:
        values = edges[column].to_numpy(dtype=object) if column in edges else None
        table[column] = (
            _norm_column(values) if values is not None else np.full(len(edges), np.nan, object)
        )
    reasons = _exclusion_reasons(table, mode)
    length = shapely.length(edges["geometry"].to_numpy())
    out = pd.Series(length).groupby(reasons).sum()
    return {str(k): round(float(v), 1) for k, v in out.items() if k != ""}


def network_from_lines(
    path_or_gdf: str | Path | gpd.GeoDataFrame,
    *,
    mode: Mode,
    speeds_kph: Mapping[str, float] | None = None,
    snap_tolerance_m: float = 5.0,
    layer: str | None = None,
    label: str | None = None,
    join: Join = "auto",
) -> tuple[nx.MultiDiGraph, LineNetworkReport]:
    """A mode's network from a road-line layer without topology.

    See the module docstring for the joining, splitting and attribute rules.

    Parameters
    ----------
    path_or_gdf
        A Shapefile, GeoPackage or GeoJSON path (read with geopandas / pyogrio), or a
        GeoDataFrame of (Multi)LineStrings. It must have a CRS; it is projected to
        EPSG:27700.
    mode
        ``"walk"``, ``"cycle"`` or ``"drive"``.
    speeds_kph
        Speed overrides, see :func:`apgeo.network.resolve_speeds`; ``{"drive": 48}`` forces
        one speed, ``{"drive:road": 40}`` changes the default of lines without a speed.
    snap_tolerance_m
        Dangling ends within this distance (metres) of a node join it, or of another
        line's interior split it (a T-junction). 0 joins only ends that coincide (1 mm).
    layer
        Layer of a multi-layer file (GeoPackage).
    label
        Name of the source, recorded as the graph's ``source`` (default ``lines:<path>``).
    join
        ``"shared_vertices"``: ways meet where they share a vertex, respecting ``layer``,
        ``bridge`` and ``tunnel`` (:mod:`apgeo.network.shared_vertices`), for layers
        exported from OpenStreetMap; ``snap_tolerance_m`` is not used. ``"proximity"``:
        dangling ends snapped and T-junctions split within ``snap_tolerance_m``, for
        council centrelines. ``"auto"`` (default) picks shared vertices for an OSM layer
        (``osm_id`` and ``highway`` columns) or one whose junctions mostly lie inside a
        line, proximity otherwise; the choice and its reason are logged and reported.

    Returns
    -------
    (networkx.MultiDiGraph, LineNetworkReport)
        The network in the form of :mod:`apgeo.network` (EPSG:27700) and what was joined,
        split and dropped, with the connected components.

    Raises
    ------
    CRSError
        The layer has no CRS.
    DataFileNotFoundError
        No file at the path.
    NetworkError
        No usable line, or none usable by the mode.
    ApgeoValueError
        Bad tolerance, mode or speeds.
    """
    mode = check_mode(mode)
    tolerance_m = _check_tolerance(snap_tolerance_m)
    speeds = resolve_speeds(speeds_kph)
    gdf, source = _read_layer(path_or_gdf, layer=layer, label=label)
    dropped: Counter[str] = Counter()
    geoms, rows = _explode(gdf, dropped)
    if len(geoms) == 0:
        raise NetworkError(
            f"{source} has no usable line ({len(gdf)} feature(s); dropped: {dict(dropped)}); "
            "give a layer of LineStrings"
        )
    join_used, join_reason = _choose_join(gdf, geoms, join)
    logger.info("%s: joined at %s (%s)", source, join_used.replace("_", " "), join_reason)
    join_info: dict[str, Any] = {"join": join_used, "join_reason": join_reason}
    if join_used == "shared_vertices":
        pieces, stats = _shared_topology(gdf, geoms, rows, dropped=dropped)
        joins = splits = 0
        tolerance_m = 0.0
        join_info.update(
            n_shared_vertices=stats.n_shared_points,
            n_shared_vertex_nodes=stats.n_junction_points,
            n_level_separated=stats.n_level_separated,
        )
    else:
        pieces, joins, splits = _generic_topology(
            geoms, rows, tolerance_m=tolerance_m, dropped=dropped
        )
    edges, notes = _generic_edges(gdf, pieces, mode=mode, speeds=speeds, source=source)
    join_info["mode_dropped_m"] = _mode_dropped_m(edges, mode)
    if is_os_open_roads(gdf):
        notes.append(
            "the layer has OS Open Roads columns but was read as generic lines; "
            "load_road_lines uses their topology and road functions"
        )
    G = _finish(pieces.node_xy, None, edges, mode=mode, speeds_kph=speeds_kph, source=source)
    report = _report(
        G,
        source=source,
        schema="generic",
        mode=mode,
        n_input=len(gdf),
        pieces=pieces,
        joins=joins,
        splits=splits,
        dropped=dropped,
        tolerance_m=tolerance_m,
        notes=notes,
        **join_info,
    )
    return G, report


def load_road_lines(
    path: str | Path | gpd.GeoDataFrame,
    *,
    mode: Mode,
    speeds_kph: Mapping[str, float] | None = None,
    snap_tolerance_m: float = 5.0,
    layer: str | None = None,
    label: str | None = None,
    schema: Schema = "auto",
    join: Join = "auto",
) -> tuple[nx.MultiDiGraph, LineNetworkReport]:
    """Load any road-line layer as a mode's network, choosing the reader by its columns.

    ``schema="auto"`` reads OS Open Roads ``RoadLink`` layers (columns ``startNode``,
    ``endNode``, ``function`` / ``roadFunction``, ``formOfWay``) with
    :func:`network_from_os_open_roads` and everything else with
    :func:`network_from_lines`; ``"generic"`` or ``"os_open_roads"`` force one.
    Parameters as for those functions (``snap_tolerance_m`` and ``join`` apply to generic
    lines).

    Parameters
    ----------
    path
        A line layer file or a GeoDataFrame with a CRS.
    mode
        ``"walk"``, ``"cycle"`` or ``"drive"``.
    speeds_kph
        Speed overrides, see :func:`apgeo.network.resolve_speeds`.
    snap_tolerance_m
        Join tolerance in metres for generic lines (see :func:`network_from_lines`).
    layer
        Layer of a multi-layer file (GeoPackage).
    label
        Name of the source recorded on the graph (default from the path).
    schema
        ``"auto"``, ``"generic"`` or ``"os_open_roads"``.
    join
        How generic lines are joined: ``"auto"``, ``"shared_vertices"`` or ``"proximity"``
        (see :func:`network_from_lines`).

    Returns
    -------
    (networkx.MultiDiGraph, LineNetworkReport)
        The network (EPSG:27700) and what was joined, split and dropped.
    """
    if schema not in ("auto", "generic", "os_open_roads"):
        raise ApgeoValueError(f"schema={schema!r}; use 'auto', 'generic' or 'os_open_roads'")
    gdf, source = _read_layer(path, layer=layer, label=label)
    if schema == "os_open_roads" or (schema == "auto" and is_os_open_roads(gdf)):
        return network_from_os_open_roads(gdf, mode=mode, speeds_kph=speeds_kph, label=source)
    return network_from_lines(
        gdf,
        mode=mode,
        speeds_kph=speeds_kph,
        snap_tolerance_m=snap_tolerance_m,
        label=source,
        join=join,
    )


__all__ = [
    "load_road_lines",
    "network_from_lines",
]
