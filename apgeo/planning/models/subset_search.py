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
and a depth-first search over the sets in lexicographic order of their columns prunes
almost every branch: for Sheffield's primary p-median (133 candidate schools, 345 areas,
p = 3) it looks at a few hundred partial sets in about 0.03 s, where the integer program
took HiGHS 0.5-3 s.

The answer is the optimum, not one within a solver's relative gap (HiGHS stops at
0.01 %), and it is canonical: among sets whose values agree to :data:`TIE_RELATIVE`
(identical columns, such as two schools on one site, give exactly equal values; whole
children make equal coverage common), the one first in lexicographic order of its
columns wins, so the result depends on the candidates' order only, never on a solver's
path. The search gives up after ``max_nodes`` partial sets (a count, not a clock, so
the outcome is deterministic): the caller then solves the integer program instead.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

#: Values within this fraction of the best are ties, settled by the columns' order.
TIE_RELATIVE = 1e-9
#: Default budget of partial sets (branch-and-bound nodes) before the search gives up.
MAX_NODES = 20_000


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
    """Depth-first branch and bound over the sets of ``p`` columns in lexicographic order."""

    def __init__(self, gains: np.ndarray, p: int, max_nodes: int) -> None:
        self.W = gains
        self.p = p
        self.n = gains.shape[1]
        self.max_nodes = max_nodes
        self.nodes = 0

    def _count(self) -> None:
        self.nodes += 1
        if self.nodes > self.max_nodes:
            raise _OutOfNodes

    def best_value(self, lower: float) -> float:
        """Pass 1: the largest value of any set (at least ``lower``, a known set's value)."""
        self.best = lower
        self._walk(np.zeros(self.W.shape[0]), 0.0, 0, self.p, find_first_at=None)
        return self.best

    def first_at(self, threshold: float) -> tuple[int, ...] | None:
        """Pass 2: the lexicographically first set whose value is at least ``threshold``."""
        self.found: tuple[int, ...] | None = None
        self.found_value = -np.inf
        self._walk(np.zeros(self.W.shape[0]), 0.0, 0, self.p, find_first_at=threshold, chosen=())
        return self.found

    def _walk(
        self, covered: np.ndarray, value: float, start: int, k: int, *, find_first_at: float | None,
        chosen: tuple[int, ...] = (),
    ) -> bool:
        """Extend a partial set (rows' best gains ``covered``, its value) by ``k`` columns
        from ``start`` on. Returns True when pass 2 has found its set."""
        self._count()
        rest = self.W[:, start : self.n - k + 1] if k > 1 else self.W[:, start:]
        if k == 1:  # the last column: every completion's value at once
            values = np.maximum(covered[:, None], rest).sum(axis=0)
            if find_first_at is None:
                self.best = max(self.best, float(values.max()))
                return False
            hits = np.flatnonzero(values >= find_first_at)
            if len(hits):
                self.found = (*chosen, start + int(hits[0]))
                self.found_value = float(values[hits[0]])
                return True
            return False
        marginal = np.maximum(self.W[:, start:] - covered[:, None], 0.0).sum(axis=0)
        # best completion through column c: its gain and the k - 1 best gains after it
        bound = value + marginal[: rest.shape[1]] + _top_sums_after(marginal, k - 1)[: rest.shape[1]]
        floor = self.best if find_first_at is None else find_first_at
        for offset in range(rest.shape[1]):
            if bound[offset] < floor:
                continue
            c = start + offset
            if self._walk(
                np.maximum(covered, self.W[:, c]), value + float(marginal[offset]), c + 1, k - 1,
                find_first_at=find_first_at, chosen=(*chosen, c),
            ):
                return True
            if find_first_at is None:
                floor = self.best
        return False


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
    search = _Search(np.ascontiguousarray(W), p, max_nodes)
    try:
        best = search.best_value(_greedy_value(W, p) * (1.0 - TIE_RELATIVE))
        threshold = best - TIE_RELATIVE * max(abs(best), 1.0)
        columns = search.first_at(threshold)
    except _OutOfNodes:
        return None
    assert columns is not None  # the best set itself reaches the threshold
    return SubsetChoice(columns=columns, value=search.found_value, nodes=search.nodes)


__all__ = ["MAX_NODES", "TIE_RELATIVE", "SubsetChoice", "best_subset"]
