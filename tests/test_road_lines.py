"""Tests for road-line networks (generic line layers, OS Open Roads) and the circuity ratio."""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import LineString, MultiLineString, Point

from apgeo import ApgeoValueError, ApgeoWarning, CRSError, NetworkError
from apgeo.network.line_layer import DEFAULT_LINE_SPEED_MPH
from apgeo.network.lines import load_road_lines, network_from_lines
from apgeo.network.modes import MPH_TO_KPH
from apgeo.network.os_open_roads import (
    is_os_open_roads,
    network_from_os_open_roads,
    os_drive_speed_mph,
)
from apgeo.routing.circuity import circuity_ratio
from apgeo.routing.straight_line import DEFAULT_CIRCUITY
from apgeo.routing.travel_times import TravelTimeEngine

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
GRITTING = SHARED / "roads" / "sheffield_primary_gritting_routes_2023.shp"
LSOA_CENTROIDS = SHARED / "geography" / "sheffield_lsoa2011_population_weighted_centroids.csv"
GIAS = SHARED / "schools" / "sheffield_gias_open_establishments_20250524.csv"
X0, Y0 = 430_000.0, 380_000.0




def _lines(
    *coords: list[tuple[float, float]], crs: str | None = "EPSG:27700", **columns: list
) -> gpd.GeoDataFrame:
    geoms = [LineString([(X0 + x, Y0 + y) for x, y in c]) for c in coords]
    return gpd.GeoDataFrame(dict(columns), geometry=geoms, crs=crs)


# ---- OS Open Roads -----------------------------------------------------------------------

#: (identifier, startNode, endNode, function, formOfWay, coordinates)
_OS_LINKS = [
    ("L1", "N1", "N2", "Motorway", "Dual Carriageway", [(0, 0), (1000, 0)]),
    ("L2", "N2", "N3", "Motorway", "Slip Road", [(1000, 0), (1100, 100)]),
    ("L3", "N3", "N4", "A Road", "Single Carriageway", [(1100, 100), (1100, 600)]),
    ("L4", "N4", "N5", "Local Road", "Single Carriageway", [(1100, 600), (600, 600)]),
    ("L5", "N5", "N6", "Local Road", "Guided Busway", [(600, 600), (0, 600)]),
    ("L6", "N6", "N1", "B Road", "Single Carriageway", [(0, 600), (0, 0)]),
    (
        "L7",
        "N4",
        "N7",
        "Restricted Local Access Road",
        "Single Carriageway",
        [(1100, 600), (1100, 900)],
    ),
    ("L8", "N4", "N8", "A Road", "Roundabout", [(1100, 600), (1200, 650)]),
    (
        "L9",
        "N8",
        "N8",
        "Local Access Road",
        "Single Carriageway",
        [(1200, 650), (1300, 650), (1300, 750), (1200, 650)],
    ),
]


def _os_roads() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "identifier": [r[0] for r in _OS_LINKS],
            "startNode": [r[1] for r in _OS_LINKS],
            "endNode": [r[2] for r in _OS_LINKS],
            "function": [r[3] for r in _OS_LINKS],
            "formOfWay": [r[4] for r in _OS_LINKS],
        },
        geometry=[LineString([(X0 + x, Y0 + y) for x, y in r[5]]) for r in _OS_LINKS],
        crs="EPSG:27700",
    )


def _ids_by_edge(G: nx.MultiDiGraph) -> set[str]:
    return {str(d["osmid"]) for _, _, d in G.edges(data=True)}


def test_os_open_roads_is_detected_and_uses_its_topology() -> None:
    roads = _os_roads()
    assert is_os_open_roads(roads)
    G, report = load_road_lines(roads, mode="drive")
    assert report.schema == "os_open_roads"
    assert report.n_input_features == 9
    assert report.n_snapped_joins == 0 and report.n_split_junctions == 0
    # nodes are the OS node ids (the closed loop L9 is split at its midpoint)
    assert {"N1", "N2", "N3", "N4", "N5", "N6", "N8"} <= set(G.nodes)
    assert any(str(n).startswith("midpoint:") for n in G.nodes)
    assert any("no one-way information" in note for note in report.notes)


