"""The council's own landscape for any English authority: area, providers, bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from apgeo import ApgeoValueError, ApgeoWarning, ConfigError
from apgeo.inputs.landscape import (
    APPROXIMATE_EXTENT_NOTE,
    ENGLAND_POPULATION_NOTE,
    load_area_inputs,
    load_study_providers,
)
from apgeo.study.config import load_config
from apgeo.study.pipeline import load_inputs, run_study

ROOT = Path(__file__).resolve().parents[1]
SHEFFIELD_DATA = ROOT / "data" / "sheffield"

#: A council's own file: rows by postcode and by coordinates, one provider with three
#: sites, and one row that replaces a GIAS school (its URN).
OWN_PROVIDERS = """provider_id,site_id,name,kind,key_stages,capacity_places,postcode,easting,northing,urn
SIC,SIC-1,Inclusion Centre Spring Lane,inclusion_centre,"KS3,KS4",120,,437318,385597,137596
SIC,SIC-2,Inclusion Centre Primary site,inclusion_centre,"KS1,KS2",30,S2 2JQ,,,
SIC,SIC-3,Inclusion Centre Key Stage 4 site,inclusion_centre,KS4,40,,434000,389000,
HOSP,HOSP-1,Hospital education base,hospital_education,"KS1,KS2,KS3,KS4",20,S10 2TH,,,
MENTOR,MENTOR-1,Framework mentoring provider,framework_provider,"KS3,KS4",12,,436500,387400,
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _toml(tmp_path: Path, body: str) -> Path:
    return _write(tmp_path, "study.toml", body)


def test_planner_toml_for_sheffield_with_own_providers(tmp_path: Path) -> None:
    own = _write(tmp_path, "our_providers.csv", OWN_PROVIDERS)
    cfg = load_config(
        _toml(
            tmp_path,
            f"""[study]
name = "ours"
area = "Sheffield"
data_dir = "{SHEFFIELD_DATA}"
output_dir = "{tmp_path / 'out'}"
[network]
source = "straight-line"
[providers]
files = ["{own}"]
include_gias = true
""",
        )
    )
    result = load_inputs(cfg)
    p = result.providers
    ours = p[p["provider_id"].isin(["SIC", "HOSP", "MENTOR"])]
    assert len(ours) == 5 and ours["located"].all()
    assert sorted(p.loc[p["provider_id"] == "SIC", "site_id"]) == ["SIC-1", "SIC-2", "SIC-3"]
    # the planner's row replaced GIAS's row of the same school, and says so
    assert "URN137596-1" not in set(p["site_id"])
    assert "replaces GIAS URN 137596" in p.loc[p["site_id"] == "SIC-1", "source"].item()
    assert p["in_area"].loc[ours.index].all()
    assert len(result.demand) == 345 and result.polygons


def test_another_authority_by_dfe_number_runs_offline(tmp_path: Path) -> None:
    cfg = load_config(
        _toml(
            tmp_path,
            f"""[study]
name = "leeds"
area = 383
output_dir = "{tmp_path / 'out'}"
maps_dir = "{tmp_path / 'maps'}"
[network]
source = "straight-line"
modes = ["walk"]
[recommend]
sites = 0
""",
        )
    )
    assert cfg.data_dir is None
    with pytest.warns(ApgeoWarning, match="no AP provider of Leeds has known places"):
        result = run_study(cfg)
    assert result.area_name == "Leeds" and not result.polygons
    assert len(result.demand) == 482
    assert (result.providers["kind"] == "ap_free_school").sum() >= 1
    report = (tmp_path / "out" / "report.md").read_text()
    assert "Alternative Provision access: leeds" in report or "leeds" in report.lower()
    assert "No LSOA polygons, wards or boundary are available offline" in report
    assert "mid-2015" in report and "the 6 nearest areas" in report
    assert (tmp_path / "maps" / "leeds_walk.html").is_file()


def test_the_shipped_studies_load(tmp_path: Path) -> None:
    sheffield = load_config(ROOT / "studies" / "sheffield.toml")
    leeds = load_config(ROOT / "studies" / "leeds.toml")
    assert sheffield.area == "373" and sheffield.data_dir == SHEFFIELD_DATA
    assert leeds.area == "383" and leeds.data_dir is None


