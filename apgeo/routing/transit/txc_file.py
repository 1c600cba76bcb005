"""One TransXChange file read: its services, lines, journey patterns with timing links, and
vehicle journeys, with every id kept local to the file (TXC ids are not global).
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from apgeo._errors import ApgeoValueError, DataFileNotFoundError
from apgeo.routing.transit.txc_time import (
    _DAY_SETS,
    _HOLIDAY_GROUPS,
    DEFAULT_DAYS,
    _Organisation,
    _parse_clock_s,
    _parse_date,
    _Profile,
    parse_duration_s,
)

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
        self._profiles: dict[tuple[Any, ...], _Profile] = {}

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
        # journeys repeat a few profiles: parse each distinct one once
        signature = tuple((c.tag, (c.text or "").strip()) for c in el.iter())
        cached = self._profiles.get(signature)
        if cached is None:
            cached = self._profiles[signature] = self._parse_profile(el, where)
        return cached

    def _parse_profile(self, el: ET.Element, where: str) -> _Profile:
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

        def organisations(path: str) -> tuple[tuple[str, str], ...]:
            out: list[tuple[str, str]] = []
            for kind_el in self.findall(el, f"ServicedOrganisationDayType/{path}"):
                for item in kind_el:  # WorkingDays / Holidays
                    kind = item.tag[len(self.ns) :]
                    for ref in item.findall(self.q("ServicedOrganisationRef")):
                        if ref.text and ref.text.strip():
                            out.append((ref.text.strip(), kind))
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
            org_on=organisations("DaysOfOperation"),
            org_off=organisations("DaysOfNonOperation"),
        )

    def organisations(self) -> dict[str, _Organisation]:
        """The file's ``ServicedOrganisations`` by ``OrganisationCode``, with their dates."""
        out: dict[str, _Organisation] = {}
        for org in self.findall(self.root, "ServicedOrganisations/ServicedOrganisation"):
            code = self.text(org, "OrganisationCode") or org.get("id") or ""
            where = f"{self.name}: ServicedOrganisation {code}"

            def ranges(path: str, org: ET.Element = org, where: str = where) -> tuple[Any, ...]:
                found: list[tuple[date, date]] = []
                for rng in self.findall(org, f"{path}/DateRange"):
                    start, end = self.period(rng, where)
                    if start is not None:
                        found.append((start, end or start))
                return tuple(sorted(found))

            out[code] = _Organisation(
                code=code,
                name=self.text(org, "Name") or code,
                working=ranges("WorkingDays"),
                holidays=ranges("Holidays"),
            )
        return out

    def revision(self) -> tuple[int, str]:
        """``RevisionNumber`` (0 when absent) and ``ModificationDateTime`` of the document."""
        attrs = self.root.attrib
        try:
            number = int(attrs.get("RevisionNumber", "0").strip() or 0)
        except ValueError:
            number = 0
        return number, attrs.get("ModificationDateTime") or attrs.get("CreationDateTime") or ""

    def frequency(self, vj: ET.Element, where: str) -> tuple[int, int] | str | None:
        """A frequent journey's ``(interval_s, end_time_s)``; ``None`` for an ordinary journey.

        ``Frequency`` (or ``FrequentService``) with an ``EndTime`` and an
        ``Interval/ScheduledFrequency`` repeats the journey from its ``DepartureTime`` every
        interval up to and including ``EndTime``. Without them the journey cannot be
        expanded: the reason is returned as a string.
        """
        el = self.find(vj, "Frequency")
        if el is None:
            el = self.find(vj, "FrequentService")
        if el is None:
            return None
        interval = el.find(f".//{self.ns}ScheduledFrequency")
        end = el.find(f".//{self.ns}EndTime")
        if interval is None or not (interval.text or "").strip():
            return "no Interval/ScheduledFrequency (only a minimum or maximum interval)"
        if end is None or not (end.text or "").strip():
            return "no EndTime"
        interval_s = parse_duration_s(interval.text, where=where)
        if interval_s <= 0:
            return f"ScheduledFrequency {interval.text!r} is not a positive interval"
        return interval_s, _parse_clock_s(end.text or "", where=where)

    def period(self, el: ET.Element | None, where: str) -> tuple[date | None, date | None]:
        if el is None:
            return None, None
        start = self.text(el, "StartDate")
        end = self.text(el, "EndDate")
        return (
            _parse_date(start, where=where) if start else None,
            _parse_date(end, where=where) if end else None,
        )
