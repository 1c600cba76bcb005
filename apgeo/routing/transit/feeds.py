"""Several public-transport feeds at once (tram + rail + bus), merged for one search.

Feeds rarely share dates: the 2019 rail GTFS and the 2024-25 Supertram timetable have no
day in common. The rule here:

1. The user gives **one** ``service_date`` (a term-time weekday, say Tuesday 2025-01-14).
2. Each feed whose calendar covers that date is read for it.
3. A feed whose calendar does not cover it is read for the **same weekday in a school-term
   week inside that feed's range** (the one with the most trips; ties: the earliest), with
   a warning naming the date used; with ``strict=True`` it is an error instead. Term time
   is approximated for England with holidays drawn wide on purpose so that every local
   authority is in term: 20 Dec - 4 Jan, 10-23 Feb, Good Friday - 10 days to Easter
   Monday + 10 days, the Spring bank holiday week, 20 Jul - 5 Sep, 19 Oct - 2 Nov, and bank
   holidays. If the feed has no such day, the same weekday outside term time is used (with
   a warning saying so).

The feeds are then merged into one :class:`apgeo.transit.TransitFeed` for the existing
engine. Every stop, trip, route and service id gets its feed's name as a prefix
(``rail:SHF``, ``tram:9400ZZSYCAT1``): two feeds may reuse ids, and stops of different
feeds stay separate stops. Clock times are kept as they are: each feed's trips are those
of its own service date, laid on the one day searched (the same weekday). Stops within
``transfer_radius_m`` (default 250 m) of each other, in the same feed or not, are joined by
walking transfers of ``straight-line distance x 1.3 / 4.8 km/h``; a feed's
``transfers.txt`` overrides that time for the pairs it lists (``transfer_type`` 2:
``min_transfer_time``; 0 or 1: the walking estimate) and removes pairs of type 3.
Same-stop and trip- or route-specific rows of ``transfers.txt`` cannot be modelled by the
engine (changing at one stop takes no minimum time there) and are reported in a warning.

:class:`MultiFeedTransitEngine` is :class:`apgeo.transit.TransitEngine` with these
transfers added to those it builds itself.

A regional feed (millions of stop times) is read cut to the study area: ``area=`` keeps the
stops within ``margin_m`` (default 5 km) of it and the day's trips calling at them, reading
``stop_times.txt`` in chunks (:mod:`apgeo.routing.transit.feed_cut`); the study does this
with its boundary, areas and sites, and its method label says how much was kept.
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from apgeo._errors import ApgeoValueError, DataFileNotFoundError
from apgeo._log import logger, warn
from apgeo._validate import decode_text
from apgeo.routing.transit.feed import (
    STRAIGHT_LINE_DETOUR,
    WALK_SPEED_KPH,
    TransitFeed,
    _parse_times,
)
from apgeo.routing.transit.feed_cut import (
    DEFAULT_AREA_MARGIN_M,
    FeedArea,
    FeedCut,
    cut_feed,
    gtfs_small_tables,
)
from apgeo.routing.transit.raptor import TransitEngine
from apgeo.routing.transit.txc import GtfsTables, read_transxchange
from apgeo.routing.transit.txc_time import bank_holidays, easter_sunday
from apgeo.schema import TRAVEL_TIME_S

#: Default radius of walking transfers between stops (of the same or different feeds).
DEFAULT_TRANSFER_RADIUS_M = 250.0
FeedSource = str | Path | GtfsTables | Mapping[str, pd.DataFrame]

_NAME_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


# ---- reading one feed ---------------------------------------------------------------------


def read_feed_tables(source: FeedSource) -> dict[str, pd.DataFrame]:
    """GTFS tables (keyed ``"stops.txt"`` ...) of a GTFS zip or folder, a TransXChange zip,
    folder or ``.xml`` (converted with :func:`~apgeo.routing.transit.txc.read_transxchange`),
    :class:`GtfsTables`, or a mapping of tables. All ``.txt`` files are read, including
    ``transfers.txt``.

    Parameters
    ----------
    source
        A path, :class:`GtfsTables` or a mapping of tables.

    Returns
    -------
    dict of str to pandas.DataFrame
        The tables keyed by file name.
    """
    if isinstance(source, GtfsTables):
        return source.as_dict()
    if isinstance(source, Mapping):
        return {(k if k.endswith(".txt") else f"{k}.txt"): v for k, v in source.items()}
    p = Path(source).expanduser()
    if not p.exists():
        raise DataFileNotFoundError(
            f"feed not found at {p}; pass a GTFS .zip or folder, or TransXChange .zip / .xml"
        )
    raw: dict[str, bytes] = {}
    has_xml = p.is_file() and p.suffix.lower() == ".xml"
    if p.is_dir():
        raw = {f.name: f.read_bytes() for f in sorted(p.glob("*.txt"))}
        has_xml = has_xml or any(p.rglob("*.xml"))
    elif zipfile.is_zipfile(p):
        with zipfile.ZipFile(p) as archive:
            names = [m for m in archive.namelist() if not m.endswith("/")]
            raw = {Path(m).name: archive.read(m) for m in names if m.lower().endswith(".txt")}
            has_xml = any(m.lower().endswith(".xml") for m in names)
    if "stops.txt" not in raw and has_xml:
        return read_transxchange(p).as_dict()
    if not raw:
        raise ApgeoValueError(
            f"{p} holds neither GTFS .txt files nor TransXChange .xml files; pass a feed"
        )
    return {name: _csv(data, f"{p.name}/{name}") for name, data in raw.items()}


def _csv(raw: bytes, source: str) -> pd.DataFrame:
    text = decode_text(raw, source)
    if not text.strip():
        return pd.DataFrame()
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])
    frame.columns = [str(c).strip() for c in frame.columns]
    return frame


# ---- calendars ----------------------------------------------------------------------------


def trips_per_day(tables: Mapping[str, pd.DataFrame]) -> pd.Series:
    """Number of trips running on each day of a feed's calendar (index: ``datetime.date``).

    Reads ``calendar.txt`` and ``calendar_dates.txt`` and ``trips.txt``; days with no trip
    are included with 0. Trips of the previous day running past midnight are not counted.

    Parameters
    ----------
    tables
        GTFS tables keyed by file name.

    Returns
    -------
    pandas.Series
        Trips per day, every day of the calendar's span.
    """
    cal = tables.get("calendar.txt")
    cd = tables.get("calendar_dates.txt")
    trips = tables.get("trips.txt")
    if trips is None or (cal is None and cd is None):
        raise ApgeoValueError("a feed needs trips.txt and calendar.txt or calendar_dates.txt")
    spans: list[pd.Timestamp] = []
    if cal is not None and len(cal):
        cal = cal.astype({"start_date": str, "end_date": str})
        starts = pd.to_datetime(cal["start_date"], format="%Y%m%d")
        ends = pd.to_datetime(cal["end_date"], format="%Y%m%d")
        spans += [starts.min(), ends.max()]
    if cd is not None and len(cd):
        cd = cd.astype({"date": str, "exception_type": str})
        cd_dates = pd.to_datetime(cd["date"], format="%Y%m%d")
        spans += [cd_dates.min(), cd_dates.max()]
    if not spans:
        raise ApgeoValueError("the feed's calendar defines no service days")
    days = pd.date_range(min(spans), max(spans), freq="D")
    services = pd.Index(sorted(set(trips["service_id"].astype(str))))
    running = np.zeros((len(services), len(days)), dtype=bool)
    if cal is not None and len(cal):
        row = services.get_indexer(pd.Index(cal["service_id"].astype(str)))
        ok = row >= 0
        weekday = days.day_of_week.to_numpy()
        flags = np.column_stack([cal[w].astype(str).to_numpy() == "1" for w in _WEEKDAYS])
        d64 = days.to_numpy()
        for r, f, s, e in zip(row[ok], flags[ok], starts[ok].to_numpy(), ends[ok].to_numpy(),
                              strict=True):  # fmt: skip
            running[r] |= f[weekday] & (d64 >= s) & (d64 <= e)
    if cd is not None and len(cd):
        row = services.get_indexer(pd.Index(cd["service_id"].astype(str)))
        col = days.get_indexer(pd.DatetimeIndex(cd_dates))
        ok = (row >= 0) & (col >= 0)
        kind = cd["exception_type"].to_numpy()
        add = ok & (kind == "1")
        rem = ok & (kind == "2")
        running[row[add], col[add]] = True
        running[row[rem], col[rem]] = False
    per_service = trips["service_id"].astype(str).value_counts().reindex(services).to_numpy()
    counts = per_service @ running
    return pd.Series(counts.astype(np.int64), index=[d.date() for d in days], name="trips")


def school_holidays(year: int) -> set[date]:
    """Days treated as school holidays in England (wide on purpose; see the module notes).

    Parameters
    ----------
    year
        Calendar year.

    Returns
    -------
    set of datetime.date
        The days.
    """
    out: set[date] = set()

    def span(a: date, b: date) -> None:
        d = a
        while d <= b:
            out.add(d)
            d += timedelta(days=1)

    span(date(year, 1, 1), date(year, 1, 4))
    span(date(year, 12, 20), date(year, 12, 31))
    span(date(year, 2, 10), date(year, 2, 23))
    easter = easter_sunday(year)
    span(easter - timedelta(days=12), easter + timedelta(days=11))
    spring = bank_holidays(year)["SpringBank"]
    span(spring - timedelta(days=2), spring + timedelta(days=4))
    span(date(year, 7, 20), date(year, 9, 5))
    span(date(year, 10, 19), date(year, 11, 2))
    out |= set(bank_holidays(year).values())
    return out


def choose_service_date(
    tables: Mapping[str, pd.DataFrame],
    service_date: date | str,
    *,
    name: str = "feed",
    strict: bool = False,
) -> date:
    """The day to read ``tables`` for, given the one ``service_date`` of the study.

    ``service_date`` itself when the feed's calendar covers it; else the same weekday in a
    school-term week inside the feed's range with the most trips (warning which), or an
    error when ``strict``.

    Parameters
    ----------
    tables
        The feed's GTFS tables keyed by file name.
    service_date
        The study's day.
    name
        The feed's name, for messages.
    strict
        Raise instead of moving the feed to another day.

    Returns
    -------
    datetime.date
        The day to read the feed for.
    """
    day = _as_date(service_date)
    per_day = trips_per_day(tables)
    first, last = min(per_day.index), max(per_day.index)
    if first <= day <= last:
        return day
    weekday = day.strftime("%A")
    where = (
        f"feed {name!r} covers {first.isoformat()} to {last.isoformat()}, not "
        f"service_date={day.isoformat()} ({weekday})"
    )
    if strict:
        raise ApgeoValueError(
            f"{where}; give feeds that cover the date, or pass strict=False to read this feed "
            f"for a term-time {weekday} inside its range"
        )
    weekdays = np.array([d.weekday() for d in per_day.index])
    same = per_day[(weekdays == day.weekday()) & (per_day.to_numpy() > 0)]
    if same.empty:
        raise ApgeoValueError(
            f"{where}, and it has no trips on any {weekday}: choose another service date"
        )
    holidays: set[date] = set()
    for year in range(first.year, last.year + 1):
        holidays |= school_holidays(year)
    term = same[[d not in holidays for d in same.index]]
    pool, label = (term, "term-time") if not term.empty else (same, "NOT term-time")
    chosen = pool[pool == pool.max()].index[0]
    warn(
        f"{where}: read it for {chosen.isoformat()} ({weekday}, {label}, "
        f"{int(pool[chosen])} trips) instead",
        stacklevel=4,
    )
    return chosen


def _as_date(value: date | str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ApgeoValueError(
            f"service_date={value!r}: give a date, e.g. date(2025, 1, 14) (a term-time weekday)"
        ) from None


# ---- loading and merging ------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class LoadedFeed:
    """One feed read for its own service date, with its ``transfers.txt`` (if any)."""

    name: str
    feed: TransitFeed
    requested_date: date
    transfers: pd.DataFrame | None = None
    cut: FeedCut | None = None

    @property
    def service_date(self) -> date:
        """The day this feed was read for (may differ from :attr:`requested_date`)."""
        return self.feed.service_date


@dataclass(frozen=True, eq=False)
class MergedFeed:
    """Several feeds as one :class:`TransitFeed`, plus walking transfers between stops.

    Attributes
    ----------
    feed
        The merged feed; ids are ``<feed name>:<id>``; its ``name`` lists each feed with the
        date it was read for (``tram@2025-01-14+rail@2019-09-10``).
    transfers
        ``from_stop_id``, ``to_stop_id``, ``travel_time_s``, ``distance_m``, ``source``
        (``"walk"`` or ``"transfers.txt"``), both directions listed.
    forbidden
        ``from_stop_id``, ``to_stop_id`` pairs that ``transfers.txt`` marks impossible.
    service_dates
        Feed name -> date it was read for.
    """

    feed: TransitFeed
    transfers: pd.DataFrame
    forbidden: pd.DataFrame
    service_dates: dict[str, date]
    settings: dict[str, Any] = field(default_factory=dict)

    def record(self) -> dict[str, Any]:
        """What a table made from this feed must say about it.

        Returns
        -------
        dict
            The feed's record, each feed's service date (ISO text) and the merge settings.
        """
        return {
            **self.feed.record(),
            "feed_service_dates": {k: v.isoformat() for k, v in self.service_dates.items()},
            **self.settings,
        }


def load_feeds(
    feeds: Mapping[str, FeedSource],
    *,
    service_date: date | str,
    strict: bool = False,
    area: Any = None,
    margin_m: float = DEFAULT_AREA_MARGIN_M,
) -> dict[str, LoadedFeed]:
    """Read each feed for ``service_date`` or, outside its range, for a term-time same weekday.

    Parameters
    ----------
    feeds
        Feed name (letters, digits, ``_``, ``-``; becomes the id prefix) -> GTFS zip or
        folder, TransXChange zip / folder / ``.xml``, :class:`GtfsTables` or tables.
    service_date
        The one day of the study.
    strict
        Refuse (error) instead of moving a feed to another date.
    area, margin_m
        The study area (GeoDataFrame or GeoSeries with a CRS, or a
        :class:`~apgeo.routing.transit.feed_cut.FeedArea`): keep only the stops within
        ``margin_m`` metres of it and the trips of the day (and late trips of the day
        before) that call at two of them; a GTFS zip or folder is then read in chunks,
        five columns of ``stop_times.txt`` only (:mod:`apgeo.routing.transit.feed_cut`).
        ``None`` (default): read every feed whole.

    Returns
    -------
    dict
        Feed name -> :class:`LoadedFeed`.
    """
    if not isinstance(feeds, Mapping) or not feeds:
        raise ApgeoValueError("feeds: give a mapping of feed name -> feed, e.g. {'tram': path}")
    day = _as_date(service_date)
    where = None if area is None else FeedArea.from_geometry(area, margin_m=margin_m)
    out: dict[str, LoadedFeed] = {}
    for name, source in feeds.items():
        if not isinstance(name, str) or not _NAME_RE.match(name):
            raise ApgeoValueError(
                f"feed name {name!r}: use letters, digits, '_' or '-' (it prefixes every id)"
            )
        cut = None
        if where is None:
            tables = _repair_swapped_times(read_feed_tables(source), name=name, strict=strict)
            chosen = choose_service_date(tables, day, name=name, strict=strict)
        else:  # small tables first, then stop_times.txt in chunks, cut to the area and day
            streamed = gtfs_small_tables(source)
            if streamed is None:
                whole = read_feed_tables(source)
                small = {k: v for k, v in whole.items() if k != "stop_times.txt"}
                chunks: Any = [whole["stop_times.txt"]] if "stop_times.txt" in whole else []
            else:
                small, st_file = streamed
                chunks = st_file.chunks()
            chosen = choose_service_date(small, day, name=name, strict=strict)
            tables, cut = cut_feed(small, chunks, service_date=chosen, area=where, name=name)
            tables = _repair_swapped_times(tables, name=name, strict=strict)
        feed = TransitFeed.from_frames(tables, service_date=chosen, name=name)
        transfers = tables.get("transfers.txt")
        out[name] = LoadedFeed(name, feed, day, transfers if transfers is not None else None, cut)
        logger.info("feed %r read for %s: %d trips", name, chosen, feed.n_trips)
    return out


def _repair_swapped_times(
    tables: dict[str, pd.DataFrame], *, name: str, strict: bool
) -> dict[str, pd.DataFrame]:
    """Mend stop times whose departure precedes their arrival, with a warning.

    Some converted feeds hold them (the 2019 GB rail extract: 19 of 13,717 calls, e.g.
    arrival ``48:59:00`` and departure ``24:01:00``), and :class:`TransitFeed` rejects them.
    The departure is trusted when it is not before the trip's previous departure (the
    arrival is set to it), else the arrival is (the departure is set to it). ``strict``:
    an error instead.
    """
    st = tables.get("stop_times.txt")
    needed = {"trip_id", "stop_sequence", "arrival_time", "departure_time"}
    if st is None or not needed <= set(st.columns):
        return tables

    def seconds(col: pd.Series) -> np.ndarray:
        return _parse_times(col, source=name, column=str(col.name), coerce=True)

    arr, dep = seconds(st["arrival_time"]), seconds(st["departure_time"])
    bad = dep < arr
    if not bad.any():
        return tables
    order = np.lexsort(
        (pd.to_numeric(st["stop_sequence"], errors="coerce").to_numpy(float),
         st["trip_id"].astype(str).to_numpy())
    )  # fmt: skip
    trip_sorted = st["trip_id"].astype(str).to_numpy()[order]
    prev_dep_sorted = np.r_[-np.inf, dep[order][:-1]]
    prev_dep_sorted[np.r_[True, trip_sorted[1:] != trip_sorted[:-1]]] = -np.inf
    prev_dep = np.empty(len(st))
    prev_dep[order] = prev_dep_sorted
    trust_departure = bad & (dep >= prev_dep)
    trust_arrival = bad & ~trust_departure
    trips = sorted(set(st.loc[bad, "trip_id"].astype(str)))
    warn(
        f"feed {name!r}: {int(bad.sum())} stop time(s) depart before they arrive (trips "
        f"{', '.join(trips[:5])}{' ...' if len(trips) > 5 else ''}); the arrival was set to "
        f"the departure ({int(trust_departure.sum())}) or, where that would precede the "
        f"previous stop's departure, the departure to the arrival ({int(trust_arrival.sum())})",
        strict=strict,
        stacklevel=4,
    )
    fixed = st.copy()
    fixed.loc[trust_departure, "arrival_time"] = st.loc[trust_departure, "departure_time"]
    fixed.loc[trust_arrival, "departure_time"] = st.loc[trust_arrival, "arrival_time"]
    return {**tables, "stop_times.txt": fixed}


def merge_feeds(
    feeds: Mapping[str, LoadedFeed],
    *,
    transfer_radius_m: float = DEFAULT_TRANSFER_RADIUS_M,
    walk_speed_kph: float = WALK_SPEED_KPH,
    detour: float = STRAIGHT_LINE_DETOUR,
    strict: bool = False,
) -> MergedFeed:
    """Merge loaded feeds into one :class:`TransitFeed` with namespaced ids and transfers.

    Parameters
    ----------
    feeds
        From :func:`load_feeds`.
    transfer_radius_m
        Stops closer than this (straight line, metres) are joined by walking transfers.
    walk_speed_kph, detour
        Transfer time = distance x ``detour`` / ``walk_speed_kph``.
    strict
        Turn the warning about ``transfers.txt`` rows that cannot be modelled into an error.

    Returns
    -------
    MergedFeed
        The merged feed, its transfers and the date each feed was read for.
    """
    if not feeds:
        raise ApgeoValueError("feeds: nothing to merge")
    for label, value in (("transfer_radius_m", transfer_radius_m),
                         ("walk_speed_kph", walk_speed_kph), ("detour", detour)):  # fmt: skip
        if not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
            raise ApgeoValueError(f"{label}={value!r}: give a non-negative finite number")
    if walk_speed_kph <= 0 or detour < 1:
        raise ApgeoValueError("walk_speed_kph must be > 0 and detour >= 1")
    stops, trips, stop_times = [], [], []
    offset = 0
    for name, loaded in feeds.items():
        f = loaded.feed
        stops.append(f.stops.assign(stop_id=name + ":" + f.stops["stop_id"].astype(str)))
        trips.append(
            f.trips.assign(
                trip_key=f.trips["trip_key"] + offset,
                trip_id=name + ":" + f.trips["trip_id"].astype(str),
                route_id=name + ":" + f.trips["route_id"].astype(str),
                service_id=name + ":" + f.trips["service_id"].astype(str),
            )
        )
        stop_times.append(
            f.stop_times.assign(
                trip_key=f.stop_times["trip_key"] + offset,
                stop_id=name + ":" + f.stop_times["stop_id"].astype(str),
            )
        )
        offset += len(f.trips)
    first = next(iter(feeds.values()))
    cuts = {n: lf.cut.record() for n, lf in feeds.items() if lf.cut is not None}
    merged = TransitFeed(
        name="+".join(f"{n}@{lf.service_date.isoformat()}" for n, lf in feeds.items()),
        service_date=first.requested_date,
        start_date=min(lf.feed.start_date for lf in feeds.values()),
        end_date=max(lf.feed.end_date for lf in feeds.values()),
        stops=pd.concat(stops, ignore_index=True),
        trips=pd.concat(trips, ignore_index=True),
        stop_times=pd.concat(stop_times, ignore_index=True),
    )
    speed_ms = walk_speed_kph / 3.6
    xy = _stop_xy(merged.stops)
    walk = _radius_pairs(merged.stops["stop_id"].to_numpy(object), xy, transfer_radius_m)
    walk[TRAVEL_TIME_S] = walk["distance_m"] * detour / speed_ms
    walk["source"] = "walk"
    listed, forbidden, unmodelled = _listed_transfers(feeds, merged.stops, xy, detour, speed_ms)
    if unmodelled:
        warn(
            f"{sum(unmodelled.values())} transfers.txt row(s) cannot be modelled and were "
            "left out (the engine changes at one stop with no minimum time and has no "
            "trip- or route-specific transfers): "
            + ", ".join(f"{k}: {v}" for k, v in sorted(unmodelled.items())),
            strict=strict,
        )
    pairs = ["from_stop_id", "to_stop_id"]
    if len(listed):
        walk = walk[~walk.set_index(pairs).index.isin(listed.set_index(pairs).index)]
    transfers = pd.concat([walk, listed], ignore_index=True)
    if len(forbidden):
        transfers = transfers[
            ~transfers.set_index(pairs).index.isin(forbidden.set_index(pairs).index)
        ]
    transfers = transfers.sort_values(pairs, kind="stable").reset_index(drop=True)
    logger.info(
        "merged %d feeds: %d stops, %d trips, %d transfers (%d between feeds)",
        len(feeds),
        len(merged.stops),
        merged.n_trips,
        len(transfers),
        int(
            (
                transfers["from_stop_id"].str.split(":").str[0]
                != transfers["to_stop_id"].str.split(":").str[0]
            ).sum()
        ),
    )
    return MergedFeed(
        feed=merged,
        transfers=transfers,
        forbidden=forbidden,
        service_dates={n: lf.service_date for n, lf in feeds.items()},
        settings={
            "feed_transfer_radius_m": float(transfer_radius_m),
            "feed_transfer_walk_speed_kph": float(walk_speed_kph),
            "feed_transfer_detour": float(detour),
            **({"feed_area_cut": cuts} if cuts else {}),
        },
    )


def load_merged_feed(
    feeds: Mapping[str, FeedSource],
    *,
    service_date: date | str,
    transfer_radius_m: float = DEFAULT_TRANSFER_RADIUS_M,
    strict: bool = False,
    area: Any = None,
    margin_m: float = DEFAULT_AREA_MARGIN_M,
) -> MergedFeed:
    """:func:`load_feeds` (with its ``area`` cut) then :func:`merge_feeds`.

    Parameters
    ----------
    feeds
        Feed sources by name.
    service_date
        The day to read the feeds for.
    transfer_radius_m
        Walking transfers between feeds within this distance, metres.
    strict
        Turn warnings into errors.
    area
        Study area the feeds are cut to (``None``: no cut).
    margin_m
        Margin around ``area`` in metres.

    Returns
    -------
    MergedFeed
        The feeds as one timetable.
    """
    loaded = load_feeds(
        feeds, service_date=service_date, strict=strict, area=area, margin_m=margin_m
    )
    return merge_feeds(loaded, transfer_radius_m=transfer_radius_m, strict=strict)


def _stop_xy(stops: pd.DataFrame) -> np.ndarray:
    """Stop coordinates in British National Grid metres (EPSG:27700)."""
    from pyproj import Transformer

    tr = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    x, y = tr.transform(stops["stop_lon"].to_numpy(float), stops["stop_lat"].to_numpy(float))
    return np.column_stack([x, y])


def _radius_pairs(ids: np.ndarray, xy: np.ndarray, radius_m: float) -> pd.DataFrame:
    from scipy.spatial import cKDTree

    columns = ["from_stop_id", "to_stop_id", "distance_m"]
    if len(ids) < 2 or radius_m <= 0:
        return pd.DataFrame({c: pd.Series(dtype=object if c != "distance_m" else float)
                             for c in columns})  # fmt: skip
    pairs = cKDTree(xy).query_pairs(radius_m, output_type="ndarray")
    a = np.concatenate([pairs[:, 0], pairs[:, 1]]).astype(np.int64)
    b = np.concatenate([pairs[:, 1], pairs[:, 0]]).astype(np.int64)
    dist = np.hypot(*(xy[a] - xy[b]).T)
    return pd.DataFrame({"from_stop_id": ids[a], "to_stop_id": ids[b], "distance_m": dist})


def _listed_transfers(
    feeds: Mapping[str, LoadedFeed],
    stops: pd.DataFrame,
    xy: np.ndarray,
    detour: float,
    speed_ms: float,
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, int]]:
    """Rows of each feed's ``transfers.txt``: usable pairs, forbidden pairs, skipped counts."""
    index = {s: i for i, s in enumerate(stops["stop_id"])}
    rows: list[dict[str, Any]] = []
    forbidden: list[dict[str, Any]] = []
    skipped: dict[str, int] = {}
    for name, loaded in feeds.items():
        table = loaded.transfers
        if table is None or len(table) == 0:
            continue
        src = f"{name} transfers.txt"
        for col in ("from_stop_id", "to_stop_id"):
            if col not in table.columns:
                raise ApgeoValueError(f"{src}: column {col!r} is missing")
        for i, r in enumerate(table.to_dict("records")):
            special = [c for c in ("from_trip_id", "to_trip_id", "from_route_id", "to_route_id")
                       if isinstance(r.get(c), str) and r[c].strip()]  # fmt: skip
            a = f"{name}:{str(r['from_stop_id']).strip()}"
            b = f"{name}:{str(r['to_stop_id']).strip()}"
            if special:
                skipped[f"{name} trip/route-specific"] = (
                    skipped.get(f"{name} trip/route-specific", 0) + 1
                )
                continue
            kind = str(r.get("transfer_type") or "0").strip()
            if kind not in ("0", "1", "2", "3"):
                raise ApgeoValueError(
                    f"{src} row {i + 2}: transfer_type {kind!r} must be 0, 1, 2 or 3"
                )
            if a == b:
                skipped[f"{name} same-stop"] = skipped.get(f"{name} same-stop", 0) + 1
                continue
            if a not in index or b not in index:
                continue  # a stop not served on the service date
            if kind == "3":
                forbidden.append({"from_stop_id": a, "to_stop_id": b})
                continue
            dist = float(np.hypot(*(xy[index[a]] - xy[index[b]])))
            seconds = dist * detour / speed_ms
            if kind == "2":
                try:
                    value = float(str(r.get("min_transfer_time")).strip())
                except ValueError:
                    value = float("nan")
                if not np.isfinite(value) or value < 0:
                    raise ApgeoValueError(
                        f"{src} row {i + 2}: transfer_type 2 needs min_transfer_time in "
                        f"seconds >= 0, got {r.get('min_transfer_time')!r}"
                    )
                seconds = float(value)
            rows.append(
                {
                    "from_stop_id": a,
                    "to_stop_id": b,
                    "distance_m": dist,
                    TRAVEL_TIME_S: seconds,
                    "source": "transfers.txt",
                }
            )
    listed = pd.DataFrame(
        rows, columns=["from_stop_id", "to_stop_id", "distance_m", TRAVEL_TIME_S, "source"]
    ).drop_duplicates(["from_stop_id", "to_stop_id"], keep="last")
    return listed, pd.DataFrame(forbidden, columns=["from_stop_id", "to_stop_id"]), skipped


