"""The compiled range-RAPTOR gives exactly the numpy range-RAPTOR's arrivals.

Random FIFO patterns (stops shared between patterns, a stop twice on one pattern, whole and
fractional-second timetables), random access walks, transfers and egress legs; labels kept
across departures and cleared before each; one thread and two. Then the same through
:class:`TransitEngine` with ``compiled=True`` and ``False``.
"""

from __future__ import annotations

from datetime import date

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from apgeo.routing.transit import raptor_compiled as rc
from apgeo.routing.transit.feed import TransitFeed
from apgeo.routing.transit.range_raptor import LegIndex, prepare_scans, range_raptor
from apgeo.routing.transit.raptor import TransitEngine, _Legs, _Pattern
from apgeo.routing.transit.travel_time_table import departure_times

pytestmark = pytest.mark.skipif(not rc.AVAILABLE, reason="numba not installed")

N_STOPS = 30


def _patterns(rng: np.random.Generator, whole: bool) -> list[_Pattern]:
    out = []
    for _ in range(25):
        m = int(rng.integers(2, 9))
        stops = rng.choice(N_STOPS, m, replace=False).astype(np.int64)
        if rng.random() < 0.2:
            stops = np.r_[stops, stops[0]]  # a loop: one stop twice
            m += 1
        n_trips = int(rng.integers(1, 12))
        start = np.sort(rng.uniform(25_000, 29_000, n_trips))
        hop = np.cumsum(rng.uniform(30, 400, m))  # same running times: no overtaking
        arr = start[None, :] + hop[:, None]
        dep = arr + rng.uniform(0, 40, m)[:, None]
        if whole:
            arr, dep = np.floor(arr), np.ceil(dep)
        out.append(
            _Pattern(
                stops=stops,
                dep=np.ascontiguousarray(dep),
                arr=np.concatenate([arr, np.full((m, 1), np.inf)], axis=1),
                first_dep=dep[0].copy(),
                last_arr=arr[-1].copy(),
            )
        )
    return out


def _legs(rng: np.random.Generator, n_from: int, n_to: int, n: int, n_stops: int) -> LegIndex:
    src = rng.integers(0, n_from, n).astype(np.int64)
    dst = rng.integers(0, n_to, n).astype(np.int64)
    seconds = rng.uniform(20, 600, n)
    return LegIndex.build(_Legs(src, dst, seconds, []), n_stops)


@pytest.mark.parametrize("whole", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_compiled_equals_numpy_range_raptor(whole: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    patterns = _patterns(rng, whole)
    transfers = _legs(rng, N_STOPS, N_STOPS, 60, N_STOPS)
    n_dest = 7
    egress = _legs(rng, N_STOPS, n_dest, 40, N_STOPS)
    k = 9
    access = np.where(rng.random((k, N_STOPS)) < 0.2, rng.uniform(0, 700, (k, N_STOPS)), np.inf)
    deps = np.r_[np.arange(25_200, 27_600, 60.0), 26_000.5, 25_200.0]  # a fraction, a repeat
    limit = 2_400.0
    scans = prepare_scans(patterns)
    compiled = rc.CompiledPatterns.build(patterns, N_STOPS)

    def masked(a: np.ndarray) -> np.ndarray:
        return np.where(a - deps[None, None, :] <= limit, a, np.inf)

    for max_rides in (1, 3):
        for reuse in (True, False):
            want = masked(range_raptor(scans, transfers, egress, access, deps, n_dest, limit,
                                       max_rides, reuse=reuse))
            assert np.isfinite(want).mean() > 0.1  # not vacuous
            for threads in (1, 2):
                got = rc.range_raptor_compiled(compiled, transfers, egress, access, deps, n_dest,
                                               limit, max_rides, reuse=reuse, threads=threads)
                np.testing.assert_array_equal(masked(got), want)


def test_engine_compiled_and_numpy_agree() -> None:
    rng = np.random.default_rng(11)
    x0, y0 = 430_000.0, 380_000.0
    xy = rng.uniform(0, 3_000, (40, 2))
    stops = gpd.GeoDataFrame(
        {"stop_id": [f"s{i}" for i in range(40)]},
        geometry=[Point(x0 + x, y0 + y) for x, y in xy], crs="EPSG:27700",
    ).to_crs("EPSG:4326")
    rows = []
    routes = [rng.choice(40, 6, replace=False) for _ in range(20)]
    for t in range(60):
        route = routes[t % 20]
        clock = int(rng.integers(25_000, 30_000))
        for seq, s in enumerate(route):
            hms = f"{clock // 3600:02d}:{clock % 3600 // 60:02d}:{clock % 60:02d}"
            rows.append((f"t{t}", hms, hms, f"s{s}", seq))
            clock += int(rng.integers(60, 300))
    tables = {
        "stops.txt": pd.DataFrame({"stop_id": stops["stop_id"], "stop_lat": stops.geometry.y,
                                   "stop_lon": stops.geometry.x}),
        "routes.txt": pd.DataFrame({"route_id": ["r"], "route_type": [3]}),
        "trips.txt": pd.DataFrame({"route_id": "r", "service_id": "S",
                                   "trip_id": [f"t{t}" for t in range(60)]}),
        "stop_times.txt": pd.DataFrame(rows, columns=["trip_id", "arrival_time", "departure_time",
                                                      "stop_id", "stop_sequence"]),
        "calendar_dates.txt": pd.DataFrame({"service_id": ["S"], "date": ["20250304"],
                                            "exception_type": [1]}),
    }
    feed = TransitFeed.from_frames(tables, service_date=date(2025, 3, 4))

    def points(n: int, prefix: str) -> gpd.GeoDataFrame:
        p = rng.uniform(0, 3_000, (n, 2))
        return gpd.GeoDataFrame({"id": [f"{prefix}{i}" for i in range(n)]},
                                geometry=[Point(x0 + x, y0 + y) for x, y in p], crs="EPSG:27700")

    o, d = points(25, "o"), points(6, "d")
    deps = departure_times(("07:00", "08:00"), 1)
    kw = {"origin_id_column": "id", "destination_id_column": "id", "max_travel_time_s": 3600.0}
    fast = TransitEngine(feed, None, max_walk_m=800, compiled=True)
    slow = TransitEngine(feed, None, max_walk_m=800, compiled=False)
    got = fast.earliest_arrivals(o, d, deps, **kw)
    assert np.isfinite(got).mean() > 0.2
    np.testing.assert_array_equal(got, slow.earliest_arrivals(o, d, deps, **kw))
    np.testing.assert_array_equal(got, slow.earliest_arrivals(o, d, deps, method="per_departure",
                                                              **kw))
