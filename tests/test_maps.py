"""The study map: layers, escaping, size, popups, legend, input checks (offline)."""

from __future__ import annotations

import html
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from apgeo import CRSError, MissingColumnError
from apgeo._errors import ApgeoValueError
from apgeo.inputs.demand import load_la_boundary, load_wards
from apgeo.outputs.map_layers import (
    ACCESS_COLDSPOT_LAYER,
    GI_LAYER,
    RECOMMENDATIONS_LAYER,
    WARDS_LAYER,
    catchment_layer_name,
)
from apgeo.outputs.maps import save_map, study_map

EVIL = "<script>alert(1)</script>"
TEMPLATE_EVIL = "${alert(2)}`"
METHOD = (
    "Travel times: STRAIGHT-LINE ESTIMATE (crow-fly distance x 1.3 at mode speed), "
    "not a street network"
)


@pytest.fixture(scope="module")
def layers(sheffield_providers, sheffield_demand, data_dir):
    providers = sheffield_providers.copy()
    providers.loc[providers.index[0], "name"] = EVIL + " " + TEMPLATE_EVIL
    areas = sheffield_demand.copy()
    rng = np.random.default_rng(42)
    areas["travel_time_s"] = rng.uniform(60, 4000, len(areas))
    areas.loc[areas.index[:4], "travel_time_s"] = np.nan
    located = providers[providers["located"]]
    parts = []
    for mode, metres_per_min in (("walk", 80.0), ("car", 500.0)):
        for threshold in (15, 30):
            part = gpd.GeoDataFrame(
                {"provider_id": located["provider_id"].to_numpy(), "mode": mode},
                geometry=located.geometry.buffer(metres_per_min * threshold / 1.3).to_numpy(),
                crs="EPSG:27700",
            )
            part["threshold_min"] = threshold
            parts.append(part)
    catchments = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), crs="EPSG:27700")
    coldspots = areas.iloc[:15][["area_id", "area_name", "ward_name", "geometry"]].copy()
    coldspots["reason"] = "over 30 min to KS3 provision by walk " + EVIL
    clusters = areas[["area_id", "area_name", "geometry"]].copy()
    idx = np.arange(len(clusters))
    clusters["gi_label"] = np.where(
        idx % 9 == 0,
        "hot (far, significant)",
        np.where(idx % 13 == 0, "cold (near, significant)", "not significant"),
    )
    recommendations = gpd.GeoDataFrame(
        {
            "rank": [1, 2],
            "site_name": ["Candidate A " + EVIL, "Candidate B"],
            "newly_reached_children": [412.0, 133.0],
            "why": ["largest access cold spot cluster", "north-east gap"],
        },
        geometry=gpd.points_from_xy([435000, 441000], [390000, 382000]),
        crs="EPSG:27700",
    )
    return {
        "providers": providers,
        "areas": areas,
        "wards": load_wards(data_dir=data_dir),
        "boundary": load_la_boundary(data_dir=data_dir),
        "catchments": catchments,
        "coldspots": coldspots,
        "clusters": clusters,
        "recommendations": recommendations,
    }


@pytest.fixture(scope="module")
def saved(layers, tmp_path_factory) -> tuple[Path, str]:
    m = study_map(
        **layers,
        area_value_column="travel_time_s",
        area_value_label="Travel time to nearest provider by walk (minutes)",
        title="Sheffield AP access (test)",
        method_note=METHOD,
    )
    path = save_map(m, tmp_path_factory.mktemp("maps") / "sub" / "study.html")
    return path, path.read_text(encoding="utf-8")


def test_saved_file_exists_and_is_small(saved):
    path, _ = saved
    assert path.is_file()
    size_mb = path.stat().st_size / 1e6
    assert size_mb < 5, f"map is {size_mb:.2f} MB"


def test_layer_names_present(saved, layers):
    _, text = saved
    names = [
        ACCESS_COLDSPOT_LAYER,
        GI_LAYER,
        RECOMMENDATIONS_LAYER,
        WARDS_LAYER,
        catchment_layer_name("walk", 15),
        catchment_layer_name("car", 30),
        "Travel time to nearest provider by walk (minutes)",
        "Providers: Special school (AP-adjacent)",
        "Providers: Hospital education (1)",
    ]
    for name in names:
        assert html.escape(name) in text or name in text, name
    assert "Access cold spots (far from suitable provision)" in text
    assert "Gi* clusters of travel time (statistical)" in text


def test_only_first_catchment_layer_shown(layers):
    m = study_map(
        providers=layers["providers"], catchments=layers["catchments"], title="t", method_note="m"
    )
    groups = {c.layer_name: c for c in m._children.values() if hasattr(c, "layer_name")}
    shown = [n for n, g in groups.items() if n.startswith("Catchments") and g.show]
    assert shown == [catchment_layer_name("car", 15)]
    assert sum(n.startswith("Catchments") for n in groups) == 4


