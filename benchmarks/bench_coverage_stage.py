"""The study's "coverage, choice and equity" stage with many extra provider sites.

Run on demand (not part of pytest)::

    .venv/bin/python benchmarks/bench_coverage_stage.py --extra 1000 2000 10000
    prlimit --as=12000000000 .venv/bin/python benchmarks/bench_coverage_stage.py --extra 50000 --repeats 1

Sheffield's 345 LSOAs and its located providers, plus ``N`` extra AP sites (kind
``framework_provider``, one provider each, random points over the city, seed 1), walking
times by the straight-line estimate. One mode of the stage as the study runs it:
``nearest_times``, ``coverage_summary`` (AP, and every kind), ``choice_counts`` and
``equity_table``. "old" is the same stage with the choice counts made as before (a sites x
providers one-hot matrix multiplied in int64 at every band); "new" is apgeo's
``choice_counts`` (each provider's nearest site by ``np.minimum.reduceat``). Medians of
``--repeats`` runs, old and new in the same run; each size runs in a fresh process so its
peak memory (max RSS) is its own. The old way is run only up to ``--old-max`` sites (at
50,000 its one-hot matrix alone is 20 GB as int64). Results go to
``benchmarks/results/coverage_stage.json``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def old_choice_counts(travel_times, demand, providers, *, mode, thresholds_min, key_stages, kinds):  # type: ignore[no-untyped-def]
    """The choice counts as apgeo made them before (the one-hot matrix product)."""
    import numpy as np
    import pandas as pd

    from apgeo.analysis.tables import check_key_stages, check_thresholds_min, prepare_tables

    thresholds_s = check_thresholds_min(thresholds_min)
    ks_list = check_key_stages(key_stages, providers, kinds)
    prep = prepare_tables(travel_times, demand[["area_id"]], providers, mode=mode, key_stages=(), kinds=kinds)
    codes, _ = pd.factorize(prep.sites["provider_id"].astype(str), sort=True)
    onehot = np.zeros((len(prep.sites), int(codes.max()) + 1), dtype=bool)
    onehot[np.arange(len(prep.sites)), codes] = True
    groups = [np.ones(len(prep.sites), dtype=bool)] + [prep.serves_key_stage(ks) for ks in ks_list]
    out = []
    for mask in groups:
        for limit in thresholds_s:
            reach = (prep.times_s <= limit) & mask[None, :]
            out.append((reach.astype(np.int64) @ onehot.astype(np.int64) > 0).sum(axis=1))
    return out


def one_size(extra: int, repeats: int, run_old: bool) -> dict[str, object]:
    import numpy as np
    import pandas as pd

    from apgeo.analysis.coverage import choice_counts, coverage_summary, equity_table, nearest_times
    from apgeo.inputs.demand import demand_points
    from apgeo.inputs.landscape import load_area_inputs, load_study_providers
    from apgeo.inputs.providers import split_located
    from apgeo.routing.straight_line import straight_line_travel_times
    from apgeo.schema import AP_KINDS
    from apgeo.settings import repo_root

    warnings.simplefilter("ignore")
    from apgeo.inputs.areas import resolve_area

    inputs = load_area_inputs(resolve_area("Sheffield"), data_dir=repo_root() / "data" / "sheffield", population_source="mid2020")
    located, _ = split_located(load_study_providers(inputs, files=(), include_gias=True, include_settings_list=True))
    rng = np.random.default_rng(1)
    xs, ys = rng.uniform(425_000, 445_000, extra), rng.uniform(380_000, 395_000, extra)
    import geopandas as gpd

    ks = np.array(["KS1,KS2", "KS3,KS4", "KS1,KS2,KS3,KS4"])[rng.integers(0, 3, extra)]
    more = gpd.GeoDataFrame(
        {"site_id": [f"X{i:06d}" for i in range(extra)], "provider_id": [f"X{i:06d}" for i in range(extra)],
         "name": "extra", "kind": "framework_provider", "key_stages": ks, "capacity_places": np.nan},
        geometry=gpd.points_from_xy(xs, ys), crs=located.crs,
    )
    providers = pd.concat([located, more], ignore_index=True)
    demand = inputs.demand
    tt = straight_line_travel_times(
        demand_points(demand)[["area_id", "geometry"]], providers[["site_id", "geometry"]],
        origin_id_column="area_id", destination_id_column="site_id", mode="walk",
    )
    opts = {"mode": "walk", "key_stages": ["KS1", "KS2", "KS3", "KS4"], "kinds": AP_KINDS}
    th = (15.0, 30.0, 45.0, 60.0)

    def stage(choice) -> None:  # type: ignore[no-untyped-def]
        nearest_times(tt, demand, providers, **opts)
        coverage_summary(tt, demand, providers, thresholds_min=th, **opts)
        coverage_summary(tt, demand, providers, mode="walk", key_stages=opts["key_stages"], thresholds_min=th, kinds=None)
        choice(tt, demand, providers, thresholds_min=th, **opts)
        equity_table(tt, demand, providers, thresholds_min=th, **opts)

    def timed(choice) -> list[float]:  # type: ignore[no-untyped-def]
        out = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            stage(choice)
            out.append(time.perf_counter() - t0)
        return out

    new = timed(choice_counts)
    rss_new_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6
    row: dict[str, object] = {
        "extra_sites": extra, "sites": len(providers), "areas": len(demand), "repeats": repeats,
        "new_s_median": statistics.median(new), "new_s": new, "peak_rss_gb_new": rss_new_gb,
    }
    if run_old:
        old = timed(old_choice_counts)
        row.update({"old_s_median": statistics.median(old), "old_s": old,
                    "peak_rss_gb_with_old": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6})
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--extra", type=int, nargs="+", default=[1000, 2000, 10000])
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--old-max", type=int, default=2000)
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one is not None:
        print(json.dumps(one_size(args.one, args.repeats, args.one <= args.old_max)))
        return
    rows = []
    for extra in args.extra:
        proc = subprocess.run(
            [sys.executable, __file__, "--one", str(extra), "--repeats", str(args.repeats), "--old-max", str(args.old_max)],
            capture_output=True, text=True, check=False,
        )
        if proc.returncode != 0:
            rows.append({"extra_sites": extra, "error": proc.stderr.strip().splitlines()[-1:] or f"exit {proc.returncode}"})
        else:
            rows.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(json.dumps(rows[-1]), flush=True)
    out = Path(__file__).parent / "results" / "coverage_stage.json"
    previous = json.loads(out.read_text()) if out.is_file() else []
    keep = [r for r in previous if r.get("extra_sites") not in set(args.extra)]
    out.write_text(json.dumps(sorted(keep + rows, key=lambda r: r["extra_sites"]), indent=1) + "\n")


if __name__ == "__main__":
    main()
