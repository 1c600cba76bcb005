"""Capacity-aware access: two-step floating catchment (2SFCA) and enhanced 2SFCA.

Supply is a site's ``capacity_places``; demand is an area's children of the chosen key
stages (or any numeric need column, e.g. a weighted referral count). With ``W[i, j]``
the weight of the journey from area ``i`` to site ``j`` (0 outside the catchment or
when unreachable):

* step 1, for every site: ``R[j] = S[j] / sum_i D[i] * W[i, j]`` (places per child
  who could use the site);
* step 2, for every area: ``A[i] = sum_j W[i, j] * R[j]`` (places per child within
  reach), reported as ``places_per_1000 = 1000 * A[i]``.

Weights (all catchment limits inclusive):

``"none"`` (classic 2SFCA, Luo & Wang 2003)
    1 when ``t <= catchment``, else 0.
``"stepped"`` (E2SFCA, Luo & Qi 2009)
    by default 1.00 / 0.68 / 0.22 for 0-10 / 10-20 / 20-30 min, 0 beyond 30 min;
    a time on a step boundary belongs to the nearer band.
``"gaussian"`` (E2SFCA with Gaussian decay, Dai 2010)
    ``(exp(-t**2 / (2 * s**2)) - exp(-c**2 / (2 * s**2))) / (1 - exp(-c**2 / (2 * s**2)))``
    for ``t <= c`` (``c`` = catchment, ``s`` = ``gaussian_sigma_min``, by default
    ``c / 2``), else 0; so the weight is 1 at 0 min and falls to 0 at the catchment.
``"gravity"`` (gravity-based 2SFCA, Luo & Wang 2003; PySAL access ``weights.gravity``)
    ``(max(t, t0) / t0) ** -beta`` for ``t <= c``, else 0 (``beta`` =
    ``gravity_exponent``, ``t0`` = ``gravity_min_time_min``, 1 min by default); the
    weight is 1 up to ``t0``, which also keeps zero-minute pairs finite. The catchment
    may be ``math.inf`` (no cut-off), as in access without ``max_cost``. This is
    access's ``weights.gravity(scale=t0, alpha=-beta, min_dist=t0)``; the 2SFCA result
    does not depend on the scale.

An area with no site in reach gets 0 places per child (PySAL access reports NaN).

Hygiene (FIELD-NOTES item 10): the travel-time table is area -> site (the journey the
pupil makes) and is used as is in both steps: it is never transposed nor assumed
symmetric, and zero-minute pairs (a site inside the area, origin = destination) are
kept with full weight. Unreachable pairs (NaN or missing) have weight 0.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from typing import Literal

import numpy as np
import pandas as pd

from apgeo import schema as _schema
from apgeo._errors import ApgeoValueError
from apgeo._log import warn
from apgeo._validate import require_columns, to_numeric
from apgeo.analysis.tables import check_key_stages, format_ids, label_output, prepare_tables
from apgeo.schema import (
    AP_KINDS,
    AREA_ID,
    CAPACITY_PLACES,
    MODE,
    NAME,
    SITE_ID,
    ProviderKind,
    children_column,
)

# ---- column names introduced here (to move into schema.py) --------------------------
METHOD = _schema.METHOD
DEMAND_BASIS = "demand_basis"
DEMAND = "demand"
SITES_IN_REACH = "sites_in_reach"
PLACES_IN_REACH = "places_in_reach"
PLACES_PER_CHILD = "places_per_child"
PLACES_PER_1000 = "places_per_1000"

Decay = Literal["none", "stepped", "gaussian", "gravity"]

#: Luo & Qi (2009) E2SFCA bands: upper limits in minutes and their weights.
DEFAULT_STEPS_MIN: tuple[float, ...] = (10.0, 20.0, 30.0)
DEFAULT_STEP_WEIGHTS: tuple[float, ...] = (1.00, 0.68, 0.22)
DEFAULT_CATCHMENT_MIN = 30.0
DEFAULT_GRAVITY_EXPONENT = 1.0
DEFAULT_GRAVITY_MIN_TIME_MIN = 1.0


# ======================================================================================
# Weight functions (seconds in, weights out; inf = unreachable -> 0)
# ======================================================================================


def uniform_weights(times_s: np.ndarray, *, catchment_s: float) -> np.ndarray:
    """1 within the catchment (inclusive), 0 beyond it or when unreachable.

    Parameters
    ----------
    times_s
        Travel times in seconds; NaN or inf = unreachable.
    catchment_s
        The catchment in seconds.

    Returns
    -------
    numpy.ndarray
        A weight in ``[0, 1]`` per time, same shape as ``times_s``.
    """
    return np.where(np.isfinite(times_s) & (times_s <= catchment_s), 1.0, 0.0)


def stepped_weights(
    times_s: np.ndarray, *, steps_s: Sequence[float], step_weights: Sequence[float]
) -> np.ndarray:
    """Stepped decay: ``step_weights[k]`` for ``steps_s[k-1] < t <= steps_s[k]``, else 0.

    Parameters
    ----------
    times_s
        Travel times in seconds; NaN or inf = unreachable.
    steps_s
        Upper limits of the bands in seconds, increasing.
    step_weights
        Weight of each band, one per limit.

    Returns
    -------
    numpy.ndarray
        A weight in ``[0, 1]`` per time, same shape as ``times_s``.
    """
    out = np.zeros(np.shape(times_s), dtype=float)
    lower = -np.inf
    for upper, w in zip(steps_s, step_weights, strict=True):
        out[(times_s > lower) & (times_s <= upper)] = w
        lower = upper
    return out


def gaussian_weights(times_s: np.ndarray, *, catchment_s: float, sigma_s: float) -> np.ndarray:
    """Dai (2010) Gaussian decay: 1 at 0 s, 0 at and beyond the catchment.

    Parameters
    ----------
    times_s
        Travel times in seconds; NaN or inf = unreachable.
    catchment_s
        The catchment in seconds.
    sigma_s
        Width of the Gaussian in seconds.

    Returns
    -------
    numpy.ndarray
        A weight in ``[0, 1]`` per time, same shape as ``times_s``.
    """
    floor = np.exp(-(catchment_s**2) / (2 * sigma_s**2))
    with np.errstate(invalid="ignore"):
        g = (np.exp(-(times_s**2) / (2 * sigma_s**2)) - floor) / (1 - floor)
    return np.where(np.isfinite(times_s) & (times_s <= catchment_s), g, 0.0)


def gravity_weights(
    times_s: np.ndarray, *, catchment_s: float, exponent: float, min_time_s: float
) -> np.ndarray:
    """Gravity decay ``(max(t, t0) / t0) ** -exponent`` within the catchment, else 0.

    ``t0`` = ``min_time_s``: times below it weigh 1 (no infinite weight at 0 s).
    ``catchment_s`` may be ``inf`` (no cut-off).

    Parameters
    ----------
    times_s
        Travel times in seconds; NaN or inf = unreachable.
    catchment_s
        The catchment in seconds (``inf``: none).
    exponent
        The decay exponent (``beta >= 0``).
    min_time_s
        ``t0`` in seconds.

    Returns
    -------
    numpy.ndarray
        A weight in ``[0, 1]`` per time, same shape as ``times_s``.
    """
    t = np.maximum(np.asarray(times_s, dtype=float), min_time_s)
    with np.errstate(invalid="ignore", over="ignore"):
        g = (t / min_time_s) ** (-exponent)
    return np.where(np.isfinite(times_s) & (times_s <= catchment_s), g, 0.0)


# ======================================================================================
# The tested core: arrays in, arrays out
# ======================================================================================


def fca_from_cost_matrix(
    times_s: np.ndarray,
    supply: np.ndarray,
    demand: np.ndarray,
    *,
    weight: Callable[[np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Two-step floating catchment on a dense area x site matrix.

    Parameters
    ----------
    times_s
        ``(n_areas, n_sites)`` travel times from area to site in seconds;
        ``inf`` or ``NaN`` = unreachable. Used as given (never transposed).
    supply
        ``(n_sites,)`` places, ``>= 0``.
    demand
        ``(n_areas,)`` children (or need), ``>= 0``.
    weight
        Maps an array of seconds to weights in ``[0, 1]`` (0 for ``inf``).

    Returns
    -------
    site_ratio
        ``(n_sites,)`` places per weighted child in each site's catchment
        (0 when no demand falls in the catchment).
    access
        ``(n_areas,)`` places per child within reach of each area.
    """
    t = np.where(np.isnan(times_s), np.inf, np.asarray(times_s, dtype=float))
    w = weight(t)
    catchment_demand = demand @ w  # (n_sites,)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(catchment_demand > 0, supply / catchment_demand, 0.0)
    return ratio, w @ ratio


