"""One round of range-RAPTOR's all-patterns scan against a plain loop over stops.

Random FIFO patterns (some sharing stops), random labels and marks; departures in whole
seconds (the scan compares them with the ceiling of the label) and with fractions of a
second (the scan compares ranks), labels equal to a departure or just after one included.
"""

from __future__ import annotations

import numpy as np
import pytest

from apgeo.routing.transit.range_raptor import prepare_scans
from apgeo.routing.transit.raptor import _Pattern


def _random_patterns(rng: np.random.Generator, n_stops: int, whole: bool) -> list[_Pattern]:
    out = []
    for _ in range(12):
        m = int(rng.integers(2, 7))
        stops = rng.choice(n_stops, m, replace=False).astype(np.int64)
        n_trips = int(rng.integers(1, 6))
        start = np.sort(rng.uniform(25_000, 27_000, n_trips))
        hop = np.cumsum(rng.uniform(30, 300, m))  # same running times: no overtaking
        dwell = rng.uniform(0, 40, m)
        arr = start[None, :] + hop[:, None]
        dep = arr + dwell[:, None]
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


def _loop_round(
    patterns: list[_Pattern], prev: np.ndarray, marked: np.ndarray, t_s: float, cutoff_s: float
) -> np.ndarray:
    n_s, k = prev.shape
    ride = np.full((n_s, k), np.inf)
    for pat in patterns:
        for q in range(k):
            trip = pat.dep.shape[1]  # none yet
            for i, s in enumerate(pat.stops):
                if i > 0:
                    ride[s, q] = min(ride[s, q], pat.arr[i, trip])
                if i < len(pat.stops) - 1 and marked[s, q]:
                    trip = min(trip, int(np.searchsorted(pat.dep[i], prev[s, q], side="left")))
    return ride


@pytest.mark.parametrize("whole", [True, False])
@pytest.mark.parametrize("seed", range(6))
def test_scan_round_matches_loop(whole: bool, seed: int) -> None:
    rng = np.random.default_rng(seed)
    n_stops, k = 15, 4
    patterns = _random_patterns(rng, n_stops, whole)
    scans = prepare_scans(patterns)
    assert scans.whole_seconds == whole
    prev = rng.uniform(24_800, 27_500, (n_stops, k))
    if whole:
        prev = np.round(prev, 1)
    # some labels exactly at a departure time: that trip is still caught
    deps = np.concatenate([p.dep[:-1].reshape(-1) for p in patterns])
    exact = rng.random((n_stops, k)) < 0.3
    prev[exact] = rng.choice(deps, int(exact.sum()))
    # and some just after one (the smallest step up, half a second up): that trip is missed
    after = ~exact & (rng.random((n_stops, k)) < 0.4)
    near = rng.choice(deps, int(after.sum()))
    prev[after] = np.where(rng.random(len(near)) < 0.5, np.nextafter(near, np.inf), near + 0.5)
    marked = rng.random((n_stops, k)) < 0.5
    prev[~marked & (rng.random((n_stops, k)) < 0.5)] = np.inf
    ride = np.full((n_stops, k), np.inf)
    scans.scan_round(prev, marked, ride, 0.0, np.inf)
    np.testing.assert_array_equal(ride, _loop_round(patterns, prev, marked, 0.0, np.inf))
