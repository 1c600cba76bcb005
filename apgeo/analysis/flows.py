"""Flows of placements from referring schools to providers: flow matrices and flow lines.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from apgeo import schema as S
from apgeo._errors import ApgeoValueError
from apgeo._log import warn
from apgeo._validate import require_columns
from apgeo.inputs.placements import (
    ALL,
    DESTINATION_EASTING,
    DESTINATION_NAME,
    DESTINATION_NORTHING,
    HIDDEN_COLUMN_GROUPS,
    PLACEMENTS,
    SCHOOL_EASTING,
    SCHOOL_NAME,
    SCHOOL_NORTHING,
    SCHOOL_URN,
    SUPPRESSED,
    FlowLevel,
    _clean_urn,
    _stamp,
    _synthetic_flag,
    load_schools,
)
from apgeo.privacy.disclosure import protect_table


def _flow_counts(placements: pd.DataFrame, level: FlowLevel) -> pd.DataFrame:
    if level not in ("provider", "site"):
        raise ApgeoValueError(f"level must be 'provider' or 'site', not {level!r}")
    col = S.PROVIDER_ID if level == "provider" else S.SITE_ID
    require_columns(placements, [SCHOOL_URN, col, PLACEMENTS], source="placements")
    table = placements.pivot_table(index=SCHOOL_URN, columns=col, values=PLACEMENTS, aggfunc="sum", fill_value=0)
    table = table.astype(float).sort_index().sort_index(axis=1)
    table.index.name, table.columns.name = SCHOOL_URN, col
    return table


def _kind_groups(placements: pd.DataFrame, level: FlowLevel) -> dict[object, list[object]]:
    col = S.PROVIDER_ID if level == "provider" else S.SITE_ID
    if S.KIND not in placements.columns:
        return {}
    pairs = placements[[col, S.KIND]].drop_duplicates()
    return {k: sorted(g[col]) for k, g in pairs.groupby(S.KIND)}


def flow_matrix(
    placements: pd.DataFrame,
    *,
    level: FlowLevel = "provider",
    threshold: int | None = None,
) -> pd.DataFrame:
    """Referring school x provider (or site) matrix of placements, suppressed, with totals.

    Parameters
    ----------
    placements
        Counts from :func:`load_placements` or :func:`placement_travel_times` (with
        ``kind``, totals by provider kind are treated as published elsewhere, so the
        matrix is also safe next to a burden table by kind).
    level
        Columns are providers (``provider_id``) or sites (``site_id``).
    threshold
        Smallest count shown (default 5).

    Returns
    -------
    pandas.DataFrame
        Index: school URNs then ``"all"``; columns: provider (site) ids then ``"all"``.
        NaN = suppressed (1-4, or hidden to protect another cell); 0 = no placements.
    """
    table = _flow_counts(placements, level)
    out = protect_table(table, threshold=threshold, column_groups=_kind_groups(placements, level))
    must_hide = out.attrs.get(HIDDEN_COLUMN_GROUPS, [])
    out.attrs = {HIDDEN_COLUMN_GROUPS: must_hide} if must_hide else {}
    if must_hide:
        warn(
            f"flow_matrix: the totals of provider kinds {must_hide} must be suppressed in any "
            "published table by kind; use publish_placement_tables to publish tables together"
        )
    return _stamp(out, synthetic=_synthetic_flag(placements), title=f"placements by referring school and {level}")


def flow_lines(
    matrix: pd.DataFrame,
    *,
    providers: pd.DataFrame | None = None,
    schools: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The school -> provider pairs of a :func:`flow_matrix`, with end points for a map.

    Parameters
    ----------
    matrix
        A suppressed flow matrix (:func:`flow_matrix`).
    providers
        Provider sites, for the destinations' names and locations (default: the
        Sheffield providers).
    schools
        The school lookup, for the schools' names and locations (default:
        :func:`apgeo.inputs.placements.load_schools`).

    Returns
    -------
    pandas.DataFrame
        One row per pair with placements (shown or suppressed; zero pairs are left out):
        ``school_urn``, ``school_name``, ``destination_id``, ``destination_name``,
        ``placements`` (NaN = suppressed), ``suppressed``, ``school_easting``,
        ``school_northing``, ``destination_easting``, ``destination_northing``
        (EPSG:27700; NaN when not located). Institutions only: no home locations.
    """
    if ALL not in matrix.index or ALL not in matrix.columns:
        raise ApgeoValueError("flow_lines needs a matrix from flow_matrix() (with 'all' totals)")
    level_col = matrix.columns.name or S.PROVIDER_ID
    cells = matrix.drop(index=ALL, columns=ALL)
    long = cells.stack(future_stack=True).reset_index()
    long.columns = [SCHOOL_URN, S.DESTINATION_ID, PLACEMENTS]
    long = long[long[PLACEMENTS].isna() | (long[PLACEMENTS] > 0)].reset_index(drop=True)
    long[SUPPRESSED] = long[PLACEMENTS].isna()
    schools = load_schools() if schools is None else schools
    sch = schools.set_index(schools[S.URN].map(_clean_urn))
    long.insert(1, SCHOOL_NAME, long[SCHOOL_URN].map(sch[SCHOOL_NAME]) if SCHOOL_NAME in sch else "")
    if providers is None:
        from apgeo.inputs.providers import load_sheffield_providers

        providers = load_sheffield_providers()
    sites = providers
    if "geometry" in providers.columns:
        located = ~(providers.geometry.isna() | providers.geometry.is_empty)
        sites = providers[located]
        xy = pd.DataFrame(
            {S.EASTING: sites.geometry.x.to_numpy(), S.NORTHING: sites.geometry.y.to_numpy()}, index=sites.index
        )
    else:
        xy = pd.DataFrame({S.EASTING: np.nan, S.NORTHING: np.nan}, index=sites.index)
    key = S.PROVIDER_ID if level_col == S.PROVIDER_ID else S.SITE_ID
    ends = pd.concat([pd.DataFrame(sites[list(dict.fromkeys([key, S.NAME, S.SITE_ID]))]), xy], axis=1)
    ends = ends.sort_values([key, S.SITE_ID]).drop_duplicates(key).set_index(key)
    names = dict(zip(providers[key].astype(str), providers[S.NAME].astype(str)))
    long.insert(3, DESTINATION_NAME, long[S.DESTINATION_ID].astype(str).map(names))
    long[SCHOOL_EASTING] = long[SCHOOL_URN].map(sch[S.EASTING]).astype(float)
    long[SCHOOL_NORTHING] = long[SCHOOL_URN].map(sch[S.NORTHING]).astype(float)
    long[DESTINATION_EASTING] = long[S.DESTINATION_ID].map(ends[S.EASTING]).astype(float)
    long[DESTINATION_NORTHING] = long[S.DESTINATION_ID].map(ends[S.NORTHING]).astype(float)
    long.attrs = {"level": level_col}
    return _stamp(long, synthetic=_synthetic_flag(matrix), title="referring school to provider flows")


# ======================================================================================
# Consistent publication of several tables
# ======================================================================================


__all__ = [
    "flow_lines",
    "flow_matrix",
]
