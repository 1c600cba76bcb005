"""Any road-line layer as a routable network: generic lines and Ordnance Survey Open Roads.

Stage 1 of the pipeline, next to the OpenStreetMap loaders: the result is the same
:class:`networkx.MultiDiGraph` (built through :func:`apgeo.network.network_from_frames`, so
every check and mode rule of the other loaders applies), in EPSG:27700, plus a
:class:`LineNetworkReport` saying what was joined, split and dropped.

Generic lines (:func:`network_from_lines`)
------------------------------------------
A Shapefile, GeoPackage or GeoJSON of road centrelines without topology (or a
GeoDataFrame). MultiLineStrings are exploded into pieces, nodes are made at the ends of
every piece (ends closer than 1 mm are one node), and then:

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
e.g. no walking on a ``motorway``). Without them every line is a two-way road of OSM type
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

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
import shapely.ops
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from apgeo._errors import ApgeoValueError, CRSError, DataFileNotFoundError, NetworkError
from apgeo._log import logger, warn
from apgeo.network import (
    DEFAULT_DRIVE_SPEEDS_MPH,
    FALLBACK_DRIVE_SPEED_MPH,
    MPH_TO_KPH,
    Mode,
    check_mode,
    network_from_frames,
    parse_maxspeed_kph,
    resolve_speeds,
)
from apgeo.settings import WORKING_CRS

#: OSM highway type given to generic lines without a ``highway`` column ("road of unknown
#: class"): usable by every mode.
GENERIC_HIGHWAY = "road"
#: Drive speed (mph) of a generic line without a speed attribute: the default of OSM
#: ``highway=road``, 30 mph, the UK built-up-area limit, right for most of a city's main
#: roads (the Sheffield gritting routes). Change it with ``speeds_kph={"drive:road": ...}``.
DEFAULT_LINE_SPEED_MPH: float = DEFAULT_DRIVE_SPEEDS_MPH[GENERIC_HIGHWAY]
#: A node closer than this to another piece's interior splits it whatever its degree.
EXACT_TOUCH_M = 0.01
#: Piece ends closer than this are one node before any snapping.
_COORD_QUANTUM_M = 0.001

#: OS Open Roads ``function`` -> OSM highway type (decides the mode rules).
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
_LINKABLE = frozenset({"motorway", "trunk", "primary", "secondary", "tertiary"})
_NO_ONEWAY_NOTE = (
    "OS Open Roads has no one-way information: every link is two-way for every mode, so "
    "drive times ignore one-way streets (optimistic where they force a detour)"
)
_TRUE = frozenset({"yes", "true", "1", "t", "y", "forward", "ft"})
_REVERSE = frozenset({"-1", "reverse", "backward", "tf"})
_FALSE = frozenset({"no", "false", "0", "f", "n", "both", "", "nan", "none"})

Schema = Literal["auto", "generic", "os_open_roads"]


# ---- the report ------------------------------------------------------------------------


@dataclass(frozen=True)
class LineNetworkReport:
    """What happened when a line layer became a network.

    Attributes
    ----------
    source
        The layer (path or label).
    schema
        ``"generic"`` or ``"os_open_roads"``.
    mode
        The network's mode.
    n_input_features
        Rows of the layer.
    n_pieces
        Line pieces after exploding, splitting and dropping (before the mode's rules).
    n_nodes, n_edges
        Of the mode's graph (edges are directed: a two-way piece gives two).
    n_snapped_joins
        Dangling ends merged with a node within the tolerance (generic lines).
    n_split_junctions
        Pieces split where another piece's end touches their interior (generic lines).
    dropped
        Reason -> number of features or pieces left out.
    component_lengths_m
        Length of road (each piece counted once) of every weakly connected component of
        the mode's graph, longest first.
    snap_tolerance_m
        The tolerance used (generic lines; 0 for OS Open Roads).
    notes
        Caveats that apply to the whole network (e.g. no one-way data).
    """

    source: str
    schema: str
    mode: str
    n_input_features: int
    n_pieces: int
    n_nodes: int
    n_edges: int
    n_snapped_joins: int
    n_split_junctions: int
    dropped: dict[str, int] = field(default_factory=dict)
    component_lengths_m: tuple[float, ...] = ()
    snap_tolerance_m: float = 0.0
    notes: tuple[str, ...] = ()

    @property
    def n_dropped(self) -> int:
        """Features and pieces left out, all reasons."""
        return int(sum(self.dropped.values()))

    @property
    def n_components(self) -> int:
        """Weakly connected components of the mode's graph."""
        return len(self.component_lengths_m)

    @property
    def total_length_m(self) -> float:
        """Road length of the mode's graph, each piece once (metres)."""
        return float(sum(self.component_lengths_m))

    @property
    def largest_component_share(self) -> float:
        """Share (0..1) of the road length in the largest component."""
        total = self.total_length_m
        return self.component_lengths_m[0] / total if total > 0 else math.nan

    def summary(self) -> str:
        """A few readable lines for logs and reports."""
        dropped = ", ".join(f"{n} {why}" for why, n in sorted(self.dropped.items())) or "none"
        lines = [
            f"{self.source} ({self.schema}, {self.mode}): {self.n_input_features} feature(s) -> "
            f"{self.n_pieces} piece(s), {self.n_nodes} node(s), {self.n_edges} directed edge(s)",
            f"joins within {self.snap_tolerance_m:g} m: {self.n_snapped_joins}; T-junction "
            f"splits: {self.n_split_junctions}; dropped: {dropped}",
            f"{self.total_length_m / 1000:.1f} km of road in {self.n_components} connected "
            f"component(s); the largest holds {self.largest_component_share:.1%} of the length",
        ]
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)