def test_area_without_polygons_is_points_with_stated_sources() -> None:
    inputs = load_area_inputs("Kent")
    assert not inputs.polygons and inputs.wards is None
    assert (inputs.demand.geometry.geom_type == "Point").all()
    assert inputs.population_note == ENGLAND_POPULATION_NOTE
    assert inputs.boundary is not None
    assert inputs.boundary["note"].item() == APPROXIMATE_EXTENT_NOTE.format(buffer_m=1000)
    ks = inputs.demand[["children_ks1", "children_ks2", "children_ks3", "children_ks4"]].sum(axis=1)
    assert ks.sum() == pytest.approx(inputs.demand["children_0_15"].sum() * 11 / 16)


# ---- bad input ---------------------------------------------------------------------------


def test_unknown_area_suggests_close_matches(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"line 3: \[study\] area: .*Sheffield"):
        load_config(_toml(tmp_path, '[study]\nname = "x"\narea = "Shefield"\n'))


def test_provider_file_whose_rows_all_fail_to_geocode(tmp_path: Path) -> None:
    bad = _write(tmp_path, "p.csv", "provider_id,name,kind,postcode\nA,X,pru,ZZ9 9ZZ\nB,Y,pru,nonsense\n")
    inputs = load_area_inputs("Sheffield", data_dir=SHEFFIELD_DATA)
    with pytest.warns(ApgeoWarning), pytest.raises(ApgeoValueError, match="none of its 2 provider"):
        load_study_providers(inputs, files=[bad], include_gias=False, include_settings_list=False)


def test_same_provider_in_file_and_gias_at_another_place(tmp_path: Path) -> None:
    moved = _write(
        tmp_path, "p.csv",
        "provider_id,name,kind,easting,northing,urn\nSIC,Inclusion Centre,pru,436000,387000,137596\n",
    )
    inputs = load_area_inputs("Sheffield", data_dir=SHEFFIELD_DATA)
    with pytest.warns(ApgeoWarning, match=r"also in GIAS at a different place: .*URN 137596.*m from GIAS"):
        out = load_study_providers(inputs, files=[moved], include_settings_list=False)
    assert "URN137596-1" not in set(out["site_id"])


def test_easting_and_northing_swapped(tmp_path: Path) -> None:
    swapped = _write(tmp_path, "p.csv", "provider_id,name,kind,easting,northing\nA,X,pru,385597,437318\n")
    inputs = load_area_inputs("Sheffield", data_dir=SHEFFIELD_DATA)
    with pytest.raises(ApgeoValueError, match=r"easting and northing look swapped .*X \(A-1\)"):
        load_study_providers(inputs, files=[swapped], include_gias=False, include_settings_list=False)


def test_provider_in_another_region_is_an_error_unless_allowed(tmp_path: Path) -> None:
    london = _write(tmp_path, "p.csv", "provider_id,name,kind,easting,northing\nL,London AP,pru,530000,180000\n")
    inputs = load_area_inputs("Sheffield", data_dir=SHEFFIELD_DATA)
    with pytest.raises(ApgeoValueError, match=r"more than 40 km from Sheffield: London AP \(L-1\) \d+ km away, near"):
        load_study_providers(inputs, files=[london], include_gias=False, include_settings_list=False)
    with pytest.warns(ApgeoWarning, match="far from Sheffield are kept"):
        out = load_study_providers(
            inputs, files=[london], include_gias=False, include_settings_list=False, allow_far=True
        )
    assert not out["in_area"].item()


def test_provider_over_the_border_is_kept_and_flagged(tmp_path: Path) -> None:
    rotherham = _write(tmp_path, "p.csv", "provider_id,name,kind,postcode\nR,Rotherham AP,pru,S60 1AE\n")
    inputs = load_area_inputs("Sheffield", data_dir=SHEFFIELD_DATA)
    out = load_study_providers(inputs, files=[rotherham], include_gias=False, include_settings_list=False)
    assert not out["in_area"].item() and out["nearest_authority"].item() == "Rotherham"


def test_settings_list_where_there_is_none(tmp_path: Path) -> None:
    inputs = load_area_inputs("Leeds")
    with pytest.raises(ApgeoValueError, match="no settings list for Leeds"):
        load_study_providers(inputs, include_settings_list=True)


def test_placements_need_the_detailed_extract(tmp_path: Path) -> None:
    cfg = load_config(
        _toml(
            tmp_path,
            f"""[study]
name = "leeds"
area = "Leeds"
output_dir = "{tmp_path / 'out'}"
[network]
source = "straight-line"
modes = ["walk"]
[recommend]
sites = 0
[placements]
synthetic = true
as_of = "2025-03-31"
""",
        )
    )
    with pytest.warns(ApgeoWarning), pytest.raises(ApgeoValueError, match=r"\[placements\] needs the detailed data extract of Leeds"):
        run_study(cfg)
