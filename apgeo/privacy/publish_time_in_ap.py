"""Publishing the time-in-AP and return-to-mainstream tables safely.

Comes in: a table of :func:`apgeo.analysis.time_in_ap.time_in_ap_table` (not suppressed)
and, for the same dimension, the published burden table (its ``placements`` totals are
already public, with their own suppression).
Goes out: the same table with the rules of :mod:`apgeo.privacy.statistics_check` applied:

* a row is published only where the burden table publishes the same group's total
  (otherwise the row's counts could rebuild a hidden total), and then without repeating
  the total;
* counts of 1 to 4 are blank (:func:`apgeo.privacy.suppression` threshold);
* ``open`` and ``ended`` placements add up to the published total of each group and, down
  the column, to the ``all`` row: the two columns are protected as one two-way table by
  :func:`apgeo.privacy.disclosure.protect_table` (secondary suppression with its exact
  audit);
* every other count (over one term, over one year, started before, returned within) adds
  up down its column to the ``all`` row: a column with blanks keeps at least two of them,
  and enough between them that each blank keeps at least two possible values (zeros are
  shown, so a blank is at least 1: ``k`` blanks summing to ``S`` need ``S >= k + 1``),
  blanking the next smallest counts until it does;
* a share or median is shown only for a group of at least
  :data:`~apgeo.privacy.statistics_check.STATISTICS_MIN_PLACEMENTS` placements whose
  counts behind it are all shown (a share beside a blank numerator gives the numerator
  back from the published total);
* zeros are shown, as in every placement table.

Within a row the single counts have no published complement (``not over one term`` is not
shown), so they bound nothing but each other from above; :func:`check_time_in_ap_published`
asserts the rules for a published table.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from apgeo._errors import ApgeoValueError
from apgeo._validate import require_columns
from apgeo.analysis.time_in_ap import (
    ENDED_PLACEMENTS,
    GROUP,
    MEDIAN_WEEKS_ENDED,
    OPEN_PLACEMENTS,
    OVER_ONE_TERM,
    OVER_ONE_YEAR,
    RETURN_WINDOWS_DAYS,
    SHARE_OVER_ONE_TERM,
    SHARE_OVER_ONE_YEAR,
    eligible_column,
    returned_column,
    share_returned_column,
)
from apgeo.privacy.disclosure import protect_table
from apgeo.privacy.statistics_check import STATISTICS_MIN_PLACEMENTS
from apgeo.settings import get_settings

#: The label of the total row.
ALL: Final = "all"
#: One line for the report about these tables.
TIME_IN_AP_NOTE: Final = (
    "Counts of 1-4 are blank, and so are enough others that no blank can be worked out from "
    "the totals; a group's row is shown only where its total is shown in the burden table; "
    "shares and median lengths only for "
    f"groups of at least {STATISTICS_MIN_PLACEMENTS} placements with every count behind them shown."
)

#: Share (or median) column -> the count columns it rests on.
_STATISTIC_NEEDS: Final[dict[str, tuple[str, ...]]] = {
    MEDIAN_WEEKS_ENDED: (ENDED_PLACEMENTS,),
    SHARE_OVER_ONE_TERM: (OVER_ONE_TERM,),
    SHARE_OVER_ONE_YEAR: (OVER_ONE_YEAR,),
    **{
        share_returned_column(w): (eligible_column(w), returned_column(w))
        for w in RETURN_WINDOWS_DAYS
    },
}


def _counts() -> list[str]:
    cols = [OPEN_PLACEMENTS, ENDED_PLACEMENTS, OVER_ONE_TERM, OVER_ONE_YEAR]
    for w in RETURN_WINDOWS_DAYS:
        cols += [eligible_column(w), returned_column(w)]
    return cols


def publish_time_in_ap(
    table: pd.DataFrame,
    burden: pd.DataFrame,
    *,
    threshold: int | None = None,
    extra_hidden: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The publishable form of a time-in-AP table (see the module).

    Parameters
    ----------
    table
        :func:`~apgeo.analysis.time_in_ap.time_in_ap_table` output (``group``, counts,
        shares; an ``all`` row).
    burden
        The published burden table of the same dimension (``group``, ``placements``; NaN
        where suppressed; its ``all`` row is the grand total).
    threshold
        Smallest count shown (default: the settings' suppression threshold, 5).
    extra_hidden
        Counts to blank as well (rows by position, count columns), chosen by the audit of
        all published tables together (:mod:`apgeo.privacy.linked_tables`).

    Returns
    -------
    pandas.DataFrame
        ``group_by``, ``group``, the counts (NaN = blank), shares and median (NaN = not
        shown), ``suppressed`` (what was hidden, for the reader). ``attrs["note"]``:
        :data:`TIME_IN_AP_NOTE`.
    """
    require_columns(table, [GROUP, *_counts(), *_STATISTIC_NEEDS], source="time-in-AP table")
    require_columns(burden, ["group", "placements"], source="burden table")
    limit = get_settings().suppression_threshold if threshold is None else int(threshold)
    if limit < 1:
        raise ApgeoValueError(f"threshold must be a whole number of at least 1, not {threshold!r}")
    shown_total = burden.set_index(burden["group"].astype(str))["placements"]
    out = table.drop(columns=["placements"], errors="ignore").copy()
    counts = _counts()
    values = out[counts].astype(float)
    total = table["placements"].astype(float).to_numpy()
    groups = out[GROUP].astype(str)
    is_all = (groups == ALL).to_numpy()
    # a group whose total the burden table hides is not published at all
    total_shown = groups.map(shown_total).notna().to_numpy()
    hidden = pd.DataFrame(False, index=out.index, columns=counts)
    hidden.loc[~total_shown, :] = True
    # open / ended: a two-way table with the published totals, protected exactly
    two_way = values.loc[~is_all, [OPEN_PLACEMENTS, ENDED_PLACEMENTS]].set_axis(groups[~is_all]).astype(int)
    protected = protect_table(
        two_way, threshold=limit, hidden_rows=list(groups[~is_all & ~total_shown]),
        hide_total=not bool(total_shown[is_all].all()),
    )
    for col in (OPEN_PLACEMENTS, ENDED_PLACEMENTS):
        blank = protected[col].isna()
        hidden.loc[~is_all, col] |= blank.reindex(groups[~is_all]).to_numpy()
        hidden.loc[is_all, col] |= bool(blank.get(ALL, False))
    # every other count: primary, then enough complementary blanks down its column
    for col in counts:
        if col in (OPEN_PLACEMENTS, ENDED_PLACEMENTS):
            continue
        v = values[col].to_numpy()
        h = hidden[col].to_numpy() | ((v > 0) & (v < limit))
        h = _complement_column(v, h, is_all)
        hidden[col] = h
    if extra_hidden is not None:
        hidden |= extra_hidden.reindex(columns=counts, fill_value=False).to_numpy(dtype=bool)
    out[counts] = values.mask(hidden)
    for stat, needs in _STATISTIC_NEEDS.items():
        ok = total_shown & (total >= STATISTICS_MIN_PLACEMENTS) & ~hidden[list(needs)].any(axis=1).to_numpy()
        if stat == MEDIAN_WEEKS_ENDED:
            ok &= values[ENDED_PLACEMENTS].to_numpy() >= STATISTICS_MIN_PLACEMENTS
        out[stat] = out[stat].where(ok)
    out["suppressed"] = np.where(
        ~total_shown, "row (its total is blank in the burden table)",
        np.where(hidden.any(axis=1), "small counts", ""),
    )
    out.attrs = {"note": TIME_IN_AP_NOTE, "method": table.attrs.get("method", ""),
                 "synthetic": bool(table.attrs.get("synthetic", False))}
    check_time_in_ap_published(out, threshold=limit)
    return out


