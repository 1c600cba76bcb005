"""Benchmark of the disclosure audit of the placement tables: every table checked on its own
against all of them audited together as one system.

Run on demand (not part of pytest)::

    .venv/bin/python benchmarks/bench_disclosure.py [--sizes 80 1000 5000] [--repeats 3]

A SYNTHETIC placement list (seed 20250401) of each size is drawn from the committed
Sheffield data, with straight-line walking times, and published as the study publishes it.
Timed, in the same run:

* "per table (baseline)": what each table's own check costs: secondary suppression and
  the exact audit of the four burden tables and the flow matrix one at a time
  (:func:`apgeo.privacy.disclosure._protect_frame`), and the three time-in-AP tables
  (:func:`apgeo.privacy.publish_time_in_ap.publish_time_in_ap`);
* "all tables together": :func:`apgeo.privacy.publish.publish_placement_tables` with the
  time-in-AP tables, everything the study publishes about placements (consistent totals,
  the audit of all tables as one system, the statistics check, the finished tables).

Reported: median (min..max) wall time of ``--repeats`` runs and the median CPU time of the
process (user + system: less sensitive to other work on a shared machine), and the size of
the audited system (entries, blanks).

Measured on the 2-core build machine (shared, load average 7-10, so wall times are several
times the CPU times), 3 repeats each, median wall (CPU):

=========== ===================== ===================== ===============================
placements  per table (baseline)  all tables together   flow matrix, blank burden/flow
=========== ===================== ===================== ===============================
80          3.3 s (0.34 s)        14.1 s (1.9 s)        41 x 18, 282 blanks
1,000       2.7 s (0.38 s)        25.6 s (3.7 s)        117 x 19, 773 blanks
5,000       3.2 s (1.06 s)        75.8 s (14.1 s)       163 x 19, 1,252 blanks
=========== ===================== ===================== ===============================

The whole-system audit itself (building the system and ``protect_linked``) took 0.35 s
CPU at 80 placements and 1.1 s at 1,000; the rest of "all tables together" is the
consistent-totals loop, the statistics check and the finished tables, which the baseline
does not do.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import pandas as pd

AS_OF = dt.date(2025, 3, 31)


def _timed(fn: Callable[[], object], repeats: int) -> tuple[list[float], list[float], object]:
    wall, cpu = [], []
    out: object = None
    for _ in range(repeats):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return wall, cpu, out


def _line(label: str, wall: list[float], cpu: list[float]) -> str:
    return (
        f"  {label:<28} {statistics.median(wall):8.2f} s ({min(wall):.2f}..{max(wall):.2f})"
        f"   CPU {statistics.median(cpu):8.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[80, 1000, 5000])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    from apgeo.analysis.burden import _burden_counts, placement_travel_times
    from apgeo.analysis.flows import _flow_counts
    from apgeo.analysis.time_in_ap import TIME_DIMENSIONS, time_in_ap_table
    from apgeo.inputs.demand import demand_points, load_demand
    from apgeo.inputs.geocode import PostcodeLookup
    from apgeo.inputs.placements import (
        DEFAULT_BURDEN_THRESHOLDS_MIN,
        load_placement_episodes,
        load_placements,
        load_schools,
    )
    from apgeo.inputs.providers import load_sheffield_providers, split_located
    from apgeo.inputs.synthetic_placements import synthetic_placements
    from apgeo.privacy.disclosure import _protect_frame
    from apgeo.privacy.publish import publish_placement_tables
    from apgeo.privacy.publish_time_in_ap import publish_time_in_ap
    from apgeo.routing.straight_line import straight_line_travel_times
    from apgeo.settings import repo_root

    data_dir = repo_root() / "data" / "sheffield"
    demand = load_demand(data_dir=data_dir)
    providers = load_sheffield_providers(data_dir=data_dir)
    schools = load_schools(data_dir=data_dir)
    lookup = PostcodeLookup.from_data_dir(data_dir)
    located, _ = split_located(providers)
    times = straight_line_travel_times(
        demand_points(demand), located, origin_id_column="area_id", destination_id_column="site_id", mode="walk"
    ).assign(mode="walk")
    for n in args.sizes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            rows = synthetic_placements(n, random_state=20250401, as_of=AS_OF, demand=demand, providers=providers, schools=schools)
            placements = load_placements(rows, as_of=AS_OF, providers=providers, schools=schools, demand=demand, lookup=lookup)
            episodes = load_placement_episodes(rows, as_of=AS_OF, providers=providers, schools=schools, demand=demand, lookup=lookup)
        pt = placement_travel_times(placements, times, mode="walk", providers=providers, demand=demand)
        tia = {d: time_in_ap_table(episodes, by=d, providers=providers) for d in TIME_DIMENSIONS}  # type: ignore[arg-type]

        def per_table(pt: pd.DataFrame = pt, tia: dict[str, pd.DataFrame] = tia) -> None:
            burden = {}
            for d in ("key_stage", "kind", "imd_decile", "school_urn"):
                table, _ = _protect_frame(_burden_counts(pt, d, DEFAULT_BURDEN_THRESHOLDS_MIN), threshold=None)
                burden[d] = pd.DataFrame({"group": [str(g) for g in table.index], "placements": table["all"].to_numpy()})
            _protect_frame(_flow_counts(pt, "provider"), threshold=None)
            for d, t in tia.items():
                publish_time_in_ap(t, burden[d])

        def together(pt: pd.DataFrame = pt, tia: dict[str, pd.DataFrame] = tia) -> dict[str, pd.DataFrame]:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return publish_placement_tables(pt, providers=providers, schools=schools, time_in_ap=tia)

        w0, c0, _ = _timed(per_table, args.repeats)
        w1, c1, out = _timed(together, args.repeats)
        assert isinstance(out, dict)
        entries = sum(t.filter(like="placements").size for k, t in out.items() if k.startswith("burden_"))
        entries += out["flow_matrix"].size + sum(t.size for k, t in out.items() if k.startswith("time_in_ap_"))
        blanks = sum(int(t.filter(like="placements").isna().sum().sum()) for k, t in out.items() if k.startswith("burden_"))
        blanks += int(out["flow_matrix"].isna().sum().sum())
        print(f"{n:,} placements: flow matrix {out['flow_matrix'].shape[0] - 1} schools x {out['flow_matrix'].shape[1] - 1} providers; "
              f"about {entries:,} published entries, {blanks:,} blank burden / flow counts")
        print(_line("per table (baseline)", w0, c0))
        print(_line("all tables together", w1, c1))
        print(f"  {out['burden_key_stage'].attrs['withheld']}", flush=True)


if __name__ == "__main__":
    main()
