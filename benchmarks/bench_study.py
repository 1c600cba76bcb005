"""End-to-end benchmark of the Sheffield study with a cached street network.

Run on demand (not part of pytest)::

    .venv/bin/python benchmarks/bench_study.py [--spacing-m 100]

No Sheffield street network can be downloaded on the build machines, so the "cached
network" is a stand-in of realistic size: an osmnx-style GraphML street grid over the
Sheffield extent (default 100 m spacing: about 88,000 junctions and 350,000 directed
edges, close to the OSM walk network of the city). The study runs all three modes,
15/30/45/60 min, and every stage (travel times, coverage, access, cold spots with Gi*,
catchments, maps, report). Reported: the time of each stage, the total and peak memory
(RSS), with the straight-line study as the baseline in the same run. The network study runs
four times in a private cache folder: "cold" (empty cache: the GraphML file is read and every
mode derived and cached), "warm" (the processed networks come from the cache, the per-site
travel times and catchments are computed again: the study cache is cleared first), "rerun"
(nothing changed: every per-site result comes from the cache) and "moved" (one AP site
moved east: only that site's travel times and catchments are computed). The rerun and
the moved run are repeated ``--repeats`` times (default 3), alternately, each moved run
with a move not made before (250 m, 275 m, 300 m, ...) so every one computes the site
again; their medians and spreads are reported. Both are also timed as the command
(``apgeo study`` in a new process, which starts Python and imports the libraries each
time; the moves 262.5 m, 287.5 m, ... east, between those of the runs in process).
Targets (issue 8): under 60 s for all three modes, peak memory under 2 GB; (issue 25)
the moved rerun under 5 s. ``--json PATH`` also writes the figures (the README's come from
``benchmarks/results/study.json``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from apgeo.settings import repo_root
from apgeo.study.config import load_config
from apgeo.study.pipeline import run_study


def grid_graphml(path: Path, spacing_m: float) -> Path:
    import networkx as nx
    import numpy as np
    import osmnx as ox
    from pyproj import Transformer

    to_ll = Transformer.from_crs(27700, 4326, always_xy=True)
    xs = np.arange(418_000, 452_001, spacing_m)
    ys = np.arange(376_000, 402_001, spacing_m)
    X, Y = np.meshgrid(xs, ys, indexing="ij")
    lon, lat = to_ll.transform(X.ravel(), Y.ravel())
    G = nx.MultiDiGraph(crs="EPSG:4326")
    n_y = len(ys)
    G.add_nodes_from((k + 1, {"x": float(a), "y": float(b), "street_count": 4}) for k, (a, b) in enumerate(zip(lon, lat, strict=True)))
    rng = np.random.default_rng(1)
    highways = np.array(["residential", "tertiary", "secondary", "primary"])
    edges = []
    for i in range(len(xs)):
        for j in range(n_y):
            n = i * n_y + j + 1
            for m in ((n + n_y) if i + 1 < len(xs) else None, (n + 1) if j + 1 < n_y else None):
                if m is None:
                    continue
                hw = str(highways[rng.integers(0, 4)])
                for a, b in ((n, m), (m, n)):
                    edges.append((a, b, {"osmid": a * 1_000_000 + b, "highway": hw, "oneway": False, "reversed": False, "length": float(spacing_m)}))
    G.add_edges_from(edges)
    ox.save_graphml(G, path)
    return path


def config(tmp: Path, network: str) -> Path:
    p = tmp / f"study_{network.replace('/', '_')[-20:]}.toml"
    p.write_text(
        f"""[study]
name = "sheffield"
data_dir = "{repo_root() / 'data' / 'sheffield'}"
output_dir = "{tmp / 'reports' / Path(network).stem}"
maps_dir = "{tmp / 'maps' / Path(network).stem}"
[network]
source = "{network}"
""",
        encoding="utf-8",
    )
    return p


def timed(cfg_path: Path) -> tuple[float, list[tuple[str, float]]]:
    """Run the study; return the total and each stage's own duration (label, seconds)."""
    starts: list[tuple[str, float]] = []
    t0 = time.perf_counter()

    def progress(label: str) -> None:
        now = time.perf_counter()
        starts.append((label, now))
        print(f"  {now - t0:7.1f} s  {label}", flush=True)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_study(load_config(cfg_path), progress=progress)
    end = time.perf_counter()
    ends = [t for _, t in starts[1:]] + [end]
    return end - t0, [(label, stop - start) for (label, start), stop in zip(starts, ends, strict=True)]