def count_columns() -> list[str]:
    """The count columns of a time-in-AP table (the others are shares and a median).

    Returns
    -------
    list of str
        The names of the count columns, in table order.
    """
    return _counts()


def _complement_column(values: np.ndarray, hidden: np.ndarray, is_all: np.ndarray) -> np.ndarray:
    """Blank more group cells of one column (never the ``all`` row unless nothing else is
    left) until the blanks cannot be worked out from the ``all`` total: at least two of
    them, summing to at least their number + 1."""
    h = hidden.copy()
    groups = ~is_all
    while True:
        blank = h & groups
        k = int(blank.sum())
        if k == 0 or h[is_all].any():
            return h
        if k >= 2 and float(values[blank].sum()) >= k + 1:
            return h
        candidates = np.flatnonzero(groups & ~h & (values > 0))
        if len(candidates) == 0:
            h[is_all] = True  # nothing left to blank: hide the total instead
            return h
        h[candidates[int(np.argmin(values[candidates]))]] = True  # first of the smallest


def check_time_in_ap_published(published: pd.DataFrame, *, threshold: int | None = None) -> None:
    """Raise if a published time-in-AP table shows a count of 1 to 4, only one of open /
    ended, or a share or median beside a blank count it rests on.

    Parameters
    ----------
    published
        The table as it would be published.
    threshold
        Smallest count that may be shown (default: settings, 5).
    """
    limit = get_settings().suppression_threshold if threshold is None else int(threshold)
    values = published[_counts()].astype(float)
    small = ((values > 0) & (values < limit)).to_numpy()
    if small.any():
        raise ApgeoValueError("time-in-AP table: a count of 1-4 would be published")
    groups = published[GROUP].astype(str) != ALL
    for col in _counts():
        blank = values[col].isna() & groups
        if blank.sum() == 1 and values.loc[~groups, col].notna().all():
            raise ApgeoValueError(f"time-in-AP table: the one blank {col} follows from the 'all' row")
    for stat, needs in _STATISTIC_NEEDS.items():
        bad = published[stat].notna() & values[list(needs)].isna().any(axis=1)
        if bad.any():
            raise ApgeoValueError(f"time-in-AP table: {stat} is shown beside a blank count")


__all__ = ["TIME_IN_AP_NOTE", "check_time_in_ap_published", "count_columns", "publish_time_in_ap"]
