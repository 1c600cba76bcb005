"""Snapped points as virtual source nodes of the travel-time matrix.

A point snapped part-way along a street enters Dijkstra as one extra node joined to both
ends of its street, with the access leg plus the partial street as the weight
(:class:`~apgeo.routing.travel_times.TravelTimeEngine` explains the times). Done naively,
every call copies the whole CSR matrix to append those rows: at 400,000 nodes that copy
costs more than the search it serves, since a time-limited Dijkstra touches only the
streets it reaches.

:class:`VirtualSourceMatrix` holds one copy of an engine's matrix (per direction) with
room for :data:`CAPACITY` virtual rows at the end; a call writes only those rows (a few
hundred numbers) and runs Dijkstra on it. Rows of the real network never point at a
virtual node, so unused virtual rows are unreachable and change nothing. Calls on one
buffer are serialised with a lock: scipy's Dijkstra holds the GIL anyway, so threads lose
nothing by waiting.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Mapping
from typing import Final

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from apgeo.routing.node_index import node_rows

#: Virtual source rows kept free in each buffer (the Dijkstra chunk of the engine).
CAPACITY: Final[int] = 256


def augmented_copy(
    base: sp.csr_matrix, cols: np.ndarray, weights_s: np.ndarray
) -> tuple[sp.csr_matrix, np.ndarray]:
    """``base`` with one virtual row per source (any number of sources), as a new matrix.

    ``cols`` and ``weights_s`` are ``(k, 2)``: the two street ends each source is joined
    to and the times to them (``inf``: no link). Returns the matrix and the virtual rows.

    Parameters
    ----------
    base
        The network's CSR matrix.
    cols, weights_s
        ``(k, 2)`` street ends and seconds of each source.

    Returns
    -------
    matrix : scipy.sparse.csr_matrix
        The matrix with the virtual rows.
    rows : numpy.ndarray
        The virtual row of each source.
    """
    n, k = base.shape[0], len(cols)
    ok = np.isfinite(weights_s)
    indptr = np.concatenate([base.indptr, base.indptr[-1] + np.cumsum(ok.sum(axis=1))])
    # scipy's Dijkstra works on 32-bit indices: other dtypes would be copied on each call
    dtype = np.int32 if max(n + k, int(indptr[-1])) < np.iinfo(np.int32).max else np.int64
    indices = np.concatenate([base.indices, cols[ok]]).astype(dtype, copy=False)
    data = np.concatenate([base.data, weights_s[ok]])
    matrix = sp.csr_matrix((data, indices, indptr.astype(dtype, copy=False)), shape=(n + k, n + k))
    return matrix, n + np.arange(k)


def source_links(
    node_index: Mapping[Hashable, int], table: pd.DataFrame, direction: str
) -> tuple[np.ndarray, np.ndarray]:
    """The links of one virtual node per snapped source: ``(k, 2)`` street ends and seconds.

    Virtual node ``i`` is joined to both ends of source ``i``'s edge with the access leg
    plus the partial edge time (``direction="to"``: on the transposed matrix, so the
    weights are the times from the ends *to* the point); ``inf``: no link.

    Parameters
    ----------
    node_index
        Node id -> row.
    table
        Snapped sources: ``u``, ``v``, ``access_time_s``, ``time_to_u_s``, ``time_to_v_s``...
    direction
        ``"from"`` or ``"to"`` the sources.

    Returns
    -------
    cols : numpy.ndarray
        ``(k, 2)`` node rows.
    weights_s : numpy.ndarray
        ``(k, 2)`` seconds.
    """
    u_idx = node_rows(node_index, table["u"].to_numpy())
    v_idx = node_rows(node_index, table["v"].to_numpy())
    access = table["access_time_s"].to_numpy(float)
    if direction == "from":  # leave the point towards u or v
        to_u = table["time_to_u_s"].to_numpy(float)
        to_v = table["time_to_v_s"].to_numpy(float)
    else:  # arrive at the point from u or v (transposed: virtual -> u)
        to_u = table["time_from_u_s"].to_numpy(float)
        to_v = table["time_from_v_s"].to_numpy(float)
    w_u = access + to_u
    w_v = access + to_v
    same = u_idx == v_idx  # node sources: one entry only
    w_u = np.where(same, np.minimum(w_u, w_v), w_u)
    w_v = np.where(same, np.inf, w_v)
    return np.stack([u_idx, v_idx], axis=1), np.stack([w_u, w_v], axis=1)


class VirtualSourceMatrix:
    """One reusable copy of a CSR matrix with :data:`CAPACITY` free virtual rows."""

    def __init__(self, base: sp.csr_matrix) -> None:
        n, nnz = base.shape[0], base.nnz
        self.n_nodes = n
        self._nnz = nnz
        size = nnz + 2 * CAPACITY
        big = max(n + CAPACITY, size) >= np.iinfo(np.int32).max
        dtype = np.int64 if big else np.int32
        self._data = np.empty(size, dtype=float)
        self._data[:nnz] = base.data
        self._indices = np.zeros(size, dtype=dtype)
        self._indices[:nnz] = base.indices
        self._indptr = np.full(n + CAPACITY + 1, nnz, dtype=dtype)
        self._indptr[: n + 1] = base.indptr
        self._lock = threading.Lock()

    @property
    def nbytes(self) -> int:
        return int(self._data.nbytes + self._indices.nbytes + self._indptr.nbytes)

    def dijkstra(
        self,
        cols: np.ndarray,
        weights_s: np.ndarray,
        *,
        limit: float,
        min_only: bool = False,
    ) -> tuple[np.ndarray, np.ndarray | None]:
        """Dijkstra from ``k <= CAPACITY`` virtual sources (``cols`` / ``weights_s`` as in
        :func:`augmented_copy`).

        Returns the times ``(k, n_nodes)`` (``(n_nodes,)`` with ``min_only``; a view, not
        a copy) and, with ``min_only``, the source position of each node's nearest source
        (``-1`` where none is reached).

        Parameters
        ----------
        cols, weights_s
            ``(k, 2)`` street ends and seconds of each source.
        limit
            Search limit in seconds.
        min_only
            Only the time from the nearest source.

        Returns
        -------
        times_s : numpy.ndarray
            Seconds, ``inf`` where not reached.
        nearest : numpy.ndarray or None
            With ``min_only``, the position of each node's nearest source; else ``None``.
        """
        k = len(cols)
        if k > CAPACITY:
            raise ValueError(f"{k} sources exceed the buffer's {CAPACITY}; split the call")
        n, nnz = self.n_nodes, self._nnz
        ok = np.isfinite(weights_s)
        ends = nnz + np.cumsum(ok.sum(axis=1))
        m = int(ends[-1] - nnz) if k else 0
        with self._lock:
            self._indices[nnz : nnz + m] = cols[ok]
            self._data[nnz : nnz + m] = weights_s[ok]
            self._indptr[n + 1 : n + 1 + k] = ends
            self._indptr[n + 1 + k :] = nnz + m
            matrix = sp.csr_matrix(
                (self._data[: nnz + m], self._indices[: nnz + m], self._indptr),
                shape=(n + CAPACITY, n + CAPACITY),
            )
            rows = n + np.arange(k)
            if not min_only:
                dist = dijkstra(matrix, directed=True, indices=rows, limit=limit)
                return dist[:, :n], None
            seconds, origin = nearest_source_dijkstra(matrix, rows, n_nodes=n, limit=limit)
        return seconds, np.where(origin >= n, origin - n, -1)  # paths start at virtual rows


def nearest_source_dijkstra(
    matrix: sp.csr_matrix, indices: np.ndarray, *, n_nodes: int, limit: float
) -> tuple[np.ndarray, np.ndarray]:
    """One Dijkstra from every row of ``indices`` at once: for each of the first
    ``n_nodes`` rows, the seconds from its nearest source and that source's row (``-1``
    where none is reached).

    Parameters
    ----------
    matrix
        The matrix with virtual rows.
    indices
        The virtual rows (sources).
    n_nodes
        Number of real nodes.
    limit
        Search limit in seconds.

    Returns
    -------
    times_s : numpy.ndarray
        ``(n_nodes,)`` seconds, ``inf`` where not reached.
    source_row : numpy.ndarray
        ``(n_nodes,)`` row of the nearest source, ``-1`` where none.
    """
    dist, _, origin = dijkstra(
        matrix, directed=True, indices=indices, limit=limit, min_only=True, return_predecessors=True
    )
    origin = np.asarray(origin[:n_nodes], dtype=np.int64)
    # scipy marks unreached nodes -9999
    return np.asarray(dist[:n_nodes], dtype=float), np.where(origin >= 0, origin, -1)


__all__ = [
    "CAPACITY",
    "VirtualSourceMatrix",
    "augmented_copy",
    "nearest_source_dijkstra",
    "source_links",
]
