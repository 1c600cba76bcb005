"""Memory of an engine built from arrays: no per-edge Python or shapely objects in the
snap index, and a bounded peak of traced allocations (numpy and Python) per node."""

from __future__ import annotations

import tracemalloc

import numpy as np

from apgeo.network.arrays import _arrays_of
from apgeo.network.synthetic import grid_network
from apgeo.routing.engine_arrays import engine_from_arrays


def test_engine_from_arrays_memory_per_node() -> None:
    arrays = _arrays_of(grid_network(100, 100))
    engine_from_arrays(arrays)  # first call: imports and caches outside the measure
    tracemalloc.start()
    try:
        engine = engine_from_arrays(arrays)
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert engine.n_nodes == 10_000
    # about 610 bytes per node at the peak and 460 kept (1,800 and 610 with a shapely
    # line per street and a dict of node ids)
    assert peak / engine.n_nodes < 800
    assert kept / engine.n_nodes < 550
    index = engine.edge_index()
    assert index.island_tree is None
    for name in ("edge_u", "edge_v", "edge_s", "row", "reverse_s"):
        assert getattr(index, name).dtype != object
    assert index.segments.px is engine.edge_geometry().x  # node coordinates shared
    assert np.shares_memory(index.edge_s, engine.edges["travel_time_s"].to_numpy())
