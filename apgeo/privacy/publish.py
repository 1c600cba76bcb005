"""Publishing the placement tables together with consistent suppression across all of them
(:func:`publish_placement_tables`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

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
from apgeo.analysis.time_in_ap import (
    ENDED_PLACEMENTS,
    OPEN_PLACEMENTS,
    OVER_ONE_TERM,
    OVER_ONE_YEAR,
    RETURN_WINDOWS_DAYS,
    eligible_column,
    returned_column,
)
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
from apgeo.privacy.disclosure import _protect_frame
from apgeo.privacy.linked_tables import LinkedTables, protect_linked, withheld_sentence
from apgeo.privacy.publish_time_in_ap import count_columns, publish_time_in_ap
from apgeo.settings import get_settings

Entry = tuple[str, object, object]


#: Time-in-AP counts whose order an outsider knows (smaller, larger) within one row.
_TIME_ORDERS: tuple[tuple[str, str], ...] = (
    (OVER_ONE_YEAR, OVER_ONE_TERM),
    (OVER_ONE_TERM, ALL),
    *((returned_column(w), eligible_column(w)) for w in RETURN_WINDOWS_DAYS),
    *((returned_column(w), ENDED_PLACEMENTS) for w in RETURN_WINDOWS_DAYS),
    *((eligible_column(w), ALL) for w in RETURN_WINDOWS_DAYS),
    (eligible_column("12_months"), eligible_column("6_months")),
)


#: How the report names each dimension.
_DIMENSION_NAMES: dict[str, str] = {
    "key_stage": "key stage",
    "kind": "provider kind",
    "imd_decile": "IMD decile",
    "school_urn": "referring school",
    "provider_id": "provider",
}


def _time_frame(
    table: pd.DataFrame, totals: pd.Series, shown: pd.Series, threshold: int | None, extra: pd.DataFrame | None
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str]]:
    """A time-in-AP table as counts with an ``all`` column (its groups' placements), its
    blanks under the time-in-AP rules given the burden totals ``shown`` (NaN = blank), the
    least value of each blank (0 in a row withheld whole) and the groups whose total is
    the burden total (linked)."""
    cols = count_columns()
    groups = table["group"].astype(str).to_numpy()
    stub = pd.DataFrame({"group": [str(g) for g in shown.index], "placements": shown.to_numpy()})
    published = publish_time_in_ap(table, stub, threshold=threshold, extra_hidden=extra)
    full = table[cols].astype(float).set_axis(groups)
    full[ALL] = table["placements"].astype(float).to_numpy()
    hidden = published[cols].isna().set_axis(groups)
    by_label = {str(g): g for g in totals.index}
    linked = [g for g in groups if g in by_label and float(totals[by_label[g]]) == float(full.loc[g, ALL])]
    hidden[ALL] = [not (g in linked and bool(np.isfinite(shown[by_label[g]]))) for g in groups]
    lower = pd.DataFrame(1.0, index=full.index, columns=full.columns)
    lower.loc[published["suppressed"].astype(str).str.startswith("row").to_numpy(), cols] = 0.0
    return full, hidden, lower, linked


def _audit_together(
    counts: Mapping[str, pd.DataFrame],
    masks: Mapping[str, pd.DataFrame],
    flows: pd.DataFrame,
    fmask: pd.DataFrame,
    links: Mapping[str, Mapping[str, list[object]]],
    level: FlowLevel,
    times: Mapping[str, pd.DataFrame],
    threshold: int | None,
) -> tuple[dict[str, pd.DataFrame], pd.DataFrame, dict[str, pd.DataFrame], dict[str, int]]:
    """Burden tables, flow matrix and time-in-AP tables audited as one system
    (:func:`~apgeo.privacy.linked_tables.protect_linked`). A burden total hidden by the
    audit withholds that group's time-in-AP row, so the audit is repeated until no more
    totals are hidden. Returns the blank masks of the burden tables, the flow matrix and
    the time-in-AP tables (count columns, rows by position) and, per table, the number of
    blanks beyond the 1-4 rule."""
    limit = get_settings().suppression_threshold if threshold is None else int(threshold)
    dims = list(counts)
    full = {d: _with_totals(c) for d, c in counts.items()}
    fflow = _with_totals(flows)
    masks = dict(masks)
    time_masks: dict[str, pd.DataFrame] = {}
    label = {d: {str(r): r for r in f.index} for d, f in full.items()}
    first = f"burden_{dims[0]}"
    same: list[tuple[Entry, Entry]] = [((first, ALL, ALL), ("flow", ALL, ALL))]
    same += [((first, ALL, c), (f"burden_{d}", ALL, c)) for d in dims[1:] for c in full[d].columns]
    same += [
        (("burden_school_urn", label["school_urn"][str(s)], ALL), ("flow", s, ALL))
        for s in flows.index
        if str(s) in label.get("school_urn", {})
    ]
    if "provider_id" in dims and level == "provider":
        same += [
            (("burden_provider_id", label["provider_id"][str(p)], ALL), ("flow", ALL, p))
            for p in flows.columns
            if str(p) in label["provider_id"]
        ]
    sums: list[tuple[Entry, list[Entry]]] = [
        ((f"burden_{d}", label[d][g], ALL), [("flow", ALL, c) for c in members])
        for d, mapping in links.items()
        for g, members in mapping.items()
        if g in label[d]
    ]
    for _ in range(2 + sum(len(f.index) for f in full.values())):
        linked = LinkedTables(sums=list(sums))
        linked.same = list(same)
        for d in dims:
            linked.add(f"burden_{d}", full[d], masks[d])
        linked.add("flow", fflow, fmask)
        time_first = None
        for d, table in times.items():
            shown = full[d][ALL].mask(masks[d][ALL])
            tf, th, tl, tied = _time_frame(table, full[d][ALL], shown, threshold, time_masks.get(d))
            name = f"time_{d}"
            linked.add(name, tf, th, lower=tl, row_sum=[OPEN_PLACEMENTS, ENDED_PLACEMENTS])
            linked.same += [((name, g, ALL), (f"burden_{d}", label[d][g], ALL)) for g in tied]
            if time_first is None:
                time_first = name
            else:
                linked.same += [((time_first, ALL, c), (name, ALL, c)) for c in tf.columns]
            linked.orders += [((name, g, a), (name, g, b)) for g in tf.index for a, b in _TIME_ORDERS]
        new = protect_linked(linked)
        before = sum(int(m[ALL].sum()) for m in masks.values())
        masks = {d: new[f"burden_{d}"] for d in dims}
        fmask = new["flow"]
        time_masks = {d: new[f"time_{d}"].drop(columns=ALL).reset_index(drop=True) for d in times}
        if sum(int(m[ALL].sum()) for m in masks.values()) == before:
            break
    else:  # pragma: no cover - every repeat hides at least one more total
        raise ApgeoValueError("the audit of all placement tables together did not converge")
    beyond = {f"travel burden by {_DIMENSION_NAMES.get(d, d)}": int((masks[d].to_numpy() & (full[d].to_numpy() >= limit)).sum()) for d in dims}
    beyond["flows from schools to providers (and the flow map)"] = int((fmask.to_numpy() & (fflow.to_numpy() >= limit)).sum())
    for d, table in times.items():
        values = table[count_columns()].to_numpy(dtype=float)
        beyond[f"time in AP by {_DIMENSION_NAMES.get(d, d)}"] = int((time_masks[d].to_numpy() & (values >= limit)).sum())
    return masks, fmask, time_masks, beyond


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
    time_in_ap: Mapping[str, pd.DataFrame] | None = None,
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
    time_in_ap
        Time-in-AP tables (:func:`~apgeo.analysis.time_in_ap.time_in_ap_table`, not
        suppressed) by dimension, published with the others (``"time_in_ap_<dimension>"``)
        when the burden tables include that dimension.

    Returns
    -------
    dict
        ``"burden_<dimension>"`` for each dimension (and ``burden_school_urn``),
        ``"furthest_schools"``, ``"flow_matrix"``, ``"flow_lines"`` and the time-in-AP
        tables. Every count of every table (and so of the flow map drawn from the flow
        lines, and of the report) comes from one audit of all of them together
        (:mod:`apgeo.privacy.linked_tables`). The burden tables carry
        ``attrs["synthetic"]``, ``attrs["title"]`` and ``attrs["withheld"]``: one sentence
        saying which tables had counts blanked beyond the 1-4 rule.
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

    # each table was audited with the others' hidden totals unknown: audit everything
    # published about placements together, as one system (apgeo.privacy.linked_tables)
    masks = {d: results[d][1] for d in dims}
    times = {d: t for d, t in (time_in_ap or {}).items() if d in dims}
    masks, fmask, time_masks, beyond = _audit_together(counts, masks, flows, fmask, links, level, times, threshold)
    for d in dims:
        table, _ = results[d]
        results[d] = (table.mask(masks[d].to_numpy()), masks[d])
    flow = flow.mask(fmask.to_numpy())

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
    time_tables: dict[str, pd.DataFrame] = {}
    for d, table in times.items():
        time_tables[f"time_in_ap_{d}"] = publish_time_in_ap(
            table, out[f"burden_{d}"], threshold=threshold, extra_hidden=time_masks[d]
        )
    sentence = withheld_sentence(beyond)
    for d in dims:
        out[f"burden_{d}"].attrs["withheld"] = sentence
    out.update(time_tables)
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
