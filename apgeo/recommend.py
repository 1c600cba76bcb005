"""Where to add provision: candidate sites, location-allocation and explained recommendations.

Works on the travel-time seam (``origin_id, destination_id, travel_time_s``) only, never
on straight-line distance (FIELD-NOTES item 7: spopt's ``from_geodataframe`` uses
crow-fly distance; here the cost matrix always comes from the travel-time table).

Three steps
-----------
1. **Candidate sites.** :func:`cluster_candidates` groups access cold spots (the output of
   :func:`apgeo.coldspots.access_coldspots`) with need-weighted k-means or a
   need-weighted DBSCAN and snaps each cluster centre to the nearest real site (e.g. a
   mainstream school from :func:`gias_candidate_sites` that could host a hub).
   :func:`read_candidates` reads a planner's own list (CSV, GeoJSON, postcodes).
2. **Location-allocation** with the existing providers fixed open. Models follow spopt /
   scikit-learn: ``Model.from_cost_matrix(...)`` is the tested core, ``Model.from_tables``
   the adapter, ``.solve()`` returns ``self`` and results end in ``_``.

   * :class:`MaximalCovering` (MCLP): add ``p`` sites to bring the most need within
     ``max_travel_time_s`` of an open site.
   * :class:`PMedian`: add ``p`` sites to minimise the need-weighted travel time to the
     nearest open site. Times are capped at ``penalty_s`` (default
     ``2 x max_travel_time_s``) and an area that reaches no open site counts at
     ``penalty_s``: the same rule as the cold-spot priority score
     (:data:`apgeo.coldspots.MAX_EXCESS_FACTOR`), so one unreachable area cannot dominate.
   * :class:`CapacitatedMaximalCovering` and :class:`CapacitatedPMedian`: each open
     site serves at most ``capacity`` units of need (assignment variables). Need and
     capacity must be in the same unit (places): pass ``places_per_need`` to
     :meth:`from_tables` (e.g. 0.01 when one child in a hundred needs an AP place).

   ``solve(method="exact")`` solves an integer program with PuLP (HiGHS when
   ``highspy`` is installed, else CBC), records ``solver_`` and ``status_`` and falls
   back to the greedy heuristic with a warning when no solver is available or it stops
   before proving optimality. ``solve(method="greedy")`` runs a lazy greedy (priority
   queue with stale upper bounds re-evaluated on demand); for the uncapacitated models
   the objective is submodular, so greedy is within ``1 - 1/e`` of the optimum and
   ``gap_bound_`` is a certified bound on its gap. ``solve(method="both")`` keeps the
   exact answer and reports greedy's gap in ``gap_``.

   Gaps: MCLP ``(exact gain - greedy gain) / exact gain`` where gain = need newly
   covered; p-median ``(greedy cost - exact cost) / exact cost`` where cost = the
   need-weighted total time.
3. **Explained recommendations.** :func:`recommend_sites` (the notebook entry point)
   returns one row per recommended site with what it changes and a plain-English
   ``why``; :func:`export_recommendations` writes CSV and GeoPackage,
   :func:`recommendations_markdown` a summary a planner can paste.

Need is per *demand row* = (area, key stage): a site serves a row only if it serves
that key stage, so a KS1-2 hub never "covers" KS3 children.
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
from typing import Any, Literal, Self

import geopandas as gpd
import numpy as np
import pandas as pd

from apgeo import schema as _schema
from apgeo._errors import ApgeoValueError
from apgeo._log import logger, warn
from apgeo._validate import (
    check_unique,
    read_csv,
    require_columns,
    to_numeric,
    to_working_crs,
)
from apgeo.coldspots import _by_mode
from apgeo.coverage import check_key_stages, format_ids, prepare_tables
from apgeo.schema import (
    AREA_ID,
    CAPACITY_PLACES,
    IDACI_DECILE,
    IMD_DECILE,
    KEY_STAGE_AGES,
    KEY_STAGES,
    KIND,
    NAME,
    POSTCODE,
    PROVIDER_ID,
    SITE_ID,
    WARD_CODE,
    WARD_NAME,
    ProviderKind,
    children_column,
)
from apgeo.settings import WORKING_CRS

# ---- column names introduced here (to move into schema.py) --------------------------
RANK = _schema.RANK
SITE_NAME = _schema.SITE_NAME
PLACES_SUGGESTED = "places_suggested"
PLACES_BASIS = "places_basis"
CHILDREN_NEWLY_WITHIN = "children_newly_within_t"
CHILDREN_NEWLY_BY_IMD = "children_newly_within_t_by_imd"
NEED_NEWLY_WITHIN = "need_newly_within_t"
NEED_SERVED = "need_served"
MEAN_TIME_CHANGE_MIN = "mean_time_change_min"
P90_TIME_CHANGE_MIN = "p90_time_change_min"
COLDSPOTS_RESOLVED = "coldspots_resolved"
COLDSPOTS_RESOLVED_IDS = "coldspots_resolved_ids"
NEXT_BEST_SITE_ID = "next_best_site_id"
MARGINAL_GAIN_OVER_NEXT = "marginal_gain_over_next_children"
WHY = _schema.WHY
CLUSTER = "cluster"
CLUSTER_NEED = "cluster_need"
CLUSTER_AREAS = "cluster_areas"
SNAPPED_TO = "snapped_site_id"
SNAP_DISTANCE_M = "snap_distance_m"


def children_newly_ks_column(key_stage: str) -> str:
    """Column holding children of one key stage newly within T: ``children_newly_within_t_ks3``."""
    return f"{CHILDREN_NEWLY_WITHIN}_{key_stage.lower()}"


DEFAULT_MAX_TRAVEL_TIME_S = 1800.0
DEFAULT_TIME_LIMIT_S = 60.0
#: Fixed seed of every random step (k-means initialisation).
DEFAULT_RANDOM_STATE = 12345
#: k-means restarts (fixed so results do not depend on scikit-learn's default).
DEFAULT_N_INIT = 10
#: Mainstream GIAS establishment types that could host an AP hub or satellite.
MAINSTREAM_GIAS_TYPES: tuple[str, ...] = (
    "Academy converter",
    "Academy sponsor led",
    "Community school",
    "Foundation school",
    "Voluntary aided school",
    "Voluntary controlled school",
    "Free schools",
)

Method = Literal["exact", "greedy", "both"]
SolverChoice = Literal["auto", "highs", "cbc"]
Objective = Literal["coverage", "time"]
WeightBy = Literal["idaci", "none", "need"]

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
    """Return ``(pulp solver or None, name or reason)``."""
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
            if name == "HiGHS":
                return pulp.HiGHS(msg=False, timeLimit=time_limit_s, threads=1), name
            with warnings.catch_warnings():
                # PuLP 3.3 deprecates its bundled CBC (PULP_CBC_CMD) in favour of COIN_CMD
                # with a separately installed CBC; the bundled one still works.
                warnings.filterwarnings("ignore", message=".*PULP_CBC_CMD is deprecated", category=DeprecationWarning)
                cls = getattr(pulp, name)
                return cls(msg=False, timeLimit=time_limit_s, threads=1), name
    return None, f"solver {solver!r} is not available (PuLP finds: {list(available) or 'none'})"


@dataclass
class _IlpResult:
    chosen: list[int]
    status: str
    optimal: bool
    values: dict[str, float]
    message: str


def _run_ilp(prob: Any, x: dict[int, Any], solver: Any, extra: dict[str, Any]) -> _IlpResult:
    """Solve a PuLP problem; report optimality honestly (time limits included)."""
    import pulp

    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*PULP_CBC_CMD is deprecated", category=DeprecationWarning)
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
    chosen = sorted(j for j, var in x.items() if (var.value() or 0.0) > 0.5)
    values = {k: float(v.value() or 0.0) for k, v in extra.items()}
    return _IlpResult(chosen, "Optimal", True, values, "")


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
        strict
            Turn warnings into errors.
        """
        model: Self = _from_tables(
            cls, travel_times, demand, existing, candidates, mode=mode, p=p,
            key_stages=key_stages, max_travel_time_min=max_travel_time_min,
            penalty_min=penalty_min, weight_by=weight_by, need_column=need_column,
            fill_missing_need=fill_missing_need, places_per_need=places_per_need,
            serve_all=serve_all, strict=strict,
        )
        return model

    # ---- objective hooks (overridden) --------------------------------------------------
    def _greedy_state(self) -> tuple[_GreedyState, float]:  # pragma: no cover - abstract
        raise NotImplementedError

    def _ilp(self) -> tuple[Any, dict[int, Any], dict[str, Any]] | None:  # pragma: no cover
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
    ) -> Self:
        """Choose ``p`` candidate sites; returns ``self`` with the fitted results.

        Parameters
        ----------
        method
            ``"exact"``: integer program (falls back to greedy with a warning when no
            solver is available or it stops early); ``"greedy"``: lazy greedy;
            ``"both"``: exact answer, with greedy's gap in ``gap_``.
        solver
            ``"auto"`` (HiGHS if installed, else CBC), ``"highs"``, ``"cbc"`` or a PuLP
            solver object.
        time_limit_s
            Solver time limit in seconds.
        strict
            Turn warnings (fallback to greedy, nothing to gain) into errors.

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
        start = time.perf_counter()
        state, baseline = self._greedy_state()
        self.baseline_ = baseline
        cand_cols = self._cand_cols()
        best_possible = float(state.gains_all(cand_cols).max()) if len(cand_cols) else 0.0
        if best_possible <= _VALUE_TOL * max(1.0, abs(baseline)):
            self.message_ = self._nothing_to_gain(baseline)
            warn(self.message_, strict=strict, stacklevel=3)
            self.objective_, self.gain_, self.gap_, self.gap_bound_ = baseline, 0.0, 0.0, 0.0
            self.method_, self.solver_, self.status_ = method, "none", "nothing to gain"
            self.solve_time_s_ = time.perf_counter() - start
            return self

        chosen: list[int]
        if method in ("exact", "both"):
            engine, name = _pick_solver(solver, time_limit_s)
            result: _IlpResult | None = None
            if engine is not None:
                built = self._ilp()
                assert built is not None
                prob, x, extra = built
                result = _run_ilp(prob, x, engine, extra)
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
                self._finish(order, gain, baseline, "greedy (fallback)", name if engine else "none",
                             "Not Solved" if result is None else result.status, ub)
            else:
                chosen = result.chosen
                gain = self._exact_gain(chosen, result)
                self._finish(self.rank(chosen), gain, baseline, "exact", name, "Optimal", gain)
                self.gap_, self.gap_bound_ = 0.0, 0.0
                if method == "both":
                    _, g_gain, _ = self._run_greedy()
                    self.greedy_gain_ = g_gain
                    self.gap_ = max(self._gap(baseline, gain, g_gain), 0.0)
                    self.method_ = "both"
        else:
            order, gain, ub = self._run_greedy()
            self._finish(order, gain, baseline, "greedy", "lazy greedy", "heuristic", ub)
        self.solve_time_s_ = time.perf_counter() - start
        return self

    def _exact_gain(self, chosen: list[int], result: _IlpResult) -> float:
        return self._gain_of(np.asarray(chosen, dtype=int))

    def _infeasible(self) -> None:
        raise ApgeoValueError("the integer program is infeasible")  # pragma: no cover

    def _gap(self, baseline: float, exact_gain: float, heuristic_gain: float) -> float:
        if self._maximise():
            return (exact_gain - heuristic_gain) / exact_gain if exact_gain > 0 else 0.0
        exact_cost = baseline - exact_gain
        heuristic_cost = baseline - heuristic_gain
        if exact_cost > 0:
            return (heuristic_cost - exact_cost) / exact_cost
        return 0.0 if heuristic_cost <= 0 else math.nan

    def _finish(
        self, order: list[int], gain: float, baseline: float, method: str, solver: str,
        status: str, upper_bound_gain: float,
    ) -> None:
        self.selected_index_ = np.asarray(order, dtype=int)
        self.selected_ = [self.site_ids[j] for j in order]
        self.gain_ = gain
        self.objective_ = self._objective_from(baseline, gain)
        self.method_, self.solver_, self.status_ = method, solver, status
        if method.startswith("greedy") and math.isfinite(upper_bound_gain) and status == "heuristic":
            self.gap_bound_ = max(self._gap(baseline, upper_bound_gain, gain), 0.0)
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

    def _ilp(self) -> tuple[Any, dict[int, Any], dict[str, Any]]:
        import pulp

        cover = self.cover
        base = self._covered_by(self.fixed)
        cand = self._cand_cols()
        rows = np.flatnonzero(~base & (self.need > 0) & cover[:, cand].any(axis=1))
        prob = pulp.LpProblem("mclp", pulp.LpMaximize)
        x = {int(j): prob.add_variable(f"x_{j}", cat="Binary") for j in cand}
        y = {int(i): prob.add_variable(f"y_{i}", 0, 1) for i in rows}
        prob += pulp.LpAffineExpression([(y[int(i)], float(self.need[i])) for i in rows])
        sub = cover[np.ix_(rows, cand)]
        for k, i in enumerate(rows):
            terms = [(x[int(cand[c])], 1.0) for c in np.flatnonzero(sub[k])]
            prob += pulp.LpAffineExpression([(y[int(i)], 1.0), *[(v, -a) for v, a in terms]]) <= 0
        prob += pulp.lpSum(x.values()) == self.p
        return prob, x, {}

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

    def _gain_of(self, chosen: np.ndarray) -> float:
        base = self._best(self.fixed)
        after = self._best(self.open_mask(chosen.tolist()))
        return float(self.need @ (base - after))

    def _ilp(self) -> tuple[Any, dict[int, Any], dict[str, Any]]:
        import pulp

        base = self._best(self.fixed)
        cand = self._cand_cols()
        save = base[:, None] - self.effective_s[:, cand]
        rows_k, cols_k = np.nonzero((save > 0) & (self.need[:, None] > 0))
        prob = pulp.LpProblem("pmedian", pulp.LpMaximize)
        x = {int(j): prob.add_variable(f"x_{j}", cat="Binary") for j in cand}
        z = [prob.add_variable(f"z_{i}_{cand[c]}", 0, 1) for i, c in zip(rows_k, cols_k, strict=True)]
        prob += pulp.LpAffineExpression(
            [(v, float(self.need[i] * save[i, c])) for v, i, c in zip(z, rows_k, cols_k, strict=True)]
        )
        by_row: dict[int, list[Any]] = {}
        for v, i, c in zip(z, rows_k, cols_k, strict=True):
            by_row.setdefault(int(i), []).append(v)
            prob += pulp.LpAffineExpression([(v, 1.0), (x[int(cand[c])], -1.0)]) <= 0
        for vs in by_row.values():
            if len(vs) > 1:
                prob += pulp.lpSum(vs) <= 1
        prob += pulp.lpSum(x.values()) == self.p
        return prob, x, {}

    @property
    def total_time_s_(self) -> float:
        """Need-weighted total time (need x seconds) after adding the selected sites."""
        return self.objective_

    @property
    def mean_time_s_(self) -> float:
        """Need-weighted mean time in seconds (capped at ``penalty_s``)."""
        total = float(self.need.sum())
        return self.objective_ / total if total > 0 else math.nan


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


@dataclass(frozen=True)
class _Instance:
    """A location problem built from the seam tables (rows = area x key stage)."""

    mode: str
    key_stages: tuple[str, ...]
    row_area: np.ndarray
    row_ks: np.ndarray
    cost_s: np.ndarray
    need: np.ndarray
    children: np.ndarray
    imd: np.ndarray
    sites: pd.DataFrame
    fixed: np.ndarray
    areas: pd.DataFrame
    places_per_need: float

    @property
    def site_ids(self) -> list[Any]:
        return list(self.sites[SITE_ID])


def _prepare_candidates(
    candidates: pd.DataFrame, key_stages: Sequence[str]
) -> pd.DataFrame:
    if not isinstance(candidates, pd.DataFrame):
        raise ApgeoValueError(f"candidates must be a DataFrame; got {type(candidates).__name__}")
    require_columns(candidates, [SITE_ID], source="candidates")
    out = pd.DataFrame(candidates.drop(columns="geometry", errors="ignore")).copy()
    if PROVIDER_ID not in out.columns:
        out[PROVIDER_ID] = out[SITE_ID]
    if KIND not in out.columns:
        out[KIND] = ProviderKind.OTHER.value
    if KEY_STAGES not in out.columns:
        out[KEY_STAGES] = ",".join(key_stages)
    if NAME not in out.columns:
        out[NAME] = out[SITE_ID].astype(str)
    return out


def _row_need(
    areas: pd.DataFrame,
    ks_list: Sequence[str],
    *,
    weight_by: WeightBy,
    need_column: str | None,
    fill_missing_need: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(children, need)`` as ``(n_areas, n_ks)`` arrays."""
    children = np.column_stack([areas[children_column(ks)].to_numpy(dtype=float) for ks in ks_list])
    if weight_by == "none":
        return children, children.copy()
    if weight_by == "idaci":
        dec = to_numeric(areas[IDACI_DECILE], column=IDACI_DECILE, source="demand").to_numpy(dtype=float)
        bad = np.isnan(dec) | ~np.isin(dec, np.arange(1, 11))
        if bad.any():
            raise ApgeoValueError(
                f"demand: column {IDACI_DECILE!r} must hold deciles 1..10 to weight need by IDACI; "
                f"missing or bad for {format_ids(areas[AREA_ID][bad])}; fill them or pass weight_by='none'"
            )
        return children, children * ((11.0 - dec) / 10.0)[:, None]
    if weight_by == "need":
        if need_column is None:
            raise ApgeoValueError("weight_by='need' needs need_column, e.g. need_column='need_count'")
        values = to_numeric(areas[need_column], column=need_column, source="demand").to_numpy(
            dtype=float, copy=True
        )
        missing = np.isnan(values)
        if missing.any():
            if fill_missing_need is None:
                raise ApgeoValueError(
                    f"demand: column {need_column!r} is empty (suppressed?) for {int(missing.sum())} "
                    f"area(s): {format_ids(areas[AREA_ID][missing])}; pass fill_missing_need "
                    "(e.g. 2.5 for counts suppressed below 5) or fill them"
                )
            values[missing] = fill_missing_need
        if (values < 0).any():
            raise ApgeoValueError(f"demand: column {need_column!r} must be >= 0")
        tot = children.sum(axis=1, keepdims=True)
        share = np.where(tot > 0, children / np.where(tot > 0, tot, 1.0), 1.0 / len(ks_list))
        return children, values[:, None] * share
    raise ApgeoValueError(f"weight_by must be 'idaci', 'none' or 'need'; got {weight_by!r}")


