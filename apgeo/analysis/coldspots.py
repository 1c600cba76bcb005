r"""Cold spots, named for what they are (FIELD-NOTES item 12).

"Cold spot" means three different things, and apgeo says which on every table:

*Access cold spot* (:func:`access_coldspots`)
    an area far from suitable provision that holds need: its time to the nearest
    provider serving the key stage exceeds a threshold (default 30 min) or it cannot
    reach one at all, and it has children of that key stage. Decided from travel
    times, never from isochrone polygons.
*Capacity cold spot* (:func:`capacity_coldspots`)
    an area with few places within reach per 1,000 children (2SFCA / E2SFCA result
    from :mod:`apgeo.analysis.access`) at or below a quantile or a chosen value.
*Gi\* cluster* (:func:`gi_star_clusters`)
    a statistically significant spatial cluster of long (hot) or short (cold) travel
    times: Getis-Ord Gi\*, a *cluster* statistic. A Gi\* "cold" cluster is a group of
    areas *near* provision, the opposite of an access cold spot.

None of these is the Centre for Social Justice (2020) "cold spot", which ranks whole
local authorities on the *quality* of their AP (inspection grades, results,
destinations, attendance, qualified teachers).
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from apgeo import schema as _schema
from apgeo._errors import ApgeoValueError
from apgeo._log import warn
from apgeo._validate import check_geometries, require_columns, to_numeric, to_working_crs
from apgeo.analysis.access import DEMAND, METHOD, PLACES_PER_1000
from apgeo.analysis.gi_star import GI_KNN_NEIGHBOURS, _gi_star_cached, _spatial_weights
from apgeo.analysis.tables import (
    CHILDREN,
    KEY_STAGE,
    NEAREST_SITE_ID,
    NEAREST_TIME_S,
    check_key_stages,
    format_ids,
    label_output,
    nearest_in,
    prepare_tables,
)
from apgeo.schema import (
    AP_KINDS,
    AREA_ID,
    IDACI_DECILE,
    KEY_STAGE_AGES,
    MODE,
    TRAVEL_TIME_METHOD,
    ProviderKind,
)

# ---- column names introduced here (to move into schema.py) --------------------------

NEED_WEIGHT = "need_weight"
WEIGHTED_NEED = "weighted_need"
ACCESS_COLDSPOT = "access_coldspot"
PRIORITY_SCORE = "priority_score"
REASON = _schema.REASON
CAPACITY_THRESHOLD_PER_1000 = "capacity_threshold_per_1000"
CAPACITY_COLDSPOT = "capacity_coldspot"
GI_VALUE = "gi_value"
GI_Z = "gi_z"
GI_P_SIM = "gi_p_sim"
GI_ALPHA = "gi_alpha"
GI_LABEL = _schema.GI_LABEL

#: Gi* labels.
GI_HOT = _schema.GI_HOT
GI_COLD = _schema.GI_COLD
GI_NOT_SIGNIFICANT = _schema.GI_NOT_SIGNIFICANT
GI_EXCLUDED = "excluded (unreachable)"
#: Explanation attached to Gi* tables (``DataFrame.attrs["note"]``).
GI_NOTE = (
    "Getis-Ord Gi* is a cluster statistic: 'hot' = a significant cluster of long travel "
    "times, 'cold' = a significant cluster of short ones. It is not an access cold spot "
    "(an area far from suitable provision) nor the Centre for Social Justice's quality "
    "'cold spot' ranking of local authorities."
)
DEFAULT_SEED = 12345

#: Beyond this multiple of the threshold every area counts as equally far
#: (unreachable areas get this factor too).
MAX_EXCESS_FACTOR = 2.0

_MODE_PHRASES = {
    "walk": "on foot",
    "walking": "on foot",
    "foot": "on foot",
    "cycle": "by bike",
    "cycling": "by bike",
    "bike": "by bike",
    "bicycle": "by bike",
    "car": "by car",
    "drive": "by car",
    "driving": "by car",
    "pt": "by public transport",
    "transit": "by public transport",
    "public_transport": "by public transport",
}


def _by_mode(mode: str) -> str:
    return _MODE_PHRASES.get(mode.strip().lower(), f"by {mode}")


def _fmt_min(seconds: float) -> str:
    m = seconds / 60.0
    return f"{m:.0f} min" if abs(m - round(m)) < 0.05 else f"{m:.1f} min"


def _ages(key_stage: str) -> str:
    ages = KEY_STAGE_AGES[key_stage]  # type: ignore[index]
    return f"aged {ages[0]}-{ages[-1]}"


def _deprivation_weight(areas: pd.DataFrame) -> np.ndarray:
    deciles = to_numeric(areas[IDACI_DECILE], column=IDACI_DECILE, source="demand").to_numpy(
        dtype=float
    )
    bad = np.isnan(deciles) | ~np.isin(deciles, np.arange(1, 11))
    if bad.any():
        raise ApgeoValueError(
            f"demand: column {IDACI_DECILE!r} must hold deciles 1..10 to weight need by IDACI; "
            f"missing or bad for {format_ids(areas[AREA_ID][bad])}; fill them or pass "
            "weight_by='none'"
        )
    return (11.0 - deciles) / 10.0


def access_coldspots(
    travel_times: pd.DataFrame,
    demand: pd.DataFrame,
    providers: pd.DataFrame,
    *,
    mode: str,
    key_stages: Sequence[str] | str | None = None,
    max_travel_time_min: float = 30.0,
    min_children: float = 0.0,
    weight_by: Literal["idaci", "none", "need"] = "idaci",
    need_column: str | None = None,
    fill_missing_need: float | None = None,
    kinds: Collection[str | ProviderKind] | None = AP_KINDS,
    strict: bool = False,
) -> pd.DataFrame:
    """Access cold spots: areas with need that are far from suitable provision.

    An area is an access cold spot for a key stage and mode when

    * its time to the nearest site serving that key stage is more than
      ``max_travel_time_min``, or it can reach none; **and**
    * it holds more than ``min_children`` children of that key stage.

    ``priority_score`` ranks cold spots (0 for areas that are not cold spots)::

        priority_score = weighted_need * min(nearest_time / threshold, 2)

    where the time factor is 2 for unreachable areas (beyond twice the threshold every
    area counts as equally far) and ``weighted_need`` is

    * ``weight_by="idaci"`` (default): ``children * (11 - idaci_decile) / 10``, so
      decile 1 (most deprived) counts in full and decile 10 at one tenth;
    * ``weight_by="none"``: ``children``;
    * ``weight_by="need"``: the value of ``need_column`` (e.g. referral counts).

    Parameters
    ----------
    travel_times, demand, providers
        The seam tables (see :mod:`apgeo.analysis.coverage`).
    mode
        Travel mode label, carried into the output and the ``reason`` text.
    key_stages
        Key stages to assess (``None``: the key stages the providers serve, else KS1-KS4; see ``attrs["key_stages"]``); one row per area and key stage.
    max_travel_time_min
        Access threshold in minutes (exclusive: exactly 30 min is not a cold spot).
    min_children
        Minimum children of the key stage (exclusive) for an area to hold need.
    weight_by
        How need is weighted in ``priority_score`` (see above).
    need_column
        Column of ``demand`` used when ``weight_by="need"``.
    fill_missing_need
        Value replacing NaN (suppressed) need; NaN without it raises.
    kinds
        Consider only providers of these kinds (default: the AP kinds, :data:`apgeo.schema.AP_KINDS`, so special schools are left out; ``None`` = every kind).
    strict
        Turn warnings into errors.

    Returns
    -------
    pandas.DataFrame
        One row per area and key stage, sorted by ``area_id`` then key stage. Columns:
        ``area_id``, ``mode``, ``key_stage``, ``nearest_time_s`` (NaN = unreachable),
        ``nearest_site_id``, ``children``, ``need_weight`` (the IDACI weight, or 1),
        ``weighted_need``, ``access_coldspot`` (bool), ``priority_score``, ``reason``
        (plain English, e.g. ``"nearest KS3 provider 41 min by bus; 210 children aged
        11-13; IDACI decile 1"``).
    """
    ks_list = check_key_stages(key_stages, providers, kinds)
    if not np.isfinite(max_travel_time_min) or max_travel_time_min <= 0:
        raise ApgeoValueError(
            f"max_travel_time_min must be a positive number of minutes; got {max_travel_time_min!r}"
        )
    if not np.isfinite(min_children) or min_children < 0:
        raise ApgeoValueError(f"min_children must be >= 0; got {min_children!r}")
    if weight_by not in ("idaci", "none", "need"):
        raise ApgeoValueError(f"weight_by must be 'idaci', 'none' or 'need'; got {weight_by!r}")
    extra: list[str] = []
    if weight_by == "idaci":
        extra.append(IDACI_DECILE)
    if weight_by == "need":
        if need_column is None:
            raise ApgeoValueError(
                "weight_by='need' needs need_column, e.g. need_column='need_count'"
            )
        extra.append(need_column)
    prep = prepare_tables(
        travel_times,
        demand,
        providers,
        mode=mode,
        key_stages=ks_list,
        kinds=kinds,
        demand_columns=extra,
        strict=strict,
    )
    areas = prep.areas
    n = len(areas)
    has_idaci = IDACI_DECILE in areas.columns
    idaci = (
        to_numeric(areas[IDACI_DECILE], column=IDACI_DECILE, source="demand").to_numpy(dtype=float)
        if has_idaci
        else np.full(n, np.nan)
    )
    dep_weight = _deprivation_weight(areas) if weight_by == "idaci" else np.ones(n)
    need_values = np.full(n, np.nan)
    if weight_by == "need":
        need_values = to_numeric(
            areas[str(need_column)], column=str(need_column), source="demand"
        ).to_numpy(dtype=float, copy=True)
        missing = np.isnan(need_values)
        if missing.any():
            if fill_missing_need is None:
                raise ApgeoValueError(
                    f"demand: column {need_column!r} is empty (suppressed?) for "
                    f"{int(missing.sum())} area(s): {format_ids(prep.area_ids[missing])}; "
                    "pass fill_missing_need (e.g. 2.5 for counts suppressed below 5) or fill them"
                )
            need_values[missing] = fill_missing_need
    limit_s = max_travel_time_min * 60.0
    by = _by_mode(mode)

    frames = []
    for ks in ks_list:
        best, idx = nearest_in(prep.times_s, prep.serves_key_stage(ks))
        children = prep.children(ks)
        far = ~(best <= limit_s)  # True for inf (unreachable)
        holds_need = children > min_children
        cold = far & holds_need
        weighted = need_values if weight_by == "need" else children * dep_weight
        factor = np.minimum(np.where(np.isfinite(best), best / limit_s, np.inf), MAX_EXCESS_FACTOR)
        priority = np.where(cold, weighted * factor, 0.0)
        reasons = []
        for i in range(n):
            where = (
                f"nearest {ks} provider {_fmt_min(best[i])} {by}"
                if np.isfinite(best[i])
                else f"no {ks} provider reachable {by}"
            )
            who = f"{children[i]:,.0f} children {_ages(ks)}"
            extras = ""
            if has_idaci and not np.isnan(idaci[i]):
                extras += f"; IDACI decile {idaci[i]:.0f}"
            if weight_by == "need":
                extras += f"; {need_column} {need_values[i]:g}"
            if cold[i]:
                reasons.append(f"{where}; {who}{extras}")
            elif not far[i]:
                reasons.append(
                    f"not an access cold spot: {where}, within {max_travel_time_min:g} min"
                )
            else:
                reasons.append(
                    f"not an access cold spot: {where} but {who} (needs more than {min_children:g})"
                )
        ids = prep.site_ids
        frames.append(
            pd.DataFrame(
                {
                    AREA_ID: prep.area_ids,
                    MODE: mode,
                    KEY_STAGE: ks,
                    NEAREST_TIME_S: np.where(np.isfinite(best), best, np.nan),
                    NEAREST_SITE_ID: pd.Series(
                        [ids[j] if j >= 0 else None for j in idx], dtype=object
                    ),
                    CHILDREN: children,
                    NEED_WEIGHT: dep_weight,
                    WEIGHTED_NEED: weighted,
                    ACCESS_COLDSPOT: cold,
                    PRIORITY_SCORE: priority,
                    REASON: reasons,
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    out["_ks"] = out[KEY_STAGE].map({ks: i for i, ks in enumerate(ks_list)})
    out = out.sort_values([AREA_ID, "_ks"], kind="stable").drop(columns="_ks")
    return label_output(out.reset_index(drop=True), prep, key_stages=ks_list)


def capacity_coldspots(
    access: pd.DataFrame,
    *,
    quantile: float = 0.2,
    max_places_per_1000: float | None = None,
) -> pd.DataFrame:
    """Capacity cold spots: few places within reach per 1,000 children.

    An area with demand is a capacity cold spot when its ``places_per_1000`` is at or
    below the threshold: ``max_places_per_1000`` when given, else the ``quantile`` of
    ``places_per_1000`` over the areas with demand (unweighted, linear interpolation).
    Areas without demand are never flagged.

    Parameters
    ----------
    access
        Output of :func:`apgeo.analysis.access.floating_catchment_access` (or its wrappers).
    quantile
        Quantile in ``(0, 1)`` used when ``max_places_per_1000`` is None.
    max_places_per_1000
        Fixed threshold; overrides ``quantile``.

    Returns
    -------
    pandas.DataFrame
        One row per area (sorted by ``area_id``): ``area_id``, ``mode``, ``method``,
        ``demand``, ``places_per_1000``, ``capacity_threshold_per_1000``,
        ``capacity_coldspot`` (bool), ``reason``.
    """
    require_columns(access, [AREA_ID, MODE, METHOD, DEMAND, PLACES_PER_1000], source="access")
    if max_places_per_1000 is None and not (0 < quantile < 1):
        raise ApgeoValueError(f"quantile must lie strictly between 0 and 1; got {quantile!r}")
    if max_places_per_1000 is not None and (
        not np.isfinite(max_places_per_1000) or max_places_per_1000 < 0
    ):
        raise ApgeoValueError(f"max_places_per_1000 must be >= 0; got {max_places_per_1000!r}")
    keep = [AREA_ID, MODE, *([TRAVEL_TIME_METHOD] if TRAVEL_TIME_METHOD in access.columns else [])]
    out = access.loc[:, [*keep, METHOD, DEMAND, PLACES_PER_1000]].copy()
    out = out.sort_values(AREA_ID, kind="stable").reset_index(drop=True)
    dem = out[DEMAND].to_numpy(dtype=float)
    ppk = out[PLACES_PER_1000].to_numpy(dtype=float)
    with_demand = dem > 0
    if max_places_per_1000 is not None:
        threshold = float(max_places_per_1000)
        how = f"at or below {threshold:g}"
    else:
        if not with_demand.any():
            raise ApgeoValueError("access: no area has demand > 0; cannot take a quantile")
        threshold = float(np.quantile(ppk[with_demand], quantile))
        how = f"at or below the {quantile * 100:g}th percentile, {threshold:.1f}"
    flag = with_demand & (ppk <= threshold)
    out[CAPACITY_THRESHOLD_PER_1000] = threshold
    out[CAPACITY_COLDSPOT] = flag
    out[REASON] = [
        (
            f"{p:.1f} places per 1,000 within reach ({how})"
            if f
            else (
                "not a capacity cold spot: no demand"
                if not d
                else f"not a capacity cold spot: {p:.1f} places per 1,000 within reach"
            )
        )
        for p, f, d in zip(ppk, flag, with_demand, strict=True)
    ]
    return out


def gi_star_clusters(
    travel_times: pd.DataFrame,
    demand: gpd.GeoDataFrame,
    providers: pd.DataFrame,
    *,
    mode: str,
    key_stage: str = "KS3",
    value: Literal["time", "need_weighted_time"] = "time",
    unreachable: Literal["exclude", "cap"] = "exclude",
    unreachable_cap_min: float = 120.0,
    permutations: int = 999,
    alpha: float = 0.05,
    random_state: int = DEFAULT_SEED,
    kinds: Collection[str | ProviderKind] | None = AP_KINDS,
    fdr: bool = False,
    strict: bool = False,
    cache_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Getis-Ord Gi* clusters of travel time to the nearest suitable provider.

    This is a *cluster* statistic (see :data:`GI_NOTE`): a "hot" cluster is a group of
    neighbouring areas with significantly long times, a "cold" cluster one with
    significantly short times. It differs from access cold spots
    (:func:`access_coldspots`) and from the Centre for Social Justice's quality "cold
    spot" ranking of local authorities.

    The numbers are ``esda.G_Local(star=True)``'s, bit for bit (computed by
    :mod:`apgeo.analysis.gi_star` without importing esda), with libpysal's binary
    Queen-contiguity weights (self-weight 1, then row-standardised); when some areas share no border, k = 6 nearest neighbours
    of the centroids (with a warning). Significance is the permutation pseudo p-value
    ``p_sim`` (``permutations`` conditional permutations, seeded by ``random_state``):
    esda's ``p_sim`` is one-sided (the smaller tail of the permutation distribution).
    ``gi_p_sim < alpha`` (default 0.05) with ``gi_z > 0`` is "hot (far, significant)",
    with ``gi_z < 0`` "cold (near, significant)", otherwise "not significant".

    Unreachable areas (NaN time) are never handled silently: with
    ``unreachable="exclude"`` (default) they are left out of the weights and the
    statistic, kept in the output with label ``"excluded (unreachable)"`` and listed in
    a warning; with ``"cap"`` their time is set to ``unreachable_cap_min`` (warning).

    Parameters
    ----------
    travel_times, providers
        The seam tables (see :mod:`apgeo.analysis.coverage`).
    demand
        GeoDataFrame of area polygons with a CRS (reprojected to EPSG:27700), with
        ``area_id`` and ``children_<key_stage>``.
    mode
        Travel mode label carried into the output.
    key_stage
        Times are to the nearest site serving this key stage.
    value
        ``"time"``: seconds to the nearest suitable site; ``"need_weighted_time"``:
        that time multiplied by the area's children of the key stage.
    unreachable
        ``"exclude"`` or ``"cap"`` (see above).
    unreachable_cap_min
        Time given to unreachable areas when ``unreachable="cap"``.
    permutations
        Number of conditional permutations (>= 99).
    alpha
        Significance level for the labels.
    random_state
        Seed: the same inputs and seed give identical output.
    kinds
        Consider only providers of these kinds (default: the AP kinds, :data:`apgeo.schema.AP_KINDS`, so special schools are left out; ``None`` = every kind).
    fdr
        Control the false discovery rate over the many local tests (Benjamini-Hochberg):
        an area is significant when its ``p_sim`` is at or below the largest
        ``p_(i) <= alpha * i / n``. ``gi_alpha`` then holds that effective cut-off.
    strict
        Turn warnings into errors.
    cache_dir
        A folder to keep the statistic in, under a digest of the values, the areas, the
        permutations, the seed and the numba and libpysal versions: the same inputs
        are then read back, not permuted again (same result); the areas' weights are
        kept there too. ``None`` (default): no cache.

    Returns
    -------
    pandas.DataFrame
        One row per area, sorted by ``area_id``. Columns: ``area_id``, ``mode``,
        ``key_stage``, ``nearest_time_s`` (NaN = unreachable), ``gi_value`` (the
        variable tested, NaN when excluded), ``gi_z``, ``gi_p_sim``, ``gi_alpha``,
        ``gi_label``. ``attrs["note"]`` holds :data:`GI_NOTE`.
    """
    parsed = check_key_stages(key_stage)
    if len(parsed) != 1:
        raise ApgeoValueError(f"key_stage must name one key stage, e.g. 'KS3'; got {key_stage!r}")
    ks = parsed[0]
    if value not in ("time", "need_weighted_time"):
        raise ApgeoValueError(f"value must be 'time' or 'need_weighted_time'; got {value!r}")
    if unreachable not in ("exclude", "cap"):
        raise ApgeoValueError(f"unreachable must be 'exclude' or 'cap'; got {unreachable!r}")
    if not (0 < alpha < 1):
        raise ApgeoValueError(f"alpha must lie strictly between 0 and 1; got {alpha!r}")
    if int(permutations) < 99:
        raise ApgeoValueError(f"permutations must be at least 99; got {permutations!r}")
    if not isinstance(demand, gpd.GeoDataFrame):
        raise ApgeoValueError(
            "demand must be a GeoDataFrame of area polygons (Queen contiguity) or points "
            f"(the {GI_KNN_NEIGHBOURS} nearest neighbours) for Gi* weights; join the LSOA "
            "boundaries or centroids first"
        )
    require_columns(demand, [AREA_ID], source="demand")
    geo = to_working_crs(demand, name="demand")
    check_geometries(geo, id_column=AREA_ID, name="demand")
    prep = prepare_tables(
        travel_times,
        pd.DataFrame(demand.drop(columns=demand.geometry.name)),
        providers,
        mode=mode,
        key_stages=(ks,),
        kinds=kinds,
        strict=strict,
    )
    best, _ = nearest_in(prep.times_s, prep.serves_key_stage(ks))
    lost = ~np.isfinite(best)
    times_s = best.copy()
    if lost.any():
        listed = format_ids(prep.area_ids[lost])
        if unreachable == "exclude":
            warn(
                f"Gi*: {int(lost.sum())} area(s) cannot reach a {ks} provider {_by_mode(mode)} "
                f"and are excluded from the statistic and its weights: {listed}",
                strict=strict,
                stacklevel=3,
            )
        else:
            if not np.isfinite(unreachable_cap_min) or unreachable_cap_min <= 0:
                raise ApgeoValueError(
                    f"unreachable_cap_min must be positive minutes; got {unreachable_cap_min!r}"
                )
            warn(
                f"Gi*: {int(lost.sum())} area(s) cannot reach a {ks} provider {_by_mode(mode)}; "
                f"their time is capped at {unreachable_cap_min:g} min: {listed}",
                strict=strict,
                stacklevel=3,
            )
            times_s[lost] = unreachable_cap_min * 60.0
    included = np.isfinite(times_s)
    if included.sum() < 3:
        raise ApgeoValueError(
            f"Gi* needs at least 3 areas with a travel time; only {int(included.sum())} have one"
        )
    y_all = times_s if value == "time" else times_s * prep.children(ks)
    order = geo.set_index(AREA_ID).loc[prep.area_ids[included]].reset_index()
    areas = gpd.GeoDataFrame(order, geometry=geo.geometry.name, crs=geo.crs)
    y = y_all[included]
    z = np.full(len(prep.areas), np.nan)
    p = np.full(len(prep.areas), np.nan)
    if np.ptp(y) > 0:
        gi = _gi_star_cached(
            y, areas, permutations=permutations, random_state=random_state, cache_dir=cache_dir
        )
        if str(gi["warning"][0]):
            warn(str(gi["warning"][0]), strict=strict, stacklevel=3)
        z[included] = gi["z"]
        p[included] = gi["p_sim"]
    else:
        _, message = _spatial_weights(areas)
        if message:
            warn(message, strict=strict, stacklevel=3)
        warn(
            f"Gi*: every included area has the same value ({y[0]:g}); nothing can cluster",
            strict=strict,
            stacklevel=3,
        )
        p[included] = 1.0
        z[included] = 0.0
    cutoff = float(alpha)
    significant = p < alpha
    if fdr:
        cutoff = benjamini_hochberg_cutoff(p[included], alpha=alpha)
        significant = p <= cutoff
    labels = np.where(
        ~included,
        GI_EXCLUDED,
        np.where(
            significant & (z > 0),
            GI_HOT,
            np.where(significant & (z < 0), GI_COLD, GI_NOT_SIGNIFICANT),
        ),
    )
    out = pd.DataFrame(
        {
            AREA_ID: prep.area_ids,
            MODE: mode,
            KEY_STAGE: ks,
            NEAREST_TIME_S: np.where(lost, np.nan, best),
            GI_VALUE: np.where(included, y_all, np.nan),
            GI_Z: z,
            GI_P_SIM: p,
            GI_ALPHA: cutoff,
            GI_LABEL: labels,
        }
    )
    out.attrs["note"] = GI_NOTE
    return label_output(out, prep, key_stages=[ks])


def benjamini_hochberg_cutoff(p_values: np.ndarray, *, alpha: float = 0.05) -> float:
    """Largest p-value ``p_(i)`` with ``p_(i) <= alpha * i / n`` (0.0 when there is none).

    Tests with ``p <= cutoff`` are significant at false discovery rate ``alpha``
    (Benjamini & Hochberg 1995).

    Parameters
    ----------
    p_values
        One p-value per test.
    alpha
        The false discovery rate.

    Returns
    -------
    float
        The cutoff.
    """
    p_sorted = np.sort(np.asarray(p_values, dtype=float)[np.isfinite(p_values)])
    n = len(p_sorted)
    if n == 0:
        return 0.0
    ok = p_sorted <= alpha * np.arange(1, n + 1) / n
    return float(p_sorted[np.flatnonzero(ok)[-1]]) if ok.any() else 0.0


def combine_coldspots(access: pd.DataFrame, capacity: pd.DataFrame | None = None) -> pd.DataFrame:
    """The documented access cold-spot rule, per area, key stage and mode.

    An area is an access cold spot for a key stage when the nearest suitable provider
    is beyond the threshold for the mode (or unreachable) **or** its places per 1,000
    children within reach fall in the bottom quintile (a capacity cold spot, from
    :func:`capacity_coldspots`; matched on ``mode`` and on the key stage being part of
    the capacity table's ``key_stages`` label such as ``"KS1+KS2"``), and it has children
    of that key stage. Reasons from both tests are joined.

    Parameters
    ----------
    access
        The access table (:func:`access_coldspots`), one row per area, key stage and mode.
    capacity
        The capacity table (:func:`capacity_coldspots`), or ``None`` for the distance
        test alone.

    Returns
    -------
    pandas.DataFrame
        The rows of ``access`` with ``far`` (bool), ``low_capacity`` (bool),
        ``coldspot`` (bool) and ``reasons``.
    """
    require_columns(access, [AREA_ID, MODE, KEY_STAGE, ACCESS_COLDSPOT, REASON, CHILDREN], source="access cold spots")
    out = access.copy()
    out["far"] = out[ACCESS_COLDSPOT].astype(bool)
    out["low_capacity"] = False
    out["reasons"] = np.where(out["far"], out[REASON], "")
    if capacity is not None and len(capacity):
        require_columns(capacity, [AREA_ID, MODE, CAPACITY_COLDSPOT, REASON], source="capacity cold spots")
        cap = capacity.copy()
        if "key_stages" not in cap.columns:
            cap["key_stages"] = "+".join(KEY_STAGE_AGES)
        rows = []
        for _, row in cap[cap[CAPACITY_COLDSPOT]].iterrows():
            for ks in str(row["key_stages"]).split("+"):
                rows.append((row[AREA_ID], row[MODE], ks, row[REASON]))
        low = pd.DataFrame(rows, columns=[AREA_ID, MODE, KEY_STAGE, "capacity_reason"])
        low = low.drop_duplicates([AREA_ID, MODE, KEY_STAGE])
        out = out.merge(low, on=[AREA_ID, MODE, KEY_STAGE], how="left")
        has_low = out["capacity_reason"].notna() & (out[CHILDREN] > 0)
        out["low_capacity"] = has_low
        out["reasons"] = [
            "; ".join(x for x in (a, f"low capacity: {b}" if hit else "") if x)
            for a, b, hit in zip(out["reasons"], out["capacity_reason"], has_low, strict=True)
        ]
        out = out.drop(columns="capacity_reason")
    out["coldspot"] = out["far"] | out["low_capacity"]
    return out.sort_values([MODE, KEY_STAGE, AREA_ID], kind="stable").reset_index(drop=True)


def coldspot_sensitivity(
    travel_times: pd.DataFrame,
    demand: pd.DataFrame,
    providers: pd.DataFrame,
    *,
    mode: str,
    key_stages: Sequence[str] | str | None = None,
    max_travel_time_min: float = 30.0,
    delta_min: float = 5.0,
    kinds: Collection[str | ProviderKind] | None = AP_KINDS,
) -> pd.DataFrame:
    """How the access cold-spot set changes when the threshold moves by +/- ``delta_min``.

    Parameters
    ----------
    travel_times, demand, providers
        The seam tables (see :mod:`apgeo.analysis.coverage`).
    mode
        The travel mode of ``travel_times``.
    key_stages
        Key stages to test (default: those the providers serve, else KS1-KS4).
    max_travel_time_min
        The base threshold in minutes.
    delta_min
        How far the threshold moves each way, in minutes.
    kinds
        Provider kinds that count (default: the AP kinds; ``None``: every kind).

    Returns
    -------
    pandas.DataFrame
        One row per key stage and threshold (``threshold - delta``, ``threshold``,
        ``threshold + delta``): ``coldspot_areas``, ``children_in_coldspots``, and,
        against the base threshold, ``areas_added`` and ``areas_removed`` (counts) and
        ``jaccard_with_base`` (overlap of the sets, 1 = identical).
    """
    if delta_min <= 0 or delta_min >= max_travel_time_min:
        raise ApgeoValueError(
            f"delta_min must be positive and smaller than max_travel_time_min ({max_travel_time_min:g}); got {delta_min!r}"
        )
    thresholds = (max_travel_time_min - delta_min, max_travel_time_min, max_travel_time_min + delta_min)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the base run warns once; repeats add nothing
        runs = {
            t: access_coldspots(
                travel_times, demand, providers, mode=mode, key_stages=key_stages,
                max_travel_time_min=t, kinds=kinds,
            )
            for t in thresholds
        }
    rows = []
    for ks in runs[max_travel_time_min][KEY_STAGE].unique():
        def flagged(t: float, ks: str = ks) -> pd.DataFrame:
            r = runs[t]
            return r[(r[KEY_STAGE] == ks) & r[ACCESS_COLDSPOT]]

        base = set(flagged(max_travel_time_min)[AREA_ID])
        for t in thresholds:
            f = flagged(t)
            ids = set(f[AREA_ID])
            union = base | ids
            rows.append(
                {
                    MODE: mode,
                    KEY_STAGE: ks,
                    "threshold_min": t,
                    "coldspot_areas": len(ids),
                    "children_in_coldspots": float(f[CHILDREN].sum()),
                    "areas_added": len(ids - base),
                    "areas_removed": len(base - ids),
                    "jaccard_with_base": len(base & ids) / len(union) if union else 1.0,
                }
            )
    return pd.DataFrame(rows)


__all__ = [
    "DEFAULT_SEED",
    "GI_COLD",
    "GI_EXCLUDED",
    "GI_HOT",
    "GI_NOTE",
    "GI_NOT_SIGNIFICANT",
    "access_coldspots",
    "benjamini_hochberg_cutoff",
    "capacity_coldspots",
    "coldspot_sensitivity",
    "combine_coldspots",
    "gi_star_clusters",
]
