"""England-wide areas: the committed extract, the LSOA -> education authority link, the resolver."""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import pandas as pd
import pytest

from apgeo._errors import ApgeoValueError, ApgeoWarning, DataFileNotFoundError, MissingColumnError
from apgeo.inputs.areas import (
    AP_ESTABLISHMENT_TYPES,
    EXTRACT_DIR,
    KEY_STAGE_SHARE_OF_0_15,
    KEY_STAGE_SPLIT_RULE,
    Area,
    all_areas,
    ap_settings_england,
    area_gias,
    area_lsoas,
    load_authorities,
    load_gias_england,
    load_lsoas_england,
    resolve_area,
    split_children_by_key_stage,
)
from apgeo.inputs.data import verify_manifest

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
RAW_FILE6 = SHARED / "deprivation/england_File_6_-_IoD2019_Population_Denominators.csv.gz"
RAW_GIAS = SHARED / "schools/england_gias_open_establishments_20250524.csv"
ROOT = Path(__file__).resolve().parents[1]

#: Dependent children aged 0-15, mid-2015, summed over File 6 (checked when it was built).
ENGLAND_CHILDREN_0_15 = 10_405_050


@pytest.fixture(scope="module")
def lsoas() -> pd.DataFrame:
    return load_lsoas_england()


@pytest.fixture(scope="module")
def authorities() -> pd.DataFrame:
    return load_authorities()


def _gias_stub(**extra: list[object]) -> pd.DataFrame:
    base: dict[str, list[object]] = {
        "urn": ["1", "2", "3", "4"],
        "la_code": ["373", "373", "886", "373"],
        "la_name": ["Sheffield", "Sheffield", "Kent", "Sheffield"],
        "establishment_name": ["Inclusion Centre", "A Primary", "Kent PRU", "Lost AP"],
        "establishment_type": [
            "Pupil referral unit",
            "Community school",
            "Academy alternative provision converter",
            "Free schools alternative provision",
        ],
        "easting": ["436000", "435000", "560000", ""],
        "northing": ["385000", "386000", "155000", ""],
    }
    base.update(extra)
    return pd.DataFrame(base)


# ---------------------------------------------------------------- the extract


def test_every_english_lsoa_exactly_once(lsoas: pd.DataFrame) -> None:
    assert len(lsoas) == 32_844
    assert lsoas["lsoa11cd"].is_unique
    assert lsoas["lsoa11cd"].str.match(r"^E01\d{6}$").all()
    assert not lsoas.isna().any().any()


def test_each_lsoa_has_one_authority_and_tables_agree(
    lsoas: pd.DataFrame, authorities: pd.DataFrame
) -> None:
    assert len(authorities) == 153
    assert authorities["la_code"].is_unique
    assert set(lsoas["la_code"]) == set(authorities["la_code"])
    counts = lsoas.groupby("la_code").size()
    assert (
        counts.reindex(authorities["la_code"]).to_numpy() == authorities["lsoa_count"].astype(int)
    ).all()
    # a LAD 2019 never splits between authorities
    assert (lsoas.groupby("lad19cd")["la_code"].nunique() == 1).all()
    assert set(authorities["region"]) == {
        "North East",
        "North West",
        "Yorkshire and The Humber",
        "East Midlands",
        "West Midlands",
        "East of England",
        "London",
        "South East",
        "South West",
    }


def test_coordinates_are_british_national_grid_metres(lsoas: pd.DataFrame) -> None:
    assert lsoas["easting_m"].between(80_000, 660_000).all()
    assert lsoas["northing_m"].between(5_000, 660_000).all()
    sheffield = lsoas.set_index("lsoa11cd").loc["E01007823"]
    # ONS gives 434353.0, 381337.9 for this LSOA's population-weighted centroid
    assert sheffield["easting_m"] == pytest.approx(434_353.0, abs=0.2)
    assert sheffield["northing_m"] == pytest.approx(381_337.9, abs=0.2)


def test_manifest_hashes_match_the_files() -> None:
    checked = verify_manifest(EXTRACT_DIR)
    assert set(checked["file"]) == {"lsoa_england.csv.gz", "authorities.csv", "gias_england.csv.gz"}
    assert (checked["status"] == "ok").all()
    header = (ROOT / "data/sheffield/MANIFEST.csv").read_text().splitlines()[0]
    assert (EXTRACT_DIR / "MANIFEST.csv").read_text().splitlines()[0] == header


def test_extract_is_small() -> None:
    total = sum(
        (EXTRACT_DIR / f).stat().st_size for f in ("lsoa_england.csv.gz", "authorities.csv", "gias_england.csv.gz")
    )
    assert total < 3_000_000


def test_children_total_for_england(lsoas: pd.DataFrame, authorities: pd.DataFrame) -> None:
    assert lsoas["children_0_15"].sum() == ENGLAND_CHILDREN_0_15
    assert authorities["children_0_15"].astype(int).sum() == ENGLAND_CHILDREN_0_15


