"""A council's GIS: PostGIS in and out (a real server), QGIS styles in the GeoPackage,
GeoParquet, and the connection string rules."""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from apgeo import schema as S
from apgeo._errors import ConfigError, CRSError, DatabaseError, MissingColumnError
from apgeo._postgis import (
    PostgisSettings,
    connection,
    read_layer,
    read_table,
    table_comment,
    write_tables,
)
from apgeo.outputs.files import planner_table
from apgeo.settings import repo_root
from apgeo.study.config import load_config

SERVER_DIR = Path(os.environ.get("APGEO_PG_DIR", "/tmp/apgeo-postgis"))


def _server() -> tuple[str, str] | None:
    dsn = os.environ.get("APGEO_TEST_POSTGIS_DSN")
    password = os.environ.get("APGEO_TEST_POSTGIS_PASSWORD")
    if dsn is None and (SERVER_DIR / "dsn").is_file():
        dsn = (SERVER_DIR / "dsn").read_text().strip()
        password = (SERVER_DIR / "password").read_text().strip()
    if not dsn:
        return None
    try:
        import psycopg

        psycopg.connect(dsn, password=password or "", connect_timeout=3).close()
    except Exception:
        return None
    return dsn, password or ""


@pytest.fixture(scope="module")
def postgis():
    found = _server()
    if found is None:
        pytest.skip("no PostGIS test server: `make postgis-deps` (Debian packages, root) starts one")
    dsn, password = found
    os.environ["APGEO_TEST_PG_PASSWORD"] = password
    return PostgisSettings(dsn=dsn, password_env="APGEO_TEST_PG_PASSWORD")


def _points() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {S.PROVIDER_ID: ["A", "B"], S.NAME: ["Alpha", "Beta"], S.KIND: ["pru", "special_school"]},
        geometry=[Point(435000, 387000), Point(436000, 388000)], crs="EPSG:27700",
    )


def test_postgis_bad_input_is_a_clear_error(postgis):
    write_tables(postgis, {"points": _points()}, schema="apgeo_test_bad", comments={"points": "apgeo study test"})
    with connection(postgis) as conn:
        with pytest.raises(DatabaseError, match=r"apgeo_test_bad\.nowhere.*does not exist.*apgeo_test_bad\.points"):
            read_layer(conn, "apgeo_test_bad.nowhere", id_column=S.PROVIDER_ID)
        with pytest.raises(MissingColumnError, match=r"no id column 'provider_id'.*SELECT your_id AS provider_id"):
            read_layer(conn, "SELECT name, geometry FROM apgeo_test_bad.points", id_column=S.PROVIDER_ID)
        with pytest.raises(CRSError, match=r"EPSG:4326, not EPSG:27700.*ST_Transform"):
            read_layer(conn, "SELECT provider_id, ST_Transform(geometry, 4326) AS geometry FROM apgeo_test_bad.points",
                       id_column=S.PROVIDER_ID)
        with pytest.raises(CRSError, match="SRID is wrong"):  # BNG metres labelled as degrees
            read_layer(conn, "SELECT provider_id, ST_SetSRID(geometry, 4326) AS geometry FROM apgeo_test_bad.points",
                       id_column=S.PROVIDER_ID, srid=4326)
    os.environ["APGEO_TEST_WRONG_PASSWORD"] = "not-the-password"
    wrong = PostgisSettings(dsn=postgis.dsn, password_env="APGEO_TEST_WRONG_PASSWORD")
    with pytest.raises(DatabaseError, match=r"refused the login.*APGEO_TEST_WRONG_PASSWORD") as info:
        read_table(wrong, "apgeo_test_bad", "points")
    assert "not-the-password" not in str(info.value)


