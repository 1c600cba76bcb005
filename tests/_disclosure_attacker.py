"""An attacker of the published placement tables, written independently of apgeo's checks.

It reads only what is published (the burden tables with their means, medians and shares,
the flow matrix) plus public knowledge (which provider is of which kind; the shortest and
longest travel time in the area, from public geography), and asks integer programmes
(HiGHS through ``highspy``, one persistent model) for the range of every blank count.
Zeros are shown, so a blank is at least 1. A blank whose range is a single value is
recovered.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import highspy
import numpy as np
import pandas as pd

ALL = "all"
BURDEN = ("burden_key_stage", "burden_kind", "burden_imd_decile", "burden_school_urn")


@dataclass
class Attack:
    hidden: int = 0
    recovered: list[tuple[tuple[str, str, str], float]] = field(default_factory=list)
    # smallest range seen over the blank counts: a blank's range is at least what two
    # solutions showed; exactly its (max - min) where the first solutions did not move it
    narrowest: float = np.inf
    narrowest_cell: tuple[str, str, str] | None = None


class _Lp:
    """Columns (integer counts, continuous travel-time masses) and rows ``lo <= a x <= hi``."""

    def __init__(self) -> None:
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.integer: list[bool] = []
        self.rows: list[tuple[dict[int, float], float, float]] = []

    def var(self, lo: float, hi: float, integer: bool) -> int:
        self.lower.append(lo)
        self.upper.append(hi)
        self.integer.append(integer)
        return len(self.lower) - 1

    def row(self, terms: Sequence[tuple[object, float]], lo: float, hi: float) -> None:
        """``terms`` are (variable index or published number, coefficient)."""
        coefs: dict[int, float] = {}
        const = 0.0
        for v, a in terms:
            if isinstance(v, int):
                coefs[v] = coefs.get(v, 0.0) + a
            else:
                const += float(v) * a  # type: ignore[arg-type]
        if coefs:
            self.rows.append((coefs, lo - const, hi - const))


class _Cell(float):
    """A published number (distinct from a variable index)."""


def attack(
    published: Mapping[str, pd.DataFrame],
    *,
    thresholds_min: Sequence[float],
    time_range_s: tuple[float, float],
    provider_kind: Mapping[str, str],
    use_statistics: bool = True,
) -> Attack:
    lp = _Lp()
    grand_known = [float(t.loc[t["group"] == ALL, "placements"].iloc[0]) for n, t in published.items() if n in BURDEN]
    top = max([g for g in grand_known if np.isfinite(g)] or [1e5])
    blanks: dict[tuple[str, str, str], int] = {}

    def entry(table: str, row: str, col: str, value: float) -> object:
        if np.isnan(value):
            k = (table, row, col)
            if k not in blanks:
                blanks[k] = lp.var(1.0, top, True)
            return blanks[k]
        return _Cell(value)

    edges = [float(t) * 60.0 for t in thresholds_min]
    lo_edge = [time_range_s[0], *edges]
    hi_edge = [*edges, max(time_range_s[1], edges[-1])]
    bands = [c for c in published["burden_key_stage"].columns if c.startswith("placements_") and c != "placements_no_time"]
    counts_cols = [*bands, "placements_no_time"]
    mass_all: list[int] = []
    for name in BURDEN:
        table = published[name]
        grid = {
            str(r["group"]): {c: entry(name, str(r["group"]), c, float(r[c])) for c in [*counts_cols, "placements"]}
            for _, r in table.iterrows()
        }
        for cells in grid.values():
            lp.row([*((cells[c], 1.0) for c in counts_cols), (cells["placements"], -1.0)], 0.0, 0.0)
        for c in [*counts_cols, "placements"]:
            lp.row([*((grid[g][c], 1.0) for g in grid if g != ALL), (grid[ALL][c], -1.0)], 0.0, 0.0)
        masses = {}
        for _, r in table.iterrows():
            g = str(r["group"])
            cells = grid[g]
            t = lp.var(0.0, highspy.kHighsInf, False)  # the row's total travel time (s)
            masses[g] = t
            lp.row([*((cells[b], e) for b, e in zip(bands, lo_edge)), (t, -1.0)], -np.inf, 0.0)
            lp.row([*((cells[b], e) for b, e in zip(bands, hi_edge)), (t, -1.0)], 0.0, np.inf)
            with_time = [(cells[b], 1.0) for b in bands]
            # shares: placements above a threshold among those with a time
            if not isinstance(cells["placements"], int) and not isinstance(cells["placements_no_time"], int):
                k_val = float(cells["placements"]) - float(cells["placements_no_time"])  # type: ignore[arg-type]
                for i, th in enumerate(thresholds_min):
                    share = r.get(f"share_over_{float(th):g}_min", np.nan)
                    if np.isfinite(share):
                        over = round(float(share) * k_val)
                        lp.row([(cells[b], 1.0) for b in bands[i + 1 :]], over, over)
            if not use_statistics:
                continue
            mean = float(r["mean_travel_time_s"])
            median = float(r["median_travel_time_s"])
            if np.isfinite(mean):
                lp.row([*((v, -mean * a) for v, a in with_time), (t, 1.0)], 0.0, 0.0)
            if np.isfinite(median):
                band = sum(median / 60.0 > e for e in thresholds_min)
                lp.row([*((cells[b], 2.0) for b in bands[:band]), *((v, -a) for v, a in with_time)], -np.inf, 0.0)
                lp.row([*((cells[b], 2.0) for b in bands[: band + 1]), *((v, -a) for v, a in with_time)], 0.0, np.inf)
        lp.row([*((masses[g], 1.0) for g in masses if g != ALL), (masses[ALL], -1.0)], 0.0, 0.0)
        mass_all.append(masses[ALL])
    for a, b in itertools.pairwise(mass_all):
        lp.row([(a, 1.0), (b, -1.0)], 0.0, 0.0)
    # the burden tables share their "all" rows
    first = published[BURDEN[0]]
    first_all = first[first["group"] == ALL].iloc[0]
    for name in BURDEN[1:]:
        other = published[name]
        row = other[other["group"] == ALL].iloc[0]
        for c in [*counts_cols, "placements"]:
            lp.row([(entry(BURDEN[0], ALL, c, float(first_all[c])), 1.0), (entry(name, ALL, c, float(row[c])), -1.0)], 0.0, 0.0)
    # the flow matrix: school totals are the by-school totals; provider totals sum by kind
    flow = published["flow_matrix"]
    fgrid = {str(r): {str(c): entry("flow", str(r), str(c), float(flow.loc[r, c])) for c in flow.columns} for r in flow.index}
    cols = [str(c) for c in flow.columns]
    for cells in fgrid.values():
        lp.row([*((cells[c], 1.0) for c in cols if c != ALL), (cells[ALL], -1.0)], 0.0, 0.0)
    for c in cols:
        lp.row([*((fgrid[r][c], 1.0) for r in fgrid if r != ALL), (fgrid[ALL][c], -1.0)], 0.0, 0.0)
    school = published["burden_school_urn"].set_index("group")
    for r in fgrid:
        if r in school.index:
            total = entry("burden_school_urn", r, "placements", float(school.loc[r, "placements"]))
            lp.row([(fgrid[r][ALL], 1.0), (total, -1.0)], 0.0, 0.0)
    kind = published["burden_kind"].set_index("group")
    by_kind: dict[str, list[str]] = {}
    for c in cols:
        if c != ALL:
            by_kind.setdefault(provider_kind[c], []).append(c)
    for k, members in by_kind.items():
        if k in kind.index:
            total = entry("burden_kind", k, "placements", float(kind.loc[k, "placements"]))
            lp.row([*((fgrid[ALL][c], 1.0) for c in members), (total, -1.0)], 0.0, 0.0)
    return _ranges(lp, blanks)


def _ranges(lp: _Lp, blanks: Mapping[tuple[str, str, str], int]) -> Attack:
    out = Attack(hidden=len(blanks))
    if not blanks:
        return out
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    n = len(lp.lower)
    inf = highspy.kHighsInf
    h.addVars(n, np.array(lp.lower), np.array([min(u, inf) for u in lp.upper]))
    kinds = [highspy.HighsVarType.kInteger if i else highspy.HighsVarType.kContinuous for i in lp.integer]
    h.changeColsIntegrality(n, np.arange(n, dtype=np.int32), np.array(kinds))
    for coefs, lo, hi in lp.rows:
        idx = np.array(list(coefs), dtype=np.int32)
        h.addRow(max(lo, -inf), min(hi, inf), len(idx), idx, np.array([coefs[i] for i in idx], dtype=float))
    ids = np.array(list(blanks.values()), dtype=np.int32)
    seen_lo = np.full(len(ids), np.inf)
    seen_hi = np.full(len(ids), -np.inf)

    def solve(cost: np.ndarray) -> bool:
        h.changeColsCost(len(ids), ids, cost)
        h.run()
        status = h.getModelStatus()
        if status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible):
            return False
        assert status == highspy.HighsModelStatus.kOptimal, h.modelStatusToString(status)
        x = np.round(np.asarray(h.getSolution().col_value)[ids])
        np.minimum(seen_lo, x, out=seen_lo)
        np.maximum(seen_hi, x, out=seen_hi)
        return True

    rng = np.random.default_rng(1)
    c = rng.normal(size=len(ids))
    solve(c)
    solve(-c)
    # blanks not yet seen at two values: push them all down, then all up (random positive
    # weights), a few times
    for sign in (-1.0, 1.0) * 4:
        todo = seen_hi - seen_lo < 1
        if not todo.any():
            break
        solve(np.where(todo, sign * rng.uniform(0.5, 1.5, size=len(ids)), 0.0))
    keys = list(blanks)
    for i in range(len(ids)):
        if seen_hi[i] - seen_lo[i] < 1:
            c = np.zeros(len(ids))
            c[i] = 1.0
            if seen_lo[i] > 1:  # a blank at 1 is at its lower bound already
                solve(c)
            if not solve(-c):
                continue  # unbounded above: not recoverable
        width = float(seen_hi[i] - seen_lo[i])
        if width < out.narrowest:
            out.narrowest, out.narrowest_cell = width, keys[i]
        if width < 0.5:
            out.recovered.append((keys[i], float(seen_lo[i])))
    return out
