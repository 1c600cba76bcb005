"""Placements: loading (validation, geocoding, aggregation), travel burden, flows, suppression.

The end-to-end tests write 1,000 SYNTHETIC placements to a temporary CSV, read them back
through the loader and check every published table: no count from 1 to 4 anywhere, and an
independent attacker (a linear programme per suppressed cell, using every published
total, across tables) cannot work out any suppressed count.
"""

from __future__ import annotations

import datetime as dt
import warnings
from collections.abc import Hashable, Sequence

import numpy as np
import pandas as pd
import pytest
import scipy.optimize
import scipy.sparse
from hypothesis import example, given, settings
from hypothesis import strategies as st

from apgeo import ApgeoError, ApgeoValueError, ApgeoWarning, MissingColumnError
from apgeo.analysis.burden import (
    band_columns,
    burden_table,
    furthest_schools,
    placement_travel_times,
)
from apgeo.analysis.flows import flow_lines, flow_matrix
from apgeo.inputs.demand import demand_points
from apgeo.inputs.geocode import PostcodeLookup
from apgeo.inputs.placements import ALL, PLACEMENTS, load_placements, load_schools
from apgeo.inputs.providers import split_located
from apgeo.inputs.synthetic_placements import synthetic_placements
from apgeo.privacy.disclosure import disclosed_cells, protect_table
from apgeo.privacy.publish import publish_placement_tables
from apgeo.routing.straight_line import straight_line_travel_times

AS_OF = dt.date(2025, 3, 31)
SEED = 7


# ======================================================================================
# An independent attacker: per suppressed entry, the smallest and largest value it can
# take given everything published (exact linear programme, hidden values >= 1).
# ======================================================================================

Key = tuple[str, Hashable, Hashable]
Equation = tuple[dict[Key, float], float]  # sum(coef * entry) == constant


def table_entries(name: str, table: pd.DataFrame) -> tuple[dict[Key, float], list[Equation]]:
    """Entries and margin equations of a published wide table with 'all' totals."""
    entries = {(name, r, c): float(table.loc[r, c]) for r in table.index for c in table.columns}
    eqs: list[Equation] = []
    for r in table.index:
        e = {(name, r, c): 1.0 for c in table.columns if c != ALL}
        e[(name, r, ALL)] = -1.0
        eqs.append((e, 0.0))
    for c in table.columns:
        e = {(name, r, c): 1.0 for r in table.index if r != ALL}
        e[(name, ALL, c)] = -1.0
        eqs.append((e, 0.0))
    return entries, eqs


def recoverable(entries: dict[Key, float], equations: Sequence[Equation]) -> list[tuple[Key, float, float]]:
    """Suppressed entries (NaN) whose value is the same in every solution."""
    unknown = [k for k, v in entries.items() if np.isnan(v)]
    pos = {k: i for i, k in enumerate(unknown)}
    rows, cols, vals, rhs = [], [], [], []
    for coefs, const in equations:
        b = const
        used = False
        for k, a in coefs.items():
            if k in pos:
                rows.append(len(rhs))
                cols.append(pos[k])
                vals.append(a)
                used = True
            else:
                b -= a * entries[k]
        if used:
            rhs.append(b)
        else:
            assert abs(b) < 1e-6, f"published numbers are inconsistent: {coefs}"
    if not unknown:
        return []
    a_eq = scipy.sparse.csr_matrix((vals, (rows, cols)), shape=(len(rhs), len(unknown)))
    n = len(unknown)
    lo_seen, hi_seen = np.full(n, np.inf), np.full(n, -np.inf)

    def solve(c: np.ndarray) -> np.ndarray | None:
        res = scipy.optimize.linprog(c, A_eq=a_eq, b_eq=rhs, bounds=(1, None), method="highs")
        assert res.status in (0, 3), res.message  # 3 = unbounded: fine, the value is free
        if res.status == 0:
            np.minimum(lo_seen, res.x, out=lo_seen)
            np.maximum(hi_seen, res.x, out=hi_seen)
            return res.x
        return None

    # a few random objectives give solutions in which most values already differ ...
    rng = np.random.default_rng(0)
    for _ in range(12):
        solve(rng.normal(size=n))
    # ... then push every value that has not moved yet to its own minimum and maximum
    found = []
    for i, key in enumerate(unknown):
        if hi_seen[i] - lo_seen[i] >= 0.5:
            continue
        c = np.zeros(n)
        c[i] = 1.0
        lo = solve(c)
        hi = solve(-c)
        if hi is None:  # unbounded above: cannot be recovered
            continue
        assert lo is not None
        if hi[i] - lo[i] < 0.5:
            found.append((key, float(lo[i]), float(hi[i])))
    return found


def burden_as_wide(burden: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in burden.columns if c.startswith("placements_")]
    wide = burden.set_index("group")[[*cols, PLACEMENTS]].rename(columns={PLACEMENTS: ALL})
    return wide.astype(float)


def small_counts(values: np.ndarray) -> int:
    v = np.asarray(values, dtype=float)
    return int(((v > 0) & (v < 5)).sum())


# ======================================================================================
# The suppression engine, by hand and by property
# ======================================================================================


