"""The exact branch and bound of the p-median and the maximal covering model
(apgeo.planning.models.subset_search): the optimum of
every set by brute force, ties to the first set in the candidates' order, the same optimum
as the integer program, and the integer program when the node budget runs out."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

import apgeo.planning.models.base as base_module
from apgeo.planning.models.base import SEARCH_SOLVER
from apgeo.planning.models.pmedian import PMedian
from apgeo.planning.models.subset_search import TIE_RELATIVE, _top_sums_after, best_subset


def _brute_force(W: np.ndarray, p: int) -> tuple[tuple[int, ...], float]:
    """Every set of p columns: the best value, and the first set (lexicographic) within
    TIE_RELATIVE of it."""
    values = {c: float(W[:, list(c)].max(axis=1).sum()) for c in itertools.combinations(range(W.shape[1]), p)}
    best = max(values.values())
    first = min(c for c, v in values.items() if v >= best - TIE_RELATIVE * max(best, 1.0))
    return first, best


def test_every_set_by_brute_force_with_ties() -> None:
    rng = np.random.default_rng(7)
    for _ in range(300):
        m, n = int(rng.integers(1, 25)), int(rng.integers(1, 11))
        p = int(rng.integers(1, n + 1))
        W = rng.integers(0, 5, size=(m, n)).astype(float) * rng.choice([1.0, 0.5], size=(m, 1))
        if n > 2 and rng.random() < 0.5:
            W[:, -1] = W[:, 0]  # two candidates on one site: identical columns
        choice = best_subset(W, p)
        assert choice is not None
        first, best = _brute_force(W, p)
        assert choice.columns == first
        assert choice.value == pytest.approx(best, rel=1e-12, abs=1e-12)


def test_identical_columns_the_first_stands_for_the_others() -> None:
    W = np.array([[5.0, 1.0, 5.0, 0.0], [0.0, 4.0, 0.0, 4.0], [3.0, 0.0, 3.0, 0.0]])
    # columns 0 and 2 are one site; 1 and 3 another: {0, 1} is first of four equal sets
    assert best_subset(W, 2).columns == (0, 1)  # type: ignore[union-attr]
    assert best_subset(W[:, ::-1].copy(), 2).columns == (0, 1)  # type: ignore[union-attr]


def test_top_sums_after() -> None:
    marginal = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0])
    for k in (1, 2, 3):
        expected = [sum(sorted(marginal[c + 1 :], reverse=True)[:k]) for c in range(len(marginal))]
        assert _top_sums_after(marginal, k).tolist() == expected


def test_bad_input() -> None:
    with pytest.raises(ValueError, match="non-negative"):
        best_subset(np.array([[1.0, -1.0]]), 1)
    with pytest.raises(ValueError, match="between 1 and the number of columns"):
        best_subset(np.ones((2, 2)), 3)


def _random_model(seed: int, *, n_areas: int = 120, n_sites: int = 40, p: int = 3) -> PMedian:
    rng = np.random.default_rng(seed)
    areas = rng.uniform(0, 10_000, size=(n_areas, 2))
    sites = rng.uniform(0, 10_000, size=(n_sites, 2))
    cost = np.linalg.norm(areas[:, None, :] - sites[None, :, :], axis=2) / 1.3  # seconds
    cost[rng.random(cost.shape) < 0.05] = np.nan  # some pairs unreachable
    need = rng.integers(0, 60, size=n_areas).astype(float)
    return PMedian.from_cost_matrix(cost, need, p=p, max_travel_time_s=1800.0, fixed_open=[0, 1])


@pytest.mark.parametrize("seed", range(6))
def test_same_optimum_as_the_integer_program(seed: int) -> None:
    searched = _random_model(seed).solve("exact")
    program = _random_model(seed).solve("exact", solver="highs")
    assert searched.solver_ == SEARCH_SOLVER and searched.status_ == "Optimal" and searched.gap_ == 0.0
    assert program.solver_ == "HiGHS"
    # HiGHS proves optimality to its relative gap (1e-4); the search finds the optimum
    assert searched.objective_ <= program.objective_ * (1 + 1e-12)
    assert searched.objective_ == pytest.approx(program.objective_, rel=1e-4)
    # and it is the best of every set of three candidates, by brute force
    model = _random_model(seed)
    cand = model._cand_cols()
    base = model._best(model.fixed)
    W = model.need[:, None] * np.maximum(base[:, None] - model.effective_s[:, cand], 0.0)
    first, _ = _brute_force(W, 3)
    assert sorted(searched.selected_index_.tolist()) == [int(cand[c]) for c in first]


def test_out_of_nodes_the_integer_program_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    original = base_module.best_subset
    monkeypatch.setattr(base_module, "best_subset", lambda gains, p: original(gains, p, max_nodes=2))
    model = _random_model(3).solve("exact")
    assert model.solver_ == "HiGHS" and model.status_ == "Optimal"
    assert best_subset(np.random.default_rng(0).random((50, 30)), 4, max_nodes=2) is None


@pytest.mark.parametrize("seed", range(6))
def test_maximal_covering_same_optimum_as_the_integer_program(seed: int) -> None:
    from apgeo.planning.models.mclp import MaximalCovering

    rng = np.random.default_rng(100 + seed)
    areas, sites = rng.uniform(0, 20_000, size=(150, 2)), rng.uniform(0, 20_000, size=(40, 2))
    cost = np.linalg.norm(areas[:, None, :] - sites[None, :, :], axis=2) / 1.3
    need = rng.integers(0, 30, size=150).astype(float)  # whole children: ties are common

    def model() -> MaximalCovering:
        return MaximalCovering.from_cost_matrix(cost, need, max_travel_time_s=1800.0, p=3, fixed_open=[0, 1, 2])

    searched, program = model().solve("exact"), model().solve("exact", solver="highs")
    assert searched.solver_ == SEARCH_SOLVER and program.solver_ == "HiGHS"
    assert searched.objective_ == program.objective_
    m = model()
    cand = m._cand_cols()
    uncovered = ~m._covered_by(m.fixed) & (m.need > 0)
    W = np.where(uncovered[:, None] & m.cover[:, cand], m.need[:, None], 0.0)
    first, _ = _brute_force(W, 3)
    assert sorted(searched.selected_index_.tolist()) == [int(cand[c]) for c in first]
