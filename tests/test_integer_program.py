"""The location models' integer programs as arrays: HiGHS given the arrays directly and
PuLP given the same program (HiGHS through PuLP, and CBC) find the same optimum, for
every model; the program holds what the model says, column by column and row by row."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pulp
import pytest

from apgeo import ApgeoWarning
from apgeo.planning.models.capacitated import CapacitatedMaximalCovering, CapacitatedPMedian
from apgeo.planning.models.integer_program import to_pulp
from apgeo.planning.models.mclp import MaximalCovering
from apgeo.planning.models.pmedian import PMedian

try:
    from tests._overlap import overlapping
except ImportError:  # tests/ is not a package
    from _overlap import overlapping

T = 1800.0


def _instance(seed: int, n_areas: int = 40, n_sites: int = 12) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    areas = rng.uniform(0, 10_000, (n_areas, 2))
    sites = rng.uniform(0, 10_000, (n_sites, 2))
    cost = np.hypot(*(areas[:, None, :] - sites[None, :, :]).transpose(2, 0, 1)) / 1.4  # walking seconds
    cost[rng.random(cost.shape) < 0.05] = np.nan  # a few journeys impossible
    need = rng.integers(0, 60, n_areas).astype(float)
    capacity = rng.integers(20, 200, n_sites).astype(float)
    return cost, need, capacity


BUILDERS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], Any]] = {
    "mclp": lambda c, n, cap: MaximalCovering.from_cost_matrix(c, n, max_travel_time_s=T, p=3, fixed_open=[0, 1]),
    "pmedian": lambda c, n, cap: PMedian.from_cost_matrix(c, n, p=3, max_travel_time_s=T * 2, fixed_open=[0]),
    "capacitated covering, split": lambda c, n, cap: CapacitatedMaximalCovering.from_cost_matrix(
        c, n, capacity=cap, max_travel_time_s=T, p=2, fixed_open=[0]
    ),
    "capacitated covering, single": lambda c, n, cap: CapacitatedMaximalCovering.from_cost_matrix(
        c, n, capacity=cap, max_travel_time_s=T, p=2, fixed_open=[0], assignment="single"
    ),
    "capacitated p-median, fill fixed": lambda c, n, cap: CapacitatedPMedian.from_cost_matrix(
        c, n, capacity=cap, p=2, max_travel_time_s=T * 2, fixed_open=[0], fill_fixed=False
    ),
}


def _solved(model: Any, solver: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ApgeoWarning)
        return model.solve("exact", solver=solver)


@pytest.mark.parametrize("kind", sorted(BUILDERS))
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_highs_given_the_arrays_equals_pulp_given_the_same_program(kind: str, seed: int) -> None:
    cost, need, capacity = _instance(seed)
    direct = _solved(BUILDERS[kind](cost, need, capacity), "highs")
    assert direct.method_ == "exact" and direct.solver_ == "HiGHS"
    through_pulp = _solved(BUILDERS[kind](cost, need, capacity), pulp.HiGHS(msg=False, threads=1))
    assert through_pulp.method_ == "exact"
    assert direct.selected_ == through_pulp.selected_
    assert direct.objective_ == pytest.approx(through_pulp.objective_, rel=1e-9)
    cbc = _solved(BUILDERS[kind](cost, need, capacity), "cbc")
    assert cbc.objective_ == pytest.approx(direct.objective_, rel=1e-6)


def test_the_program_says_what_the_model_says() -> None:
    """p-median on a 3 x 3 instance: columns in name order, one row per assignment link,
    one per area with several candidates, and the number of sites."""
    cost = np.array([[100.0, 900, 300, 500], [900, 100, 800, 200], [700, 700, 100, 600]])
    model = PMedian.from_cost_matrix(cost, [5, 1, 2], p=1, max_travel_time_s=T, fixed_open=[0])
    program = model._program()
    assert program.names.tolist() == sorted(program.names.tolist())
    assert set(program.x_cols) == {1, 2, 3}
    # savings over the fixed site 0: area 1 by site 1 (800 s), 2 (100 s) and 3 (700 s);
    # area 2 by site 2 (600 s) and 3 (100 s); area 0 by none
    links = [n for n in program.names.tolist() if n.startswith("z_")]
    assert links == ["z_1_1", "z_1_2", "z_1_3", "z_2_2", "z_2_3"]
    k = program.names.tolist().index("z_1_1")
    assert program.objective[k] == pytest.approx(1 * 800.0)
    assert program.n_rows == len(links) + 2 + 1  # links, two areas served once, p
    assert program.row_lower[-1] == program.row_upper[-1] == 1.0
    prob, variables = to_pulp(program)
    assert [v.name for v in prob.variables()] == [v.name for v in variables] == program.names.tolist()
    assert prob.numConstraints() == program.n_rows and set(program.x_cols) == {1, 2, 3} and program.extra == {}


def test_a_time_limit_is_named_and_falls_back_to_greedy() -> None:
    """HiGHS stopped by the time limit: not taken as optimal, and the status says why."""
    rng = np.random.default_rng(3)
    cost = rng.uniform(100, 4000, (400, 150))
    model = PMedian.from_cost_matrix(cost, rng.uniform(0, 50, 400), p=4, max_travel_time_s=3600, fixed_open=[0])
    with pytest.warns(ApgeoWarning, match="stopped before proving optimality .*Time limit reached"):
        model.solve("exact", time_limit_s=0.01)
    assert model.method_ == "greedy (fallback)" and model.status_ == "Time limit reached"


def test_standard_output_comes_back_when_threads_silence_it_in_turn(capfd) -> None:  # type: ignore[no-untyped-def]
    """Two threads silencing descriptor 1 with overlapping spans (A in, B in, A out, B
    out): each saving and restoring it would leave it silenced for good."""
    import os

    from apgeo.planning.models.integer_program import native_stdout_silenced

    overlapping(
        native_stdout_silenced,
        lambda: os.write(1, b"hidden-a\n"),
        lambda: os.write(1, b"hidden-b\n"),
    )
    os.write(1, b"visible\n")
    out = capfd.readouterr().out
    assert "visible" in out
    assert "hidden" not in out


def test_models_solved_on_two_threads_equal_those_solved_one_after_another() -> None:
    """HiGHS releases the GIL, so the study solves its models on two threads: the
    solutions are those of the same models solved in turn."""
    from concurrent.futures import ThreadPoolExecutor

    def models() -> list[Any]:
        return [BUILDERS[kind](*_instance(seed, n_areas=120, n_sites=30)) for kind in sorted(BUILDERS) for seed in (4, 5)]

    def chosen(model: Any) -> tuple[list[int], float]:
        solved = _solved(model, "highs")
        return list(solved.selected_), solved.objective_

    alone = [chosen(m) for m in models()]
    with ThreadPoolExecutor(max_workers=2) as pool:
        together = list(pool.map(chosen, models()))
    assert together == alone
