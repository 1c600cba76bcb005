"""Capacitated forms of the MCLP and p-median: each site serves at most its places.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, ClassVar, Self

import numpy as np

from apgeo._errors import ApgeoValueError
from apgeo._validate import to_numeric
from apgeo.analysis.tables import format_ids
from apgeo.planning.instance import Objective, _Instance
from apgeo.planning.models.base import (
    _VALUE_TOL,
    DEFAULT_MAX_TRAVEL_TIME_S,
    _GreedyState,
    _IlpResult,
    _LocationModel,
)
from apgeo.schema import CAPACITY_PLACES, SITE_ID


class _CapacityState(_GreedyState):
    """Heuristic for the capacitated models: sites fill residual need nearest first.

    ``value[i, j]`` is what one unit of row i's need is worth at site j (1 for coverage,
    ``penalty - time`` for p-median); pairs with no value are not allowed.
    """

    def __init__(
        self, cost: np.ndarray, value: np.ndarray, need: np.ndarray, capacity: np.ndarray
    ) -> None:
        self.cost, self.value = cost, value
        self.resid = need.astype(float, copy=True)
        self.cap = capacity.astype(float, copy=True)
        self.served = np.zeros(cost.shape[1])
        self.orders: dict[int, np.ndarray] = {}

    def _order(self, j: int) -> np.ndarray:
        if j not in self.orders:
            rows = np.flatnonzero(self.value[:, j] > 0)
            self.orders[j] = rows[np.lexsort((rows, self.cost[rows, j]))]
        return self.orders[j]

    def _fill(self, j: int, commit: bool) -> float:
        rows = self._order(j)
        amounts = self.resid[rows]
        cum = np.cumsum(amounts)
        cap = self.cap[j]
        take = np.minimum(amounts, np.maximum(cap - (cum - amounts), 0.0))
        gain = float(take @ self.value[rows, j])
        if commit:
            self.resid[rows] -= take
            self.cap[j] -= float(take.sum())
            self.served[j] += float(take.sum())
        return gain

    def gain(self, j: int) -> float:
        return self._fill(j, commit=False)

    def take(self, j: int) -> None:
        self._fill(j, commit=True)

    def fill_fixed(self, fixed_cols: np.ndarray) -> float:
        """Existing sites take residual need pair by pair, shortest time first."""
        if len(fixed_cols) == 0:
            return 0.0
        sub = self.value[:, fixed_cols] > 0
        rows, k = np.nonzero(sub)
        cols = fixed_cols[k]
        order = np.lexsort((cols, rows, self.cost[rows, cols]))
        total = 0.0
        for i, j in zip(rows[order], cols[order], strict=True):
            amount = min(self.resid[i], self.cap[j])
            if amount > 0:
                self.resid[i] -= amount
                self.cap[j] -= amount
                self.served[j] += amount
                total += amount * self.value[i, j]
        return total


# ======================================================================================
# Models
# ======================================================================================


class _CapacitatedMixin(_LocationModel):
    _capacitated = True
    serve_all = False
    _exact_served: np.ndarray | None = None
    _value_cache: np.ndarray | None = None

    def _value(self) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _state(self) -> _CapacityState:
        assert self.capacity is not None
        if self._value_cache is None:
            self._value_cache = self._value()
        return _CapacityState(self.cost_s, self._value_cache, self.need, self.capacity)

    def _served(self, order: list[int]) -> np.ndarray:
        if getattr(self, "_exact_served", None) is not None:
            return np.asarray(self._exact_served)
        state = self._state()
        state.fill_fixed(np.flatnonzero(self.fixed))
        for j in order:
            state.take(j)
        return state.served

    def _reset(self) -> None:
        super()._reset()
        self._exact_served = None
        self._value_cache = None

    def _heuristic_gain(self, chosen: np.ndarray) -> float:
        state = self._state()
        state.fill_fixed(np.flatnonzero(self.fixed))
        return float(sum(state._fill(int(j), True) for j in chosen))

    def _run_greedy(self) -> tuple[list[int], float, float]:
        order, gain, ub = super()._run_greedy()
        if self.serve_all:
            state = self._state()
            state.fill_fixed(np.flatnonzero(self.fixed))
            for j in order:
                state.take(j)
            left = float(state.resid.sum())
            if left > _VALUE_TOL * max(1.0, float(self.need.sum())):
                raise ApgeoValueError(
                    f"the greedy heuristic left {left:,.1f} need unserved although serve_all=True; "
                    "solve with method='exact', raise p or capacities, or set serve_all=False"
                )
        return order, gain, ub

    def _ilp(self) -> tuple[Any, dict[int, Any], dict[str, Any]]:
        import pulp

        assert self.capacity is not None
        value = self._value()
        open_cols = np.flatnonzero(self.fixed | self.candidates)
        sub = value[:, open_cols] > 0
        sub &= (self.need > 0)[:, None]
        rows_k, cols_k = np.nonzero(sub)
        prob = pulp.LpProblem("capacitated", pulp.LpMaximize)
        cand = self._cand_cols()
        x = {int(j): prob.add_variable(f"x_{j}", cat="Binary") for j in cand}
        y: dict[str, Any] = {}
        terms = []
        by_row: dict[int, list[Any]] = {}
        by_col: dict[int, list[tuple[Any, float]]] = {}
        for i, c in zip(rows_k, cols_k, strict=True):
            j = int(open_cols[c])
            v = prob.add_variable(f"y_{i}_{j}", 0, 1)
            y[f"{i}_{j}"] = v
            terms.append((v, float(self.need[i] * value[i, j])))
            by_row.setdefault(int(i), []).append(v)
            by_col.setdefault(j, []).append((v, float(self.need[i])))
            if j in x:
                prob += pulp.LpAffineExpression([(v, 1.0), (x[j], -1.0)]) <= 0
        prob += pulp.LpAffineExpression(terms)
        for vs in by_row.values():
            if self.serve_all:
                prob += pulp.lpSum(vs) == 1
            else:
                prob += pulp.lpSum(vs) <= 1
        if self.serve_all:
            for i in np.flatnonzero(self.need > 0):
                if int(i) not in by_row:
                    self._infeasible(f"row {self.area_ids[i]} can reach no open or candidate site")
        for j, pairs in by_col.items():
            cap = float(self.capacity[j])
            if math.isfinite(cap):
                expr = pulp.LpAffineExpression(pairs)
                prob += expr <= (cap * x[j] if j in x else cap)
        prob += pulp.lpSum(x.values()) == self.p
        return prob, x, y

    def _exact_gain(self, chosen: list[int], result: _IlpResult) -> float:
        value = self._value()
        served = np.zeros(len(self.site_ids))
        total = 0.0
        for key, amount in result.values.items():
            if amount <= _VALUE_TOL:
                continue
            i, j = (int(s) for s in key.split("_"))
            served[j] += amount * self.need[i]
            total += amount * self.need[i] * value[i, j]
        self._exact_served = served
        fixed_only = self._state().fill_fixed(np.flatnonzero(self.fixed))
        # the ILP re-optimises the existing sites' assignment too: gain over the
        # nearest-first baseline
        return total - fixed_only

    def _infeasible(self, detail: str = "") -> None:
        assert self.capacity is not None
        need = float(self.need.sum())
        fixed_cap = float(self.capacity[self.fixed].sum())
        cand_caps = np.sort(self.capacity[self.candidates])[::-1][: self.p]
        raise ApgeoValueError(
            f"infeasible capacities: every unit of need must be served (serve_all=True) but "
            f"{detail + '; ' if detail else ''}total need is {need:,.1f} places while the existing "
            f"sites offer {fixed_cap:,.1f} and the {self.p} largest candidates "
            f"{float(cand_caps.sum()):,.1f}; raise p or capacities, or set serve_all=False"
        )

    def _check_serve_all(self) -> None:
        if not self.serve_all:
            return
        assert self.capacity is not None
        need = float(self.need.sum())
        cand_caps = np.sort(self.capacity[self.candidates])[::-1][: self.p]
        offer = float(self.capacity[self.fixed].sum()) + float(cand_caps.sum())
        if offer < need - _VALUE_TOL * max(need, 1.0):
            self._infeasible()


class CapacitatedMaximalCovering(_CapacitatedMixin):
    """MCLP where each open site can serve at most ``capacity`` units of need within T.

    Variables ``y_ij`` (share of row i's need served by site j, for ``t_ij <= T``)::

        max  sum_ij need_i y_ij
        s.t. sum_j y_ij <= 1,  sum_i need_i y_ij <= cap_j x_j (existing: cap_j),
             y_ij <= x_j,  sum_j x_j = p

    The greedy heuristic lets existing sites fill first (shortest time first), then adds
    the site that can serve the most residual need. ``objective_`` = need served.
    """

    objective: ClassVar[Objective] = "coverage"
    capacitated: ClassVar[bool] = True

    @classmethod
    def _build_from_instance(
        cls, inst: _Instance, common: dict[str, Any], *, max_travel_time_s: float,
        penalty_s: float | None, serve_all: bool,
    ) -> Self:
        capacity, places_need = _capacities(inst)
        return cls.from_cost_matrix(
            inst.cost_s, places_need, capacity=capacity, max_travel_time_s=max_travel_time_s,
            **common,
        )


    _kind = "capacitated maximal covering"

    @classmethod
    def from_cost_matrix(
        cls,
        cost_s: Any,
        need: Any,
        *,
        capacity: Any,
        max_travel_time_s: float,
        p: int,
        fixed_open: Any = None,
        candidates: Any = None,
        site_ids: Sequence[Any] | None = None,
        area_ids: Sequence[Any] | None = None,
        strict: bool = False,
    ) -> Self:
        """Build from a dense time matrix; ``capacity`` holds places per site (inf = unlimited).

        Other parameters as in :meth:`MaximalCovering.from_cost_matrix`; ``need`` must be
        in places.
        """
        return cls._build(
            cost_s, need, p=p, fixed_open=fixed_open, candidates=candidates,
            max_travel_time_s=max_travel_time_s, penalty_s=None, capacity=capacity,
            site_ids=site_ids, area_ids=area_ids, strict=strict,
        )

    def _value(self) -> np.ndarray:
        return (self.cost_s <= self.max_travel_time_s).astype(float)

    def _greedy_state(self) -> tuple[_GreedyState, float]:
        state = self._state()
        base = state.fill_fixed(np.flatnonzero(self.fixed))
        return state, base

    def _nothing_to_gain(self, baseline: float) -> str:
        total = float(self.need.sum())
        if baseline >= total - _VALUE_TOL * max(total, 1.0):
            return (
                f"all need is already served within {self.max_travel_time_s / 60:g} min by existing "
                "sites' capacity: no site needs to be added"
            )
        return "no candidate site can serve any unserved need within the threshold"

    def _gain_of(self, chosen: np.ndarray) -> float:  # greedy evaluation of a set
        return self._heuristic_gain(chosen)


class CapacitatedPMedian(_CapacitatedMixin):
    """p-median where each open site serves at most ``capacity`` units of need.

    Need not served by an open site within ``penalty_s`` counts at ``penalty_s``
    (or, with ``serve_all=True``, every unit of need must be served: infeasible
    capacities raise). ``objective_`` = need-weighted total time (need x seconds).
    """

    objective: ClassVar[Objective] = "time"
    capacitated: ClassVar[bool] = True

    @classmethod
    def _build_from_instance(
        cls, inst: _Instance, common: dict[str, Any], *, max_travel_time_s: float,
        penalty_s: float | None, serve_all: bool,
    ) -> Self:
        capacity, places_need = _capacities(inst)
        return cls.from_cost_matrix(
            inst.cost_s, places_need, capacity=capacity, max_travel_time_s=max_travel_time_s,
            **common,
            penalty_s=penalty_s, serve_all=serve_all,
        )


    _kind = "capacitated p-median"

    @classmethod
    def from_cost_matrix(
        cls,
        cost_s: Any,
        need: Any,
        *,
        capacity: Any,
        p: int,
        max_travel_time_s: float = DEFAULT_MAX_TRAVEL_TIME_S,
        penalty_s: float | None = None,
        serve_all: bool = False,
        fixed_open: Any = None,
        candidates: Any = None,
        site_ids: Sequence[Any] | None = None,
        area_ids: Sequence[Any] | None = None,
        strict: bool = False,
    ) -> Self:
        """Build from a dense time matrix; see :meth:`PMedian.from_cost_matrix`.

        ``capacity`` holds places per site (inf = unlimited), ``need`` is in places.
        ``serve_all=True`` requires every unit of need to be served by an open site.
        """
        model = cls._build(
            cost_s, need, p=p, fixed_open=fixed_open, candidates=candidates,
            max_travel_time_s=max_travel_time_s, penalty_s=penalty_s, capacity=capacity,
            site_ids=site_ids, area_ids=area_ids, strict=strict,
        )
        model.serve_all = bool(serve_all)
        model._check_serve_all()
        return model

    def _maximise(self) -> bool:
        return False

    def _ceiling(self) -> float:
        """Cost of one unit of unserved need (serve_all: above every reachable time)."""
        if self.serve_all:
            finite = self.cost_s[np.isfinite(self.cost_s)]
            return max(self.penalty_s, float(finite.max()) if finite.size else 0.0) + 1.0
        return self.penalty_s

    def _value(self) -> np.ndarray:
        ceiling = self._ceiling()
        if self.serve_all:
            return np.where(np.isfinite(self.cost_s), ceiling - self.cost_s, 0.0)
        return np.maximum(ceiling - self.cost_s, 0.0)

    def _greedy_state(self) -> tuple[_GreedyState, float]:
        state = self._state()
        saved = state.fill_fixed(np.flatnonzero(self.fixed))
        return state, float(self.need.sum()) * self._ceiling() - saved

    def _nothing_to_gain(self, baseline: float) -> str:
        return "no candidate site can serve any need faster than today: nothing to add"

    def _gain_of(self, chosen: np.ndarray) -> float:
        return self._heuristic_gain(chosen)

    @property
    def mean_time_s_(self) -> float:
        """Need-weighted mean time in seconds (unserved need at ``penalty_s``)."""
        total = float(self.need.sum())
        return self.objective_ / total if total > 0 else math.nan


# ======================================================================================
# Tables -> models
# ======================================================================================


__all__ = [
    "CapacitatedMaximalCovering",
    "CapacitatedPMedian",
]


def _capacities(inst: _Instance) -> tuple[np.ndarray, np.ndarray]:
    """Places of every site (existing + candidates) and need in places, of an instance."""
    cap = inst.sites[CAPACITY_PLACES]
    capacity = to_numeric(cap, column=CAPACITY_PLACES, source="existing + candidates").to_numpy(dtype=float)
    missing = np.isnan(capacity)
    if missing.any():
        raise ApgeoValueError(
            f"infeasible capacities: capacity_places is unknown for {int(missing.sum())} site(s) "
            f"({format_ids(inst.sites[SITE_ID][missing])}); the capacitated models need a number "
            "of places for every site (use inf for 'no limit')"
        )
    return capacity, inst.need * inst.places_per_need
