"""Demand areas: Sheffield's 345 LSOAs (2011) with children by age and key stage, and need.

Method for children by single year of age
-----------------------------------------
ONS publishes LSOA estimates in broad bands (0-15, 16-29, ...) and wards by single
year of age. Each LSOA's 0-15 count is split into ages 0..15 in proportion to the
single-year profile of the ward that contains the LSOA's population-weighted centroid
(the nearest ward when a centroid falls just outside the generalised ward polygons);
ages 16 and 17 come from the 16-29 band the same way. The split uses largest-remainder
(Hamilton) apportionment on whole children, so every LSOA's band total is conserved
exactly and the single-year counts are integers.

Key stages use the ages in :data:`apgeo.schema.KEY_STAGE_AGES`.

Need
----
IMD 2019 and IDACI 2019 ranks and deciles (1 = most deprived tenth of England's LSOAs).
Optional user counts (referrals, exclusions, AP placements) per LSOA or per pupil
postcode go through :func:`aggregate_need`, which aggregates to LSOA and applies
small-number suppression before anything leaves this module.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from apgeo import schema as S
from apgeo._errors import ApgeoValueError
from apgeo._log import logger, warn
from apgeo._validate import read_csv, require_columns, require_rows, row_numbers, to_numeric
from apgeo.inputs.data import data_path
from apgeo.inputs.geocode import PostcodeLookup
from apgeo.privacy.suppression import suppress_counts
from apgeo.settings import WORKING_CRS

CHILD_AGES = tuple(range(0, 18))


def apportion(total: int, weights: Sequence[float] | np.ndarray) -> np.ndarray:
    """Split a whole number into integer parts proportional to ``weights``, exactly.

    Largest-remainder (Hamilton) method; ties go to the earlier position. If every
    weight is zero the total is split evenly.

    Parameters
    ----------
    total
        The whole number to split (>= 0).
    weights
        Non-negative weights, one per part.

    Returns
    -------
    numpy.ndarray
        int64 parts summing to ``total``, one per weight.
    """
    w = np.asarray(weights, dtype=float)
    if total < 0 or np.any(w < 0):
        raise ApgeoValueError("apportion needs a non-negative total and non-negative weights")
    if w.sum() == 0:
        w = np.ones_like(w)
    quotas = total * w / w.sum()
    parts = np.floor(quotas).astype(np.int64)
    remainder = int(total - parts.sum())
    order = np.lexsort((np.arange(len(w)), -(quotas - parts)))
    parts[order[:remainder]] += 1
    return parts


def load_lsoas(*, data_dir: str | Path | None = None) -> gpd.GeoDataFrame:
    """LSOA 2011 polygons with ``area_id``, ``area_name`` and the population-weighted
    centroid (``pwc_easting``, ``pwc_northing``), in EPSG:27700.

    Parameters
    ----------
    data_dir
        The data folder (``None``: the active setting).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per LSOA polygon.
    """
    poly = gpd.read_file(data_path("lsoa_boundaries", data_dir=data_dir))
    require_columns(poly, ["LSOA11CD", "LSOA11NM"], source="LSOA boundaries")
    poly = poly.to_crs(WORKING_CRS)
    pwc_path = data_path("lsoa_centroids", data_dir=data_dir)
    pwc = read_csv(pwc_path)
    require_columns(pwc, ["lsoa11cd", "easting", "northing"], source=str(pwc_path))
    out = gpd.GeoDataFrame(
        {
            S.AREA_ID: poly["LSOA11CD"].to_numpy(),
            S.AREA_NAME: poly["LSOA11NM"].to_numpy(),
        },
        geometry=poly.geometry.to_numpy(),
        crs=WORKING_CRS,
    )
    pwc = pwc.set_index("lsoa11cd")
    missing = sorted(set(out[S.AREA_ID]) - set(pwc.index))
    if missing:
        raise ApgeoValueError(f"{pwc_path}: no population-weighted centroid for {', '.join(missing[:10])}")
    out["pwc_easting"] = to_numeric(pwc.loc[out[S.AREA_ID], "easting"], column="easting", source=str(pwc_path)).to_numpy()
    out["pwc_northing"] = to_numeric(pwc.loc[out[S.AREA_ID], "northing"], column="northing", source=str(pwc_path)).to_numpy()
    return out.sort_values(S.AREA_ID).reset_index(drop=True)


def load_wards(*, data_dir: str | Path | None = None) -> gpd.GeoDataFrame:
    """Sheffield's 28 wards (``ward_code``, ``ward_name``) in EPSG:27700.

    Parameters
    ----------
    data_dir
        The data folder (``None``: the active setting).

    Returns
    -------
    geopandas.GeoDataFrame
        ``ward_code``, ``ward_name``, ``geometry``.
    """
    wards = gpd.read_file(data_path("wards", data_dir=data_dir))
    require_columns(wards, ["WD24CD", "WD24NM"], source="ward boundaries")
    wards = wards.rename(columns={"WD24CD": S.WARD_CODE, "WD24NM": S.WARD_NAME})
    return wards[[S.WARD_CODE, S.WARD_NAME, "geometry"]].to_crs(WORKING_CRS)


def load_la_boundary(*, data_dir: str | Path | None = None) -> gpd.GeoDataFrame:
    """The Sheffield local-authority boundary in EPSG:27700.

    Parameters
    ----------
    data_dir
        The data folder (``None``: the active setting).

    Returns
    -------
    geopandas.GeoDataFrame
        The boundary polygon(s) with the file's columns.
    """
    return gpd.read_file(data_path("la_boundary", data_dir=data_dir)).to_crs(WORKING_CRS)


def assign_wards(lsoas: gpd.GeoDataFrame, wards: gpd.GeoDataFrame) -> pd.DataFrame:
    """Ward of each LSOA: the ward containing its population-weighted centroid.

    Parameters
    ----------
    lsoas
        LSOAs with ``area_id``, ``pwc_easting`` and ``pwc_northing`` (EPSG:27700).
    wards
        Ward polygons with ``ward_code`` and ``ward_name``; a centroid outside every ward
        takes the nearest.

    Returns
    -------
    pandas.DataFrame
        ``area_id``, ``ward_code``, ``ward_name``, one row per LSOA.
    """
    pts = gpd.GeoDataFrame(
        {S.AREA_ID: lsoas[S.AREA_ID]},
        geometry=gpd.points_from_xy(lsoas["pwc_easting"], lsoas["pwc_northing"]),
        crs=WORKING_CRS,
    )
    joined = gpd.sjoin_nearest(pts, wards, how="left", distance_col="ward_distance_m")
    joined = joined.sort_values([S.AREA_ID, S.WARD_CODE]).drop_duplicates(S.AREA_ID)
    outside = joined["ward_distance_m"] > 0
    if outside.any():
        logger.info("%d LSOA centroids fall outside the generalised ward polygons; nearest ward used", int(outside.sum()))
    return pd.DataFrame(joined[[S.AREA_ID, S.WARD_CODE, S.WARD_NAME]])


def _ward_profile(path: Path) -> pd.DataFrame:
    raw = read_csv(path)
    require_columns(raw, ["Ward Code", "Age", "Persons"], source=str(path))
    raw = raw[raw["Age"] != "All Ages"].copy()
    raw["age"] = raw["Age"].str.replace("+", "", regex=False).astype(int)
    raw["persons"] = to_numeric(raw["Persons"], column="Persons", source=str(path))
    return raw.pivot_table(index="Ward Code", columns="age", values="persons", aggfunc="sum")


def load_demand(
    *,
    data_dir: str | Path | None = None,
    population_source: Literal["mid2020", "census2021"] = "mid2020",
) -> gpd.GeoDataFrame:
    """The demand table: one row per Sheffield LSOA (polygon geometry, EPSG:27700).

    Columns: ``area_id``, ``area_name``, ``ward_code``, ``ward_name``,
    ``pwc_easting``, ``pwc_northing``, ``population_all``, ``children_0_15``,
    ``age_0`` .. ``age_17``, ``children_ks1`` .. ``children_ks5``,
    ``children_school_age`` (ages 5-15), ``imd_rank``, ``imd_decile``,
    ``idaci_rank``, ``idaci_decile``, ``population_source``.

    ``population_source="census2021"`` takes the 0-15 count from Census 2021 (LSOA 2021
    codes equal to 2011 ones; the others keep mid-2020 figures, with a warning).

    Parameters
    ----------
    data_dir
        Folder of the data extract (default: the settings' ``data_dir``).
    population_source
        ``"mid2020"`` (ONS mid-2020 estimates, default) or ``"census2021"``.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per LSOA with the columns above, in EPSG:27700.
    """
    if population_source not in ("mid2020", "census2021"):
        raise ApgeoValueError(f"population_source must be 'mid2020' or 'census2021', not {population_source!r}")
    lsoas = load_lsoas(data_dir=data_dir)
    wards = load_wards(data_dir=data_dir)
    ward_of = assign_wards(lsoas, wards).set_index(S.AREA_ID)

    broad_path = data_path("pop_lsoa_broad", data_dir=data_dir)
    broad = read_csv(broad_path)
    require_columns(broad, ["LSOA Code", "Age band", "Population"], source=str(broad_path))
    broad["Population"] = to_numeric(broad["Population"], column="Population", source=str(broad_path), allow_missing=False)
    bands = broad.pivot_table(index="LSOA Code", columns="Age band", values="Population", aggfunc="sum")
    for band in ("All Ages", "0-15", "16-29"):
        if band not in bands.columns:
            raise ApgeoValueError(f"{broad_path}: no rows for age band {band!r}; bands found: {list(bands.columns)}")
    missing = sorted(set(lsoas[S.AREA_ID]) - set(bands.index))
    if missing:
        raise ApgeoValueError(f"{broad_path}: no population for LSOA(s) {', '.join(missing[:10])}")
    bands = bands.loc[lsoas[S.AREA_ID]]

    children_0_15 = bands["0-15"].copy()
    source_note = "ONS mid-2020 LSOA estimates (sape23dt13) split by ward single-year profile"
    if population_source == "census2021":
        cpath = data_path("census2021_lsoa", data_dir=data_dir)
        census = read_csv(cpath)
        require_columns(census, ["lsoa21_code", "age_group", "usual_residents"], source=str(cpath))
        census = census[census["age_group"] == "Aged 15 years and under"]
        c = to_numeric(census["usual_residents"], column="usual_residents", source=str(cpath))
        c.index = census["lsoa21_code"].to_numpy()
        matched = children_0_15.index.isin(c.index)
        children_0_15[matched] = c.reindex(children_0_15.index[matched]).to_numpy()
        if (~matched).any():
            warn(
                f"Census 2021: {int((~matched).sum())} LSOA 2011 code(s) have no identical LSOA 2021 "
                f"code ({', '.join(children_0_15.index[~matched][:10])}); their mid-2020 counts are used"
            )
        source_note = "Census 2021 (LSOA 2021 = 2011 codes), split by ward single-year profile"

    profile = _ward_profile(data_path("pop_ward_sya", data_dir=data_dir))
    ages = np.zeros((len(lsoas), len(CHILD_AGES)), dtype=float)
    area_ids = lsoas[S.AREA_ID].to_numpy()
    ward_codes = ward_of.loc[area_ids, S.WARD_CODE].to_numpy()
    row_of = pd.Series(np.arange(len(profile)), index=profile.index)
    under_16 = profile.loc[:, list(range(16))].to_numpy()
    from_16 = profile.loc[:, list(range(16, 30))].to_numpy()
    young_all = children_0_15.loc[area_ids].to_numpy(dtype=float)
    older_all = bands.loc[area_ids, "16-29"].to_numpy(dtype=float)
    for i, (area, ward) in enumerate(zip(area_ids, ward_codes, strict=True)):
        if ward not in row_of.index:
            raise ApgeoValueError(f"ward {ward} of LSOA {area} has no single-year population profile")
        r = int(row_of[ward])
        young, older = float(young_all[i]), float(older_all[i])
        if young.is_integer() and older.is_integer():
            ages[i, :16] = apportion(int(young), under_16[r])
            ages[i, 16:] = apportion(int(older), from_16[r])[:2]
        else:  # fractional inputs: proportional split (totals conserved to rounding error)
            w = under_16[r]
            ages[i, :16] = young * w / w.sum()
            w2 = from_16[r]
            ages[i, 16:] = (older * w2 / w2.sum())[:2]

    out = lsoas.copy()
    out[S.WARD_CODE] = ward_of.loc[out[S.AREA_ID], S.WARD_CODE].to_numpy()
    out[S.WARD_NAME] = ward_of.loc[out[S.AREA_ID], S.WARD_NAME].to_numpy()
    out[S.POPULATION_ALL] = bands["All Ages"].to_numpy()
    out[S.CHILDREN_0_15] = children_0_15.to_numpy()
    for j, age in enumerate(CHILD_AGES):
        out[S.age_column(age)] = ages[:, j]
    for ks, ks_ages in S.KEY_STAGE_AGES.items():
        out[S.children_column(ks)] = ages[:, list(ks_ages)].sum(axis=1)
    out["children_school_age"] = ages[:, 5:16].sum(axis=1)
    out = out.merge(load_deprivation(data_dir=data_dir), on=S.AREA_ID, how="left", validate="one_to_one")
    no_imd = out[S.IMD_DECILE].isna()
    if no_imd.any():
        raise ApgeoValueError(f"IMD 2019: no deprivation figures for LSOA(s) {', '.join(out.loc[no_imd, S.AREA_ID][:10])}")
    out["population_source"] = source_note
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WORKING_CRS)


def load_deprivation(*, data_dir: str | Path | None = None) -> pd.DataFrame:
    """IMD 2019 and IDACI 2019 ranks and deciles per LSOA (File 1 and File 3).

    Parameters
    ----------
    data_dir
        The data folder (``None``: the active setting).

    Returns
    -------
    pandas.DataFrame
        ``area_id``, ``imd_rank``, ``imd_decile``, ``idaci_rank``, ``idaci_decile``.
    """
    p1 = data_path("imd_file1", data_dir=data_dir)
    f1 = read_csv(p1)
    code = "LSOA code (2011)"
    rank_col = "Index of Multiple Deprivation (IMD) Rank"
    dec_col = "Index of Multiple Deprivation (IMD) Decile"
    require_columns(f1, [code, rank_col, dec_col], source=str(p1))
    p3 = data_path("imd_file3", data_dir=data_dir)
    f3 = read_csv(p3)
    idaci_rank = next((c for c in f3.columns if c.startswith("Income Deprivation Affecting Children Index (IDACI) Rank")), None)
    idaci_dec = next((c for c in f3.columns if c.startswith("Income Deprivation Affecting Children Index (IDACI) Decile")), None)
    if idaci_rank is None or idaci_dec is None:
        from apgeo._errors import MissingColumnError

        raise MissingColumnError(f"{p3} has no IDACI rank/decile columns; columns found: {', '.join(f3.columns)}")
    a = pd.DataFrame(
        {
            S.AREA_ID: f1[code],
            S.IMD_RANK: to_numeric(f1[rank_col], column=rank_col, source=str(p1)),
            S.IMD_DECILE: to_numeric(f1[dec_col], column=dec_col, source=str(p1)),
        }
    )
    b = pd.DataFrame(
        {
            S.AREA_ID: f3[code],
            S.IDACI_RANK: to_numeric(f3[idaci_rank], column=idaci_rank, source=str(p3)),
            S.IDACI_DECILE: to_numeric(f3[idaci_dec], column=idaci_dec, source=str(p3)),
        }
    )
    return a.merge(b, on=S.AREA_ID, how="outer", validate="one_to_one")


def demand_points(demand: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The demand table with population-weighted centroid points as geometry.

    Parameters
    ----------
    demand
        The table of :func:`load_demand` (``pwc_easting``, ``pwc_northing``).

    Returns
    -------
    geopandas.GeoDataFrame
        A copy whose geometry is each area's population-weighted centroid (EPSG:27700).
    """
    require_columns(demand, [S.AREA_ID, "pwc_easting", "pwc_northing"], source="demand table")
    pts = gpd.points_from_xy(demand["pwc_easting"], demand["pwc_northing"])
    out = pd.DataFrame(demand.drop(columns=demand.geometry.name))
    return gpd.GeoDataFrame(out, geometry=pts, crs=WORKING_CRS)


def aggregate_need(
    records: pd.DataFrame,
    *,
    demand: pd.DataFrame,
    area_column: str | None = None,
    postcode_column: str | None = None,
    count_column: str | None = None,
    lookup: PostcodeLookup | None = None,
    strict: bool = False,
) -> pd.DataFrame:
    """Aggregate referral / exclusion / placement counts to LSOA, with suppression.

    ``records`` holds either one row per pupil (``postcode_column`` or ``area_column``,
    no ``count_column``) or counts per area (``area_column`` + ``count_column``).
    Pupil-level rows are aggregated here and never returned.

    Returns one row per demand area: ``area_id``, ``need_count`` (NaN where suppressed),
    ``need_suppressed``, ``need_suppression`` (primary / secondary) and ``need_weight``
    (an analysis weight that reveals nothing suppressed: 2.5 for counts 1-4, secondary
    cells rounded to 5). Ward totals may be published: secondary suppression is applied
    within wards and across the city.

    Parameters
    ----------
    records
        Pupil rows or counts per area (see above).
    demand
        The demand areas (``area_id``, ``ward_code``), one output row each.
    area_column
        Column of ``records`` holding the LSOA code.
    postcode_column
        Column of ``records`` holding a home postcode (placed in its LSOA).
    count_column
        Column of counts per area (with ``area_column``).
    lookup
        Postcode lookup (default: the committed postcode data).
    strict
        Turn warnings (postcodes that cannot be placed, areas outside ``demand``) into
        errors.

    Returns
    -------
    pandas.DataFrame
        One row per demand area with the columns above; suppressed, safe to publish.
    """
    require_rows(records, source="need records")
    if (area_column is None) == (postcode_column is None):
        raise ApgeoValueError("give exactly one of area_column= (LSOA codes) or postcode_column= (home postcodes)")
    frame = records.reset_index(drop=True)
    if postcode_column is not None:
        require_columns(frame, [postcode_column], source="need records")
        lookup = lookup or PostcodeLookup.from_data_dir()
        located = lookup.locate(frame[postcode_column])
        area = located["lsoa11cd"]
        bad = area.isna()
        if bad.any():
            # row numbers only: never echo a pupil's postcode into a log or message
            warn(
                f"need records: {int(bad.sum())} row(s) have a postcode that could not be placed in "
                f"an LSOA (row(s) {row_numbers(frame.index[bad])}); they are not counted",
                strict=strict,
            )
    else:
        assert area_column is not None
        require_columns(frame, [area_column], source="need records")
        area = frame[area_column].astype(str).str.strip()
    weights = (
        to_numeric(frame[count_column], column=count_column, source="need records", allow_missing=False)
        if count_column is not None
        else pd.Series(1.0, index=frame.index)
    )
    known = set(demand[S.AREA_ID])
    outside = area.notna() & ~area.isin(known)
    if outside.any():
        warn(
            f"need records: {int(outside.sum())} row(s) fall in LSOAs outside the study area "
            f"(row(s) {row_numbers(frame.index[outside])}); they are not counted",
            strict=strict,
        )
    keep = area.notna() & ~outside
    totals = weights[keep].groupby(area[keep]).sum()
    base = pd.DataFrame(demand[[S.AREA_ID, *([S.WARD_CODE] if S.WARD_CODE in demand.columns else [])]]).copy()
    base["raw"] = totals.reindex(base[S.AREA_ID]).fillna(0.0).to_numpy()
    groups = [base[S.WARD_CODE]] if S.WARD_CODE in base.columns else []
    sup = suppress_counts(base["raw"], groups=groups)
    return pd.DataFrame(
        {
            S.AREA_ID: base[S.AREA_ID].to_numpy(),
            S.NEED_COUNT: sup["count"].to_numpy(),
            S.NEED_SUPPRESSED: sup["suppressed"].to_numpy(),
            "need_suppression": sup["suppression"].to_numpy(),
            "need_weight": sup["count_rounded"].to_numpy(),
        }
    )
