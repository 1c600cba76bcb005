"""TransXChange as published: real bus files, revisions, school days, frequent journeys.

Real data: ``../shared/data/transit/txc_samples/`` (see PROVENANCE-transit.md): five TNDS
TransXChange 2.1 files of March 2020 (Stagecoach Cambridge line 6, the Fens busway "B",
Ipswich Buses 8 and 10, Star Cabs 348) and a BODS file of Warrington's Own Buses C45.
None of them gives stop coordinates, and no NaPTAN of their areas is here.

How the trip counts were checked by hand: for each named date, the VehicleJourneys of the
file were read with plain ElementTree XPath (``VehicleJourneys/VehicleJourney`` and its
``OperatingProfile``) and counted when (a) its ``RegularDayType/DaysOfWeek`` names the
weekday (``MondayToFriday`` for a Tuesday...) or, on a bank holiday, its
``BankHolidayOperation/DaysOfOperation`` names that holiday; (b) no
``SpecialDaysOperation/DaysOfNonOperation/DateRange`` covers the date; (c) the date is not
in the ``Holidays`` date ranges of a ``ServicedOrganisation`` its
``ServicedOrganisationDayType/DaysOfNonOperation/Holidays`` refers to. Dates were picked so
that no other rule is involved. :func:`_hand_count` is that count; the literal numbers in
the table were read off it once and compared with the profiles in the XML by eye (e.g.
Ipswich 8: 154 Monday-to-Friday journeys, 150 Saturday, 69 Sunday and 69 for each named
bank holiday).
"""

from __future__ import annotations

import re
import shutil
import xml.etree.ElementTree as ET
import zipfile
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from apgeo.routing.transit.feed import TransitFeed
from apgeo.routing.transit.feeds import trips_per_day
from apgeo.routing.transit.txc import GtfsTables, read_transxchange
from apgeo.routing.transit.txc_time import bank_holidays

try:
    from tests.test_txc import _txc, _vj, _write
except ImportError:  # tests/ is not a package (the pytest script, not python -m pytest)
    from test_txc import _txc, _vj, _write  # type: ignore[no-redef]

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "transit" / "txc_samples"
TNDS_ZIP = SAMPLES / "transxchange.zip"
C45 = SAMPLES / "NW_06_2266_C45_1.xml"
NS = {"t": "http://www.transxchange.org.uk/"}
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

needs_samples = pytest.mark.skipif(
    not (TNDS_ZIP.is_file() and C45.is_file()),
    reason="the TransXChange samples are not in ../shared/data/transit/txc_samples",
)
#: the C45 file's "Coll" organisation has no dates: its rule cannot be applied
COLL_WARNING = r"serviced organisation\(s\) have no WorkingDays or Holidays dates.*Coll"
NO_COORDS = r"stop\(s\) with \d+ stop time\(s\) have no coordinates"


def _hand_count(root: ET.Element, day: date, bank_holiday: str | None = None) -> int:
    """VehicleJourneys whose OperatingProfile runs on ``day`` (rules in the module notes)."""
    wd = day.weekday()
    names = {WEEKDAYS[wd], "MondayToSunday"}
    names |= {"MondayToFriday"} if wd < 5 else {"Weekend"}
    names |= {"MondayToSaturday"} if wd < 6 else set()
    orgs = {
        org.findtext("t:OrganisationCode", namespaces=NS): org
        for org in root.findall("t:ServicedOrganisations/t:ServicedOrganisation", NS)
    }

    def covered(ranges: list[ET.Element]) -> bool:
        iso = day.isoformat()
        return any(
            (r.findtext("t:StartDate", namespaces=NS) or "")
            <= iso
            <= (r.findtext("t:EndDate", namespaces=NS) or "9999")
            for r in ranges
        )

    n = 0
    for vj in root.findall("t:VehicleJourneys/t:VehicleJourney", NS):
        op = vj.find("t:OperatingProfile", NS)
        assert op is not None
        days = {e.tag.split("}")[1] for e in op.findall("t:RegularDayType/t:DaysOfWeek/*", NS)}
        runs = bool(days & names)
        if bank_holiday:
            runs = bool(
                op.findall(f"t:BankHolidayOperation/t:DaysOfOperation/t:{bank_holiday}", NS)
            )
        if covered(op.findall("t:SpecialDaysOperation/t:DaysOfNonOperation/t:DateRange", NS)):
            runs = False
        path = "t:ServicedOrganisationDayType/t:DaysOfNonOperation/t:Holidays/"
        for ref in op.findall(path + "t:ServicedOrganisationRef", NS):
            org = orgs[ref.text]
            if covered(org.findall("t:Holidays/t:DateRange", NS)):
                runs = False
        n += runs
    return n


