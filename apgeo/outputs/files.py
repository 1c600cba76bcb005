"""Writing output files: folders that can be written, GeoPackages identical across reruns,
and CSVs a planner opens in Excel (:func:`write_csv`: one number format for every table)."""

from __future__ import annotations

import math
import os
import urllib.parse
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from apgeo._errors import ApgeoError

#: The creation / modification time written into every GeoPackage apgeo makes, so the
#: same study gives byte-identical files (GDAL otherwise stamps the current time).
GPKG_TIMESTAMP = "2025-01-01T00:00:00.000Z"


def relative_link(target: str | Path, folder: str | Path) -> str:
    """The link, written in a file in ``folder``, that opens ``target``: the relative path
    between the two real locations (both made absolute first), with ``/`` separators and
    percent-encoded for Markdown and HTML; a ``file:`` URI when there is none (another
    drive on Windows). Wherever the two folders are, nested or absolute, the link works.

    Parameters
    ----------
    target
        The file linked to.
    folder
        The folder of the file the link is written in.

    Returns
    -------
    str
        The percent-encoded relative path, or a ``file:`` URI.
    """
    to, start = os.path.abspath(target), os.path.abspath(folder)
    try:
        rel = os.path.relpath(to, start)
    except ValueError:  # pragma: no cover - Windows, another drive
        return Path(to).as_uri()
    return urllib.parse.quote(Path(rel).as_posix())


class OutputFolderError(ApgeoError, OSError):
    """An output folder cannot be created or written, or another run is writing it."""


@contextmanager
def fixed_gdal_date(value: str = GPKG_TIMESTAMP) -> Iterator[None]:
    """Set GDAL's ``OGR_CURRENT_DATE`` while writing (restored afterwards).

    Parameters
    ----------
    value
        The timestamp GDAL writes into GeoPackage metadata.

    Yields
    ------
    None
        Inside the ``with`` block the date is fixed.
    """
    import pyogrio

    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": value})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def write_gpkg(frame: gpd.GeoDataFrame, path: str | Path, *, layer: str) -> Path:
    """Write ``frame`` as ``layer`` of the GeoPackage ``path`` (added to the file when it
    exists) with a fixed timestamp: a rerun of the same study gives the same bytes.

    Parameters
    ----------
    frame
        The table to write.
    path
        The ``.gpkg`` file.
    layer
        The layer name.

    Returns
    -------
    Path
        The file written.
    """
    p = Path(path)
    with fixed_gdal_date():
        frame.to_file(p, layer=layer, driver="GPKG")
    return p


def writable_folder(folder: str | Path, *, what: str = "output folder") -> Path:
    """Create ``folder`` if needed and check a file can be written in it, or raise
    :class:`OutputFolderError` naming the folder and the fix (one line, no traceback).

    Parameters
    ----------
    folder
        The folder.
    what
        What the folder is for, named in the error.

    Returns
    -------
    Path
        The folder, ready to write to.
    """
    p = Path(folder).expanduser()
    try:
        p.mkdir(parents=True, exist_ok=True)
        probe = p / f".apgeo-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OutputFolderError(
            f"cannot write to the {what} {p} ({reason}); choose a folder you can write to "
            "(output_dir / maps_dir in the study config) or fix its permissions"
        ) from None
    return p


# ------------------------------------------------------------------------------ CSVs

#: The one rule every CSV apgeo writes for planners follows (quoted in the README):
CSV_NUMBER_RULE = (
    "numbers are never in scientific notation; a column whose values are all whole is written "
    "whole; shares (0-1) to 4 decimals; times in seconds (*_s) as whole seconds with the same "
    "time in minutes (*_min, 1 decimal) beside them; minutes to 1 decimal; metres and "
    "coordinates whole; km and km2 to 2 decimals; any other number to 4 significant digits of "
    "its column's largest value"
)
#: Columns of codes that get a name column beside them (code column -> name column).
NAMED_CODES = {"area_id": "area_name", "origin_id": "origin_name"}


def _decimals(column: str, values: np.ndarray) -> int:
    """Decimals for a numeric column under :data:`CSV_NUMBER_RULE` (values finite, not all whole)."""
    name = column.lower()
    if "share" in name:
        return 4
    if name.endswith("_s"):
        return 0
    if name.endswith("_min") or "_min_" in name or "minutes" in name:
        return 1
    if name.endswith(("_m", "easting", "northing")) or "_m_" in name:
        return 0
    if name.endswith(("_km", "_km2")):
        return 2
    largest = float(np.max(np.abs(values))) if len(values) else 0.0
    if largest == 0:
        return 0
    return int(min(6, max(0, 3 - math.floor(math.log10(largest)))))


def _number_column(series: pd.Series) -> pd.Series | None:
    """``series`` as floats when every value in it is a (non-boolean) number, else None."""
    if pd.api.types.is_bool_dtype(series):
        return None
    if pd.api.types.is_numeric_dtype(series):
        return series.astype(float)
    values = series.dropna()
    if len(values) and all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, (bool, np.bool_)) for v in values):
        return series.astype(float)
    return None


def _digits_of(column: str, numbers: pd.Series) -> int:
    """The decimals :data:`CSV_NUMBER_RULE` gives a numeric column: 0 when every finite value is whole."""
    finite = numbers[np.isfinite(numbers)]
    if (finite == finite.round()).all():
        return 0
    return _decimals(column, finite.to_numpy())


