"""Range-RAPTOR: one search over a whole window of departure times, latest first.

Per-departure RAPTOR repeats almost the same search for 07:00, 07:01, 07:02, ...
Range-RAPTOR (Delling, Pajor & Werneck 2012; what R5 / r5py run) processes the departures
from the latest to the earliest and **keeps the labels**: an arrival found for a later
departure is also possible for an earlier one (wait at the origin), so each earlier
departure only has to look at what it improves. Labels are kept per round (``best[r]``:
earliest arrival with at most ``r`` vehicles), which keeps the ``max_rides`` limit exact,
and a stop is scanned in round ``r`` only for the origins whose round ``r - 1`` label it
improved. The results are those of the per-departure search (tests compare them on
synthetic feeds with many origins).

Each pattern is scanned with a few array operations for all its stops at once (boarding
by one sorted search over the pattern's departures, "stay on the earliest trip boarded so
far" as a running minimum), instead of a Python loop over stops.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from apgeo.routing.transit.raptor import _Legs, _Pattern

#: Row offset of the flattened departure table; larger than any clock time in seconds.
_ROW_SPAN_S = 1.0e7


@dataclass(frozen=True, eq=False)
class _Scan:
    """A pattern prepared for vectorised scans."""

    board: np.ndarray  # (m - 1,) stops where a trip can be boarded
    alight: np.ndarray  # (m - 1,) stops where it arrives
    dep_flat: np.ndarray  # (m - 1) * T departures, row i shifted by i * _ROW_SPAN_S
    offset: np.ndarray  # (m - 1,) i * _ROW_SPAN_S
    row_start: np.ndarray  # (m - 1,) i * T
    arr_flat: np.ndarray  # (m - 1) * (T + 1) arrivals at alight stops (T + 1: none, inf)
    arr_start: np.ndarray  # (m - 1,) i * (T + 1)
    first_dep: np.ndarray
    last_arr: np.ndarray
    unique_alight: bool


def _prepare(pattern: _Pattern) -> _Scan:
    m, n_trips = pattern.dep.shape
    rows = np.arange(m - 1)
    offset = rows * _ROW_SPAN_S
    dep_flat = (pattern.dep[:-1] + offset[:, None]).reshape(-1)
    return _Scan(
        board=pattern.stops[:-1],
        alight=pattern.stops[1:],
        dep_flat=dep_flat,
        offset=offset,
        row_start=rows * n_trips,
        arr_flat=np.ascontiguousarray(pattern.arr[1:]).reshape(-1),
        arr_start=rows * (n_trips + 1),
        first_dep=pattern.first_dep,
        last_arr=pattern.last_arr,
        unique_alight=len(np.unique(pattern.stops[1:])) == m - 1,
    )


def prepare_scans(patterns: Sequence[_Pattern]) -> list[_Scan]:
    """Patterns ready for :func:`range_raptor` (prepare once per engine)."""
    return [_prepare(p) for p in patterns]


@dataclass(frozen=True, eq=False)
class LegIndex:
    """Walking legs sorted by the stop they leave from, for :func:`_min_legs_from`."""

    from_row: np.ndarray
    to_row: np.ndarray
    seconds: np.ndarray
    indptr: np.ndarray  # (n_stops + 1,): legs from stop s are indptr[s]:indptr[s + 1]

    @classmethod
    def build(cls, legs: _Legs, n_stops: int) -> LegIndex:
        order = np.argsort(legs.from_row, kind="stable")
        frm = legs.from_row[order]
        indptr = np.searchsorted(frm, np.arange(n_stops + 1), side="left")
        return cls(frm, legs.to_row[order], legs.seconds[order], indptr)


def _min_legs_from(target: np.ndarray, source: np.ndarray, legs: LegIndex) -> None:
    """``target[to, q] = min(target[to, q], source[from, q] + seconds)`` over the legs and
    the finite entries of ``source`` (usually few: only improvements), in place."""
    stop, query = np.nonzero(np.isfinite(source))
    if len(stop) == 0 or len(legs.to_row) == 0:
        return
    starts = legs.indptr[stop]
    counts = legs.indptr[stop + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return
    leg = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
    entry = np.repeat(np.arange(len(stop)), counts)
    via = source[stop[entry], query[entry]] + legs.seconds[leg]
    flat = legs.to_row[leg] * source.shape[1] + query[entry]
    np.minimum.at(target.reshape(-1), flat, via)


def _scan_round(
    scans: Sequence[_Scan],
    prev: np.ndarray,
    marked: np.ndarray,
    ride: np.ndarray,
    t_s: float,
    cutoff_s: float,
) -> None:
    """Vehicle arrivals of one round into ``ride`` (in place), boarding at ``prev`` where
    ``marked`` (both ``(n_stops, k)``)."""
    k = prev.shape[1]
    for sc in scans:
        act = marked[sc.board]
        cols = np.flatnonzero(act.any(axis=0))
        if len(cols) == 0:
            continue
        # no trip runs after the departure and leaves before the cutoff (FIFO: both sorted)
        a = int(np.searchsorted(sc.last_arr, t_s, side="left"))
        b = int(np.searchsorted(sc.first_dep, cutoff_s, side="right"))
        if a >= b:
            continue
        full = len(cols) == k
        lab = prev[sc.board] if full else prev[sc.board][:, cols]
        lab[~(act if full else act[:, cols])] = _ROW_SPAN_S / 2
        np.minimum(lab, _ROW_SPAN_S / 2, out=lab)
        lab += sc.offset[:, None]
        cand = np.searchsorted(sc.dep_flat, lab, side="left")
        cand -= sc.row_start[:, None]
        np.minimum.accumulate(cand, axis=0, out=cand)
        cand += sc.arr_start[:, None]
        vals = sc.arr_flat[cand]
        if sc.unique_alight:
            if full:
                np.minimum(ride[sc.alight], vals, out=vals)
                ride[sc.alight] = vals
            else:
                idx = np.ix_(sc.alight, cols)
                ride[idx] = np.minimum(ride[idx], vals)
        else:
            np.minimum.at(ride, (sc.alight[:, None], cols[None, :]), vals)


def range_raptor(
    scans: Sequence[_Scan],
    transfers: LegIndex,
    egress: LegIndex,
    access: np.ndarray,
    deps: np.ndarray,
    n_dest: int,
    limit_s: float,
    max_rides: int,
    *,
    reuse: bool = True,
) -> np.ndarray:
    """Earliest arrivals by public transport for ``k`` origins over ``len(deps)`` departures.

    Parameters
    ----------
    scans
        From :func:`prepare_scans`.
    transfers, egress
        Walking legs between stops, and from stops to the destinations
        (:meth:`LegIndex.build`).
    access
        ``(k, n_stops)`` walking seconds from each origin to each stop (``inf``: too far).
    deps
        Departure times, seconds after midnight (any order; repeats allowed).
    limit_s
        Longest journey searched for, seconds.
    reuse
        ``False`` clears the labels before every departure (plain RAPTOR per departure, with
        the same vectorised scans: for measuring what the label reuse gains).

    Returns
    -------
    numpy.ndarray
        ``(n_dest, k, len(deps))`` arrival times (``inf``: none). An arrival later than the
        departure plus ``limit_s`` may be returned; callers mask them.
    """
    k, n_s = access.shape
    n_t = len(deps)
    out = np.full((n_dest, k, n_t), np.inf)
    if k == 0 or n_t == 0:
        return out
    best = np.full((max_rides + 1, n_s, k), np.inf)
    # arrivals by vehicle alone (walking transfers and egress start only from these)
    best_ride = np.full((max_rides + 1, n_s, k), np.inf)
    dest = np.full((n_dest, k), np.inf)
    access_t = np.ascontiguousarray(access.T)
    for j in np.argsort(-deps, kind="stable"):
        t_s = float(deps[j])
        cutoff = t_s + limit_s
        if not reuse:
            best.fill(np.inf)
            best_ride.fill(np.inf)
            dest.fill(np.inf)
        new = access_t + t_s
        marked = new < best[0]
        np.minimum(best[0], new, out=best[0])
        for r in range(1, max_rides + 1):
            if not marked.any():
                break
            ride = np.full((n_s, k), np.inf)
            _scan_round(scans, best[r - 1], marked, ride, t_s, cutoff)
            ride[ride > cutoff] = np.inf
            # a vehicle arrival no earlier than one kept for this round was walked on from
            # (transfers, egress) when it was found: only improvements go further
            ride_floor = np.minimum(best_ride[r], best_ride[r - 1])
            ride[ride >= ride_floor] = np.inf
            np.minimum(ride_floor, ride, out=best_ride[r])
            _min_legs_from(dest, ride, egress)
            new = ride
            if len(transfers.to_row):
                walked = np.full((n_s, k), np.inf)
                _min_legs_from(walked, ride, transfers)
                walked[walked > cutoff] = np.inf
                new = np.minimum(ride, walked)
            # a label kept from a later departure, or this departure's one-fewer-ride label
            floor = np.minimum(best[r], best[r - 1])
            marked = new < floor
            np.minimum(floor, new, out=best[r])
        out[:, :, j] = dest
    return out


__all__ = ["LegIndex", "prepare_scans", "range_raptor"]
