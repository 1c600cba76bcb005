"""The whole Sheffield study with many extra provider sites: wall time, peak memory and
output size, against the estimate :mod:`apgeo.study.study_size` refuses studies by.

Run on demand (not part of pytest)::

    .venv/bin/python benchmarks/bench_study_size.py --extra 0 2000 5000 10000

Sheffield's study as ``make demo`` runs it (straight-line walk, cycle and drive, the
Supertram timetable: 4 modes, 345 LSOAs), plus ``N`` extra AP sites (kind
``framework_provider``, random points over the city's bounding box, seed 1), each size in
a fresh process with an empty cache (so the peak memory, max RSS, is its own). Reported per
size: the pairs (areas x sites x modes), wall time, measured peak memory, the estimate
(:func:`apgeo.study.study_size.study_size`), the travel-time CSVs written and the largest
stage. The estimate must stay above the measured peak; results go to
``benchmarks/results/study_size.json``. The machine is shared: times are single runs
(minutes each), memory is what the model is about.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apgeo.settings import repo_root

ROOT = repo_root()


def write_study(folder: Path, extra: int, walk_only: bool = False) -> Path:
    """The demo study's config with ``extra`` framework providers added, outputs in ``folder``
    (``walk_only``: walking alone, no timetable)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(1)
    ks = np.array(["KS1,KS2", "KS3,KS4", "KS1,KS2,KS3,KS4"])[rng.integers(0, 3, extra)]
    files = ""
    if extra:
        pd.DataFrame(
            {
                "provider_id": [f"X{i:06d}" for i in range(extra)],
                "name": [f"Extra {i}" for i in range(extra)],
                "kind": "framework_provider",
                "key_stages": ks,
                "capacity_places": 10,
                "easting": rng.uniform(425_000, 445_000, extra).round(),
                "northing": rng.uniform(380_000, 395_000, extra).round(),
            }
        ).to_csv(folder / "extra.csv", index=False)
        files = f'files = ["{folder / "extra.csv"}"]'
    text = (ROOT / "studies" / "sheffield.toml").read_text(encoding="utf-8")
    text = text.replace('data_dir = "../data/sheffield"', f'data_dir = "{ROOT / "data" / "sheffield"}"')
    text = text.replace('output_dir = "../reports/sheffield"', f'output_dir = "{folder / "reports"}"')
    text = text.replace('maps_dir = "../maps"', f'maps_dir = "{folder / "maps"}"')
    text = text.replace('# files = ["/path/to/our_providers.csv"]', files)
    text = text.replace('"../data/sheffield/transit/', f'"{ROOT / "data" / "sheffield" / "transit"}/')
    if walk_only:
        text = text.replace('modes = ["walk", "cycle", "drive"]', 'modes = ["walk"]')
        kept, in_transit = [], False
        for line in text.splitlines():  # the [transit] section left out
            if line.startswith("["):
                in_transit = line.strip() == "[transit]"
            if not in_transit:
                kept.append(line)
        text = "\n".join(kept) + "\n"
    path = folder / "study.toml"
    path.write_text(text, encoding="utf-8")
    return path


def one_size(extra: int, walk_only: bool = False) -> dict[str, object]:
    """Run the study once in this process; the row for ``extra``."""
    import apgeo
    from apgeo.study.config import load_config
    from apgeo.study.pipeline import run_study
    from apgeo.study.study_size import study_modes, study_size

    warnings.simplefilter("ignore")
    with tempfile.TemporaryDirectory() as d:
        folder = Path(d)
        apgeo.configure(cache_dir=folder / "cache", progress=False)
        config = load_config(write_study(folder, extra, walk_only))
        stages: list[tuple[str, float]] = []
        t0 = time.perf_counter()
        result = run_study(config, progress=lambda label: stages.append((label, time.perf_counter())))
        end = time.perf_counter()
        ends = [t for _, t in stages[1:]] + [end]
        own = sorted(((b - a, label) for (label, a), b in zip(stages, ends, strict=True)), reverse=True)
        csv_gb = sum(p.stat().st_size for p in (folder / "reports").glob("travel_times_*.csv")) / 1e9
        size = study_size(len(result.demand), len(result.providers), study_modes(config))
        return {
            "extra_sites": extra,
            "sites": size.sites,
            "areas": size.areas,
            "modes": list(size.modes),
            "pairs_million": size.pairs / 1e6,
            "wall_s": end - t0,
            "peak_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,
            "estimated_peak_gb": size.peak_gb,
            "travel_time_csv_gb": csv_gb,
            "estimated_csv_gb": size.travel_time_csv_gb,
            "largest_stages_s": {label: round(s, 1) for s, label in own[:4]},
        }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--extra", type=int, nargs="+", default=[0, 2000, 5000, 10000])
    ap.add_argument("--walk-only", action="store_true", help="walking alone (results in study_size_walk.json)")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one is not None:
        print(json.dumps(one_size(args.one, args.walk_only)))
        return
    rows = []
    for extra in args.extra:
        proc = subprocess.run([sys.executable, __file__, "--one", str(extra), *(["--walk-only"] if args.walk_only else [])], capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            rows.append({"extra_sites": extra, "error": proc.stderr.strip().splitlines()[-1:]})
        else:
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            r = rows[-1]
            ok = "above" if r["estimated_peak_gb"] >= r["peak_gb"] else "BELOW"
            print(
                f"{extra:>6} extra sites: {r['pairs_million']:6.2f} M pairs, {r['wall_s']:7.1f} s, peak "
                f"{r['peak_gb']:5.2f} GB (estimate {r['estimated_peak_gb']:5.2f} GB, {ok}), travel-time CSVs "
                f"{r['travel_time_csv_gb']:5.2f} GB (estimate {r['estimated_csv_gb']:5.2f})",
                flush=True,
            )
        if "error" in rows[-1]:
            print(json.dumps(rows[-1]), flush=True)
    out = Path(__file__).parent / "results" / ("study_size_walk.json" if args.walk_only else "study_size.json")
    previous = json.loads(out.read_text()) if out.is_file() else []
    keep = [r for r in previous if r.get("extra_sites") not in set(args.extra)]
    out.write_text(json.dumps(sorted(keep + rows, key=lambda r: r["extra_sites"]), indent=1) + "\n")


if __name__ == "__main__":
    main()
