"""Every English education authority in one run: access to state-funded AP, compared.

:func:`england_comparison` takes the 32,844 LSOAs of England (the committed extract,
:func:`apgeo.inputs.areas.load_lsoas_england`) and the open state-funded alternative
provision (AP) settings in GIAS (:func:`apgeo.inputs.areas.ap_settings_england`) and, for
every authority and mode, summarises how far its children aged 0-15 are from AP:

* the nearest setting *anywhere* in England (children cross borders), and
* the nearest setting *of their own authority* (the one that commissions their place).

Travel time is the study's straight-line estimate (:mod:`apgeo.routing.straight_line`:
crow-fly distance x 1.3 at 4.8 / 13.5 / 30 km/h), so the figures agree with the Sheffield
study's fallback. Nearest sites come from k-d trees (:class:`scipy.spatial.cKDTree`): one
query over all sites for "anywhere", and one per authority over its own sites.

:func:`comparators` puts one authority next to England (quartiles over authorities), the
core cities and its nearest authorities by :data:`SIMILARITY_RULE`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree
from scipy.spatial.distance import cdist

from apgeo import schema as S
from apgeo._errors import ApgeoValueError
from apgeo._log import warn
from apgeo._validate import require_columns, to_working_crs
from apgeo.inputs.areas import (
    ap_settings_england,
    load_authorities,
    load_gias_england,
    load_lsoas_england,
    resolve_area,
)
from apgeo.routing.straight_line import (
    DEFAULT_CIRCUITY,
    METHOD_LABEL,
    STRAIGHT_LINE_SPEEDS_KPH,
    circuity_for,
    error_band_sentence,
    method_note,
)

#: Travel-time thresholds reported by default (minutes).
DEFAULT_THRESHOLDS_MIN: Final[tuple[int, ...]] = (15, 30, 45, 60)
#: The threshold the rank and the equity gap use (minutes).
RANK_THRESHOLD_MIN: Final[int] = 30
#: IMD deciles of the most and least deprived fifths of England's LSOAs.
MOST_DEPRIVED_DECILES: Final[tuple[int, ...]] = (1, 2)
LEAST_DEPRIVED_DECILES: Final[tuple[int, ...]] = (9, 10)

#: The core cities (Core Cities UK, England), by DfE LA number.
CORE_CITY_LA_CODES: Final[dict[str, str]] = {
    "330": "Birmingham",
    "801": "Bristol, City of",
    "383": "Leeds",
    "341": "Liverpool",
    "352": "Manchester",
    "391": "Newcastle upon Tyne",
    "892": "Nottingham",
    "373": "Sheffield",
}

CAVEAT_METHOD: Final[str] = (
    f"Travel times are a {METHOD_LABEL}, not a street network: crow-fly distance from each "
    f"LSOA's population-weighted centroid x {DEFAULT_CIRCUITY:g} at "
    + ", ".join(f"{m} {v:g} km/h" for m, v in STRAIGHT_LINE_SPEEDS_KPH.items())
    + ". Rivers, hills, motorways and the bus network are ignored. "
    + " ".join(error_band_sentence(m) for m in STRAIGHT_LINE_SPEEDS_KPH)
)
CAVEAT_POPULATION: Final[str] = (
    "Children are those aged 0-15 at mid-2015 (IoD 2019 population denominators, LSOA 2011), "
    "not the mid-2020 single-year estimates the Sheffield study uses; counts and shares are "
    "older than the study's."
)
CAVEAT_AP_SETTINGS: Final[str] = (
    "AP settings are the open state-funded ones in GIAS (pupil referral units, AP academies and "
    "AP free schools). Authorities that commission mostly independent or unregistered AP (or "
    "place pupils in other authorities' settings) look worse here than they are."
)
CAVEATS: Final[tuple[str, ...]] = (CAVEAT_METHOD, CAVEAT_POPULATION, CAVEAT_AP_SETTINGS)

RANK_RULE: Final[str] = (
    f"rank 1 = best access: the highest share of children within {RANK_THRESHOLD_MIN} min of "
    "the nearest AP setting anywhere in England; ties broken by the lower child-weighted "
    "median time (equal on both = equal rank). rank_own does the same with the nearest "
    "setting of the child's own authority."
)
EQUITY_RULE: Final[str] = (
    "Most deprived fifth = LSOAs in IMD 2019 deciles 1-2, least deprived fifth = deciles 9-10 "
    "(fifths of England's LSOAs, not of the authority's). equity_gap_share_within_30_min = "
    "share of the most deprived fifth's children within 30 min minus the least deprived "
    "fifth's (negative = the most deprived are worse off); equity_gap_median_time_min = most "
    "deprived median minus least deprived median (positive = the most deprived travel longer). "
    "Nearest setting anywhere. Blank when the authority has no LSOA in one of the fifths; "
    "children_most_deprived and children_least_deprived say how many children each side holds "
    "(a gap over a few hundred children is noise)."
)
MEDIAN_RULE: Final[str] = (
    "Medians are child-weighted: the smallest LSOA time at which half the children are "
    "reached (lower weighted median)."
)
DENSITY_PROXY: Final[str] = (
    "lsoa_nn_distance_median_m: median over the authority's LSOAs of the distance (m) from "
    "each LSOA's population-weighted centroid to the nearest other LSOA centroid in England; "
    "LSOAs hold about 1,500 people, so shorter = denser (a density proxy, no areas needed)"
)
SIMILARITY_RULE: Final[str] = (
    "Nearest authorities by Euclidean distance over three equally weighted z-scores "
    "(standardised over all authorities in the table): log10 children aged 0-15, log10 "
    "lsoa_nn_distance_median_m (density proxy), and share_lsoas_imd_decile_1_2 (share of the "
    "authority's LSOAs in IMD deciles 1-2); ties by DfE LA number"
)
NEIGHBOURS_LABEL: Final[str] = "computed by apgeo, not CIPFA's nearest neighbours"
NO_OWN_AP_NOTE: Final[str] = (
    "no state-funded AP setting of its own in GIAS: its children's own-authority shares are 0 "
    "and its median own-authority time is blank"
)

_COMPARATOR_COLUMNS: Final[tuple[str, ...]] = (
    "children_0_15",
    "ap_settings",
    "ap_settings_per_10k_children",
    "share_within_30_min_any",
    "share_within_30_min_own",
    "median_time_min_any",
    "median_time_min_own",
    "equity_gap_share_within_30_min",
    "equity_gap_median_time_min",
    "rank",
    "rank_own",
)


def _la_text(column: pd.Series) -> pd.Series:
    """DfE LA numbers as three-digit text, whether read as text or as numbers."""
    text = column.astype(str).str.strip().str.replace(r"\.0$", "", regex=True)
    return text.where(~text.str.isdigit(), text.str.zfill(3))


def nearest_distances(
    lsoa_xy: np.ndarray,
    lsoa_group: np.ndarray,
    site_xy: np.ndarray,
    site_group: np.ndarray,
    *,
    method: str = "kdtree",
) -> tuple[np.ndarray, np.ndarray]:
    """Crow-fly distance (m) from each origin to the nearest site anywhere and in its own group.

    ``lsoa_group`` and ``site_group`` are integer authority numbers (any labels that compare
    equal); a site with group -1 belongs to no authority and counts only for "anywhere".
    Returns ``(distance_any_m, distance_own_m)``; ``inf`` where there is no site at all (any)
    or none in the origin's authority (own). ``method="kdtree"`` (default) queries k-d
    trees; ``method="matrix"`` builds the full origins x sites distance matrix with
    :func:`scipy.spatial.distance.cdist` (the naive baseline, same answer).

    Parameters
    ----------
    lsoa_xy
        ``(n, 2)`` origin coordinates in metres.
    lsoa_group
        ``(n,)`` authority of each origin.
    site_xy
        ``(m, 2)`` site coordinates in metres.
    site_group
        ``(m,)`` authority of each site, -1 for none.
    method
        ``"kdtree"`` or ``"matrix"``.

    Returns
    -------
    distance_any_m : numpy.ndarray
        ``(n,)`` metres to the nearest site anywhere.
    distance_own_m : numpy.ndarray
        ``(n,)`` metres to the nearest site of the origin's own authority.
    """
    n = len(lsoa_xy)
    dist_any = np.full(n, np.inf)
    dist_own = np.full(n, np.inf)
    if len(site_xy) == 0 or n == 0:
        return dist_any, dist_own
    if method == "matrix":
        full = cdist(lsoa_xy, site_xy)
        dist_any = full.min(axis=1)
        same = lsoa_group[:, None] == site_group[None, :]
        dist_own = np.where(same, full, np.inf).min(axis=1)
        return dist_any, dist_own
    if method != "kdtree":
        raise ApgeoValueError(f"method must be 'kdtree' or 'matrix', not {method!r}")
    dist_any, _ = cKDTree(site_xy).query(lsoa_xy, k=1)
    order = np.argsort(lsoa_group, kind="stable")
    groups, starts = np.unique(lsoa_group[order], return_index=True)
    bounds = np.append(starts, n)
    for g, lo, hi in zip(groups, bounds[:-1], bounds[1:]):
        own = site_xy[site_group == g]
        if len(own):
            idx = order[lo:hi]
            dist_own[idx], _ = cKDTree(own).query(lsoa_xy[idx], k=1)
    return np.asarray(dist_any, dtype=float), dist_own


def _grouped_weighted_median(
    group: np.ndarray, n_groups: int, values: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Lower weighted median of ``values`` per group (NaN for no weight or no finite value)."""
    out = np.full(n_groups, np.nan)
    keep = (weights > 0) & ~np.isnan(values)
    if not keep.any():
        return out
    g, v, w = group[keep], values[keep], weights[keep]
    order = np.lexsort((v, g))
    g, v, w = g[order], v[order], w[order]
    cum = np.cumsum(w)
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    ends = np.r_[starts[1:], len(g)]
    before = np.r_[0.0, cum][starts]
    totals = cum[ends - 1] - before
    for gi, lo, hi, base, total in zip(g[starts], starts, ends, before, totals):
        pos = lo + int(np.searchsorted(cum[lo:hi] - base, total / 2, side="left"))
        out[gi] = v[min(pos, hi - 1)]
    out[np.isinf(out)] = np.nan
    return out


