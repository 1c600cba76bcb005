"""Small-number suppression for counts of children or pupils.

Counts from 1 to ``threshold - 1`` (1-4 by default) are never shown or exported
(*primary* suppression). When a published total would let someone subtract their way
back to a suppressed cell, the next smallest non-zero cell in the same group is
suppressed too (*secondary* suppression), repeated until every group holds either no
suppressed cell or at least two. Zeros are shown: they disclose nothing about a person.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from apgeo.settings import get_settings

PRIMARY = "primary"
SECONDARY = "secondary"


def suppress_counts(
    counts: pd.Series,
    *,
    groups: Sequence[pd.Series] = (),
    threshold: int | None = None,
) -> pd.DataFrame:
    """Suppress small counts.

    Parameters
    ----------
    counts
        Non-negative counts, one per row (e.g. per LSOA).
    groups
        Grouping keys (aligned with ``counts``) whose totals will be published, e.g.
        the ward of each LSOA. The whole table is always a group (its grand total).
    threshold
        Smallest count that may be shown (default from settings: 5).

    Returns
    -------
    DataFrame with ``count`` (float, NaN where suppressed), ``suppressed`` (bool),
    ``suppression`` (``""``, ``"primary"`` or ``"secondary"``) and ``count_rounded``:
    primary cells at 2.5 (mid-point of 1-4), secondary cells rounded to the nearest 5
    (at least 5) - usable as an analysis weight that reveals nothing new.
    """
    limit = get_settings().suppression_threshold if threshold is None else threshold
    values = counts.astype(float).to_numpy()
    if np.any(values < 0):
        from apgeo._errors import ApgeoValueError

        raise ApgeoValueError("counts to suppress must be >= 0; negative counts found")
    kind = np.full(len(values), "", dtype=object)
    kind[(values > 0) & (values < limit)] = PRIMARY
    keys = [np.zeros(len(values), dtype=int)] + [np.asarray(g) for g in groups]
    changed = True
    while changed:
        changed = False
        for key in keys:
            for value in pd.unique(key):
                members = np.flatnonzero(key == value)
                hidden = members[kind[members] != ""]
                if len(hidden) != 1:
                    continue
                shown = members[(kind[members] == "") & (values[members] > 0)]
                if len(shown) == 0:
                    continue
                # smallest shown non-zero cell; ties broken by position for determinism
                pick = shown[np.lexsort((shown, values[shown]))[0]]
                kind[pick] = SECONDARY
                changed = True
    suppressed = kind != ""
    shown_count = np.where(suppressed, np.nan, values)
    rounded = np.where(
        kind == PRIMARY, 2.5, np.where(kind == SECONDARY, np.maximum(5.0, np.round(values / 5) * 5), values)
    )
    return pd.DataFrame(
        {"count": shown_count, "suppressed": suppressed, "suppression": kind, "count_rounded": rounded},
        index=counts.index,
    )
