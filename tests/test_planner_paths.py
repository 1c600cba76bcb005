"""A planner's own paths through the public API and files: no plausible wrong answer
without a message (labels that travel with tables, AP kinds, defaults, files as Excel
writes them, outputs)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from _tiny import MIN, tiny_tables

from apgeo._errors import ApgeoValueError, ApgeoWarning
from apgeo.analysis.access import enhanced_two_step_fca
from apgeo.analysis.coldspots import access_coldspots
from apgeo.analysis.coverage import choice_counts, coverage_summary, equity_table, nearest_times
from apgeo.planning.scenarios import Scenario, compare_scenarios

STRAIGHT = "STRAIGHT-LINE ESTIMATE, not a street network: crow-fly distance x 1.3 at 4.8 km/h (walk)"


def _quiet(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ApgeoWarning)
        return fn(*args, **kwargs)


def _labelled() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The tiny tables, the travel times labelled as the straight-line fallback labels them."""
    tt, dem, prov = tiny_tables()
    tt.attrs["method"] = STRAIGHT
    tt.attrs["mode"] = "walk"
    return tt, dem, prov


# ---- 1. the method travels with every table ---------------------------------------------


@pytest.mark.parametrize(
    "fn",
    [coverage_summary, nearest_times, choice_counts, equity_table, enhanced_two_step_fca, access_coldspots],
)
def test_derived_tables_carry_method_and_mode(fn) -> None:  # type: ignore[no-untyped-def]
    tt, dem, prov = _labelled()
    out = _quiet(fn, tt, dem, prov, mode="walk", key_stages=["KS2", "KS3"])
    assert out.attrs["method"] == STRAIGHT and out.attrs["mode"] == "walk"
    assert (out["travel_time_method"] == STRAIGHT).all()
    csv = out.to_csv(index=False)
    assert "STRAIGHT-LINE ESTIMATE" in csv  # the caveat survives the export


def test_method_column_of_a_table_read_back_from_csv() -> None:
    tt, dem, prov = tiny_tables()
    tt = tt.assign(method=STRAIGHT)  # as the study's travel_times_walk.csv reads back
    out = _quiet(coverage_summary, tt, dem, prov, mode="walk", key_stages=["KS3"])
    assert out.attrs["method"] == STRAIGHT
    assert list(out.columns[:2]) == ["mode", "travel_time_method"]


def test_walk_times_passed_as_drive_are_caught() -> None:
    tt, dem, prov = _labelled()
    with pytest.raises(ApgeoValueError, match=r"computed for mode 'walk'.*mode='drive' was passed"):
        coverage_summary(tt, dem, prov, mode="drive", key_stages=["KS3"])


def test_straight_line_table_knows_its_mode() -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    from apgeo.routing.straight_line import straight_line_travel_times

    pts = gpd.GeoDataFrame({"id": ["a"]}, geometry=[Point(435_000, 387_000)], crs="EPSG:27700")
    sites = gpd.GeoDataFrame({"site_id": ["s"]}, geometry=[Point(436_000, 387_000)], crs="EPSG:27700")
    tt = straight_line_travel_times(pts, sites, origin_id_column="id", destination_id_column="site_id", mode="cycle")
    assert tt.attrs["mode"] == "cycle" and "STRAIGHT-LINE" in tt.attrs["method"]


def test_table_without_labels_gains_no_column() -> None:
    tt, dem, prov = tiny_tables()
    out = _quiet(coverage_summary, tt, dem, prov, mode="bus", key_stages=["KS3"])
    assert "travel_time_method" not in out.columns and out.attrs["method"] is None


# ---- 2. which sites count as AP ---------------------------------------------------------


