"""Location-allocation and explained recommendations (apgeo.recommend).

Small instances are checked against brute force over every combination of candidates;
a toy city of four areas is worked out by hand; one Sheffield-sized smoke test uses
straight-line times.
"""

from __future__ import annotations

import itertools
import math
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog
from shapely.geometry import Point

from apgeo import ApgeoError, ApgeoValueError, ApgeoWarning
from apgeo.planning.candidates import cluster_candidates, gias_candidate_sites, read_candidates
from apgeo.planning.export import export_recommendations, recommendations_markdown
from apgeo.planning.models import base as R
from apgeo.planning.models.base import SEARCH_SOLVER
from apgeo.planning.models.capacitated import CapacitatedMaximalCovering, CapacitatedPMedian
from apgeo.planning.models.mclp import MaximalCovering
from apgeo.planning.models.pmedian import PMedian
from apgeo.planning.recommend import recommend_sites

T = 1800.0
ONE_MINUS_1_OVER_E = 1 - 1 / math.e


# ---------------------------------------------------------------- brute force helpers


def _cover_value(cost: np.ndarray, need: np.ndarray, open_cols: list[int]) -> float:
    c = np.nan_to_num(cost, nan=np.inf)
    return float(need[(c[:, open_cols] <= T).any(axis=1)].sum()) if open_cols else 0.0


def _median_value(cost: np.ndarray, need: np.ndarray, open_cols: list[int], pen: float) -> float:
    c = np.minimum(np.nan_to_num(cost, nan=np.inf), pen)
    best = c[:, open_cols].min(axis=1) if open_cols else np.full(len(need), pen)
    return float(need @ best)


def _brute(fn, m: int, fixed: list[int], p: int, *, maximise: bool) -> float:
    cands = [j for j in range(m) if j not in fixed]
    values = [fn([*fixed, *combo]) for combo in itertools.combinations(cands, p)]
    return max(values) if maximise else min(values)


def _capacitated_cover_lp(cost, need, cap, open_cols) -> float:
    """Max need served within T by ``open_cols`` (an LP: the transport problem)."""
    c = np.nan_to_num(cost, nan=np.inf)
    pairs = [(i, j) for i in range(len(need)) for j in open_cols if c[i, j] <= T and need[i] > 0]
    if not pairs:
        return 0.0
    obj = -np.array([need[i] for i, _ in pairs])
    a_ub, b_ub = [], []
    for i in range(len(need)):
        a_ub.append([1.0 if pi == i else 0.0 for pi, _ in pairs])
        b_ub.append(1.0)
    for j in open_cols:
        a_ub.append([need[pi] if pj == j else 0.0 for pi, pj in pairs])
        b_ub.append(cap[j])
    res = linprog(obj, A_ub=a_ub, b_ub=b_ub, bounds=(0, 1), method="highs")
    return float(-res.fun)


def _random_instance(rng: np.random.Generator, n: int = 10, m: int = 6):
    cost = rng.uniform(0, 3000, (n, m))
    cost[rng.random((n, m)) < 0.2] = np.nan
    need = rng.integers(0, 60, n).astype(float)
    return cost, need


def _quiet(model):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ApgeoWarning)
        return model


# ---------------------------------------------------------------- exact vs brute force


@pytest.mark.parametrize("seed", range(6))
def test_exact_matches_brute_force_and_greedy_within_bound(seed: int) -> None:
    rng = np.random.default_rng(seed)
    cost, need = _random_instance(rng)
    fixed, p = [0], 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ApgeoWarning)  # random instances may hold unreachable columns
        mc = MaximalCovering.from_cost_matrix(cost, need, max_travel_time_s=T, p=p, fixed_open=fixed)
        pm = PMedian.from_cost_matrix(cost, need, p=p, max_travel_time_s=T, fixed_open=fixed)
        mc.solve("both")
        pm.solve("both")
    best_cover = _brute(lambda o: _cover_value(cost, need, o), 6, fixed, p, maximise=True)
    assert mc.objective_ == pytest.approx(best_cover)
    assert mc.solver_ in {SEARCH_SOLVER, "HiGHS", "COIN_CMD", "PULP_CBC_CMD"} and mc.status_ == "Optimal"
    assert mc.gap_ >= 0
    base = _cover_value(cost, need, fixed)
    assert mc.greedy_gain_ >= ONE_MINUS_1_OVER_E * (best_cover - base) - 1e-9
    best_time = _brute(lambda o: _median_value(cost, need, o, 2 * T), 6, fixed, p, maximise=False)
    assert pm.objective_ == pytest.approx(best_time)
    assert pm.mean_time_s_ == pytest.approx(best_time / need.sum())
    assert pm.gap_ >= 0
    cbc = MaximalCovering.from_cost_matrix(cost, need, max_travel_time_s=T, p=p, fixed_open=fixed)
    cbc.solve("exact", solver="cbc")
    assert cbc.objective_ == pytest.approx(best_cover)
    assert cbc.solver_ in {"COIN_CMD", "PULP_CBC_CMD"}


