"""The cells of a planner's provider file as councils fill them, checked row by row.

:func:`apgeo.inputs.providers.read_providers` calls these on a table whose headers are
already the schema's. Each either reads a council's spelling with a note (one warning per
file listing what was read how: ``"Y7-Y11"`` as KS3+KS4, ``"Pupil Referral Unit"`` as
``pru``, ``"TBC"`` places as unknown), or raises naming the file, the spreadsheet rows,
the column and the fix. Nothing is dropped without a warning naming the rows.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from apgeo import schema as S
from apgeo._errors import ApgeoValueError
from apgeo._log import warn
from apgeo._validate import row_numbers

#: Capacity cells that mean "not known" (compared in lower case without spaces or dots).
UNKNOWN_PLACES: frozenset[str] = frozenset(
    {"tbc", "tbd", "na", "n/a", "unknown", "notknown", "-", "--", "?", "varies", "variable", "none", "nil"}
)
#: A row whose id or name says it sums the others (Excel's "Total" row under a table).
_TOTAL_ROW = re.compile(r"^\s*(grand\s+|sub\s*-?\s*)?totals?\b", re.IGNORECASE)
#: Distance (m) from the study area beyond which a point whose exchanged coordinates fall
#: within :data:`SWAP_NEAR_M` of it is taken as easting and northing swapped.
SWAP_FAR_M = 20_000.0
SWAP_NEAR_M = 2_000.0
#: Without a study area: a point with none of the file's other points within this
#: distance, whose exchanged coordinates have most of them within it, is swapped.
SWAP_CLUSTER_M = 30_000.0


def _blank(series: pd.Series) -> pd.Series:
    return series.isna() | series.astype("string").str.strip().fillna("").eq("")


def _rows_of(frame: pd.DataFrame, mask: Any) -> str:
    return row_numbers(frame.index[np.asarray(mask, dtype=bool)])


class Notes:
    """What was read how, per row; :meth:`emit` warns once per file."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.by_text: dict[str, list[Any]] = defaultdict(list)
        self.per_row: dict[Any, list[str]] = defaultdict(list)

    def add(self, row: Any, note: str) -> None:
        """Record a note on one row.

        Parameters
        ----------
        row
            The row's index label.
        note
            The note's text.
        """
        self.by_text[note].append(row)
        self.per_row[row].append(note)

    def column(self, index: pd.Index) -> pd.Series:
        """The notes of each row as text (``input_note``).

        Parameters
        ----------
        index
            The table's index.

        Returns
        -------
        pandas.Series
            The row's notes joined with ``"; "`` (``""`` for none), on ``index``.
        """
        return pd.Series(["; ".join(self.per_row.get(i, [])) for i in index], index=index, dtype=object)

    def emit(self, *, strict: bool) -> None:
        """Give one warning listing every note and its rows (nothing when there is none).

        Parameters
        ----------
        strict
            Raise instead of warning.
        """
        if not self.by_text:
            return
        shown = "; ".join(f"{note} (row(s) {row_numbers(rows)})" for note, rows in self.by_text.items())
        warn(
            f"{self.source}: read as councils write them: {shown}; check these are what you meant "
            "(the providers table's 'input_note' column repeats them per row)",
            strict=strict,
            stacklevel=4,
        )


def drop_total_rows(frame: pd.DataFrame, *, source: str, strict: bool) -> pd.DataFrame:
    """Drop rows that sum the others ("Total", "Grand total" with no kind), with a warning.

    Parameters
    ----------
    frame
        The provider table.
    source
        How to name the table in the warning.
    strict
        Raise instead of warning.

    Returns
    -------
    pandas.DataFrame
        ``frame`` without the total rows.
    """
    labels = pd.Series(False, index=frame.index)
    for col in (S.PROVIDER_ID, S.NAME):
        if col in frame.columns:
            labels |= frame[col].astype("string").fillna("").str.match(_TOTAL_ROW)
    if S.KIND in frame.columns:
        labels &= _blank(frame[S.KIND])
    if not labels.any():
        return frame
    warn(
        f"{source}: row(s) {_rows_of(frame, labels)} look like a total row (no kind, labelled 'Total'); "
        "they were left out: delete them from the file, or give them a kind if they are providers",
        strict=strict,
        stacklevel=4,
    )
    return frame.loc[~labels]


