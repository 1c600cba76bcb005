"""Tests for the lean network layer: flat edge geometries, catchment building blocks kept
with the engine (cost grows with the reached streets), engines built from arrays."""

from __future__ import annotations

import warnings

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from apgeo.analysis.catchment_geometry import _blocks, _match_twins
from apgeo.analysis.catchments import catchments
from apgeo.network.synthetic import grid_network
from apgeo.routing.edge_geometry import EdgeGeometry
from apgeo.routing.travel_times import TravelTimeEngine

try:
    from tests._network_fixtures import X0, Y0, pbf_network
    from tests._overlap import overlapping
except ImportError:  # tests/ is not a package
    from _network_fixtures import X0, Y0, pbf_network
    from _overlap import overlapping

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


# ---- engines built from arrays ---------------------------------------------------------------


def _same_engine(a: TravelTimeEngine, b: TravelTimeEngine) -> None:
    assert a.node_ids.tolist() == b.node_ids.tolist()
    assert a.dropped_nodes == b.dropped_nodes
    for name in ("indptr", "indices", "data"):
        assert np.array_equal(getattr(a.matrix, name), getattr(b.matrix, name))
    pd.testing.assert_frame_equal(a.edges, b.edges)
    ga, gb = a.edge_geometry(), b.edge_geometry()
    for name in ("x", "y", "u_index", "v_index", "offsets", "coords"):
        assert np.array_equal(getattr(ga, name), getattr(gb, name))


def test_engine_from_arrays_equals_engine_from_graph() -> None:
    from apgeo.network.arrays import _arrays_of
    from apgeo.routing.engine_arrays import engine_from_arrays
    from apgeo.routing.snap import snap_points
    from apgeo.routing.travel_times import travel_time_table

    for mode in ("walk", "drive"):
        G = pbf_network(mode)  # type: ignore[arg-type]
        reference = TravelTimeEngine.from_graph(G, warn_dropped_fraction=None)
        lean = engine_from_arrays(_arrays_of(G), warn_dropped_fraction=None)
        assert lean.graph is None
        _same_engine(lean, reference)
        xs = reference.edge_geometry().x
        ys = reference.edge_geometry().y
        k = np.arange(0, len(xs), max(1, len(xs) // 40))
        pts = gpd.GeoDataFrame(
            {"id": [f"p{i}" for i in k]},
            geometry=[shapely.Point(xs[i] + 17, ys[i] - 9) for i in k],
            crs=reference.crs,
        )
        with warnings.catch_warnings():  # a few points lie nearest to an island: warned
            warnings.simplefilter("ignore")
            snapped = snap_points(lean, pts, id_column="id")
            expected = snap_points(reference, pts, id_column="id")
        pd.testing.assert_frame_equal(snapped, expected)
        pts = pts.iloc[~snapped["moved_from_island"].to_numpy()]
        got = travel_time_table(
            lean, pts, pts.iloc[:5], origin_id_column="id", destination_id_column="id"
        )
        want = travel_time_table(
            reference, pts, pts.iloc[:5], origin_id_column="id", destination_id_column="id"
        )
        pd.testing.assert_frame_equal(got, want)
        sites = pts.iloc[[3, 20]].rename(columns={"id": "site_id"})
        a = catchments(lean, sites, thresholds_min=(2, 4))
        b = catchments(reference, sites, thresholds_min=(2, 4))
        assert all(x.equals_exact(y, 0) for x, y in zip(a.geometry, b.geometry, strict=True))


def test_load_engines_from_file_and_cache_match_graphs(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import apgeo
    from apgeo.network.load import load_networks
    from apgeo.routing.engine_arrays import load_engines

    try:
        from tests._network_fixtures import pbf_path
    except ImportError:
        from _network_fixtures import pbf_path
    before = apgeo.get_settings().cache_dir
    apgeo.configure(cache_dir=tmp_path / "cache")
    try:
        graphs = load_networks(pbf_path(), modes=("walk", "cycle"))
        for _ in range(2):  # read from the file, then from the cache
            engines = load_engines(pbf_path(), modes=("walk", "cycle"), warn_dropped_fraction=None)
            for mode, engine in engines.items():
                _same_engine(
                    engine, TravelTimeEngine.from_graph(graphs[mode], warn_dropped_fraction=None)
                )
    finally:
        apgeo.configure(cache_dir=before)


def test_garbage_collector_comes_back_after_overlapping_builds() -> None:
    """Engines are built on threads, each pausing the process's garbage collector: with
    overlapping pauses (A in, B in, A out, B out) it is on again at the end, and off
    while any thread is inside."""
    import gc

    from apgeo.network.arrays import _gc_paused

    seen: list[bool] = []
    assert gc.isenabled()
    overlapping(_gc_paused, inside_second=lambda: seen.append(gc.isenabled()))
    assert seen == [False]
    assert gc.isenabled()