@pytest.mark.parametrize("seed", range(4))
def test_capacitated_exact_matches_brute_force(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    cost, need = _random_instance(rng, n=8, m=5)
    cap = rng.uniform(10, 80, 5)
    fixed, p = [0], 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ApgeoWarning)
        cm = CapacitatedMaximalCovering.from_cost_matrix(
            cost, need, capacity=cap, max_travel_time_s=T, p=p, fixed_open=fixed
        ).solve("both")
    best = _brute(lambda o: _capacitated_cover_lp(cost, need, cap, o), 5, fixed, p, maximise=True)
    assert cm.objective_ == pytest.approx(best, rel=1e-6)
    assert 0 <= cm.gap_ <= 1
    # served need never exceeds a site's capacity
    assert np.all(cm.served_need_ <= cap + 1e-6)


def test_capacitated_p_median_respects_capacity() -> None:
    cost = np.array([[100.0, 900, 200], [100, 900, 200], [900, 100, 300]])
    need = np.array([10.0, 10, 10])
    model = CapacitatedPMedian.from_cost_matrix(
        cost, need, capacity=[10, 100, 100], p=1, max_travel_time_s=T, fixed_open=[0]
    ).solve("both")
    # site 0 takes one row (10 places); the other row must go to 1 or 2
    assert model.selected_ == [2]
    assert model.objective_ == pytest.approx(10 * 100 + 10 * 200 + 10 * 300)
    assert model.mean_time_s_ == pytest.approx(200)
    assert model.served_need_[0] == pytest.approx(10)


def test_lazy_greedy_picks_what_plain_greedy_picks() -> None:
    rng = np.random.default_rng(7)
    cost, need = _random_instance(rng, n=40, m=25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ApgeoWarning)
        model = MaximalCovering.from_cost_matrix(cost, need, max_travel_time_s=T, p=5, fixed_open=[0, 1])
    model.solve("greedy")
    cover = np.nan_to_num(cost, nan=np.inf) <= T
    covered = cover[:, [0, 1]].any(axis=1)
    plain = []
    for _ in range(5):
        gains = [
            -1.0 if j in plain or j < 2 else float(need[~covered & cover[:, j]].sum()) for j in range(25)
        ]
        j = int(np.argmax(gains))  # first index on ties
        plain.append(j)
        covered |= cover[:, j]
    assert list(model.selected_index_) == plain
    assert math.isnan(model.gap_) and model.method_ == "greedy"
    assert 0 <= model.gap_bound_ <= 1 - ONE_MINUS_1_OVER_E + 1e-6


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.integers(min_value=3, max_value=7),
    st.integers(min_value=3, max_value=6),
    st.integers(min_value=0, max_value=10_000),
)
def test_random_instances_exact_optimal_greedy_bounded_monotone(n: int, m: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    cost, need = _random_instance(rng, n=n, m=m)
    need[0] = max(need[0], 1.0)
    results = []
    for p in (1, 2):
        if p > m - 1:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ApgeoWarning)
            model = MaximalCovering.from_cost_matrix(cost, need, max_travel_time_s=T, p=p, fixed_open=[0])
            model.solve("both")
        best = _brute(lambda o: _cover_value(cost, need, o), m, [0], p, maximise=True)
        assert model.objective_ == pytest.approx(best)
        assert 0 <= model.covered_share_ <= 1 + 1e-12
        base = _cover_value(cost, need, [0])
        if not math.isnan(model.greedy_gain_):
            assert model.greedy_gain_ >= ONE_MINUS_1_OVER_E * (best - base) - 1e-9
        results.append(model.objective_)
    # adding sites never reduces coverage
    assert results == sorted(results)