# ======================================================================================
# Public API
# ======================================================================================


def _build_weight(
    decay: Decay,
    *,
    catchment_min: float,
    steps_min: Sequence[float],
    step_weights: Sequence[float],
    gaussian_sigma_min: float | None,
    gravity_exponent: float = DEFAULT_GRAVITY_EXPONENT,
    gravity_min_time_min: float = DEFAULT_GRAVITY_MIN_TIME_MIN,
) -> tuple[Callable[[np.ndarray], np.ndarray], str]:
    if decay == "none":
        _check_positive(catchment_min, "catchment_min", allow_inf=True)
        c = catchment_min * 60.0
        return (lambda t: uniform_weights(t, catchment_s=c)), "2sfca"
    if decay == "gravity":
        _check_positive(catchment_min, "catchment_min", allow_inf=True)
        _check_positive(gravity_min_time_min, "gravity_min_time_min")
        if not np.isfinite(gravity_exponent) or gravity_exponent < 0:
            raise ApgeoValueError(
                f"gravity_exponent must be a number >= 0 (the weight is (t / t0) ** -exponent; "
                f"1 or 2 are usual); got {gravity_exponent!r}"
            )
        c, t0, beta = catchment_min * 60.0, gravity_min_time_min * 60.0, float(gravity_exponent)
        return (
            lambda t: gravity_weights(t, catchment_s=c, exponent=beta, min_time_s=t0)
        ), "2sfca_gravity"
    if decay == "stepped":
        steps = np.asarray(list(steps_min), dtype=float)
        weights = np.asarray(list(step_weights), dtype=float)
        if steps.size == 0 or steps.size != weights.size:
            raise ApgeoValueError(
                f"steps_min and step_weights must have the same, non-zero length; got "
                f"{list(steps)} and {list(weights)}"
            )
        if not np.all(np.isfinite(steps)) or np.any(steps <= 0) or np.any(np.diff(steps) <= 0):
            raise ApgeoValueError(
                f"steps_min must be positive, strictly increasing minutes; got {list(steps)}"
            )
        if not np.all(np.isfinite(weights)) or np.any(weights < 0) or np.any(weights > 1):
            raise ApgeoValueError(f"step_weights must lie in [0, 1]; got {list(weights)}")
        steps_s = list(steps * 60.0)
        wl = list(weights)
        return (lambda t: stepped_weights(t, steps_s=steps_s, step_weights=wl)), "e2sfca_stepped"
    if decay == "gaussian":
        _check_positive(catchment_min, "catchment_min")
        sigma = catchment_min / 2 if gaussian_sigma_min is None else gaussian_sigma_min
        _check_positive(sigma, "gaussian_sigma_min")
        c, s = catchment_min * 60.0, sigma * 60.0
        return (lambda t: gaussian_weights(t, catchment_s=c, sigma_s=s)), "e2sfca_gaussian"
    raise ApgeoValueError(
        f"decay must be 'none', 'stepped', 'gaussian' or 'gravity'; got {decay!r}"
    )


