"""A location problem built from study tables: need per area, candidate and existing sites,
the travel-time matrix between them.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from apgeo._errors import ApgeoValueError
from apgeo._validate import (
    check_unique,
    require_columns,
    to_numeric,
)
from apgeo.analysis.tables import check_key_stages, format_ids, kind_value, prepare_tables
from apgeo.schema import (
    AP_KINDS,
    AREA_ID,
    CAPACITY_PLACES,
    COMPULSORY_KEY_STAGES,
    IDACI_DECILE,
    IMD_DECILE,
    KEY_STAGES,
    KIND,
    NAME,
    PROVIDER_ID,
    SITE_ID,
    ProviderKind,
    children_column,
)

Objective = Literal["coverage", "time"]
WeightBy = Literal["idaci", "none", "need"]


@dataclass(frozen=True)
class _Instance:
    """A location problem built from the seam tables (rows = area x key stage)."""

    mode: str
    key_stages: tuple[str, ...]
    row_area: np.ndarray
    row_ks: np.ndarray
    cost_s: np.ndarray
    need: np.ndarray
    children: np.ndarray
    imd: np.ndarray
    sites: pd.DataFrame
    fixed: np.ndarray
    areas: pd.DataFrame
    places_per_need: float

    @property
    def site_ids(self) -> list[Any]:
        return list(self.sites[SITE_ID])


def _prepare_candidates(
    candidates: pd.DataFrame, key_stages: Sequence[str]
) -> pd.DataFrame:
    if not isinstance(candidates, pd.DataFrame):
        raise ApgeoValueError(f"candidates must be a DataFrame; got {type(candidates).__name__}")
    require_columns(candidates, [SITE_ID], source="candidates")
    out = pd.DataFrame(candidates.drop(columns="geometry", errors="ignore")).copy()
    if PROVIDER_ID not in out.columns:
        out[PROVIDER_ID] = out[SITE_ID]
    if KIND not in out.columns:
        out[KIND] = ProviderKind.OTHER.value
    if KEY_STAGES not in out.columns:
        out[KEY_STAGES] = ",".join(key_stages)
    if NAME not in out.columns:
        out[NAME] = out[SITE_ID].astype(str)
    return out


def _row_need(
    areas: pd.DataFrame,
    ks_list: Sequence[str],
    *,
    weight_by: WeightBy,
    need_column: str | None,
    fill_missing_need: float | None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(children, need)`` as ``(n_areas, n_ks)`` arrays."""
    children = np.column_stack([areas[children_column(ks)].to_numpy(dtype=float) for ks in ks_list])
    if weight_by == "none":
        return children, children.copy()
    if weight_by == "idaci":
        dec = to_numeric(areas[IDACI_DECILE], column=IDACI_DECILE, source="demand").to_numpy(dtype=float)
        bad = np.isnan(dec) | ~np.isin(dec, np.arange(1, 11))
        if bad.any():
            raise ApgeoValueError(
                f"demand: column {IDACI_DECILE!r} must hold deciles 1..10 to weight need by IDACI; "
                f"missing or bad for {format_ids(areas[AREA_ID][bad])}; fill them or pass weight_by='none'"
            )
        return children, children * ((11.0 - dec) / 10.0)[:, None]
    if weight_by == "need":
        if need_column is None:
            raise ApgeoValueError("weight_by='need' needs need_column, e.g. need_column='need_count'")
        values = to_numeric(areas[need_column], column=need_column, source="demand").to_numpy(
            dtype=float, copy=True
        )
        missing = np.isnan(values)
        if missing.any():
            if fill_missing_need is None:
                raise ApgeoValueError(
                    f"demand: column {need_column!r} is empty (suppressed?) for {int(missing.sum())} "
                    f"area(s): {format_ids(areas[AREA_ID][missing])}; pass fill_missing_need "
                    "(e.g. 2.5 for counts suppressed below 5) or fill them"
                )
            values[missing] = fill_missing_need
        if (values < 0).any():
            raise ApgeoValueError(f"demand: column {need_column!r} must be >= 0")
        tot = children.sum(axis=1, keepdims=True)
        share = np.where(tot > 0, children / np.where(tot > 0, tot, 1.0), 1.0 / len(ks_list))
        return children, values[:, None] * share
    raise ApgeoValueError(f"weight_by must be 'idaci', 'none' or 'need'; got {weight_by!r}")


def known_places_per_need(
    existing: pd.DataFrame | None,
    demand: pd.DataFrame,
    *,
    key_stages: Sequence[str] = COMPULSORY_KEY_STAGES,
    weight_by: WeightBy = "idaci",
) -> float | None:
    """Today's rate: known places of ``existing`` per unit of need in the whole area.

    Need is the children of ``key_stages`` (KS1-KS4 by default), weighted by
    ``(11 - IDACI decile) / 10`` when ``weight_by="idaci"`` and the demand has deciles.
    Suggesting ``need newly within T x rate`` places for a new site means that adding a
    site for every child in the area would double today's known places, no more (the
    study's rule). ``None`` when no capacity is known or there is no need.

    Parameters
    ----------
    existing
        Today's sites with a ``capacity_places`` column (unknown capacities are left out of
        the sum); ``None`` gives ``None``.
    demand
        The demand table: ``children_<ks>`` columns and optionally ``idaci_decile``.
    key_stages
        Key stages whose children make up the need (default KS1-KS4).
    weight_by
        ``"idaci"`` weights each area's children by ``(11 - decile) / 10``; ``"none"`` counts
        children unweighted.

    Returns
    -------
    float or None
        Known places per unit of (weighted) need; ``None`` when no capacity is known or the
        need is zero.
    """
    if existing is None or CAPACITY_PLACES not in existing.columns or not len(existing):
        return None
    known_places = float(pd.to_numeric(existing[CAPACITY_PLACES], errors="coerce").sum(skipna=True))
    cols = [children_column(k) for k in key_stages if children_column(k) in demand.columns]
    if weight_by == "idaci" and IDACI_DECILE in demand.columns:
        weight = (11.0 - pd.to_numeric(demand[IDACI_DECILE], errors="coerce")) / 10.0
    else:
        weight = pd.Series(1.0, index=demand.index)
    need = float(sum((demand[c] * weight).sum() for c in cols))
    if not (need > 0 and known_places > 0):
        return None
    return known_places / need


