"""Tests for apgeo.snap: nearest-edge snapping, access legs, thresholds, bad input."""

from __future__ import annotations

import math

import geopandas as gpd
import networkx as nx
import numpy as np
import pytest
import shapely

from apgeo import (
    ApgeoValueError,
    ApgeoWarning,
    CRSError,
    DuplicateIdError,
    MissingColumnError,
    SnapError,
)
from apgeo.network.synthetic import grid_network
from apgeo.routing.snap import SNAP_COLUMNS, snap_points
from apgeo.routing.travel_times import TravelTimeEngine

try:
    from tests._network_fixtures import X0, Y0, grid_points, points
except ImportError:  # tests/ is not a package
    from _network_fixtures import X0, Y0, grid_points, points


def _grid_with_island() -> nx.MultiDiGraph:
    G = grid_network(3, 3)
    G.add_node(100, x=X0 + 1000, y=Y0)
    G.add_node(101, x=X0 + 1100, y=Y0)
    for u, v in ((100, 101), (101, 100)):
        G.add_edge(u, v, length_m=100.0, travel_time_s=75.0, highway="residential")
    return G


def test_snap_to_middle_of_edge() -> None:
    G = grid_network(3, 3)
    snapped = snap_points(G, grid_points([(0.5, 0.2)]), id_column="id")
    row = snapped.iloc[0]
    assert list(snapped.columns) == ["id", *SNAP_COLUMNS, "moved_from_island", "beyond_network"]
    assert (row["u"], row["v"]) == (0, 1)
    assert row["fraction"] == pytest.approx(0.5)
    assert row["position_m"] == pytest.approx(50.0)
    assert row["snap_distance_m"] == pytest.approx(20.0)
    assert row["access_time_s"] == pytest.approx(15.0)  # 20 m at 4.8 km/h
    assert row["time_to_u_s"] == pytest.approx(37.5)
    assert row["time_to_v_s"] == pytest.approx(37.5)
    assert row["edge_forward_s"] == pytest.approx(75.0)


def test_snaps_to_edge_not_node() -> None:
    # a long street: the nearest *node* is 300 m away, the street 10 m
    G = grid_network(2, 2, spacing_m=600)
    snapped = snap_points(G, points([(X0 + 300, Y0 + 10)]), id_column="id")
    assert snapped.loc[0, "snap_distance_m"] == pytest.approx(10.0)
    assert snapped.loc[0, "fraction"] == pytest.approx(0.5)


def test_access_speed_is_configurable() -> None:
    G = grid_network(3, 3, mode="drive")
    snapped = snap_points(G, grid_points([(0.5, 0.2)]), id_column="id", access_speed_kph=7.2)
    assert snapped.loc[0, "access_time_s"] == pytest.approx(10.0)


def test_one_way_edge_times() -> None:
    G = grid_network(3, 3, mode="drive", one_way=[(0, 1)])
    snapped = snap_points(G, grid_points([(0.25, 0.0)]), id_column="id")
    row = snapped.iloc[0]
    assert (row["u"], row["v"]) == (0, 1)
    assert math.isinf(row["time_to_u_s"]) and math.isinf(row["edge_reverse_s"])
    assert row["time_from_u_s"] == pytest.approx(0.25 * row["edge_forward_s"])


def test_reprojects_points_in_degrees() -> None:
    G = grid_network(3, 3)
    bng = grid_points([(0.5, 0.2), (1.3, 1.0)])
    wgs = bng.to_crs("EPSG:4326")
    a = snap_points(G, bng, id_column="id")
    b = snap_points(G, wgs, id_column="id")
    np.testing.assert_allclose(a["snap_distance_m"], b["snap_distance_m"], atol=1e-3)
    assert list(a["u"]) == list(b["u"])


def test_does_not_mutate_points() -> None:
    G = grid_network(3, 3)
    pts = grid_points([(0.5, 0.2)]).to_crs("EPSG:4326")
    before = pts.copy()
    snap_points(G, pts, id_column="id")
    assert pts.crs == before.crs
    assert pts.geometry.equals(before.geometry)


def test_warns_for_long_access_leg() -> None:
    G = grid_network(3, 3)
    pts = grid_points([(1, 1), (1, 8)], ids=["near", "far"])
    with pytest.warns(ApgeoWarning, match=r"1 point\(s\) are more than 500 m .*id: far \(600 m\)"):
        snapped = snap_points(G, pts, id_column="id")
    assert snapped.loc[1, "snap_distance_m"] == pytest.approx(600.0)
    # configurable threshold: no warning at 1 km
    snap_points(G, pts, id_column="id", warn_distance_m=1000)


def test_strict_turns_warning_into_error() -> None:
    from apgeo import ApgeoError

    G = grid_network(3, 3)
    with pytest.raises(ApgeoError, match="strict=True"):
        snap_points(G, grid_points([(1, 8)]), id_column="id", strict=True)


def test_point_outside_network_extent_raises() -> None:
    G = grid_network(3, 3)
    pts = grid_points([(1, 1), (100, 1)], ids=["ok", "faraway"])
    with pytest.raises(
        SnapError,
        match=r"1 point\(s\) are more than 5,000 m from every street .*faraway \(9,800 m\).*network spans x 430,000\.\.430,200",
    ):
        snap_points(G, pts, id_column="id")
    with pytest.raises(SnapError, match=r"more than 1,000 m"):
        snap_points(
            G, grid_points([(14, 1)]), id_column="id", max_distance_m=1000, warn_distance_m=2000
        )


