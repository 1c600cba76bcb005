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

A round scans every pattern at once (:class:`Scans`): the patterns are laid end to end,
one row per boarding position; the first trip catchable at each marked row is found by one
exact sorted search over all rows' departures, "stay on the earliest trip boarded so far"
is one running minimum down the rows (reset between patterns), and the arrivals are
reduced per stop by one scatter-minimum. Only vehicle arrivals that improve on the round's
kept ones (few, held as sparse entries) walk on to transfers and destinations.

:mod:`apgeo.routing.transit.raptor_compiled` runs the same search compiled with numba
(the engine's default when numba is installed); this module is its numpy reference and
fallback, and tests compare the two exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from apgeo.routing.transit.raptor import _Legs, _Pattern


@dataclass(frozen=True, eq=False)
class Scans:
    """All patterns of a feed laid end to end, for scanning every pattern of a round at once.

    Row ``r`` is one boarding position of one pattern: board at ``board[r]``, ride to the
    pattern's next stop ``alight[r]``. Departures are compared to labels by rank in
    ``dep_values`` (every distinct departure time of the feed), so that one sorted search
    over ``dep_key`` (row ``r``'s departures as ``r * key_span + rank``, sorted) finds the
    first trip of each row exactly, whatever the fractions of a second in the labels.
    """

    board: np.ndarray  # (P,) stop boarded at row r
    alight: np.ndarray  # (P,) next stop of the pattern
    seg: np.ndarray  # (P,) pattern of row r (rows of one pattern are contiguous, in order)
    seg_base: np.ndarray  # (P,) (n_patterns - seg) * trip_span: resets the running minimum
    n_trips: np.ndarray  # (P,) trips of row r's pattern (= its "no trip" index)
    dep_values: np.ndarray  # sorted distinct departure times, seconds
    whole_seconds: bool  # all departures whole seconds >= 0: a departure's rank is its time
    key_span: int  # larger than any rank
    trip_span: int  # larger than any trip index + 1
    dep_key: np.ndarray  # sum(n_trips) sorted int64 keys
    row_start: np.ndarray  # (P,) where row r's departures start in dep_key
    arr_flat: np.ndarray  # arrivals at alight[r] per trip, plus inf ("no trip"), row by row
    arr_shift: np.ndarray  # (P,) where row r's arrivals start in arr_flat, minus seg_base
    arr_none: np.ndarray  # (P,) index of row r's "no trip" (inf) arrival in arr_flat
    last_arr_max: np.ndarray  # (n_patterns,) latest arrival at the last stop
    first_dep_min: np.ndarray  # (n_patterns,) earliest departure from the first stop

    @classmethod
    def build(cls, patterns: Sequence[_Pattern]) -> Scans:
        """All patterns laid end to end.

        Parameters
        ----------
        patterns
            The feed's patterns.

        Returns
        -------
        Scans
            The rows of every boarding position.
        """
        n_pat = len(patterns)
        m1 = np.array([len(p.stops) - 1 for p in patterns], dtype=np.int64)
        n_tr = np.array([p.dep.shape[1] for p in patterns], dtype=np.int64)
        seg = np.repeat(np.arange(n_pat), m1)
        n_trips = n_tr[seg]
        trip_span = int(n_tr.max(initial=0)) + 2
        deps = [p.dep[:-1].reshape(-1) for p in patterns]
        dep_values = np.unique(np.concatenate(deps)) if deps else np.zeros(0)
        whole = bool(
            len(dep_values) == 0
            or (dep_values[0] >= 0 and dep_values[-1] < 2**31 and (dep_values % 1 == 0).all())
        )
        key_span = int(dep_values[-1]) + 2 if whole and len(dep_values) else len(dep_values) + 1
        seg_base = (n_pat - seg) * trip_span
        arr_start = np.r_[0, np.cumsum(n_trips + 1)[:-1]].astype(np.int64)
        row_start = np.r_[0, np.cumsum(n_trips)[:-1]].astype(np.int64)
        rows = np.repeat(np.arange(len(seg), dtype=np.int64), n_trips)
        flat = np.concatenate(deps) if deps else np.zeros(0)
        ranks = flat.astype(np.int64) if whole else np.searchsorted(dep_values, flat)
        arrs = [p.arr[1:].reshape(-1) for p in patterns]
        empty_i = np.zeros(0, dtype=np.int64)
        return cls(
            board=np.concatenate([p.stops[:-1] for p in patterns]) if n_pat else empty_i,
            alight=np.concatenate([p.stops[1:] for p in patterns]) if n_pat else empty_i,
            seg=seg,
            seg_base=seg_base,
            n_trips=n_trips,
            dep_values=dep_values,
            whole_seconds=whole,
            key_span=key_span,
            trip_span=trip_span,
            dep_key=rows * key_span + ranks,
            row_start=row_start,
            arr_flat=np.concatenate(arrs) if n_pat else np.zeros(0),
            arr_shift=arr_start - seg_base,
            arr_none=arr_start + n_trips,
            last_arr_max=np.array([p.last_arr.max(initial=-np.inf) for p in patterns]),
            first_dep_min=np.array([p.first_dep.min(initial=np.inf) for p in patterns]),
        )

    def scan_round(
        self, prev: np.ndarray, marked: np.ndarray, ride: np.ndarray, t_s: float, cutoff_s: float
    ) -> None:
        """Vehicle arrivals of one round into ``ride`` (all ``inf`` on entry), boarding at
        ``prev`` where ``marked`` (both ``(n_stops, k)``), every pattern at once.

        Parameters
        ----------
        prev
            Earliest arrivals at each stop by the previous round, seconds.
        marked
            Booleans: stops improved in the previous round.
        ride
            Filled in place with arrivals by vehicle, seconds.
        t_s
            The departure time, seconds after midnight.
        cutoff_s
            No boarding after this time, seconds after midnight.
        """
        pos = np.any(marked, axis=1)[self.board]
        # patterns with no trip running after the departure and leaving before the cutoff
        # cannot improve anything (a trip boarded after t_s arrives after t_s)
        live = (self.last_arr_max >= t_s) & (self.first_dep_min <= cutoff_s)
        pos &= live[self.seg]
        if not pos.any():
            return
        # rows from the first marked row of each pattern on (riding on needs no new mark)
        last = np.maximum.accumulate(np.where(pos, self.seg, -1))
        sel = np.flatnonzero(last == self.seg)
        k = marked.shape[1]
        board = self.board[sel]
        hit = np.flatnonzero(marked[board])  # cells (row of sel, origin), flattened
        hit_row = hit // k
        rows = sel[hit_row]
        lab = prev.reshape(-1)[board[hit_row] * k + (hit - hit_row * k)]
        if self.whole_seconds:
            # departures are whole seconds: "departs at or after lab" is "at or after ceil(lab)"
            np.clip(lab, 0, self.key_span - 1, out=lab)
            rank = np.ceil(lab, out=lab).astype(np.int64)
        else:
            rank = np.searchsorted(self.dep_values, lab, side="left")
        trip = np.searchsorted(self.dep_key, rows * self.key_span + rank, side="left")
        trip += self.seg_base[rows] - self.row_start[rows]
        # stay on the earliest trip boarded so far: a running minimum down each pattern,
        # reset between patterns by the decreasing per-pattern base
        cur = np.empty((len(sel), k), dtype=np.int64)
        cur[:] = (self.seg_base[sel] + (self.trip_span - 1))[:, None]
        cur.reshape(-1)[hit] = trip
        np.minimum.accumulate(cur, axis=0, out=cur)
        # trip -> its arrival at the next stop ("no trip yet" -> the row's inf entry)
        cur += self.arr_shift[sel][:, None]
        np.minimum(cur, self.arr_none[sel][:, None], out=cur)
        vals = self.arr_flat[cur]
        # several rows alight at one stop (patterns cross): minimum per stop
        cell = (self.alight[sel] * k)[:, None] + np.arange(k)
        np.minimum.at(ride.reshape(-1), cell.reshape(-1), vals.reshape(-1))


def prepare_scans(patterns: Sequence[_Pattern]) -> Scans:
    """Patterns ready for :func:`range_raptor` (prepare once per engine).

    Parameters
    ----------
    patterns
        The feed's patterns.

    Returns
    -------
    Scans
        The scans.
    """
    return Scans.build(patterns)


@dataclass(frozen=True, eq=False)
class LegIndex:
    """Walking legs sorted by the stop they leave from, for :func:`_min_legs_from`."""

    from_row: np.ndarray
    to_row: np.ndarray
    seconds: np.ndarray
    indptr: np.ndarray  # (n_stops + 1,): legs from stop s are indptr[s]:indptr[s + 1]

    @classmethod
    def build(cls, legs: _Legs, n_stops: int) -> LegIndex:
        """The legs sorted by the stop they leave from.

        Parameters
        ----------
        legs
            Walking legs.
        n_stops
            Number of stops.

        Returns
        -------
        LegIndex
            The index.
        """
        order = np.argsort(legs.from_row, kind="stable")
        frm = legs.from_row[order]
        indptr = np.searchsorted(frm, np.arange(n_stops + 1), side="left")
        return cls(frm, legs.to_row[order], legs.seconds[order], indptr)


def _min_legs_from(
    target: np.ndarray, stop: np.ndarray, query: np.ndarray, value: np.ndarray, legs: LegIndex
) -> None:
    """``target[to, q] = min(target[to, q], value + seconds)`` over the legs leaving the
    entries ``(stop, q)`` of ``value`` (usually few: only improvements), in place."""
    if len(stop) == 0 or len(legs.to_row) == 0:
        return
    starts = legs.indptr[stop]
    counts = legs.indptr[stop + 1] - starts
    total = int(counts.sum())
    if total == 0:
        return
    leg = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
    entry = np.repeat(np.arange(len(stop)), counts)
    via = value[entry] + legs.seconds[leg]
    flat = legs.to_row[leg] * target.shape[1] + query[entry]
    np.minimum.at(target.reshape(-1), flat, via)


def range_raptor(
    scans: Scans,
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
            scans.scan_round(best[r - 1], marked, ride, t_s, cutoff)
            # a vehicle arrival no earlier than one kept for this round was walked on from
            # (transfers, egress) when it was found: only improvements go further
            ride_floor = np.minimum(best_ride[r], best_ride[r - 1], out=best_ride[r])
            stop, query = np.nonzero((ride < ride_floor) & (ride <= cutoff))
            value = ride[stop, query]
            ride_floor[stop, query] = value
            _min_legs_from(dest, stop, query, value, egress)
            new = np.full((n_s, k), np.inf)
            if len(transfers.to_row):
                _min_legs_from(new, stop, query, value, transfers)
                new[new > cutoff] = np.inf
            new[stop, query] = np.minimum(new[stop, query], value)
            # a label kept from a later departure, or this departure's one-fewer-ride label
            floor = np.minimum(best[r], best[r - 1])
            marked = new < floor
            np.minimum(floor, new, out=best[r])
        out[:, :, j] = dest
    return out


__all__ = ["LegIndex", "Scans", "prepare_scans", "range_raptor"]