def component_lengths_m(G: nx.MultiDiGraph) -> tuple[float, ...]:
    """Road length (metres) of every weakly connected component of ``G``, longest first.

    Each piece of road counts once however many directed edges it has: the two
    directions of a street are recognised by their end nodes, source id (``osmid``) and
    length (to the centimetre).
    """
    label: dict[Any, int] = {}
    for i, nodes in enumerate(nx.weakly_connected_components(G)):
        for n in nodes:
            label[n] = i
    totals = np.zeros(len(set(label.values())) if label else 0)
    seen: set[tuple[Any, ...]] = set()
    for u, v, data in G.edges(data=True):
        length = float(data.get("length_m", 0.0))
        a, b = (u, v) if str(u) <= str(v) else (v, u)
        key = (a, b, str(data.get("osmid")), round(length, 2))
        if key in seen:
            continue
        seen.add(key)
        totals[label[u]] += length
    return tuple(float(t) for t in sorted(totals, reverse=True))


# ---- reading and checking the layer -------------------------------------------------------


def _norm_name(name: object) -> str:
    return re.sub(r"[\s_]", "", str(name)).lower()


def _find_column(frame: pd.DataFrame, *names: str) -> str | None:
    """The first column whose normalised name is one of ``names`` (normalised)."""
    wanted = [_norm_name(n) for n in names]
    by_norm: dict[str, str] = {}
    for column in frame.columns:
        if column == frame.geometry.name:
            continue
        by_norm.setdefault(_norm_name(column), str(column))
    for name in wanted:
        if name in by_norm:
            return by_norm[name]
    return None