def _instance_from_tables(
    travel_times: pd.DataFrame,
    demand: pd.DataFrame,
    existing: pd.DataFrame | None,
    candidates: pd.DataFrame,
    *,
    mode: str,
    key_stages: Sequence[str] | str | None,
    weight_by: WeightBy,
    need_column: str | None,
    fill_missing_need: float | None,
    places_per_need: float,
    strict: bool,
    kinds: Collection[str | ProviderKind] | None = AP_KINDS,
) -> _Instance:
    if existing is not None and kinds is not None and KIND in existing.columns and len(existing):
        # only existing providers of the kinds counted as AP are fixed open (candidates always count)
        wanted = {kind_value(k) for k in ([kinds] if isinstance(kinds, str) else kinds)}
        text = existing[KIND].astype(str).str.strip().str.lower().str.replace(" ", "_")
        existing = existing[text.isin(wanted).to_numpy()]
    if key_stages is None and KEY_STAGES in candidates.columns:
        ks_list = check_key_stages(None, candidates, None)  # what the candidates would serve
    else:
        ks_list = check_key_stages(key_stages, existing, None)
    if not np.isfinite(places_per_need) or places_per_need <= 0:
        raise ApgeoValueError(f"places_per_need must be a positive number; got {places_per_need!r}")
    cand = _prepare_candidates(candidates, ks_list)
    cand["_candidate"] = True
    frames = [cand]
    if existing is not None and len(existing):
        require_columns(existing, [SITE_ID], source="existing")
        ex = pd.DataFrame(existing.drop(columns="geometry", errors="ignore")).copy()
        ex["_candidate"] = False
        clash = sorted(set(map(str, ex[SITE_ID])) & set(map(str, cand[SITE_ID])))
        if clash:
            raise ApgeoValueError(
                f"site id(s) {format_ids(clash)} are both existing providers and candidates; give "
                "candidates their own ids (e.g. prefix 'CAND-')"
            )
        frames.insert(0, ex)
    sites = pd.concat(frames, ignore_index=True)
    if CAPACITY_PLACES not in sites.columns:
        sites[CAPACITY_PLACES] = np.nan
    check_unique(sites, SITE_ID, source="existing + candidates")
    extra: list[str] = []
    if weight_by == "idaci":
        extra.append(IDACI_DECILE)
    if weight_by == "need" and need_column is not None:
        extra.append(need_column)
    # only keep travel rows of known sites: candidates tables are often cut down
    known = set(sites[SITE_ID])
    tt = travel_times
    if isinstance(tt, pd.DataFrame) and "destination_id" in tt.columns:
        tt = tt[tt["destination_id"].isin(known)]
    prep = prepare_tables(
        tt, demand, sites, mode=mode, key_stages=ks_list, kinds=None, demand_columns=extra,
        strict=strict,
    )
    children, need = _row_need(
        prep.areas, ks_list, weight_by=weight_by, need_column=need_column,
        fill_missing_need=fill_missing_need,
    )
    n, k = children.shape
    serves = np.column_stack([prep.serves_key_stage(ks) for ks in ks_list])  # (m, k)
    cost = np.repeat(prep.times_s, k, axis=0)  # rows: area-major, ks-minor
    serve_rows = np.tile(serves.T, (n, 1))  # (n*k, m)
    cost = np.where(serve_rows, cost, np.inf)
    imd = (
        to_numeric(prep.areas[IMD_DECILE], column=IMD_DECILE, source="demand").to_numpy(dtype=float)
        if IMD_DECILE in prep.areas.columns
        else np.full(n, np.nan)
    )
    return _Instance(
        mode=mode,
        key_stages=tuple(ks_list),
        row_area=np.repeat(prep.area_ids, k),
        row_ks=np.tile(np.array(ks_list, dtype=object), n),
        cost_s=cost,
        need=need.ravel(),
        children=children.ravel(),
        imd=np.repeat(imd, k),
        sites=prep.sites,
        fixed=~prep.sites["_candidate"].astype(bool).to_numpy(),
        areas=prep.areas,
        places_per_need=float(places_per_need),
    )


def _check_minutes(value: float, name: str) -> None:
    if not isinstance(value, (int, float, np.number)) or not np.isfinite(value) or value <= 0:
        raise ApgeoValueError(f"{name} must be a positive number of minutes; got {value!r}")


# ======================================================================================
# Explained recommendations
# ======================================================================================
