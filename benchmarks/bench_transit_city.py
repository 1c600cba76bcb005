"""Range-RAPTOR at the scale of a city's buses: ``bench_transit.py --city``.

The problem: Sheffield's 345 LSOA population-weighted centroids to the study's located AP
sites, departures every minute 07:00-09:00 (120), journeys up to 90 minutes, on a bus feed
plus the Supertram GTFS (``data/sheffield/transit``) read for Tuesday 14 January 2025, with
the study's engine (:class:`MultiFeedTransitEngine`, default settings: 1,000 m walks,
400 m transfers, 4 rides); walking legs straight-line (no Sheffield street network
offline). The bus feed is ``--feed`` (a GTFS) or, without it, the synthetic city network of
:mod:`city_bus_feed` (250 routes over the NaPTAN stops, 10-30 minute headways).

Searches, each the full :meth:`TransitEngine.earliest_arrivals` call, timed interleaved,
``--repeats`` times (medians reported; the machine is shared):

* ``range, compiled``: range-RAPTOR compiled with numba (the engine's default);
* ``per departure, compiled``: the same compiled loops with the labels cleared before every
  departure (one RAPTOR per departure minute): range / this is what keeping labels gains;
* ``range, numpy`` and ``per departure, numpy``: the numpy range-RAPTOR (the search before
  the compiled one) and the numpy per-departure RAPTOR, on the first ``--numpy-origins``
  origins only (they are slow), reported per origin and scaled to all origins.

Every search's arrival array is compared exactly with the compiled range-RAPTOR's. The
first-call compile time of the numba loops is measured in fresh processes, with an empty
cache and with the cache written by the first.
"""

from __future__ import annotations

import gc
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import geopandas as gpd
import numpy as np

from apgeo.inputs.demand import demand_points, load_demand
from apgeo.inputs.providers import load_sheffield_providers
from apgeo.routing.transit import raptor_compiled
from apgeo.routing.transit.feeds import MultiFeedTransitEngine, load_merged_feed
from apgeo.routing.transit.legs import StraightLineWalk
from apgeo.routing.transit.raptor import TransitEngine
from apgeo.routing.transit.travel_time_table import departure_times

REPO = Path(__file__).resolve().parent.parent
TRAM = REPO / "data" / "sheffield" / "transit" / "sheffield_supertram_gtfs_2024-25.zip"
SERVICE_DATE = "2025-01-14"
LIMIT_S = 5400.0

_COMPILE_PROBE = """
import time, numpy as np
t0 = time.perf_counter()
from apgeo.routing.transit import raptor_compiled as rc
from apgeo.routing.transit.range_raptor import LegIndex
from apgeo.routing.transit.raptor import _Legs, _Pattern
t1 = time.perf_counter()
pat = _Pattern(stops=np.array([0, 1]), dep=np.array([[100.0], [200.0]]),
               arr=np.array([[100.0, np.inf], [200.0, np.inf]]),
               first_dep=np.array([100.0]), last_arr=np.array([200.0]))
cp = rc.CompiledPatterns.build([pat], 2)
none = LegIndex.build(_Legs(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0), []), 2)
eg = LegIndex.build(_Legs(np.array([1]), np.array([0]), np.array([10.0]), []), 2)
t2 = time.perf_counter()
rc.range_raptor_compiled(cp, none, eg, np.array([[0.0, np.inf]]), np.array([50.0]), 1, 1e4, 2,
                         threads=1)
print(t1 - t0, time.perf_counter() - t2)
"""


def _compile_times() -> tuple[float, float]:
    """First-call seconds of the compiled loops in a fresh process: empty numba cache, then
    with the cache the first process wrote."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = []
    with tempfile.TemporaryDirectory() as cache:
        env["NUMBA_CACHE_DIR"] = cache
        for _ in range(2):
            res = subprocess.run(
                [sys.executable, "-c", _COMPILE_PROBE], env=env, capture_output=True, text=True,
                check=True,
            )
            out.append(float(res.stdout.split()[-1]))
    return out[0], out[1]


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def _timed_cpu(fn: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall-clock and CPU seconds (all threads of this process: on a shared machine the
    CPU time says what the search costs, the wall clock what it took)."""
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return time.perf_counter() - start, time.process_time() - cpu, result


def _inputs() -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    demand = demand_points(load_demand())
    origins = gpd.GeoDataFrame(
        {"id": demand["area_id"].to_numpy()}, geometry=demand.geometry.to_numpy(), crs=demand.crs
    )
    providers = load_sheffield_providers()
    providers = providers[providers["located"]].to_crs("EPSG:27700")
    sites = gpd.GeoDataFrame(
        {"id": providers["site_id"].astype(str).to_numpy()},
        geometry=providers.geometry.to_numpy(),
        crs="EPSG:27700",
    )
    return origins, sites


