"""Tests for apgeo.coverage: hand-computed 4 areas x 3 sites, properties, bad input."""

from __future__ import annotations

try:
    import tests._tiny as _tiny
except ImportError:  # tests/ not a package
    import _tiny  # type: ignore[no-redef]

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apgeo import ApgeoValueError, ApgeoWarning, DuplicateIdError, MissingColumnError
from apgeo.analysis.coverage import (
    choice_counts,
    coverage_summary,
    equity_gaps,
    equity_table,
    nearest_times,
)

MIN = 60.0  # seconds per minute
NAN = np.nan


def tiny_tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The shared hand-worked example (see tests/_tiny.py for the figures)."""
    return _tiny.tiny_tables(unsorted=True)


KS23 = ["KS2", "KS3"]


# ---- nearest_times ---------------------------------------------------------------------


def test_nearest_times_hand_computed() -> None:
    tt, dem, prov = tiny_tables()
    out = nearest_times(tt, dem, prov, mode="bus", key_stages=KS23)
    assert list(out["area_id"]) == ["A", "B", "C", "D"]  # sorted
    assert list(out.columns) == [
        "area_id", "mode", "nearest_time_s", "nearest_site_id",
        "nearest_ks2_time_s", "nearest_ks2_site_id", "nearest_ks3_time_s", "nearest_ks3_site_id",
        # kinds in ProviderKind order: inclusion_centre, pru, primary_ap_hub
        "nearest_inclusion_centre_time_s", "nearest_inclusion_centre_site_id",
        "nearest_pru_time_s", "nearest_pru_site_id",
        "nearest_primary_ap_hub_time_s", "nearest_primary_ap_hub_site_id",
    ]  # fmt: skip
    # overall: A min(10,20,5)=5 (s3); B min(35,40)=35 (s1); C min(50,25)=25 (s3); D 70 (s2)
    np.testing.assert_allclose(out["nearest_time_s"], np.array([5, 35, 25, 70]) * MIN)
    assert list(out["nearest_site_id"]) == ["s3", "s1", "s3", "s2"]
    # KS2 only at s2: A 20, B NaN (x), C missing pair -> NaN, D 70
    np.testing.assert_allclose(out["nearest_ks2_time_s"], np.array([20, NAN, NAN, 70]) * MIN)
    assert out["nearest_ks2_site_id"].isna().tolist() == [False, True, True, False]
    # KS3 at s1, s3: A 5, B 35, C 25, D unreachable
    np.testing.assert_allclose(out["nearest_ks3_time_s"], np.array([5, 35, 25, NAN]) * MIN)
    np.testing.assert_allclose(out["nearest_pru_time_s"], np.array([10, 35, 50, NAN]) * MIN)
    assert (out["mode"] == "bus").all()


def test_nearest_times_does_not_mutate_inputs() -> None:
    tt, dem, prov = tiny_tables()
    copies = [tt.copy(), dem.copy(), prov.copy()]
    nearest_times(tt, dem, prov, mode="bus", key_stages=KS23)
    coverage_summary(tt, dem, prov, mode="bus", key_stages=KS23)
    for before, after in zip(copies, [tt, dem, prov], strict=True):
        pd.testing.assert_frame_equal(before, after)


def test_nearest_times_warns_naming_unreachable_areas() -> None:
    tt, dem, prov = tiny_tables()
    tt = tt[tt["origin_id"] != "D"]  # D now has no pair at all
    with pytest.warns(ApgeoWarning, match=r"1 area\(s\) reach no provider by bus \(D\)"):
        out = nearest_times(tt, dem, prov, mode="bus", key_stages=KS23)
    assert np.isnan(out.loc[out["area_id"] == "D", "nearest_time_s"]).all()


def test_key_stage_nobody_serves_warns() -> None:
    tt, dem, prov = tiny_tables()
    with pytest.warns(ApgeoWarning, match="no provider serves KS5"):
        out = nearest_times(tt, dem, prov, mode="bus", key_stages="KS1-KS5")
    assert out["nearest_ks5_time_s"].isna().all()


def test_kinds_filter() -> None:
    tt, dem, prov = tiny_tables()
    with pytest.warns(ApgeoWarning, match=r"reach no provider by bus \(D\)"):
        out = nearest_times(tt, dem, prov, mode="bus", key_stages=["KS3"], kinds=["pru"])
    np.testing.assert_allclose(out["nearest_time_s"], np.array([10, 35, 50, NAN]) * MIN)
    assert "nearest_inclusion_centre_time_s" not in out.columns


def test_mode_column_filters_rows() -> None:
    tt, dem, prov = tiny_tables()
    walk = tt.assign(mode="walk", travel_time_s=tt["travel_time_s"] * 3)
    both = pd.concat([tt.assign(mode="bus"), walk], ignore_index=True)
    out = nearest_times(both, dem, prov, mode="bus", key_stages=KS23)
    np.testing.assert_allclose(out["nearest_time_s"], np.array([5, 35, 25, 70]) * MIN)
    with pytest.raises(
        ApgeoValueError, match=r"no rows for mode 'car'; modes in the table: \['bus', 'walk'\]"
    ):
        nearest_times(both, dem, prov, mode="car", key_stages=KS23)


# ---- coverage_summary ------------------------------------------------------------------


def test_coverage_summary_hand_computed() -> None:
    tt, dem, prov = tiny_tables()
    out = coverage_summary(tt, dem, prov, mode="bus", key_stages=KS23)
    assert list(out["key_stage"]) == ["all", "KS2", "KS3"]
    assert list(out.columns[:7]) == [
        "mode", "key_stage", "areas", "children", "children_unreachable", "areas_unreachable",
        "mean_nearest_time_s",
    ]  # fmt: skip
    assert list(out.columns[7:]) == [
        "children_within_15_min", "children_within_30_min", "children_within_45_min",
        "children_within_60_min", "share_within_15_min", "share_within_30_min",
        "share_within_45_min", "share_within_60_min",
    ]  # fmt: skip
    r = out.set_index("key_stage")
    # KS2: children 10+20+0+30 = 60; nearest A20, B -, C -, D70.
    #   within 15: 0; 30: A10; 45: 10; 60: 10 -> shares 0, 1/6, 1/6, 1/6
    #   unreachable B20 + C0 = 20; mean over reachable (10*20 + 30*70) / 40 = 57.5 min
    assert r.loc["KS2", "children"] == 60
    assert r.loc["KS2", "children_unreachable"] == 20
    assert r.loc["KS2", "mean_nearest_time_s"] == pytest.approx(57.5 * MIN)
    np.testing.assert_allclose(
        r.loc["KS2", [f"share_within_{t}_min" for t in (15, 30, 45, 60)]].astype(float),
        [0, 1 / 6, 1 / 6, 1 / 6],
    )
    # KS3: children 30+10+40+20 = 100; nearest A5, B35, C25, D -.
    #   within 15: A30; 30: A30+C40 = 70; 45: +B10 = 80; 60: 80; unreachable D20
    #   mean (30*5 + 10*35 + 40*25) / 80 = 1500/80 = 18.75 min
    np.testing.assert_allclose(
        r.loc["KS3", [f"children_within_{t}_min" for t in (15, 30, 45, 60)]].astype(float),
        [30, 70, 80, 80],
    )
    assert r.loc["KS3", "mean_nearest_time_s"] == pytest.approx(18.75 * MIN)
    # all: 160 children; within 30: 10 + 70 = 80 -> 0.5; unreachable 20 + 20 = 40
    #   mean (200 + 2100 + 1500) / 120 = 31.666.. min
    assert r.loc["all", "children"] == 160
    assert r.loc["all", "children_unreachable"] == 40
    assert r.loc["all", "share_within_30_min"] == pytest.approx(0.5)
    assert r.loc["all", "mean_nearest_time_s"] == pytest.approx(3800 / 120 * MIN)
    # the means leave out children in B (KS2, 20) and D (KS3, 20); C's 0 KS2 children lose nothing
    assert r["areas_unreachable"].to_dict() == {"all": 2, "KS2": 1, "KS3": 1}


def test_custom_thresholds_and_inclusive_band() -> None:
    tt, dem, prov = tiny_tables()
    # A's nearest KS3 site is exactly 5 min away: "within 5 min" includes it (30 children)
    out = coverage_summary(tt, dem, prov, mode="bus", key_stages=["KS3"], thresholds_min=[5, 7.5])
    assert list(out.columns[-2:]) == ["share_within_5_min", "share_within_7.5_min"]
    assert out.loc[1, "children_within_5_min"] == 30


@pytest.mark.parametrize(
    ("thresholds", "message"),
    [
        ([30, 15], "strictly increasing; got"),
        ([15, 15], "strictly increasing"),
        ([0, 15], "positive, finite minutes; got"),
        ([-5], "positive, finite minutes"),
        ([], "at least one number of minutes"),
    ],
)
def test_bad_thresholds(thresholds: list[float], message: str) -> None:
    tt, dem, prov = tiny_tables()
    with pytest.raises(ApgeoValueError, match=message):
        coverage_summary(tt, dem, prov, mode="bus", thresholds_min=thresholds)


# ---- choice_counts ---------------------------------------------------------------------


def test_choice_counts_distinct_providers() -> None:
    tt, dem, prov = tiny_tables()
    out = choice_counts(tt, dem, prov, mode="bus", key_stages=["KS3"])
    assert list(out.columns) == [
        "area_id", "mode", "key_stage", "providers_within_15_min", "providers_within_30_min",
        "providers_within_45_min", "providers_within_60_min",
    ]  # fmt: skip
    counts = out.drop(columns="mode").set_index(["area_id", "key_stage"])
    got = {key: list(row) for key, row in zip(counts.index, counts.to_numpy(), strict=True)}
    # any provider: A reaches s3 (p1) at 5, s1 (p1) at 10, s2 (p2) at 20
    #   -> <=15: {p1} = 1; <=30: {p1, p2} = 2; then 2, 2
    assert got[("A", "any")] == [1, 2, 2, 2]
    # KS3: A's sites s1 and s3 both belong to p1 -> counted once
    assert got[("A", "KS3")] == [1, 1, 1, 1]
    # B: s1 35, s3 40 (both p1) -> 0, 0, 1, 1
    assert got[("B", "any")] == [0, 0, 1, 1]
    # C: s3 25 -> 0, 1, 1, 1
    assert got[("C", "KS3")] == [0, 1, 1, 1]
    # D: s2 at 70 min only
    assert got[("D", "any")] == [0, 0, 0, 0]
    assert list(out["area_id"]) == ["A", "A", "B", "B", "C", "C", "D", "D"]


# ---- equity ----------------------------------------------------------------------------


def test_equity_table_and_gaps_hand_computed() -> None:
    tt, dem, prov = tiny_tables()
    eq = equity_table(tt, dem, prov, mode="bus", key_stages=KS23)
    # 2 indices x 3 key-stage groups x 10 deciles
    assert len(eq) == 60
    assert list(eq.columns[:4]) == ["mode", "deprivation_index", "key_stage", "decile"]
    imd_all = eq[(eq["deprivation_index"] == "imd") & (eq["key_stage"] == "all")].set_index(
        "decile"
    )
    # IMD decile 1 = A, B: children 40 + 30 = 70
    #   times (children): A-KS2 20 (10), A-KS3 5 (30), B-KS2 - (20), B-KS3 35 (10)
    #   mean (200 + 150 + 350) / 50 = 14 min; within 30: 10 + 30 = 40 -> 40/70
    assert imd_all.loc[1, "children"] == 70
    assert imd_all.loc[1, "mean_nearest_time_s"] == pytest.approx(14 * MIN)
    assert imd_all.loc[1, "share_within_30_min"] == pytest.approx(40 / 70)
    # IMD decile 10 = C, D: children 40 + 50 = 90
    #   C-KS3 25 (40), D-KS2 70 (30), C-KS2 - (0), D-KS3 - (20)
    #   mean (1000 + 2100) / 70 min; within 30: 40 -> 40/90
    assert imd_all.loc[10, "mean_nearest_time_s"] == pytest.approx(3100 / 70 * MIN)
    assert imd_all.loc[10, "share_within_30_min"] == pytest.approx(40 / 90)
    # empty deciles are present, with 0 areas and NaN means
    assert imd_all.loc[5, "areas"] == 0 and np.isnan(imd_all.loc[5, "mean_nearest_time_s"])

    gaps = equity_gaps(eq)
    g = gaps.set_index(["deprivation_index", "key_stage"])
    assert g.loc[("imd", "all"), "gap_mean_nearest_time_s"] == pytest.approx((14 - 3100 / 70) * MIN)
    assert g.loc[("imd", "all"), "gap_share_within_30_min"] == pytest.approx(40 / 70 - 40 / 90)
    assert len(gaps) == 6


def test_equity_bad_decile_named() -> None:
    tt, dem, prov = tiny_tables()
    dem.loc[dem["area_id"] == "C", "imd_decile"] = 11
    with pytest.raises(
        ApgeoValueError, match=r"'imd_decile' must hold whole deciles 1..10.*C \(11\)"
    ):
        equity_table(tt, dem, prov, mode="bus", key_stages=KS23)


def test_equity_missing_decile_warns() -> None:
    tt, dem, prov = tiny_tables()
    dem["idaci_decile"] = dem["idaci_decile"].astype(float)
    dem.loc[dem["area_id"] == "B", "idaci_decile"] = np.nan
    with pytest.warns(ApgeoWarning, match=r"1 area\(s\) have no idaci_decile \(B\)"):
        eq = equity_table(tt, dem, prov, mode="bus", key_stages=KS23, by=["idaci"])
    assert set(eq["deprivation_index"]) == {"idaci"}


# ---- bad input -------------------------------------------------------------------------


def test_missing_columns_named() -> None:
    tt, dem, prov = tiny_tables()
    with pytest.raises(MissingColumnError, match=r"demand is missing column\(s\) 'children_ks3'"):
        coverage_summary(tt, dem.drop(columns="children_ks3"), prov, mode="bus", key_stages=KS23)
    with pytest.raises(
        MissingColumnError, match=r"travel_times is missing column\(s\) 'travel_time_s'"
    ):
        nearest_times(tt.drop(columns="travel_time_s"), dem, prov, mode="bus")
    with pytest.raises(MissingColumnError, match=r"providers is missing column\(s\) 'key_stages'"):
        nearest_times(tt, dem, prov.drop(columns="key_stages"), mode="bus")


def test_unknown_ids_named() -> None:
    tt, dem, prov = tiny_tables()
    extra = pd.DataFrame(
        {
            "origin_id": ["E01999999", "A"],
            "destination_id": ["s1", "s9"],
            "travel_time_s": [1.0, 2.0],
        }
    )
    bad = pd.concat([tt, extra.iloc[:1]], ignore_index=True)
    with pytest.raises(
        ApgeoValueError, match=r"origin_id value\(s\) are not in demand\['area_id'\]: E01999999"
    ):
        nearest_times(bad, dem, prov, mode="bus", key_stages=KS23)
    bad = pd.concat([tt, extra.iloc[1:]], ignore_index=True)
    with pytest.raises(ApgeoValueError, match=r"not in providers\['site_id'\]: s9"):
        nearest_times(bad, dem, prov, mode="bus", key_stages=KS23)


def test_bad_times_named() -> None:
    tt, dem, prov = tiny_tables()
    neg = tt.copy()
    neg.loc[0, "travel_time_s"] = -5.0
    with pytest.raises(ApgeoValueError, match=r"negative times for A->s1 \(-5\)"):
        nearest_times(neg, dem, prov, mode="bus", key_stages=KS23)
    sentinel = tt.copy()
    sentinel.loc[1, "travel_time_s"] = 4294967.295
    with pytest.raises(ApgeoValueError, match=r"A->s2\) look like an engine's 'no path' sentinel"):
        nearest_times(sentinel, dem, prov, mode="bus", key_stages=KS23)
    dup = pd.concat([tt, tt.iloc[[2]]], ignore_index=True)
    with pytest.raises(ApgeoValueError, match=r"pair\(s\) appear more than once \(A->s3\)"):
        nearest_times(dup, dem, prov, mode="bus", key_stages=KS23)


def test_inf_is_unreachable_like_nan() -> None:
    tt, dem, prov = tiny_tables()
    inf = tt.copy()
    inf["travel_time_s"] = inf["travel_time_s"].fillna(np.inf)
    pd.testing.assert_frame_equal(
        nearest_times(inf, dem, prov, mode="bus", key_stages=KS23),
        nearest_times(tt, dem, prov, mode="bus", key_stages=KS23),
    )


def test_empty_tables_and_bad_values() -> None:
    tt, dem, prov = tiny_tables()
    with pytest.raises(ApgeoValueError, match="travel_times has no rows"):
        nearest_times(tt.iloc[:0], dem, prov, mode="bus")
    with pytest.raises(ApgeoValueError, match="demand has no rows"):
        nearest_times(tt, dem.iloc[:0], prov, mode="bus")
    with pytest.raises(ApgeoValueError, match="providers has no rows"):
        nearest_times(tt, dem, prov.iloc[:0], mode="bus")
    nan_children = dem.copy()
    nan_children.loc[0, "children_ks3"] = np.nan
    with pytest.raises(ApgeoValueError, match=r"'children_ks3' is empty for area\(s\) D"):
        coverage_summary(tt, nan_children, prov, mode="bus", key_stages=KS23)
    neg_children = dem.copy()
    neg_children.loc[1, "children_ks2"] = -1
    with pytest.raises(
        ApgeoValueError, match=r"'children_ks2' has negative counts for area\(s\) C"
    ):
        coverage_summary(tt, neg_children, prov, mode="bus", key_stages=KS23)
    dup_site = pd.concat([prov, prov.iloc[[0]]], ignore_index=True)
    with pytest.raises(DuplicateIdError, match="'site_id' must be unique but 1 value"):
        nearest_times(tt, dem, dup_site, mode="bus")
    bad_kind = prov.assign(kind=["pru", "spaceship", "pru"])
    with pytest.raises(ApgeoValueError, match="site s2: unknown provider kind 'spaceship'"):
        nearest_times(tt, dem, bad_kind, mode="bus")
    with pytest.raises(ApgeoValueError, match="mode must be a non-empty label"):
        nearest_times(tt, dem, prov, mode="")


# ---- properties ------------------------------------------------------------------------

_time_min = st.one_of(st.just(float("nan")), st.floats(0, 120, allow_nan=False))


@st.composite
def problems(draw: st.DrawFn) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    n_areas = draw(st.integers(1, 5))
    n_sites = draw(st.integers(1, 4))
    areas = [f"E{i:02d}" for i in range(n_areas)]
    sites = [f"S{j}" for j in range(n_sites)]
    demand = pd.DataFrame({"area_id": areas})
    for ks in ("ks1", "ks2", "ks3", "ks4", "ks5"):
        demand[f"children_{ks}"] = draw(
            st.lists(st.floats(0, 500), min_size=n_areas, max_size=n_areas)
        )
    stages = st.sets(st.sampled_from(["KS1", "KS2", "KS3", "KS4", "KS5"]), min_size=1)
    providers = pd.DataFrame(
        {
            "site_id": sites,
            "provider_id": [f"P{draw(st.integers(0, 2))}" for _ in sites],
            "name": sites,
            "kind": ["pru"] * n_sites,
            "key_stages": [",".join(sorted(draw(stages))) for _ in sites],
            "capacity_places": draw(
                st.lists(st.floats(0.5, 50), min_size=n_sites, max_size=n_sites)
            ),
        }
    )
    pairs = [(a, s) for a in areas for s in sites if draw(st.integers(0, 3)) > 0]  # some missing
    pairs = pairs or [(areas[0], sites[0])]
    times = draw(st.lists(_time_min, min_size=len(pairs), max_size=len(pairs)))
    tt = pd.DataFrame(
        {
            "origin_id": [a for a, _ in pairs],
            "destination_id": [s for _, s in pairs],
            "travel_time_s": [t * MIN for t in times],
        }
    )
    return tt, demand, providers


def _quiet(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ApgeoWarning)
        return fn(*args, **kwargs)


@settings(max_examples=40, deadline=None)
@given(problems(), st.lists(st.floats(1, 120), min_size=1, max_size=4, unique=True))
def test_property_shares_in_unit_interval_and_monotone(problem, thresholds) -> None:  # type: ignore[no-untyped-def]
    tt, dem, prov = problem
    thresholds = sorted(thresholds)
    out = _quiet(coverage_summary, tt, dem, prov, mode="m", thresholds_min=thresholds)
    shares = out[[c for c in out.columns if c.startswith("share_within_")]].to_numpy(float)
    ok = ~np.isnan(shares)
    assert np.all((shares[ok] >= 0) & (shares[ok] <= 1 + 1e-12))
    # a larger threshold never lowers coverage
    counts = out[[c for c in out.columns if c.startswith("children_within_")]].to_numpy(float)
    assert np.all(np.diff(counts, axis=1) >= -1e-9)
    choice = _quiet(choice_counts, tt, dem, prov, mode="m", thresholds_min=thresholds)
    ch = choice[[c for c in choice.columns if c.startswith("providers_within_")]].to_numpy()
    assert np.all(np.diff(ch, axis=1) >= 0)


@settings(max_examples=40, deadline=None)
@given(problems(), st.lists(_time_min, min_size=5, max_size=5), st.sampled_from(["KS2", "KS3,KS4"]))
def test_property_adding_a_provider_never_hurts(problem, new_times, new_ks) -> None:  # type: ignore[no-untyped-def]
    tt, dem, prov = problem
    new_site = pd.DataFrame(
        {
            "site_id": ["ZZ"], "provider_id": ["PNEW"], "name": ["new"], "kind": ["pru"],
            "key_stages": [new_ks], "capacity_places": [5.0],
        }
    )  # fmt: skip
    prov2 = pd.concat([prov, new_site], ignore_index=True)
    areas = list(dem["area_id"])
    tt2 = pd.concat(
        [
            tt,
            pd.DataFrame(
                {
                    "origin_id": areas,
                    "destination_id": "ZZ",
                    "travel_time_s": [t * MIN for t in new_times[: len(areas)]],
                }
            ),
        ],
        ignore_index=True,
    )
    # the same key stages before and after (the default follows the providers passed)
    before = _quiet(nearest_times, tt, dem, prov, mode="m", key_stages="KS1-KS5")
    after = _quiet(nearest_times, tt2, dem, prov2, mode="m", key_stages="KS1-KS5")
    for col in [c for c in before.columns if c.endswith("_time_s")]:
        b = before[col].fillna(np.inf).to_numpy()
        a = after[col].fillna(np.inf).to_numpy()
        assert np.all(a <= b)
    cov_b = _quiet(coverage_summary, tt, dem, prov, mode="m", key_stages="KS1-KS5")
    cov_a = _quiet(coverage_summary, tt2, dem, prov2, mode="m", key_stages="KS1-KS5")
    cols = [c for c in cov_b.columns if c.startswith("children_within_")]
    assert np.all(cov_a[cols].to_numpy() >= cov_b[cols].to_numpy() - 1e-9)


def _many_sites(n_areas: int, n_sites: int, n_providers: int, seed: int = 0):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    areas = [f"a{i:03d}" for i in range(n_areas)]
    sites = [f"s{j:05d}" for j in range(n_sites)]
    ks_choices = np.array(["KS1,KS2", "KS3,KS4", "KS3", "KS1,KS2,KS3,KS4"])
    prov = pd.DataFrame(
        {
            "site_id": sites,
            "provider_id": [f"p{k:05d}" for k in rng.integers(0, n_providers, n_sites)],
            "name": sites,
            "kind": "pru",
            "key_stages": ks_choices[rng.integers(0, len(ks_choices), n_sites)],
        }
    )
    times = rng.uniform(0, 90 * MIN, (n_areas, n_sites))
    times[rng.random(times.shape) < 0.1] = np.nan
    tt = pd.DataFrame(
        {
            "origin_id": np.repeat(areas, n_sites),
            "destination_id": np.tile(sites, n_areas),
            "travel_time_s": times.ravel(),
        }
    )
    dem = pd.DataFrame({"area_id": areas, **{f"children_ks{k}": 1.0 for k in range(1, 5)}})
    return tt, dem, prov, times


def test_choice_counts_match_counting_providers_by_hand() -> None:
    tt, dem, prov, times = _many_sites(7, 60, 13)
    out = choice_counts(tt, dem, prov, mode="m", key_stages=["KS1", "KS3"], thresholds_min=[20, 45, 90])
    got = out.set_index(["area_id", "key_stage"])
    for i, area in enumerate(sorted(dem["area_id"])):
        for label in ("any", "KS1", "KS3"):
            serves = np.ones(len(prov), bool) if label == "any" else prov["key_stages"].str.contains(label).to_numpy()
            for t in (20, 45, 90):
                near = serves & (np.nan_to_num(times[i], nan=np.inf) <= t * MIN)
                expected = prov.loc[near, "provider_id"].nunique()
                assert got.loc[(area, label), f"providers_within_{t}_min"] == expected


def test_choice_counts_memory_grows_with_sites_not_sites_times_providers() -> None:
    """5,000 one-site providers: a sites x providers one-hot would be 25 M cells (200 MB as
    int64 at every band); counting by provider needs areas x sites only."""
    import tracemalloc

    tt, dem, prov, _ = _many_sites(4, 5_000, 1_000_000)
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        out = choice_counts(tt, dem, prov, mode="m", key_stages=["KS3"], thresholds_min=[30])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(out) == 8
    assert peak < 40e6, f"peak {peak / 1e6:.0f} MB"
