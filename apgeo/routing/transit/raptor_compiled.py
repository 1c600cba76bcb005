"""Range-RAPTOR compiled with numba: one origin at a time, stop by stop, both cores.

The same search as :func:`apgeo.routing.transit.range_raptor.range_raptor` (departures
latest first, labels kept per round, only improved vehicle arrivals walked on), written as
the textbook scalar loops instead of whole-array steps: per origin, a round visits only the
patterns through its marked stops and walks on from the few arrivals it improved.

With the labels kept, most marked stops catch the trip they caught for the later
departure; that trip's arrivals are already kept, so it cannot improve anything. Each
boarding position remembers, per round, the earliest trip boarded there (and when the trip
before it leaves): a pattern is scanned only from a position where the label now catches
an earlier trip. With the labels cleared before every departure (``reuse=False``, one RAPTOR
per departure) that check rarely pays, and boarding is the plain binary search during the
scan. Every arrival is the same sum of
the same two numbers as in the numpy search, so the arrays are identical (tests compare
them exactly); only the time differs.

Numba compiles the loops on first use (``cache=True``: later processes load them from
numba's cache). The loops release the GIL, so origins are split over threads, one per
core. Without numba (:data:`AVAILABLE` is ``False``) callers use the numpy search.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from apgeo.routing.transit.range_raptor import LegIndex
    from apgeo.routing.transit.raptor import _Pattern

numba: Any
try:
    import numba
except ImportError:  # pragma: no cover - numba is a declared dependency
    numba = None

#: Whether the compiled search can run (numba imported).
AVAILABLE = numba is not None

#: Most threads one search uses (origins are split between them).
MAX_THREADS = 2


@dataclass(frozen=True, eq=False)
class CompiledPatterns:
    """Patterns as flat arrays for the compiled loops.

    Pattern ``p`` calls at ``stops[stop_ptr[p]:stop_ptr[p + 1]]`` (``m`` stops); its
    departure at position ``i`` of trip ``t`` is ``dep[time_ptr[p] + i * n_trips[p] + t]``
    (one row per position: a binary search reads one row), its arrival
    ``arr[time_ptr[p] + t * m + i]`` (one row per trip: riding on reads one row). Stop
    ``s`` is the boarding position (incidence) ``e`` of pattern ``inc_pat[e]`` at position
    ``inc_pos[e]`` for ``e`` in ``inc_ptr[s]:inc_ptr[s + 1]`` (last positions left out:
    nothing to board there).
    """

    stop_ptr: np.ndarray
    stops: np.ndarray
    n_trips: np.ndarray
    time_ptr: np.ndarray
    dep: np.ndarray
    arr: np.ndarray
    last_arr_max: np.ndarray
    first_dep_min: np.ndarray
    inc_ptr: np.ndarray
    inc_pat: np.ndarray
    inc_pos: np.ndarray
    inc_none: np.ndarray  # (n_inc,) int32: trips of the incidence's pattern ("none yet")
    inc_last_dep: np.ndarray  # (n_inc,) the incidence's last departure (-inf: no trip)
    pos_inc: np.ndarray  # (len(stops),) incidence of each pattern position (-1: last stop)

    @classmethod
    def build(cls, patterns: Sequence[_Pattern], n_stops: int) -> CompiledPatterns:
        """The patterns as flat arrays.

        Parameters
        ----------
        patterns
            The feed's patterns.
        n_stops
            Number of stops.

        Returns
        -------
        CompiledPatterns
            The arrays.
        """
        m = np.array([len(p.stops) for p in patterns], dtype=np.int64)
        n_tr = np.array([p.dep.shape[1] for p in patterns], dtype=np.int64)
        stop_ptr = np.r_[0, np.cumsum(m)].astype(np.int64)
        time_ptr = np.r_[0, np.cumsum(m * n_tr)].astype(np.int64)
        empty_f = np.zeros(0)
        empty_i = np.zeros(0, dtype=np.int64)
        stops = np.concatenate([p.stops for p in patterns]).astype(np.int64) if patterns else empty_i
        dep = np.concatenate([p.dep.reshape(-1) for p in patterns]) if patterns else empty_f
        arr = (
            np.concatenate([p.arr[:, :-1].T.reshape(-1) for p in patterns]) if patterns else empty_f
        )
        pat = np.repeat(np.arange(len(patterns), dtype=np.int64), m)
        pos = np.arange(len(stops), dtype=np.int64) - stop_ptr[pat]
        board = pos < (m[pat] - 1)
        order = np.lexsort((pos[board], pat[board], stops[board]))
        inc_stop = stops[board][order]
        inc_pat = pat[board][order]
        inc_pos = pos[board][order]
        # every pattern has a trip: the last departure from each boarding position
        last_dep = dep[time_ptr[inc_pat] + (inc_pos + 1) * n_tr[inc_pat] - 1]
        pos_inc = np.full(len(stops), -1, dtype=np.int64)
        pos_inc[np.flatnonzero(board)[order]] = np.arange(len(order))
        return cls(
            stop_ptr=stop_ptr,
            stops=stops,
            n_trips=n_tr,
            time_ptr=time_ptr,
            dep=np.ascontiguousarray(dep, dtype=float),
            arr=np.ascontiguousarray(arr, dtype=float),
            last_arr_max=np.array([p.last_arr.max(initial=-np.inf) for p in patterns]),
            first_dep_min=np.array([p.first_dep.min(initial=np.inf) for p in patterns]),
            inc_ptr=np.searchsorted(inc_stop, np.arange(n_stops + 1), side="left").astype(np.int64),
            inc_pat=inc_pat,
            inc_pos=inc_pos,
            inc_none=n_tr[inc_pat].astype(np.int32),
            inc_last_dep=last_dep,
            pos_inc=pos_inc,
        )


def _search_origins(
    o0: int,
    o1: int,
    access: np.ndarray,
    deps: np.ndarray,
    order: np.ndarray,
    limit_s: float,
    max_rides: int,
    reuse: bool,
    stop_ptr: np.ndarray,
    pstops: np.ndarray,
    n_trips: np.ndarray,
    time_ptr: np.ndarray,
    dep: np.ndarray,
    arr: np.ndarray,
    last_arr_max: np.ndarray,
    first_dep_min: np.ndarray,
    inc_ptr: np.ndarray,
    inc_pat: np.ndarray,
    inc_pos: np.ndarray,
    inc_none: np.ndarray,
    inc_last_dep: np.ndarray,
    pos_inc: np.ndarray,
    tr_ptr: np.ndarray,
    tr_to: np.ndarray,
    tr_s: np.ndarray,
    eg_ptr: np.ndarray,
    eg_to: np.ndarray,
    eg_s: np.ndarray,
    out: np.ndarray,
) -> None:
    """Range-RAPTOR for origins ``o0:o1`` into ``out[:, o, :]`` (``(n_dest, k, n_t)``)."""
    inf = np.inf
    n_s = access.shape[1]
    n_pat = len(n_trips)
    n_dest = out.shape[0]
    n_t = len(deps)
    big = np.iinfo(np.int64).max
    best = np.empty((max_rides + 1, n_s))
    best_ride = np.empty((max_rides + 1, n_s))
    # earliest trip boarded at each boarding position (incidence), per round
    board_trip = np.empty((max_rides + 1, len(inc_pat)), dtype=np.int32)
    before_dep = np.empty((max_rides + 1, len(inc_pat)))  # departure of the trip before it
    dest = np.empty(n_dest)
    ride = np.full(n_s, inf)
    new = np.full(n_s, inf)
    is_marked = np.zeros(n_s, dtype=np.bool_)
    marked = np.empty(n_s, dtype=np.int64)
    next_marked = np.empty(n_s, dtype=np.int64)
    ride_list = np.empty(n_s, dtype=np.int64)
    new_list = np.empty(n_s, dtype=np.int64)
    imp_stop = np.empty(n_s, dtype=np.int64)
    imp_val = np.empty(n_s)
    pat_first = np.full(n_pat, big, dtype=np.int64)
    pat_queue = np.empty(n_pat, dtype=np.int64)
    acc_stop = np.empty(n_s, dtype=np.int64)
    acc_s = np.empty(n_s)
    for o in range(o0, o1):
        best[:] = inf
        best_ride[:] = inf
        board_trip[:] = inc_none
        before_dep[:] = inc_last_dep
        dest[:] = inf
        n_acc = 0
        for s in range(n_s):
            if access[o, s] < inf:
                acc_stop[n_acc] = s
                acc_s[n_acc] = access[o, s]
                n_acc += 1
        for jj in range(n_t):
            j = order[jj]
            t_s = deps[j]
            cutoff = t_s + limit_s
            if not reuse:
                best[:] = inf
                best_ride[:] = inf
                dest[:] = inf
            # round 0: the walk from the origin. best[r] always holds the minimum over
            # rounds <= r (improvements are copied up), the numpy search's running floor
            n_marked = 0
            for a in range(n_acc):
                s = acc_stop[a]
                v = acc_s[a] + t_s
                if v < best[0, s]:
                    for r in range(max_rides + 1):
                        if v < best[r, s]:
                            best[r, s] = v
                    marked[n_marked] = s
                    n_marked += 1
            for r in range(1, max_rides + 1):
                if n_marked == 0:
                    break
                # patterns through a marked stop where its label catches an earlier trip
                # than any boarding there so far (this round or before, this departure or
                # a later one), from the first such position: a trip boarded there before
                # has its arrivals in best_ride[r] already, so it would improve nothing
                n_q = 0
                for a in range(n_marked):
                    s = marked[a]
                    is_marked[s] = True
                    lab = best[r - 1, s]
                    for e in range(inc_ptr[s], inc_ptr[s + 1]):
                        p = inc_pat[e]
                        if reuse:
                            # the trip before the one boarded here leaves before lab
                            if lab > before_dep[r, e]:
                                continue
                            t_old = board_trip[r, e]
                            row = time_ptr[p] + inc_pos[e] * n_trips[p]
                            # the first trip departing at or after lab (t_old - 1 does)
                            lo = 0
                            hi = t_old - 1
                            if hi > 0 and dep[row + hi - 1] >= lab:
                                while lo < hi:
                                    mid = (lo + hi) >> 1
                                    if dep[row + mid] < lab:
                                        lo = mid + 1
                                    else:
                                        hi = mid
                            earlier = dep[row + hi - 1] if hi > 0 else -inf
                            for rr in range(r, max_rides + 1):
                                if hi < board_trip[rr, e]:
                                    board_trip[rr, e] = hi
                                    before_dep[rr, e] = earlier
                        i = inc_pos[e]
                        if pat_first[p] == big:
                            pat_queue[n_q] = p
                            n_q += 1
                            pat_first[p] = i
                        elif i < pat_first[p]:
                            pat_first[p] = i
                n_ride = 0
                for a in range(n_q):
                    p = pat_queue[a]
                    i0 = pat_first[p]
                    pat_first[p] = big
                    # no trip running after the departure, or all leave after the cutoff
                    if last_arr_max[p] < t_s or first_dep_min[p] > cutoff:
                        continue
                    n_tp = n_trips[p]
                    base = time_ptr[p]
                    first = stop_ptr[p]
                    m = stop_ptr[p + 1] - first
                    trip = n_tp  # none boarded yet
                    for i in range(i0, m):
                        s = pstops[first + i]
                        if trip < n_tp:
                            v = arr[base + trip * m + i]
                            if v < ride[s]:
                                if ride[s] == inf:
                                    ride_list[n_ride] = s
                                    n_ride += 1
                                ride[s] = v
                        if i < m - 1 and is_marked[s]:
                            if reuse:  # the first trip catchable here, found above
                                tb = board_trip[r, pos_inc[first + i]]
                                if tb < trip:
                                    trip = tb
                            else:  # the first trip at or after the label, if earlier
                                lab = best[r - 1, s]
                                row = base + i * n_tp
                                lo = 0
                                hi = trip
                                while lo < hi:
                                    mid = (lo + hi) >> 1
                                    if dep[row + mid] < lab:
                                        lo = mid + 1
                                    else:
                                        hi = mid
                                trip = lo
                for a in range(n_marked):
                    is_marked[marked[a]] = False
                # vehicle arrivals better than any kept for this round walk on
                n_imp = 0
                for a in range(n_ride):
                    s = ride_list[a]
                    v = ride[s]
                    ride[s] = inf
                    if v < best_ride[r, s] and v <= cutoff:
                        for rr in range(r, max_rides + 1):
                            if v < best_ride[rr, s]:
                                best_ride[rr, s] = v
                        imp_stop[n_imp] = s
                        imp_val[n_imp] = v
                        n_imp += 1
                n_new = 0
                for a in range(n_imp):
                    s = imp_stop[a]
                    v = imp_val[a]
                    for e in range(eg_ptr[s], eg_ptr[s + 1]):
                        w = v + eg_s[e]
                        d = eg_to[e]
                        if w < dest[d]:
                            dest[d] = w
                    for e in range(tr_ptr[s], tr_ptr[s + 1]):
                        w = v + tr_s[e]
                        u = tr_to[e]
                        if w <= cutoff and w < new[u]:
                            if new[u] == inf:
                                new_list[n_new] = u
                                n_new += 1
                            new[u] = w
                for a in range(n_imp):
                    s = imp_stop[a]
                    v = imp_val[a]
                    if v < new[s]:
                        if new[s] == inf:
                            new_list[n_new] = s
                            n_new += 1
                        new[s] = v
                n_marked = 0
                for a in range(n_new):
                    s = new_list[a]
                    v = new[s]
                    new[s] = inf
                    if v < best[r, s]:
                        for rr in range(r, max_rides + 1):
                            if v < best[rr, s]:
                                best[rr, s] = v
                        next_marked[n_marked] = s
                        n_marked += 1
                marked, next_marked = next_marked, marked
            for d in range(n_dest):
                out[d, o, j] = dest[d]


if numba is not None:
    _search_origins_jit: Any = numba.njit(cache=True, nogil=True)(_search_origins)
else:  # pragma: no cover
    _search_origins_jit = None


def range_raptor_compiled(
    patterns: CompiledPatterns,
    transfers: LegIndex,
    egress: LegIndex,
    access: np.ndarray,
    deps: np.ndarray,
    n_dest: int,
    limit_s: float,
    max_rides: int,
    *,
    reuse: bool = True,
    threads: int | None = None,
) -> np.ndarray:
    """:func:`apgeo.routing.transit.range_raptor.range_raptor`, compiled: same arguments
    (``patterns`` from :meth:`CompiledPatterns.build`) and the same ``(n_dest, k,
    len(deps))`` result. ``threads``: at most this many (default: one per core, at most
    :data:`MAX_THREADS`).

    Parameters
    ----------
    patterns
        From :meth:`CompiledPatterns.build`.
    transfers, egress, access, deps, n_dest, limit_s, max_rides, reuse
        As for :func:`~apgeo.routing.transit.range_raptor.range_raptor`.
    threads
        Most threads used (``None``: one per core, at most :data:`MAX_THREADS`).

    Returns
    -------
    numpy.ndarray
        ``(n_dest, k, len(deps))`` arrival times, seconds (``inf``: none).
    """
    if _search_origins_jit is None:  # pragma: no cover
        raise RuntimeError("numba is not installed: use range_raptor")
    k = access.shape[0]
    n_t = len(deps)
    out = np.full((n_dest, k, n_t), np.inf)
    if k == 0 or n_t == 0:
        return out
    deps = np.ascontiguousarray(deps, dtype=float)
    access = np.ascontiguousarray(access, dtype=float)
    order = np.argsort(-deps, kind="stable").astype(np.int64)
    args: tuple[Any, ...] = (
        access, deps, order, float(limit_s), int(max_rides), bool(reuse),
        patterns.stop_ptr, patterns.stops, patterns.n_trips, patterns.time_ptr,
        patterns.dep, patterns.arr, patterns.last_arr_max, patterns.first_dep_min,
        patterns.inc_ptr, patterns.inc_pat, patterns.inc_pos, patterns.inc_none,
        patterns.inc_last_dep, patterns.pos_inc,
        transfers.indptr, transfers.to_row, transfers.seconds,
        egress.indptr, egress.to_row, egress.seconds, out,
    )  # fmt: skip
    n_threads = min(threads or MAX_THREADS, os.cpu_count() or 1, k)
    if n_threads <= 1:
        _search_origins_jit(0, k, *args)
        return out
    # several small blocks per thread: origins differ in work (central ones reach more)
    bounds = np.linspace(0, k, min(k, 8 * n_threads) + 1).astype(int)
    with ThreadPoolExecutor(max_workers=n_threads) as pool:
        jobs = [
            pool.submit(_search_origins_jit, int(a), int(b), *args)
            for a, b in itertools.pairwise(bounds.tolist())
            if b > a
        ]
        for job in jobs:
            job.result()
    return out


__all__ = ["AVAILABLE", "MAX_THREADS", "CompiledPatterns", "range_raptor_compiled"]