def _with_special_school() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Tiny tables plus a special school next to every area (AP-adjacent, never AP)."""
    tt, dem, prov = tiny_tables()
    special = pd.DataFrame(
        {"site_id": ["x9"], "provider_id": ["p9"], "name": ["Special Nine"], "kind": ["special_school"],
         "key_stages": ["KS1,KS2,KS3,KS4"], "capacity_places": [np.nan]}
    )
    rows = pd.DataFrame({"origin_id": list("ABCD"), "destination_id": "x9", "travel_time_s": 1 * MIN})
    return pd.concat([tt, rows], ignore_index=True), dem, pd.concat([prov, special], ignore_index=True)


def test_special_schools_are_not_counted_as_ap_by_default() -> None:
    tt, dem, prov = _with_special_school()
    ap = _quiet(coverage_summary, tt, dem, prov, mode="walk", key_stages=["KS3"])
    everyone = _quiet(coverage_summary, tt, dem, prov, mode="walk", key_stages=["KS3"], kinds=None)
    assert ap.attrs["kinds"] != "all" and "special_school" not in ap.attrs["kinds"]
    # the special school is within 1 min of everyone: only kinds=None counts it
    assert everyone.loc[0, "children_within_15_min"] == 100
    assert ap.loc[0, "children_within_15_min"] == 30  # A reaches s3 (5 min)


def test_closing_the_inclusion_centre_shows_with_default_arguments() -> None:
    tt, dem, prov = _with_special_school()
    close = Scenario("close the centre").close_site("s3")
    out = _quiet(compare_scenarios, tt, dem, prov, close, mode="walk", key_stages=["KS3"])
    row = out[(out["metric"] == "children within 30 min") & (out["key_stage"] == "all")].iloc[0]
    assert row["change"] == -40  # area C's 40 KS3 children lose their 25-minute site (s1: 50 min)
    assert out.attrs["kinds"] != "all"


def test_closing_a_special_school_says_it_changes_nothing() -> None:
    tt, dem, prov = _with_special_school()
    out = _quiet(compare_scenarios, tt, dem, prov, Scenario("x").close_site("x9"), mode="walk", key_stages=["KS3"])
    assert (out["change"] == 0).all()
    assert any("x9" in n and "kinds=None" in n for n in out.attrs["notes"])


def test_closing_the_sheffield_inclusion_centre_reduces_walk_coverage(sheffield_demand, sheffield_providers) -> None:
    from apgeo.inputs.demand import demand_points
    from apgeo.inputs.providers import split_located
    from apgeo.routing.straight_line import straight_line_travel_times

    located, _ = split_located(sheffield_providers)  # every located site, special schools too
    tt = straight_line_travel_times(
        demand_points(sheffield_demand), located, origin_id_column="area_id", destination_id_column="site_id",
        mode="walk",
    )
    main_site = located.loc[located["kind"] == "inclusion_centre", "site_id"].iloc[0]
    out = _quiet(compare_scenarios, tt, sheffield_demand, located, Scenario("close").close_site(main_site), mode="walk")
    row = out[(out["metric"] == "children within 30 min") & (out["key_stage"] == "all")].iloc[0]
    assert row["change"] < -1000
    assert (out["travel_time_method"].str.startswith("STRAIGHT-LINE")).all()


def test_ap_kinds_are_one_definition() -> None:
    from apgeo.schema import AP_KIND_NAMES
    from apgeo.study.config import DEFAULT_AP_KINDS

    assert DEFAULT_AP_KINDS == AP_KIND_NAMES
    assert "special_school" not in AP_KIND_NAMES and "primary_ap_hub" in AP_KIND_NAMES


def test_only_special_schools_gives_an_error_naming_the_fix() -> None:
    tt, dem, prov = _with_special_school()
    only = prov[prov["kind"] == "special_school"]
    with pytest.raises(ApgeoValueError, match=r"pass kinds=None"):
        coverage_summary(tt[tt["destination_id"] == "x9"], dem, only, mode="walk", key_stages=["KS3"])


# ---- 3. defaults that surprise ----------------------------------------------------------


def test_default_key_stages_follow_the_providers() -> None:
    tt, dem, prov = tiny_tables()  # providers serve KS1-KS4, nobody KS5
    with warnings.catch_warnings():
        warnings.simplefilter("error", ApgeoWarning)  # no "no provider serves KS5" warning
        out = _quiet(coverage_summary, tt, dem, prov, mode="bus")
    assert out.attrs["key_stages"] == ["KS1", "KS2", "KS3", "KS4"]
    assert "KS5" not in set(out["key_stage"])


def test_default_key_stages_without_key_stage_column_are_ks1_to_ks4() -> None:
    from apgeo.analysis.tables import check_key_stages

    assert check_key_stages(None) == ("KS1", "KS2", "KS3", "KS4")
    # KS5 only when named: a site listing it does not add the 16-17 year olds
    assert check_key_stages(None, pd.DataFrame({"key_stages": ["KS3,KS4,KS5"]})) == ("KS3", "KS4")
    assert check_key_stages(None, pd.DataFrame({"key_stages": ["KS5"]})) == ("KS1", "KS2", "KS3", "KS4")


def test_places_per_1000_after_the_last_site_closes_is_zero() -> None:
    tt, dem, prov = tiny_tables()
    out = _quiet(
        compare_scenarios, tt, dem, prov, Scenario("close hub").close_site("s2"), mode="bus", key_stages=["KS2"]
    )
    row = out[out["metric"].str.startswith("E2SFCA") & (out["key_stage"] == "KS2")].iloc[0]
    assert row["before"] > 0 and row["after"] == 0


def test_recommend_sizes_sites_at_todays_rate() -> None:
    from test_recommend import _toy

    from apgeo.planning.recommend import recommend_sites

    tt, demand, existing, candidates = _toy()
    out = _quiet(recommend_sites, tt, demand, existing, candidates, mode="walk", key_stages=["KS3"], p=1,
                 weight_by="none")
    need = float(demand[[f"children_ks{k}" for k in (1, 2, 3, 4)]].to_numpy().sum())
    assert out.attrs["places_per_need"] == pytest.approx(40 / need)
    assert out.iloc[0]["places_suggested"] == round(out.iloc[0]["children_newly_within_t"] * 40 / need)
    assert "today's rate" in out.attrs["places_rule"]


# ---- 4. providers that cannot be right ----------------------------------------------------


def _sheffield_area():  # type: ignore[no-untyped-def]
    import geopandas as gpd
    from shapely.geometry import box

    return gpd.GeoDataFrame(geometry=[box(427_000, 380_000, 445_000, 398_000)], crs="EPSG:27700")


def test_provider_in_london_is_refused_naming_it() -> None:
    from apgeo.inputs.providers import read_providers

    frame = pd.DataFrame(
        {"provider_id": ["SHEF", "LOND"], "name": ["Local", "Far"], "kind": ["pru", "pru"],
         "easting": [435_000, 530_000], "northing": [387_000, 180_000]}
    )
    with pytest.raises(ApgeoValueError, match=r"more than 150 km.*LOND-1 \(2\d\d km\).*allow_far=True"):
        read_providers(frame, study_area=_sheffield_area())
    with pytest.warns(ApgeoWarning, match=r"more than 50 km.*LOND-1"):
        out = read_providers(frame, study_area=_sheffield_area(), allow_far=True)
    assert len(out) == 2


def test_provider_60_km_away_warns() -> None:
    from apgeo.inputs.providers import read_providers

    frame = pd.DataFrame(
        {"provider_id": ["NEAR"], "name": ["Leeds-ish"], "kind": ["pru"], "easting": [435_000], "northing": [460_000]}
    )
    with pytest.warns(ApgeoWarning, match=r"more than 50 km.*NEAR-1 \(62 km\)"):
        read_providers(frame, study_area=_sheffield_area())


def test_straight_line_refuses_a_destination_far_from_every_origin() -> None:
    import geopandas as gpd
    from shapely.geometry import Point

    from apgeo.routing.straight_line import straight_line_travel_times

    origins = gpd.GeoDataFrame({"id": ["a", "b"]}, geometry=[Point(430_000, 385_000), Point(440_000, 392_000)],
                               crs="EPSG:27700")
    sites = gpd.GeoDataFrame({"site_id": ["LONDON"]}, geometry=[Point(530_000, 180_000)], crs="EPSG:27700")
    with pytest.raises(ApgeoValueError, match=r"LONDON \(2\d\d km\)"):
        straight_line_travel_times(origins, sites, origin_id_column="id", destination_id_column="site_id", mode="walk")


def test_postcode_and_coordinates_that_disagree_warn_and_coordinates_win() -> None:
    from apgeo.inputs.geocode import PostcodeLookup
    from apgeo.inputs.providers import read_providers

    lookup = PostcodeLookup(
        pd.DataFrame({"easting": [435_300.0], "northing": [387_100.0], "lsoa11cd": ["E01"], "status": ["live"]},
                     index=pd.Index(["S1 2HE"], name="postcode"))
    )
    frame = pd.DataFrame(
        {"provider_id": ["A", "B"], "name": ["Agrees", "Disagrees"], "kind": ["pru", "pru"],
         "postcode": ["S1 2HE", "S1 2HE"], "easting": [435_350, 440_000], "northing": [387_100, 390_000]}
    )
    with pytest.warns(ApgeoWarning, match=r"row 3 \(B-1, S1 2HE\): 5\.5 km\); the coordinates were used"):
        out = read_providers(frame, lookup=lookup)
    assert out.geometry.iloc[1].x == 440_000
    assert "coordinates used" in out["location_note"].iloc[1]
    assert "disagrees" not in out["location_note"].iloc[0]



def test_two_runs_never_both_take_over_a_stale_lock(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Taking the lock is one atomic step: of two runs finding the same stale lock (both
    pausing a second after seeing it), exactly one gets the folder."""
    import socket
    import subprocess
    import sys
    import time
    from pathlib import Path

    from apgeo.outputs.lock import LOCK_NAME

    out = tmp_path / "reports"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    (out / LOCK_NAME).write_text(f"pid={int(dead.stdout)}\nhost={socket.gethostname()}\nstarted=x\nrun=crashed\n")
    go = tmp_path / "go"
    code = (
        "import sys, time, warnings\nfrom pathlib import Path\nimport apgeo.outputs.lock as L\n"
        "warnings.simplefilter('ignore')\n"
        "def slow(*a, **k):\n    time.sleep(1.0)\nL.warn = slow\n"
        "print('ready', flush=True)\n"
        f"while not Path({str(go)!r}).exists():\n    time.sleep(0.01)\n"
        "try:\n"
        f"    with L.output_lock({str(out)!r}):\n"
        "        print('got', flush=True)\n        time.sleep(2.0)\n"
        "except L.OutputFolderError:\n    print('refused', flush=True)\n"
    )
    root = Path(__file__).resolve().parents[1]
    runs = [
        subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, cwd=root,
                         env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
        for _ in range(2)
    ]
    for run in runs:
        assert run.stdout is not None and run.stdout.readline().strip() == "ready"
    go.touch()
    time.sleep(0.1)
    said = sorted(run.communicate(timeout=120)[0].strip() for run in runs)
    assert said == ["got", "refused"]
    assert not (out / LOCK_NAME).exists()

