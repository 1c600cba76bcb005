"""The shared machinery of the location models: solvers (HiGHS given the model's integer
program as arrays, CBC or a caller's PuLP solver as fallback, see
:mod:`~apgeo.planning.models.integer_program`), the lazy-greedy search with its bound and
gap, and :class:`_LocationModel`.
"""

from __future__ import annotations

import heapq
import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Literal, Self

import numpy as np
import pandas as pd

from apgeo._cache import array_digest, cache_key, cached_arrays
from apgeo._errors import ApgeoValueError
from apgeo._log import warn
from apgeo.analysis.tables import format_ids
from apgeo.planning.instance import (
    Objective,
    WeightBy,
    _check_minutes,
    _Instance,
    _instance_from_tables,
)
from apgeo.planning.models.integer_program import (
    HighsSolver,
    IntegerProgram,
    native_stdout_silenced,
    solve_with_highs,
    to_pulp,
)
from apgeo.planning.models.integer_program import IlpResult as _IlpResult
from apgeo.planning.models.subset_search import best_subset

DEFAULT_MAX_TRAVEL_TIME_S = 1800.0
DEFAULT_TIME_LIMIT_S = 60.0
Method = Literal["exact", "greedy", "both"]
#: Capacitated models: may an area's need be split between sites, or go whole to one?
Assignment = Literal["split", "single"]
SolverChoice = Literal["auto", "highs", "cbc"]
#: ``solver_`` of a model solved by its own exact search (:meth:`_LocationModel._exact_search`).
SEARCH_SOLVER = "branch and bound"

_EPS_BOUND = 1e-9  # relative inflation of first greedy bounds (float noise)
_VALUE_TOL = 1e-7  # rounding of binary variables and tiny objective noise


# ======================================================================================
# Solvers
# ======================================================================================


@lru_cache(maxsize=1)
def _available_solvers() -> tuple[str, ...]:
    import pulp

    return tuple(pulp.listSolvers(onlyAvailable=True))


def _pick_solver(solver: SolverChoice | Any, time_limit_s: float) -> tuple[Any | None, str]:
    """Return ``(solver or None, name or reason)``: HiGHS through its own interface, else a
    PuLP solver."""
    import pulp

    if not isinstance(solver, str):
        return solver, type(solver).__name__
    available = _available_solvers()
    wanted = {
        "auto": ("HiGHS", "COIN_CMD", "PULP_CBC_CMD"),
        "highs": ("HiGHS",),
        "cbc": ("COIN_CMD", "PULP_CBC_CMD"),
    }
    if solver not in wanted:
        raise ApgeoValueError(f"solver must be 'auto', 'highs' or 'cbc' (or a PuLP solver); got {solver!r}")
    for name in wanted[solver]:
        if name in available:
            if name == "HiGHS":  # given the program's arrays directly
                return HighsSolver(time_limit_s), name
            with warnings.catch_warnings():
                # PuLP 3.3 deprecates its bundled CBC (PULP_CBC_CMD) in favour of COIN_CMD
                # with a separately installed CBC; the bundled one still works.
                warnings.filterwarnings("ignore", message=".*PULP_CBC_CMD is deprecated", category=DeprecationWarning)
                cls = getattr(pulp, name)
                return cls(msg=False, timeLimit=time_limit_s, threads=1), name
    return None, f"solver {solver!r} is not available (PuLP finds: {list(available) or 'none'})"


def _run_ilp(program: IntegerProgram, solver: Any) -> _IlpResult:
    """Solve a model's integer program; report optimality honestly (time limits included).
    HiGHS is given the arrays (:func:`~apgeo.planning.models.integer_program.solve_with_highs`);
    another solver gets them as a PuLP problem."""
    if isinstance(solver, HighsSolver):
        return solve_with_highs(program, solver)
    import pulp

    prob, variables = to_pulp(program)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*PULP_CBC_CMD is deprecated", category=DeprecationWarning)
            with native_stdout_silenced():
                prob.solve(solver)
    except pulp.PulpSolverError as err:  # pragma: no cover - depends on the installation
        return _IlpResult([], "Error", False, {}, f"the solver failed: {err}")
    status = pulp.LpStatus.get(prob.status, str(prob.status))
    sol = getattr(prob, "sol_status", None)
    optimal = prob.status == pulp.LpStatusOptimal and sol in (None, pulp.LpSolutionOptimal)
    if prob.status == pulp.LpStatusInfeasible:
        return _IlpResult([], "Infeasible", False, {}, "the integer program is infeasible")
    if not optimal:
        return _IlpResult(
            [], status, False, {}, f"the solver stopped before proving optimality (status {status!r}, "
            "time limit reached?)"
        )
    return program.optimal(np.array([v.value() or 0.0 for v in variables], dtype=float))


