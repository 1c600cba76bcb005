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

from apgeo import ApgeoWarning, CRSError, NetworkError
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