# ---- 8. what a planner reads ------------------------------------------------------------


def test_solving_prints_nothing() -> None:
    import subprocess
    import sys
    from pathlib import Path

    code = (
        "import warnings; warnings.simplefilter('ignore')\n"
        "import sys; sys.path.insert(0, 'tests')\n"
        "from test_recommend import _toy\n"
        "from apgeo.planning.recommend import recommend_sites\n"
        "tt, d, e, c = _toy()\n"
        "recommend_sites(tt, d, e, c, mode='walk', key_stages=['KS3'], p=1, weight_by='none', solver='highs')\n"
    )
    root = Path(__file__).resolve().parents[1]
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root,
                         env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"}, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "HiGHS" not in run.stdout and run.stdout == ""


# ---- 5. files as Excel writes them ------------------------------------------------------


def test_trailing_blank_rows_from_excel_are_not_providers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from apgeo.inputs.providers import read_providers

    path = tmp_path / "providers.csv"
    text = "provider_id,name,kind,easting,northing\r\nA,Alpha,pru,435000,387000\r\nB,Beta,pru,436000,388000\r\n"
    path.write_bytes(("\ufeff" + text + ",,,,\r\n,,,,\r\n   ,,,,\r\n").encode("utf-8"))  # BOM + Excel's blank rows
    out = read_providers(path)
    assert list(out["provider_id"]) == ["A", "B"]



