"""Exact choice of ``p`` columns that maximise a sum of row maxima, by branch and bound:
the own solver of the uncapacitated p-median and maximal covering models.

Both models ask for the set ``S`` of ``p`` candidate sites that maximises
``f(S) = sum_i max_{j in S} W_ij``: for the p-median (savings form,
:class:`~apgeo.planning.models.pmedian.PMedian`) ``W_ij`` is the need-weighted time area
``i`` saves when site ``j`` opens; for the maximal covering model
(:class:`~apgeo.planning.models.mclp.MaximalCovering`) it is area ``i``'s need when site
``j`` brings it newly within the threshold; zero otherwise. ``f`` is a coverage-like
function, monotone and submodular: what a site adds to a set is never more than what it
adds to a smaller one. So the best completion of a partial set ``S`` by ``k`` more sites
is bounded by ``f(S)`` plus the ``k`` largest of the sites' marginal gains given ``S``,
and a depth-first search over the sets, the candidates taken in order of their gain
alone (largest first), prunes almost every branch: for Sheffield's primary p-median (133
candidate schools, 345 areas, p = 3) it looks at a few hundred partial sets in about
0.03 s, where the integer program took HiGHS 0.5-3 s.

The answer is the optimum, not one within a solver's relative gap (HiGHS stops at
0.01 %), and it is canonical: among sets whose values agree to :data:`TIE_RELATIVE`
(identical columns, such as two schools on one site, give exactly equal values; whole
children make equal coverage common), the one first in lexicographic order of its
columns wins, so the result depends on the candidates' order only, never on a solver's
path. A first pass finds the best value; a second lists every set within
:data:`TIE_RELATIVE` of it, and the first of those in the columns' own order is the
answer. The search gives up after ``max_nodes`` partial sets and listed sets (a count,
not a clock, so the outcome is deterministic): the caller then solves the integer
program instead.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

#: Values within this fraction of the best are ties, settled by the columns' order.
TIE_RELATIVE = 1e-9
#: Default budget of partial and listed sets before the search gives up. On Sheffield's
#: 194 candidate schools (``benchmarks/bench_recommend.py``) a node costs 50-100 us; the
#: maximal covering model needs 15, 263 and 1,353 nodes for p = 3, 4, 5, the p-median 62,
#: 132, 292 and 1,568 for p = 3 to 6; beyond, the integer program (HiGHS 0.05-0.1 s there)
#: is quicker, and a search that gives up has cost about 0.1-0.2 s.
MAX_NODES = 2_000


@dataclass(frozen=True)
class SubsetChoice:
    """The best set of columns found by :func:`best_subset`."""

    #: The chosen columns, ascending.
    columns: tuple[int, ...]
    #: ``sum_i max_{j in columns} W_ij``.
    value: float
    #: Partial sets examined (both passes).
    nodes: int


class _OutOfNodes(Exception):
    """The node budget is spent."""


def _top_sums_after(marginal: np.ndarray, k: int) -> np.ndarray:
    """``out[c]`` = sum of the ``k`` largest of ``marginal[c + 1:]`` (fewer when fewer)."""
    n = len(marginal)
    out = np.zeros(n)
    if k <= 0 or n == 0:
        return out
    if k == 1:
        tail = np.maximum.accumulate(marginal[::-1])[::-1]
        out[:-1] = tail[1:]
        return out
    heap: list[float] = []
    total = 0.0
    for c in range(n - 1, -1, -1):
        out[c] = total
        value = float(marginal[c])
        if len(heap) < k:
            heapq.heappush(heap, value)
            total += value
        elif value > heap[0]:
            total += value - heapq.heapreplace(heap, value)
    return out


class _Search:
    """Depth-first branch and bound over the sets of ``p`` columns, each set once (its
    columns in increasing order). The caller puts the columns in order of their gain
    alone, largest first: good sets come early and later branches' bounds are small."""

    def __init__(self, gains: np.ndarray, p: int, max_nodes: int) -> None:
        self.W = gains
        self.p = p
        self.n = gains.shape[1]
        self.max_nodes = max_nodes
        self.nodes = 0
        self.floor = -np.inf
        self.hits: list[tuple[tuple[int, ...], float]] | None = None

    def _count(self, n: int = 1) -> None:
        self.nodes += n
        if self.nodes > self.max_nodes:
            raise _OutOfNodes

    def best_value(self, lower: float) -> float:
        """Pass 1: the largest value of any set (at least ``lower``, a known set's value)."""
        self.floor, self.hits = lower, None
        self._walk(np.zeros(self.W.shape[0]), 0.0, 0, self.p, ())
        return self.floor

    def sets_at(self, threshold: float) -> list[tuple[tuple[int, ...], float]]:
        """Pass 2: every set whose value is at least ``threshold``, with its value."""
        self.floor, self.hits = threshold, []
        self._walk(np.zeros(self.W.shape[0]), 0.0, 0, self.p, ())
        return self.hits

    def _walk(self, covered: np.ndarray, value: float, start: int, k: int, chosen: tuple[int, ...]) -> None:
        """Extend a partial set (``chosen``; rows' best gains ``covered``; its value) by
        ``k`` columns from ``start`` on."""
        self._count()
        if k == 1:  # the last column: every completion's value at once
            values = np.maximum(covered[:, None], self.W[:, start:]).sum(axis=0)
            if self.hits is None:
                self.floor = max(self.floor, float(values.max()))
                return
            found = np.flatnonzero(values >= self.floor)
            self._count(len(found))
            self.hits.extend(((*chosen, start + int(h)), float(values[h])) for h in found)
            return
        last = self.n - k + 1  # a first column after which k - 1 columns remain
        marginal = np.maximum(self.W[:, start:] - covered[:, None], 0.0).sum(axis=0)
        # best completion through column c: its gain and the k - 1 best gains after it
        bound = value + marginal[: last - start] + _top_sums_after(marginal, k - 1)[: last - start]
        for offset in range(last - start):
            if bound[offset] < self.floor:  # the floor rises in pass 1
                continue
            c = start + offset
            self._walk(
                np.maximum(covered, self.W[:, c]), value + float(marginal[offset]), c + 1, k - 1, (*chosen, c)
            )


