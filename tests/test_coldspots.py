"""Tests for apgeo.coldspots: access cold spots, capacity cold spots, Gi* clusters."""

from __future__ import annotations

try:
    import tests._tiny as _tiny
except ImportError:  # tests/ not a package
    import _tiny  # type: ignore[no-redef]

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import box

from apgeo import ApgeoValueError, ApgeoWarning, CRSError, MissingColumnError
from apgeo.analysis.access import two_step_fca
from apgeo.analysis.coldspots import (
    GI_COLD,
    GI_EXCLUDED,
    GI_HOT,
    GI_NOT_SIGNIFICANT,
    access_coldspots,
    capacity_coldspots,
    gi_star_clusters,
)

MIN = 60.0
NAN = np.nan


def tiny_tables() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The shared hand-worked example (see tests/_tiny.py for the figures)."""
    return _tiny.tiny_tables(unsorted=False)


# ---- access cold spots -----------------------------------------------------------------


def test_access_coldspots_hand_computed() -> None:
    tt, dem, prov = tiny_tables()
    out = access_coldspots(tt, dem, prov, mode="bus", key_stages="KS3")
    assert list(out.columns) == [
        "area_id", "mode", "key_stage", "nearest_time_s", "nearest_site_id", "children",
        "need_weight", "weighted_need", "access_coldspot", "priority_score", "reason",
    ]  # fmt: skip
    r = out.set_index("area_id")
    # nearest KS3: A 5 (s3), B 35 (s1), C 25 (s3), D unreachable; threshold 30 min
    assert list(out["access_coldspot"]) == [False, True, False, True]
    # B: weight (11 - 2)/10 = 0.9 -> weighted need 10 * 0.9 = 9; factor 35/30 -> 10.5
    assert r.loc["B", "priority_score"] == pytest.approx(9 * 35 / 30)
    # D: weight (11 - 10)/10 = 0.1 -> 20 * 0.1 = 2; unreachable factor 2 -> 4
    assert r.loc["D", "priority_score"] == pytest.approx(4.0)
    assert r.loc["A", "priority_score"] == 0.0
    assert r.loc["B", "reason"] == (
        "nearest KS3 provider 35 min by bus; 10 children aged 11-13; IDACI decile 2"
    )
    assert r.loc["D", "reason"] == (
        "no KS3 provider reachable by bus; 20 children aged 11-13; IDACI decile 10"
    )
    assert r.loc["A", "reason"] == (
        "not an access cold spot: nearest KS3 provider 5 min by bus, within 30 min"
    )
    assert np.isnan(r.loc["D", "nearest_time_s"]) and r.loc["D", "nearest_site_id"] is None


def test_access_coldspots_min_children_and_weighting() -> None:
    tt, dem, prov = tiny_tables()
    out = access_coldspots(
        tt, dem, prov, mode="walk", key_stages=["KS3"], min_children=15, weight_by="none"
    ).set_index("area_id")
    # B has 10 KS3 children <= 15: far but holds too little need
    assert not out.loc["B", "access_coldspot"]
    assert out.loc["B", "reason"] == (
        "not an access cold spot: nearest KS3 provider 35 min on foot but 10 children "
        "aged 11-13 (needs more than 15)"
    )
    # D unweighted: 20 children * factor 2 = 40
    assert out.loc["D", "priority_score"] == pytest.approx(40.0)


def test_access_coldspots_need_column() -> None:
    tt, dem, prov = tiny_tables()
    with pytest.raises(
        ApgeoValueError, match=r"'need_count' is empty \(suppressed\?\) for 1 area\(s\): B"
    ):
        access_coldspots(
            tt, dem, prov, mode="bus", key_stages="KS3", weight_by="need", need_column="need_count"
        )
    out = access_coldspots(
        tt, dem, prov, mode="bus", key_stages="KS3", weight_by="need",
        need_column="need_count", fill_missing_need=2.5,
    ).set_index("area_id")  # fmt: skip
    # B: need 2.5 * 35/30
    assert out.loc["B", "priority_score"] == pytest.approx(2.5 * 35 / 30)
    assert out.loc["B", "reason"].endswith("; need_count 2.5")
    with pytest.raises(ApgeoValueError, match="weight_by='need' needs need_column"):
        access_coldspots(tt, dem, prov, mode="bus", weight_by="need")


def test_access_coldspots_several_key_stages_sorted() -> None:
    tt, dem, prov = tiny_tables()
    out = access_coldspots(tt, dem, prov, mode="bus", key_stages=["KS3", "KS2"])
    assert list(zip(out["area_id"], out["key_stage"], strict=True))[:4] == [
        ("A", "KS2"), ("A", "KS3"), ("B", "KS2"), ("B", "KS3"),
    ]  # fmt: skip
    # KS2 (s2 only): B unreachable with 20 children -> cold spot
    b2 = out[(out["area_id"] == "B") & (out["key_stage"] == "KS2")].iloc[0]
    assert b2["access_coldspot"] and b2["reason"].startswith(
        "no KS2 provider reachable by bus; 20 children aged 7-10"
    )


def test_access_coldspots_bad_input() -> None:
    tt, dem, prov = tiny_tables()
    with pytest.raises(MissingColumnError, match=r"demand is missing column\(s\) 'idaci_decile'"):
        access_coldspots(tt, dem.drop(columns="idaci_decile"), prov, mode="bus", key_stages="KS3")
    bad = dem.assign(idaci_decile=[1, 2, np.nan, 10])
    with pytest.raises(
        ApgeoValueError, match=r"missing or bad for C; fill them or pass weight_by='none'"
    ):
        access_coldspots(tt, bad, prov, mode="bus", key_stages="KS3")
    with pytest.raises(ApgeoValueError, match="max_travel_time_min must be a positive"):
        access_coldspots(tt, dem, prov, mode="bus", max_travel_time_min=0)


# ---- capacity cold spots ---------------------------------------------------------------


def test_capacity_coldspots() -> None:
    tt, dem, prov = tiny_tables()
    acc = two_step_fca(tt, dem, prov, mode="bus", key_stages="KS3", catchment_min=30)
    # places per 1,000: A 390.48, B 0, C 57.14, D 0 (see test_access)
    out = capacity_coldspots(acc, max_places_per_1000=60)
    assert list(out["capacity_coldspot"]) == [False, True, True, True]
    assert out.loc[2, "reason"] == "57.1 places per 1,000 within reach (at or below 60)"
    # quantile 0.5 of [390.48, 0, 57.14, 0] = (0 + 57.14) / 2 = 28.57 -> B and D
    out = capacity_coldspots(acc, quantile=0.5)
    assert out["capacity_threshold_per_1000"].iloc[0] == pytest.approx(4 / 70 * 1000 / 2)
    assert list(out["capacity_coldspot"]) == [False, True, False, True]
    with pytest.raises(
        ApgeoValueError, match=r"quantile must lie strictly between 0 and 1; got 1\.5"
    ):
        capacity_coldspots(acc, quantile=1.5)
    with pytest.raises(MissingColumnError, match="'places_per_1000'"):
        capacity_coldspots(acc.drop(columns="places_per_1000"))


# ---- Gi* -------------------------------------------------------------------------------


def lattice(n: int = 10, hot: int = 3, seed: int = 0):  # type: ignore[no-untyped-def]
    """n x n unit squares; a hot x hot block in the corner is 60 min from the only site,
    every other cell 10-15 min (random)."""
    ids = [f"E{r:02d}{c:02d}" for r in range(n) for c in range(n)]
    geo = gpd.GeoDataFrame(
        {"area_id": ids, "children_ks3": 50.0},
        geometry=[
            box(c * 500, r * 500, (c + 1) * 500, (r + 1) * 500) for r in range(n) for c in range(n)
        ],
        crs="EPSG:27700",
    )
    t = np.random.default_rng(seed).uniform(10, 15, size=n * n) * MIN
    planted = [r * n + c for r in range(hot) for c in range(hot)]
    t[planted] = 60 * MIN
    tt = pd.DataFrame({"origin_id": ids, "destination_id": "s1", "travel_time_s": t})
    prov = pd.DataFrame(
        {
            "site_id": ["s1"], "provider_id": ["p1"], "name": ["One"], "kind": ["pru"],
            "key_stages": ["KS3"], "capacity_places": [10.0],
        }
    )  # fmt: skip
    return tt, geo, prov, {ids[i] for i in planted}


def test_gi_star_detects_planted_cluster() -> None:
    tt, geo, prov, planted = lattice()
    out = gi_star_clusters(tt, geo, prov, mode="walk")  # 999 permutations, seed 12345
    assert list(out.columns) == [
        "area_id", "mode", "key_stage", "nearest_time_s", "gi_value", "gi_z", "gi_p_sim",
        "gi_alpha", "gi_label",
    ]  # fmt: skip
    hot = set(out.loc[out["gi_label"] == GI_HOT, "area_id"])
    assert planted <= hot
    # every hot cell is in the block or touches it (Chebyshev distance <= 1 from the 3x3 block)
    assert all(int(a[1:3]) <= 3 and int(a[3:5]) <= 3 for a in hot)
    assert set(out["gi_label"]) <= {GI_HOT, GI_COLD, GI_NOT_SIGNIFICANT}
    assert (out["gi_alpha"] == 0.05).all()
    assert "cluster statistic" in out.attrs["note"]
    assert "Centre for Social Justice" in out.attrs["note"]


def test_gi_star_is_deterministic() -> None:
    tt, geo, prov, _ = lattice(n=6, hot=2)
    a = gi_star_clusters(tt, geo, prov, mode="walk", permutations=199, random_state=7)
    b = gi_star_clusters(tt, geo, prov, mode="walk", permutations=199, random_state=7)
    pd.testing.assert_frame_equal(a, b)
    c = gi_star_clusters(tt, geo, prov, mode="walk", permutations=199, random_state=8)
    assert not np.array_equal(a["gi_p_sim"].to_numpy(), c["gi_p_sim"].to_numpy())


def test_gi_star_kernels_kept_in_numba_cache() -> None:
    """The permutation kernels go to numba's on-disk cache (a later process loads them
    instead of compiling for ~25 s)."""
    from apgeo.analysis import gi_star_permutations as K

    tt, geo, prov, _ = lattice(n=5, hot=2)
    gi_star_clusters(tt, geo, prov, mode="walk", permutations=99)
    for kernel in (K._vec_permutations, K._prepare_univariate, K._g_local_star_crand, K._directed_significance, K._p_sims_jit):
        assert type(kernel._cache).__name__ == "FunctionCache", kernel


@pytest.mark.parametrize("layout", ["queen", "islands", "points"])
def test_gi_star_is_esdas_bit_for_bit(layout: str) -> None:
    """z and p_sim equal esda.G_Local(star=True, transform="R") on libpysal's weights of
    the same areas, exactly: Queen polygons, polygons touching none (k nearest) and points."""
    import esda

    from apgeo.analysis import gi_star as G

    _, geo, _, _ = lattice(n=7, hot=2)
    if layout == "islands":
        geo = geo.assign(geometry=geo.geometry.scale(0.5, 0.5))
    elif layout == "points":
        geo = geo.assign(geometry=geo.geometry.centroid)
    geo = geo.reset_index(drop=True)
    rng = np.random.default_rng(11)
    y = rng.uniform(0, 3600, len(geo))
    y[:12] = y[12]  # ties: draws equal to the observed statistic count as esda counts them
    G._WEIGHTS_MADE.clear()
    ours = G._gi_star(y, geo, permutations=499, random_state=5)
    w, _ = G._make_weights(geo, list(geo["area_id"]))
    w.transform = "B"  # type: ignore[attr-defined]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # esda's notes on its alternative and on islands
        theirs = esda.G_Local(y, w, transform="R", permutations=499, star=True,
                              keep_simulations=False, n_jobs=1, seed=5)
    assert np.array_equal(ours["z"], theirs.Zs)
    assert np.array_equal(ours["p_sim"], theirs.p_sim.astype(float))
    assert (str(ours["warning"][0]) != "") == (layout == "islands")


def test_gi_star_weights_kept_on_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a cache folder the areas' weights are read back by a later process (here: with
    the in-memory copies cleared) instead of made again with libpysal."""
    from apgeo.analysis import gi_star as G

    _, geo, _, _ = lattice(n=5, hot=2)
    G._WEIGHTS_MADE.clear()
    first, message = G._spatial_weights(geo, tmp_path)
    G._WEIGHTS_MADE.clear()

    def no_libpysal(*args: object) -> None:
        raise AssertionError("weights made again although they are kept")

    monkeypatch.setattr(G, "_make_weights", no_libpysal)
    again, message_again = G._spatial_weights(geo, tmp_path)
    assert (first != again).nnz == 0 and message == message_again == ""
    assert first.sum() == 2 * (2 * 5 * 4 + 2 * 4 * 4)  # Queen on a 5 x 5 lattice, both ways