def _check_positive(value: float, name: str, *, allow_inf: bool = False) -> None:
    ok = value > 0 and (np.isfinite(value) or (allow_inf and value == np.inf))
    if not ok:
        extra = " (or math.inf for no cut-off)" if allow_inf else ""
        raise ApgeoValueError(f"{name} must be a positive number of minutes{extra}; got {value!r}")


def _supply(prep_sites: pd.DataFrame, *, strict: bool) -> np.ndarray:
    cap = to_numeric(prep_sites[CAPACITY_PLACES], column=CAPACITY_PLACES, source="providers")
    values = cap.to_numpy(dtype=float)
    names = prep_sites[NAME] if NAME in prep_sites.columns else prep_sites[SITE_ID]
    labels = [f"{s} ({n})" for s, n in zip(prep_sites[SITE_ID], names, strict=True)]
    neg = values < 0
    if neg.any():
        bad = [f"{lab}: {v:g}" for lab, v, b in zip(labels, values, neg, strict=True) if b]
        raise ApgeoValueError(
            f"providers: column {CAPACITY_PLACES!r} must be >= 0 places; negative for "
            f"{format_ids(bad)}; leave it blank when unknown"
        )
    if np.isinf(values).any():
        bad = [lab for lab, v in zip(labels, values, strict=True) if np.isinf(v)]
        raise ApgeoValueError(
            f"providers: column {CAPACITY_PLACES!r} is infinite for {format_ids(bad)}"
        )
    unknown = np.isnan(values)
    if unknown.all():
        raise ApgeoValueError(
            f"providers: column {CAPACITY_PLACES!r} is empty for every site; capacity-aware "
            "access needs at least one known capacity"
        )
    if unknown.any():
        warn(
            f"providers: {int(unknown.sum())} site(s) have unknown {CAPACITY_PLACES} and are "
            f"left out of the supply: {format_ids([lab for lab, u in zip(labels, unknown, strict=True) if u])}",
            strict=strict,
            stacklevel=4,
        )
    zero = values == 0
    if zero.any():
        warn(
            f"providers: {int(zero.sum())} site(s) have 0 {CAPACITY_PLACES} and add no places: "
            f"{format_ids([lab for lab, z in zip(labels, zero, strict=True) if z])}",
            strict=strict,
            stacklevel=4,
        )
    return np.where(unknown, 0.0, values)