def _instance_from_tables(
    travel_times: pd.DataFrame,
    demand: pd.DataFrame,
    existing: pd.DataFrame | None,
    candidates: pd.DataFrame,
    *,
    mode: str,
    key_stages: Sequence[str] | str | None,
    weight_by: WeightBy,
    need_column: str | None,
    fill_missing_need: float | None,
    places_per_need: float,
    strict: bool,
) -> _Instance:
    ks_list = check_key_stages(key_stages)
    if not np.isfinite(places_per_need) or places_per_need <= 0:
        raise ApgeoValueError(f"places_per_need must be a positive number; got {places_per_need!r}")
    cand = _prepare_candidates(candidates, ks_list)
    cand["_candidate"] = True
    frames = [cand]
    if existing is not None and len(existing):
        require_columns(existing, [SITE_ID], source="existing")
        ex = pd.DataFrame(existing.drop(columns="geometry", errors="ignore")).copy()
        ex["_candidate"] = False
        clash = sorted(set(map(str, ex[SITE_ID])) & set(map(str, cand[SITE_ID])))
        if clash:
            raise ApgeoValueError(
                f"site id(s) {format_ids(clash)} are both existing providers and candidates; give "
                "candidates their own ids (e.g. prefix 'CAND-')"
            )
        frames.insert(0, ex)
    sites = pd.concat(frames, ignore_index=True)
    if CAPACITY_PLACES not in sites.columns:
        sites[CAPACITY_PLACES] = np.nan
    check_unique(sites, SITE_ID, source="existing + candidates")
    extra: list[str] = []
    if weight_by == "idaci":
        extra.append(IDACI_DECILE)
    if weight_by == "need" and need_column is not None:
        extra.append(need_column)
    # only keep travel rows of known sites: candidates tables are often cut down
    known = set(sites[SITE_ID])
    tt = travel_times
    if isinstance(tt, pd.DataFrame) and "destination_id" in tt.columns:
        tt = tt[tt["destination_id"].isin(known)]
    prep = prepare_tables(
        tt, demand, sites, mode=mode, key_stages=ks_list, demand_columns=extra, strict=strict
    )
    children, need = _row_need(
        prep.areas, ks_list, weight_by=weight_by, need_column=need_column,
        fill_missing_need=fill_missing_need,
    )
    n, k = children.shape
    serves = np.column_stack([prep.serves_key_stage(ks) for ks in ks_list])  # (m, k)
    cost = np.repeat(prep.times_s, k, axis=0)  # rows: area-major, ks-minor
    serve_rows = np.tile(serves.T, (n, 1))  # (n*k, m)
    cost = np.where(serve_rows, cost, np.inf)
    imd = (
        to_numeric(prep.areas[IMD_DECILE], column=IMD_DECILE, source="demand").to_numpy(dtype=float)
        if IMD_DECILE in prep.areas.columns
        else np.full(n, np.nan)
    )
    return _Instance(
        mode=mode,
        key_stages=tuple(ks_list),
        row_area=np.repeat(prep.area_ids, k),
        row_ks=np.tile(np.array(ks_list, dtype=object), n),
        cost_s=cost,
        need=need.ravel(),
        children=children.ravel(),
        imd=np.repeat(imd, k),
        sites=prep.sites,
        fixed=~prep.sites["_candidate"].astype(bool).to_numpy(),
        areas=prep.areas,
        places_per_need=float(places_per_need),
    )