# ---- the engine ---------------------------------------------------------------------------


class MultiFeedTransitEngine(TransitEngine):
    """:class:`apgeo.transit.TransitEngine` on a :class:`MergedFeed`, with its transfers.

    The merged feed's transfers are passed as the engine's ``extra_transfers`` and its
    forbidden pairs as ``forbidden_transfers``: the engine's own walking transfers (within its
    ``transfer_radius_m``) are kept, a shorter time winning for a ``"walk"`` pair and the
    ``transfers.txt`` time always winning for a pair that file lists. Pass
    ``transfer_radius_m=0`` to use only the merged feed's transfers. ``walk_engine=None``
    times every walking leg as a straight line. Other parameters as
    :class:`~apgeo.transit.TransitEngine`.
    """

    def __init__(self, merged: MergedFeed, walk_engine: Any, **kwargs: Any) -> None:
        if not isinstance(merged, MergedFeed):
            raise ApgeoValueError(
                f"merged must be a MergedFeed (from merge_feeds), not {type(merged).__name__}"
            )
        for key in ("extra_transfers", "forbidden_transfers"):
            if key in kwargs:
                raise ApgeoValueError(
                    f"{key}: give them to merge_feeds (as transfers.txt) or use TransitEngine "
                    "directly; MultiFeedTransitEngine takes the merged feed's own"
                )
        self.merged = merged
        super().__init__(
            merged.feed,
            walk_engine,
            extra_transfers=merged.transfers,
            forbidden_transfers=merged.forbidden,
            **kwargs,
        )

    def record(self) -> dict[str, Any]:
        """Engine settings and the dates each feed was read for, for ``table.attrs``.

        Returns
        -------
        dict
            The engine's and the merged feed's records.
        """
        return {**super().record(), **self.merged.record()}


__all__ = [
    "DEFAULT_TRANSFER_RADIUS_M",
    "LoadedFeed",
    "MergedFeed",
    "MultiFeedTransitEngine",
    "choose_service_date",
    "load_feeds",
    "load_merged_feed",
    "merge_feeds",
    "read_feed_tables",
    "school_holidays",
    "trips_per_day",
]
