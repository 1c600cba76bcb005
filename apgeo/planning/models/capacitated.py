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
    Assignment,
    Method,
    _GreedyState,
    _IlpResult,
    _LocationModel,
)
from apgeo.planning.models.integer_program import IntegerProgram, ProgramRows
from apgeo.schema import CAPACITY_PLACES, SITE_ID


class _CapacityState(_GreedyState):
    """Heuristic for the capacitated models: sites fill residual need nearest first.

    ``value[i, j]`` is what one unit of row i's need is worth at site j (1 for coverage,
    ``penalty - time`` for p-median); pairs with no value are not allowed. With
    ``single=True`` a row is taken whole or not at all (first fit, nearest first).
    ``time_total`` accumulates need x time of every assignment made.
    """

    def __init__(
        self, cost: np.ndarray, value: np.ndarray, need: np.ndarray, capacity: np.ndarray,
        *, single: bool = False,
    ) -> None:
        self.cost, self.value = cost, value
        self.resid = need.astype(float, copy=True)
        self.cap = capacity.astype(float, copy=True)
        self.served = np.zeros(cost.shape[1])
        self.orders: dict[int, np.ndarray] = {}
        self.single = single
        self.time_total = 0.0

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
        if self.single and cum.size and cum[-1] > cap:
            take = _first_fit(amounts, cap)
        else:
            take = np.minimum(amounts, np.maximum(cap - (cum - amounts), 0.0))
        gain = float(take @ self.value[rows, j])
        if commit:
            self.resid[rows] -= take
            self.cap[j] -= float(take.sum())
            self.served[j] += float(take.sum())
            finite = take > 0
            self.time_total += float(take[finite] @ self.cost[rows[finite], j])
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
            if self.single and amount < self.resid[i]:
                amount = 0.0  # the row does not fit whole
            if amount > 0:
                self.resid[i] -= amount
                self.cap[j] -= amount
                self.served[j] += amount
                self.time_total += amount * float(self.cost[i, j])
                total += amount * self.value[i, j]
        return total


def _first_fit(amounts: np.ndarray, cap: float) -> np.ndarray:
    """Whole rows, in the given order, while they fit in ``cap`` (single sourcing)."""
    take = np.zeros_like(amounts)
    left = cap
    for k, amount in enumerate(amounts):
        if 0 < amount <= left * (1 + 1e-12) + 1e-12:
            take[k] = amount
            left -= amount
            if left <= 0:
                break
    return take


# ======================================================================================
# Models
# ======================================================================================


