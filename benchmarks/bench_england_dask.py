"""England on street networks: serial against 2 Dask workers, on synthetic per-authority grids.

Run on demand (not part of pytest)::

    PYTHONPATH=$PWD .venv/bin/python benchmarks/bench_england_dask.py [--repeats 5]

Inputs: the committed England extract (LSOAs, authorities) and the AP settings in the
committed GIAS extract; jobs for ``--authorities`` (default: the 8 core cities and 4 of
their neighbours), walk only, 10 km buffer. Networks: :class:`SyntheticNetworks` grids at
two sizes per authority, *small* (at most 40 nodes a side, ~1,600 nodes: a task of tens of
milliseconds) and *large* (at most 150 nodes a side, ~20,000 nodes: a task of a second or
two). For each size, the median over ``--repeats`` of:

* serial: :func:`run_jobs` with ``workers=0`` (in this process);
* 2 workers: :func:`run_jobs` on a LocalCluster of 2 single-threaded worker processes,
  started once before the repeats (its start-up time is reported on its own).

The ratio is serial / 2 workers (> 1: the cluster is faster). Both runs must give the same
table. On a 2-core machine shared with other work the best possible ratio is about 2.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from typing import Any

import pandas as pd

DEFAULT_CODES = ("330", "801", "383", "341", "352", "391", "892", "373", "370", "371", "372", "384")


def _median_s(fn: Callable[[], Any], repeats: int) -> tuple[float, list[float], Any]:
    times, out = [], None
    for _ in range(repeats):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), times, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--authorities", nargs="+", default=list(DEFAULT_CODES))
    args = parser.parse_args()

    from dask.distributed import Client, LocalCluster

    from apgeo.analysis.england import _prepare_authorities, _prepare_lsoas, _prepare_sites
    from apgeo.analysis.england_networks import SyntheticNetworks, build_jobs
    from apgeo.inputs.areas import (
        ap_settings_england,
        load_authorities,
        load_gias_england,
        load_lsoas_england,
    )
    from apgeo.study.england_run import run_jobs

    lsoa = _prepare_lsoas(load_lsoas_england())
    auth = _prepare_authorities(load_authorities(), lsoa)
    sites = _prepare_sites(ap_settings_england(load_gias_england()), set(auth["la_code"]))
    jobs = build_jobs(
        lsoa,
        sites,
        auth,
        modes=["walk"],
        thresholds_min=(15, 30, 45, 60),
        la_codes=args.authorities,
    )
    print(f"{len(jobs)} authorities, walk, {args.repeats} repeats (median s)")

    t = time.perf_counter()
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    client = Client(cluster)
    client.run(lambda: __import__("apgeo.analysis.england_networks"))  # import apgeo once
    startup = time.perf_counter() - t
    print(f"LocalCluster of 2 worker processes: {startup:.1f} s to start (not in the ratios)")
    print("| grid | nodes per task | serial (s) | 2 workers (s) | serial / 2 workers |")
    print("|---|---:|---:|---:|---:|")
    try:
        for label, factory in (
            ("small", SyntheticNetworks(spacing_m=400.0, max_side_nodes=40)),
            ("large", SyntheticNetworks(spacing_m=400.0, max_side_nodes=150)),
        ):
            serial_s, serial_all, serial = _median_s(
                lambda f=factory: run_jobs(jobs, f, workers=0), args.repeats
            )
            dask_s, dask_all, dask = _median_s(
                lambda f=factory: run_jobs(jobs, f, client=client), args.repeats
            )
            pd.testing.assert_frame_equal(serial.table, dask.table)
            nodes = int(serial.table["network_nodes"].median())
            print(
                f"| {label} | {nodes:,} | {serial_s:.2f} | {dask_s:.2f} | "
                f"{serial_s / dask_s:.2f}x |"
            )
            print(
                f"  runs: serial {', '.join(f'{x:.2f}' for x in serial_all)}; "
                f"2 workers {', '.join(f'{x:.2f}' for x in dask_all)}"
            )
    finally:
        client.close()
        cluster.close()


if __name__ == "__main__":
    main()
