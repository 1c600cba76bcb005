"""Geometry for catchment polygons: edge geometries, the two-way pairing of streets, spatial
tiles, partial edges and buffered unions.
"""

from __future__ import annotations

import math
import threading
import weakref
from collections.abc import Sequence
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from apgeo.routing.travel_times import (
    Direction,
    TravelTimeEngine,
)

_QUAD_SEGS: Final[int] = 8
#: Pieces shorter than this (m) are treated as empty.
_EPS_M: Final[float] = 1e-9
_TWIN_CACHE: weakref.WeakKeyDictionary[TravelTimeEngine, np.ndarray] = weakref.WeakKeyDictionary()
_TILE_CACHE: weakref.WeakKeyDictionary[TravelTimeEngine, _Tiles] = weakref.WeakKeyDictionary()
_TILE_LOCK = threading.Lock()
#: Target number of edges per tile (see :class:`_Tiles`).
_TILE_EDGES: Final[int] = 2_000


# ---- geometry helpers -------------------------------------------------------------------------


def _edge_geometries(engine: TravelTimeEngine) -> tuple[np.ndarray, np.ndarray]:
    """LineStrings of ``engine.edges`` (oriented u -> v) and their lengths.

    Not kept after the call: for a city network they weigh about 100 MB per mode and take
    well under a second to make again.
    """
    G = engine.graph
    edges = engine.edges
    geoms = np.empty(len(edges), dtype=object)
    geoms[:] = [
        G[u][v][k].get("geometry")
        for u, v, k in zip(edges["u"].to_numpy(), edges["v"].to_numpy(), edges["key"].to_numpy())
    ]
    missing = np.array([g is None for g in geoms], dtype=bool)
    if missing.any():
        x = np.array([G.nodes[n]["x"] for n in engine.node_ids], dtype=float)
        y = np.array([G.nodes[n]["y"] for n in engine.node_ids], dtype=float)
        ui = edges["u_index"].to_numpy()[missing]
        vi = edges["v_index"].to_numpy()[missing]
        ends = np.stack([np.column_stack([x[ui], y[ui]]), np.column_stack([x[vi], y[vi]])], axis=1)
        geoms[missing] = shapely.linestrings(ends)
    lengths = np.asarray(shapely.length(geoms), dtype=float)
    return geoms, lengths


def _twins(engine: TravelTimeEngine) -> np.ndarray:
    """For each row of ``engine.edges``, the row of the reverse direction of the same street
    (reversed nodes, same length within 0.5 m + 1 %), or -1; cached per engine.

    A two-way street is two edges with the same geometry: drawing it once halves the work.
    """
    cached = _TWIN_CACHE.get(engine)
    if cached is not None and len(cached) == len(engine.edges):
        return cached
    edges = engine.edges
    n = len(edges)
    table = pd.DataFrame(
        {
            "row": np.arange(n),
            "a": edges["u_index"].to_numpy(),
            "b": edges["v_index"].to_numpy(),
            "length": edges["length_m"].to_numpy(float),
        }
    )
    pairs = table.merge(
        table.rename(columns={"row": "twin", "a": "b", "b": "a", "length": "twin_length"}),
        on=["a", "b"],
    )
    close = (pairs["length"] - pairs["twin_length"]).abs() <= 0.5 + 0.01 * pairs["length"]
    pairs = pairs.loc[close].sort_values(["row", "twin"], kind="stable")
    pairs = pairs.drop_duplicates("row").drop_duplicates("twin")
    pairs = pairs.loc[
        pairs.set_index("row")["twin"].reindex(pairs["twin"]).to_numpy() == pairs["row"].to_numpy()
    ]
    twins = np.full(n, -1, dtype=np.int64)
    twins[pairs["row"].to_numpy()] = pairs["twin"].to_numpy()
    _TWIN_CACHE[engine] = twins
    return twins