def test_attacker_recovers_cells_from_naive_suppression():
    """Primary suppression alone leaks: the attacker must find these (it has teeth)."""
    table = pd.DataFrame([[1.0, 10.0], [6.0, 10.0]], index=["a", "b"], columns=["x", "y"])
    naive = table.copy()
    naive["all"] = table.sum(axis=1)
    naive.loc["all"] = naive.sum(axis=0)
    naive.loc["a", "x"] = np.nan
    entries, eqs = table_entries("t", naive)
    assert [k for k, *_ in recoverable(entries, eqs)] == [("t", "a", "x")]
    # two 1s in a row with the row total published: both are pinned at 1
    two = pd.DataFrame([[np.nan, np.nan, 10.0, 12.0], [6.0, 7.0, 8.0, 21.0], [7.0, 8.0, 18.0, 33.0]])
    two.columns, two.index = ["x", "y", "z", ALL], ["a", "b", ALL]
    entries, eqs = table_entries("t", two[["x", "y", "z", ALL]])
    # only the row equation of "a" and the bounds are needed: 1 + 1 = 12 - 10
    eqs = [eqs[0]]
    assert {k for k, *_ in recoverable(entries, eqs)} >= {("t", "a", "x"), ("t", "a", "y")}


def test_disclosed_cells_matches_the_attacker_on_a_hand_example():
    # cells a x, a y, b x, b y; row totals; col totals; grand
    values = np.array([1, 10, 6, 10, 11, 16, 7, 20, 27], dtype=float)
    eq = np.array(
        [
            [1, 1, 0, 0, -1, 0, 0, 0, 0],
            [0, 0, 1, 1, 0, -1, 0, 0, 0],
            [1, 0, 1, 0, 0, 0, -1, 0, 0],
            [0, 1, 0, 1, 0, 0, 0, -1, 0],
            [0, 0, 0, 0, 1, 1, 0, 0, -1],
            [0, 0, 0, 0, 0, 0, 1, 1, -1],
        ],
        dtype=float,
    )
    hidden = np.zeros(9, dtype=bool)
    hidden[0] = True
    assert disclosed_cells(values, hidden, eq).tolist() == [True] + [False] * 8
    hidden[[0, 1, 2, 3]] = True  # all four cells hidden: a 2x2 cycle, nothing pinned
    assert not disclosed_cells(values, hidden, eq).any()


def test_protect_table_by_hand():
    table = pd.DataFrame(
        [[1, 1, 10], [6, 7, 8], [0, 5, 9]], index=["a", "b", "c"], columns=["x", "y", "z"], dtype=float
    )
    out = protect_table(table)
    assert list(out.index) == ["a", "b", "c", ALL] and list(out.columns) == ["x", "y", "z", ALL]
    assert small_counts(out.to_numpy()) == 0
    assert out.loc["c", "x"] == 0  # zeros are shown
    assert out.loc[ALL, ALL] == 47
    assert np.isnan(out.loc["a", "x"]) and np.isnan(out.loc["a", "y"]) and np.isnan(out.loc["a", "z"])
    entries, eqs = table_entries("t", out)
    assert recoverable(entries, eqs) == []
    assert table.loc["a", "x"] == 1  # the input is not changed


def test_protect_table_rejects_bad_counts():
    with pytest.raises(ApgeoValueError, match=">= 0"):
        protect_table(pd.DataFrame([[1.0, -2.0]]))
    with pytest.raises(ApgeoValueError, match="reserved"):
        protect_table(pd.DataFrame([[1.0, 2.0]], columns=["all", "x"]))


@settings(max_examples=25, deadline=None)
@given(
    st.integers(min_value=2, max_value=6).flatmap(
        lambda r: st.integers(min_value=2, max_value=5).flatmap(
            lambda c: st.lists(
                st.one_of(st.just(0), st.integers(1, 4), st.integers(5, 30)), min_size=r * c, max_size=r * c
            ).map(lambda v: np.array(v, dtype=float).reshape(r, c))
        )
    )
)
def test_protected_tables_never_show_small_counts_or_leak(cells):
    out = protect_table(pd.DataFrame(cells))
    assert small_counts(out.to_numpy()) == 0
    shown = ~np.isnan(out.to_numpy()[:-1, :-1])
    assert np.array_equal(out.to_numpy()[:-1, :-1][shown], cells[shown])
    entries, eqs = table_entries("t", out)
    assert recoverable(entries, eqs) == []


# ======================================================================================
# Shared data: 1,000 synthetic placements through a temporary CSV
# ======================================================================================


@pytest.fixture(scope="module")
def ref(sheffield_demand, sheffield_providers, data_dir):
    schools = load_schools(data_dir=data_dir)
    lookup = PostcodeLookup.from_data_dir(data_dir)
    located, _ = split_located(sheffield_providers)
    return {
        "demand": sheffield_demand,
        "providers": sheffield_providers,
        "located": located,
        "schools": schools,
        "lookup": lookup,
    }


