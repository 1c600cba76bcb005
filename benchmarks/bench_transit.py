"""Benchmark apgeo's public-transport engine (RAPTOR) against a time-expanded Dijkstra.

Run on demand (not part of pytest)::

    .venv/bin/python benchmarks/bench_transit.py            # full run, about 3-4 minutes
    .venv/bin/python benchmarks/bench_transit.py --quick    # 40 origins, 5-minute steps
    .venv/bin/python benchmarks/bench_transit.py --range    # range-RAPTOR vs per departure
    .venv/bin/python benchmarks/bench_transit.py --city     # city-bus scale, compiled vs numpy
    .venv/bin/python benchmarks/bench_transit.py --city --feed bus.zip   # a real bus feed

``--city`` times range-RAPTOR at the scale of a city's buses (see :mod:`bench_transit_city`).

``--range`` times :meth:`TransitEngine.earliest_arrivals` with ``method="per_departure"``
(one RAPTOR per departure minute, the engine's search before range-RAPTOR) against
``method="range"`` (range-RAPTOR: departures latest first, labels kept) on the same feed,
origins, sites and departures, ``--repeats`` times each (default 5; the median is
reported), checks that both give identical arrays, and also times range-RAPTOR with the
label reuse switched off (same vectorised pattern scans, labels cleared before every
departure) to show what the reuse alone gains.

The problem: all 345 Sheffield LSOA population-weighted centroids to 25 sites (the 19
located providers plus 6 LSOA centroids drawn with a fixed seed), departures 07:00-09:00
on a synthetic feed of Sheffield size over a synthetic walk grid covering Sheffield:

* walk grid: 100 m spacing over the extent of the LSOAs and sites plus 1.5 km (4.8 km/h);
* feed: 120 routes, each a straight line of up to 36 stops 400 m apart through a random LSOA
  centroid at a random angle (clipped to the grid), stops on grid nodes (shared where
  routes cross), both directions every 10 minutes from 06:30 to 10:20 (first stop), 18 km/h
  between stops. The exact stop, trip and stop-time counts are printed.

Methods, same walk legs (access, egress, transfers within 400 m, all taken from the
engine so that only the schedule search differs):

* ``apgeo RAPTOR``: :meth:`TransitEngine.earliest_arrivals` (the full call: walking-only
  times, access and egress on the walk network, RAPTOR with ``max_rides=8``);
* ``time-expanded Dijkstra``: one node per arrival and per departure event, waiting chains
  per stop, ride, stay-on, same-stop and walking-transfer edges, one virtual source per
  (origin, departure time) joined to the first departures its access walk can catch;
  :func:`scipy.sparse.csgraph.dijkstra` with the same time limit. Too slow for every query,
  it is timed on a subset of origins and extrapolated (the table says so); its results on
  that subset are compared with RAPTOR's.

Time is wall-clock; memory is the tracemalloc peak (numpy arrays included), measured on
26 origins (two batches: the peak is per batch) plus the full result array, and for the
baseline on one origin (it runs one origin at a time).
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import scipy.sparse as sp
from pyproj import Transformer
from scipy.sparse.csgraph import dijkstra

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from apgeo.inputs.demand import load_demand
from apgeo.inputs.providers import load_sheffield_providers
from apgeo.network.synthetic import grid_network
from apgeo.routing.main_component import fastest_edge_matrix
from apgeo.routing.transit.feed import TransitFeed
from apgeo.routing.transit.raptor import TransitEngine
from apgeo.routing.transit.travel_time_table import departure_times
from apgeo.routing.travel_times import TravelTimeEngine, _snapped

SEED = 20250304
SPACING_M = 100.0
N_ROUTES = 120
STOPS_PER_ROUTE = 36
STOP_GAP_M = 400.0
HEADWAY_S = 600
SERVICE = (6 * 3600 + 30 * 60, 10 * 3600 + 20 * 60)
BUS_SPEED_KPH = 18.0
LIMIT_S = 5400.0  # 90 minutes
BASELINE_BUDGET_S = 45.0


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _peak_mib(fn: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        fn()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20


# ---- synthetic inputs ------------------------------------------------------------------------


def build_walk(points: np.ndarray) -> tuple[TravelTimeEngine, tuple[float, float], int, int]:
    x0 = float(np.floor((points[:, 0].min() - 1500) / SPACING_M) * SPACING_M)
    y0 = float(np.floor((points[:, 1].min() - 1500) / SPACING_M) * SPACING_M)
    n_cols = int(np.ceil((points[:, 0].max() + 1500 - x0) / SPACING_M)) + 1
    n_rows = int(np.ceil((points[:, 1].max() + 1500 - y0) / SPACING_M)) + 1
    G = grid_network(n_cols, n_rows, spacing_m=SPACING_M, origin=(x0, y0))
    return TravelTimeEngine.from_graph(G), (x0, y0), n_cols, n_rows


def build_feed_tables(
    centres: np.ndarray, origin: tuple[float, float], n_cols: int, n_rows: int
) -> dict[str, pd.DataFrame]:
    """120 straight routes of 29 stops on grid nodes, both ways every 10 minutes."""
    rng = np.random.default_rng(SEED)
    x0, y0 = origin
    routes: list[list[tuple[int, int]]] = []
    while len(routes) < N_ROUTES:
        cx, cy = centres[rng.integers(len(centres))]
        angle = rng.uniform(0, np.pi)
        offsets = (np.arange(STOPS_PER_ROUTE) - STOPS_PER_ROUTE // 2) * STOP_GAP_M
        xs = cx + offsets * np.cos(angle)
        ys = cy + offsets * np.sin(angle)
        col = np.rint((xs - x0) / SPACING_M).astype(int)
        row = np.rint((ys - y0) / SPACING_M).astype(int)
        inside = (col >= 0) & (col < n_cols) & (row >= 0) & (row < n_rows)
        nodes = list(dict.fromkeys(zip(col[inside].tolist(), row[inside].tolist(), strict=True)))
        if len(nodes) >= 10:
            routes.append(nodes)
    to_lonlat = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    all_nodes = sorted({n for r in routes for n in r})
    sx = np.array([x0 + c * SPACING_M for c, _ in all_nodes])
    sy = np.array([y0 + r * SPACING_M for _, r in all_nodes])
    lon, lat = to_lonlat.transform(sx, sy)
    stop_id = {n: f"s{i}" for i, n in enumerate(all_nodes)}
    trip_rows: list[tuple[str, str, str]] = []
    st_trip: list[str] = []
    st_stop: list[str] = []
    st_seq: list[int] = []
    st_time: list[int] = []
    for r, nodes in enumerate(routes):
        for direction, seq in enumerate((nodes, nodes[::-1])):
            xy = np.array([(x0 + c * SPACING_M, y0 + w * SPACING_M) for c, w in seq])
            hop = np.hypot(*np.diff(xy, axis=0).T) / (BUS_SPEED_KPH / 3.6) + 20  # 20 s dwell
            offsets = np.concatenate([[0], np.cumsum(np.rint(hop))]).astype(int)
            first = SERVICE[0] + int(rng.integers(0, HEADWAY_S // 60)) * 60
            for k, start in enumerate(range(first, SERVICE[1], HEADWAY_S)):
                trip = f"r{r}d{direction}t{k}"
                trip_rows.append((f"r{r}", "WK", trip))
                st_trip += [trip] * len(seq)
                st_stop += [stop_id[n] for n in seq]
                st_seq += list(range(len(seq)))
                st_time += (start + offsets).tolist()
    hms = [f"{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}" for t in st_time]
    return {
        "stops.txt": pd.DataFrame(
            {"stop_id": list(stop_id.values()), "stop_lat": lat, "stop_lon": lon}
        ),
        "routes.txt": pd.DataFrame(
            {"route_id": [f"r{r}" for r in range(len(routes))], "route_type": 3}
        ),
        "trips.txt": pd.DataFrame(trip_rows, columns=["route_id", "service_id", "trip_id"]),
        "stop_times.txt": pd.DataFrame(
            {
                "trip_id": st_trip,
                "arrival_time": hms,
                "departure_time": hms,
                "stop_id": st_stop,
                "stop_sequence": st_seq,
            }
        ),
        "calendar.txt": pd.DataFrame(
            [["WK", 1, 1, 1, 1, 1, 0, 0, "20250106", "20250718"]],
            columns=[
                "service_id",
                "monday",
                "tuesday",
                "wednesday",
                "thursday",
                "friday",
                "saturday",
                "sunday",
                "start_date",
                "end_date",
            ],
        ),
    }


# ---- time-expanded baseline ------------------------------------------------------------------


class TimeExpanded:
    """A time-expanded graph of the engine's trips, searched with scipy's Dijkstra."""

    def __init__(self, engine: TransitEngine) -> None:
        arr_t: list[np.ndarray] = []
        dep_t: list[np.ndarray] = []
        stop: list[np.ndarray] = []
        for pat in engine.patterns:
            n_trips = pat.dep.shape[1]
            arr_t.append(pat.arr[:, :n_trips].T.reshape(-1))  # trip-major
            dep_t.append(pat.dep.T.reshape(-1))
            stop.append(np.tile(pat.stops, n_trips))
        self.arr_t = np.concatenate(arr_t)
        self.dep_t = np.concatenate(dep_t)
        self.stop = np.concatenate(stop)
        n = len(self.arr_t)
        # position within trip: ride edges join row r (departure) to r + 1 (arrival)
        last = np.concatenate(
            [
                np.tile(np.arange(p.dep.shape[0]) == p.dep.shape[0] - 1, p.dep.shape[1])
                for p in engine.patterns
            ]
        )
        self.n_events = n
        arr_node = np.arange(n)  # arrival event of row r: node r; departure: n + r
        dep_node = n + np.arange(n)
        rows: list[np.ndarray] = []
        cols: list[np.ndarray] = []
        vals: list[np.ndarray] = []
        ride = np.flatnonzero(~last)
        rows.append(dep_node[ride])
        cols.append(arr_node[ride + 1])
        vals.append(self.arr_t[ride + 1] - self.dep_t[ride])
        rows.append(arr_node)
        cols.append(dep_node)
        vals.append(self.dep_t - self.arr_t)
        # departures per stop in time order: waiting chains
        boardable = np.flatnonzero(~last)
        order = boardable[np.lexsort((self.dep_t[boardable], self.stop[boardable]))]
        self.dep_order = order
        self.dep_stop = self.stop[order]
        self.dep_time = self.dep_t[order]
        same = self.dep_stop[1:] == self.dep_stop[:-1]
        rows.append(dep_node[order[:-1][same]])
        cols.append(dep_node[order[1:][same]])
        vals.append(np.diff(self.dep_time)[same])
        self.stop_start = np.searchsorted(self.dep_stop, np.arange(engine.n_stops), "left")
        self.stop_end = np.searchsorted(self.dep_stop, np.arange(engine.n_stops), "right")
        # same-stop and walking transfers from every arrival event
        tr = engine._transfer_legs
        from_rows = [np.arange(n)]
        to_stop = [self.stop]
        extra = [np.zeros(n)]
        by_src = pd.Series(np.arange(len(tr.from_row))).groupby(tr.from_row).apply(np.array)
        for s, legs in by_src.items():
            at = np.flatnonzero(self.stop == s)
            from_rows.append(np.repeat(at, len(legs)))
            to_stop.append(np.tile(tr.to_row[legs], len(at)))
            extra.append(np.tile(tr.seconds[legs], len(at)))
        fr = np.concatenate(from_rows)
        ts = np.concatenate(to_stop)
        ready = self.arr_t[fr] + np.concatenate(extra)
        target, ok = self._first_departure(ts, ready)
        rows.append(arr_node[fr[ok]])
        cols.append(dep_node[target[ok]])
        vals.append(self.dep_t[target[ok]] - self.arr_t[fr[ok]])
        self.n_nodes = 2 * n
        r = np.concatenate(rows)
        c = np.concatenate(cols)
        v = np.concatenate(vals)
        # parallel edges keep the fastest; zero-second edges stay edges
        self.matrix = fastest_edge_matrix(r, c, v, self.n_nodes)
        self.arr_by_stop = np.argsort(self.stop, kind="stable")
        sorted_stop = self.stop[self.arr_by_stop]
        self.arr_seg = np.flatnonzero(np.r_[True, sorted_stop[1:] != sorted_stop[:-1]])
        self.arr_seg_stop = sorted_stop[self.arr_seg]

    def _first_departure(
        self, stops: np.ndarray, ready: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """Row of the first departure at ``stops`` not before ``ready`` (ok=False if none)."""
        key = stops * 1e6 + ready  # times < 1e6 s
        sorted_key = self.dep_stop * 1e6 + self.dep_time
        pos = np.searchsorted(sorted_key, key, "left")
        ok = (pos < len(sorted_key)) & (pos < self.stop_end[stops])
        target = self.dep_order[np.minimum(pos, len(sorted_key) - 1)]
        return target, ok

    def arrivals(self, access: np.ndarray, deps: np.ndarray, limit: float) -> np.ndarray:
        """(k * len(deps), n_stops) earliest ride arrivals, like the engine's labels."""
        k, n_s = access.shape
        q_origin = np.repeat(np.arange(k), len(deps))
        q_dep = np.tile(deps, k)
        qi, si = np.nonzero(np.isfinite(access[q_origin]))
        ready = q_dep[qi] + access[q_origin[qi], si]
        target, ok = self._first_departure(si, ready)
        q = len(q_dep)
        src_nodes = self.n_nodes + np.arange(q)
        extra = sp.csr_matrix(
            (self.dep_t[target[ok]] - q_dep[qi[ok]], (qi[ok], self.n_events + target[ok])),
            shape=(q, self.n_nodes + q),
        )
        base = sp.csr_matrix(
            (self.matrix.data, self.matrix.indices, self.matrix.indptr),
            shape=(self.n_nodes, self.n_nodes + q),
        )
        graph = sp.vstack([base, extra]).tocsr()
        dist = dijkstra(graph, directed=True, indices=src_nodes, limit=limit)[:, : self.n_events]
        best = np.full((q, n_s), np.inf)
        best[:, self.arr_seg_stop] = np.minimum.reduceat(
            dist[:, self.arr_by_stop], self.arr_seg, axis=1
        )
        return best + q_dep[:, None]


