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
  ``calendar.txt``; ``HolidaysOnly`` runs on no regular day.
  ``ServicedOrganisationDayType`` narrows those days with the file's
  ``ServicedOrganisations`` dates: ``DaysOfOperation/WorkingDays`` (a school-day-only
  journey) runs only on the organisation's working days (given as ``WorkingDays``, or as
  the days outside its ``Holidays``), ``DaysOfNonOperation/Holidays`` not in its holidays,
  and so on; an organisation without dates cannot be applied (warning, regular days kept).
  ``BankHolidayOperation`` days (dates from the ``holidays`` package, England and Wales
  and Scotland: ``ChristmasDay``, ``BoxingDay``, ``GoodFriday``, ``EasterMonday``,
  ``MayDay``, ``SpringBank``, ``LateSummerBankHolidayNotScotland``, ``NewYearsDay``,
  ``ChristmasEve``, ``NewYearsEve``, the substitute ``...Holiday`` days, the Scottish
  ``Jan2ndScotland``, ``StAndrewsDay``, ``AugustBankHolidayScotland`` and the groups such
  as ``AllBankHolidays``; one-off holidays through ``OtherPublicHoliday/Date``) and then
  ``SpecialDaysOperation`` date ranges (``DaysOfOperation`` added,
  ``DaysOfNonOperation`` removed, removal winning) become ``calendar_dates.txt``.
* **Revisions**: of two files with the same ``ServiceCode`` and overlapping operating
  periods, the higher ``RevisionNumber`` wins; the other is dropped, or cut short when it
  starts earlier, with a warning (:mod:`apgeo.routing.transit.txc_revisions`).
* **Frequent journeys** (``Frequency`` / ``FrequentService`` with an ``EndTime`` and an
  ``Interval/ScheduledFrequency``) become one trip per departure, from ``DepartureTime``
  every interval up to and including ``EndTime`` (ids ``<journey>+15m`` ...). One given
  only a minimum or maximum interval cannot be timed: it is left out with a warning.
* **Stops**: coordinates from the TXC ``StopPoints`` (``AnnotatedStopPointRef`` or
  ``StopPoint`` ``Location``, either longitude/latitude or easting/northing in British
  National Grid), else from the ``stops`` table given, else from a NaPTAN ``stops.csv``
  inside the zip or folder (columns ``ATCOCode``, ``Longitude``, ``Latitude`` or
  ``Easting``, ``Northing``; also ``id``/``lat``/``lng`` and GTFS names). Stops found in
  none of them (TNDS files seldom carry coordinates) are listed in
  ``GtfsTables.stops_without_coordinates`` with a warning; the trips and stop times are
  still read, and :meth:`GtfsTables.as_dict` (what routing gets) leaves those stops out.

