"""Tests for apgeo.access: hand-computed 2SFCA / E2SFCA, PySAL access cross-check, properties."""

from __future__ import annotations

try:
    import tests._tiny as _tiny
except ImportError:  # tests/ not a package
    import _tiny  # type: ignore[no-redef]

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apgeo import ApgeoValueError, ApgeoWarning, MissingColumnError
from apgeo.analysis.access import (
    enhanced_two_step_fca,
    fca_from_cost_matrix,
    floating_catchment_access,
    gaussian_weights,
    stepped_weights,
    two_step_fca,
    uniform_weights,
)

MIN = 60.0
NAN = np.nan


def tiny_tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The shared hand-worked example (see tests/_tiny.py for the figures)."""
    return _tiny.tiny_tables(unsorted=False)


def test_two_step_fca_hand_computed() -> None:
    tt, dem, prov = tiny_tables()
    out = two_step_fca(tt, dem, prov, mode="bus", key_stages="KS3", catchment_min=30)
    assert list(out.columns) == [
        "area_id", "mode", "method", "demand_basis", "demand", "sites_in_reach",
        "places_in_reach", "places_per_child", "places_per_1000",
    ]  # fmt: skip
    # KS3 supply: s1 (10), s3 (4); s2 does not serve KS3 and is left out.
    # In the 30-min catchment: A-s1 10, A-s3 5, C-s3 25 (B 35/40, C-s1 50 and D are out).
    # step 1: R_s1 = 10 / 30 (A) = 1/3;   R_s3 = 4 / (30 (A) + 40 (C)) = 4/70
    # step 2: A = 1/3 + 4/70 = 0.390476;  B = 0;  C = 4/70 = 0.057143;  D = 0
    expected = np.array([1 / 3 + 4 / 70, 0.0, 4 / 70, 0.0])
    np.testing.assert_allclose(out["places_per_child"], expected)
    np.testing.assert_allclose(out["places_per_1000"], expected * 1000)
    assert list(out["sites_in_reach"]) == [2, 0, 1, 0]
    np.testing.assert_allclose(out["places_in_reach"], [14, 0, 4, 0])
    assert out["method"].iloc[0] == "2sfca" and out["demand_basis"].iloc[0] == "children_ks3"
    # conservation: all places are within someone's reach -> sum A_i D_i = 10 + 4
    assert (out["places_per_child"] * out["demand"]).sum() == pytest.approx(14)


def test_e2sfca_stepped_hand_computed() -> None:
    tt, dem, prov = tiny_tables()
    out = enhanced_two_step_fca(tt, dem, prov, mode="bus", key_stages=["KS3"])
    # Luo & Qi weights 1.00 (0-10], 0.68 (10-20], 0.22 (20-30] min; boundaries inclusive:
    # A-s1 10 min -> 1.00; A-s3 5 -> 1.00; C-s3 25 -> 0.22
    # R_s1 = 10 / (30 * 1) = 1/3;  R_s3 = 4 / (30 * 1 + 40 * 0.22) = 4 / 38.8
    # A = 1/3 + 4/38.8 = 0.436426;  C = 0.22 * 4/38.8 = 0.022680
    np.testing.assert_allclose(
        out["places_per_child"], [1 / 3 + 4 / 38.8, 0.0, 0.22 * 4 / 38.8, 0.0]
    )
    assert out["method"].iloc[0] == "e2sfca_stepped"


def test_gravity_2sfca_hand_computed() -> None:
    tt, dem, prov = tiny_tables()
    out = enhanced_two_step_fca(
        tt, dem, prov, mode="bus", key_stages="KS3", decay="gravity", gravity_exponent=1.0
    )
    # weight (t / 1 min) ** -1 within 30 min: A-s1 10 -> 0.1, A-s3 5 -> 0.2, C-s3 25 -> 0.04
    # R_s1 = 10 / (30 * 0.1) = 10/3;  R_s3 = 4 / (30 * 0.2 + 40 * 0.04) = 4 / 7.6
    r1, r3 = 10 / 3, 4 / 7.6
    np.testing.assert_allclose(out["places_per_child"], [0.1 * r1 + 0.2 * r3, 0.0, 0.04 * r3, 0.0])
    assert out["method"].iloc[0] == "2sfca_gravity"
    # no cut-off: every reachable pair counts (B-s1 35, B-s3 40, C-s1 50 join in)
    wide = floating_catchment_access(
        tt, dem, prov, mode="bus", key_stages="KS3", decay="gravity", catchment_min=math.inf
    )
    assert (wide["sites_in_reach"].to_numpy() == [2, 2, 2, 0]).all()


def test_e2sfca_custom_steps() -> None:
    tt, dem, prov = tiny_tables()
    out = enhanced_two_step_fca(
        tt, dem, prov, mode="bus", key_stages="KS3", steps_min=[6, 60], step_weights=[1.0, 0.5]
    )
    # weights: A-s1 10 -> 0.5, A-s3 5 -> 1, B-s1 35 -> 0.5, B-s3 40 -> 0.5, C-s1 50 -> 0.5,
    #          C-s3 25 -> 0.5
    # R_s1 = 10 / (30*.5 + 10*.5 + 40*.5) = 10/40 = 0.25
    # R_s3 = 4 / (30*1 + 10*.5 + 40*.5) = 4/55
    # A = .5*.25 + 4/55;  B = .5*.25 + .5*4/55;  C = same as B;  D = 0
    a = 0.5 * 0.25 + 4 / 55
    b = 0.5 * 0.25 + 0.5 * 4 / 55
    np.testing.assert_allclose(out["places_per_child"], [a, b, b, 0.0])


def test_gaussian_weights_hand_computed() -> None:
    # catchment 30 min, sigma 15 min:
    # w(t) = (exp(-t^2 / (2 * 15^2)) - exp(-30^2 / (2 * 15^2))) / (1 - exp(-2))
    # w(0) = 1; w(15) = (e^-0.5 - e^-2) / (1 - e^-2) = 0.544941; w(30) = 0; w(31) = 0
    t = np.array([0.0, 15.0, 30.0, 31.0, np.inf]) * MIN
    w = gaussian_weights(t, catchment_s=30 * MIN, sigma_s=15 * MIN)
    mid = (math.exp(-0.5) - math.exp(-2)) / (1 - math.exp(-2))
    np.testing.assert_allclose(w, [1.0, mid, 0.0, 0.0, 0.0], atol=1e-12)
    tt, dem, prov = tiny_tables()
    out = enhanced_two_step_fca(tt, dem, prov, mode="bus", key_stages="KS3", decay="gaussian")
    assert out["method"].iloc[0] == "e2sfca_gaussian"
    # A reaches s1 at 10 and s3 at 5 min, both with weight < 1 but > 0
    assert out.loc[0, "places_per_child"] > 0 and out.loc[1, "places_per_child"] == 0


def test_weight_functions_boundaries() -> None:
    t = np.array([0.0, 600.0, 600.1, 1200.0, 1800.0, 1800.1, np.inf])
    np.testing.assert_allclose(uniform_weights(t, catchment_s=1800), [1, 1, 1, 1, 1, 0, 0])
    np.testing.assert_allclose(
        stepped_weights(t, steps_s=[600, 1200, 1800], step_weights=[1, 0.68, 0.22]),
        [1, 1, 0.68, 0.68, 0.22, 0, 0],
    )


def test_origin_equals_destination_cost_is_kept() -> None:
    # a site inside area A (0 s journey) must count with full weight
    tt, dem, prov = tiny_tables()
    tt.loc[(tt["origin_id"] == "A") & (tt["destination_id"] == "s3"), "travel_time_s"] = 0.0
    out = two_step_fca(tt, dem, prov, mode="bus", key_stages="KS3", catchment_min=30)
    np.testing.assert_allclose(out["places_per_child"], [1 / 3 + 4 / 70, 0.0, 4 / 70, 0.0])


def test_costs_are_not_assumed_symmetric() -> None:
    # 2 areas x 2 sites; area->site times (minutes), not symmetric (a1->s2 40, a2->s1 20):
    #          s1  s2
    #     a1    5  40
    #     a2   20   5
    # Only area->site times are used, in both steps; the matrix is never transposed.
    times = np.array([[5.0, 40.0], [20.0, 5.0]]) * MIN
    supply = np.array([10.0, 20.0])
    demand = np.array([100.0, 50.0])
    ratio, acc = fca_from_cost_matrix(
        times, supply, demand, weight=lambda t: uniform_weights(t, catchment_s=30 * MIN)
    )
    # s1 catchment: a1 (5), a2 (20) -> R1 = 10/150; s2: a2 only (a1 40 > 30) -> R2 = 20/50
    np.testing.assert_allclose(ratio, [10 / 150, 20 / 50])
    # a1 = R1;  a2 = R1 + R2
    np.testing.assert_allclose(acc, [10 / 150, 10 / 150 + 20 / 50])
    _, acc_t = fca_from_cost_matrix(
        times.T, supply, demand, weight=lambda t: uniform_weights(t, catchment_s=30 * MIN)
    )
    assert not np.allclose(acc, acc_t)  # transposing the matrix would change the answer


def test_need_column_and_suppressed_values() -> None:
    tt, dem, prov = tiny_tables()
    with pytest.raises(
        ApgeoValueError, match=r"'need_count' is empty \(suppressed\?\) for 1 area\(s\): B"
    ):
        two_step_fca(tt, dem, prov, mode="bus", key_stages="KS3", need_column="need_count")
    out = two_step_fca(
        tt, dem, prov, mode="bus", key_stages="KS3", need_column="need_count", fill_missing_need=2.5
    )
    # need A4 B2.5 C8 D2; 30-min catchment as before: R_s1 = 10/4, R_s3 = 4/(4+8)
    np.testing.assert_allclose(out["places_per_child"], [10 / 4 + 4 / 12, 0.0, 4 / 12, 0.0])
    assert out["demand_basis"].iloc[0] == "need_count"
    with pytest.raises(MissingColumnError, match="'referrals'"):
        two_step_fca(tt, dem, prov, mode="bus", need_column="referrals")


def test_unknown_capacity_excluded_with_warning() -> None:
    tt, dem, prov = tiny_tables()
    prov.loc[prov["site_id"] == "s3", "capacity_places"] = np.nan
    with pytest.warns(
        ApgeoWarning, match=r"1 site\(s\) have unknown capacity_places .*s3 \(Centre Three\)"
    ):
        out = two_step_fca(tt, dem, prov, mode="bus", key_stages="KS3", catchment_min=30)
    # only s1: R_s1 = 10/30 -> A = 1/3, C = 0 (s3 gives nothing)
    np.testing.assert_allclose(out["places_per_child"], [1 / 3, 0, 0, 0])


def test_zero_capacity_allowed_with_warning() -> None:
    tt, dem, prov = tiny_tables()
    prov.loc[prov["site_id"] == "s1", "capacity_places"] = 0.0
    with pytest.warns(ApgeoWarning, match=r"1 site\(s\) have 0 capacity_places .*s1 \(Pru One\)"):
        out = two_step_fca(tt, dem, prov, mode="bus", key_stages="KS3", catchment_min=30)
    np.testing.assert_allclose(out["places_per_child"], [4 / 70, 0, 4 / 70, 0])


def test_negative_capacity_raises_naming_site() -> None:
    tt, dem, prov = tiny_tables()
    prov.loc[prov["site_id"] == "s3", "capacity_places"] = -3.0
    with pytest.raises(
        ApgeoValueError, match=r"must be >= 0 places; negative for s3 \(Centre Three\): -3"
    ):
        two_step_fca(tt, dem, prov, mode="bus", key_stages="KS3")


def test_site_without_demand_in_catchment_warns() -> None:
    tt, dem, prov = tiny_tables()
    # KS1+KS2 supply is s2 only; within 10 min nobody reaches it
    with pytest.warns(
        ApgeoWarning, match=r"1 site\(s\) have no demand within their catchment by bus .*s2"
    ):
        out = two_step_fca(tt, dem, prov, mode="bus", key_stages="KS1,KS2", catchment_min=10)
    assert (out["places_per_child"] == 0).all()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps_min": [10, 5], "step_weights": [1, 0.5]}, "strictly increasing minutes"),
        ({"steps_min": [10, 20], "step_weights": [1]}, "same, non-zero length"),
        ({"steps_min": [10], "step_weights": [1.5]}, r"must lie in \[0, 1\]"),
        ({"decay": "linear"}, "decay must be 'stepped', 'gaussian' or 'gravity'; got 'linear'"),
        ({"decay": "gaussian", "catchment_min": 0}, "catchment_min must be a positive"),
        ({"decay": "gaussian", "catchment_min": math.inf}, "catchment_min must be a positive number of minutes; got inf"),
        ({"decay": "gravity", "gravity_exponent": -1}, "gravity_exponent must be a number >= 0"),
        ({"decay": "gravity", "gravity_min_time_min": 0}, "gravity_min_time_min must be a positive"),
    ],
)
def test_bad_decay_options(kwargs: dict[str, object], message: str) -> None:
    tt, dem, prov = tiny_tables()
    with pytest.raises(ApgeoValueError, match=message):
        enhanced_two_step_fca(tt, dem, prov, mode="bus", key_stages="KS3", **kwargs)  # type: ignore[arg-type]


def test_missing_capacity_column_named() -> None:
    tt, dem, prov = tiny_tables()
    with pytest.raises(
        MissingColumnError, match=r"providers is missing column\(s\) 'capacity_places'"
    ):
        floating_catchment_access(tt, dem, prov.drop(columns="capacity_places"), mode="bus")


# ---- cross-check with PySAL access -----------------------------------------------------


def test_matches_pysal_access_two_stage_fca() -> None:
    access = pytest.importorskip("access", reason="PySAL access is not installed")
    # 5 areas x 3 sites, asymmetric-looking times, one unreachable pair (omitted for access)
    areas = ["a1", "a2", "a3", "a4", "a5"]
    sites = ["x", "y", "z"]
    times_min = np.array(
        [[5, 12, 40], [18, 3, 25], [31, 29, 8], [0, 50, 14], [22, np.nan, 27]], dtype=float
    )
    pop = np.array([120.0, 80.0, 200.0, 50.0, 90.0])
    cap = np.array([15.0, 10.0, 25.0])
    tt = pd.DataFrame(
        [(a, s, times_min[i, j] * MIN) for i, a in enumerate(areas) for j, s in enumerate(sites)],
        columns=["origin_id", "destination_id", "travel_time_s"],
    )
    demand = pd.DataFrame({"area_id": areas, "children_ks3": pop})
    providers = pd.DataFrame(
        {
            "site_id": sites, "provider_id": sites, "name": sites, "kind": "pru",
            "key_stages": "KS3", "capacity_places": cap,
        }
    )  # fmt: skip
    ours = two_step_fca(tt, demand, providers, mode="car", key_stages="KS3", catchment_min=30)

    cost = tt.dropna().assign(cost=lambda d: d["travel_time_s"] / MIN)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # third-party pandas deprecations
        model = access.Access(
            demand_df=pd.DataFrame({"geoid": areas, "pop": pop}),
            demand_index="geoid",
            demand_value="pop",
            supply_df=pd.DataFrame({"geoid": sites, "cap": cap}),
            supply_index="geoid",
            supply_value="cap",
            cost_df=cost.rename(columns={"origin_id": "origin", "destination_id": "dest"}),
            cost_origin="origin",
            cost_dest="dest",
            cost_name="cost",
        )
        theirs = model.two_stage_fca(name="fca", max_cost=30)["fca_cap"]
    theirs = theirs.reindex(areas).fillna(0.0).to_numpy()
    np.testing.assert_allclose(ours["places_per_child"].to_numpy(), theirs, rtol=1e-12)


# ---- properties ------------------------------------------------------------------------


@settings(max_examples=50, deadline=None)
@given(
    st.integers(1, 6),
    st.integers(1, 4),
    st.data(),
)
def test_property_conservation_when_everyone_reaches_everything(n_a, n_s, data) -> None:  # type: ignore[no-untyped-def]
    # every area reaches every site within the catchment with weight 1 ->
    # sum_i A_i * D_i == sum_j S_j
    times = np.array(data.draw(st.lists(st.floats(0, 30), min_size=n_a * n_s, max_size=n_a * n_s)))
    supply = np.array(data.draw(st.lists(st.floats(0, 100), min_size=n_s, max_size=n_s)))
    demand = np.array(data.draw(st.lists(st.floats(0.1, 1000), min_size=n_a, max_size=n_a)))
    areas = [f"E{i}" for i in range(n_a)]
    sites = [f"S{j}" for j in range(n_s)]
    tt = pd.DataFrame(
        {
            "origin_id": np.repeat(areas, n_s),
            "destination_id": np.tile(sites, n_a),
            "travel_time_s": times * MIN,
        }
    )
    dem = pd.DataFrame({"area_id": areas, "children_ks4": demand})
    prov = pd.DataFrame(
        {
            "site_id": sites, "provider_id": sites, "name": sites, "kind": "pru",
            "key_stages": "KS4", "capacity_places": supply,
        }
    )  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ApgeoWarning)  # zero capacities are allowed but warn
        out = two_step_fca(tt, dem, prov, mode="m", key_stages="KS4", catchment_min=30)
    total = float((out["places_per_child"] * out["demand"]).sum())
    assert total == pytest.approx(float(supply.sum()), rel=1e-9, abs=1e-9)
    assert (out["places_per_child"] >= 0).all()
