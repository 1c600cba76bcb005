"""A scenario that closes every site but one (the study's "Inclusion Centre main site
alone" with many provider sites), applied to N sites.

Run on demand (not part of pytest)::

    .venv/bin/python benchmarks/bench_scenario_apply.py [--sites 1000 10000 50000] [--repeats 5]

Reported per N: building the scenario (``Scenario.close_sites``) and ``Scenario.apply``
(providers and a two-origin travel-time table), medians of ``--repeats``; the baseline in
the same run is the least any implementation must do: the provider and travel-time tables
filtered once with ``isin``. Before ``apply`` went through the edits in one pass it read
the whole table at every edit: 5.3 s at 2,000 sites and 80 s at 10,000.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def one_size(n: int, repeats: int) -> tuple[float, float, float]:
    import geopandas as gpd
    import numpy as np
    import pandas as pd

    from apgeo.planning.scenarios import Scenario

    ids = [f"S{i:06d}" for i in range(n)]
    providers = gpd.GeoDataFrame(
        {"site_id": ids, "provider_id": ids, "kind": "framework_provider", "key_stages": "KS3,KS4",
         "capacity_places": 10.0},
        geometry=gpd.points_from_xy(np.arange(n, dtype=float), np.zeros(n)), crs="EPSG:27700",
    )
    tt = pd.DataFrame({"origin_id": np.repeat(["A", "B"], n), "destination_id": ids * 2, "travel_time_s": 60.0})
    build, apply, base = [], [], []
    for _ in range(repeats):
        t0 = time.perf_counter()
        scenario = Scenario("alone").close_sites(ids[1:])
        t1 = time.perf_counter()
        after, _ = scenario.apply(providers, tt)
        t2 = time.perf_counter()
        closed = set(ids[1:])
        kept = providers[~providers["site_id"].isin(closed)].reset_index(drop=True)
        tt[~tt["destination_id"].isin(closed)].reset_index(drop=True)
        t3 = time.perf_counter()
        assert len(after) == len(kept) == 1
        build.append(t1 - t0)
        apply.append(t2 - t1)
        base.append(t3 - t2)
    return statistics.median(build), statistics.median(apply), statistics.median(base)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sites", type=int, nargs="+", default=[1000, 10000, 50000])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    print(f"{'sites':>7} {'build s':>9} {'apply s':>9} {'isin baseline s':>16} {'apply / baseline':>17}")
    for n in args.sites:
        build, apply, base = one_size(n, args.repeats)
        print(f"{n:>7,} {build:9.3f} {apply:9.3f} {base:16.3f} {apply / base:16.1f}x", flush=True)


if __name__ == "__main__":
    main()
