"""Time in AP and return to mainstream: hand-worked figures and bad input."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from apgeo import ApgeoValueError, MissingColumnError
from apgeo.analysis.time_in_ap import time_in_ap_table
from apgeo.inputs.placements import load_placement_episodes, load_placements, load_schools
from apgeo.inputs.synthetic_placements import synthetic_placements

AS_OF = dt.date(2025, 3, 31)


@pytest.fixture(scope="module")
def ref(sheffield_demand, sheffield_providers, data_dir):
    schools = load_schools(data_dir=data_dir)
    school = sorted(schools.loc[schools["mainstream"], "urn"])[0]
    located = sheffield_providers[sheffield_providers["located"]]
    site = located.loc[located["kind"] == "inclusion_centre", "site_id"].iloc[0]
    return {
        "demand": sheffield_demand, "providers": sheffield_providers, "schools": schools,
        "school": school, "site": site, "lsoa": sheffield_demand["area_id"].iloc[0],
    }


def _file(ref: dict, rows: list[tuple[str, str, str]]) -> pd.DataFrame:
    """Placements at one site from one school: (start_date, end_date, outcome) each."""
    return pd.DataFrame(
        {
            "home_lsoa": ref["lsoa"],
            "school_urn": ref["school"],
            "site_id": ref["site"],
            "key_stage": "KS3",
            "start_date": [r[0] for r in rows],
            "end_date": [r[1] for r in rows],
            "outcome": [r[2] for r in rows],
            "sessions_per_week": [10, 9, 8, 7, 6, 5, 4, 3][: len(rows)],
        }
    )


def _episodes(ref: dict, frame: pd.DataFrame) -> pd.DataFrame:
    return load_placement_episodes(
        frame, as_of=AS_OF, providers=ref["providers"], schools=ref["schools"], demand=ref["demand"]
    )


def test_hand_worked_time_in_ap(ref):
    frame = _file(
        ref,
        [
            ("2024-01-01", "2024-02-26", "returned"),  # 56 days, back within 6 months
            ("2024-01-01", "2024-05-20", "special school"),  # 140 days: over one term
            ("2023-09-04", "2024-09-30", "returned_to_mainstream"),  # 392 days: over a year, back late
            ("2024-11-04", "", ""),  # open, 147 days so far: over one term, too recent for 6m
            ("2025-03-03", "", ""),  # open, 28 days
        ],
    )
    table = time_in_ap_table(_episodes(ref, frame), by="key_stage")
    row = table.set_index("group").loc["KS3"]
    assert row["placements"] == 5 and row["open_placements"] == 2 and row["ended_placements"] == 3
    assert row["median_weeks_ended"] == pytest.approx(140 / 7)
    assert row["placements_over_one_term"] == 3 and row["share_over_one_term"] == pytest.approx(0.6)
    assert row["placements_over_one_year"] == 1
    # 6 months: the three started >= 182 days before as_of; one returned within 182 days
    assert row["started_6_months_before"] == 3 and row["returned_within_6_months"] == 1
    assert row["returned_within_12_months"] == 1 and row["started_12_months_before"] == 3
    assert table.attrs["method"].startswith("length = end_date - start_date")
    # the open placements are counted, not dropped
    assert table.set_index("group").loc["all", "placements"] == 5


def test_no_home_area_in_the_episode_counts(ref):
    frame = _file(ref, [("2024-01-01", "2024-02-26", "returned")])
    assert "area_id" not in _episodes(ref, frame).columns


def test_end_before_start_names_the_row(ref):
    frame = _file(ref, [("2024-01-01", "2024-02-26", "returned"), ("2024-05-01", "2024-04-01", "other")])
    with pytest.raises(ApgeoValueError, match=r"'end_date' is before 'start_date' at row\(s\) 3"):
        _episodes(ref, frame)


def test_outcome_not_in_the_list(ref):
    frame = _file(ref, [("2024-01-01", "2024-02-26", "went to the moon")])
    with pytest.raises(ApgeoValueError, match="'outcome' is not one of returned_to_mainstream, moved_to_special_school"):
        _episodes(ref, frame)


def test_outcome_of_an_open_placement(ref):
    frame = _file(ref, [("2024-01-01", "", "returned")])
    with pytest.raises(ApgeoValueError, match="'outcome' is given but 'end_date' is empty at row"):
        _episodes(ref, frame)


def test_end_after_as_of(ref):
    frame = _file(ref, [("2024-01-01", "2025-06-01", "returned")])
    with pytest.raises(ApgeoValueError, match=r"'end_date' is after as_of \(2025-03-31\)"):
        _episodes(ref, frame)


def test_outcome_without_end_date_column(ref):
    frame = _file(ref, [("2024-01-01", "2024-02-26", "returned")]).drop(columns="end_date")
    with pytest.raises(MissingColumnError, match="end_date"):
        _episodes(ref, frame)


def test_time_in_ap_needs_end_dates(ref):
    frame = _file(ref, [("2024-01-01", "2024-02-26", "returned")]).drop(columns=["end_date", "outcome"])
    with pytest.raises(ApgeoValueError, match="has no 'end_date' column"):
        _episodes(ref, frame)
    counts = load_placements(frame, as_of=AS_OF, providers=ref["providers"], schools=ref["schools"], demand=ref["demand"])
    with pytest.raises(ApgeoValueError, match="no end dates"):
        time_in_ap_table(counts)


def test_synthetic_list_has_end_dates_and_outcomes(ref, data_dir):
    rows = synthetic_placements(
        300, random_state=3, as_of=AS_OF, demand=ref["demand"], providers=ref["providers"],
        schools=ref["schools"], data_dir=data_dir,
    )
    assert rows.attrs["synthetic"] and rows["synthetic"].all()
    ended = rows["end_date"] != ""
    assert ended.any() and (~ended).any()
    assert (rows.loc[~ended, "outcome"] == "").all() and (rows.loc[ended, "outcome"] != "").all()
    table = time_in_ap_table(_episodes(ref, rows), by="kind", providers=ref["providers"])
    assert table.attrs["synthetic"] is True
    assert int(table.set_index("group").loc["all", "placements"]) == 300


# ---- publication -------------------------------------------------------------------------


def _published(ref, data_dir, n=1000, seed=12345):
    from apgeo.analysis.burden import placement_travel_times
    from apgeo.inputs.demand import demand_points
    from apgeo.inputs.providers import split_located
    from apgeo.privacy.publish import publish_placement_tables
    from apgeo.routing.straight_line import straight_line_travel_times

    located, _ = split_located(ref["providers"])
    tt = straight_line_travel_times(
        demand_points(ref["demand"]), located, origin_id_column="area_id", destination_id_column="site_id", mode="walk"
    )
    raw = synthetic_placements(
        n, random_state=seed, as_of=AS_OF, demand=ref["demand"], providers=ref["providers"],
        schools=ref["schools"], data_dir=data_dir,
    )
    counts = load_placements(raw, as_of=AS_OF, providers=ref["providers"], schools=ref["schools"], demand=ref["demand"])
    pt = placement_travel_times(counts, tt, mode="walk", providers=ref["providers"], demand=ref["demand"])
    return publish_placement_tables(pt, providers=ref["providers"], schools=ref["schools"]), _episodes(ref, raw)


@pytest.mark.parametrize("seed", [12345, 7])
def test_published_time_in_ap_hides_small_counts_and_what_follows_from_totals(ref, data_dir, seed):
    from apgeo.privacy.publish_time_in_ap import TIME_IN_AP_NOTE, publish_time_in_ap

    burden, episodes = _published(ref, data_dir, n=400, seed=seed)
    for dim in ("kind", "key_stage", "school_urn"):
        table = time_in_ap_table(episodes, by=dim, providers=ref["providers"])
        out = publish_time_in_ap(table, burden[f"burden_{dim}"])
        assert out.attrs["note"] == TIME_IN_AP_NOTE and "placements" not in out.columns
        counts = out[[c for c in out.columns if c.startswith(("open", "ended", "placements_", "started_", "returned_"))]]
        assert not ((counts > 0) & (counts < 5)).any().any()
        groups = out["group"] != "all"
        whole_row_blank = counts.isna().all(axis=1).to_numpy()
        for col in counts.columns:
            if col in ("open_placements", "ended_placements"):
                continue  # a two-way table with the burden totals, audited by protect_table
            blanks = (counts[col].isna() & groups).to_numpy()
            if blanks.any() and counts.loc[~groups, col].notna().all():
                # what an outsider knows: the 'all' value minus the shown cells is the sum of
                # the blanks; a blank in a shown row is at least 1 (zeros are shown)
                rest = float(counts.loc[~groups, col].iloc[0]) - float(counts.loc[groups, col].sum())
                lower = np.where(whole_row_blank[blanks], 0.0, 1.0)
                for i in range(len(lower)):
                    most = rest - (lower.sum() - lower[i])
                    assert most >= lower[i] + 1, (dim, col, i)
        # a share is never shown beside a blank numerator, nor for a small group
        shown = out["share_over_one_term"].notna()
        assert counts.loc[shown, "placements_over_one_term"].notna().all()
        assert (table.loc[shown.to_numpy(), "placements"] >= 10).all()
        # a group whose total is blank in the burden table is blank here too
        blank_total = burden[f"burden_{dim}"].set_index("group")["placements"].isna()
        hidden_groups = set(blank_total[blank_total].index.astype(str))
        assert counts[out["group"].astype(str).isin(hidden_groups).to_numpy()].isna().all().all()


def test_study_report_has_time_in_ap(tmp_path):
    from apgeo.outputs.report import _time_in_ap_section
    from apgeo.study.result import StudyResult

    table = pd.DataFrame(
        {"group_by": "kind", "group": ["pru", "all"], "open_placements": [10.0, 10.0],
         "ended_placements": [20.0, 20.0], "median_weeks_ended": [12.0, 12.0],
         "share_over_one_term": [0.5, 0.5], "share_over_one_year": [0.1, 0.1],
         "share_returned_within_6_months": [0.25, 0.25], "share_returned_within_12_months": [0.4, 0.4]}
    )
    result = StudyResult.__new__(StudyResult)
    result.tables = {"placements_synthetic_time_in_ap_kind": table}
    text = "\n".join(_time_in_ap_section(result))
    assert "Time in AP and return to mainstream (SYNTHETIC DATA" in text
    assert "50.0" in text and "25.0" in text  # shares as percentages