def run_city(
    feed: Path | None, *, repeats: int, numpy_origins: int, origins: int | None = None
) -> None:
    """Print the city-scale timings (see the module docstring)."""
    o, sites = _inputs()
    if origins:
        o = o.iloc[:origins]
    if feed is None:
        from city_bus_feed import city_bus_tables

        xy = np.column_stack([o.geometry.x, o.geometry.y])
        centre = tuple((xy.min(axis=0) + xy.max(axis=0)) / 2)
        bus: Any
        t_gen, bus = _timed(lambda: city_bus_tables((float(centre[0]), float(centre[1]))))
        label = f"synthetic city buses (made in {t_gen:.1f} s)"
    else:
        bus, label = feed, str(feed)
    t_read, merged = _timed(
        lambda: load_merged_feed({"bus": bus, "tram": TRAM}, service_date=SERVICE_DATE)
    )
    t_eng, engine = _timed(lambda: MultiFeedTransitEngine(merged, StraightLineWalk()))
    deps = departure_times(("07:00", "09:00"), 1)
    f = merged.feed
    print(f"bus feed: {label}; + tram; read and merged in {t_read:.1f} s")
    print(
        f"merged feed: {len(f.stops):,} stops, {f.n_trips:,} trips on {SERVICE_DATE}, "
        f"{len(f.stop_times):,} stop_times; engine: {len(engine.patterns)} patterns, "
        f"{len(engine.transfers):,} walking transfers, built in {t_eng:.1f} s"
    )
    print(
        f"problem: {len(o)} origins x {len(sites)} sites x {len(deps)} departures "
        f"(07:00-09:00 every minute), limit {LIMIT_S / 60:.0f} min, max_rides "
        f"{engine.max_rides}; compiled search: {raptor_compiled.AVAILABLE}, "
        f"{min(raptor_compiled.MAX_THREADS, os.cpu_count() or 1)} thread(s)",
        flush=True,
    )
    cold, warm = _compile_times()
    print(f"numba first call: {cold:.1f} s compiling (empty cache), {warm:.2f} s from cache")
    few = o.iloc[: min(numpy_origins, len(o))]

    def call(eng: TransitEngine, pts: gpd.GeoDataFrame, method: str, compiled: bool,
             reuse: bool = True) -> np.ndarray:
        eng.compiled = compiled
        real = raptor_compiled.range_raptor_compiled
        with mock.patch(
            "apgeo.routing.transit.raptor.range_raptor_compiled",
            lambda *a, **k: real(*a, **k, reuse=reuse),
        ):
            return eng.earliest_arrivals(
                pts, sites, deps, origin_id_column="id", destination_id_column="id",
                max_travel_time_s=LIMIT_S, method=method,  # type: ignore[arg-type]
            )

    searches: dict[str, tuple[gpd.GeoDataFrame, Callable[[], np.ndarray]]] = {
        "range, compiled": (o, lambda: call(engine, o, "range", True)),
        "per departure, compiled": (o, lambda: call(engine, o, "range", True, reuse=False)),
        "range, numpy": (few, lambda: call(engine, few, "range", False)),
        "per departure, numpy": (few, lambda: call(engine, few, "per_departure", False)),
    }
    call(engine, o.iloc[:2], "range", True)  # load the compiled loops once, outside the timing
    times: dict[str, list[float]] = {k: [] for k in searches}
    cpu: dict[str, list[float]] = {k: [] for k in searches}
    same: dict[str, bool] = {}
    reference: np.ndarray | None = None
    for run in range(repeats):
        for name, (pts, fn) in searches.items():
            t, c, res = _timed_cpu(fn)
            times[name].append(t)
            cpu[name].append(c)
            if name == "range, compiled":
                reference = res
            elif run == 0:
                assert reference is not None
                same[name] = np.array_equal(reference[: len(pts)], res)
        print(f"  run {run + 1}: " + ", ".join(
            f"{k} {v[-1]:.1f} s (cpu {cpu[k][-1]:.1f} s)" for k, v in times.items()), flush=True)
    engine.compiled = raptor_compiled.AVAILABLE
    print()
    print(f"{'search':<26}{'origins':>8}{'median s':>10}{'min s':>8}{'max s':>8}"
          f"{'s/origin':>10}{'all origins s':>15}{'cpu s/origin':>14}  identical")
    med = {}
    for name, (pts, _) in searches.items():
        v = times[name]
        med[name] = statistics.median(v) / len(pts)
        print(
            f"{name:<26}{len(pts):>8}{statistics.median(v):>10.2f}{min(v):>8.2f}{max(v):>8.2f}"
            f"{med[name]:>10.3f}{med[name] * len(o):>15.1f}"
            f"{statistics.median(cpu[name]) / len(pts):>14.3f}  {same.get(name, 'reference')}"
        )
    r = med["range, compiled"]
    print(
        f"\nrange-RAPTOR compiled, {len(o)} origins x {len(deps)} departures: "
        f"{r * len(o):.1f} s ({1000 * r:.0f} ms per origin), median of {repeats} runs"
    )
    print(
        f"range / per departure, same compiled loops: {med['per departure, compiled'] / r:.1f}x; "
        f"numpy range / numpy per departure: "
        f"{med['per departure, numpy'] / med['range, numpy']:.1f}x; "
        f"compiled range vs numpy range: {med['range, numpy'] / r:.1f}x faster"
    )
    print(f"identical arrival arrays: {all(same.values())}")