# ---------------------------------------------------------------- bad input


def test_p_larger_than_candidates_is_refused() -> None:
    with pytest.raises(ApgeoValueError, match=r"p=4 but there are only 2 candidate site\(s\)"):
        MaximalCovering.from_cost_matrix(np.ones((2, 3)), [1, 1], max_travel_time_s=T, p=4, fixed_open=[0])


def test_bad_costs_and_need_are_refused() -> None:
    with pytest.raises(ApgeoValueError, match="times >= 0"):
        PMedian.from_cost_matrix([[-1.0, 2.0]], [1.0], p=1)
    with pytest.raises(ApgeoValueError, match="one value per row"):
        PMedian.from_cost_matrix([[1.0, 2.0]], [1.0, 2.0], p=1)
    with pytest.raises(ApgeoValueError, match="both fixed_open and candidates"):
        PMedian.from_cost_matrix([[1.0, 2.0]], [1.0], p=1, fixed_open=[0], candidates=[0, 1])


def test_unreachable_candidates_warn_listing_them() -> None:
    cost = np.array([[100.0, np.nan, 200, np.nan], [100, np.nan, 300, np.inf]])
    with pytest.warns(ApgeoWarning, match=r"2 candidate site\(s\) cannot be reached.*\(b, d\)"):
        MaximalCovering.from_cost_matrix(
            cost, [1, 1], max_travel_time_s=T, p=1, fixed_open=[0], site_ids=["a", "b", "c", "d"]
        )


def test_all_need_covered_says_so() -> None:
    model = MaximalCovering.from_cost_matrix([[100.0, 50.0]], [5.0], max_travel_time_s=T, p=1, fixed_open=[0])
    with pytest.warns(ApgeoWarning, match="all need is already within 30 min"):
        model.solve()
    assert model.selected_ == [] and model.gain_ == 0 and "already" in model.message_


def test_infeasible_capacities_are_refused() -> None:
    with pytest.raises(ApgeoValueError, match=r"infeasible capacities.*bad for 1 \(nan\)"):
        CapacitatedMaximalCovering.from_cost_matrix(
            [[1.0, 2.0]], [1.0], capacity=[5, np.nan], max_travel_time_s=T, p=1, fixed_open=[0]
        )
    with pytest.raises(ApgeoValueError, match=r"infeasible capacities.*total need is 50.0 places"):
        CapacitatedPMedian.from_cost_matrix(
            [[1.0, 2.0]], [50.0], capacity=[5, 10], p=1, serve_all=True, fixed_open=[0]
        )


def test_missing_solver_falls_back_to_greedy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(R, "_available_solvers", lambda: ())
    model = MaximalCovering.from_cost_matrix(
        [[100.0, 5000, 100], [5000, 5000, 100]], [1, 2], max_travel_time_s=T, p=1, fixed_open=[0]
    )
    with pytest.warns(ApgeoWarning, match="fell back to the greedy heuristic, so the optimality gap is unknown"):
        model.solve("exact", solver="highs")  # the integer program, not the model's own search
    assert model.selected_ == [2] and math.isnan(model.gap_) and model.solver_ == "none"
    with pytest.raises(ApgeoError, match="strict=True"):
        model.solve("exact", solver="highs", strict=True)
    assert model.solve("exact").solver_ == SEARCH_SOLVER  # its own search needs no solver


def test_timed_out_solver_falls_back_to_greedy(monkeypatch: pytest.MonkeyPatch) -> None:
    def stopped(program, solver):
        return R._IlpResult([], "Not Solved", False, {}, "the solver stopped before proving optimality")

    monkeypatch.setattr(R, "_run_ilp", stopped)
    model = PMedian.from_cost_matrix([[100.0, 5000, 100], [5000, 5000, 100]], [1, 2], p=1, fixed_open=[0])
    with pytest.warns(ApgeoWarning, match="stopped before proving optimality.*gap is unknown"):
        model.solve("exact", solver="highs", time_limit_s=1)  # the integer program, not the search
    assert model.method_ == "greedy (fallback)" and model.status_ == "Not Solved"
    assert model.selected_ == [2]