class _Tiles:
    """The edges of an engine cut into square tiles of about :data:`_TILE_EDGES` edges.

    When every edge of a tile is wholly reached, the tile's part of the catchment is the
    buffered union of all its streets, the same for every provider and threshold: it is
    built once (per buffer width) and reused, so a large catchment (a 30-minute drive
    reaching most of a city) unions a few hundred tile polygons instead of a hundred
    thousand buffered streets. The union is the same set; only the floating-point noding
    of shared boundaries can differ in the last digits.
    """

    def __init__(self, engine: TravelTimeEngine, twins: np.ndarray) -> None:
        G = engine.graph
        xs = np.array([G.nodes[n]["x"] for n in engine.node_ids], dtype=float)
        ys = np.array([G.nodes[n]["y"] for n in engine.node_ids], dtype=float)
        ui = engine.edges["u_index"].to_numpy()
        vi = engine.edges["v_index"].to_numpy()
        mx, my = (xs[ui] + xs[vi]) / 2, (ys[ui] + ys[vi]) / 2  # the same for both directions
        n = max(len(ui), 1)
        width = max(float(mx.max() - mx.min()), 1.0) if len(ui) else 1.0
        height = max(float(my.max() - my.min()), 1.0) if len(ui) else 1.0
        side = max(math.sqrt(width * height * _TILE_EDGES / n), 1.0)
        cols = np.floor((mx - (mx.min() if len(ui) else 0.0)) / side).astype(np.int64)
        rows = np.floor((my - (my.min() if len(ui) else 0.0)) / side).astype(np.int64)
        self.tile = cols * (int(rows.max(initial=0)) + 1) + rows
        self.n_tiles = int(self.tile.max(initial=-1)) + 1
        row = np.arange(len(ui))
        self.drawn = (twins < 0) | (row < twins)  # a two-way street once
        self.polygons: dict[tuple[int, float], BaseGeometry] = {}

    def last_reached_s(self, end_s: np.ndarray) -> np.ndarray:
        """Per tile, the time at which its last edge is wholly reached (inf: never)."""
        out = np.full(self.n_tiles, -np.inf)
        np.maximum.at(out, self.tile, end_s)
        return out

    def polygon(self, tile: int, width_m: float, geoms: np.ndarray) -> BaseGeometry:
        """The buffered union of every street of ``tile`` (``geoms``: of every edge)."""
        key = (tile, width_m)
        found = self.polygons.get(key)
        if found is None:
            members = np.flatnonzero((self.tile == tile) & self.drawn)
            found = shapely.union_all(shapely.buffer(geoms[members], width_m, quad_segs=_QUAD_SEGS))
            with _TILE_LOCK:
                self.polygons.setdefault(key, found)
        return found


def _tiles(engine: TravelTimeEngine) -> _Tiles:
    with _TILE_LOCK:
        cached = _TILE_CACHE.get(engine)
    if cached is not None and len(cached.tile) == len(engine.edges):
        return cached
    tiles = _Tiles(engine, _twins(engine))
    with _TILE_LOCK:
        return _TILE_CACHE.setdefault(engine, tiles)


def _substrings(geoms: np.ndarray, start_m: np.ndarray, end_m: np.ndarray) -> np.ndarray:
    """Vectorised ``shapely.ops.substring``: the part of each line between two distances.

    Requires ``0 <= start_m < end_m <= length`` for every line.
    """
    n = len(geoms)
    if n == 0:
        return np.empty(0, dtype=object)
    coords, idx = shapely.get_coordinates(geoms, return_index=True)
    step = np.hypot(np.diff(coords[:, 0]), np.diff(coords[:, 1]))
    same = idx[1:] == idx[:-1]
    cum = np.concatenate([[0.0], np.cumsum(np.where(same, step, 0.0))])
    first = np.concatenate([[True], ~same])
    local = cum - cum[first][idx]
    inner = (local > start_m[idx]) & (local < end_m[idx])
    p0 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, start_m))
    p1 = shapely.get_coordinates(shapely.line_interpolate_point(geoms, end_m))
    line = np.arange(n)
    xy = np.concatenate([p0, coords[inner], p1])
    which = np.concatenate([line, idx[inner], line])
    along = np.concatenate([np.full(n, -np.inf), local[inner], np.full(n, np.inf)])
    order = np.lexsort((along, which))
    return np.asarray(shapely.linestrings(xy[order], indices=which[order]), dtype=object)