Not converted: journey interchanges, vehicle types, flexible services and shapes.
"""

from __future__ import annotations

import re
import time
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from apgeo._errors import ApgeoValueError
from apgeo._log import logger, warn
from apgeo.routing.transit.txc_file import _File, _Link, _sources
from apgeo.routing.transit.txc_revisions import apply_superseded, superseded_services
from apgeo.routing.transit.txc_stops import _read_stop_table, _stops_table
from apgeo.routing.transit.txc_time import (
    AGENCY_URL,
    DEFAULT_DAYS,
    DEFAULT_OPEN_END_DAYS,
    TIMEZONE,
    WEEKDAY_NAMES,
    _days_label,
    _exceptions,
    _parse_clock_s,
    _Profile,
    format_gtfs_time,
    parse_duration_s,
)

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
    stops_without_coordinates: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(columns=["stop_id", "stop_name", "file", "stop_times"])
    )

    def as_dict(self) -> dict[str, pd.DataFrame]:
        """The tables keyed by GTFS file name (``"stops.txt"`` ...), as
        :meth:`apgeo.transit.TransitFeed.from_frames` takes them: what routing can use.

        Stops without coordinates are left out with their stop times, and so are trips left
        with fewer than two stops (the full tables stay on the attributes).

        Returns
        -------
        dict of str to pandas.DataFrame
            The routable tables.
        """
        stops, stop_times, trips = self.stops, self.stop_times, self.trips
        if len(self.stops_without_coordinates):
            lost = set(self.stops_without_coordinates["stop_id"])
            stops = stops.loc[~stops["stop_id"].isin(lost)].reset_index(drop=True)
            stop_times = stop_times.loc[~stop_times["stop_id"].isin(lost)]
            calls = stop_times["trip_id"].value_counts()
            keep = set(calls.index[calls >= 2])
            stop_times = stop_times.loc[stop_times["trip_id"].isin(keep)].reset_index(drop=True)
            trips = trips.loc[trips["trip_id"].isin(keep)].reset_index(drop=True)
        return {
            "agency.txt": self.agency,
            "stops.txt": stops,
            "routes.txt": self.routes,
            "trips.txt": trips,
            "stop_times.txt": stop_times,
            "calendar.txt": self.calendar,
            "calendar_dates.txt": self.calendar_dates,
        }


# ---- small parsers ------------------------------------------------------------------------


# ---- conversion ---------------------------------------------------------------------------


_TRIP_COLUMNS = ("route_id", "service_id", "trip_id", "trip_headsign", "direction_id")
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
    unresolved_orgs: dict[str, list[str]] = field(default_factory=dict)
    frequent: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    services: list[dict[str, Any]] = field(default_factory=list)


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
    orgs = file.organisations()
    revision, modified = file.revision()
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
        out.services.append(
            {
                "key": key,
                "service_code": code,
                "revision": revision,
                "modified": modified,
                "start": start,
                "end": end,
                "file": file.name,
            }
        )
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
    templates: dict[str, _Template] = {}
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
        frequency = file.frequency(vj, where)
        if isinstance(frequency, str):
            out.refused.append(f"{where} ({frequency})")
            continue
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
            unresolved: set[str] = set()
            added, removed = _exceptions(profile, start, end, orgs, unresolved)
            for name in unresolved:
                out.unresolved_orgs.setdefault(f"{file.name}: {name}", []).append(
                    f"{key}:{vj_code}"
                )
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
        template = templates.get(jp_id) if not overrides else None
        if template is None:
            if not pat["links"]:
                raise ApgeoValueError(f"{where}: its journey pattern {jp_id} has no timing links")
            template = _template(pat["links"], overrides)
            if not overrides:  # journeys without overrides share their pattern's times
                templates[jp_id] = template
        shifts = [0]
        if frequency is not None:  # a frequent journey: one trip per departure
            interval_s, last_s = frequency
            last_s += 86_400 * ((t - last_s) // 86_400 + 1) if last_s < t else 0
            shifts = list(range(0, last_s - t + 1, interval_s))
            out.frequent.append(f"{trip_id} x{len(shifts)}")
        for shift_s in shifts:
            this_id = trip_id if shift_s == 0 else f"{trip_id}+{shift_s // 60}m"
            if shift_s:
                out.trips.append({**out.trips[-1], "trip_id": this_id})
            _add_calls(st, this_id, template, t + shift_s)
    return len(journeys)


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


_PICKUP = frozenset({"pickUp", "pickUpAndSetDown"})
_DROP_OFF = frozenset({"setDown", "pickUpAndSetDown"})
_TIMEPOINT = frozenset({"PTP", "principalTimingPoint", "TIP", "timeInfoPoint"})


@dataclass(frozen=True)
class _Template:
    """A journey's calls with times relative to its departure from the first stop."""

    stops: list[str]
    arrival_s: list[int]  # the first may be negative (a wait before departing)
    departure_s: list[int]
    pickup: list[int]
    drop_off: list[int]
    timepoint: list[int]