@pytest.fixture(scope="module")
def rows(ref, data_dir):
    return synthetic_placements(
        1000,
        random_state=SEED,
        as_of=AS_OF,
        demand=ref["demand"],
        providers=ref["providers"],
        schools=ref["schools"],
        data_dir=data_dir,
    )


def load(source, ref, **kwargs):
    return load_placements(
        source,
        as_of=kwargs.pop("as_of", AS_OF),
        providers=ref["providers"],
        schools=ref["schools"],
        demand=ref["demand"],
        lookup=ref["lookup"],
        **kwargs,
    )


@pytest.fixture(scope="module")
def placements(rows, ref, tmp_path_factory):
    path = tmp_path_factory.mktemp("placements") / "synthetic_placements.csv"
    rows.to_csv(path, index=False)
    return load(path, ref)


@pytest.fixture(scope="module")
def travel_times(ref):
    parts = []
    for mode in ("walk", "drive"):
        tt = straight_line_travel_times(
            demand_points(ref["demand"]),
            ref["located"],
            origin_id_column="area_id",
            destination_id_column="site_id",
            mode=mode,
        )
        parts.append(tt.assign(mode=mode))
    return pd.concat(parts, ignore_index=True)


@pytest.fixture(scope="module")
def placement_times(placements, travel_times, ref):
    return placement_travel_times(
        placements, travel_times, mode="drive", providers=ref["providers"], demand=ref["demand"]
    )


@pytest.fixture(scope="module")
def published(placement_times, ref):
    return publish_placement_tables(
        placement_times, providers=ref["providers"], schools=ref["schools"]
    )


# ======================================================================================
# Synthetic generator
# ======================================================================================


def test_synthetic_placements_are_seeded_labelled_and_plausible(rows, ref, data_dir):
    assert len(rows) == 1000
    assert rows["synthetic"].all() and rows.attrs["synthetic"] is True
    assert rows.attrs["title"].startswith("SYNTHETIC")
    again = synthetic_placements(
        50, random_state=SEED, as_of=AS_OF, demand=ref["demand"], providers=ref["providers"],
        schools=ref["schools"], data_dir=data_dir,
    )
    same = synthetic_placements(
        50, random_state=SEED, as_of=AS_OF, demand=ref["demand"], providers=ref["providers"],
        schools=ref["schools"], data_dir=data_dir,
    )
    other = synthetic_placements(
        50, random_state=SEED + 1, as_of=AS_OF, demand=ref["demand"], providers=ref["providers"],
        schools=ref["schools"], data_dir=data_dir,
    )
    pd.testing.assert_frame_equal(again, same)
    assert not again.equals(other)
    # sites serve the key stage; schools are mainstream of a matching phase
    stages = dict(zip(ref["providers"]["site_id"], ref["providers"]["key_stages"]))
    assert all(ks in stages[s] for s, ks in zip(rows["site_id"], rows["key_stage"]))
    schools = ref["schools"]
    assert schools.loc[rows["school_urn"], "mainstream"].all()
    primary = rows["key_stage"].isin(["KS1", "KS2"])
    assert set(schools.loc[rows.loc[primary, "school_urn"], "education_phase"]) <= {"Primary", "All-through", "Middle deemed primary"}
    # start dates within two years before as_of; KS3/KS4 dominate
    start = pd.to_datetime(rows["start_date"]).dt.date
    assert (start <= AS_OF).all() and (start > AS_OF - dt.timedelta(days=731)).all()
    assert rows["key_stage"].isin(["KS3", "KS4"]).mean() > 0.6
    # every home postcode is real and geocodes to a Sheffield LSOA
    located = ref["lookup"].locate(rows["home_postcode"])
    assert located["lsoa11cd"].isin(set(ref["demand"]["area_id"])).all()
    # need weighting: more placements from the most deprived IDACI decile than the least
    idaci = located["lsoa11cd"].map(ref["demand"].set_index("area_id")["idaci_decile"])
    assert (idaci <= 2).sum() > 3 * (idaci >= 9).sum()


# ======================================================================================
# Loading: aggregation and validation
# ======================================================================================


def test_loading_keeps_only_lsoa_level_counts(placements, rows):
    assert list(placements.columns) == [
        "area_id", "school_urn", "provider_id", "site_id", "key_stage", "placements", "sessions_per_week_total",
    ]
    assert int(placements["placements"].sum()) == 1000
    assert placements["sessions_per_week_total"].sum() == rows["sessions_per_week"].sum()
    assert not placements.duplicated(["area_id", "school_urn", "site_id", "key_stage"]).any()
    assert placements.attrs["synthetic"] is True and placements.attrs["rows_counted"] == 1000
    assert placements.attrs["title"].startswith("SYNTHETIC")
    # nothing below LSOA level: no postcode anywhere, not even in attrs
    text = placements.to_csv() + repr(placements.attrs)
    assert not any(pc in text for pc in rows["home_postcode"].head(50))