def test_os_open_roads_drive_rules_and_speeds() -> None:
    G, _ = network_from_os_open_roads(_os_roads(), mode="drive")
    # busway never, restricted access roads not driven
    assert _ids_by_edge(G) == {"L1", "L2", "L3", "L4", "L6", "L8", "L9"}
    assert "N7" not in G
    # no one-way data: every link both ways, even the motorway
    for u, v in G.edges():
        assert G.has_edge(v, u)
    speed_mph = {str(d["osmid"]): d["speed_kph"] / MPH_TO_KPH for _, _, d in G.edges(data=True)}
    assert speed_mph["L1"] == pytest.approx(70.0)  # motorway
    assert speed_mph["L2"] == pytest.approx(50.0)  # motorway slip road
    assert speed_mph["L3"] == pytest.approx(40.0)  # A road
    assert speed_mph["L4"] == pytest.approx(30.0)  # local road
    assert speed_mph["L6"] == pytest.approx(30.0)  # B road
    assert speed_mph["L8"] == pytest.approx(20.0)  # roundabout cap
    highway = {str(d["osmid"]): d["highway"] for _, _, d in G.edges(data=True)}
    assert highway["L1"] == "motorway" and highway["L2"] == "motorway_link"
    for u, v, d in G.edges(data=True):
        assert d["travel_time_s"] == pytest.approx(d["length_m"] / (d["speed_kph"] / 3.6))
        assert d["geometry"].coords[0] == pytest.approx((G.nodes[u]["x"], G.nodes[u]["y"]))
        assert d["geometry"].coords[-1] == pytest.approx((G.nodes[v]["x"], G.nodes[v]["y"]))


@pytest.mark.parametrize("mode", ["walk", "cycle"])
def test_os_open_roads_walk_and_cycle_rules(mode: str) -> None:
    G, report = network_from_os_open_roads(_os_roads(), mode=mode)
    # no walking or cycling on motorways or their slip roads; guided busway for nobody;
    # restricted access roads are walked and cycled
    assert _ids_by_edge(G) == {"L3", "L4", "L6", "L7", "L8", "L9"}
    # without the busway the B road (N6-N1) is cut off from the rest
    assert report.n_components == 2
    assert report.largest_component_share == pytest.approx(
        1 - 600 / report.total_length_m, rel=1e-9
    )


def test_os_open_roads_speed_override_and_gpkg(tmp_path: Path) -> None:
    path = tmp_path / "open_roads.gpkg"
    _os_roads().to_file(path, layer="RoadLink", driver="GPKG")
    nodes = gpd.GeoDataFrame({"identifier": ["N1"]}, geometry=[Point(X0, Y0)], crs="EPSG:27700")
    nodes.to_file(path, layer="RoadNode", driver="GPKG")
    G, report = load_road_lines(path, mode="drive", speeds_kph={"drive:primary": 60.0})
    assert report.schema == "os_open_roads"
    speeds = {str(d["osmid"]): d["speed_kph"] for _, _, d in G.edges(data=True)}
    assert speeds["L3"] == pytest.approx(60.0)  # A road -> primary, overridden
    assert speeds["L1"] == pytest.approx(70.0 * MPH_TO_KPH)
    forced, _ = load_road_lines(path, mode="drive", speeds_kph={"drive": 50.0})
    assert {d["speed_kph"] for _, _, d in forced.edges(data=True)} == {50.0}


def test_os_drive_speed_table() -> None:
    assert os_drive_speed_mph("A Road", "Dual Carriageway") == 50.0
    assert os_drive_speed_mph("A Road", "Collapsed Dual Carriageway") == 50.0
    assert os_drive_speed_mph("Minor Road", "Roundabout") == 20.0
    assert os_drive_speed_mph("Local Road", "Enclosed Traffic Area") == 10.0
    assert os_drive_speed_mph("Something new", "Single Carriageway") == 30.0


# ---- generic lines -------------------------------------------------------------------------


def test_ends_2m_apart_join_20m_apart_do_not() -> None:
    near = _lines([(0, 0), (100, 0)], [(102, 0), (200, 0)])
    G, report = network_from_lines(near, mode="drive")
    assert report.schema == "generic"
    assert report.n_snapped_joins == 1
    assert report.n_components == 1
    assert G.number_of_nodes() == 3
    far = _lines([(0, 0), (100, 0)], [(120, 0), (200, 0)])
    G2, report2 = network_from_lines(far, mode="drive")
    assert report2.n_snapped_joins == 0
    assert report2.n_components == 2
    assert report2.component_lengths_m == pytest.approx((100.0, 80.0))
    assert report2.largest_component_share == pytest.approx(100 / 180)
    assert G2.number_of_nodes() == 4
    # a larger tolerance joins them
    _, report3 = network_from_lines(far, mode="drive", snap_tolerance_m=25.0)
    assert report3.n_components == 1