def test_data_text_is_escaped(saved):
    _, text = saved
    assert EVIL not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    # nothing from the data can open a JS template-literal expression
    assert "${alert(2)}" not in text
    assert "&#36;{alert(2)}" in text


def test_method_note_and_title_shown(saved):
    _, text = saved
    assert METHOD in text
    assert 'id="apgeo-method-note"' in text
    assert "<title>Sheffield AP access (test)</title>" in text


def test_popups_link_to_gias(saved, layers):
    _, text = saved
    urns = layers["providers"].loc[layers["providers"]["located"], "urn"].dropna()
    urn = str(urns.iloc[0])
    assert (
        f"https://get-information-schools.service.gov.uk/Establishments/Establishment/Details/{urn}"
        in text
    )
    assert "Capacity: unknown" in text
    assert "Capacity: 262 places" in text


def test_nan_legend(saved):
    _, text = saved
    # no journey limit given: no time means no route; never "NaN" on the page
    assert "Not reachable (no route to any site) (4 areas)" in text
    assert "not reachable (no route to any site)" in text  # in the tooltips of those areas
    assert "(NaN)" not in text


def test_unreachable_within_the_journey_limit(tmp_path, layers):
    areas = layers["areas"]  # four areas have no time
    m = study_map(
        providers=layers["providers"],
        areas=areas,
        area_value_column="travel_time_s",
        title="t",
        method_note="public transport: timetable",
        unreachable_within_min=120,
    )
    text = save_map(m, tmp_path / "u.html").read_text(encoding="utf-8")
    assert "Not reachable within 120 min (4 areas)" in text
    assert "not reachable within 120 min" in text


def test_not_located_listed_not_drawn(saved, layers):
    _, text = saved
    providers = layers["providers"]
    missing = providers.loc[~providers["located"], "name"]
    assert f"Not located ({len(missing)})" in text
    for name in missing:
        assert html.escape(name) in text
    n_markers = len(re.findall(r"L\.circleMarker\(", text))
    assert n_markers == int(providers["located"].sum())


def test_coordinates_rounded(saved):
    _, text = saved
    data = re.sub(r"<script>/\* \S+ \(inlined\) \*/.*?</script>", "", text, flags=re.S)
    assert not re.search(r"-?\d+\.\d{8,}", data.split("<script>", 1)[-1][:200_000])


def test_cold_spot_meanings_stated(saved):
    _, text = saved
    assert "Access cold spot" in text and "Gi* cluster" in text
    assert "Centre for Social Justice" in text


def test_does_not_mutate_inputs(layers):
    before = layers["areas"].copy()
    study_map(
        providers=layers["providers"],
        areas=layers["areas"],
        area_value_column="travel_time_s",
        title="t",
        method_note="m",
    )
    pd.testing.assert_frame_equal(layers["areas"], before)


def test_quantile_bins_for_other_values(layers, tmp_path):
    areas = layers["areas"].copy()
    areas["places_per_1000"] = np.linspace(0, 50, len(areas))
    m = study_map(
        providers=layers["providers"],
        areas=areas,
        area_value_column="places_per_1000",
        title="t",
        method_note="m",
    )
    text = save_map(m, tmp_path / "q.html").read_text(encoding="utf-8")
    assert "places_per_1000" in text and "(0 areas)" in text  # no NaN


# ---- bad input ------------------------------------------------------------------------------


def test_missing_provider_columns_named(layers):
    with pytest.raises(MissingColumnError, match="'kind'"):
        study_map(providers=layers["providers"].drop(columns="kind"), title="t", method_note="m")


def test_missing_coldspot_reason_named(layers):
    with pytest.raises(MissingColumnError, match=r"coldspots is missing column.*'reason'"):
        study_map(
            providers=layers["providers"],
            coldspots=layers["coldspots"].drop(columns="reason"),
            title="t",
            method_note="m",
        )


def test_missing_value_column_named(layers):
    with pytest.raises(MissingColumnError, match="'travel_time_min'"):
        study_map(
            providers=layers["providers"],
            areas=layers["areas"],
            area_value_column="travel_time_min",
            title="t",
            method_note="m",
        )


def test_no_crs(layers):
    wards = layers["wards"].copy()
    wards = gpd.GeoDataFrame(
        pd.DataFrame(wards.drop(columns="geometry")), geometry=list(wards.geometry)
    )
    with pytest.raises(CRSError, match="wards has no CRS"):
        study_map(providers=layers["providers"], wards=wards, title="t", method_note="m")