def test_nan_and_empty_geometry_name_ids() -> None:
    G = grid_network(3, 3)
    nan_pts = points([(X0, Y0), (math.nan, math.nan)], ids=["good", "nanpoint"])
    with pytest.raises(ApgeoValueError, match=r"NaN or infinite coordinates \(id: nanpoint\)"):
        snap_points(G, nan_pts, id_column="id")
    empty = gpd.GeoDataFrame(
        {"id": ["a", "b"]}, geometry=[shapely.Point(X0, Y0), shapely.Point()], crs=27700
    )
    with pytest.raises(ApgeoValueError, match=r"1 row\(s\) have no geometry \(id: b\)"):
        snap_points(G, empty, id_column="id")
    missing = gpd.GeoDataFrame(
        {"id": ["a", "c"]}, geometry=[shapely.Point(X0, Y0), None], crs=27700
    )
    with pytest.raises(ApgeoValueError, match=r"have no geometry \(id: c\)"):
        snap_points(G, missing, id_column="id")


def test_non_points_rejected() -> None:
    G = grid_network(3, 3)
    polys = gpd.GeoDataFrame(
        {"id": ["lsoa1"]}, geometry=[shapely.box(X0, Y0, X0 + 50, Y0 + 50)], crs=27700
    )
    with pytest.raises(ApgeoValueError, match=r"not points \(id: lsoa1\).*centroids"):
        snap_points(G, polys, id_column="id")


def test_no_crs_raises() -> None:
    G = grid_network(3, 3)
    with pytest.raises(CRSError, match="has no CRS; set it first"):
        snap_points(G, grid_points([(1, 1)], crs=None), id_column="id")


def test_ids_checked() -> None:
    G = grid_network(3, 3)
    with pytest.raises(MissingColumnError, match="missing column"):
        snap_points(G, grid_points([(1, 1)]), id_column="provider_id")
    with pytest.raises(DuplicateIdError, match="must be unique"):
        snap_points(G, grid_points([(1, 1), (0, 1)], ids=["a", "a"]), id_column="id")


def test_bad_thresholds() -> None:
    G = grid_network(3, 3)
    with pytest.raises(ApgeoValueError, match="max_distance_m=0"):
        snap_points(G, grid_points([(1, 1)]), id_column="id", max_distance_m=0)
    with pytest.raises(ApgeoValueError, match="access_speed_kph=0"):
        snap_points(G, grid_points([(1, 1)]), id_column="id", access_speed_kph=0)


def test_empty_network_raises() -> None:
    from apgeo import NetworkError

    with pytest.raises(NetworkError, match="is empty"):
        snap_points(nx.MultiDiGraph(crs="EPSG:27700"), grid_points([(1, 1)]), id_column="id")


def test_island_point_moved_to_main_network() -> None:
    with pytest.warns(ApgeoWarning, match=r"2 of 11 network node\(s\) \(18\.2%\)"):
        engine = TravelTimeEngine.from_graph(_grid_with_island())
    assert engine.dropped_node_count == 2
    assert set(engine.dropped_nodes) == {100, 101}
    pts = points([(X0 + 1050, Y0 + 10)], ids=["islander"])
    with pytest.warns(ApgeoWarning) as record:
        snapped = snap_points(engine, pts, id_column="id", warn_distance_m=1000)
    messages = [str(w.message) for w in record]
    assert any("cut off from the main network" in m and "islander (850 m)" in m for m in messages)
    assert snapped.loc[0, "moved_from_island"]
    assert snapped.loc[0, "u"] in engine.node_index and snapped.loc[0, "v"] in engine.node_index
    # on a bare graph the island is a valid street
    bare = snap_points(_grid_with_island(), pts, id_column="id")
    assert bare.loc[0, "snap_distance_m"] == pytest.approx(10.0)


def test_point_on_a_junction_snaps_to_a_two_way_street_first() -> None:
    # node 1 of a 3 x 3 grid: the one-way 0 -> 1 and the two-way 1 - 2 and 1 - 4 meet
    # there, all at distance 0; the snap takes the first two-way street in edge order
    G = grid_network(3, 3, mode="drive", one_way=[(0, 1)])
    pts = gpd.GeoDataFrame(
        {"id": ["on_node", "off_corner"]},
        geometry=[shapely.Point(G.nodes[1]["x"], G.nodes[1]["y"]), shapely.Point(X0 - 30, Y0 - 40)],
        crs="EPSG:27700",
    )
    snapped = snap_points(G, pts, id_column="id")
    first = snapped.iloc[0]
    assert first["snap_distance_m"] == 0.0
    assert {first["u"], first["v"]} == {1, 2}
    assert np.isfinite(first["edge_reverse_s"])
    # nearest to node 0, where the one-way 0 -> 1 and the two-way 0 - 3 meet: 50 m
    second = snapped.iloc[1]
    assert second["snap_distance_m"] == pytest.approx(50.0)
    assert {second["u"], second["v"]} == {0, 3}
    # the same with an engine
    engine = TravelTimeEngine.from_graph(G)
    again = snap_points(engine, pts, id_column="id")
    assert again[["u", "v", "key"]].equals(snapped[["u", "v", "key"]])