def good_rows(ref) -> pd.DataFrame:
    """Five valid rows; tests break one thing at a time."""
    lsoa_pc = ref["lookup"].table
    live = lsoa_pc[(lsoa_pc["status"] == "live") & lsoa_pc["lsoa11cd"].isin(set(ref["demand"]["area_id"]))]
    pcs = list(live.index[:5])
    return pd.DataFrame(
        {
            "Home Postcode": [pc.lower().replace(" ", "") for pc in pcs],
            "School URN": ["107033", "107033", "139856", "139856", "139856"],
            "Site ID": ["URN137596-1"] * 5,
            "Key Stage": ["KS3", "3", "ks4", "Key Stage 4", "KS4"],
            "Start Date": ["2024-09-02", "02/09/2024", "2025-01-06", "2025-03-31", "2023-11-20"],
            "Sessions per week": ["10", "5", "4", "8", "2"],
        }
    )


def test_headers_dates_and_key_stages_are_normalised(ref):
    out = load(good_rows(ref), ref)
    assert out["placements"].sum() == 5
    assert set(out["key_stage"]) == {"KS3", "KS4"}
    assert out.attrs["synthetic"] is False
    assert not out.attrs["title"].startswith("SYNTHETIC")


def test_provider_by_id_or_urn_resolves_to_its_only_site(ref):
    frame = good_rows(ref).drop(columns="Site ID")
    frame["provider_id"] = ["URN137596", "137596", "URN137596", "137596", "URN137596"]
    out = load(frame, ref)
    assert set(out["site_id"]) == {"URN137596-1"}


def test_home_lsoa_instead_of_postcode(ref):
    frame = good_rows(ref).drop(columns="Home Postcode")
    frame["home_lsoa"] = ref["demand"]["area_id"].iloc[:5].to_numpy()
    out = load(frame, ref)
    assert sorted(out["area_id"]) == sorted(ref["demand"]["area_id"].iloc[:5])


@pytest.mark.parametrize(
    ("column", "row", "value", "message"),
    [
        ("School URN", 1, "999999", r"'school_urn' is not a school in the GIAS extract \(e\.g\. URN 999999\) at row\(s\) 3"),
        ("Site ID", 2, "NOPE-1", r"'site_id' is not a known provider site \(e\.g\. NOPE-1\) at row\(s\) 4"),
        ("Start Date", 3, "2025-04-01", r"'start_date' is after as_of \(2025-03-31\) at row\(s\) 5"),
        ("Start Date", 0, "yesterday", r"'start_date' is empty or not a date .* at row\(s\) 2"),
        ("Key Stage", 4, "KS9", r"'key_stage' is not one of KS1..KS5 at row\(s\) 6"),
        ("Sessions per week", 0, "11", r"'sessions_per_week' .* at row\(s\) 2"),
        ("Sessions per week", 1, "many", r"'sessions_per_week' .* at row\(s\) 3"),
    ],
)
def test_bad_values_are_reported_with_row_numbers_and_no_postcode(ref, column, row, value, message):
    frame = good_rows(ref)
    frame.loc[row, column] = value
    with pytest.raises(ApgeoValueError, match=message) as err:
        load(frame, ref)
    for pc in good_rows(ref)["Home Postcode"]:
        assert pc.upper() not in str(err.value).replace(" ", "")


def test_every_problem_is_listed_at_once(ref):
    frame = good_rows(ref)
    frame.loc[0, "School URN"] = "999999"
    frame.loc[4, "Start Date"] = "2030-01-01"
    with pytest.raises(ApgeoValueError, match="2 problem") as err:
        load(frame, ref)
    assert "row(s) 2" in str(err.value) and "row(s) 6" in str(err.value)


def test_duplicate_rows_are_an_error_or_dropped_with_a_warning(ref):
    frame = pd.concat([good_rows(ref), good_rows(ref).iloc[[1]]], ignore_index=True)
    with pytest.raises(ApgeoValueError, match=r"repeat an earlier row exactly \(rows 3 = 7\)"):
        load(frame, ref)
    with pytest.warns(ApgeoWarning, match=r"1 duplicate row\(s\) dropped \(rows 3 = 7\)"):
        out = load(frame, ref, duplicates="drop")
    assert out["placements"].sum() == 5


def test_unplaceable_postcodes_warn_with_rows_only(ref):
    frame = good_rows(ref)
    frame.loc[2, "Home Postcode"] = "ZZ99 9ZZ"
    frame.loc[3, "Home Postcode"] = "not a postcode"
    with pytest.warns(ApgeoWarning, match=r"2 row\(s\) have no home postcode or LSOA .*row\(s\) 4, 5") as rec:
        out = load(frame, ref)
    assert out["placements"].sum() == 3
    text = " ".join(str(w.message) for w in rec)
    assert "ZZ99" not in text and "not a postcode" not in text
    for pc in good_rows(ref)["Home Postcode"]:
        assert pc.upper() not in text.replace(" ", "")
    with pytest.raises(ApgeoError, match="strict=True"):
        load(frame, ref, strict=True)


def test_homes_outside_the_study_area_are_left_out(ref):
    frame = good_rows(ref).drop(columns="Home Postcode")
    frame["home_lsoa"] = [*ref["demand"]["area_id"].iloc[:4], "E01000001"]
    with pytest.warns(ApgeoWarning, match=r"outside the study area.*row\(s\) 6"):
        out = load(frame, ref)
    assert out["placements"].sum() == 4


