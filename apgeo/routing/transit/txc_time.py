"""Time in TransXChange: ISO-8601 durations, GTFS clock times past midnight, operating
profiles (days of week, special days), and the England and Wales bank holidays they refer
to (computed for each year, Easter included).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
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
_SCOTTISH = {"Jan2ndScotland", "Jan2ndScotlandHoliday", "StAndrewsDay", "StAndrewsDayHoliday",
             "AugustBankHolidayScotland"}  # fmt: skip
_DURATION_RE = re.compile(r"^(-)?P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$")


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
