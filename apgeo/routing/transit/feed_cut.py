"""Read a regional timetable cut to the study area and the service date, in bounded memory.

A regional GTFS (the Bus Open Data Service publishes one per English region) holds
millions of stop times, most of them far from the study area or on other days. Reading it
whole (:func:`apgeo.routing.transit.feeds.read_feed_tables`: every column, every row, as
text) costs minutes and gigabytes. ``load_feeds(..., area=study_area)``
(:func:`apgeo.routing.transit.feeds.load_feeds`, with :func:`gtfs_small_tables` and
:func:`cut_feed` from here) reads it in this order:

1. the small tables whole (``stops``, ``routes``, ``trips``, ``calendar``,
   ``calendar_dates``, ``frequencies``, ``transfers`` ...);
2. the service date (as :func:`~apgeo.routing.transit.feeds.choose_service_date`), and the
   trips of the services running that day or the day before (whose trips may run past
   midnight);
3. the stops inside the study area grown by ``margin_m`` (:class:`FeedArea`; default 5 km);
4. ``stop_times.txt`` in chunks of a million rows, five columns only, keeping the rows of
   those trips as small integer arrays (stop, sequence, times in seconds); the rows of
   other days are checked (every ``trip_id`` must be in ``trips.txt``) and dropped;
5. per trip, the calls from its first to its last stop inside the area (extended to the
   nearest timed call when the end calls are untimed, so times between timed calls are
   interpolated exactly as on the whole trip; a trip of ``frequencies.txt`` is kept whole
   because its copies are timed from its first call). A trip that leaves the area and
   comes back keeps the calls in between; a trip with fewer than two calls left, a trip of
   the day before that ends before midnight, and a trip that never enters the area are
   dropped.

What is left goes to :class:`~apgeo.routing.transit.feed.TransitFeed` as usual, so every
check it makes still applies. Journeys between places inside the area are the same as on
the whole feed unless their best route passes a stop beyond the margin: keep the margin
wider than the detours buses make. :class:`FeedCut` records how much was kept of what.

TransXChange sources and tables already in memory are read whole, then cut the same way
(step 4 on the one table).
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import IO, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from apgeo._errors import ApgeoValueError, CRSError, DataFileNotFoundError, DuplicateIdError
from apgeo._log import logger
from apgeo._validate import decode_text, require_columns, row_numbers
from apgeo.routing.transit.feed import (
    REQUIRED_FILES,
    SECONDS_PER_DAY,
    _clean,
    _parse_times,
    _services,
)

#: Default margin around the study area within which stops are kept (metres).
DEFAULT_AREA_MARGIN_M = 5_000.0
#: Rows of stop_times.txt read at a time.
CHUNK_ROWS = 1_000_000
STOP_TIME_COLUMNS = REQUIRED_FILES["stop_times.txt"]


@dataclass(frozen=True)
class FeedArea:
    """The area whose stops a feed is cut to: a geometry in British National Grid metres.

    Build it with :meth:`from_geometry` from the study area (a GeoDataFrame or GeoSeries
    with a CRS) and a margin.
    """

    geometry: shapely.Geometry
    margin_m: float

    @classmethod
    def from_geometry(
        cls, area: gpd.GeoDataFrame | gpd.GeoSeries, *, margin_m: float = DEFAULT_AREA_MARGIN_M
    ) -> FeedArea:
        """The union of ``area``'s geometries grown by ``margin_m`` metres.

        Parameters
        ----------
        area
            A GeoDataFrame or GeoSeries with a CRS (a :class:`FeedArea` is returned as is).
        margin_m
            Margin in metres (>= 0).

        Returns
        -------
        FeedArea
            The area in EPSG:27700.
        """
        if isinstance(area, FeedArea):
            return area
        if not isinstance(area, (gpd.GeoDataFrame, gpd.GeoSeries)):
            raise ApgeoValueError(
                f"area must be a GeoDataFrame or GeoSeries with a CRS (the study area), not "
                f"{type(area).__name__}"
            )
        if area.crs is None:
            raise CRSError("area has no CRS; set one, e.g. area.set_crs('EPSG:27700')")
        if not isinstance(margin_m, (int, float)) or not np.isfinite(margin_m) or margin_m < 0:
            raise ApgeoValueError(f"margin_m={margin_m!r}: give a distance in metres >= 0")
        geoms = area.geometry.to_crs("EPSG:27700")
        geoms = geoms[~(geoms.is_empty | geoms.isna())]
        if geoms.empty:
            raise ApgeoValueError("area holds no geometry; give the study area's polygons")
        # each part grown on its own, then joined: the same set as growing their union, but
        # GEOS grows a collection of many points (sites outside the boundary) slowly and in
        # much memory (1,102 points and a city: 14.5 s and 1.7 GB, against 0.05 s)
        parts = shapely.get_parts(geoms.union_all())
        grown = shapely.union_all(shapely.buffer(parts, float(margin_m), quad_segs=4))
        shapely.prepare(grown)
        return cls(grown, float(margin_m))

    def contains(self, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
        """Which points (degrees) lie inside; points without valid coordinates count as inside
        (so that the feed's own checks report them).

        Parameters
        ----------
        lon, lat
            WGS 84 coordinates in degrees.

        Returns
        -------
        numpy.ndarray
            Booleans, one per point.
        """
        from pyproj import Transformer

        lon = np.asarray(lon, dtype=float)
        lat = np.asarray(lat, dtype=float)
        valid = np.isfinite(lon) & np.isfinite(lat) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180)
        tr = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
        x, y = tr.transform(np.where(valid, lon, 0.0), np.where(valid, lat, 0.0))
        return ~valid | shapely.contains_xy(self.geometry, x, y)


@dataclass(frozen=True)
class FeedCut:
    """How much of a feed :func:`cut_feed` kept."""

    margin_m: float
    stops_in_area: int
    stops_in_feed: int
    trips_kept: int
    trips_running: int
    trips_in_feed: int
    stop_times_kept: int
    stop_times_in_feed: int

    def record(self) -> dict[str, Any]:
        """The counts as a plain dict (for ``table.attrs``).

        Returns
        -------
        dict
            Field name -> value.
        """
        return dict(self.__dict__)

    def label(self) -> str:
        """``cut to the study area + 5 km: 4,210 of 21,004 trips ...``.

        Returns
        -------
        str
            The margin, and trips, stops and stop times kept of those there were.
        """
        return (
            f"cut to the study area + {self.margin_m / 1000:g} km: {self.trips_kept:,} of "
            f"{self.trips_running:,} trips running that day, {self.stops_in_area:,} of "
            f"{self.stops_in_feed:,} stops, {self.stop_times_kept:,} of "
            f"{self.stop_times_in_feed:,} stop times"
        )


# ---- reading the files --------------------------------------------------------------------


@dataclass(frozen=True)
class StopTimesFile:
    """Where a GTFS feed's ``stop_times.txt`` is (a folder's file or a zip's member); read
    it in chunks with :meth:`chunks`."""

    path: Path
    member: str | None

    @property
    def source(self) -> str:
        """The file's name for messages."""
        return f"{self.path.name}/stop_times.txt"

    def chunks(self) -> Iterator[pd.DataFrame]:
        """The five columns apgeo reads, ``CHUNK_ROWS`` rows at a time, as strings.

        Yields
        ------
        pandas.DataFrame
            Chunks of ``stop_times.txt`` with string columns.
        """
        if self.member is None:
            with (self.path / "stop_times.txt").open("rb") as stream:
                yield from _chunks(stream, self.source)
            return
        with zipfile.ZipFile(self.path) as archive, archive.open(self.member) as stream:
            yield from _chunks(stream, self.source)


def gtfs_small_tables(source: Any) -> tuple[dict[str, pd.DataFrame], StopTimesFile] | None:
    """A GTFS zip or folder's tables except ``stop_times.txt``, and where that file is;
    ``None`` when ``source`` is not a GTFS zip or folder with both ``stops.txt`` and
    ``stop_times.txt`` (TransXChange, tables in memory ...).

    Parameters
    ----------
    source
        A path, or anything else (which gives ``None``).

    Returns
    -------
    (dict of str to pandas.DataFrame, StopTimesFile) or None
        The tables keyed by file name and the ``stop_times.txt`` location, or ``None``.
    """
    if not isinstance(source, (str, Path)):
        return None
    p = Path(source).expanduser()
    if p.is_dir():
        if not (p / "stops.txt").is_file() or not (p / "stop_times.txt").is_file():
            return None
        small = {f.name: f.read_bytes() for f in sorted(p.glob("*.txt")) if f.name != "stop_times.txt"}
        where = StopTimesFile(p, None)
    elif p.is_file() and zipfile.is_zipfile(p):
        with zipfile.ZipFile(p) as archive:
            members = {Path(m).name: m for m in archive.namelist() if not m.endswith("/")}
            if "stops.txt" not in members or "stop_times.txt" not in members:
                return None
            small = {
                n: archive.read(m)
                for n, m in members.items()
                if n.lower().endswith(".txt") and n != "stop_times.txt"
            }
        where = StopTimesFile(p, members["stop_times.txt"])
    else:
        return None
    return {n: _small_csv(b, f"{p.name}/{n}") for n, b in small.items()}, where


def _small_csv(raw: bytes, source: str) -> pd.DataFrame:
    text = decode_text(raw, source)
    if not text.strip():
        return pd.DataFrame()
    frame = pd.read_csv(
        io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""], skipinitialspace=True
    )
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