def _prepare_lsoas(lsoas: pd.DataFrame) -> pd.DataFrame:
    require_columns(
        lsoas,
        ["la_code", "easting_m", "northing_m", S.CHILDREN_0_15, S.IMD_DECILE],
        source="LSOA table",
    )
    out = lsoas.copy()
    out["la_code"] = _la_text(out["la_code"])
    for col in ("easting_m", "northing_m", S.CHILDREN_0_15, S.IMD_DECILE):
        out[col] = pd.to_numeric(out[col], errors="coerce")
    bad = out[["easting_m", "northing_m", S.CHILDREN_0_15]].isna().any(axis=1) | (
        out[S.CHILDREN_0_15] < 0
    )
    if bad.any():
        ids = out.get("lsoa11cd", out.get(S.AREA_ID, pd.Series(out.index.astype(str))))
        raise ApgeoValueError(
            f"{int(bad.sum())} LSOA row(s) lack a centroid or a child count (first: "
            f"{', '.join(map(str, ids[bad].head(5)))}); fix them in the LSOA table or rebuild "
            "the extract with scripts/make_england_extract.py"
        )
    if (out["la_code"].isin(["", "nan", "None"])).any():
        raise ApgeoValueError(
            "some LSOAs have no la_code (education authority); every LSOA needs one: rebuild "
            "the extract with scripts/make_england_extract.py"
        )
    return out


