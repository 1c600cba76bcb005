"""Time in AP and return to mainstream: is AP short term, and do children go back?

Comes in: the placement count table of :func:`apgeo.inputs.placements.load_placements`
from a file with ``end_date`` (and ``outcome``): rows split by ``placement_open``,
``outcome``, ``days_in_ap`` and ``days_since_start``.
Goes out: one table per dimension (provider kind, key stage, referring school) with the
number of placements, how many are still open, the median length of the ended ones, the
shares over one term and over one year, and the share returned to mainstream within 6 and
12 months. NOT suppressed: :mod:`apgeo.privacy` publishes them.

Definitions (stated in every table's ``attrs["method"]``):

* length = ``end_date - start_date``, or ``as_of - start_date`` while open. An open
  placement is counted as open, never dropped: it counts towards "over one term" once it has
  lasted that long (its final length can only be longer), and is left out of the median of
  ended placements.
* one term = :data:`TERM_DAYS` (13 weeks), one year = :data:`YEAR_DAYS`.
* returned within 6 (12) months = outcome ``returned_to_mainstream`` and length <= 182
  (365) days, out of the placements that started at least 182 (365) days before ``as_of``
  (so every one of them could have been seen to return in time).
"""

from __future__ import annotations

from typing import Final, Literal

import numpy as np
import pandas as pd

from apgeo import schema as S
from apgeo._errors import ApgeoValueError
from apgeo._validate import require_columns
from apgeo.inputs.placements import (
    DAYS_IN_AP,
    DAYS_SINCE_START,
    KEY_STAGE,
    OUTCOME,
    PLACEMENT_OPEN,
    PLACEMENTS,
    RETURNED_TO_MAINSTREAM,
    SCHOOL_URN,
)

#: One school term and one year, in days.
TERM_DAYS: Final = 91
YEAR_DAYS: Final = 365
#: The windows for "returned to mainstream within", in days (6 and 12 months).
RETURN_WINDOWS_DAYS: Final[dict[str, int]] = {"6_months": 182, "12_months": 365}

TimeDimension = Literal["kind", "key_stage", "school_urn"]
TIME_DIMENSIONS: Final[tuple[str, ...]] = ("kind", "key_stage", "school_urn")

# output columns
GROUP_BY: Final = "group_by"
GROUP: Final = "group"
OPEN_PLACEMENTS: Final = "open_placements"
ENDED_PLACEMENTS: Final = "ended_placements"
MEDIAN_WEEKS_ENDED: Final = "median_weeks_ended"
OVER_ONE_TERM: Final = "placements_over_one_term"
OVER_ONE_YEAR: Final = "placements_over_one_year"
SHARE_OVER_ONE_TERM: Final = "share_over_one_term"
SHARE_OVER_ONE_YEAR: Final = "share_over_one_year"


def eligible_column(window: str) -> str:
    """Placements that started long enough before ``as_of`` to be seen returning in ``window``.

    Parameters
    ----------
    window
        A key of :data:`RETURN_WINDOWS_DAYS` (``"6_months"``).

    Returns
    -------
    str
        ``started_<window>_before``.
    """
    return f"started_{window}_before"


def returned_column(window: str) -> str:
    """Column holding the placements that ended in a return to mainstream within ``window``.

    Parameters
    ----------
    window
        A key of :data:`RETURN_WINDOWS_DAYS` (``"6_months"``).

    Returns
    -------
    str
        ``returned_within_<window>``.
    """
    return f"returned_within_{window}"


def share_returned_column(window: str) -> str:
    """Column holding the share of eligible placements that returned within ``window``.

    Parameters
    ----------
    window
        A key of :data:`RETURN_WINDOWS_DAYS` (``"6_months"``).

    Returns
    -------
    str
        ``share_returned_within_<window>``.
    """
    return f"share_returned_within_{window}"


METHOD_TEXT: Final = (
    "length = end_date - start_date, or as_of - start_date while open (open placements "
    f"counted as open, in 'over one term / year' once they have lasted that long, not in the "
    f"median of ended placements); one term = {TERM_DAYS} days, one year = {YEAR_DAYS} days; "
    "returned within 6 / 12 months = outcome returned_to_mainstream with length <= 182 / 365 "
    "days, out of placements that started at least 182 / 365 days before as_of"
)


def has_time_in_ap(placements: pd.DataFrame) -> bool:
    """Whether a count table carries end dates (the file had ``end_date``).

    Parameters
    ----------
    placements
        A placement count table.

    Returns
    -------
    bool
        Whether it has the time-in-AP columns.
    """
    return {DAYS_IN_AP, PLACEMENT_OPEN, OUTCOME, DAYS_SINCE_START} <= set(placements.columns)


def _weighted_median(values: np.ndarray, weights: np.ndarray) -> float:
    if len(values) == 0 or weights.sum() <= 0:
        return float("nan")
    order = np.argsort(values, kind="stable")
    v, w = values[order], weights[order]
    cum = np.cumsum(w)
    half = cum[-1] / 2.0
    i = int(np.searchsorted(cum, half, side="left"))
    if cum[i] == half and i + 1 < len(v):  # even count: mean of the two middle values
        return float((v[i] + v[i + 1]) / 2.0)
    return float(v[i])