def test_t_junction_splits_the_through_road() -> None:
    roads = _lines([(0, 0), (200, 0)], [(100, 3), (100, 100)])
    G, report = network_from_lines(roads, mode="walk")
    assert report.n_split_junctions == 1
    assert report.n_components == 1
    assert report.n_pieces == 3
    junction = [
        n
        for n, d in G.nodes(data=True)
        if abs(d["x"] - (X0 + 100)) < 1e-6 and abs(d["y"] - Y0) < 1e-6
    ]
    assert len(junction) == 1  # the dangle moved 3 m onto the road
    assert G.degree(junction[0]) == 6  # 3 streets, in and out
    # geometry and nodes agree after the dangle moved onto the road
    for u, v, d in G.edges(data=True):
        assert d["geometry"].coords[0] == pytest.approx((G.nodes[u]["x"], G.nodes[u]["y"]))
        assert d["geometry"].coords[-1] == pytest.approx((G.nodes[v]["x"], G.nodes[v]["y"]))
    assert report.total_length_m == pytest.approx(200 + 100)


def test_crossroads_on_a_line_interior_split_it() -> None:
    # two side roads meet exactly on the through road, which has no vertex there
    roads = _lines([(0, 0), (200, 0)], [(100, 0), (100, 100)], [(100, 0), (100, -100)])
    G, report = network_from_lines(roads, mode="drive", snap_tolerance_m=0.0)
    assert report.n_split_junctions == 1
    assert report.n_components == 1
    assert G.number_of_nodes() == 5


def test_without_crs_is_an_error_naming_the_fix(tmp_path: Path) -> None:
    roads = _lines([(0, 0), (100, 0)], crs=None)
    with pytest.raises(CRSError, match="set_crs"):
        network_from_lines(roads, mode="drive")
    path = tmp_path / "no_crs.shp"
    with pytest.warns(UserWarning, match="crs"):  # the writer's own warning
        roads.to_file(path)
    with pytest.raises(CRSError, match=r"\.prj"):
        load_road_lines(path, mode="drive")


def test_degrees_are_projected_and_bad_pieces_reported() -> None:
    lonlat = gpd.GeoDataFrame(
        {"name": ["a", "b", "c", "d"]},
        geometry=[
            MultiLineString([[(-1.47, 53.38), (-1.46, 53.38)], [(-1.46, 53.38), (-1.46, 53.39)]]),
            LineString([(-1.45, 53.38), (-1.45, 53.38)]),
            Point(-1.45, 53.37),
            None,
        ],
        crs="EPSG:4326",
    )
    G, report = network_from_lines(lonlat, mode="walk")
    assert G.graph["crs"] == "EPSG:27700"
    assert report.n_input_features == 4
    assert report.n_pieces == 2
    assert report.dropped == {
        "missing or empty geometry": 1,
        "not a line (points or polygons)": 1,
        "zero length": 1,
    }
    assert 420_000 < G.nodes[next(iter(G.nodes))]["x"] < 450_000


def test_attributes_give_speeds_and_one_way() -> None:
    roads = _lines(
        [(0, 0), (100, 0)],
        [(100, 0), (200, 0)],
        [(200, 0), (300, 0)],
        speed_mph=[20, None, 40],
        oneway=["yes", "no", "-1"],
    )
    G, _ = network_from_lines(roads, mode="drive")
    by_x = {
        (round(G.nodes[u]["x"] - X0), round(G.nodes[v]["x"] - X0)): d["speed_kph"]
        for u, v, d in G.edges(data=True)
    }
    assert set(by_x) == {(0, 100), (100, 200), (200, 100), (300, 200)}
    assert by_x[(0, 100)] == pytest.approx(20 * MPH_TO_KPH)
    assert by_x[(100, 200)] == pytest.approx(DEFAULT_LINE_SPEED_MPH * MPH_TO_KPH)
    assert by_x[(300, 200)] == pytest.approx(40 * MPH_TO_KPH)
    walk, _ = network_from_lines(roads, mode="walk")
    assert walk.number_of_edges() == 6  # one-way streets bind drivers only


