"""Providers: the real Sheffield data and every bad-input case, asserting messages."""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from apgeo import ApgeoWarning
from apgeo._errors import ApgeoValueError, CRSError, DuplicateIdError, MissingColumnError
from apgeo.inputs.providers import (
    filter_providers,
    load_ap_settings,
    load_gias_providers,
    read_providers,
    split_located,
)
from apgeo.schema import ProviderKind


def test_inclusion_centre_located_at_gias_coordinates(sheffield_providers):
    sic = sheffield_providers[sheffield_providers["urn"] == "137596"].iloc[0]
    assert sic["kind"] == "inclusion_centre"
    assert (sic.geometry.x, sic.geometry.y) == (437318.0, 385597.0)
    assert sic["key_stages"] == "KS1,KS2,KS3,KS4"
    assert sic["capacity_places"] == 262


def test_sheffield_providers_kinds_and_nothing_dropped(sheffield_providers):
    ap = load_ap_settings()
    assert len(ap) == 13  # every row of the AP settings list, located or not
    _located, not_located = split_located(sheffield_providers)
    assert set(not_located["name"]) == {
        "PET XI Training",
        "Active Education",
        "Growing Wild Woodland Nursery",
        "Make A Difference Provision Limited",
        "Sheaf Training",
    }
    hubs = sheffield_providers[sheffield_providers["kind"] == "primary_ap_hub"]
    assert set(hubs["urn"]) == {"143052", "142749"} and (hubs["key_stages"] == "KS1,KS2").all()
    assert sheffield_providers["site_id"].is_unique
    assert sheffield_providers.crs == "EPSG:27700"
    assert set(sheffield_providers["kind"]) <= {k.value for k in ProviderKind}
    # special schools from GIAS that are not in the AP list are added
    assert (sheffield_providers["kind"] == "special_school").sum() >= 10


def test_gias_filters_by_either_la_code():
    a = load_gias_providers(la_codes=["373"])
    b = load_gias_providers(la_codes=["E08000039"])
    c = load_gias_providers(la_codes=["E08000019"])
    assert list(a["urn"]) == list(b["urn"]) == list(c["urn"])
    assert "137596" in set(a["urn"])
    assert a.loc[a["urn"] == "137596", "kind"].item() == "inclusion_centre"


def test_filter_by_kind_and_key_stage(sheffield_providers):
    ks1 = filter_providers(sheffield_providers, kinds=["inclusion_centre", "primary_ap_hub"], key_stage="KS1")
    assert len(ks1) == 3
    ks5 = filter_providers(sheffield_providers, kinds=["inclusion_centre", "primary_ap_hub"], key_stage="KS5")
    assert len(ks5) == 0
    with pytest.raises(ApgeoValueError, match="unknown provider kind 'school'"):
        filter_providers(sheffield_providers, kinds=["school"])


# ---------------------------------------------------------------- user files


def _csv(tmp_path, text, name="p.csv", encoding="utf-8"):
    p = tmp_path / name
    p.write_bytes(text.encode(encoding))
    return p


def test_user_csv_easting_northing_with_cp1252_and_thousands(tmp_path):
    p = _csv(
        tmp_path,
        "provider_id,name,kind,key_stages,capacity_places,easting,northing\n"
        'A,Caf\u00e9 Provision,framework_provider,KS3-KS4,"1,234","437,318",385597\n',
        encoding="cp1252",
    )
    out = read_providers(p)
    assert out["name"].item() == "Caf\u00e9 Provision"
    assert out["capacity_places"].item() == 1234.0
    assert out["key_stages"].item() == "KS3,KS4"
    assert out.geometry.item().equals(Point(437318, 385597))


def test_user_csv_with_bom_and_lat_lon(tmp_path):
    p = _csv(tmp_path, "\ufeffprovider_id,name,kind,latitude,longitude\nA,X,pru,53.3659,-1.4407\n")
    out = read_providers(p)
    assert out.crs == "EPSG:27700"
    assert abs(out.geometry.item().x - 437318) < 50 and abs(out.geometry.item().y - 385597) < 50