def test_site_not_serving_the_key_stage_warns(ref):
    frame = good_rows(ref)
    frame.loc[0, "Site ID"] = "URN143052-1"  # primary AP hub, KS1-KS2 only; row is KS3
    with pytest.warns(ApgeoWarning, match=r"does not list the pupil's key stage \(row\(s\) 2\)"):
        load(frame, ref)


def test_missing_columns_and_mixed_synthetic_flags(ref):
    with pytest.raises(MissingColumnError, match="key_stage"):
        load(good_rows(ref).drop(columns="Key Stage"), ref)
    with pytest.raises(MissingColumnError, match="home_postcode"):
        load(good_rows(ref).drop(columns="Home Postcode"), ref)
    frame = good_rows(ref)
    frame["synthetic"] = [True, True, False, True, True]
    with pytest.raises(ApgeoValueError, match="never mix synthetic and real"):
        load(frame, ref)
    with pytest.raises(ApgeoValueError, match="as_of"):
        load(good_rows(ref), ref, as_of="31/03/2025")


def test_excel_files_are_read(ref, tmp_path):
    pytest.importorskip("openpyxl")
    path = tmp_path / "placements.xlsx"
    good_rows(ref).to_excel(path, index=False)
    assert load(path, ref)["placements"].sum() == 5
    with pytest.raises(ApgeoValueError, match="unsupported file type"):
        (tmp_path / "p.json").write_text("{}")
        load(tmp_path / "p.json", ref)


# ======================================================================================
# Travel burden on a hand-checkable example
# ======================================================================================


def tiny():
    """Two areas, three sites (minutes): A: s1 10, s2 40, s3 70; B: s1 50, s2 20, s3 -.

    s1 serves KS3, s2 KS3+KS4, s3 KS4. Placements: A->s2 KS3 x2, A->s3 KS4 x3, B->s1 KS3 x4,
    B->s3 KS4 x1 (no time).
    """
    providers = pd.DataFrame(
        {
            "site_id": ["s1", "s2", "s3"],
            "provider_id": ["p1", "p2", "p3"],
            "name": ["One", "Two", "Three"],
            "kind": ["pru", "special_school", "pru"],
            "key_stages": ["KS3", "KS3,KS4", "KS4"],
        }
    )
    demand = pd.DataFrame({"area_id": ["A", "B"], "imd_decile": [1.0, 10.0], "idaci_decile": [1.0, 9.0]})
    tt = pd.DataFrame(
        {
            "origin_id": ["A", "A", "A", "B", "B"],
            "destination_id": ["s1", "s2", "s3", "s1", "s2"],
            "travel_time_s": [600.0, 2400.0, 4200.0, 3000.0, 1200.0],
        }
    )
    placements = pd.DataFrame(
        {
            "area_id": ["A", "A", "B", "B"],
            "school_urn": ["u1", "u1", "u2", "u2"],
            "provider_id": ["p2", "p3", "p1", "p3"],
            "site_id": ["s2", "s3", "s1", "s3"],
            "key_stage": ["KS3", "KS4", "KS3", "KS4"],
            "placements": [2, 3, 4, 1],
        }
    )
    return placements, tt, providers, demand


def test_travel_and_excess_time_by_hand():
    placements, tt, providers, demand = tiny()
    out = placement_travel_times(placements, tt, mode="drive", providers=providers, demand=demand)
    assert out["travel_time_s"].tolist()[:3] == [2400.0, 4200.0, 3000.0]
    assert np.isnan(out["travel_time_s"].iloc[3])
    assert out["nearest_suitable_site_id"].tolist() == ["s1", "s2", "s2", "s2"]
    assert out["nearest_suitable_time_s"].tolist() == [600.0, 2400.0, 1200.0, 1200.0]
    assert out["excess_time_s"].tolist()[:3] == [1800.0, 1800.0, 1800.0]
    assert out["kind"].tolist() == ["special_school", "pru", "pru", "pru"]
    assert out["imd_decile"].tolist() == [1.0, 1.0, 10.0, 10.0]
    with pytest.raises(ApgeoValueError, match="no rows for mode 'bus'"):
        placement_travel_times(placements, tt.assign(mode="drive"), mode="bus", providers=providers, demand=demand)