def test_value_column_without_areas(layers):
    with pytest.raises(ApgeoValueError, match="without areas"):
        study_map(
            providers=layers["providers"],
            area_value_column="travel_time_s",
            title="t",
            method_note="m",
        )


def test_empty_method_note(layers):
    with pytest.raises(ApgeoValueError, match="method_note"):
        study_map(providers=layers["providers"], title="t", method_note=" ")


def test_bad_bins(layers):
    with pytest.raises(ApgeoValueError, match="area_bins"):
        study_map(
            providers=layers["providers"],
            areas=layers["areas"],
            area_value_column="travel_time_s",
            area_bins=[10, 5],
            title="t",
            method_note="m",
        )


def test_not_a_geodataframe(layers):
    with pytest.raises(ApgeoValueError, match="providers must be a GeoDataFrame"):
        study_map(providers=pd.DataFrame(layers["providers"]), title="t", method_note="m")


def test_offline_assets_inlined(tmp_path, layers):
    js = tmp_path / "leaflet.js"
    js.write_text("window.__fake_leaflet = 1; // </script> must not close the tag")
    m = study_map(providers=layers["providers"], title="t", method_note="m")
    text = save_map(m, tmp_path / "o.html", offline_assets={"leaflet.js": js}).read_text()
    assert "window.__fake_leaflet = 1" in text
    assert "leaflet@1.9.3/dist/leaflet.js" not in text
    assert "leaflet@1.9.3/dist/leaflet.css" not in text  # the bundled copy is inlined
    assert "// <\\/script> must not" in text


def test_saved_maps_load_nothing_from_the_web(saved):
    from apgeo.outputs.maps import online_links

    _, text = saved
    assert online_links(text) == []
    assert "Leaflet 1.9.3" in text and "jQuery v3.7.1" in text


def test_bundled_assets_and_licences_ship():
    from apgeo.outputs.maps import ASSETS_DIR, bundled_assets

    for name, path in bundled_assets().items():
        assert path.is_file() and path.stat().st_size > 500, name
    licences = (ASSETS_DIR / "LICENSES.md").read_text(encoding="utf-8")
    assert "BSD 2-Clause" in licences and "Permission is hereby granted" in licences


def test_folium_bootstrap_is_not_loaded(saved):
    _, text = saved
    assert "bootstrap" not in text.lower() and "awesome-markers" not in text


def test_colocated_sites_are_spread(saved):
    _, text = saved
    assert 'map.on("zoomend viewreset", place)' in text
    assert "sites close together are drawn side by side" in text


def test_providers_drawn_above_lines(saved):
    _, text = saved
    assert 'map.createPane("apgeo-sites")' in text or "apgeo-sites" in text
    assert '"pane": "apgeo-sites"' in text


def test_title_box_folds_away(saved):
    _, text = saved
    assert '<details id="apgeo-title" open' in text and "<summary" in text


def test_offline_asset_missing_file(tmp_path, layers):
    m = study_map(providers=layers["providers"], title="t", method_note="m")
    with pytest.raises(ApgeoValueError, match=r"leaflet\.js"):
        save_map(m, tmp_path / "o.html", offline_assets={"leaflet.js": tmp_path / "nope.js"})


def test_empty_layers_are_drawn_without_error(tmp_path):
    import geopandas as gpd

    from apgeo.inputs.providers import load_sheffield_providers
    from apgeo.outputs.maps import save_map, study_map

    providers = load_sheffield_providers()
    empty_cold = gpd.GeoDataFrame({"area_id": [], "reason": []}, geometry=[], crs="EPSG:27700")
    empty_gi = gpd.GeoDataFrame({"area_id": [], "gi_label": []}, geometry=[], crs="EPSG:27700")
    m = study_map(
        providers=providers, coldspots=empty_cold, clusters=empty_gi, title="t", method_note="n"
    )
    out = save_map(m, tmp_path / "empty.html")
    assert "Access cold spots" in out.read_text(encoding="utf-8")


