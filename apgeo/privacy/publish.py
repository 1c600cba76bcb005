"""Publishing the placement tables together with consistent suppression across all of them
(:func:`publish_placement_tables`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from apgeo import schema as S
from apgeo._errors import ApgeoValueError
from apgeo.analysis.burden import (
    _burden_counts,
    _check_thresholds,
    _finish_burden,
    _statistics_shown,
    _with_totals,
    furthest_schools,
)
from apgeo.analysis.flows import _flow_counts, _kind_groups, flow_lines
from apgeo.inputs.placements import (
    ALL,
    BURDEN_DIMENSIONS,
    DEFAULT_BURDEN_THRESHOLDS_MIN,
    HIDDEN_COLUMN_GROUPS,
    SCHOOL_NAME,
    BurdenDimension,
    FlowLevel,
    _clean_urn,
    _stamp,
    _synthetic_flag,
    load_schools,
)
from apgeo.privacy.disclosure import _protect, _protect_frame

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
    check_statistics: bool | None = None,
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
    check_statistics
        Means and medians follow the rules of :mod:`apgeo.privacy.statistics_check`,
        checked over all burden tables at once (default on; ``False`` only to show what
        the rules protect against).

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

    stats_shown = _statistics_shown(
        placement_times,
        {d: (counts[d], results[d][1]) for d in dims},
        thresholds,
        threshold=threshold,
        check_statistics=check_statistics,
    )
    names = {"school_urn": dict(zip(schools[S.URN].map(_clean_urn), schools[SCHOOL_NAME]))}
    if providers is not None:
        names["provider_id"] = dict(zip(providers[S.PROVIDER_ID].astype(str), providers[S.NAME].astype(str)))
    out: dict[str, pd.DataFrame] = {}
    for d in dims:
        table, mask = results[d]
        out[f"burden_{d}"] = _finish_burden(
            placement_times, d, table, mask, thresholds, names=names.get(d), statistics_shown=stats_shown[d]
        )
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


__all__ = [
    "publish_placement_tables",
]
