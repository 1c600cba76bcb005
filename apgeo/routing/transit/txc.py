"""TransXChange (TXC) timetables -> GTFS tables, with the standard library XML parser.

England's bus, tram and coach timetables are published on the Bus Open Data Service as
TransXChange XML: one file per line (or service) and operating period, usually in a zip.
:func:`read_transxchange` turns a zip of TXC files, a folder of them, or one ``.xml`` into
the GTFS tables (``agency``, ``stops``, ``routes``, ``trips``, ``stop_times``,
``calendar``, ``calendar_dates``) that :class:`apgeo.transit.TransitFeed` reads;
:func:`transxchange_to_gtfs` writes them as a GTFS zip.

How the TXC elements become GTFS
--------------------------------
* **Ids are local to each file.** TXC route, journey-pattern, section, timing-link and
  journey codes (``RT6``, ``JP4``, ``JPS45``, ``VJ679``) restart in every file, so every id
  is prefixed with a per-file key ``<LineName or ServiceCode>_<operating period start>``
  (``BLUE_20241215:VJ679``); a repeated key gets ``_2``, ``_3``... Converting several files
  without this links trips to the wrong routes.
* **Routes** are one per TXC ``Line`` (``route_short_name`` = ``LineName``), trips carry
  ``direction_id`` (outbound 0, inbound 1) and ``trip_headsign`` (``DestinationDisplay``).
* **Stop times**: a journey leaves its first stop at ``DepartureTime`` (+ 24 h per
  ``DepartureDayShift``), then follows its journey pattern's sections
  (``JourneyPatternSectionRefs``, in order): each ``JourneyPatternTimingLink`` adds its
  ``RunTime`` (ISO-8601 duration, ``PT2M30S``) between the stops; ``WaitTime`` on a link's
  ``To`` and on the next link's ``From`` both count as dwell at that stop (arrival ->
  departure). A ``VehicleJourneyTimingLink`` overrides the run time, waits and activities
  of the pattern link it references. Times past midnight are written ``24:15:00`` etc.
  ``Activity`` ``pickUp`` / ``setDown`` / ``pass`` give ``drop_off_type`` /
  ``pickup_type`` 1 (``pass``: both).
* **Calendar**: the operating profile of the journey, else of its journey pattern, else of
  the service (none anywhere: Monday to Sunday, with a warning), within the service's
  ``OperatingPeriod`` (narrowed by a journey-level ``OperatingPeriod`` when present). An
  open period (no ``EndDate``) runs ``open_end_days`` (default 365) days from its start.
  ``RegularDayType/DaysOfWeek`` (``Monday`` ... ``Sunday``, ``MondayToFriday``,
  ``MondayToSaturday``, ``MondayToSunday``, ``Weekend``, ``NotMonday`` ...) gives
  ``calendar.txt``; ``HolidaysOnly`` runs on no regular day. ``BankHolidayOperation``
  days (England and Wales dates computed for each year: ``ChristmasDay``, ``BoxingDay``,
  ``GoodFriday``, ``EasterMonday``, ``MayDay``, ``SpringBank``,
  ``LateSummerBankHolidayNotScotland``, ``NewYearsDay``, ``ChristmasEve``,
  ``NewYearsEve``, the substitute ``...Holiday`` days and the groups such as
  ``AllBankHolidays``; one-off holidays through ``OtherPublicHoliday/Date``) and then
  ``SpecialDaysOperation`` date ranges (``DaysOfOperation`` added,
  ``DaysOfNonOperation`` removed, removal winning) become ``calendar_dates.txt``.
  Scottish-only holidays and ``ServicedOrganisation`` day types (school days) are not
  resolved: the journey keeps its regular days and a warning names them.
* **Stops**: coordinates from the TXC ``StopPoints`` (``AnnotatedStopPointRef`` or
  ``StopPoint`` ``Location``, either longitude/latitude or easting/northing in British
  National Grid), else from the ``stops`` table given, else from a NaPTAN ``stops.csv``
  inside the zip or folder (columns ``ATCOCode``, ``Longitude``, ``Latitude`` or
  ``Easting``, ``Northing``; also ``id``/``lat``/``lng`` and GTFS names); a stop found in
  none of them is an error that names it.

Not converted: frequency-based journeys (``Frequency``), journey interchanges, vehicle
types, flexible services and shapes.
"""

from __future__ import annotations

import io
import re
import time
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from apgeo._errors import ApgeoValueError, DataFileNotFoundError, MissingColumnError
from apgeo._log import logger, warn

#: GTFS ``route_type`` for TXC ``Mode`` values (unknown modes are buses, 3).
ROUTE_TYPES: dict[str, int] = {
    "tram": 0,
    "metro": 1,
    "underground": 1,
    "rail": 2,
    "bus": 3,
    "coach": 3,
    "ferry": 4,
    "cableCar": 5,
    "telecabin": 6,
    "funicular": 7,
    "trolleyBus": 11,
}
#: Days a service runs when no operating profile is given anywhere.
DEFAULT_DAYS = (0, 1, 2, 3, 4, 5, 6)
#: Length of an open operating period (no ``EndDate``), in days.
DEFAULT_OPEN_END_DAYS = 365
AGENCY_URL = "https://data.bus-data.dft.gov.uk/"
TIMEZONE = "Europe/London"
WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_DAY_SETS: dict[str, tuple[int, ...]] = {
    "Monday": (0,),
    "Tuesday": (1,),
    "Wednesday": (2,),
    "Thursday": (3,),
    "Friday": (4,),
    "Saturday": (5,),
    "Sunday": (6,),
    "MondayToFriday": (0, 1, 2, 3, 4),
    "MondayToSaturday": (0, 1, 2, 3, 4, 5),
    "MondayToSunday": (0, 1, 2, 3, 4, 5, 6),
    "Weekend": (5, 6),
    **{
        f"Not{name.capitalize()}": tuple(d for d in range(7) if d != i)
        for i, name in enumerate(WEEKDAY_NAMES)
    },
}
_HOLIDAY_GROUPS: dict[str, tuple[str, ...]] = {
    "AllBankHolidays": (
        "ChristmasDay",
        "BoxingDay",
        "GoodFriday",
        "NewYearsDay",
        "LateSummerBankHolidayNotScotland",
        "MayDay",
        "EasterMonday",
        "SpringBank",
        "ChristmasDayHoliday",
        "BoxingDayHoliday",
        "NewYearsDayHoliday",
    ),
    "AllHolidaysExceptChristmas": (
        "GoodFriday",
        "NewYearsDay",
        "LateSummerBankHolidayNotScotland",
        "MayDay",
        "EasterMonday",
        "SpringBank",
        "NewYearsDayHoliday",
    ),
    "Christmas": ("ChristmasDay", "BoxingDay"),
    "DisplacementHolidays": ("ChristmasDayHoliday", "BoxingDayHoliday", "NewYearsDayHoliday"),
    "EarlyRunOff": ("ChristmasEve", "NewYearsEve"),
    "HolidayMondays": ("LateSummerBankHolidayNotScotland", "MayDay", "EasterMonday", "SpringBank"),
}
_SCOTTISH = {"Jan2ndScotland", "Jan2ndScotlandHoliday", "StAndrewsDay", "StAndrewsDayHoliday",
             "AugustBankHolidayScotland"}  # fmt: skip