def floating_catchment_access(
    travel_times: pd.DataFrame,
    demand: pd.DataFrame,
    providers: pd.DataFrame,
    *,
    mode: str,
    decay: Decay = "none",
    catchment_min: float = DEFAULT_CATCHMENT_MIN,
    steps_min: Sequence[float] = DEFAULT_STEPS_MIN,
    step_weights: Sequence[float] = DEFAULT_STEP_WEIGHTS,
    gaussian_sigma_min: float | None = None,
    gravity_exponent: float = DEFAULT_GRAVITY_EXPONENT,
    gravity_min_time_min: float = DEFAULT_GRAVITY_MIN_TIME_MIN,
    key_stages: Sequence[str] | str | None = None,
    need_column: str | None = None,
    fill_missing_need: float | None = None,
    kinds: Collection[str | ProviderKind] | None = AP_KINDS,
    strict: bool = False,
) -> pd.DataFrame:
    """Places per 1,000 children within reach of each area (2SFCA or E2SFCA).

    Sites serving none of the chosen key stages are left out of the supply; a site's
    whole capacity counts for the chosen key stages (capacity is not split by key stage).

    Parameters
    ----------
    travel_times, demand, providers
        The seam tables (see :mod:`apgeo.analysis.coverage`); ``providers`` needs
        ``capacity_places``.
    mode
        Travel mode label carried into the output.
    decay
        ``"none"`` (2SFCA), ``"stepped"`` or ``"gaussian"`` (E2SFCA), ``"gravity"``
        (gravity 2SFCA); see module docstring.
    catchment_min
        Catchment in minutes for ``"none"``, ``"gaussian"`` and ``"gravity"`` (the last
        step is the catchment for ``"stepped"``); ``math.inf`` (no cut-off) is allowed
        for ``"none"`` and ``"gravity"``.
    steps_min, step_weights
        Stepped-decay band upper limits (minutes, increasing) and weights in ``[0, 1]``.
    gaussian_sigma_min
        Gaussian width in minutes (default ``catchment_min / 2``).
    gravity_exponent
        Gravity decay exponent ``beta >= 0``: weight ``(t / t0) ** -beta``.
    gravity_min_time_min
        Gravity ``t0`` in minutes: shorter times weigh 1.
    key_stages
        Demand = sum of ``children_ks*`` over these key stages (``None``: the key stages the providers serve, else KS1-KS4; see ``attrs["key_stages"]``);
        supply = sites serving at least one of them.
    need_column
        Use this numeric demand column (e.g. ``need_count`` or a weighted need score)
        instead of children. Areas where it is NaN (suppressed) raise unless
        ``fill_missing_need`` gives a value to use (e.g. 2.5 for counts suppressed
        below 5).
    fill_missing_need
        Value replacing NaN in ``need_column``.
    kinds
        Use only providers of these kinds (default: the AP kinds, :data:`apgeo.schema.AP_KINDS`, so special schools are left out; ``None`` = every kind).
    strict
        Turn warnings (unknown or zero capacity, unreachable sites) into errors.

    Returns
    -------
    pandas.DataFrame
        One row per area, sorted by ``area_id``. Columns: ``area_id``, ``mode``,
        ``travel_time_method`` (when the travel times say how they were made, e.g. the
        straight-line estimate note), ``method`` (``"2sfca"``, ``"e2sfca_stepped"``,
        ``"e2sfca_gaussian"``, ``"2sfca_gravity"``),
        ``demand_basis`` (e.g. ``"children_ks3+children_ks4"`` or the need column),
        ``demand``, ``sites_in_reach`` (sites with a positive weight),
        ``places_in_reach`` (weighted capacity of those sites, before sharing),
        ``places_per_child`` (``A[i]``) and ``places_per_1000`` (``1000 * A[i]``);
        0 for an area with no site in reach.
    """
    ks_list = check_key_stages(key_stages, providers, kinds)
    weight, method = _build_weight(
        decay,
        catchment_min=catchment_min,
        steps_min=steps_min,
        step_weights=step_weights,
        gaussian_sigma_min=gaussian_sigma_min,
        gravity_exponent=gravity_exponent,
        gravity_min_time_min=gravity_min_time_min,
    )
    if need_column is not None:
        require_columns(demand, [need_column], source="demand")
    prep = prepare_tables(
        travel_times,
        demand,
        providers,
        mode=mode,
        key_stages=ks_list if need_column is None else (),
        kinds=kinds,
        provider_columns=[CAPACITY_PLACES],
        strict=strict,
    )
    suitable = np.zeros(len(prep.sites), dtype=bool)
    for ks in ks_list:
        suitable |= prep.serves_key_stage(ks)
    if not suitable.any():
        raise ApgeoValueError(f"no provider serves {', '.join(ks_list)}; nothing to measure")
    sites = prep.sites[suitable].reset_index(drop=True)
    times_s = prep.times_s[:, suitable]
    supply = _supply(sites, strict=strict)

    if need_column is None:
        basis = "+".join(children_column(ks) for ks in ks_list)
        dem = np.sum([prep.children(ks) for ks in ks_list], axis=0)
    else:
        basis = need_column
        values = to_numeric(prep.areas[need_column], column=need_column, source="demand")
        dem = values.to_numpy(dtype=float, copy=True)
        missing = np.isnan(dem)
        if missing.any():
            if fill_missing_need is None:
                raise ApgeoValueError(
                    f"demand: column {need_column!r} is empty (suppressed?) for "
                    f"{int(missing.sum())} area(s): {format_ids(prep.area_ids[missing])}; "
                    "pass fill_missing_need (e.g. 2.5 for counts suppressed below 5) or fill them"
                )
            dem[missing] = fill_missing_need
        if np.any(dem < 0):
            raise ApgeoValueError(
                f"demand: column {need_column!r} has negative values for "
                f"{format_ids(prep.area_ids[dem < 0])}"
            )

    w = weight(times_s)
    orphan = (supply > 0) & ((dem @ w) <= 0)
    if orphan.any():
        warn(
            f"{int(orphan.sum())} site(s) have no demand within their catchment by {mode} "
            f"and their places are not counted: {format_ids(sites[SITE_ID][orphan])}",
            strict=strict,
            stacklevel=3,
        )
    _, acc = fca_from_cost_matrix(times_s, supply, dem, weight=weight)
    out = pd.DataFrame(
        {
            AREA_ID: prep.area_ids,
            MODE: mode,
            METHOD: method,
            DEMAND_BASIS: basis,
            DEMAND: dem,
            SITES_IN_REACH: (w > 0).sum(axis=1).astype(np.int64),
            PLACES_IN_REACH: w @ supply,
            PLACES_PER_CHILD: acc,
            PLACES_PER_1000: acc * 1000.0,
        }
    )
    return label_output(out, prep, key_stages=ks_list)


