"""The p-median problem: open ``p`` new sites to minimise need-weighted travel time, exact
(its own branch and bound, :mod:`~apgeo.planning.models.subset_search`, or the integer
program) or lazy greedy.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar, Self

import numpy as np

from apgeo.planning.instance import Objective, _Instance
from apgeo.planning.models.base import (
    DEFAULT_MAX_TRAVEL_TIME_S,
    _GreedyState,
    _LocationModel,
)
from apgeo.planning.models.integer_program import IntegerProgram, ProgramRows


class _MedianState(_GreedyState):
    def __init__(self, eff: np.ndarray, need: np.ndarray, best: np.ndarray) -> None:
        self.eff, self.need, self.best = eff, need, best.copy()

    def gains_all(self, cols: np.ndarray) -> np.ndarray:
        save = np.maximum(self.best[:, None] - self.eff[:, cols], 0.0)
        return np.asarray(self.need @ save, dtype=float)

    def gain(self, j: int) -> float:
        return float(self.need @ np.maximum(self.best - self.eff[:, j], 0.0))

    def take(self, j: int) -> None:
        self.best = np.minimum(self.best, self.eff[:, j])


class PMedian(_LocationModel):
    """p-median with existing sites fixed open: minimise need-weighted travel time.

    Each row's time is its time to the nearest open site, capped at ``penalty_s``
    (default ``2 x max_travel_time_s``); a row that reaches no open site counts at
    ``penalty_s``. Integer program (savings form, ``b_i`` = capped time to the nearest
    existing site)::

        max  sum_ij need_i (b_i - t_ij) z_ij      over pairs with t_ij < b_i
        s.t. sum_j z_ij <= 1,  z_ij <= x_j,  sum_j x_j = p,  x binary, z >= 0

    Results (besides those of :meth:`solve`): ``total_time_s_`` (= ``objective_``,
    need x seconds) and ``mean_time_s_``.
    """

    objective: ClassVar[Objective] = "time"
    capacitated: ClassVar[bool] = False

    @classmethod
    def _build_from_instance(
        cls, inst: _Instance, common: dict[str, Any], *, max_travel_time_s: float,
        penalty_s: float | None, serve_all: bool,
    ) -> Self:
        return cls.from_cost_matrix(
            inst.cost_s, inst.need, max_travel_time_s=max_travel_time_s, penalty_s=penalty_s,
            **common,
        )


    _kind = "p-median"

    @classmethod
    def from_cost_matrix(
        cls,
        cost_s: Any,
        need: Any,
        *,
        p: int,
        max_travel_time_s: float = DEFAULT_MAX_TRAVEL_TIME_S,
        penalty_s: float | None = None,
        fixed_open: Any = None,
        candidates: Any = None,
        site_ids: Sequence[Any] | None = None,
        area_ids: Sequence[Any] | None = None,
        strict: bool = False,
    ) -> Self:
        """Build from a dense ``(areas, sites)`` time matrix in seconds.

        Parameters
        ----------
        cost_s, need, p, fixed_open, candidates, site_ids, area_ids, strict
            As in :meth:`MaximalCovering.from_cost_matrix`.
        max_travel_time_s
            Threshold T in seconds; sets the default penalty (2 x T).
        penalty_s
            Time counted for rows that reach no open site; longer times are capped at it.

        Returns
        -------
        PMedian
            The model, not yet solved: call :meth:`solve`.
        """
        return cls._build(
            cost_s, need, p=p, fixed_open=fixed_open, candidates=candidates,
            max_travel_time_s=max_travel_time_s, penalty_s=penalty_s, capacity=None,
            site_ids=site_ids, area_ids=area_ids, strict=strict,
        )

    def _maximise(self) -> bool:
        return False

    @property
    def effective_s(self) -> np.ndarray:
        """Times capped at ``penalty_s`` (unreachable = ``penalty_s``)."""
        return np.minimum(self.cost_s, self.penalty_s)

    def _best(self, mask: np.ndarray) -> np.ndarray:
        if not mask.any():
            return np.full(self.cost_s.shape[0], self.penalty_s)
        return np.asarray(self.effective_s[:, mask].min(axis=1), dtype=float)

    def _greedy_state(self) -> tuple[_GreedyState, float]:
        best = self._best(self.fixed)
        return _MedianState(self.effective_s, self.need, best), float(self.need @ best)

    def _nothing_to_gain(self, baseline: float) -> str:
        return "no candidate site shortens any journey to the nearest open site: nothing to add"

    def _objective_of(self, order: list[int], baseline: float, gain: float) -> float:
        # need @ best time of the open set: exact even when penalty_s dwarfs the times
        return float(self.need @ self._best(self.open_mask(order)))

    def _gain_of(self, chosen: np.ndarray) -> float:
        base = self._best(self.fixed)
        after = self._best(self.open_mask(chosen.tolist()))
        return float(self.need @ (base - after))

    def _subset_gains(self, cand: np.ndarray) -> np.ndarray:
        """Need-weighted time each candidate saves each row (the savings form)."""
        base = self._best(self.fixed)
        save = np.maximum(base[:, None] - self.effective_s[:, cand], 0.0)
        return np.where(self.need[:, None] > 0, self.need[:, None] * save, 0.0)

    def _program(self) -> IntegerProgram:
        base = self._best(self.fixed)
        cand = self._cand_cols()
        save = base[:, None] - self.effective_s[:, cand]
        rows_k, cols_k = np.nonzero((save > 0) & (self.need[:, None] > 0))
        n_x, n_z = len(cand), len(rows_k)
        names = np.concatenate(
            [[f"x_{j}" for j in cand], [f"z_{i}_{j}" for i, j in zip(rows_k.tolist(), cand[cols_k].tolist(), strict=True)]]
        ).astype(str)
        objective = np.concatenate([np.zeros(n_x), self.need[rows_k] * save[rows_k, cols_k]])
        z = n_x + np.arange(n_z)
        program_rows = ProgramRows()
        # z_ij <= x_j: an area is served by a site only if it opens
        program_rows.add_block(
            np.full(n_z, 2), np.column_stack([z, cols_k]).ravel(), np.tile([1.0, -1.0], n_z), -np.inf, 0.0
        )
        # each area served at most once (areas with one candidate need no row)
        per_row = np.bincount(rows_k, minlength=len(self.need))
        several = np.repeat(per_row > 1, per_row)
        program_rows.add_block(per_row[per_row > 1], z[several], np.ones(int(several.sum())), -np.inf, 1.0)
        program_rows.add(np.arange(n_x), np.ones(n_x), float(self.p), float(self.p))  # p sites
        return IntegerProgram.build(
            "pmedian", names=names, objective=objective,
            integer=np.arange(n_x + n_z) < n_x, rows=program_rows,
            x_cols={int(j): k for k, j in enumerate(cand)},
        )

    @property
    def total_time_s_(self) -> float:
        """Need-weighted total time (need x seconds) after adding the selected sites."""
        return self.objective_

    @property
    def mean_time_s_(self) -> float:
        """Need-weighted mean time in seconds (capped at ``penalty_s``)."""
        total = float(self.need.sum())
        return self.objective_ / total if total > 0 else math.nan


__all__ = [
    "PMedian",
]
