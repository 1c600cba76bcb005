"""Travel-time engines built straight from a network's arrays, without a networkx graph.

A networkx graph of a county-size network weighs about 3 KB per node (4.4 GB at 1.5
million nodes) while the engine, the snap index and the catchment building blocks need
only arrays. :func:`engine_from_arrays` builds a
:class:`~apgeo.routing.travel_times.TravelTimeEngine` (and its snap index) from the
array form of a mode network (what the processed-network cache stores); the result is
the same as ``TravelTimeEngine.from_graph`` of the graph built from those arrays (same
node and edge order, same snaps and times), with ``engine.graph`` ``None``.
:func:`load_engines` loads the engines of a study's modes from a PBF or GraphML file or
the cache this way.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from apgeo._errors import NetworkError
from apgeo.network.arrays import _gc_paused, _ModeArrays
from apgeo.network.modes import Mode
from apgeo.routing.edge_geometry import EdgeGeometry
from apgeo.routing.main_component import largest_component, main_edge_rows
from apgeo.routing.snap import EdgeIndex, _lines_of
from apgeo.routing.travel_times import TravelTimeEngine
from apgeo.schema import TRAVEL_TIME_S


def graph_edge_order(u: np.ndarray, v: np.ndarray, n_nodes: int) -> np.ndarray:
    """The order in which networkx lists the edges of a graph built from rows ``u -> v``
    (by start node, then by the first row joining that pair, then by row).

    Parameters
    ----------
    u, v
        Start and end node row of each edge.
    n_nodes
        Number of nodes.

    Returns
    -------
    numpy.ndarray
        The edge rows in that order.
    """
    code = u.astype(np.int64) * np.int64(n_nodes) + v
    by_code = np.argsort(code, kind="stable")
    start = np.ones(len(code), dtype=bool)
    start[1:] = code[by_code[1:]] != code[by_code[:-1]]
    del code
    group = np.cumsum(start) - 1
    first = np.empty(len(u), dtype=np.int64)
    first[by_code] = by_code[start][group]  # a stable sort puts each pair's first row first
    del by_code, start, group
    return np.lexsort((first, u))  # a stable sort: rows of one pair stay in order


def engine_from_arrays(
    arrays: _ModeArrays, *, warn_dropped_fraction: float | None = 0.05
) -> TravelTimeEngine:
    """A travel-time engine, with its snap index and edge geometries, from a mode's arrays.

    Parameters
    ----------
    arrays
        A mode's processed network arrays.
    warn_dropped_fraction
        Warn when more than this share of nodes lies outside the largest strongly
        connected component (``None``: never).

    Returns
    -------
    TravelTimeEngine
        The engine, without a networkx graph.

    Raises
    ------
    NetworkError
        An empty network, or an edge without a valid travel time.
    """
    n = len(arrays.node_ids)
    if n == 0 or len(arrays.u) == 0:
        raise NetworkError(
            f"the {arrays.mode} network from {arrays.source} is empty: it has "
            f"{n} node(s) and {len(arrays.u)} edge(s)"
        )
    with _gc_paused():
        order = graph_edge_order(arrays.u, arrays.v, n)
        w = arrays.travel_time_s
        bad = ~np.isfinite(w) | (w < 0)
        if bad.any():
            first = int(order[np.flatnonzero(bad[order])[0]])  # the first in graph order
            raise NetworkError(
                f"{int(bad.sum())} edge(s) lack a valid 'travel_time_s' (seconds >= 0), e.g. edge "
                f"{arrays.node_ids[arrays.u[first]]!r} -> {arrays.node_ids[arrays.v[first]]!r}; "
                "build the network with apgeo.network"
            )
        del bad
        component = largest_component(arrays.u, arrays.v, w, n)
        node_in = component[1]
        engine = TravelTimeEngine._from_parts(
            None,
            arrays.node_ids,
            arrays.u,
            arrays.v,
            w,
            arrays.length_m,
            arrays.key,
            mode=arrays.mode,
            crs=arrays.crs,
            warn_dropped_fraction=warn_dropped_fraction,
            order=order,
            component=component,
        )
        del component
        # rows of the arrays, in graph edge order
        main = main_edge_rows(arrays.u, arrays.v, node_in, order)
        cut_off = ~(node_in[arrays.u] & node_in[arrays.v]) & (arrays.u != arrays.v)
        island = order[cut_off[order]]
        del order, cut_off
        island_geoms = _lines_of(arrays.x, arrays.y, arrays.u, arrays.v, arrays.geometry, island)
        geometry = arrays.geometry[main]
        del main, island
        kept = np.flatnonzero(node_in)
        edges = engine.edges
        engine._geometry = EdgeGeometry.from_lines(
            arrays.x[kept],
            arrays.y[kept],
            edges["u_index"].to_numpy(),
            edges["v_index"].to_numpy(),
            geometry,
        )
        del geometry, kept
        engine._snap_index = EdgeIndex.from_main(
            engine.node_ids,
            engine._geometry,
            edges["key"].to_numpy(),
            edges["length_m"].to_numpy(),
            edges[TRAVEL_TIME_S].to_numpy(),
            island_geoms,
            bounds=(
                float(arrays.x.min()),
                float(arrays.y.min()),
                float(arrays.x.max()),
                float(arrays.y.max()),
            ),
        )
    return engine


def load_engines(
    source: str | Path | None,
    *,
    modes: Iterable[Mode] | Mode,
    speeds_kph: Mapping[str, float] | None = None,
    warn_dropped_fraction: float | None = 0.05,
    **options: Any,
) -> dict[str, TravelTimeEngine]:
    """The engines of ``modes`` from a PBF or GraphML file, a download from OpenStreetMap
    (``source=None`` with ``polygon=``) or the processed-network cache, built from arrays:
    no networkx graph is kept (a fresh download is osmnx's graph until its streets are
    read; from the cache, none is made). ``options`` as for
    :func:`apgeo.network.load.load_networks` (``polygon``, ``buffer_m``, ``cache``,
    ``crs``, ``polygon_crs``, ``slope_aware``).

    Parameters
    ----------
    source
        A PBF or GraphML file, or ``None`` to download (needs ``polygon``).
    modes
        One mode or several.
    speeds_kph
        Speed overrides, see :func:`apgeo.network.resolve_speeds`.
    warn_dropped_fraction
        As for :func:`engine_from_arrays`.
    **options
        Passed to the network loader.

    Returns
    -------
    dict of str to TravelTimeEngine
        One engine per mode.
    """
    from apgeo.network.load import _load_arrays

    arrays = _load_arrays(source, modes=modes, speeds_kph=speeds_kph, **options)
    names = list(arrays)

    def build(mode: Mode) -> TravelTimeEngine:
        return engine_from_arrays(arrays.pop(mode), warn_dropped_fraction=warn_dropped_fraction)

    # one thread per mode up to the number of cores: most of a build is NumPy sorting and
    # indexing and the k-d tree, which release the GIL; each mode's arrays are let go as
    # its engine is built, and the engines come back in the modes' order
    workers = min(len(names), os.cpu_count() or 1)
    if workers > 1:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            built = list(pool.map(build, names))
    else:
        built = [build(mode) for mode in names]
    return dict(zip(names, built, strict=True))


__all__ = ["engine_from_arrays", "graph_edge_order", "load_engines"]