def test_postgis_write_replaces_the_previous_run_atomically(postgis):
    write_tables(postgis, {"points": _points(), "old": pd.DataFrame({"x": [1]})}, schema="apgeo_test_atomic",
                 comments={"points": "apgeo study first", "old": "apgeo study first"})
    bad = pd.DataFrame({"x": [1]})
    with pytest.raises(Exception):  # noqa: B017 - a name PostgreSQL refuses mid-transaction
        write_tables(postgis, {"points": _points(), "bad name": bad}, schema="apgeo_test_atomic", comments={})
    assert table_comment(postgis, "apgeo_test_atomic", "old") == "apgeo study first"  # untouched
    write_tables(postgis, {"points": _points()}, schema="apgeo_test_atomic", comments={"points": "apgeo study second"})
    with pytest.raises(DatabaseError, match="no table"):
        read_table(postgis, "apgeo_test_atomic", "old")
    back = read_table(postgis, "apgeo_test_atomic", "points")
    assert back.crs.to_epsg() == 27700 and list(back[S.PROVIDER_ID]) == ["A", "B"]
    assert back.geometry.equals(_points().geometry)


def _config(tmp: Path, postgis: PostgisSettings | None, extra: str = "") -> Path:
    p = tmp / "study.toml"
    pg = "" if postgis is None else f'[postgis]\ndsn = "{postgis.dsn}"\npassword_env = "{postgis.password_env}"\n'
    p.write_text(
        f"""
[study]
name = "sheffield"
data_dir = "{repo_root() / 'data' / 'sheffield'}"
output_dir = "{tmp / 'reports'}"
maps_dir = "{tmp / 'maps'}"

[network]
source = "straight-line"
modes = ["walk"]

{extra}
{pg}
""",
        encoding="utf-8",
    )
    return p


def test_config_never_holds_the_password(tmp_path):
    cfg = _config(tmp_path, None, '[postgis]\ndsn = "postgresql://gis:secret@db.example/gis"\n')
    with pytest.raises(ConfigError, match=r"\[postgis\] dsn.*holds a password.*PGPASSWORD"):
        load_config(cfg)
    cfg = _config(tmp_path, None, '[postgis]\ndsn = "host=db dbname=gis password=secret"\npassword_env = "GIS_PW"\n')
    with pytest.raises(ConfigError, match="GIS_PW"):
        load_config(cfg)
    cfg = _config(tmp_path, None, '[postgis]\ndsn = "postgresql://gis@db/gis"\nproviders = "drop table x; --"\n')
    with pytest.raises(ConfigError, match=r"\[postgis\] providers"):
        load_config(cfg)


def _run(cfg_path: Path, **kwargs):
    from apgeo.study.pipeline import run_study

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # known data warnings (unknown capacities) are logged
        return run_study(load_config(cfg_path), only="recommend", **kwargs)


@pytest.fixture(scope="module")
def file_run(tmp_path_factory):
    """The straight-line study from files, once for the module (with GeoParquet): the
    reference of the round trip and the GeoPackage the style tests open."""
    tmp = tmp_path_factory.mktemp("files")
    return _run(_config(tmp, None), formats=("parquet",))


def test_study_geopackage_styles_and_geoparquet(file_run):
    """The study's GeoPackage carries QGIS styles; its GeoParquet the method label."""
    from apgeo.outputs.parquet import read_parquet_metadata
    from apgeo.outputs.qgis_styles import read_layer_styles

    out = file_run.config.output_dir
    styles = read_layer_styles(out / "sheffield.gpkg")
    assert {"providers", "nearest_ap_time_walk", "access_coldspot_areas"} <= set(styles)
    assert "255,255,204,166" in styles["nearest_ap_time_walk"]  # the web map's first class colour
    assert '"nearest_time_min" IS NULL' in styles["nearest_ap_time_walk"]
    meta = read_parquet_metadata(out / "parquet" / "travel_times_walk.parquet")
    assert "STRAIGHT-LINE ESTIMATE" in meta["method"] and "apgeo_version" in meta
    assert gpd.read_parquet(out / "parquet" / "providers.parquet").crs.to_epsg() == 27700


