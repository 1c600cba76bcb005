"""Tests for apgeo.travel_times: the engine, tables, nearest provider, fields, properties."""

from __future__ import annotations

import math

import networkx as nx
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apgeo import ApgeoValueError, ApgeoWarning, NetworkError
from apgeo.network.synthetic import grid_network
from apgeo.routing.snap import snap_points
from apgeo.routing.travel_times import (
    TravelTimeEngine,
    nearest,
    travel_time_field,
    travel_time_table,
)

try:
    from tests._network_fixtures import X0, Y0, as_series, grid_points, networkx_times, pbf_network
except ImportError:  # tests/ is not a package
    from _network_fixtures import X0, Y0, as_series, grid_points, networkx_times, pbf_network


def _engine(G: nx.MultiDiGraph) -> TravelTimeEngine:
    return TravelTimeEngine.from_graph(G, warn_dropped_fraction=None)


# ---- hand-worked grids -----------------------------------------------------------------------


def test_corner_to_corner_3x3_walk() -> None:
    engine = _engine(grid_network(3, 3))
    times = engine.node_times([0])[0]
    assert times[engine.node_index[8]] == pytest.approx(300.0)  # 400 m at 4.8 km/h
    assert times[engine.node_index[4]] == pytest.approx(150.0)
    pts = grid_points([(0, 0), (2, 2)], ids=["sw", "ne"])
    table = travel_time_table(engine, pts, pts, origin_id_column="id", destination_id_column="id")
    assert list(table.columns) == ["origin_id", "destination_id", "travel_time_s"]
    s = as_series(table)
    assert s[("sw", "ne")] == pytest.approx(300.0)
    assert s[("ne", "sw")] == pytest.approx(300.0)
    assert s[("sw", "sw")] == 0.0


def test_access_leg_and_partial_edges_are_added() -> None:
    engine = _engine(grid_network(3, 3))
    # o: 20 m south of the middle of edge 0-1 -> 15 s access + 37.5 s to a node
    o = grid_points([(0.5, -0.2)], ids=["o"])
    d = grid_points([(2, 2)], ids=["d"])
    t = travel_time_table(engine, o, d, origin_id_column="id", destination_id_column="id")
    # 15 (access) + 37.5 (half edge to node 1) + 3 edges x 75 to node 8
    assert t.loc[0, "travel_time_s"] == pytest.approx(15 + 37.5 + 225)


def test_same_edge_direct_travel() -> None:
    engine = _engine(grid_network(3, 3))
    pts = grid_points([(0.2, 0), (0.7, 0)], ids=["a", "b"])
    s = as_series(
        travel_time_table(engine, pts, pts, origin_id_column="id", destination_id_column="id")
    )
    assert s[("a", "b")] == pytest.approx(0.5 * 75)
    assert s[("b", "a")] == pytest.approx(0.5 * 75)


def test_one_way_changes_drive_not_walk() -> None:
    pts = grid_points([(0.2, 0), (0.7, 0)], ids=["a", "b"])
    for mode, symmetric in (("walk", True), ("drive", False)):
        G = grid_network(3, 3, mode=mode, one_way=[(0, 1)])  # type: ignore[arg-type]
        engine = _engine(G)
        s = as_series(
            travel_time_table(engine, pts, pts, origin_id_column="id", destination_id_column="id")
        )
        edge_s = 100 / (G.graph["speeds_kph"][mode] / 3.6)
        assert s[("a", "b")] == pytest.approx(0.5 * edge_s)
        if symmetric:
            assert s[("b", "a")] == pytest.approx(0.5 * edge_s)
        else:  # b -> 1 -> 4 -> 3 -> 0 -> a: 0.3 + 3 + 0.2 edges
            assert s[("b", "a")] == pytest.approx(3.5 * edge_s)


