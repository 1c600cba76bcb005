"""Edge geometries of a travel-time engine as flat coordinate arrays.

A networkx graph keeps one shapely LineString per edge (about 1 KB each); catchments and
snapping need only the coordinates of the streets they touch. :class:`EdgeGeometry` keeps
the coordinates of every edge of an engine in two flat arrays and makes LineStrings for
the rows asked for, so the cost of a catchment grows with the streets it reaches rather
than with the network.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely


def _ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + c)`` for every pair (vectorised)."""
    counts = np.asarray(counts, dtype=np.int64)
    total = int(counts.sum())
    if total == 0:
        return np.empty(0, dtype=np.int64)
    ends = np.cumsum(counts)
    shift = np.repeat(np.asarray(starts, dtype=np.int64) - (ends - counts), counts)
    return np.arange(total, dtype=np.int64) + shift


@dataclass(frozen=True, eq=False)
class EdgeGeometry:
    """Coordinates of every edge of an engine (rows of ``engine.edges``).

    Attributes
    ----------
    x, y
        Node coordinates (metres, engine node order).
    u_index, v_index
        Edge ends (engine node rows).
    offsets
        ``(n_edges + 1,)``: the vertices of edge ``i`` are ``coords[offsets[i]:offsets[i + 1]]``,
        oriented u -> v; an empty range means the straight segment between its nodes.
    coords
        ``(n_vertices, 2)`` vertex coordinates (metres).
    """

    x: np.ndarray
    y: np.ndarray
    u_index: np.ndarray
    v_index: np.ndarray
    offsets: np.ndarray
    coords: np.ndarray

    @classmethod
    def from_lines(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        u_index: np.ndarray,
        v_index: np.ndarray,
        lines: np.ndarray,
    ) -> EdgeGeometry:
        """From an object array of LineStrings (``None`` for a straight edge).

        Parameters
        ----------
        x, y
            Node coordinates in metres.
        u_index, v_index
            Rows of each edge's start and end node in ``x`` / ``y``.
        lines
            One LineString per edge, or ``None`` / NaN for a straight edge.

        Returns
        -------
        EdgeGeometry
            The geometries.
        """
        lines = np.asarray(lines, dtype=object)
        has = np.flatnonzero(pd.notna(lines))
        coords, which = shapely.get_coordinates(lines[has], return_index=True)
        counts = np.zeros(len(lines), dtype=np.int64)
        counts[has] = np.bincount(which, minlength=len(has))
        return cls.from_flat(x, y, u_index, v_index, counts, coords)

    @classmethod
    def from_flat(
        cls,
        x: np.ndarray,
        y: np.ndarray,
        u_index: np.ndarray,
        v_index: np.ndarray,
        counts: np.ndarray,
        coords: np.ndarray,
    ) -> EdgeGeometry:
        """From the number of vertices of each edge (0: straight) and their coordinates.

        Parameters
        ----------
        x, y
            Node coordinates in metres.
        u_index, v_index
            Rows of each edge's start and end node in ``x`` / ``y``.
        counts
            Number of vertices of each edge (0: straight).
        coords
            ``(sum(counts), 2)`` vertex coordinates, edge after edge.

        Returns
        -------
        EdgeGeometry
            The geometries.
        """
        offsets = np.zeros(len(counts) + 1, dtype=np.int64)
        np.cumsum(counts, out=offsets[1:])
        return cls(
            x=np.asarray(x, dtype=float),
            y=np.asarray(y, dtype=float),
            u_index=np.asarray(u_index, dtype=np.int64),
            v_index=np.asarray(v_index, dtype=np.int64),
            offsets=offsets,
            coords=np.asarray(coords, dtype=float).reshape(-1, 2),
        )

    def __len__(self) -> int:
        return len(self.u_index)

    def vertices(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Vertices of ``rows`` (straight edges: their two nodes) and the position in
        ``rows`` of each vertex, in order.

        Parameters
        ----------
        rows
            Edge rows.

        Returns
        -------
        xy : numpy.ndarray
            ``(n_vertices, 2)`` coordinates in metres, edge after edge.
        which : numpy.ndarray
            ``(n_vertices,)`` position in ``rows`` of each vertex's edge.
        """
        rows = np.asarray(rows, dtype=np.int64)
        start = self.offsets[rows]
        count = self.offsets[rows + 1] - start
        straight = count == 0
        n_vertex = np.where(straight, 2, count)
        which = np.repeat(np.arange(len(rows), dtype=np.int64), n_vertex)
        xy = np.empty((len(which), 2), dtype=float)
        first = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum(n_vertex, out=first[1:])
        curved = ~straight
        if curved.any():
            dest = _ranges(first[:-1][curved], count[curved])
            xy[dest] = self.coords[_ranges(start[curved], count[curved])]
        if straight.any():
            at = first[:-1][straight]
            ui, vi = self.u_index[rows[straight]], self.v_index[rows[straight]]
            xy[at, 0], xy[at, 1] = self.x[ui], self.y[ui]
            xy[at + 1, 0], xy[at + 1, 1] = self.x[vi], self.y[vi]
        return xy, which

    def lines(self, rows: np.ndarray) -> np.ndarray:
        """LineStrings (u -> v) of ``rows``, as an object array in the same order.

        Parameters
        ----------
        rows
            Edge rows.

        Returns
        -------
        numpy.ndarray
            Object array of shapely LineStrings.
        """
        rows = np.asarray(rows, dtype=np.int64)
        if len(rows) == 0:
            return np.empty(0, dtype=object)
        xy, which = self.vertices(rows)
        return np.asarray(shapely.linestrings(xy, indices=which), dtype=object)

    def same_reversed(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """For each pair, True when edge ``b`` is edge ``a`` drawn backwards (same vertices).

        Parameters
        ----------
        a, b
            Edge rows, paired position by position.

        Returns
        -------
        numpy.ndarray
            Booleans, one per pair.
        """
        a = np.asarray(a, dtype=np.int64)
        b = np.asarray(b, dtype=np.int64)
        if len(a) == 0:
            return np.zeros(0, dtype=bool)
        xa, wa = self.vertices(a)
        xb, wb = self.vertices(b)
        na = np.bincount(wa, minlength=len(a))
        nb = np.bincount(wb, minlength=len(b))
        same = na == nb
        if not same.any():
            return same
        # compare pairs with the same vertex count: vertex j of a with vertex n-1-j of b
        first_a = np.zeros(len(a) + 1, dtype=np.int64)
        np.cumsum(na, out=first_a[1:])
        first_b = np.zeros(len(b) + 1, dtype=np.int64)
        np.cumsum(nb, out=first_b[1:])
        pos = np.flatnonzero(same[wa])
        pair = wa[pos]
        j = pos - first_a[pair]
        mirrored = first_b[pair] + (na[pair] - 1 - j)
        equal = (xa[pos] == xb[mirrored]).all(axis=1)
        bad = np.bincount(pair[~equal], minlength=len(a)) > 0
        return same & ~bad


__all__ = ["EdgeGeometry"]