_DURATION_RE = re.compile(r"^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


# ---- public types -------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class GtfsTables:
    """GTFS tables as DataFrames of strings (one attribute per file, without ``.txt``).

    ``stops.stop_lat`` / ``stop_lon`` are degrees (EPSG:4326); stop times are GTFS
    ``HH:MM:SS`` strings whose hours may pass 24. ``files`` lists the TXC files read with
    their per-file id key and number of journeys.
    """

    agency: pd.DataFrame
    stops: pd.DataFrame
    routes: pd.DataFrame
    trips: pd.DataFrame
    stop_times: pd.DataFrame
    calendar: pd.DataFrame
    calendar_dates: pd.DataFrame
    files: pd.DataFrame = field(default_factory=pd.DataFrame)

    def as_dict(self) -> dict[str, pd.DataFrame]:
        """The tables keyed by GTFS file name (``"stops.txt"`` ...), as
        :meth:`apgeo.transit.TransitFeed.from_frames` takes them."""
        return {
            "agency.txt": self.agency,
            "stops.txt": self.stops,
            "routes.txt": self.routes,
            "trips.txt": self.trips,
            "stop_times.txt": self.stop_times,
            "calendar.txt": self.calendar,
            "calendar_dates.txt": self.calendar_dates,
        }


# ---- small parsers ------------------------------------------------------------------------


def parse_duration_s(value: str | None, *, where: str = "duration") -> int:
    """Seconds of an ISO-8601 duration as TXC writes them (``PT2M30S`` -> 150).

    ``None`` or an empty string is 0. Days (``P1D``) count 86,400 s; fractional seconds are
    rounded to whole seconds.

    >>> parse_duration_s("PT1H2M3S")
    3723
    """
    if value is None or not value.strip():
        return 0
    match = _DURATION_RE.match(value.strip())
    if not match or value.strip() in ("P", "PT") or value.strip().endswith("T"):
        raise ApgeoValueError(
            f"{where}: {value!r} is not an ISO-8601 duration; TXC writes run and wait times "
            "like PT2M30S"
        )
    sign, d, h, m, s = match.groups()
    total = int(d or 0) * 86_400 + int(h or 0) * 3600 + int(m or 0) * 60 + float(s or 0)
    if sign:
        raise ApgeoValueError(f"{where}: negative duration {value!r}; run and wait times are >= 0")
    return round(total)


def format_gtfs_time(seconds: int) -> str:
    """``HH:MM:SS`` with hours past 24 for times after midnight (90,600 -> ``25:10:00``)."""
    s = int(seconds)
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _parse_clock_s(value: str, *, where: str) -> int:
    parts = value.strip().split(":")
    if len(parts) in (2, 3) and all(p.isdigit() for p in parts):
        h, m = int(parts[0]), int(parts[1])
        s = int(parts[2]) if len(parts) == 3 else 0
        if m < 60 and s < 60:
            return h * 3600 + m * 60 + s
    raise ApgeoValueError(f"{where}: DepartureTime {value!r} is not a clock time HH:MM:SS")


def _parse_date(value: str, *, where: str) -> date:
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        raise ApgeoValueError(f"{where}: {value!r} is not a date YYYY-MM-DD") from None


def easter_sunday(year: int) -> date:
    """Western Easter Sunday (anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ll = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ll) // 451
    month, day = divmod(h + ll - 7 * m + 114, 31)
    return date(year, month, day + 1)


def _first_monday(year: int, month: int) -> date:
    d = date(year, month, 1)
    return d + timedelta(days=(7 - d.weekday()) % 7)


def _last_monday(year: int, month: int) -> date:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    d = nxt - timedelta(days=1)
    return d - timedelta(days=d.weekday())


def bank_holidays(year: int) -> dict[str, date]:
    """England and Wales bank holidays (and Christmas / New Year's Eve) of ``year``, by TXC name.

    Substitute days (``ChristmasDayHoliday`` ...) are present only in years that have one.
    One-off holidays (2022 jubilee, 2023 coronation) and the moved 2020 May Day are not
    rules; TXC files state them as ``OtherPublicHoliday``.
    """
    easter = easter_sunday(year)
    out = {
        "NewYearsDay": date(year, 1, 1),
        "GoodFriday": easter - timedelta(days=2),
        "EasterMonday": easter + timedelta(days=1),
        "MayDay": _first_monday(year, 5),
        "SpringBank": _last_monday(year, 5),
        "LateSummerBankHolidayNotScotland": _last_monday(year, 8),
        "ChristmasEve": date(year, 12, 24),
        "ChristmasDay": date(year, 12, 25),
        "BoxingDay": date(year, 12, 26),
        "NewYearsEve": date(year, 12, 31),
    }
    ny = date(year, 1, 1).weekday()
    if ny >= 5:
        out["NewYearsDayHoliday"] = date(year, 1, 1) + timedelta(days=7 - ny)
    xmas = date(year, 12, 25).weekday()
    if xmas == 5:  # Saturday: Christmas on Monday 27, Boxing Day on Tuesday 28
        out["ChristmasDayHoliday"] = date(year, 12, 27)
        out["BoxingDayHoliday"] = date(year, 12, 28)
    elif xmas == 6:  # Sunday: Christmas on Tuesday 27 (Boxing Day is Monday 26)
        out["ChristmasDayHoliday"] = date(year, 12, 27)
    elif xmas == 4:  # Friday: Boxing Day (Saturday) on Monday 28
        out["BoxingDayHoliday"] = date(year, 12, 28)
    return out


# ---- reading the input --------------------------------------------------------------------


@dataclass
class _Source:
    name: str
    raw: bytes


def _sources(path: Path) -> tuple[list[_Source], _Source | None]:
    """TXC XML files and a NaPTAN ``stops.csv`` (if any) from a zip, folder or file."""
    if not path.exists():
        raise DataFileNotFoundError(
            f"TransXChange input not found at {path}; pass a .zip of TXC files (as downloaded "
            "from the Bus Open Data Service), a folder of .xml files or one .xml file"
        )
    xml: list[_Source] = []
    naptan: _Source | None = None
    if path.is_dir():
        for p in sorted(path.rglob("*")):
            if p.is_file() and p.suffix.lower() == ".xml":
                xml.append(_Source(str(p.relative_to(path)), p.read_bytes()))
            elif p.is_file() and p.name.lower() == "stops.csv" and naptan is None:
                naptan = _Source(str(p.relative_to(path)), p.read_bytes())
    elif zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            for member in sorted(archive.namelist()):
                base = Path(member).name
                if member.endswith("/") or member.startswith("__MACOSX") or base.startswith("."):
                    continue
                if base.lower().endswith(".xml"):
                    xml.append(_Source(member, archive.read(member)))
                elif base.lower() == "stops.csv" and naptan is None:
                    naptan = _Source(member, archive.read(member))
    else:
        xml.append(_Source(path.name, path.read_bytes()))
    if not xml:
        raise ApgeoValueError(
            f"{path} holds no .xml file: it is not a TransXChange zip or folder; pass the zip "
            "of TXC timetables (e.g. from the Bus Open Data Service)"
        )
    return xml, naptan


# ---- one TXC file -------------------------------------------------------------------------


@dataclass
class _Link:
    link_id: str
    from_stop: str
    to_stop: str
    run_s: int
    from_wait_s: int
    to_wait_s: int
    from_activity: str | None
    to_activity: str | None
    from_timing: str | None
    to_timing: str | None


@dataclass
class _Profile:
    """An operating profile: regular weekdays and date exceptions (within the period)."""

    days: tuple[int, ...]
    bank_on: tuple[str, ...] = ()
    bank_off: tuple[str, ...] = ()
    other_on: tuple[date, ...] = ()
    other_off: tuple[date, ...] = ()
    special_on: tuple[tuple[date, date], ...] = ()
    special_off: tuple[tuple[date, date], ...] = ()
    serviced_org: bool = False

    def key(self) -> tuple[Any, ...]:
        return (
            self.days,
            self.bank_on,
            self.bank_off,
            self.other_on,
            self.other_off,
            self.special_on,
            self.special_off,
        )


class _File:
    """Parses one TXC document into rows of GTFS tables (ids not yet prefixed)."""

    def __init__(self, source: _Source) -> None:
        self.name = source.name
        try:
            root = ET.parse(io.BytesIO(source.raw)).getroot()
        except ET.ParseError as exc:
            raise ApgeoValueError(
                f"{self.name} is not a TransXChange file: it is not well-formed XML ({exc}); "
                "pass TXC .xml files (root element <TransXChange>)"
            ) from None
        tag = root.tag
        if not tag.endswith("TransXChange"):
            raise ApgeoValueError(
                f"{self.name} is not a TransXChange file: its root element is "
                f"<{tag.split('}')[-1]}>, not <TransXChange>; pass TXC timetables"
            )
        self.ns = tag[: -len("TransXChange")]
        self.root = root
        self._paths: dict[str, str] = {}

    # -- helpers
    def q(self, path: str) -> str:
        """Qualify a slash path of element names with the namespace (memoised)."""
        qualified = self._paths.get(path)
        if qualified is None:
            qualified = "/".join(p if p.startswith(".") else self.ns + p for p in path.split("/"))
            self._paths[path] = qualified
        return qualified

    def find(self, el: ET.Element | None, path: str) -> ET.Element | None:
        return None if el is None else el.find(self.q(path))

    def findall(self, el: ET.Element | None, path: str) -> list[ET.Element]:
        return [] if el is None else el.findall(self.q(path))

    def text(self, el: ET.Element | None, path: str) -> str | None:
        found = self.find(el, path)
        if found is None or found.text is None:
            return None
        value = found.text.strip()
        return value or None

    def children(self, el: ET.Element | None) -> list[str]:
        return [] if el is None else [c.tag[len(self.ns) :] for c in el]

    # -- pieces
    def stop_points(self) -> tuple[dict[str, str], dict[str, tuple[float, float, str]]]:
        """Names of the stops, and coordinates ``(lon, lat, crs)`` where the file has them."""
        names: dict[str, str] = {}
        coords: dict[str, tuple[float, float, str]] = {}
        sp = self.find(self.root, "StopPoints")
        for ref in self.findall(sp, "AnnotatedStopPointRef"):
            code = self.text(ref, "StopPointRef")
            if code:
                names[code] = self.text(ref, "CommonName") or code
                loc = ref.find(f".//{self.ns}Location")
                xy = self._location(loc)
                if xy:
                    coords[code] = xy
        for stop in self.findall(sp, "StopPoint"):
            code = self.text(stop, "AtcoCode")
            if code:
                names[code] = self.text(stop, "Descriptor/CommonName") or code
                xy = self._location(stop.find(f".//{self.ns}Location"))
                if xy:
                    coords[code] = xy
        return names, coords

    def _location(self, loc: ET.Element | None) -> tuple[float, float, str] | None:
        if loc is None:
            return None
        lon = loc.find(f".//{self.ns}Longitude")
        lat = loc.find(f".//{self.ns}Latitude")
        try:
            if lon is not None and lat is not None and lon.text and lat.text:
                return float(lon.text), float(lat.text), "EPSG:4326"
            east = loc.find(f".//{self.ns}Easting")
            north = loc.find(f".//{self.ns}Northing")
            if east is not None and north is not None and east.text and north.text:
                return float(east.text), float(north.text), "EPSG:27700"
        except ValueError:
            return None
        return None

    def sections(self) -> dict[str, list[_Link]]:
        out: dict[str, list[_Link]] = {}
        for sec in self.findall(self.root, "JourneyPatternSections/JourneyPatternSection"):
            sid = sec.get("id", "")
            links: list[_Link] = []
            for link in self.findall(sec, "JourneyPatternTimingLink"):
                lid = link.get("id", "")
                where = f"{self.name}: JourneyPatternTimingLink {lid}"
                fr, to = self.find(link, "From"), self.find(link, "To")
                from_stop = self.text(fr, "StopPointRef")
                to_stop = self.text(to, "StopPointRef")
                if not from_stop or not to_stop:
                    raise ApgeoValueError(
                        f"{where} lacks a From or To StopPointRef; each timing link joins two stops"
                    )
                links.append(
                    _Link(
                        link_id=lid,
                        from_stop=from_stop,
                        to_stop=to_stop,
                        run_s=parse_duration_s(self.text(link, "RunTime"), where=where),
                        from_wait_s=parse_duration_s(self.text(fr, "WaitTime"), where=where),
                        to_wait_s=parse_duration_s(self.text(to, "WaitTime"), where=where),
                        from_activity=self.text(fr, "Activity"),
                        to_activity=self.text(to, "Activity"),
                        from_timing=self.text(fr, "TimingStatus"),
                        to_timing=self.text(to, "TimingStatus"),
                    )
                )
            out[sid] = links
        return out

    def profile(self, el: ET.Element | None, where: str) -> _Profile | None:
        """Parse an ``OperatingProfile`` element (``None`` when absent)."""
        if el is None:
            return None
        regular = self.find(el, "RegularDayType")
        days: set[int] = set()
        if regular is not None:
            dow = self.find(regular, "DaysOfWeek")
            for name in self.children(dow):
                if name not in _DAY_SETS:
                    raise ApgeoValueError(
                        f"{where}: unknown DaysOfWeek element <{name}>; expected one of "
                        f"{', '.join(sorted(_DAY_SETS))}"
                    )
                days |= set(_DAY_SETS[name])
            if dow is None and self.find(regular, "HolidaysOnly") is None:
                days = set(DEFAULT_DAYS)
        elif (
            self.find(el, "BankHolidayOperation") is None
            and self.find(el, "SpecialDaysOperation") is None
        ):
            days = set(DEFAULT_DAYS)

        def holidays(path: str) -> tuple[tuple[str, ...], tuple[date, ...]]:
            names: list[str] = []
            dates: list[date] = []
            for child in self.findall(el, f"BankHolidayOperation/{path}"):
                for item in child:
                    name = item.tag[len(self.ns) :]
                    if name == "OtherPublicHoliday":
                        text = self.text(item, "Date")
                        if text:
                            dates.append(_parse_date(text, where=where))
                    else:
                        names.extend(_HOLIDAY_GROUPS.get(name, (name,)))
            return tuple(sorted(set(names))), tuple(sorted(set(dates)))

        def ranges(path: str) -> tuple[tuple[date, date], ...]:
            out: list[tuple[date, date]] = []
            for rng in self.findall(el, f"SpecialDaysOperation/{path}/DateRange"):
                start = self.text(rng, "StartDate")
                end = self.text(rng, "EndDate") or start
                if start and end:
                    out.append((_parse_date(start, where=where), _parse_date(end, where=where)))
            return tuple(sorted(set(out)))

        bank_on, other_on = holidays("DaysOfOperation")
        bank_off, other_off = holidays("DaysOfNonOperation")
        return _Profile(
            days=tuple(sorted(days)),
            bank_on=bank_on,
            bank_off=bank_off,
            other_on=other_on,
            other_off=other_off,
            special_on=ranges("DaysOfOperation"),
            special_off=ranges("DaysOfNonOperation"),
            serviced_org=self.find(el, "ServicedOrganisationDayType") is not None,
        )

    def period(self, el: ET.Element | None, where: str) -> tuple[date | None, date | None]:
        if el is None:
            return None, None
        start = self.text(el, "StartDate")
        end = self.text(el, "EndDate")
        return (
            _parse_date(start, where=where) if start else None,
            _parse_date(end, where=where) if end else None,
        )


# ---- conversion ---------------------------------------------------------------------------


_STOP_TIME_COLUMNS = (
    "trip_id",
    "arrival_time",
    "departure_time",
    "stop_id",
    "stop_sequence",
    "pickup_type",
    "drop_off_type",
    "timepoint",
)


@dataclass
class _Tables:
    """Row lists of all files together."""

    agency: dict[str, dict[str, str]] = field(default_factory=dict)
    routes: list[dict[str, Any]] = field(default_factory=list)
    trips: list[dict[str, Any]] = field(default_factory=list)
    stop_times: dict[str, list[Any]] = field(
        default_factory=lambda: {k: [] for k in _STOP_TIME_COLUMNS}
    )
    calendar: list[dict[str, Any]] = field(default_factory=list)
    calendar_dates: list[dict[str, Any]] = field(default_factory=list)
    stop_names: dict[str, str] = field(default_factory=dict)
    stop_coords: dict[str, tuple[float, float, str]] = field(default_factory=dict)
    stop_files: dict[str, str] = field(default_factory=dict)
    files: list[dict[str, Any]] = field(default_factory=list)
    keys: set[str] = field(default_factory=set)
    key_order: list[str] = field(default_factory=list)
    no_profile: list[str] = field(default_factory=list)
    serviced_org: list[str] = field(default_factory=list)
    scottish: set[str] = field(default_factory=set)


def _dates(start: date, end: date) -> Iterator[date]:
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


def _exceptions(profile: _Profile, start: date, end: date) -> tuple[list[date], list[date]]:
    """Dates added (type 1) and removed (type 2) relative to the regular weekdays."""
    on: set[date] = set(profile.other_on)
    off: set[date] = set(profile.other_off)
    if profile.bank_on or profile.bank_off:
        for year in range(start.year, end.year + 1):
            holidays = bank_holidays(year)
            on |= {holidays[n] for n in profile.bank_on if n in holidays}
            off |= {holidays[n] for n in profile.bank_off if n in holidays}
    for a, b in profile.special_on:
        on |= set(_dates(max(a, start), min(b, end)))
    for a, b in profile.special_off:
        off |= set(_dates(max(a, start), min(b, end)))
    # bank holiday non-operation beats the regular days; special days beat bank holidays;
    # a day both added and removed is removed
    added: list[date] = []
    removed: list[date] = []
    regular = set(profile.days)
    for d in sorted(on | off):
        if not start <= d <= end:
            continue
        runs = d.weekday() in regular
        final = d not in off and (d in on or runs)
        if final and not runs:
            added.append(d)
        elif runs and not final:
            removed.append(d)
    return added, removed


def _file_key(file: _File, line_name: str, start: date | None, taken: set[str]) -> str:
    base = re.sub(r"[^A-Za-z0-9]+", "", line_name) or "TXC"
    base = f"{base}_{start:%Y%m%d}" if start else base
    key, n = base, 1
    while key in taken:
        n += 1
        key = f"{base}_{n}"
    taken.add(key)
    return key


def _convert_file(file: _File, out: _Tables, *, open_end_days: int) -> int:
    """Add one file's rows to ``out``; return its number of journeys."""
    q = file.q
    names, coords = file.stop_points()
    for code, name in names.items():
        out.stop_names.setdefault(code, name)
        out.stop_files.setdefault(code, file.name)
    for code, xy in coords.items():
        out.stop_coords.setdefault(code, xy)
    operators: dict[str, dict[str, str]] = {}
    for op in file.findall(file.root, "Operators/Operator") + file.findall(
        file.root, "Operators/LicensedOperator"
    ):
        code = (
            file.text(op, "NationalOperatorCode")
            or file.text(op, "OperatorCode")
            or op.get("id")
            or "OP"
        )
        operators[op.get("id", code)] = {
            "agency_id": code,
            "agency_name": file.text(op, "TradingName")
            or file.text(op, "OperatorNameOnLicence")
            or file.text(op, "OperatorShortName")
            or code,
            "agency_url": file.text(op, "WWW") or AGENCY_URL,
            "agency_timezone": TIMEZONE,
            "agency_lang": "en",
        }
    journeys = file.findall(file.root, "VehicleJourneys/VehicleJourney")
    if not journeys:
        return 0
    sections = file.sections()
    services = file.findall(file.root, "Services/Service")
    if not services:
        raise ApgeoValueError(
            f"{file.name}: no <Services><Service>; a TransXChange timetable needs its service"
        )
    # per service: key, period, profile, lines, patterns
    service_info: dict[str, dict[str, Any]] = {}
    pattern_info: dict[str, dict[str, Any]] = {}
    line_route: dict[str, str] = {}
    for svc in services:
        code = file.text(svc, "ServiceCode") or "SERVICE"
        where = f"{file.name}: Service {code}"
        start, end = file.period(file.find(svc, "OperatingPeriod"), where)
        if start is None:
            raise ApgeoValueError(f"{where} has no OperatingPeriod/StartDate; TXC requires one")
        lines = file.findall(svc, "Lines/Line")
        first_line = (file.text(lines[0], "LineName") if lines else None) or code
        key = _file_key(file, first_line, start, out.keys)
        out.key_order.append(key)
        end = end or start + timedelta(days=open_end_days)
        op_ref = file.text(svc, "RegisteredOperatorRef")
        agency = operators.get(op_ref or "") or next(iter(operators.values()), None)
        if agency is None:
            agency = {
                "agency_id": "TXC",
                "agency_name": "Unknown operator",
                "agency_url": AGENCY_URL,
                "agency_timezone": TIMEZONE,
                "agency_lang": "en",
            }
        out.agency.setdefault(agency["agency_id"], agency)
        mode = file.text(svc, "Mode") or "bus"
        descr = file.text(svc, "Description")
        std = file.find(svc, "StandardService")
        origin, destination = file.text(std, "Origin"), file.text(std, "Destination")
        for line in lines:
            line_id = line.get("id", "")
            route_id = f"{key}:{line_id}"
            line_route[line_id] = route_id
            out.routes.append(
                {
                    "route_id": route_id,
                    "agency_id": agency["agency_id"],
                    "route_short_name": file.text(line, "LineName") or code,
                    "route_long_name": descr
                    or (f"{origin} - {destination}" if origin and destination else ""),
                    "route_type": ROUTE_TYPES.get(mode, 3),
                }
            )
        service_info[code] = {
            "key": key,
            "start": start,
            "end": end,
            "profile": file.profile(file.find(svc, "OperatingProfile"), where),
            "first_route": line_route[lines[0].get("id", "")] if lines else None,
        }
        for jp in file.findall(std, "JourneyPattern"):
            pattern_id = jp.get("id", "")
            refs = [r.text.strip() for r in jp.findall(q("JourneyPatternSectionRefs")) if r.text]
            missing = [r for r in refs if r not in sections]
            if missing:
                raise ApgeoValueError(
                    f"{file.name}: JourneyPattern {pattern_id} refers to JourneyPatternSection(s) "
                    f"{missing} that the file does not define"
                )
            pattern_info[pattern_id] = {
                "service": code,
                "links": [link for r in refs for link in sections[r]],
                "direction": file.text(jp, "Direction"),
                "headsign": file.text(jp, "DestinationDisplay"),
                "profile": file.profile(file.find(jp, "OperatingProfile"), f"{where} {pattern_id}"),
            }
    first_code = file.text(services[0], "ServiceCode") or "SERVICE"
    calendar_ids: dict[tuple[Any, ...], str] = {}
    vj_patterns: dict[str, str] = {}
    trip_ids: set[str] = set()
    st = out.stop_times
    for vj in journeys:
        vj_code = file.text(vj, "VehicleJourneyCode") or vj.get("SequenceNumber") or ""
        where = f"{file.name}: VehicleJourney {vj_code}"
        jp_id = file.text(vj, "JourneyPatternRef")
        if jp_id is None:
            ref = file.text(vj, "VehicleJourneyRef")
            jp_id = vj_patterns.get(ref or "")
        if jp_id is None or jp_id not in pattern_info:
            raise ApgeoValueError(
                f"{where} has no JourneyPatternRef the file defines (got {jp_id!r}); every "
                "journey needs its journey pattern"
            )
        vj_patterns[vj_code] = jp_id
        pat = pattern_info[jp_id]
        info = service_info.get(file.text(vj, "ServiceRef") or pat["service"]) or service_info.get(
            pat["service"], service_info[first_code]
        )
        key = info["key"]
        dep_text = file.text(vj, "DepartureTime")
        if dep_text is None:
            raise ApgeoValueError(f"{where} has no DepartureTime")
        shift = int(file.text(vj, "DepartureDayShift") or 0)
        t = _parse_clock_s(dep_text, where=where) + 86_400 * shift
        profile = (
            file.profile(file.find(vj, "OperatingProfile"), where)
            or pat["profile"]
            or info["profile"]
        )
        if profile is None:
            out.no_profile.append(f"{key}:{vj_code}")
            profile = _Profile(days=DEFAULT_DAYS)
        if profile.serviced_org:
            out.serviced_org.append(f"{key}:{vj_code}")
        out.scottish |= {n for n in (*profile.bank_on, *profile.bank_off) if n in _SCOTTISH}
        start, end = info["start"], info["end"]
        vj_start, vj_end = file.period(file.find(vj, "OperatingPeriod"), where)
        start = max(start, vj_start) if vj_start else start
        end = min(end, vj_end) if vj_end else end
        cal_key = (key, start, end, *profile.key())
        service_id = calendar_ids.get(cal_key)
        if service_id is None:
            label = _days_label(profile.days)
            service_id = f"{key}:{label}_{len(calendar_ids) + 1}"
            calendar_ids[cal_key] = service_id
            out.calendar.append(
                {
                    "service_id": service_id,
                    **{n: int(i in profile.days) for i, n in enumerate(WEEKDAY_NAMES)},
                    "start_date": f"{start:%Y%m%d}",
                    "end_date": f"{end:%Y%m%d}",
                }
            )
            added, removed = _exceptions(profile, start, end)
            out.calendar_dates.extend(
                {"service_id": service_id, "date": f"{d:%Y%m%d}", "exception_type": 1}
                for d in added
            )
            out.calendar_dates.extend(
                {"service_id": service_id, "date": f"{d:%Y%m%d}", "exception_type": 2}
                for d in removed
            )
        trip_id = f"{key}:{vj_code}"
        if trip_id in trip_ids:
            raise ApgeoValueError(
                f"{where}: VehicleJourneyCode {vj_code!r} repeats in the file; journey codes "
                "must be unique within a TXC file"
            )
        trip_ids.add(trip_id)
        line_ref = file.text(vj, "LineRef")
        route_id = line_route.get(line_ref or "") or info["first_route"]
        if route_id is None:
            raise ApgeoValueError(f"{where}: no Line to attach the journey to")
        direction = {"outbound": "0", "inbound": "1"}.get(pat["direction"] or "", "")
        out.trips.append(
            {
                "route_id": route_id,
                "service_id": service_id,
                "trip_id": trip_id,
                "trip_headsign": pat["headsign"] or "",
                "direction_id": direction,
            }
        )
        overrides = _overrides(file, vj, where)
        links: list[_Link] = pat["links"]
        if not links:
            raise ApgeoValueError(f"{where}: its journey pattern {jp_id} has no timing links")
        calls: list[list[Any]] = []  # [stop, arrival_s, departure_s, activity, timing]
        for link in links:
            o = overrides.get(link.link_id, {})
            run = o.get("run_s", link.run_s)
            from_wait = o.get("from_wait_s", link.from_wait_s)
            to_wait = o.get("to_wait_s", link.to_wait_s)
            from_act = o.get("from_activity", link.from_activity)
            to_act = o.get("to_activity", link.to_activity)
            if not calls:  # DepartureTime is the departure from the first stop
                calls.append([link.from_stop, max(t - from_wait, 0), t, from_act, link.from_timing])
            elif calls[-1][0] != link.from_stop:  # sections that do not join: no dwell
                calls.append([link.from_stop, t, t + from_wait, from_act, link.from_timing])
            else:  # dwell at a stop: To-wait of the link in + From-wait of the link out
                calls[-1][2] += from_wait
                calls[-1][3] = from_act or calls[-1][3]
            t = calls[-1][2] + run
            calls.append([link.to_stop, t, t + to_wait, to_act, link.to_timing])
            t += to_wait
        for seq, (stop, arr_s, dep_s, act, timing) in enumerate(calls, start=1):
            _add_stop_time(st, trip_id, arr_s, dep_s, stop, seq, act, timing)
    return len(journeys)


def _days_label(days: tuple[int, ...]) -> str:
    for name in ("MondayToSunday", "MondayToSaturday", "MondayToFriday", "Weekend"):
        if tuple(_DAY_SETS[name]) == days:
            return name
    if not days:
        return "HolidaysOnly"
    return "".join(WEEKDAY_NAMES[d][:3].capitalize() for d in days)


def _overrides(file: _File, vj: ET.Element, where: str) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for link in file.findall(vj, "VehicleJourneyTimingLink"):
        ref = file.text(link, "JourneyPatternTimingLinkRef")
        if not ref:
            continue
        o: dict[str, Any] = {}
        run = file.text(link, "RunTime")
        if run is not None:
            o["run_s"] = parse_duration_s(run, where=where)
        for end in ("From", "To"):
            el = file.find(link, end)
            if el is None:
                continue
            wait = file.text(el, "WaitTime")
            if wait is not None:
                o[f"{end.lower()}_wait_s"] = parse_duration_s(wait, where=where)
            act = file.text(el, "Activity")
            if act is not None:
                o[f"{end.lower()}_activity"] = act
        if o:
            out[ref] = o
    return out


def _add_stop_time(
    st: dict[str, list[Any]],
    trip_id: str,
    arrival_s: int,
    departure_s: int,
    stop_id: str,
    seq: int,
    activity: str | None,
    timing: str | None,
) -> None:
    """Append one call; TXC ``Activity`` -> GTFS pickup / drop-off types (0 yes, 1 no)."""
    act = activity or "pickUpAndSetDown"
    st["trip_id"].append(trip_id)
    st["arrival_time"].append(format_gtfs_time(arrival_s))
    st["departure_time"].append(format_gtfs_time(departure_s))
    st["stop_id"].append(stop_id)
    st["stop_sequence"].append(seq)
    st["pickup_type"].append(0 if act in ("pickUp", "pickUpAndSetDown") else 1)
    st["drop_off_type"].append(0 if act in ("setDown", "pickUpAndSetDown") else 1)
    st["timepoint"].append(int(timing in ("PTP", "principalTimingPoint", "TIP", "timeInfoPoint")))


# ---- stops --------------------------------------------------------------------------------

_ID_COLUMNS = ("ATCOCode", "AtcoCode", "atco_code", "atcocode", "stop_id", "id")
_LONLAT_COLUMNS = (
    ("Longitude", "Latitude"),
    ("longitude", "latitude"),
    ("stop_lon", "stop_lat"),
    ("lon", "lat"),
    ("lng", "lat"),
)
_EN_COLUMNS = (("Easting", "Northing"), ("easting", "northing"))


def _stop_lookup(table: pd.DataFrame, source: str) -> pd.DataFrame:
    """``stop_id, stop_name, stop_lon, stop_lat`` (degrees) from a NaPTAN-like table."""
    id_col = next((c for c in _ID_COLUMNS if c in table.columns), None)
    if id_col is None:
        raise MissingColumnError(
            f"{source}: no stop id column; expected one of {', '.join(_ID_COLUMNS)} "
            f"(found {', '.join(map(str, table.columns[:15]))})"
        )
    ids = table[id_col].astype(str).str.strip()
    name = pd.Series(ids.to_numpy(), index=table.index)
    for col in ("CommonName", "name", "stop_name"):
        if col in table.columns:
            name = table[col].fillna("").astype(str).str.strip()
            if "Indicator" in table.columns:
                ind = table["Indicator"].fillna("").astype(str).str.strip()
                has = [i != "" and not n.endswith(i) for n, i in zip(name, ind, strict=True)]
                name = name.where(~pd.Series(has, index=name.index), name + " " + ind)
            break
    lon = lat = None
    for x, y in _LONLAT_COLUMNS:
        if x in table.columns and y in table.columns:
            lon = pd.to_numeric(table[x], errors="coerce")
            lat = pd.to_numeric(table[y], errors="coerce")
            break
    for x, y in _EN_COLUMNS:
        if x in table.columns and y in table.columns:
            east = pd.to_numeric(table[x], errors="coerce")
            north = pd.to_numeric(table[y], errors="coerce")
            need = (
                (lon.isna() | lat.isna())
                if lon is not None and lat is not None
                else pd.Series(True, index=table.index)
            )
            if need.any():
                from pyproj import Transformer

                tr = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
                ex, ny = tr.transform(east.to_numpy(float), north.to_numpy(float))
                if lon is None or lat is None:
                    lon = pd.Series(ex, index=table.index)
                    lat = pd.Series(ny, index=table.index)
                else:
                    lon = lon.where(~need, pd.Series(ex, index=table.index))
                    lat = lat.where(~need, pd.Series(ny, index=table.index))
            break
    if lon is None or lat is None:
        raise MissingColumnError(
            f"{source}: no coordinate columns; expected Longitude/Latitude (or lon/lat, "
            "stop_lon/stop_lat) or Easting/Northing"
        )
    out = pd.DataFrame(
        {"stop_id": ids, "stop_name": name, "stop_lon": lon, "stop_lat": lat}
    ).dropna(subset=["stop_lon", "stop_lat"])
    return out.drop_duplicates("stop_id").set_index("stop_id")


def _read_stop_table(stops: pd.DataFrame | str | Path, label: str) -> pd.DataFrame:
    if isinstance(stops, pd.DataFrame):
        return _stop_lookup(stops, label)
    p = Path(stops).expanduser()
    if not p.is_file():
        raise DataFileNotFoundError(
            f"stops={stops!r}: no file there; pass a NaPTAN stops CSV (ATCOCode, Longitude, "
            "Latitude) or a DataFrame"
        )
    return _stop_lookup(_csv(p.read_bytes(), str(p)), str(p))


def _csv(raw: bytes, source: str) -> pd.DataFrame:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1252 decodes almost anything
        raise ApgeoValueError(f"{source}: cannot decode as UTF-8")
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])