def test_direction_to_uses_transposed_graph() -> None:
    engine = _engine(grid_network(3, 3, mode="drive", one_way=[(0, 1)]))
    edge_s = engine.edges["travel_time_s"].iloc[0]
    from_0 = engine.node_times([0], direction="from")[0]
    to_0 = engine.node_times([0], direction="to")[0]
    assert from_0[engine.node_index[1]] == pytest.approx(edge_s)
    assert to_0[engine.node_index[1]] == pytest.approx(3 * edge_s)  # 1 -> 4 -> 3 -> 0


def test_table_is_the_same_from_either_side() -> None:
    engine = _engine(
        grid_network(5, 5, mode="drive", one_way=[(0, 1), (6, 11), (12, 13), (18, 17)])
    )
    rng = np.random.default_rng(1)
    coords = [(float(a), float(b)) for a, b in rng.uniform(0, 4, size=(9, 2))]
    few = grid_points(coords[:3], ids=["o0", "o1", "o2"])
    many = grid_points(coords[3:], ids=[f"d{i}" for i in range(6)])
    big = pd.concat([few, many], ignore_index=True)

    def table(o: object, d: object) -> pd.Series:
        return as_series(
            travel_time_table(engine, o, d, origin_id_column="id", destination_id_column="id")
        )

    # 3 origins < 6 destinations: Dijkstra from the origins; 9 > 6: from the destinations
    # on the transposed graph. The shared pairs must agree, in both directions of travel.
    for small_side, large_side in (
        (table(few, many), table(big, many)),
        (table(many, few), table(many, big)),
    ):
        for pair, value in small_side.items():
            assert large_side[pair] == pytest.approx(value, abs=1e-6)
    assert not np.allclose(
        table(few, many).to_numpy(), table(many, few).sort_index(level=[1, 0]).to_numpy()
    )


def test_limit_gives_nan_not_magic_number() -> None:
    engine = _engine(grid_network(3, 3))
    pts = grid_points([(0, 0), (1, 0), (2, 2)], ids=["a", "b", "c"])
    s = as_series(
        travel_time_table(
            engine,
            pts,
            pts,
            origin_id_column="id",
            destination_id_column="id",
            max_travel_time_s=100,
        )
    )
    assert s[("a", "b")] == pytest.approx(75.0)
    assert math.isnan(s[("a", "c")])
    assert s.dropna().max() <= 100


def test_unreachable_is_nan_in_table_and_inf_in_arrays() -> None:
    engine = _engine(grid_network(3, 3))
    times = engine.node_times([0], max_travel_time_s=80)[0]
    assert np.isinf(times).sum() == 9 - 3


def test_nearest_provider() -> None:
    engine = _engine(grid_network(5, 1))
    providers = grid_points([(0, 0), (4, 0)], ids=["west", "east"], id_column="provider_id")
    areas = grid_points([(1, 0), (3.5, 0), (2, 0)], ids=["A", "B", "C"], id_column="area_id")
    result = nearest(
        engine, providers, areas, source_id_column="provider_id", target_id_column="area_id"
    )
    assert list(result.columns) == ["area_id", "travel_time_s", "nearest_id"]
    assert list(result["nearest_id"][:2]) == ["west", "east"]
    np.testing.assert_allclose(result["travel_time_s"], [75.0, 37.5, 150.0])
    limited = nearest(
        engine,
        providers,
        areas,
        source_id_column="provider_id",
        target_id_column="area_id",
        max_travel_time_s=100,
    )
    assert math.isnan(limited.loc[2, "travel_time_s"]) and pd.isna(limited.loc[2, "nearest_id"])