@contextlib.contextmanager
def _one_site_moved(dx_m: float) -> Iterator[None]:
    """Move the first AP site ``dx_m`` east in every study run inside the block."""
    import shapely

    import apgeo.study.pipeline as pipeline

    original = pipeline.load_inputs

    def load_inputs(config: Any) -> Any:
        result = original(config)
        providers = result.providers
        first = providers.index[providers["kind"].isin(result.ap_kinds)][0]
        p = providers.geometry.loc[first]
        providers.loc[first, "geometry"] = shapely.Point(p.x + dx_m, p.y)
        return result

    pipeline.load_inputs = load_inputs  # type: ignore[assignment]
    try:
        yield
    finally:
        pipeline.load_inputs = original  # type: ignore[assignment]


def cli_run(cfg_path: Path, cache_dir: Path, *, moved_m: float | None = None) -> float:
    """Seconds ``apgeo study --config cfg_path`` takes in a new process (cache ``cache_dir``);
    with ``moved_m``, the first AP site moved that far east in it (as :func:`_one_site_moved`)."""
    env = {**os.environ, "APGEO_CACHE_DIR": str(cache_dir)}
    here = str(Path(__file__).resolve().parent)
    move = "contextlib.nullcontext()" if moved_m is None else f"_one_site_moved({float(moved_m)!r})"
    code = (
        f"import contextlib, sys; sys.path.insert(0, {here!r}); from bench_study import _one_site_moved; "
        f"from apgeo.study.cli import main\nwith {move}: rc = main(sys.argv[1:])\nsys.exit(rc)"
    )
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", code, "study", "--config", str(cfg_path), "--no-progress"],
                   check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - t0