def _stops_table(
    out: _Tables, used: Iterable[str], stops: pd.DataFrame | None, naptan: _Source | None
) -> pd.DataFrame:
    from pyproj import Transformer

    used = sorted(set(used))
    rows: dict[str, tuple[str, float, float]] = {}
    bng = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    for code in used:
        if code in out.stop_coords:
            x, y, crs = out.stop_coords[code]
            if crs != "EPSG:4326":
                x, y = bng.transform(x, y)
            rows[code] = (out.stop_names.get(code, code), float(x), float(y))
    lookups: list[pd.DataFrame] = []
    if stops is not None:
        lookups.append(stops)
    missing = [c for c in used if c not in rows]
    if missing and naptan is not None:
        lookups.append(_stop_lookup(_csv(naptan.raw, naptan.name), naptan.name))
    for lookup in lookups:
        found = lookup.loc[lookup.index.isin([c for c in used if c not in rows])]
        for code, name, lon, lat in zip(
            found.index, found["stop_name"], found["stop_lon"], found["stop_lat"], strict=True
        ):
            rows[str(code)] = (str(name) or out.stop_names.get(code, code), float(lon), float(lat))
    missing = [c for c in used if c not in rows]
    if missing:
        listed = ", ".join(
            f"{c} ({out.stop_names.get(c, '?')}, in {out.stop_files.get(c, '?')})"
            for c in missing[:10]
        )
        raise ApgeoValueError(
            f"{len(missing)} stop(s) with stop times have no coordinates: {listed}"
            + (f" ... ({len(missing)} in all)" if len(missing) > 10 else "")
            + ". The TXC files give no Location for them and no stops table lists them: pass "
            "stops=<NaPTAN Stops.csv> (columns ATCOCode, Longitude, Latitude; download from "
            "https://naptan.api.dft.gov.uk/) or put stops.csv in the zip"
        )
    return pd.DataFrame(
        {
            "stop_id": list(rows),
            "stop_name": [v[0] for v in rows.values()],
            "stop_lat": [f"{v[2]:.8f}" for v in rows.values()],
            "stop_lon": [f"{v[1]:.8f}" for v in rows.values()],
        }
    )