def _template(links: list[_Link], overrides: dict[str, dict[str, Any]]) -> _Template:
    """Walk the timing links (with the journey's overrides) from departure time 0."""
    calls: list[list[Any]] = []  # [stop, arrival_s, departure_s, activity, timing]
    t = 0
    for link in links:
        o = overrides.get(link.link_id, {})
        run = o.get("run_s", link.run_s)
        from_wait = o.get("from_wait_s", link.from_wait_s)
        to_wait = o.get("to_wait_s", link.to_wait_s)
        from_act = o.get("from_activity", link.from_activity)
        to_act = o.get("to_activity", link.to_activity)
        if not calls:  # DepartureTime is the departure from the first stop
            calls.append([link.from_stop, t - from_wait, t, from_act, link.from_timing])
        elif calls[-1][0] != link.from_stop:  # sections that do not join: no dwell
            calls.append([link.from_stop, t, t + from_wait, from_act, link.from_timing])
        else:  # dwell at a stop: To-wait of the link in + From-wait of the link out
            calls[-1][2] += from_wait
            calls[-1][3] = from_act or calls[-1][3]
        t = calls[-1][2] + run
        calls.append([link.to_stop, t, t + to_wait, to_act, link.to_timing])
        t += to_wait
    acts = [c[3] or "pickUpAndSetDown" for c in calls]
    return _Template(
        stops=[c[0] for c in calls],
        arrival_s=[c[1] for c in calls],
        departure_s=[c[2] for c in calls],
        pickup=[0 if a in _PICKUP else 1 for a in acts],
        drop_off=[0 if a in _DROP_OFF else 1 for a in acts],
        timepoint=[int(c[4] in _TIMEPOINT) for c in calls],
    )


def _add_calls(st: dict[str, list[Any]], trip_id: str, tpl: _Template, departure_s: int) -> None:
    """Append a trip's calls leaving its first stop at ``departure_s``.

    Times stay whole seconds here (formatted once at the end); TXC ``Activity`` -> GTFS
    pickup / drop-off types (0 yes, 1 no; none given is pick up and set down).
    """
    n = len(tpl.stops)
    arrivals = [departure_s + a for a in tpl.arrival_s]
    arrivals[0] = max(arrivals[0], 0)
    st["trip_id"].extend([trip_id] * n)
    st["arrival_time"].extend(arrivals)
    st["departure_time"].extend([departure_s + d for d in tpl.departure_s])
    st["stop_id"].extend(tpl.stops)
    st["stop_sequence"].extend(range(1, n + 1))
    st["pickup_type"].extend(tpl.pickup)
    st["drop_off_type"].extend(tpl.drop_off)
    st["timepoint"].extend(tpl.timepoint)


def _format_times(seconds: list[int]) -> np.ndarray:
    """GTFS ``HH:MM:SS`` of many times at once (each distinct value formatted once)."""
    if not seconds:
        return np.array([], dtype=object)
    values, inverse = np.unique(np.asarray(seconds, dtype=np.int64), return_inverse=True)
    return np.array([format_gtfs_time(int(v)) for v in values], dtype=object)[inverse]


