"""Demand: 345 LSOAs, children by age and key stage, deprivation, need with suppression."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from apgeo import ApgeoWarning
from apgeo._errors import ApgeoValueError, MissingColumnError
from apgeo.inputs.data import data_path
from apgeo.inputs.demand import (
    _ward_profile,
    aggregate_need,
    apportion,
    demand_points,
    load_demand,
)
from apgeo.privacy.suppression import suppress_counts
from apgeo.schema import KEY_STAGE_AGES, children_column


def test_345_lsoas_with_deprivation(sheffield_demand):
    d = sheffield_demand
    assert len(d) == 345 and d["area_id"].is_unique
    assert d.crs == "EPSG:27700"
    # IMD decile counts as in the provenance notes (hand-checked from File 1)
    assert d["imd_decile"].value_counts().sort_index().tolist() == [82, 36, 26, 22, 31, 31, 26, 27, 30, 34]
    assert d["idaci_decile"].between(1, 10).all()
    # Sheffield 069A: IMD rank 15,042 (thousands separator in the source), IDACI rank 15,280
    row = d.set_index("area_id").loc["E01007823"]
    assert (row["imd_rank"], row["imd_decile"], row["idaci_rank"], row["idaci_decile"]) == (15042, 5, 15280, 5)


def test_population_totals_match_source_files(sheffield_demand):
    d = sheffield_demand
    assert d["population_all"].sum() == 589_214  # LA total, mid-2020
    assert d["children_0_15"].sum() == 106_116
    ages = d[[f"age_{a}" for a in range(16)]].sum(axis=1)
    assert (ages == d["children_0_15"]).all()  # exact per LSOA
    assert (d[[f"age_{a}" for a in range(18)]] % 1 == 0).all().all()  # whole children
    for ks, ks_ages in KEY_STAGE_AGES.items():
        assert np.array_equal(d[children_column(ks)], d[[f"age_{a}" for a in ks_ages]].sum(axis=1))


def test_ward_single_year_file_ages_11_to_16():
    prof = _ward_profile(data_path("pop_ward_sya"))
    assert prof[list(range(11, 17))].sum().sum() == 39_830
    assert prof.shape[0] == 28


def test_split_close_to_ward_totals(sheffield_demand):
    # ages 11-15 from the LSOA split vs the ward file: within 0.1 % (33,582 vs 33,565)
    split = sheffield_demand[[f"age_{a}" for a in range(11, 16)]].sum().sum()
    prof = _ward_profile(data_path("pop_ward_sya"))
    direct = prof[list(range(11, 16))].sum().sum()
    assert abs(split - direct) / direct < 0.001


def test_census2021_alternative():
    with pytest.warns(ApgeoWarning, match=r"7 LSOA 2011 code\(s\) have no identical LSOA 2021 code"):
        d = load_demand(population_source="census2021")
    assert len(d) == 345
    assert d["children_0_15"].sum() > 95_000
    with pytest.raises(ApgeoValueError, match="population_source must be"):
        load_demand(population_source="2011")  # type: ignore[arg-type]


def test_demand_points_are_population_weighted_centroids(sheffield_demand):
    pts = demand_points(sheffield_demand)
    assert (pts.geom_type == "Point").all()
    inside = pts.geometry.within(sheffield_demand.geometry.buffer(200))
    assert inside.mean() > 0.99


@settings(max_examples=200, deadline=None)
@given(
    total=st.integers(min_value=0, max_value=5000),
    weights=st.lists(st.floats(min_value=0, max_value=1e4, allow_nan=False), min_size=1, max_size=20),
)
def test_apportion_conserves_totals_exactly(total, weights):
    parts = apportion(total, weights)
    assert parts.sum() == total
    assert (parts >= 0).all()
    w = np.asarray(weights)
    if w.sum() > 0:
        quota = total * w / w.sum()
        assert (np.abs(parts - quota) < 1).all()  # never more than one child off its quota


def test_suppression_primary_and_secondary():
    counts = pd.Series([0, 3, 12, 7, 40, 2, 9])
    wards = pd.Series(["a", "a", "a", "b", "b", "c", "c"])
    out = suppress_counts(counts, groups=[wards])
    # primary: 3 and 2; ward a has one hidden cell -> its smallest shown non-zero (12) hidden;
    # ward c has one hidden cell (2) -> 9 hidden; ward b untouched
    assert out["suppression"].tolist() == ["", "primary", "secondary", "", "", "primary", "secondary"]
    assert out["count"].isna().tolist() == [False, True, True, False, False, True, True]
    assert out["count_rounded"].tolist() == [0, 2.5, 10, 7, 40, 2.5, 10]


def test_suppression_city_total_single_cell():
    out = suppress_counts(pd.Series([4, 10, 20]))
    assert out["suppression"].tolist() == ["primary", "secondary", ""]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=40), st.integers(1, 5))
def test_suppression_never_shows_small_or_lone_cells(values, n_groups):
    counts = pd.Series(values)
    groups = pd.Series([i % n_groups for i in range(len(values))])
    out = suppress_counts(counts, groups=[groups])
    shown = out["count"].dropna()
    assert not ((shown > 0) & (shown < 5)).any()
    for key in [np.zeros(len(values)), groups.to_numpy()]:
        for g in np.unique(key):
            hidden = out["suppressed"][key == g].sum()
            nonzero_shown = ((~out["suppressed"]) & (counts > 0))[key == g].sum()
            assert hidden != 1 or nonzero_shown == 0


def test_aggregate_need_from_pupil_postcodes(sheffield_demand):
    # 7 pupils in S2 2JQ's LSOA, 2 in another, one unknown postcode
    rows = ["S2 2JQ"] * 7 + ["S1 1AA"] * 2 + ["ZZ9 9ZZ"]
    with pytest.warns(ApgeoWarning, match=r"1 row\(s\) have a postcode that could not be placed") as rec:
        need = aggregate_need(pd.DataFrame({"home_postcode": rows}), demand=sheffield_demand, postcode_column="home_postcode")
    assert "ZZ9" not in str(rec[0].message)  # never echo a pupil postcode
    need = need.set_index("area_id")
    assert len(need) == 345
    assert need.loc["E01033268", "need_suppression"] == "primary"  # 2 pupils: hidden
    assert np.isnan(need.loc["E01033268", "need_count"])
    # 7 is hidden too: otherwise the city total (9) would reveal the 2
    assert need.loc["E01008097", "need_suppression"] == "secondary"
    assert set(need.columns) == {"need_count", "need_suppressed", "need_suppression", "need_weight"}


def test_aggregate_need_counts_per_area(sheffield_demand):
    ids = sheffield_demand["area_id"].tolist()
    recs = pd.DataFrame({"lsoa": ids[:3], "n": ["1,200", "30", "40"]})
    need = aggregate_need(recs, demand=sheffield_demand, area_column="lsoa", count_column="n").set_index("area_id")
    assert need.loc[ids[0], "need_count"] == 1200
    with pytest.raises(MissingColumnError, match="missing column\\(s\\) 'lsoa11'"):
        aggregate_need(recs, demand=sheffield_demand, area_column="lsoa11")
    with pytest.raises(ApgeoValueError, match="give exactly one of area_column"):
        aggregate_need(recs, demand=sheffield_demand)
    bad = pd.DataFrame({"lsoa": ids[:1], "n": ["many"]})
    with pytest.raises(ApgeoValueError, match=r"'n' has non-numeric values at row\(s\) 2"):
        aggregate_need(bad, demand=sheffield_demand, area_column="lsoa", count_column="n")


def test_missing_population_file(tmp_path):
    from apgeo._errors import DataFileNotFoundError

    with pytest.raises(DataFileNotFoundError, match="dataset 'lsoa_boundaries' not found"):
        load_demand(data_dir=tmp_path)
