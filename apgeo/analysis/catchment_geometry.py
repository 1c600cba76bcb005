"""Geometry for catchment polygons: the building blocks kept with each engine (edge
geometries as flat arrays, the two-way pairing of streets, edges by start node, spatial
tiles), partial edges and buffered unions.
"""

from __future__ import annotations

import math
import os
import threading
import weakref
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from apgeo.routing.edge_geometry import EdgeGeometry, _ranges
from apgeo.routing.travel_times import (
    Direction,
    TravelTimeEngine,
)

_QUAD_SEGS: Final[int] = 8
#: Pieces shorter than this (m) are treated as empty.
_EPS_M: Final[float] = 1e-9
_BLOCK_CACHE: weakref.WeakKeyDictionary[TravelTimeEngine, _Blocks] = weakref.WeakKeyDictionary()
_TILE_LOCK = threading.Lock()
#: Target number of edges per tile (see :class:`_Blocks`).
_TILE_EDGES: Final[int] = 100
#: Most threads drawing tile polygons at once.
_TILE_THREADS: Final[int] = 4
_EMPTY: Final[BaseGeometry] = shapely.Polygon()
#: Unions of more buffered pieces than this are split in two (see :func:`_split_union`).
_SPLIT_PIECES: Final[int] = 3_000


#: How the two-way pairing of streets is found: ``(geometry, u_index, v_index) -> twins``
#: (:func:`_match_twins`, or the same read back from a cache).
TwinMatcher = Callable[[EdgeGeometry, np.ndarray, np.ndarray], np.ndarray]


# ---- building blocks kept with the engine -----------------------------------------------------