def test_study_round_trip_through_postgis(postgis, file_run, tmp_path):
    """Providers and demand areas (LSOA polygons) of the file run into PostGIS, the study
    from them out to a schema, read back: the same tables as the file run."""
    from apgeo.study.outputs import _area_names

    first = file_run
    out = first.config.output_dir
    providers = first.providers[[S.PROVIDER_ID, S.SITE_ID, S.NAME, S.KIND, S.KEY_STAGES, S.CAPACITY_PLACES, "geometry"]]
    providers = providers.assign(**{S.KEY_STAGES: providers[S.KEY_STAGES].astype(str)})
    demand = first.demand.drop(columns="population_source")  # named after the PostGIS table instead
    write_tables(postgis, {"ap_sites": providers, "lsoas": demand}, schema="council", comments={})
    second = _run(_pg_config(tmp_path / "postgis", postgis), to_postgis=True)
    assert second.population_note == "PostGIS council.lsoas"
    assert second.polygons and second.demand.geometry.equals(first.demand.geometry)
    for name in ("nearest_ap", "coverage", "access_coldspots", "recommendations"):
        a = (out / f"{name}.csv").read_text()
        b = (second.config.output_dir / f"{name}.csv").read_text()
        assert a == b, name
    schema = second.config.postgis.output_schema
    for name in ("nearest_ap", "coverage", "travel_times_walk", "providers_by_kind"):
        back = read_table(postgis, schema, name)
        csv = (second.config.output_dir / f"{name}.csv").read_text()
        assert planner_table(back, names=_area_names(second)).to_csv(index=False, lineterminator="\n") == csv, name
    comment = table_comment(postgis, schema, "travel_times_walk")
    assert "STRAIGHT-LINE ESTIMATE" in comment and "apgeo_version" in comment
    layer = read_table(postgis, schema, "nearest_ap_time_walk")
    assert isinstance(layer, gpd.GeoDataFrame) and len(layer) == len(first.demand)


def _pg_config(tmp: Path, postgis: PostgisSettings) -> Path:
    tmp.mkdir(parents=True, exist_ok=True)
    extra = (
        "[providers]\ninclude_gias = false\ninclude_settings_list = false\n\n"
        f'[postgis]\ndsn = "{postgis.dsn}"\npassword_env = "{postgis.password_env}"\n'
        'providers = "council.ap_sites"\ndemand = "council.lsoas"\noutput_schema = "apgeo_round_trip"\n'
    )
    return _config(tmp, None, extra)


# ---- demand areas and a road-line network from PostGIS, with the same bad-input errors -----

LEEDS_LINES = repo_root().parent / "shared" / "data" / "osm" / "leeds_centre_2p5km_osm_lines_2022-10.gpkg"


def _leeds_clip(radius_m: float = 600.0) -> gpd.GeoDataFrame:
    """The OSM ways (whole, as exported) of central Leeds within ``radius_m`` of the centre
    the shared layer was cut around (PROVENANCE: -1.548567, 53.801277), in EPSG:4326."""
    centre = gpd.GeoSeries([Point(-1.548567, 53.801277)], crs="EPSG:4326").to_crs("EPSG:27700").iloc[0]
    lines = gpd.read_file(LEEDS_LINES)
    return lines[lines.to_crs("EPSG:27700").intersects(centre.buffer(radius_m))].reset_index(drop=True)


def _graphs(cfg_path: Path) -> dict:
    """The study's street graphs for its [network] / [postgis] network, as a run loads them."""
    from types import SimpleNamespace

    from apgeo.study.pipeline import _load_graphs

    cfg = load_config(cfg_path)
    boundary = gpd.GeoDataFrame(geometry=[Point(430000, 433000).buffer(3000)], crs="EPSG:27700")  # central Leeds
    return _load_graphs(SimpleNamespace(config=cfg, boundary=boundary, tables={}))  # type: ignore[arg-type]