@pytest.mark.skipif(not RAW_FILE6.is_file(), reason="raw IoD 2019 File 6 not available")
def test_children_total_equals_raw_file6() -> None:
    with gzip.open(RAW_FILE6, "rt", encoding="utf-8-sig") as fh:
        raw = pd.read_csv(fh, dtype=str)
    col = next(c for c in raw.columns if c.startswith("Dependent Children aged 0-15"))
    assert pd.to_numeric(raw[col].str.replace(",", "")).sum() == ENGLAND_CHILDREN_0_15


@pytest.mark.slow
@pytest.mark.skipif(not RAW_GIAS.is_file(), reason="raw shared data not available")
def test_rebuilding_from_raw_gives_the_committed_extract(lsoas: pd.DataFrame) -> None:
    spec = importlib.util.spec_from_file_location(
        "make_england_extract", ROOT / "scripts/make_england_extract.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fresh, auth = module.build(SHARED)
    pd.testing.assert_frame_equal(
        fresh.reset_index(drop=True), lsoas.reset_index(drop=True), check_dtype=False
    )
    assert len(auth) == 153


# ---------------------------------------------------------------- the LSOA -> authority link


def test_two_tier_districts_belong_to_their_county(lsoas: pd.DataFrame) -> None:
    by_lad = lsoas.drop_duplicates("lad19cd").set_index("lad19cd")
    assert by_lad.loc["E07000111", "lad19nm"] == "Sevenoaks"
    assert by_lad.loc["E07000111", "la_code"] == "886"  # Kent
    assert by_lad.loc["E07000111", "la_ons_code"] == "E10000016"
    assert by_lad.loc["E07000034", "lad19nm"] == "Chesterfield"
    assert by_lad.loc["E07000034", "la_code"] == "830"  # Derbyshire
    kent = resolve_area("Kent")
    assert len(kent.lad19_codes) == 12
    assert kent.kind == "county"


def test_cumbria_splits_by_district(lsoas: pd.DataFrame) -> None:
    by_lad = lsoas.drop_duplicates("lad19cd").set_index("lad19cd")["la_code"]
    cumberland = {"E07000026", "E07000028", "E07000029"}  # Allerdale, Carlisle, Copeland
    westmorland = {"E07000027", "E07000030", "E07000031"}  # Barrow, Eden, South Lakeland
    assert {by_lad[c] for c in cumberland} == {"942"}
    assert {by_lad[c] for c in westmorland} == {"943"}
    a, b = resolve_area(942), resolve_area("Westmorland and Furness")
    assert a.ons_code_2025 == "E06000063" and b.ons_code_2025 == "E06000064"
    assert a.ons_code_2019 == b.ons_code_2019 == "E10000006"
    with pytest.raises(
        ApgeoValueError, match=r"Cumberland \(942\) or Westmorland and Furness \(943\)"
    ):
        resolve_area("E10000006")
    with pytest.raises(ApgeoValueError, match="Cumberland"):
        resolve_area("Cumbria")
    with pytest.raises(ApgeoValueError, match="Cumberland"):
        resolve_area(909)


def test_north_yorkshire_and_somerset_are_the_2023_unitaries(lsoas: pd.DataFrame) -> None:
    ny = resolve_area("North Yorkshire")
    assert ny.la_code == "815"
    assert ny.ons_code_2025 == "E06000065" and ny.ons_code_2019 == "E10000023"
    assert len(ny.lad19_codes) == 7
    assert resolve_area("E10000023") == resolve_area("E06000065") == ny
    assert set(lsoas.loc[lsoas["lad19nm"] == "Harrogate", "la_code"]) == {"815"}
    somerset = resolve_area("E06000066")
    assert somerset.la_code == "933" and len(somerset.lad19_codes) == 4


def test_city_of_london_and_isles_of_scilly() -> None:
    london = resolve_area("City of London")
    assert (london.la_code, london.lsoa_count) == ("201", 6)
    scilly = resolve_area("Isles of Scilly")
    assert (scilly.la_code, scilly.lsoa_count) == ("420", 1)
    with pytest.raises(ApgeoValueError, match="unknown"):
        resolve_area("London")


# ---------------------------------------------------------------- the resolver


@pytest.mark.parametrize(
    "query",
    [
        "Sheffield",
        "sheffield",
        " SHEFFIELD ",
        "Sheffield City Council",
        373,
        "373",
        "E08000019",
        "E08000039",
        "e08000039",
    ],
)
def test_sheffield_by_name_number_and_codes(query: str | int) -> None:
    area = resolve_area(query)
    assert area == resolve_area("Sheffield")
    assert isinstance(area, Area)
    assert area.la_code == "373" and area.la_number == 373
    assert area.ons_codes == ("E08000039", "E08000019")
    assert area.region == "Yorkshire and The Humber"
    assert len(area_lsoas(query)) == 345


def test_sheffield_lsoas_match_the_sheffield_extract() -> None:
    got = area_lsoas("Sheffield")
    assert list(got.columns) == [
        "area_id",
        "area_name",
        "lad19cd",
        "lad19nm",
        "la_code",
        "la_name",
        "easting_m",
        "northing_m",
        "children_0_15",
        "imd_decile",
        "idaci_decile",
    ]
    assert got["area_id"].is_monotonic_increasing
    ref = pd.read_csv(
        ROOT / "data/sheffield/deprivation/sheffield_imd2019_file6_population_denominators.csv",
        thousands=",",
    )
    assert set(got["area_id"]) == set(ref["LSOA code (2011)"])
    col = next(c for c in ref.columns if c.startswith("Dependent Children aged 0-15"))
    assert got["children_0_15"].sum() == ref[col].sum() == resolve_area(373).children_0_15


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("Hull", "810"),
        ("Kingston upon Hull", "810"),
        ("Kingston upon Hull, City of", "810"),
        ("Bristol", "801"),
        ("St Helens", "342"),
        ("st. helens", "342"),
        ("Herefordshire", "884"),
        ("Westmorland & Furness", "943"),
        ("County Durham", "840"),
        ("E10000016", "886"),
        (886, "886"),
    ],
)
def test_names_and_aliases(query: str | int, code: str) -> None:
    assert resolve_area(query).la_code == code


