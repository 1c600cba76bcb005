"""Checks at the edges: files, columns, CRS, ids, numbers.

Every function raises an :mod:`apgeo._errors` error whose message names the
problem and the fix, or warns when the result is still valid.
"""

from __future__ import annotations

import io
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


def read_csv(path: str | Path, **kwargs: Any) -> pd.DataFrame:
    """Read a CSV that may come from Excel: UTF-8 with or without BOM, or cp1252.

    Numbers with thousands separators (``"1,234"``) are parsed when ``thousands=","``
    is passed; :func:`to_numeric` handles them column by column otherwise.
    """
    p = Path(path)
    raw = p.read_bytes()
    if p.suffix == ".gz":
        import gzip

        raw = gzip.decompress(raw)
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes almost anything
        raise ApgeoValueError(f"{p}: cannot decode as UTF-8 or Windows-1252; save it as UTF-8 CSV")
    kwargs.setdefault("dtype", str)
    kwargs.setdefault("keep_default_na", False)
    kwargs.setdefault("na_values", [""])
    try:
        frame = pd.read_csv(io.StringIO(text), **kwargs)
    except pd.errors.EmptyDataError:
        raise ApgeoValueError(f"{p} is empty: it has no header row and no data") from None
    frame.columns = [str(c).strip() for c in frame.columns]
    # Excel leaves rows that look empty (",,,," or only spaces) after the data; they are
    # not providers with an id of "nan". Drop them (blank rows between data rows too).
    # Row numbers in later messages stay the spreadsheet's: the index is kept.
    if len(frame.columns) and len(frame):
        blank = frame.apply(lambda col: col.isna() | col.astype("string").str.strip().eq("")).all(axis=1)
        if blank.any():
            frame = frame[~blank.to_numpy()]
    return frame


def require_columns(
    frame: pd.DataFrame, columns: Iterable[str], *, source: str = "table"
) -> None:
    """Raise :class:`MissingColumnError` naming every missing column and those found."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        found = ", ".join(map(str, frame.columns)) or "(no columns)"
        raise MissingColumnError(
            f"{source} is missing column(s) {', '.join(repr(c) for c in missing)}; "
            f"columns found: {found}"
        )


def require_rows(frame: pd.DataFrame, *, source: str = "table") -> None:
    """Raise when a table has no rows."""
    if len(frame) == 0:
        raise ApgeoValueError(f"{source} has no rows; check the file or the filter applied to it")


def to_numeric(
    series: pd.Series, *, column: str, source: str = "table", allow_missing: bool = True
) -> pd.Series:
    """Parse numbers, accepting thousands separators; name the rows that are not numbers."""
    if pd.api.types.is_numeric_dtype(series):
        values = series.astype(float)
    else:
        text = series.astype("string").str.strip().str.replace(",", "", regex=False)
        text = text.replace({"": pd.NA})
        values = pd.to_numeric(text, errors="coerce").astype(float)
        bad = values.isna() & text.notna()
        if bad.any():
            rows = _row_numbers(series.index[bad])
            examples = ", ".join(repr(v) for v in series[bad].head(3))
            raise ApgeoValueError(
                f"{source}: column {column!r} has non-numeric values at row(s) {rows} "
                f"(e.g. {examples}); fix or blank those cells"
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
        raise DuplicateIdError(
            f"{source}: column {column!r} must be unique but {len(values)} value(s) repeat: "
            f"{', '.join(values[:10])}; give each row its own id"
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
