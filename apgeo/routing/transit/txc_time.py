"""Time in TransXChange: ISO-8601 durations, GTFS clock times past midnight, operating
profiles (days of week, special days, serviced organisations' working days and holidays),
and the bank holidays they refer to (from the ``holidays`` package).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from apgeo._errors import ApgeoValueError

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
_DURATION_RE = re.compile(r"^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


def parse_duration_s(value: str | None, *, where: str = "duration") -> int:
    """Seconds of an ISO-8601 duration as TXC writes them (``PT2M30S`` -> 150).

    ``None`` or an empty string is 0. Days (``P1D``) count 86,400 s; fractional seconds are
    rounded to whole seconds.

    >>> parse_duration_s("PT1H2M3S")
    3723

    Parameters
    ----------
    value
        The duration text.
    where
        What to name in the error.

    Returns
    -------
    int
        Seconds.
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
    """``HH:MM:SS`` with hours past 24 for times after midnight (90,600 -> ``25:10:00``).

    Parameters
    ----------
    seconds
        Seconds after midnight of the service day.

    Returns
    -------
    str
        ``HH:MM:SS``.
    """
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
    """Western Easter Sunday (anonymous Gregorian algorithm).

    Parameters
    ----------
    year
        Calendar year.

    Returns
    -------
    datetime.date
        Easter Sunday.
    """
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


#: TXC names of the holidays as the ``holidays`` package (GB, English) names them.
_HOLIDAY_NAMES: dict[str, str] = {
    "New Year's Day": "NewYearsDay",
    "New Year's Day (observed)": "NewYearsDayHoliday",
    "Good Friday": "GoodFriday",
    "Easter Monday": "EasterMonday",
    "May Day": "MayDay",
    "Spring Bank Holiday": "SpringBank",
    "Late Summer Bank Holiday": "LateSummerBankHolidayNotScotland",
    "Christmas Day": "ChristmasDay",
    "Christmas Day (observed)": "ChristmasDayHoliday",
    "Boxing Day": "BoxingDay",
    "Boxing Day (observed)": "BoxingDayHoliday",
}
_SCOTTISH_NAMES: dict[str, str] = {
    "New Year Holiday": "Jan2ndScotland",
    "New Year Holiday (observed)": "Jan2ndScotlandHoliday",
    "Saint Andrew's Day": "StAndrewsDay",
    "Saint Andrew's Day (observed)": "StAndrewsDayHoliday",
    "Summer Bank Holiday": "AugustBankHolidayScotland",
}


@lru_cache(maxsize=64)
def _package_holidays(year: int, subdiv: str) -> tuple[tuple[date, str], ...]:
    import holidays

    days = holidays.country_holidays("GB", subdiv=subdiv, years=year, language="en_GB")
    return tuple(sorted(days.items()))


def bank_holidays(year: int, *, scotland: bool = False) -> dict[str, date]:
    """Bank holidays of ``year`` by TXC name (England and Wales; Scotland's with ``scotland``).

    The dates come from the ``holidays`` package (GB, subdivision ENG / SCT), so moved and
    substitute days are right: the 2020 May Day on Friday 8 May, ``ChristmasDayHoliday`` /
    ``BoxingDayHoliday`` / ``NewYearsDayHoliday`` only in the years that have one.
    ``ChristmasEve`` and ``NewYearsEve`` (not bank holidays, but TXC names them) are
    24 and 31 December. One-off holidays (2022 jubilee, 2023 coronation) have no TXC name:
    files state them as ``OtherPublicHoliday``.

    Parameters
    ----------
    year
        Calendar year.
    scotland
        Scotland's bank holidays instead of England and Wales's.

    Returns
    -------
    dict of str to datetime.date
        Date by TXC holiday name.
    """
    out = {"ChristmasEve": date(year, 12, 24), "NewYearsEve": date(year, 12, 31)}
    names = _SCOTTISH_NAMES if scotland else _HOLIDAY_NAMES
    for day, name in _package_holidays(year, "SCT" if scotland else "ENG"):
        for part in name.split("; "):
            txc = names.get(part)
            if txc is not None:
                out[txc] = day
    return out


@dataclass(frozen=True)
class _Organisation:
    """A TXC ``ServicedOrganisation`` (a school, college...): its working days and holidays."""

    code: str
    name: str
    working: tuple[tuple[date, date], ...] = ()
    holidays: tuple[tuple[date, date], ...] = ()

    def is_(self, kind: str, d: date) -> bool | None:
        """Whether ``d`` is one of the organisation's ``WorkingDays`` or ``Holidays``.

        With only holidays given, working days are the other days (and the reverse);
        ``None`` when the file gives neither.
        """

        def within(ranges: tuple[tuple[date, date], ...]) -> bool:
            return any(a <= d <= b for a, b in ranges)

        if not self.working and not self.holidays:
            return None
        if kind == "WorkingDays":
            if self.working:
                return within(self.working) and not within(self.holidays)
            return not within(self.holidays)
        if self.holidays:
            return within(self.holidays)
        return not within(self.working)


