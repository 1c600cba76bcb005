"""Means and medians published beside suppressed counts, treated as what they are: more cells.

A burden row publishes its band counts, its total, and the mean and median travel time of
its placements. Once a count is suppressed, the statistics of the same row still tell an
attacker a lot about it: the median names the band of the middle placement, and the mean
times the number of placements is the row's total travel time, which the band edges
bound from below and above. With zeros shown (a blank is at least 1), a five-placement row
can be pinned exactly. This module decides which statistics may be published and checks
the result with an integer programme.

The rules (the same for every burden table, the report and :func:`burden_table`):

* **Small groups.** A mean or median over fewer than :data:`STATISTICS_MIN_PLACEMENTS`
  (10) placements with a travel time is not published. Ten is the minimum group size
  of the output-checking "rules of thumb" for counts and for statistics such as means and
  medians (ONS Secure Research Service output checking guidance; the SACRO guide to
  statistical output checking, 2023; the Australian Bureau of Statistics DataLab "rule of
  10", which applies it to counts, percentages, means and ratios alike).
* **Rows with a suppressed count.** A row with any suppressed count (band, no-time or
  total) publishes no mean or median. Statistics of a row are then functions of shown
  counts only where they touch a hidden one.
* **Differencing.** The mean of the ``all`` row is the placement-weighted mean of the
  rows. The rows of a table whose statistics are not published must together hold at
  least two groups and :data:`STATISTICS_MIN_PLACEMENTS` placements, else the
  statistics of the smallest published row are withheld too (secondary suppression of
  statistics, the rule of :mod:`apgeo.privacy.suppression` applied to magnitudes).
* **Check.** Every published number of every burden table (counts, totals, band
  totals shared across tables, means, medians) is then a constraint in one integer
  programme (HiGHS via :func:`scipy.optimize.milp`), and each suppressed count must keep
  a feasibility interval at least :data:`MIN_INTERVAL_WIDTH` wide: at least two whole
  values. That is the protection-interval idea of tau-ARGUS and of Hundepool et al.
  (2012, *Statistical Disclosure Control*, Wiley): a suppression pattern protects a cell
  when the range an attacker can compute for it is wide enough; for counts under a
  threshold rule the interval asked for here is the smallest one, "not exactly
  recoverable", which is what secondary suppression is for in every output-checking
  guide (a suppressed value must not be derivable from the other published values).
  A narrower range such as ``[1, 2]`` is accepted: the threshold rule already
  tells every reader that a suppressed primary cell is between 1 and 4. Where the check
  fails, the statistics of the table's rows are withheld (never the counts).
* **Zeros** are published as ``0`` and are information: the check (and any attacker)
  knows a blank is at least 1. Zeros describe no child, so they are shown, as in most
  published administrative tables; Hundepool et al. (2012) discuss when zeros disclose
  (a whole group in one category), and the price here, narrower ranges for hidden
  cells, is part of the check.

:data:`CHECK_STATISTICS` switches the statistics rules off (``False``) to show what they
protect against; it exists for tests and must stay ``True`` in published work.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd
import scipy.optimize
import scipy.sparse

from apgeo._errors import ApgeoValueError
from apgeo.inputs.placements import ALL

#: Switch for the statistics rules; ``False`` publishes means and medians of every row with
#: at least ``threshold`` placements whose totals are shown (the behaviour before the rules).
CHECK_STATISTICS: bool = True
#: No mean or median is published over fewer placements (with a travel time) than this.
STATISTICS_MIN_PLACEMENTS: Final = 10
#: A suppressed count must keep a feasibility interval at least this wide (in placements).
MIN_INTERVAL_WIDTH: Final = 1

#: One line a planner can repeat about what is suppressed in the placement tables.
SUPPRESSION_NOTE: Final = (
    "Counts of 1-4 are blank, and so is any other count that would let a blank be worked out "
    "(zeros are shown); means and medians are shown only for groups of at least "
    f"{STATISTICS_MIN_PLACEMENTS} placements with every count shown, because with a blank "
    "they could give the blank away."
)


@dataclass(frozen=True)
class BurdenCounts:
    """One burden table with totals as the protection sees it.

    ``counts``: groups then ``"all"`` x time bands, ``placements_no_time``, ``"all"``;
    ``hidden``: the suppressed mask of the same shape; ``mean_s`` / ``median_s``: travel
    time statistics in seconds by row label (``str``), before any statistics rule.
    """

    counts: pd.DataFrame
    hidden: pd.DataFrame
    mean_s: pd.Series
    median_s: pd.Series


def _known_placements(table: BurdenCounts) -> np.ndarray:
    """Placements with a travel time per row (all time bands; excludes the no-time column)."""
    return table.counts.iloc[:, :-2].to_numpy(dtype=float).sum(axis=1)


def statistics_rows(table: BurdenCounts, *, min_placements: int = STATISTICS_MIN_PLACEMENTS) -> np.ndarray:
    """Rows (in ``table.counts`` order, ``"all"`` last) whose mean and median may be published.

    The small-group rule, the hidden-count rule and the differencing rule of this module.

    Parameters
    ----------
    table
        One burden table's counts.
    min_placements
        Fewest placements with a time for a row's statistics to be shown.

    Returns
    -------
    numpy.ndarray
        Boolean, one entry per row.
    """
    k = _known_placements(table)
    row_hidden = table.hidden.to_numpy(dtype=bool).any(axis=1)
    shown = (~row_hidden) & (k >= min_placements)
    groups = np.arange(len(k) - 1)
    if shown[-1]:
        while True:
            withheld = groups[(~shown[:-1]) & (k[:-1] > 0)]
            if len(withheld) == 0 or (len(withheld) >= 2 and k[withheld].sum() >= min_placements):
                break
            candidates = groups[shown[:-1]]
            if len(candidates) == 0:
                break  # every group withheld: their sum is the "all" row itself
            labels = np.array([str(v) for v in table.counts.index[candidates]])
            pick = candidates[np.lexsort((labels, k[candidates]))[0]]
            shown[pick] = False
    return shown


@dataclass
class _Model:
    """Sparse rows ``lo <= a @ x <= hi`` over hidden counts then time masses."""

    n_counts: int
    n_mass: int = 0

    def __post_init__(self) -> None:
        self.rows: list[dict[int, float]] = []
        self.lo: list[float] = []
        self.hi: list[float] = []

    def add(self, coefs: dict[int, float], const: float, lo: float, hi: float) -> None:
        """``lo <= coefs @ x + const <= hi``; dropped when it involves no variable."""
        coefs = {i: a for i, a in coefs.items() if a != 0}
        if coefs:
            self.rows.append(coefs)
            self.lo.append(lo - const)
            self.hi.append(hi - const)


def feasibility_intervals(
    tables: Mapping[str, BurdenCounts],
    statistics_shown: Mapping[str, np.ndarray],
    *,
    thresholds_min: Sequence[float],
    time_range_s: tuple[float, float],
    min_width: float = MIN_INTERVAL_WIDTH,
) -> pd.DataFrame:
    """The range each suppressed count can take given every published number.

    The burden tables share their ``"all"`` row (band totals and grand total: one set of
    placements). Constraints: row and column sums; a hidden count is a whole number >= 1
    (zeros are shown); per row the total travel time ``S`` lies between the band lower
    edges and upper edges times the band counts (the outer edges are the shortest and
    longest travel time of any placement, knowledge no attacker has better); the rows'
    ``S`` add up to the ``"all"`` row's; a published mean fixes ``S = mean x placements
    with a time``; a published median in band ``b`` means at most half the placements
    are below band ``b`` and at least half up to it.

    Ranges are found with HiGHS (integer programmes): a few solutions with random
    objectives, then batched pushes that prove, for the counts still narrower than
    ``min_width``, whether any solution moves them (see :func:`_solve_ranges`). So
    ``low`` / ``high`` are values seen in feasible solutions (the range is at least that
    wide), exact for pinned counts.

    Parameters
    ----------
    tables
        The burden tables by name.
    statistics_shown
        Table name -> boolean array of the rows whose mean and median are published.
    thresholds_min
        The band edges in minutes.
    time_range_s
        Shortest and longest travel time of any placement, in seconds.
    min_width
        A count whose range is narrower than this counts as pinned.

    Returns
    -------
    pandas.DataFrame
        One row per suppressed entry: ``table``, ``row``, ``column``, ``value``, ``low``,
        ``high``, ``exact``, ``pinned`` (``high - low < min_width``). Entries of the shared
        ``"all"`` row are reported once, with ``table == "*"``.
    """
    edges = [float(t) * 60.0 for t in thresholds_min]
    t_lo, t_hi = (float(v) for v in time_range_s)
    n_time = len(edges) + 1
    low_edge = np.array([t_lo, *edges])
    high_edge = np.array([*edges, max(t_hi, edges[-1])])
    keys: dict[tuple[str, object, object], int] = {}
    values: dict[tuple[str, object, object], float] = {}

    def key(name: str, row: object, col: object) -> tuple[str, object, object]:
        return ("*", ALL, col) if row == ALL else (name, row, col)

    grand = 0.0
    for name, t in tables.items():
        arr = t.counts.to_numpy(dtype=float)
        grand = float(arr[-1, -1])
        hid = t.hidden.to_numpy(dtype=bool)
        for i, r in enumerate(t.counts.index):
            for j, c in enumerate(t.counts.columns):
                k = key(name, r, c)
                values[k] = float(arr[i, j])
                if hid[i, j] and k not in keys:
                    keys[k] = len(keys)
    if not keys:
        return pd.DataFrame(columns=["table", "row", "column", "value", "low", "high", "exact", "pinned"])
    n = len(keys)

    def linear(terms: Sequence[tuple[tuple[str, object, object], float]]) -> tuple[dict[int, float], float]:
        coefs: dict[int, float] = {}
        const = 0.0
        for k, a in terms:
            if k in keys:
                coefs[keys[k]] = coefs.get(keys[k], 0.0) + a
            else:
                const += a * values[k]
        return coefs, const

    mass: dict[tuple[str, object], int] = {}

    def mass_var(name: str, row: object) -> int:
        k = ("*", ALL) if row == ALL else (name, row)
        if k not in mass:
            mass[k] = n + len(mass)
        return mass[k]

    model = _Model(n)
    for name, t in tables.items():
        cols = list(t.counts.columns)
        rows = list(t.counts.index)
        for r in rows:
            model.add(*linear([*((key(name, r, c), 1.0) for c in cols[:-1]), (key(name, r, ALL), -1.0)]), 0.0, 0.0)
        for c in cols:
            model.add(*linear([*((key(name, r, c), 1.0) for r in rows[:-1]), (key(name, ALL, c), -1.0)]), 0.0, 0.0)
        shown = np.asarray(statistics_shown[name], dtype=bool)
        for i, r in enumerate(rows):
            s = mass_var(name, r)
            bands = [key(name, r, c) for c in cols[:n_time]]
            lo_c, lo_k = linear([(b, float(e)) for b, e in zip(bands, low_edge)])
            hi_c, hi_k = linear([(b, float(e)) for b, e in zip(bands, high_edge)])
            model.add({**{j: -a for j, a in lo_c.items()}, s: 1.0}, -lo_k, 0.0, np.inf)  # S >= sum lo n
            model.add({**{j: -a for j, a in hi_c.items()}, s: 1.0}, -hi_k, -np.inf, 0.0)  # S <= sum hi n
            if not shown[i]:
                continue
            mean = float(t.mean_s.get(str(r), np.nan))
            median = float(t.median_s.get(str(r), np.nan))
            k_c, k_k = linear([(b, 1.0) for b in bands])
            if np.isfinite(mean):
                model.add({**{j: -mean * a for j, a in k_c.items()}, s: 1.0}, -mean * k_k, 0.0, 0.0)
            if np.isfinite(median):
                band = int(np.searchsorted(np.asarray(thresholds_min, dtype=float), median / 60.0, side="left"))
                below_c, below_k = linear([(b, 2.0) for b in bands[:band]])
                upto_c, upto_k = linear([(b, 2.0) for b in bands[: band + 1]])
                diff = {j: below_c.get(j, 0.0) - k_c.get(j, 0.0) for j in set(below_c) | set(k_c)}
                model.add(diff, below_k - k_k, -np.inf, 0.0)  # 2 * below <= K
                diff = {j: upto_c.get(j, 0.0) - k_c.get(j, 0.0) for j in set(upto_c) | set(k_c)}
                model.add(diff, upto_k - k_k, 0.0, np.inf)  # 2 * up to band >= K
        # the rows' total travel times add up to the "all" row's
        model.add({**{mass_var(name, r): 1.0 for r in rows[:-1]}, mass_var(name, ALL): -1.0}, 0.0, 0.0, 0.0)
    model.n_mass = len(mass)
    return _solve_ranges(model, keys, values, grand, min_width)


def _solve_ranges(
    model: _Model,
    keys: Mapping[tuple[str, object, object], int],
    values: Mapping[tuple[str, object, object], float],
    grand: float,
    min_width: float,
) -> pd.DataFrame:
    """Ranges of the hidden counts: random opposite objectives, then batched pushes.

    A push asks for the most counts of a set ``U`` to move above (or below) their true
    value ``v`` at once: maximise ``sum(d)`` over binary ``d`` with
    ``x_j >= v_j + 1 - M (1 - d_j)`` (or ``x_j <= v_j - 1 + M (1 - d_j)``), ``M`` more than
    any count. An optimum of 0 proves that no count of ``U`` can move that way; each
    positive optimum moves at least one count. A count that can move neither way is
    pinned (its range is its value: ``low == high``, exact).
    """
    n, m = model.n_counts, model.n_counts + model.n_mass
    data, ri, ci = [], [], []
    for i, coefs in enumerate(model.rows):
        for j, a in coefs.items():
            ri.append(i)
            ci.append(j)
            data.append(a)
    a = scipy.sparse.csr_array((data, (ri, ci)), shape=(len(model.rows), m))
    lo_b, hi_b = np.array(model.lo), np.array(model.hi)
    x_lo = np.r_[np.ones(n), np.zeros(m - n)]
    x_hi = np.r_[np.full(n, max(grand, 1.0)), np.full(m - n, np.inf)]
    truth = np.array([values[k] for k in keys])
    low, high = truth.copy(), truth.copy()
    exact = np.zeros(n, dtype=bool)
    big = max(grand, 1.0) + 2.0

    def solve(c: np.ndarray, push: np.ndarray | None = None, sign: float = 1.0) -> float | None:
        k = 0 if push is None else len(push)
        mat, rlo, rhi = a, lo_b, hi_b
        if k:
            assert push is not None
            # sign * x_j - M d_j >= sign * v_j + 1 - M
            extra = scipy.sparse.hstack(
                [
                    scipy.sparse.csr_array((np.full(k, sign), (np.arange(k), push)), shape=(k, m)),
                    -big * scipy.sparse.identity(k, format="csr"),
                ]
            )
            mat = scipy.sparse.vstack([scipy.sparse.hstack([a, scipy.sparse.csr_array((a.shape[0], k))]), extra]).tocsr()
            rlo = np.r_[lo_b, sign * truth[push] + 1.0 - big]
            rhi = np.r_[hi_b, np.full(k, np.inf)]
        res = scipy.optimize.milp(
            np.r_[c, np.zeros(m - n), -np.ones(k)],
            constraints=scipy.optimize.LinearConstraint(mat, rlo, rhi),
            integrality=np.r_[np.ones(n), np.zeros(m - n), np.ones(k)],
            bounds=scipy.optimize.Bounds(np.r_[x_lo, np.zeros(k)], np.r_[x_hi, np.ones(k)]),
        )
        if res.status != 0 or res.x is None:  # pragma: no cover - the true values are always a solution
            raise ApgeoValueError(f"statistics check: published numbers are inconsistent ({res.message})")
        x = np.round(res.x[:n])
        np.minimum(low, x, out=low)
        np.maximum(high, x, out=high)
        return float(-res.fun) if k else None

    rng = np.random.default_rng(0)
    for _ in range(2):  # opposite objectives: most counts reach two ends of their range
        c = rng.normal(size=n)
        solve(c)
        solve(-c)
    for sign in (1.0, -1.0):
        while True:
            todo = np.flatnonzero(high - low < min_width)
            if len(todo) == 0:
                break
            moved = solve(np.zeros(n), todo, sign)
            if moved is None or moved < 0.5:
                break
    pinned = (high - low) < min_width
    exact[pinned] = True  # proven: no solution moves them either way
    names = list(keys)
    return pd.DataFrame(
        {
            "table": [k[0] for k in names],
            "row": [k[1] for k in names],
            "column": [k[2] for k in names],
            "value": truth,
            "low": low,
            "high": high,
            "exact": exact,
            "pinned": pinned,
        }
    )


def protect_statistics(
    tables: Mapping[str, BurdenCounts],
    *,
    thresholds_min: Sequence[float],
    time_range_s: tuple[float, float],
    threshold: int,
    check: bool | None = None,
    min_placements: int = STATISTICS_MIN_PLACEMENTS,
) -> dict[str, np.ndarray]:
    """Which rows of each burden table may publish their mean and median travel time.

    The rules of this module, then :func:`feasibility_intervals` over all tables at once;
    a table in which a suppressed count is still pinned keeps only its ``"all"`` row's
    statistics (with every group withheld, the ``"all"`` statistics bound only shown
    totals). ``check=False`` (default :data:`CHECK_STATISTICS`) restores the rule before:
    statistics wherever at least ``threshold`` placements with a time are shown.

    Parameters
    ----------
    tables
        The burden tables by name.
    thresholds_min
        The band edges in minutes.
    time_range_s
        Shortest and longest travel time of any placement, in seconds.
    threshold
        Smallest count that may be shown.
    check
        Run the feasibility check (``None``: :data:`CHECK_STATISTICS`).
    min_placements
        Fewest placements with a time for a row's statistics to be shown.

    Returns
    -------
    dict
        Table name -> boolean array over ``counts`` rows (``"all"`` last).
    """
    check = CHECK_STATISTICS if check is None else check
    if not check:
        out = {}
        for name, t in tables.items():
            shown_counts = t.counts.where(~t.hidden)
            known = shown_counts[ALL] - shown_counts.iloc[:, -2]  # NaN when either is hidden
            out[name] = (known >= threshold).to_numpy()
        return out
    shown = {name: statistics_rows(t, min_placements=min_placements) for name, t in tables.items()}
    for _ in range(len(tables) + 1):
        ranges = feasibility_intervals(tables, shown, thresholds_min=thresholds_min, time_range_s=time_range_s)
        bad = set(ranges.loc[ranges["pinned"], "table"])
        if not bad:
            return shown
        names = list(tables) if "*" in bad else sorted(bad)
        for name in names:
            if shown[name][:-1].any():
                shown[name][:-1] = False
            else:
                shown[name][:] = False
    return {name: np.zeros(len(t.counts), dtype=bool) for name, t in tables.items()}  # pragma: no cover


__all__ = [
    "CHECK_STATISTICS",
    "MIN_INTERVAL_WIDTH",
    "STATISTICS_MIN_PLACEMENTS",
    "SUPPRESSION_NOTE",
    "BurdenCounts",
    "feasibility_intervals",
    "protect_statistics",
    "statistics_rows",
]
