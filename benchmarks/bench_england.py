"""Every English authority in one run: time and memory of the straight-line comparison.

Run on demand (not part of pytest)::

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_england.py [--repeats 7]

Inputs: the committed England extract (32,844 LSOAs, 153 authorities) and the 333 open
state-funded AP settings in the shared GIAS extract. Times ``england_comparison`` for walk,
cycle and drive (median of the repeats, inputs already loaded), and its nearest-site step
alone, each with the k-d trees and with the naive baseline: the full 32,844 x 333 distance
matrix (scipy cdist, as the study's straight-line table uses; nearest anywhere = row
minimum, own authority = minimum over a mask). Both must give the same table. Peak memory:
tracemalloc over one run (Python and numpy allocations; the k-d trees' own C++ buffers,
a few hundred kB here, are not traced) and the process's maximum resident set size, which
counts everything (including both variants' runs). Targets: <= 30 s, < 2 GB.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
GIAS = ROOT.parent / "shared" / "data" / "schools" / "england_gias_open_establishments_20250524.csv"
MODES = ("walk", "cycle", "drive")


def _median_s(fn: Callable[[], Any], repeats: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()

    import apgeo.analysis.england as eng
    from apgeo.inputs.areas import (
        ap_settings_england,
        load_authorities,
        load_gias_england,
        load_lsoas_england,
    )

    t = time.perf_counter()
    lsoas = load_lsoas_england()
    authorities = load_authorities()
    ap = ap_settings_england(load_gias_england(GIAS))
    load_s = time.perf_counter() - t
    print(
        f"inputs: {len(lsoas):,} LSOAs, {len(authorities)} authorities, {len(ap)} AP settings "
        f"(loaded in {load_s:.2f} s, not timed below)"
    )

    def run() -> pd.DataFrame:
        return eng.england_comparison(
            modes=MODES, lsoas=lsoas, ap_settings=ap, authorities=authorities
        )

    fast_s, fast_all = _median_s(run, args.repeats)
    fast = run()

    kdtree = eng.nearest_distances
    eng.nearest_distances = partial(kdtree, method="matrix")  # type: ignore[assignment]
    try:
        naive_s, naive_all = _median_s(run, args.repeats)
        naive = run()
    finally:
        eng.nearest_distances = kdtree  # type: ignore[assignment]
    pd.testing.assert_frame_equal(fast, naive)

    codes = {c: i for i, c in enumerate(authorities["la_code"])}
    xy = lsoas[["easting_m", "northing_m"]].to_numpy(float)
    group = lsoas["la_code"].map(codes).to_numpy()
    sxy = np.column_stack([ap.geometry.x, ap.geometry.y])
    sgroup = ap["la_code"].map(codes).to_numpy()
    step_k, _ = _median_s(lambda: kdtree(xy, group, sxy, sgroup), args.repeats)
    step_m, _ = _median_s(lambda: kdtree(xy, group, sxy, sgroup, method="matrix"), args.repeats)

    tracemalloc.start()
    run()
    _, peak_fast = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    tracemalloc.start()
    kdtree(xy, group, sxy, sgroup, method="matrix")
    _, peak_matrix = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kB on Linux

    print(f"england_comparison, {'+'.join(MODES)}, {args.repeats} runs:")
    print(f"  k-d trees:   median {fast_s:.3f} s (runs {', '.join(f'{x:.3f}' for x in fast_all)})")
    print(
        f"  full matrix: median {naive_s:.3f} s (runs {', '.join(f'{x:.3f}' for x in naive_all)})"
    )
    print(f"  ratio naive / k-d: {naive_s / fast_s:.2f}x end to end (same table)")
    print(
        f"nearest-site step alone: k-d {step_k * 1000:.1f} ms, matrix {step_m * 1000:.1f} ms "
        f"({step_m / step_k:.1f}x)"
    )
    print(
        f"peak traced memory: run {peak_fast / 2**20:.1f} MiB; matrix step alone "
        f"{peak_matrix / 2**20:.1f} MiB; process max RSS {rss_mb:.0f} MiB"
    )
    ok = fast_s <= 30 and rss_mb < 2048
    print(f"target <= 30 s and < 2 GB: {'met' if ok else 'NOT met'}")
    sheffield = fast[fast["la_code"] == "373"].set_index("mode")
    for mode, r in sheffield.iterrows():
        print(
            f"  Sheffield {mode}: rank {r['rank']}/153, within 30 min {r['share_within_30_min_any']:.3f} "
            f"(own LA {r['share_within_30_min_own']:.3f}), median {r['median_time_min_any']:.1f} min"
        )
    print(
        f"authorities with no AP setting of their own: {len(fast.attrs['authorities_without_own_ap'])}"
    )


if __name__ == "__main__":
    main()