class _Blocks:
    """What every catchment of an engine shares, built once per engine (weakly cached):

    * the edge geometries as flat coordinate arrays (:meth:`TravelTimeEngine.edge_geometry`);
    * the two-way pairing of streets (:attr:`twins`), matched by geometry;
    * the edges sorted by start node for each direction, so the edges a catchment can
      reach are found from the nodes it reaches, without a pass over the whole network;
    * the edges cut into square tiles of about :data:`_TILE_EDGES` edges.

    When every edge of a tile is wholly reached, the tile's part of the catchment is the
    buffered union of all its streets, the same for every provider and threshold: it is
    built once (per buffer width) and reused, so a large catchment (a 30-minute drive
    reaching most of a city) unions tile polygons instead of a hundred thousand buffered
    streets. Small tiles keep few the streets drawn one by one (those of the tiles a
    catchment only partly reaches), and cost less to build than large ones (a union's
    cost grows faster than its number of pieces). The union is the same set; only the
    floating-point noding of shared boundaries can differ in the last digits.

    Tiles are grouped in a quadtree (2 x 2 tiles, 4 x 4 tiles, ...): a group whose tiles
    are all wholly reached contributes one polygon, the union of its four quarters, built
    once and kept like the tiles (keys below zero). A catchment reaching most of a city
    then adds a handful of group polygons, whose vertices lie on their outline only,
    rather than hundreds of overlapping tile polygons. Every polygon is built by one
    thread only (others needing it wait for it), so concurrent catchments share the work.
    """

    def __init__(self, engine: TravelTimeEngine, match_twins: TwinMatcher | None = None) -> None:
        self.geometry = engine.edge_geometry()
        edges = engine.edges
        self.travel_time_s = edges["travel_time_s"].to_numpy(float)
        self.u_index = edges["u_index"].to_numpy()
        self.v_index = edges["v_index"].to_numpy()
        self.key = edges["key"].to_numpy()
        self.n_nodes = engine.n_nodes
        self.twins = (match_twins or _match_twins)(self.geometry, self.u_index, self.v_index)
        row = np.arange(len(self.u_index))
        self.drawn = (self.twins < 0) | (row < self.twins)  # a two-way street once
        self._by_start: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._tiles()
        self.polygons: dict[tuple[int, float], BaseGeometry] = {}
        self._pending: dict[tuple[int, float], Future[BaseGeometry]] = {}
        #: Polygons read from a cache as WKB, decoded when first needed.
        self.stored: dict[tuple[int, float], bytes] = {}
        #: How many polygons were built here (not decoded): a cache has something to add.
        self.built = 0

    def _tiles(self) -> None:
        xs, ys = self.geometry.x, self.geometry.y
        ui, vi = self.u_index, self.v_index
        mx, my = (xs[ui] + xs[vi]) / 2, (ys[ui] + ys[vi]) / 2  # the same for both directions
        n = max(len(ui), 1)
        width = max(float(mx.max() - mx.min()), 1.0) if len(ui) else 1.0
        height = max(float(my.max() - my.min()), 1.0) if len(ui) else 1.0
        side = max(math.sqrt(width * height * _TILE_EDGES / n), 1.0)
        cols = np.floor((mx - (mx.min() if len(ui) else 0.0)) / side).astype(np.int64)
        rows = np.floor((my - (my.min() if len(ui) else 0.0)) / side).astype(np.int64)
        self.n_rows = int(rows.max(initial=0)) + 1
        self.n_cols = int(cols.max(initial=0)) + 1
        self.tile = cols * self.n_rows + rows
        self.n_tiles = int(self.tile.max(initial=-1)) + 1
        #: Side (tiles) of the quadtree's square and its number of levels above the tiles.
        self.levels = max(0, math.ceil(math.log2(max(self.n_cols, self.n_rows))))
        self.side = 1 << self.levels
        self.tile_count = np.bincount(self.tile, minlength=self.n_tiles)
        members = np.flatnonzero(self.drawn)
        order = np.argsort(self.tile[members], kind="stable")
        self._members = members[order]
        self._member_ptr = np.zeros(self.n_tiles + 1, dtype=np.int64)
        np.cumsum(
            np.bincount(self.tile[members], minlength=self.n_tiles), out=self._member_ptr[1:]
        )

    def start_index(self, direction: Direction) -> np.ndarray:
        """Node row where travel along each edge starts (``"to"``: its far end)."""
        return self.u_index if direction == "from" else self.v_index

    def _start_order(self, direction: Direction) -> tuple[np.ndarray, np.ndarray]:
        with _TILE_LOCK:
            found = self._by_start.get(direction)
        if found is None:
            start = self.start_index(direction)
            order = np.argsort(start, kind="stable")
            ptr = np.zeros(self.n_nodes + 1, dtype=np.int64)
            np.cumsum(np.bincount(start, minlength=self.n_nodes), out=ptr[1:])
            found = (order, ptr)
            with _TILE_LOCK:
                self._by_start.setdefault(direction, found)
        return found

    def candidates(self, times_s: np.ndarray, limit_s: float, direction: Direction) -> np.ndarray:
        """Rows (ascending) of the edges whose start is reached within ``limit_s``."""
        order, ptr = self._start_order(direction)
        nodes = np.flatnonzero(times_s <= limit_s)
        rows = order[_ranges(ptr[nodes], ptr[nodes + 1] - ptr[nodes])]
        rows.sort()
        return rows

    def edge_row(self, u_index: int, v_index: int, key: object) -> int:
        """Row of the edge ``u -> v`` with ``key`` (-1 when absent)."""
        order, ptr = self._start_order("from")
        rows = order[ptr[u_index] : ptr[u_index + 1]]
        for r in rows.tolist():
            if self.v_index[r] == v_index and self.key[r] == key:
                return int(r)
        return -1

    def last_reached_s(self, rows: np.ndarray, end_s: np.ndarray) -> np.ndarray:
        """Per tile, the time at which its last edge is wholly reached (inf: never), from
        the candidate ``rows`` (every edge not among them is never wholly reached)."""
        tile = self.tile[rows]
        count = np.bincount(tile, minlength=self.n_tiles)
        last = np.full(self.n_tiles, -np.inf)
        np.maximum.at(last, tile, end_s)
        out = np.where(count == self.tile_count, last, np.inf)
        return out

    def polygon(self, tile: int, width_m: float) -> BaseGeometry:
        """The buffered union of every street of ``tile``."""

        def build() -> BaseGeometry:
            members = self._members[self._member_ptr[tile] : self._member_ptr[tile + 1]]
            geoms = self.geometry.lines(members)
            return shapely.union_all(shapely.buffer(geoms, width_m, quad_segs=_QUAD_SEGS))

        return self._once((int(tile), width_m), build)

    def _once(self, key: tuple[int, float], build: Callable[[], BaseGeometry]) -> BaseGeometry:
        """The polygon kept under ``key``, built by the first thread asking for it (the
        others wait for that result); a failed build is not kept."""
        with _TILE_LOCK:
            found = self.polygons.get(key)
            if found is not None:
                return found
            pending = self._pending.get(key)
            if pending is None:
                mine: Future[BaseGeometry] = Future()
                self._pending[key] = mine
        if pending is not None:
            return pending.result()
        built: list[bool] = []

        def build_counted() -> BaseGeometry:
            built.append(True)
            return build()

        try:
            geom = _from_stored(self.stored.get(key), build_counted)
        except BaseException as exc:
            with _TILE_LOCK:
                del self._pending[key]
            mine.set_exception(exc)
            raise
        with _TILE_LOCK:
            self.polygons.setdefault(key, geom)
            del self._pending[key]
            self.built += len(built)
        mine.set_result(geom)
        return geom

    def known(self, key: tuple[int, float]) -> bool:
        """Whether the polygon under ``key`` is built or kept from a cache."""
        return key in self.polygons or key in self.stored

    def _ensure_tiles(self, tiles: list[int], width_m: float) -> None:
        """Build the polygons of ``tiles`` neither built nor kept from a cache, on several
        threads (GEOS releases the GIL); tiles another thread is building are waited for.
        Kept ones are decoded when first used."""
        with _TILE_LOCK:
            missing = [t for t in tiles if not self.known((t, width_m))]
        workers = min(len(missing) // 2, os.cpu_count() or 1, _TILE_THREADS)
        if workers > 1:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                list(pool.map(lambda t: self.polygon(t, width_m), missing))
        else:
            for t in missing:
                self.polygon(t, width_m)

    def done_pyramid(self, tile_done_s: np.ndarray) -> list[np.ndarray]:
        """Per quadtree level (0: tiles), the time at which each group of tiles is wholly
        reached, as ``(side, side)`` arrays indexed by column and row (places without a
        tile: ``-inf``)."""
        grid = np.full(self.n_cols * self.n_rows, -np.inf)
        grid[: self.n_tiles] = tile_done_s
        level = np.full((self.side, self.side), -np.inf)
        level[: self.n_cols, : self.n_rows] = grid.reshape(self.n_cols, self.n_rows)
        out = [level]
        for _ in range(self.levels):
            n = level.shape[0] // 2
            level = level.reshape(n, 2, n, 2).max(axis=(1, 3))
            out.append(level)
        return out

    def reached_groups(
        self, pyramid: list[np.ndarray], limit_s: float, before_s: float
    ) -> list[tuple[int, int, int]]:
        """The largest quadtree groups wholly reached within ``limit_s`` that were not
        wholly reached within ``before_s``, as ``(level, column, row)``, largest first."""
        out: list[tuple[int, int, int]] = []
        taken = np.zeros((1, 1), dtype=bool)
        for level in range(self.levels, -1, -1):
            done = pyramid[level]
            if level < self.levels:
                taken = np.repeat(np.repeat(taken, 2, axis=0), 2, axis=1)
            pick = (done <= limit_s) & ~taken
            for col, row in np.argwhere(pick & (done > before_s)).tolist():
                out.append((level, col, row))
            taken |= pick
        return out

    def group_polygons(
        self, groups: list[tuple[int, int, int]], width_m: float
    ) -> list[BaseGeometry]:
        """The polygons of quadtree ``groups`` (see :meth:`reached_groups`). The tiles of
        groups not known yet are built first, together, on several threads."""
        tiles: set[int] = set()
        for level, col, row in groups:
            self._tiles_to_build(level, col, row, width_m, tiles)
        if tiles:
            self._ensure_tiles(sorted(tiles), width_m)
        return [self._group(level, col, row, width_m) for level, col, row in groups]

    def _tiles_to_build(self, level: int, col: int, row: int, width_m: float, out: set[int]) -> None:
        """Add to ``out`` the tiles a group's polygon needs: none when the group (or the
        part of it below) is already built or kept from a cache."""
        span = 1 << level
        if col * span >= self.n_cols or row * span >= self.n_rows:
            return
        if level == 0:
            tile = col * self.n_rows + row
            if tile < self.n_tiles:
                out.add(tile)
            return
        if self.known((self._group_code(level, col, row), width_m)):
            return
        for dc in (0, 1):
            for dr in (0, 1):
                self._tiles_to_build(level - 1, 2 * col + dc, 2 * row + dr, width_m, out)

    def _group_code(self, level: int, col: int, row: int) -> int:
        """The key of a group's polygon (below zero, apart from the tiles')."""
        return -(1 + (level * self.side + col) * self.side + row)

    def _group(self, level: int, col: int, row: int, width_m: float) -> BaseGeometry:
        span = 1 << level
        if col * span >= self.n_cols or row * span >= self.n_rows:
            return _EMPTY
        if level == 0:
            tile = col * self.n_rows + row
            return self.polygon(tile, width_m) if tile < self.n_tiles else _EMPTY

        def build() -> BaseGeometry:
            quarters = [
                self._group(level - 1, 2 * col + dc, 2 * row + dr, width_m)
                for dc in (0, 1)
                for dr in (0, 1)
            ]
            return shapely.union_all(np.asarray(quarters, dtype=object))

        return self._once((self._group_code(level, col, row), width_m), build)


def _from_stored(raw: bytes | None, build: Callable[[], BaseGeometry]) -> BaseGeometry:
    """The polygon decoded from ``raw`` (WKB), or built when there is none or it is damaged."""
    if raw is not None:
        try:
            geom = shapely.from_wkb(raw)
        except Exception:  # a damaged cache entry is a miss
            geom = None
        if isinstance(geom, BaseGeometry):
            return geom
    return build()


def _match_twins(geometry: EdgeGeometry, u_index: np.ndarray, v_index: np.ndarray) -> np.ndarray:
    """For each edge, the row of the reverse direction of the same street (reversed nodes
    and the same vertices in reverse order), or -1. A two-way street is two edges with the
    same geometry: drawing it once halves the work."""
    n = len(u_index)
    twins = np.full(n, -1, dtype=np.int64)
    if n == 0:
        return twins
    u = np.asarray(u_index, dtype=np.int64)
    v = np.asarray(v_index, dtype=np.int64)
    base = int(max(u.max(), v.max())) + 1
    forward, backward = u * base + v, v * base + u
    order = np.argsort(forward, kind="stable")
    ranked = forward[order]
    lo = np.searchsorted(ranked, backward, side="left")
    count = np.searchsorted(ranked, backward, side="right") - lo
    rows = np.repeat(np.arange(n, dtype=np.int64), count)  # every (row, reversed row) pair
    twin = order[_ranges(lo, count)]
    same = geometry.same_reversed(rows, twin)
    rows, twin = rows[same], twin[same]
    by_row = np.lexsort((twin, rows))
    rows, twin = rows[by_row], twin[by_row]
    first = np.unique(rows, return_index=True)[1]  # a row's first twin
    rows, twin = rows[first], twin[first]
    first = np.sort(np.unique(twin, return_index=True)[1])  # a twin taken once
    rows, twin = rows[first], twin[first]
    partner = np.full(n, -1, dtype=np.int64)
    partner[rows] = twin
    mutual = partner[twin] == rows
    twins[rows[mutual]] = twin[mutual]
    return twins


def _blocks(engine: TravelTimeEngine, match_twins: TwinMatcher | None = None) -> _Blocks:
    """The engine's catchment building blocks, built on first use and kept with it
    (``match_twins``: how the two-way pairing is found when they are built, by default
    :func:`_match_twins`)."""
    with _TILE_LOCK:
        cached = _BLOCK_CACHE.get(engine)
    if cached is not None and len(cached.tile) == len(engine.edges):
        return cached
    blocks = _Blocks(engine, match_twins)
    with _TILE_LOCK:
        return _BLOCK_CACHE.setdefault(engine, blocks)


def _edge_geometries(engine: TravelTimeEngine) -> tuple[np.ndarray, np.ndarray]:
    """LineStrings of every row of ``engine.edges`` (oriented u -> v) and their lengths.

    Not kept after the call: for a city network they weigh about 100 MB per mode.
    """
    geoms = _blocks(engine).geometry.lines(np.arange(len(engine.edges)))
    return geoms, np.asarray(shapely.length(geoms), dtype=float)


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
    buffered = _split_union(shapely.buffer(arr, buffer_m, quad_segs=_QUAD_SEGS))
    more = np.empty(len(extra) + 1, dtype=object)
    more[:-1] = list(extra)
    more[-1] = buffered
    return shapely.union_all(more)


def _split_union(geoms: np.ndarray) -> BaseGeometry:
    """``union_all`` of many polygons, split in two spatial halves (across the longer side
    of their extent) while more than :data:`_SPLIT_PIECES`, the halves unioned on two
    threads. The split does not depend on the number of threads, so neither does the
    result."""
    n = len(geoms)
    if n <= _SPLIT_PIECES:
        return shapely.union_all(geoms)
    box = shapely.bounds(geoms)
    cx, cy = box[:, 0] + box[:, 2], box[:, 1] + box[:, 3]
    along = cx if np.ptp(cx) >= np.ptp(cy) else cy
    order = np.argsort(along, kind="stable")
    halves = [geoms[np.sort(order[: n // 2])], geoms[np.sort(order[n // 2 :])]]
    with ThreadPoolExecutor(max_workers=2) as pool:
        parts = list(pool.map(_split_union, halves))
    return shapely.union_all(np.asarray(parts, dtype=object))


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

    def __init__(
        self, engine: TravelTimeEngine, blocks: _Blocks, row: pd.Series, point: BaseGeometry
    ) -> None:
        self.point = point
        self.access_s = float(row["access_time_s"])
        self.fwd_s = float(row["edge_forward_s"])
        self.rev_s = float(row["edge_reverse_s"])
        self.has_edge = row["key"] != -1 and row["u"] != row["v"]
        self.edge: BaseGeometry | None = None
        self.position_m = float(row["position_m"])
        u, v = engine.node_index[row["u"]], engine.node_index[row["v"]]
        edge_row = blocks.edge_row(u, v, row["key"]) if self.has_edge else -1
        if edge_row >= 0:
            geom = blocks.geometry.lines(np.array([edge_row]))[0]
            self.edge = geom
            self.snapped = shapely.line_interpolate_point(geom, self.position_m)
        else:
            self.has_edge = False
            self.snapped = shapely.Point(blocks.geometry.x[u], blocks.geometry.y[u])
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
    blocks = _blocks(engine)
    return [
        _Source(engine, blocks, row, geoms[i]) for i, (_, row) in enumerate(snapped.iterrows())
    ]