def _stop_times_frame(st: dict[str, list[Any]]) -> pd.DataFrame:
    frame = pd.DataFrame({k: _format_times(v) if k.endswith("_time") else v for k, v in st.items()})
    return frame


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
        Turn warnings (skipped files, stops without coordinates, unresolved day types,
        frequent journeys left out) into errors. Superseded revisions are always only
        warned about: dropping them is the right reading.

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
        vehicle journeys in any file, bad durations, dates or references (file and element
        named).

    Warns
    -----
    ApgeoWarning
        Stops without coordinates (listed in ``stops_without_coordinates``), superseded
        revisions, frequent journeys that cannot be expanded, serviced organisations
        without dates, files without journeys.
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
    if out.unresolved_orgs:
        listed = "; ".join(
            f"{org} ({len(v)} journey(s), e.g. {v[0]})"
            for org, v in list(out.unresolved_orgs.items())[:5]
        )
        warn(
            f"{len(out.unresolved_orgs)} serviced organisation(s) have no WorkingDays or "
            f"Holidays dates in their file, so their day types cannot be applied: {listed}. "
            "Those journeys run on their regular days there",
            strict=strict,
        )
    if out.refused:
        warn(
            f"{len(out.refused)} frequent journey(s) cannot be expanded into trips and are "
            f"left out: {'; '.join(out.refused[:5])}. A Frequency needs an EndTime and an "
            "Interval/ScheduledFrequency",
            strict=strict,
        )
    if out.frequent:
        logger.info("frequent journeys expanded: %s", ", ".join(out.frequent[:10]))
    frames: dict[str, pd.DataFrame] = {
        "routes": pd.DataFrame(out.routes).drop_duplicates("route_id"),
        "trips": pd.DataFrame(out.trips, columns=_TRIP_COLUMNS),
        "stop_times": _stop_times_frame(out.stop_times),
        "calendar": pd.DataFrame(out.calendar),
        "calendar_dates": pd.DataFrame(
            out.calendar_dates, columns=["service_id", "date", "exception_type"]
        ),
    }
    superseded = superseded_services(out.services)
    if superseded:
        frames = apply_superseded(frames, superseded)
        warn(
            f"{len(superseded)} service(s) superseded by a later RevisionNumber of the same "
            "ServiceCode (their days are read from the later revision only): "
            + "; ".join(s.describe() for s in superseded[:5]),
            strict=False,
        )
    stops_df, unlocated = _stops_table(out, frames["stop_times"]["stop_id"], stop_table, naptan)
    if len(unlocated):
        n_calls = int(unlocated["stop_times"].sum())
        warn(
            f"{len(unlocated)} stop(s) with {n_calls} stop time(s) have no coordinates: "
            + ", ".join(
                f"{r.stop_id} ({r.stop_name}, in {r.file})" for r in unlocated.head(5).itertuples()
            )
            + (f" ... ({len(unlocated)} in all)" if len(unlocated) > 5 else "")
            + ". They are listed in .stops_without_coordinates and left out of routing (trips "
            "keep their other stops). The TXC files give no Location for them and no stops "
            "table lists them: pass stops=<NaPTAN Stops.csv> (columns ATCOCode, Longitude, "
            "Latitude; https://naptan.api.dft.gov.uk/) or put stops.csv in the zip",
            strict=strict,
        )
    files = pd.DataFrame(out.files)
    if superseded and len(files):
        notes = {s.file: s.describe() for s in superseded}
        files["superseded"] = files["file"].map(notes).fillna("")
    tables = GtfsTables(
        agency=pd.DataFrame(list(out.agency.values())),
        stops=stops_df,
        files=files,
        stops_without_coordinates=unlocated,
        **frames,
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
    """Write GTFS tables as a zip of ``.txt`` CSV files (UTF-8); return its path.

    Parameters
    ----------
    tables
        GTFS tables, keyed by file name (``.txt`` added when missing).
    out_zip
        The zip written (must end in ``.zip``; its folder is created).

    Returns
    -------
    pathlib.Path
        The zip's path.
    """
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

    Parameters
    ----------
    path
        TransXChange zip, folder or ``.xml``.
    out_zip
        The GTFS zip written (must end in ``.zip``).
    stops, open_end_days, strict
        As for :func:`read_transxchange`.

    Returns
    -------
    pathlib.Path
        The zip's path.
    """
    tables = read_transxchange(path, stops=stops, open_end_days=open_end_days, strict=strict)
    return write_gtfs(tables, out_zip)


__all__ = [
    "GtfsTables",
    "read_transxchange",
    "transxchange_to_gtfs",
    "write_gtfs",
]