def test_nearest_equals_table_minimum_with_one_way() -> None:
    engine = _engine(
        grid_network(5, 5, mode="drive", one_way=[(0, 1), (6, 11), (12, 13), (18, 17)])
    )
    rng = np.random.default_rng(7)
    providers = grid_points([tuple(c) for c in rng.uniform(0, 4, size=(3, 2))], id_column="pid")
    areas = grid_points([tuple(c) for c in rng.uniform(0, 4, size=(8, 2))], id_column="aid")
    # children travel from the area to the provider
    table = travel_time_table(
        engine, areas, providers, origin_id_column="aid", destination_id_column="pid"
    )
    best = table.loc[table.groupby("origin_id")["travel_time_s"].idxmin()].set_index("origin_id")
    result = nearest(
        engine, providers, areas, source_id_column="pid", target_id_column="aid"
    ).set_index("aid")
    np.testing.assert_allclose(
        result["travel_time_s"], best.loc[result.index, "travel_time_s"], atol=1e-6
    )
    assert list(result["nearest_id"]) == list(best.loc[result.index, "destination_id"])


def test_travel_time_field_for_catchments() -> None:
    engine = _engine(grid_network(3, 3))
    field = travel_time_field(
        engine, grid_points([(0, 0)], id_column="pid"), id_column="pid", max_travel_time_s=160
    )
    assert field.node_times_s.shape == (1, 9)
    edges = field.edge_times(0)
    row = edges[(edges["u"] == 1) & (edges["v"] == 2)].iloc[0]
    assert (row["time_u_s"], row["time_v_s"]) == (75.0, 150.0)
    far = edges[(edges["u"] == 5) & (edges["v"] == 8)].iloc[0]
    assert math.isinf(far["time_v_s"])
    nodes = field.node_frame()
    assert set(nodes["node"]) == {0, 1, 2, 3, 4, 6}


def test_node_sources_and_snapped_sources_agree_on_nodes() -> None:
    engine = _engine(grid_network(4, 4))
    snapped = snap_points(engine, grid_points([(1, 1)]), id_column="id")
    np.testing.assert_allclose(engine.node_times(snapped), engine.node_times([5]), atol=1e-9)


def test_parallel_edges_keep_fastest() -> None:
    G = grid_network(2, 1)
    G.add_edge(0, 1, length_m=100.0, travel_time_s=10.0)
    engine = _engine(G)
    assert engine.node_times([0])[0][engine.node_index[1]] == 10.0
    assert len(engine.edges) == 3


# ---- engine bad input --------------------------------------------------------------------------


def test_engine_rejects_empty_and_incomplete_graphs() -> None:
    with pytest.raises(NetworkError, match=r"network is empty: it has 0 node\(s\) and 0 edge\(s\)"):
        TravelTimeEngine.from_graph(nx.MultiDiGraph(crs="EPSG:27700"))
    G = grid_network(2, 1)
    del G.edges[0, 1, 0]["travel_time_s"]
    with pytest.raises(NetworkError, match=r"1 edge\(s\) lack a valid 'travel_time_s'"):
        TravelTimeEngine.from_graph(G)
    H = grid_network(2, 1)
    H.graph.pop("crs")
    from apgeo import CRSError

    with pytest.raises(CRSError, match="no 'crs' graph attribute"):
        TravelTimeEngine.from_graph(H)


def test_engine_bad_arguments() -> None:
    engine = _engine(grid_network(3, 3))
    with pytest.raises(ApgeoValueError, match="max_travel_time_s=0"):
        engine.node_times([0], max_travel_time_s=0)
    with pytest.raises(ApgeoValueError, match="max_travel_time_s=-60"):
        engine.node_times([0], max_travel_time_s=-60)
    with pytest.raises(ApgeoValueError, match="direction='both'"):
        engine.node_times([0], direction="both")  # type: ignore[arg-type]
    with pytest.raises(ApgeoValueError, match=r"not in the engine's network .*\[99\]"):
        engine.node_times([99])


def test_engine_warns_on_many_dropped_nodes() -> None:
    G = grid_network(3, 3, mode="drive", one_way=[(0, 1), (0, 3)])  # node 0 only has exits
    with pytest.warns(ApgeoWarning, match=r"1 of 9 network node\(s\) \(11\.1%\) lie outside"):
        engine = TravelTimeEngine.from_graph(G)
    assert engine.dropped_node_count == 1 and engine.dropped_nodes == (0,)
    TravelTimeEngine.from_graph(G, warn_dropped_fraction=0.2)  # below threshold: logged only