def test_gi_star_permutation_p_values_are_esdas_bit_for_bit() -> None:
    """The cached loop gives esda's own p_sim (same permutation ids, kernels and tails)."""
    import warnings

    import esda
    import geopandas as gpd
    from libpysal.weights import KNN

    from apgeo.analysis.gi_star_permutations import gi_star_p_sim

    rng = np.random.default_rng(4)
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(rng.uniform(0, 1e4, 120), rng.uniform(0, 1e4, 120)))
    y = rng.uniform(0, 100, 120)
    y[:10] = y[10]  # ties: draws equal to the observed statistic count as esda counts them

    def weights():  # type: ignore[no-untyped-def]
        w = KNN.from_dataframe(pts, k=6)
        w.transform = "B"
        return w

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # esda's note on its alternative
        theirs = esda.G_Local(y, weights(), transform="R", permutations=299, star=True,
                              keep_simulations=False, n_jobs=1, seed=7)
        bare = esda.G_Local(y, weights(), transform="R", permutations=0, star=True,
                            keep_simulations=False, n_jobs=1, seed=7)
    ours = gi_star_p_sim(y, bare.w.sparse, bare.Gs, permutations=299, seed=7)
    assert ours.dtype == theirs.p_sim.dtype and np.array_equal(ours, theirs.p_sim)
    assert 0 < ours.min() < 0.05 < ours.max() <= 0.5