def _text_of(column: str, numbers: pd.Series, digits: int | None = None) -> pd.Series:
    """A numeric column as text under :data:`CSV_NUMBER_RULE` (blank for NaN / infinite);
    ``digits`` decided beforehand over a whole column this is a part of."""
    if digits is None:
        digits = _digits_of(column, numbers)
    rounded = numbers.round(digits)
    return pd.Series(
        ["" if not math.isfinite(v) else f"{v:.{digits}f}" for v in rounded.to_numpy(dtype=float)],
        index=numbers.index,
        dtype=object,
    ).replace({"-0": "0", "-0.0": "0.0", "-0.0000": "0.0000"})


def _minutes_column(column: str) -> str | None:
    """The minutes column written beside a seconds column (``travel_time_s`` ->
    ``travel_time_min``); None for any other column."""
    return f"{column[:-2]}_min" if column.endswith("_s") else None


def _column_digits(frame: pd.DataFrame) -> dict[str, int]:
    """The decimals of every numeric column of ``frame`` (and of the minutes beside a
    seconds column), decided over the whole table as :func:`planner_table` decides them."""
    digits = {}
    for col in frame.columns:
        numbers = _number_column(frame[col])
        if numbers is not None:
            digits[str(col)] = _digits_of(str(col), numbers)
            minutes = _minutes_column(str(col))
            if minutes:
                digits[minutes] = _digits_of(minutes, numbers / 60)
    return digits


def planner_table(
    frame: pd.DataFrame,
    *,
    names: Mapping[str, Mapping[str, str]] | None = None,
    digits: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """``frame`` as the text a planner's CSV holds (:data:`CSV_NUMBER_RULE`).

    ``names`` maps a code column of :data:`NAMED_CODES` to ``{code: name}``: a name column
    is put beside the codes (``area_name`` beside ``area_id``) when the table has none.
    Mixed text columns keep their text; numbers inside them are written plainly.

    Parameters
    ----------
    frame
        Any table.
    names
        Names of codes by code column (``{"area_id": {"E01...": "Sheffield 001A"}}``);
        ``None`` adds no name column.
    digits
        Decimals of the numeric columns by output column name, decided over a whole table
        ``frame`` is a block of (:func:`write_csv` writes a long table in blocks); ``None``:
        decided over ``frame``.

    Returns
    -------
    pandas.DataFrame
        The table as text columns on the same index; a ``<name>_min`` column follows each
        ``<name>_s`` seconds column the table lacks minutes for.
    """
    fixed = digits or {}
    out: dict[str, pd.Series] = {}
    for col in frame.columns:
        series = frame[col]
        key = str(col)
        numbers = _number_column(series)
        if digits is not None:  # a block: numbers or text as over the whole table
            numbers = (numbers if numbers is not None else pd.to_numeric(series, errors="coerce")) if key in fixed else None
        if numbers is None:
            out[key] = series.map(_plain_cell) if series.dtype == object else series
        else:
            out[key] = _text_of(key, numbers, fixed.get(key))
            minutes = _minutes_column(key)
            if minutes and minutes not in frame.columns:
                out[minutes] = _text_of(minutes, numbers / 60, fixed.get(minutes))
        label = NAMED_CODES.get(key)
        if names and label and key in names and label not in frame.columns:
            out[label] = series.astype(str).map(dict(names[key])).fillna("")
    return pd.DataFrame(out, index=frame.index)


def _plain_cell(value: object) -> object:
    """A float inside a text column written without scientific notation."""
    if isinstance(value, (float, np.floating)) and not isinstance(value, bool):
        v = float(value)
        if not math.isfinite(v):
            return ""
        if v.is_integer():
            return str(int(v))
        return np.format_float_positional(v, precision=4, unique=False, fractional=False, trim="-")
    return value


def write_csv(frame: pd.DataFrame, path: str | Path, *, names: Mapping[str, Mapping[str, str]] | None = None) -> Path:
    """Write :func:`planner_table` of ``frame`` to ``path`` (UTF-8, no index, ``\\n`` lines).

    Parameters
    ----------
    frame
        The table.
    path
        The CSV file written (replaced if present).
    names
        As for :func:`planner_table`.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    p = Path(path)
    if len(frame) <= CSV_BLOCK_ROWS:
        planner_table(frame, names=names).to_csv(p, index=False, lineterminator="\n")
        return p
    # a long table (the travel times of many sites) as text one block at a time: the text
    # of 17 M rows at once took 11 GB; decimals are decided over the whole table first,
    # so the file is the same as written at once
    digits = _column_digits(frame)
    with p.open("w", encoding="utf-8", newline="") as out:
        for start in range(0, len(frame), CSV_BLOCK_ROWS):
            block = frame.iloc[start : start + CSV_BLOCK_ROWS]
            planner_table(block, names=names, digits=digits).to_csv(
                out, index=False, header=start == 0, lineterminator="\n"
            )
    return p


#: Rows of a CSV made into text at once by :func:`write_csv` (longer tables in blocks).
CSV_BLOCK_ROWS = 500_000


__all__ = [
    "CSV_NUMBER_RULE",
    "GPKG_TIMESTAMP",
    "NAMED_CODES",
    "OutputFolderError",
    "fixed_gdal_date",
    "planner_table",
    "relative_link",
    "writable_folder",
    "write_csv",
    "write_gpkg",
]