def two_step_fca(
    travel_times: pd.DataFrame,
    demand: pd.DataFrame,
    providers: pd.DataFrame,
    *,
    mode: str,
    catchment_min: float = DEFAULT_CATCHMENT_MIN,
    key_stages: Sequence[str] | str | None = None,
    need_column: str | None = None,
    fill_missing_need: float | None = None,
    kinds: Collection[str | ProviderKind] | None = AP_KINDS,
    strict: bool = False,
) -> pd.DataFrame:
    """Classic 2SFCA: :func:`floating_catchment_access` with ``decay="none"``.

    Parameters
    ----------
    travel_times, demand, providers
        The seam tables (see :mod:`apgeo.analysis.coverage`); ``providers`` needs
        ``capacity_places``.
    mode
        Travel mode label carried into the output.
    catchment_min
        Catchment in minutes: sites within it count fully, others not at all.
    key_stages, need_column, fill_missing_need, kinds, strict
        See :func:`floating_catchment_access`.

    Returns
    -------
    pandas.DataFrame
        One row per area: ``places_per_child``, ``places_per_1000`` and the columns
        listed in :func:`floating_catchment_access` (``method`` is ``"2sfca"``).
    """
    return floating_catchment_access(
        travel_times,
        demand,
        providers,
        mode=mode,
        decay="none",
        catchment_min=catchment_min,
        key_stages=key_stages,
        need_column=need_column,
        fill_missing_need=fill_missing_need,
        kinds=kinds,
        strict=strict,
    )


