"""What every road-line source shares: reading a line layer (Shapefile, GeoPackage, GeoJSON)
and checking its CRS, attributes to tags and speeds, building the network through
:func:`apgeo.network.arrays.network_from_frames`, and the :class:`LineNetworkReport` of what
was joined, split and dropped.
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

from apgeo._errors import ApgeoValueError, CRSError, DataFileNotFoundError, NetworkError
from apgeo._log import logger, warn
from apgeo.network.arrays import network_from_frames
from apgeo.network.modes import (
    _TAG_COLUMNS,
    DEFAULT_DRIVE_SPEEDS_MPH,
    FALLBACK_DRIVE_SPEED_MPH,
    MPH_TO_KPH,
    Mode,
    parse_maxspeed_kph,
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
_LINKABLE = frozenset({"motorway", "trunk", "primary", "secondary", "tertiary"})
_NO_ONEWAY_NOTE = (
    "OS Open Roads has no one-way information: every link is two-way for every mode, so "
    "drive times ignore one-way streets (optimistic where they force a detour)"
)
_TRUE = frozenset({"yes", "true", "1", "t", "y", "forward", "ft"})
_REVERSE = frozenset({"-1", "reverse", "backward", "tf"})
_FALSE = frozenset({"no", "false", "0", "f", "n", "both", "", "nan", "none"})

Schema = Literal["auto", "generic", "os_open_roads"]
#: How the pieces of a generic line layer are joined (see :mod:`apgeo.network.lines`).
Join = Literal["auto", "shared_vertices", "proximity"]
#: OSM tags read from a line layer's columns, else from GDAL's ``other_tags`` hstore string,
#: and passed to the mode rules (:mod:`apgeo.network.modes`) as the PBF path passes them.
_ACCESS_TAGS = tuple(t for t in _TAG_COLUMNS if t not in ("highway", "oneway", "maxspeed"))
#: ``"key"=>"value"`` pairs of an hstore string (GDAL's ``other_tags``), escapes allowed.
_HSTORE_PAIR = re.compile(r'"((?:[^"\\]|\\.)*)"\s*=>\s*"((?:[^"\\]|\\.)*)"')


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
    join
        How the pieces were joined: ``"shared_vertices"`` (ways meet where they share a
        vertex, as OSM ways share nodes), ``"proximity"`` (ends snapped within the
        tolerance, T-junctions split) or ``"topology"`` (OS Open Roads node ids).
    join_reason
        Why that join was used (the ``join=`` argument, or what ``"auto"`` measured).
    n_shared_vertices
        Points where two or more ways share a vertex (shared-vertex join).
    n_shared_vertex_nodes
        Of those, points where the network has a node joining two or more ways.
    n_level_separated
        Shared points where ways on different levels (``layer``, ``bridge``, ``tunnel``)
        pass without a junction: the network has one node per level there.
    mode_dropped_m
        Length of road (metres, each piece once) the mode's rules left out, by the tag
        that excluded it (e.g. ``"foot=no"``, ``"access=private"``, ``"highway=motorway"``).
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
    join: str = "proximity"
    join_reason: str = ""
    n_shared_vertices: int = 0
    n_shared_vertex_nodes: int = 0
    n_level_separated: int = 0
    mode_dropped_m: dict[str, float] = field(default_factory=dict)

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
        """A few readable lines for logs and reports.

        Returns
        -------
        str
            Newline-separated lines: features, pieces, nodes and edges; how lines were joined
            and what was dropped; what the mode left out; length and connected components;
            notes.
        """
        dropped = ", ".join(f"{n} {why}" for why, n in sorted(self.dropped.items())) or "none"
        lines = [
            f"{self.source} ({self.schema}, {self.mode}): {self.n_input_features} feature(s) -> "
            f"{self.n_pieces} piece(s), {self.n_nodes} node(s), {self.n_edges} directed edge(s)",
        ]
        if self.join == "shared_vertices":
            lines.append(
                f"joined at shared vertices ({self.join_reason}): {self.n_shared_vertex_nodes} "
                f"of {self.n_shared_vertices} shared point(s) are junctions, "
                f"{self.n_level_separated} separate levels (layer / bridge / tunnel); "
                f"dropped: {dropped}"
            )
        else:
            lines.append(
                (f"joined by proximity ({self.join_reason}): " if self.join_reason else "")
                + f"joins within {self.snap_tolerance_m:g} m: {self.n_snapped_joins}; "
                f"T-junction splits: {self.n_split_junctions}; dropped: {dropped}"
            )
        if self.mode_dropped_m:
            by_tag = ", ".join(
                f"{m / 1000:.1f} km {why}"
                for why, m in sorted(self.mode_dropped_m.items(), key=lambda kv: (-kv[1], kv[0]))
            )
            lines.append(f"left out for {self.mode}: {by_tag}")
        lines += [
            f"{self.total_length_m / 1000:.1f} km of road in {self.n_components} connected "
            f"component(s); the largest holds {self.largest_component_share:.1%} of the length",
        ]
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)


def _piece(u: Any, v: Any, data: Mapping[str, Any]) -> tuple[tuple[Any, ...], bool]:
    """The piece of road a directed edge runs along (its end nodes, source id, length to the
    centimetre and line, in either direction) and whether the edge runs along it forwards."""
    geometry = data.get("geometry")
    if geometry is not None:
        coords = [tuple(c) for c in shapely.get_coordinates(geometry).tolist()]
        back = coords[::-1]
        forward = coords <= back
        shape: tuple[Any, ...] | None = tuple(coords if forward else back)
    else:
        forward, shape = str(u) <= str(v), None
    a, b = (u, v) if str(u) <= str(v) else (v, u)
    return (a, b, str(data.get("osmid")), round(float(data.get("length_m", 0.0)), 2), shape), forward


def component_lengths_m(G: nx.MultiDiGraph) -> tuple[float, ...]:
    """Road length (metres) of every weakly connected component of ``G``, longest first.

    Each piece of road counts once however many directed edges it has: an edge and its
    reverse (the two directions of a street) are recognised by their end nodes, source id
    (``osmid``), length (to the centimetre) and line (the same points, reversed). Two pieces
    that share ends, id and length but not their line (the halves of a roundabout split at
    two nodes) are two pieces; so are pieces given twice in one direction.

    Parameters
    ----------
    G
        A network whose edges carry ``length_m``.

    Returns
    -------
    tuple of float
        Length of each weakly connected component in metres, longest first.
    """
    label: dict[Any, int] = {}
    for i, nodes in enumerate(nx.weakly_connected_components(G)):
        for n in nodes:
            label[n] = i
    totals = np.zeros(len(set(label.values())) if label else 0)
    runs: dict[tuple[Any, ...], list[float]] = {}  # piece -> [forwards, backwards, length]
    for u, v, data in G.edges(data=True):
        piece, forward = _piece(u, v, data)
        run = runs.setdefault(piece, [0, 0, float(data.get("length_m", 0.0))])
        run[0 if forward else 1] += 1
    for piece, (n_forward, n_backward, length) in runs.items():
        totals[label[piece[0]]] += max(n_forward, n_backward) * length
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
            stacklevel=5,
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


def is_osm_layer(gdf: pd.DataFrame) -> bool:
    """True when a line layer comes from OpenStreetMap: it has an ``osm_id`` (or ``osmid``)
    and a ``highway`` column, as GDAL's and osmextract's ``lines`` layers do.

    Parameters
    ----------
    gdf
        A line layer.

    Returns
    -------
    bool
        Whether it has both columns.
    """
    return _find_column(gdf, "osm_id", "osmid") is not None and _find_column(gdf, "highway") is not None


def _parse_hstore(text: object) -> dict[str, str]:
    """The tags of a GDAL ``other_tags`` string (``"foot"=>"no","layer"=>"1"``)."""
    if not isinstance(text, str) or "=>" not in text:
        return {}
    return {
        k.replace('\\"', '"'): v.replace('\\"', '"') for k, v in _HSTORE_PAIR.findall(text)
    }


class _Tags:
    """OSM tags of a line layer's rows: a column of the tag's name (any case), else the
    tag inside ``other_tags`` (parsed once, on first use)."""

    def __init__(self, gdf: gpd.GeoDataFrame) -> None:
        self._gdf = gdf
        self._other_col = _find_column(gdf, "other_tags")
        self._parsed: list[dict[str, str]] | None = None

    def get(self, key: str) -> np.ndarray | None:
        """Values (object array, NaN where absent), or None when no row can hold the tag."""
        column = _find_column(self._gdf, key)
        own = self._gdf[column].to_numpy(dtype=object) if column is not None else None
        if self._other_col is None:
            return own
        if self._parsed is None:
            self._parsed = [_parse_hstore(t) for t in self._gdf[self._other_col].to_numpy()]
        other = np.array([p.get(key, np.nan) for p in self._parsed], dtype=object)
        if own is None:
            return other if pd.notna(other).any() else None
        return np.where(pd.notna(own), own, other)


def _kph_text(kph: np.ndarray) -> np.ndarray:
    return np.array([f"{k:.6f} km/h" for k in kph], dtype=object)


def _table_speed_kph(highway: np.ndarray, speeds: Mapping[str, float]) -> np.ndarray:
    """Default drive speed (km/h) of each highway type (``drive:<type>`` entries)."""
    fallback = FALLBACK_DRIVE_SPEED_MPH * MPH_TO_KPH
    return np.array([speeds.get(f"drive:{h}", fallback) for h in highway], dtype=float)


def _or(values: np.ndarray | None, default: np.ndarray) -> np.ndarray:
    return default if values is None else values


def _generic_oneway_speed(
    gdf: gpd.GeoDataFrame,
    highway: np.ndarray,
    *,
    mode: Mode,
    speeds: Mapping[str, float],
    source: str,
    notes: list[str],
) -> tuple[np.ndarray, np.ndarray]:
    """One-way tags and speeds (``"<kph> km/h"`` text) of a generic (non-OSM) layer."""
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
                stacklevel=5,
            )
    if bad.any():
        kph[bad] = _table_speed_kph(highway[bad], speeds)
    if bad.any() and mode == "drive" and "drive" not in speeds:
        notes.append(
            f"{int(bad.sum())} of {len(gdf)} line(s) without a speed attribute are driven at "
            "the default speed of their road type (lines without a class: "
            f"{speeds['drive:' + GENERIC_HIGHWAY] / MPH_TO_KPH:g} mph)"
        )
    return oneway, _kph_text(kph)


def _generic_edges(
    gdf: gpd.GeoDataFrame, p: _Pieces, *, mode: Mode, speeds: Mapping[str, float], source: str
) -> tuple[pd.DataFrame, list[str]]:
    notes: list[str] = []
    rows = p.rows
    osm = is_osm_layer(gdf)
    highway_col = _find_column(gdf, "highway")
    if highway_col is not None:
        # a blank highway is a road of unknown class, except in an OSM layer, where it is
        # not a street (a river, railway or boundary) and no mode may use it
        blank = np.nan if osm else GENERIC_HIGHWAY
        highway = (
            gdf[highway_col]
            .map(lambda x: blank if pd.isna(x) or not str(x).strip() else str(x).strip().lower())
            .to_numpy(dtype=object)
        )
    else:
        highway = np.full(len(gdf), GENERIC_HIGHWAY, dtype=object)
    tags = _Tags(gdf)
    if osm:
        # OSM tags as they are: the PBF path's rules read them (implied one-way on
        # roundabouts and motorways, maxspeed parsed, missing speeds imputed by type)
        absent = np.full(len(gdf), np.nan, dtype=object)
        oneway = _or(tags.get("oneway"), absent)
        maxspeed = _or(tags.get("maxspeed"), absent)
    else:
        oneway, maxspeed = _generic_oneway_speed(
            gdf, highway, mode=mode, speeds=speeds, source=source, notes=notes
        )
    id_col = _find_column(gdf, "osm_id", "osmid") if osm else None
    id_values = (gdf.index if id_col is None else gdf[id_col]).to_numpy(dtype=object)
    edges = pd.DataFrame(
        {
            "u": p.u,
            "v": p.v,
            "geometry": p.geoms,
            "highway": highway[rows],
            "oneway": oneway[rows],
            "maxspeed": maxspeed[rows],
            "osmid": id_values[rows],
        }
    )
    found = []
    for key in _ACCESS_TAGS:
        values = tags.get(key)
        if values is not None:
            edges[key] = values[rows]
            found.append(key)
    if found:
        logger.info("%s: OSM tags applied to the mode rules: %s", source, ", ".join(found))
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
    **join_info: Any,
) -> LineNetworkReport:
    """The report (``join_info``: the join fields of :class:`LineNetworkReport`), logged."""
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
        **join_info,
    )
    G.graph["line_report"] = report.summary()
    logger.info("%s", report.summary())
    return report


__all__ = [
    "DEFAULT_LINE_SPEED_MPH",
    "GENERIC_HIGHWAY",
    "LineNetworkReport",
    "component_lengths_m",
    "is_osm_layer",
]