def test_places_per_1000_stay_unknown_while_a_site_of_unknown_capacity_remains() -> None:
    tt, dem, prov = tiny_tables()
    prov = prov.assign(capacity_places=[np.nan, 6.0, 4.0])  # s1 (KS3, KS4) places unknown
    out = _quiet(
        compare_scenarios, tt, dem, prov, Scenario("close s3").close_site("s3"), mode="bus", key_stages=["KS3"]
    )
    row = out[out["metric"].str.startswith("E2SFCA") & (out["key_stage"] == "KS3")].iloc[0]
    assert row["before"] > 0 and np.isnan(row["after"])  # s1 still serves KS3: unknown, not 0


_TITLED = (
    "Sheffield City Council - Alternative Provision providers\r\n"
    "Produced 01/09/2024 by the Inclusion team,,,,,\r\n"
    ",,,,,\r\n"
    "Provider ID,Name,Type,Places,Latitude,Longitude\r\n"
    'P1,Alpha,pru,"1,200","53,3811","-1,4701"\r\n'
    "P2,Beta,pru, £12 ,53.39,-1.45\r\n"
)


def test_title_rows_above_the_header_are_skipped_and_the_row_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from apgeo.inputs.providers import read_providers

    path = tmp_path / "providers.csv"
    path.write_text(_TITLED, encoding="utf-8")
    with pytest.warns(ApgeoWarning, match=r"header is on row 4 \(rows 1-3 above it were skipped"):
        out = read_providers(path)
    assert list(out["provider_id"]) == ["P1", "P2"]
    assert list(out["capacity_places"]) == [1200.0, 12.0]  # "1,200" and " £12 " typed as text
    # "53,3811" / "-1,4701" with a decimal comma: central Sheffield, not 533811 degrees
    lonlat = out.to_crs("EPSG:4326").geometry.iloc[0]
    assert lonlat.y == pytest.approx(53.3811) and lonlat.x == pytest.approx(-1.4701)
    assert "'Places' read as 'capacity_places'" in out["source"].iloc[0]