def time_in_ap_table(
    placements: pd.DataFrame,
    *,
    by: TimeDimension = "kind",
    providers: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Placement length and return to mainstream by one dimension (see the module).

    Parameters
    ----------
    placements
        The count table of :func:`~apgeo.inputs.placements.load_placements` from a file
        with ``end_date``.
    by
        ``"kind"`` (provider kind, needs ``providers``), ``"key_stage"`` or ``"school_urn"``
        (referring school).
    providers
        Provider sites (``site_id``, ``kind``) for ``by="kind"``.

    Returns
    -------
    pandas.DataFrame
        One row per group and a final ``all`` row: ``group_by``, ``group``, ``placements``,
        ``open_placements``, ``ended_placements``, ``median_weeks_ended``,
        ``placements_over_one_term``, ``share_over_one_term``, ``placements_over_one_year``,
        ``share_over_one_year`` and, per window (6 and 12 months), ``started_<w>_before``,
        ``returned_within_<w>``, ``share_returned_within_<w>``. Counts are whole numbers,
        shares 0-1. ``attrs``: ``method``, ``synthetic``, ``as_of``. Not suppressed.
    """
    if not has_time_in_ap(placements):
        raise ApgeoValueError(
            "the placement table has no end dates: load a file with an 'end_date' column "
            "(empty for placements still open) to get time in AP and return to mainstream"
        )
    if by not in TIME_DIMENSIONS:
        raise ApgeoValueError(f"by must be one of {', '.join(TIME_DIMENSIONS)}, not {by!r}")
    pt = placements.copy()
    if by == "kind":
        if providers is None:
            raise ApgeoValueError("by='kind' needs providers (site_id, kind) to know each site's kind")
        require_columns(providers, [S.SITE_ID, S.KIND], source="providers")
        kind_of = dict(zip(providers[S.SITE_ID].astype(str), providers[S.KIND].astype(str)))
        pt["kind"] = pt[S.SITE_ID].astype(str).map(kind_of).fillna("unknown")
    column = {"kind": "kind", "key_stage": KEY_STAGE, "school_urn": SCHOOL_URN}[by]
    n = pt[PLACEMENTS].to_numpy(dtype=float)
    days = pt[DAYS_IN_AP].to_numpy(dtype=float)
    since = pt[DAYS_SINCE_START].to_numpy(dtype=float)
    is_open = pt[PLACEMENT_OPEN].astype(bool).to_numpy()
    returned = (pt[OUTCOME].astype(str) == RETURNED_TO_MAINSTREAM).to_numpy()
    pt["_open"] = n * is_open
    pt["_ended"] = n * ~is_open
    pt["_term"] = n * (days > TERM_DAYS)
    pt["_year"] = n * (days > YEAR_DAYS)
    for w, limit in RETURN_WINDOWS_DAYS.items():
        eligible = since >= limit
        pt[f"_elig_{w}"] = n * eligible
        pt[f"_ret_{w}"] = n * (eligible & returned & ~is_open & (days <= limit))

    rows = []
    groups = [(str(g), part) for g, part in pt.groupby(column, sort=True)] + [("all", pt)]
    for g, part in groups:
        total = float(part[PLACEMENTS].sum())
        ended = ~part[PLACEMENT_OPEN].astype(bool).to_numpy()
        row = {
            GROUP_BY: by,
            GROUP: g,
            PLACEMENTS: int(total),
            OPEN_PLACEMENTS: int(part["_open"].sum()),
            ENDED_PLACEMENTS: int(part["_ended"].sum()),
            MEDIAN_WEEKS_ENDED: _weighted_median(
                part[DAYS_IN_AP].to_numpy(dtype=float)[ended] / 7.0,
                part[PLACEMENTS].to_numpy(dtype=float)[ended],
            ),
            OVER_ONE_TERM: int(part["_term"].sum()),
            SHARE_OVER_ONE_TERM: float(part["_term"].sum() / total) if total else float("nan"),
            OVER_ONE_YEAR: int(part["_year"].sum()),
            SHARE_OVER_ONE_YEAR: float(part["_year"].sum() / total) if total else float("nan"),
        }
        for w in RETURN_WINDOWS_DAYS:
            elig = float(part[f"_elig_{w}"].sum())
            ret = float(part[f"_ret_{w}"].sum())
            row[eligible_column(w)] = int(elig)
            row[returned_column(w)] = int(ret)
            row[share_returned_column(w)] = ret / elig if elig else float("nan")
        rows.append(row)
    out = pd.DataFrame(rows)
    out.attrs.update(
        {
            "method": METHOD_TEXT,
            "synthetic": bool(placements.attrs.get("synthetic", False)),
            "as_of": placements.attrs.get("as_of", ""),
        }
    )
    return out


__all__ = [
    "METHOD_TEXT",
    "RETURN_WINDOWS_DAYS",
    "TERM_DAYS",
    "TIME_DIMENSIONS",
    "YEAR_DAYS",
    "has_time_in_ap",
    "time_in_ap_table",
]