def test_user_csv_postcodes_normalised_and_unknown_kept(tmp_path):
    p = _csv(tmp_path, "provider_id,name,kind,postcode\nA,X,pru,s2  2jq\nB,Y,pru,ZZ9 9ZZ\nC,Z,pru,not a postcode\n")
    with pytest.warns(ApgeoWarning) as record:
        out = read_providers(p)
    messages = [str(w.message) for w in record]
    assert any("row(s) 3 are well formed but not in the postcode data" in m for m in messages)
    assert any("row(s) 4 are not a valid UK postcode" in m for m in messages)
    assert list(out["located"]) == [True, False, False]
    assert out.loc[0, "postcode"] == "S2 2JQ"
    assert list(out["location_note"][1:]) == ["unknown postcode: not located", "invalid postcode: not located"]


def test_terminated_postcode_resolves_with_warning(tmp_path):
    p = _csv(tmp_path, "provider_id,name,kind,postcode\nA,X,pru,S1 1AB\n")
    with pytest.warns(ApgeoWarning, match="terminated postcode"):
        out = read_providers(p)
    assert out["located"].item()


def test_missing_column_names_it_and_lists_found(tmp_path):
    p = _csv(tmp_path, "provider_id,title,kind,easting,northing\nA,X,pru,437318,385597\n")
    with pytest.raises(MissingColumnError) as err:
        read_providers(p)
    assert "missing column(s) 'name'" in str(err.value) and "columns found: provider_id, title" in str(err.value)


def test_no_location_columns(tmp_path):
    p = _csv(tmp_path, "provider_id,name,kind\nA,X,pru\n")
    with pytest.raises(MissingColumnError, match="has no location: give a point geometry"):
        read_providers(p)


def test_duplicate_provider_id(tmp_path):
    p = _csv(tmp_path, "provider_id,name,kind,easting,northing\nA,X,pru,437318,385597\nA,Y,pru,437000,385000\n")
    with pytest.raises(DuplicateIdError, match=r"'provider_id' \(the organisation.*repeats at row\(s\) 2, 3 \(A\).*add 'site_id'"):
        read_providers(p)


def test_negative_capacity(tmp_path):
    p = _csv(tmp_path, "provider_id,name,kind,capacity_places,easting,northing\nA,X,pru,-3,437318,385597\n")
    with pytest.raises(ApgeoValueError, match=r"'capacity_places' must be >= 0.*negative for A \(-3\)"):
        read_providers(p)


def test_non_numeric_capacity_names_row(tmp_path):
    p = _csv(tmp_path, "provider_id,name,kind,capacity_places,easting,northing\nA,X,pru,ten,437318,385597\n")
    with pytest.raises(ApgeoValueError, match=r"'capacity_places' has non-numeric values at row\(s\) 2"):
        read_providers(p)


def test_empty_table(tmp_path):
    with pytest.raises(ApgeoValueError, match="has no rows"):
        read_providers(_csv(tmp_path, "provider_id,name,kind,easting,northing\n"))
    with pytest.raises(ApgeoValueError, match="is empty"):
        read_providers(_csv(tmp_path, "", name="empty.csv"))


def test_swapped_lat_lon_detected(tmp_path):
    p = _csv(tmp_path, "provider_id,name,kind,latitude,longitude\nA,X,pru,-1.44,53.37\n")
    with pytest.raises(ApgeoValueError, match=r"longitude/latitude look swapped for 1 row\(s\) \(A\)"):
        read_providers(p)


def test_impossible_easting_northing_detected(tmp_path):
    p = _csv(tmp_path, "provider_id,name,kind,easting,northing\nA,X,pru,685597,337318\n")
    with pytest.raises(ApgeoValueError, match=r"fall outside England: A \(685597, 337318\); check the easting/northing"):
        read_providers(p)


def test_point_outside_england(tmp_path):
    p = _csv(tmp_path, "provider_id,name,kind,latitude,longitude\nA,X,pru,48.85,2.35\n")
    with pytest.raises(ApgeoValueError, match=r"1 point\(s\) fall outside England: A \(2.35, 48.85\)"):
        read_providers(p)


def test_degrees_in_easting_columns(tmp_path):
    p = _csv(tmp_path, "provider_id,name,kind,easting,northing\nA,X,pru,-1.44,53.37\n")
    with pytest.raises(ApgeoValueError, match="hold degrees"):
        read_providers(p)