def _model_from_instance(
    inst: _Instance,
    *,
    objective: Objective,
    capacitated: bool,
    p: int,
    max_travel_time_s: float,
    penalty_s: float | None,
    serve_all: bool,
    strict: bool,
) -> _LocationModel:
    labels = [f"{a} {ks}" for a, ks in zip(inst.row_area, inst.row_ks, strict=True)]
    common: dict[str, Any] = {
        "p": p, "fixed_open": inst.fixed, "site_ids": inst.site_ids, "area_ids": labels,
        "strict": strict,
    }
    model: _LocationModel
    if not capacitated:
        if objective == "coverage":
            model = MaximalCovering.from_cost_matrix(
                inst.cost_s, inst.need, max_travel_time_s=max_travel_time_s, **common
            )
        else:
            model = PMedian.from_cost_matrix(
                inst.cost_s, inst.need, max_travel_time_s=max_travel_time_s, penalty_s=penalty_s,
                **common,
            )
    else:
        cap = inst.sites[CAPACITY_PLACES]
        capacity = to_numeric(cap, column=CAPACITY_PLACES, source="existing + candidates").to_numpy(dtype=float)
        missing = np.isnan(capacity)
        if missing.any():
            raise ApgeoValueError(
                f"infeasible capacities: capacity_places is unknown for {int(missing.sum())} site(s) "
                f"({format_ids(inst.sites[SITE_ID][missing])}); the capacitated models need a number "
                "of places for every site (use inf for 'no limit')"
            )
        places_need = inst.need * inst.places_per_need
        if objective == "coverage":
            model = CapacitatedMaximalCovering.from_cost_matrix(
                inst.cost_s, places_need, capacity=capacity, max_travel_time_s=max_travel_time_s,
                **common,
            )
        else:
            model = CapacitatedPMedian.from_cost_matrix(
                inst.cost_s, places_need, capacity=capacity, max_travel_time_s=max_travel_time_s,
                penalty_s=penalty_s, serve_all=serve_all, **common,
            )
    model.instance_ = inst
    return model