def _prepare_authorities(authorities: pd.DataFrame | None, lsoas: pd.DataFrame) -> pd.DataFrame:
    if authorities is None:
        names = lsoas["la_name"] if "la_name" in lsoas else lsoas["la_code"]
        auth = (
            pd.DataFrame({"la_code": lsoas["la_code"], "la_name": names})
            .drop_duplicates("la_code")
            .sort_values("la_code")
            .reset_index(drop=True)
        )
    else:
        require_columns(authorities, ["la_code", "la_name"], source="authorities table")
        auth = authorities.copy()
        auth["la_code"] = _la_text(auth["la_code"])
    if "region" not in auth:
        auth["region"] = ""
    auth = auth[["la_code", "la_name", "region"]].sort_values("la_code").reset_index(drop=True)
    empty = auth.loc[~auth["la_code"].isin(set(lsoas["la_code"]))]
    if len(empty):
        who = ", ".join(f"{n} ({c})" for c, n in zip(empty["la_code"], empty["la_name"]))
        raise ApgeoValueError(
            f"{len(empty)} authorit{'y has' if len(empty) == 1 else 'ies have'} no LSOAs in the "
            f"LSOA -> authority mapping: {who}. Pass the LSOA table that covers them (the whole "
            "England extract, load_lsoas_england()) or leave them out of the authorities table"
        )
    stray = sorted(set(lsoas["la_code"]) - set(auth["la_code"]))
    if stray:
        raise ApgeoValueError(
            f"LSOAs belong to authorities missing from the authorities table: {', '.join(stray[:10])}; "
            "add them to the table (or pass authorities=None to take them from the LSOAs)"
        )
    return auth


