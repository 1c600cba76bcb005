"""Snapped points as virtual sources: the reusable buffer equals a fresh copy of the matrix."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy.sparse.csgraph import dijkstra

from apgeo.network.synthetic import grid_network
from apgeo.routing.snap import snap_points
from apgeo.routing.travel_times import TravelTimeEngine
from apgeo.routing.virtual_sources import CAPACITY, VirtualSourceMatrix, augmented_copy

try:
    from tests._network_fixtures import grid_points
except ImportError:  # tests/ is not a package
    from _network_fixtures import grid_points


def _setup(direction: str = "from"):
    G = grid_network(12, 9)
    # one-way streets so that the two directions differ
    for u, v in list(G.edges())[::7]:
        if G.has_edge(v, u) and G.number_of_edges() > 10:
            G.remove_edge(v, u)
    engine = TravelTimeEngine.from_graph(G, warn_dropped_fraction=None)
    rng = np.random.default_rng(3)
    xy = [(float(a), float(b)) for a, b in rng.uniform(0, 8, size=(40, 2))]
    points = grid_points(xy, ids=[f"p{i}" for i in range(len(xy))], id_column="pid")
    table = snap_points(engine, points, id_column="pid")
    base = engine.matrix if direction == "from" else engine.matrix_t
    return engine, table, base


@pytest.mark.parametrize("direction", ["from", "to"])
def test_buffer_equals_a_fresh_copy_across_calls_of_every_size(direction: str) -> None:
    engine, table, base = _setup(direction)
    buffer = VirtualSourceMatrix(base)
    # several calls on one buffer, larger then smaller: rows left by an earlier call must
    # not leak into a later one
    for lo, hi in [(0, 40), (5, 7), (0, 1), (10, 33), (39, 40)]:
        cols, weights_s = engine._source_links(table.iloc[lo:hi], direction)  # type: ignore[arg-type]
        got, _ = buffer.dijkstra(cols, weights_s, limit=np.inf)
        matrix, rows = augmented_copy(base, cols, weights_s)
        want = dijkstra(matrix, directed=True, indices=rows)[:, : engine.n_nodes]
        np.testing.assert_array_equal(got, want)
        assert got.shape == (hi - lo, engine.n_nodes)
        # the nearest source of every node, and its time
        near_s, which = buffer.dijkstra(cols, weights_s, limit=600.0, min_only=True)
        assert which is not None
        capped = np.where(want <= 600.0, want, np.inf)
        np.testing.assert_allclose(near_s, capped.min(axis=0))
        reached = np.isfinite(near_s)
        assert (which[~reached] == -1).all()
        np.testing.assert_allclose(capped[which[reached], np.flatnonzero(reached)], near_s[reached])


def test_engine_results_do_not_depend_on_the_buffer_or_threads() -> None:
    engine, table, _ = _setup()
    first = engine.node_times(table, max_travel_time_s=900)
    # a fresh engine (no buffer yet) gives the same; so do threads sharing one buffer
    again = TravelTimeEngine.from_graph(engine.graph, warn_dropped_fraction=None)
    np.testing.assert_array_equal(again.node_times(table, max_travel_time_s=900), first)
    parts = [table.iloc[i : i + 5] for i in range(0, 40, 5)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda t: engine.node_times(t, max_travel_time_s=900), parts * 3))
    np.testing.assert_array_equal(np.vstack(results[: len(parts)]), first)
    for k, r in enumerate(results):
        np.testing.assert_array_equal(r, first[5 * (k % len(parts)) : 5 * (k % len(parts)) + 5])


def test_more_sources_than_the_buffer_holds_are_chunked() -> None:
    engine, table, base = _setup()
    many = table.sample(CAPACITY + 30, replace=True, random_state=1).reset_index(drop=True)
    got = engine.node_times(many, max_travel_time_s=1200)
    cols, weights_s = engine._source_links(many, "from")
    matrix, rows = augmented_copy(base, cols, weights_s)
    want = dijkstra(matrix, directed=True, indices=rows, limit=1200)[:, : engine.n_nodes]
    np.testing.assert_array_equal(got, want)
    with pytest.raises(ValueError, match="exceed"):
        VirtualSourceMatrix(base).dijkstra(cols, weights_s, limit=1.0)
    # nearest over more sources than the buffer holds takes the copying path: same answer
    near_s, which = engine.nearest_node_field(many, max_travel_time_s=1200, direction="from")
    np.testing.assert_allclose(near_s, np.where(want <= 1200, want, np.inf).min(axis=0))
    assert (which[np.isinf(near_s)] == -1).all()


def test_node_id_sources_beyond_one_chunk() -> None:
    engine, _, _ = _setup()
    ids = list(engine.node_ids) * 3  # more ids than one Dijkstra chunk
    assert len(ids) > CAPACITY
    got = engine.node_times(ids, max_travel_time_s=700)
    want = dijkstra(engine.matrix, directed=True, indices=np.arange(len(ids)) % engine.n_nodes, limit=700)
    np.testing.assert_array_equal(got, want)
    assert engine.node_times([], max_travel_time_s=700).shape == (0, engine.n_nodes)