def require_ids(frame: pd.DataFrame, *, source: str) -> None:
    """Raise for rows with no ``provider_id`` or no ``name`` (merged cells come out blank).

    Parameters
    ----------
    frame
        The provider table.
    source
        How to name the table in the error.
    """
    for col in (S.PROVIDER_ID, S.NAME):
        blank = _blank(frame[col])
        if blank.any():
            raise ApgeoValueError(
                f"{source}: column {S.meaning(col)} is blank at row(s) {_rows_of(frame, blank)}; fill it in "
                "on every row (merged cells in Excel leave all but the first row blank: unmerge them and "
                "repeat the value)"
            )


def read_kinds(frame: pd.DataFrame, notes: Notes, *, source: str) -> pd.Series:
    """The ``kind`` column as :class:`~apgeo.schema.ProviderKind` values; council spellings
    noted, blank or unknown kinds an error naming the rows.

    Parameters
    ----------
    frame
        The provider table, with ``kind``.
    notes
        Collects a note per row read from another spelling.
    source
        How to name the table in errors.

    Returns
    -------
    pandas.Series
        The kind values (e.g. ``"pru"``) on the table's index.
    """
    blank = _blank(frame[S.KIND])
    if blank.any():
        raise ApgeoValueError(
            f"{source}: column {S.meaning(S.KIND)} is blank at row(s) {_rows_of(frame, blank)}; give each "
            f"row one of {[k.value for k in S.ProviderKind]}"
        )
    out = pd.Series("", index=frame.index, dtype=object)
    bad: dict[str, list[Any]] = defaultdict(list)
    for value, rows in frame.groupby(frame[S.KIND].astype(str), sort=False).groups.items():
        try:
            kind, note = S.read_kind(value)
        except ApgeoValueError:
            bad[str(value)] += list(rows)
            continue
        out[rows] = kind.value
        for r in rows:
            if note:
                notes.add(r, note)
    if bad:
        shown = "; ".join(f"{v!r} at row(s) {row_numbers(r)}" for v, r in bad.items())
        raise ApgeoValueError(
            f"{source}: unknown provider kind {shown} in column 'kind'; use one of "
            f"{[k.value for k in S.ProviderKind]} (spellings such as 'Pupil Referral Unit', "
            "'special school', 'hospital school' are read too)"
        )
    return out


def read_key_stage_column(frame: pd.DataFrame, notes: Notes, *, source: str, strict: bool) -> tuple[pd.Series, pd.Series]:
    """``(key_stages, key_stages_source)``. Council spellings are read with a note; a blank
    cell gets KS1-KS4 with a warning naming the rows; an unreadable one raises naming them.

    Parameters
    ----------
    frame
        The provider table.
    notes
        Collects a note per row read from another spelling.
    source
        How to name the table in warnings and errors.
    strict
        Raise instead of warning.

    Returns
    -------
    key_stages : pandas.Series
        Canonical text, e.g. ``"KS3,KS4"``.
    key_stages_source : pandas.Series
        Where each row's key stages came from (the table, or that KS1-KS4 was assumed).
    """
    default = ",".join(S.COMPULSORY_KEY_STAGES)
    if S.KEY_STAGES not in frame.columns:
        return (
            pd.Series(default, index=frame.index, dtype=object),
            pd.Series(f"not in {source}: KS1-KS4 assumed", index=frame.index, dtype=object),
        )
    cells = frame[S.KEY_STAGES]
    blank = _blank(cells)
    out = pd.Series(default, index=frame.index, dtype=object)
    origin = pd.Series(source, index=frame.index, dtype=object)
    errors = []
    for value, rows in cells[~blank].groupby(cells[~blank].astype(str), sort=False).groups.items():
        try:
            stages, note = S.read_key_stages(value)
        except ApgeoValueError as exc:
            errors.append(f"row(s) {row_numbers(rows)}: {exc}")
            continue
        out[rows] = ",".join(stages)
        if note:
            origin[rows] = f"{source} ({note})"
            for r in rows:
                notes.add(r, note)
    if errors:
        raise ApgeoValueError(f"{source}: column 'key_stages': {'; '.join(errors)}")
    if blank.any():
        origin[blank] = f"blank in {source}: KS1-KS4 assumed"
        warn(
            f"{source}: column {S.meaning(S.KEY_STAGES)} is blank at row(s) {_rows_of(frame, blank)}; "
            "those sites are counted as serving KS1-KS4: fill the cells in if they do not",
            strict=strict,
            stacklevel=4,
        )
    return out, origin