# ---------------------------------------------------------------- tables: the toy city


def _toy():
    demand = pd.DataFrame(
        {
            "area_id": ["A1", "A2", "A3", "A4"],
            "children_ks1": 0.0,
            "children_ks2": 0.0,
            "children_ks3": [100.0, 50, 80, 30],
            "children_ks4": 0.0,
            "children_ks5": 0.0,
            "imd_decile": [5, 7, 1, 2],
            "idaci_decile": [5, 7, 1, 2],
            "ward_code": ["W1", "W2", "W3", "W4"],
            "ward_name": ["One", "Two", "Three", "Four"],
        }
    )
    existing = pd.DataFrame(
        {"site_id": ["E1"], "provider_id": ["E"], "name": ["Existing"], "kind": ["pru"],
         "key_stages": ["KS3,KS4"], "capacity_places": [40.0]}
    )
    candidates = gpd.GeoDataFrame(
        {"site_id": ["C1", "C2", "C3"], "name": ["Cand one", "Cand two", "Cand three"],
         "key_stages": ["KS3", "KS3", "KS3"], "postcode": ["S1 1AA", "S2 2BB", "S3 3CC"],
         "capacity_places": [20.0, 20.0, 20.0]},
        geometry=[Point(435_000, 387_000), Point(436_000, 388_000), Point(437_000, 389_000)],
        crs="EPSG:27700",
    )
    times = {
        "A1": [600, 2400, 3000, np.nan],
        "A2": [2400, 900, 2000, np.nan],
        "A3": [3000, 2500, 1000, np.nan],
        "A4": [np.nan, 1700, 1500, np.nan],
    }
    rows = [
        (a, s, t) for a, ts in times.items() for s, t in zip(["E1", "C1", "C2", "C3"], ts, strict=True)
    ]
    tt = pd.DataFrame(rows, columns=["origin_id", "destination_id", "travel_time_s"])
    return tt, demand, existing, candidates


def _toy_recommend(**kw):
    tt, demand, existing, candidates = _toy()
    opts = {"mode": "walk", "key_stages": ["KS3"], "weight_by": "none", "p": 2}
    opts.update(kw)
    with pytest.warns(ApgeoWarning, match=r"cannot be reached.*\(C3\)"):
        return recommend_sites(tt, demand, existing, candidates, **opts)


def test_toy_recommendation_by_hand() -> None:
    table = _toy_recommend()
    assert list(table["site_id"]) == ["C2", "C1"]
    first = table.iloc[0]
    assert first["children_newly_within_t"] == 110  # A3 (80) + A4 (30)
    assert first["children_newly_within_t_ks3"] == 110
    assert first["children_newly_within_t_by_imd"] == "d1: 80, d2: 30"
    assert first["coldspots_resolved"] == 2 and first["coldspots_resolved_ids"] == "A3; A4"
    # need-weighted mean: (-400*50 - 2000*80 - 2100*30) / 260 s; unreachable A4 counted at 2T
    assert first["mean_time_change_min"] == pytest.approx(round(-243000 / 260 / 60, 2))
    assert first["next_best_site_id"] == "C1" and first["marginal_gain_over_next_children"] == 30
    assert first["postcode"] == "S2 2BB" and first["site_name"] == "Cand two"
    # places at today's rate: 40 known places per unit of need (children KS1-KS4, unweighted)
    _, demand, _, _ = _toy()
    need = float(demand[["children_ks1", "children_ks2", "children_ks3", "children_ks4"]].to_numpy().sum())
    assert first["places_suggested"] == round(110 * 40 / need)
    assert table.attrs["places_rule"].startswith("today's rate")
    assert first["why"].startswith(
        "Adding Cand two (Three) brings 110 more KS3 children (aged 11-13) within 30 min on foot, "
        "110 of them in the 20% most deprived areas"
    )
    assert "resolves 2 access cold spots" in first["why"]
    assert table.iloc[1]["children_newly_within_t"] == 50
    assert table.attrs["solver"] in {SEARCH_SOLVER, "HiGHS", "COIN_CMD", "PULP_CBC_CMD"} and table.attrs["gap"] == 0
    assert table.attrs["reason"] == ""