def _from_tables(
    cls: type[_LocationModel],
    travel_times: pd.DataFrame,
    demand: pd.DataFrame,
    existing: pd.DataFrame | None,
    candidates: pd.DataFrame,
    *,
    mode: str,
    p: int,
    key_stages: Sequence[str] | str | None,
    max_travel_time_min: float,
    penalty_min: float | None,
    weight_by: WeightBy,
    need_column: str | None,
    fill_missing_need: float | None,
    places_per_need: float,
    serve_all: bool,
    strict: bool,
) -> Any:
    _check_minutes(max_travel_time_min, "max_travel_time_min")
    inst = _instance_from_tables(
        travel_times, demand, existing, candidates, mode=mode, key_stages=key_stages,
        weight_by=weight_by, need_column=need_column, fill_missing_need=fill_missing_need,
        places_per_need=places_per_need, strict=strict,
    )
    objective: Objective = "coverage" if cls in (MaximalCovering, CapacitatedMaximalCovering) else "time"
    capacitated = cls in (CapacitatedMaximalCovering, CapacitatedPMedian)
    return _model_from_instance(
        inst, objective=objective, capacitated=capacitated, p=p,
        max_travel_time_s=max_travel_time_min * 60.0,
        penalty_s=None if penalty_min is None else penalty_min * 60.0,
        serve_all=serve_all, strict=strict,
    )


def _check_minutes(value: float, name: str) -> None:
    if not isinstance(value, (int, float, np.number)) or not np.isfinite(value) or value <= 0:
        raise ApgeoValueError(f"{name} must be a positive number of minutes; got {value!r}")


# ======================================================================================
# Explained recommendations
# ======================================================================================


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    keep = weights > 0
    if not keep.any():
        return math.nan
    v, w = values[keep], weights[keep]
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    k = int(np.searchsorted(cum, q * cum[-1] - 1e-9 * cum[-1]))
    return float(v[order][min(k, len(v) - 1)])


def _site_wards(
    inst: _Instance,
    site_cols: Sequence[int],
    *,
    sites_gdf: gpd.GeoDataFrame | None,
    demand: pd.DataFrame,
    wards: gpd.GeoDataFrame | None,
) -> dict[int, tuple[str, str]]:
    """Ward of each site: from ``wards`` polygons, the LSOA containing it, or the nearest area."""
    out: dict[int, tuple[str, str]] = {}
    ids = inst.site_ids
    points: gpd.GeoSeries | None = None
    if sites_gdf is not None and isinstance(sites_gdf, gpd.GeoDataFrame) and sites_gdf.crs is not None:
        g = to_working_crs(sites_gdf, name="candidates")
        lookup = dict(zip(g[SITE_ID], g.geometry, strict=True))
        geoms = [lookup.get(ids[j]) for j in site_cols]
        if all(x is not None and not x.is_empty for x in geoms):
            points = gpd.GeoSeries(geoms, crs=WORKING_CRS)
    if points is not None and wards is not None:
        require_columns(wards, [WARD_CODE, WARD_NAME], source="wards")
        w = to_working_crs(wards, name="wards")
        for j, pt in zip(site_cols, points, strict=True):
            inside = w[w.contains(pt)]
            row = inside.iloc[0] if len(inside) else w.iloc[int(w.distance(pt).to_numpy().argmin())]
            out[j] = (str(row[WARD_CODE]), str(row[WARD_NAME]))
        return out
    has_wards = {WARD_CODE, WARD_NAME} <= set(demand.columns)
    if not has_wards:
        return {j: ("", "") for j in site_cols}
    if points is not None and isinstance(demand, gpd.GeoDataFrame) and demand.crs is not None:
        d = to_working_crs(demand, name="demand")
        if (d.geometry.geom_type.isin(["Polygon", "MultiPolygon"])).all():
            for j, pt in zip(site_cols, points, strict=True):
                inside = d[d.contains(pt)]
                row = inside.iloc[0] if len(inside) else d.iloc[int(d.distance(pt).to_numpy().argmin())]
                out[j] = (str(row[WARD_CODE]), str(row[WARD_NAME]))
            return out
    # no geometry: the area with the shortest travel time to the site holds it
    areas = inst.areas.set_index(AREA_ID)
    k = len(inst.key_stages)
    for j in site_cols:
        col = inst.cost_s[:, j].reshape(-1, k).min(axis=1)
        if not np.isfinite(col).any():
            out[j] = ("", "")
            continue
        area = inst.areas[AREA_ID].iloc[int(np.argmin(col))]
        out[j] = (str(areas.loc[area, WARD_CODE]), str(areas.loc[area, WARD_NAME]))
    return out


def _ks_phrase(key_stages: Sequence[str]) -> str:
    if len(key_stages) == 1:
        return key_stages[0]
    return f"{key_stages[0]}-{key_stages[-1]}" if _contiguous(key_stages) else ", ".join(key_stages)


def _contiguous(key_stages: Sequence[str]) -> bool:
    nums = [int(ks[2:]) for ks in key_stages]
    return nums == list(range(nums[0], nums[0] + len(nums)))


def _ages_phrase(key_stages: Sequence[str]) -> str:
    ages = [a for ks in key_stages for a in KEY_STAGE_AGES[ks]]  # type: ignore[index]
    return f"aged {min(ages)}-{max(ages)}"