# ---- real OSM ------------------------------------------------------------------------------


def test_real_drive_network_matches_networkx() -> None:
    G = pbf_network("drive")
    engine = _engine(G)
    assert engine.n_nodes > 300
    sources = list(engine.node_ids[:: max(1, engine.n_nodes // 5)][:5])
    from_times = engine.node_times(sources, max_travel_time_s=600)
    for row, source in enumerate(sources):
        reference = networkx_times(G, source, cutoff=600)
        ours = {
            n: t for n, t in zip(engine.node_ids, from_times[row], strict=True) if np.isfinite(t)
        }
        expected = {n: t for n, t in reference.items() if n in engine.node_index}
        assert ours.keys() == expected.keys()
        np.testing.assert_allclose([ours[n] for n in expected], list(expected.values()), atol=1e-6)
    to_times = engine.node_times(sources, direction="to")
    full_from = engine.node_times(sources)
    assert np.isfinite(full_from).all()
    assert np.abs(to_times - full_from).max() > 1.0  # one-way streets make driving asymmetric


@pytest.mark.parametrize("mode", ["walk", "cycle"])
def test_real_walk_cycle_networks_are_symmetric(mode: str) -> None:
    engine = _engine(pbf_network(mode))  # type: ignore[arg-type]
    sources = list(engine.node_ids[:3])
    np.testing.assert_allclose(
        engine.node_times(sources), engine.node_times(sources, direction="to"), atol=1e-6
    )


def test_real_table_with_points() -> None:
    G = pbf_network("walk")
    engine = _engine(G)
    xs = np.array([d["x"] for _, d in G.nodes(data=True)])
    ys = np.array([d["y"] for _, d in G.nodes(data=True)])
    rng = np.random.default_rng(3)
    coords = list(
        zip(
            rng.uniform(np.percentile(xs, 20), np.percentile(xs, 80), 6),
            rng.uniform(np.percentile(ys, 20), np.percentile(ys, 80), 6),
            strict=True,
        )
    )
    from apgeo.routing.snap import snap_points as snap

    try:
        from tests._network_fixtures import points
    except ImportError:
        from _network_fixtures import points

    pts = points(coords, crs=G.graph["crs"])
    snapped = snap(engine, pts, id_column="id", warn_distance_m=10_000)
    table = travel_time_table(
        engine, snapped, snapped, origin_id_column="id", destination_id_column="id"
    )
    assert len(table) == 36
    assert table["travel_time_s"].notna().all()
    sq = as_series(table)
    for i in pts["id"]:
        assert sq[(i, i)] == pytest.approx(
            2 * snapped.set_index("id").loc[i, "access_time_s"], abs=1e-6
        )


# ---- properties -------------------------------------------------------------------------------


@st.composite
def random_graphs(draw: st.DrawFn) -> nx.MultiDiGraph:
    n = draw(st.integers(min_value=2, max_value=9))
    edge = st.tuples(
        st.integers(0, n - 1),
        st.integers(0, n - 1),
        st.floats(min_value=0, max_value=500, allow_nan=False, allow_infinity=False),
    )
    edges = draw(st.lists(edge, min_size=1, max_size=30))
    G = nx.MultiDiGraph(crs="EPSG:27700", mode="drive")
    for i in range(n):
        G.add_node(i, x=X0 + 10.0 * i, y=Y0)
    for u, v, w in edges:
        if u != v:
            G.add_edge(u, v, travel_time_s=w, length_m=w)
    for i in range(n - 1):  # keep a non-trivial component
        if not G.has_edge(i, i + 1) and draw(st.booleans()):
            G.add_edge(i, i + 1, travel_time_s=50.0, length_m=50.0)
            G.add_edge(i + 1, i, travel_time_s=70.0, length_m=70.0)
    if G.number_of_edges() == 0:
        G.add_edge(0, 1, travel_time_s=1.0, length_m=1.0)
    return G


PROPERTY_SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(random_graphs(), st.sampled_from(["from", "to"]))
def test_engine_equals_networkx_dijkstra(G: nx.MultiDiGraph, direction: str) -> None:
    engine = _engine(G)
    times = engine.node_times(list(engine.node_ids), direction=direction)  # type: ignore[arg-type]
    reference_graph = G if direction == "from" else G.reverse(copy=True)
    for row, source in enumerate(engine.node_ids):
        reference = networkx_times(reference_graph, source)
        for col, node in enumerate(engine.node_ids):
            assert times[row, col] == pytest.approx(reference[node], abs=1e-6)


@PROPERTY_SETTINGS
@given(random_graphs(), st.data())
def test_adding_a_source_never_lengthens_nearest_time(
    G: nx.MultiDiGraph, data: st.DataObject
) -> None:
    engine = _engine(G)
    ids = list(engine.node_ids)
    sources = data.draw(st.lists(st.sampled_from(ids), min_size=1, max_size=3, unique=True))
    extra = data.draw(st.sampled_from(ids))
    before, _ = engine.nearest_node_field(sources)
    after, which = engine.nearest_node_field([*sources, extra])
    assert (after <= before + 1e-9).all()
    assert ((which >= 0) | np.isinf(after)).all()


@PROPERTY_SETTINGS
@given(
    st.integers(2, 6),
    st.integers(1, 5),
    st.floats(1, 600),
    st.floats(1, 600),
    st.lists(st.tuples(st.floats(0, 5), st.floats(0, 4)), min_size=1, max_size=4),
)
def test_larger_limit_reaches_a_superset(
    n_cols: int, n_rows: int, a: float, b: float, coords: list[tuple[float, float]]
) -> None:
    small, large = sorted((a, b))
    engine = _engine(grid_network(n_cols, n_rows))
    pts = grid_points([(min(c, n_cols - 1), min(r, n_rows - 1)) for c, r in coords])
    snapped = snap_points(engine, pts, id_column="id", warn_distance_m=1e6)
    near = engine.node_times(snapped, max_travel_time_s=small)
    far = engine.node_times(snapped, max_travel_time_s=large)
    reached_near = np.isfinite(near)
    assert (np.isfinite(far) | ~reached_near).all()
    np.testing.assert_allclose(near[reached_near], far[reached_near])
    table_near = travel_time_table(
        engine,
        snapped,
        snapped,
        origin_id_column="id",
        destination_id_column="id",
        max_travel_time_s=small,
    )
    table_far = travel_time_table(
        engine,
        snapped,
        snapped,
        origin_id_column="id",
        destination_id_column="id",
        max_travel_time_s=large,
    )
    reached = table_near["travel_time_s"].notna()
    assert table_far.loc[reached, "travel_time_s"].notna().all()


@PROPERTY_SETTINGS
@given(st.lists(st.tuples(st.floats(0, 4), st.floats(0, 4)), min_size=2, max_size=6), st.data())
def test_adding_a_provider_never_lengthens_nearest_point_times(
    coords: list[tuple[float, float]], data: st.DataObject
) -> None:
    engine = _engine(
        grid_network(5, 5, mode="drive", one_way=[(0, 1), (6, 11), (12, 13), (18, 17)])
    )
    k = data.draw(st.integers(1, len(coords) - 1))
    providers = grid_points(coords[:k], id_column="pid")
    more = grid_points(coords, id_column="pid")
    areas = grid_points([(x, y) for y, x in coords], id_column="aid")
    before = nearest(engine, providers, areas, source_id_column="pid", target_id_column="aid")
    after = nearest(engine, more, areas, source_id_column="pid", target_id_column="aid")
    assert (after["travel_time_s"].to_numpy() <= before["travel_time_s"].to_numpy() + 1e-9).all()
