"""Suppression that survives differencing: which hidden counts an attacker could work out,
and tables protected against it.

Comes in: a two-way table of counts about children (e.g. placements by provider and key
stage) and the sums of it published elsewhere.
Goes out: :func:`protect_table`, the table with its totals and every count of 1-4
suppressed (primary suppression, :mod:`apgeo.privacy.suppression`) plus as few further
cells as needed (secondary suppression) so that no hidden count follows exactly from what
is shown; :func:`disclosed_cells`, the exact audit (linear programming over the published
relations) that the tests and :mod:`apgeo.privacy.publish` run on every table.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd
import scipy.optimize
import scipy.sparse

from apgeo._cache import array_digest, cached_arrays, results_cache_dir
from apgeo._errors import ApgeoValueError
from apgeo.inputs.placements import ALL, HIDDEN_COLUMN_GROUPS
from apgeo.privacy.suppression import suppress_counts
from apgeo.settings import get_settings


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
    """:func:`_protect_uncached`, kept in the results cache when one is active
    (:func:`apgeo._cache.results_cache`: a study run) under a digest of every argument
    and the scipy version (its LP solver decides what is disclosed)."""
    folder = results_cache_dir()

    def compute() -> dict[str, np.ndarray]:
        hidden, groups = _protect_uncached(
            values, equations, initial, extra, n_cells=n_cells, extra_hidden=extra_hidden,
            cell_mask=cell_mask, grand_mask=grand_mask,
        )
        return {"hidden": hidden, "groups_hidden": groups}

    payload: dict[str, object] = {}
    if folder is not None:
        from importlib.metadata import version

        def digest(a: np.ndarray | None) -> str | None:
            return None if a is None else array_digest(np.asarray(a))

        payload = {
            "kind": "disclosure",
            "values": digest(values),
            "equations": digest(equations),
            "initial": digest(initial),
            "extra": [digest(e) for e in extra],
            "n_cells": int(n_cells),
            "extra_hidden": digest(extra_hidden),
            "cell_mask": digest(cell_mask),
            "grand_mask": digest(grand_mask),
            "scipy": version("scipy"),
        }
    data = cached_arrays(None if folder is None else folder / "disclosure", payload, compute)
    assert data is not None
    return data["hidden"], data["groups_hidden"]


def _protect_uncached(
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


__all__ = [
    "disclosed_cells",
    "protect_table",
]