def test_unknown_one_way_values_are_two_way_with_a_warning() -> None:
    roads = _lines([(0, 0), (100, 0)], [(100, 0), (200, 0)], oneway=["sometimes", "yes"])
    with pytest.warns(ApgeoWarning, match="one-way value"):
        G, _ = network_from_lines(roads, mode="drive")
    assert G.number_of_edges() == 3


def test_result_does_not_depend_on_row_order() -> None:
    coords = [
        [(0, 0), (100, 0)],
        [(101, 0), (200, 0)],
        [(150, 2), (150, 80)],
        [(0, 0), (0, 100), (100, 0)],
    ]
    a, ra = network_from_lines(_lines(*coords), mode="drive")
    b, rb = network_from_lines(_lines(*coords[::-1]), mode="drive")

    def edges(G: nx.MultiDiGraph) -> list[tuple[float, ...]]:
        return sorted(
            (
                round(G.nodes[u]["x"], 3),
                round(G.nodes[u]["y"], 3),
                round(G.nodes[v]["x"], 3),
                round(G.nodes[v]["y"], 3),
                round(d["length_m"], 6),
            )
            for u, v, d in G.edges(data=True)
        )

    assert edges(a) == edges(b)
    assert ra.summary().splitlines()[1:] == rb.summary().splitlines()[1:]


def test_nothing_usable_is_an_error() -> None:
    points = gpd.GeoDataFrame(geometry=[Point(X0, Y0)], crs="EPSG:27700")
    with pytest.raises(NetworkError, match="no usable line"):
        network_from_lines(points, mode="drive")


def test_circuity_on_an_l_shaped_road_is_root_two() -> None:
    roads = _lines([(0, 0), (1000, 0)], [(1000, 0), (1000, 1000)])
    G, _ = network_from_lines(roads, mode="drive")
    origins = gpd.GeoDataFrame({"o": ["a"]}, geometry=[Point(X0, Y0)], crs="EPSG:27700")
    targets = gpd.GeoDataFrame(
        {"d": ["b"]}, geometry=[Point(X0 + 1000, Y0 + 1000)], crs="EPSG:27700"
    )
    result = circuity_ratio(G, origins, targets, origin_id_column="o", destination_id_column="d")
    assert result.median == pytest.approx(math.sqrt(2))
    assert result.pairs["road_m"].iloc[0] == pytest.approx(2000.0)
    # off the road by 10 m each: access legs count door to door, not between snap points
    origins = gpd.GeoDataFrame({"o": ["a"]}, geometry=[Point(X0 + 200, Y0 - 10)], crs="EPSG:27700")
    door = circuity_ratio(G, origins, targets, origin_id_column="o", destination_id_column="d")
    assert door.pairs["road_m"].iloc[0] == pytest.approx(10 + 800 + 1000)
    network_only = circuity_ratio(
        G,
        origins,
        targets,
        origin_id_column="o",
        destination_id_column="d",
        include_access_legs=False,
    )
    assert network_only.median == pytest.approx(1800 / math.hypot(800, 1000))


@pytest.mark.parametrize("legs", [True, False])
def test_circuity_from_an_engine_equals_the_graph(legs: bool) -> None:
    # a bent road (one line with a kink) and a one-way spur: an engine built from arrays
    # (no networkx graph) gives the same pairs as the graph
    roads = _lines(
        [(0, 0), (400, 300), (1000, 0)],
        [(1000, 0), (1000, 1000)],
        [(0, 0), (0, 900), (1000, 1000)],
        oneway=["no", "yes", "no"],
    )
    G, _ = network_from_lines(roads, mode="drive")
    rng = np.random.default_rng(2)
    origins = gpd.GeoDataFrame(
        {"o": list("abcd")},
        geometry=[Point(X0 + x, Y0 + y) for x, y in rng.uniform(0, 1000, size=(4, 2))],
        crs="EPSG:27700",
    )
    targets = gpd.GeoDataFrame(
        {"d": ["p", "q"]}, geometry=[Point(X0 + 990, Y0 + 40), Point(X0 + 20, Y0 + 950)], crs="EPSG:27700"
    )
    kwargs = {"origin_id_column": "o", "destination_id_column": "d", "include_access_legs": legs,
              "min_crow_fly_m": 100.0, "warn_distance_m": 2_000}
    from_graph = circuity_ratio(G, origins, targets, **kwargs)  # type: ignore[arg-type]
    engine = TravelTimeEngine.from_graph(G, warn_dropped_fraction=None)
    from_engine = circuity_ratio(engine, origins, targets, **kwargs)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(from_engine.pairs, from_graph.pairs, atol=1e-6)
    assert from_engine.median == pytest.approx(from_graph.median)


