"""Whole authorities on their own OpenStreetMap streets: the Isle of Wight and Rutland.

The committed worked studies (``studies/isle_of_wight.toml``, ``studies/rutland.toml``) run
end to end offline; their reports and ``provenance.json`` record each network; Rutland, an
authority with no AP setting of its own, uses the nearest settings beyond its border and
names them, and the settings beyond its extract's edge are named with their distance.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely

import apgeo
from apgeo._errors import ApgeoWarning, NetworkError, SnapError
from apgeo.inputs.data import sha256_file
from apgeo.network.provenance import describe_network_file, read_pbf_header
from apgeo.network.synthetic import grid_network
from apgeo.routing.network_extent import network_extent, points_beyond
from apgeo.routing.snap import snap_points
from apgeo.routing.travel_times import TravelTimeEngine
from apgeo.study.config import load_config
from apgeo.study.pipeline import run_study

ROOT = Path(__file__).resolve().parents[1]
IOW_PBF = ROOT / "data" / "osm" / "isle_of_wight_osm_2015-01-01.osm.pbf"
RUTLAND_PBF = ROOT / "data" / "osm" / "rutland_osm_2018-02-27.osm.pbf"


def _study(name: str, tmp: Path, *, drop: tuple[str, ...] = ()) -> tuple[Any, list[str]]:
    """Run a committed study config into ``tmp`` (outputs and maps), recording warnings."""
    text = (ROOT / "studies" / f"{name}.toml").read_text()
    text = re.sub(r'output_dir = ".*"', f'output_dir = "{tmp / "out"}"', text)
    text = re.sub(r'maps_dir = ".*"', f'maps_dir = "{tmp / "maps"}"', text)
    text = text.replace('"../data/', f'"{ROOT / "data"}/')
    for line in drop:
        text = text.replace(line, "")
    path = tmp / f"{name}.toml"
    path.write_text(text)
    before = apgeo.get_settings()
    apgeo.configure(cache_dir=tmp / "cache")
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = run_study(load_config(path))
    finally:
        apgeo.configure(cache_dir=before.cache_dir)
    return result, [str(w.message) for w in caught if issubclass(w.category, ApgeoWarning)]


@pytest.fixture(scope="module")
def isle_of_wight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, list[str], Path]]:
    tmp = tmp_path_factory.mktemp("iow")
    result, caught = _study("isle_of_wight", tmp)
    yield result, caught, tmp / "out"


@pytest.fixture(scope="module")
def rutland(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, list[str], Path]]:
    tmp = tmp_path_factory.mktemp("rutland")
    result, caught = _study("rutland", tmp)
    yield result, caught, tmp / "out"


# ------------------------------------------------------------------ the PBF header


def test_pbf_header_gives_the_osm_data_date_of_both_extracts() -> None:
    iow = read_pbf_header(IOW_PBF)
    rutland = read_pbf_header(RUTLAND_PBF)
    assert iow.data_date == "2015-01-01" and iow.writing_program.startswith("osmium")
    assert rutland.data_date == "2018-02-27"
    assert iow.bbox_lonlat is not None
    assert iow.bbox_lonlat[0] == pytest.approx(-1.65907, abs=1e-5)
    described = describe_network_file(RUTLAND_PBF)
    assert described["sha256"] == "1ff975d78688c22977b3e01d527418ac01e0a87e8f4daa10bf8fd4fe55b8de03"
    assert described["bytes"] == 1_179_881 and described["format"] == "osm.pbf"


def test_a_file_that_is_not_a_pbf_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "streets.osm.pbf"
    bad.write_bytes(b"<?xml version='1.0'?><osm></osm>")
    with pytest.raises(NetworkError, match=r"streets\.osm\.pbf: not an OpenStreetMap PBF file"):
        read_pbf_header(bad)


# ----------------------------------------------------------- beyond the network's edge


def _grid_engine() -> TravelTimeEngine:
    G = grid_network(5, 5, spacing_m=100.0, mode="walk")
    return TravelTimeEngine.from_graph(G)


def _points(engine: TravelTimeEngine, xy: list[tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"pid": [f"p{i}" for i in range(len(xy))]},
        geometry=[shapely.Point(x, y) for x, y in xy],
        crs=engine.crs,
    )


def test_points_beyond_the_extent_are_found_with_their_distance() -> None:
    extent = network_extent(np.array([0.0, 400.0, 400.0, 0.0]), np.array([0.0, 0.0, 400.0, 400.0]))
    mask, distance_m = points_beyond(extent, np.array([200.0, 700.0, 2400.0]), np.array([200.0, 200.0, 200.0]))
    assert mask.tolist() == [False, False, True]
    assert distance_m.tolist() == [0.0, 300.0, 2000.0]


def test_a_point_beyond_the_edge_is_an_error_by_default_and_estimated_on_request() -> None:
    engine = _grid_engine()
    x0, y0, x1, _ = engine.edge_index().bounds
    far = _points(engine, [(x0 + 100, y0 + 100), (x1 + 10_000, y0 + 200)])
    with pytest.raises(SnapError, match="p1"):
        snap_points(engine, far, id_column="pid")
    with pytest.raises(apgeo.ApgeoValueError, match="beyond_speed_kph"):
        snap_points(engine, far, id_column="pid", beyond="estimate")
    with pytest.warns(ApgeoWarning, match=r"1 point\(s\) lie beyond the network's edge.*p1 \(10,000 m\)"):
        snapped = snap_points(
            engine, far, id_column="pid", beyond="estimate", beyond_speed_kph=30.0, beyond_circuity=1.3
        )
    assert snapped["beyond_network"].tolist() == [False, True]
    # 10 km x 1.3 at 30 km/h = 1,560 s; the point inside is walked as before
    assert snapped["access_time_s"].iloc[1] == pytest.approx(10_000 * 1.3 / (30 / 3.6))
    assert snapped["access_time_s"].iloc[0] == pytest.approx(snapped["snap_distance_m"].iloc[0] / (4.8 / 3.6))


# ------------------------------------------------------------------- the Isle of Wight


def test_isle_of_wight_study_records_its_network(isle_of_wight: tuple[Any, list[str], Path]) -> None:
    result, caught, out = isle_of_wight
    assert set(result.network_records) == {"walk", "cycle", "drive"}
    provenance = json.loads((out / "provenance.json").read_text())
    for mode in ("walk", "cycle", "drive"):
        record = provenance["networks"][mode]
        assert record["source"]["sha256"] == sha256_file(IOW_PBF)
        assert record["source"]["osm_data_date"] == "2015-01-01"
        assert record["nodes_kept"] > 20_000 and record["edges_kept"] > record["nodes_kept"]
        assert record["components"] >= 1 and record["nodes_dropped"] >= 0
        assert "walked at 4.8 km/h in every mode" in record["access_leg_rule"]
        assert record["beyond_network"] == []  # the island's extract covers the island
        assert "OSM data of 2015-01-01" in result.network_method[mode]
    report = (out / "report.md").read_text()
    assert "### Street networks" in report
    assert "isle_of_wight_osm_2015-01-01.osm.pbf (osm.pbf, 2.1 MB, OSM data of 2015-01-01" in report
    assert "one-way rules applied" in report
    # a network that covers the area is not warned about
    assert not [w for w in caught if "covers only part" in w or "beyond the edge" in w]
    # snapping warnings say which mode's network they are about
    snapping = [w for w in caught if "point(s)" in w and ("origins" in w or "destinations" in w)]
    assert snapping and all(re.search(r"\((walk|cycle|drive)\)", w) for w in snapping)


def test_isle_of_wight_bus_and_street_times_are_real(isle_of_wight: tuple[Any, list[str], Path]) -> None:
    result, _, out = isle_of_wight
    assert "transit" in result.travel_times
    near = result.tables["nearest_ap"]
    drive = near[near["mode"] == "drive"]["nearest_time_s"]
    assert drive.notna().all() and drive.median() < 30 * 60
    assert (out / "travel_times_drive.csv").is_file()


# ---------------------------------------------------------------------------- Rutland


def test_rutland_has_no_ap_of_its_own_and_uses_its_neighbours(rutland: tuple[Any, list[str], Path]) -> None:
    result, caught, out = rutland
    added = [w for w in caught if "Rutland has no AP setting of its own" in w]
    assert len(added) == 1 and "nearest" in added[0]
    ap = result.providers[result.providers["kind"].isin(result.ap_kinds)]
    assert len(ap) >= 1 and not ap["in_area"].any()
    assert ap["source"].str.contains("nearest AP beyond Rutland's border").all()
    report = (out / "report.md").read_text()
    assert "Rutland has no AP setting of its own counted as AP." in report
    for name in ap["name"]:
        assert name in report


def test_rutland_sites_beyond_the_extract_are_named_with_their_distance(
    rutland: tuple[Any, list[str], Path],
) -> None:
    result, caught, out = rutland
    beyond = [w for w in caught if "lie beyond the edge of the walk / cycle / drive network" in w]
    assert len(beyond) == 1, caught  # one message for the three modes
    assert "give a network extract that covers them" in beyond[0]
    record = result.network_records["drive"]
    sites = {p["id"] for p in record.beyond_network if p["kind"] == "site"}
    assert sites and all(re.search(rf"{re.escape(s)} \(\d+\.\d km\)", beyond[0]) for s in sites)
    assert "beyond the network's edge" in result.network_method["drive"]
    # every area still has a time to every site: on the streets to the edge, estimated beyond
    times = result.travel_times["drive"]
    assert times["travel_time_s"].notna().all()
    provenance = json.loads((out / "provenance.json").read_text())
    assert {p["id"] for p in provenance["networks"]["drive"]["beyond_network"]} == sites
    assert "catchments_drive" not in result.tables or not result.tables["catchments_drive"]["site_id"].isin(sites).any()


def test_network_verb_loads_the_studys_own_area() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "apgeo.study.cli", "network", "--config", str(ROOT / "studies" / "rutland.toml"), "--mode", "drive"],
        capture_output=True, text=True, cwd=ROOT, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("Rutland: ")
    assert "OSM data of 2018-02-27" in done.stdout
    assert "drive:" in done.stdout
