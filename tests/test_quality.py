"""Provider quality: reading grades and QA outcomes, the good-or-better rule, and coverage of
all provision next to good-or-better provision."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from apgeo import ApgeoValueError, ApgeoWarning, DuplicateIdError, MissingColumnError
from apgeo.inputs.demand import demand_points
from apgeo.inputs.providers import split_located
from apgeo.inputs.quality import (
    attach_quality,
    good_or_better,
    quality_coverage,
    quality_status,
    read_provider_quality,
)
from apgeo.routing.straight_line import straight_line_travel_times


def test_grades_and_outcomes_accept_numbers_and_words(tmp_path):
    path = tmp_path / "quality.csv"
    path.write_text(
        "URN,Ofsted grade,QA outcome\n"
        "1001,1,Good\n"
        "1002,Requires improvement,satisfactory\n"
        "1003.0,,Serious concerns\n"
        "1004,inadequate,\n"
        "1005,Outstanding,some  concerns\n"
        "1006,satisfactory,not known\n",
        encoding="utf-8-sig",
    )
    q = read_provider_quality(path)
    assert q.attrs["key"] == "urn"
    assert q["urn"].tolist() == ["1001", "1002", "1003", "1004", "1005", "1006"]
    assert q["ofsted_grade"].tolist()[:2] == [1, 3] and pd.isna(q["ofsted_grade"].iloc[2])
    assert q["ofsted_grade"].tolist()[3:] == [4, 1, 3]
    assert q["qa_outcome"].tolist()[:3] == ["good", "satisfactory", "concerns"]
    assert pd.isna(q["qa_outcome"].iloc[3]) and q["qa_outcome"].iloc[4] == "concerns"


def test_bad_quality_files_name_rows():
    bad = pd.DataFrame({"provider_id": ["a", "b", "c"], "ofsted_grade": ["1", "5", "good"], "qa_outcome": ["good", "meh", ""]})
    with pytest.raises(ApgeoValueError, match=r"'ofsted_grade' is not 1-4 .* row\(s\) 3 .*'qa_outcome' is not one of .* row\(s\) 3"):
        read_provider_quality(bad)
    with pytest.raises(DuplicateIdError, match=r"row\(s\) 3, 4"):
        read_provider_quality(pd.DataFrame({"provider_id": ["a", "b", "b"], "ofsted_grade": [1, 2, 3]}))
    with pytest.raises(MissingColumnError, match="urn"):
        read_provider_quality(pd.DataFrame({"name": ["x"], "ofsted_grade": [1]}))
    with pytest.raises(MissingColumnError, match="ofsted_grade"):
        read_provider_quality(pd.DataFrame({"urn": ["1"], "grade": [1]}))


def test_the_good_or_better_rule_by_hand():
    grade = pd.Series([1, 2, 2, 3, 4, np.nan, np.nan, np.nan, 1])
    qa = pd.Series(["good", "satisfactory", "concerns", "good", None, "good", "concerns", None, None])
    out = quality_status(grade, qa)
    assert out["quality_status"].tolist() == [
        "good_or_better", "good_or_better", "below_good", "below_good", "below_good",
        "unknown", "below_good", "unknown", "good_or_better",
    ]
    assert out["quality_reason"].iloc[2] == "council QA: concerns"


def tiny():
    """Areas A, B; sites s1 (far, good), s2 (near, grade 3), s3 (near, ungraded). Minutes:
    A: s1 40, s2 10, s3 20; B: s1 20, s2 50, s3 60. 10 KS3 children in A, 30 in B."""
    providers = pd.DataFrame(
        {
            "site_id": ["s1", "s2", "s3"],
            "provider_id": ["p1", "p2", "p3"],
            "name": ["One", "Two", "Three"],
            "kind": ["pru", "pru", "framework_provider"],
            "key_stages": ["KS3", "KS3", "KS3"],
            "capacity_places": [10.0, 10.0, 10.0],
        }
    )
    demand = pd.DataFrame({"area_id": ["A", "B"], **{f"children_ks{k}": [0.0, 0.0] for k in range(1, 6)}})
    demand["children_ks3"] = [10.0, 30.0]
    tt = pd.DataFrame(
        {
            "origin_id": ["A", "A", "A", "B", "B", "B"],
            "destination_id": ["s1", "s2", "s3", "s1", "s2", "s3"],
            "travel_time_s": [2400.0, 600.0, 1200.0, 1200.0, 3000.0, 3600.0],
        }
    )
    quality = pd.DataFrame({"provider_id": ["p1", "p2"], "ofsted_grade": ["good", "3"]})
    return tt, demand, providers, quality


def test_good_or_better_keeps_unknown_only_when_asked():
    _, _, providers, quality = tiny()
    good = good_or_better(providers, quality=quality)
    assert good["site_id"].tolist() == ["s1"]
    both = good_or_better(providers, quality=quality, include_unknown=True)
    assert both["site_id"].tolist() == ["s1", "s3"] and both.attrs["include_unknown"] is True
    assert "quality_status" not in providers.columns  # input untouched
    with pytest.raises(ApgeoValueError, match="attach_quality"):
        good_or_better(providers)
    nobody = pd.DataFrame({"provider_id": ["p2"], "ofsted_grade": [4]})
    with pytest.warns(ApgeoWarning, match="no provider passes"):
        assert len(good_or_better(providers, quality=nobody)) == 0


def test_unmatched_quality_rows_warn():
    _, _, providers, quality = tiny()
    extra = pd.concat([quality, pd.DataFrame({"provider_id": ["p9"], "ofsted_grade": ["1"]})], ignore_index=True)
    with pytest.warns(ApgeoWarning, match=r"1 provider_id value\(s\) match no provider \(p9\)"):
        out = attach_quality(providers, extra)
    assert out["quality_status"].tolist() == ["good_or_better", "below_good", "unknown"]


def test_quality_coverage_by_hand():
    tt, demand, providers, quality = tiny()
    out = quality_coverage(tt, demand, providers, mode="drive", quality=quality, thresholds_min=(30,), key_stages=["KS3"])
    row = out.set_index("key_stage").loc["KS3"]
    # all: A 10 min (s2), B 20 min (s1) -> everyone within 30; good only (s1): A 40, B 20 -> 30/40
    assert row["share_within_30_min_all"] == 1.0
    assert row["share_within_30_min_good_or_better"] == pytest.approx(0.75)
    assert row["share_within_30_min_change"] == pytest.approx(-0.25)
    assert row["mean_nearest_time_s_all"] == pytest.approx((10 * 600 + 30 * 1200) / 40)
    assert row["mean_nearest_time_s_good_or_better"] == pytest.approx((10 * 2400 + 30 * 1200) / 40)
    assert out.attrs["providers_good_or_better"] == 1
    with pytest.raises(ApgeoValueError, match="include_unknown=True"):
        quality_coverage(tt, demand, providers, mode="drive", quality=pd.DataFrame({"provider_id": ["p1"], "ofsted_grade": [4]}))


def test_quality_coverage_on_sheffield(sheffield_demand, sheffield_providers, tmp_path):
    located, _ = split_located(sheffield_providers)
    tt = straight_line_travel_times(
        demand_points(sheffield_demand), located, origin_id_column="area_id", destination_id_column="site_id", mode="drive"
    )
    urns = located["urn"].tolist()
    grades = ["2", "1", "", "3", "2", "good", "requires improvement", "2", "4", "1"]
    qa = ["satisfactory", "good", "good", "", "concerns", "", "", "good", "", ""]
    rows = [f"{u},{grades[i % len(grades)]},{qa[i % len(qa)]}" for i, u in enumerate(urns)]
    path = tmp_path / "provider_quality.csv"
    path.write_text("urn,ofsted_grade,qa_outcome\n" + "\n".join(rows) + "\n", encoding="utf-8")
    # the only KS5 site (hospital education, URN 147136) has QA concerns in this file
    with pytest.warns(ApgeoWarning, match="no provider serves KS5"):
        out = quality_coverage(
            tt, sheffield_demand, located, mode="drive", quality=path, thresholds_min=(15, 30), key_stages="KS1-KS5"
        )
    assert out.set_index("key_stage").loc["KS5", "share_within_30_min_good_or_better"] == 0
    assert out["key_stage"].tolist() == ["all", "KS1", "KS2", "KS3", "KS4", "KS5"]
    for t in (15, 30):
        assert (out[f"share_within_{t}_min_change"] <= 1e-12).all()
        assert out[f"share_within_{t}_min_good_or_better"].between(0, 1).all()
    assert out.attrs["providers_good_or_better"] < out.attrs["providers_all"]
    with pytest.warns(ApgeoWarning, match="no provider serves KS5"):
        wider = quality_coverage(
            tt, sheffield_demand, located, mode="drive", quality=path, include_unknown=True, key_stages="KS1-KS5"
        )
    assert (wider["share_within_30_min_good_or_better"] >= out["share_within_30_min_good_or_better"] - 1e-12).all()