def recommendation_table(
    model: _LocationModel,
    *,
    candidates: pd.DataFrame | None = None,
    demand: pd.DataFrame | None = None,
    wards: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """The explained recommendation table of a solved model built with ``from_tables``.

    Parameters
    ----------
    model
        A solved model whose ``instance_`` was set by ``from_tables`` /
        :func:`recommend_sites`.
    candidates
        The candidate table (for ``name``, ``postcode`` and point geometry for wards).
    demand
        The demand table (polygons give the ward of the LSOA containing a site).
    wards
        Optional ward polygons with ``ward_code`` and ``ward_name``.

    Returns
    -------
    pandas.DataFrame
        See :func:`recommend_sites`.
    """
    inst = model.instance_
    if inst is None:
        raise ApgeoValueError(
            "this model was built with from_cost_matrix; the explained table needs the tables: "
            "build it with from_tables(...) or recommend_sites(...)"
        )
    T = model.max_travel_time_s
    pen = model.penalty_s
    order = [int(j) for j in model.selected_index_]
    ks_list = inst.key_stages
    columns = _table_columns(ks_list)
    attrs = _table_attrs(model, inst)
    if not order:
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        out.attrs.update(attrs)
        out.attrs["reason"] = model.message_ or "no site selected"
        return out
    sites = inst.sites
    cand_lookup = (
        pd.DataFrame(candidates.drop(columns="geometry", errors="ignore")).set_index(SITE_ID)
        if candidates is not None
        else None
    )
    ward_of = _site_wards(
        inst, order,
        sites_gdf=candidates if isinstance(candidates, gpd.GeoDataFrame) else None,
        demand=demand if demand is not None else inst.areas, wards=wards,
    )
    cost = inst.cost_s
    cover_all = cost <= T
    eff = np.minimum(cost, pen)
    need, children = inst.need, inst.children
    cand_cols = np.flatnonzero(~inst.fixed)
    open_mask = inst.fixed.copy()
    by = _by_mode(inst.mode)
    rows: list[dict[str, Any]] = []

    def nearest(mask: np.ndarray) -> np.ndarray:
        return eff[:, mask].min(axis=1) if mask.any() else np.full(len(need), pen)

    for rank, j in enumerate(order, start=1):
        covered_before = cover_all[:, open_mask].any(axis=1) if open_mask.any() else np.zeros(len(need), bool)
        t_before = nearest(open_mask)
        after_mask = open_mask.copy()
        after_mask[j] = True
        covered_after = covered_before | cover_all[:, j]
        t_after = np.minimum(t_before, eff[:, j])
        newly = covered_after & ~covered_before
        child_new = float(children[newly].sum())
        need_new = float(need[newly].sum())
        mean_change = (
            float((t_after - t_before) @ need / need.sum()) / 60.0 if need.sum() > 0 else math.nan
        )
        p90_change = (
            _weighted_quantile(t_after, need, 0.9) - _weighted_quantile(t_before, need, 0.9)
        ) / 60.0
        cold_resolved = newly & (children > 0)
        res_ids = [
            f"{a} {ks}" if len(ks_list) > 1 else str(a)
            for a, ks in zip(inst.row_area[cold_resolved], inst.row_ks[cold_resolved], strict=True)
        ]
        imd_counts: dict[int, float] = {}
        for d, c in zip(inst.imd[newly], children[newly], strict=True):
            if np.isfinite(d) and c > 0:
                imd_counts[int(d)] = imd_counts.get(int(d), 0.0) + float(c)
        imd_text = ", ".join(f"d{d}: {imd_counts[d]:.0f}" for d in sorted(imd_counts))
        # next best option: the best other candidate not yet open, given the same open sites
        alt_id, alt_children = "", 0.0
        alternatives = np.array([c for c in cand_cols if not open_mask[c] and c != j], dtype=int)
        if len(alternatives):
            unc = ~covered_before
            alt_gain = children[unc] @ cover_all[np.ix_(unc, alternatives)]
            k = int(np.argmax(alt_gain))
            alt_id, alt_children = str(inst.site_ids[alternatives[k]]), float(alt_gain[k])
        site = sites.iloc[j]
        sid = site[SITE_ID]
        name = str(site[NAME]) if NAME in sites.columns and pd.notna(site[NAME]) else str(sid)
        postcode = ""
        if POSTCODE in sites.columns and pd.notna(site[POSTCODE]):
            postcode = str(site[POSTCODE])
        elif cand_lookup is not None and POSTCODE in cand_lookup.columns and sid in cand_lookup.index:
            postcode = str(cand_lookup.loc[sid, POSTCODE] or "")
        site_ks = str(site[KEY_STAGES])
        cap = float(site[CAPACITY_PLACES]) if pd.notna(site[CAPACITY_PLACES]) else math.nan
        if model._capacitated and math.isfinite(cap):
            places, basis = round(cap), "capacity_places"
        else:
            places = round(need_new * inst.places_per_need)
            basis = "need newly within T" + (
                f" x {inst.places_per_need:g} places per unit" if inst.places_per_need != 1 else ""
            )
        served = float(model.served_need_[j]) if model._capacitated else math.nan
        ward_code, ward_name = ward_of.get(j, ("", ""))
        row: dict[str, Any] = {
            RANK: rank,
            SITE_ID: sid,
            SITE_NAME: name,
            POSTCODE: postcode,
            WARD_CODE: ward_code,
            WARD_NAME: ward_name,
            KEY_STAGES: site_ks,
            PLACES_SUGGESTED: int(places),
            PLACES_BASIS: basis,
            CHILDREN_NEWLY_WITHIN: round(child_new, 1),
        }
        for ks in ks_list:
            row[children_newly_ks_column(ks)] = round(float(children[newly & (inst.row_ks == ks)].sum()), 1)
        row[CHILDREN_NEWLY_BY_IMD] = imd_text
        row[NEED_NEWLY_WITHIN] = round(need_new, 1)
        row[NEED_SERVED] = round(served, 1) if math.isfinite(served) else math.nan
        row[MEAN_TIME_CHANGE_MIN] = round(mean_change, 2) + 0.0
        row[P90_TIME_CHANGE_MIN] = round(p90_change, 2) + 0.0
        row[COLDSPOTS_RESOLVED] = len(res_ids)
        row[COLDSPOTS_RESOLVED_IDS] = "; ".join(res_ids)
        row[NEXT_BEST_SITE_ID] = alt_id
        row[MARGINAL_GAIN_OVER_NEXT] = round(child_new - alt_children, 1) if alt_id else math.nan
        deprived = sum(v for d, v in imd_counts.items() if d <= 2)
        row[WHY] = _why(
            name=name, ward=ward_name, child_new=child_new, ks=_ks_phrase(list(ks_list)),
            ages=_ages_phrase(list(ks_list)), T_min=T / 60.0, by=by, deprived=deprived,
            resolved=len(res_ids), mean_change=mean_change, alt_id=alt_id,
            alt_name=_site_name(sites, alt_id), alt_children=alt_children,
            objective="coverage" if isinstance(model, MaximalCovering | CapacitatedMaximalCovering) else "time",
            served=served,
        )
        rows.append(row)
        open_mask = after_mask
    out = pd.DataFrame(rows, columns=columns)
    out.attrs.update(attrs)
    out.attrs["reason"] = ""
    return out


def _site_name(sites: pd.DataFrame, sid: str) -> str:
    if not sid or NAME not in sites.columns:
        return sid
    hit = sites.loc[sites[SITE_ID].astype(str) == sid, NAME]
    return str(hit.iloc[0]) if len(hit) and pd.notna(hit.iloc[0]) else sid


def _why(
    *, name: str, ward: str, child_new: float, ks: str, ages: str, T_min: float, by: str,
    deprived: float, resolved: int, mean_change: float, alt_id: str, alt_name: str,
    alt_children: float, objective: str, served: float,
) -> str:
    where = f" ({ward})" if ward else ""
    if child_new > 0:
        text = (
            f"Adding {name}{where} brings {child_new:,.0f} more {ks} children ({ages}) within "
            f"{T_min:g} min {by}"
        )
        if deprived > 0:
            text += f", {deprived:,.0f} of them in the 20% most deprived areas (IMD deciles 1-2)"
    else:
        text = f"Adding {name}{where} brings no extra {ks} children within {T_min:g} min {by}"
    parts = []
    if resolved:
        parts.append(f"resolves {resolved} access cold spot{'s' if resolved != 1 else ''}")
    if math.isfinite(mean_change) and mean_change < -0.005:
        parts.append(f"cuts the need-weighted mean journey by {-mean_change:.1f} min")
    if parts:
        text += "; it " + " and ".join(parts)
    text += "."
    if math.isfinite(served):
        text += f" It would serve {served:,.1f} places of need within its capacity."
    if alt_id:
        diff = child_new - alt_children
        if diff > 0.5:
            text += f" It reaches {diff:,.0f} more children than the next best option ({alt_name})."
        elif diff >= -0.5:
            text += f" The next best option ({alt_name}) would reach about as many children."
        else:
            reason = (
                "more deprived need (IDACI weighting)" if objective == "coverage" else "shorter journeys overall"
            )
            text += (
                f" The next best option ({alt_name}) would reach {-diff:,.0f} more children, but this "
                f"site gives {reason}."
            )
    return text


def _table_columns(ks_list: Sequence[str]) -> list[str]:
    return [
        RANK, SITE_ID, SITE_NAME, POSTCODE, WARD_CODE, WARD_NAME, KEY_STAGES, PLACES_SUGGESTED,
        PLACES_BASIS, CHILDREN_NEWLY_WITHIN, *[children_newly_ks_column(ks) for ks in ks_list],
        CHILDREN_NEWLY_BY_IMD, NEED_NEWLY_WITHIN, NEED_SERVED, MEAN_TIME_CHANGE_MIN,
        P90_TIME_CHANGE_MIN, COLDSPOTS_RESOLVED, COLDSPOTS_RESOLVED_IDS, NEXT_BEST_SITE_ID,
        MARGINAL_GAIN_OVER_NEXT, WHY,
    ]


def _table_attrs(model: _LocationModel, inst: _Instance) -> dict[str, Any]:
    return {
        "model": model._kind,
        "mode": inst.mode,
        "key_stages": ",".join(inst.key_stages),
        "max_travel_time_min": model.max_travel_time_s / 60.0,
        "penalty_min": model.penalty_s / 60.0,
        "p": model.p,
        "method": model.method_,
        "solver": model.solver_,
        "status": model.status_,
        "gap": model.gap_,
        "gap_bound": model.gap_bound_,
        "objective": model.objective_,
        "baseline": model.baseline_,
        "note": (
            "Access cold spot = an area with children whose time to the nearest suitable site "
            "exceeds T; times and coverage come from the travel-time table, not polygons."
        ),
    }


def recommend_sites(
    travel_times: pd.DataFrame,
    demand: pd.DataFrame,
    existing: pd.DataFrame | None,
    candidates: pd.DataFrame,
    *,
    mode: str,
    p: int = 3,
    objective: Objective = "coverage",
    capacitated: bool = False,
    key_stages: Sequence[str] | str | None = None,
    max_travel_time_min: float = 30.0,
    penalty_min: float | None = None,
    weight_by: WeightBy = "idaci",
    need_column: str | None = None,
    fill_missing_need: float | None = None,
    places_per_need: float = 1.0,
    serve_all: bool = False,
    method: Method = "exact",
    solver: SolverChoice | Any = "auto",
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    wards: gpd.GeoDataFrame | None = None,
    strict: bool = False,
) -> pd.DataFrame:
    """Recommend ``p`` sites to add, explained one row per site (the notebook entry point).

    Parameters
    ----------
    travel_times, demand, existing, candidates, mode, p, key_stages, max_travel_time_min,
    penalty_min, weight_by, need_column, fill_missing_need, places_per_need, serve_all, strict
        See :meth:`MaximalCovering.from_tables`.
    objective
        ``"coverage"``: maximal covering (most need newly within T); ``"time"``:
        p-median (least need-weighted travel time).
    capacitated
        Limit what each site serves by its ``capacity_places`` (every site needs one).
    method, solver, time_limit_s
        See :meth:`MaximalCovering.solve`.
    wards
        Ward polygons (``ward_code``, ``ward_name``) to name the ward of each site;
        otherwise the demand table's ward of the LSOA containing the site (or of the
        area nearest in travel time).

    Returns
    -------
    pandas.DataFrame
        One row per recommended site, in rank order (each adds the most given the
        sites ranked above it and the existing providers). Columns: ``rank``,
        ``site_id``, ``site_name``, ``postcode``, ``ward_code``, ``ward_name``,
        ``key_stages``, ``places_suggested`` and ``places_basis`` (capacity, or need
        newly within T x ``places_per_need``, rounded), ``children_newly_within_t``
        and ``children_newly_within_t_ks*`` (children of the planned key stages whose
        nearest suitable site moves within T), ``children_newly_within_t_by_imd``
        (``"d1: 120, d2: 40"``), ``need_newly_within_t``, ``need_served``
        (capacitated models), ``mean_time_change_min`` and ``p90_time_change_min``
        (need-weighted, times capped at the penalty; negative = shorter),
        ``coldspots_resolved`` and ``coldspots_resolved_ids`` (access cold spots, area
        and key stage, brought within T), ``next_best_site_id`` and
        ``marginal_gain_over_next_children`` (children newly within T minus what the
        best other candidate not yet open would reach at that step, e.g. the site
        ranked next), ``why``.
        ``table.attrs`` holds the model, solver, status, gap and ``reason`` (why the
        table is empty, e.g. all need already covered; ``""`` otherwise).
    """
    if objective not in ("coverage", "time"):
        raise ApgeoValueError(f"objective must be 'coverage' or 'time'; got {objective!r}")
    _check_minutes(max_travel_time_min, "max_travel_time_min")
    inst = _instance_from_tables(
        travel_times, demand, existing, candidates, mode=mode, key_stages=key_stages,
        weight_by=weight_by, need_column=need_column, fill_missing_need=fill_missing_need,
        places_per_need=places_per_need, strict=strict,
    )
    T = max_travel_time_min * 60.0
    covered = (inst.cost_s[:, inst.fixed] <= T).any(axis=1) if inst.fixed.any() else np.zeros(len(inst.need), bool)
    if objective == "coverage" and not capacitated and not (inst.need[~covered] > 0).any():
        reason = (
            f"all need is already within {max_travel_time_min:g} min {_by_mode(mode)} of an "
            "existing provider: no site needs to be added"
        )
        warn(reason, strict=strict, stacklevel=2)
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in _table_columns(inst.key_stages)})
        out.attrs["reason"] = reason
        return out
    model = _model_from_instance(
        inst, objective=objective, capacitated=capacitated, p=p, max_travel_time_s=T,
        penalty_s=None if penalty_min is None else penalty_min * 60.0, serve_all=serve_all,
        strict=strict,
    )
    model.solve(method, solver=solver, time_limit_s=time_limit_s, strict=strict)
    logger.info(
        "recommend_sites: %s, %s via %s (%s), gap %s", model._kind, model.method_, model.solver_,
        model.status_, model.gap_,
    )
    return recommendation_table(model, candidates=candidates, demand=demand, wards=wards)