# ---- public functions ---------------------------------------------------------------------


def read_transxchange(
    path: str | Path,
    *,
    stops: pd.DataFrame | str | Path | None = None,
    open_end_days: int = DEFAULT_OPEN_END_DAYS,
    strict: bool = False,
) -> GtfsTables:
    """Read TransXChange timetables and convert them to GTFS tables.

    Parameters
    ----------
    path
        A zip of TXC ``.xml`` files (as the Bus Open Data Service publishes them), a folder of
        them, or one ``.xml`` file. A ``stops.csv`` (NaPTAN) in the zip or folder is used for
        stop coordinates the XML lacks.
    stops
        A NaPTAN stops table (DataFrame or CSV path; ``ATCOCode`` and ``Longitude`` /
        ``Latitude`` or ``Easting`` / ``Northing``) for stops without a TXC ``Location``;
        it is searched before the zip's ``stops.csv``.
    open_end_days
        Days an operating period without ``EndDate`` runs from its ``StartDate``.
    strict
        Turn warnings (skipped files, unresolved day types) into errors.

    Returns
    -------
    GtfsTables
        The GTFS tables; every route, trip and service id starts with its file's key
        (``BLUE_20241215:``); stop ids are the NaPTAN ATCO codes.

    Raises
    ------
    DataFileNotFoundError
        Nothing at ``path``.
    ApgeoValueError
        Not TransXChange (not XML, another root element, no ``.xml`` in the zip), no
        vehicle journeys in any file, stops without coordinates (named), bad durations,
        dates or references (file and element named).
    """
    if not isinstance(open_end_days, int) or open_end_days < 1:
        raise ApgeoValueError(f"open_end_days={open_end_days!r}: give a whole number of days >= 1")
    started = time.perf_counter()
    p = Path(path).expanduser()
    sources, naptan = _sources(p)
    stop_table = None if stops is None else _read_stop_table(stops, "stops")
    out = _Tables()
    empty: list[str] = []
    for source in sources:
        file = _File(source)
        n_keys = len(out.key_order)
        n = _convert_file(file, out, open_end_days=open_end_days)
        new_keys = out.key_order[n_keys:]
        out.files.append({"file": source.name, "journeys": n, "keys": ",".join(new_keys)})
        if n == 0:
            empty.append(source.name)
        del file
    if len(empty) == len(sources):
        raise ApgeoValueError(
            f"{', '.join(empty[:5])}: no <VehicleJourney> in "
            + ("the file" if len(empty) == 1 else f"any of the {len(empty)} files")
            + "; a TransXChange timetable needs VehicleJourneys/VehicleJourney with a "
            "DepartureTime (a file of stops or routes only cannot be converted)"
        )
    if empty:
        warn(
            f"{len(empty)} TransXChange file(s) have no vehicle journeys and were skipped: "
            f"{', '.join(empty[:10])}",
            strict=strict,
        )
    if out.no_profile:
        warn(
            f"{len(out.no_profile)} journey(s) have no OperatingProfile at journey, pattern or "
            f"service level and run Monday to Sunday: {', '.join(out.no_profile[:5])}",
            strict=strict,
        )
    if out.serviced_org:
        warn(
            f"{len(out.serviced_org)} journey(s) run on serviced-organisation (e.g. school) "
            "days, which are not resolved: they run on their regular days instead: "
            f"{', '.join(out.serviced_org[:5])}",
            strict=strict,
        )
    if out.scottish:
        logger.info("Scottish bank holidays %s not applied", sorted(out.scottish))
    stop_times = pd.DataFrame(out.stop_times)
    stops_df = _stops_table(out, stop_times["stop_id"], stop_table, naptan)
    tables = GtfsTables(
        agency=pd.DataFrame(list(out.agency.values())),
        stops=stops_df,
        routes=pd.DataFrame(out.routes).drop_duplicates("route_id"),
        trips=pd.DataFrame(out.trips),
        stop_times=stop_times,
        calendar=pd.DataFrame(out.calendar),
        calendar_dates=pd.DataFrame(
            out.calendar_dates, columns=["service_id", "date", "exception_type"]
        ),
        files=pd.DataFrame(out.files),
    )
    logger.info(
        "TransXChange %s: %d file(s), %d trips, %d stop times, %d stops in %.1f s",
        p.name,
        len(sources),
        len(tables.trips),
        len(tables.stop_times),
        len(tables.stops),
        time.perf_counter() - started,
    )
    return tables


