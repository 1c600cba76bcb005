"""The engine's matrix: the fastest edge between two nodes, and the network's main component.

A street network read from OpenStreetMap has parallel edges (dual carriageways, two ways
joined twice) and islands (a private estate road, a footpath cut at the extract's edge).
The travel-time engine keeps, for each ordered node pair, the fastest edge
(:func:`fastest_edge_matrix`, a CSR matrix with explicit zeros kept), and only the
largest strongly connected component (:func:`largest_component`, :func:`main_edge_rows`):
points near an island are snapped to the main network instead.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components


def fastest_edge_matrix(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, n: int) -> sp.csr_matrix:
    """CSR matrix keeping the smallest value of duplicate (row, col) entries; explicit zeros kept.

    Parameters
    ----------
    rows, cols, vals
        Entries of the matrix (e.g. edge start, end and seconds).
    n
        The matrix is ``n`` x ``n``.

    Returns
    -------
    scipy.sparse.csr_matrix
        The matrix.
    """
    vals = np.asarray(vals, dtype=float)
    if len(vals):
        cell = np.asarray(rows, dtype=np.int64) * np.int64(n) + cols
        order = np.argsort(cell, kind="stable")
        cell = cell[order]
        start = np.ones(len(cell), dtype=bool)
        np.not_equal(cell[1:], cell[:-1], out=start[1:])
        first = np.flatnonzero(start)
        del start
        vals = np.minimum.reduceat(vals[order], first) if len(first) < len(cell) else vals[order]
        del order
        cell = cell[first]
        del first
        rows = cell // np.int64(n)
        cols = cell - rows * np.int64(n)
        del cell
    else:
        rows = cols = np.empty(0, dtype=np.int64)
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(np.bincount(rows, minlength=n), out=indptr[1:])
    return sp.csr_matrix((vals, cols, indptr), shape=(n, n))


def largest_component(
    u_all: np.ndarray, v_all: np.ndarray, w_all: np.ndarray, n_all: int
) -> tuple[int, np.ndarray]:
    """The number of strongly connected components of the edges ``u_all -> v_all`` and
    which of the ``n_all`` nodes lie in the largest one.

    Parameters
    ----------
    u_all, v_all
        Start and end node row of each edge.
    w_all
        Edge weights.
    n_all
        Number of nodes.

    Returns
    -------
    n_components : int
        The number of strongly connected components.
    keep : numpy.ndarray
        ``(n_all,)`` booleans: the node lies in the largest component.
    """
    full = fastest_edge_matrix(u_all, v_all, w_all, n_all)
    n_comp, labels = connected_components(full, directed=True, connection="strong")
    del full
    return int(n_comp), labels == int(np.bincount(labels).argmax())


def main_edge_rows(
    u_all: np.ndarray, v_all: np.ndarray, keep: np.ndarray, order: np.ndarray | None
) -> np.ndarray:
    """Rows (in ``order``, default as given) of the edges between two ``keep`` nodes, not
    self-loops.

    Parameters
    ----------
    u_all, v_all
        Start and end node row of each edge.
    keep
        Booleans over nodes: the main network.
    order
        An order of the edge rows (``None``: as given).

    Returns
    -------
    numpy.ndarray
        Edge rows.
    """
    main = keep[u_all] & keep[v_all] & (u_all != v_all)
    return np.flatnonzero(main) if order is None else order[main[order]]


__all__ = ["fastest_edge_matrix", "largest_component", "main_edge_rows"]