# ======================================================================================
# Export
# ======================================================================================


def export_recommendations(
    table: pd.DataFrame, sites_gdf: gpd.GeoDataFrame, folder: str | Path
) -> dict[str, Path]:
    """Write ``recommendations.csv``, ``recommendations.gpkg`` and ``recommendations.md``.

    Parameters
    ----------
    table
        Output of :func:`recommend_sites`.
    sites_gdf
        Candidate sites with point geometry and ``site_id`` (any CRS; written in
        EPSG:27700).
    folder
        Output folder (created if missing).

    Returns
    -------
    dict
        ``{"csv": path, "gpkg": path, "markdown": path}``.
    """
    require_columns(table, [RANK, SITE_ID], source="recommendations table")
    require_columns(sites_gdf, [SITE_ID], source="sites_gdf")
    if not isinstance(sites_gdf, gpd.GeoDataFrame):
        raise ApgeoValueError("sites_gdf must be a GeoDataFrame with point geometry")
    g = to_working_crs(sites_gdf, name="sites_gdf")
    missing = sorted(set(map(str, table[SITE_ID])) - set(map(str, g[SITE_ID])))
    if missing:
        raise ApgeoValueError(
            f"sites_gdf has no geometry for recommended site(s) {format_ids(missing)}; pass the "
            "candidate table used for the recommendation"
        )
    out_dir = Path(folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "csv": out_dir / "recommendations.csv",
        "gpkg": out_dir / "recommendations.gpkg",
        "markdown": out_dir / "recommendations.md",
    }
    table.to_csv(paths["csv"], index=False, lineterminator="\n")
    geom = dict(zip(g[SITE_ID].astype(str), g.geometry, strict=True))
    plain = pd.DataFrame(table).copy()
    for col in plain.columns:
        if plain[col].dtype == object or str(plain[col].dtype).startswith("str"):
            plain[col] = plain[col].astype(str)
    layer = gpd.GeoDataFrame(
        plain, geometry=[geom[str(s)] for s in table[SITE_ID]], crs=WORKING_CRS
    )
    if paths["gpkg"].exists():
        paths["gpkg"].unlink()
    layer.to_file(paths["gpkg"], layer="recommendations", driver="GPKG")
    paths["markdown"].write_text(recommendations_markdown(table), encoding="utf-8")
    return paths


def recommendations_markdown(table: pd.DataFrame) -> str:
    """A short Markdown summary of a recommendation table a planner can paste.

    Parameters
    ----------
    table
        Output of :func:`recommend_sites`.

    Returns
    -------
    str
        A heading, a line on the method, one numbered item per site (its ``why``) and a
        compact table of the main numbers.
    """
    attrs = table.attrs
    lines = ["## Recommended sites for alternative provision", ""]
    T = attrs.get("max_travel_time_min")
    mode = attrs.get("mode", "")
    if T is not None:
        method = attrs.get("method", "")
        solver = attrs.get("solver", "")
        gap = attrs.get("gap", math.nan)
        gap_text = "optimal" if gap == 0 else ("gap unknown" if not np.isfinite(gap) else f"gap {gap:.1%}")
        lines.append(
            f"Model: {attrs.get('model', '')}, threshold {float(T):g} min ({mode}), key stages "
            f"{attrs.get('key_stages', '')}; solved {method} with {solver} ({gap_text})."
        )
        lines.append("")
    if len(table) == 0:
        lines.append(f"No site is recommended: {attrs.get('reason') or 'nothing to add'}.")
        return "\n".join(lines) + "\n"
    for _, row in table.iterrows():
        lines.append(f"{int(row[RANK])}. **{row[SITE_NAME]}** ({row[SITE_ID]}). {row[WHY]}")
    lines += [
        "",
        "| Rank | Site | Ward | Children newly within T | Cold spots resolved | Mean time change (min) |",
        "|---:|---|---|---:|---:|---:|",
    ]
    for _, row in table.iterrows():
        lines.append(
            f"| {int(row[RANK])} | {_md(row[SITE_NAME])} | {_md(row[WARD_NAME])} | "
            f"{float(row[CHILDREN_NEWLY_WITHIN]):,.0f} | {int(row[COLDSPOTS_RESOLVED])} | "
            f"{float(row[MEAN_TIME_CHANGE_MIN]):+.2f} |"
        )
    lines += ["", "Access cold spot = an area with children whose journey to the nearest suitable "
              "provider exceeds the threshold (not the CSJ quality ranking)."]
    return "\n".join(lines) + "\n"