def test_many_sites_catchments_are_drawn_joined_and_the_map_stays_small(layers, tmp_path):
    """5,000 sites: per mode and threshold, one joined catchment (named as such) instead of
    a polygon per site, and the sites as one layer of circle markers; the map stays a size
    a browser opens (50,000 sites' separate catchments made a 227 MB map)."""
    import shapely

    from apgeo.outputs.map_layers import MAX_SEPARATE_CATCHMENTS

    rng = np.random.default_rng(3)
    n = 5_000
    points = gpd.points_from_xy(rng.uniform(428_000, 445_000, n), rng.uniform(380_000, 395_000, n))
    parts = []
    for threshold in (15, 30):
        part = gpd.GeoDataFrame({"provider_id": [f"X{i}" for i in range(n)], "mode": "walk"},
                                geometry=points.buffer(80.0 * threshold / 1.3), crs="EPSG:27700")
        part["threshold_min"] = threshold
        parts.append(part)
    few = layers["catchments"][layers["catchments"]["mode"] == "car"]  # 19 sites: drawn one by one
    catchments = gpd.GeoDataFrame(pd.concat([*parts, few], ignore_index=True), crs="EPSG:27700")
    extra = gpd.GeoDataFrame(
        {"provider_id": [f"X{i}" for i in range(n)], "site_id": [f"X{i}" for i in range(n)],
         "name": [f"Extra {i}" for i in range(n - 1)] + [EVIL], "kind": "framework_provider",
         "key_stages": "KS3,KS4", "located": True},
        geometry=points, crs="EPSG:27700",
    )
    providers = gpd.GeoDataFrame(pd.concat([layers["providers"], extra], ignore_index=True), crs="EPSG:27700")
    m = study_map(providers=providers, catchments=catchments, title="t", method_note="m")
    path = save_map(m, tmp_path / "many.html")
    text = path.read_text(encoding="utf-8")
    assert path.stat().st_size < 5e6, path.stat().st_size
    assert text.count("5,000 sites, joined") == 2  # one area per walking threshold
    assert f"More than {MAX_SEPARATE_CATCHMENTS:,} sites at a threshold" in text
    names = layers["providers"].set_index("provider_id")["name"]
    plain = [str(names[p]) for p in few["provider_id"].unique() if p in names.index and "<" not in str(names[p])]
    assert plain and all(html.escape(name) in text for name in plain)  # car: one catchment per site
    # the 5,000 framework sites: one layer of circle markers, names escaped, named in the legend
    assert "(5,000)" in text and text.count("Extra 4998") == 2 and EVIL not in text  # tooltip and popup
    assert '"Site": "Extra 0"' in text and "pointToLayer" in text
    joined = shapely.union_all(np.asarray(parts[0].geometry.values))
    assert joined.area > 0.9 * shapely.box(428_000, 380_000, 445_000, 395_000).area  # the city covered


def test_geojson_layer_writes_what_folium_writes() -> None:
    """A GeoJsonLayer page holds the lines of a folium.GeoJson page (features, styles,
    tooltip), the features added by a line of their own after the layer's script."""
    import folium

    from apgeo.outputs.geojson_layer import GeoJsonLayer

    data = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": str(i), "properties": {"name": f"<area {i}> & 'x'", "v": i},
             "geometry": {"type": "Point", "coordinates": [-1.47 + i / 100, 53.38]}}
            for i in range(3)
        ],
    }

    def page(layer_class: type) -> list[str]:
        m = folium.Map(location=[53.38, -1.47], zoom_start=12, tiles=None)
        layer_class(
            data, name="areas", style_function=lambda f: {"color": "red" if f["properties"]["v"] else "blue"},
            tooltip=folium.GeoJsonTooltip(fields=["name"]),
        ).add_to(m)
        text = re.sub(r"[0-9a-f]{32}", "ID", m.get_root().render())
        return [line.strip() for line in text.splitlines() if line.strip()]

    theirs, ours = page(folium.GeoJson), page(GeoJsonLayer)
    empty = 'geo_json_ID_add({"features": [], "type": "FeatureCollection"});'
    assert ours.count(empty) == 1 and empty not in theirs
    assert sorted(line for line in ours if line != empty) == sorted(theirs)
    features = next(k for k, line in enumerate(ours) if line.startswith("geo_json_ID_add({\"features\": [{"))
    assert ours.index(empty) < features < next(k for k, line in enumerate(ours) if "bindTooltip" in line)
    assert "\\u003carea 0\\u003e \\u0026 \\u0027x\\u0027" in "\n".join(ours)  # cannot close the script


def test_feature_rows_are_the_rows_iterrows_gives(sheffield_providers, sheffield_demand) -> None:  # type: ignore[no-untyped-def]
    """The properties callback sees each row's values as ``iterrows`` gives them (same
    objects, same types) and the row's index label as ``name``."""
    from apgeo.outputs.geojson_layer import feature_collection

    for table in (sheffield_providers, sheffield_demand):
        seen: list[dict] = []

        def keep(row: dict, seen: list[dict] = seen) -> dict[str, str]:
            seen.append(dict(row, _name=row.name))  # type: ignore[attr-defined]
            return {}

        data = feature_collection(table, keep)
        expected = [dict(row, _name=name) for name, row in table.iterrows()]
        assert len(data["features"]) == len(table) == len(seen)
        for got, want in zip(seen, expected, strict=True):
            assert got.keys() == want.keys()
            for key in want:
                a, b = got[key], want[key]
                assert type(a) is type(b), key
                assert a is b or a == b or (pd.isna(a) and pd.isna(b)), key