def test_row_numbers_in_messages_count_the_title_rows(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from apgeo.inputs.providers import read_providers

    path = tmp_path / "providers.csv"
    path.write_text(_TITLED.replace(" £12 ", "twelve"), encoding="utf-8")
    with pytest.warns(ApgeoWarning, match="header is on row 4"):
        with pytest.raises(ApgeoValueError, match=r"'capacity_places' has non-numeric values at row\(s\) 6 \(e.g. 'twelve'\)"):
            read_providers(path)


@pytest.mark.parametrize("encoding,sep", [("utf-16", "\t"), ("cp1252", ";"), ("cp1252", ",")])
def test_unicode_text_and_windows_1252_exports(tmp_path, encoding, sep) -> None:  # type: ignore[no-untyped-def]
    from apgeo.inputs.providers import read_providers

    rows = [["provider_id", "name", "kind", "capacity_places", "easting", "northing"],
            ["P1", "Café £ Ltd", "pru", "1 200", "435000", "387000"]]
    path = tmp_path / "providers.txt"
    quote = '"' if sep == "," else ""
    path.write_bytes("\r\n".join(sep.join(f"{quote}{c}{quote}" for c in r) for r in rows).encode(encoding))
    out = read_providers(path)
    assert out["name"].iloc[0] == "Café £ Ltd" and out["capacity_places"].iloc[0] == 1200.0
    assert out.geometry.iloc[0].x == 435_000


def test_excel_provider_file_with_a_title_row(tmp_path) -> None:  # type: ignore[no-untyped-def]
    openpyxl = pytest.importorskip("openpyxl")
    from apgeo.inputs.providers import read_providers

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["AP providers, September 2024"])
    ws.append([])
    ws.append(["Provider", "Site", "Name", "Kind", "Capacity", "Easting", "Northing"])
    ws.append(["P1", "P1-a", "Alpha", "pru", 12, 435000, 387000])
    ws.append(["P1", "P1-b", "Alpha annex", "pru", "£8", "436,000", "388,000"])
    ws.append([None, None, None, None, None, None, None])
    path = tmp_path / "providers.xlsx"
    wb.save(path)
    with pytest.warns(ApgeoWarning, match=r"providers.xlsx: the header is on row 3"):
        out = read_providers(path)
    assert list(out["site_id"]) == ["P1-a", "P1-b"] and list(out["provider_id"]) == ["P1", "P1"]
    assert list(out["capacity_places"]) == [12.0, 8.0] and out.geometry.iloc[1].x == 436_000


def test_old_excel_format_names_the_fix(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from apgeo.inputs.providers import read_providers

    path = tmp_path / "providers.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0")
    with pytest.raises(ApgeoValueError, match=r"old Excel .xls format.*Save As > .xlsx"):
        read_providers(path)