def _read_layer(
    path_or_gdf: str | Path | gpd.GeoDataFrame, *, layer: str | None, label: str | None
) -> tuple[gpd.GeoDataFrame, str]:
    """The layer as a GeoDataFrame in EPSG:27700, and its label for messages."""
    if isinstance(path_or_gdf, gpd.GeoDataFrame):
        gdf = path_or_gdf
        name = label or "lines (GeoDataFrame)"
    elif isinstance(path_or_gdf, (str, Path)):
        path = Path(path_or_gdf)
        if not path.exists():
            raise DataFileNotFoundError(
                f"road-line layer {path} not found; give the path of a Shapefile (.shp), "
                "GeoPackage (.gpkg) or GeoJSON file"
            )
        import pyogrio

        if layer is None:
            layers = [str(row[0]) for row in pyogrio.list_layers(path)]
            if len(layers) > 1:
                road_links = [n for n in layers if _norm_name(n) in ("roadlink", "roadlinks")]
                if len(road_links) != 1:
                    raise ApgeoValueError(
                        f"{path} holds {len(layers)} layers ({', '.join(layers)}); choose one "
                        "with layer=..."
                    )
                layer = road_links[0]
        try:
            gdf = gpd.read_file(path, layer=layer)
        except Exception as exc:
            raise NetworkError(f"cannot read the road-line layer {path}: {exc}") from exc
        name = label or (f"lines:{path}" if layer is None else f"lines:{path}:{layer}")
    else:
        raise ApgeoValueError(
            "path_or_gdf must be a file path or a GeoDataFrame of lines, not "
            f"{type(path_or_gdf).__name__}"
        )
    if gdf.crs is None:
        raise CRSError(
            f"{name} has no CRS, so its coordinates cannot be placed; add the .prj file that "
            "came with the Shapefile, or set it, e.g. gdf.set_crs('EPSG:27700') for British "
            "National Grid metres or gdf.set_crs('EPSG:4326') for longitude/latitude"
        )
    if not gdf.crs.equals(WORKING_CRS):
        logger.info("%s is in %s; reprojected to %s", name, gdf.crs, WORKING_CRS)
        gdf = gdf.to_crs(WORKING_CRS)
    return gdf, name


def _explode(gdf: gpd.GeoDataFrame, dropped: Counter[str]) -> tuple[np.ndarray, np.ndarray]:
    """LineString pieces (2-d) and the row position each came from; bad rows counted."""
    geoms = gdf.geometry.to_numpy()
    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    if missing.any():
        dropped["missing or empty geometry"] += int(missing.sum())
    rows = np.flatnonzero(~missing)
    geoms = shapely.force_2d(geoms[rows])
    parts, which = shapely.get_parts(geoms, return_index=True)
    rows = rows[which]
    is_line = shapely.get_type_id(parts) == 1  # LineString
    ring = shapely.get_type_id(parts) == 2  # LinearRing: treat as a closed line
    for i in np.flatnonzero(ring):
        parts[i] = shapely.LineString(shapely.get_coordinates(parts[i]))
    is_line |= ring
    if (~is_line).any():
        bad_rows = np.unique(rows[~is_line])
        dropped["not a line (points or polygons)"] += len(bad_rows)
    parts, rows = parts[is_line], rows[is_line]
    coords, owner = shapely.get_coordinates(parts, return_index=True)
    coords_ok = np.ones(len(parts), dtype=bool)
    coords_ok[owner[~np.isfinite(coords).all(axis=1)]] = False
    if (~coords_ok).any():
        dropped["non-finite coordinates"] += int((~coords_ok).sum())
    parts, rows = parts[coords_ok], rows[coords_ok]
    zero = shapely.length(parts) <= 0
    if zero.any():
        dropped["zero length"] += int(zero.sum())
    return parts[~zero], rows[~zero]


