"""Checks at the edges: files, columns, CRS, ids, numbers.

Every function raises an :mod:`apgeo._errors` error whose message names the
problem and the fix, or warns when the result is still valid.
"""

from __future__ import annotations

import io
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from apgeo._errors import (
    ApgeoValueError,
    CRSError,
    DataFileNotFoundError,
    DuplicateIdError,
    MissingColumnError,
)
from apgeo.settings import WORKING_CRS

#: England's extent in British National Grid metres (generous: includes the Scilly Isles
#: and Berwick). Points outside it are almost always swapped or mistyped coordinates.
ENGLAND_BOUNDS_BNG = (82_000.0, 5_000.0, 656_000.0, 658_000.0)
#: England's extent in degrees (lon_min, lat_min, lon_max, lat_max).
ENGLAND_BOUNDS_LONLAT = (-6.5, 49.8, 1.8, 55.9)


def require_file(path: str | Path, *, what: str, how_to_get: str) -> Path:
    """Return ``path`` as a Path, or raise naming the file and how to obtain it."""
    p = Path(path).expanduser()
    if not p.is_file():
        raise DataFileNotFoundError(f"{what} not found at {p}. {how_to_get}")
    return p


#: How many rows from the top of a file are searched for the header row (title rows,
#: a council logo line or a "Produced on ..." note often sit above it).
HEADER_SEARCH_ROWS = 10


def header_name(text: object) -> str:
    """A header cell as compared: trimmed, lower case, spaces and hyphens as underscores."""
    return " ".join(str(text).split()).lower().replace(" ", "_").replace("-", "_")