def _md(value: object) -> str:
    return str(value if value is not None and value == value else "").replace("|", "\\|")


# ======================================================================================
# Candidate sites
# ======================================================================================


def gias_candidate_sites(
    path: str | Path | None = None,
    *,
    phases: Sequence[str] = ("Primary",),
    establishment_types: Sequence[str] = MAINSTREAM_GIAS_TYPES,
    data_dir: str | Path | None = None,
) -> gpd.GeoDataFrame:
    """Mainstream schools that could host an AP hub, as candidate sites.

    Sheffield already hosts primary AP hubs inside mainstream primary schools, so the
    default is every open mainstream primary school.

    Parameters
    ----------
    path
        A GIAS CSV (``urn, establishment_name, establishment_type, education_phase,
        easting, northing, nearest_cpo_postcode``); the committed Sheffield extract by
        default.
    phases
        GIAS ``education_phase`` values to keep.
    establishment_types
        GIAS ``establishment_type`` values to keep (mainstream by default).
    data_dir
        Data folder (default: the configured one).

    Returns
    -------
    geopandas.GeoDataFrame
        Provider-schema candidates (EPSG:27700): ``site_id`` ``"CAND-URN<urn>"``,
        ``provider_id``, ``name``, ``kind`` (``primary_ap_hub`` for primary schools, else
        ``other``), ``key_stages`` (from the phase), ``capacity_places`` (NaN),
        ``urn``, ``postcode``, ``establishment_type``, ``number_of_pupils``.
    """
    from apgeo.data import data_path
    from apgeo.providers import PHASE_KEY_STAGES

    p = Path(path) if path is not None else data_path("gias", data_dir=data_dir)
    raw = read_csv(p)
    require_columns(
        raw, ["urn", "establishment_name", "establishment_type", "education_phase", "easting", "northing"],
        source=str(p),
    )
    sel = raw[raw["education_phase"].isin(list(phases)) & raw["establishment_type"].isin(list(establishment_types))]
    if len(sel) == 0:
        raise ApgeoValueError(
            f"{p}: no school matches phases {list(phases)} and types {list(establishment_types)}; "
            f"phases present: {sorted(set(raw['education_phase'].dropna()))}"
        )
    e = to_numeric(sel["easting"], column="easting", source=str(p))
    n = to_numeric(sel["northing"], column="northing", source=str(p))
    ok = (e.notna() & n.notna()).to_numpy()
    sel, e, n = sel[ok], e[ok], n[ok]
    urn = sel["urn"].astype(str)
    is_primary = sel["education_phase"] == "Primary"
    frame = pd.DataFrame(
        {
            SITE_ID: ("CAND-URN" + urn).to_numpy(),
            PROVIDER_ID: ("CAND-URN" + urn).to_numpy(),
            NAME: sel["establishment_name"].to_numpy(),
            KIND: np.where(is_primary, ProviderKind.PRIMARY_AP_HUB.value, ProviderKind.OTHER.value),
            KEY_STAGES: sel["education_phase"].map(PHASE_KEY_STAGES).fillna("").to_numpy(),
            CAPACITY_PLACES: np.nan,
            "urn": urn.to_numpy(),
            POSTCODE: sel.get("nearest_cpo_postcode", pd.Series("", index=sel.index)).fillna("").to_numpy(),
            "establishment_type": sel["establishment_type"].to_numpy(),
            "number_of_pupils": to_numeric(
                sel.get("number_of_pupils", pd.Series(np.nan, index=sel.index)),
                column="number_of_pupils", source=str(p),
            ).to_numpy(),
        }
    )
    out = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(e, n), crs=WORKING_CRS)
    return out.sort_values(SITE_ID, kind="stable").reset_index(drop=True)


def read_candidates(
    data: str | Path | pd.DataFrame,
    *,
    kind: str | ProviderKind = ProviderKind.OTHER,
    key_stages: str | None = None,
    id_prefix: str = "CAND-",
    lookup: Any = None,
    strict: bool = False,
) -> gpd.GeoDataFrame:
    """A planner's candidate sites from CSV, GeoJSON, GeoPackage, postcodes or a DataFrame.

    Parsing is :func:`apgeo.providers.read_providers`; columns it requires that a
    candidate list rarely has are filled: ``provider_id`` (``id_prefix`` + row number
    when absent), ``kind`` (``kind``, e.g. ``"primary_ap_hub"``), ``key_stages``
    (``key_stages`` when given).

    Returns
    -------
    geopandas.GeoDataFrame
        Provider-schema table in EPSG:27700 (unlocated rows kept with ``located=False``).
    """
    from apgeo.providers import read_providers

    kind_value = ProviderKind.parse(kind).value
    frame: pd.DataFrame
    if isinstance(data, pd.DataFrame):
        frame = data.copy()
    else:
        p = Path(data)
        if not p.is_file():
            from apgeo._errors import DataFileNotFoundError

            raise DataFileNotFoundError(f"candidate file not found: {p}; check the path")
        frame = read_csv(p) if p.suffix.lower() in {".csv", ".txt"} else gpd.read_file(p)
    if PROVIDER_ID not in frame.columns:
        frame[PROVIDER_ID] = (
            frame[SITE_ID].astype(str) if SITE_ID in frame.columns
            else [f"{id_prefix}{i + 1}" for i in range(len(frame))]
        )
    if KIND not in frame.columns:
        frame[KIND] = kind_value
    if key_stages is not None:
        frame[KEY_STAGES] = key_stages
    if NAME not in frame.columns:
        frame[NAME] = frame[PROVIDER_ID].astype(str)
    return read_providers(frame, lookup=lookup, strict=strict)


