"""Sheffield's primary gritting routes as a drive network, and the circuity they imply.

Run on demand (not part of pytest)::

    .venv/bin/python benchmarks/bench_road_lines.py

Network: ``../shared/data/roads/sheffield_primary_gritting_routes_2023.shp`` (real main
roads, ~320 km, no attributes: two-way, 30 mph). Reported: the line-network report (nodes,
edges, joins, splits, components, km), load and engine times, and the circuity ratio
(road / crow-fly distance) from the 345 LSOA population-weighted centroids to the located
Sheffield provider sites, door to door and between snap points, next to the 1.3 the
straight-line fallback assumes. The roads are main roads only, so the access legs are long
(median a few hundred metres): the door-to-door figure includes them walked straight.
"""

from __future__ import annotations

import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def main() -> None:
    from apgeo.inputs.providers import load_sheffield_providers, split_located
    from apgeo.network import lines
    from apgeo.routing.circuity import circuity_ratio
    from apgeo.routing.snap import snap_points
    from apgeo.routing.travel_times import TravelTimeEngine
    t0 = time.perf_counter()
    G, report = lines.load_road_lines(
        SHARED / "roads" / "sheffield_primary_gritting_routes_2023.shp", mode="drive"
    )
    t1 = time.perf_counter()
    engine = TravelTimeEngine.from_graph(G)
    t2 = time.perf_counter()
    print(report.summary())
    print(f"components (km): {[round(c / 1000, 2) for c in report.component_lengths_m]}")
    print(f"load {t1 - t0:.2f} s; engine {t2 - t1:.3f} s ({engine.n_nodes} nodes kept)")

    table = pd.read_csv(
        SHARED / "geography" / "sheffield_lsoa2011_population_weighted_centroids.csv"
    )
    lsoa = gpd.GeoDataFrame(
        table[["lsoa11cd"]],
        geometry=gpd.points_from_xy(table["easting"], table["northing"]),
        crs="EPSG:27700",
    )
    sites, _ = split_located(load_sheffield_providers())
    sites = sites[["site_id", "kind", "geometry"]].reset_index(drop=True)
    for name, dest in (("all sites", sites), ("AP only", sites[sites["kind"] != "special_school"])):
        for legs in (True, False):
            t = time.perf_counter()
            result = circuity_ratio(
                G,
                lsoa,
                dest,
                origin_id_column="lsoa11cd",
                destination_id_column="site_id",
                include_access_legs=legs,
                warn_distance_m=10_000,
            )
            print(f"{name} ({len(dest)}): {result.summary()} [{time.perf_counter() - t:.2f} s]")
    snapped = snap_points(G, lsoa, id_column="lsoa11cd", warn_distance_m=1e9)
    q = np.percentile(snapped["snap_distance_m"], [25, 50, 75, 100]).round()
    print(f"LSOA centroid -> main road (m): quartiles {q[:3].tolist()}, max {q[3]}")


if __name__ == "__main__":
    main()