def test_toy_wards_from_polygons_and_time_objective() -> None:
    wards = gpd.GeoDataFrame(
        {"ward_code": ["WX"], "ward_name": ["Everywhere"]},
        geometry=[Point(436_000, 388_000).buffer(5_000)],
        crs="EPSG:27700",
    )
    table = _toy_recommend(objective="time", p=1, wards=wards)
    assert list(table["site_id"]) == ["C2"] and table.iloc[0]["ward_name"] == "Everywhere"


def test_toy_capacitated_uses_capacity_as_places() -> None:
    table = _toy_recommend(capacitated=True, p=1, places_per_need=0.1)
    assert table.iloc[0]["places_suggested"] == 20 and table.iloc[0]["places_basis"] == "capacity_places"
    assert table.iloc[0]["need_served"] > 0


def test_all_need_covered_gives_empty_table_with_reason() -> None:
    tt, demand, existing, candidates = _toy()
    tt.loc[tt["destination_id"] == "E1", "travel_time_s"] = 60.0
    with pytest.warns(ApgeoWarning, match="all need is already within 30 min on foot"):
        table = recommend_sites(tt, demand, existing, candidates, mode="walk", key_stages="KS3")
    assert len(table) == 0 and "already within 30 min" in table.attrs["reason"]
    assert "No site is recommended" in recommendations_markdown(table)


def test_candidate_id_clash_and_p_too_large_from_tables() -> None:
    tt, demand, existing, candidates = _toy()
    with pytest.raises(ApgeoValueError, match=r"p=5 but there are only 3 candidate"):
        MaximalCovering.from_tables(tt, demand, existing, candidates, mode="walk", p=5, key_stages="KS3")
    clash = candidates.assign(site_id=["E1", "C2", "C3"])
    with pytest.raises(ApgeoValueError, match="both existing providers and candidates"):
        PMedian.from_tables(tt, demand, existing, clash, mode="walk", p=1, key_stages="KS3")


def test_key_stage_suitability_is_respected() -> None:
    tt, demand, existing, candidates = _toy()
    demand["children_ks1"] = [0.0, 0.0, 0.0, 500.0]
    # C1 serves KS1 only, C2 KS3 only: KS1 need at A4 (C1: 1700 s) can only come from C1
    candidates = candidates.assign(key_stages=["KS1", "KS3", "KS3"])
    with pytest.warns(ApgeoWarning):
        model = MaximalCovering.from_tables(
            tt, demand, existing, candidates, mode="walk", p=1, key_stages=["KS1", "KS3"],
            weight_by="none",
        ).solve()
    assert model.selected_ == ["C1"] and model.gain_ == 500


def test_same_inputs_same_bytes() -> None:
    a = _toy_recommend().to_csv(index=False)
    b = _toy_recommend().to_csv(index=False)
    assert a == b


def test_export_and_markdown(tmp_path) -> None:
    table = _toy_recommend()
    _, _, _, candidates = _toy()
    paths = export_recommendations(table, candidates, tmp_path / "out")
    back = pd.read_csv(paths["csv"])
    assert list(back["site_id"]) == ["C2", "C1"]
    layer = gpd.read_file(paths["gpkg"], layer="recommendations")
    assert list(layer["site_id"]) == ["C2", "C1"] and layer.crs.to_epsg() == 27700
    md = paths["markdown"].read_text(encoding="utf-8")
    assert md.startswith("## Recommended sites") and "1. **Cand two** (C2)" in md
    assert "| 1 | Cand two | Three | 110 | 2 |" in md
    with pytest.raises(ApgeoValueError, match=r"no geometry for recommended site\(s\) C2"):
        export_recommendations(table, candidates[candidates["site_id"] != "C2"], tmp_path)


# ---------------------------------------------------------------- candidates


def _coldspot_table():
    pts = {
        "A1": (430_000, 380_000), "A2": (430_300, 380_200), "A3": (430_100, 379_900),
        "B1": (440_000, 390_000), "B2": (440_200, 390_300), "C1": (450_000, 380_000),
    }
    demand = pd.DataFrame(
        {"area_id": list(pts), "pwc_easting": [p[0] for p in pts.values()],
         "pwc_northing": [p[1] for p in pts.values()]}
    )
    cold = pd.DataFrame(
        {"area_id": list(pts), "key_stage": ["KS1", "KS2", "KS1", "KS3", "KS3", "KS2"],
         "access_coldspot": [True, True, True, True, True, False],
         "weighted_need": [30.0, 20, 10, 40, 40, 5]}
    )
    return cold, demand