def test_quality_file_with_title_rows_in_cp1252(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from apgeo.inputs.quality import read_provider_quality

    path = tmp_path / "quality.csv"
    path.write_bytes("QA register – 2024 (£ commissioned)\r\nURN,Ofsted grade,QA outcome\r\n137596,Good,good\r\n".encode("cp1252"))
    with pytest.warns(ApgeoWarning, match="header is on row 2"):
        out = read_provider_quality(path)
    assert out["urn"].tolist() == ["137596"] and int(out["ofsted_grade"].iloc[0]) == 2


# ---- 9. names that are easy to confuse -----------------------------------------------------


def test_repeated_provider_id_without_site_id_says_which_is_which() -> None:
    from apgeo._errors import DuplicateIdError
    from apgeo.inputs.providers import read_providers

    frame = pd.DataFrame({"provider_id": ["A", "A"], "name": ["Main", "Annex"], "kind": ["pru", "pru"],
                          "easting": [435_000, 436_000], "northing": [387_000, 388_000]})
    with pytest.raises(DuplicateIdError, match=r"'provider_id' \(the organisation.*'site_id' \(one address"):
        read_providers(frame)


def test_missing_columns_explain_provider_and_site() -> None:
    from apgeo._errors import MissingColumnError
    from apgeo.analysis.coverage import coverage_summary

    tt, dem, prov = tiny_tables()
    with pytest.raises(MissingColumnError, match=r"'site_id' \(one address pupils attend"):
        _quiet(coverage_summary, tt, dem, prov.drop(columns="site_id"), mode="bus", key_stages=["KS3"])


# ---- 7. placements without homes ----------------------------------------------------------


def _placement_refs(sheffield_demand, sheffield_providers, data_dir):  # type: ignore[no-untyped-def]
    from apgeo.inputs.geocode import PostcodeLookup
    from apgeo.inputs.placements import load_schools

    return dict(providers=sheffield_providers, schools=load_schools(data_dir=data_dir), demand=sheffield_demand,
                lookup=PostcodeLookup.from_data_dir(data_dir))


def test_placements_without_any_home_are_an_error(tmp_path, sheffield_demand, sheffield_providers, data_dir) -> None:  # type: ignore[no-untyped-def]
    from apgeo.inputs.placements import load_placements

    path = tmp_path / "placements.csv"
    path.write_text(
        "Placements export\n\nHome Postcode,Home LSOA,School URN,Site ID,Key Stage,Start Date,Sessions per week\n"
        ",,107033,URN137596-1,KS3,2024-09-02,10\n,,107033,URN137596-1,KS4,2024-09-02,5\n",
        encoding="utf-8",
    )
    refs = _placement_refs(sheffield_demand, sheffield_providers, data_dir)
    with pytest.warns(ApgeoWarning, match="header is on row 3"):
        with pytest.raises(ApgeoValueError, match=r"every row's home is blank.*fill 'home_postcode'.*or 'home_lsoa'"):
            load_placements(path, as_of="2025-06-30", **refs)


def test_placements_none_in_the_area_are_an_error(sheffield_demand, sheffield_providers, data_dir) -> None:  # type: ignore[no-untyped-def]
    from apgeo.inputs.placements import load_placements

    frame = pd.DataFrame({"home_lsoa": ["E01000001"], "school_urn": ["107033"], "site_id": ["URN137596-1"],
                          "key_stage": ["KS3"], "start_date": ["2024-09-02"], "sessions_per_week": ["10"]})
    refs = _placement_refs(sheffield_demand, sheffield_providers, data_dir)
    with pytest.warns(ApgeoWarning, match="outside the study area"):
        with pytest.raises(ApgeoValueError, match=r"no home is in the study area's 345 LSOAs"):
            load_placements(frame, as_of="2025-06-30", **refs)


# ---- 6. outputs ---------------------------------------------------------------------------


def _study_config(tmp_path, output_dir) -> str:  # type: ignore[no-untyped-def]
    from apgeo.settings import repo_root

    p = tmp_path / "study.toml"
    p.write_text(
        f'[study]\nname = "sheffield"\ndata_dir = "{repo_root() / "data" / "sheffield"}"\n'
        f'output_dir = "{output_dir}"\nmaps_dir = "{tmp_path / "maps"}"\n[network]\nsource = "straight-line"\n',
        encoding="utf-8",
    )
    return str(p)


def test_unwritable_output_folder_is_one_line_naming_it(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    from apgeo.study.cli import main

    (tmp_path / "a_file").write_text("not a folder")
    out = tmp_path / "a_file" / "reports"
    assert main(["study", "--config", _study_config(tmp_path, out), "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"cannot write to the output folder {out}" in err and "output_dir" in err


def test_a_second_study_on_the_same_folder_is_refused(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import subprocess
    import sys
    from pathlib import Path

    from apgeo.outputs.lock import LOCK_NAME
    from apgeo.study.cli import main

    out = tmp_path / "reports"
    root = Path(__file__).resolve().parents[1]
    code = (
        "import sys\nfrom apgeo.outputs.lock import output_lock\n"
        f"with output_lock({str(out)!r}, label=\"study 'other' (other.toml)\"):\n"
        "    print('locked', flush=True)\n    sys.stdin.read()\n"
    )
    other = subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                             cwd=root, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "locked"
        text = (out / LOCK_NAME).read_text()
        assert f"pid={other.pid}" in text and "started=" in text
        assert main(["study", "--config", _study_config(tmp_path, out), "--no-progress"]) == 2
    finally:
        assert other.stdin is not None
        other.stdin.close()  # the other run finishes and releases the folder
        other.wait(timeout=60)
        assert other.stdout is not None
        other.stdout.close()
    err = capsys.readouterr().err
    assert f"the output folder {out.resolve()} is in use by study 'other' (other.toml) (process {other.pid}" in err
    assert err.count("\n") == 1 and not (out / LOCK_NAME).exists()


def test_a_stale_lock_of_a_dead_run_is_taken_over(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import socket
    import subprocess
    import sys

    from apgeo.outputs.lock import LOCK_NAME, output_lock

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pid = int(dead.stdout)
    out = tmp_path / "reports"
    out.mkdir()
    (out / LOCK_NAME).write_text(f"pid={pid}\nhost={socket.gethostname()}\nstarted=2025-01-01T00:00:00+00:00\nrun=crashed\n")
    with pytest.warns(ApgeoWarning, match=rf"taking over a stale lock left by crashed \(process {pid}"):
        with output_lock(out) as lock:
            assert f"pid={__import__('os').getpid()}" in lock.read_text()
    assert not (out / LOCK_NAME).exists()


# ---- 8. what a planner reads (tables, sentences, notebooks) --------------------------------


def test_report_tables_read_as_a_planner_reads_them() -> None:
    from apgeo.outputs.report import _table

    frame = pd.DataFrame({
        "group": ["all", "KS5"], "placements": [1000.0, 39.0], "children": [14645.0, 6318.0],
        "share_over_30_min": [0.8641, np.nan], "mean_travel_time_s": [4470.0, 8990.0],
        "priority_score": [61945.3, 0.004], "gap_share_within_30_min": [0.328, -0.05], "school_urn": [137596, 107033],
    })
    text = _table(frame)
    assert "e+0" not in text and "e-0" not in text  # no scientific notation
    assert "| mean_travel_time_min |" in text and "| 74.5 |" in text  # seconds shown as minutes
    assert "| 1,000 |" in text and "| 14,645 |" in text  # counts whole, with separators
    assert "| 86.4% |" in text  # shares as percentages
    assert "| +32.8 pp |" in text and "| -5.0 pp |" in text  # gaps in shares as percentage points
    assert "| 61,945 |" in text and "| 137596 |" in text  # a URN is not a count


def test_scenario_rows_are_shown_in_their_own_units() -> None:
    from apgeo.outputs.report import _scenario_view, _table

    sc = pd.DataFrame({"scenario": ["s", "s", "s"], "metric": ["children within 30 min", "share within 30 min", "mean nearest time"],
                       "unit": ["children", "share", "min"], "before": [14645.0, 0.197, 66.2], "after": [6318.0, 0.085, 86.4],
                       "change": [-8327.0, -0.112, 20.3]})
    text = _table(_scenario_view(sc))
    assert "| 14,645 | 6,318 | -8,327 |" in text
    assert "| % of children | 19.7% | 8.5% | -11.2 pp |" in text and "| 66.2 | 86.4 | +20.3 |" in text


def test_why_sentence_reads_naturally() -> None:
    from apgeo.planning.explain import _why

    common = dict(name="St Patrick's", ward="Firth Park", child_new=3258.0, ks="KS1-KS2", ages="aged 5-10",
                  T_min=30.0, by="on foot", deprived=3056.0, resolved=42, mean_change=-4.2, alt_id="X",
                  alt_name="Hunter's Bar Junior School", alt_children=4184.0, served=float("nan"))
    text = _why(objective="coverage", **common)  # type: ignore[arg-type]
    assert ("The next best candidate, Hunter's Bar Junior School, would bring 926 more children within 30 min, "
            "but fewer of them in deprived areas") in text
    assert "gives more deprived need" not in text
    text = _why(objective="time", **common)  # type: ignore[arg-type]
    assert "but this site shortens journeys more overall" in text


def test_notebooks_show_warnings_and_match_their_generator() -> None:
    import importlib.util
    import json
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    spec = importlib.util.spec_from_file_location("make_notebooks", root / "scripts" / "make_notebooks.py")
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    for name, cells in script.NOTEBOOKS.items():
        committed = json.loads((root / "notebooks" / name).read_text(encoding="utf-8"))
        sources = ["".join(c["source"]) for c in committed["cells"]]
        assert sources == [src for _, src in cells], f"{name}: regenerate with scripts/make_notebooks.py"
        code = "\n".join(sources)
        assert "simplefilter('ignore')" not in code and 'simplefilter("ignore")' not in code, name


# ---- 10. the map on a laptop ---------------------------------------------------------------


def test_map_layer_control_collapsed_and_cold_spots_do_not_hide_travel_times(sheffield_providers, sheffield_demand) -> None:  # type: ignore[no-untyped-def]
    import re

    from apgeo.outputs.map_layers import ACCESS_COLDSPOT_LAYER, COLDSPOT_FILL_OPACITY
    from apgeo.outputs.maps import study_map

    areas = sheffield_demand[["area_id", "area_name", "ward_name", "geometry"]].iloc[:40].copy()
    areas["travel_time_s"] = np.linspace(300, 4000, len(areas))
    cold = areas.iloc[:10].drop(columns="travel_time_s").assign(reason="over 30 min")
    m = study_map(providers=sheffield_providers, areas=areas, area_value_column="travel_time_s",
                  area_value_label="Travel time (minutes)", coldspots=cold, title="t", method_note="n")
    page = m.get_root().render()
    assert re.search(r'"collapsed":\s*true', page)  # the layer control starts collapsed
    assert 'content:"Layers"' in page  # and says what it is
    cold_group = [g for g in m._children.values() if getattr(g, "layer_name", None) == ACCESS_COLDSPOT_LAYER]
    assert len(cold_group) == 1 and cold_group[0].show is False  # not shown at first
    assert COLDSPOT_FILL_OPACITY <= 0.1  # outlined, the choropleth shows through
    legend = page[page.index('id="apgeo-legend"'):][:400]
    assert "max-height:calc(100vh - 330px)" in legend and "overflow-y:auto" in legend and legend.startswith('id="apgeo-legend" open')


def test_kinds_error_says_argument_versus_study_setting_versus_column() -> None:
    tt, dem, prov = _with_special_school()
    only = prov[prov["kind"] == "special_school"]
    with pytest.raises(ApgeoValueError, match=r"\(the kinds= argument: .*\[analysis\] ap_kinds.*'kind' column present"):
        coverage_summary(tt[tt["destination_id"] == "x9"], dem, only, mode="walk", key_stages=["KS3"])


def test_capacity_alias_in_a_table_is_noted() -> None:
    from apgeo.inputs.providers import read_providers

    frame = pd.DataFrame({"Provider": ["A"], "Site": ["A-main"], "Name": ["Alpha"], "Kind": ["pru"],
                          "Capacity": ["12"], "Easting": [435_000], "Northing": [387_000]})
    out = read_providers(frame)
    assert out["site_id"].iloc[0] == "A-main" and out["capacity_places"].iloc[0] == 12.0
    assert "'Capacity' read as 'capacity_places'" in out["source"].iloc[0]
    assert "'Site' read as 'site_id'" in out.attrs.get("column_aliases", out["source"].iloc[0])


def test_solving_prints_nothing_when_stdout_is_not_a_file(capfd) -> None:  # type: ignore[no-untyped-def]
    """In a notebook (or under a test runner) sys.stdout has no descriptor of its own; the
    solver's C library still writes to descriptor 1, which must be silenced too."""
    from test_recommend import _toy

    from apgeo.planning.recommend import recommend_sites

    tt, d, e, c = _toy()
    _quiet(recommend_sites, tt, d, e, c, mode="walk", key_stages=["KS3"], p=1, weight_by="none", solver="highs")
    assert "HiGHS" not in capfd.readouterr().out
