"""The maximal covering location problem (MCLP): open ``p`` new sites to cover the most need
within a travel-time limit, exact (its own branch and bound,
:mod:`~apgeo.planning.models.subset_search`, or the integer program) or lazy greedy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar, Self

import numpy as np

from apgeo.planning.instance import Objective, _Instance
from apgeo.planning.models.base import _VALUE_TOL, _GreedyState, _LocationModel
from apgeo.planning.models.integer_program import IntegerProgram, ProgramRows


class _CoverState(_GreedyState):
    def __init__(self, cover: np.ndarray, need: np.ndarray, covered: np.ndarray) -> None:
        self.cover, self.need, self.covered = cover, need, covered.copy()

    def gains_all(self, cols: np.ndarray) -> np.ndarray:
        open_rows = ~self.covered
        return np.asarray(self.need[open_rows] @ self.cover[open_rows][:, cols], dtype=float)

    def gain(self, j: int) -> float:
        return float(self.need[~self.covered & self.cover[:, j]].sum())

    def take(self, j: int) -> None:
        self.covered |= self.cover[:, j]


class MaximalCovering(_LocationModel):
    """Maximal covering location problem (MCLP) with existing sites fixed open.

    Adds ``p`` candidate sites so as to bring the most need within
    ``max_travel_time_s`` (inclusive) of an open site. Integer program::

        max  sum_i need_i y_i
        s.t. y_i <= sum_{j candidate, t_ij <= T} x_j   (rows not already covered)
             sum_j x_j = p,  x binary,  0 <= y <= 1

    Results (besides those of :meth:`solve`): ``covered_need_``, ``total_need_``,
    ``covered_share_``.
    """

    objective: ClassVar[Objective] = "coverage"
    capacitated: ClassVar[bool] = False

    @classmethod
    def _build_from_instance(
        cls, inst: _Instance, common: dict[str, Any], *, max_travel_time_s: float,
        penalty_s: float | None, serve_all: bool,
    ) -> Self:
        return cls.from_cost_matrix(inst.cost_s, inst.need, max_travel_time_s=max_travel_time_s, **common)


    _kind = "maximal covering"

    @classmethod
    def from_cost_matrix(
        cls,
        cost_s: Any,
        need: Any,
        *,
        max_travel_time_s: float,
        p: int,
        fixed_open: Any = None,
        candidates: Any = None,
        site_ids: Sequence[Any] | None = None,
        area_ids: Sequence[Any] | None = None,
        strict: bool = False,
    ) -> Self:
        """Build from a dense ``(areas, sites)`` time matrix in seconds.

        Parameters
        ----------
        cost_s
            Travel times in seconds; NaN or inf = unreachable.
        need
            Need weight per row (children, IDACI-weighted children, referrals...).
        max_travel_time_s
            Coverage threshold T in seconds (a row is covered when ``t <= T``).
        p
            Number of candidate sites to add.
        fixed_open
            Existing sites: column positions or a boolean mask; always open.
        candidates
            Columns that may be chosen (default: every column not in ``fixed_open``).
        site_ids, area_ids
            Labels for columns and rows (default: positions).
        strict
            Turn warnings into errors.

        Returns
        -------
        MaximalCovering
            The model, not yet solved: call :meth:`solve`.
        """
        return cls._build(
            cost_s, need, p=p, fixed_open=fixed_open, candidates=candidates,
            max_travel_time_s=max_travel_time_s, penalty_s=None, capacity=None,
            site_ids=site_ids, area_ids=area_ids, strict=strict,
        )

    @property
    def cover(self) -> np.ndarray:
        """Boolean ``(rows, sites)``: the site is within T of the row."""
        return self.cost_s <= self.max_travel_time_s

    def _covered_by(self, mask: np.ndarray) -> np.ndarray:
        return np.asarray(self.cover[:, mask].any(axis=1), dtype=bool)

    def _greedy_state(self) -> tuple[_GreedyState, float]:
        covered = self._covered_by(self.fixed)
        return _CoverState(self.cover, self.need, covered), float(self.need[covered].sum())

    def _nothing_to_gain(self, baseline: float) -> str:
        total = float(self.need.sum())
        if baseline >= total - _VALUE_TOL * max(total, 1.0):
            return (
                f"all need is already within {self.max_travel_time_s / 60:g} min of an open site: "
                "no site needs to be added"
            )
        return (
            f"no candidate site brings any uncovered need within {self.max_travel_time_s / 60:g} "
            "min; try other candidates or a longer threshold"
        )

    def _gain_of(self, chosen: np.ndarray) -> float:
        mask = self.open_mask(chosen.tolist())
        base = self._covered_by(self.fixed)
        return float(self.need[self._covered_by(mask) & ~base].sum())

    def _subset_gains(self, cand: np.ndarray) -> np.ndarray:
        """Each row's need where the candidate brings it newly within T, else 0."""
        uncovered = ~self._covered_by(self.fixed) & (self.need > 0)
        return np.where(uncovered[:, None] & self.cover[:, cand], self.need[:, None], 0.0)

    def _program(self) -> IntegerProgram:
        cover = self.cover
        base = self._covered_by(self.fixed)
        cand = self._cand_cols()
        rows = np.flatnonzero(~base & (self.need > 0) & cover[:, cand].any(axis=1))
        n_x = len(cand)
        names = np.concatenate([[f"x_{j}" for j in cand], [f"y_{i}" for i in rows]]).astype(str)
        objective = np.concatenate([np.zeros(n_x), self.need[rows].astype(float)])
        # y_i <= sum of the x covering row i: y first, then the x in column order
        sub = cover[np.ix_(rows, cand)]
        k, c = np.nonzero(sub)  # row by row
        per_row = np.bincount(k, minlength=len(rows))
        row_first = np.cumsum(per_row) - per_row  # where each row's x entries begin
        program_rows = ProgramRows()
        program_rows.add_block(
            per_row + 1,
            np.insert(c, row_first, n_x + np.arange(len(rows))),
            np.insert(np.full(len(c), -1.0), row_first, 1.0),
            -np.inf, 0.0,
        )
        program_rows.add(np.arange(n_x), np.ones(n_x), float(self.p), float(self.p))  # p sites
        return IntegerProgram.build(
            "mclp", names=names, objective=objective,
            integer=np.arange(len(names)) < n_x, rows=program_rows,
            x_cols={int(j): k for k, j in enumerate(cand)},
        )

    @property
    def covered_need_(self) -> float:
        """Need within T of an open site after adding the selected sites."""
        return self.objective_

    @property
    def total_need_(self) -> float:
        """All need."""
        return float(self.need.sum())

    @property
    def covered_share_(self) -> float:
        """``covered_need_ / total_need_`` (NaN without need)."""
        total = self.total_need_
        return self.objective_ / total if total > 0 else math.nan


__all__ = [
    "MaximalCovering",
]