def test_gi_star_unreachable_exclude_and_cap() -> None:
    tt, geo, prov, _ = lattice(n=6, hot=2)
    tt.loc[tt["origin_id"] == "E0505", "travel_time_s"] = np.nan
    tt = tt[tt["origin_id"] != "E0504"]  # missing pair = unreachable too
    with pytest.warns(
        ApgeoWarning,
        match=r"2 area\(s\) cannot reach a KS3 provider on foot and are excluded .*E0504, E0505",
    ):
        out = gi_star_clusters(tt, geo, prov, mode="walk", permutations=99)
    excluded = out[out["gi_label"] == GI_EXCLUDED]
    assert list(excluded["area_id"]) == ["E0504", "E0505"]
    assert excluded["gi_z"].isna().all() and excluded["gi_value"].isna().all()
    with pytest.warns(ApgeoWarning, match="their time is capped at 90 min: E0504, E0505"):
        capped = gi_star_clusters(
            tt, geo, prov, mode="walk", permutations=99, unreachable="cap", unreachable_cap_min=90
        )
    assert (capped.loc[capped["area_id"] == "E0505", "gi_value"] == 90 * MIN).all()
    assert capped["gi_z"].notna().all()


def test_gi_star_need_weighted_and_islands_fallback() -> None:
    tt, geo, prov, _ = lattice(n=4, hot=2)
    # shrink every square so no two touch: Queen finds only islands -> KNN k=6 with a warning
    islands = geo.assign(geometry=geo.geometry.scale(0.5, 0.5))
    with pytest.warns(ApgeoWarning, match=r"16 area\(s\) share no border .* 6 nearest neighbours"):
        out = gi_star_clusters(
            tt, islands, prov, mode="walk", permutations=99, value="need_weighted_time"
        )
    # need-weighted value = time * children (50)
    np.testing.assert_allclose(out["gi_value"], out["nearest_time_s"] * 50)