def _chunks(stream: IO[bytes], source: str) -> Iterator[pd.DataFrame]:
    """``stop_times.txt`` in chunks: the five columns apgeo reads, as stripped strings."""
    head = stream.read(4096)
    if head[:2] in (b"\xff\xfe", b"\xfe\xff") or head.count(b"\x00") > len(head) // 4:
        # UTF-16 (rare): decode it whole, as the plain reader does
        text = decode_text(head + stream.read(), source)
        yield from _frame_chunks(io.StringIO(text), source, None)
        return
    rest = io.BufferedReader(_Prefixed(head, stream), buffer_size=1 << 20)
    try:
        yield from _frame_chunks(rest, source, "utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ApgeoValueError(
            f"{source} is not UTF-8 ({exc}); save it as UTF-8, or read the feed without an "
            "area cut"
        ) from None


class _Prefixed(io.RawIOBase):
    """A binary stream that first returns ``head`` and then the rest of ``stream``."""

    def __init__(self, head: bytes, stream: IO[bytes]) -> None:
        self._head = head
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._head:
            n = min(len(view), len(self._head))
            view[:n] = self._head[:n]
            self._head = self._head[n:]
            return n
        data = self._stream.read(len(view))
        view[: len(data)] = data
        return len(data)


def _frame_chunks(handle: Any, source: str, encoding: str | None) -> Iterator[pd.DataFrame]:
    wanted = set(STOP_TIME_COLUMNS)
    reader = pd.read_csv(
        handle,
        usecols=lambda c: str(c).strip() in wanted,
        dtype="category",  # each chunk's distinct values are parsed once, not every row
        keep_default_na=False,
        na_values=[""],
        skipinitialspace=True,
        chunksize=CHUNK_ROWS,
        encoding=encoding,
    )
    first = True
    try:
        for chunk in reader:
            chunk.columns = [str(c).strip() for c in chunk.columns]
            if first:
                require_columns(chunk, STOP_TIME_COLUMNS, source="GTFS stop_times.txt")
                first = False
            yield chunk
    except pd.errors.EmptyDataError:
        raise ApgeoValueError(f"{source} is empty: it has no header row") from None
    if first:
        raise ApgeoValueError(f"{source} has no stop times")