def test_geodataframe_without_crs(tmp_path):
    gdf = gpd.GeoDataFrame({"provider_id": ["A"], "name": ["X"], "kind": ["pru"]}, geometry=[Point(437318, 385597)])
    p = tmp_path / "p.gpkg"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # pyogrio warns that no CRS is written
        gdf.to_file(p)
    with pytest.raises(CRSError, match=r"has no CRS; set it first, e.g. gdf.set_crs\('EPSG:27700'\)"):
        read_providers(p)


def test_geojson_in_degrees_is_reprojected(tmp_path):
    gdf = gpd.GeoDataFrame(
        {"provider_id": ["A"], "name": ["X"], "kind": ["pru"], "capacity_places": [0]},
        geometry=[Point(-1.4407, 53.3659)],
        crs="EPSG:4326",
    )
    p = tmp_path / "p.geojson"
    gdf.to_file(p)
    out = read_providers(p)
    assert out.crs == "EPSG:27700" and abs(out.geometry.item().x - 437318) < 50
    assert out["capacity_places"].item() == 0.0  # zero capacity is allowed


def test_missing_coordinates_warn_and_keep(tmp_path):
    p = _csv(tmp_path, "provider_id,name,kind,easting,northing\nA,X,pru,437318,385597\nB,Y,pru,,\n")
    with pytest.warns(ApgeoWarning, match=r"1 provider\(s\) have no location at row\(s\) 3 \(B\)"):
        out = read_providers(p)
    assert list(out["located"]) == [True, False]
    assert np.isnan(out["capacity_places"]).all()


def test_unknown_kind_and_key_stage(tmp_path):
    p = _csv(tmp_path, "provider_id,name,kind,easting,northing\nA,X,school,437318,385597\n")
    with pytest.raises(ApgeoValueError, match="unknown provider kind 'school'"):
        read_providers(p)
    p = _csv(tmp_path, "provider_id,name,kind,key_stages,easting,northing\nA,X,pru,KS9,437318,385597\n")
    with pytest.raises(ApgeoValueError, match="unknown key stage 'KS9'"):
        read_providers(p)


def test_dataframe_input_not_mutated():
    frame = pd.DataFrame({"provider_id": ["A"], "name": ["X"], "kind": ["PRU"], "easting": [437318], "northing": [385597]})
    before = frame.copy()
    read_providers(frame)
    pd.testing.assert_frame_equal(frame, before)


def test_any_english_postcode_is_located_offline(tmp_path):
    """Postcodes outside the committed study data come from the national directory."""
    p = _csv(tmp_path, "provider_id,name,kind,postcode\nA,X,pru,LS1 1UR\nB,Y,pru,m1 1ae\n")
    out = read_providers(p)
    assert out["located"].all()
    leeds = out.geometry.iloc[0]
    assert 425_000 < leeds.x < 435_000 and 428_000 < leeds.y < 438_000  # central Leeds
    assert out["location_note"].iloc[0] == "postcode centroid (national directory)"


def test_national_directory_read_through_its_public_interface(monkeypatch, tmp_path):
    """The directory's files are found by its own ``Postcodes`` class (QLACREF_DATA_DIR
    included), and a directory without them is a loud error, not every postcode unknown."""
    from apgeo import DataFileNotFoundError
    from apgeo.inputs import geocode

    monkeypatch.setattr(geocode, "_national_letter", geocode._national_letter.__wrapped__)
    found = geocode.national_postcodes(pd.Series(["LS1 1UR", "QQ1 1QQ"]))
    assert found["easting"].notna().tolist() == [True, False]
    monkeypatch.setenv("QLACREF_DATA_DIR", str(tmp_path / "no such folder"))
    with pytest.raises(DataFileNotFoundError, match=r"no postcodes starting with 'L'.*reinstall"):
        geocode.national_postcodes(pd.Series(["LS1 1UR"]))
    # a letter no UK postcode area starts with finds nothing, and that is no error
    assert geocode.national_postcodes(pd.Series(["QQ1 1QQ"]))["easting"].isna().all()
