"""Scaling of the network layer with network size: time and peak memory per stage.

Run on demand (not part of pytest)::

    .venv/bin/python benchmarks/bench_scaling.py [--sizes 25000 100000 400000 1500000]
        [--repeats 5] [--out benchmarks/results/scaling.json]

Networks: square walking grids (100 m streets, both directions, as
:func:`apgeo.network.synthetic.grid_network`) of about 25k, 100k, 400k and 1.5M nodes,
stored first in the processed-network cache format (plain ``.npz`` arrays) by a child
process, so each size is measured from "cached arrays" as in any later run of a study.
Each size runs in its own process (peak memory is per process). Stages:

* ``load``: read the cached arrays;
* ``engine+snap``: :func:`apgeo.routing.engine_arrays.engine_from_arrays` (travel-time
  matrix, largest strongly connected component, snap index, edge geometries), no
  networkx graph;
* ``travel_times``: 300 origins x 20 sites, 60 min limit (``travel_time_table``): end to
  end from points, and from the points already snapped (``presnapped``: Dijkstra from the
  20 sites as virtual nodes on the engine's matrix, then the 300 x 20 table), against raw
  ``scipy.sparse.csgraph.dijkstra`` on the same matrix from the 20 sites' nearest street
  ends with the same limit. ``ratio_to_raw_scipy`` compares the presnapped call with it
  (the same search on the same matrix); ``ratio_with_snapping`` adds snapping the 320
  points to the nearest street, which raw scipy does not do;
* ``catchment``: one 30-min walking catchment; the first call builds the building blocks
  kept with the engine (two-way pairing, tiles, edges by start node), the next calls are
  "warm" (median of ``--repeats`` sites, with the spread).

Memory: ``peak_mb`` is the process's peak RSS after the stage, ``bytes_per_node`` the
peak after ``engine+snap`` less the RSS before ``load`` (the interpreter and libraries),
per node. Single-threaded: apgeo's Dijkstra (scipy) is single-threaded; catchments of
several sites use up to 4 threads, but each call here draws one site, so one thread.
Times are medians of ``--repeats`` runs with min..max; the machine is shared, so expect
noise of 10-30 %.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def grid_arrays(side: int) -> Any:
    """The arrays of a ``side`` x ``side`` walking grid (what grid_network would cache)."""
    from apgeo.network.arrays import _ModeArrays, _object_array
    from apgeo.network.modes import resolve_speeds

    n = side * side
    ids = np.arange(n, dtype=np.int64)
    grid = ids.reshape(side, side)
    pairs = np.concatenate(
        [
            np.stack([grid[:, :-1].ravel(), grid[:, 1:].ravel()], axis=1),
            np.stack([grid[:-1, :].ravel(), grid[1:, :].ravel()], axis=1),
        ]
    )
    u = np.concatenate([pairs[:, 0], pairs[:, 1]])
    v = np.concatenate([pairs[:, 1], pairs[:, 0]])
    m = len(u)
    speed = 4.8
    return _ModeArrays(
        node_ids=_object_array(ids.tolist()),
        x=430_000.0 + (ids % side) * 100.0,
        y=380_000.0 + (ids // side) * 100.0,
        elevation=None,
        u=u,
        v=v,
        key=np.zeros(m, dtype=np.int64),
        length_m=np.full(m, 100.0),
        speed_kph=np.full(m, speed),
        travel_time_s=np.full(m, 100.0 / (speed / 3.6)),
        highway=_object_array(["residential"] * m),
        osmid=np.full(m, None, dtype=object),
        geometry=np.full(m, None, dtype=object),
        crs="EPSG:27700",
        mode="walk",
        source="synthetic grid",
        speeds_kph=resolve_speeds({"walk": speed}),
    )


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "median_s": float(np.median(values)),
        "min_s": float(min(values)),
        "max_s": float(max(values)),
        "repeats": len(values),
    }


def measure(path: Path, side: int, repeats: int) -> dict[str, Any]:
    import geopandas as gpd
    import shapely
    from scipy.sparse.csgraph import dijkstra

    from apgeo.analysis.catchments import catchments
    from apgeo.network.cache import _load_cached
    from apgeo.routing.engine_arrays import engine_from_arrays
    from apgeo.routing.snap import snap_points
    from apgeo.routing.travel_times import travel_time_table

    out: dict[str, Any] = {"side": side, "stages": {}}
    base_mb = _rss_mb()
    out["baseline_rss_mb"] = base_mb
    t0 = time.perf_counter()
    arrays = _load_cached(path)
    assert arrays is not None
    out["stages"]["load"] = {"s": time.perf_counter() - t0, "peak_mb": _peak_mb()}
    t0 = time.perf_counter()
    engine = engine_from_arrays(arrays)
    build_s = time.perf_counter() - t0
    del arrays
    out["nodes"] = engine.n_nodes
    out["edges"] = len(engine.edges)
    engine_mb = _peak_mb()
    out["stages"]["engine+snap"] = {"s": build_s, "peak_mb": engine_mb}
    out["load+engine+snap_s"] = out["stages"]["load"]["s"] + build_s
    out["bytes_per_node"] = (engine_mb - base_mb) * 2**20 / engine.n_nodes

    rng = np.random.default_rng(7)
    x0 = 430_000.0 + side * 50.0
    y0 = 380_000.0 + side * 50.0
    half = min(side * 50.0, 6_000.0)  # a city-sized study area in the middle of the grid

    def pts(k: int, prefix: str, column: str) -> gpd.GeoDataFrame:
        xy = rng.uniform(-half, half, size=(k, 2))
        return gpd.GeoDataFrame(
            {column: [f"{prefix}{i}" for i in range(k)]},
            geometry=shapely.points(x0 + xy[:, 0], y0 + xy[:, 1]),
            crs="EPSG:27700",
        )

    origins, sites = pts(300, "o", "area_id"), pts(20, "s", "site_id")
    tt: list[float] = []
    routed: list[float] = []
    raw: list[float] = []
    snapped_o = snap_points(engine, origins, id_column="area_id")
    snapped_s = snap_points(engine, sites, id_column="site_id")
    nodes = np.array([engine.node_index[u] for u in snapped_s["u"]])
    for _ in range(repeats):
        t0 = time.perf_counter()
        travel_time_table(
            engine,
            origins,
            sites,
            origin_id_column="area_id",
            destination_id_column="site_id",
            max_travel_time_s=3600,
        )
        tt.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        travel_time_table(
            engine,
            snapped_o,
            snapped_s,
            origin_id_column="area_id",
            destination_id_column="site_id",
            max_travel_time_s=3600,
        )
        routed.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        dijkstra(engine.matrix_t, directed=True, indices=nodes, limit=3600)
        raw.append(time.perf_counter() - t0)
    out["stages"]["travel_times"] = {
        **_stats(tt),
        "presnapped": _stats(routed),
        "raw_scipy": _stats(raw),
        "ratio_to_raw_scipy": float(np.median(routed) / np.median(raw)),
        "ratio_with_snapping": float(np.median(tt) / np.median(raw)),
        "peak_mb": _peak_mb(),
    }
    first = pts(1, "c", "site_id")
    t0 = time.perf_counter()
    catchments(engine, first, thresholds_min=(30,), mode="walk")
    first_s = time.perf_counter() - t0
    warm: list[float] = []
    for k in range(repeats):
        one = pts(1, f"w{k}", "site_id")
        t0 = time.perf_counter()
        catchments(engine, one, thresholds_min=(30,), mode="walk")
        warm.append(time.perf_counter() - t0)
    out["stages"]["catchment_30min_walk"] = {
        "first_call_s": first_s,
        "warm": _stats(warm),
        "peak_mb": _peak_mb(),
    }
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[25_000, 100_000, 400_000, 1_500_000])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "scaling.json")
    ap.add_argument("--write", type=Path, help=argparse.SUPPRESS)  # child: write arrays
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)  # child: measure
    ap.add_argument("--side", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.write is not None:
        from apgeo.network.cache import _store_cached

        _store_cached(args.write, grid_arrays(args.side))
        return
    if args.measure is not None:
        print(json.dumps(measure(args.measure, args.side, args.repeats)))
        return
    results = []
    with tempfile.TemporaryDirectory() as d:
        for size in args.sizes:
            side = round(math.sqrt(size))
            path = Path(d) / f"grid{side}.walk.npz"
            subprocess.run(
                [sys.executable, __file__, "--write", str(path), "--side", str(side)], check=True
            )
            done = subprocess.run(
                [sys.executable, __file__, "--measure", str(path), "--side", str(side),
                 "--repeats", str(args.repeats)],
                check=True, capture_output=True, text=True,
            )
            row = json.loads(done.stdout.strip().splitlines()[-1])
            path.unlink()
            results.append(row)
            s = row["stages"]
            print(
                f"{row['nodes']:>9,} nodes: load+engine+snap {row['load+engine+snap_s']:6.2f} s, "
                f"{row['bytes_per_node']:6.0f} B/node; travel times "
                f"{s['travel_times']['median_s']:.3f} s, presnapped "
                f"{s['travel_times']['presnapped']['median_s']:.3f} s "
                f"({s['travel_times']['ratio_to_raw_scipy']:.2f}x raw scipy); catchment first {s['catchment_30min_walk']['first_call_s']:.2f} s, "
                f"warm {s['catchment_30min_walk']['warm']['median_s']:.3f} s "
                f"({s['catchment_30min_walk']['warm']['min_s']:.3f}-"
                f"{s['catchment_30min_walk']['warm']['max_s']:.3f})",
                flush=True,
            )
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps({"grid_spacing_m": 100, "mode": "walk",
                                            "results": results}, indent=2) + "\n")


if __name__ == "__main__":
    main()