def _prepare_sites(ap_settings: gpd.GeoDataFrame, known: set[str]) -> pd.DataFrame:
    require_columns(ap_settings, ["la_code", "geometry"], source="AP settings")
    sites = to_working_crs(ap_settings, name="AP settings")
    geom = sites.geometry
    bad = geom.isna() | geom.is_empty
    if not bad.all():
        xy = geom[~bad].centroid
        bad.loc[~bad] = ~(np.isfinite(xy.x) & np.isfinite(xy.y))
    if bad.any():
        urn = (
            sites["urn"]
            if "urn" in sites
            else pd.Series(sites.index.astype(str), index=sites.index)
        )
        name = sites.get("establishment_name", pd.Series("", index=sites.index))
        who = "; ".join(f"URN {u} {n}".strip() for u, n in zip(urn[bad], name[bad]))
        warn(
            f"{int(bad.sum())} AP setting(s) have no coordinates and are left out of the "
            f"England comparison: {who}. Add their easting/northing to include them"
        )
    sites = sites.loc[~bad].copy()
    xy = sites.geometry.centroid
    out = pd.DataFrame(
        {
            "la_code": _la_text(sites["la_code"]).to_numpy(),
            "x": xy.x.to_numpy(),
            "y": xy.y.to_numpy(),
        }
    )
    if "urn" in sites:
        out["urn"] = sites["urn"].astype(str).to_numpy()
    foreign = sorted(set(out["la_code"]) - known)
    if foreign:
        warn(
            f"{int(out['la_code'].isin(foreign).sum())} AP setting(s) name authorities with no "
            f"LSOAs here ({', '.join(foreign[:10])}); they count for the nearest setting anywhere "
            "but belong to no authority in the comparison"
        )
    return out


def _rank(share: np.ndarray, median: np.ndarray) -> np.ndarray:
    """1 + the number of authorities strictly better (higher share, or equal and lower median)."""
    s = np.nan_to_num(share, nan=-1.0)
    m = np.nan_to_num(median, nan=np.inf)
    better = (s[None, :] > s[:, None]) | ((s[None, :] == s[:, None]) & (m[None, :] < m[:, None]))
    return 1 + better.sum(axis=1)


