"""The published test cases of PySAL ``access`` and ``spopt.locate``, run through apgeo.

Each test names the peer test it reproduces. Inputs are re-entered here or read from
``tests/data/peers/`` (written by ``scripts/make_peer_fixtures.py`` from spopt's own test
inputs: its lattice instances, the San Francisco stores and tracts and the example
schools it ships). Expected values are the peers' published ones; where a peer test
checks an assignment pickle rather than a number, the figure given was obtained by
running spopt 0.7.0 (CBC) on the same inputs and says so.

Conventions that differ by design, asserted as such:

* apgeo's ``p`` counts only the sites to add; spopt's ``p_facilities`` counts the
  predefined ones too (spopt p=3 with 2 predefined = apgeo p=1 with 2 ``fixed_open``).
* An area with no site in reach has access 0 in apgeo, NaN in access; apgeo refuses a
  catchment <= 0 instead of returning NaN everywhere.
* apgeo's capacitated models split an area's need between sites by default
  (``assignment="split"``); spopt assigns each client whole (``assignment="single"``).
* apgeo's Gaussian decay is truncated at the catchment and rescaled to reach 0 there
  (Dai 2010); access's is the plain ``exp(-t^2 / 2 sigma^2)``. Step weights above 1 are
  refused by apgeo.
* Not reproduced: access's 3SFCA, FCA ratio and RAAM, and spopt's LSCP, LSCP-B,
  p-center and p-dispersion (no apgeo counterpart).
"""

from __future__ import annotations

import itertools
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from apgeo import ApgeoValueError, ApgeoWarning
from apgeo.analysis.access import (
    floating_catchment_access,
    gaussian_weights,
    gravity_weights,
    stepped_weights,
)
from apgeo.planning.models.capacitated import CapacitatedPMedian
from apgeo.planning.models.mclp import MaximalCovering
from apgeo.planning.models.pmedian import PMedian

PEERS = Path(__file__).parent / "data" / "peers"
MIN = 60.0


# ======================================================================================
# PySAL access
# ======================================================================================