def enhanced_two_step_fca(
    travel_times: pd.DataFrame,
    demand: pd.DataFrame,
    providers: pd.DataFrame,
    *,
    mode: str,
    decay: Literal["stepped", "gaussian", "gravity"] = "stepped",
    steps_min: Sequence[float] = DEFAULT_STEPS_MIN,
    step_weights: Sequence[float] = DEFAULT_STEP_WEIGHTS,
    catchment_min: float = DEFAULT_CATCHMENT_MIN,
    gaussian_sigma_min: float | None = None,
    gravity_exponent: float = DEFAULT_GRAVITY_EXPONENT,
    gravity_min_time_min: float = DEFAULT_GRAVITY_MIN_TIME_MIN,
    key_stages: Sequence[str] | str | None = None,
    need_column: str | None = None,
    fill_missing_need: float | None = None,
    kinds: Collection[str | ProviderKind] | None = AP_KINDS,
    strict: bool = False,
) -> pd.DataFrame:
    """E2SFCA (Luo & Qi 2009): :func:`floating_catchment_access` with distance decay.

    Parameters
    ----------
    travel_times, demand, providers
        The seam tables (see :mod:`apgeo.analysis.coverage`); ``providers`` needs
        ``capacity_places``.
    mode
        Travel mode label carried into the output.
    decay
        ``"stepped"`` (default), ``"gaussian"`` or ``"gravity"``.
    steps_min, step_weights
        Stepped decay: band upper limits (minutes, increasing) and their weights.
    catchment_min
        Catchment in minutes for ``"gaussian"`` and ``"gravity"``.
    gaussian_sigma_min
        Gaussian width in minutes (default ``catchment_min / 2``).
    gravity_exponent, gravity_min_time_min
        Gravity decay ``(t / t0) ** -beta``: the exponent ``beta`` and ``t0`` in minutes.
    key_stages, need_column, fill_missing_need, kinds, strict
        See :func:`floating_catchment_access`.

    Returns
    -------
    pandas.DataFrame
        One row per area: ``places_per_child``, ``places_per_1000`` and the columns
        listed in :func:`floating_catchment_access` (``method`` names the decay, e.g. ``"e2sfca_stepped"``).
    """
    if decay not in ("stepped", "gaussian", "gravity"):
        raise ApgeoValueError(f"decay must be 'stepped', 'gaussian' or 'gravity'; got {decay!r}")
    return floating_catchment_access(
        travel_times,
        demand,
        providers,
        mode=mode,
        decay=decay,
        catchment_min=catchment_min,
        steps_min=steps_min,
        step_weights=step_weights,
        gaussian_sigma_min=gaussian_sigma_min,
        gravity_exponent=gravity_exponent,
        gravity_min_time_min=gravity_min_time_min,
        key_stages=key_stages,
        need_column=need_column,
        fill_missing_need=fill_missing_need,
        kinds=kinds,
        strict=strict,
    )


__all__ = [
    "DEFAULT_STEPS_MIN",
    "DEFAULT_STEP_WEIGHTS",
    "enhanced_two_step_fca",
    "fca_from_cost_matrix",
    "floating_catchment_access",
    "gaussian_weights",
    "gravity_weights",
    "stepped_weights",
    "two_step_fca",
    "uniform_weights",
]