def test_burden_bands_and_shares_by_hand():
    placements, tt, providers, demand = tiny()
    pt = placement_travel_times(placements, tt, mode="drive", providers=providers, demand=demand)
    # threshold 1: nothing hidden; statistics rules off to see the means of these tiny groups
    out = burden_table(pt, by="key_stage", threshold=1, check_statistics=False)
    # with the rules, no mean or median of fewer than 10 placements
    assert burden_table(pt, by="key_stage", threshold=1)["mean_travel_time_s"].isna().all()
    ks3, ks4, total = (out.set_index("group").loc[g] for g in ("KS3", "KS4", ALL))
    # KS3: 2 at 40 min, 4 at 50 min; KS4: 3 at 70 min, 1 without a time
    assert [ks3[c] for c in band_columns()] == [0, 2, 4, 0, 0]
    assert [ks4[c] for c in band_columns()] == [0, 0, 0, 3, 1]
    assert ks3["share_over_30_min"] == 1.0 and ks3["share_over_45_min"] == pytest.approx(4 / 6)
    assert ks4["share_over_60_min"] == 1.0  # among the 3 with a time
    assert ks3["mean_travel_time_s"] == pytest.approx((2 * 2400 + 4 * 3000) / 6)
    assert ks3["median_travel_time_s"] == 3000.0
    assert total["placements"] == 10
    assert ks3["group_name"] == "Key stage 3" and total["group_name"] == "All placements"
    # with the usual threshold of 5, the small table is almost entirely hidden
    safe = burden_table(pt, by="key_stage")
    assert small_counts(safe[[*band_columns(), "placements"]].to_numpy()) == 0
    assert safe["mean_travel_time_s"].iloc[:2].isna().all()
    with pytest.raises(ApgeoValueError, match="by must be one of"):
        burden_table(pt, by="ward")  # type: ignore[arg-type]
    with pytest.raises(ApgeoValueError, match="thresholds_min"):
        burden_table(pt, thresholds_min=(45, 30))


# ======================================================================================
# End to end: 1,000 synthetic placements
# ======================================================================================

COUNT_PREFIX = "placements"


def test_every_published_table_is_labelled_and_has_no_small_counts(published):
    assert set(published) == {
        "burden_key_stage", "burden_kind", "burden_imd_decile", "burden_school_urn",
        "furthest_schools", "flow_matrix", "flow_lines",
    }
    for name, table in published.items():
        assert table.attrs["synthetic"] is True, name
        assert table.attrs["title"].startswith("SYNTHETIC DATA"), name
        counts = table[[c for c in table.columns if str(c).startswith(COUNT_PREFIX)]] if name != "flow_matrix" else table
        assert small_counts(counts.to_numpy()) == 0, name
        assert "home_postcode" not in table.columns and "area_id" not in table.columns


def test_burden_tables_make_sense(published, placement_times):
    ks = published["burden_key_stage"].set_index("group")
    assert list(ks.index) == ["KS1", "KS2", "KS3", "KS4", "KS5", ALL]
    assert ks.loc[ALL, "placements"] == 1000
    for table in (published[k] for k in ("burden_key_stage", "burden_kind", "burden_imd_decile")):
        shares = table[[c for c in table.columns if c.startswith("share_over_")]]
        assert ((shares >= 0) & (shares <= 1) | shares.isna()).all().all()
        # a share is shown only when it follows from shown counts
        bands = band_columns()
        for _, row in table.iterrows():
            for k, t in enumerate((30, 45, 60)):
                if not np.isnan(row[f"share_over_{t}_min"]):
                    above = [row[c] for c in bands[k + 1 : -1]]
                    below = [row[c] for c in bands[: k + 1]]
                    assert not np.isnan(above).any() or not np.isnan(below).any()
        # means only where at least 10 placements with a time are shown and no count is blank
        shown = table["mean_travel_time_s"].notna()
        assert (~shown | (table["placements"] - table["placements_no_time"] >= 10)).all()
        assert not table.loc[shown, [c for c in table.columns if c.startswith("placements")]].isna().any().any()
    assert (placement_times["excess_time_s"].dropna() >= -1e-9).all()


def test_furthest_schools_are_ranked_and_hide_small_schools(published):
    top = published["furthest_schools"]
    assert 0 < len(top) <= 10
    assert top["mean_travel_time_s"].is_monotonic_decreasing
    assert (top["placements"] >= 10).all()
    assert top.attrs["schools_not_shown"] > 0
    assert top["school_name"].str.len().gt(0).all()
    with pytest.raises(ApgeoValueError, match="school_urn"):
        furthest_schools(published["burden_key_stage"])


def test_flow_matrix_and_lines(published, placement_times, ref):
    matrix = published["flow_matrix"]
    assert matrix.loc[ALL, ALL] == 1000
    cells = matrix.drop(index=ALL, columns=ALL)
    truth = placement_times.pivot_table(
        index="school_urn", columns="provider_id", values="placements", aggfunc="sum", fill_value=0
    )
    shown = cells.notna().to_numpy()
    assert np.array_equal(cells.to_numpy()[shown], truth.loc[cells.index, cells.columns].to_numpy()[shown])
    lines = published["flow_lines"]
    assert set(lines.columns) >= {"school_urn", "destination_id", "placements", "suppressed", "school_easting"}
    assert len(lines) == int((truth.to_numpy() > 0).sum())
    drawn = lines[~lines["suppressed"]]
    assert len(drawn) > 0 and (drawn["placements"] >= 5).all()
    assert lines["destination_easting"].notna().all()
    # the standalone matrix is safe on its own too
    alone = flow_matrix(placement_times, level="site")
    assert small_counts(alone.to_numpy()) == 0
    entries, eqs = table_entries("f", alone)
    assert recoverable(entries, eqs) == []
    assert len(flow_lines(alone, providers=ref["providers"], schools=ref["schools"])) > 0