# ---- the run ---------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="40 origins, 5-minute steps")
    parser.add_argument("--range", action="store_true", help="range-RAPTOR vs per departure")
    parser.add_argument("--repeats", type=int, default=5, help="runs per method with --range")
    parser.add_argument("--origins", type=int, default=0, help="use only the first N origins")
    parser.add_argument("--city", action="store_true", help="city-bus scale (bench_transit_city)")
    parser.add_argument("--feed", type=Path, default=None, help="with --city: a bus GTFS")
    parser.add_argument(
        "--numpy-origins", type=int, default=30, help="with --city: origins for the numpy searches"
    )
    args = parser.parse_args()
    if args.city:
        from bench_transit_city import run_city

        run_city(args.feed, repeats=args.repeats, numpy_origins=args.numpy_origins,
                 origins=args.origins or None)
        return
    demand = load_demand()
    origins = gpd.GeoDataFrame(
        {"id": demand["area_id"].to_numpy()},
        geometry=gpd.points_from_xy(demand["pwc_easting"], demand["pwc_northing"]),
        crs="EPSG:27700",
    )
    providers = load_sheffield_providers()
    providers = providers[providers["located"]].to_crs("EPSG:27700")
    rng = np.random.default_rng(SEED)
    extra = origins.iloc[np.sort(rng.choice(len(origins), 25 - len(providers), replace=False))]
    sites = gpd.GeoDataFrame(
        {"id": [*providers["provider_id"].astype(str), *("lsoa:" + extra["id"])]},
        geometry=[*providers.geometry, *extra.geometry],
        crs="EPSG:27700",
    )
    step_min = 5 if args.quick else 1
    if args.quick:
        origins = origins.iloc[:40]
    if args.origins:
        origins = origins.iloc[: args.origins]
    deps = departure_times(("07:00", "09:00"), step_min)
    xy = np.column_stack([origins.geometry.x, origins.geometry.y])
    extent = np.vstack([xy, np.column_stack([sites.geometry.x, sites.geometry.y])])

    t_walk, (walk, origin, n_cols, n_rows) = _timed(lambda: build_walk(extent))
    tables = build_feed_tables(xy, origin, n_cols, n_rows)
    t_feed, feed = _timed(
        lambda: TransitFeed.from_frames(tables, service_date=date(2025, 3, 4), name="synthetic")
    )
    t_engine, engine = _timed(lambda: TransitEngine(feed, walk, max_rides=8))
    print(
        f"walk grid: {walk.n_nodes:,} nodes ({n_cols} x {n_rows}, {SPACING_M:.0f} m), "
        f"{walk.matrix.nnz:,} edges, built in {t_walk:.1f} s"
    )
    print(
        f"feed: {tables['routes.txt'].shape[0]} routes, {len(feed.stops):,} stops, "
        f"{feed.n_trips:,} trips, {len(feed.stop_times):,} stop_times (10-min headways, "
        f"06:30-10:20); read and checked in {t_feed:.1f} s"
    )
    print(
        f"engine: {len(engine.patterns)} patterns, {len(engine.transfers):,} walking "
        f"transfers; built in {t_engine:.1f} s"
    )
    n_q = len(origins) * len(deps)
    print(
        f"queries: {len(origins)} origins x {len(sites)} sites x {len(deps)} departures "
        f"(07:00-09:00, every {step_min} min) = {n_q:,} origin-departure searches",
        flush=True,
    )

    if args.range:
        _range_vs_per_departure(engine, origins, sites, deps, args.repeats)
        return

    def run() -> np.ndarray:
        return engine.earliest_arrivals(
            origins,
            sites,
            deps,
            origin_id_column="id",
            destination_id_column="id",
            max_travel_time_s=LIMIT_S,
        )

    t_ours, ours = _timed(run)
    # memory: one origin chunk (peak is per batch; the output adds 8 bytes per result)
    mem_origins = origins.iloc[:26]
    mem_ours = (
        _peak_mib(
            lambda: engine.earliest_arrivals(
                mem_origins,
                sites,
                deps,
                origin_id_column="id",
                destination_id_column="id",
                max_travel_time_s=LIMIT_S,
            )
        )
        + len(origins) * len(sites) * len(deps) * 8 / 2**20
    )
    print(f"apgeo RAPTOR: {t_ours:.1f} s, peak {mem_ours:,.0f} MiB", flush=True)

    # --- baseline, on a subset of origins
    t_te_build, te = _timed(lambda: TimeExpanded(engine))
    print(
        f"time-expanded graph: {te.n_nodes:,} nodes, {te.matrix.nnz:,} edges, "
        f"built in {t_te_build:.1f} s",
        flush=True,
    )
    o_snap = _snapped(walk, origins, id_column="id", name="origins")
    d_snap = _snapped(walk, sites, id_column="id", name="sites")
    egress = engine._walk_to_stops(d_snap, engine.max_walk_s, "to")  # (n_d, n_stops)
    probe_s, _ = _timed(
        lambda: te.arrivals(
            engine._walk_to_stops(o_snap.iloc[:1], engine.max_walk_s, "from"), deps[:4], LIMIT_S
        )
    )
    per_query = probe_s / 4
    n_sub = int(max(1, min(len(origins), BASELINE_BUDGET_S / (per_query * len(deps)))))
    sub = o_snap.iloc[:n_sub]

    def baseline() -> np.ndarray:
        out = []
        for i in range(n_sub):
            access = engine._walk_to_stops(sub.iloc[[i]], engine.max_walk_s, "from")
            ride = te.arrivals(access, deps, LIMIT_S)  # (n_t, n_stops)
            out.append(np.min(ride[:, None, :] + egress[None, :, :], axis=2).T)  # (n_d, n_t)
        return np.stack(out)

    t_base, base = _timed(baseline)
    mem_base = _peak_mib(
        lambda: te.arrivals(
            engine._walk_to_stops(sub.iloc[[0]], engine.max_walk_s, "from"), deps, LIMIT_S
        )
    )
    # the engine's result includes walking all the way; add it to the baseline's
    base = np.minimum(base, _walk_only(engine, sub, d_snap, deps))
    base = np.where(base - deps[None, None, :] <= LIMIT_S, base, np.inf)
    mine = ours[:n_sub]
    mine = np.where(mine - deps[None, None, :] <= LIMIT_S, mine, np.inf)
    same_reach = np.array_equal(np.isfinite(base), np.isfinite(mine))
    both = np.isfinite(base) & np.isfinite(mine)
    diff = np.abs(np.where(both, base, 0) - np.where(both, mine, 0))
    t_base_all = t_base * len(origins) / n_sub
    mem_base_all = mem_base  # one origin at a time: memory does not grow with origins

    print()
    print(f"{'method':<28}{'time (s)':>10}{'per search (ms)':>17}{'peak MiB':>10}  note")
    print(
        f"{'apgeo RAPTOR':<28}{t_ours:>10.1f}{1000 * t_ours / n_q:>17.2f}{mem_ours:>10.0f}"
        f"  all {len(origins)} origins, incl. walk legs"
    )
    print(
        f"{'time-expanded Dijkstra':<28}{t_base_all:>10.1f}{1000 * t_base_all / n_q:>17.2f}"
        f"{mem_base_all:>10.0f}  timed {n_sub}/{len(origins)} origins ({t_base:.1f} s), "
        f"extrapolated; graph build {t_te_build:.1f} s extra"
    )
    print(f"ratio (baseline / apgeo): {t_base_all / t_ours:.1f}x")
    print(
        f"check on {n_sub} origin(s) x {len(sites)} sites x {len(deps)} departures: "
        f"same reachable pairs: {same_reach}; max |diff| = {diff.max():.2e} s "
        f"({'OK' if same_reach and diff.max() < 1e-3 else 'MISMATCH'})"
    )