class _CapacitatedMixin(_LocationModel):
    _capacitated = True
    serve_all = False
    #: ``"split"``: an area's need may be shared between sites; ``"single"``: each area
    #: is served whole by one site (or, without ``serve_all``, not at all).
    assignment: Assignment = "split"
    #: Existing sites must be filled to their capacity (spopt's ``fulfill_predefined_fac``).
    fill_fixed = False
    _exact_served: np.ndarray | None = None
    _value_cache: np.ndarray | None = None

    def _value(self) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _state(self) -> _CapacityState:
        assert self.capacity is not None
        if self._value_cache is None:
            self._value_cache = self._value()
        return _CapacityState(
            self.cost_s, self._value_cache, self.need, self.capacity,
            single=self.assignment == "single",
        )

    def _set_options(self, *, assignment: Assignment, fill_fixed: bool) -> None:
        """Check and store the assignment rule and ``fill_fixed`` (before any solve)."""
        if assignment not in ("split", "single"):
            raise ApgeoValueError(
                f"assignment must be 'split' (need may be shared between sites) or 'single' "
                f"(each area served whole by one site); got {assignment!r}"
            )
        self.assignment = assignment
        self.fill_fixed = bool(fill_fixed)
        if not self.fill_fixed or not self.fixed.any():
            return
        assert self.capacity is not None
        caps = self.capacity[self.fixed]
        if not np.all(np.isfinite(caps)):
            bad = [self.site_ids[j] for j in np.flatnonzero(self.fixed & ~np.isfinite(self.capacity))]
            raise ApgeoValueError(
                f"fill_fixed=True fills existing sites to their capacity, but site(s) "
                f"{format_ids(bad)} have unlimited capacity; give them a number of places or "
                "set fill_fixed=False"
            )
        need = float(self.need.sum())
        if float(caps.sum()) > need + _VALUE_TOL * max(need, 1.0):
            raise ApgeoValueError(
                f"infeasible capacities: fill_fixed=True needs the existing sites filled, but "
                f"they offer {float(caps.sum()):,.1f} places for a total need of {need:,.1f}; "
                "set fill_fixed=False or check capacity_places"
            )

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

    def _best_possible_gain(self, state: _GreedyState, cand_cols: np.ndarray, method: Method) -> float:
        greedy = super()._best_possible_gain(state, cand_cols, method)
        if method == "greedy" or greedy > 0 or not len(cand_cols):
            return greedy
        # The greedy fill never moves need once placed (nor splits it under single
        # assignment), so it can see nothing to gain where the integer program can:
        # any candidate that could serve some need is worth solving for.
        assert self.capacity is not None
        value = self._value()[:, cand_cols] * self.need[:, None]
        usable = (value > 0) & (self.capacity[cand_cols] > 0)[None, :]
        return float(np.max(value, where=usable, initial=0.0))

    def _replay(self, order: list[int]) -> _CapacityState:
        """The greedy fill: existing sites first (nearest first), then ``order``."""
        state = self._state()
        state.fill_fixed(np.flatnonzero(self.fixed))
        for j in order:
            state.take(j)
        return state

    def _run_greedy(self) -> tuple[list[int], float, float]:
        if self.fill_fixed:
            state = self._state()
            state.fill_fixed(np.flatnonzero(self.fixed))
            spare = self.fixed & (state.cap > _VALUE_TOL * np.maximum(1.0, np.abs(state.cap)))
            if spare.any():
                who = ", ".join(
                    f"{self.site_ids[j]} ({state.cap[j]:,.1f} places left)" for j in np.flatnonzero(spare)[:10]
                )
                raise ApgeoValueError(
                    f"fill_fixed=True but the greedy heuristic could not fill existing site(s) "
                    f"{who} with need within reach; solve with method='exact' (which proves "
                    "whether they can be filled) or set fill_fixed=False"
                )
        order, gain, ub = super()._run_greedy()
        if self.serve_all:
            left = float(self._replay(order).resid.sum())
            if left > _VALUE_TOL * max(1.0, float(self.need.sum())):
                raise ApgeoValueError(
                    f"the greedy heuristic left {left:,.1f} need unserved although serve_all=True; "
                    "solve with method='exact', raise p or capacities, or set serve_all=False"
                )
        return order, gain, ub

    def _program(self) -> IntegerProgram:
        assert self.capacity is not None
        value = self._value()
        open_cols = np.flatnonzero(self.fixed | self.candidates)
        sub = value[:, open_cols] > 0
        sub &= (self.need > 0)[:, None]
        rows_k, cols_k = np.nonzero(sub)
        cand = self._cand_cols()
        n_x, n_y = len(cand), len(rows_k)
        site = open_cols[cols_k]  # the site of each assignment
        x_of = np.full(len(self.site_ids), -1, dtype=np.int64)
        x_of[cand] = np.arange(n_x)
        names = np.concatenate(
            [[f"x_{j}" for j in cand], [f"y_{i}_{j}" for i, j in zip(rows_k.tolist(), site.tolist(), strict=True)]]
        ).astype(str)
        objective = np.concatenate([np.zeros(n_x), self.need[rows_k] * value[rows_k, site]])
        y = n_x + np.arange(n_y)
        rows = ProgramRows()
        # y_ij <= x_j for a candidate site j
        to_candidate = x_of[site] >= 0
        n_c = int(to_candidate.sum())
        rows.add_block(
            np.full(n_c, 2), np.column_stack([y[to_candidate], x_of[site[to_candidate]]]).ravel(),
            np.tile([1.0, -1.0], n_c), -np.inf, 0.0,
        )
        # each area served once at most (exactly once when serve_all)
        per_row = np.bincount(rows_k, minlength=len(self.need))
        served = per_row > 0
        rows.add_block(per_row[served], y, np.ones(n_y), 1.0 if self.serve_all else -np.inf, 1.0)
        if self.serve_all:
            for i in np.flatnonzero((self.need > 0) & ~served):
                self._infeasible(f"row {self.area_ids[i]} can reach no open or candidate site")
        # capacity of each site, in the order the sites first serve an area
        sites, first = np.unique(site, return_index=True)
        for j in sites[np.argsort(first, kind="stable")].tolist():
            cap = float(self.capacity[j])
            if not math.isfinite(cap):
                continue
            mine = np.flatnonzero(site == j)
            if self.fill_fixed and self.fixed[j]:
                rows.add(y[mine], self.need[rows_k[mine]].astype(float), cap, cap)
            elif x_of[j] >= 0:
                rows.add(
                    np.append(y[mine], x_of[j]), np.append(self.need[rows_k[mine]].astype(float), -cap), -np.inf, 0.0
                )
            else:
                rows.add(y[mine], self.need[rows_k[mine]].astype(float), -np.inf, cap)
        if self.fill_fixed:
            serving = set(sites.tolist())
            empty = [self.site_ids[j] for j in np.flatnonzero(self.fixed & (self.capacity > 0))
                     if int(j) not in serving]
            if empty:
                self._infeasible(f"existing site(s) {format_ids(empty)} can serve no need within reach")
        rows.add(np.arange(n_x), np.ones(n_x), float(self.p), float(self.p))  # p sites
        return IntegerProgram.build(
            "capacitated", names=names, objective=objective,
            integer=np.arange(n_x + n_y) < (n_x + (n_y if self.assignment == "single" else 0)),
            rows=rows, x_cols={int(j): k for k, j in enumerate(cand)},
            extra={f"{i}_{j}": n_x + k for k, (i, j) in enumerate(zip(rows_k.tolist(), site.tolist(), strict=True))},
        )

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

    def _exact_objective(
        self, chosen: list[int], result: _IlpResult, baseline: float, gain: float
    ) -> float:
        """The objective of the ILP's assignment, summed directly over its pairs."""
        covered = 0.0
        time_total = 0.0
        for key, amount in result.values.items():
            if amount <= _VALUE_TOL:
                continue
            i, j = (int(s) for s in key.split("_"))
            covered += amount * self.need[i]
            time_total += amount * self.need[i] * float(self.cost_s[i, j])
        return self._objective_from_assignment(covered, time_total)

    def _objective_of(self, order: list[int], baseline: float, gain: float) -> float:
        state = self._replay(order)
        served = float(self.need.sum() - state.resid.sum())
        return self._objective_from_assignment(served, state.time_total)

    def _objective_from_assignment(self, served: float, time_total: float) -> float:  # pragma: no cover
        raise NotImplementedError

    def _infeasible(self, detail: str = "") -> None:
        assert self.capacity is not None
        need = float(self.need.sum())
        fixed_cap = float(self.capacity[self.fixed].sum())
        cand_caps = np.sort(self.capacity[self.candidates])[::-1][: self.p]
        rules = [r for r, on in (("every unit of need must be served (serve_all=True)", self.serve_all),
                                 ("existing sites must be filled (fill_fixed=True)", self.fill_fixed),
                                 ("each area is served whole by one site (assignment='single')",
                                  self.assignment == "single")) if on]
        switches = [s for s, on in (("serve_all=False", self.serve_all), ("fill_fixed=False", self.fill_fixed),
                                    ("assignment='split'", self.assignment == "single")) if on]
        raise ApgeoValueError(
            f"infeasible capacities: {' and '.join(rules) or 'the integer program has no solution'}"
            f" but {detail + '; ' if detail else ''}total need is {need:,.1f} places while the "
            f"existing sites offer {fixed_cap:,.1f} and the {self.p} largest candidates "
            f"{float(cand_caps.sum()):,.1f}; raise p or capacities, or set "
            f"{' or '.join(switches) or 'different capacities'}"
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
    ``assignment`` (default ``"split"``: need may be shared between sites) and
    ``fill_fixed`` as in :class:`CapacitatedPMedian`.
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
        assignment: Assignment = "split",
        fill_fixed: bool = False,
        fixed_open: Any = None,
        candidates: Any = None,
        site_ids: Sequence[Any] | None = None,
        area_ids: Sequence[Any] | None = None,
        strict: bool = False,
    ) -> Self:
        """Build from a dense time matrix; ``capacity`` holds places per site (inf = unlimited).

        Parameters
        ----------
        cost_s, need, max_travel_time_s, p, fixed_open, candidates, site_ids, area_ids, strict
            As in :meth:`MaximalCovering.from_cost_matrix`; ``need`` must be in places.
        capacity
            Places per site (``np.inf`` = unlimited).
        assignment, fill_fixed
            As in :meth:`CapacitatedPMedian.from_cost_matrix`.

        Returns
        -------
        CapacitatedMaximalCovering
            The model, not yet solved: call :meth:`solve`.
        """
        model = cls._build(
            cost_s, need, p=p, fixed_open=fixed_open, candidates=candidates,
            max_travel_time_s=max_travel_time_s, penalty_s=None, capacity=capacity,
            site_ids=site_ids, area_ids=area_ids, strict=strict,
        )
        model._set_options(assignment=assignment, fill_fixed=fill_fixed)
        return model

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

    def _objective_from_assignment(self, served: float, time_total: float) -> float:
        return served


