"""Public-transport (bus, tram, train) travel times from a GTFS feed, walking in between.

A stage-3 engine beside :mod:`apgeo.routing.travel_times`: it produces the same long table
``origin_id, destination_id, travel_time_s``, so coverage, cold spots and recommendations
take it unchanged (``table.attrs["mode"] == "transit"``).

Three steps:

1. :meth:`TransitFeed.from_path` reads a GTFS feed (zip or folder), checks it (required
   files and columns, unique ids, references, times, dates) and keeps the trips that run
   on one explicit ``service_date``. There is no "today" default: a travel time means
   nothing without the date and time it was measured for (FIELD-NOTES 8; r5py defaults to
   "now"). Times past 24:00 (``25:10:00``) are seconds after midnight of the service day
   (``90600``); trips of the previous day's services that run past midnight are kept,
   shifted back one day (``25:10:00`` on Friday is ``01:10`` on Saturday).
2. :class:`TransitEngine` snaps the stops to a walk network
   (:class:`~apgeo.routing.travel_times.TravelTimeEngine`), groups trips into *patterns* (trips
   that call at the same stops in the same order, without overtaking) and builds walking
   transfers between stops within ``transfer_radius_m`` of each other.
3. :func:`transit_travel_time_table` runs the search for every origin and every departure
   time of a window (every ``step_min`` minutes, half-open like r5: 07:00-09:00 in steps of
   1 minute is 07:00, 07:01 ... 08:59) and reports a percentile (default the median) of the
   travel times over the window, as r5py does.

The search is RAPTOR (Delling, Pajor & Werneck 2012): round ``k`` finds the earliest arrival
at every stop with at most ``k`` rides. It runs on many queries (origin x departure time) at
once: labels are a ``(n_stops, n_queries)`` array, and scanning a pattern is a loop over its
stops in which each step is a few numpy operations over all queries (a binary search for the
first catchable trip, a gather of arrival times). A journey is::

    walk to a stop (<= max_walk_m) + wait + ride + [walk transfer + wait + ride] ...
    + walk from the last stop (<= max_walk_m) to the destination

and walking all the way is also allowed (on the walk network, no distance cap); the faster
wins. Travel time = arrival - departure time from the origin, so the first wait counts.

Conventions and simplifications, all stated in ``table.attrs``:

* transfers at the same stop need no minimum time (arrive 07:05, board 07:05), as in GTFS
  without ``transfers.txt`` (which is not read);
* walking transfers join stops within ``transfer_radius_m`` in a straight line; their time
  comes from the walk network (``transfer_times="network"``) or, as a fallback,
  ``straight-line distance x 1.3`` at ``walk_speed_kph`` (``"straight_line"``); one walk
  between two rides, as in r5;
* percentiles are nearest-rank (the smallest time that at least ``p`` % of departures
  achieve; an unreachable departure counts as infinitely slow), so the median of 120
  departures is the 60th fastest;
* ``frequencies.txt`` is expanded into trips; blank stop times between timed stops are
  interpolated by stop order.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from apgeo._errors import ApgeoValueError, DataFileNotFoundError, DuplicateIdError
from apgeo._log import logger
from apgeo._validate import check_unique, decode_text, require_columns, row_numbers

TransferTimes = Literal["network", "straight_line"]

#: Files every feed must have, with the columns apgeo reads from them.
REQUIRED_FILES: dict[str, tuple[str, ...]] = {
    "stops.txt": ("stop_id", "stop_lat", "stop_lon"),
    "routes.txt": ("route_id", "route_type"),
    "trips.txt": ("route_id", "service_id", "trip_id"),
    "stop_times.txt": ("trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"),
}
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
CALENDAR_COLUMNS: tuple[str, ...] = ("service_id", *WEEKDAYS, "start_date", "end_date")
CALENDAR_DATES_COLUMNS: tuple[str, ...] = ("service_id", "date", "exception_type")
FREQUENCIES_COLUMNS: tuple[str, ...] = ("trip_id", "start_time", "end_time", "headway_secs")
OPTIONAL_FILES = (
    "agency.txt",
    "calendar.txt",
    "calendar_dates.txt",
    "feed_info.txt",
    "frequencies.txt",
)

#: Walking speed used for access legs and straight-line transfers (DfT and r5 use 4.8 km/h).
WALK_SPEED_KPH = 4.8
#: Circuity of streets relative to the straight line, for straight-line transfer times.
STRAIGHT_LINE_DETOUR = 1.3
SECONDS_PER_DAY = 86_400
#: Default limit on a journey (r5py's default ``max_time`` is 2 hours).
DEFAULT_MAX_TRAVEL_TIME_S = 7_200.0
#: Label cells (stops x queries) per batch: bounds memory at about 4 arrays of 8 bytes each.
BATCH_CELLS = 6_000_000

_TIME_RE = re.compile(r"^\d{1,3}:[0-5]\d:[0-5]\d$")


# ---- reading ------------------------------------------------------------------------------


def _decode_csv(raw: bytes, source: str) -> pd.DataFrame:
    """Parse GTFS CSV bytes: strings only (encodings as :func:`apgeo._validate.decode_text`)."""
    text = decode_text(raw, source)
    if not text.strip():
        raise ApgeoValueError(f"{source} is empty: it has no header row")
    frame = pd.read_csv(
        io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""], skipinitialspace=True
    )
    frame.columns = [str(c).strip() for c in frame.columns]
    for column in frame.columns:
        frame[column] = frame[column].str.strip()
    return frame


def _read_tables(path: str | Path) -> tuple[dict[str, pd.DataFrame], str]:
    """Read the GTFS files apgeo uses from a zip or a folder; return them and a feed name."""
    p = Path(path).expanduser()
    if not p.exists():
        raise DataFileNotFoundError(
            f"GTFS feed not found at {p}; pass the path of the feed's .zip file or of the folder "
            "holding stops.txt, trips.txt ..."
        )
    wanted = [*REQUIRED_FILES, *OPTIONAL_FILES]
    tables: dict[str, pd.DataFrame] = {}
    if p.is_dir():
        for name in wanted:
            if (p / name).is_file():
                tables[name] = _decode_csv((p / name).read_bytes(), f"{p.name}/{name}")
    elif zipfile.is_zipfile(p):
        with zipfile.ZipFile(p) as archive:
            members = {Path(m).name: m for m in archive.namelist() if not m.endswith("/")}
            for name in wanted:
                if name in members:
                    tables[name] = _decode_csv(archive.read(members[name]), f"{p.name}/{name}")
    else:
        raise ApgeoValueError(f"{p} is neither a folder nor a zip file; give a GTFS feed")
    return tables, p.stem if p.is_file() else p.name


# ---- parsing helpers ----------------------------------------------------------------------


def parse_gtfs_time(value: str) -> int:
    """Seconds after midnight (noon minus 12 h) of ``"HH:MM:SS"``; hours may pass 24.

    Parameters
    ----------
    value
        A GTFS time.

    Returns
    -------
    int
        Seconds after midnight.

    Examples
    --------
    >>> parse_gtfs_time("25:10:00")
    90600
    """
    text = str(value).strip()
    if not _TIME_RE.match(text):
        raise ApgeoValueError(
            f"{value!r} is not a GTFS time; write HH:MM:SS, e.g. 07:05:00 or 25:10:00"
        )
    h, m, s = (int(x) for x in text.split(":"))
    return h * 3600 + m * 60 + s


def _clean(frame: pd.DataFrame) -> pd.DataFrame:
    """Strings without surrounding blanks, missing for empty cells, rows numbered 0..n-1."""
    columns: dict[str, pd.Series] = {}
    for column in frame.columns:
        values = frame[column].reset_index(drop=True)
        missing = values.isna()
        text = values.astype(str).str.strip()
        columns[str(column).strip()] = text.mask(missing | (text == ""))
    return pd.DataFrame(columns, index=pd.RangeIndex(len(frame)))


def _parse_times(
    series: pd.Series, *, source: str, column: str, coerce: bool = False
) -> np.ndarray:
    """Vectorised GTFS times -> float seconds, NaN for blanks; errors name the rows.

    ``HH:MM:SS`` (eight characters, nearly every value) is read straight from the characters'
    code points; other lengths (``7:05:00``, ``105:00:00``, stray blanks) by a regular
    expression. ``coerce``: NaN for a value that is not a time, instead of an error.
    """
    out = np.full(len(series), np.nan)
    values = series.to_numpy(dtype=object)
    blank = pd.isna(values) | (values == "")
    filled = np.flatnonzero(~blank)
    if len(filled) == 0:
        return out
    text = np.asarray(values[filled].astype(str), dtype="U")
    done = np.zeros(len(filled), dtype=bool)
    eight = np.flatnonzero(np.char.str_len(text) == 8)
    if len(eight):
        code = np.ascontiguousarray(text[eight].astype("U8")).view(np.uint32).reshape(-1, 8)
        d = code.astype(np.int64) - 48
        digits = d[:, [0, 1, 3, 4, 6, 7]]
        colon = ord(":") - 48
        ok = (
            (d[:, 2] == colon) & (d[:, 5] == colon) & ((digits >= 0) & (digits <= 9)).all(axis=1)
            & (d[:, 3] <= 5) & (d[:, 6] <= 5)
        )  # fmt: skip
        g = d[ok]
        out[filled[eight[ok]]] = (
            (g[:, 0] * 10 + g[:, 1]) * 3600 + (g[:, 3] * 10 + g[:, 4]) * 60 + g[:, 6] * 10 + g[:, 7]
        )
        done[eight[ok]] = True
    rest = np.flatnonzero(~done)
    if len(rest):
        other = pd.Series(text[rest], dtype="string").str.strip()
        parts = other.str.extract(r"^(\d{1,3}):([0-5]\d):([0-5]\d)$")
        bad = parts[0].isna().to_numpy(bool)
        if bad.any() and not coerce:
            examples = ", ".join(repr(v) for v in other[bad].head(3))
            raise ApgeoValueError(
                f"{source}: column {column!r} has values that are not HH:MM:SS times at row(s) "
                f"{row_numbers(series.index[filled[rest[bad]]])} (e.g. {examples}); times past "
                "midnight are written 25:10:00"
            )
        good = ~bad
        nums = parts[good].astype(np.int64).to_numpy()
        out[filled[rest[good]]] = nums[:, 0] * 3600 + nums[:, 1] * 60 + nums[:, 2]
    return out


def _parse_dates(series: pd.Series, *, source: str, column: str) -> pd.Series:
    parsed = pd.to_datetime(series, format="%Y%m%d", errors="coerce")
    bad = parsed.isna()
    if bad.any():
        examples = ", ".join(repr(v) for v in series[bad].head(3))
        raise ApgeoValueError(
            f"{source}: column {column!r} has values that are not YYYYMMDD dates at row(s) "
            f"{row_numbers(series.index[bad])} (e.g. {examples})"
        )
    return parsed.dt.date


def _parse_ints(series: pd.Series, *, source: str, column: str) -> np.ndarray:
    values = pd.to_numeric(series, errors="coerce")
    bad = values.isna() | (values != values.round())
    if bad.any():
        examples = ", ".join(repr(v) for v in series[bad].head(3))
        raise ApgeoValueError(
            f"{source}: column {column!r} needs whole numbers; rows {row_numbers(series.index[bad])} "
            f"hold {examples}"
        )
    return values.to_numpy().astype(np.int64)


def _check_service_date(service_date: object) -> date:
    if isinstance(service_date, datetime):
        return service_date.date()
    if isinstance(service_date, date):
        return service_date
    if isinstance(service_date, str):
        try:
            return date.fromisoformat(service_date.strip())
        except ValueError:
            pass
    raise ApgeoValueError(
        f"service_date={service_date!r}: give the day the timetable is read for as a date, e.g. "
        "service_date=date(2025, 3, 4) (a term-time weekday); apgeo never assumes 'today'"
    )


def _fmt_window_time(seconds: float) -> str:
    s = round(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}" + (f":{s % 60:02d}" if s % 60 else "")


def parse_clock(value: str | float | int, *, name: str = "time") -> float:
    """``"07:00"``, ``"07:00:30"`` or ``"25:10"`` (or seconds) -> seconds after midnight.

    Parameters
    ----------
    value
        A clock time, or a number of seconds.
    name
        What the value is, for the error message.

    Returns
    -------
    float
        Seconds after midnight.
    """
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if math.isfinite(value) and value >= 0:
            return float(value)
    elif isinstance(value, str):
        parts = value.strip().split(":")
        if 2 <= len(parts) <= 3 and all(p.isdigit() for p in parts):
            h, m = int(parts[0]), int(parts[1])
            s = int(parts[2]) if len(parts) == 3 else 0
            if m < 60 and s < 60:
                return float(h * 3600 + m * 60 + s)
    raise ApgeoValueError(f"{name}={value!r}: write a clock time 'HH:MM', e.g. '07:00'")


# ---- the feed -----------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TransitFeed:
    """The trips of a GTFS feed that run on one service date, checked and ready to search.

    Build it with :meth:`from_path` (zip or folder) or :meth:`from_frames`.

    Attributes
    ----------
    name
        Feed name (``feed_info.txt`` publisher and version when present, else the file name).
    service_date
        The day the timetable is read for.
    start_date, end_date
        First and last day the feed's calendar covers (``calendar.txt`` and
        ``calendar_dates.txt`` together).
    stops
        ``stop_id``, ``stop_name``, ``stop_lat``, ``stop_lon`` of the stops served that day.
    trips
        ``trip_key`` (0..n-1), ``trip_id``, ``route_id``, ``service_id``, ``route_type``,
        ``day_offset`` (0, or -1 for the previous day's trips running past midnight).
    stop_times
        ``trip_key``, ``stop_id``, ``stop_sequence``, ``arrival_s``, ``departure_s``
        (seconds after midnight of ``service_date``), sorted by trip then sequence.
    """

    name: str
    service_date: date
    start_date: date
    end_date: date
    stops: pd.DataFrame
    trips: pd.DataFrame
    stop_times: pd.DataFrame

    @classmethod
    def from_path(
        cls, path: str | Path, *, service_date: date | str, name: str | None = None
    ) -> TransitFeed:
        """Read and check a GTFS feed (``.zip`` or folder) for one ``service_date``.

        Parameters
        ----------
        path
            The feed.
        service_date
            The day to read the timetable for, e.g. ``date(2025, 3, 4)``; required.
        name
            Feed name for the record; default from ``feed_info.txt`` or the file name.

        Raises
        ------
        DataFileNotFoundError
            No feed at ``path``, or a required file is missing (named).
        MissingColumnError
            A required column is missing (file and column named).
        DuplicateIdError
            Repeated ``stop_id``, ``route_id``, ``trip_id`` or ``(trip_id, stop_sequence)``.
        ApgeoValueError
            Bad times, dates or coordinates (rows named), references to unknown stops or
            trips, or no service on ``service_date`` (the feed's date range is named).

        Returns
        -------
        TransitFeed
            The trips running on ``service_date``, their stop times and stops.
        """
        tables, stem = _read_tables(path)
        name = name or _feed_info_name(tables) or stem
        return cls.from_frames(tables, service_date=service_date, name=name)

    @classmethod
    def from_frames(
        cls,
        tables: Mapping[str, pd.DataFrame],
        *,
        service_date: date | str,
        name: str | None = None,
    ) -> TransitFeed:
        """Build a feed from GTFS tables keyed by file name (``"stops.txt"`` ...).

        Values may be strings (as read from the files) or numbers. See :meth:`from_path`.

        Parameters
        ----------
        tables
            GTFS tables keyed by file name.
        service_date
            The day to read the timetable for.
        name
            Feed name for the record.

        Returns
        -------
        TransitFeed
            The checked feed.
        """
        day = _check_service_date(service_date)
        name = name or _feed_info_name(tables) or "feed"
        missing = [f for f in REQUIRED_FILES if f not in tables]
        if "calendar.txt" not in tables and "calendar_dates.txt" not in tables:
            missing.append("calendar.txt (or calendar_dates.txt)")
        if missing:
            raise DataFileNotFoundError(
                f"GTFS feed {name!r} lacks required file(s) {', '.join(missing)}; found: "
                f"{', '.join(sorted(tables)) or '(none)'}. Check that the path is an unpacked "
                "GTFS feed or its zip"
            )
        if "agency.txt" not in tables:
            logger.info("GTFS feed %r has no agency.txt; it is not needed for travel times", name)
        t = {fname: _clean(frame) for fname, frame in tables.items()}
        for fname, columns in REQUIRED_FILES.items():
            require_columns(t[fname], columns, source=f"GTFS {fname}")
        src = {f: f"GTFS feed {name!r}: {f}" for f in (*REQUIRED_FILES, *OPTIONAL_FILES)}
        check_unique(t["stops.txt"], "stop_id", source=src["stops.txt"])
        check_unique(t["routes.txt"], "route_id", source=src["routes.txt"])
        check_unique(t["trips.txt"], "trip_id", source=src["trips.txt"])
        for fname in ("stops.txt", "routes.txt", "trips.txt", "stop_times.txt"):
            key = REQUIRED_FILES[fname][0] if fname != "stop_times.txt" else "trip_id"
            blank = t[fname][key].isna()
            if blank.any():
                raise ApgeoValueError(
                    f"{src[fname]}: column {key!r} is empty at row(s) "
                    f"{row_numbers(t[fname].index[blank])}; every row needs an id"
                )

        # -- calendar: which services run on the day and on the day before
        start, end, services_today, services_yesterday = _services(t, day, src, name)
        trips = t["trips.txt"]
        unknown_routes = ~trips["route_id"].isin(t["routes.txt"]["route_id"])
        if unknown_routes.any():
            raise ApgeoValueError(
                f"{src['trips.txt']}: route_id(s) {sorted(set(trips.loc[unknown_routes, 'route_id']))[:10]} "
                f"at row(s) {row_numbers(trips.index[unknown_routes])} are not in routes.txt"
            )
        today = trips[trips["service_id"].isin(services_today)].assign(day_offset=0)
        yesterday = trips[trips["service_id"].isin(services_yesterday)].assign(day_offset=-1)
        if len(today) == 0:
            weekday = day.strftime("%A")
            raise ApgeoValueError(
                f"GTFS feed {name!r} has no trips on service_date={day.isoformat()} ({weekday}): "
                f"its calendar covers {start.isoformat()} to {end.isoformat()}; choose a date in "
                "that range on which the services run (e.g. a term-time weekday)"
            )

        # -- stop times
        st = t["stop_times.txt"]
        s_src = src["stop_times.txt"]
        unknown_trips = ~st["trip_id"].isin(trips["trip_id"])
        if unknown_trips.any():
            raise ApgeoValueError(
                f"{s_src}: trip_id(s) {sorted(set(st.loc[unknown_trips, 'trip_id']))[:10]} at row(s) "
                f"{row_numbers(st.index[unknown_trips])} are not in trips.txt"
            )
        unknown_stops = ~st["stop_id"].isin(t["stops.txt"]["stop_id"])
        if unknown_stops.any():
            raise ApgeoValueError(
                f"{s_src}: stop_id(s) {sorted(set(st.loc[unknown_stops, 'stop_id'].astype(str)))[:10]} "
                f"at row(s) {row_numbers(st.index[unknown_stops])} are not in stops.txt"
            )
        seq = _parse_ints(st["stop_sequence"], source=s_src, column="stop_sequence")
        st = pd.DataFrame(
            {
                "trip_id": st["trip_id"].to_numpy(),
                "stop_id": st["stop_id"].to_numpy(),
                "stop_sequence": seq,
                "arrival_s": _parse_times(st["arrival_time"], source=s_src, column="arrival_time"),
                "departure_s": _parse_times(
                    st["departure_time"], source=s_src, column="departure_time"
                ),
                "row": st.index.to_numpy() + 2,
            }
        )
        dup = st.duplicated(["trip_id", "stop_sequence"], keep=False)
        if dup.any():
            pairs = sorted(
                {
                    f"{a}/{b}"
                    for a, b in st.loc[dup, ["trip_id", "stop_sequence"]].itertuples(index=False)
                }
            )
            raise DuplicateIdError(
                f"{s_src}: (trip_id, stop_sequence) must be unique but {len(pairs)} pair(s) repeat: "
                f"{', '.join(pairs[:10])} (rows {', '.join(map(str, st.loc[dup, 'row'].head(10)))}); "
                "give each call of a trip its own stop_sequence"
            )
        st["base_trip_id"] = st["trip_id"]
        st = _expand_frequencies(st, t.get("frequencies.txt"), src["frequencies.txt"])
        st = st.sort_values(["trip_id", "stop_sequence"], kind="stable").reset_index(drop=True)
        st = _fill_times(st, s_src)

        day_trips = pd.concat([today, yesterday], ignore_index=True)
        route_type = t["routes.txt"].set_index("route_id")["route_type"]
        day_trips["route_type"] = day_trips["route_id"].map(route_type).to_numpy()
        day_trips["base_trip_id"] = day_trips["trip_id"]
        base = day_trips[["base_trip_id", "day_offset", "service_id", "route_id", "route_type"]]
        merged = st.merge(base, on="base_trip_id", how="inner")
        shift = merged["day_offset"].to_numpy() * SECONDS_PER_DAY
        merged["arrival_s"] = merged["arrival_s"] + shift
        merged["departure_s"] = merged["departure_s"] + shift
        # previous-day trips matter only if they run past midnight
        last = merged.groupby(["trip_id", "day_offset"])["arrival_s"].transform("max")
        merged = merged[(merged["day_offset"] == 0) | (last >= 0)]
        merged = merged.sort_values(["day_offset", "trip_id", "stop_sequence"], kind="stable")
        keys = merged.groupby(["day_offset", "trip_id"], sort=False).ngroup().to_numpy()
        merged["trip_key"] = keys
        trips_out = merged.drop_duplicates("trip_key")[
            ["trip_key", "trip_id", "route_id", "service_id", "route_type", "day_offset"]
        ].reset_index(drop=True)
        stop_times = merged[
            ["trip_key", "stop_id", "stop_sequence", "arrival_s", "departure_s"]
        ].reset_index(drop=True)

        # -- stops served that day
        stops = t["stops.txt"]
        used = stops["stop_id"].isin(stop_times["stop_id"])
        served = stops[used]
        lat = pd.to_numeric(served["stop_lat"], errors="coerce")
        lon = pd.to_numeric(served["stop_lon"], errors="coerce")
        bad = lat.isna() | lon.isna() | ~lat.between(-90, 90) | ~lon.between(-180, 180)
        if bad.any():
            raise ApgeoValueError(
                f"{src['stops.txt']}: stop(s) {list(served.loc[bad, 'stop_id'].head(10))} at row(s) "
                f"{row_numbers(served.index[bad])} have no valid stop_lat / stop_lon (degrees); "
                "every stop with stop times needs coordinates"
            )
        stops_out = pd.DataFrame(
            {
                "stop_id": served["stop_id"].to_numpy(),
                "stop_name": (
                    served["stop_name"].to_numpy()
                    if "stop_name" in served
                    else served["stop_id"].to_numpy()
                ),
                "stop_lat": lat.to_numpy(float),
                "stop_lon": lon.to_numpy(float),
            }
        )
        logger.info(
            "GTFS feed %r on %s: %d trips (%d from the day before), %d stops",
            name,
            day,
            len(trips_out),
            int((trips_out["day_offset"] < 0).sum()),
            len(stops_out),
        )
        return cls(
            name=name,
            service_date=day,
            start_date=start,
            end_date=end,
            stops=stops_out,
            trips=trips_out,
            stop_times=stop_times,
        )

    @property
    def n_trips(self) -> int:
        """Number of trips running on the service date (including last night's late ones)."""
        return len(self.trips)

    def stops_gdf(self) -> gpd.GeoDataFrame:
        """The served stops as points in EPSG:4326.

        Returns
        -------
        geopandas.GeoDataFrame
            One row per stop served on the service date.
        """
        return gpd.GeoDataFrame(
            self.stops.copy(),
            geometry=gpd.points_from_xy(self.stops["stop_lon"], self.stops["stop_lat"]),
            crs="EPSG:4326",
        )

    def record(self) -> dict[str, Any]:
        """What a table made from this feed must say about it (for ``table.attrs``).

        Returns
        -------
        dict
            Feed name, its date range, the service date and weekday, and the trips run.
        """
        return {
            "feed_name": self.name,
            "feed_start_date": self.start_date.isoformat(),
            "feed_end_date": self.end_date.isoformat(),
            "service_date": self.service_date.isoformat(),
            "service_weekday": self.service_date.strftime("%A"),
            "feed_trips": self.n_trips,
        }


def _feed_info_name(tables: Mapping[str, pd.DataFrame]) -> str | None:
    """``feed_publisher_name`` and ``feed_version`` from ``feed_info.txt``, if any."""
    info = tables.get("feed_info.txt")
    if info is None or len(info) == 0 or "feed_publisher_name" not in info.columns:
        return None
    first = info.iloc[0]
    version = first.get("feed_version")
    parts = [str(first["feed_publisher_name"]).strip()]
    if isinstance(version, str) and version.strip():
        parts.append(version.strip())
    return " ".join(parts) or None


def _services(
    t: Mapping[str, pd.DataFrame], day: date, src: Mapping[str, str], name: str
) -> tuple[date, date, set[str], set[str]]:
    """Feed date range and the service ids running on ``day`` and the day before."""
    starts: list[date] = []
    ends: list[date] = []
    cal = t.get("calendar.txt")
    parsed_cal: pd.DataFrame | None = None
    if cal is not None:
        require_columns(cal, CALENDAR_COLUMNS, source="GTFS calendar.txt")
        check_unique(cal, "service_id", source=src["calendar.txt"])
        parsed_cal = pd.DataFrame({"service_id": cal["service_id"]})
        for wd in WEEKDAYS:
            flags = cal[wd].fillna("")
            bad = ~flags.isin(["0", "1"])
            if bad.any():
                raise ApgeoValueError(
                    f"{src['calendar.txt']}: column {wd!r} must be 0 or 1; row(s) "
                    f"{row_numbers(cal.index[bad])} hold {list(cal.loc[bad, wd].head(3))}"
                )
            parsed_cal[wd] = flags == "1"
        parsed_cal["start"] = _parse_dates(
            cal["start_date"], source=src["calendar.txt"], column="start_date"
        )
        parsed_cal["end"] = _parse_dates(
            cal["end_date"], source=src["calendar.txt"], column="end_date"
        )
        if len(parsed_cal):
            starts.append(min(parsed_cal["start"]))
            ends.append(max(parsed_cal["end"]))
    cd = t.get("calendar_dates.txt")
    parsed_cd: pd.DataFrame | None = None
    if cd is not None:
        require_columns(cd, CALENDAR_DATES_COLUMNS, source="GTFS calendar_dates.txt")
        dates = _parse_dates(cd["date"], source=src["calendar_dates.txt"], column="date")
        kind = cd["exception_type"]
        bad = ~kind.isin(["1", "2"])
        if bad.any():
            raise ApgeoValueError(
                f"{src['calendar_dates.txt']}: exception_type must be 1 (added) or 2 (removed); "
                f"row(s) {row_numbers(cd.index[bad])} hold {list(kind[bad].head(3))}"
            )
        parsed_cd = pd.DataFrame({"service_id": cd["service_id"], "date": dates, "kind": kind})
        if len(parsed_cd):
            added = parsed_cd.loc[parsed_cd["kind"] == "1", "date"]
            if len(added):
                starts.append(min(added))
                ends.append(max(added))
    if not starts:
        raise ApgeoValueError(
            f"GTFS feed {name!r}: calendar.txt and calendar_dates.txt define no service days"
        )

    def running(d: date) -> set[str]:
        out: set[str] = set()
        if parsed_cal is not None and len(parsed_cal):
            on = (
                parsed_cal[WEEKDAYS[d.weekday()]]
                & (parsed_cal["start"] <= d)
                & (parsed_cal["end"] >= d)
            )
            out |= set(parsed_cal.loc[on, "service_id"])
        if parsed_cd is not None and len(parsed_cd):
            that_day = parsed_cd[parsed_cd["date"] == d]
            out |= set(that_day.loc[that_day["kind"] == "1", "service_id"])
            out -= set(that_day.loc[that_day["kind"] == "2", "service_id"])
        return out

    return min(starts), max(ends), running(day), running(day - timedelta(days=1))


def _expand_frequencies(st: pd.DataFrame, freq: pd.DataFrame | None, source: str) -> pd.DataFrame:
    """Turn frequency-based trips into one trip per departure (ids ``trip@start_s``)."""
    if freq is None or len(freq) == 0:
        return st
    require_columns(freq, FREQUENCIES_COLUMNS, source="GTFS frequencies.txt")
    starts = _parse_times(freq["start_time"], source=source, column="start_time")
    ends = _parse_times(freq["end_time"], source=source, column="end_time")
    headway = _parse_ints(freq["headway_secs"], source=source, column="headway_secs")
    if (headway <= 0).any() or np.isnan(starts).any() or np.isnan(ends).any():
        raise ApgeoValueError(
            f"{source}: every row needs start_time, end_time and headway_secs > 0"
        )
    templated = set(freq["trip_id"])
    keep = st[~st["trip_id"].isin(templated)]
    pieces = [keep]
    for trip_id, start_s, end_s, step in zip(freq["trip_id"], starts, ends, headway, strict=True):
        template = st[st["trip_id"] == trip_id].sort_values("stop_sequence")
        if template.empty:
            continue
        first = template["departure_s"].iloc[0]
        if np.isnan(first):
            first = template["arrival_s"].iloc[0]
        for dep in np.arange(start_s, end_s, step):
            copy = template.copy()
            copy["arrival_s"] = copy["arrival_s"] - first + dep
            copy["departure_s"] = copy["departure_s"] - first + dep
            copy["trip_id"] = f"{trip_id}@{int(dep)}"
            pieces.append(copy)
    return pd.concat(pieces, ignore_index=True)


def _fill_times(st: pd.DataFrame, source: str) -> pd.DataFrame:
    """Copy arrival <-> departure where one is blank, interpolate untimed stops, check order."""
    arr = st["arrival_s"].to_numpy(float).copy()
    dep = st["departure_s"].to_numpy(float).copy()
    arr = np.where(np.isnan(arr), dep, arr)
    dep = np.where(np.isnan(dep), arr, dep)
    trip = st["trip_id"].to_numpy()
    first = np.ones(len(st), dtype=bool)
    first[1:] = trip[1:] != trip[:-1]
    last = np.ones(len(st), dtype=bool)
    last[:-1] = trip[1:] != trip[:-1]
    untimed_ends = (first | last) & np.isnan(arr)
    if untimed_ends.any():
        rows = st.loc[untimed_ends, "row"].head(10).tolist()
        raise ApgeoValueError(
            f"{source}: the first and last stop of every trip need times; trip(s) "
            f"{sorted(set(trip[untimed_ends]))[:10]} lack them (rows {rows})"
        )
    if np.isnan(arr).any():  # untimed stops: linear in stop order between timed ones
        filled = (
            pd.Series(arr)
            .groupby(trip, sort=False)
            .transform(lambda times: times.interpolate(method="index"))
        )
        arr = filled.to_numpy(float)
        dep = np.where(np.isnan(dep), arr, dep)
    backwards = dep < arr
    later = np.zeros(len(st), dtype=bool)
    later[1:] = ~first[1:] & (arr[1:] < dep[:-1])
    wrong = backwards | later
    if wrong.any():
        rows = st.loc[wrong, "row"].head(10).tolist()
        raise ApgeoValueError(
            f"{source}: times go backwards within trip(s) {sorted(set(trip[wrong]))[:10]} "
            f"(rows {rows}); each stop's arrival must not precede the previous departure"
        )
    out = st.drop(columns=["row"]).copy()
    out["arrival_s"] = arr
    out["departure_s"] = dep
    return out


# ---- the engine ---------------------------------------------------------------------------


__all__ = [
    "CALENDAR_COLUMNS",
    "DEFAULT_MAX_TRAVEL_TIME_S",
    "REQUIRED_FILES",
    "TransitFeed",
    "parse_clock",
    "parse_gtfs_time",
]