def _range_vs_per_departure(
    engine: TransitEngine,
    origins: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    deps: np.ndarray,
    repeats: int,
) -> None:
    import statistics
    from unittest import mock

    from apgeo.routing.transit import range_raptor as rr

    o = _snapped(engine.walk_engine, origins, id_column="id", name="origins")
    d = _snapped(engine.walk_engine, sites, id_column="id", name="sites")

    def call(method: str) -> np.ndarray:
        return engine.earliest_arrivals(
            o, d, deps, origin_id_column="id", destination_id_column="id",
            max_travel_time_s=LIMIT_S, method=method,  # type: ignore[arg-type]
        )

    def no_reuse() -> np.ndarray:
        real = rr.range_raptor
        with mock.patch(
            "apgeo.routing.transit.raptor.range_raptor",
            lambda *a, **k: real(*a, **k, reuse=False),
        ):
            return call("range")

    times: dict[str, list[float]] = {"per_departure": [], "range": [], "range, no reuse": []}
    results: dict[str, np.ndarray] = {}
    for _ in range(repeats):
        for name, fn in (
            ("per_departure", lambda: call("per_departure")),
            ("range", lambda: call("range")),
            ("range, no reuse", no_reuse),
        ):
            t, res = _timed(fn)
            times[name].append(t)
            results[name] = res
        print("  run:", ", ".join(f"{k} {v[-1]:.2f} s" for k, v in times.items()), flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    same = np.array_equal(results["per_departure"], results["range"]) and np.array_equal(
        results["per_departure"], results["range, no reuse"]
    )
    print()
    print(f"{'search':<28}{'median (s)':>12}{'min (s)':>10}{'max (s)':>10}")
    for k, v in times.items():
        print(f"{k:<28}{med[k]:>12.2f}{min(v):>10.2f}{max(v):>10.2f}")
    print(
        f"speed-up, range-RAPTOR vs per-departure RAPTOR: "
        f"{med['per_departure'] / med['range']:.1f}x (median of {repeats} runs); "
        f"of which vectorised scans alone {med['per_departure'] / med['range, no reuse']:.1f}x, "
        f"label reuse {med['range, no reuse'] / med['range']:.1f}x"
    )
    print(f"identical arrival arrays (incl. walk-only and unreachable): {same}")


def _walk_only(
    engine: TransitEngine, o: pd.DataFrame, d: pd.DataFrame, deps: np.ndarray
) -> np.ndarray:
    from apgeo.routing.travel_times import travel_time_table

    w = travel_time_table(
        engine.walk_engine,
        o,
        d,
        origin_id_column="id",
        destination_id_column="id",
        max_travel_time_s=LIMIT_S,
    )
    w_s = np.nan_to_num(w["travel_time_s"].to_numpy(float), nan=np.inf).reshape(len(o), len(d))
    return deps[None, None, :] + w_s[:, :, None]


if __name__ == "__main__":
    main()