class CapacitatedPMedian(_CapacitatedMixin):
    """p-median where each open site serves at most ``capacity`` units of need.

    Need not served by an open site within ``penalty_s`` counts at ``penalty_s``
    (or, with ``serve_all=True``, every unit of need must be served: infeasible
    capacities raise). ``objective_`` = need-weighted total time (need x seconds),
    summed directly over the assignment.

    By default (``assignment="split"``) an area's need may be shared between sites,
    so ``y_ij`` is a share in [0, 1]; ``assignment="single"`` makes ``y_ij`` binary, so
    each area goes whole to one site, as in spopt (on spopt's 2 x 3 test the
    single-sourced optimum costs 102.38, the split one 89.69). ``fill_fixed=True``
    makes every existing site serve exactly its capacity (spopt's
    ``fulfill_predefined_fac``).
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
        assignment: Assignment = "split",
        fill_fixed: bool = False,
        fixed_open: Any = None,
        candidates: Any = None,
        site_ids: Sequence[Any] | None = None,
        area_ids: Sequence[Any] | None = None,
        strict: bool = False,
    ) -> Self:
        """Build from a dense time matrix; see :meth:`PMedian.from_cost_matrix`.

        Parameters
        ----------
        capacity
            Places per site (``np.inf`` = unlimited); ``need`` is in places.
        serve_all
            Every unit of need must be served by an open site (infeasible capacities raise).
        assignment
            ``"split"`` (default): an area's need may be shared between several sites, the
            usual reading when need counts children who can go to different sites.
            ``"single"``: each area is served whole by one site (binary assignment, as in
            spopt's capacitated p-median); the greedy heuristic then fits whole areas,
            nearest first.
        fill_fixed
            Existing sites (``fixed_open``) must be filled to their capacity before new
            sites count (spopt's ``fulfill_predefined_fac``); they need finite capacities
            adding up to no more than the total need.

        Returns
        -------
        CapacitatedPMedian
            The model, not yet solved: call :meth:`solve`.
        """
        model = cls._build(
            cost_s, need, p=p, fixed_open=fixed_open, candidates=candidates,
            max_travel_time_s=max_travel_time_s, penalty_s=penalty_s, capacity=capacity,
            site_ids=site_ids, area_ids=area_ids, strict=strict,
        )
        model.serve_all = bool(serve_all)
        model._set_options(assignment=assignment, fill_fixed=fill_fixed)
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

    def _objective_from_assignment(self, served: float, time_total: float) -> float:
        total = float(self.need.sum())
        unserved = max(total - served, 0.0)
        if unserved <= _VALUE_TOL * max(total, 1.0):
            unserved = 0.0  # solver tolerance, not need left over
        return time_total + unserved * self._ceiling()

    @property
    def mean_time_s_(self) -> float:
        """Need-weighted mean time in seconds (unserved need at ``penalty_s``)."""
        total = float(self.need.sum())
        return self.objective_ / total if total > 0 else math.nan


# ======================================================================================
# Tables -> models
# ======================================================================================


__all__ = [
    "Assignment",
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