def _per_day(tables: GtfsTables) -> pd.Series:
    return trips_per_day(
        {
            "trips.txt": tables.trips,
            "calendar.txt": tables.calendar,
            "calendar_dates.txt": tables.calendar_dates,
        }
    )


# (file, date, bank holiday named on that date or None, trips counted by hand)
CASES = [
    ("ea_20-6-_-y08-1.xml", date(2020, 6, 2), None, 47),  # Cambridge 6, a Tuesday
    ("ea_20-6-_-y08-1.xml", date(2020, 6, 6), None, 44),  # a Saturday
    ("ea_20-6-_-y08-1.xml", date(2020, 5, 25), "SpringBank", 19),  # Spring bank holiday
    ("ea_20-B-A-y08-1.xml", date(2020, 3, 26), None, 143),  # busway: first week's timetable
    ("ea_20-B-A-y08-1.xml", date(2020, 6, 2), None, 209),  # the later one
    ("ea_20-B-A-y08-1.xml", date(2020, 6, 7), None, 55),  # a Sunday
    ("suf_2-8-_-y08-15.xml", date(2020, 5, 4), None, 154),  # NOT May Day in 2020: a Monday
    ("suf_2-8-_-y08-15.xml", date(2020, 5, 8), "MayDay", 69),  # May Day moved to Fri 8 May
    ("suf_2-10-_-y08-10.xml", date(2020, 6, 2), None, 50),
    ("suf_22-348-_-y08-3.xml", date(2020, 6, 2), None, 4),
]


@pytest.fixture(scope="module")
def tnds_tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, GtfsTables]:
    if not TNDS_ZIP.is_file():
        pytest.skip("the TNDS samples are not in ../shared/data/transit/txc_samples")
    folder = tmp_path_factory.mktemp("tnds")
    with zipfile.ZipFile(TNDS_ZIP) as archive:
        archive.extractall(folder)
    out = {}
    for path in sorted(folder.glob("*.xml")):
        with pytest.warns(UserWarning, match=NO_COORDS):
            out[path.name] = read_transxchange(path)
    return out


@needs_samples
@pytest.mark.parametrize(("name", "day", "holiday", "expected"), CASES)
def test_trip_counts_on_named_dates(
    tnds_tables: dict[str, GtfsTables], name: str, day: date, holiday: str | None, expected: int
) -> None:
    with zipfile.ZipFile(TNDS_ZIP) as archive:
        root = ET.fromstring(archive.read(name))
    assert _hand_count(root, day, holiday) == expected
    assert int(_per_day(tnds_tables[name]).get(day, 0)) == expected


@needs_samples
def test_bank_holidays_come_from_the_holidays_package() -> None:
    h = bank_holidays(2020)
    assert h["MayDay"] == date(2020, 5, 8)  # moved for VE Day; a rule would say 4 May
    assert h["BoxingDayHoliday"] == date(2020, 12, 28)
    assert bank_holidays(2021, scotland=True)["AugustBankHolidayScotland"] == date(2021, 8, 2)