def _solver_version(name: str) -> str:
    """PuLP's version and, for HiGHS, the solver's (a cached solution names both)."""
    from importlib.metadata import PackageNotFoundError, version

    import pulp

    try:
        extra = f" highspy {version('highspy')}" if name == "HiGHS" else ""
    except PackageNotFoundError:  # pragma: no cover - HiGHS found without its package
        extra = " highspy unknown"
    return f"pulp {pulp.__version__}{extra}"


def _settings_digest(model: object) -> str | None:
    """Digest of everything a model's integer program is built from: its class and every
    setting (attributes not starting or ending in ``_``; fitted results end in ``_``).
    ``None`` when a setting is of a kind that cannot be digested (then nothing is cached)."""
    parts: dict[str, str] = {"class": f"{type(model).__module__}.{type(model).__qualname__}"}
    plain = (bool, int, float, str, np.integer, np.floating, np.bool_)
    for name, value in sorted(vars(model).items()):
        if name.startswith("_") or name.endswith("_"):
            continue
        if isinstance(value, np.ndarray):
            parts[name] = array_digest(value)
        elif value is None or isinstance(value, plain):
            parts[name] = repr(value)
        elif isinstance(value, (list, tuple)) and all(isinstance(v, plain) for v in value):
            parts[name] = cache_key({"items": [repr(v) for v in value]}, length=64)
        else:
            return None
    return cache_key(parts, length=64)


def _solve_ilp_cached(
    model: _LocationModel, engine: Any, name: str, time_limit_s: float, cache_dir: Path | None
) -> _IlpResult:
    """Build and solve the model's integer program, or take its proven-optimal solution
    from ``cache_dir`` (kept under a digest of the model's settings, the solver, its
    version and the time limit). Only optimal solutions are cached; a solver object
    passed by the caller is never cached (its options are unknown)."""
    solved: list[_IlpResult] = []

    def compute() -> dict[str, np.ndarray] | None:
        result = _run_ilp(model._program(), engine)
        solved.append(result)
        if not result.optimal:
            return None
        return {
            "chosen": np.asarray(result.chosen, dtype=np.int64),
            "value_names": np.array(list(result.values), dtype=str),
            "values": np.array(list(result.values.values()), dtype=float),
        }

    settings = None if cache_dir is None else _settings_digest(model)
    folder = None if settings is None or cache_dir is None else cache_dir / "solutions"
    payload = {
        "kind": "location model solution",
        "model": settings,
        "solver": name,
        "solver_version": _solver_version(name) if folder is not None else "",
        "time_limit_s": float(time_limit_s),
    }
    data = cached_arrays(folder, payload, compute, code=[__name__])
    if solved:
        return solved[0]
    assert data is not None  # a cache hit
    values = dict(zip(data["value_names"].tolist(), data["values"].tolist(), strict=True))
    return _IlpResult([int(j) for j in data["chosen"]], "Optimal", True, values, "")


# ======================================================================================
# Lazy greedy
# ======================================================================================