def _median_run(done: list[tuple[float, list[tuple[str, float]]]]) -> tuple[float, list[tuple[str, float]]]:
    """The median total of repeated runs, and each stage's median own duration."""
    import statistics

    labels = [label for label, _ in done[0][1]]
    stages = [(label, statistics.median(dict(r[1]).get(label, float("nan")) for r in done)) for label in labels]
    return statistics.median(t for t, _ in done), stages


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    import apgeo

    ap = argparse.ArgumentParser()
    ap.add_argument("--spacing-m", type=float, default=100.0)
    ap.add_argument("--no-warm", action="store_true", help="skip the warm-cache run")
    ap.add_argument("--repeats", type=int, default=3, help="rerun and moved runs, each (default 3)")
    ap.add_argument("--graphml", type=Path, help="reuse this stand-in GraphML (written there when missing)")
    ap.add_argument("--json", type=Path, help="also write the figures here (e.g. benchmarks/results/study.json)")
    ap.add_argument("--write-grid", type=Path, help=argparse.SUPPRESS)  # child process
    args = ap.parse_args()
    if args.write_grid is not None:
        grid_graphml(args.write_grid, args.spacing_m)
        return
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        apgeo.configure(cache_dir=tmp / "cache")  # private: the cold run starts empty
        t0 = time.perf_counter()
        # written by a child process, so its memory does not count in this one's peak
        net = args.graphml or tmp / "sheffield_grid.graphml"
        if not net.is_file():
            subprocess.run(
                [sys.executable, __file__, "--write-grid", str(net), "--spacing-m", str(args.spacing_m)],
                check=True,
            )
        print(f"stand-in network written in {time.perf_counter() - t0:.1f} s ({args.spacing_m:g} m grid)")
        base_s, _ = timed(config(tmp, "straight-line"))
        before_mb = peak_rss_mb()
        print("network study, cold cache:")
        cold_s, cold = timed(config(tmp, str(net)))
        cold_mb = peak_rss_mb()
        runs: dict[str, tuple[float, list[tuple[str, float]]]] = {}
        cli: dict[str, list[float]] = {"rerun": [], "moved": []}
        repeats: dict[str, list[tuple[float, list[tuple[str, float]]]]] = {"rerun": [], "moved": []}
        if not args.no_warm:
            from apgeo.study.incremental import clear_cache

            clear_cache(what="study")
            print("network study, warm network cache, empty study cache:")
            runs["warm"] = timed(config(tmp, str(net)))
            for k in range(max(args.repeats, 1)):
                print(f"network study, rerun {k + 1} (nothing changed):")
                repeats["rerun"].append(timed(config(tmp, str(net))))
                dx_m = 250.0 + 25.0 * k  # a new place each time: the site is computed again
                print(f"network study, one AP site moved {dx_m:g} m:")
                with _one_site_moved(dx_m):
                    repeats["moved"].append(timed(config(tmp, str(net))))
            for name, done in repeats.items():
                runs[name] = _median_run(done)
            # the same reruns as the command a planner types: a new process, so Python and
            # the libraries are started and imported each time (moves not made before)
            for k in range(max(args.repeats, 1)):
                cli["rerun"].append(cli_run(config(tmp, str(net)), tmp / "cache"))
                cli["moved"].append(cli_run(config(tmp, str(net)), tmp / "cache", moved_m=262.5 + 25.0 * k))
        warm_s = runs["warm"][0] if runs else 0.0
        peak_mb = peak_rss_mb()
        print(f"\n{'stage (own duration)':40s} {'cold s':>8s}" + "".join(f" {k + ' s':>8s}" for k in runs))
        for label, secs in cold:
            others = "".join(f" {dict(r[1]).get(label, float('nan')):8.1f}" for r in runs.values())
            print(f"{label:40s} {secs:8.1f}{others}")
        for name, (total, _) in runs.items():
            spread = ""
            if repeats.get(name):
                totals = sorted(t for t, _ in repeats[name])
                spread = f"  (median of {len(totals)}: {', '.join(f'{t:.1f}' for t in totals)})"
            print(f"network study, 3 modes, {name}: {total:6.1f} s{spread}")
        for name, label in (("rerun", "nothing changed"), ("moved", "one AP site moved")):
            if cli[name]:
                times = sorted(cli[name])
                extra = times[len(times) // 2] - runs[name][0]
                print(
                    f"`apgeo study`, {label}: {times[len(times) // 2]:6.1f} s  (median of {len(times)}: "
                    f"{', '.join(f'{t:.1f}' for t in times)}; {extra:.1f} s more than in a running "
                    "process: starting Python, importing the libraries, their first calls)"
                )
        print(f"straight-line study (baseline):   {base_s:6.1f} s")
        print(f"network study, 3 modes, cold:     {cold_s:6.1f} s  ({cold_s / base_s:.1f}x the baseline; target < 60 s)")
        if runs:
            print(f"network study, 3 modes, warm:     {warm_s:6.1f} s  ({warm_s / base_s:.1f}x the baseline)")
        print(f"peak memory (RSS) before the network runs (baseline): {before_mb:6.0f} MB")
        print(f"peak memory (RSS) after cold run: {cold_mb:6.0f} MB (target < 2,048 MB)")
        print(f"peak memory (RSS) overall:        {peak_mb:6.0f} MB")
        if args.json is not None:
            record = {
                "network": f"{args.spacing_m:g} m grid stand-in over Sheffield, walk + cycle + drive",
                "straight_line_baseline_s": round(base_s, 2),
                "cold_s": round(cold_s, 2),
                "runs": {
                    name: {
                        "median_s": round(total, 2),
                        "all_s": sorted(round(t, 2) for t, _ in repeats.get(name, [])) or [round(total, 2)],
                        "stages_s": {label: round(secs, 2) for label, secs in stages},
                    }
                    for name, (total, stages) in runs.items()
                },
                "peak_rss_mb": round(peak_mb),
                "command": {
                    name: {
                        "median_s": round(sorted(times)[len(times) // 2], 2),
                        "all_s": sorted(round(t, 2) for t in times),
                    }
                    for name, times in cli.items() if times
                },
            }
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