def _endpoints(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    start = shapely.get_coordinates(shapely.get_point(geoms, 0))
    end = shapely.get_coordinates(shapely.get_point(geoms, -1))
    return start, end


# ---- generic topology ---------------------------------------------------------------------


@dataclass
class _Pieces:
    """Pieces of road with their end nodes; ``node_xy`` rows are node ids."""

    geoms: np.ndarray
    rows: np.ndarray
    u: np.ndarray
    v: np.ndarray
    node_xy: np.ndarray


def _degree(p: _Pieces) -> np.ndarray:
    n = len(p.node_xy)
    return np.bincount(p.u, minlength=n) + np.bincount(p.v, minlength=n)


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


def _split_loops(p: _Pieces, *, min_length_m: float, dropped: Counter[str]) -> _Pieces:
    """Split pieces whose ends are one node at their midpoint; drop short ones."""
    loops = np.flatnonzero(p.u == p.v)
    if len(loops) == 0:
        return p
    lengths = shapely.length(p.geoms[loops])
    short = lengths < max(min_length_m, 2 * EXACT_TOUCH_M)
    if short.any():
        dropped["both ends at one node and shorter than twice the tolerance"] += int(short.sum())
    keep = np.ones(len(p.geoms), dtype=bool)
    keep[loops] = False
    geoms, rows = list(p.geoms[keep]), list(p.rows[keep])
    us, vs = list(p.u[keep]), list(p.v[keep])
    node_xy = [p.node_xy]
    next_id = len(p.node_xy)
    for i, length in zip(loops[~short].tolist(), lengths[~short].tolist(), strict=True):
        line = p.geoms[i]
        mid = line.interpolate(length / 2)
        node_xy.append(np.array([[mid.x, mid.y]]))
        for a, b, s, t in (
            (p.u[i], next_id, 0.0, length / 2),
            (next_id, p.v[i], length / 2, length),
        ):
            geoms.append(shapely.ops.substring(line, s, t))
            rows.append(p.rows[i])
            us.append(a)
            vs.append(b)
        next_id += 1
    return _Pieces(
        geoms=_as_objects(geoms),
        rows=np.asarray(rows, dtype=np.int64),
        u=np.asarray(us, dtype=np.int64),
        v=np.asarray(vs, dtype=np.int64),
        node_xy=np.vstack(node_xy),
    )


def _as_objects(items: list[Any]) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        out[i] = item
    return out


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


def _fit_ends(p: _Pieces, dropped: Counter[str]) -> _Pieces:
    """Move every piece's ends onto its nodes; drop pieces left without length."""
    coords, index = shapely.get_coordinates(p.geoms, return_index=True)
    first = np.r_[0, np.flatnonzero(np.diff(index)) + 1]
    last = np.r_[first[1:] - 1, len(index) - 1]
    coords[first] = p.node_xy[p.u]
    coords[last] = p.node_xy[p.v]
    geoms = shapely.linestrings(coords, indices=index)
    zero = shapely.length(geoms) <= 0
    if zero.any():
        dropped["zero length after snapping"] += int(zero.sum())
    keep = ~zero
    return _Pieces(geoms[keep], p.rows[keep], p.u[keep], p.v[keep], p.node_xy)


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


# ---- attributes -> tags ----------------------------------------------------------------------


def _oneway_tags(values: pd.Series, *, source: str) -> np.ndarray:
    """``"yes"`` / ``"-1"`` / ``"no"`` from a one-way column (unknown values: two-way, warned)."""
    text = values.map(lambda x: "" if pd.isna(x) else str(x).strip().lower())
    out = np.full(len(values), "no", dtype=object)
    out[text.isin(_TRUE).to_numpy()] = "yes"
    out[text.isin(_REVERSE).to_numpy()] = "-1"
    unknown = ~(text.isin(_TRUE) | text.isin(_REVERSE) | text.isin(_FALSE))
    if unknown.any():
        examples = sorted(set(text[unknown]))[:5]
        warn(
            f"{source}: {int(unknown.sum())} line(s) have a one-way value apgeo does not know "
            f"({examples}); they are treated as two-way. Use yes/true/1 (digitised direction), "
            "-1/reverse (against it) or no/false/0",
            stacklevel=4,
        )
    return out


def _speed_column_kph(gdf: gpd.GeoDataFrame) -> tuple[np.ndarray, str | None]:
    """Speeds (km/h, NaN where missing) from ``maxspeed``, ``speed_mph`` or ``speed_kph``."""
    column = _find_column(gdf, "maxspeed")
    if column is not None:
        values = gdf[column].to_numpy(dtype=object)
        return np.array([parse_maxspeed_kph(v, default_unit="mph") for v in values]), column
    for names, factor in (
        (("speed_mph", "speedmph", "mph"), MPH_TO_KPH),
        (("speed_kph", "speed_kmh", "kph", "kmh"), 1.0),
    ):
        column = _find_column(gdf, *names)
        if column is not None:
            numbers = pd.to_numeric(gdf[column], errors="coerce").to_numpy(dtype=float) * factor
            return np.where(numbers > 0, numbers, np.nan), column
    return np.full(len(gdf), np.nan), None


def _kph_text(kph: np.ndarray) -> np.ndarray:
    return np.array([f"{k:.6f} km/h" for k in kph], dtype=object)


def _table_speed_kph(highway: np.ndarray, speeds: Mapping[str, float]) -> np.ndarray:
    """Default drive speed (km/h) of each highway type (``drive:<type>`` entries)."""
    fallback = FALLBACK_DRIVE_SPEED_MPH * MPH_TO_KPH
    return np.array([speeds.get(f"drive:{h}", fallback) for h in highway], dtype=float)


def _generic_edges(
    gdf: gpd.GeoDataFrame, p: _Pieces, *, mode: Mode, speeds: Mapping[str, float], source: str
) -> tuple[pd.DataFrame, list[str]]:
    notes: list[str] = []
    rows = p.rows
    highway_col = _find_column(gdf, "highway")
    if highway_col is not None:
        highway = (
            gdf[highway_col]
            .map(
                lambda x: (
                    GENERIC_HIGHWAY if pd.isna(x) or not str(x).strip() else str(x).strip().lower()
                )
            )
            .to_numpy(dtype=object)
        )
    else:
        highway = np.full(len(gdf), GENERIC_HIGHWAY, dtype=object)
    oneway_col = _find_column(gdf, "oneway", "one_way", "is_oneway")
    if oneway_col is not None:
        oneway = _oneway_tags(gdf[oneway_col], source=source)
    else:
        oneway = np.full(len(gdf), "no", dtype=object)
        if mode == "drive":
            notes.append("no one-way column: every line is two-way")
    kph, speed_col = _speed_column_kph(gdf)
    bad = np.isnan(kph)
    if speed_col is not None:
        raw = gdf[speed_col]
        unreadable = bad & raw.notna().to_numpy() & (raw.astype(str).str.strip() != "").to_numpy()
        if unreadable.any():
            warn(
                f"{source}: {int(unreadable.sum())} line(s) have a {speed_col!r} value apgeo cannot "
                f"read (e.g. {raw[unreadable].iloc[0]!r}); they get the default speed of their "
                "road type. Give numbers (mph) or OSM values such as '30 mph'",
                stacklevel=4,
            )
    if bad.any():
        kph[bad] = _table_speed_kph(highway[bad], speeds)
    if bad.any() and mode == "drive" and "drive" not in speeds:
        notes.append(
            f"{int(bad.sum())} of {len(gdf)} line(s) without a speed attribute are driven at "
            "the default speed of their road type (lines without a class: "
            f"{speeds['drive:' + GENERIC_HIGHWAY] / MPH_TO_KPH:g} mph)"
        )
    id_values = gdf.index.to_numpy(dtype=object)
    edges = pd.DataFrame(
        {
            "u": p.u,
            "v": p.v,
            "geometry": p.geoms,
            "highway": highway[rows],
            "oneway": oneway[rows],
            "maxspeed": _kph_text(kph)[rows],
            "osmid": id_values[rows],
        }
    )
    return edges, notes


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
    ``endNode``, ``function`` or ``roadFunction``, ``formOfWay``; any case)."""
    return isinstance(gdf, gpd.GeoDataFrame) and _os_columns(gdf) is not None


def os_drive_speed_mph(function: str, form_of_way: str) -> float:
    """Free-flow drive speed (mph) of an OS Open Roads link.

    :data:`OS_FUNCTION_SPEED_MPH` by ``function``; :data:`OS_DUAL_SPEED_MPH` on dual and
    collapsed dual carriageways and :data:`OS_SLIP_SPEED_MPH` on slip roads where listed;
    then capped by :data:`OS_FORM_CAP_MPH` (e.g. 20 mph on roundabouts). Unknown
    functions get :data:`DEFAULT_LINE_SPEED_MPH`.
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