def england_inputs(
    lsoas: pd.DataFrame | None,
    authorities: pd.DataFrame | None,
    ap_settings: gpd.GeoDataFrame | None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The checked LSOA, authority and AP-setting tables of an England run; each ``None``
    is read from the committed England extract (authorities only with its LSOAs).

    Parameters
    ----------
    lsoas
        LSOA table (``None``: :func:`~apgeo.inputs.areas.load_lsoas_england`).
    authorities
        Authority table (``None``: read with the extract's LSOAs when ``lsoas`` is also
        ``None``, else made from the LSOAs).
    ap_settings
        AP settings (``None``: the open state-funded AP settings in GIAS).

    Returns
    -------
    tuple of pandas.DataFrame
        ``(lsoas, authorities, sites)``, checked and prepared.
    """
    if lsoas is None:
        lsoas = load_lsoas_england()
        if authorities is None:
            authorities = load_authorities()
    if ap_settings is None:
        ap_settings = ap_settings_england(load_gias_england())
    lsoa = _prepare_lsoas(lsoas)
    auth = _prepare_authorities(authorities, lsoa)
    return lsoa, auth, _prepare_sites(ap_settings, set(auth["la_code"]))


def england_comparison(
    *,
    modes: Sequence[str] = ("walk", "cycle", "drive"),
    thresholds_min: Sequence[float] = DEFAULT_THRESHOLDS_MIN,
    lsoas: pd.DataFrame | None = None,
    ap_settings: gpd.GeoDataFrame | None = None,
    authorities: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Access to state-funded AP for every English education authority and mode.

    Parameters
    ----------
    modes
        Straight-line modes (``walk``, ``cycle``, ``drive``).
    thresholds_min
        Travel-time thresholds (minutes); 30 is always added (rank and equity use it).
    lsoas
        LSOA table (``la_code, easting_m, northing_m, children_0_15, imd_decile``, EPSG:27700
        metres); default the England extract, :func:`~apgeo.inputs.areas.load_lsoas_england`.
    ap_settings
        AP settings as points with ``la_code`` (and ideally ``urn``, ``establishment_name``);
        default :func:`~apgeo.inputs.areas.ap_settings_england` of the England GIAS extract.
        Settings with no coordinates are dropped with a warning naming them.
    authorities
        ``la_code, la_name[, region]``; default ``authorities.csv`` with the England
        extract, else the authorities the LSOAs name. Every authority must have LSOAs.

    Returns
    -------
    One row per authority and mode (modes in the order given, then DfE LA number):
    ``la_code, la_name, region, mode, children_0_15, lsoa_count, ap_settings,
    ap_settings_per_10k_children, has_own_ap_setting, share_within_<t>_min_any|own``
    (0-1), ``median_time_min_any|own``, ``share_within_30_min_most|least_deprived``,
    ``median_time_min_most|least_deprived``, ``equity_gap_share_within_30_min``,
    ``equity_gap_median_time_min``, ``rank``, ``rank_own``, ``centroid_easting_m``,
    ``centroid_northing_m`` (child-weighted), ``lsoa_nn_distance_median_m``,
    ``share_lsoas_imd_decile_1_2``, ``note``, ``method``. ``attrs`` hold the caveats and
    rules (:data:`CAVEATS`, :data:`RANK_RULE`, :data:`EQUITY_RULE`, ...).
    """
    modes = list(dict.fromkeys(modes))
    unknown = [m for m in modes if m not in STRAIGHT_LINE_SPEEDS_KPH]
    if unknown or not modes:
        raise ApgeoValueError(
            f"unknown mode(s) {unknown or modes}; use some of {sorted(STRAIGHT_LINE_SPEEDS_KPH)}"
        )
    thresholds = sorted({float(t) for t in thresholds_min} | {float(RANK_THRESHOLD_MIN)})
    if any(not np.isfinite(t) or t <= 0 for t in thresholds):
        raise ApgeoValueError(
            f"thresholds_min must be positive minutes, not {list(thresholds_min)}"
        )
    lsoa, auth, sites = england_inputs(lsoas, authorities, ap_settings)

    codes = auth["la_code"].tolist()
    index = {c: i for i, c in enumerate(codes)}
    n_auth = len(codes)
    group = lsoa["la_code"].map(index).to_numpy(dtype=np.int64)
    site_group = sites["la_code"].map(index).fillna(-1).to_numpy(dtype=np.int64)
    xy = lsoa[["easting_m", "northing_m"]].to_numpy(dtype=float)
    site_xy = sites[["x", "y"]].to_numpy(dtype=float)
    dist_any, dist_own = nearest_distances(xy, group, site_xy, site_group)

    w = lsoa[S.CHILDREN_0_15].to_numpy(dtype=float)
    decile = lsoa[S.IMD_DECILE].to_numpy(dtype=float)
    most = np.isin(decile, MOST_DEPRIVED_DECILES)
    least = np.isin(decile, LEAST_DEPRIVED_DECILES)

    def total(weights: np.ndarray) -> np.ndarray:
        return np.bincount(group, weights=weights, minlength=n_auth)

    with np.errstate(invalid="ignore", divide="ignore"):
        children = total(w)
        lsoa_count = np.bincount(group, minlength=n_auth)
        wsum = np.where(children > 0, children, np.nan)
        cx = np.where(children > 0, total(w * xy[:, 0]) / wsum, total(xy[:, 0]) / lsoa_count)
        cy = np.where(children > 0, total(w * xy[:, 1]) / wsum, total(xy[:, 1]) / lsoa_count)
        n_sites = np.bincount(site_group[site_group >= 0], minlength=n_auth)
        if len(xy) > 1:
            nn, _ = cKDTree(xy).query(xy, k=2)
            nn_dist = nn[:, 1]
        else:
            nn_dist = np.full(len(xy), np.nan)
        nn_median = _grouped_weighted_median(group, n_auth, nn_dist, np.ones(len(xy)))
        share_deprived_lsoas = total(most.astype(float)) / lsoa_count
        base = pd.DataFrame(
            {
                "la_code": codes,
                "la_name": auth["la_name"].astype(str).to_numpy(),
                "region": auth["region"].fillna("").astype(str).to_numpy(),
                "children_0_15": children,
                "lsoa_count": lsoa_count,
                "ap_settings": n_sites,
                "ap_settings_per_10k_children": n_sites / wsum * 10_000,
                "has_own_ap_setting": n_sites > 0,
            }
        )
        frames = []
        for mode in modes:
            speed_m_per_min = STRAIGHT_LINE_SPEEDS_KPH[mode] * 1000 / 60
            t_any = dist_any * circuity_for(mode) / speed_m_per_min
            t_own = dist_own * circuity_for(mode) / speed_m_per_min
            f = base.copy()
            f.insert(3, S.MODE, mode)
            for t in thresholds:
                label = f"{t:g}"
                f[f"share_within_{label}_min_any"] = total(w * (t_any <= t)) / wsum
                f[f"share_within_{label}_min_own"] = total(w * (t_own <= t)) / wsum
            f["median_time_min_any"] = _grouped_weighted_median(group, n_auth, t_any, w)
            f["median_time_min_own"] = _grouped_weighted_median(group, n_auth, t_own, w)
            within = t_any <= RANK_THRESHOLD_MIN
            for name, mask in (("most_deprived", most), ("least_deprived", least)):
                wm = w * mask
                kids = total(wm)
                f[f"children_{name}"] = kids
                f[f"share_within_30_min_{name}"] = total(wm * within) / np.where(
                    kids > 0, kids, np.nan
                )
                f[f"median_time_min_{name}"] = _grouped_weighted_median(group, n_auth, t_any, wm)
            f["equity_gap_share_within_30_min"] = (
                f["share_within_30_min_most_deprived"] - f["share_within_30_min_least_deprived"]
            )
            f["equity_gap_median_time_min"] = (
                f["median_time_min_most_deprived"] - f["median_time_min_least_deprived"]
            )
            f["rank"] = _rank(
                f["share_within_30_min_any"].to_numpy(), f["median_time_min_any"].to_numpy()
            )
            f["rank_own"] = _rank(
                f["share_within_30_min_own"].to_numpy(), f["median_time_min_own"].to_numpy()
            )
            f["method"] = method_note(mode)
            frames.append(f)
    table = pd.concat(frames, ignore_index=True)
    table["centroid_easting_m"] = np.tile(cx, len(modes))
    table["centroid_northing_m"] = np.tile(cy, len(modes))
    table["lsoa_nn_distance_median_m"] = np.tile(nn_median, len(modes))
    table["share_lsoas_imd_decile_1_2"] = np.tile(share_deprived_lsoas, len(modes))
    table["note"] = np.where(table["has_own_ap_setting"], "", NO_OWN_AP_NOTE)
    method_col = table.pop("method")
    table["method"] = method_col
    table.attrs.update(
        {
            "caveats": list(CAVEATS),
            "method": {m: method_note(m) for m in modes},
            "modes": modes,
            "thresholds_min": thresholds,
            "rank_rule": RANK_RULE,
            "equity_rule": EQUITY_RULE,
            "median_rule": MEDIAN_RULE,
            "density_proxy": DENSITY_PROXY,
            "ap_settings_used": len(sites),
            "authorities_without_own_ap": [
                f"{n} ({c})" for c, n, k in zip(codes, base["la_name"], n_sites) if k == 0
            ],
        }
    )
    return table


def area_la_code(table: pd.DataFrame, area: str | int) -> str:
    """The DfE LA number of ``area`` (LA number, name in the table, or anything
    :func:`~apgeo.inputs.areas.resolve_area` accepts), checked to be in ``table``.

    Parameters
    ----------
    table
        A table with ``la_code`` and ``la_name`` columns.
    area
        An LA number (``373`` or ``"373"``), a name in the table (any case) or a name or
        code :func:`~apgeo.inputs.areas.resolve_area` accepts.

    Returns
    -------
    str
        The three-digit LA number.
    """
    text = str(area).strip()
    codes = set(table["la_code"])
    if text.isdigit() and text.zfill(3) in codes:
        return text.zfill(3)
    by_name = table.loc[table["la_name"].str.lower() == text.lower(), "la_code"]
    if len(by_name):
        return str(by_name.iloc[0])
    code = resolve_area(area).la_code
    if code not in codes:
        raise ApgeoValueError(
            f"{area!r} (LA {code}) is not in the comparison table; run england_comparison() "
            "over the whole England extract"
        )
    return code


def similar_authorities(table: pd.DataFrame, area: str | int, *, n: int = 5) -> pd.DataFrame:
    """The ``n`` authorities most like ``area`` by :data:`SIMILARITY_RULE`.

    Returns ``la_code, la_name, similarity_distance`` (z-score units, smaller = more alike),
    nearest first; the area itself is left out.

    Parameters
    ----------
    table
        The England comparison, with ``children_0_15``, ``lsoa_nn_distance_median_m`` and
        ``share_lsoas_imd_decile_1_2``.
    area
        The authority: LA number or name (see :func:`area_la_code`).
    n
        Number of authorities.

    Returns
    -------
    pandas.DataFrame
        ``la_code``, ``la_name``, ``similarity_distance``; ``n`` rows, nearest first.
    """
    require_columns(
        table,
        [
            "la_code",
            "la_name",
            "children_0_15",
            "lsoa_nn_distance_median_m",
            "share_lsoas_imd_decile_1_2",
        ],
        source="England comparison table",
    )
    code = area_la_code(table, area)
    one = table.drop_duplicates("la_code").set_index("la_code")
    feats = pd.DataFrame(
        {
            "children": np.log10(one["children_0_15"].clip(lower=1).astype(float)),
            "density": np.log10(one["lsoa_nn_distance_median_m"].clip(lower=1).astype(float)),
            "deprivation": one["share_lsoas_imd_decile_1_2"].astype(float),
        }
    )
    sd = feats.std(ddof=0).replace(0, 1.0)
    z = (feats - feats.mean()) / sd
    dist = np.sqrt(((z - z.loc[code]) ** 2).sum(axis=1))
    out = pd.DataFrame(
        {
            "la_code": dist.index,
            "la_name": one["la_name"].to_numpy(),
            "similarity_distance": dist.to_numpy(),
        }
    )
    out = out.loc[out["la_code"] != code].sort_values(["similarity_distance", "la_code"])
    return out.head(n).reset_index(drop=True)


def comparators(table: pd.DataFrame, area: str | int = "Sheffield", *, n: int = 5) -> pd.DataFrame:
    """``area`` next to England, the core cities and its ``n`` most similar authorities.

    One row per group member and mode. ``group`` is ``area``; ``England`` (``la_name``
    "England lower quartile / median / upper quartile" over authorities, unweighted, and
    "England (all children)": child-weighted shares); ``core city``
    (:data:`CORE_CITY_LA_CODES`, the area included when it is one); or ``nearest
    neighbour`` (:func:`similar_authorities`, :data:`SIMILARITY_RULE`, labelled
    :data:`NEIGHBOURS_LABEL`). ``attrs`` carry the rules and the caveats.

    Parameters
    ----------
    table
        The England comparison (:func:`england_comparison`).
    area
        The authority: LA number or name (see :func:`area_la_code`).
    n
        Number of most similar authorities.

    Returns
    -------
    pandas.DataFrame
        Per mode: the area, the England rows, the core cities and the nearest neighbours.
        Columns ``group``, ``mode``, ``la_code``, ``la_name``, ``is_area``, the comparator
        figures (``children_0_15``, ``ap_settings``, shares, median times, ``rank``,
        ``rank_own``...) and ``similarity_distance``.
    """
    require_columns(
        table,
        ["la_code", "la_name", S.MODE, *_COMPARATOR_COLUMNS],
        source="England comparison table",
    )
    code = area_la_code(table, area)
    neighbours = similar_authorities(table, code, n=n)
    cols = ["la_code", "la_name", *_COMPARATOR_COLUMNS]
    rows: list[pd.DataFrame] = []
    for mode, t in table.groupby(S.MODE, sort=False):
        by_code = t.set_index("la_code", drop=False)

        def pick(
            group: str, wanted: Sequence[str], by_code: pd.DataFrame = by_code
        ) -> pd.DataFrame:
            present = [c for c in wanted if c in by_code.index]
            return by_code.loc[present, cols].assign(group=group).reset_index(drop=True)

        part = [pick("area", [code])]
        stats = t[list(_COMPARATOR_COLUMNS)].astype(float)
        for label, q in (("lower quartile", 0.25), ("median", 0.5), ("upper quartile", 0.75)):
            row = stats.quantile(q).to_frame().T.assign(la_code="", la_name=f"England {label}")
            row[["rank", "rank_own"]] = np.nan
            part.append(row.assign(group="England"))
        kids = t["children_0_15"].astype(float)
        england = {
            c: float(np.average(t[c], weights=kids))
            for c in ("share_within_30_min_any", "share_within_30_min_own")
        }
        england.update(
            children_0_15=float(kids.sum()),
            ap_settings=float(t["ap_settings"].sum()),
            ap_settings_per_10k_children=float(t["ap_settings"].sum() / kids.sum() * 10_000),
        )
        part.append(
            pd.DataFrame([england]).assign(
                la_code="", la_name="England (all children)", group="England"
            )
        )
        part.append(pick("core city", list(CORE_CITY_LA_CODES)))
        near = pick("nearest neighbour", neighbours["la_code"].tolist())
        part.append(
            near.merge(neighbours[["la_code", "similarity_distance"]], on="la_code", how="left")
        )
        rows.extend(p.assign(**{S.MODE: mode}) for p in part)
    out = pd.concat(rows, ignore_index=True)
    out["is_area"] = out["la_code"] == code
    ordered = [
        "group",
        S.MODE,
        "la_code",
        "la_name",
        "is_area",
        *_COMPARATOR_COLUMNS,
        "similarity_distance",
    ]
    out = out.reindex(columns=ordered)
    out[["rank", "rank_own"]] = out[["rank", "rank_own"]].astype("Int64")
    out.attrs.update(
        {
            "similarity_rule": SIMILARITY_RULE,
            "neighbours_label": NEIGHBOURS_LABEL,
            "rank_rule": RANK_RULE,
            "caveats": list(CAVEATS),
            "england_rule": "England quartiles are over authorities (unweighted); 'England (all "
            "children)' weights shares by children aged 0-15",
        }
    )
    return out


__all__ = [
    "CAVEATS",
    "CORE_CITY_LA_CODES",
    "NEIGHBOURS_LABEL",
    "RANK_RULE",
    "SIMILARITY_RULE",
    "area_la_code",
    "comparators",
    "england_comparison",
    "nearest_distances",
    "similar_authorities",
]
