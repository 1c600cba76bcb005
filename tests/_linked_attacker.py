"""An outsider who links every published placement table of a study, written apart from
apgeo's audit (it never imports :mod:`apgeo.privacy`).

It reads only the CSV files a study writes (the four burden tables, the flow matrix and
flow lines, the furthest-schools table, the three time-in-AP tables) and public structure
(which provider is of which kind, from the published provider list), writes one linear
programme over all of them and asks, for every blank count, its smallest and largest
possible value:

* every row of every table adds up to its total, every column to its ``all`` row, and all
  tables describe the same whole (one grand total, one set of band totals);
* a flow row's total is that school's burden total; flow columns summed by provider kind
  are the burden-by-kind totals; the flow lines repeat the matrix's cells (a pair left out
  is zero);
* the time-in-AP tables: open + ended placements are the group's burden total, every
  column adds up to the ``all`` row in each of the three tables, and the sub-counts
  respect their order (over one year <= over one term <= placements, returned <= ended,
  returned <= started before, started 12 months before <= started 6 months before);
* zeros are shown, so a blank count is at least 1, except in a time-in-AP row withheld
  because its total is blank (its counts may be 0).

First the linear relaxation (no integer search): a blank whose least and greatest value
are equal is recovered by linear relations alone. Then an integer search on the blanks the
relaxation leaves narrow (less than :data:`NARROW` wide). ``Attack.narrowest`` is the
smallest integer width of any blank (0 = recovered).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import highspy
import numpy as np
import pandas as pd

ALL = "all"
BURDEN_DIMS = ("key_stage", "kind", "imd_decile", "school_urn")
TIME_DIMS = ("kind", "key_stage", "school_urn")
#: LP width below which a blank gets the integer search.
NARROW = 3.0
_TIME_COUNTS = (
    "open_placements", "ended_placements", "placements_over_one_term", "placements_over_one_year",
    "started_6_months_before", "returned_within_6_months", "started_12_months_before", "returned_within_12_months",
)
# (smaller, larger): smaller <= larger within one row of a time-in-AP table
_TIME_ORDER = (
    ("placements_over_one_year", "placements_over_one_term"),
    ("placements_over_one_term", "placements"),
    ("started_12_months_before", "started_6_months_before"),
    ("started_6_months_before", "placements"),
    ("returned_within_6_months", "started_6_months_before"),
    ("returned_within_12_months", "started_12_months_before"),
    ("returned_within_6_months", "ended_placements"),
    ("returned_within_12_months", "ended_placements"),
)

Key = tuple[str, str, str]


@dataclass
class Attack:
    blanks: int = 0
    #: blanks with one possible value by linear relations alone: key -> value
    linear: dict[Key, float] = field(default_factory=dict)
    #: blanks with one possible whole value (linear or integer search): key -> value
    recovered: dict[Key, float] = field(default_factory=dict)
    narrowest: float = np.inf
    narrowest_cell: Key | None = None


class _System:
    def __init__(self) -> None:
        self.lower: list[float] = []
        self.upper: list[float] = []
        self.rows: list[tuple[dict[int, float], float, float]] = []
        self.blanks: dict[Key, int] = {}
        self.top = 1e6

    def entry(self, key: Key, value: float, *, at_least: float = 1.0) -> object:
        """A published number (float) or the variable of a blank (int)."""
        if np.isfinite(value):
            return float(value)
        if key not in self.blanks:
            self.blanks[key] = len(self.lower)
            self.lower.append(at_least)
            self.upper.append(self.top)
        else:
            i = self.blanks[key]
            self.lower[i] = min(self.lower[i], at_least)
        return self.blanks[key]

    def relation(self, terms: list[tuple[object, float]], lo: float = 0.0, hi: float = 0.0) -> None:
        coefs: dict[int, float] = {}
        const = 0.0
        for v, a in terms:
            if isinstance(v, int):
                coefs[v] = coefs.get(v, 0.0) + a
            else:
                const += float(v) * a  # type: ignore[arg-type]
        if coefs:
            self.rows.append((coefs, lo - const, hi - const))

    def equal(self, a: object, b: object) -> None:
        self.relation([(a, 1.0), (b, -1.0)])

    def total(self, parts: list[object], whole: object) -> None:
        self.relation([*((p, 1.0) for p in parts), (whole, -1.0)])


def _read(folder: Path, name: str) -> pd.DataFrame | None:
    hits = sorted(folder.glob(f"placements*_{name}.csv"))
    return pd.read_csv(hits[0], dtype={"group": str, "school_urn": str, "destination_id": str}) if hits else None


def _structure(sys_: _System, margin_a: Mapping[str, object], margin_b: Mapping[str, object], allowed: Mapping[str, set[str]]) -> None:
    """A hidden two-way table whose margins are published: ``a`` x ``b`` counts >= 0,
    zero where ``b`` cannot take ``a`` (public structure)."""
    cells: dict[tuple[str, str], int] = {}
    for a in margin_a:
        for b in margin_b:
            if b in allowed.get(a, set()):
                cells[(a, b)] = len(sys_.lower)
                sys_.lower.append(0.0)
                sys_.upper.append(sys_.top)
    for a, total in margin_a.items():
        sys_.total([cells[(a, b)] for b in margin_b if (a, b) in cells], total)
    for b, total in margin_b.items():
        sys_.total([cells[(a, b)] for a in margin_a if (a, b) in cells], total)


def build(
    folder: Path,
    provider_kind: Mapping[str, str],
    *,
    provider_key_stages: Mapping[str, set[str]] | None = None,
    school_key_stages: Mapping[str, set[str]] | None = None,
) -> _System:
    sys_ = _System()
    burden: dict[str, pd.DataFrame] = {}
    for d in BURDEN_DIMS:
        t = _read(folder, f"burden_{d}")
        if t is not None:
            burden[d] = t.set_index("group")
    first = next(iter(burden.values()))
    sys_.top = float(first.loc[ALL, "placements"]) if np.isfinite(first.loc[ALL, "placements"]) else 1e6
    bands = [c for c in first.columns if c.startswith("placements_")]
    grid: dict[str, dict[str, dict[str, object]]] = {}
    for d, t in burden.items():
        g = {str(r): {c: sys_.entry((f"burden_{d}", str(r), c), float(t.loc[r, c])) for c in ["placements", *bands]} for r in t.index}
        grid[d] = g
        for cells in g.values():
            sys_.total([cells[b] for b in bands], cells["placements"])
        for c in ["placements", *bands]:
            sys_.total([g[r][c] for r in g if r != ALL], g[ALL][c])
            if d != BURDEN_DIMS[0]:
                sys_.equal(grid[next(iter(grid))][ALL][c], g[ALL][c])
    # the furthest-schools table repeats by-school rows
    far = _read(folder, "furthest_schools")
    if far is not None and "school_urn" in grid:
        for _, r in far.iterrows():
            for c in ["placements", *bands]:
                sys_.equal(sys_.entry(("furthest_schools", str(r["school_urn"]), c), float(r[c])), grid["school_urn"][str(r["school_urn"])][c])
    # the flow matrix: rows are schools (a school_urn column, else the by-school order)
    flow = _read(folder, "flow_matrix")
    lines = _read(folder, "flow_lines")
    if flow is not None:
        if "school_urn" in flow.columns:
            labels = flow["school_urn"].astype(str).tolist()
            flow = flow.drop(columns="school_urn")
        else:
            schools = [r for r in grid["school_urn"] if r != ALL]
            assert len(schools) == len(flow) - 1, "flow matrix rows do not match the by-school table"
            labels = [*schools, ALL]
        cols = [str(c) for c in flow.columns]
        fg = {lab: {c: sys_.entry(("flow_matrix", lab, c), float(flow.iloc[i][c])) for c in cols} for i, lab in enumerate(labels)}
        providers = [c for c in cols if c != ALL]
        for cells in fg.values():
            sys_.total([cells[c] for c in providers], cells[ALL])
        for c in cols:
            sys_.total([fg[r][c] for r in fg if r != ALL], fg[ALL][c])
        sys_.equal(fg[ALL][ALL], grid[BURDEN_DIMS[0]][ALL]["placements"])
        for r in fg:
            if r != ALL and r in grid.get("school_urn", {}):
                sys_.equal(fg[r][ALL], grid["school_urn"][r]["placements"])
        if "kind" in grid:
            by_kind: dict[str, list[object]] = {}
            for c in providers:
                by_kind.setdefault(provider_kind.get(c, "?"), []).append(fg[ALL][c])
            for k, parts in by_kind.items():
                if k in grid["kind"]:
                    sys_.total(parts, grid["kind"][k]["placements"])
        if lines is not None:
            listed = set()
            for _, r in lines.iterrows():
                key = (str(r["school_urn"]), str(r["destination_id"]))
                listed.add(key)
                if key[0] in fg and key[1] in fg[key[0]]:
                    sys_.equal(sys_.entry(("flow_lines", *key), float(r["placements"])), fg[key[0]][key[1]])
            for r in fg:
                for c in providers:
                    if r != ALL and (r, c) not in listed:
                        sys_.equal(fg[r][c], 0.0)  # a pair left out of the lines is zero
    # public structure: the key stages each provider lists, each school's phase
    if flow is not None and "key_stage" in grid:
        ks = {k: v["placements"] for k, v in grid["key_stage"].items() if k != ALL}
        if provider_key_stages is not None:
            cols_total = {c: fg[ALL][c] for c in providers}
            _structure(sys_, ks, cols_total, {k: {c for c in providers if k in provider_key_stages.get(c, set())} for k in ks})
        if school_key_stages is not None:
            rows_total = {r: fg[r][ALL] for r in fg if r != ALL}
            _structure(sys_, ks, rows_total, {k: {r for r in rows_total if k in school_key_stages.get(r, set())} for k in ks})
    # time in AP
    time_all: list[dict[str, object]] = []
    for d in TIME_DIMS:
        t = _read(folder, f"time_in_ap_{d}")
        if t is None:
            continue
        counts = [c for c in _TIME_COUNTS if c in t.columns]
        rows: dict[str, dict[str, object]] = {}
        for _, r in t.iterrows():
            g = str(r["group"])
            withheld = str(r.get("suppressed", "")).startswith("row")
            rows[g] = {c: sys_.entry((f"time_in_ap_{d}", g, c), float(r[c]), at_least=0.0 if withheld else 1.0) for c in counts}
            total = grid[d][g]["placements"] if d in grid and g in grid[d] else sys_.entry((f"time_total_{d}", g, "placements"), np.nan, at_least=0.0)
            rows[g]["placements"] = total
            sys_.total([rows[g]["open_placements"], rows[g]["ended_placements"]], total)
            for small, large in _TIME_ORDER:
                if small in rows[g] and large in rows[g]:
                    sys_.relation([(rows[g][small], 1.0), (rows[g][large], -1.0)], -np.inf, 0.0)
        for c in counts:
            sys_.total([rows[g][c] for g in rows if g != ALL], rows[ALL][c])
        time_all.append(rows[ALL])
    for other in time_all[1:]:
        for c in _TIME_COUNTS:
            if c in other and c in time_all[0]:
                sys_.equal(time_all[0][c], other[c])
    return sys_


def attack(
    folder: str | Path,
    provider_kind: Mapping[str, str],
    *,
    integer_search: bool = True,
    provider_key_stages: Mapping[str, set[str]] | None = None,
    school_key_stages: Mapping[str, set[str]] | None = None,
) -> Attack:
    """Ranges of every blank count in the published placement files of ``folder``
    (with public structure when the key stages of providers and schools are given)."""
    s = build(Path(folder), provider_kind, provider_key_stages=provider_key_stages, school_key_stages=school_key_stages)
    out = Attack(blanks=len(s.blanks))
    if not s.blanks:
        return out
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    n = len(s.lower)
    inf = highspy.kHighsInf
    h.addVars(n, np.array(s.lower), np.array(s.upper))
    for coefs, lo, hi in s.rows:
        idx = np.array(list(coefs), dtype=np.int32)
        h.addRow(max(lo, -inf), min(hi, inf), len(idx), idx, np.array([coefs[i] for i in idx], dtype=float))
    ids = np.arange(n, dtype=np.int32)
    keys = {v: k for k, v in s.blanks.items()}
    is_blank = np.zeros(n, dtype=bool)
    is_blank[list(keys)] = True
    lo_seen = np.full(n, np.inf)
    hi_seen = np.full(n, -np.inf)

    def solve(cost: np.ndarray) -> np.ndarray | None:
        h.changeColsCost(n, ids, cost)
        h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            assert status in (highspy.HighsModelStatus.kUnbounded, highspy.HighsModelStatus.kUnboundedOrInfeasible), h.modelStatusToString(status)
            return None
        x = np.asarray(h.getSolution().col_value)
        np.minimum(lo_seen, x, out=lo_seen)
        np.maximum(hi_seen, x, out=hi_seen)
        return x

    def ranges(tol: float) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(1)
        for _ in range(2):
            c = rng.normal(size=n)
            solve(c)
            solve(-c)
        lo = np.full(n, -np.inf)
        hi = np.full(n, np.inf)
        for sign in (-1.0, 1.0) * 3:
            todo = (hi_seen - lo_seen < tol) & is_blank
            if not todo.any():
                break
            solve(np.where(todo, sign * rng.uniform(0.5, 1.5, size=n), 0.0))
        for i in np.flatnonzero(is_blank):
            if hi_seen[i] - lo_seen[i] >= tol:
                continue
            c = np.zeros(n)
            c[i] = 1.0
            x = solve(c)
            lo[i] = x[i] if x is not None else -np.inf
            x = solve(-c)
            hi[i] = x[i] if x is not None else np.inf
        return lo, hi

    # 1. linear relations alone
    lo, hi = ranges(1e-6)
    # a blank solved on its own has its exact range; the others moved at least ``tol``
    width = np.where(np.isfinite(lo) | np.isfinite(hi), hi - lo, hi_seen - lo_seen)
    width[~is_blank] = np.inf
    for i in np.flatnonzero(width < 1e-6):
        out.linear[keys[i]] = float(round(lo_seen[i]))
    # 2. integer search on the narrow blanks
    lp_width = width.copy()
    if integer_search and (lp_width < NARROW).any():
        h.changeColsIntegrality(n, ids, np.array([highspy.HighsVarType.kInteger] * n))
        lo_seen[:] = np.inf
        hi_seen[:] = -np.inf
        narrow = lp_width < NARROW
        rng = np.random.default_rng(2)
        for sign in (-1.0, 1.0):
            solve(np.where(narrow, sign * rng.uniform(0.5, 1.5, size=n), 0.0))
        for i in np.flatnonzero(narrow):
            if hi_seen[i] - lo_seen[i] >= 1:
                continue
            c = np.zeros(n)
            c[i] = 1.0
            solve(c)
            solve(-c)
        # narrow blanks: their whole-number range (exact where solved on their own, else
        # at least the spread already seen); the others: at least what the relaxation saw
        width = np.where(narrow, hi_seen - lo_seen, np.floor(lp_width + 1e-9))
    for i in np.flatnonzero(is_blank):
        w = float(np.round(width[i], 6))
        if w < out.narrowest:
            out.narrowest, out.narrowest_cell = w, keys[i]
        if w < 0.5:
            out.recovered[keys[i]] = float(round(lo_seen[i])) if np.isfinite(lo_seen[i]) else np.nan
    return out