# ---- parsing ------------------------------------------------------------------------------


def _factors(column: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Codes (-1 for blank) and the distinct values, stripped, of a column."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy(np.int64)
        values = column.cat.categories
    else:
        codes, values = pd.factorize(column)
    text = pd.Index(values.astype(str)).str.strip()
    blank = np.flatnonzero(text == "")
    if len(blank):
        codes = np.where(np.isin(codes, blank), -1, codes)
    return codes, text


def _seconds(values: pd.Series, rows: np.ndarray, *, source: str, column: str) -> np.ndarray:
    """GTFS times -> whole seconds (``-1`` for blank); errors name the ``rows`` (0-based
    data rows of the file)."""
    codes, distinct = _factors(values)
    named = pd.Series(np.asarray(distinct, dtype=object))
    parsed = _parse_times(named, source=source, column=column, coerce=True)
    bad = np.isnan(parsed)
    if bad.any():
        wrong = np.flatnonzero((codes >= 0) & bad[np.maximum(codes, 0)])
        if len(wrong):  # report the file's rows
            _parse_times(
                pd.Series(distinct[codes[wrong]], index=rows[wrong]), source=source, column=column
            )
    out = np.where(np.isnan(parsed), -1, parsed).astype(np.int64)
    return np.where(codes >= 0, out[np.maximum(codes, 0)], -1)


def _clock(seconds: np.ndarray) -> np.ndarray:
    """Whole seconds -> ``HH:MM:SS`` strings (``None`` for -1)."""
    uniq, inverse = np.unique(seconds, return_inverse=True)
    text = [None if s < 0 else f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in uniq.tolist()]
    return np.array(text, dtype=object)[inverse.ravel()]


# ---- the cut ------------------------------------------------------------------------------


def _running_trips(
    tables: Mapping[str, pd.DataFrame], day: date, name: str
) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """trips.txt (cleaned) and two flags per trip: its service runs on ``day`` or the day
    before; it runs on ``day``."""
    present = {f: _clean(tables[f]) for f in ("calendar.txt", "calendar_dates.txt") if f in tables}
    if not present:
        raise DataFileNotFoundError(
            f"GTFS feed {name!r} lacks calendar.txt (or calendar_dates.txt); check the path"
        )
    src = {f: f"GTFS feed {name!r}: {f}" for f in ("calendar.txt", "calendar_dates.txt")}
    _, _, today, yesterday = _services(present, day, src, name)
    trips = _clean(tables["trips.txt"])
    require_columns(trips, REQUIRED_FILES["trips.txt"], source="GTFS trips.txt")
    service = trips["service_id"]
    return trips, service.isin(today | yesterday).to_numpy(bool), service.isin(today).to_numpy(bool)


def cut_stop_times(
    chunks: Iterable[pd.DataFrame],
    *,
    trips: pd.DataFrame,
    running: np.ndarray,
    today: np.ndarray,
    stop_ids: pd.Index,
    inside: np.ndarray,
    whole_trips: set[str],
    source: str,
) -> tuple[pd.DataFrame, int]:
    """The calls of running trips inside the area (see the module notes), as GTFS strings,
    and the number of rows read.

    ``running`` flags the rows of ``trips`` whose service runs on the day or the day before,
    ``today`` those running on the day; ``inside`` the stops of ``stop_ids`` in the area;
    ``whole_trips`` the trip ids kept whole (templates of ``frequencies.txt``).

    Parameters
    ----------
    chunks
        ``stop_times.txt`` in chunks, string columns.
    trips
        The feed's ``trips.txt``.
    running, today
        Booleans over ``trips``.
    stop_ids
        The feed's stop ids.
    inside
        Booleans over ``stop_ids``.
    whole_trips
        Trip ids kept whole.
    source
        The file's name, for messages.

    Returns
    -------
    stop_times : pandas.DataFrame
        The calls kept.
    rows_read : int
        Rows of ``stop_times.txt`` read.
    """
    all_trips = pd.Index(trips["trip_id"])
    run_trips = pd.Index(trips.loc[running, "trip_id"])
    pieces: list[tuple[np.ndarray, ...]] = []
    n_read = 0
    for chunk in chunks:
        first_row = n_read
        n_read += len(chunk)
        trip_code, trip_values = _factors(chunk["trip_id"])
        if (trip_code < 0).any():
            raise ApgeoValueError(
                f"{source}: column 'trip_id' is empty at row(s) "
                f"{row_numbers(list(np.flatnonzero(trip_code < 0) + first_row))}; every row "
                "needs an id"
            )
        value_run = run_trips.get_indexer(trip_values)
        value_unknown = (value_run < 0) & (all_trips.get_indexer(trip_values) < 0)
        if value_unknown.any():
            rows = np.flatnonzero(value_unknown[trip_code])
            raise ApgeoValueError(
                f"{source}: trip_id(s) {sorted(set(trip_values[value_unknown].astype(str)))[:10]} "
                f"at row(s) {row_numbers(list(rows + first_row))} are not in trips.txt"
            )
        code = value_run[trip_code]
        keep = np.flatnonzero(code >= 0)
        if len(keep) == 0:
            continue
        part = chunk.iloc[keep]
        stop_code_v, stop_values = _factors(part["stop_id"])
        stop_map = stop_ids.get_indexer(stop_values)
        stop_code = np.where(stop_code_v >= 0, stop_map[stop_code_v], -1)
        if (stop_code < 0).any():
            bad = np.flatnonzero(stop_code < 0)
            names = sorted({str(v) for v in part["stop_id"].iloc[bad].astype(object)})
            raise ApgeoValueError(
                f"{source}: stop_id(s) {names[:10]} at row(s) "
                f"{row_numbers(list(keep[bad] + first_row))} are not in stops.txt"
            )
        seq_code, seq_values = _factors(part["stop_sequence"])
        seq_v = pd.to_numeric(pd.Series(seq_values), errors="coerce").to_numpy(float)
        seq_num = np.where(seq_code >= 0, seq_v[seq_code], np.nan)
        bad_seq = np.isnan(seq_num) | (seq_num != np.round(seq_num))
        if bad_seq.any():
            held = part["stop_sequence"].iloc[np.flatnonzero(bad_seq)[:3]].astype(object)
            raise ApgeoValueError(
                f"{source}: column 'stop_sequence' needs whole numbers; rows "
                f"{row_numbers(list(keep[bad_seq] + first_row))} hold "
                f"{', '.join(repr(v) for v in held)}"
            )
        pieces.append(
            (
                code[keep].astype(np.int64),
                stop_code.astype(np.int64),
                seq_num.astype(np.int64),
                _seconds(part["arrival_time"], keep + first_row, source=source, column="arrival_time"),
                _seconds(
                    part["departure_time"], keep + first_row, source=source, column="departure_time"
                ),
                keep + first_row,
            )
        )
    if not pieces:
        return pd.DataFrame(columns=list(STOP_TIME_COLUMNS)), n_read
    trip, stop, seq, arr, dep, row = (np.concatenate(c) for c in zip(*pieces, strict=True))
    order = np.lexsort((seq, trip))
    trip, stop, seq, arr, dep, row = (a[order] for a in (trip, stop, seq, arr, dep, row))
    same = (trip[1:] == trip[:-1]) & (seq[1:] == seq[:-1])
    if same.any():
        rows = np.sort(np.concatenate([row[1:][same], row[:-1][same]]))
        raise DuplicateIdError(
            f"{source}: (trip_id, stop_sequence) must be unique but {int(same.sum())} pair(s) "
            f"repeat (rows {row_numbers(list(rows))}); give each call of a trip its own stop_sequence"
        )
    n = len(trip)
    pos = np.arange(n)
    first = np.r_[True, trip[1:] != trip[:-1]]
    start = np.maximum.accumulate(np.where(first, pos, 0))
    last = np.r_[trip[1:] != trip[:-1], True]
    end = np.minimum.accumulate(np.where(last, pos, n)[::-1])[::-1]
    whole = run_trips.isin(list(whole_trips))[trip] if whole_trips else np.zeros(n, dtype=bool)
    timed = (arr >= 0) | (dep >= 0)
    prev_timed = np.maximum(np.maximum.accumulate(np.where(timed, pos, -1)), start)
    next_timed = np.minimum(np.minimum.accumulate(np.where(timed, pos, n)[::-1])[::-1], end)
    in_area = inside[stop]
    # per trip: the first and last call inside the area, widened to timed calls
    lo = np.where(in_area, prev_timed, n)
    hi = np.where(in_area, next_timed, -1)
    seg_lo = np.minimum.reduceat(lo, np.flatnonzero(first))
    seg_hi = np.maximum.reduceat(hi, np.flatnonzero(first))
    trip_no = np.cumsum(first) - 1
    lo_row, hi_row = seg_lo[trip_no], seg_hi[trip_no]
    lo_row = np.where(whole & (hi_row >= 0), start, lo_row)
    hi_row = np.where(whole & (hi_row >= 0), end, hi_row)
    # a trip only of the day before matters only if it runs past midnight
    latest = np.maximum.reduceat(np.maximum(arr, dep), np.flatnonzero(first))[trip_no]
    useful = today[running][trip] | (latest >= SECONDS_PER_DAY)
    keep = useful & (pos >= lo_row) & (pos <= hi_row) & (hi_row - lo_row >= 1)
    out = pd.DataFrame(
        {
            "trip_id": run_trips.to_numpy(object)[trip[keep]],
            "arrival_time": _clock(arr[keep]),
            "departure_time": _clock(dep[keep]),
            "stop_id": stop_ids.to_numpy(object)[stop[keep]],
            "stop_sequence": seq[keep].astype(str),
        }
    )
    return out, n_read


def cut_feed(
    tables: Mapping[str, pd.DataFrame],
    stop_times: Iterable[pd.DataFrame],
    *,
    service_date: date,
    area: FeedArea,
    name: str,
) -> tuple[dict[str, pd.DataFrame], FeedCut]:
    """GTFS ``tables`` with ``stop_times.txt`` (given apart, e.g. in chunks) cut to ``area``
    and to the trips that matter on ``service_date`` (see the module notes); also what was
    kept.

    Parameters
    ----------
    tables
        The feed's GTFS tables other than ``stop_times.txt``, keyed by file name.
    stop_times
        ``stop_times.txt`` in one or more chunks.
    service_date
        The day the feed is read for.
    area
        The study area.
    name
        The feed's name, for messages.

    Returns
    -------
    tables : dict of str to pandas.DataFrame
        The cut tables, ``stop_times.txt`` included.
    cut : FeedCut
        What was kept of what.

    Raises
    ------
    ApgeoValueError
        No stop of the feed lies in the area, or no trip running that day calls at two;
        ``stop_times.txt`` names a trip not in ``trips.txt`` or a stop not in ``stops.txt``
        (rows named); bad times or sequences (rows named).
    """
    missing = [f for f in REQUIRED_FILES if f not in tables and f != "stop_times.txt"]
    if missing:
        raise DataFileNotFoundError(
            f"GTFS feed {name!r} lacks required file(s) {', '.join(missing)}; found: "
            f"{', '.join(sorted(tables)) or '(none)'}"
        )
    label = f"GTFS feed {name!r}: stop_times.txt"
    trips, running, today = _running_trips(tables, service_date, name)
    stops = _clean(tables["stops.txt"])
    require_columns(stops, REQUIRED_FILES["stops.txt"], source="GTFS stops.txt")
    lon = pd.to_numeric(stops["stop_lon"], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(stops["stop_lat"], errors="coerce").to_numpy(float)
    inside = area.contains(lon, lat)
    located = np.isfinite(lon) & np.isfinite(lat)
    if not (inside & located).any():
        span = (
            f" (longitude {np.nanmin(lon):.3f} to {np.nanmax(lon):.3f}, latitude "
            f"{np.nanmin(lat):.3f} to {np.nanmax(lat):.3f})" if located.any() else ""
        )  # fmt: skip
        raise ApgeoValueError(
            f"feed {name!r}: none of its {len(stops):,} stops{span} lies within the study area "
            f"+ {area.margin_m:g} m; give a feed that covers the study area, or check the "
            "area's CRS"
        )
    freq = tables.get("frequencies.txt")
    freq_ids = None if freq is None or "trip_id" not in freq else _clean(freq)["trip_id"]
    cut, n_read = cut_stop_times(
        stop_times,
        trips=trips,
        running=running,
        today=today,
        stop_ids=pd.Index(stops["stop_id"]),
        inside=inside,
        whole_trips=set() if freq_ids is None else set(freq_ids),
        source=label,
    )
    kept_trips = pd.unique(cut["trip_id"].to_numpy(dtype=object))
    if len(kept_trips) == 0:
        raise ApgeoValueError(
            f"feed {name!r}: no trip running on {service_date.isoformat()} calls at two stops "
            f"within the study area + {area.margin_m:g} m; check the feed covers the study area"
        )
    out = dict(tables)
    keep = trips["trip_id"].isin(kept_trips).to_numpy()
    out["trips.txt"] = tables["trips.txt"][keep].reset_index(drop=True)
    out["stop_times.txt"] = cut
    if freq is not None and freq_ids is not None:
        out["frequencies.txt"] = freq[freq_ids.isin(kept_trips).to_numpy()].reset_index(drop=True)
    record = FeedCut(
        margin_m=area.margin_m,
        stops_in_area=int((inside & located).sum()),
        stops_in_feed=len(stops),
        trips_kept=len(kept_trips),
        trips_running=int(today.sum()),
        trips_in_feed=len(trips),
        stop_times_kept=len(cut),
        stop_times_in_feed=n_read,
    )
    logger.info("feed %r read for %s, %s", name, service_date, record.label())
    return out, record


__all__ = [
    "DEFAULT_AREA_MARGIN_M",
    "FeedArea",
    "FeedCut",
    "StopTimesFile",
    "cut_feed",
    "cut_stop_times",
    "gtfs_small_tables",
]
