"""Nearest-line queries over many polylines kept as flat coordinate arrays.

An STRtree of shapely LineStrings costs about 370 bytes per street (the GEOS line, its
Python wrapper and the tree node); at county scale that is most of the memory of a
travel-time engine. :class:`SegmentIndex` keeps the vertices of every line in one flat
array and a k-d tree of points along its segments (about 50 bytes per segment), and
makes LineStrings only for the few lines near a query point.

The nearest line of a point is exact: the segments are cut (for the index only) into
pieces no longer than ``2 * half_piece_m``, so every segment at distance ``d`` from the
point has a piece midpoint within ``d + half_piece_m``; all such segments are measured,
and the distance of the closest lines is taken from GEOS (as ``shapely.distance``).
Equidistant lines (e.g. the streets of a junction nearest to a point): the first by a
given rank, then by row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from scipy.spatial import cKDTree

from apgeo.routing.edge_geometry import _ranges

#: Nearest piece midpoints asked of the k-d tree first (more for the points that need them).
_FIRST_K = 16
#: Point x piece pairs measured at once (memory of one query, about 50 bytes a pair).
_MAX_PAIRS = 1 << 20
#: Relative tolerance between the array distance and GEOS's (rounding only).
_REL_TOL = 1e-9


def _segment_distance(
    px: np.ndarray, py: np.ndarray, ax: np.ndarray, ay: np.ndarray, bx: np.ndarray, by: np.ndarray
) -> np.ndarray:
    """Distance from points ``p`` to segments ``a-b`` (element-wise, broadcast)."""
    dx, dy = bx - ax, by - ay
    len2 = dx * dx + dy * dy
    shape = np.broadcast(px, dx).shape
    t = np.divide((px - ax) * dx + (py - ay) * dy, len2, out=np.zeros(shape), where=len2 > 0)
    np.clip(t, 0.0, 1.0, out=t)
    return np.hypot(px - (ax + t * dx), py - (ay + t * dy))


def _index_dtype(n: int) -> type[np.signedinteger]:
    return np.int32 if n < 2**31 - 1 else np.int64


@dataclass(frozen=True, eq=False)
class SegmentIndex:
    """Lines (rows) given by their vertices, indexed for nearest-line queries.

    Attributes
    ----------
    px, py
        Coordinates (metres) of the points the vertices refer to (e.g. the network's
        nodes, then the vertices of curved streets).
    offsets, refs
        The vertices of line ``i`` are the points ``refs[offsets[i]:offsets[i + 1]]`` (at
        least two per line).
    seg_start
        First vertex (position in ``refs``) of every segment.
    seg_line
        Line of every segment.
    piece_seg
        Segment of every point of the k-d tree (``None``: one piece per segment).
    half_piece_m
        Largest distance from a piece's midpoint to its ends.
    tree
        k-d tree of the piece midpoints (``None`` without lines).
    """

    px: np.ndarray
    py: np.ndarray
    offsets: np.ndarray
    refs: np.ndarray
    seg_start: np.ndarray
    seg_line: np.ndarray
    piece_seg: np.ndarray | None
    half_piece_m: float
    tree: cKDTree | None

    @classmethod
    def from_vertices(cls, counts: np.ndarray, coords: np.ndarray) -> SegmentIndex:
        """From the number of vertices of each line (each at least 2) and their coordinates.

        Parameters
        ----------
        counts
            Number of vertices of each line.
        coords
            Vertex coordinates in metres, line after line (reshaped to ``(n, 2)``).

        Returns
        -------
        SegmentIndex
            The index.
        """
        coords = np.asarray(coords, dtype=float).reshape(-1, 2)
        return cls.from_refs(
            coords[:, 0].copy(), coords[:, 1].copy(), counts, np.arange(len(coords))
        )

    @classmethod
    def from_refs(
        cls, px: np.ndarray, py: np.ndarray, counts: np.ndarray, refs: np.ndarray
    ) -> SegmentIndex:
        """From point coordinates (kept, not copied), the number of vertices of each line
        (each at least 2) and the points they are, in order.

        Parameters
        ----------
        px, py
            Point coordinates in metres.
        counts
            Number of vertices of each line.
        refs
            The point of each vertex, line after line.

        Returns
        -------
        SegmentIndex
            The index.
        """
        px = np.asarray(px, dtype=float)
        py = np.asarray(py, dtype=float)
        counts = np.asarray(counts, dtype=np.int64)
        refs = np.asarray(refs).astype(_index_dtype(len(px)), copy=False)
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        seg_count = np.maximum(counts - 1, 0)
        seg_start = _ranges(offsets[:-1], seg_count).astype(_index_dtype(len(refs)))
        seg_line = np.repeat(
            np.arange(len(counts), dtype=_index_dtype(len(counts))), seg_count
        )
        del seg_count
        offsets = offsets.astype(_index_dtype(len(refs)))
        ia, ib = refs[seg_start], refs[seg_start + 1]
        seg_len = np.hypot(px[ib] - px[ia], py[ib] - py[ia])
        piece_m = float(seg_len.mean()) if len(seg_len) else 1.0
        if not piece_m > 0:
            piece_m = 1.0
        piece_seg: np.ndarray | None = None
        if not (seg_len > piece_m).any():  # every segment is one piece
            half_piece_m = float(seg_len.max()) / 2 if len(seg_len) else 0.0
            mid = np.empty((len(ia), 2))
            np.add(px[ia], px[ib], out=mid[:, 0])
            np.add(py[ia], py[ib], out=mid[:, 1])
            mid *= 0.5
        else:
            n_pieces = np.maximum(np.ceil(seg_len / piece_m), 1).astype(np.int64)
            half_piece_m = float((seg_len / (2 * n_pieces)).max())
            piece_seg = np.repeat(np.arange(len(seg_len), dtype=seg_start.dtype), n_pieces)
            first = np.zeros(len(seg_len) + 1, dtype=np.int64)
            np.cumsum(n_pieces, out=first[1:])
            t = np.arange(len(piece_seg), dtype=np.int64) - first[:-1][piece_seg]
            t = (t + 0.5) / n_pieces[piece_seg]
            a = np.column_stack([px[ia[piece_seg]], py[ia[piece_seg]]])
            b = np.column_stack([px[ib[piece_seg]], py[ib[piece_seg]]])
            b -= a
            b *= t[:, None]
            a += b
            mid = a
            del first, t, a, b, n_pieces
        del ia, ib, seg_len
        tree = cKDTree(mid, balanced_tree=False, compact_nodes=False) if len(mid) else None
        return cls(
            px=px,
            py=py,
            offsets=offsets,
            refs=refs,
            seg_start=seg_start,
            seg_line=seg_line,
            piece_seg=piece_seg,
            half_piece_m=half_piece_m,
            tree=tree,
        )

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def lines(self, rows: np.ndarray) -> np.ndarray:
        """LineStrings of ``rows`` (object array, same order).

        Parameters
        ----------
        rows
            Line rows.

        Returns
        -------
        numpy.ndarray
            Object array of shapely LineStrings.
        """
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return np.empty(0, dtype=object)
        start = self.offsets[rows].astype(np.int64)
        count = self.offsets[rows + 1] - start
        which = np.repeat(np.arange(len(rows), dtype=np.int64), count)
        at = self.refs[_ranges(start, count)]
        xy = np.column_stack([self.px[at], self.py[at]])
        return np.asarray(shapely.linestrings(xy, indices=which), dtype=object)

    def _candidates(
        self, x: np.ndarray, y: np.ndarray, k: int, last: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The lines about as near to each point as its nearest segment, from the ``k``
        nearest piece midpoints: (position of the point, line) pairs for the points they
        settle, and which points they settle (all when ``last``)."""
        mid_d, piece = self.tree.query(np.column_stack([x, y]), k=k)  # type: ignore[union-attr]
        mid_d, piece = mid_d.reshape(len(x), k), piece.reshape(len(x), k)
        seg = piece if self.piece_seg is None else self.piece_seg[piece]
        del piece
        start = self.seg_start[seg]
        a, b = self.refs[start], self.refs[start + 1]
        del start
        d = _segment_distance(x[:, None], y[:, None], self.px[a], self.py[a], self.px[b], self.py[b])
        del a, b
        best = d.min(axis=1)
        reach = best + self.half_piece_m
        reach += _REL_TOL * (1.0 + reach)
        done = np.ones(len(x), dtype=bool) if last else mid_d[:, -1] > reach
        # candidates: segments about as near as the nearest (ties and rounding)
        near = d <= (best + _REL_TOL * (1.0 + best))[:, None]
        near &= done[:, None]
        i, j = np.nonzero(near)
        return i, self.seg_line[seg[i, j]], done

    def nearest(
        self, x: np.ndarray, y: np.ndarray, rank: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The nearest line of every point and its distance (``shapely.distance``);
        ``-1`` and ``inf`` for an index without lines. Among equidistant lines, the one
        with the smallest ``rank`` (one value per line; default none), then the smallest
        row.

        Parameters
        ----------
        x, y
            Point coordinates in metres.
        rank
            Tie-break value of each line (``None``: row order only).

        Returns
        -------
        rows : numpy.ndarray
            int64 row of the nearest line of each point.
        distance_m : numpy.ndarray
            Distance to it in metres.
        """
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        n = len(x)
        rows = np.full(n, -1, dtype=np.int64)
        dist = np.full(n, np.inf)
        if n == 0 or self.tree is None:
            return rows, dist
        n_pieces = len(self.seg_start) if self.piece_seg is None else len(self.piece_seg)
        todo = np.arange(n, dtype=np.int64)
        k = min(_FIRST_K, n_pieces)
        pair_point: list[np.ndarray] = []
        pair_line: list[np.ndarray] = []
        while len(todo):
            left: list[np.ndarray] = []
            step = max(1, _MAX_PAIRS // k)  # bounds the memory of one query
            for at in range(0, len(todo), step):
                part = todo[at : at + step]
                found, line, done = self._candidates(x[part], y[part], k, k == n_pieces)
                pair_point.append(part[found])
                pair_line.append(line)
                left.append(part[~done])
            todo = np.concatenate(left)
            k = min(k * 4, n_pieces)
        point = np.concatenate(pair_point)
        line = np.concatenate(pair_line)
        pairs = np.unique(np.column_stack([point, line]), axis=0)
        point, line = pairs[:, 0], pairs[:, 1]
        exact = shapely.distance(shapely.points(x[point], y[point]), self.lines(line))
        tie = np.zeros(len(line), dtype=np.int8) if rank is None else rank[line]
        order = np.lexsort((line, tie, exact, point))
        point, line, exact = point[order], line[order], exact[order]
        first = np.ones(len(point), dtype=bool)
        first[1:] = point[1:] != point[:-1]
        rows[point[first]] = line[first]
        dist[point[first]] = exact[first]
        return rows, dist


__all__ = ["SegmentIndex"]
