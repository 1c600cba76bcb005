"""The explained recommendation table: for each recommended site, its ward, places, the
children newly within reach by key stage and deprivation, time changes, cold spots
resolved, the marginal gain over the next-best site, and a sentence saying why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from apgeo import schema as _schema
from apgeo._errors import ApgeoValueError
from apgeo._validate import (
    require_columns,
    to_working_crs,
)
from apgeo.analysis.coldspots import _by_mode
from apgeo.planning.instance import _Instance
from apgeo.planning.models.base import _LocationModel
from apgeo.planning.models.capacitated import CapacitatedMaximalCovering
from apgeo.planning.models.mclp import MaximalCovering
from apgeo.schema import (
    AREA_ID,
    CAPACITY_PLACES,
    KEY_STAGE_AGES,
    KEY_STAGES,
    NAME,
    POSTCODE,
    SITE_ID,
    WARD_CODE,
    WARD_NAME,
)
from apgeo.settings import WORKING_CRS

# ---- column names introduced here (to move into schema.py) --------------------------
RANK = _schema.RANK
SITE_NAME = _schema.SITE_NAME
PLACES_SUGGESTED = "places_suggested"
PLACES_BASIS = "places_basis"
CHILDREN_NEWLY_WITHIN = "children_newly_within_t"
CHILDREN_NEWLY_BY_IMD = "children_newly_within_t_by_imd"
NEED_NEWLY_WITHIN = "need_newly_within_t"
NEED_SERVED = "need_served"
MEAN_TIME_CHANGE_MIN = "mean_time_change_min"
P90_TIME_CHANGE_MIN = "p90_time_change_min"
COLDSPOTS_RESOLVED = "coldspots_resolved"
COLDSPOTS_RESOLVED_IDS = "coldspots_resolved_ids"
NEXT_BEST_SITE_ID = "next_best_site_id"
MARGINAL_GAIN_OVER_NEXT = "marginal_gain_over_next_children"
WHY = _schema.WHY
CLUSTER = "cluster"
CLUSTER_NEED = "cluster_need"
CLUSTER_AREAS = "cluster_areas"
SNAPPED_TO = "snapped_site_id"
SNAP_DISTANCE_M = "snap_distance_m"


def children_newly_ks_column(key_stage: str) -> str:
    """Column holding children of one key stage newly within T: ``children_newly_within_t_ks3``.

    Parameters
    ----------
    key_stage
        Key stage name, any case (``"KS3"``).

    Returns
    -------
    str
        The column name ``children_newly_within_t_<key stage in lower case>``.
    """
    return f"{CHILDREN_NEWLY_WITHIN}_{key_stage.lower()}"


def _weighted_quantile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    keep = weights > 0
    if not keep.any():
        return math.nan
    v, w = values[keep], weights[keep]
    order = np.argsort(v, kind="stable")
    cum = np.cumsum(w[order])
    k = int(np.searchsorted(cum, q * cum[-1] - 1e-9 * cum[-1]))
    return float(v[order][min(k, len(v) - 1)])


def _site_wards(
    inst: _Instance,
    site_cols: Sequence[int],
    *,
    sites_gdf: gpd.GeoDataFrame | None,
    demand: pd.DataFrame,
    wards: gpd.GeoDataFrame | None,
) -> dict[int, tuple[str, str]]:
    """Ward of each site: from ``wards`` polygons, the LSOA containing it, or the nearest area."""
    out: dict[int, tuple[str, str]] = {}
    ids = inst.site_ids
    points: gpd.GeoSeries | None = None
    if sites_gdf is not None and isinstance(sites_gdf, gpd.GeoDataFrame) and sites_gdf.crs is not None:
        g = to_working_crs(sites_gdf, name="candidates")
        lookup = dict(zip(g[SITE_ID], g.geometry, strict=True))
        geoms = [lookup.get(ids[j]) for j in site_cols]
        if all(x is not None and not x.is_empty for x in geoms):
            points = gpd.GeoSeries(geoms, crs=WORKING_CRS)
    if points is not None and wards is not None:
        require_columns(wards, [WARD_CODE, WARD_NAME], source="wards")
        w = to_working_crs(wards, name="wards")
        for j, pt in zip(site_cols, points, strict=True):
            inside = w[w.contains(pt)]
            row = inside.iloc[0] if len(inside) else w.iloc[int(w.distance(pt).to_numpy().argmin())]
            out[j] = (str(row[WARD_CODE]), str(row[WARD_NAME]))
        return out
    has_wards = {WARD_CODE, WARD_NAME} <= set(demand.columns)
    if not has_wards:
        return {j: ("", "") for j in site_cols}
    if points is not None and isinstance(demand, gpd.GeoDataFrame) and demand.crs is not None:
        d = to_working_crs(demand, name="demand")
        if (d.geometry.geom_type.isin(["Polygon", "MultiPolygon"])).all():
            for j, pt in zip(site_cols, points, strict=True):
                inside = d[d.contains(pt)]
                row = inside.iloc[0] if len(inside) else d.iloc[int(d.distance(pt).to_numpy().argmin())]
                out[j] = (str(row[WARD_CODE]), str(row[WARD_NAME]))
            return out
    # no geometry: the area with the shortest travel time to the site holds it
    areas = inst.areas.set_index(AREA_ID)
    k = len(inst.key_stages)
    for j in site_cols:
        col = inst.cost_s[:, j].reshape(-1, k).min(axis=1)
        if not np.isfinite(col).any():
            out[j] = ("", "")
            continue
        area = inst.areas[AREA_ID].iloc[int(np.argmin(col))]
        out[j] = (str(areas.loc[area, WARD_CODE]), str(areas.loc[area, WARD_NAME]))
    return out


def _ks_phrase(key_stages: Sequence[str]) -> str:
    if len(key_stages) == 1:
        return key_stages[0]
    return f"{key_stages[0]}-{key_stages[-1]}" if _contiguous(key_stages) else ", ".join(key_stages)


def _contiguous(key_stages: Sequence[str]) -> bool:
    nums = [int(ks[2:]) for ks in key_stages]
    return nums == list(range(nums[0], nums[0] + len(nums)))


def _ages_phrase(key_stages: Sequence[str]) -> str:
    ages = [a for ks in key_stages for a in KEY_STAGE_AGES[ks]]  # type: ignore[index]
    return f"aged {min(ages)}-{max(ages)}"


def recommendation_table(
    model: _LocationModel,
    *,
    candidates: pd.DataFrame | None = None,
    demand: pd.DataFrame | None = None,
    wards: gpd.GeoDataFrame | None = None,
) -> pd.DataFrame:
    """The explained recommendation table of a solved model built with ``from_tables``.

    Parameters
    ----------
    model
        A solved model whose ``instance_`` was set by ``from_tables`` /
        :func:`recommend_sites`.
    candidates
        The candidate table (for ``name``, ``postcode`` and point geometry for wards).
    demand
        The demand table (polygons give the ward of the LSOA containing a site).
    wards
        Optional ward polygons with ``ward_code`` and ``ward_name``.

    Returns
    -------
    pandas.DataFrame
        See :func:`recommend_sites`.
    """
    inst = model.instance_
    if inst is None:
        raise ApgeoValueError(
            "this model was built with from_cost_matrix; the explained table needs the tables: "
            "build it with from_tables(...) or recommend_sites(...)"
        )
    T = model.max_travel_time_s
    pen = model.penalty_s
    order = [int(j) for j in model.selected_index_]
    ks_list = inst.key_stages
    columns = _table_columns(ks_list)
    attrs = _table_attrs(model, inst)
    if not order:
        out = pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
        out.attrs.update(attrs)
        out.attrs["reason"] = model.message_ or "no site selected"
        return out
    sites = inst.sites
    cand_lookup = (
        pd.DataFrame(candidates.drop(columns="geometry", errors="ignore")).set_index(SITE_ID)
        if candidates is not None
        else None
    )
    ward_of = _site_wards(
        inst, order,
        sites_gdf=candidates if isinstance(candidates, gpd.GeoDataFrame) else None,
        demand=demand if demand is not None else inst.areas, wards=wards,
    )
    cost = inst.cost_s
    cover_all = cost <= T
    eff = np.minimum(cost, pen)
    need, children = inst.need, inst.children
    cand_cols = np.flatnonzero(~inst.fixed)
    open_mask = inst.fixed.copy()
    by = _by_mode(inst.mode)
    rows: list[dict[str, Any]] = []

    def nearest(mask: np.ndarray) -> np.ndarray:
        return eff[:, mask].min(axis=1) if mask.any() else np.full(len(need), pen)

    for rank, j in enumerate(order, start=1):
        covered_before = cover_all[:, open_mask].any(axis=1) if open_mask.any() else np.zeros(len(need), bool)
        t_before = nearest(open_mask)
        after_mask = open_mask.copy()
        after_mask[j] = True
        covered_after = covered_before | cover_all[:, j]
        t_after = np.minimum(t_before, eff[:, j])
        newly = covered_after & ~covered_before
        child_new = float(children[newly].sum())
        need_new = float(need[newly].sum())
        mean_change = (
            float((t_after - t_before) @ need / need.sum()) / 60.0 if need.sum() > 0 else math.nan
        )
        p90_change = (
            _weighted_quantile(t_after, need, 0.9) - _weighted_quantile(t_before, need, 0.9)
        ) / 60.0
        cold_resolved = newly & (children > 0)
        res_ids = [
            f"{a} {ks}" if len(ks_list) > 1 else str(a)
            for a, ks in zip(inst.row_area[cold_resolved], inst.row_ks[cold_resolved], strict=True)
        ]
        imd_counts: dict[int, float] = {}
        for d, c in zip(inst.imd[newly], children[newly], strict=True):
            if np.isfinite(d) and c > 0:
                imd_counts[int(d)] = imd_counts.get(int(d), 0.0) + float(c)
        imd_text = ", ".join(f"d{d}: {imd_counts[d]:.0f}" for d in sorted(imd_counts))
        # next best option: the best other candidate not yet open, given the same open sites
        alt_id, alt_children = "", 0.0
        alternatives = np.array([c for c in cand_cols if not open_mask[c] and c != j], dtype=int)
        if len(alternatives):
            unc = ~covered_before
            alt_gain = children[unc] @ cover_all[np.ix_(unc, alternatives)]
            k = int(np.argmax(alt_gain))
            alt_id, alt_children = str(inst.site_ids[alternatives[k]]), float(alt_gain[k])
        site = sites.iloc[j]
        sid = site[SITE_ID]
        name = str(site[NAME]) if NAME in sites.columns and pd.notna(site[NAME]) else str(sid)
        postcode = ""
        if POSTCODE in sites.columns and pd.notna(site[POSTCODE]):
            postcode = str(site[POSTCODE])
        elif cand_lookup is not None and POSTCODE in cand_lookup.columns and sid in cand_lookup.index:
            postcode = str(cand_lookup.loc[sid, POSTCODE] or "")
        site_ks = str(site[KEY_STAGES])
        cap = float(site[CAPACITY_PLACES]) if pd.notna(site[CAPACITY_PLACES]) else math.nan
        if model._capacitated and math.isfinite(cap):
            places, basis = round(cap), "capacity_places"
        else:
            places = round(need_new * inst.places_per_need)
            basis = "need newly within T" + (
                f" x {inst.places_per_need:g} places per unit" if inst.places_per_need != 1 else ""
            )
        served = float(model.served_need_[j]) if model._capacitated else math.nan
        ward_code, ward_name = ward_of.get(j, ("", ""))
        row: dict[str, Any] = {
            RANK: rank,
            SITE_ID: sid,
            SITE_NAME: name,
            POSTCODE: postcode,
            WARD_CODE: ward_code,
            WARD_NAME: ward_name,
            KEY_STAGES: site_ks,
            PLACES_SUGGESTED: int(places),
            PLACES_BASIS: basis,
            CHILDREN_NEWLY_WITHIN: round(child_new, 1),
        }
        for ks in ks_list:
            row[children_newly_ks_column(ks)] = round(float(children[newly & (inst.row_ks == ks)].sum()), 1)
        row[CHILDREN_NEWLY_BY_IMD] = imd_text
        row[NEED_NEWLY_WITHIN] = round(need_new, 1)
        row[NEED_SERVED] = round(served, 1) if math.isfinite(served) else math.nan
        row[MEAN_TIME_CHANGE_MIN] = round(mean_change, 2) + 0.0
        row[P90_TIME_CHANGE_MIN] = round(p90_change, 2) + 0.0
        row[COLDSPOTS_RESOLVED] = len(res_ids)
        row[COLDSPOTS_RESOLVED_IDS] = "; ".join(res_ids)
        row[NEXT_BEST_SITE_ID] = alt_id
        row[MARGINAL_GAIN_OVER_NEXT] = round(child_new - alt_children, 1) if alt_id else math.nan
        deprived = sum(v for d, v in imd_counts.items() if d <= 2)
        row[WHY] = _why(
            name=name, ward=ward_name, child_new=child_new, ks=_ks_phrase(list(ks_list)),
            ages=_ages_phrase(list(ks_list)), T_min=T / 60.0, by=by, deprived=deprived,
            resolved=len(res_ids), mean_change=mean_change, alt_id=alt_id,
            alt_name=_site_name(sites, alt_id), alt_children=alt_children,
            objective="coverage" if isinstance(model, MaximalCovering | CapacitatedMaximalCovering) else "time",
            served=served,
        )
        rows.append(row)
        open_mask = after_mask
    out = pd.DataFrame(rows, columns=columns)
    out.attrs.update(attrs)
    out.attrs["reason"] = ""
    return out


def _site_name(sites: pd.DataFrame, sid: str) -> str:
    if not sid or NAME not in sites.columns:
        return sid
    hit = sites.loc[sites[SITE_ID].astype(str) == sid, NAME]
    return str(hit.iloc[0]) if len(hit) and pd.notna(hit.iloc[0]) else sid


def _why(
    *, name: str, ward: str, child_new: float, ks: str, ages: str, T_min: float, by: str,
    deprived: float, resolved: int, mean_change: float, alt_id: str, alt_name: str,
    alt_children: float, objective: str, served: float,
) -> str:
    where = f" ({ward})" if ward else ""
    if child_new > 0:
        text = (
            f"Adding {name}{where} brings {child_new:,.0f} more {ks} children ({ages}) within "
            f"{T_min:g} min {by}"
        )
        if deprived > 0:
            text += f", {deprived:,.0f} of them in the 20% most deprived areas (IMD deciles 1-2)"
    else:
        text = f"Adding {name}{where} brings no extra {ks} children within {T_min:g} min {by}"
    parts = []
    if resolved:
        parts.append(f"resolves {resolved} access cold spot{'s' if resolved != 1 else ''}")
    if math.isfinite(mean_change) and mean_change < -0.005:
        parts.append(f"cuts the need-weighted mean journey by {-mean_change:.1f} min")
    if parts:
        text += "; it " + " and ".join(parts)
    text += "."
    if math.isfinite(served):
        text += f" It would serve {served:,.1f} places of need within its capacity."
    if alt_id:
        diff = child_new - alt_children
        if diff > 0.5:
            text += f" It reaches {diff:,.0f} more children than the next best candidate, {alt_name}."
        elif diff >= -0.5:
            text += f" The next best candidate, {alt_name}, would reach about as many children."
        elif objective == "coverage":
            text += (
                f" The next best candidate, {alt_name}, would bring {-diff:,.0f} more children within "
                f"{T_min:g} min, but fewer of them in deprived areas: counting children weighted by "
                "deprivation (IDACI), this site meets more need."
            )
        else:
            text += (
                f" The next best candidate, {alt_name}, would bring {-diff:,.0f} more children within "
                f"{T_min:g} min, but this site shortens journeys more overall (the need-weighted mean time)."
            )
    return text


def _table_columns(ks_list: Sequence[str]) -> list[str]:
    return [
        RANK, SITE_ID, SITE_NAME, POSTCODE, WARD_CODE, WARD_NAME, KEY_STAGES, PLACES_SUGGESTED,
        PLACES_BASIS, CHILDREN_NEWLY_WITHIN, *[children_newly_ks_column(ks) for ks in ks_list],
        CHILDREN_NEWLY_BY_IMD, NEED_NEWLY_WITHIN, NEED_SERVED, MEAN_TIME_CHANGE_MIN,
        P90_TIME_CHANGE_MIN, COLDSPOTS_RESOLVED, COLDSPOTS_RESOLVED_IDS, NEXT_BEST_SITE_ID,
        MARGINAL_GAIN_OVER_NEXT, WHY,
    ]


def _table_attrs(model: _LocationModel, inst: _Instance) -> dict[str, Any]:
    return {
        "model": model._kind,
        "mode": inst.mode,
        "key_stages": ",".join(inst.key_stages),
        "max_travel_time_min": model.max_travel_time_s / 60.0,
        "penalty_min": model.penalty_s / 60.0,
        "p": model.p,
        "method": model.method_,
        "solver": model.solver_,
        "status": model.status_,
        "gap": model.gap_,
        "gap_bound": model.gap_bound_,
        "objective": model.objective_,
        "baseline": model.baseline_,
        "note": (
            "Access cold spot = an area with children whose time to the nearest suitable site "
            "exceeds T; times and coverage come from the travel-time table, not polygons."
        ),
    }


__all__ = [
    "recommendation_table",
]