def cross_table_attack(published: dict[str, pd.DataFrame]) -> tuple[int, list]:
    """The attacker combining every published table: ``(hidden entries, recovered)``."""
    entries: dict = {}
    eqs: list = []
    for name in ("burden_key_stage", "burden_kind", "burden_imd_decile", "burden_school_urn"):
        e, q = table_entries(name, burden_as_wide(published[name]))
        entries |= e
        eqs += q
    e, q = table_entries("flow", published["flow_matrix"])
    entries |= e
    eqs += q
    # links between tables: same quantity, published (or hidden) in two places
    bands = [*band_columns(), ALL]
    for name in ("burden_kind", "burden_imd_decile", "burden_school_urn"):
        for c in bands:
            eqs.append(({("burden_key_stage", ALL, c): 1.0, (name, ALL, c): -1.0}, 0.0))
    eqs.append(({("burden_key_stage", ALL, ALL): 1.0, ("flow", ALL, ALL): -1.0}, 0.0))
    for school in published["flow_matrix"].index.drop(ALL):
        eqs.append(({("burden_school_urn", school, ALL): 1.0, ("flow", school, ALL): -1.0}, 0.0))
    kinds = published["flow_lines"].attrs  # level attr only; kinds come from the tables
    assert kinds["level"] == "provider_id"
    kind_of = {}
    for kind in published["burden_kind"]["group"]:
        if kind != ALL:
            kind_of[kind] = []
    from apgeo.inputs.providers import load_sheffield_providers

    prov = load_sheffield_providers()
    provider_kind = dict(zip(prov["provider_id"], prov["kind"]))
    for pid in published["flow_matrix"].columns.drop(ALL):
        kind_of[provider_kind[pid]].append(pid)
    for kind, pids in kind_of.items():
        coefs = {("flow", ALL, p): 1.0 for p in pids}
        coefs[("burden_kind", kind, ALL)] = -1.0
        eqs.append((coefs, 0.0))
    n_hidden = sum(np.isnan(v) for v in entries.values())
    return n_hidden, recoverable(entries, eqs)


def test_no_suppressed_cell_can_be_recovered_from_all_published_totals(published):
    """The attacker combines every table: burden tables share band totals and the grand
    total; the by-school burden table and the flow matrix share school totals; the by-kind
    table gives sums of provider totals. Nothing suppressed can be worked out."""
    n_hidden, found = cross_table_attack(published)
    assert n_hidden > 50  # there is something to attack
    assert found == []


def test_flow_map_of_the_published_flows(published, tmp_path):
    from apgeo.outputs.flow_map import flow_map
    from apgeo.outputs.maps import save_map

    html = save_map(flow_map(published["flow_lines"], title="Flows", tiles=None), tmp_path / "f.html").read_text()
    assert "SYNTHETIC DATA - Flows" in html
    assert html.count("L.polyline(") == int((~published["flow_lines"]["suppressed"]).sum())


def test_walk_burden_is_heavier_than_drive(placements, travel_times, ref):
    walk = placement_travel_times(placements, travel_times, mode="walk", providers=ref["providers"], demand=ref["demand"])
    drive = placement_travel_times(placements, travel_times, mode="drive", providers=ref["providers"], demand=ref["demand"])
    bw = burden_table(walk, by="key_stage").set_index("group")
    bd = burden_table(drive, by="key_stage").set_index("group")
    assert bw.loc[ALL, "share_over_30_min"] > bd.loc[ALL, "share_over_30_min"]
    assert bw.attrs["synthetic"] is True and bw["mode"].eq("walk").all()


def test_nothing_is_printed_or_warned(placements, travel_times, ref, capsys):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pt = placement_travel_times(placements, travel_times, mode="drive", providers=ref["providers"], demand=ref["demand"])
        burden_table(pt, by="imd_decile")
    assert capsys.readouterr().out == ""


# ======================================================================================
# Regression: suppression always ends with a safe table
# ======================================================================================


def attack_with_groups(out: pd.DataFrame, cells: np.ndarray, groups: dict) -> list:
    """The attacker of one table that also knows the column-group sums published
    elsewhere, except those the table says must be suppressed there."""
    entries, eqs = table_entries("t", out)
    must_hide = out.attrs["hidden_column_groups"]
    for key, members in groups.items():
        coefs = {("t", ALL, c): 1.0 for c in members}
        total = float(cells[:, list(members)].sum())
        if key in must_hide:
            entries[("g", key, ALL)] = np.nan if total > 0 else 0.0
            coefs[("g", key, ALL)] = -1.0
            eqs.append((coefs, 0.0))
        else:
            eqs.append((coefs, total))
    return recoverable(entries, eqs)


