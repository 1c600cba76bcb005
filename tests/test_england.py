"""Every English authority in one run: the comparison table, comparators, outputs and CLI."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from apgeo._errors import ApgeoValueError, ApgeoWarning
from apgeo.analysis.england import (
    CAVEATS,
    CORE_CITY_LA_CODES,
    NEIGHBOURS_LABEL,
    NO_OWN_AP_NOTE,
    comparators,
    england_comparison,
    nearest_distances,
    similar_authorities,
)
from apgeo.inputs.areas import ap_settings_england, load_authorities, load_gias_england
from apgeo.outputs.england_report import GPKG_TIMESTAMP, write_england_outputs
from apgeo.study.cli import main

ROOT = Path(__file__).resolve().parents[1]
RAW_GIAS = (
    ROOT.parent / "shared" / "data" / "schools" / "england_gias_open_establishments_20250524.csv"
)
THRESHOLDS = (15, 30, 45, 60)

# ------------------------------------------------------------------ hand-worked case
# Walk: 4.8 km/h = 80 m/min, x 1.3, so a crow-fly d metres takes d x 0.01625 min:
# 500 m = 8.125, 1,000 m = 16.25, 2,000 m = 32.5, 3,000 m = 48.75, 4,000 m = 65 min.
# Sites: S1 of A at (0, 0), S2 of B at (10,000, 0); C has none.
#   A1 (500, 0)       100 children, decile 1:  any S1  8.125, own S1   8.125
#   A2 (8,000, 0)     100 children, decile 10: any S2 32.5,   own S1 130
#   B1 (10,000, 1000) 200 children, decile 5:  any S2 16.25,  own S2  16.25
#   C1 (0, 3,000)      50 children, decile 1:  any S1 48.75,  own none
#   C2 (10,000, -4000) 150 children, decile 10: any S2 65,    own none


def _tiny_lsoas() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "lsoa11cd": ["A1", "A2", "B1", "C1", "C2"],
            "la_code": ["001", "001", "002", "003", "003"],
            "la_name": ["Aville", "Aville", "Bton", "Cford", "Cford"],
            "easting_m": [500.0, 8000.0, 10000.0, 0.0, 10000.0],
            "northing_m": [0.0, 0.0, 1000.0, 3000.0, -4000.0],
            "children_0_15": [100, 100, 200, 50, 150],
            "imd_decile": [1, 10, 5, 1, 10],
        }
    )


def _tiny_sites(extra: bool = False) -> gpd.GeoDataFrame:
    rows = {
        "urn": ["1", "2"],
        "establishment_name": ["A PRU", "B AP Academy"],
        "la_code": ["001", "002"],
        "geometry": [Point(0, 0), Point(10000, 0)],
    }
    if extra:
        rows["urn"].append("9")
        rows["establishment_name"].append("Lost AP")
        rows["la_code"].append("003")
        rows["geometry"].append(None)
    return gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:27700")


@pytest.fixture(scope="module")
def tiny() -> pd.DataFrame:
    return england_comparison(
        modes=("walk", "drive"), lsoas=_tiny_lsoas(), ap_settings=_tiny_sites()
    )


def test_tiny_nearest_anywhere_versus_own_authority(tiny: pd.DataFrame) -> None:
    walk = tiny[tiny["mode"] == "walk"].set_index("la_code")
    a, b, c = walk.loc["001"], walk.loc["002"], walk.loc["003"]
    assert [a[f"share_within_{t}_min_any"] for t in THRESHOLDS] == [0.5, 0.5, 1.0, 1.0]
    assert [a[f"share_within_{t}_min_own"] for t in THRESHOLDS] == [0.5, 0.5, 0.5, 0.5]
    assert [b[f"share_within_{t}_min_any"] for t in THRESHOLDS] == [0.0, 1.0, 1.0, 1.0]
    assert [c[f"share_within_{t}_min_any"] for t in THRESHOLDS] == [0.0, 0.0, 0.0, 0.25]
    assert [c[f"share_within_{t}_min_own"] for t in THRESHOLDS] == [0.0] * 4
    assert a["median_time_min_any"] == pytest.approx(8.125)  # lower weighted median
    assert a["median_time_min_own"] == pytest.approx(8.125)
    assert c["median_time_min_any"] == pytest.approx(65.0)
    assert np.isnan(c["median_time_min_own"])
    assert a["ap_settings_per_10k_children"] == pytest.approx(50.0)
    assert a["centroid_easting_m"] == pytest.approx(4250.0)


def test_tiny_rank_and_equity(tiny: pd.DataFrame) -> None:
    walk = tiny[tiny["mode"] == "walk"].set_index("la_code")
    assert walk["rank"].to_dict() == {"001": 2, "002": 1, "003": 3}
    assert walk["rank_own"].to_dict() == {"001": 2, "002": 1, "003": 3}
    assert walk.loc["001", "equity_gap_share_within_30_min"] == pytest.approx(1.0)
    assert walk.loc["001", "equity_gap_median_time_min"] == pytest.approx(8.125 - 32.5)
    assert walk.loc["003", "equity_gap_median_time_min"] == pytest.approx(48.75 - 65.0)
    assert np.isnan(walk.loc["002", "equity_gap_share_within_30_min"])  # decile 5 only
    drive = tiny[tiny["mode"] == "drive"].set_index("la_code")  # 500 m/min: all within 15
    assert (drive["share_within_15_min_any"] == 1.0).all()
    # equal shares: the median decides (A 1.3 min, B 2.6, C 10.4)
    assert drive["median_time_min_any"].round(4).to_dict() == {"001": 1.3, "002": 2.6, "003": 10.4}
    assert drive["rank"].to_dict() == {"001": 1, "002": 2, "003": 3}


def test_tiny_authority_without_ap_is_named(tiny: pd.DataFrame) -> None:
    c = tiny[tiny["la_code"] == "003"]
    assert not c["has_own_ap_setting"].any()
    assert (c["note"] == NO_OWN_AP_NOTE).all()
    assert tiny.attrs["authorities_without_own_ap"] == ["Cford (003)"]
    assert tiny.attrs["caveats"] == list(CAVEATS)


def test_setting_without_coordinates_is_dropped_with_a_warning(tiny: pd.DataFrame) -> None:
    with pytest.warns(ApgeoWarning, match="URN 9 Lost AP"):
        again = england_comparison(
            modes=("walk", "drive"), lsoas=_tiny_lsoas(), ap_settings=_tiny_sites(extra=True)
        )
    pd.testing.assert_frame_equal(again, tiny)


def test_authority_without_lsoas_is_a_clear_error() -> None:
    authorities = pd.DataFrame(
        {"la_code": ["001", "002", "003", "004"], "la_name": ["Aville", "Bton", "Cford", "Dham"]}
    )
    with pytest.raises(
        ApgeoValueError, match=r"no LSOAs in the LSOA -> authority mapping: Dham \(004\)"
    ):
        england_comparison(lsoas=_tiny_lsoas(), ap_settings=_tiny_sites(), authorities=authorities)
    with pytest.raises(ApgeoValueError, match="unknown mode"):
        england_comparison(modes=("bus",), lsoas=_tiny_lsoas(), ap_settings=_tiny_sites())


def test_kdtree_matches_the_full_distance_matrix() -> None:
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 50_000, size=(400, 2))
    group = rng.integers(0, 6, size=400)
    site_xy = rng.uniform(0, 50_000, size=(12, 2))
    site_group = np.array([0, 0, 1, 2, 2, 2, 3, 3, 4, -1, -1, 1])  # group 5 has none
    any_k, own_k = nearest_distances(xy, group, site_xy, site_group)
    any_m, own_m = nearest_distances(xy, group, site_xy, site_group, method="matrix")
    np.testing.assert_allclose(any_k, any_m)
    np.testing.assert_allclose(own_k, own_m)
    assert np.isinf(own_k[group == 5]).all()


def test_england_map_opens_offline(tiny: pd.DataFrame, tmp_path: Path) -> None:
    from apgeo.outputs.maps import online_links

    paths = write_england_outputs(tiny, tmp_path / "m", area="001", n_neighbours=1, folium_map=True)
    text = paths["map"].read_text(encoding="utf-8")
    assert online_links(text) == []  # Leaflet inside, no d3 colour bar from a CDN
    assert "Share of children within 30 min" in text and "Leaflet 1.9.3" in text


def test_outputs_are_written_and_byte_identical(tiny: pd.DataFrame, tmp_path: Path) -> None:
    first = write_england_outputs(tiny, tmp_path / "one", area="001", n_neighbours=1)
    second = write_england_outputs(tiny, tmp_path / "two", area="001", n_neighbours=1)
    for key, path in first.items():
        assert path.is_file()
        assert path.read_bytes() == second[key].read_bytes(), key
    with sqlite3.connect(first["gpkg"]) as con:
        rows = con.execute("select table_name, last_change from gpkg_contents").fetchall()
    assert sorted(rows) == [
        ("authorities_drive", GPKG_TIMESTAMP),
        ("authorities_walk", GPKG_TIMESTAMP),
    ]
    layer = gpd.read_file(first["gpkg"], layer="authorities_walk")
    assert layer.crs.to_epsg() == 27700 and len(layer) == 3
    text = first["markdown"].read_text(encoding="utf-8")
    assert all(c in text for c in CAVEATS)
    assert "Cford (003)" in text and NEIGHBOURS_LABEL in text


# ------------------------------------------------------------------ England


@pytest.fixture(scope="module")
def england() -> pd.DataFrame:
    if RAW_GIAS.is_file():
        return england_comparison(ap_settings=ap_settings_england(load_gias_england(RAW_GIAS)))
    # without the shared GIAS file: every 100th LSOA centroid stands in for a setting
    from apgeo.inputs.areas import load_lsoas_england

    lsoas = load_lsoas_england().iloc[::100]
    sites = gpd.GeoDataFrame(
        {"la_code": lsoas["la_code"].to_numpy(), "urn": lsoas["lsoa11cd"].to_numpy()},
        geometry=gpd.points_from_xy(lsoas["easting_m"], lsoas["northing_m"]),
        crs="EPSG:27700",
    )
    return england_comparison(ap_settings=sites)


def test_every_authority_exactly_once_per_mode(england: pd.DataFrame) -> None:
    codes = sorted(load_authorities()["la_code"])
    assert len(codes) == 153
    for _mode, t in england.groupby("mode"):
        assert sorted(t["la_code"]) == codes
        assert sorted(t["rank"]) == sorted(t["rank"].rank(method="min").astype(int))
    assert list(england["mode"].unique()) == ["walk", "cycle", "drive"]


def test_shares_are_proportions_and_monotone(england: pd.DataFrame) -> None:
    for kind in ("any", "own"):
        cols = [f"share_within_{t}_min_{kind}" for t in THRESHOLDS]
        shares = england[cols].to_numpy()
        assert ((shares >= 0) & (shares <= 1)).all()
        assert (np.diff(shares, axis=1) >= 0).all()
    assert (england["share_within_30_min_any"] >= england["share_within_30_min_own"]).all()
    assert (england["median_time_min_any"] <= england["median_time_min_own"].fillna(np.inf)).all()


@pytest.mark.skipif(not RAW_GIAS.is_file(), reason="England GIAS extract not available")
def test_real_england_figures(england: pd.DataFrame) -> None:
    first = england.drop_duplicates("la_code")
    assert int(first["ap_settings"].sum()) == 333
    assert (~first["has_own_ap_setting"]).sum() == len(england.attrs["authorities_without_own_ap"])
    assert "Isles Of Scilly (420)" in england.attrs["authorities_without_own_ap"]
    sheffield = england[(england["la_code"] == "373")].set_index("mode")
    assert (sheffield["ap_settings"] == 1).all()  # Sheffield Inclusion Centre


def test_comparators_for_sheffield(england: pd.DataFrame) -> None:
    comp = comparators(england, "Sheffield", n=5)
    walk = comp[comp["mode"] == "walk"]
    assert walk.loc[walk["group"] == "area", "la_name"].tolist() == ["Sheffield"]
    assert sorted(walk.loc[walk["group"] == "core city", "la_code"]) == sorted(CORE_CITY_LA_CODES)
    near = walk[walk["group"] == "nearest neighbour"]
    assert len(near) == 5 and "373" not in set(near["la_code"])
    assert near["similarity_distance"].is_monotonic_increasing
    assert len(walk[walk["group"] == "England"]) == 4
    assert comp.attrs["neighbours_label"] == NEIGHBOURS_LABEL
    assert similar_authorities(england, 373, n=5)["la_code"].tolist() == near["la_code"].tolist()


def test_cli_writes_the_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gias = tmp_path / "gias.csv"
    pd.DataFrame(
        {
            "urn": ["137596", "2", "3"],
            "la_code": ["373", "383", "886"],
            "establishment_name": ["Sheffield Inclusion Centre", "Leeds AP", "Kent PRU"],
            "establishment_type": [
                "Pupil referral unit",
                "Academy alternative provision converter",
                "Pupil referral unit",
            ],
            "easting": ["436000", "430000", "560000"],
            "northing": ["385000", "433000", "155000"],
        }
    ).to_csv(gias, index=False)
    out = tmp_path / "england"
    code = main(["england", "--out", str(out), "--gias", str(gias), "--modes", "walk", "drive"])
    assert code == 0
    names = {p.name for p in out.iterdir()}
    assert {
        "england_comparison.csv",
        "england_comparators.csv",
        "england_comparison.gpkg",
        "england_comparison.md",
        "england_comparison.html",
    } <= names
    printed = capsys.readouterr().out
    assert "Where Sheffield stands" in printed and "rank" in printed
    table = pd.read_csv(out / "england_comparison.csv", dtype={"la_code": str})
    assert len(table) == 2 * 153