def _clean(geom: BaseGeometry, min_area_m2: float) -> BaseGeometry:
    """Fill holes and drop detached pieces smaller than ``min_area_m2`` (never the largest)."""
    parts = shapely.get_parts(geom)
    parts = parts[shapely.get_type_id(parts) == 3]  # polygons only
    if len(parts) == 0:
        return shapely.Polygon()
    areas = shapely.area(parts)
    keep = areas >= min_area_m2
    keep[int(np.argmax(areas))] = True
    cleaned = []
    for part in parts[keep]:
        rings = shapely.get_rings(part)
        holes = rings[1:]
        if len(holes):
            big = shapely.area(shapely.polygons(holes)) >= min_area_m2
            if not big.all():
                part = shapely.polygons(rings[0], holes=holes[big])
        cleaned.append(part)
    if len(cleaned) == 1:
        return shapely.make_valid(cleaned[0]) if not cleaned[0].is_valid else cleaned[0]
    return shapely.union_all(np.asarray(cleaned, dtype=object))


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Only the polygonal part, as a Polygon or MultiPolygon."""
    parts = shapely.get_parts(geom)
    polys = parts[np.isin(shapely.get_type_id(parts), (3, 6))]
    if len(polys) == 0:
        return shapely.Polygon()
    out = polys[0] if len(polys) == 1 else shapely.union_all(polys)
    if out.geom_type == "GeometryCollection":  # pragma: no cover - defensive
        return shapely.multipolygons(shapely.get_parts(out))
    return out


def _buffer_union(
    pieces: list[BaseGeometry], buffer_m: float, extra: Sequence[BaseGeometry] = ()
) -> BaseGeometry:
    """Union of buffered pieces (buffer each, then union: much faster than buffering a multi)
    and of ``extra`` polygons (already buffered)."""
    if not pieces and not extra:
        return shapely.Polygon()
    arr = np.empty(len(pieces), dtype=object)
    arr[:] = pieces
    buffered = shapely.buffer(arr, buffer_m, quad_segs=_QUAD_SEGS)
    if len(extra):
        more = np.empty(len(extra), dtype=object)
        more[:] = list(extra)
        buffered = np.concatenate([buffered, more])
    return shapely.union_all(buffered)


def _reach_m(
    remaining_s: np.ndarray | float, time_s: np.ndarray | float, length_m: np.ndarray | float
) -> Any:
    """Distance along an edge covered in ``remaining_s`` (capped at its length; inf time: 0)."""
    remaining = np.maximum(np.asarray(remaining_s, dtype=float), 0.0)
    t = np.asarray(time_s, dtype=float)
    L = np.asarray(length_m, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        frac = np.where(t > 0, remaining / t, np.where(remaining > 0, 1.0, 0.0))
    frac = np.where(np.isfinite(t), np.clip(frac, 0.0, 1.0), 0.0)
    return frac * L


class _Source:
    """A snapped provider: its point, access leg and own street."""

    def __init__(self, engine: TravelTimeEngine, row: pd.Series, point: BaseGeometry) -> None:
        self.point = point
        self.access_s = float(row["access_time_s"])
        self.fwd_s = float(row["edge_forward_s"])
        self.rev_s = float(row["edge_reverse_s"])
        self.has_edge = row["key"] != -1 and row["u"] != row["v"]
        self.edge: BaseGeometry | None = None
        self.position_m = float(row["position_m"])
        if self.has_edge:
            data = engine.graph[row["u"]][row["v"]][row["key"]]
            geom = data.get("geometry")
            if geom is None:
                a, b = engine.graph.nodes[row["u"]], engine.graph.nodes[row["v"]]
                geom = shapely.LineString([(a["x"], a["y"]), (b["x"], b["y"])])
            self.edge = geom
            self.snapped = shapely.line_interpolate_point(geom, self.position_m)
        else:
            node = engine.graph.nodes[row["u"]]
            self.snapped = shapely.Point(node["x"], node["y"])
        self.access_m = float(shapely.distance(point, self.snapped))

    def pieces(self, limit_s: float, direction: Direction) -> list[BaseGeometry]:
        """Access leg and own-street part reached within ``limit_s``; always the point."""
        out: list[BaseGeometry] = [self.point]
        if self.access_m > _EPS_M:
            share = 1.0 if self.access_s <= 0 else min(1.0, limit_s / self.access_s)
            leg = shapely.LineString([self.point, self.snapped])
            if share < 1:
                leg = shapely.LineString([self.point, leg.interpolate(share, normalized=True)])
            out.append(leg)
        if self.edge is None or limit_s <= self.access_s:
            return out
        length = float(self.edge.length)
        remaining = limit_s - self.access_s
        ahead = float(_reach_m(remaining, self.fwd_s, length))  # travelling u -> v
        back = float(_reach_m(remaining, self.rev_s, length))  # travelling v -> u
        if direction == "from":
            start, end = self.position_m - back, self.position_m + ahead
        else:  # arriving at the point: forward travel comes from before it
            start, end = self.position_m - ahead, self.position_m + back
        start, end = max(0.0, start), min(length, end)
        if end - start > _EPS_M:
            out.append(
                _substrings(
                    np.array([self.edge], dtype=object), np.array([start]), np.array([end])
                )[0]
            )
        return out


def _sources(
    engine: TravelTimeEngine, snapped: pd.DataFrame, points: gpd.GeoDataFrame
) -> list[_Source]:
    geoms = points.geometry.to_numpy()
    return [_Source(engine, row, geoms[i]) for i, (_, row) in enumerate(snapped.iterrows())]