# ---- the real Sheffield gritting routes -----------------------------------------------------

needs_gritting = pytest.mark.skipif(
    not GRITTING.is_file(), reason=f"Sheffield gritting routes not found at {GRITTING}"
)


@pytest.fixture(scope="module")
def gritting() -> tuple[nx.MultiDiGraph, object]:
    return load_road_lines(GRITTING, mode="drive")  # type: ignore[no-any-return]


@needs_gritting
def test_gritting_routes_load_as_one_main_network(gritting: tuple) -> None:
    G, report = gritting
    assert report.schema == "generic"
    assert report.n_input_features == 1
    assert G.graph["crs"] == "EPSG:27700" and G.graph["mode"] == "drive"
    # about 320 km of main road (PROVENANCE.md); nothing of substance dropped
    assert report.total_length_m == pytest.approx(320_000, rel=0.01)
    assert 1 <= report.n_components <= 5
    assert report.largest_component_share > 0.99
    assert report.n_snapped_joins > 0 and report.n_split_junctions > 0
    speeds = np.array([d["speed_kph"] for _, _, d in G.edges(data=True)])
    np.testing.assert_allclose(speeds, 30 * MPH_TO_KPH)  # the documented default


@needs_gritting
def test_gritting_travel_times_equal_networkx_dijkstra(gritting: tuple) -> None:
    G, _ = gritting
    engine = TravelTimeEngine.from_graph(G)
    assert engine.n_nodes > 0.95 * G.number_of_nodes()
    sources = sorted(engine.node_ids.tolist())[:: max(1, engine.n_nodes // 4)][:4]
    times = engine.node_times(sources)
    for row, source in enumerate(sources):
        expected = nx.single_source_dijkstra_path_length(G, source, weight="travel_time_s")
        got = dict(zip(engine.node_ids.tolist(), times[row].tolist(), strict=True))
        for node, seconds in expected.items():
            if node in engine.node_index:
                assert got[node] == pytest.approx(seconds, rel=1e-9, abs=1e-6)


@needs_gritting
@pytest.mark.skipif(
    not (LSOA_CENTROIDS.is_file() and GIAS.is_file()), reason="Sheffield centroids or GIAS absent"
)
def test_gritting_circuity_is_at_least_one_and_finite(gritting: tuple) -> None:
    from apgeo.inputs.providers import load_gias_providers

    G, _ = gritting
    table = pd.read_csv(LSOA_CENTROIDS)
    lsoa = gpd.GeoDataFrame(
        table[["lsoa11cd"]],
        geometry=gpd.points_from_xy(table["easting"], table["northing"]),
        crs="EPSG:27700",
    )
    sites = load_gias_providers(GIAS)
    sites = sites[~sites.geometry.is_empty]
    result = circuity_ratio(
        G,
        lsoa,
        sites,
        origin_id_column="lsoa11cd",
        destination_id_column="site_id",
        warn_distance_m=5_000,
    )
    assert result.n_pairs > 0.9 * len(lsoa) * len(sites)
    assert result.n_unreachable == 0
    assert np.isfinite([result.median, result.quartile_25, result.quartile_75]).all()
    assert 1.0 <= result.quartile_25 <= result.median <= result.quartile_75 < 3.0
    assert result.pairs["ratio"].min() >= 1.0 - 1e-9
    assert f"assumes {DEFAULT_CIRCUITY:g}" in result.summary()


# ---- OpenStreetMap line layers: joined where ways share a vertex ----------------------------


def _osm_lines(*ways: tuple[int, str, list[tuple[float, float]], str]) -> gpd.GeoDataFrame:
    """(osm_id, highway, coordinates, other_tags) rows of a GDAL-style OSM lines layer."""
    return _lines(
        *[w[2] for w in ways],
        osm_id=[str(w[0]) for w in ways],
        highway=[w[1] for w in ways],
        other_tags=[w[3] or None for w in ways],
    )


def _joined(G: nx.MultiDiGraph, a: str, b: str) -> bool:
    """Some node of ``G`` has edges of both ways."""
    ways: dict[object, set[str]] = {}
    for u, v, d in G.edges(data=True):
        ways.setdefault(u, set()).add(str(d["osmid"]))
        ways.setdefault(v, set()).add(str(d["osmid"]))
    return any({a, b} <= s for s in ways.values())


def test_osm_ways_join_at_shared_vertices_but_not_across_levels() -> None:
    layer = _osm_lines(
        (1, "residential", [(0, 0), (50, 0), (100, 0)], ""),  # crossed at (50, 0) by way 2
        (2, "residential", [(50, -50), (50, 0), (50, 50)], ""),
        (3, "primary", [(0, 200), (50, 200), (100, 200)], ""),  # passes under the bridge
        (4, "footway", [(50, 150), (50, 200), (50, 250)], '"bridge"=>"yes","layer"=>"1"'),
        (5, "footway", [(50, 250), (60, 300)], ""),  # the bridge's approach: joins at its end
        (6, "residential", [(100, 0), (100, 197)], ""),  # ends 3 m from way 3: not joined
    )
    G, report = network_from_lines(layer, mode="walk")
    assert report.join == "shared_vertices" and "osm_id" in report.join_reason
    assert _joined(G, "1", "2")  # a crossroads at a shared vertex
    assert not _joined(G, "3", "4")  # a bridge over a road
    assert _joined(G, "4", "5")
    assert not _joined(G, "6", "3")  # no proximity snapping on OSM layers
    assert report.n_shared_vertices == 4 and report.n_level_separated == 1
    assert report.n_shared_vertex_nodes == 3
    # joining at every shared vertex is also what proximity gives for the crossroads' length
    path = nx.shortest_path_length(G, _node_at(G, 0, 0), _node_at(G, 50, 50), weight="length_m")
    assert path == pytest.approx(100.0)


def _node_at(G: nx.MultiDiGraph, x: float, y: float) -> object:
    return min(G.nodes, key=lambda n: math.hypot(G.nodes[n]["x"] - X0 - x, G.nodes[n]["y"] - Y0 - y))


def test_a_ramp_ending_at_a_bridge_vertex_joins_every_level() -> None:
    layer = _osm_lines(
        (1, "primary", [(0, 0), (50, 0), (100, 0)], '"layer"=>"1","bridge"=>"yes"'),
        (2, "residential", [(50, -50), (50, 0), (50, 50)], ""),
        (3, "primary_link", [(50, 0), (80, 60)], '"layer"=>"1"'),  # ends at the shared vertex
    )
    G, report = network_from_lines(layer, mode="walk")
    assert _joined(G, "1", "2") and _joined(G, "1", "3") and report.n_level_separated == 0


def test_foot_and_access_tags_drop_ways_for_walking() -> None:
    layer = _osm_lines(
        (1, "residential", [(0, 0), (100, 0)], ""),
        (2, "footway", [(100, 0), (200, 0)], '"foot"=>"no"'),
        (3, "service", [(0, 0), (0, 100)], '"access"=>"private"'),
        (4, "service", [(0, 100), (0, 300)], '"access"=>"private","foot"=>"yes"'),
        (5, "residential", [(0, 0), (-100, 0)], '"access"=>"no","note"=>"say \\"no\\""'),
    )
    layer["foot"] = [None, None, None, None, "permissive"]  # a column beats other_tags
    G, report = network_from_lines(layer, mode="walk")
    kept = {str(d["osmid"]) for _, _, d in G.edges(data=True)}
    assert kept == {"1", "4", "5"}
    assert report.mode_dropped_m == {"access=private": 100.0, "foot=no": 100.0}
    assert "0.1 km access=private" in report.summary()
    G_drive, drive = network_from_lines(layer, mode="drive")
    assert {str(d["osmid"]) for _, _, d in G_drive.edges(data=True)} == {"1"}
    assert drive.mode_dropped_m["highway=footway"] == 100.0


def test_join_can_be_forced_and_is_checked() -> None:
    layer = _osm_lines(
        (1, "residential", [(0, 0), (100, 0)], ""), (2, "residential", [(100, 3), (100, 100)], "")
    )
    G, report = network_from_lines(layer, mode="walk", join="proximity")
    assert report.join == "proximity" and _joined(G, "1", "2")
    with pytest.raises(ApgeoValueError, match="join='nearest'"):
        network_from_lines(layer, mode="walk", join="nearest")  # type: ignore[arg-type]
    # without OSM columns, the share of junctions inside a line decides
    plain = _lines([(0, 0), (50, 0), (100, 0)], [(50, -50), (50, 0), (50, 50)])
    _, auto = network_from_lines(plain, mode="walk")
    assert auto.join == "shared_vertices" and "100% of 1 junction" in auto.join_reason


def test_load_network_reads_line_layers(tmp_path: Path) -> None:
    from apgeo.network.load import load_network, load_networks

    path = tmp_path / "streets.gpkg"
    _osm_lines(
        (1, "residential", [(0, 0), (50, 0), (100, 0)], ""),
        (2, "motorway", [(50, -50), (50, 0), (50, 50)], ""),
    ).to_file(path)
    G = load_network(path, mode="walk")
    assert G.graph["mode"] == "walk" and G.number_of_edges() == 4
    both = load_networks(path, modes=("walk", "drive"))
    assert both["drive"].number_of_edges() == 6  # the motorway is one-way (implied by OSM)
    with pytest.raises(ApgeoValueError, match="road-line layers are built in EPSG:27700"):
        load_network(path, mode="walk", crs="EPSG:32630")


# ---- the real Leeds OSM layer --------------------------------------------------------------

LEEDS = SHARED / "osm" / "leeds_centre_2p5km_osm_lines_2022-10.gpkg"
needs_leeds = pytest.mark.skipif(not LEEDS.is_file(), reason=f"{LEEDS} not found")


@pytest.fixture(scope="module")
def leeds_walk() -> tuple[nx.MultiDiGraph, object]:
    return load_road_lines(LEEDS, mode="walk")  # type: ignore[no-any-return]


@needs_leeds
def test_leeds_crossing_joined_and_bridge_not(leeds_walk: tuple) -> None:
    G, report = leeds_walk
    assert report.join == "shared_vertices"
    # two residential streets crossing at a shared vertex (427336.41, 433977.82)
    assert _joined(G, "23012991", "23059186")
    # a footbridge (layer 2) sharing a vertex with the street below (427317.57, 433808.19)
    assert not _joined(G, "315813913", "524061999")
    assert report.n_shared_vertex_nodes > 0.99 * report.n_shared_vertices
    assert report.n_level_separated >= 5


@needs_leeds
def test_leeds_foot_no_and_private_ways_dropped_for_walk(leeds_walk: tuple) -> None:
    G, report = leeds_walk
    layer = gpd.read_file(LEEDS)
    kept = {str(d["osmid"]) for _, _, d in G.edges(data=True)}
    foot_no = set(layer.loc[layer["foot"] == "no", "osm_id"].astype(str))
    private = set(
        layer.loc[(layer["access"] == "private") & layer["foot"].isna(), "osm_id"].astype(str)
    )
    assert foot_no and private and not (kept & (foot_no | private))
    assert report.mode_dropped_m["foot=no"] > 5_000
    assert report.mode_dropped_m["access=private"] > 20_000


def _leeds_independent_walk_graph() -> tuple[nx.Graph, dict[tuple[int, int], list]]:
    """Leeds walking graph built here: every vertex pair an edge, a node per (point, level),
    points where a way ends linking every level there; the walk rules written out."""
    layer = gpd.read_file(LEEDS).to_crs("EPSG:27700")
    other = layer["other_tags"].fillna("")

    def tag(key: str) -> pd.Series:
        return other.str.extract(rf'"{key}"=>"([^"]*)"')[0]

    level = pd.DataFrame({
        "layer": pd.to_numeric(tag("layer"), errors="coerce").fillna(0.0),
        "bridge": tag("bridge").fillna("no") != "no",
        "tunnel": ~tag("tunnel").fillna("no").isin(["no", "building_passage", "covered"]),
    }).astype(str).agg("|".join, axis=1)
    excluded = {"motorway", "motorway_link", "busway", "construction", "proposed", "no",
                "bus_guideway", "abandoned", "planned", "platform", "raceway", "razed",
                "escape", "elevator"}
    walkable = (
        ~layer["highway"].isin(excluded)
        & ~layer["foot"].isin(["no", "private"])
        & ~(layer["access"].isin(["no", "private"])
            & ~layer["foot"].isin(["yes", "designated", "permissive", "destination"]))
    )
    G = nx.Graph()
    levels_at: dict[tuple[int, int], set] = {}
    ends: set[tuple[int, int]] = set()
    level_of, walkable_row = level.tolist(), walkable.tolist()
    for row, geom in enumerate(layer.geometry):
        for part in getattr(geom, "geoms", [geom]):
            keys = [(round(x * 1000), round(y * 1000)) for x, y in part.coords]
            ends.update({keys[0], keys[-1]})
            if not walkable_row[row]:
                continue
            for k in keys:
                levels_at.setdefault(k, set()).add(level_of[row])
            for (k1, (x1, y1)), (k2, (x2, y2)) in zip(
                zip(keys, part.coords), list(zip(keys, part.coords))[1:]
            ):
                a, b = (*k1, level_of[row]), (*k2, level_of[row])
                if a != b:
                    G.add_edge(a, b, length_m=math.hypot(x2 - x1, y2 - y1))
    for point in ends & levels_at.keys():
        for lv in levels_at[point]:
            G.add_edge((*point, "end"), (*point, lv), length_m=0.0)
    return G, levels_at


@needs_leeds
def test_leeds_walks_equal_an_independent_graph(leeds_walk: tuple) -> None:
    from pyproj import Transformer

    G, _ = leeds_walk
    engine = TravelTimeEngine.from_graph(G, warn_dropped_fraction=None)
    mine, levels_at = _leeds_independent_walk_graph()
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    places = {  # (lon, lat)
        "station": (-1.5475, 53.7955),
        "university": (-1.5530, 53.8075),
        "kirkgate market": (-1.5400, 53.7970),
        "leeds dock": (-1.5330, 53.7910),
        "st james's hospital": (-1.5190, 53.8065),
    }
    xs = np.array([G.nodes[n]["x"] for n in engine.node_ids])
    ys = np.array([G.nodes[n]["y"] for n in engine.node_ids])
    nodes = {}
    for name, (lon, lat) in places.items():
        x, y = to_bng.transform(lon, lat)
        nodes[name] = int(np.argmin(np.hypot(xs - x, ys - y)))
    names = list(places)
    times = engine.node_times([engine.node_ids[nodes[n]] for n in names])
    walk_mps = 4.8 / 3.6
    for i, a in enumerate(names):
        ka = (round(xs[nodes[a]] * 1000), round(ys[nodes[a]] * 1000))
        source = next((*ka, lv) for lv in sorted(levels_at[ka]))
        lengths = nx.single_source_dijkstra_path_length(mine, source, weight="length_m")
        for b in names[i + 1 :]:
            kb = (round(xs[nodes[b]] * 1000), round(ys[nodes[b]] * 1000))
            theirs = min(lengths[(*kb, lv)] for lv in levels_at[kb]) / walk_mps
            ours = times[i, nodes[b]]
            assert ours == pytest.approx(theirs, abs=0.1), (a, b)
            crow_fly = math.hypot(xs[nodes[a]] - xs[nodes[b]], ys[nodes[a]] - ys[nodes[b]])
            assert 1.0 <= ours * walk_mps / crow_fly < 1.6, (a, b)


def test_component_lengths_count_each_piece_once_and_every_piece() -> None:
    """A two-way street's two edges are one piece; the two halves of a roundabout split at
    two nodes (same ends, same way id, same length, different lines) are two."""
    from apgeo.network.line_layer import component_lengths_m

    G = nx.MultiDiGraph()
    top = LineString([(0, 0), (10, 10), (20, 0)])
    bottom = LineString([(20, 0), (10, -10), (0, 0)])
    assert top.length == pytest.approx(bottom.length)
    G.add_edge("A", "B", length_m=top.length, osmid=7, geometry=top)  # one-way ring
    G.add_edge("B", "A", length_m=bottom.length, osmid=7, geometry=bottom)
    street = LineString([(0, 0), (-50, 0)])
    G.add_edge("A", "C", length_m=50.0, osmid=8, geometry=street)
    G.add_edge("C", "A", length_m=50.0, osmid=8, geometry=LineString(street.coords[::-1]))
    G.add_edge("D", "E", length_m=30.0, osmid=9)  # two-way, no line
    G.add_edge("E", "D", length_m=30.0, osmid=9)
    assert component_lengths_m(G) == pytest.approx((2 * top.length + 50.0, 30.0))
