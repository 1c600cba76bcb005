"""Recommending new AP sites from study tables in one call (:func:`recommend_sites`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from apgeo._errors import ApgeoValueError
from apgeo._log import logger, warn
from apgeo.analysis.coldspots import _by_mode
from apgeo.planning.explain import _table_columns, recommendation_table
from apgeo.planning.instance import _check_minutes, _instance_from_tables, known_places_per_need
from apgeo.planning.models.base import (
    DEFAULT_TIME_LIMIT_S,
    Assignment,
    Method,
    Objective,
    SolverChoice,
    WeightBy,
    _LocationModel,
)
from apgeo.planning.models.capacitated import CapacitatedMaximalCovering, CapacitatedPMedian
from apgeo.planning.models.mclp import MaximalCovering
from apgeo.planning.models.pmedian import PMedian
from apgeo.schema import AP_KINDS, KIND, ProviderKind

#: The location model for each (objective, capacitated) choice.
_MODELS: dict[tuple[str, bool], type[_LocationModel]] = {
    ("coverage", False): MaximalCovering,
    ("time", False): PMedian,
    ("coverage", True): CapacitatedMaximalCovering,
    ("time", True): CapacitatedPMedian,
}


def recommend_sites(
    travel_times: pd.DataFrame,
    demand: pd.DataFrame,
    existing: pd.DataFrame | None,
    candidates: pd.DataFrame,
    *,
    mode: str,
    p: int = 3,
    objective: Objective = "coverage",
    capacitated: bool = False,
    key_stages: Sequence[str] | str | None = None,
    max_travel_time_min: float = 30.0,
    penalty_min: float | None = None,
    weight_by: WeightBy = "idaci",
    need_column: str | None = None,
    fill_missing_need: float | None = None,
    places_per_need: float | None = None,
    serve_all: bool = False,
    assignment: Assignment = "split",
    fill_fixed: bool = False,
    method: Method = "exact",
    solver: SolverChoice | Any = "auto",
    time_limit_s: float = DEFAULT_TIME_LIMIT_S,
    wards: gpd.GeoDataFrame | None = None,
    kinds: Collection[str | ProviderKind] | None = AP_KINDS,
    strict: bool = False,
    cache_dir: str | Path | None = None,
) -> pd.DataFrame:
    """Recommend ``p`` sites to add, explained one row per site (the notebook entry point).

    Parameters
    ----------
    travel_times, demand, existing, candidates, mode, p, key_stages, max_travel_time_min,
    penalty_min, weight_by, need_column, fill_missing_need, serve_all, strict
        See :meth:`MaximalCovering.from_tables`. ``key_stages=None``: the key stages the
        candidates serve (their ``key_stages`` column), else those of the existing AP
        providers, else KS1-KS4; ``attrs["key_stages"]`` says which.
    places_per_need
        Places suggested per unit of need newly within T. Default (``None``): today's
        rate, the known places of the existing AP providers per unit of need in the
        whole area (:func:`apgeo.planning.instance.known_places_per_need`, the study's
        rule), so a site is sized like today's provision; 1 when no capacity is known
        (with a warning). Capacitated models default to 1 place per unit of need.
        ``attrs["places_per_need"]`` and ``attrs["places_rule"]`` state what was used.
    kinds
        Existing providers of these kinds are fixed open (default: the AP kinds,
        :data:`apgeo.schema.AP_KINDS`; ``None``: every existing provider). Candidates
        always count.
    assignment, fill_fixed
        Capacitated models only: ``"split"`` (default) lets an area's need be shared
        between sites, ``"single"`` serves each area whole from one site (as spopt does);
        ``fill_fixed=True`` fills existing sites to their places before counting new ones
        (spopt's ``fulfill_predefined_fac``).
    objective
        ``"coverage"``: maximal covering (most need newly within T); ``"time"``:
        p-median (least need-weighted travel time).
    capacitated
        Limit what each site serves by its ``capacity_places`` (every site needs one).
    method, solver, time_limit_s, cache_dir
        See :meth:`MaximalCovering.solve` (``cache_dir`` keeps proven-optimal solutions).
    wards
        Ward polygons (``ward_code``, ``ward_name``) to name the ward of each site;
        otherwise the demand table's ward of the LSOA containing the site (or of the
        area nearest in travel time).

    Returns
    -------
    pandas.DataFrame
        One row per recommended site, in rank order (each adds the most given the
        sites ranked above it and the existing providers). Columns: ``rank``,
        ``site_id``, ``site_name``, ``postcode``, ``ward_code``, ``ward_name``,
        ``key_stages``, ``places_suggested`` and ``places_basis`` (capacity, or need
        newly within T x ``places_per_need``, rounded), ``children_newly_within_t``
        and ``children_newly_within_t_ks*`` (children of the planned key stages whose
        nearest suitable site moves within T), ``children_newly_within_t_by_imd``
        (``"d1: 120, d2: 40"``), ``need_newly_within_t``, ``need_served``
        (capacitated models), ``mean_time_change_min`` and ``p90_time_change_min``
        (need-weighted, times capped at the penalty; negative = shorter),
        ``coldspots_resolved`` and ``coldspots_resolved_ids`` (access cold spots, area
        and key stage, brought within T), ``next_best_site_id`` and
        ``marginal_gain_over_next_children`` (children newly within T minus what the
        best other candidate not yet open would reach at that step, e.g. the site
        ranked next), ``why``.
        ``table.attrs`` holds the model, solver, status, gap and ``reason`` (why the
        table is empty, e.g. all need already covered; ``""`` otherwise).
    """
    if objective not in ("coverage", "time"):
        raise ApgeoValueError(f"objective must be 'coverage' or 'time'; got {objective!r}")
    _check_minutes(max_travel_time_min, "max_travel_time_min")
    if places_per_need is not None:
        rule = f"{places_per_need:g} place(s) per unit of need (given)"
    elif capacitated:
        places_per_need, rule = 1.0, "1 place per unit of need (capacitated model default)"
    else:
        counted = existing
        if existing is not None and kinds is not None and KIND in existing.columns:
            wanted = {ProviderKind.parse(k).value for k in ([kinds] if isinstance(kinds, str) else kinds)}
            counted = existing[existing[KIND].astype(str).isin(wanted).to_numpy()]
        rate = known_places_per_need(counted, demand, weight_by=weight_by)
        if rate is None:
            places_per_need = 1.0
            rule = "1 place per unit of need: no known capacity among the existing providers"
            warn(
                "recommend_sites: the existing providers have no known capacity_places, so places "
                "are suggested at 1 per unit of need newly within reach; pass places_per_need "
                "(e.g. today's places per child) to size sites like today's provision",
                strict=strict, stacklevel=2,
            )
        else:
            places_per_need = rate
            rule = (
                f"today's rate: {rate * 1000:.3g} known places per 1,000 units of need "
                "(children of KS1-KS4"
                + (", weighted by IDACI" if weight_by == "idaci" else "") + ")"
            )
    inst = _instance_from_tables(
        travel_times, demand, existing, candidates, mode=mode, key_stages=key_stages,
        weight_by=weight_by, need_column=need_column, fill_missing_need=fill_missing_need,
        places_per_need=places_per_need, strict=strict, kinds=kinds,
    )
    stated = {"places_per_need": float(places_per_need), "places_rule": rule}
    T = max_travel_time_min * 60.0
    covered = (inst.cost_s[:, inst.fixed] <= T).any(axis=1) if inst.fixed.any() else np.zeros(len(inst.need), bool)
    if objective == "coverage" and not capacitated and not (inst.need[~covered] > 0).any():
        reason = (
            f"all need is already within {max_travel_time_min:g} min {_by_mode(mode)} of an "
            "existing provider: no site needs to be added"
        )
        warn(reason, strict=strict, stacklevel=2)
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in _table_columns(inst.key_stages)})
        out.attrs["reason"] = reason
        out.attrs.update(stated)
        return out
    model_class = _MODELS[(objective, capacitated)]
    model = model_class.from_instance(
        inst, p=p, max_travel_time_s=T,
        penalty_s=None if penalty_min is None else penalty_min * 60.0, serve_all=serve_all,
        strict=strict, assignment=assignment, fill_fixed=fill_fixed,
    )
    model.solve(method, solver=solver, time_limit_s=time_limit_s, strict=strict, cache_dir=cache_dir)
    logger.info(
        "recommend_sites: %s, %s via %s (%s), gap %s", model._kind, model.method_, model.solver_,
        model.status_, model.gap_,
    )
    out = recommendation_table(model, candidates=candidates, demand=demand, wards=wards)
    out.attrs.update(stated)
    return out


# ======================================================================================
# Export
# ======================================================================================


__all__ = [
    "recommend_sites",
]
