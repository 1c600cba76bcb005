"""Coverage: how far each demand area is from suitable provision, and who is served.

Works on the travel-time seam only (never on street networks, never on isochrone
polygons: "served" is decided from travel times, FIELD-NOTES items 2 and 13):

``travel_times``
    long table ``origin_id, destination_id, travel_time_s``; origin = demand area
    (LSOA code), destination = provider site. ``NaN`` = unreachable. A pair missing
    from the table is also unreachable. If the table has a ``mode`` column, only the
    rows of the requested ``mode`` are used.
``demand``
    one row per area: ``area_id`` (unique), ``children_ks1`` .. ``children_ks5``,
    ``imd_decile``, ``idaci_decile`` (1 = most deprived).
``providers``
    one row per site: ``site_id`` (unique), ``provider_id``, ``name``, ``kind``,
    ``key_stages`` (``"KS1,KS2"``), ``capacity_places``.

A provider *serves* a key stage when that key stage is listed in its ``key_stages``;
the nearest *suitable* provider for a child of key stage KS3 is the nearest site that
serves KS3. "Served within a band" follows the DfT journey-time statistics: a child is
served within 30 min when at least one suitable site can be reached in 30 min or less
(the band's upper limit is inclusive).

Public functions: :func:`nearest_times`, :func:`coverage_summary`,
:func:`choice_counts`, :func:`equity_table`, :func:`equity_gaps`. They return new
DataFrames sorted by ``area_id`` (or by group) with a stable column order, and never
mutate their inputs. Internally every time is in seconds; minutes appear only in
``*_min`` names.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

import numpy as np
import pandas as pd

from apgeo._errors import ApgeoValueError
from apgeo._log import warn
from apgeo._validate import require_columns, to_numeric
from apgeo.analysis.tables import (
    _DEPRIVATION_COLUMNS,
    ALL_KEY_STAGES,
    ANY_KEY_STAGE,
    AREAS,
    AREAS_UNREACHABLE,
    CHILDREN,
    CHILDREN_UNREACHABLE,
    DECILE,
    DEFAULT_THRESHOLDS_MIN,
    DEPRIVATION_INDEX,
    KEY_STAGE,
    MEAN_NEAREST_TIME_S,
    NEAREST_SITE_ID,
    NEAREST_TIME_S,
    DeprivationIndex,
    PreparedTables,
    _as_time,
    _site_ids_at,
    _warn_unreachable,
    check_key_stages,
    check_thresholds_min,
    children_within_column,
    format_ids,
    label_output,
    nearest_in,
    nearest_kind_site_column,
    nearest_kind_time_column,
    nearest_ks_site_column,
    nearest_ks_time_column,
    nearest_suitable_s,
    prepare_tables,
    providers_within_column,
    share_within_column,
)
from apgeo.schema import (
    AP_KINDS,
    AREA_ID,
    KIND,
    MODE,
    PROVIDER_ID,
    TRAVEL_TIME_METHOD,
    ProviderKind,
)

# ======================================================================================
# Public API
# ======================================================================================


def nearest_times(
    travel_times: pd.DataFrame,
    demand: pd.DataFrame,
    providers: pd.DataFrame,
    *,
    mode: str,
    key_stages: Sequence[str] | str | None = None,
    kinds: Collection[str | ProviderKind] | None = AP_KINDS,
    strict: bool = False,
) -> pd.DataFrame:
    """Time from each area to its nearest provider: overall, by key stage and by kind.

    Parameters
    ----------
    travel_times
        Long table ``origin_id, destination_id, travel_time_s`` (NaN = unreachable;
        missing pairs are unreachable).
    demand
        One row per area with ``area_id`` (other columns are not needed here).
    providers
        One row per site with ``site_id, provider_id, kind, key_stages``.
    mode
        Travel mode label carried into the output.
    key_stages
        Key stages to report (``None``: the key stages the providers serve, else KS1-KS4; see ``attrs["key_stages"]``).
    kinds
        Keep only providers of these kinds (default: the AP kinds, :data:`apgeo.schema.AP_KINDS`, so special schools are left out; ``None`` = every kind).
    strict
        Turn warnings (areas reaching no provider, key stages nobody serves) into errors.

    Returns
    -------
    pandas.DataFrame
        One row per area, sorted by ``area_id``. Columns, in order: ``area_id``,
        ``mode``, ``nearest_time_s``, ``nearest_site_id``; for each key stage
        ``nearest_ks3_time_s``, ``nearest_ks3_site_id`` (nearest site serving it); for
        each kind present ``nearest_pru_time_s``, ``nearest_pru_site_id`` (in
        :class:`~apgeo.schema.ProviderKind` order). Unreachable: time NaN, site None.
        Ties go to the first ``site_id`` in sorted order.
    """
    ks_list = check_key_stages(key_stages, providers, kinds)
    prep = prepare_tables(
        travel_times,
        demand.loc[:, [AREA_ID]] if AREA_ID in demand.columns else demand,
        providers,
        mode=mode,
        key_stages=(),
        kinds=kinds,
        strict=strict,
    )
    if any(not prep.serves_key_stage(ks).any() for ks in ks_list):
        unserved = [ks for ks in ks_list if not prep.serves_key_stage(ks).any()]
        warn(
            f"no provider serves {', '.join(unserved)}: their nearest times are NaN everywhere",
            strict=strict,
            stacklevel=3,
        )
    all_sites = np.ones(len(prep.sites), dtype=bool)
    best, idx = nearest_in(prep.times_s, all_sites)
    _warn_unreachable(prep, best, strict=strict)
    columns: dict[str, object] = {
        AREA_ID: prep.area_ids,
        MODE: mode,
        NEAREST_TIME_S: _as_time(best),
        NEAREST_SITE_ID: _site_ids_at(prep, idx),
    }
    for ks in ks_list:
        t, i = nearest_in(prep.times_s, prep.serves_key_stage(ks))
        columns[nearest_ks_time_column(ks)] = _as_time(t)
        columns[nearest_ks_site_column(ks)] = _site_ids_at(prep, i)
    kinds_present = set(prep.sites[KIND])
    for kind in ProviderKind:
        if kind.value not in kinds_present:
            continue
        t, i = nearest_in(prep.times_s, (prep.sites[KIND] == kind.value).to_numpy())
        columns[nearest_kind_time_column(kind)] = _as_time(t)
        columns[nearest_kind_site_column(kind)] = _site_ids_at(prep, i)
    return label_output(pd.DataFrame(columns), prep, key_stages=ks_list)


def _band_stats(
    times_s: np.ndarray,
    children: np.ndarray,
    thresholds_s: np.ndarray,
    thresholds_min: Sequence[float],
) -> dict[str, float]:
    """Children-weighted statistics of nearest times (flattened over areas x key stages).

    The mean is over children who reach a suitable site; the children left out and the
    areas they live in are counted beside it.
    """
    lost_areas = int(np.count_nonzero((~np.isfinite(times_s) & (children > 0)).any(axis=1)))
    t = times_s.ravel()
    c = children.ravel()
    total = float(c.sum())
    reach = np.isfinite(t)
    reach_children = float(c[reach].sum())
    stats: dict[str, float] = {
        CHILDREN: total,
        CHILDREN_UNREACHABLE: float(c[~reach].sum()),
        AREAS_UNREACHABLE: lost_areas,
        MEAN_NEAREST_TIME_S: float((t[reach] * c[reach]).sum() / reach_children)
        if reach_children > 0
        else np.nan,
    }
    within = [float(c[t <= limit].sum()) for limit in thresholds_s]
    for tm, w in zip(thresholds_min, within, strict=True):
        stats[children_within_column(tm)] = w
    for tm, w in zip(thresholds_min, within, strict=True):
        stats[share_within_column(tm)] = w / total if total > 0 else np.nan
    return stats


def _stats_by_key_stage(
    nearest_s: np.ndarray,
    children: np.ndarray,
    key_stages: Sequence[str],
    thresholds_s: np.ndarray,
    thresholds_min: Sequence[float],
) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    groups: list[tuple[str, slice]] = [(ALL_KEY_STAGES, slice(None))]
    groups += [(ks, slice(j, j + 1)) for j, ks in enumerate(key_stages)]
    for label, cols in groups:
        row: dict[str, object] = {KEY_STAGE: label, AREAS: int(nearest_s.shape[0])}
        row.update(_band_stats(nearest_s[:, cols], children[:, cols], thresholds_s, thresholds_min))
        rows.append(row)
    return rows


def coverage_summary(
    travel_times: pd.DataFrame,
    demand: pd.DataFrame,
    providers: pd.DataFrame,
    *,
    mode: str,
    thresholds_min: Sequence[float] = DEFAULT_THRESHOLDS_MIN,
    key_stages: Sequence[str] | str | None = None,
    kinds: Collection[str | ProviderKind] | None = AP_KINDS,
    strict: bool = False,
) -> pd.DataFrame:
    """Share of children who can reach a suitable provider within each band (DfT style).

    A child of key stage KS is *served within t minutes* when at least one site that
    serves KS can be reached in ``t`` minutes or less from the child's area. Children in
    areas with no suitable reachable site count in the denominator, never as served.

    Parameters
    ----------
    travel_times, demand, providers
        The seam tables (see module docstring). ``demand`` needs ``children_ks*`` for
        the chosen key stages.
    mode
        Travel mode label carried into the output.
    thresholds_min
        Band upper limits in minutes, positive and strictly increasing
        (default 15, 30, 45, 60 as in the DfT journey-time statistics).
    key_stages
        Key stages to count (``None``: the key stages the providers serve, else KS1-KS4; see ``attrs["key_stages"]``).
    kinds
        Count only providers of these kinds (default: the AP kinds, :data:`apgeo.schema.AP_KINDS`, so special schools are left out; ``None`` = every kind).
    strict
        Turn warnings into errors.

    Returns
    -------
    pandas.DataFrame
        One row for ``key_stage == "all"`` (every child, each to a provider suitable
        for their own key stage) then one per key stage. Columns: ``mode``,
        ``key_stage``, ``areas``, ``children``, ``children_unreachable`` (children who
        reach no suitable site: counted in every share's denominator, never as served),
        ``areas_unreachable`` (areas holding them), ``mean_nearest_time_s``
        (children-weighted, over children who can reach a suitable site: the two columns
        before it say who is left out), ``children_within_<t>_min`` for each band, then
        ``share_within_<t>_min`` for each band (NaN when there are no children).
    """
    thresholds_s = check_thresholds_min(thresholds_min)
    ks_list = check_key_stages(key_stages, providers, kinds)
    prep = prepare_tables(
        travel_times, demand, providers, mode=mode, key_stages=ks_list, kinds=kinds, strict=strict
    )
    nearest_s = nearest_suitable_s(prep, ks_list)
    children = np.column_stack([prep.children(ks) for ks in ks_list])
    rows = _stats_by_key_stage(nearest_s, children, ks_list, thresholds_s, list(thresholds_min))
    out = pd.DataFrame(rows)
    out.insert(0, MODE, mode)
    return label_output(out, prep, key_stages=ks_list)


def nearest_per_provider_s(prep: PreparedTables, site_mask: np.ndarray) -> np.ndarray:
    """``(n_areas, n_providers)`` seconds from each area to each provider's nearest site
    among ``site_mask`` (``inf``: none of its sites in the mask, or none reachable).

    Providers are in sorted ``provider_id`` order. Sites are grouped by provider and each
    group reduced with ``np.minimum.reduceat``: time and memory grow with areas x sites,
    never with sites x providers (a one-hot matrix product would).

    Parameters
    ----------
    prep
        The prepared tables.
    site_mask
        Boolean over ``prep.sites``: the sites that count.

    Returns
    -------
    numpy.ndarray
        Float array of shape ``(n_areas, n_providers)``, seconds.
    """
    codes, _ = pd.factorize(prep.sites[PROVIDER_ID].astype(str), sort=True)
    n_providers = int(codes.max()) + 1 if len(codes) else 0
    n_areas = prep.times_s.shape[0]
    keep = np.flatnonzero(site_mask)
    out = np.full((n_areas, n_providers), np.inf)
    if keep.size == 0 or n_areas == 0:
        return out
    order = keep[np.argsort(codes[keep], kind="stable")]
    sorted_codes = codes[order]
    starts = np.flatnonzero(np.r_[True, sorted_codes[1:] != sorted_codes[:-1]])
    out[:, sorted_codes[starts]] = np.minimum.reduceat(prep.times_s[:, order], starts, axis=1)
    return out


def choice_counts(
    travel_times: pd.DataFrame,
    demand: pd.DataFrame,
    providers: pd.DataFrame,
    *,
    mode: str,
    thresholds_min: Sequence[float] = DEFAULT_THRESHOLDS_MIN,
    key_stages: Sequence[str] | str | None = None,
    kinds: Collection[str | ProviderKind] | None = AP_KINDS,
    strict: bool = False,
) -> pd.DataFrame:
    """Number of distinct providers each area can reach within each band (choice).

    A provider (``provider_id``) counts once however many of its sites are in reach;
    it counts for a key stage when one of its sites within the band serves that key
    stage.

    Parameters
    ----------
    travel_times, demand, providers
        The seam tables (see module docstring).
    mode
        Travel mode label carried into the output.
    thresholds_min
        Band upper limits in minutes (inclusive), positive and strictly increasing.
    key_stages
        Key stages to report (``None``: the key stages the providers serve, else KS1-KS4; see ``attrs["key_stages"]``).
    kinds
        Count only providers of these kinds (default: the AP kinds, :data:`apgeo.schema.AP_KINDS`, so special schools are left out; ``None`` = every kind).
    strict
        Turn warnings into errors.

    Returns
    -------
    pandas.DataFrame
        One row per area and key stage, sorted by ``area_id`` then key stage, with
        ``key_stage == "any"`` (any provider, whatever it serves) first. Columns:
        ``area_id``, ``mode``, ``key_stage``, ``providers_within_<t>_min`` (int) for
        each band.
    """
    thresholds_s = check_thresholds_min(thresholds_min)
    ks_list = check_key_stages(key_stages, providers, kinds)
    prep = prepare_tables(
        travel_times,
        demand.loc[:, [AREA_ID]] if AREA_ID in demand.columns else demand,
        providers,
        mode=mode,
        key_stages=(),
        kinds=kinds,
        strict=strict,
    )
    groups: list[tuple[str, np.ndarray]] = [(ANY_KEY_STAGE, np.ones(len(prep.sites), dtype=bool))]
    groups += [(ks, prep.serves_key_stage(ks)) for ks in ks_list]
    frames = []
    for label, mask in groups:
        cols: dict[str, object] = {AREA_ID: prep.area_ids, MODE: mode, KEY_STAGE: label}
        # one pass per group, whatever the number of bands: a provider is within a band
        # when its nearest suitable site is
        per_provider_s = nearest_per_provider_s(prep, mask)
        for tm, limit in zip(thresholds_min, thresholds_s, strict=True):
            counts = np.count_nonzero(per_provider_s <= limit, axis=1)
            cols[providers_within_column(tm)] = counts.astype(np.int64)
        frames.append(pd.DataFrame(cols))
    order = {label: i for i, (label, _) in enumerate(groups)}
    out = pd.concat(frames, ignore_index=True)
    out["_order"] = out[KEY_STAGE].map(order)
    out = out.sort_values([AREA_ID, "_order"], kind="stable").drop(columns="_order")
    return label_output(out.reset_index(drop=True), prep, key_stages=ks_list)


def _check_deciles(areas: pd.DataFrame, column: str, *, strict: bool) -> np.ndarray:
    values = to_numeric(areas[column], column=column, source="demand").to_numpy(dtype=float)
    bad = ~np.isnan(values) & ~np.isin(values, np.arange(1, 11))
    if bad.any():
        examples = ", ".join(
            f"{a} ({v:g})" for a, v in zip(areas[AREA_ID][bad], values[bad], strict=True)
        )
        raise ApgeoValueError(
            f"demand: column {column!r} must hold whole deciles 1..10 (1 = most deprived); "
            f"bad value(s): {examples}"
        )
    missing = np.isnan(values)
    if missing.any():
        warn(
            f"demand: {int(missing.sum())} area(s) have no {column} "
            f"({format_ids(areas[AREA_ID][missing])}); they are left out of the equity table",
            strict=strict,
            stacklevel=4,
        )
    return values


def equity_table(
    travel_times: pd.DataFrame,
    demand: pd.DataFrame,
    providers: pd.DataFrame,
    *,
    mode: str,
    thresholds_min: Sequence[float] = DEFAULT_THRESHOLDS_MIN,
    key_stages: Sequence[str] | str | None = None,
    kinds: Collection[str | ProviderKind] | None = AP_KINDS,
    by: Sequence[DeprivationIndex] = ("imd", "idaci"),
    strict: bool = False,
) -> pd.DataFrame:
    """Coverage by deprivation decile (IMD and IDACI; decile 1 = most deprived).

    Each row is :func:`coverage_summary` restricted to the areas of one decile. Use
    :func:`equity_gaps` on the result for the decile 1 minus decile 10 gaps.

    Parameters
    ----------
    travel_times, demand, providers
        The seam tables. ``demand`` needs ``children_ks*`` and ``imd_decile`` /
        ``idaci_decile`` for the indices in ``by``.
    mode
        Travel mode label carried into the output.
    thresholds_min
        Band upper limits in minutes, positive and strictly increasing.
    key_stages
        Key stages to count (``None``: the key stages the providers serve, else KS1-KS4; see ``attrs["key_stages"]``).
    kinds
        Count only providers of these kinds (default: the AP kinds, :data:`apgeo.schema.AP_KINDS`, so special schools are left out; ``None`` = every kind).
    by
        Deprivation indices to tabulate: ``"imd"`` and/or ``"idaci"``.
    strict
        Turn warnings (areas without a decile, unreachable areas) into errors.

    Returns
    -------
    pandas.DataFrame
        One row per deprivation index, key stage (``"all"`` first) and decile 1..10
        (every decile is present; empty ones have ``areas == 0`` and NaN means).
        Columns: ``mode``, ``deprivation_index``, ``key_stage``, ``decile``, then the
        :func:`coverage_summary` measures (``areas``, ``children``,
        ``children_unreachable``, ``areas_unreachable``, ``mean_nearest_time_s``, ``children_within_<t>_min``,
        ``share_within_<t>_min``).
    """
    thresholds_s = check_thresholds_min(thresholds_min)
    ks_list = check_key_stages(key_stages, providers, kinds)
    indices = list(dict.fromkeys(by))
    unknown = [b for b in indices if b not in _DEPRIVATION_COLUMNS]
    if unknown or not indices:
        raise ApgeoValueError(f"by must name 'imd' and/or 'idaci'; got {list(by)!r}")
    prep = prepare_tables(
        travel_times,
        demand,
        providers,
        mode=mode,
        key_stages=ks_list,
        kinds=kinds,
        demand_columns=[_DEPRIVATION_COLUMNS[b] for b in indices],
        strict=strict,
    )
    nearest_s = nearest_suitable_s(prep, ks_list)
    children = np.column_stack([prep.children(ks) for ks in ks_list])
    rows: list[dict[str, object]] = []
    for index in indices:
        deciles = _check_deciles(prep.areas, _DEPRIVATION_COLUMNS[index], strict=strict)
        per_decile: dict[int, list[dict[str, object]]] = {}
        for d in range(1, 11):
            m = deciles == d
            per_decile[d] = _stats_by_key_stage(
                nearest_s[m], children[m], ks_list, thresholds_s, list(thresholds_min)
            )
        for k in range(len(ks_list) + 1):
            for d in range(1, 11):
                row = dict(per_decile[d][k])
                row = {DEPRIVATION_INDEX: index, KEY_STAGE: row.pop(KEY_STAGE), DECILE: d, **row}
                rows.append(row)
    out = pd.DataFrame(rows)
    out.insert(0, MODE, mode)
    return label_output(out, prep, key_stages=ks_list)


def equity_gaps(equity: pd.DataFrame) -> pd.DataFrame:
    """Gap between the most and least deprived deciles: decile 1 minus decile 10.

    Parameters
    ----------
    equity
        Output of :func:`equity_table`.

    Returns
    -------
    pandas.DataFrame
        One row per ``mode``, ``deprivation_index`` and ``key_stage``, with
        ``gap_mean_nearest_time_s`` (positive: the most deprived decile is farther from
        suitable provision) and ``gap_share_within_<t>_min`` for each band (negative:
        the most deprived decile is less well covered). NaN when either decile has no
        children.
    """
    require_columns(
        equity, [MODE, DEPRIVATION_INDEX, KEY_STAGE, DECILE, MEAN_NEAREST_TIME_S], source="equity"
    )
    measures = [MEAN_NEAREST_TIME_S] + [
        c for c in equity.columns if str(c).startswith("share_within_")
    ]
    keys = [MODE, *([TRAVEL_TIME_METHOD] if TRAVEL_TIME_METHOD in equity.columns else [])]
    keys += [DEPRIVATION_INDEX, KEY_STAGE]
    d1 = equity[equity[DECILE] == 1].set_index(keys)[measures]
    d10 = equity[equity[DECILE] == 10].set_index(keys)[measures]
    gap = (d1 - d10.reindex(d1.index)).reset_index()
    gap = gap.rename(columns={m: f"gap_{m}" for m in measures})
    gap.attrs = {k: v for k, v in equity.attrs.items() if k in (MODE, "method", "kinds", "key_stages")}
    return gap


__all__ = [
    "choice_counts",
    "coverage_summary",
    "equity_gaps",
    "equity_table",
    "nearest_times",
]