@needs_samples
def test_school_day_journey_runs_in_term_and_not_in_the_holidays() -> None:
    """C45: the 07:33 journey does not run in the "Sch" organisation's holidays."""
    with pytest.warns(UserWarning) as caught:
        tables = read_transxchange(C45)
    messages = " ".join(str(w.message) for w in caught)
    assert re.search(COLL_WARNING, messages) and re.search(NO_COORDS, messages)
    root = ET.parse(C45).getroot()
    per_day = _per_day(tables)
    for day, holiday, expected in [
        (date(2020, 9, 7), None, 2),  # Monday in term: the 07:33 school journey and the 16:15
        (date(2020, 9, 8), None, 2),  # Tuesday in term: 07:33 and 16:42
        (date(2020, 8, 3), None, 1),  # Monday in the summer holidays: only the 16:15
        (date(2020, 8, 31), "LateSummerBankHolidayNotScotland", 0),  # AllBankHolidays off
    ]:
        assert _hand_count(root, day, holiday) == expected
        assert int(per_day.get(day, 0)) == expected, day
    school = tables.trips[tables.trips["trip_id"].str.endswith("1-T0")]["service_id"].iat[0]
    removed = tables.calendar_dates
    removed = set(
        removed[(removed["service_id"] == school) & (removed["exception_type"] == 2)]["date"]
    )
    assert {"20200720", "20200901", "20201026"} <= removed  # summer and autumn holidays
    assert "20200902" not in removed


@needs_samples
def test_stops_without_coordinates_are_listed_and_left_out_of_routing() -> None:
    with pytest.warns(UserWarning, match=r"373 stop\(s\) with \d+ stop time\(s\) have no"):
        tables = read_transxchange(TNDS_ZIP)
    assert len(tables.trips) == 186 + 937 + 181 + 718 + 4  # every journey is a trip
    assert len(tables.stops_without_coordinates) == 373
    assert tables.stops_without_coordinates["stop_times"].sum() == len(tables.stop_times)
    assert set(tables.stops_without_coordinates.columns) >= {"stop_id", "stop_name", "file"}
    routable = tables.as_dict()
    assert len(routable["stop_times.txt"]) == 0 and len(routable["trips.txt"]) == 0


def _revised(text: str, revision: int, *, start: str | None = None) -> str:
    out = re.sub(r'RevisionNumber="\d+"', f'RevisionNumber="{revision}"', text, count=1)
    out = out.replace(
        "<DepartureTime>07:33:00</DepartureTime>", "<DepartureTime>07:40:00</DepartureTime>"
    )
    if start:
        out = out.replace("<StartDate>2020-01-27</StartDate>", f"<StartDate>{start}</StartDate>", 1)
    return out


@needs_samples
def test_a_later_revision_supersedes_the_earlier(tmp_path: Path) -> None:
    text = C45.read_text(encoding="utf-8")
    shutil.copy(C45, tmp_path / "C45_rev3.xml")
    _write(tmp_path, _revised(text, 4), "C45_rev4.xml")
    with pytest.warns(UserWarning) as caught:
        tables = read_transxchange(tmp_path)
    messages = " ".join(str(w.message) for w in caught)
    assert re.search(r"1 service\(s\) superseded.*C45_rev3\.xml.*revision 3\) dropped", messages)
    assert len(tables.trips) == 3  # not 6: the journeys of revision 3 are gone
    first = tables.stop_times.groupby("trip_id")["departure_time"].first()
    assert "07:40:00" in set(first) and "07:33:00" not in set(first)
    assert tables.files.set_index("file").loc["C45_rev3.xml", "superseded"].startswith("C45_rev3")