@pytest.mark.skipif(not LEEDS_LINES.is_file(), reason=f"{LEEDS_LINES} not found")
def test_road_lines_from_postgis_equal_the_file(postgis, tmp_path):
    """Central Leeds OSM ways (1,180, with their tags) as a GeoPackage and as a PostGIS
    table: the study loads the same walk and drive networks from both, with the same
    travel times; the table in EPSG:4326 is refused with the ST_Transform fix."""
    from apgeo.routing.travel_times import TravelTimeEngine

    clip = _leeds_clip()
    assert len(clip) > 1000 and {"highway", "oneway", "maxspeed", "foot", "other_tags"} <= set(clip.columns)
    clip.to_file(tmp_path / "leeds_lines.gpkg", driver="GPKG")
    write_tables(postgis, {"lines": clip.to_crs("EPSG:27700"), "lines_4326": clip}, schema="council_roads", comments={})
    network = '[network]\nmodes = ["walk", "drive"]\n'
    (tmp_path / "file").mkdir()
    from_file = _graphs(_roads_config(tmp_path / "file", f'{network}source = "{tmp_path / "leeds_lines.gpkg"}"\n'))
    pg = f'[postgis]\ndsn = "{postgis.dsn}"\npassword_env = "{postgis.password_env}"\nnetwork = "council_roads.lines"\n'
    (tmp_path / "pg").mkdir()
    from_pg = _graphs(_roads_config(tmp_path / "pg", network + pg))
    for mode in ("walk", "drive"):
        a, b = from_file[mode], from_pg[mode]
        assert a.number_of_edges() > 1000
        assert dict(a.nodes(data=True)) == dict(b.nodes(data=True)), mode
        edges_a = sorted((u, v, k, d["length_m"], d["travel_time_s"], str(d.get("osmid"))) for u, v, k, d in a.edges(keys=True, data=True))
        edges_b = sorted((u, v, k, d["length_m"], d["travel_time_s"], str(d.get("osmid"))) for u, v, k, d in b.edges(keys=True, data=True))
        assert edges_a == edges_b, mode
        ea = TravelTimeEngine.from_graph(a, warn_dropped_fraction=None)
        eb = TravelTimeEngine.from_graph(b, warn_dropped_fraction=None)
        sources = list(ea.node_ids[:: max(1, ea.n_nodes // 8)])
        times = ea.node_times(sources)
        assert list(ea.node_ids) == list(eb.node_ids)
        np.testing.assert_array_equal(times, eb.node_times(sources))  # NaN (unreachable) in the same places
        assert np.isfinite(times).sum() > 0.5 * times.size
    from apgeo.inputs.postgis import read_road_lines_postgis

    assert read_table(postgis, "council_roads", "lines_4326").crs.to_epsg() == 4326  # written in its own CRS
    with pytest.raises(CRSError, match=r"EPSG:4326, not EPSG:27700.*ST_Transform"):
        read_road_lines_postgis(postgis, "council_roads.lines_4326")
    with pytest.raises(CRSError, match=r"look like longitude/latitude degrees.*ST_Transform\(ST_SetSRID"):
        read_road_lines_postgis(postgis, "SELECT osm_id, ST_SetSRID(geometry, 27700) AS geometry FROM council_roads.lines_4326")


def _roads_config(tmp: Path, network: str) -> Path:
    p = tmp / "study.toml"
    p.write_text(
        f'[study]\nname = "leeds_lines"\ndata_dir = "{repo_root() / "data" / "sheffield"}"\n'
        f'output_dir = "{tmp / "reports"}"\nmaps_dir = "{tmp / "maps"}"\n\n{network}',
        encoding="utf-8",
    )
    return p


def test_demand_and_roads_from_postgis_bad_input_is_a_clear_error(postgis):
    """The demand-area and road-line readers meet a missing table, a table without
    ``area_id``, another CRS, a missing demand column and a wrong password as the
    provider reader does: each a clear error naming the table and the fix."""
    from shapely.geometry import LineString

    from apgeo.inputs.postgis import read_demand_postgis, read_road_lines_postgis

    areas = gpd.GeoDataFrame(
        {S.AREA_ID: ["E01000001", "E01000002"], "pwc_easting": [435000.0, 436000.0], "pwc_northing": [387000.0, 388000.0]},
        geometry=[Point(435000, 387000), Point(436000, 388000)], crs="EPSG:27700",
    )
    roads = gpd.GeoDataFrame({"highway": ["residential"]}, geometry=[LineString([(435000, 387000), (435100, 387000)])],
                             crs="EPSG:27700")
    write_tables(postgis, {"areas": areas, "roads": roads}, schema="apgeo_test_bad_inputs", comments={})
    with pytest.raises(DatabaseError, match=r"apgeo_test_bad_inputs\.nowhere.*does not exist.*apgeo_test_bad_inputs\.areas"):
        read_demand_postgis(postgis, "apgeo_test_bad_inputs.nowhere")
    with pytest.raises(DatabaseError, match=r"apgeo_test_bad_inputs\.nowhere.*does not exist"):
        read_road_lines_postgis(postgis, "apgeo_test_bad_inputs.nowhere")
    with pytest.raises(MissingColumnError, match=r"no id column 'area_id'.*SELECT your_id AS area_id"):
        read_demand_postgis(postgis, "SELECT pwc_easting, geometry FROM apgeo_test_bad_inputs.areas")
    with pytest.raises(MissingColumnError, match=r"lacks the demand column\(s\) children_ks1.*imd_decile"):
        read_demand_postgis(postgis, "apgeo_test_bad_inputs.areas")
    with pytest.raises(CRSError, match=r"EPSG:4326, not EPSG:27700.*ST_Transform"):
        read_demand_postgis(postgis, "SELECT area_id, ST_Transform(geometry, 4326) AS geometry FROM apgeo_test_bad_inputs.areas")
    with pytest.raises(CRSError, match=r"EPSG:3857, not EPSG:27700.*ST_Transform"):
        read_road_lines_postgis(postgis, "SELECT highway, ST_Transform(geometry, 3857) AS geometry FROM apgeo_test_bad_inputs.roads")
    os.environ["APGEO_TEST_WRONG_PASSWORD"] = "not-the-password"
    wrong = PostgisSettings(dsn=postgis.dsn, password_env="APGEO_TEST_WRONG_PASSWORD",
                            demand="apgeo_test_bad_inputs.areas", network="apgeo_test_bad_inputs.roads")
    for read in (read_demand_postgis, read_road_lines_postgis):
        with pytest.raises(DatabaseError, match=r"refused the login.*APGEO_TEST_WRONG_PASSWORD") as info:
            read(wrong)
        assert "not-the-password" not in str(info.value)


# ---- the GeoPackage opened by QGIS itself (headless, the system python3's bindings) ---------

SYSTEM_PYTHON = Path("/usr/bin/python3")

#: Run by the system python3: open each named layer of a GeoPackage with QGIS, load its
#: default style (the ``layer_styles`` row) and print the renderer and its rules as JSON.
QGIS_READER = """
import json, os, sys
from qgis.core import QgsApplication, QgsVectorLayer
app = QgsApplication([], False)
app.initQgis()
out = {}
for name in sys.argv[2:]:
    layer = QgsVectorLayer(f"{sys.argv[1]}|layername={name}", name, "ogr", QgsVectorLayer.LayerOptions(False))
    message, loaded = layer.loadDefaultStyle()
    renderer = layer.renderer()
    rules = []
    if renderer.type() == "RuleRenderer":
        for rule in renderer.rootRule().children():
            c = rule.symbol().color()
            rules.append([rule.filterExpression(), rule.label(), f"{c.red()},{c.green()},{c.blue()},{c.alpha()}"])
    out[name] = {"valid": layer.isValid(), "loaded": loaded, "message": message,
                 "renderer": renderer.type(), "rules": rules, "features": layer.featureCount()}
print("QGIS-JSON " + json.dumps(out), flush=True)
os._exit(0)  # not app.exitQgis(): with layers still alive it can crash at exit
"""


def _wait_for_qgis_install(timeout_s: float = 900.0) -> None:
    """Wait while `make test` is still installing python3-qgis in the background
    (scripts/debian_test_deps.sh): its marker says when it has finished, whatever the outcome."""
    import time

    folder = Path(os.environ.get("APGEO_DEPS_DIR", "/tmp/apgeo-debian-deps"))
    started = folder / "started"
    deadline = time.monotonic() + timeout_s
    while started.is_file() and not (folder / "qgis.done").is_file() and time.monotonic() < deadline:
        try:
            os.kill(int(started.read_text().strip()), 0)  # the installer is still running
        except (OSError, ValueError):
            return
        time.sleep(2)


def _qgis_missing() -> str | None:
    """Why QGIS cannot be run here (None when it can)."""
    import subprocess

    _wait_for_qgis_install()
    if not SYSTEM_PYTHON.is_file():
        return f"no system python at {SYSTEM_PYTHON} for QGIS's bindings"
    probe = subprocess.run([str(SYSTEM_PYTHON), "-c", "import qgis.core"], capture_output=True, timeout=60,
                           env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    if probe.returncode != 0:
        return ("QGIS's Python bindings are not installed: `make test-deps` or `make qgis-deps` (Debian "
                "python3-qgis, root) installs them")
    return None


def test_geopackage_opens_styled_in_qgis(file_run, tmp_path):
    """QGIS (headless) opens every styled layer of the study's GeoPackage, loads its
    default style from ``layer_styles`` and draws it with the rule-based renderer whose
    rules, labels and colours :mod:`apgeo.outputs.qgis_styles` wrote."""
    import json
    import subprocess
    from xml.etree import ElementTree

    from apgeo.outputs.qgis_styles import read_layer_styles

    reason = _qgis_missing()
    if reason:
        pytest.skip(reason)
    gpkg = file_run.config.output_dir / "sheffield.gpkg"
    styles = read_layer_styles(gpkg)
    script = tmp_path / "qgis_reader.py"
    script.write_text(QGIS_READER, encoding="utf-8")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_RUNTIME_DIR": str(tmp_path)}
    env.pop("PYTHONPATH", None)  # the system python, not the venv's packages
    run = subprocess.run([str(SYSTEM_PYTHON), str(script), str(gpkg), *sorted(styles)], capture_output=True,
                         text=True, timeout=300, env=env)
    assert run.returncode == 0, run.stderr[-2000:]
    (line,) = [x for x in run.stdout.splitlines() if x.startswith("QGIS-JSON ")]
    seen = json.loads(line.removeprefix("QGIS-JSON "))
    assert {"providers", "nearest_ap_time_walk", "access_coldspot_areas"} <= set(seen)
    for name, qml in styles.items():
        layer = seen[name]
        assert layer["valid"] and layer["loaded"] and layer["features"] > 0, (name, layer)
        assert layer["renderer"] == "RuleRenderer", name
        doc = ElementTree.fromstring(qml.split("\n", 1)[1])  # after the DOCTYPE line
        colour = {sym.get("name"): sym.find(".//Option[@name='color']").get("value") for sym in doc.iter("symbol")}
        expected = [[r.get("filter"), r.get("label"), colour[r.get("symbol")]] for r in doc.iter("rule")]
        assert expected and layer["rules"] == expected, name
    walk = seen["nearest_ap_time_walk"]["rules"]
    assert walk[0][2] == "255,255,204,166" and walk[-1][0] == '"nearest_time_min" IS NULL'  # the web map's classes