def _cp1252_byte(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a byte that is not UTF-8 is read as Windows-1252 (a ``£`` or
    ``é`` typed in an older system into a file that is otherwise UTF-8)."""
    if not isinstance(exc, UnicodeDecodeError):  # pragma: no cover - registered for decoding only
        raise exc
    bad = exc.object[exc.start : exc.end]
    return bytes(bad).decode("cp1252", errors="replace"), exc.end


def decode_text(raw: bytes, p: str | Path) -> str:
    """Text of a file as Excel or a council system saves it: UTF-8 (BOM or not), UTF-16
    with BOM ("Unicode text"), UTF-16 without BOM, or Windows-1252, and UTF-8 with some
    Windows-1252 bytes in it (each read as Windows-1252). A byte-order mark never reaches
    the first header. ``p`` names the file in messages."""
    import codecs

    if raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return raw.decode("utf-16").lstrip("\ufeff")
    if raw[:4096].count(b"\x00") > len(raw[:4096]) // 4:  # UTF-16 without a BOM
        return raw.decode("utf-16-le" if raw[1:2] == b"\x00" else "utf-16-be", errors="replace").lstrip("\ufeff")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            codecs.lookup_error("apgeo-cp1252")
        except LookupError:
            codecs.register_error("apgeo-cp1252", _cp1252_byte)
        body = raw[3:] if raw.startswith(codecs.BOM_UTF8) else raw
        text = body.decode("utf-8", errors="apgeo-cp1252")
    # a BOM read as Windows-1252 by an earlier program ("ï»¿") or left twice
    while text.startswith(("\ufeff", "\u00ef\u00bb\u00bf")):
        text = text[1:] if text.startswith("\ufeff") else text[3:]
    return text


def _delimiter(lines: list[str]) -> str:
    """Tab ("Unicode text"), semicolon (Excel where the decimal mark is a comma) or comma."""
    sample = "\n".join(lines[:HEADER_SEARCH_ROWS])
    counts = {sep: sample.count(sep) for sep in ("\t", ";", ",")}
    if counts["\t"] and counts["\t"] >= counts[","]:
        return "\t"
    if counts[";"] > counts[","]:
        return ";"
    return ","


def find_header_row(rows: Sequence[Sequence[object]], names: Iterable[str]) -> int:
    """0-based position of the header among the first rows: the first row holding the
    most of ``names`` (compared with :func:`header_name`); 0 when none holds any."""
    wanted = {header_name(n) for n in names}
    best, best_hits = 0, 0
    for i, row in enumerate(rows[:HEADER_SEARCH_ROWS]):
        hits = len(wanted & {header_name(c) for c in row if c is not None})
        if hits > best_hits:
            best, best_hits = i, hits
    return best


def _note_header(frame: pd.DataFrame, header_at: int, p: Path) -> pd.DataFrame:
    """Keep spreadsheet row numbers in later messages and say which row was the header."""
    frame.attrs["header_row"] = header_at + 1
    if header_at:
        from apgeo._log import warn

        # _row_numbers adds 2 (header = row 1): start the index so row i is row header+1+i
        frame.index = frame.index + header_at
        warn(
            f"{p.name}: the header is on row {header_at + 1} (rows 1-{header_at} above it were "
            "skipped as titles); row numbers in messages are the spreadsheet's",
            stacklevel=4,
        )
    return frame


def read_csv(path: str | Path, *, header_columns: Iterable[str] | None = None, **kwargs: Any) -> pd.DataFrame:
    """Read a CSV as Excel and council systems write it, every cell as text.

    Encodings: UTF-8 with or without BOM, UTF-16 ("Unicode text", tab-separated) and
    Windows-1252 (a ``£`` from an older system). The delimiter (comma, semicolon or tab)
    is detected. With ``header_columns`` the header row is the one of the first
    :data:`HEADER_SEARCH_ROWS` rows naming most of those columns, so title rows above
    it are skipped (with a warning naming the row used). Rows that are blank are
    dropped; the index keeps spreadsheet row numbers for messages (see :func:`row_numbers`).
    Numbers with thousands separators (``"1,234"``) are parsed by :func:`to_numeric`.
    """
    import csv

    p = Path(path)
    raw = p.read_bytes()
    if p.suffix == ".gz":
        import gzip

        raw = gzip.decompress(raw)
    text = decode_text(raw, p)
    header_at = 0
    if "sep" not in kwargs and "delimiter" not in kwargs:
        lines = text.splitlines()[: HEADER_SEARCH_ROWS + 1]
        kwargs["sep"] = _delimiter(lines)
        if header_columns is not None:
            rows = list(csv.reader(lines, delimiter=kwargs["sep"]))
            header_at = find_header_row(rows, header_columns)
            if header_at:
                kwargs["skiprows"] = header_at
    kwargs.setdefault("dtype", str)
    kwargs.setdefault("keep_default_na", False)
    kwargs.setdefault("na_values", [""])
    try:
        frame = pd.read_csv(io.StringIO(text), **kwargs)
    except pd.errors.EmptyDataError:
        raise ApgeoValueError(f"{p} is empty: it has no header row and no data") from None
    except pd.errors.ParserError as exc:
        raise ApgeoValueError(
            f"{p}: cannot read it as a table ({exc}); a title or note above the header row, or "
            "a cell with an unmatched quote, usually causes this: delete the rows above the "
            "header or save the sheet again as 'CSV UTF-8'"
        ) from None
    return _note_header(_drop_blank_rows(frame), header_at, p)


def read_excel(path: str | Path, *, sheet_name: str | int = 0, header_columns: Iterable[str] | None = None) -> pd.DataFrame:
    """Read one sheet of an ``.xlsx`` / ``.xlsm`` workbook as text, like :func:`read_csv`
    (header row found below title rows, blank rows dropped, spreadsheet row numbers)."""
    p = Path(path)
    try:
        grid = pd.read_excel(p, sheet_name=sheet_name, header=None, dtype=str, keep_default_na=False, na_values=[""])
    except ImportError:
        raise ApgeoValueError(f"{p}: reading Excel needs openpyxl (pip install openpyxl), or save the sheet as CSV") from None
    except ValueError as exc:  # e.g. no sheet of that name
        raise ApgeoValueError(f"{p}: {exc}; pass sheet_name= with one of the workbook's sheets") from None
    if grid.empty:
        raise ApgeoValueError(f"{p} is empty: sheet {sheet_name!r} has no header row and no data")
    rows = grid.head(HEADER_SEARCH_ROWS).to_numpy().tolist()
    rows = [[c for c in r if isinstance(c, str)] for r in rows]
    header_at = find_header_row(rows, header_columns) if header_columns is not None else 0
    frame = grid.iloc[header_at + 1 :].reset_index(drop=True)
    names = ["" if pd.isna(c) else str(c).strip() for c in grid.iloc[header_at]]
    keep = [i for i, n in enumerate(names) if n or frame.iloc[:, i].notna().any()]
    frame = frame.iloc[:, keep]
    frame.columns = [names[i] or f"Unnamed: {i}" for i in keep]
    return _note_header(_drop_blank_rows(frame), header_at, p)


#: Spreadsheet files :func:`read_table` reads (Excel's legacy ``.xls`` is not one of them).
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
TEXT_SUFFIXES = (".csv", ".txt", ".tsv", ".gz")


def read_table(
    path: str | Path, *, what: str, header_columns: Iterable[str] | None = None, sheet_name: str | int = 0
) -> pd.DataFrame:
    """A CSV / text export or an Excel workbook as text (see :func:`read_csv`,
    :func:`read_excel`); any other file type is an error naming the ones accepted."""
    p = Path(path)
    suffix = p.suffix.lower()
    if suffix in EXCEL_SUFFIXES:
        return read_excel(p, sheet_name=sheet_name, header_columns=header_columns)
    if suffix in TEXT_SUFFIXES:
        return read_csv(p, header_columns=header_columns)
    if suffix == ".xls":
        raise ApgeoValueError(f"{p}: the old Excel .xls format is not read; in Excel use Save As > .xlsx or CSV UTF-8")
    raise ApgeoValueError(
        f"{p}: unsupported file type {suffix or '(none)'!r}: {what} must be .csv, .txt or .xlsx"
    )


def _drop_blank_rows(frame: pd.DataFrame) -> pd.DataFrame:
    frame.columns = [str(c).strip() for c in frame.columns]
    # Excel leaves rows that look empty (",,,," or only spaces) after the data; they are
    # not providers with an id of "nan". Drop them (blank rows between data rows too).
    # Row numbers in later messages stay the spreadsheet's: the index is kept.
    if len(frame.columns) and len(frame):
        # column by column, only over the rows blank so far: most rows are settled by
        # their first cell, so a wide file is not stripped cell by cell
        blank = np.ones(len(frame), dtype=bool)
        for i in range(frame.shape[1]):
            rows = np.flatnonzero(blank)
            if not len(rows):
                break
            col = frame.iloc[rows, i]
            empty = col.isna() | col.astype("string").str.strip().eq("")
            blank[rows] = empty.to_numpy(dtype=bool, na_value=True)
        if blank.any():
            frame = frame[~blank]
    return frame


def require_columns(
    frame: pd.DataFrame, columns: Iterable[str], *, source: str = "table"
) -> None:
    """Raise :class:`MissingColumnError` naming every missing column and those found."""
    from apgeo.schema import meaning

    missing = [c for c in columns if c not in frame.columns]
    if missing:
        found = ", ".join(map(str, frame.columns)) or "(no columns)"
        raise MissingColumnError(
            f"{source} is missing column(s) {', '.join(meaning(c) for c in missing)}; "
            f"columns found: {found}"
        )


def require_rows(frame: pd.DataFrame, *, source: str = "table") -> None:
    """Raise when a table has no rows."""
    if len(frame) == 0:
        raise ApgeoValueError(f"{source} has no rows; check the file or the filter applied to it")


def to_numeric(
    series: pd.Series,
    *,
    column: str,
    source: str = "table",
    allow_missing: bool = True,
    decimal_comma: bool = False,
) -> pd.Series:
    """Parse numbers typed as text; name the rows that are not numbers.

    Accepted: thousands separators (``"1,234"``, ``"1 234"``, a non-breaking space),
    a currency sign (``"£1,200"``) and surrounding spaces. A single comma followed by
    other than three digits is a decimal comma (``"12,5"`` = 12.5); with
    ``decimal_comma`` (degrees, where ``"53,381"`` cannot be thousands) any single comma is.
    """
    if pd.api.types.is_numeric_dtype(series):
        values = series.astype(float)
    else:
        text = series.astype("string").str.replace(r"[\s\u00a0\u202f£$€]", "", regex=True)
        # a comma not followed by exactly three digits cannot group thousands: "12,5" is 12.5
        digits = r"\d+" if decimal_comma else r"\d{1,2}|\d{4,}"
        text = text.str.replace(rf"^([+-]?\d+),({digits})$", r"\1.\2", regex=True)
        text = text.str.replace(",", "", regex=False).replace({"": pd.NA})
        values = pd.to_numeric(text, errors="coerce").astype(float)
        bad = values.isna() & text.notna()
        if bad.any():
            rows = _row_numbers(series.index[bad])
            examples = ", ".join(repr(v) for v in series[bad].head(3))
            raise ApgeoValueError(
                f"{source}: column {column!r} has non-numeric values at row(s) {rows} "
                f"(e.g. {examples}); type a plain number (no words or units) or blank those cells"
            )
    if not allow_missing and values.isna().any():
        rows = _row_numbers(series.index[values.isna()])
        raise ApgeoValueError(f"{source}: column {column!r} is empty at row(s) {rows}")
    return values


def _row_numbers(index: Sequence[Any] | pd.Index, limit: int = 10) -> str:
    """Spreadsheet row numbers (header = row 1) for a default RangeIndex."""
    nums = [int(i) + 2 if isinstance(i, (int, np.integer)) else i for i in list(index)]
    text = ", ".join(str(n) for n in nums[:limit])
    return text + (f" ... ({len(nums)} in all)" if len(nums) > limit else "")


def row_numbers(index: Sequence[Any] | pd.Index, limit: int = 10) -> str:
    """Public form of the row-number formatter used in messages."""
    return _row_numbers(index, limit)


def check_unique(frame: pd.DataFrame, column: str, *, source: str = "table") -> None:
    """Raise :class:`DuplicateIdError` listing duplicated ids."""
    dup = frame[column][frame[column].duplicated(keep=False)]
    if len(dup):
        values = sorted(set(map(str, dup)))
        rows = {v: _row_numbers(dup.index[dup.astype(str) == v], limit=5) for v in values[:10]}
        raise DuplicateIdError(
            f"{source}: column {column!r} must be unique but {len(values)} value(s) repeat: "
            f"{'; '.join(f'{v} at row(s) {r}' for v, r in rows.items())}; give each row its own id"
        )


def check_crs(gdf: gpd.GeoDataFrame, *, name: str = "GeoDataFrame") -> None:
    """Raise :class:`CRSError` when ``gdf`` has no CRS."""
    if gdf.crs is None:
        raise CRSError(
            f"{name} has no CRS; set it first, e.g. gdf.set_crs('EPSG:27700') for British "
            "National Grid metres or gdf.set_crs('EPSG:4326') for longitude/latitude"
        )


def to_working_crs(
    gdf: gpd.GeoDataFrame, *, name: str = "GeoDataFrame", crs: str = WORKING_CRS
) -> gpd.GeoDataFrame:
    """Check the CRS and return a copy in the projected working CRS (metres).

    Data in degrees is reprojected and the reprojection is logged: distances and
    buffers are only meaningful in metres.
    """
    check_crs(gdf, name=name)
    if gdf.crs is not None and gdf.crs.equals(crs):
        return gdf.copy()
    from apgeo._log import logger

    if gdf.crs is not None and gdf.crs.is_geographic:
        logger.info("%s is in degrees (%s); reprojected to %s metres", name, gdf.crs, crs)
    return gdf.to_crs(crs)


def check_geometries(gdf: gpd.GeoDataFrame, *, id_column: str, name: str = "GeoDataFrame") -> None:
    """Raise when a geometry is missing or empty, naming the ids."""
    bad = gdf.geometry.isna() | gdf.geometry.is_empty
    if bad.any():
        ids = ", ".join(map(str, gdf.loc[bad, id_column].head(10)))
        raise ApgeoValueError(
            f"{name}: {int(bad.sum())} row(s) have no geometry ({id_column}: {ids}); "
            "give them coordinates or a postcode, or remove them"
        )


def check_points_in_england(
    x: pd.Series, y: pd.Series, *, ids: pd.Series, source: str, crs: str = WORKING_CRS
) -> None:
    """Detect swapped or impossible coordinates and raise naming the rows."""
    if crs == WORKING_CRS:
        xmin, ymin, xmax, ymax = ENGLAND_BOUNDS_BNG
        unit = "easting/northing"
    else:
        xmin, ymin, xmax, ymax = ENGLAND_BOUNDS_LONLAT
        unit = "longitude/latitude"
    inside = x.between(xmin, xmax) & y.between(ymin, ymax)
    swapped = ~inside & y.between(xmin, xmax) & x.between(ymin, ymax)
    if swapped.any():
        who = ", ".join(map(str, ids[swapped].head(10)))
        raise ApgeoValueError(
            f"{source}: {unit} look swapped for {int(swapped.sum())} row(s) ({who}); "
            f"the first value must be the {'easting' if crs == WORKING_CRS else 'longitude'}"
        )
    outside = ~inside & x.notna() & y.notna()
    if outside.any():
        who = ", ".join(f"{i} ({a:g}, {b:g})" for i, a, b in zip(ids[outside], x[outside], y[outside]))
        raise ApgeoValueError(
            f"{source}: {int(outside.sum())} point(s) fall outside England: {who}; "
            f"check the {unit} values and the CRS they are in"
        )


#: A provider this far (km) from the study area gets a warning; beyond the error
#: distance it is refused unless ``allow_far=True`` (a day-placement 150 km away is
#: almost always a mistyped coordinate or another authority's postcode).
FAR_WARN_KM = 50.0
FAR_ERROR_KM = 150.0


def check_near_area(
    points: gpd.GeoSeries,
    area: Any,
    *,
    ids: pd.Series,
    source: str,
    warn_km: float = FAR_WARN_KM,
    max_km: float = FAR_ERROR_KM,
    allow_far: bool = False,
    strict: bool = False,
) -> np.ndarray:
    """Distance (m) from each point to the study area; warn or raise for far ones.

    ``area`` is a polygon / point layer (GeoDataFrame or GeoSeries, any CRS) or a
    shapely geometry in EPSG:27700. Points inside the area are 0 m away. Empty points
    (not located) are NaN and never flagged.
    """
    from apgeo._log import warn

    if isinstance(area, gpd.GeoDataFrame | gpd.GeoSeries):
        check_crs(area, name="study area")
        shape = area.to_crs(WORKING_CRS).geometry.union_all() if isinstance(area, gpd.GeoDataFrame) else (
            area.to_crs(WORKING_CRS).union_all()
        )
    else:
        shape = area
    pts = points.to_crs(WORKING_CRS) if points.crs is not None else points
    empty = (pts.is_empty | pts.isna()).to_numpy()
    dist = np.where(empty, np.nan, pts.distance(shape).to_numpy(dtype=float))
    ids = ids.reset_index(drop=True)

    def listed(mask: np.ndarray) -> str:
        return ", ".join(f"{i} ({d / 1000:.0f} km)" for i, d in zip(ids[mask], dist[mask], strict=True))

    too_far = np.nan_to_num(dist, nan=0.0) > max_km * 1000
    if too_far.any() and not allow_far:
        raise ApgeoValueError(
            f"{source}: {int(too_far.sum())} provider(s) lie more than {max_km:g} km from the study area: "
            f"{listed(too_far)}; check their coordinates or postcode (swapped, another place, a typo), "
            "or pass allow_far=True if they really are that far"
        )
    far = (np.nan_to_num(dist, nan=0.0) > warn_km * 1000) & ~too_far
    if allow_far:
        far |= too_far
    if far.any():
        warn(
            f"{source}: {int(far.sum())} provider(s) lie more than {warn_km:g} km from the study area: "
            f"{listed(far)}; they are kept; check their location if that is unexpected",
            strict=strict,
            stacklevel=3,
        )
    return dist


def _check_limit(max_travel_time_s: float | None) -> float:
    if max_travel_time_s is None:
        return math.inf
    try:
        limit = float(max_travel_time_s)
    except (TypeError, ValueError):
        raise ApgeoValueError(
            f"max_travel_time_s={max_travel_time_s!r} is not a number of seconds"
        ) from None
    if math.isnan(limit) or limit <= 0:
        raise ApgeoValueError(
            f"max_travel_time_s={max_travel_time_s!r}: give a positive number of seconds, or None for no limit"
        )
    return limit