def _weighted_silhouette(x: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> float:
    from sklearn.metrics import silhouette_samples

    s = silhouette_samples(x, labels)
    return float(np.average(s, weights=weights)) if weights.sum() > 0 else float(s.mean())


def cluster_candidates(
    coldspots: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    method: Literal["kmeans", "dbscan"] = "kmeans",
    n_clusters: int | None = None,
    k_range: tuple[int, int] = (2, 8),
    eps_m: float = 1500.0,
    min_need: float | None = None,
    sites: gpd.GeoDataFrame | None = None,
    random_state: int = DEFAULT_RANDOM_STATE,
    n_init: int = DEFAULT_N_INIT,
) -> gpd.GeoDataFrame:
    """Candidate sites at the centres of clusters of unmet need (access cold spots).

    Each cold-spot area is a point at its population-weighted centroid
    (``pwc_easting``/``pwc_northing``, else the polygon centroid; EPSG:27700) weighted by
    its ``weighted_need`` summed over the key stages where it is a cold spot.

    * ``method="kmeans"``: scikit-learn ``KMeans`` with ``sample_weight`` = need, fixed
      ``random_state`` and ``n_init``. Unless ``n_clusters`` is given, k maximises the
      need-weighted mean silhouette over ``k_range`` (inclusive, capped at points - 1).
    * ``method="dbscan"``: scikit-learn ``DBSCAN`` with ``sample_weight`` = need: a core
      area has at least ``min_need`` need within ``eps_m`` metres (default ``min_need``:
      10% of all cold-spot need). Noise areas are left out; the centre is the
      need-weighted mean of each cluster.

    With ``sites`` (e.g. :func:`gias_candidate_sites`), each centre is snapped to the
    nearest site not already taken by a larger cluster; otherwise the centres are returned
    as points (snap them to the street network before computing travel times).

    Parameters
    ----------
    coldspots
        Output of :func:`apgeo.coldspots.access_coldspots`.
    demand
        The demand table (``area_id`` and ``pwc_easting``/``pwc_northing`` or polygons).
    method, n_clusters, k_range, eps_m, min_need, random_state, n_init
        See above.
    sites
        Real candidate sites (GeoDataFrame with ``site_id``) to snap centres to.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cluster, largest need first (EPSG:27700): ``site_id``
        (the snapped site's id, or ``"CLUSTER-<n>"``), ``name``, ``kind``,
        ``key_stages`` (those of the cold spots in the cluster), ``cluster``,
        ``cluster_need``, ``cluster_areas`` (count), ``snapped_site_id``,
        ``snap_distance_m`` (NaN when not snapped), ``method``; ``attrs["k_scores"]``
        holds the silhouette per k for k-means.
    """
    from sklearn.cluster import DBSCAN, KMeans

    require_columns(coldspots, [AREA_ID, "key_stage", "access_coldspot", "weighted_need"], source="coldspots")
    require_columns(demand, [AREA_ID], source="demand")
    cold = coldspots[coldspots["access_coldspot"].astype(bool)]
    if len(cold) == 0:
        raise ApgeoValueError(
            "coldspots has no access cold spot: every area with need reaches suitable provision "
            "within the threshold, so there is no unmet need to cluster"
        )
    per_area = (
        cold.groupby(AREA_ID, sort=True)
        .agg(need=("weighted_need", "sum"), ks=("key_stage", lambda s: ",".join(sorted(set(s)))))
        .reset_index()
    )
    if {"pwc_easting", "pwc_northing"} <= set(demand.columns):
        xy = pd.DataFrame(demand).set_index(AREA_ID)[["pwc_easting", "pwc_northing"]].astype(float)
    elif isinstance(demand, gpd.GeoDataFrame):
        d = to_working_crs(demand, name="demand")
        c = d.geometry.centroid
        xy = pd.DataFrame({"pwc_easting": c.x.to_numpy(), "pwc_northing": c.y.to_numpy()}, index=d[AREA_ID])
    else:
        raise ApgeoValueError(
            "demand needs pwc_easting/pwc_northing or polygon geometry to place the cold spots"
        )
    missing = sorted(set(per_area[AREA_ID]) - set(xy.index))
    if missing:
        raise ApgeoValueError(f"demand has no location for cold-spot area(s) {format_ids(missing)}")
    pts = xy.loc[per_area[AREA_ID]].to_numpy(dtype=float)
    w = per_area["need"].to_numpy(dtype=float)
    if (w <= 0).all():
        w = np.ones_like(w)
    n_pts = len(pts)
    k_scores: dict[int, float] = {}
    if method == "kmeans":
        if n_clusters is not None:
            if not isinstance(n_clusters, int) or n_clusters < 1 or n_clusters > n_pts:
                raise ApgeoValueError(
                    f"n_clusters must be between 1 and the number of cold-spot areas ({n_pts}); "
                    f"got {n_clusters!r}"
                )
            k = n_clusters
        else:
            lo, hi = k_range
            hi = min(hi, n_pts - 1)
            if lo < 2 or hi < lo:
                k = 1 if n_pts < 3 else min(max(lo, 2), n_pts - 1)
            else:
                for kk in range(lo, hi + 1):
                    km = KMeans(n_clusters=kk, random_state=random_state, n_init=n_init)
                    lab = km.fit_predict(pts, sample_weight=w)
                    k_scores[kk] = (
                        _weighted_silhouette(pts, lab, w) if len(set(lab)) > 1 else -1.0
                    )
                k = max(k_scores, key=lambda kk: (round(k_scores[kk], 12), -kk))
        km = KMeans(n_clusters=k, random_state=random_state, n_init=n_init)
        labels = km.fit_predict(pts, sample_weight=w)
    elif method == "dbscan":
        if not np.isfinite(eps_m) or eps_m <= 0:
            raise ApgeoValueError(f"eps_m must be a positive number of metres; got {eps_m!r}")
        mn = 0.1 * float(w.sum()) if min_need is None else float(min_need)
        labels = DBSCAN(eps=eps_m, min_samples=1).fit_predict(pts, sample_weight=w / mn if mn > 0 else w)
        if (labels < 0).all():
            raise ApgeoValueError(
                f"DBSCAN found no cluster with at least {mn:g} need within {eps_m:g} m; lower "
                "min_need or raise eps_m, or use method='kmeans'"
            )
    else:
        raise ApgeoValueError(f"method must be 'kmeans' or 'dbscan'; got {method!r}")
    rows = []
    for lab in sorted(set(int(v) for v in labels if v >= 0)):
        m = labels == lab
        centre = np.average(pts[m], axis=0, weights=w[m])
        ks = sorted(set(",".join(per_area.loc[m, "ks"]).split(",")))
        rows.append(
            {
                "_x": centre[0], "_y": centre[1], CLUSTER_NEED: float(w[m].sum()),
                CLUSTER_AREAS: int(m.sum()), KEY_STAGES: ",".join(ks),
            }
        )
    rows.sort(key=lambda r: (-r[CLUSTER_NEED], r["_x"], r["_y"]))
    out = pd.DataFrame(rows)
    out[CLUSTER] = np.arange(1, len(out) + 1)
    out[SNAPPED_TO] = ""
    out[SNAP_DISTANCE_M] = np.nan
    geoms = list(gpd.points_from_xy(out["_x"], out["_y"]))
    out[SITE_ID] = [f"CLUSTER-{c}" for c in out[CLUSTER]]
    out[NAME] = [f"Centre of cold-spot cluster {c}" for c in out[CLUSTER]]
    if sites is not None:
        require_columns(sites, [SITE_ID], source="sites")
        s = to_working_crs(sites, name="sites")
        s = s[~(s.geometry.isna() | s.geometry.is_empty)]
        sxy = np.column_stack([s.geometry.x, s.geometry.y])
        taken: set[int] = set()
        for r in range(len(out)):
            d = np.hypot(sxy[:, 0] - out.at[r, "_x"], sxy[:, 1] - out.at[r, "_y"])
            for idx in np.argsort(d, kind="stable"):
                if int(idx) not in taken:
                    taken.add(int(idx))
                    break
            else:  # more clusters than sites: leave as a point
                continue
            out.at[r, SNAPPED_TO] = str(s[SITE_ID].iloc[idx])
            out.at[r, SNAP_DISTANCE_M] = float(d[idx])
            out.at[r, SITE_ID] = str(s[SITE_ID].iloc[idx])
            if NAME in s.columns:
                out.at[r, NAME] = str(s[NAME].iloc[idx])
            geoms[r] = s.geometry.iloc[idx]
    out[PROVIDER_ID] = out[SITE_ID]
    out[KIND] = ProviderKind.OTHER.value
    out["method"] = method
    cols = [SITE_ID, PROVIDER_ID, NAME, KIND, KEY_STAGES, CLUSTER, CLUSTER_NEED, CLUSTER_AREAS,
            SNAPPED_TO, SNAP_DISTANCE_M, "method"]
    result = gpd.GeoDataFrame(out[cols], geometry=geoms, crs=WORKING_CRS)
    result.attrs["k_scores"] = k_scores
    return result


__all__ = [
    "MAINSTREAM_GIAS_TYPES",
    "CapacitatedMaximalCovering",
    "CapacitatedPMedian",
    "MaximalCovering",
    "PMedian",
    "cluster_candidates",
    "export_recommendations",
    "gias_candidate_sites",
    "read_candidates",
    "recommend_sites",
    "recommendation_table",
    "recommendations_markdown",
]