def read_capacity(frame: pd.DataFrame, notes: Notes) -> pd.Series:
    """Capacity cells as numbers: ``"TBC"``, ``"n/a"``, ``"-"`` ... blank (unknown) with a
    note; ``"12 places"`` is 12. Other text is left for :func:`~apgeo._validate.to_numeric`
    to reject naming the rows.

    Parameters
    ----------
    frame
        The provider table, with ``capacity_places``.
    notes
        Collects a note per row read from another spelling.

    Returns
    -------
    pandas.Series
        The cells, unknown ones blank and worded ones as digits (still text unless the
        column was numeric).
    """
    cells = frame[S.CAPACITY_PLACES]
    if pd.api.types.is_numeric_dtype(cells):
        return cells
    text = cells.astype("string").str.strip()
    key = text.str.lower().str.replace(r"[\s.]", "", regex=True)
    unknown = key.isin(UNKNOWN_PLACES).fillna(False).astype(bool)
    for r in frame.index[unknown]:
        notes.add(r, f"capacity {text[r]!r} read as unknown")
    worded = text.str.fullmatch(r"(?i)\d[\d,]*\s*(places?|pupils?|learners?)").fillna(False).astype(bool)
    for r in frame.index[worded]:
        notes.add(r, f"capacity {text[r]!r} read as {re.sub(r'[^0-9,]', '', str(text[r]))}")
    out = text.mask(unknown, pd.NA)
    return out.mask(worded, text.str.replace(r"(?i)\s*(places?|pupils?|learners?)$", "", regex=True))


def read_urns(frame: pd.DataFrame, notes: Notes, *, source: str) -> pd.Series:
    """URNs as six or seven digits: ``"137596.0"`` (a number column) is read as 137596;
    ``"1.37596E+05"`` (Excel's scientific format, digits may be lost) raises naming the rows.

    Parameters
    ----------
    frame
        The provider table, with ``urn``.
    notes
        Collects a note per row read from another spelling.
    source
        How to name the table in errors.

    Returns
    -------
    pandas.Series
        The URNs as text (``""`` where blank).
    """
    text = frame[S.URN].astype("string").str.strip().fillna("")
    sci = text.str.contains(r"^\d(?:\.\d+)?[eE][+-]?\d+$", regex=True)
    if sci.any():
        raise ApgeoValueError(
            f"{source}: column 'urn' holds numbers in scientific format at row(s) {_rows_of(frame, sci)} "
            f"(e.g. {text[sci].iloc[0]!r}): Excel may have lost digits; format the column as Number with 0 "
            "decimal places (or Text) and type the URNs again"
        )
    decimal = text.str.fullmatch(r"\d+\.0+")
    for r in frame.index[decimal]:
        notes.add(r, f"URN {text[r]!r} read as {text[r].split('.')[0]}")
    return text.str.replace(r"^(\d+)\.0+$", r"\1", regex=True).astype(object)


def warn_half_coordinates(
    frame: pd.DataFrame, a: pd.Series, b: pd.Series, names: tuple[str, str], *, source: str, strict: bool
) -> pd.Series:
    """Warn for rows with one coordinate of the pair and not the other (and no postcode to
    fall back on): they cannot be placed and leave the travel times. Returns those rows.

    Parameters
    ----------
    frame
        The provider table.
    a, b
        The two coordinate columns as numbers.
    names
        Their names, for the warning.
    source
        How to name the table in the warning.
    strict
        Raise instead of warning.

    Returns
    -------
    pandas.Series
        Boolean on the table's index: rows with one coordinate only.
    """
    half = a.notna() ^ b.notna()
    if S.POSTCODE in frame.columns:
        half &= _blank(frame[S.POSTCODE])
    if not half.any():
        return half
    who = ", ".join(
        f"row {row_numbers([r])} ({i}: {names[0] if pd.notna(a[r]) else names[1]} given, "
        f"{names[1] if pd.notna(a[r]) else names[0]} blank)"
        for r, i in zip(frame.index[half], frame.loc[half, S.SITE_ID])
    )
    warn(
        f"{source}: {int(half.sum())} row(s) have only one of {names[0]}/{names[1]}: {who}; they cannot "
        f"be placed and are kept with located=False, left out of travel times and coverage: fill in "
        "the other coordinate or give a postcode",
        strict=strict,
        stacklevel=4,
    )
    return half


def check_kilometres(frame: pd.DataFrame, e: pd.Series, n: pd.Series, *, source: str) -> None:
    """Raise when easting/northing look like kilometres (``437.3, 385.6``) not metres.

    Parameters
    ----------
    frame
        The provider table (for row numbers).
    e, n
        Easting and northing as numbers.
    source
        How to name the table in the error.
    """
    ok = e.notna() & n.notna()
    km = ok & e.between(82, 656) & n.between(5, 658)
    if km.any():
        raise ApgeoValueError(
            f"{source}: easting/northing at row(s) {_rows_of(frame, km)} look like kilometres "
            f"(e.g. {e[km].iloc[0]:g}, {n[km].iloc[0]:g}); British National Grid coordinates are metres: "
            "multiply by 1000 (437.3 km -> 437300)"
        )


