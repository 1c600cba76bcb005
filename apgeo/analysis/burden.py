"""Travel burden of placements: the travel time of every placement (home area -> provider
site), the excess over the nearest suitable site, and burden tables by key stage, kind,
deprivation decile, referring school or provider.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence

import numpy as np
import pandas as pd

from apgeo import schema as S
from apgeo._errors import ApgeoValueError
from apgeo._validate import require_columns
from apgeo.inputs.placements import (
    ALL,
    BURDEN_DIMENSIONS,
    DEFAULT_BURDEN_THRESHOLDS_MIN,
    EXCESS_TIME_S,
    GROUP,
    GROUP_BY,
    GROUP_NAME,
    KEY_STAGE,
    MEAN_EXCESS_TIME_S,
    MEAN_TRAVEL_TIME_S,
    MEDIAN_TRAVEL_TIME_S,
    NEAREST_SUITABLE_SITE_ID,
    NEAREST_SUITABLE_TIME_S,
    PLACEMENTS,
    PLACEMENTS_NO_TIME,
    SCHOOL_NAME,
    SCHOOL_URN,
    SUPPRESSED,
    BurdenDimension,
    _stamp,
    _synthetic_flag,
)
from apgeo.privacy.disclosure import _protect_frame
from apgeo.privacy.statistics_check import (
    STATISTICS_MIN_PLACEMENTS,
    SUPPRESSION_NOTE,
    BurdenCounts,
    protect_statistics,
)
from apgeo.settings import get_settings


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
        from apgeo.inputs.providers import load_sheffield_providers

        providers = load_sheffield_providers()
    require_columns(providers, [S.SITE_ID, S.KIND, S.KEY_STAGES], source="providers")
    if demand is None:
        from apgeo.inputs.demand import load_demand

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
        serving = {site for site, stages in serves.items() if ks in stages}
        sub = tt[tt[S.DESTINATION_ID].isin(serving)]  # one set look-up per row, not a Python call
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
    ``placements_no_time``.

    Parameters
    ----------
    thresholds_min
        The band edges in minutes, increasing.

    Returns
    -------
    list of str
        The column names, nearest band first, ``placements_no_time`` last.
    """
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


def _with_totals(counts: pd.DataFrame) -> pd.DataFrame:
    """``counts`` with a total column and a total row labelled ``"all"``."""
    full = counts.astype(float).copy()
    full[ALL] = full.sum(axis=1)
    full.loc[ALL] = full.sum(axis=0)
    return full


def _time_range_s(pt: pd.DataFrame) -> tuple[float, float]:
    """Shortest and longest travel time (s) of any placement (0, 0 when none has one)."""
    t = pt.loc[pt[PLACEMENTS].to_numpy(dtype=float) > 0, S.TRAVEL_TIME_S].to_numpy(dtype=float)
    t = t[np.isfinite(t)]
    return (float(t.min()), float(t.max())) if len(t) else (0.0, 0.0)


def _statistics_shown(
    pt: pd.DataFrame,
    tables: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]],
    thresholds_min: Sequence[float],
    *,
    threshold: int | None,
    check_statistics: bool | None,
) -> dict[str, np.ndarray]:
    """Rows whose mean / median travel times may be published, per dimension
    (:func:`apgeo.privacy.statistics_check.protect_statistics`); ``tables`` maps a
    dimension to its counts (no totals) and suppressed mask (with totals)."""
    limit = get_settings().suppression_threshold if threshold is None else int(threshold)
    inputs = {}
    for by, (counts, mask) in tables.items():
        stats = _group_stats(pt, by)
        inputs[by] = BurdenCounts(
            counts=_with_totals(counts),
            hidden=mask.astype(bool),
            mean_s=stats[MEAN_TRAVEL_TIME_S],
            median_s=stats[MEDIAN_TRAVEL_TIME_S],
        )
    return protect_statistics(
        inputs, thresholds_min=thresholds_min, time_range_s=_time_range_s(pt), threshold=limit, check=check_statistics
    )


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
    statistics_shown: np.ndarray | None = None,
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
    if statistics_shown is None:
        ok = (known_total >= limit).to_numpy()
    else:
        ok = np.asarray(statistics_shown, dtype=bool)
    for col in stats.columns:
        out[col] = np.where(ok, stats[col].to_numpy(dtype=float), np.nan)
    out[SUPPRESSED] = mask.loc[:, [ALL, *cols]].any(axis=1).to_numpy()
    labels = [str(v) for v in out.index]
    out.insert(0, GROUP_NAME, _group_names(pt, by, labels, names))
    out.insert(0, GROUP, labels)
    out.insert(0, GROUP_BY, by)
    out.insert(0, S.MODE, pt[S.MODE].iloc[0] if S.MODE in pt.columns and len(pt) else "")
    out = out.reset_index(drop=True)
    out.attrs = {
        "threshold": limit,
        "thresholds_min": list(thresholds_min),
        "mode": pt.attrs.get("mode"),
        "statistics_min_placements": STATISTICS_MIN_PLACEMENTS,
        "note": SUPPRESSION_NOTE,
    }
    return _stamp(out, synthetic=_synthetic_flag(pt), title=f"travel burden of AP placements by {by.replace('_', ' ')}")


def burden_table(
    placement_times: pd.DataFrame,
    *,
    by: BurdenDimension = "key_stage",
    thresholds_min: Sequence[float] = DEFAULT_BURDEN_THRESHOLDS_MIN,
    threshold: int | None = None,
    names: Mapping[str, str] | None = None,
    check_statistics: bool | None = None,
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
    check_statistics
        Apply the statistics rules of :mod:`apgeo.privacy.statistics_check` (default
        :data:`~apgeo.privacy.statistics_check.CHECK_STATISTICS`, on); ``False`` only to
        show what they protect against.

    Returns
    -------
    pandas.DataFrame
        One row per group then ``group == "all"``. Columns: ``mode``, ``group_by``,
        ``group``, ``group_name``, ``placements``, the band counts of
        :func:`band_columns` (NaN = suppressed), ``share_over_<t>_min`` (among
        placements with a time; NaN unless it follows from shown counts),
        ``mean_travel_time_s``, ``median_travel_time_s``, ``mean_excess_time_s``
        (NaN unless the row has at least 10 placements with a time and no suppressed
        count, and withholding it would not let another be worked out: see
        :mod:`apgeo.privacy.statistics_check`) and ``suppressed`` (any count of the row
        hidden). ``attrs["note"]`` says in one line what is suppressed and why.
    """
    thresholds = _check_thresholds(thresholds_min)
    counts = _burden_counts(placement_times, by, thresholds)
    protected, mask = _protect_frame(counts, threshold=threshold)
    shown = _statistics_shown(
        placement_times, {by: (counts, mask)}, thresholds, threshold=threshold, check_statistics=check_statistics
    )
    return _finish_burden(placement_times, by, protected, mask, thresholds, names=names, statistics_shown=shown[by])


def furthest_schools(burden_by_school: pd.DataFrame, *, top: int = 10) -> pd.DataFrame:
    """Referring schools whose placed pupils travel furthest (from a by-school burden table).

    Only schools whose figures are shown (enough placements) are ranked, by
    ``mean_travel_time_s``, longest first; ``attrs["schools_not_shown"]`` counts the others.

    Parameters
    ----------
    burden_by_school
        A burden table by referring school (suppressed).
    top
        How many schools to return.

    Returns
    -------
    pandas.DataFrame
        At most ``top`` rows of ``burden_by_school``, longest mean time first.
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


__all__ = [
    "band_columns",
    "burden_table",
    "furthest_schools",
    "placement_travel_times",
]