def _seam(
    times_min: np.ndarray, demand: np.ndarray, supply: np.ndarray, areas: list[str], sites: list[str]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Seam tables (times in seconds) for a dense area x site matrix in minutes."""
    tt = pd.DataFrame(
        [(a, s, times_min[i, j] * MIN) for i, a in enumerate(areas) for j, s in enumerate(sites)],
        columns=["origin_id", "destination_id", "travel_time_s"],
    )
    dem = pd.DataFrame({"area_id": areas, "children_ks3": demand})
    prov = pd.DataFrame(
        {"site_id": sites, "provider_id": sites, "name": sites, "kind": "pru", "key_stages": "KS3",
         "capacity_places": supply}
    )  # fmt: skip
    return tt, dem, prov


def _access_model(times_min: np.ndarray, demand: np.ndarray, supply: np.ndarray,
                  areas: list[str], sites: list[str]):  # type: ignore[no-untyped-def]
    access = pytest.importorskip("access", reason="PySAL access is not installed")
    cost = pd.DataFrame(
        [(a, s, times_min[i, j]) for i, a in enumerate(areas) for j, s in enumerate(sites)],
        columns=["origin", "dest", "cost"],
    )
    return access.Access(
        demand_df=pd.DataFrame({"geoid": areas, "pop": demand}), demand_index="geoid",
        demand_value="pop", supply_df=pd.DataFrame({"geoid": sites, "cap": supply}),
        supply_index="geoid", supply_value="cap", cost_df=cost, cost_origin="origin",
        cost_dest="dest", cost_name="cost",
    )  # fmt: skip


def _grid() -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], list[str]]:
    """access tests/util.py: a 5 x 5 grid of sites with 1 place each, Euclidean costs.

    access samples 5 grid points at random as demand (value 1); every sample gives the
    same figures, so a fixed one is used.
    """
    xy = np.array([(x, y) for x in range(5) for y in range(5)], dtype=float)
    demand_xy = xy[[0, 8, 12, 16, 24]]  # (0,0) (1,3) (2,2) (3,1) (4,4)
    times = np.sqrt(((demand_xy[:, None, :] - xy[None, :, :]) ** 2).sum(axis=2))
    areas = [f"d{k}" for k in range(5)]
    sites = [f"s{k}" for k in range(25)]
    return times, np.ones(5), np.ones(25), areas, sites


@pytest.mark.parametrize(
    ("decay", "catchment_min", "expected"),
    [
        # test_two_stage_floating_catchment_area_large_catchment: 25 places / 5 children
        ("none", math.inf, 5.0),
        # ..._small_catchment (0.9): only the site under each demand point
        # (apgeo warns that 20 sites have no demand in reach; access is silent)
        ("none", 0.9, 1.0),
        # test_enhanced_two_stage_floating_catchment_area_large_catchment (default steps
        # 10/20/30 -> 1/0.68/0.22; every grid distance is under 10)
        ("stepped", None, 5.0),
    ],
)
def test_access_grid_2sfca_and_e2sfca(decay: str, catchment_min: float | None, expected: float) -> None:
    times, dem, sup, areas, sites = _grid()
    kwargs = {} if catchment_min is None else {"catchment_min": catchment_min}
    with warnings.catch_warnings():
        warnings.filterwarnings("error")
        if catchment_min == 0.9:
            warnings.filterwarnings("ignore", message=r"20 site\(s\) have no demand", category=ApgeoWarning)
        out = floating_catchment_access(
            *_seam(times, dem, sup, areas, sites), mode="walk", decay=decay, key_stages="KS3", **kwargs  # type: ignore[arg-type]
        )
    np.testing.assert_allclose(out["places_per_child"], expected)


def test_access_grid_e2sfca_small_catchment() -> None:
    # test_enhanced_two_stage_floating_catchment_area_small_catchment: steps capped at 0.9
    times, dem, sup, areas, sites = _grid()
    with pytest.warns(ApgeoWarning, match=r"20 site\(s\) have no demand within their catchment"):
        out = floating_catchment_access(
            *_seam(times, dem, sup, areas, sites), mode="walk", decay="stepped", key_stages="KS3",
            steps_min=[0.9], step_weights=[1.0],
        )  # fmt: skip
    np.testing.assert_allclose(out["places_per_child"], 1.0)


def test_access_zero_catchment_is_nan_there_and_refused_here() -> None:
    # test_two_stage_floating_catchment_area_zero_catchment: access gives NaN for a
    # catchment of -1; apgeo refuses the catchment and names the fix.
    times, dem, sup, areas, sites = _grid()
    with pytest.raises(ApgeoValueError, match="catchment_min must be a positive number of minutes"):
        floating_catchment_access(
            *_seam(times, dem, sup, areas, sites), mode="walk", key_stages="KS3", catchment_min=-1
        )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # third-party pandas deprecations
        theirs = _access_model(times, dem, sup, areas, sites).two_stage_fca(name="f", max_cost=-1)
    assert theirs["f_cap"].isna().all()


def test_access_area_with_nothing_in_reach_is_zero_not_nan() -> None:
    # one more demand point 100 units away from the grid: NaN in access, 0 in apgeo
    times, dem, sup, areas, sites = _grid()
    far = np.sqrt(((np.array([100.0, 100.0]) - np.array([(x, y) for x in range(5) for y in range(5)])) ** 2).sum(axis=1))
    times = np.vstack([times, far])
    dem = np.append(dem, 1.0)
    areas = [*areas, "far"]
    ours = floating_catchment_access(
        *_seam(times, dem, sup, areas, sites), mode="walk", key_stages="KS3", catchment_min=30
    ).set_index("area_id")["places_per_child"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _access_model(times, dem, sup, areas, sites).two_stage_fca(name="f", max_cost=30)["f_cap"]
    assert ours["far"] == 0.0 and math.isnan(theirs.get("far", math.nan))
    np.testing.assert_allclose(ours.drop("far").to_numpy(), theirs.reindex(areas[:-1]).to_numpy())
    np.testing.assert_allclose(ours.drop("far"), 5.0)


# ---- the hospital example: gravity 2SFCA in four traffic scenarios --------------------

_TRACTS = {1: (100, 15), 2: (50, 20), 3: (10, 100)}  # geoid: (pop, doctors)
# origin -> destination cost in minutes: (self, inbound to 3, outbound from 3, cross-city)
_SCENARIOS = {0: (1, 40, 40, 80), 1: (1, 20, 40, 80), 2: (1, 40, 20, 80), 3: (1, 20, 20, 40)}


def _hospital_costs(n: int) -> np.ndarray:
    own, inbound, outbound, cross = _SCENARIOS[n]
    c = np.full((3, 3), float(own))
    c[0, 2] = c[1, 2] = inbound
    c[2, 0] = c[2, 1] = outbound
    c[0, 1] = c[1, 0] = cross
    return c


def _simple_2sfca(od: np.ndarray, supply: np.ndarray, demand: np.ndarray, max_travel: float = 61) -> np.ndarray:
    """access tests/test_hospital_example.py ``simple_2sfca``: gravity weights 1 / cost."""
    n = len(supply)
    d = [sum(demand[r] / od[r, h] for r in range(n) if od[r, h] < max_travel) for h in range(n)]
    ratio = [supply[h] / d[h] for h in range(n)]
    return np.array([sum(ratio[h] / od[r, h] for h in range(n) if od[r, h] < max_travel) for r in range(n)])


def _hospital_apgeo(n: int) -> np.ndarray:
    pop = np.array([v[0] for v in _TRACTS.values()], dtype=float)
    doc = np.array([v[1] for v in _TRACTS.values()], dtype=float)
    ids = [str(k) for k in _TRACTS]
    out = floating_catchment_access(
        *_seam(_hospital_costs(n), pop, doc, ids, ids), mode="car", decay="gravity",
        catchment_min=61, gravity_exponent=1.0, gravity_min_time_min=1.0, key_stages="KS3",
    )  # fmt: skip
    return out.set_index("area_id").loc[ids, "places_per_child"].to_numpy()


@pytest.mark.parametrize("scenario", [0, 1, 2, 3])
def test_access_hospital_gravity_2sfca(scenario: int) -> None:
    # test_simple_2sfca_scenario_0..3: weights.gravity(1, -1), max_cost=61
    pop = np.array([v[0] for v in _TRACTS.values()], dtype=float)
    doc = np.array([v[1] for v in _TRACTS.values()], dtype=float)
    ours = _hospital_apgeo(scenario)
    np.testing.assert_allclose(ours, _simple_2sfca(_hospital_costs(scenario), doc, pop), rtol=1e-12)
    access = pytest.importorskip("access", reason="PySAL access is not installed")
    ids = [str(k) for k in _TRACTS]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = _access_model(_hospital_costs(scenario), pop, doc, ids, ids).two_stage_fca(
            name="g", weight_fn=access.weights.gravity(1, -1), max_cost=61
        )["g_cap"]
    np.testing.assert_allclose(ours, theirs.reindex(ids).to_numpy(), rtol=1e-12)


def test_access_hospital_scenarios_move_the_right_way() -> None:
    # test_scenario_0_v_1 / 0_v_2 / 0_v_3
    s = {n: _hospital_apgeo(n) for n in range(4)}
    assert s[1][0] > s[0][0] and s[1][1] > s[0][1] and s[1][2] < s[0][2]
    assert s[2][0] < s[0][0] and s[2][1] < s[0][1] and s[2][2] > s[0][2]
    assert s[3][0] > s[0][0] and s[3][1] > s[0][1] and s[3][2] < s[0][2]


# ---- weight functions (access tests/test_weights.py) ----------------------------------


def test_weights_step_function_matches_access_step_fn() -> None:
    # access docstring: step_fn({20: 1, 40: 0.68, 60: 0.22}) on 0, 10, ..., 70
    t = np.arange(0, 71, 10, dtype=float)
    ours = stepped_weights(t, steps_s=[20, 40, 60], step_weights=[1.0, 0.68, 0.22])
    np.testing.assert_allclose(ours, [1, 1, 1, 0.68, 0.68, 0.22, 0.22, 0])
    access = pytest.importorskip("access", reason="PySAL access is not installed")
    fn = access.weights.step_fn({20: 1, 40: 0.68, 60: 0.22})
    np.testing.assert_allclose(ours, [fn(v) for v in t])


def test_weights_step_above_one_is_refused() -> None:
    # test_step_fn_all_weight_two_equals_twice: access accepts 2; apgeo keeps weights in [0, 1]
    times, dem, sup, areas, sites = _grid()
    with pytest.raises(ApgeoValueError, match=r"step_weights must lie in \[0, 1\]"):
        floating_catchment_access(
            *_seam(times, dem, sup, areas, sites), mode="walk", decay="stepped", key_stages="KS3",
            steps_min=[10.0], step_weights=[2.0],
        )  # fmt: skip


@pytest.mark.parametrize(("sigma", "expected"), [(1, 0.6065306597), (2, 0.88249690), (50, 0.99980001)])
def test_weights_gaussian_untruncated_matches_access(sigma: float, expected: float) -> None:
    # test_gaussian_weight_sigma_one / _sigma_varied at t = 1: without a catchment
    # (c = inf) apgeo's Gaussian is access's
    assert gaussian_weights(np.array([1.0]), catchment_s=math.inf, sigma_s=sigma)[0] == pytest.approx(expected)


def test_weights_gaussian_truncated_by_design() -> None:
    # apgeo's Gaussian (Dai 2010) is access's, shifted and rescaled to reach 0 at c
    t = np.linspace(0, 30, 31)
    sigma, c = 10.0, 30.0
    plain = np.exp(-(t**2) / (2 * sigma**2))
    floor = math.exp(-(c**2) / (2 * sigma**2))
    ours = gaussian_weights(t, catchment_s=c, sigma_s=sigma)
    np.testing.assert_allclose(ours, (plain - floor) / (1 - floor))
    assert ours[0] == 1.0 and ours[-1] == pytest.approx(0.0, abs=1e-15)


def test_weights_gravity_matches_access_up_to_scale() -> None:
    t = np.array([0.0, 1.0, 2.0, 20.0, 40.0, 60.0])
    # access docstring: gravity(scale=20, alpha=-2, min_dist=1) -> 400, 400, 100, 1, 0.25, 0.11
    ours = gravity_weights(t, catchment_s=math.inf, exponent=2.0, min_time_s=1.0)
    np.testing.assert_allclose(ours * 400, [400, 400, 100, 1, 0.25, 1 / 9])
    # same shape as access's gravity(scale=t0, alpha=-beta, min_dist=t0), exactly
    access = pytest.importorskip("access", reason="PySAL access is not installed")
    fn = access.weights.gravity(scale=1.0, alpha=-2.0, min_dist=1.0)
    np.testing.assert_allclose(ours, [fn(v) for v in t])
    # test_gravity_with_zero_alpha: exponent 0 weighs everything 1
    np.testing.assert_allclose(gravity_weights(t, catchment_s=math.inf, exponent=0.0, min_time_s=5.0), 1.0)
    # beyond the catchment or unreachable: 0
    assert list(gravity_weights(np.array([10.0, np.inf]), catchment_s=5.0, exponent=1.0, min_time_s=1.0)) == [0, 0]


# ======================================================================================
# spopt.locate
# ======================================================================================


def _lattice(kind: str) -> tuple[np.ndarray, np.ndarray]:
    table = pd.read_csv(PEERS / f"lattice_100x5_{kind}.csv")
    return table.filter(like="fac_").to_numpy(dtype=float), table["weight"].to_numpy(dtype=float)


def _sf() -> tuple[np.ndarray, np.ndarray]:
    table = pd.read_csv(PEERS / "sf_distance_m.csv")
    return table.iloc[:, 2:].to_numpy(dtype=float), table["pop2000"].to_numpy(dtype=float)


def _uncovered_rows(cost: np.ndarray, open_cols: list[int], radius: float) -> int:
    return int((~(cost[:, open_cols] <= radius).any(axis=1)).sum())


# ---- MCLP -------------------------------------------------------------------------------


def test_spopt_lattice_mclp() -> None:
    # test_mclp.py::test_mclp_from_cost_matrix: radius 7, p=4 -> 1 client uncovered, 99.0 %
    # (the selection [0, 1, 2, 3] and covered weight 611 from running spopt)
    cost, w = _lattice("network")
    model = MaximalCovering.from_cost_matrix(cost, w, max_travel_time_s=7, p=4).solve()
    assert sorted(model.selected_index_) == [0, 1, 2, 3]
    assert model.objective_ == pytest.approx(611.0)
    uncovered = _uncovered_rows(cost, list(model.selected_index_), 7)
    assert uncovered == 1 and 100.0 * (len(w) - uncovered) / len(w) == 99.0


def test_spopt_lattice_mclp_preselected() -> None:
    # test_mclp_preselected_facility_client_array_from_geodataframe: predefined [1, 1, 0, 1, 0],
    # p_facilities=4 -> spopt covers all 618 and, since its p counts every open site, must
    # also open a fourth (site 4). apgeo (fixed_open [0, 1, 3], p=1) finds the three
    # predefined sites already cover everyone and adds nothing, with a warning.
    cost, w = _lattice("euclidean")
    model = MaximalCovering.from_cost_matrix(cost, w, max_travel_time_s=7, p=1, fixed_open=[0, 1, 3])
    with pytest.warns(ApgeoWarning, match="all need is already within .* no site needs to be added"):
        model.solve()
    assert model.selected_ == [] and model.objective_ == pytest.approx(618.0)
    assert model.covered_share_ == 1.0
    assert _uncovered_rows(cost, [0, 1, 3, 4], 7) == _uncovered_rows(cost, [0, 1, 3], 7) == 0


def test_spopt_san_francisco_mclp() -> None:
    # test_mixin_mclp_get_uncovered_clients / _get_percentage: 5000 m, p=4 -> 21 tracts
    # uncovered, 89.75609756097561 %; spopt opens stores 1, 2, 5, 10 (0-based), covering 875,247
    cost, pop = _sf()
    model = MaximalCovering.from_cost_matrix(cost, pop, max_travel_time_s=5000.0, p=4).solve()
    assert sorted(model.selected_index_) == [1, 2, 5, 10]
    assert model.objective_ == pytest.approx(875247.0)
    uncovered = _uncovered_rows(cost, list(model.selected_index_), 5000.0)
    assert uncovered == 21
    assert 100.0 * (len(pop) - uncovered) / len(pop) == pytest.approx(89.75609756097561)


# ---- p-median ---------------------------------------------------------------------------


def test_spopt_lattice_p_median() -> None:
    # test_p_median.py::test_pmedian_*_from_cost_matrix (assignment pickles); spopt opens
    # 0, 1, 2, 4 with objective 1870.7470939641098 (from running spopt)
    cost, w = _lattice("network")
    model = PMedian.from_cost_matrix(cost, w, p=4).solve()
    assert sorted(model.selected_index_) == [0, 1, 2, 4]
    assert model.objective_ == pytest.approx(1870.7470939641098, rel=1e-12)
    assert model.mean_time_s_ == pytest.approx(3.027098857547103, rel=1e-12)


def test_spopt_lattice_p_median_preselected_counts_only_new_sites() -> None:
    # test_pmedian_preselected_facility_client_array_from_geodataframe: predefined [0,0,0,1,1],
    # p_facilities=3 -> objective 1872.5093264630818, mean 3.0299503664451164, open 1, 3, 4.
    # apgeo's p counts only the sites to add: fixed_open [3, 4], p=1.
    cost, w = _lattice("euclidean")
    model = PMedian.from_cost_matrix(cost, w, p=1, fixed_open=[3, 4]).solve()
    assert model.selected_index_.tolist() == [1]
    assert model.objective_ == pytest.approx(1872.5093264630818, rel=1e-12)
    assert model.mean_time_s_ == pytest.approx(3.0299503664451164, rel=1e-12)


def test_spopt_san_francisco_p_median() -> None:
    # test_mixin_mean_distance: p=4 -> mean distance 2982.1268579890657 m. apgeo caps
    # times at penalty_s; a penalty above every distance reproduces the uncapped model.
    cost, pop = _sf()
    model = PMedian.from_cost_matrix(cost, pop, p=4, max_travel_time_s=5000.0, penalty_s=1e6).solve()
    assert sorted(model.selected_index_) == [1, 2, 5, 10]
    assert model.mean_time_s_ == pytest.approx(2982.1268579890657, rel=1e-12)


# ---- capacitated p-median ---------------------------------------------------------------


def _c23() -> np.ndarray:
    return pd.read_csv(PEERS / "lattice_2x3.csv").filter(like="fac_").to_numpy(dtype=float)


def test_spopt_capacitated_p_median_single_sourced() -> None:
    # test_c_p_median_from_cost_matrix: capacities 5, 7, 10, demand 4, 10, p=2, every client
    # served whole -> cli2fac [[1], [2]], cost 102.38048614523989 (from running spopt)
    model = CapacitatedPMedian.from_cost_matrix(
        _c23(), [4, 10], capacity=[5, 7, 10], p=2, serve_all=True, assignment="single"
    ).solve()
    assert sorted(model.selected_index_) == [1, 2]
    assert model.objective_ == pytest.approx(102.38048614523989, rel=1e-12)
    np.testing.assert_allclose(model.served_need_, [0, 4, 10])


def test_spopt_capacitated_p_median_split_by_design() -> None:
    # apgeo's default shares client 1's 10 units between sites 1 and 2: 89.69, below spopt's
    # single-sourced 102.38 (the split optimum of the same instance)
    cost = _c23()
    model = CapacitatedPMedian.from_cost_matrix(cost, [4, 10], capacity=[5, 7, 10], p=2, serve_all=True).solve()
    assert model.assignment == "split" and sorted(model.selected_index_) == [1, 2]
    np.testing.assert_allclose(model.served_need_, [0, 7, 7])
    # client 0 (4) and 3 of client 1 at site 1, 7 of client 1 at site 2
    expected = 4 * cost[0, 1] + 3 * cost[1, 1] + 7 * cost[1, 2]
    assert model.objective_ == pytest.approx(expected, rel=1e-12)
    assert model.objective_ == pytest.approx(89.69129603082163, rel=1e-9)


def test_spopt_capacitated_p_median_predefined_filled() -> None:
    # test_c_p_median_with_predefined_facilities_from_cost_matrix: predefined [2] filled,
    # p_facilities=2 -> cli2fac [[1], [2]] (apgeo: fixed_open [2], p=1)
    model = CapacitatedPMedian.from_cost_matrix(
        _c23(), [4, 10], capacity=[5, 7, 10], p=1, fixed_open=[2], serve_all=True,
        assignment="single", fill_fixed=True,
    ).solve()  # fmt: skip
    assert model.selected_index_.tolist() == [1]
    np.testing.assert_allclose(model.served_need_, [0, 4, 10])
    assert model.objective_ == pytest.approx(102.38048614523989, rel=1e-12)


def test_spopt_capacitated_p_median_predefined_infeasible() -> None:
    # test_c_p_median_with_predefined_facilities_infeasible: site 0 (5 places) cannot be
    # filled by whole clients of 4 and 10
    with pytest.raises(ApgeoValueError, match=r"infeasible capacities: .*fill_fixed=True.*assignment='single'"):
        CapacitatedPMedian.from_cost_matrix(
            _c23(), [4, 10], capacity=[5, 7, 10], p=1, fixed_open=[0], serve_all=True,
            assignment="single", fill_fixed=True,
        ).solve()  # fmt: skip
    # split, it is feasible: 4 + 1 of the 10 fill site 0
    model = CapacitatedPMedian.from_cost_matrix(
        _c23(), [4, 10], capacity=[5, 7, 10], p=1, fixed_open=[0], serve_all=True, fill_fixed=True
    ).solve()
    assert model.served_need_[0] == pytest.approx(5.0)


def _schools() -> tuple[np.ndarray, np.ndarray, np.ndarray, pd.DataFrame]:
    cost = pd.read_csv(PEERS / "schools_time_min.csv").set_index("student").to_numpy(dtype=float)
    schools = pd.read_csv(PEERS / "schools.csv")
    priority_1 = np.flatnonzero(schools["priority"].to_numpy() == 1)
    return cost, schools["capacity"].to_numpy(dtype=float), priority_1, schools


@pytest.mark.parametrize("assignment", ["single", "split"])
def test_spopt_schools_fill_predefined(assignment: str) -> None:
    # test_c_p_median.py::test_mixin_mean_time: 10 students, priority-1 schools predefined
    # and filled (fulfill_predefined_fac=True), p_facilities=10 -> mean 87.2 min.
    # spopt with the option off gives 81.6 (from running spopt); so does apgeo.
    cost, capacity, priority_1, _ = _schools()
    results = {}
    for fill in (True, False):
        model = CapacitatedPMedian.from_cost_matrix(
            cost, np.ones(10), capacity=capacity, p=10 - len(priority_1), fixed_open=priority_1,
            serve_all=True, fill_fixed=fill, assignment=assignment,  # type: ignore[arg-type]
            max_travel_time_s=20000.0,
        ).solve()  # fmt: skip
        results[fill] = model.mean_time_s_  # minutes here: the fixture's unit
        if fill:
            np.testing.assert_allclose(model.served_need_[priority_1], capacity[priority_1])
    assert results[True] == pytest.approx(87.2, rel=1e-12)
    assert results[False] == pytest.approx(81.6, rel=1e-12)


def test_spopt_schools_errors() -> None:
    cost, capacity, priority_1, schools = _schools()
    # test_infeasibility_predefined_facilities_fulfillment_error: priority-3 schools offer
    # more places than there are students
    priority_3 = np.flatnonzero(schools["priority"].to_numpy() == 3)
    with pytest.raises(ApgeoValueError, match=r"fill_fixed=True needs the existing sites filled, but they offer"):
        CapacitatedPMedian.from_cost_matrix(
            cost, np.ones(10), capacity=capacity, p=1, fixed_open=priority_3, serve_all=True, fill_fixed=True
        )
    # test_infeasibility_capacity_smaller_than_demand_error: 5 units per student
    with pytest.raises(ApgeoValueError, match="infeasible capacities: every unit of need must be served"):
        CapacitatedPMedian.from_cost_matrix(
            cost, np.full(10, 5.0), capacity=capacity, p=3, fixed_open=priority_1, serve_all=True,
            fill_fixed=True,
        )  # fmt: skip
    # test_no_capacity_data_predefined_facilities_error: capacity is required
    with pytest.raises(ApgeoValueError, match="needs capacity"):
        CapacitatedPMedian.from_cost_matrix(cost, np.ones(10), capacity=None, p=3, fill_fixed=True)
    # fill_fixed with unlimited existing capacity cannot be met
    unlimited = capacity.copy()
    unlimited[priority_1[0]] = np.inf
    with pytest.raises(ApgeoValueError, match="have unlimited capacity"):
        CapacitatedPMedian.from_cost_matrix(
            cost, np.ones(10), capacity=unlimited, p=3, fixed_open=priority_1, fill_fixed=True
        )


def test_single_assignment_brute_force_tiny() -> None:
    """Single sourcing: the exact answer equals enumeration of every open set and assignment."""
    rng = np.random.default_rng(7)
    for _ in range(25):
        n, m, p = 4, 4, 2
        cost = rng.uniform(1, 20, (n, m)).round(1)
        cost[rng.random((n, m)) < 0.15] = np.inf
        need = rng.integers(1, 6, n).astype(float)
        cap = rng.integers(3, 12, m).astype(float)
        fixed = [0]
        penalty = 30.0
        best = math.inf
        for add in itertools.combinations(range(1, m), p):
            open_cols = [*fixed, *add]
            for choice in itertools.product([-1, *open_cols], repeat=n):
                load = dict.fromkeys(open_cols, 0.0)
                total = 0.0
                for i, j in enumerate(choice):
                    if j < 0 or cost[i, j] >= penalty:
                        total += need[i] * penalty
                    else:
                        load[j] += need[i]
                        total += need[i] * cost[i, j]
                if all(load[j] <= cap[j] for j in open_cols):
                    best = min(best, total)
        model = CapacitatedPMedian.from_cost_matrix(
            cost, need, capacity=cap, p=p, fixed_open=fixed, penalty_s=penalty, assignment="single"
        ).solve()
        assert model.objective_ == pytest.approx(best, rel=1e-9)
        assert (model.served_need_ <= cap + 1e-9).all()


def test_single_assignment_greedy_fits_whole_areas() -> None:
    # the greedy heuristic under single sourcing: never over capacity, never better than
    # the exact optimum, and on spopt's 2 x 3 case it finds it
    rng = np.random.default_rng(11)
    for _ in range(20):
        cost = rng.uniform(1, 20, (6, 5)).round(1)
        need = rng.integers(1, 6, 6).astype(float)
        cap = rng.integers(4, 12, 5).astype(float)
        kwargs = {"capacity": cap, "p": 2, "fixed_open": [0], "penalty_s": 30.0, "assignment": "single"}
        exact = CapacitatedPMedian.from_cost_matrix(cost, need, **kwargs).solve()  # type: ignore[arg-type]
        greedy = CapacitatedPMedian.from_cost_matrix(cost, need, **kwargs).solve("greedy")  # type: ignore[arg-type]
        assert (greedy.served_need_ <= cap + 1e-9).all()
        assert greedy.objective_ >= exact.objective_ - 1e-9
        # whole areas only: what each site serves is a sum of whole needs
        subset_sums = {round(sum(c), 9) for r in range(7) for c in itertools.combinations(need, r)}
        assert all(round(v, 9) in subset_sums for v in greedy.served_need_)
    model = CapacitatedPMedian.from_cost_matrix(
        _c23(), [4, 10], capacity=[5, 7, 10], p=2, serve_all=True, assignment="single"
    ).solve("greedy")
    assert model.objective_ == pytest.approx(102.38048614523989, rel=1e-12)


def test_fill_fixed_greedy_refuses_when_it_cannot_fill() -> None:
    # site 0 has 10 places but only 4 units of need within reach: the greedy heuristic says
    # so and points to the exact solve, which proves it infeasible
    cost = np.array([[1.0, 2.0], [np.inf, 1.0]])
    kwargs = {"capacity": [10.0, 10.0], "p": 1, "fixed_open": [0], "fill_fixed": True}
    with pytest.raises(ApgeoValueError, match=r"could not fill existing site\(s\) 0 \(6.0 places left\)"):
        CapacitatedPMedian.from_cost_matrix(cost, [4.0, 8.0], **kwargs).solve("greedy")  # type: ignore[arg-type]
    with pytest.raises(ApgeoValueError, match="infeasible capacities: existing sites must be filled"):
        CapacitatedPMedian.from_cost_matrix(cost, [4.0, 8.0], **kwargs).solve()  # type: ignore[arg-type]


def _two_area_tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A1 (30 children) and A2 (20); existing E1 with 40 places, candidate C1 with 20."""
    demand = pd.DataFrame(
        {"area_id": ["A1", "A2"], **{f"children_ks{k}": 0.0 for k in (1, 2, 4, 5)},
         "children_ks3": [30.0, 20.0], "imd_decile": [1, 2], "idaci_decile": [1, 2]}
    )  # fmt: skip
    existing = pd.DataFrame(
        {"site_id": ["E1"], "provider_id": ["E"], "name": ["Existing"], "kind": ["pru"],
         "key_stages": ["KS3"], "capacity_places": [40.0]}
    )  # fmt: skip
    candidates = pd.DataFrame({"site_id": ["C1"], "key_stages": ["KS3"], "capacity_places": [20.0]})
    tt = pd.DataFrame(
        [("A1", "E1", 600.0), ("A2", "E1", 900.0), ("A1", "C1", 1200.0), ("A2", "C1", 300.0)],
        columns=["origin_id", "destination_id", "travel_time_s"],
    )
    return tt, demand, existing, candidates


def test_capacity_options_through_the_tables() -> None:
    tables = _two_area_tables()
    common = {"mode": "walk", "p": 1, "key_stages": "KS3", "weight_by": "none", "serve_all": True}

    def served(**kw: object) -> list[float]:
        """Need served at E1 and C1."""
        model = CapacitatedPMedian.from_tables(*tables, **common, **kw).solve()  # type: ignore[arg-type]
        by_site = dict(zip(model.site_ids, model.served_need_, strict=True))
        return [float(by_site["E1"]), float(by_site["C1"])]

    assert served() == [30.0, 20.0]  # each area to its nearest site
    assert served(fill_fixed=True) == pytest.approx([40.0, 10.0])  # 10 of A2's 20 move to E1
    assert served(assignment="single") == [30.0, 20.0]
    # E1's 40 places cannot be filled by whole areas of 30 and 20
    with pytest.raises(ApgeoValueError, match=r"infeasible capacities: .*fill_fixed=False or assignment='split'"):
        served(assignment="single", fill_fixed=True)
    with pytest.raises(ApgeoValueError, match="apply to the capacitated models only; PMedian has no capacities"):
        PMedian.from_tables(*tables, mode="walk", p=1, key_stages="KS3", weight_by="none", assignment="single")
    with pytest.raises(ApgeoValueError, match=r"assignment must be 'split' .* or 'single'"):
        CapacitatedPMedian.from_cost_matrix([[1.0]], [1.0], capacity=[1.0], p=1, assignment="whole")  # type: ignore[arg-type]


def test_p_median_objective_is_exact_with_a_huge_penalty() -> None:
    # the objective is need @ best time of the open set, not baseline minus gain:
    # 1e17 - (1e17 - 0.1) would give 0.0, and 1e12 - ... 0.0999755859375
    for penalty in (1e17, 1e12):
        model = PMedian.from_cost_matrix(
            [[0.1, 5.0]], [1.0], p=1, max_travel_time_s=1.0, penalty_s=penalty
        ).solve()
        assert model.objective_ == 0.1 and model.baseline_ == penalty
        both = PMedian.from_cost_matrix(
            [[0.1, 5.0]], [1.0], p=1, max_travel_time_s=1.0, penalty_s=penalty
        ).solve("both")
        assert both.objective_ == 0.1 and both.gap_ == 0.0
    capacitated = CapacitatedPMedian.from_cost_matrix(
        [[0.1, 5.0]], [1.0], capacity=[1.0, 1.0], p=1, max_travel_time_s=1.0, penalty_s=1e17
    )
    for method in ("exact", "greedy"):
        assert capacitated.solve(method).objective_ == 0.1  # type: ignore[arg-type]