class _GreedyState:
    """Incremental state of a greedy run: marginal gains and commits."""

    def gains_all(self, cols: np.ndarray) -> np.ndarray:
        return np.array([self.gain(int(j)) for j in cols], dtype=float)

    def gain(self, j: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def take(self, j: int) -> None:  # pragma: no cover - abstract
        raise NotImplementedError


@dataclass
class _GreedyRun:
    order: list[int]
    gains: list[float]
    upper_bound_gain: float  # certified for submodular gains, else nan


def _lazy_greedy(
    state: _GreedyState, cols: np.ndarray, p: int, *, submodular: bool = True
) -> _GreedyRun:
    """Lazy greedy: pick ``p`` of ``cols`` maximising marginal gain (ties: lowest column).

    A heap holds upper bounds on each column's marginal gain. The top entry is
    re-evaluated when its bound is stale; a fresh top is the true best (gains only shrink
    as sites are added). Picks exactly what plain greedy would, with far fewer
    evaluations. For submodular gains, ``upper_bound_gain`` bounds the optimum
    (f(OPT) <= f(S) + sum of the p largest marginal gains w.r.t. S).
    """
    first = state.gains_all(cols)
    heap: list[tuple[float, int, int]] = [
        (-(g * (1 + _EPS_BOUND) + _EPS_BOUND), int(j), -1) for g, j in zip(first, cols, strict=True)
    ]
    heapq.heapify(heap)
    order: list[int] = []
    gains: list[float] = []
    total = 0.0
    best_bound = math.inf
    while len(order) < p and heap:
        if submodular:
            top = heapq.nsmallest(p, heap)
            best_bound = min(best_bound, total + sum(max(-b, 0.0) for b, _, _ in top))
        stamp = len(order)
        while True:
            neg, j, seen = heapq.heappop(heap)
            if seen == stamp:
                break
            heapq.heappush(heap, (-state.gain(j), j, stamp))
        state.take(j)
        order.append(j)
        gains.append(-neg)
        total += -neg
    if submodular:
        if heap:
            top = heapq.nsmallest(p, heap)
            best_bound = min(best_bound, total + sum(max(-b, 0.0) for b, _, _ in top))
        else:
            best_bound = min(best_bound, total)
    return _GreedyRun(order, gains, best_bound if submodular else math.nan)


def _as_cost_matrix(cost_s: Any) -> np.ndarray:
    try:
        cost = np.array(cost_s, dtype=float)
    except (TypeError, ValueError):
        raise ApgeoValueError(
            "cost_s must be a 2-D array of travel times in seconds (NaN/inf = unreachable)"
        ) from None
    if cost.ndim != 2 or cost.shape[0] == 0 or cost.shape[1] == 0:
        raise ApgeoValueError(
            f"cost_s must be a non-empty 2-D array (areas x sites); got shape {cost.shape}"
        )
    cost[np.isnan(cost)] = np.inf
    if (cost < 0).any():
        i, j = np.argwhere(cost < 0)[0]
        raise ApgeoValueError(
            f"cost_s must hold times >= 0 seconds; found {cost[i, j]:g} at row {i}, column {j}"
        )
    return cost


def _as_mask(value: Any, m: int, *, name: str) -> np.ndarray:
    if value is None:
        return np.zeros(m, dtype=bool)
    arr = np.asarray(value)
    if arr.dtype == bool:
        if arr.shape != (m,):
            raise ApgeoValueError(f"{name} as a boolean mask needs one value per site ({m}); got {arr.shape}")
        return arr.copy()
    try:
        idx = arr.astype(int).ravel()
    except (TypeError, ValueError):
        raise ApgeoValueError(f"{name} must be column positions or a boolean mask; got {value!r}") from None
    if idx.size and (idx.min() < 0 or idx.max() >= m):
        raise ApgeoValueError(f"{name} holds column positions outside 0..{m - 1}: {sorted(set(idx.tolist()))}")
    mask = np.zeros(m, dtype=bool)
    mask[idx] = True
    return mask


class _LocationModel:
    #: What the model optimises: need covered within T, or need-weighted time.
    objective: ClassVar[Objective] = "coverage"
    #: Whether each site serves at most its places.
    capacitated: ClassVar[bool] = False
    """Shared machinery; see the concrete models for the objectives."""

    _capacitated = False
    _kind = "model"

    def __init__(
        self,
        cost_s: np.ndarray,
        need: np.ndarray,
        *,
        p: int,
        fixed: np.ndarray,
        candidates: np.ndarray,
        max_travel_time_s: float,
        penalty_s: float,
        capacity: np.ndarray | None,
        site_ids: list[Any],
        area_ids: list[Any],
    ) -> None:
        self.cost_s = cost_s
        self.need = need
        self.p = p
        self.fixed = fixed
        self.candidates = candidates
        self.max_travel_time_s = max_travel_time_s
        self.penalty_s = penalty_s
        self.capacity = capacity
        self.site_ids = site_ids
        self.area_ids = area_ids
        self.instance_: _Instance | None = None
        self._reset()

    def _repr_html_(self) -> str:
        from apgeo._repr import html_summary

        n, m = self.cost_s.shape
        rows: list[tuple[str, object]] = [
            ("Sites to open (p)", self.p),
            ("Demand areas x sites", f"{n} x {m}"),
            ("Within (T, min)", self.max_travel_time_s / 60.0),
        ]
        if not self.method_:
            rows.append(("Status", "not solved yet: call .solve()"))
        else:
            rows += [
                ("Selected sites", [str(s) for s in self.selected_]),
                ("Objective", self.objective_),
                ("Gain over existing sites", self.gain_),
                ("Status", self.status_),
                ("Optimality gap", self.gap_),
            ]
        method = f"{self.method_} ({self.solver_})" if self.method_ else None
        return html_summary(f"{self._kind.capitalize()} model", rows, method=method)

    def _reset(self) -> None:
        self.selected_: list[Any] = []
        self.selected_index_: np.ndarray = np.zeros(0, dtype=int)
        self.objective_: float = math.nan
        self.baseline_: float = math.nan
        self.gain_: float = math.nan
        self.gap_: float = math.nan
        self.gap_bound_: float = math.nan
        self.greedy_gain_: float = math.nan
        self.solver_: str = ""
        self.status_: str = ""
        self.method_: str = ""
        self.message_: str = ""
        self.solve_time_s_: float = math.nan
        self.served_need_: np.ndarray = np.zeros(len(self.site_ids))

    # ---- construction -----------------------------------------------------------------
    @classmethod
    def _build(
        cls,
        cost_s: Any,
        need: Any,
        *,
        p: int,
        fixed_open: Any,
        candidates: Any,
        max_travel_time_s: float,
        penalty_s: float | None,
        capacity: Any,
        site_ids: Sequence[Any] | None,
        area_ids: Sequence[Any] | None,
        strict: bool,
    ) -> Self:
        cost = _as_cost_matrix(cost_s)
        n, m = cost.shape
        try:
            w = np.array(need, dtype=float).ravel()
        except (TypeError, ValueError):
            raise ApgeoValueError("need must be numbers, one per row of cost_s") from None
        if w.shape != (n,):
            raise ApgeoValueError(f"need must hold one value per row of cost_s ({n}); got {w.shape[0]}")
        if not np.all(np.isfinite(w)) or (w < 0).any():
            bad = np.flatnonzero(~np.isfinite(w) | (w < 0))
            raise ApgeoValueError(
                f"need must be finite and >= 0; bad at row(s) {format_ids(bad.tolist())}: "
                f"{format_ids(w[bad].tolist())}"
            )
        if not np.isfinite(max_travel_time_s) or max_travel_time_s <= 0:
            raise ApgeoValueError(
                f"max_travel_time_s must be a positive number of seconds; got {max_travel_time_s!r}"
            )
        pen = 2.0 * max_travel_time_s if penalty_s is None else float(penalty_s)
        if not np.isfinite(pen) or pen <= 0:
            raise ApgeoValueError(f"penalty_s must be a positive number of seconds; got {penalty_s!r}")
        fixed = _as_mask(fixed_open, m, name="fixed_open")
        cand = ~fixed if candidates is None else _as_mask(candidates, m, name="candidates")
        both = fixed & cand
        if both.any():
            raise ApgeoValueError(
                f"column(s) {format_ids(np.flatnonzero(both).tolist())} are both fixed_open and "
                "candidates; a site is either already open or a candidate"
            )
        sids = list(range(m)) if site_ids is None else list(site_ids)
        aids = list(range(n)) if area_ids is None else list(area_ids)
        if len(sids) != m or len(aids) != n:
            raise ApgeoValueError(
                f"site_ids needs {m} labels and area_ids {n}; got {len(sids)} and {len(aids)}"
            )
        n_cand = int(cand.sum())
        if isinstance(p, bool) or not isinstance(p, (int, np.integer)) or p < 1:
            raise ApgeoValueError(f"p must be a whole number of sites to add, at least 1; got {p!r}")
        if p > n_cand:
            raise ApgeoValueError(
                f"p={p} but there are only {n_cand} candidate site(s); lower p to at most "
                f"{n_cand} or add candidates"
            )
        cap: np.ndarray | None = None
        if cls._capacitated:
            if capacity is None:
                raise ApgeoValueError(
                    f"{cls.__name__} needs capacity: one number of places per site "
                    "(np.inf = unlimited)"
                )
            try:
                cap = np.array(capacity, dtype=float).ravel()
            except (TypeError, ValueError):
                raise ApgeoValueError("capacity must be numbers of places, one per site") from None
            if cap.shape != (m,):
                raise ApgeoValueError(f"capacity needs one value per site ({m}); got {cap.shape[0]}")
            used = fixed | cand
            bad = used & (np.isnan(cap) | (cap < 0))
            if bad.any():
                who = ", ".join(f"{sids[j]} ({cap[j]:g})" for j in np.flatnonzero(bad)[:10])
                raise ApgeoValueError(
                    f"infeasible capacities: capacity must be >= 0 places (np.inf = unlimited) "
                    f"for every open or candidate site; bad for {who}; fill capacity_places"
                )
        reach = np.isfinite(cost[w > 0]).any(axis=0) if (w > 0).any() else np.zeros(m, dtype=bool)
        lost = cand & ~reach
        if lost.any():
            warn(
                f"{int(lost.sum())} candidate site(s) cannot be reached from any area with need "
                f"({format_ids([sids[j] for j in np.flatnonzero(lost)])}); they can never be "
                "recommended: check their location or snapping",
                strict=strict,
                stacklevel=4,
            )
        model = cls(
            cost, w, p=int(p), fixed=fixed, candidates=cand, max_travel_time_s=float(max_travel_time_s),
            penalty_s=pen, capacity=cap, site_ids=sids, area_ids=aids,
        )
        return model

    @classmethod
    def from_tables(
        cls,
        travel_times: pd.DataFrame,
        demand: pd.DataFrame,
        existing: pd.DataFrame | None,
        candidates: pd.DataFrame,
        *,
        mode: str,
        p: int,
        key_stages: Sequence[str] | str | None = None,
        max_travel_time_min: float = 30.0,
        penalty_min: float | None = None,
        weight_by: WeightBy = "idaci",
        need_column: str | None = None,
        fill_missing_need: float | None = None,
        places_per_need: float = 1.0,
        serve_all: bool = False,
        assignment: Assignment = "split",
        fill_fixed: bool = False,
        strict: bool = False,
    ) -> Self:
        """Build the model from the seam tables (the thin adapter over ``from_cost_matrix``).

        Parameters
        ----------
        travel_times
            Long table ``origin_id, destination_id, travel_time_s`` covering existing
            and candidate sites (one table; NaN or a missing pair = unreachable). Rows
            for sites in neither table are ignored.
        demand
            One row per area: ``area_id``, ``children_ks*``, ``idaci_decile`` (for
            ``weight_by="idaci"``), ``imd_decile`` (for the explanations).
        existing
            Existing provider sites (``site_id, provider_id, kind, key_stages``), fixed
            open; ``None`` for none.
        candidates
            Candidate sites: ``site_id`` (``name``, ``key_stages``, ``capacity_places``
            optional; key stages default to the planned ones).
        mode
            Travel mode label (filters ``travel_times`` when it has a ``mode`` column).
        p
            Number of sites to add.
        key_stages
            Key stages planned for (``None`` = KS1..KS5); one demand row per area and
            key stage, served only by sites serving that key stage.
        max_travel_time_min
            Threshold T in minutes.
        penalty_min
            p-median penalty in minutes (default 2 x T).
        weight_by
            ``"idaci"``: children x (11 - IDACI decile) / 10; ``"none"``: children;
            ``"need"``: ``need_column`` split over key stages in proportion to children.
        need_column, fill_missing_need
            User need column and the value for its suppressed (NaN) cells.
        places_per_need
            Capacitated models: places needed per unit of need.
        serve_all
            Capacitated p-median: every unit of need must be served.
        assignment
            Capacitated models: ``"split"`` (default; an area's need may be shared
            between sites) or ``"single"`` (each area served whole by one site).
        fill_fixed
            Capacitated models: existing sites must be filled to their capacity.
        strict
            Turn warnings into errors.
        """
        _check_minutes(max_travel_time_min, "max_travel_time_min")
        inst = _instance_from_tables(
            travel_times, demand, existing, candidates, mode=mode, key_stages=key_stages,
            weight_by=weight_by, need_column=need_column, fill_missing_need=fill_missing_need,
            places_per_need=places_per_need, strict=strict,
        )
        return cls.from_instance(
            inst, p=p, max_travel_time_s=max_travel_time_min * 60.0,
            penalty_s=None if penalty_min is None else penalty_min * 60.0,
            serve_all=serve_all, assignment=assignment, fill_fixed=fill_fixed, strict=strict,
        )

    @classmethod
    def from_instance(
        cls,
        inst: _Instance,
        *,
        p: int,
        max_travel_time_s: float,
        penalty_s: float | None,
        serve_all: bool,
        strict: bool,
        assignment: Assignment = "split",
        fill_fixed: bool = False,
    ) -> Self:
        """The model of a prepared instance (:func:`apgeo.planning.instance._instance_from_tables`)."""
        labels = [f"{a} {ks}" for a, ks in zip(inst.row_area, inst.row_ks, strict=True)]
        common: dict[str, Any] = {
            "p": p, "fixed_open": inst.fixed, "site_ids": inst.site_ids, "area_ids": labels,
            "strict": strict,
        }
        model = cls._build_from_instance(
            inst, common, max_travel_time_s=max_travel_time_s, penalty_s=penalty_s,
            serve_all=serve_all,
        )
        model._set_options(assignment=assignment, fill_fixed=fill_fixed)
        model.instance_ = inst
        return model

    @classmethod
    def _build_from_instance(
        cls,
        inst: _Instance,
        common: dict[str, Any],
        *,
        max_travel_time_s: float,
        penalty_s: float | None,
        serve_all: bool,
    ) -> Self:  # pragma: no cover - abstract
        raise NotImplementedError

    # ---- objective hooks (overridden) --------------------------------------------------
    def _greedy_state(self) -> tuple[_GreedyState, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _program(self) -> IntegerProgram:  # pragma: no cover - abstract
        raise NotImplementedError

    def _gain_of(self, chosen: np.ndarray) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def _maximise(self) -> bool:
        return True

    def _objective_from(self, baseline: float, gain: float) -> float:
        return baseline + gain if self._maximise() else baseline - gain

    def _nothing_to_gain(self, baseline: float) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    # ---- solving ----------------------------------------------------------------------
    def _cand_cols(self) -> np.ndarray:
        return np.flatnonzero(self.candidates)

    def rank(self, chosen: Sequence[int]) -> list[int]:
        """Order a set of chosen columns greedily: each next site adds the most."""
        state, _ = self._greedy_state()
        cols = np.asarray(sorted(int(c) for c in chosen), dtype=int)
        return _lazy_greedy(state, cols, len(cols), submodular=False).order

    def _set_options(self, *, assignment: Assignment, fill_fixed: bool) -> None:
        """Capacity options; the uncapacitated models refuse anything but the defaults."""
        if assignment != "split" or fill_fixed:
            raise ApgeoValueError(
                f"assignment={assignment!r} and fill_fixed={fill_fixed!r} apply to the capacitated "
                f"models only; {type(self).__name__} has no capacities (use "
                f"Capacitated{type(self).__name__} or leave the defaults)"
            )

    def _run_greedy(self) -> tuple[list[int], float, float]:
        state, _ = self._greedy_state()
        run = _lazy_greedy(state, self._cand_cols(), self.p, submodular=not self._capacitated)
        return run.order, float(sum(run.gains)), run.upper_bound_gain

    def solve(
        self,
        method: Method = "exact",
        *,
        solver: SolverChoice | Any = "auto",
        time_limit_s: float = DEFAULT_TIME_LIMIT_S,
        strict: bool = False,
        cache_dir: str | Path | None = None,
    ) -> Self:
        """Choose ``p`` candidate sites; returns ``self`` with the fitted results.

        Parameters
        ----------
        method
            ``"exact"``: integer program (falls back to greedy with a warning when no
            solver is available or it stops early); ``"greedy"``: lazy greedy;
            ``"both"``: exact answer, with greedy's gap in ``gap_``.
        solver
            ``"auto"`` (the p-median and the maximal covering model by their own exact
            branch and bound, :mod:`~apgeo.planning.models.subset_search`, when it ends
            within its budget; otherwise, and for the capacitated models, HiGHS if
            installed, else CBC),
            ``"highs"``, ``"cbc"`` or a PuLP solver object.
        time_limit_s
            Solver time limit in seconds.
        strict
            Turn warnings (fallback to greedy, nothing to gain) into errors.
        cache_dir
            A folder for proven-optimal integer-program solutions, kept under a digest of
            the model's settings, the solver and its version: solving the same model
            again reads the solution instead (same result). ``None`` (default): no cache.

        Results
        -------
        ``selected_`` (site labels in rank order: each adds the most given the earlier
        ones), ``selected_index_`` (columns), ``objective_``, ``baseline_`` (existing
        sites only), ``gain_``, ``gap_`` (NaN when unknown), ``gap_bound_`` (certified
        upper bound on the gap), ``solver_``, ``status_``, ``method_``, ``message_``,
        ``solve_time_s_``, ``served_need_`` (capacitated: need served per site).
        """
        if method not in ("exact", "greedy", "both"):
            raise ApgeoValueError(f"method must be 'exact', 'greedy' or 'both'; got {method!r}")
        if not np.isfinite(time_limit_s) or time_limit_s <= 0:
            raise ApgeoValueError(f"time_limit_s must be a positive number of seconds; got {time_limit_s!r}")
        self._reset()
        cache_dir = None if cache_dir is None else Path(cache_dir)
        start = time.perf_counter()
        state, baseline = self._greedy_state()
        self.baseline_ = baseline
        cand_cols = self._cand_cols()
        best_possible = self._best_possible_gain(state, cand_cols, method)
        if best_possible <= _VALUE_TOL * max(1.0, abs(baseline)):
            self.message_ = self._nothing_to_gain(baseline)
            warn(self.message_, strict=strict, stacklevel=3)
            self.objective_, self.gain_, self.gap_, self.gap_bound_ = baseline, 0.0, 0.0, 0.0
            self.method_, self.solver_, self.status_ = method, "none", "nothing to gain"
            self.solve_time_s_ = time.perf_counter() - start
            return self

        chosen: list[int]
        if method in ("exact", "both"):
            engine: Any | None = None
            result: _IlpResult | None = None
            searched = self._exact_search() if isinstance(solver, str) and solver == "auto" else None
            if searched is not None:  # the model's own exact search (p-median, covering)
                name, result = SEARCH_SOLVER, _IlpResult(searched, "Optimal", True, {}, "")
            else:
                engine, name = _pick_solver(solver, time_limit_s)
            if engine is not None:
                result = _solve_ilp_cached(
                    self, engine, name, time_limit_s, cache_dir if isinstance(solver, str) else None
                )
                if result.status == "Infeasible":
                    self._infeasible()
            if result is None or not result.optimal:
                why = name if result is None else f"{name}: {result.message}"
                warn(
                    f"exact solve not available ({why}); fell back to the greedy heuristic, so "
                    "the optimality gap is unknown",
                    strict=strict,
                    stacklevel=3,
                )
                order, gain, ub = self._run_greedy()
                self._finish(order, gain, baseline, self._objective_of(order, baseline, gain),
                             "greedy (fallback)", name if engine else "none",
                             "Not Solved" if result is None else result.status, ub)
            else:
                chosen = result.chosen
                gain = self._exact_gain(chosen, result)
                objective = self._exact_objective(chosen, result, baseline, gain)
                self._finish(self.rank(chosen), gain, baseline, objective, "exact", name, "Optimal", gain)
                self.gap_, self.gap_bound_ = 0.0, 0.0
                if method == "both":
                    g_order, g_gain, _ = self._run_greedy()
                    self.greedy_gain_ = g_gain
                    g_objective = self._objective_of(g_order, baseline, g_gain)
                    self.gap_ = max(self._gap(baseline, gain, g_gain, objective, g_objective), 0.0)
                    self.method_ = "both"
        else:
            order, gain, ub = self._run_greedy()
            self._finish(order, gain, baseline, self._objective_of(order, baseline, gain), "greedy",
                         "lazy greedy", "heuristic", ub)
        self.solve_time_s_ = time.perf_counter() - start
        return self

    def _exact_search(self) -> list[int] | None:
        """The optimal ``p`` candidates by branch and bound over the model's gains
        (:func:`~apgeo.planning.models.subset_search.best_subset`: the same optimum as the
        integer program, exactly, ties to the candidates first in the list), or ``None``:
        the model has no such gains (capacitated), there is nothing to choose or too few
        candidates (the program says which), or the search's node budget ran out."""
        cand = self._cand_cols()
        if not 1 <= self.p <= len(cand):
            return None
        gains = self._subset_gains(cand)
        if gains is None:
            return None
        choice = best_subset(gains, self.p)
        return None if choice is None else [int(cand[c]) for c in choice.columns]

    def _subset_gains(self, cand: np.ndarray) -> np.ndarray | None:
        """``(rows, candidates)`` gains whose best-of-set sum the model maximises (the
        p-median and the maximal covering model); ``None``: solve the integer program."""
        return None

    def _best_possible_gain(self, state: _GreedyState, cand_cols: np.ndarray, method: Method) -> float:
        """The largest first-step gain; zero means there is nothing to add."""
        return float(state.gains_all(cand_cols).max()) if len(cand_cols) else 0.0

    def _exact_gain(self, chosen: list[int], result: _IlpResult) -> float:
        return self._gain_of(np.asarray(chosen, dtype=int))

    def _objective_of(self, order: list[int], baseline: float, gain: float) -> float:
        """The objective with the existing sites and ``order`` open.

        Coverage models add the gain to the baseline (sums of need, no cancellation);
        the time models override this to compute need @ time of the open set directly,
        never as a difference of two large numbers.
        """
        return self._objective_from(baseline, gain)

    def _exact_objective(
        self, chosen: list[int], result: _IlpResult, baseline: float, gain: float
    ) -> float:
        return self._objective_of(chosen, baseline, gain)

    def _infeasible(self) -> None:
        raise ApgeoValueError("the integer program is infeasible")  # pragma: no cover

    def _gap(
        self, baseline: float, exact_gain: float, heuristic_gain: float,
        exact_cost: float | None = None, heuristic_cost: float | None = None,
    ) -> float:
        """Relative gap of a heuristic answer; time models use the direct costs when given."""
        if self._maximise():
            return (exact_gain - heuristic_gain) / exact_gain if exact_gain > 0 else 0.0
        exact_cost = baseline - exact_gain if exact_cost is None else exact_cost
        heuristic_cost = baseline - heuristic_gain if heuristic_cost is None else heuristic_cost
        if exact_cost > 0:
            return (heuristic_cost - exact_cost) / exact_cost
        return 0.0 if heuristic_cost <= 0 else math.nan

    def _finish(
        self, order: list[int], gain: float, baseline: float, objective: float, method: str,
        solver: str, status: str, upper_bound_gain: float,
    ) -> None:
        self.selected_index_ = np.asarray(order, dtype=int)
        self.selected_ = [self.site_ids[j] for j in order]
        self.gain_ = gain
        self.objective_ = objective
        self.method_, self.solver_, self.status_ = method, solver, status
        if method.startswith("greedy") and math.isfinite(upper_bound_gain) and status == "heuristic":
            self.gap_bound_ = max(
                self._gap(baseline, upper_bound_gain, gain, heuristic_cost=objective), 0.0
            )
        if self._capacitated:
            self.served_need_ = self._served(order)

    def _served(self, order: list[int]) -> np.ndarray:
        return np.zeros(len(self.site_ids))

    # ---- convenience ------------------------------------------------------------------
    def open_mask(self, extra: Sequence[int] = ()) -> np.ndarray:
        """Boolean mask of open sites: fixed plus ``extra`` columns."""
        mask = self.fixed.copy()
        mask[list(extra)] = True
        return mask
