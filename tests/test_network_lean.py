"""Tests for the lean network layer: flat edge geometries, catchment building blocks kept
with the engine (cost grows with the reached streets), engines built from arrays."""

from __future__ import annotations

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

from apgeo.analysis.catchment_geometry import _blocks, _match_twins
from apgeo.analysis.catchments import catchments
from apgeo.network.synthetic import grid_network
from apgeo.routing.edge_geometry import EdgeGeometry
from apgeo.routing.travel_times import TravelTimeEngine

try:
    from tests._network_fixtures import X0, Y0, pbf_network
except ImportError:  # tests/ is not a package
    from _network_fixtures import X0, Y0, pbf_network

BNG = "EPSG:27700"


def _point(x: float, y: float) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"site_id": ["a"]}, geometry=[shapely.Point(X0 + x, Y0 + y)], crs=BNG)


def test_edge_geometry_lines_match_graph_geometries() -> None:
    engine = TravelTimeEngine.from_graph(pbf_network("walk"), warn_dropped_fraction=None)
    geo = engine.edge_geometry()
    rows = np.arange(0, len(engine.edges), 7)
    lines = geo.lines(rows)
    G = engine.graph
    for r, line in zip(rows.tolist(), lines, strict=True):
        u, v, k = engine.edges[["u", "v", "key"]].iloc[r]
        expected = G[u][v][k].get("geometry")
        if expected is None:
            a, b = G.nodes[u], G.nodes[v]
            expected = shapely.LineString([(a["x"], a["y"]), (b["x"], b["y"])])
        assert line.equals_exact(expected, 0)


def test_twins_are_matched_by_geometry_not_length() -> None:
    # two streets between the same nodes with the same length but different shapes
    x = np.array([0.0, 100.0])
    y = np.array([0.0, 0.0])
    north = shapely.LineString([(0, 0), (50, 20), (100, 0)])
    south = shapely.LineString([(0, 0), (50, -20), (100, 0)])
    # listed so that pairing by length alone would join north with the reverse of south
    lines = np.array([north, south, shapely.reverse(south), shapely.reverse(north)], dtype=object)
    u = np.array([0, 0, 1, 1])
    v = np.array([1, 1, 0, 0])
    twins = _match_twins(EdgeGeometry.from_lines(x, y, u, v, lines), u, v)
    assert twins.tolist() == [3, 2, 1, 0]


def test_catchment_touches_only_reached_edges() -> None:
    engine = TravelTimeEngine.from_graph(grid_network(60, 60))  # type: ignore[arg-type]
    blocks = _blocks(engine)
    times = engine.node_times([engine.node_ids[0]], max_travel_time_s=300)[0]
    rows = blocks.candidates(times, 300.0, "from")
    start = engine.edges["u_index"].to_numpy()
    assert rows.tolist() == np.flatnonzero(times[start] <= 300).tolist()
    assert len(rows) < len(engine.edges) / 50
    # the blocks are built once per engine and shared by every catchment
    catchments(engine, _point(30, 0), thresholds_min=(5,))
    assert _blocks(engine) is blocks


def test_two_streets_same_length_are_both_drawn() -> None:
    # a lens: two different streets joining the same two junctions, equally long
    G = nx.MultiDiGraph(crs=BNG, mode="walk", source="test", speeds_kph={"walk": 4.8})
    G.add_node(1, x=X0, y=Y0)
    G.add_node(2, x=X0 + 400, y=Y0)
    for k, dy in enumerate((150.0, -150.0)):
        line = shapely.LineString([(X0, Y0), (X0 + 200, Y0 + dy), (X0 + 400, Y0)])
        for a, b, geom in ((1, 2, line), (2, 1, shapely.reverse(line))):
            G.add_edge(
                a,
                b,
                key=k,
                geometry=geom,
                length_m=line.length,
                travel_time_s=line.length / (4.8 / 3.6),
                speed_kph=4.8,
                highway="footway",
            )
    engine = TravelTimeEngine.from_graph(G)
    out = catchments(engine, _point(0, 0), thresholds_min=(15,), buffer_m=20)
    poly = out.geometry.iloc[0]
    assert poly.contains(shapely.Point(X0 + 200, Y0 + 150))
    assert poly.contains(shapely.Point(X0 + 200, Y0 - 150))