def test_kmeans_clusters_are_deterministic_and_snap_to_sites() -> None:
    cold, demand = _coldspot_table()
    sites = gpd.GeoDataFrame(
        {"site_id": ["S1", "S2", "S3"], "name": ["School one", "School two", "School three"]},
        geometry=[Point(430_150, 380_050), Point(440_050, 390_100), Point(460_000, 400_000)],
        crs="EPSG:27700",
    )
    a = cluster_candidates(cold, demand, sites=sites)
    b = cluster_candidates(cold, demand, sites=sites)
    assert a.to_csv() == b.to_csv()
    assert set(a.attrs["k_scores"]) == {2, 3, 4}  # k = 2..min(8, points - 1)
    assert list(a["site_id"]) == ["S2", "S1"]  # largest need first: B (80) then A (60)
    assert list(a["cluster_need"]) == [80.0, 60.0]
    assert a.iloc[1]["key_stages"] == "KS1,KS2" and a.iloc[0]["snap_distance_m"] < 300
    unsnapped = cluster_candidates(cold, demand, n_clusters=2)
    assert list(unsnapped["site_id"]) == ["CLUSTER-1", "CLUSTER-2"]
    assert unsnapped.crs.to_epsg() == 27700


def test_dbscan_clusters_and_errors() -> None:
    cold, demand = _coldspot_table()
    out = cluster_candidates(cold, demand, method="dbscan", eps_m=600, min_need=50)
    assert list(out["cluster_need"]) == [80.0, 60.0]
    with pytest.raises(ApgeoValueError, match="no cluster with at least 500 need"):
        cluster_candidates(cold, demand, method="dbscan", eps_m=600, min_need=500)
    with pytest.raises(ApgeoValueError, match="no access cold spot"):
        cluster_candidates(cold.assign(access_coldspot=False), demand)


def test_read_candidates_from_csv(tmp_path) -> None:
    path = tmp_path / "cands.csv"
    path.write_text("name,easting,northing\nHub A,435000,387000\nHub B,436000,388000\n", encoding="utf-8")
    out = read_candidates(path, kind="primary_ap_hub", key_stages="KS1-KS2")
    assert list(out["provider_id"]) == ["CAND-1", "CAND-2"]
    assert list(out["site_id"]) == ["CAND-1-1", "CAND-2-1"]
    assert set(out["kind"]) == {"primary_ap_hub"} and set(out["key_stages"]) == {"KS1,KS2"}


def test_gias_candidate_sites_are_mainstream_primaries(data_dir) -> None:
    out = gias_candidate_sites(data_dir=data_dir)
    assert len(out) > 100 and out["site_id"].is_unique
    assert set(out["kind"]) == {"primary_ap_hub"} and set(out["key_stages"]) == {"KS1,KS2"}
    assert out["site_id"].str.startswith("CAND-URN").all() and out.crs.to_epsg() == 27700


# ---------------------------------------------------------------- Sheffield smoke test


def test_sheffield_smoke(sheffield_demand, sheffield_providers, data_dir) -> None:
    from apgeo.inputs.demand import demand_points
    from apgeo.inputs.providers import split_located
    from apgeo.routing.straight_line import straight_line_travel_times

    existing, _ = split_located(sheffield_providers)
    candidates = gias_candidate_sites(data_dir=data_dir)
    sites = gpd.GeoDataFrame(
        pd.concat([existing[["site_id", "geometry"]], candidates[["site_id", "geometry"]]]),
        geometry="geometry", crs="EPSG:27700",
    )
    tt = straight_line_travel_times(
        demand_points(sheffield_demand), sites, origin_id_column="area_id",
        destination_id_column="site_id", mode="walk",
    )
    table = recommend_sites(
        tt, sheffield_demand, existing, candidates, mode="walk", p=3, key_stages=["KS1", "KS2"],
        method="both",
    )
    assert len(table) == 3 and table["site_id"].is_unique
    assert (table["children_newly_within_t"] > 0).all() and table["ward_name"].ne("").all()
    assert (table["mean_time_change_min"] <= 0).all()
    assert 0 <= table.attrs["gap"] < 0.2