def test_a_total_pinned_by_a_published_sum_hides_that_sum():
    """Once failed ("could not protect the table"): a hidden column total equal to a sum
    published elsewhere, or a hidden grand total equal to the sum of such sums, cannot be
    protected by this table; the sum is marked for suppression where it is published."""
    cells = np.array([[10.0, 20.0], [30.0, 40.0]])
    out = protect_table(pd.DataFrame(cells), hidden_columns=[0], column_groups={"g": [0]})
    assert np.isnan(out.loc[ALL, 0])
    assert out.attrs["hidden_column_groups"] == ["g"] and "g" in out.attrs["note"]
    assert attack_with_groups(out, cells, {"g": [0]}) == []
    groups = {"g1": [0], "g2": [1]}
    out = protect_table(pd.DataFrame(cells), hide_total=True, column_groups=groups)
    assert np.isnan(out.loc[ALL, ALL]) and len(out.attrs["hidden_column_groups"]) >= 1
    assert attack_with_groups(out, cells, groups) == []
    # nothing to do: no note
    out = protect_table(pd.DataFrame(cells), column_groups=groups)
    assert out.attrs["hidden_column_groups"] == [] and "note" not in out.attrs


@settings(max_examples=25, deadline=None)
@given(
    st.integers(min_value=2, max_value=5).flatmap(
        lambda r: st.integers(min_value=2, max_value=5).flatmap(
            lambda c: st.tuples(
                st.lists(
                    st.one_of(st.just(0), st.integers(1, 4), st.integers(5, 30)), min_size=r * c, max_size=r * c
                ).map(lambda v: np.array(v, dtype=float).reshape(r, c)),
                st.lists(st.integers(0, c), min_size=c, max_size=c),  # group of each column (c: none)
                st.sets(st.integers(0, c - 1), max_size=c),
                st.sets(st.integers(0, r - 1), max_size=r),
                st.booleans(),
            )
        )
    )
)
def test_protect_table_always_ends_safe_with_linked_sums(case):
    cells, group_of, hidden_columns, hidden_rows, hide_total = case
    groups = {f"g{g}": [j for j, k in enumerate(group_of) if k == g] for g in set(group_of) if g < cells.shape[1]}
    out = protect_table(
        pd.DataFrame(cells),
        hidden_rows=hidden_rows,
        hidden_columns=hidden_columns,
        hide_total=hide_total,
        column_groups=groups,
    )
    assert small_counts(out.to_numpy()) == 0
    shown = ~np.isnan(out.to_numpy()[:-1, :-1])
    assert np.array_equal(out.to_numpy()[:-1, :-1][shown], cells[shown])
    assert set(out.attrs["hidden_column_groups"]) <= set(groups)
    assert attack_with_groups(out, cells, groups) == []


def published_for(seed: int, n: int, mode: str, ref, travel_times) -> dict[str, pd.DataFrame]:
    rows = synthetic_placements(
        n, random_state=seed, as_of=AS_OF, demand=ref["demand"], providers=ref["providers"], schools=ref["schools"]
    )
    placements = load(rows, ref)
    pt = placement_travel_times(placements, travel_times, mode=mode, providers=ref["providers"], demand=ref["demand"])
    return publish_placement_tables(pt, providers=ref["providers"], schools=ref["schools"])


def check_published(published: dict[str, pd.DataFrame]) -> None:
    for name, table in published.items():
        counts = table if name == "flow_matrix" else table[[c for c in table.columns if str(c).startswith(COUNT_PREFIX)]]
        assert small_counts(counts.to_numpy()) == 0, name
    # sums the flow matrix needed hidden are hidden where they are published
    kind = published["burden_kind"].set_index("group")
    for d, g in published["flow_matrix"].attrs.get("hidden_column_groups", []):
        assert d == "kind" and np.isnan(kind.loc[g, PLACEMENTS])
    _, found = cross_table_attack(published)
    assert found == []


def test_seed_1_drive_publishes_safely(ref, travel_times):
    """Seed 1, drive: once raised "suppression could not protect the table". The grand
    total, hidden in every table, equalled the sum of the provider-kind totals the flow
    matrix assumed published; no cell of the matrix could protect it. That grand total
    is now published (1,000 placements: see the next test); 500 placements still need
    provider-kind totals hidden in the burden table to protect the matrix."""
    published = published_for(1, 500, "drive", ref, travel_times)
    check_published(published)
    flow = published["flow_matrix"]
    assert flow.attrs["hidden_column_groups"] and "suppressed in the burden tables" in flow.attrs["note"]


@pytest.mark.parametrize(("seed", "n", "mode"), [(1, 1000, "drive"), (0, 200, "walk"), (3, 80, "drive")])
def test_the_grand_total_is_published(ref, travel_times, seed, n, mode):
    """Secondary suppression hides a grand total only as a last resort (planners need the
    number of placements): these runs once hid it in every table, because it was picked
    for a disclosure that other cells could stop (or that was already stopped)."""
    published = published_for(seed, n, mode, ref, travel_times)
    check_published(published)
    for name, table in published.items():
        if name.startswith("burden_"):
            assert table.loc[table["group"] == ALL, PLACEMENTS].tolist() == [n], name
    assert published["flow_matrix"].loc[ALL, ALL] == n


@settings(max_examples=3, deadline=None)
@given(st.integers(min_value=0, max_value=10**6), st.integers(min_value=40, max_value=150), st.sampled_from(["drive", "walk"]))
@example(seed=2, n=40, mode="walk")  # tables audited one by one leaked together here
def test_publishing_always_ends_safe(ref, travel_times, seed, n, mode):
    check_published(published_for(seed, n, mode, ref, travel_times))