def test_unknown_area_suggests_close_matches() -> None:
    with pytest.raises(ApgeoValueError, match=r"did you mean Sheffield \(373\)"):
        resolve_area("Shefield")
    with pytest.raises(ApgeoValueError, match="DfE LA number 999"):
        resolve_area(999)
    with pytest.raises(ApgeoValueError, match="ONS code E12000001"):
        resolve_area("E12000001")
    with pytest.raises(ApgeoValueError, match="not bool"):
        resolve_area(True)  # type: ignore[arg-type]


def test_district_names_point_to_their_county() -> None:
    with pytest.raises(
        ApgeoValueError, match=r"Sevenoaks \(E07000111\) is a district.*Kent \(LA 886\)"
    ):
        resolve_area("Sevenoaks")
    with pytest.raises(ApgeoValueError, match=r"Kent \(LA 886\)"):
        resolve_area("E07000111")


def test_all_areas_round_trip() -> None:
    areas = all_areas()
    assert len(areas) == 153
    for a in areas:
        assert resolve_area(a.la_code) == a
        assert resolve_area(a.name) == a
        assert resolve_area(a.ons_code_2025) == a


def test_missing_extract_says_how_to_rebuild(tmp_path: Path) -> None:
    with pytest.raises(DataFileNotFoundError, match="make_england_extract"):
        resolve_area("Sheffield", extract_dir=tmp_path)


# ---------------------------------------------------------------- children by key stage


def test_key_stage_split_rule() -> None:
    assert KEY_STAGE_SHARE_OF_0_15 == {"KS1": 2 / 16, "KS2": 4 / 16, "KS3": 3 / 16, "KS4": 2 / 16}
    assert "2/16" in KEY_STAGE_SPLIT_RULE and "mid-2015" in KEY_STAGE_SPLIT_RULE
    out = split_children_by_key_stage(pd.DataFrame({"children_0_15": [160, 16]}))
    assert out["children_ks3"].tolist() == [30.0, 3.0]
    assert out[["children_ks1", "children_ks2", "children_ks3", "children_ks4"]].sum(
        axis=1
    ).tolist() == [110.0, 11.0]
    with pytest.raises(MissingColumnError):
        split_children_by_key_stage(pd.DataFrame({"x": [1]}))


# ---------------------------------------------------------------- GIAS


def test_area_gias_selects_by_la_code() -> None:
    gias = _gias_stub()
    assert area_gias("Sheffield", gias)["urn"].tolist() == ["1", "2", "4"]
    numeric = gias.assign(la_code=[373, 373, 886, 373])
    assert area_gias(886, numeric)["urn"].tolist() == ["3"]


def test_ap_settings_england_types_and_missing_coordinates() -> None:
    with pytest.warns(ApgeoWarning, match="URN 4 Lost AP"):
        ap = ap_settings_england(_gias_stub())
    assert ap["urn"].tolist() == ["1", "3"]
    assert ap.crs is not None and ap.crs.to_epsg() == 27700
    assert ap.geometry.x.tolist() == [436000.0, 560000.0]
    kent = ap_settings_england(
        _gias_stub(easting=["1", "1", "560000", "1"], northing=["1", "1", "155000", "1"]),
        area="Kent",
    )
    assert kent["urn"].tolist() == ["3"]


@pytest.mark.skipif(not RAW_GIAS.is_file(), reason="England GIAS extract not available")
def test_ap_settings_england_on_real_gias() -> None:
    gias = load_gias_england(RAW_GIAS)
    ap = ap_settings_england(gias)
    assert set(ap["establishment_type"]) == set(AP_ESTABLISHMENT_TYPES)
    assert len(ap) == 333
    sheffield = ap_settings_england(gias, area=373)
    assert sheffield["urn"].tolist() == ["137596"]  # Sheffield Inclusion Centre
    assert len(area_gias("Sheffield", gias)) == 194


def test_load_gias_england_missing(tmp_path: Path) -> None:
    with pytest.raises(DataFileNotFoundError, match="configure"):
        load_gias_england(tmp_path / "nope.csv")