# ---- public loaders ---------------------------------------------------------------------------


def _check_tolerance(snap_tolerance_m: float) -> float:
    try:
        value = float(snap_tolerance_m)
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise ApgeoValueError(
            f"snap_tolerance_m = {snap_tolerance_m!r}: give a distance in metres >= 0 "
            "(e.g. 5.0; 0 joins only ends that coincide)"
        )
    return value


def _finish(
    nodes_xy: np.ndarray,
    node_names: list[Any] | None,
    edges: pd.DataFrame,
    *,
    mode: Mode,
    speeds_kph: Mapping[str, float] | None,
    source: str,
) -> nx.MultiDiGraph:
    used = np.unique(np.concatenate([edges["u"].to_numpy(), edges["v"].to_numpy()]))
    if node_names is not None:
        names = np.empty(len(node_names), dtype=object)
        names[:] = node_names
        edges = edges.assign(u=names[edges["u"].to_numpy()], v=names[edges["v"].to_numpy()])
        index = pd.Index(names[used], dtype=object)
    else:
        index = pd.Index(used.astype(np.int64))
    nodes = pd.DataFrame({"x": nodes_xy[used, 0], "y": nodes_xy[used, 1]}, index=index)
    return network_from_frames(
        nodes,
        edges,
        mode=mode,
        crs=WORKING_CRS,
        speeds_kph=speeds_kph,
        directed=False,
        source=source,
        maxspeed_unit="mph",
    )


