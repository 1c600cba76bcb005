"""Provider files and study settings as councils write them: each gets the right table, or
a message naming the file, the row and the fix (never a silent drop or a plausible wrong
answer)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import box

from apgeo._errors import ApgeoValueError, ApgeoWarning, ConfigError, DuplicateIdError
from apgeo.inputs.providers import read_providers
from apgeo.schema import read_key_stages, read_kind
from apgeo.study.config import load_config

ROOT = Path(__file__).resolve().parents[1]
SHEFFIELD_DATA = ROOT / "data" / "sheffield"
#: Sheffield's rough extent (British National Grid metres) as a study area.
SHEFFIELD_BOX = gpd.GeoSeries([box(425_000, 378_000, 445_000, 398_000)], crs="EPSG:27700")


def _csv(tmp_path: Path, text: str, name: str = "p.csv", encoding: str = "utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def _read(path: Path, **kwargs):  # type: ignore[no-untyped-def]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ApgeoWarning)
        return read_providers(path, **kwargs)


# ---- the inputs of the issue ----------------------------------------------------------


def test_easting_without_northing_warns_naming_the_row(tmp_path):
    p = _csv(
        tmp_path,
        "provider_id,name,kind,postcode,easting,northing\nA,X,pru,,437318,385597\nB,Y,pru,,436000,\n",
    )
    with pytest.warns(ApgeoWarning, match=r"p.csv: 1 row\(s\) have only one of easting/northing: row 3 \(B-1: easting given, northing blank\).*fill in the other coordinate or give a postcode"):
        out = read_providers(p)
    assert list(out["located"]) == [True, False]


def test_swapped_easting_northing_named_with_a_study_area(tmp_path):
    p = _csv(tmp_path, "provider_id,name,kind,easting,northing\nA,X,pru,437318,385597\nB,Y,pru,385000,436000\n")
    with pytest.raises(ApgeoValueError, match=r"p.csv: easting and northing look swapped at row 3 \(B-1: 385000, 436000\).*study area; put the east-west"):
        read_providers(p, study_area=SHEFFIELD_BOX)


def test_swapped_easting_northing_named_against_the_files_other_rows(tmp_path):
    p = _csv(
        tmp_path,
        "provider_id,name,kind,easting,northing\nA,X,pru,437318,385597\nB,Y,pru,436000,387000\n"
        "C,Z,pru,434000,389000\nD,W,pru,385000,436000\n",
    )
    with pytest.raises(ApgeoValueError, match=r"look swapped at row 5 \(D-1: 385000, 436000\).*the file's other providers"):
        read_providers(p)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", r"line 4: \[analysis\] cold_spot_threshold_min: must be more than 0 minutes, not 0"),
        ("inf", r"line 4: \[analysis\] cold_spot_threshold_min: must be a finite number of minutes"),
        ("nan", r"cold_spot_threshold_min: must be a finite number of minutes"),
        ("-5", r"cold_spot_threshold_min: must be more than 0 minutes"),
    ],
)
def test_cold_spot_threshold_is_checked_under_its_own_name(tmp_path, value, message):
    p = _csv(tmp_path, f'[study]\nname = "x"\n[analysis]\ncold_spot_threshold_min = {value}\n', name="s.toml")
    with pytest.raises(ConfigError, match=message):
        load_config(p)


def test_infinite_thresholds_are_not_called_not_positive(tmp_path):
    p = _csv(tmp_path, '[study]\nname = "x"\n[recommend]\nmax_travel_time_min = inf\n', name="s.toml")
    with pytest.raises(ConfigError, match=r"\[recommend\] max_travel_time_min: must be a finite number"):
        load_config(p)
    p = _csv(tmp_path, '[study]\nname = "x"\n[analysis]\nthresholds_min = [15, inf]\n', name="s.toml")
    with pytest.raises(ConfigError, match=r"\[analysis\] thresholds_min: must be a finite number"):
        load_config(p)


@pytest.mark.parametrize(
    ("written", "stages"),
    [
        ("KS3/KS4", ("KS3", "KS4")),
        ("Y7-Y11", ("KS3", "KS4")),
        ("secondary", ("KS3", "KS4")),
        ("Primary", ("KS1", "KS2")),
        ("post-16", ("KS5",)),
        ("Year 10", ("KS4",)),
        ("KS 3", ("KS3",)),
        ("Key Stage 3 and 4", ("KS3", "KS4")),
        ("KS3-4", ("KS3", "KS4")),
        ("KS3 & KS4", ("KS3", "KS4")),
        ("Years 7 to 9", ("KS3",)),
        ("11-16", ("KS3", "KS4")),
        ("ages 5-11", ("KS1", "KS2")),
        ("KS4 only", ("KS4",)),
        ("Sixth form", ("KS5",)),
    ],
)
def test_council_key_stage_spellings_are_read_with_a_note(written, stages):
    got, note = read_key_stages(written)
    assert got == stages
    assert note == f"key stages {written!r} read as {'+'.join(stages)}"


def test_canonical_key_stages_need_no_note():
    assert read_key_stages("KS3,KS4") == (("KS3", "KS4"), "")
    assert read_key_stages("KS1-KS4") == (("KS1", "KS2", "KS3", "KS4"), "")


def test_key_stage_spellings_in_a_file_are_noted_per_row(tmp_path):
    p = _csv(
        tmp_path,
        "provider_id,name,kind,key_stages,easting,northing\n"
        "A,X,Pupil Referral Unit,KS3/KS4,437318,385597\nB,Y,pru,secondary,436000,387000\nC,Z,pru,\"KS1,KS2\",434000,389000\n",
    )
    with pytest.warns(ApgeoWarning, match=r"read as councils write them: kind 'Pupil Referral Unit' read as 'pru' \(row\(s\) 2\); key stages 'KS3/KS4' read as KS3\+KS4 \(row\(s\) 2\); key stages 'secondary' read as KS3\+KS4 \(row\(s\) 3\)"):
        out = read_providers(p)
    assert list(out["kind"]) == ["pru"] * 3
    assert list(out["key_stages"]) == ["KS3,KS4", "KS3,KS4", "KS1,KS2"]
    assert "read as KS3+KS4" in out["input_note"].iloc[1] and out["input_note"].iloc[2] == ""


def test_unknown_key_stages_and_kinds_name_file_and_rows(tmp_path):
    p = _csv(tmp_path, "provider_id,name,kind,key_stages,easting,northing\nA,X,pru,KS3,437318,385597\nB,Y,pru,Reception,436000,387000\n")
    with pytest.raises(ApgeoValueError, match=r"p.csv: column 'key_stages': row\(s\) 3: .*'Reception'"):
        read_providers(p)
    p = _csv(tmp_path, "provider_id,name,kind,easting,northing\nA,X,pru,437318,385597\nB,Y,school,436000,387000\nC,Z,school,434000,389000\n")
    with pytest.raises(ApgeoValueError, match=r"p.csv: unknown provider kind 'school' at row\(s\) 3, 4 in column 'kind'"):
        read_providers(p)


def test_council_kind_spellings():
    assert read_kind("Pupil Referral Unit")[0].value == "pru"
    assert read_kind("Academy alternative provision converter")[0].value == "ap_academy"
    assert read_kind("Hospital school")[0].value == "hospital_education"
    assert read_kind("special school") == (read_kind("special_school")[0], "")


def test_bom_and_windows_1252_text_read_as_one_file(tmp_path):
    raw = b"\xef\xbb\xbfprovider_id,name,kind,easting,northing\r\nA,Caf\xe9 \xa3 provision,pru,437318,385597\r\n"
    p = tmp_path / "p.csv"
    p.write_bytes(raw)
    out = read_providers(p)
    assert out["provider_id"].item() == "A" and out["name"].item() == "Caf\u00e9 \u00a3 provision"


def test_transit_in_modes_with_a_feed_is_accepted(tmp_path):
    feed = SHEFFIELD_DATA / "transit" / "sheffield_supertram_gtfs_2024-25.zip"
    p = _csv(
        tmp_path,
        f'[study]\nname = "x"\n[network]\nmodes = ["walk", "transit"]\n'
        f'[transit]\nfeeds = ["{feed}"]\nservice_date = "2025-01-14"\n',
        name="s.toml",
    )
    cfg = load_config(p)
    assert cfg.modes == ("walk",) and cfg.transit_feed == feed
    p = _csv(tmp_path, '[study]\nname = "x"\n[network]\nmodes = ["walk", "transit"]\n', name="s.toml")
    with pytest.raises(ConfigError, match=r"\[network\] modes: 'transit' needs a \[transit\] section"):
        load_config(p)


def test_config_key_stages_and_kinds_as_councils_write_them(tmp_path):
    p = _csv(tmp_path, '[study]\nname = "x"\n[analysis]\nkey_stages = ["secondary"]\nap_kinds = ["PRU", "Hospital school"]\n', name="s.toml")
    cfg = load_config(p)
    assert cfg.key_stages == ("KS3", "KS4") and cfg.ap_kinds == ("pru", "hospital_education")
    p = _csv(tmp_path, '[study]\nname = "x"\n[analysis]\nkey_stages = ["KS3", "Y14"]\n', name="s.toml")
    with pytest.raises(ConfigError, match=r"line 4: \[analysis\] key_stages: .*'Y14'"):
        load_config(p)


def test_ks5_only_provider_is_noted(tmp_path):
    p = _csv(tmp_path, "provider_id,name,kind,key_stages,easting,northing\nA,X,pru,post-16,437318,385597\n")
    with pytest.warns(ApgeoWarning) as seen:
        read_providers(p)
    assert any("row(s) 2 (A-1) serve only KS5 (post-16)" in str(w.message) for w in seen)


def test_scottish_postcode_is_named_as_outside_england(tmp_path):
    from apgeo.inputs.landscape import load_area_inputs, load_study_providers

    p = _csv(tmp_path, "provider_id,name,kind,postcode\nA,Edinburgh base,pru,EH1 1YZ\n")
    inputs = load_area_inputs("Sheffield", data_dir=SHEFFIELD_DATA)
    with pytest.raises(ApgeoValueError) as err:
        load_study_providers(inputs, files=[p], include_gias=False)
    text = str(err.value)
    assert "in Scotland (postcode EH1 1YZ), outside England" in text
    assert "Northumberland" not in text


def test_urn_not_in_gias_is_noted(tmp_path):
    from apgeo.inputs.landscape import load_area_inputs, load_study_providers

    p = _csv(tmp_path, "provider_id,name,kind,easting,northing,urn\nA,X,pru,437318,385597,999991\n")
    inputs = load_area_inputs("Sheffield", data_dir=SHEFFIELD_DATA)
    with pytest.warns(ApgeoWarning, match=r"p.csv: 1 URN\(s\) are not among England's open establishments in GIAS .*999991 \(A-1\)"):
        load_study_providers(inputs, files=[p], include_gias=False)


# ---- the next ways a council file goes wrong --------------------------------------------


def test_coordinates_in_kilometres(tmp_path):
    p = _csv(tmp_path, "provider_id,name,kind,easting,northing\nA,X,pru,437.3,385.6\n")
    with pytest.raises(ApgeoValueError, match=r"row\(s\) 2 look like kilometres .*multiply by 1000"):
        read_providers(p)


def test_blank_provider_id_from_merged_cells(tmp_path):
    p = _csv(tmp_path, "provider_id,site_id,name,kind,easting,northing\nA,A-1,X,pru,437318,385597\n,A-2,X,pru,436000,387000\n")
    with pytest.raises(ApgeoValueError, match=r"'provider_id' .* is blank at row\(s\) 3; .*merged cells"):
        read_providers(p)


def test_blank_kind_names_rows(tmp_path):
    p = _csv(tmp_path, "provider_id,name,kind,easting,northing\nA,X,pru,437318,385597\nB,Y,,436000,387000\n")
    with pytest.raises(ApgeoValueError, match=r"'kind' .* is blank at row\(s\) 3; give each row one of"):
        read_providers(p)


def test_blank_key_stages_assumed_with_a_warning(tmp_path):
    p = _csv(tmp_path, "provider_id,name,kind,key_stages,easting,northing\nA,X,pru,KS3,437318,385597\nB,Y,pru,,436000,387000\n")
    with pytest.warns(ApgeoWarning, match=r"'key_stages' .* is blank at row\(s\) 3; those sites are counted as serving KS1-KS4"):
        out = read_providers(p)
    assert list(out["key_stages"]) == ["KS3", "KS1,KS2,KS3,KS4"]
    assert out["key_stages_source"].iloc[1].startswith("blank in")


def test_excel_date_in_key_stages(tmp_path):
    p = _csv(tmp_path, "provider_id,name,kind,key_stages,easting,northing\nA,X,pru,03-Apr,437318,385597\n")
    with pytest.raises(ApgeoValueError, match=r"row\(s\) 2: key stages '03-Apr' look like a date: .*format the column as Text"):
        read_providers(p)


def test_capacity_placeholders_are_unknown(tmp_path):
    p = _csv(
        tmp_path,
        "provider_id,name,kind,capacity_places,easting,northing\nA,X,pru,TBC,437318,385597\n"
        "B,Y,pru,n/a,436000,387000\nC,Z,pru,12 places,434000,389000\n",
    )
    with pytest.warns(ApgeoWarning, match=r"capacity 'TBC' read as unknown \(row\(s\) 2\)"):
        out = read_providers(p)
    assert math.isnan(out["capacity_places"].iloc[0]) and math.isnan(out["capacity_places"].iloc[1])
    assert out["capacity_places"].iloc[2] == 12


def test_total_row_under_the_table_is_left_out_with_a_warning(tmp_path):
    p = _csv(
        tmp_path,
        "provider_id,name,kind,capacity_places,easting,northing\nA,X,pru,10,437318,385597\nTotal,,,10,,\n",
    )
    with pytest.warns(ApgeoWarning, match=r"row\(s\) 3 look like a total row"):
        out = read_providers(p)
    assert list(out["provider_id"]) == ["A"]


def test_urns_as_excel_writes_them(tmp_path):
    p = _csv(tmp_path, "provider_id,name,kind,urn,easting,northing\nA,X,pru,137596.0,437318,385597\n")
    out = _read(p)
    assert out["urn"].item() == "137596"
    p = _csv(tmp_path, "provider_id,name,kind,urn,easting,northing\nA,X,pru,1.37596E+05,437318,385597\n")
    with pytest.raises(ApgeoValueError, match=r"'urn' holds numbers in scientific format at row\(s\) 2"):
        read_providers(p)


def test_repeated_site_ids_name_their_rows(tmp_path):
    p = _csv(tmp_path, "provider_id,site_id,name,kind,easting,northing\nA,S1,X,pru,437318,385597\nB,S1,Y,pru,436000,387000\n")
    with pytest.raises(DuplicateIdError, match=r"'site_id' must be unique .*S1 at row\(s\) 2, 3"):
        read_providers(p)


def test_postcode_typo_of_o_for_zero_suggests_the_fix(tmp_path):
    p = _csv(tmp_path, "provider_id,name,kind,postcode\nA,X,pru,S1O 2TH\n")
    with pytest.warns(ApgeoWarning, match=r"'S1O 2TH' \(did you mean 'S10 2TH'\?\)"):
        read_providers(p)


def test_phase_and_age_range_headers(tmp_path):
    p = _csv(tmp_path, "provider_id,name,kind,phase,easting,northing\nA,X,pru,Secondary,437318,385597\n")
    out = _read(p)
    assert out["key_stages"].item() == "KS3,KS4"


def test_country_of_a_column_of_blank_postcodes_is_blank() -> None:
    """Providers located by coordinates only (GIAS rows beyond the border, say): no postcode
    anywhere is no country, not an error from the column's type."""
    import pandas as pd

    from apgeo.inputs.geocode import postcode_country

    assert postcode_country(pd.Series(["", ""], dtype="string")).tolist() == ["", ""]
    assert postcode_country(pd.Series(["LE15 6AA", None], dtype="string")).tolist() == ["England", ""]
