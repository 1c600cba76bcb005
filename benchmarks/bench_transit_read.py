"""Benchmark reading a regional bus timetable: time and peak memory, cut read against whole read.

Run on demand (not part of pytest)::

    .venv/bin/python benchmarks/bench_transit_read.py                 # city and region, 3 runs
    .venv/bin/python benchmarks/bench_transit_read.py --scales city --repeats 5
    .venv/bin/python benchmarks/bench_transit_read.py --whole-region  # also the whole region read

The feeds are the synthetic South Yorkshire buses of ``benchmarks/regional_feed.py`` (made
under ``--feeds``, default ``/tmp/apgeo_bus_feeds``, when missing; seed 2025): ``city``
(250 routes from Sheffield, weekday / Saturday / Sunday / school-day services: 27,762 trips,
883,431 stop times in the file, 13,707 trips and 436,467 stop times on a school-day
Tuesday) and ``region`` (520 routes from the four boroughs' centres, each day of the week its
own trips: 175,717 trips, 5,106,683 stop times, 42 MB zipped).

Each run is a fresh Python process (so that peak memory is the run's own) that reads the
feed for Tuesday 2025-01-14 into a :class:`~apgeo.routing.transit.feed.TransitFeed`:

* ``cut``: ``load_feeds(..., area=<Sheffield boundary>, margin_m=5000)``, the reading a
  study does (:mod:`apgeo.routing.transit.feed_cut`);
* ``whole``: ``load_feeds(...)`` without an area (the reader before the cut), the baseline,
  on the city feed (and on the region feed with ``--whole-region``: minutes, gigabytes).

Reported per method: wall time of the read (after imports), CPU time of the read, and the
process's peak resident memory (``ru_maxrss``, imports included; the resident memory after
the imports is shown apart). Medians of ``--repeats`` runs. The machine is shared, so the
wall time varies with its load; the CPU time less so. Targets (issue #24): region read in at
most 60 s and 2 GB.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVICE_DATE = "2025-01-14"
BOUNDARY = ROOT / "data" / "sheffield" / "geography" / "sheffield_lad_dec2024_bsc.geojson"


def _child(path: str, method: str, margin_m: float) -> None:
    """One read in this process; print a JSON line with its figures."""
    import resource

    import geopandas as gpd

    from apgeo.routing.transit.feeds import load_feeds

    area = gpd.read_file(BOUNDARY)
    rss_before_kb = _rss_kb()
    cpu0, t0 = time.process_time(), time.perf_counter()
    kwargs = {"area": area, "margin_m": margin_m} if method == "cut" else {}
    loaded = load_feeds({"bus": path}, service_date=SERVICE_DATE, **kwargs)["bus"]
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "wall_s": wall, "cpu_s": cpu, "peak_rss_mb": peak_kb / 1024,
        "rss_after_imports_mb": rss_before_kb / 1024, "trips": loaded.feed.n_trips,
        "stop_times": len(loaded.feed.stop_times),
        "cut": loaded.cut.label() if loaded.cut is not None else "",
    }))  # fmt: skip


def _rss_kb() -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return float(line.split()[1])
    return float("nan")


def _run(path: Path, method: str, margin_m: float) -> dict[str, float | str]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", str(path), method, str(margin_m)],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--feeds", type=Path, default=Path("/tmp/apgeo_bus_feeds"))
    parser.add_argument("--scales", nargs="+", default=["city", "region"])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--margin-m", type=float, default=5000.0)
    parser.add_argument("--whole-region", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if args.child:
        _child(args.child[0], args.child[1], float(args.child[2]))
        return
    from benchmarks.regional_feed import make_regional_feed

    rows = []
    for scale in args.scales:
        path = args.feeds / f"sy_bus_{scale}_gtfs.zip"
        if not path.is_file():
            print(f"making the {scale} feed under {args.feeds} ...", flush=True)
            make_regional_feed(args.feeds, scale=scale, seed=2025, txc=False)
        methods = ["cut"] + (["whole"] if scale != "region" or args.whole_region else [])
        for method in methods:
            runs = [_run(path, method, args.margin_m) for _ in range(args.repeats)]
            med = {k: statistics.median(float(r[k]) for r in runs)
                   for k in ("wall_s", "cpu_s", "peak_rss_mb", "rss_after_imports_mb")}  # fmt: skip
            row = {"scale": scale, "method": method, "runs": len(runs), **med,
                   "wall_s_each": [round(float(r["wall_s"]), 2) for r in runs],
                   "trips": runs[0]["trips"], "stop_times": runs[0]["stop_times"],
                   "cut": runs[0]["cut"]}  # fmt: skip
            rows.append(row)
            print(
                f"{scale:6s} {method:5s}: wall {med['wall_s']:6.1f} s (runs "
                f"{', '.join(f'{w:.1f}' for w in row['wall_s_each'])}), CPU {med['cpu_s']:6.1f} s, "
                f"peak RSS {med['peak_rss_mb']:6.0f} MB (after imports "
                f"{med['rss_after_imports_mb']:.0f} MB); {row['trips']:,} trips, "
                f"{row['stop_times']:,} stop times kept. {row['cut']}",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