@dataclass
class _Profile:
    """An operating profile: regular weekdays and date exceptions (within the period).

    ``org_on`` / ``org_off`` are ``(ServicedOrganisationRef, "WorkingDays" | "Holidays")``
    of ``ServicedOrganisationDayType/DaysOfOperation`` (the journey runs on its regular days
    only when one of them holds) and ``DaysOfNonOperation`` (not when one holds).
    """

    days: tuple[int, ...]
    bank_on: tuple[str, ...] = ()
    bank_off: tuple[str, ...] = ()
    other_on: tuple[date, ...] = ()
    other_off: tuple[date, ...] = ()
    special_on: tuple[tuple[date, date], ...] = ()
    special_off: tuple[tuple[date, date], ...] = ()
    org_on: tuple[tuple[str, str], ...] = ()
    org_off: tuple[tuple[str, str], ...] = ()

    @property
    def serviced_org(self) -> bool:
        return bool(self.org_on or self.org_off)

    def key(self) -> tuple[Any, ...]:
        return (
            self.days,
            self.bank_on,
            self.bank_off,
            self.other_on,
            self.other_off,
            self.special_on,
            self.special_off,
            self.org_on,
            self.org_off,
        )


def _dates(start: date, end: date) -> Iterator[date]:
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


def _organisation_days_off(
    profile: _Profile,
    start: date,
    end: date,
    orgs: Mapping[str, _Organisation],
    unresolved: set[str],
) -> set[date]:
    """Regular days on which the profile's serviced-organisation rules stop the journey.

    An organisation the file does not define, or defines without dates, cannot be
    applied: its rule is ignored (the journey keeps its regular days) and its code is
    added to ``unresolved``.
    """

    def holds(ref: str, kind: str, d: date) -> bool | None:
        org = orgs.get(ref)
        value = None if org is None else org.is_(kind, d)
        if value is None:
            unresolved.add(ref if org is None else f"{org.name} ({ref})")
        return value

    regular = set(profile.days)
    out: set[date] = set()
    for d in _dates(start, end):
        if d.weekday() not in regular:
            continue
        runs = True
        if profile.org_on:
            found = [holds(ref, kind, d) for ref, kind in profile.org_on]
            runs = any(f is None or f for f in found)
        if runs and profile.org_off:
            runs = not any(bool(holds(ref, kind, d)) for ref, kind in profile.org_off)
        if not runs:
            out.add(d)
    return out


def _exceptions(
    profile: _Profile,
    start: date,
    end: date,
    orgs: Mapping[str, _Organisation] | None = None,
    unresolved: set[str] | None = None,
) -> tuple[list[date], list[date]]:
    """Dates added (type 1) and removed (type 2) relative to the regular weekdays.

    Order: the serviced organisations' working days / holidays narrow the regular days;
    bank holidays and special days are then added or removed (a day both added and removed
    is removed).
    """
    on: set[date] = set(profile.other_on)
    off: set[date] = set(profile.other_off)
    if profile.bank_on or profile.bank_off:
        for year in range(start.year, end.year + 1):
            holidays = {**bank_holidays(year, scotland=True), **bank_holidays(year)}
            on |= {holidays[n] for n in profile.bank_on if n in holidays}
            off |= {holidays[n] for n in profile.bank_off if n in holidays}
    for a, b in profile.special_on:
        on |= set(_dates(max(a, start), min(b, end)))
    for a, b in profile.special_off:
        off |= set(_dates(max(a, start), min(b, end)))
    not_org: set[date] = set()
    if profile.serviced_org:
        not_org = _organisation_days_off(
            profile, start, end, orgs or {}, set() if unresolved is None else unresolved
        )
    added: list[date] = []
    removed: list[date] = []
    regular = set(profile.days)
    for d in sorted(on | off | not_org):
        if not start <= d <= end:
            continue
        weekday = d.weekday() in regular
        runs = weekday and d not in not_org
        final = d not in off and (d in on or runs)
        if final and not weekday:
            added.append(d)
        elif weekday and not final:
            removed.append(d)
    return added, removed


def _days_label(days: tuple[int, ...]) -> str:
    for name in ("MondayToSunday", "MondayToSaturday", "MondayToFriday", "Weekend"):
        if tuple(_DAY_SETS[name]) == days:
            return name
    if not days:
        return "HolidaysOnly"
    return "".join(WEEKDAY_NAMES[d][:3].capitalize() for d in days)


__all__ = [
    "bank_holidays",
    "easter_sunday",
    "format_gtfs_time",
    "parse_duration_s",
]