def check_swapped(
    frame: pd.DataFrame, e: pd.Series, n: pd.Series, *, source: str, study_area: Any = None
) -> None:
    """Raise naming the rows whose easting and northing are exchanged: the given point is
    far from the study area (or, without one, from the file's other points) while the
    exchanged one lies inside / next to it.

    Parameters
    ----------
    frame
        The provider table (for row numbers).
    e, n
        Easting and northing as numbers.
    source
        How to name the table in the error.
    study_area
        A polygon in EPSG:27700, or a GeoDataFrame / GeoSeries with a CRS (``None``: compare
        with the file's other points).
    """
    ok = (e.notna() & n.notna()).to_numpy()
    if not ok.any():
        return
    xy = np.column_stack([e.to_numpy(dtype=float), n.to_numpy(dtype=float)])
    swapped = np.zeros(len(frame), dtype=bool)
    if study_area is not None:
        from apgeo._validate import check_crs
        from apgeo.settings import WORKING_CRS

        if isinstance(study_area, gpd.GeoDataFrame | gpd.GeoSeries):
            check_crs(study_area, name="study area")
            shape = study_area.to_crs(WORKING_CRS).geometry.union_all()
        else:
            shape = study_area
        given = gpd.GeoSeries.from_xy(np.nan_to_num(xy[:, 0]), np.nan_to_num(xy[:, 1])).distance(shape).to_numpy()
        exchanged = gpd.GeoSeries.from_xy(np.nan_to_num(xy[:, 1]), np.nan_to_num(xy[:, 0])).distance(shape).to_numpy()
        swapped = ok & (given > SWAP_FAR_M) & (exchanged <= SWAP_NEAR_M)
        where = "the study area"
    elif ok.sum() >= 3:
        from scipy.spatial import cKDTree

        pts = xy[ok]
        tree = cKDTree(pts)
        # counts only (return_length): the lists of a city's points within 30 km of each
        # other would hold n^2 ids (25 M at 5,000 rows, 1.2 GB)
        near_given = tree.query_ball_point(pts, SWAP_CLUSTER_M, return_length=True) - 1
        near_exchanged = tree.query_ball_point(pts[:, ::-1], SWAP_CLUSTER_M, return_length=True)
        others = len(pts) - 1
        flagged = (near_given == 0) & (near_exchanged * 2 >= others) & (near_exchanged >= 2)
        swapped[np.flatnonzero(ok)[flagged]] = True
        where = "the file's other providers"
    if swapped.any():
        who = ", ".join(
            f"row {row_numbers([r])} ({i}: {a:.0f}, {b:.0f})"
            for r, i, a, b in zip(frame.index[swapped], frame.loc[swapped, S.SITE_ID], xy[swapped, 0], xy[swapped, 1])
        )
        raise ApgeoValueError(
            f"{source}: easting and northing look swapped at {who}: exchanged, they fall among {where}; "
            "put the east-west coordinate in 'easting' and the north-south one in 'northing'"
        )


def warn_post16_only(frame: pd.DataFrame, key_stages: pd.Series, *, source: str, strict: bool) -> None:
    """Warn for sites serving only KS5: the compulsory-age figures never count them.

    Parameters
    ----------
    frame
        The provider table.
    key_stages
        Canonical key stages per row.
    source
        How to name the table in the warning.
    strict
        Raise instead of warning.
    """
    only5 = key_stages.eq("KS5")
    if not only5.any():
        return
    warn(
        f"{source}: row(s) {_rows_of(frame, only5)} ({', '.join(frame.loc[only5, S.SITE_ID].astype(str))}) serve "
        "only KS5 (post-16): coverage, cold spots and recommendations for KS1-KS4 never count them; "
        "correct 'key_stages' if they also take younger pupils",
        strict=strict,
        stacklevel=4,
    )


__all__ = [
    "UNKNOWN_PLACES",
    "Notes",
    "check_kilometres",
    "check_swapped",
    "drop_total_rows",
    "read_capacity",
    "read_key_stage_column",
    "read_kinds",
    "read_urns",
    "require_ids",
    "warn_half_coordinates",
    "warn_post16_only",
]
