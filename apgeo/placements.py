"""Placements in Alternative Provision: travel burden and school -> provider flows.

A *placement* is one pupil placed by a referring (mainstream) school at an AP provider
site. Placement files hold personal data, so this module keeps it at arm's length:

* :func:`load_placements` reads a CSV / Excel file (or a DataFrame), validates it with
  row numbers in every message (never a postcode), geocodes home postcodes to LSOAs and
  immediately aggregates: the result holds *counts* per home LSOA x referring school x
  provider site x key stage, never pupil rows. These counts are for analysis only and
  contain small numbers: never publish them directly.
* :func:`placement_travel_times` attaches the travel time of every cell (home LSOA ->
  site, from the travel-time seam) and the *excess* time over the nearest site serving
  the same key stage.
* :func:`burden_table`, :func:`flow_matrix`, :func:`flow_lines` and
  :func:`furthest_schools` make publishable tables; :func:`publish_placement_tables`
  makes all of them at once with *consistent* suppression across tables (use it when
  more than one table is released).

Suppression (see :mod:`apgeo.privacy`): counts of 1-4 are never shown. Each published
table is a two-way table with row, column and grand totals; after primary suppression
and :func:`apgeo.privacy.suppress_counts` (secondary, by row and column), an exact
audit (:func:`disclosed_cells`, a linear programme) checks that no suppressed count
can be worked out from the published numbers, knowing that a suppressed count is at
least 1 (zeros are shown), and suppresses more until none can. Shares and means are
published only when they follow from published counts.

:func:`synthetic_placements` draws plausible, clearly labelled SYNTHETIC placement
rows from the real Sheffield demand, schools and providers, for tests and the demo.
Every table made from synthetic data has ``attrs["synthetic"] = True`` and a title
starting "SYNTHETIC".
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
import scipy.optimize
import scipy.sparse

from apgeo import schema as S
from apgeo._errors import ApgeoValueError
from apgeo._log import logger, warn
from apgeo._validate import read_csv, require_columns, require_rows, row_numbers
from apgeo.privacy import suppress_counts
from apgeo.settings import get_settings

__all__ = [
    "BURDEN_DIMENSIONS",
    "DEFAULT_BURDEN_THRESHOLDS_MIN",
    "MAINSTREAM_TYPES",
    "PLACEMENT_COLUMNS",
    "band_columns",
    "burden_table",
    "disclosed_cells",
    "flow_lines",
    "flow_matrix",
    "furthest_schools",
    "load_placements",
    "load_schools",
    "placement_travel_times",
    "protect_table",
    "publish_placement_tables",
    "read_placement_file",
    "synthetic_placements",
]

# ---- column names introduced here ---------------------------------------------------
HOME_POSTCODE: Final = "home_postcode"
HOME_LSOA: Final = "home_lsoa"
SCHOOL_URN: Final = "school_urn"
SCHOOL_NAME: Final = "school_name"
KEY_STAGE: Final = "key_stage"
START_DATE: Final = "start_date"
SESSIONS_PER_WEEK: Final = "sessions_per_week"
SYNTHETIC: Final = "synthetic"
PLACEMENTS: Final = "placements"
SESSIONS_PER_WEEK_TOTAL: Final = "sessions_per_week_total"
NEAREST_SUITABLE_TIME_S: Final = "nearest_suitable_time_s"
NEAREST_SUITABLE_SITE_ID: Final = "nearest_suitable_site_id"
EXCESS_TIME_S: Final = "excess_time_s"
GROUP_BY: Final = "group_by"
GROUP: Final = "group"
GROUP_NAME: Final = "group_name"
PLACEMENTS_NO_TIME: Final = "placements_no_time"
MEAN_TRAVEL_TIME_S: Final = "mean_travel_time_s"
MEDIAN_TRAVEL_TIME_S: Final = "median_travel_time_s"
MEAN_EXCESS_TIME_S: Final = "mean_excess_time_s"
SUPPRESSED: Final = "suppressed"
DESTINATION_NAME: Final = "destination_name"
SCHOOL_EASTING: Final = "school_easting"
SCHOOL_NORTHING: Final = "school_northing"
DESTINATION_EASTING: Final = "destination_easting"
DESTINATION_NORTHING: Final = "destination_northing"
#: attrs key: column groups whose sum, published elsewhere, must be suppressed there too.
HIDDEN_COLUMN_GROUPS: Final = "hidden_column_groups"
#: Label of the total row / column of every published table.
ALL: Final = "all"

#: Columns of the placement file (one row per placement). Give ``home_postcode`` or
#: ``home_lsoa`` (or both: the postcode wins when it can be placed), and ``site_id`` or
#: ``provider_id`` (a provider id, or its URN, is enough when the provider has one site).
PLACEMENT_COLUMNS: Final[tuple[str, ...]] = (
    HOME_POSTCODE,
    HOME_LSOA,
    SCHOOL_URN,
    S.PROVIDER_ID,
    S.SITE_ID,
    KEY_STAGE,
    START_DATE,
    SESSIONS_PER_WEEK,
)
#: Other spellings accepted in headers (after lower-casing, spaces -> underscores).
_ALIASES: Final[dict[str, str]] = {
    "postcode": HOME_POSTCODE,
    "home_post_code": HOME_POSTCODE,
    "lsoa": HOME_LSOA,
    "lsoa11cd": HOME_LSOA,
    "lsoa_code": HOME_LSOA,
    "home_lsoa11cd": HOME_LSOA,
    "urn": SCHOOL_URN,
    "referring_school_urn": SCHOOL_URN,
    "referring_school": SCHOOL_URN,
    "school": SCHOOL_URN,
    "provider": S.PROVIDER_ID,
    "site": S.SITE_ID,
    "ks": KEY_STAGE,
    "keystage": KEY_STAGE,
    "sessions": SESSIONS_PER_WEEK,
    "start": START_DATE,
}
#: A week has ten half-day sessions.
MAX_SESSIONS_PER_WEEK: Final = 10.0

#: GIAS establishment types counted as mainstream (referring) schools.
MAINSTREAM_TYPES: Final[frozenset[str]] = frozenset(
    {
        "Academy converter",
        "Academy sponsor led",
        "Community school",
        "Foundation school",
        "Voluntary aided school",
        "Voluntary controlled school",
        "Free schools",
        "University technical college",
        "Free schools 16 to 19",
        "Academy 16-19 converter",
        "Studio schools",
    }
)
#: GIAS phases whose schools teach each key stage (for the synthetic generator).
_PHASES_FOR_KS: Final[dict[str, tuple[str, ...]]] = {
    "KS1": ("Primary", "All-through"),
    "KS2": ("Primary", "All-through", "Middle deemed primary"),
    "KS3": ("Secondary", "All-through", "Middle deemed secondary"),
    "KS4": ("Secondary", "All-through"),
    "KS5": ("16 plus", "Secondary", "All-through"),
}

#: Burden bands: DfT-style upper limits (inclusive) in minutes.
DEFAULT_BURDEN_THRESHOLDS_MIN: Final[tuple[float, ...]] = (30.0, 45.0, 60.0)
BurdenDimension = Literal["key_stage", "kind", "imd_decile", "school_urn", "provider_id"]
BURDEN_DIMENSIONS: Final[tuple[str, ...]] = (
    "key_stage",
    "kind",
    "imd_decile",
    "school_urn",
    "provider_id",
)
FlowLevel = Literal["provider", "site"]


# ======================================================================================
# Small helpers
# ======================================================================================


def _as_date(value: dt.date | str, *, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ApgeoValueError(
            f"{name} must be a date (datetime.date or 'YYYY-MM-DD'), not {value!r}"
        ) from None


def _clean_urn(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text


def _synthetic_flag(frame: pd.DataFrame) -> bool:
    return bool(frame.attrs.get(SYNTHETIC, False))


def _stamp(frame: pd.DataFrame, *, synthetic: bool, title: str) -> pd.DataFrame:
    """Set ``attrs["synthetic"]`` and a title that starts with SYNTHETIC when it is."""
    frame.attrs[SYNTHETIC] = synthetic
    frame.attrs["title"] = f"SYNTHETIC DATA - {title}" if synthetic else title
    return frame


def load_schools(*, data_dir: str | Path | None = None) -> pd.DataFrame:
    """The GIAS extract as a school lookup (every establishment, indexed by URN).

    Columns: ``urn`` (str), ``school_name``, ``establishment_type``, ``education_phase``,
    ``easting``, ``northing``, ``mainstream`` (bool, type in :data:`MAINSTREAM_TYPES`).
    """
    from apgeo.data import data_path

    path = data_path("gias", data_dir=data_dir)
    raw = read_csv(path)
    need = [S.URN, "establishment_name", "establishment_type", "education_phase", S.EASTING, S.NORTHING]
    require_columns(raw, need, source=str(path))
    out = pd.DataFrame(
        {
            S.URN: raw[S.URN].map(_clean_urn),
            SCHOOL_NAME: raw["establishment_name"].astype(str),
            "establishment_type": raw["establishment_type"].astype(str),
            "education_phase": raw["education_phase"].astype(str),
            S.EASTING: pd.to_numeric(raw[S.EASTING], errors="coerce"),
            S.NORTHING: pd.to_numeric(raw[S.NORTHING], errors="coerce"),
        }
    )
    out["mainstream"] = out["establishment_type"].isin(MAINSTREAM_TYPES)
    out = out.drop_duplicates(S.URN).set_index(S.URN, drop=False)
    out.index.name = None
    return out


# ======================================================================================
# Suppression with an exact disclosure audit
# ======================================================================================


def disclosed_cells(
    values: np.ndarray, hidden: np.ndarray, equations: np.ndarray
) -> np.ndarray:
    """Which hidden counts could be worked out exactly from what is published.

    The attacker knows every shown value, that every hidden value is at least 1 (zeros
    are shown), and the linear relations ``equations @ values == 0`` (e.g. a row total
    minus its cells is zero). A hidden value is *disclosed* when it takes the same value
    in every solution.

    Method: one linear programme finds the hidden values pinned at 1 (maximise a small
    slack above 1 for every hidden value at once; a value that cannot move above 1 is
    pinned); the other values can all move from an interior point, so one of them is
    fixed exactly when its unit vector lies in the row space of the equations (for a
    table with margins: when it is a bridge of the graph whose nodes are the equations
    and whose edges are the hidden values). For the tables published here (two-way
    tables with margins, plus sums of column totals over nested groups such as
    providers of one kind) the solutions form a network-flow polytope, whose bounds are
    integral, so "cannot move" equals "exactly recoverable" for whole numbers too.

    Parameters
    ----------
    values
        All entries (cells and totals), integer counts >= 0.
    hidden
        Boolean mask of the entries that are suppressed.
    equations
        Matrix (equations x entries) of linear relations that hold with zero right side.

    Returns
    -------
    numpy.ndarray
        Boolean mask (same length as ``values``), True for disclosed hidden entries.
    """
    values = np.asarray(values, dtype=float)
    hidden = np.asarray(hidden, dtype=bool)
    out = np.zeros(len(values), dtype=bool)
    h = np.flatnonzero(hidden)
    if len(h) == 0:
        return out
    eq = np.asarray(equations, dtype=float)
    a = eq[:, h]
    b = -eq[:, ~hidden] @ values[~hidden]
    rows = np.any(a != 0, axis=1)
    a, b = a[rows], b[rows]
    if len(a) == 0:
        return out
    n = len(h)
    delta = 1.0 / (n + 1)
    eye = scipy.sparse.identity(n, format="csr")
    res = scipy.optimize.linprog(
        c=np.r_[np.zeros(n), -np.ones(n)],
        A_ub=scipy.sparse.hstack([-eye, eye]).tocsr(),
        b_ub=-np.ones(n),
        A_eq=scipy.sparse.hstack([scipy.sparse.csr_matrix(a), scipy.sparse.csr_matrix((len(a), n))]).tocsr(),
        b_eq=b,
        bounds=[(1.0, None)] * n + [(0.0, delta)] * n,
        method="highs",
    )
    if res.status != 0:  # pragma: no cover - the true values are always a solution
        raise ApgeoValueError(f"disclosure audit failed: {res.message}")
    pinned = res.x[n:] < delta / 2
    free = ~pinned
    disclosed = pinned.copy()
    if free.any():
        disclosed[np.flatnonzero(free)] = _fixed_by_equations(a[:, free])
    out[h[disclosed]] = True
    return out


def _fixed_by_equations(a: np.ndarray) -> np.ndarray:
    """Columns of ``a`` whose value is the same in every solution of ``a @ x = b``.

    A value is fixed exactly when its unit vector lies in the row space of ``a``. When
    ``a`` is the incidence matrix of a directed graph (every column has one +1 and one
    -1 after flipping some rows: the case for tables with margins), the fixed values are
    the graph's bridges, found in linear time; otherwise a singular value decomposition
    is used.
    """
    a = a[np.any(a != 0, axis=1)]
    n = a.shape[1]
    if len(a) == 0 or n == 0:
        return np.zeros(n, dtype=bool)
    edges = _as_digraph_edges(a)
    if edges is not None:
        import networkx as nx

        graph = nx.Graph()
        graph.add_nodes_from(range(len(a)))
        graph.add_edges_from(edges)
        bridges = {frozenset(e) for e in nx.bridges(graph)}
        return np.array([frozenset(e) in bridges for e in edges], dtype=bool)
    from threadpoolctl import threadpool_limits  # installed with scikit-learn

    with threadpool_limits(limits=1, user_api="blas"):  # small matrices: threads only contend
        _, sing, vt = np.linalg.svd(a, full_matrices=False)
    rank = int((sing > sing.max() * max(a.shape) * 1e-12).sum())
    leverage = (vt[:rank] ** 2).sum(axis=0)
    return np.asarray(leverage > 1 - 1e-7)


def _as_digraph_edges(a: np.ndarray) -> list[tuple[int, int]] | None:
    """``a``'s columns as graph edges when ``a`` is a (row-signed) network matrix, else None."""
    nz = a != 0
    if not np.all(nz.sum(axis=0) == 2) or not np.all(np.abs(a[nz]) == 1):
        return None
    ends: list[tuple[int, int]] = []
    for j in range(a.shape[1]):
        p_row, q_row = (int(i) for i in np.flatnonzero(nz[:, j]))
        ends.append((p_row, q_row))
    if len(set(ends)) != len(ends):
        return None  # parallel edges: leave it to linear algebra
    # rows must take signs so that each column reads +1 / -1 (a balanced signed graph)
    adjacency: dict[int, list[tuple[int, float]]] = {}
    for j, (p, q) in enumerate(ends):
        same = float(a[p, j] * a[q, j])  # +1: the rows need opposite signs
        adjacency.setdefault(p, []).append((q, same))
        adjacency.setdefault(q, []).append((p, same))
    sign: dict[int, float] = {}
    for start in adjacency:
        if start in sign:
            continue
        sign[start] = 1.0
        stack = [start]
        while stack:
            u = stack.pop()
            for v, same in adjacency[u]:
                want = -sign[u] if same > 0 else sign[u]
                if v not in sign:
                    sign[v] = want
                    stack.append(v)
                elif sign[v] != want:
                    return None
    return ends