def write_gtfs(tables: GtfsTables | Mapping[str, pd.DataFrame], out_zip: str | Path) -> Path:
    """Write GTFS tables as a zip of ``.txt`` CSV files (UTF-8); return its path."""
    frames = tables.as_dict() if isinstance(tables, GtfsTables) else dict(tables)
    out = Path(out_zip).expanduser()
    if out.suffix.lower() != ".zip":
        raise ApgeoValueError(f"out_zip={str(out_zip)!r}: give a path ending in .zip")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, frame in frames.items():
            fname = name if name.endswith(".txt") else f"{name}.txt"
            archive.writestr(fname, frame.to_csv(index=False, lineterminator="\n"))
    return out


def transxchange_to_gtfs(
    path: str | Path,
    out_zip: str | Path,
    *,
    stops: pd.DataFrame | str | Path | None = None,
    open_end_days: int = DEFAULT_OPEN_END_DAYS,
    strict: bool = False,
) -> Path:
    """Convert TransXChange (zip, folder or ``.xml``) to a GTFS zip at ``out_zip``.

    See :func:`read_transxchange` for the conversion and its errors.
    """
    tables = read_transxchange(path, stops=stops, open_end_days=open_end_days, strict=strict)
    return write_gtfs(tables, out_zip)


__all__ = [
    "GtfsTables",
    "bank_holidays",
    "easter_sunday",
    "format_gtfs_time",
    "parse_duration_s",
    "read_transxchange",
    "transxchange_to_gtfs",
    "write_gtfs",
]
