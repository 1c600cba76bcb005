"""Benchmark apgeo's location-allocation against brute force bounds and spopt.

Run on demand (not part of pytest)::

    .venv/bin/python benchmarks/bench_recommend.py            # p = 1..5, a minute or two
    .venv/bin/python benchmarks/bench_recommend.py --quick    # p = 1..2

Instance: Sheffield size. Rows = the 345 LSOAs, need = children aged 5-15 (KS1-KS4)
weighted by IDACI ((11 - decile) / 10); columns = the located existing providers (fixed
open) plus every school in the committed GIAS extract as a candidate (about 200),
travel times from the straight-line estimate (walk, 4.8 km/h, circuity 1.3); T = 30 min.

For each p: apgeo exact as a study solves it (the p-median by its own branch and bound,
the maximal covering model by HiGHS), the integer program given to HiGHS as arrays (the
p-median's baseline) and the same program through PuLP to HiGHS (the route apgeo took
before) and to CBC, apgeo lazy greedy, the greedy gap
against the exact optimum and greedy's certified gap bound, and spopt's ``MCLP`` /
``PMedian`` ``from_cost_matrix`` with the existing sites as ``predefined_facilities_arr``
on the same matrix (p-median: times capped at the penalty 2T, as apgeo does), with the
objective difference and the time ratio spopt / apgeo-exact. The default and the two
HiGHS routes are timed ``--repeats`` times each, alternately (median). Targets: exact < 10 s, greedy < 0.5 s.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import apgeo
from apgeo.inputs.data import data_path
from apgeo.inputs.demand import demand_points, load_demand
from apgeo.inputs.providers import load_sheffield_providers, split_located
from apgeo.planning.candidates import MAINSTREAM_GIAS_TYPES, gias_candidate_sites
from apgeo.planning.models.mclp import MaximalCovering
from apgeo.planning.models.pmedian import PMedian
from apgeo.routing.straight_line import straight_line_travel_times
from apgeo.settings import repo_root

T_S = 1800.0


def build_instance() -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    apgeo.configure(data_dir=repo_root() / "data" / "sheffield")
    demand = load_demand()
    existing, _ = split_located(load_sheffield_providers())
    gias = pd.read_csv(data_path("gias"), dtype=str)
    phases = sorted(set(gias["education_phase"].dropna()))
    types = sorted(set(gias["establishment_type"].dropna()) | set(MAINSTREAM_GIAS_TYPES))
    candidates = gias_candidate_sites(phases=phases, establishment_types=types)
    sites = gpd.GeoDataFrame(
        pd.concat([existing[["site_id", "geometry"]], candidates[["site_id", "geometry"]]]),
        geometry="geometry", crs="EPSG:27700",
    )
    tt = straight_line_travel_times(
        demand_points(demand), sites, origin_id_column="area_id",
        destination_id_column="site_id", mode="walk",
    )
    cost = (
        tt.pivot(index="origin_id", columns="destination_id", values="travel_time_s")
        .loc[sorted(demand["area_id"]), list(sites["site_id"])]
        .to_numpy()
    )
    children = demand.set_index("area_id").loc[sorted(demand["area_id"])]
    ks = ["children_ks1", "children_ks2", "children_ks3", "children_ks4"]
    need = children[ks].sum(axis=1).to_numpy() * (11 - children["idaci_decile"].to_numpy()) / 10
    fixed = np.zeros(cost.shape[1], dtype=bool)
    fixed[: len(existing)] = True
    return cost, need, fixed, len(candidates)


def timed(fn: Any) -> tuple[Any, float]:
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def spopt_run(kind: str, cost: np.ndarray, need: np.ndarray, fixed: np.ndarray, p: int) -> tuple[float, float]:
    try:
        import pulp
        from spopt.locate import MCLP
        from spopt.locate import PMedian as SPMedian
    except ImportError:
        return np.nan, np.nan
    solver = pulp.HiGHS(msg=False, threads=1)
    pre = fixed.astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if kind == "mclp":
            c = np.where(np.isfinite(cost), cost, 1e9)
            model = MCLP.from_cost_matrix(c, need, service_radius=T_S, p_facilities=int(fixed.sum()) + p,
                                          predefined_facilities_arr=pre)
            _, secs = timed(lambda: model.solve(solver))
            opened = [j for j, v in enumerate(model.fac_vars) if v.value() > 0.5]
            covered = (c[:, opened] <= T_S).any(axis=1)
            return float(need[covered].sum()), secs
        eff = np.minimum(np.nan_to_num(cost, nan=np.inf), 2 * T_S)
        model = SPMedian.from_cost_matrix(eff, need, p_facilities=int(fixed.sum()) + p,
                                          predefined_facilities_arr=pre)
        _, secs = timed(lambda: model.solve(solver))
        opened = [j for j, v in enumerate(model.fac_vars) if v.value() > 0.5]
        return float(need @ eff[:, opened].min(axis=1)), secs


def main() -> None:
    import pulp

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="p = 1..2 only")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each HiGHS route (median)")
    args = parser.parse_args()
    (cost, need, fixed, n_cand), build_s = timed(build_instance)
    print(
        f"Sheffield instance: {cost.shape[0]} areas x {cost.shape[1]} sites "
        f"({int(fixed.sum())} existing fixed open, {n_cand} candidate schools), straight-line walk, "
        f"T = 30 min; built in {build_s:.1f} s"
    )
    rows = []
    for p in range(1, 3 if args.quick else 6):
        for kind, cls in (("mclp", MaximalCovering), ("pmedian", PMedian)):
            kw: dict[str, Any] = {"max_travel_time_s": T_S, "p": p, "fixed_open": fixed}
            default: list[float] = []
            direct: list[float] = []
            through_pulp: list[float] = []
            for _ in range(max(args.repeats, 1)):  # alternately, so all see the same machine
                exact, t = timed(lambda cls=cls, kw=kw: cls.from_cost_matrix(cost, need, **kw).solve("exact"))
                default.append(t)
                highs, t = timed(
                    lambda cls=cls, kw=kw: cls.from_cost_matrix(cost, need, **kw).solve("exact", solver="highs")
                )
                direct.append(t)
                via, t = timed(
                    lambda cls=cls, kw=kw: cls.from_cost_matrix(cost, need, **kw).solve(
                        "exact", solver=pulp.HiGHS(msg=False, threads=1)
                    )
                )
                through_pulp.append(t)
                assert via.selected_ == highs.selected_
                # HiGHS proves optimality to a relative gap of 1e-4; the p-median's own
                # branch and bound finds the optimum (never worse)
                if exact.solver_ != highs.solver_:
                    assert exact.objective_ <= highs.objective_ * (1 + 1e-12)
                    assert abs(exact.objective_ - highs.objective_) <= 1e-4 * abs(highs.objective_)
            t_default = float(np.median(default))
            t_exact, t_pulp = float(np.median(direct)), float(np.median(through_pulp))
            cbc, t_cbc = timed(
                lambda cls=cls, kw=kw: cls.from_cost_matrix(cost, need, **kw).solve("exact", solver="cbc")
            )
            greedy, t_greedy = timed(lambda cls=cls, kw=kw: cls.from_cost_matrix(cost, need, **kw).solve("greedy"))
            assert abs(exact.objective_ - cbc.objective_) <= 1e-6 * abs(exact.objective_)
            gap = max(exact._gap(exact.baseline_, exact.gain_, greedy.gain_), 0.0)
            sp_obj, t_sp = spopt_run(kind, cost, need, fixed, p)
            rows.append(
                {
                    "model": kind,
                    "p": p,
                    "objective": round(exact.objective_, 1),
                    "exact_by": exact.solver_,
                    "exact_s": round(t_default, 3),
                    "same_as_highs": sorted(exact.selected_index_) == sorted(highs.selected_index_),
                    "exact_highs_s": round(t_exact, 3),
                    "via_pulp_s": round(t_pulp, 3),
                    "exact_cbc_s": round(t_cbc, 3),
                    "greedy_s": round(t_greedy, 4),
                    "greedy_gap": f"{gap:.3%}",
                    "greedy_gap_bound": f"{greedy.gap_bound_:.2%}",
                    "same_sites": sorted(exact.selected_index_) == sorted(greedy.selected_index_),
                    "spopt_objective_diff": round(sp_obj - exact.objective_, 3) if np.isfinite(sp_obj) else "n/a",
                    "spopt_s": round(t_sp, 3) if np.isfinite(t_sp) else "n/a",
                    "spopt_over_exact": round(t_sp / t_default, 1) if np.isfinite(t_sp) else "n/a",
                }
            )
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False))
    print(
        "objective: mclp = IDACI-weighted children within 30 min (incl. existing sites); "
        "pmedian = need x seconds (times capped at 60 min). Gaps: mclp on need newly covered, "
        "pmedian on total weighted time. Times include building the model."
    )


if __name__ == "__main__":
    main()