def _table_equations(
    n_rows: int, n_cols: int, column_groups: Sequence[Sequence[int]] = ()
) -> np.ndarray:
    """Relations of a two-way table laid out as cells (row-major), row totals,
    column totals, grand total; plus "sum of these column totals is published"."""
    n_cells = n_rows * n_cols
    n = n_cells + n_rows + n_cols + 1
    grand = n - 1
    eqs: list[np.ndarray] = []
    for i in range(n_rows):
        e = np.zeros(n)
        e[i * n_cols : (i + 1) * n_cols] = 1
        e[n_cells + i] = -1
        eqs.append(e)
    for j in range(n_cols):
        e = np.zeros(n)
        e[j:n_cells:n_cols] = 1
        e[n_cells + n_rows + j] = -1
        eqs.append(e)
    for lo, hi in ((n_cells, n_cells + n_rows), (n_cells + n_rows, grand)):
        e = np.zeros(n)
        e[lo:hi] = 1
        e[grand] = -1
        eqs.append(e)
    return np.array(eqs).reshape(len(eqs), n)


def _protect(
    values: np.ndarray,
    equations: np.ndarray,
    initial: np.ndarray,
    extra: Sequence[np.ndarray] = (),
    *,
    n_cells: int,
    extra_hidden: np.ndarray | None = None,
    cell_mask: np.ndarray | None = None,
    grand_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Hide more entries until :func:`disclosed_cells` finds nothing.

    ``extra`` are further sums (vectors of 0/1 over entries) published in a linked
    table; they are added as equations by appending one pseudo-entry per sum. A sum is
    known to the attacker unless ``extra_hidden`` marks it hidden in the linked table, in
    which case it is protected like any other hidden entry.

    Entries are hidden in this order of preference: cells near a disclosed entry, then
    margin totals near it, widening the neighbourhood until something can be hidden; a
    grand total only when nothing else can be (planners need the number of placements,
    and a grand total hidden in one table is hidden in every linked one). When a
    disclosure would remain even with every entry of this table hidden (it follows from
    the linked sums alone, e.g. a hidden column total that is the only member of a
    published sum, or a hidden grand total equal to the sum of published sums), a linked
    sum is hidden instead: the caller must hide it in the linked table too.

    Cells are the first ``n_cells`` entries, or those marked by ``cell_mask``; grand
    totals are those marked by ``grand_mask`` (default: the last entry).

    Always terminates with a safe result (hiding every positive entry is safe: with
    nothing but zeros shown, any solution can be scaled up), at most one round per entry.

    Returns
    -------
    tuple of numpy.ndarray
        Hidden mask of the entries, hidden mask of the linked sums (``len(extra)``).
    """
    n = len(values)
    k = len(extra)
    if k:
        sums = np.array([float(v @ values) for v in extra])
        block = np.zeros((k, n + k))
        for i, v in enumerate(extra):
            block[i, :n] = v
            block[i, n + i] = -1
        eq = np.vstack([np.hstack([equations, np.zeros((len(equations), k))]), block])
        vals = np.r_[np.asarray(values, dtype=float), sums]
        linked = np.zeros(k, dtype=bool) if extra_hidden is None else np.asarray(extra_hidden, dtype=bool)
        hidden = np.r_[np.asarray(initial, dtype=bool), linked]
    else:
        eq, vals, hidden = equations, np.asarray(values, dtype=float), np.asarray(initial, dtype=bool).copy()
    positive = vals > 0
    hidden &= positive
    member = eq != 0
    kind = np.full(len(vals), 2)  # 0 cell, 1 margin total, 2 linked sum, 3 grand total
    kind[:n] = 1
    if grand_mask is None:
        kind[n - 1] = 3
    else:
        kind[:n][np.asarray(grand_mask, dtype=bool)] = 3
    if cell_mask is None:
        kind[:n_cells] = 0
    else:
        kind[:n][np.asarray(cell_mask, dtype=bool)] = 0
    ordinary = positive & (kind != 2)
    # disclosures that no choice within this table can stop (monotone: hiding more never
    # discloses more, so test with every entry of the table hidden); they depend only on
    # which linked sums are hidden
    forced_for: tuple[bool, ...] | None = None
    forced = np.zeros(len(vals), dtype=bool)
    for _ in range(len(vals) + 2):
        bad = disclosed_cells(vals, hidden, eq)
        if not bad.any():
            return hidden[:n], hidden[n:]
        if k and forced_for != tuple(hidden[n:]):
            forced_for = tuple(hidden[n:])
            forced = disclosed_cells(vals, hidden | ordinary, eq)
        added = False
        touched = np.zeros(len(eq), dtype=bool)
        for e in np.flatnonzero(bad):
            related = member[:, e]
            if (related & touched).any():
                continue  # an entry hidden this round may already protect it
            if forced[e]:
                pick = _pick_linked_sum(int(e), vals, hidden, ordinary, eq, n)
            else:
                pick = _pick_near(related, vals, hidden, kind, member)
                if pick is not None and kind[pick] == 3:
                    # a grand total is the last resort: hide a set of cells / margin
                    # totals instead when some set can protect the entry
                    others = _pick_instead_of_grand(int(e), vals, hidden, kind, eq)
                    if others is not None and (others or added):  # else hide it: progress
                        if others:
                            hidden[others] = True
                            touched |= member[:, others].any(axis=1)
                            added = True
                        continue
            if pick is None:
                continue
            hidden[pick] = True
            touched |= member[:, pick]
            added = True
        if not added:  # pragma: no cover - a disclosed entry always has a candidate
            hidden = positive.copy()
    hidden = positive.copy()  # pragma: no cover - each round hides at least one entry
    return hidden[:n], hidden[n:]  # pragma: no cover


def _pick_near(
    related: np.ndarray, vals: np.ndarray, hidden: np.ndarray, kind: np.ndarray, member: np.ndarray
) -> int | None:
    """The smallest shown cell (else margin total) sharing an equation with a disclosed
    entry, widening through hidden entries until one is found; a grand total only when
    no cell or margin total is reachable at all; None when all are hidden. (A grand
    total returned here is checked by :func:`_protect`, which hides a set of other
    entries instead whenever one can stop the disclosure.)"""
    for tiers in ((0, 1), (3,)):
        eqs = related.copy()
        while True:
            reach = member[eqs].any(axis=0)
            free = reach & ~hidden & (vals > 0)
            for t in tiers:
                cand = np.flatnonzero(free & (kind == t))
                if len(cand):
                    return int(cand[np.lexsort((cand, vals[cand]))[0]])
            grown = eqs | member[:, reach & hidden].any(axis=1)
            if np.array_equal(grown, eqs):
                break
            eqs = grown
    return None


def _pick_instead_of_grand(
    e: int, vals: np.ndarray, hidden: np.ndarray, kind: np.ndarray, eq: np.ndarray
) -> list[int] | None:
    """Shown cells and margin totals whose hiding stops the disclosure of ``e`` without
    hiding a grand total; None when no such set exists, empty when ``e`` is no longer
    disclosed (protected by an entry hidden earlier in the same round).

    Used when the widening of :func:`_pick_near` reaches only a grand total, although
    the disclosure may still be stoppable by hiding several other entries together (an
    entry pinned at its lower bound, say). The entries are found as the cheapest change
    of the published values that moves ``e`` by one while every equation still holds:
    one linear programme per direction, with hidden entries free, shown cells costing
    their value, margin totals costing more than all cells together and grand totals,
    linked sums and zeros fixed. The entries the change moves must be hidden; then the
    changed values are a second solution, so ``e`` is no longer disclosed (the audit in
    :func:`_protect` checks this again, so the result is safe whatever is picked). An
    optimum that moves nothing means ``e`` is already protected by an entry hidden
    earlier in the same round.
    """
    free = ~hidden & (vals > 0) & ((kind == 0) | (kind == 1))
    var = np.flatnonzero(hidden | free)
    if e not in set(var.tolist()):  # pragma: no cover - ``e`` is a hidden entry
        return None
    fixed = np.ones(len(vals), dtype=bool)
    fixed[var] = False
    a = eq[:, var]
    b = -eq[:, fixed] @ vals[fixed]
    rows = np.any(a != 0, axis=1)
    a, b = a[rows], b[rows]
    f = np.flatnonzero(free[var])  # positions (within var) of entries that would be newly hidden
    m = len(var)
    big = float(vals[kind == 0].sum()) + 1.0
    cost = np.where(kind[var[f]] == 0, vals[var[f]], vals[var[f]] + big)
    # variables: x (m values), u (len(f) absolute changes of the shown entries)
    sel = scipy.sparse.csr_matrix((np.ones(len(f)), (np.arange(len(f)), f)), shape=(len(f), m))
    eye = scipy.sparse.identity(len(f), format="csr")
    a_ub = scipy.sparse.vstack([scipy.sparse.hstack([sel, -eye]), scipy.sparse.hstack([-sel, -eye])]).tocsr()
    b_ub = np.r_[vals[var[f]], -vals[var[f]]]
    a_eq = scipy.sparse.hstack([scipy.sparse.csr_matrix(a), scipy.sparse.csr_matrix((len(a), len(f)))]).tocsr()
    pos_e = int(np.flatnonzero(var == e)[0])
    best: tuple[float, list[int]] | None = None
    for target in (vals[e] + 1.0, vals[e] - 1.0):
        if target < 1:
            continue
        bounds = [(1.0, None)] * m + [(0.0, None)] * len(f)
        bounds[pos_e] = (target, target)
        res = scipy.optimize.linprog(
            c=np.r_[np.zeros(m), cost], A_ub=a_ub, b_ub=b_ub, A_eq=a_eq, b_eq=b, bounds=bounds, method="highs"
        )
        if res.status != 0:
            continue
        moved = [int(var[f[i]]) for i in np.flatnonzero(np.abs(res.x[m:]) > 1e-7)]
        if best is None or res.fun < best[0]:
            best = (float(res.fun), moved)
    return None if best is None else best[1]


def _pick_linked_sum(
    e: int, vals: np.ndarray, hidden: np.ndarray, ordinary: np.ndarray, eq: np.ndarray, n: int
) -> int | None:
    """A linked sum whose hiding stops the disclosure of ``e`` (the smallest that does
    alone, else the smallest left), for a disclosure no entry of the table can stop."""
    cand = [int(i) for i in np.flatnonzero(~hidden[n:] & (vals[n:] > 0)) + n]
    if not cand:
        return None
    cand.sort(key=lambda i: (vals[i], i))
    for i in cand:
        trial = hidden | ordinary
        trial[i] = True
        if not disclosed_cells(vals, trial, eq)[e]:
            return i
    return cand[0]


def protect_table(
    table: pd.DataFrame,
    *,
    threshold: int | None = None,
    hidden_rows: Collection[object] = (),
    hidden_columns: Collection[object] = (),
    hide_total: bool = False,
    column_groups: Mapping[object, Sequence[object]] | None = None,
) -> pd.DataFrame:
    """Suppress a two-way table of counts and add its totals, safe against differencing.

    Parameters
    ----------
    table
        Counts (integers >= 0), rows x columns; no total row or column.
    threshold
        Smallest count that may be shown (default: settings, 5).
    hidden_rows, hidden_columns
        Row / column labels whose *totals* must be suppressed (to stay consistent with
        another published table).
    hide_total
        Suppress the grand total too.
    column_groups
        Sums of column totals that are published elsewhere (e.g. all providers of one
        kind), assumed known to an attacker.

    Returns
    -------
    pandas.DataFrame
        The table with a total column and a total row, both labelled ``"all"``; suppressed
        entries are NaN (zeros are shown). ``attrs["threshold"]`` is the threshold used;
        ``attrs["hidden_column_groups"]`` lists the keys of ``column_groups`` whose sum
        must be suppressed where it is published (when a hidden total of this table
        would follow from those sums alone; ``attrs["note"]`` then says so). The table
        is safe only if that is done (:func:`publish_placement_tables` does it).
    """
    out, _ = _protect_frame(
        table,
        threshold=threshold,
        hidden_rows=hidden_rows,
        hidden_columns=hidden_columns,
        hide_total=hide_total,
        column_groups=column_groups,
    )
    return out


def _protect_frame(
    table: pd.DataFrame,
    *,
    threshold: int | None,
    hidden_rows: Collection[object] = (),
    hidden_columns: Collection[object] = (),
    hide_total: bool = False,
    column_groups: Mapping[object, Sequence[object]] | None = None,
    hidden_column_groups: Collection[object] = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """:func:`protect_table` returning ``(table, suppressed mask)``.

    ``hidden_column_groups`` are keys of ``column_groups`` whose sum is hidden in the
    linked table: not known to an attacker, and protected like a hidden entry.
    """
    limit = get_settings().suppression_threshold if threshold is None else int(threshold)
    counts = table.astype(float)
    if counts.isna().any().any() or (counts < 0).any().any():
        raise ApgeoValueError("protect_table: counts must be numbers >= 0 with no blanks")
    if ALL in counts.index or ALL in counts.columns:
        raise ApgeoValueError(f"protect_table: {ALL!r} is reserved for totals; rename that row or column")
    n_rows, n_cols = counts.shape
    cells = counts.to_numpy()
    row_tot = cells.sum(axis=1)
    col_tot = cells.sum(axis=0)
    grand = float(cells.sum())
    values = np.r_[cells.ravel(), row_tot, col_tot, grand]
    # primary + secondary (rows and columns as groups) on the cells
    long = pd.Series(cells.ravel())
    rows_key = pd.Series(np.repeat(np.arange(n_rows), n_cols))
    cols_key = pd.Series(np.tile(np.arange(n_cols), n_rows))
    first = suppress_counts(long, groups=[rows_key, cols_key], threshold=limit)
    hidden = np.r_[first["suppressed"].to_numpy(), np.zeros(n_rows + n_cols + 1, dtype=bool)]
    hidden |= (values > 0) & (values < limit)
    n_cells = n_rows * n_cols
    row_pos = {r: i for i, r in enumerate(counts.index)}
    col_pos = {c: j for j, c in enumerate(counts.columns)}
    for r in hidden_rows:
        if r in row_pos:
            hidden[n_cells + row_pos[r]] = True
    for c in hidden_columns:
        if c in col_pos:
            hidden[n_cells + n_rows + col_pos[c]] = True
    if hide_total:
        hidden[-1] = True
    hidden &= values > 0
    extra: list[np.ndarray] = []
    extra_keys: list[object] = []
    for key, members in (column_groups or {}).items():
        v = np.zeros(len(values))
        idx = [col_pos[c] for c in members if c in col_pos]
        if idx:
            v[[n_cells + n_rows + j for j in idx]] = 1
            extra.append(v)
            extra_keys.append(key)
    linked_hidden = np.array([key in hidden_column_groups for key in extra_keys], dtype=bool)
    hidden, groups_hidden = _protect(
        values, _table_equations(n_rows, n_cols), hidden, extra, n_cells=n_cells, extra_hidden=linked_hidden
    )
    # sums of column totals that must be hidden in the linked table too (a disclosure
    # that follows from those sums alone, which no entry of this table can stop)
    must_hide = [key for key, h, was in zip(extra_keys, groups_hidden, linked_hidden) if h and not was]
    shown = np.where(hidden, np.nan, values)
    out = pd.DataFrame(
        np.vstack(
            [
                np.c_[shown[:n_cells].reshape(n_rows, n_cols), shown[n_cells : n_cells + n_rows]],
                np.r_[shown[n_cells + n_rows : -1], shown[-1]],
            ]
        ),
        index=[*counts.index, ALL],
        columns=[*counts.columns, ALL],
    )
    mask = pd.DataFrame(
        np.vstack(
            [
                np.c_[hidden[:n_cells].reshape(n_rows, n_cols), hidden[n_cells : n_cells + n_rows]],
                np.r_[hidden[n_cells + n_rows : -1], hidden[-1]],
            ]
        ),
        index=out.index,
        columns=out.columns,
    )
    out.index.name = counts.index.name
    out.columns.name = counts.columns.name
    out.attrs["threshold"] = limit
    out.attrs[HIDDEN_COLUMN_GROUPS] = must_hide
    if must_hide:
        out.attrs["note"] = (
            f"the sums of columns {must_hide} published elsewhere must be suppressed there too: "
            "otherwise a suppressed total of this table can be worked out"
        )
    return out, mask


# ======================================================================================
# Reading and aggregating placements
# ======================================================================================


def read_placement_file(path: str | Path, *, sheet_name: str | int = 0) -> pd.DataFrame:
    """Read a placement file (``.csv``, ``.xlsx`` / ``.xlsm``) as text, headers normalised.

    Headers are lower-cased, trimmed, spaces and hyphens become underscores, and common
    other spellings (``postcode``, ``urn``, ``lsoa11cd`` ...) are renamed to
    :data:`PLACEMENT_COLUMNS`. The index is 0..n-1 so row numbers match the file.
    """
    p = Path(path).expanduser()
    from apgeo._validate import require_file

    require_file(p, what="placement file", how_to_get="Check the path (CSV or Excel .xlsx).")
    suffix = p.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            frame = pd.read_excel(p, sheet_name=sheet_name, dtype=str, keep_default_na=False, na_values=[""])
        except ImportError:
            raise ApgeoValueError(
                f"{p}: reading Excel needs openpyxl (pip install openpyxl), or save the sheet as CSV"
            ) from None
    elif suffix in (".csv", ".txt"):
        frame = read_csv(p)
    else:
        raise ApgeoValueError(f"{p}: unsupported file type {suffix!r}; use .csv or .xlsx")
    return _normalise_headers(frame)


def _normalise_headers(frame: pd.DataFrame) -> pd.DataFrame:
    names = [str(c).strip().lower().replace(" ", "_").replace("-", "_") for c in frame.columns]
    names = [_ALIASES.get(n, n) for n in names]
    out = frame.copy()
    out.columns = names
    if out.columns.duplicated().any():
        dups = sorted(set(out.columns[out.columns.duplicated()]))
        raise ApgeoValueError(
            f"placement file: column(s) {dups} appear twice (after normalising header names); "
            "keep one of each"
        )
    return out.reset_index(drop=True)


def _parse_key_stage(value: object) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip().upper().replace("KEY STAGE", "KS").replace(" ", "")
    if text.isdigit():
        text = "KS" + text
    return text if text in S.KEY_STAGE_NAMES else None


def _parse_dates(series: pd.Series) -> pd.Series:
    """ISO dates (also Excel's 'YYYY-MM-DD 00:00:00') or UK day-first dd/mm/yyyy."""
    text = series.astype("string").str.strip()
    iso = pd.to_datetime(text, errors="coerce", format="ISO8601")
    uk = pd.to_datetime(text, errors="coerce", format="%d/%m/%Y")
    return iso.fillna(uk)


def load_placements(
    source: str | Path | pd.DataFrame,
    *,
    as_of: dt.date | str,
    providers: pd.DataFrame | None = None,
    schools: pd.DataFrame | None = None,
    demand: pd.DataFrame | None = None,
    lookup: Any = None,
    duplicates: Literal["error", "drop"] = "error",
    sheet_name: str | int = 0,
    strict: bool = False,
) -> pd.DataFrame:
    """Read, validate, geocode and aggregate placements: counts, never pupil rows.

    Parameters
    ----------
    source
        A ``.csv`` / ``.xlsx`` file or a DataFrame with the columns of
        :data:`PLACEMENT_COLUMNS`: ``home_postcode`` and/or ``home_lsoa``,
        ``school_urn`` (referring school, GIAS URN), ``site_id`` and/or ``provider_id``
        (a provider id or its URN), ``key_stage`` (``KS3``, ``3``...), ``start_date``
        (``YYYY-MM-DD`` or ``dd/mm/yyyy``), ``sessions_per_week`` (half-days, 0-10).
        A ``synthetic`` column (all true) marks synthetic data.
    as_of
        The date the file describes; a start date after it is an error. Always given
        explicitly so results do not depend on the day they are run.
    providers
        Provider sites (default :func:`apgeo.providers.load_sheffield_providers`).
    schools
        School lookup (default :func:`load_schools`, the GIAS extract).
    demand
        Demand areas with ``area_id`` (default :func:`apgeo.demand.load_demand`);
        homes in other LSOAs are left out with a warning.
    lookup
        A :class:`apgeo.geocode.PostcodeLookup` (default: the committed postcode data).
    duplicates
        ``"error"`` (default): identical rows are an error, as they are usually entered
        twice; ``"drop"``: keep the first of each and warn.
    sheet_name
        Excel sheet to read.
    strict
        Turn warnings (homes that cannot be placed, sites not listing the key stage)
        into errors.

    Returns
    -------
    pandas.DataFrame
        One row per home LSOA x referring school x site x key stage: ``area_id``,
        ``school_urn``, ``provider_id``, ``site_id``, ``key_stage``, ``placements``,
        ``sessions_per_week_total``. NOT suppressed: for analysis, never for
        publication. ``attrs``: ``synthetic``, ``title``, ``as_of``, ``source``,
        ``rows_read``, ``rows_counted``.

    Raises
    ------
    MissingColumnError
        A required column is missing.
    ApgeoValueError
        Unknown school URN or provider / site, bad key stage, date or sessions, start
        date after ``as_of``, duplicate rows. The message lists every problem with its
        spreadsheet row numbers (header = row 1) and never shows a postcode.
    """
    as_of_date = _as_date(as_of, name="as_of")
    if duplicates not in ("error", "drop"):
        raise ApgeoValueError(f"duplicates must be 'error' or 'drop', not {duplicates!r}")
    if isinstance(source, pd.DataFrame):
        frame = _normalise_headers(source)
        label = "placements table"
        synthetic_attr = _synthetic_flag(source)
    else:
        frame = read_placement_file(source, sheet_name=sheet_name)
        label = f"placement file {Path(source).name}"
        synthetic_attr = False
    require_rows(frame, source=label)
    if HOME_POSTCODE not in frame.columns and HOME_LSOA not in frame.columns:
        require_columns(frame, [HOME_POSTCODE], source=f"{label} (or give {HOME_LSOA!r})")
    if S.SITE_ID not in frame.columns and S.PROVIDER_ID not in frame.columns:
        require_columns(frame, [S.SITE_ID], source=f"{label} (or give {S.PROVIDER_ID!r})")
    require_columns(frame, [SCHOOL_URN, KEY_STAGE, START_DATE, SESSIONS_PER_WEEK], source=label)

    synthetic = synthetic_attr
    if SYNTHETIC in frame.columns:
        flag = frame[SYNTHETIC].astype(str).str.strip().str.lower().isin(["true", "1", "yes"])
        if flag.any() and not flag.all():
            raise ApgeoValueError(
                f"{label}: column 'synthetic' is true for some rows only (e.g. row(s) "
                f"{row_numbers(frame.index[~flag], limit=5)} are not); never mix synthetic and real placements"
            )
        synthetic = synthetic or bool(flag.all())

    # ---- reference tables
    if providers is None:
        from apgeo.providers import load_sheffield_providers

        providers = load_sheffield_providers()
    require_columns(providers, [S.PROVIDER_ID, S.SITE_ID, S.URN], source="providers")
    schools = load_schools() if schools is None else schools
    require_columns(schools, [S.URN], source="schools")
    if demand is None:
        from apgeo.demand import load_demand

        demand = load_demand()
    require_columns(demand, [S.AREA_ID], source="demand")

    problems: list[str] = []

    def problem(mask: pd.Series | np.ndarray, text: str) -> None:
        m = np.asarray(mask, dtype=bool)
        if m.any():
            problems.append(f"{text} at row(s) {row_numbers(frame.index[m])}")

    # ---- duplicates (before anything else changes the rows)
    dup = frame.duplicated(keep="first")
    if dup.any():
        first_of = {
            tuple(r): i for i, r in zip(frame.index[::-1], frame.iloc[::-1].itertuples(index=False))
        }
        pairs = [
            f"{int(first_of[tuple(r)]) + 2} = {int(i) + 2}"
            for i, r in zip(frame.index[dup], frame[dup].itertuples(index=False))
        ]
        if duplicates == "error":
            problems.append(
                f"{int(dup.sum())} row(s) repeat an earlier row exactly (rows {', '.join(pairs[:10])}); "
                "remove the copies, or pass duplicates='drop' if they are known double entries"
            )
        else:
            warn(
                f"{label}: {int(dup.sum())} duplicate row(s) dropped (rows {', '.join(pairs[:10])})",
                strict=strict,
            )
            frame = frame[~dup.to_numpy()]

    # ---- referring school
    urn = frame[SCHOOL_URN].map(_clean_urn)
    problem(urn == "", "'school_urn' is empty")
    known_urns = set(schools[S.URN].map(_clean_urn))
    unknown = (urn != "") & ~urn.isin(known_urns)
    if unknown.any():
        examples = ", ".join(sorted(set(urn[unknown]))[:5])
        problem(unknown, f"'school_urn' is not a school in the GIAS extract (e.g. URN {examples})")

    # ---- provider / site
    prov = pd.DataFrame(providers.drop(columns="geometry", errors="ignore"))
    site_col = frame[S.SITE_ID].astype("string").str.strip() if S.SITE_ID in frame.columns else None
    prov_col = frame[S.PROVIDER_ID].astype("string").str.strip() if S.PROVIDER_ID in frame.columns else None
    site_of = pd.Series(pd.NA, index=frame.index, dtype="string")
    site_ids = set(prov[S.SITE_ID].astype(str))
    provider_of_site = dict(zip(prov[S.SITE_ID].astype(str), prov[S.PROVIDER_ID].astype(str)))
    if site_col is not None:
        given = site_col.notna() & (site_col != "")
        bad = given & ~site_col.isin(site_ids)
        if bad.any():
            examples = ", ".join(sorted(set(site_col[bad].astype(str)))[:5])
            problem(bad, f"'site_id' is not a known provider site (e.g. {examples})")
        site_of[given & ~bad] = site_col[given & ~bad]
    if prov_col is not None:
        sites_by_provider: dict[str, list[str]] = {}
        for pid, sid, purn in zip(prov[S.PROVIDER_ID].astype(str), prov[S.SITE_ID].astype(str), prov[S.URN]):
            sites_by_provider.setdefault(pid, []).append(sid)
            if _clean_urn(purn):
                sites_by_provider.setdefault(_clean_urn(purn), []).append(sid)
        need = site_of.isna() & prov_col.notna() & (prov_col != "")
        resolved = prov_col.map(lambda v: sites_by_provider.get(_clean_urn(v), []) if pd.notna(v) else [])
        none = need & (resolved.map(len) == 0)
        if none.any():
            examples = ", ".join(sorted(set(prov_col[none].astype(str)))[:5])
            problem(none, f"'provider_id' is not a known provider id or URN (e.g. {examples})")
        many = need & (resolved.map(len) > 1)
        problem(many, "the provider has several sites; give 'site_id'")
        one = need & (resolved.map(len) == 1)
        site_of[one] = resolved[one].map(lambda v: v[0])
        both = ~need & site_of.notna() & prov_col.notna() & (prov_col != "")
        if both.any():
            mismatch = both & ~pd.Series(
                [
                    s in sites_by_provider.get(_clean_urn(p), [])
                    for s, p in zip(site_of.fillna(""), prov_col.fillna(""))
                ],
                index=frame.index,
            )
            problem(mismatch, "'site_id' does not belong to the 'provider_id' given")
    given_any = pd.Series(False, index=frame.index)
    for col in (site_col, prov_col):
        if col is not None:
            given_any |= (col.notna() & (col != "")).fillna(False).astype(bool)
    problem(~given_any, "no 'site_id' or 'provider_id' given")

    # ---- key stage, dates, sessions
    ks = frame[KEY_STAGE].map(_parse_key_stage)
    problem(ks.isna(), "'key_stage' is not one of KS1..KS5")
    start = _parse_dates(frame[START_DATE])
    problem(start.isna(), "'start_date' is empty or not a date (use YYYY-MM-DD or dd/mm/yyyy)")
    future = start.notna() & (start.dt.date > as_of_date)
    problem(future, f"'start_date' is after as_of ({as_of_date.isoformat()})")
    sessions = pd.to_numeric(frame[SESSIONS_PER_WEEK].astype("string").str.strip(), errors="coerce")
    problem(
        sessions.isna() | (sessions <= 0) | (sessions > MAX_SESSIONS_PER_WEEK),
        f"'sessions_per_week' is not a number of half-day sessions from more than 0 to {MAX_SESSIONS_PER_WEEK:g}",
    )
    if problems:
        raise ApgeoValueError(
            f"{label}: {len(problems)} problem(s) found; fix them and load again:\n  - "
            + "\n  - ".join(problems)
        )

    # ---- site serves the key stage? (warn only)
    stages = dict(zip(prov[S.SITE_ID].astype(str), prov[S.KEY_STAGES].map(S.parse_key_stages)))
    not_served = pd.Series(
        [k not in stages.get(str(s), ()) for s, k in zip(site_of, ks)], index=frame.index
    )
    if not_served.any():
        warn(
            f"{label}: {int(not_served.sum())} placement(s) at a site that does not list the pupil's "
            f"key stage (row(s) {row_numbers(frame.index[not_served.to_numpy()])}); they are kept - "
            "check the provider's key stages",
            strict=strict,
        )

    # ---- home area: postcode centroid -> LSOA, else the LSOA given
    area = pd.Series(pd.NA, index=frame.index, dtype="string")
    if HOME_LSOA in frame.columns:
        area = frame[HOME_LSOA].astype("string").str.strip().str.upper().replace({"": pd.NA})
    if HOME_POSTCODE in frame.columns:
        if lookup is None:
            from apgeo.geocode import PostcodeLookup

            lookup = PostcodeLookup.from_data_dir()
        located = lookup.locate(frame[HOME_POSTCODE])
        from_pc = located["lsoa11cd"].astype("string")
        area = from_pc.fillna(area)
        terminated = (located["postcode_status"] == "terminated") & from_pc.notna()
        if terminated.any():
            logger.info(
                "%s: %d terminated postcode(s) placed at their last centroid (rows %s)",
                label,
                int(terminated.sum()),
                row_numbers(frame.index[terminated.to_numpy()]),
            )
    unplaced = area.isna()
    if unplaced.any():
        # row numbers only: never echo a pupil's postcode into a log or message
        warn(
            f"{label}: {int(unplaced.sum())} row(s) have no home postcode or LSOA that can be placed "
            f"(row(s) {row_numbers(frame.index[unplaced.to_numpy()])}); they are not counted",
            strict=strict,
        )
    outside = ~unplaced & ~area.isin(set(demand[S.AREA_ID].astype(str)))
    if outside.any():
        warn(
            f"{label}: {int(outside.sum())} row(s) have a home outside the study area's LSOAs "
            f"(row(s) {row_numbers(frame.index[outside.to_numpy()])}); they are not counted",
            strict=strict,
        )
    keep = (~unplaced & ~outside).to_numpy()

    # ---- aggregate at once: nothing below LSOA level survives this point
    rows = pd.DataFrame(
        {
            S.AREA_ID: area[keep].astype(str).to_numpy(),
            SCHOOL_URN: urn[keep].to_numpy(),
            S.SITE_ID: site_of[keep].astype(str).to_numpy(),
            KEY_STAGE: ks[keep].to_numpy(),
            SESSIONS_PER_WEEK: sessions[keep].astype(float).to_numpy(),
        }
    )
    rows[S.PROVIDER_ID] = rows[S.SITE_ID].map(provider_of_site)
    keys = [S.AREA_ID, SCHOOL_URN, S.PROVIDER_ID, S.SITE_ID, KEY_STAGE]
    out = (
        rows.groupby(keys, sort=True)
        .agg(**{PLACEMENTS: (SESSIONS_PER_WEEK, "size"), SESSIONS_PER_WEEK_TOTAL: (SESSIONS_PER_WEEK, "sum")})
        .reset_index()
    )
    out[PLACEMENTS] = out[PLACEMENTS].astype(int)
    out.attrs.update(
        {
            "as_of": as_of_date.isoformat(),
            "source": label,
            "rows_read": len(keep) + (int(dup.sum()) if duplicates == "drop" else 0),
            "rows_counted": int(keep.sum()),
            "publishable": False,
        }
    )
    return _stamp(out, synthetic=synthetic, title="placement counts (not suppressed: not for publication)")


# ======================================================================================
# Travel burden
# ======================================================================================


def _located_sites(providers: pd.DataFrame) -> pd.DataFrame:
    frame = pd.DataFrame(providers.drop(columns="geometry", errors="ignore"))
    if S.LOCATED in frame.columns:
        frame = frame[frame[S.LOCATED].fillna(False).astype(bool)]
    return frame


def placement_travel_times(
    placements: pd.DataFrame,
    travel_times: pd.DataFrame,
    *,
    mode: str,
    providers: pd.DataFrame | None = None,
    demand: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Attach each placement cell's travel time and its excess over the nearest suitable site.

    Parameters
    ----------
    placements
        Counts from :func:`load_placements`.
    travel_times
        The seam: ``origin_id`` (home LSOA), ``destination_id`` (site), ``travel_time_s``
        (NaN = unreachable), optionally ``mode`` (only rows of ``mode`` are used). Any
        engine: straight-line, network (walk / cycle / drive) or transit when available.
    mode
        Travel mode label.
    providers
        Provider sites with ``site_id``, ``kind``, ``key_stages`` (default: Sheffield).
        The *nearest suitable* site for a placement is the nearest site (in
        ``travel_times``) that lists the placement's key stage.
    demand
        Areas with ``area_id``, ``imd_decile``, ``idaci_decile`` (default: Sheffield).

    Returns
    -------
    pandas.DataFrame
        The placement counts plus ``mode``, ``kind``, ``imd_decile``, ``idaci_decile``,
        ``travel_time_s`` (NaN when the pair has no time), ``nearest_suitable_time_s``,
        ``nearest_suitable_site_id`` and ``excess_time_s`` (actual minus nearest
        suitable). Not suppressed: for analysis only.
    """
    require_columns(placements, [S.AREA_ID, SCHOOL_URN, S.SITE_ID, KEY_STAGE, PLACEMENTS], source="placements")
    require_columns(travel_times, [S.ORIGIN_ID, S.DESTINATION_ID, S.TRAVEL_TIME_S], source="travel_times")
    if not isinstance(mode, str) or not mode.strip():
        raise ApgeoValueError(f"mode must be a non-empty label such as 'walk' or 'drive'; got {mode!r}")
    tt = travel_times
    if S.MODE in tt.columns:
        tt = tt[tt[S.MODE].astype(str) == mode]
        if len(tt) == 0:
            modes = sorted(set(map(str, travel_times[S.MODE].dropna())))
            raise ApgeoValueError(
                f"travel_times has no rows for mode {mode!r}; modes in the table: {modes or '(none)'}"
            )
    tt = pd.DataFrame(
        {
            S.ORIGIN_ID: tt[S.ORIGIN_ID].astype(str).to_numpy(),
            S.DESTINATION_ID: tt[S.DESTINATION_ID].astype(str).to_numpy(),
            S.TRAVEL_TIME_S: pd.to_numeric(tt[S.TRAVEL_TIME_S], errors="coerce").to_numpy(dtype=float),
        }
    )
    tt.loc[~np.isfinite(tt[S.TRAVEL_TIME_S]), S.TRAVEL_TIME_S] = np.nan
    if (tt[S.TRAVEL_TIME_S] < 0).any():
        raise ApgeoValueError("travel_times: negative travel_time_s; times must be >= 0 seconds (NaN = unreachable)")
    if tt.duplicated([S.ORIGIN_ID, S.DESTINATION_ID]).any():
        raise ApgeoValueError(
            "travel_times: some origin/destination pairs appear more than once; keep one time per pair and mode"
        )
    if providers is None:
        from apgeo.providers import load_sheffield_providers

        providers = load_sheffield_providers()
    require_columns(providers, [S.SITE_ID, S.KIND, S.KEY_STAGES], source="providers")
    if demand is None:
        from apgeo.demand import load_demand

        demand = load_demand()
    require_columns(demand, [S.AREA_ID, S.IMD_DECILE], source="demand")

    prov = pd.DataFrame(providers.drop(columns="geometry", errors="ignore"))
    prov[S.SITE_ID] = prov[S.SITE_ID].astype(str)
    out = placements.copy()
    out.insert(0, S.MODE, mode)
    out[S.KIND] = out[S.SITE_ID].map(dict(zip(prov[S.SITE_ID], prov[S.KIND].astype(str))))
    areas = pd.DataFrame(demand.drop(columns="geometry", errors="ignore")).set_index(S.AREA_ID)
    out[S.IMD_DECILE] = out[S.AREA_ID].map(areas[S.IMD_DECILE])
    if S.IDACI_DECILE in areas.columns:
        out[S.IDACI_DECILE] = out[S.AREA_ID].map(areas[S.IDACI_DECILE])
    times = tt.set_index([S.ORIGIN_ID, S.DESTINATION_ID])[S.TRAVEL_TIME_S]
    pairs = pd.MultiIndex.from_arrays([out[S.AREA_ID].astype(str), out[S.SITE_ID].astype(str)])
    out[S.TRAVEL_TIME_S] = times.reindex(pairs).to_numpy(dtype=float)

    serves = dict(zip(prov[S.SITE_ID], prov[S.KEY_STAGES].map(S.parse_key_stages)))
    tt = tt[tt[S.DESTINATION_ID].isin(set(_located_sites(prov)[S.SITE_ID].astype(str)))]
    tt = tt.dropna(subset=[S.TRAVEL_TIME_S])
    nearest_t = np.full(len(out), np.nan)
    nearest_s = np.full(len(out), None, dtype=object)
    for ks in S.KEY_STAGE_NAMES:
        rows = (out[KEY_STAGE] == ks).to_numpy()
        if not rows.any():
            continue
        sub = tt[tt[S.DESTINATION_ID].map(lambda s, k=ks: k in serves.get(s, ()))]
        if len(sub) == 0:
            continue
        best = sub.sort_values([S.TRAVEL_TIME_S, S.DESTINATION_ID], kind="stable").drop_duplicates(S.ORIGIN_ID)
        best = best.set_index(S.ORIGIN_ID)
        origin = out.loc[rows, S.AREA_ID].astype(str)
        nearest_t[rows] = best[S.TRAVEL_TIME_S].reindex(origin).to_numpy(dtype=float)
        nearest_s[rows] = best[S.DESTINATION_ID].reindex(origin).to_numpy()
    out[NEAREST_SUITABLE_TIME_S] = nearest_t
    out[NEAREST_SUITABLE_SITE_ID] = nearest_s
    out[EXCESS_TIME_S] = out[S.TRAVEL_TIME_S] - out[NEAREST_SUITABLE_TIME_S]
    out.attrs = dict(placements.attrs)
    out.attrs["mode"] = mode
    if "method" in travel_times.attrs:
        out.attrs["method"] = travel_times.attrs["method"]
    return _stamp(out, synthetic=_synthetic_flag(placements), title=f"placement travel times ({mode}; not for publication)")


def band_columns(thresholds_min: Sequence[float] = DEFAULT_BURDEN_THRESHOLDS_MIN) -> list[str]:
    """Count columns of a burden table: ``placements_within_30_min``,
    ``placements_30_to_45_min``, ``placements_45_to_60_min``, ``placements_over_60_min``,
    ``placements_no_time``."""
    t = [f"{float(x):g}" for x in thresholds_min]
    cols = [f"placements_within_{t[0]}_min"]
    cols += [f"placements_{a}_to_{b}_min" for a, b in itertools.pairwise(t)]
    cols += [f"placements_over_{t[-1]}_min", PLACEMENTS_NO_TIME]
    return cols


def _share_over_column(threshold_min: float) -> str:
    return f"share_over_{float(threshold_min):g}_min"


def _check_thresholds(thresholds_min: Sequence[float]) -> list[float]:
    values = [float(x) for x in thresholds_min]
    if not values or any(not np.isfinite(v) or v <= 0 for v in values) or any(
        b <= a for a, b in itertools.pairwise(values)
    ):
        raise ApgeoValueError(
            f"thresholds_min must be positive, increasing minutes such as (30, 45, 60); got {list(thresholds_min)}"
        )
    return values


def _group_values(pt: pd.DataFrame, by: str) -> pd.Series:
    if by not in BURDEN_DIMENSIONS:
        raise ApgeoValueError(f"by must be one of {list(BURDEN_DIMENSIONS)}, not {by!r}")
    require_columns(pt, [by], source="placement travel times")
    values = pt[by]
    if by == "imd_decile":
        return values.map(lambda v: "unknown" if pd.isna(v) else str(int(v)))
    return values.astype(str)


def _band_index(times_s: pd.Series, thresholds_min: Sequence[float]) -> np.ndarray:
    t = times_s.to_numpy(dtype=float) / 60.0
    edges = np.asarray(thresholds_min, dtype=float)
    idx = np.searchsorted(edges, t, side="left")  # t <= edge -> that band (inclusive)
    return np.where(np.isnan(t), len(edges) + 1, idx)


def _burden_counts(pt: pd.DataFrame, by: str, thresholds_min: Sequence[float]) -> pd.DataFrame:
    cols = band_columns(thresholds_min)
    groups = _group_values(pt, by)
    band = _band_index(pt[S.TRAVEL_TIME_S], thresholds_min)
    frame = pd.DataFrame({"g": groups.to_numpy(), "b": band, "n": pt[PLACEMENTS].to_numpy(dtype=float)})
    table = frame.pivot_table(index="g", columns="b", values="n", aggfunc="sum", fill_value=0.0)
    table = table.reindex(columns=range(len(cols)), fill_value=0.0)
    table.columns = cols
    order = sorted(table.index, key=lambda v: (int(v) if str(v).isdigit() else 10**9, str(v)))
    table = table.loc[order]
    table.index.name = by
    return table


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    ok = ~np.isnan(values) & (weights > 0)
    if not ok.any():
        return float("nan")
    v, w = values[ok], weights[ok]
    order = np.argsort(v, kind="stable")
    v, w = v[order], w[order]
    cum = np.cumsum(w)
    half = cum[-1] / 2.0
    i = int(np.searchsorted(cum, half, side="left"))
    if cum[i] == half and i + 1 < len(v):
        return float((v[i] + v[i + 1]) / 2.0)
    return float(v[i])


def _group_stats(pt: pd.DataFrame, by: str) -> pd.DataFrame:
    groups = _group_values(pt, by)
    rows: dict[str, dict[str, float]] = {}
    for label, idx in [*groups.groupby(groups, sort=False).groups.items(), (ALL, pt.index)]:
        part = pt.loc[idx]
        n = part[PLACEMENTS].to_numpy(dtype=float)
        t = part[S.TRAVEL_TIME_S].to_numpy(dtype=float)
        e = part[EXCESS_TIME_S].to_numpy(dtype=float) if EXCESS_TIME_S in part else np.full(len(part), np.nan)
        known = ~np.isnan(t)
        known_e = ~np.isnan(e)
        rows[str(label)] = {
            MEAN_TRAVEL_TIME_S: float((t[known] * n[known]).sum() / n[known].sum()) if n[known].sum() else np.nan,
            MEDIAN_TRAVEL_TIME_S: _weighted_median(t, n),
            MEAN_EXCESS_TIME_S: float((e[known_e] * n[known_e]).sum() / n[known_e].sum()) if n[known_e].sum() else np.nan,
        }
    return pd.DataFrame.from_dict(rows, orient="index")


def _group_names(pt: pd.DataFrame, by: str, labels: Iterable[str], names: Mapping[str, str] | None) -> list[str]:
    lookup = dict(names or {})
    if by == "kind":
        from apgeo.schema import ProviderKind

        for k in ProviderKind:
            lookup.setdefault(k.value, k.value.replace("_", " "))
    elif by == "key_stage":
        lookup.update({k: f"Key stage {k[2:]}" for k in S.KEY_STAGE_NAMES})
    elif by == "imd_decile":
        lookup.update({str(d): f"IMD decile {d}" + (" (most deprived)" if d == 1 else "") for d in range(1, 11)})
    lookup[ALL] = "All placements"
    return [lookup.get(str(v), "") for v in labels]


def _finish_burden(
    pt: pd.DataFrame,
    by: str,
    protected: pd.DataFrame,
    mask: pd.DataFrame,
    thresholds_min: Sequence[float],
    *,
    names: Mapping[str, str] | None,
) -> pd.DataFrame:
    limit = int(protected.attrs.get("threshold", get_settings().suppression_threshold))
    cols = band_columns(thresholds_min)
    out = protected.rename(columns={ALL: PLACEMENTS})
    out = out[[PLACEMENTS, *cols]]
    known_total = out[PLACEMENTS] - out[PLACEMENTS_NO_TIME]  # NaN when either is suppressed
    bands = out[cols[:-1]]
    for k, tm in enumerate(thresholds_min):
        above = bands.iloc[:, k + 1 :]
        below = bands.iloc[:, : k + 1]
        over = above.sum(axis=1, min_count=1).where(above.notna().all(axis=1))
        over = over.fillna((known_total - below.sum(axis=1)).where(below.notna().all(axis=1)))
        out[_share_over_column(tm)] = (over / known_total).where(known_total > 0)
    stats = _group_stats(pt, by).reindex(out.index.astype(str))
    ok = (known_total >= limit).to_numpy()
    for col in stats.columns:
        out[col] = np.where(ok, stats[col].to_numpy(dtype=float), np.nan)
    out[SUPPRESSED] = mask.loc[:, [ALL, *cols]].any(axis=1).to_numpy()
    labels = [str(v) for v in out.index]
    out.insert(0, GROUP_NAME, _group_names(pt, by, labels, names))
    out.insert(0, GROUP, labels)
    out.insert(0, GROUP_BY, by)
    out.insert(0, S.MODE, pt[S.MODE].iloc[0] if S.MODE in pt.columns and len(pt) else "")
    out = out.reset_index(drop=True)
    out.attrs = {"threshold": limit, "thresholds_min": list(thresholds_min), "mode": pt.attrs.get("mode")}
    return _stamp(out, synthetic=_synthetic_flag(pt), title=f"travel burden of AP placements by {by.replace('_', ' ')}")


def burden_table(
    placement_times: pd.DataFrame,
    *,
    by: BurdenDimension = "key_stage",
    thresholds_min: Sequence[float] = DEFAULT_BURDEN_THRESHOLDS_MIN,
    threshold: int | None = None,
    names: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Share of placements over 30 / 45 / 60 minutes and excess travel, by one dimension.

    One table on its own is safe; to publish several, use
    :func:`publish_placement_tables`, which keeps shared totals consistent.

    Parameters
    ----------
    placement_times
        From :func:`placement_travel_times`.
    by
        ``"key_stage"``, ``"kind"`` (provider kind), ``"imd_decile"`` (of the home
        LSOA, 1 = most deprived), ``"school_urn"`` (referring school) or ``"provider_id"``.
    thresholds_min
        Band limits in minutes (inclusive upper limits, DfT style).
    threshold
        Smallest count shown (default 5).
    names
        Optional labels for the group values (e.g. school names by URN).

    Returns
    -------
    pandas.DataFrame
        One row per group then ``group == "all"``. Columns: ``mode``, ``group_by``,
        ``group``, ``group_name``, ``placements``, the band counts of
        :func:`band_columns` (NaN = suppressed), ``share_over_<t>_min`` (among
        placements with a time; NaN unless it follows from shown counts),
        ``mean_travel_time_s``, ``median_travel_time_s``, ``mean_excess_time_s``
        (NaN unless at least ``threshold`` placements with a time are shown) and
        ``suppressed`` (any count of the row hidden).
    """
    thresholds = _check_thresholds(thresholds_min)
    counts = _burden_counts(placement_times, by, thresholds)
    protected, mask = _protect_frame(counts, threshold=threshold)
    return _finish_burden(placement_times, by, protected, mask, thresholds, names=names)


def furthest_schools(burden_by_school: pd.DataFrame, *, top: int = 10) -> pd.DataFrame:
    """Referring schools whose placed pupils travel furthest (from a by-school burden table).

    Only schools whose figures are shown (enough placements) are ranked, by
    ``mean_travel_time_s``, longest first; ``attrs["schools_not_shown"]`` counts the others.
    """
    if top < 1:
        raise ApgeoValueError(f"top must be >= 1, not {top!r}")
    require_columns(burden_by_school, [GROUP_BY, GROUP, MEAN_TRAVEL_TIME_S], source="burden table")
    if set(burden_by_school[GROUP_BY]) != {"school_urn"}:
        raise ApgeoValueError("furthest_schools needs burden_table(..., by='school_urn')")
    schools = burden_by_school[burden_by_school[GROUP] != ALL]
    shown = schools.dropna(subset=[MEAN_TRAVEL_TIME_S])
    out = shown.sort_values([MEAN_TRAVEL_TIME_S, GROUP], ascending=[False, True], kind="stable").head(top)
    out = out.rename(columns={GROUP: SCHOOL_URN, GROUP_NAME: SCHOOL_NAME}).drop(columns=[GROUP_BY])
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    out = out.reset_index(drop=True)
    out.attrs = {"schools_not_shown": int(len(schools) - len(shown))}
    return _stamp(out, synthetic=_synthetic_flag(burden_by_school), title="referring schools whose placed pupils travel furthest")


# ======================================================================================
# Flows: referring school -> provider
# ======================================================================================


def _flow_counts(placements: pd.DataFrame, level: FlowLevel) -> pd.DataFrame:
    if level not in ("provider", "site"):
        raise ApgeoValueError(f"level must be 'provider' or 'site', not {level!r}")
    col = S.PROVIDER_ID if level == "provider" else S.SITE_ID
    require_columns(placements, [SCHOOL_URN, col, PLACEMENTS], source="placements")
    table = placements.pivot_table(index=SCHOOL_URN, columns=col, values=PLACEMENTS, aggfunc="sum", fill_value=0)
    table = table.astype(float).sort_index().sort_index(axis=1)
    table.index.name, table.columns.name = SCHOOL_URN, col
    return table


def _kind_groups(placements: pd.DataFrame, level: FlowLevel) -> dict[object, list[object]]:
    col = S.PROVIDER_ID if level == "provider" else S.SITE_ID
    if S.KIND not in placements.columns:
        return {}
    pairs = placements[[col, S.KIND]].drop_duplicates()
    return {k: sorted(g[col]) for k, g in pairs.groupby(S.KIND)}


def flow_matrix(
    placements: pd.DataFrame,
    *,
    level: FlowLevel = "provider",
    threshold: int | None = None,
) -> pd.DataFrame:
    """Referring school x provider (or site) matrix of placements, suppressed, with totals.

    Parameters
    ----------
    placements
        Counts from :func:`load_placements` or :func:`placement_travel_times` (with
        ``kind``, totals by provider kind are treated as published elsewhere, so the
        matrix is also safe next to a burden table by kind).
    level
        Columns are providers (``provider_id``) or sites (``site_id``).
    threshold
        Smallest count shown (default 5).

    Returns
    -------
    pandas.DataFrame
        Index: school URNs then ``"all"``; columns: provider (site) ids then ``"all"``.
        NaN = suppressed (1-4, or hidden to protect another cell); 0 = no placements.
    """
    table = _flow_counts(placements, level)
    out = protect_table(table, threshold=threshold, column_groups=_kind_groups(placements, level))
    must_hide = out.attrs.get(HIDDEN_COLUMN_GROUPS, [])
    out.attrs = {HIDDEN_COLUMN_GROUPS: must_hide} if must_hide else {}
    if must_hide:
        warn(
            f"flow_matrix: the totals of provider kinds {must_hide} must be suppressed in any "
            "published table by kind; use publish_placement_tables to publish tables together"
        )
    return _stamp(out, synthetic=_synthetic_flag(placements), title=f"placements by referring school and {level}")


def flow_lines(
    matrix: pd.DataFrame,
    *,
    providers: pd.DataFrame | None = None,
    schools: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The school -> provider pairs of a :func:`flow_matrix`, with end points for a map.

    Returns
    -------
    pandas.DataFrame
        One row per pair with placements (shown or suppressed; zero pairs are left out):
        ``school_urn``, ``school_name``, ``destination_id``, ``destination_name``,
        ``placements`` (NaN = suppressed), ``suppressed``, ``school_easting``,
        ``school_northing``, ``destination_easting``, ``destination_northing``
        (EPSG:27700; NaN when not located). Institutions only: no home locations.
    """
    if ALL not in matrix.index or ALL not in matrix.columns:
        raise ApgeoValueError("flow_lines needs a matrix from flow_matrix() (with 'all' totals)")
    level_col = matrix.columns.name or S.PROVIDER_ID
    cells = matrix.drop(index=ALL, columns=ALL)
    long = cells.stack(future_stack=True).reset_index()
    long.columns = [SCHOOL_URN, S.DESTINATION_ID, PLACEMENTS]
    long = long[long[PLACEMENTS].isna() | (long[PLACEMENTS] > 0)].reset_index(drop=True)
    long[SUPPRESSED] = long[PLACEMENTS].isna()
    schools = load_schools() if schools is None else schools
    sch = schools.set_index(schools[S.URN].map(_clean_urn))
    long.insert(1, SCHOOL_NAME, long[SCHOOL_URN].map(sch[SCHOOL_NAME]) if SCHOOL_NAME in sch else "")
    if providers is None:
        from apgeo.providers import load_sheffield_providers

        providers = load_sheffield_providers()
    sites = providers
    if "geometry" in providers.columns:
        located = ~(providers.geometry.isna() | providers.geometry.is_empty)
        sites = providers[located]
        xy = pd.DataFrame(
            {S.EASTING: sites.geometry.x.to_numpy(), S.NORTHING: sites.geometry.y.to_numpy()}, index=sites.index
        )
    else:
        xy = pd.DataFrame({S.EASTING: np.nan, S.NORTHING: np.nan}, index=sites.index)
    key = S.PROVIDER_ID if level_col == S.PROVIDER_ID else S.SITE_ID
    ends = pd.concat([pd.DataFrame(sites[list(dict.fromkeys([key, S.NAME, S.SITE_ID]))]), xy], axis=1)
    ends = ends.sort_values([key, S.SITE_ID]).drop_duplicates(key).set_index(key)
    names = dict(zip(providers[key].astype(str), providers[S.NAME].astype(str)))
    long.insert(3, DESTINATION_NAME, long[S.DESTINATION_ID].astype(str).map(names))
    long[SCHOOL_EASTING] = long[SCHOOL_URN].map(sch[S.EASTING]).astype(float)
    long[SCHOOL_NORTHING] = long[SCHOOL_URN].map(sch[S.NORTHING]).astype(float)
    long[DESTINATION_EASTING] = long[S.DESTINATION_ID].map(ends[S.EASTING]).astype(float)
    long[DESTINATION_NORTHING] = long[S.DESTINATION_ID].map(ends[S.NORTHING]).astype(float)
    long.attrs = {"level": level_col}
    return _stamp(long, synthetic=_synthetic_flag(matrix), title="referring school to provider flows")


# ======================================================================================
# Consistent publication of several tables
# ======================================================================================


def _with_totals(counts: pd.DataFrame) -> pd.DataFrame:
    """``counts`` with a total column and a total row labelled ``"all"``."""
    full = counts.astype(float).copy()
    full[ALL] = full.sum(axis=1)
    full.loc[ALL] = full.sum(axis=0)
    return full


Entry = tuple[str, object, object]


def _protect_jointly(
    frames: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]],
    same: Iterable[tuple[Entry, Entry]],
    sums: Iterable[tuple[Entry, Sequence[Entry]]],
) -> dict[str, pd.DataFrame]:
    """The audit of all published tables at once: hide more until nothing is disclosed.

    ``frames`` maps a table name to ``(values, hidden mask)``, both with ``"all"``
    totals; ``same`` pairs entries that are one quantity published in two tables (hidden
    in both, or shown in both); ``sums`` says an entry equals the sum of others (a kind
    total and its providers' totals in the flow matrix). Tables audited one at a time can
    still leak together; this finds and closes any such leak. Returns the new masks.
    """
    pos: dict[Entry, int] = {}
    grids: dict[str, np.ndarray] = {}
    for name, (full, _) in frames.items():
        r, c = full.shape
        grids[name] = np.arange(len(pos), len(pos) + r * c).reshape(r, c)
        for i, row in enumerate(full.index):
            for j, col in enumerate(full.columns):
                pos[(name, row, col)] = int(grids[name][i, j])
    n = len(pos)
    parent = np.arange(n)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    for a, b in same:
        if a in pos and b in pos:
            ra, rb = root(pos[a]), root(pos[b])
            parent[max(ra, rb)] = min(ra, rb)
    reps = np.array([root(i) for i in range(n)])
    uniq, col_of = np.unique(reps, return_inverse=True)
    values = np.zeros(len(uniq))
    hidden = np.zeros(len(uniq), dtype=bool)
    cell = np.zeros(len(uniq), dtype=bool)
    grand = np.zeros(len(uniq), dtype=bool)
    rows: list[np.ndarray] = []
    for name, (full, mask) in frames.items():
        grid = grids[name]
        values[col_of[grid.ravel()]] = full.to_numpy(dtype=float).ravel()
        np.logical_or.at(hidden, col_of[grid.ravel()], mask.to_numpy(dtype=bool).ravel())
        cell[col_of[grid[:-1, :-1].ravel()]] = True
        grand[col_of[grid[-1, -1]]] = True
        for i in range(grid.shape[0] - 1):  # row i: cells minus its total
            e = np.zeros(len(uniq))
            np.add.at(e, col_of[grid[i, :-1]], 1.0)
            e[col_of[grid[i, -1]]] -= 1.0
            rows.append(e)
        for j in range(grid.shape[1]):  # column j (and the totals column): minus its total
            e = np.zeros(len(uniq))
            np.add.at(e, col_of[grid[:-1, j]], 1.0)
            e[col_of[grid[-1, j]]] -= 1.0
            rows.append(e)
    for total, parts in sums:
        idx = [pos[p] for p in parts if p in pos]
        if total in pos and idx:
            e = np.zeros(len(uniq))
            np.add.at(e, col_of[idx], 1.0)
            e[col_of[pos[total]]] -= 1.0
            rows.append(e)
    eq = np.array(rows)
    eq = eq[np.any(eq != 0, axis=1)]
    new, _ = _protect(values, eq, hidden, n_cells=0, cell_mask=cell, grand_mask=grand)
    out: dict[str, pd.DataFrame] = {}
    for name, (_, mask) in frames.items():
        out[name] = pd.DataFrame(new[col_of[grids[name]]], index=mask.index, columns=mask.columns)
    return out


def publish_placement_tables(
    placement_times: pd.DataFrame,
    *,
    by: Sequence[BurdenDimension] = ("key_stage", "kind", "imd_decile"),
    thresholds_min: Sequence[float] = DEFAULT_BURDEN_THRESHOLDS_MIN,
    level: FlowLevel = "provider",
    threshold: int | None = None,
    top_schools: int = 10,
    providers: pd.DataFrame | None = None,
    schools: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """Every publishable placement table, suppressed consistently across tables.

    Tables that share totals (the grand total; the band totals of every burden table;
    the school totals of the flow matrix and of the by-school burden table; provider
    totals summed by kind) are protected together: a total hidden in one table is
    hidden in all, and the flow matrix's audit assumes the by-kind totals are known.

    Parameters
    ----------
    placement_times
        From :func:`placement_travel_times`.
    by
        Burden dimensions to publish (``"school_urn"`` is always made, for the
        furthest-schools table).
    thresholds_min, threshold
        As in :func:`burden_table`.
    level
        Flow matrix columns: ``"provider"`` or ``"site"``.
    top_schools
        Rows of the furthest-schools table.
    providers, schools
        Reference tables (defaults: Sheffield providers, GIAS extract).

    Returns
    -------
    dict
        ``"burden_<dimension>"`` for each dimension (and ``burden_school_urn``),
        ``"furthest_schools"``, ``"flow_matrix"``, ``"flow_lines"``. Each carries
        ``attrs["synthetic"]`` and ``attrs["title"]``.
    """
    thresholds = _check_thresholds(thresholds_min)
    dims: list[str] = list(dict.fromkeys([*map(str, by), "school_urn"]))
    for d in dims:
        if str(d) not in BURDEN_DIMENSIONS:
            raise ApgeoValueError(f"by must name dimensions from {list(BURDEN_DIMENSIONS)}, not {d!r}")
    schools = load_schools() if schools is None else schools
    counts = {d: _burden_counts(placement_times, d, thresholds) for d in dims}
    flows = _flow_counts(placement_times, level)
    groups = _kind_groups(placement_times, level)
    # flow columns summed by another burden dimension (kind; provider when level is site)
    links: dict[str, dict[str, list[object]]] = {}
    if "kind" in dims:
        links["kind"] = {str(k): v for k, v in groups.items()}
    if "provider_id" in dims and level == "site":
        pairs = placement_times[[S.SITE_ID, S.PROVIDER_ID]].drop_duplicates()
        links["provider_id"] = {str(p): sorted(g[S.SITE_ID]) for p, g in pairs.groupby(S.PROVIDER_ID)}
    column_groups: dict[object, Sequence[object]] = {
        (d, g): members for d, m in links.items() for g, members in m.items()
    }
    hidden_bands: set[object] = set()
    hidden_rows: dict[str, set[object]] = {d: set() for d in dims}
    hidden_flow_cols: set[object] = set()
    hide_total = False
    forced_groups: set[tuple[str, str]] = set()
    # every round that does not stop hides at least one more shared total
    rounds = len(thresholds) + 4 + sum(len(c.index) for c in counts.values()) + len(flows.columns)
    for _ in range(rounds):
        results = {
            d: _protect_frame(
                counts[d], threshold=threshold, hidden_rows=hidden_rows[d], hidden_columns=hidden_bands, hide_total=hide_total
            )
            for d in dims
        }
        flow, fmask = _protect_frame(
            flows,
            threshold=threshold,
            hidden_rows=hidden_rows["school_urn"],
            hidden_columns=hidden_flow_cols,
            hide_total=hide_total,
            column_groups=column_groups,
            hidden_column_groups={(d, g) for d, m in links.items() for g in m if g in hidden_rows[d]},
        )
        before = (len(hidden_bands), sum(map(len, hidden_rows.values())), len(hidden_flow_cols), hide_total)
        masks = {d: m for d, (_, m) in results.items()}
        hide_total = hide_total or bool(fmask.loc[ALL, ALL]) or any(bool(m.loc[ALL, ALL]) for m in masks.values())
        for m in masks.values():
            hidden_bands |= {c for c in m.columns if c != ALL and m.loc[ALL, c]}
        for d, m in masks.items():
            hidden_rows[d] |= {r for r in m.index if r != ALL and m.loc[r, ALL]}
        hidden_rows["school_urn"] |= {r for r in fmask.index if r != ALL and fmask.loc[r, ALL]}
        hidden_flow_cols |= {c for c in fmask.columns if c != ALL and fmask.loc[ALL, c]}
        # sums of flow columns the flow matrix could only protect by hiding them where
        # they are published (the by-kind / by-provider burden table)
        for d, g in flow.attrs.get(HIDDEN_COLUMN_GROUPS, []):
            hidden_rows[d].add(g)
            forced_groups.add((str(d), str(g)))
        if "provider_id" in dims and level == "provider":
            hidden_rows["provider_id"] |= hidden_flow_cols
            hidden_flow_cols |= hidden_rows["provider_id"]
        for d, mapping in links.items():
            for g, members in mapping.items():
                if g in hidden_rows[d] and not (set(members) & hidden_flow_cols):
                    totals = {c: float(flows[c].sum()) for c in members}
                    hidden_flow_cols.add(sorted(members, key=lambda c: (totals[c], str(c)))[0])
        after = (len(hidden_bands), sum(map(len, hidden_rows.values())), len(hidden_flow_cols), hide_total)
        if after == before:
            break
    else:  # pragma: no cover
        raise ApgeoValueError("consistent suppression did not converge")

    # each table was audited with the others' hidden totals unknown; audit them together
    frames = {f"burden_{d}": (_with_totals(counts[d]), results[d][1]) for d in dims}
    frames["flow"] = (_with_totals(flows), fmask)
    label = {name: {str(r): r for r in full.index} for name, (full, _) in frames.items()}
    first = f"burden_{dims[0]}"
    same: list[tuple[Entry, Entry]] = [((first, ALL, ALL), ("flow", ALL, ALL))]
    same += [((first, ALL, c), (f"burden_{d}", ALL, c)) for d in dims[1:] for c in [*counts[d].columns, ALL]]
    same += [
        (("burden_school_urn", label["burden_school_urn"][str(s)], ALL), ("flow", s, ALL))
        for s in flows.index
        if str(s) in label["burden_school_urn"]
    ]
    if "provider_id" in dims and level == "provider":
        same += [
            (("burden_provider_id", label["burden_provider_id"][str(p)], ALL), ("flow", ALL, p))
            for p in flows.columns
            if str(p) in label["burden_provider_id"]
        ]
    sums = [
        ((f"burden_{d}", label[f"burden_{d}"][g], ALL), [("flow", ALL, c) for c in members])
        for d, mapping in links.items()
        for g, members in mapping.items()
        if g in label[f"burden_{d}"]
    ]
    joint = _protect_jointly(frames, same, sums)
    for d in dims:
        table, mask = results[d]
        results[d] = (table.mask(joint[f"burden_{d}"].to_numpy()), joint[f"burden_{d}"])
    flow, fmask = flow.mask(joint["flow"].to_numpy()), joint["flow"]

    names = {"school_urn": dict(zip(schools[S.URN].map(_clean_urn), schools[SCHOOL_NAME]))}
    if providers is not None:
        names["provider_id"] = dict(zip(providers[S.PROVIDER_ID].astype(str), providers[S.NAME].astype(str)))
    out: dict[str, pd.DataFrame] = {}
    for d in dims:
        table, mask = results[d]
        out[f"burden_{d}"] = _finish_burden(placement_times, d, table, mask, thresholds, names=names.get(d))
    out["furthest_schools"] = furthest_schools(out["burden_school_urn"], top=top_schools)
    flow.attrs = {}
    if forced_groups:
        flow.attrs[HIDDEN_COLUMN_GROUPS] = sorted(forced_groups)
        flow.attrs["note"] = (
            "totals of "
            + ", ".join(f"{d} {g}" for d, g in sorted(forced_groups))
            + " are suppressed in the burden tables to protect this matrix (with them a "
            "suppressed total here could be worked out)"
        )
    out["flow_matrix"] = _stamp(flow, synthetic=_synthetic_flag(placement_times), title=f"placements by referring school and {level}")
    out["flow_lines"] = flow_lines(out["flow_matrix"], providers=providers, schools=schools)
    return out


# ======================================================================================
# Synthetic placements (tests and demo)
# ======================================================================================

#: Share of synthetic placements by key stage (AP is mostly secondary).
SYNTHETIC_KS_SHARES: Final[dict[str, float]] = {"KS1": 0.04, "KS2": 0.14, "KS3": 0.32, "KS4": 0.46, "KS5": 0.04}
#: Relative pull of each provider kind in the synthetic draw.
_KIND_PULL: Final[dict[str, float]] = {
    "inclusion_centre": 6.0,
    "primary_ap_hub": 4.0,
    "pru": 4.0,
    "ap_academy": 4.0,
    "ap_free_school": 4.0,
    "framework_provider": 3.0,
    "hospital_education": 1.0,
    "special_school": 0.6,
    "other": 1.0,
}
_SCHOOL_SCALE_M: Final = 2_000.0
_PROVIDER_SCALE_M: Final = 5_000.0


def synthetic_placements(
    n: int = 1000,
    *,
    random_state: int = 20250401,
    as_of: dt.date | str = "2025-03-31",
    demand: pd.DataFrame | None = None,
    providers: pd.DataFrame | None = None,
    schools: pd.DataFrame | None = None,
    data_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Plausible, clearly labelled SYNTHETIC placement rows drawn from real Sheffield data.

    Draw, per placement: a key stage (:data:`SYNTHETIC_KS_SHARES`); a home LSOA with
    probability proportional to its children of that key stage x an IDACI need weight
    ``(11 - idaci_decile) ** 1.5`` (decile 1 = most deprived); a real live postcode in that
    LSOA (ONS postcode -> LSOA lookup, so loading exercises geocoding); a referring
    mainstream school (GIAS) of a matching phase, closer more likely
    (``exp(-d / 2 km)``); a located provider site serving the key stage, closer and AP
    proper more likely (``kind pull x exp(-d / 5 km)``); a start date in the two years
    before ``as_of``; 2-10 sessions a week.

    Parameters
    ----------
    n
        Number of rows.
    random_state
        Seed: the same seed and inputs give the same rows.
    as_of
        No start date is after it.
    demand, providers, schools
        Reference tables (defaults: Sheffield demand, providers, GIAS extract).
    data_dir
        Data folder for the defaults and the postcode lookup.

    Returns
    -------
    pandas.DataFrame
        Pupil-level rows (SYNTHETIC, so no one's data) with :data:`PLACEMENT_COLUMNS` and
        ``synthetic`` (all True); ``attrs["synthetic"] = True``. Never mix with real data.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ApgeoValueError(f"n must be a positive whole number of placements, not {n!r}")
    as_of_date = _as_date(as_of, name="as_of")
    rng = np.random.default_rng(random_state)
    if demand is None:
        from apgeo.demand import load_demand

        demand = load_demand(data_dir=data_dir)
    if providers is None:
        from apgeo.providers import load_sheffield_providers

        providers = load_sheffield_providers(data_dir=data_dir)
    schools = load_schools(data_dir=data_dir) if schools is None else schools
    require_columns(demand, [S.AREA_ID, "pwc_easting", "pwc_northing", S.IDACI_DECILE], source="demand")

    areas = pd.DataFrame(demand.drop(columns="geometry", errors="ignore")).sort_values(S.AREA_ID).reset_index(drop=True)
    area_xy = areas[["pwc_easting", "pwc_northing"]].to_numpy(dtype=float)
    need = (11.0 - areas[S.IDACI_DECILE].fillna(5).to_numpy(dtype=float)) ** 1.5

    # real live postcodes per LSOA that the geocoder can place
    from apgeo.data import data_path
    from apgeo.geocode import PostcodeLookup, normalise_postcode

    base = data_path("codepoint", data_dir=data_dir).parent.parent
    lookup = PostcodeLookup.from_data_dir(base)
    table = lookup.table
    live = table[(table["status"] == "live") & table["lsoa11cd"].notna()]
    pc_by_area = {a: sorted(g.index) for a, g in live.groupby("lsoa11cd")}
    has_pc = areas[S.AREA_ID].isin(pc_by_area).to_numpy()

    located = providers
    if "geometry" in providers.columns:
        ok = ~(providers.geometry.isna() | providers.geometry.is_empty)
        located = providers[ok]
    sites = pd.DataFrame(located.drop(columns="geometry", errors="ignore")).reset_index(drop=True)
    site_xy = np.column_stack([located.geometry.x.to_numpy(), located.geometry.y.to_numpy()])
    order = np.argsort(sites[S.SITE_ID].to_numpy(dtype=str), kind="stable")
    sites, site_xy = sites.iloc[order].reset_index(drop=True), site_xy[order]
    serves = sites[S.KEY_STAGES].map(S.parse_key_stages)
    pull = sites[S.KIND].astype(str).map(_KIND_PULL).fillna(1.0).to_numpy(dtype=float)

    main = schools[schools["mainstream"] & schools[S.EASTING].notna()].sort_values(S.URN).reset_index(drop=True)
    school_xy = main[[S.EASTING, S.NORTHING]].to_numpy(dtype=float)

    ks_names = list(SYNTHETIC_KS_SHARES)
    ks_p = np.array(list(SYNTHETIC_KS_SHARES.values()))
    drawn_ks = rng.choice(ks_names, size=n, p=ks_p / ks_p.sum())
    rows: list[dict[str, object]] = []
    window_days = 730
    for ks in ks_names:
        idx = np.flatnonzero(drawn_ks == ks)
        if len(idx) == 0:
            continue
        weights = areas[S.children_column(ks)].to_numpy(dtype=float) * need * has_pc
        area_pick = rng.choice(len(areas), size=len(idx), p=weights / weights.sum())
        site_ok = serves.map(lambda v, k=ks: k in v).to_numpy()
        school_ok = main["education_phase"].isin(_PHASES_FOR_KS[ks]).to_numpy()
        if not site_ok.any() or not school_ok.any():
            raise ApgeoValueError(f"synthetic_placements: no provider or school for {ks}; pass other tables")
        for a in area_pick:
            d_school = np.hypot(*(school_xy - area_xy[a]).T)
            w_school = np.where(school_ok, np.exp(-d_school / _SCHOOL_SCALE_M), 0.0)
            school = int(rng.choice(len(main), p=w_school / w_school.sum()))
            d_site = np.hypot(*(site_xy - area_xy[a]).T)
            w_site = np.where(site_ok, pull * np.exp(-d_site / _PROVIDER_SCALE_M), 0.0)
            site = int(rng.choice(len(sites), p=w_site / w_site.sum()))
            postcodes = pc_by_area[str(areas.at[a, S.AREA_ID])]
            rows.append(
                {
                    HOME_POSTCODE: normalise_postcode(postcodes[int(rng.integers(len(postcodes)))]),
                    SCHOOL_URN: str(main.at[school, S.URN]),
                    S.PROVIDER_ID: str(sites.at[site, S.PROVIDER_ID]),
                    S.SITE_ID: str(sites.at[site, S.SITE_ID]),
                    KEY_STAGE: ks,
                    START_DATE: (as_of_date - dt.timedelta(days=int(rng.integers(0, window_days)))).isoformat(),
                    SESSIONS_PER_WEEK: int(rng.choice([2, 4, 5, 6, 8, 10], p=[0.1, 0.15, 0.2, 0.15, 0.15, 0.25])),
                }
            )
    out = pd.DataFrame(rows)
    out = out.iloc[rng.permutation(len(out))].reset_index(drop=True)
    out[SYNTHETIC] = True
    return _stamp(out, synthetic=True, title=f"{n} synthetic AP placements (seed {random_state})")