@needs_samples
def test_a_revision_from_a_later_date_cuts_the_earlier_one_short(tmp_path: Path) -> None:
    shutil.copy(C45, tmp_path / "C45_rev3.xml")
    _write(tmp_path, _revised(C45.read_text(encoding="utf-8"), 4, start="2020-09-01"), "r4.xml")
    with pytest.warns(UserWarning) as caught:
        tables = read_transxchange(tmp_path)
    assert any("cut to end on 2020-08-31" in str(w.message) for w in caught)
    per_day = _per_day(tables)
    assert int(per_day[date(2020, 7, 14)]) == 2  # revision 3 (07:33, 16:42)
    assert int(per_day[date(2020, 9, 8)]) == 2  # revision 4 only (07:40, 16:42), not 4
    assert len(tables.trips) == 6


# ---- hand-made documents ------------------------------------------------------------------


def test_frequent_journeys_are_expanded(tmp_path: Path) -> None:
    freq = (
        "<Frequency><EndTime>08:00:00</EndTime><Interval>"
        "<ScheduledFrequency>PT15M</ScheduledFrequency></Interval></Frequency>"
    )
    tables = read_transxchange(_write(tmp_path, _txc(journeys=[_vj("VJ1", "07:00:00", freq)])))
    # every 15 minutes from 07:00 up to and including 08:00: five trips of three stops
    first = tables.stop_times.groupby("trip_id")["departure_time"].first()
    assert sorted(first) == ["07:00:00", "07:15:00", "07:30:00", "07:45:00", "08:00:00"]
    assert len(tables.stop_times) == 15
    last = tables.stop_times[tables.stop_times["trip_id"] == "X1_20250106:VJ1+60m"]
    assert list(last["arrival_time"]) == ["08:00:00", "08:02:30", "08:05:30"]


def test_a_frequency_without_a_scheduled_interval_is_refused(tmp_path: Path) -> None:
    freq = (
        "<Frequency><EndTime>08:00:00</EndTime><Interval>"
        "<MinimumFrequency>PT10M</MinimumFrequency></Interval></Frequency>"
    )
    journeys = [_vj("VJ1", "07:00:00", freq), _vj("VJ2", "09:00:00")]
    with pytest.warns(UserWarning, match=r"1 frequent journey\(s\) cannot be expanded.*VJ1"):
        tables = read_transxchange(_write(tmp_path, _txc(journeys=journeys)))
    assert list(tables.trips["trip_id"]) == ["X1_20250106:VJ2"]


def test_working_days_of_a_serviced_organisation(tmp_path: Path) -> None:
    """A journey on the school's working days only; the school's term is given as dates."""
    orgs = (
        "<ServicedOrganisations><ServicedOrganisation><OrganisationCode>SCH</OrganisationCode>"
        "<Name>Hill School</Name><WorkingDays><DateRange><StartDate>2025-01-06</StartDate>"
        "<EndDate>2025-02-14</EndDate></DateRange></WorkingDays>"
        "</ServicedOrganisation></ServicedOrganisations>"
    )
    profile = (
        "<OperatingProfile><RegularDayType><DaysOfWeek><MondayToFriday/></DaysOfWeek>"
        "</RegularDayType><ServicedOrganisationDayType><DaysOfOperation><WorkingDays>"
        "<ServicedOrganisationRef>SCH</ServicedOrganisationRef></WorkingDays>"
        "</DaysOfOperation></ServicedOrganisationDayType></OperatingProfile>"
    )
    text = _txc(journeys=[_vj("VJ1", "08:10:00", profile), _vj("VJ2", "09:00:00")])
    text = text.replace("<StopPoints>", orgs + "<StopPoints>")
    tables = read_transxchange(_write(tmp_path, text))
    per_day = _per_day(tables)
    assert int(per_day[date(2025, 2, 14)]) == 2  # last day of the half term: both
    assert int(per_day[date(2025, 2, 17)]) == 1  # half-term holiday: not the school bus
    assert int(per_day[date(2025, 2, 15)]) == 0  # Saturday
    feed = TransitFeed.from_frames(tables.as_dict(), service_date=date(2025, 1, 7))
    assert feed.n_trips == 2