def _report(
    G: nx.MultiDiGraph,
    *,
    source: str,
    schema: str,
    mode: Mode,
    n_input: int,
    pieces: _Pieces,
    joins: int,
    splits: int,
    dropped: Counter[str],
    tolerance_m: float,
    notes: list[str],
) -> LineNetworkReport:
    report = LineNetworkReport(
        source=source,
        schema=schema,
        mode=mode,
        n_input_features=n_input,
        n_pieces=len(pieces.geoms),
        n_nodes=G.number_of_nodes(),
        n_edges=G.number_of_edges(),
        n_snapped_joins=joins,
        n_split_junctions=splits,
        dropped=dict(sorted(dropped.items())),
        component_lengths_m=component_lengths_m(G),
        snap_tolerance_m=tolerance_m,
        notes=tuple(notes),
    )
    G.graph["line_report"] = report.summary()
    logger.info("%s", report.summary())
    return report


def network_from_lines(
    path_or_gdf: str | Path | gpd.GeoDataFrame,
    *,
    mode: Mode,
    speeds_kph: Mapping[str, float] | None = None,
    snap_tolerance_m: float = 5.0,
    layer: str | None = None,
    label: str | None = None,
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
    pieces, joins, splits = _generic_topology(geoms, rows, tolerance_m=tolerance_m, dropped=dropped)
    edges, notes = _generic_edges(gdf, pieces, mode=mode, speeds=speeds, source=source)
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
    )
    return G, report


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
) -> tuple[nx.MultiDiGraph, LineNetworkReport]:
    """Load any road-line layer as a mode's network, choosing the reader by its columns.

    ``schema="auto"`` reads OS Open Roads ``RoadLink`` layers (columns ``startNode``,
    ``endNode``, ``function`` / ``roadFunction``, ``formOfWay``) with
    :func:`network_from_os_open_roads` and everything else with
    :func:`network_from_lines`; ``"generic"`` or ``"os_open_roads"`` force one.
    Parameters as for those functions (``snap_tolerance_m`` applies to generic lines).
    """
    if schema not in ("auto", "generic", "os_open_roads"):
        raise ApgeoValueError(f"schema={schema!r}; use 'auto', 'generic' or 'os_open_roads'")
    gdf, source = _read_layer(path, layer=layer, label=label)
    if schema == "os_open_roads" or (schema == "auto" and is_os_open_roads(gdf)):
        return network_from_os_open_roads(gdf, mode=mode, speeds_kph=speeds_kph, label=source)
    return network_from_lines(
        gdf, mode=mode, speeds_kph=speeds_kph, snap_tolerance_m=snap_tolerance_m, label=source
    )


__all__ = [
    "DEFAULT_LINE_SPEED_MPH",
    "GENERIC_HIGHWAY",
    "OS_DUAL_SPEED_MPH",
    "OS_FORM_CAP_MPH",
    "OS_FORM_HIGHWAY",
    "OS_FUNCTION_HIGHWAY",
    "OS_FUNCTION_SPEED_MPH",
    "OS_SLIP_SPEED_MPH",
    "LineNetworkReport",
    "component_lengths_m",
    "is_os_open_roads",
    "load_road_lines",
    "network_from_lines",
    "network_from_os_open_roads",
    "os_drive_speed_mph",
]