def test_gi_star_bad_input() -> None:
    tt, geo, prov, _ = lattice(n=4, hot=2)
    with pytest.raises(ApgeoValueError, match="demand must be a GeoDataFrame of area polygons"):
        gi_star_clusters(tt, pd.DataFrame(geo.drop(columns="geometry")), prov, mode="walk")
    with pytest.raises(CRSError, match="demand has no CRS"):
        gi_star_clusters(tt, geo.set_crs(None, allow_override=True), prov, mode="walk")
    with pytest.raises(ApgeoValueError, match="key_stage must name one key stage"):
        gi_star_clusters(tt, geo, prov, mode="walk", key_stage="KS3,KS4")
    with pytest.raises(ApgeoValueError, match="permutations must be at least 99"):
        gi_star_clusters(tt, geo, prov, mode="walk", permutations=10)
    few = tt.copy()
    few.loc[2:, "travel_time_s"] = np.nan
    with pytest.warns(ApgeoWarning, match="excluded"):
        with pytest.raises(ApgeoValueError, match="at least 3 areas with a travel time; only 2"):
            gi_star_clusters(few, geo, prov, mode="walk")


def test_gi_star_weights_made_once_per_areas_give_the_same_clusters(monkeypatch: pytest.MonkeyPatch) -> None:
    """The areas' weights are made once per process and handed out as new objects: Gi*
    with weights made again equals Gi* with the ones kept, and the warning about islands
    is given each time."""
    import apgeo.analysis.gi_star as gi_star

    tt, geo, prov, _ = lattice(n=5, hot=2)
    islands = geo.assign(geometry=geo.geometry.scale(0.5, 0.5))
    made: list[int] = []
    make = gi_star._make_weights

    def counted(gdf: gpd.GeoDataFrame, ids: list[object]) -> tuple[object, str]:
        made.append(len(ids))
        return make(gdf, ids)

    monkeypatch.setattr(gi_star, "_make_weights", counted)
    for areas in (geo, islands):
        gi_star._WEIGHTS_MADE.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ApgeoWarning)
            first = gi_star_clusters(tt, areas, prov, mode="walk", permutations=99, random_state=3)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            again = gi_star_clusters(tt, areas, prov, mode="walk", permutations=99, random_state=3, cache_dir=None)
        pd.testing.assert_frame_equal(first, again)
        assert any("share no border" in str(w.message) for w in caught) == (areas is islands)
    assert made == [25, 25]  # once per areas, though each was measured twice


def test_gi_star_imports_no_esda_once_weights_are_kept(tmp_path: Path) -> None:
    """esda, libpysal, scikit-learn and scipy.stats take about a second to import: a
    process whose areas' weights are in the cache measures Gi* without any of them (and
    importing the pipeline loads none of them either)."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np, apgeo.study.pipeline, apgeo.analysis.coldspots\n"
        "from apgeo.analysis.gi_star import _gi_star\n"
        f"sys.path.insert(0, {str(Path(__file__).parent)!r})\n"
        "from test_coldspots import lattice\n"
        "_, geo, _, _ = lattice(n=5, hot=2)\n"
        "y = np.arange(25.0) + float(sys.argv[1])\n"
        f"_gi_star(y, geo.reset_index(drop=True), permutations=99, random_state=1, cache_dir={str(tmp_path)!r})\n"
        "print(sorted(m for m in ('esda', 'libpysal', 'sklearn', 'scipy.stats') if m in sys.modules))"
    )
    run = [subprocess.run([sys.executable, "-c", code, str(k)], capture_output=True, text=True, check=True)
           for k in (1, 2)]
    assert "libpysal" in run[0].stdout  # the first made the weights
    assert run[1].stdout.strip() == "[]", run[1].stdout