def _greedy_value(gains: np.ndarray, p: int) -> float:
    """The value of the greedy set (a lower bound on the best)."""
    covered = np.zeros(gains.shape[0])
    taken = np.zeros(gains.shape[1], dtype=bool)
    for _ in range(p):
        marginal = np.maximum(gains - covered[:, None], 0.0).sum(axis=0)
        marginal[taken] = -np.inf
        j = int(np.argmax(marginal))
        taken[j] = True
        covered = np.maximum(covered, gains[:, j])
    return float(covered.sum())


def best_subset(gains: np.ndarray, p: int, *, max_nodes: int = MAX_NODES) -> SubsetChoice | None:
    """The ``p`` columns of ``gains`` with the largest sum of row maxima, exactly.

    Parameters
    ----------
    gains
        ``(rows, columns)`` array of non-negative gains (need-weighted savings of each
        candidate site for each area); NaN is not allowed.
    p
        How many columns to choose (at most the number of columns).
    max_nodes
        Budget of partial sets to examine; ``None`` is returned when it is spent.

    Returns
    -------
    SubsetChoice or None
        The chosen columns (ascending), their value and the partial sets examined; among
        sets whose values agree to :data:`TIE_RELATIVE`, the first in lexicographic order
        of the columns. ``None`` when the budget ran out (solve the integer program).

    Raises
    ------
    ValueError
        ``gains`` not a 2-D array of finite non-negative numbers, or ``p`` out of range.
    """
    W = np.asarray(gains, dtype=float)
    if W.ndim != 2 or not np.isfinite(W).all() or (W < 0).any():
        raise ValueError("gains must be a 2-D array of finite, non-negative numbers")
    n = W.shape[1]
    if not 1 <= p <= n:
        raise ValueError(f"p must be between 1 and the number of columns ({n}); got {p}")
    W = W[W.any(axis=1)]  # rows no column helps add nothing to any set
    order = np.argsort(-W.sum(axis=0), kind="stable")  # best alone first: strong pruning
    search = _Search(np.ascontiguousarray(W[:, order]), p, max_nodes)
    try:
        best = search.best_value(_greedy_value(W, p) * (1.0 - TIE_RELATIVE))
        hits = search.sets_at(best - TIE_RELATIVE * max(abs(best), 1.0))
    except _OutOfNodes:
        return None
    # the tie rule: of the best sets, the first in the columns' own order
    columns, value = min((tuple(sorted(int(order[c]) for c in cols)), v) for cols, v in hits)
    return SubsetChoice(columns=columns, value=value, nodes=search.nodes)


__all__ = ["MAX_NODES", "TIE_RELATIVE", "SubsetChoice", "best_subset"]
