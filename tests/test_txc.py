"""Tests for apgeo.routing.transit.txc: TransXChange -> GTFS.

Real data: the official Sheffield Supertram TXC zip and the GTFS made from it file by file
with transx2gtfs (``/work/shared/data/transit``, see PROVENANCE-transit.md). Both are read
once per module. The conversion must give the same service on a term-time Tuesday
(2025-01-14): trips per line, first and last departures, stop sequences and every trip's
times. The one known difference: seven late journeys carry ``DepartureDayShift`` 1 (e.g.
the Monday-Friday "00:15" Blue journey leaves at 00:15 the *next* morning); transx2gtfs
ignores the shift and puts them at 00:15 of the same day, this reader at 24:15. So the
comparison is exact except that those journeys' times differ by exactly 24 h.

Hand-made TXC documents (built by :func:`_txc`) check the rules on paper: run and wait
times, overrides, day shifts past midnight, calendars, per-file id keys and the errors.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from apgeo._errors import ApgeoError, ApgeoValueError, DataFileNotFoundError
from apgeo.routing.transit.feed import TransitFeed, _read_tables
from apgeo.routing.transit.feeds import trips_per_day
from apgeo.routing.transit.txc import GtfsTables, read_transxchange, transxchange_to_gtfs
from apgeo.routing.transit.txc_time import bank_holidays, easter_sunday, parse_duration_s

TRANSIT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "transit"
TXC_ZIP = TRANSIT / "sheffield_supertram_transxchange_2024-25.zip"
GTFS_ZIP = TRANSIT / "sheffield_supertram_gtfs_2024-25.zip"
TUESDAY = date(2025, 1, 14)  # term time; all four lines run from the Winter 24-25 files

needs_data = pytest.mark.skipif(
    not (TXC_ZIP.is_file() and GTFS_ZIP.is_file()),
    reason="the Supertram TXC and GTFS files are not in ../shared/data/transit",
)


# ---- real data ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tram_tables() -> GtfsTables:
    if not TXC_ZIP.is_file():
        pytest.skip("the Supertram TXC zip is not in ../shared/data/transit")
    return read_transxchange(TXC_ZIP)


@pytest.fixture(scope="module")
def tram_feeds(tram_tables: GtfsTables) -> tuple[TransitFeed, TransitFeed]:
    if not GTFS_ZIP.is_file():
        pytest.skip("the Supertram GTFS zip is not in ../shared/data/transit")
    ours = TransitFeed.from_frames(tram_tables.as_dict(), service_date=TUESDAY, name="txc")
    reference, _ = _read_tables(GTFS_ZIP)
    theirs = TransitFeed.from_frames(reference, service_date=TUESDAY, name="transx2gtfs")
    return ours, theirs


def _day_trips(feed: TransitFeed) -> pd.DataFrame:
    """One row per call of the trips of the service day, with ``line`` (BLUE, PURP, TT, YELL).

    Both feeds' route ids start with the line name: ``BLUE_20241215:...``.
    """
    trips = feed.trips[feed.trips["day_offset"] == 0]
    st = feed.stop_times.merge(trips[["trip_key", "route_id"]], on="trip_key")
    st["line"] = st["route_id"].str.split("_").str[0]
    return st.sort_values(["trip_key", "stop_sequence"]).reset_index(drop=True)


def _per_line(st: pd.DataFrame, *, modulo_day: bool) -> pd.DataFrame:
    first = st.groupby("trip_key").first()
    dep = first["departure_s"] % 86_400 if modulo_day else first["departure_s"]
    return dep.groupby(first["line"]).agg(["size", "min", "max"])


def _sequences(st: pd.DataFrame) -> dict[str, Counter[tuple[str, ...]]]:
    seqs = st.groupby("trip_key").agg(line=("line", "first"), stops=("stop_id", tuple))
    return {str(line): Counter(group["stops"]) for line, group in seqs.groupby("line", sort=True)}


@needs_data
def test_weekday_service_matches_the_shipped_gtfs(
    tram_feeds: tuple[TransitFeed, TransitFeed],
) -> None:
    ours, theirs = (_day_trips(f) for f in tram_feeds)
    a = _per_line(ours, modulo_day=True)
    b = _per_line(theirs, modulo_day=True)
    pd.testing.assert_frame_equal(a, b)
    # trips per line on a term-time Tuesday
    assert a["size"].to_dict() == {"BLUE": 164, "PURP": 38, "TT": 78, "YELL": 167}
    assert _sequences(ours) == _sequences(theirs)  # every line's stop sequences, with counts


@needs_data
def test_every_trip_has_the_same_times_up_to_the_day_shift(
    tram_feeds: tuple[TransitFeed, TransitFeed],
) -> None:
    def trips(st: pd.DataFrame, modulo: bool) -> Counter[tuple[Any, ...]]:
        return Counter(
            (
                g["line"].iat[0],
                tuple(g["stop_id"]),
                tuple(g["arrival_s"] % 86_400 if modulo else g["arrival_s"]),
                tuple(g["departure_s"] % 86_400 if modulo else g["departure_s"]),
            )
            for _, g in st.groupby("trip_key")
        )

    ours, theirs = (_day_trips(f) for f in tram_feeds)
    assert trips(ours, True) == trips(theirs, True)
    # exactly the journeys with DepartureDayShift differ, by 24 h: 24:15 here, 00:15 there
    only_ours = trips(ours, False) - trips(theirs, False)
    only_theirs = trips(theirs, False) - trips(ours, False)
    assert sum(only_ours.values()) == sum(only_theirs.values()) == 7
    assert all(t[3][0] >= 86_400 for t in only_ours)
    assert all(t[3][0] < 3_600 for t in only_theirs)


@needs_data
def test_first_and_last_departures_per_line(tram_feeds: tuple[TransitFeed, TransitFeed]) -> None:
    per_line = _per_line(_day_trips(tram_feeds[0]), modulo_day=False)
    # first trams leave between 05:07 and 05:21; the last (day-shifted) ones after midnight
    assert per_line["min"].to_dict() == {"BLUE": 18420, "PURP": 19020, "TT": 19020, "YELL": 19260}
    assert per_line["max"].to_dict() == {"BLUE": 87600, "PURP": 85620, "TT": 88020, "YELL": 88440}


@needs_data
@pytest.mark.parametrize(
    ("from_stop", "to_stop", "line", "expected_s"),
    [
        # Purple towards Cathedral, JPS45/46: SHU2-FIZ1 PT3M0S, FIZ1-CAS1 PT1M0S, CAS1-CAT2 PT2M0S
        ("9400ZZSYSHU2", "9400ZZSYCAT2", "PURP", {360}),
        # Purple from Cathedral, JPS49/50: PT1M0S + PT1M0S + PT3M0S (JPS51: PT2M0S first)
        ("9400ZZSYCAT2", "9400ZZSYSHU1", "PURP", {300, 360}),
    ],
)
def test_in_vehicle_time_between_named_stops(
    tram_feeds: tuple[TransitFeed, TransitFeed],
    from_stop: str,
    to_stop: str,
    line: str,
    expected_s: set[int],
) -> None:
    """Sheffield Station - Hallam University <-> Cathedral equals the timetable's run times."""

    def rides(feed: TransitFeed) -> Counter[tuple[float, float]]:
        st = _day_trips(feed)
        st = st[st["line"] == line]
        a = st[st["stop_id"] == from_stop].set_index("trip_key")
        b = st[st["stop_id"] == to_stop].set_index("trip_key")
        j = a.merge(b, left_index=True, right_index=True, suffixes=("_a", "_b"))
        j = j[j["stop_sequence_b"] > j["stop_sequence_a"]]
        return Counter(zip(j["departure_s_a"], j["arrival_s_b"] - j["departure_s_a"], strict=True))

    ours, theirs = (rides(f) for f in tram_feeds)
    assert ours == theirs
    assert {int(s) for _, s in ours} == expected_s
    assert sum(ours.values()) >= 15


@needs_data
def test_ids_are_prefixed_per_file(tram_tables: GtfsTables) -> None:
    files = tram_tables.files
    assert len(files) == 8 and files["journeys"].sum() == len(tram_tables.trips) == 3032
    assert set(files["keys"]) == {
        "BLUE_20241202", "BLUE_20241215", "PURP_20240812", "PURP_20241215",
        "TT_20241028", "TT_20241215", "YELL_20241028", "YELL_20241215",
    }  # fmt: skip
    trips = tram_tables.trips
    for column in ("route_id", "service_id"):
        assert (trips[column].str.split(":").str[0] == trips["trip_id"].str.split(":").str[0]).all()
    assert len(tram_tables.stops) == 94 and len(tram_tables.stop_times) == 71_036
    assert tram_tables.stops["stop_id"].str.startswith("9400ZZSY").all()  # from stops.csv


@needs_data
def test_every_day_runs_the_same_number_of_trips_as_the_shipped_gtfs(
    tram_tables: GtfsTables,
) -> None:
    """Calendars agree on all 490 days, bank holidays and the Christmas week included."""
    reference, _ = _read_tables(GTFS_ZIP)
    ours = trips_per_day(tram_tables.as_dict())
    theirs = trips_per_day(reference)
    pd.testing.assert_series_equal(ours, theirs)
    assert ours[date(2024, 12, 25)] == 0 and ours[date(2024, 12, 24)] == 359
    assert ours[date(2025, 4, 21)] == ours[date(2025, 4, 20)] == 298  # Easter Monday: Sunday


# ---- hand-made documents ------------------------------------------------------------------

STOPS = {  # ATCO code -> (name, lon, lat)
    "A1": ("Alpha", -1.4700, 53.3800),
    "B1": ("Bravo", -1.4600, 53.3800),
    "C1": ("Charlie", -1.4500, 53.3800),
}


def _txc(
    *,
    links: list[tuple[str, str, str]] = (("A1", "B1", "PT2M30S"), ("B1", "C1", "PT3M")),  # type: ignore[assignment]
    journeys: list[str] | None = None,
    stops: dict[str, tuple[str, float, float]] | None = None,
    start: str = "2025-01-06",
    end: str | None = "2025-02-28",
    line: str = "X1",
    profile: str = "<RegularDayType><DaysOfWeek><MondayToFriday/></DaysOfWeek></RegularDayType>",
    with_location: bool = True,
    waits: dict[int, tuple[str | None, str | None]] | None = None,
) -> str:
    """A small TXC document: one service, one line, one pattern of ``links``."""
    stops = STOPS if stops is None else stops
    pts = "".join(
        f"<AnnotatedStopPointRef><StopPointRef>{code}</StopPointRef><CommonName>{name}"
        "</CommonName>"
        + (
            f"<Location><Longitude>{lon}</Longitude><Latitude>{lat}</Latitude></Location>"
            if with_location
            else ""
        )
        + "</AnnotatedStopPointRef>"
        for code, (name, lon, lat) in stops.items()
    )
    waits = waits or {}
    jptls = ""
    for i, (a, b, run) in enumerate(links, start=1):
        fw, tw = waits.get(i, (None, None))
        jptls += (
            f'<JourneyPatternTimingLink id="JPTL{i}"><From SequenceNumber="{i}">'
            + (f"<WaitTime>{fw}</WaitTime>" if fw else "")
            + f"<StopPointRef>{a}</StopPointRef><TimingStatus>PTP</TimingStatus></From>"
            f'<To SequenceNumber="{i + 1}">'
            + (f"<WaitTime>{tw}</WaitTime>" if tw else "")
            + f"<StopPointRef>{b}</StopPointRef><TimingStatus>OTH</TimingStatus></To>"
            f"<RunTime>{run}</RunTime></JourneyPatternTimingLink>"
        )
    if journeys is None:
        journeys = [_vj("VJ1", "07:00:00")]
    period = f"<StartDate>{start}</StartDate>" + (f"<EndDate>{end}</EndDate>" if end else "")
    vjs = f"<VehicleJourneys>{''.join(journeys)}</VehicleJourneys>" if journeys else ""
    return (
        '<?xml version="1.0" encoding="utf-8"?>'
        '<TransXChange xmlns="http://www.transxchange.org.uk/" SchemaVersion="2.4">'
        f"<StopPoints>{pts}</StopPoints>"
        '<JourneyPatternSections><JourneyPatternSection id="JPS1">'
        f"{jptls}</JourneyPatternSection></JourneyPatternSections>"
        '<Operators><Operator id="O1"><NationalOperatorCode>TEST</NationalOperatorCode>'
        "<TradingName>Test Buses</TradingName></Operator></Operators>"
        f"<Services><Service><ServiceCode>{line}</ServiceCode>"
        f'<Lines><Line id="L1"><LineName>{line}</LineName></Line></Lines>'
        f"<OperatingPeriod>{period}</OperatingPeriod>"
        f"<OperatingProfile>{profile}</OperatingProfile>"
        "<RegisteredOperatorRef>O1</RegisteredOperatorRef><Mode>bus</Mode>"
        "<StandardService><Origin>Alpha</Origin><Destination>Charlie</Destination>"
        '<JourneyPattern id="JP1"><DestinationDisplay>Charlie</DestinationDisplay>'
        "<Direction>outbound</Direction><RouteRef>RT1</RouteRef>"
        "<JourneyPatternSectionRefs>JPS1</JourneyPatternSectionRefs></JourneyPattern>"
        "</StandardService></Service></Services>"
        f"{vjs}</TransXChange>"
    )


def _vj(code: str, departure: str, extra: str = "", shift: int = 0) -> str:
    return (
        f"<VehicleJourney><VehicleJourneyCode>{code}</VehicleJourneyCode>"
        "<ServiceRef>X1</ServiceRef><LineRef>L1</LineRef>"
        f"<JourneyPatternRef>JP1</JourneyPatternRef><DepartureTime>{departure}</DepartureTime>"
        + (f"<DepartureDayShift>{shift}</DepartureDayShift>" if shift else "")
        + f"{extra}</VehicleJourney>"
    )


def _write(tmp_path: Path, text: str, name: str = "x1.xml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _times(tables: GtfsTables, trip_suffix: str) -> list[tuple[str, str, str]]:
    st = tables.stop_times[tables.stop_times["trip_id"].str.endswith(trip_suffix)]
    return list(zip(st["stop_id"], st["arrival_time"], st["departure_time"], strict=True))


def test_run_times_give_the_stop_times(tmp_path: Path) -> None:
    tables = read_transxchange(_write(tmp_path, _txc()))
    # 07:00 at A1, +2 min 30 s to B1, +3 min to C1
    assert _times(tables, ":VJ1") == [
        ("A1", "07:00:00", "07:00:00"),
        ("B1", "07:02:30", "07:02:30"),
        ("C1", "07:05:30", "07:05:30"),
    ]
    trip = tables.trips.iloc[0]
    assert trip["trip_id"] == "X1_20250106:VJ1"
    assert trip["route_id"] == "X1_20250106:L1" and trip["direction_id"] == "0"
    assert tables.routes.iloc[0]["route_short_name"] == "X1"
    assert tables.routes.iloc[0]["route_type"] == 3
    cal = tables.calendar.iloc[0]
    assert (cal["monday"], cal["saturday"], cal["start_date"], cal["end_date"]) == (
        1,
        0,
        "20250106",
        "20250228",
    )
    assert tables.stops.set_index("stop_id").loc["B1", "stop_name"] == "Bravo"


def test_wait_times_and_journey_overrides(tmp_path: Path) -> None:
    override = (
        '<VehicleJourneyTimingLink id="VJTL1"><JourneyPatternTimingLinkRef>JPTL2'
        "</JourneyPatternTimingLinkRef><RunTime>PT10M</RunTime>"
        "<To><WaitTime>PT1M</WaitTime></To></VehicleJourneyTimingLink>"
    )
    text = _txc(
        waits={1: (None, "PT30S"), 2: ("PT1M", None)},
        journeys=[_vj("VJ1", "07:00:00"), _vj("VJ2", "08:00:00", override)],
    )
    tables = read_transxchange(_write(tmp_path, text))
    # B1: arrive 07:02:30, dwell 30 s (To-wait of link 1) + 1 min (From-wait of link 2)
    assert _times(tables, ":VJ1") == [
        ("A1", "07:00:00", "07:00:00"),
        ("B1", "07:02:30", "07:04:00"),
        ("C1", "07:07:00", "07:07:00"),
    ]
    # VJ2 overrides link 2: 10 min run, 1 min wait at C1
    assert _times(tables, ":VJ2") == [
        ("A1", "08:00:00", "08:00:00"),
        ("B1", "08:02:30", "08:04:00"),
        ("C1", "08:14:00", "08:15:00"),
    ]


def test_times_past_midnight(tmp_path: Path) -> None:
    text = _txc(journeys=[_vj("LATE", "23:58:00"), _vj("SHIFTED", "00:20:00", shift=1)])
    tables = read_transxchange(_write(tmp_path, text))
    assert _times(tables, ":LATE")[-1] == ("C1", "24:03:30", "24:03:30")
    assert _times(tables, ":SHIFTED")[0] == ("A1", "24:20:00", "24:20:00")
    # Monday's 24:20 journey runs early on Tuesday, as 00:20
    tuesday = TransitFeed.from_frames(tables.as_dict(), service_date="2025-01-07")
    trips = tuesday.trips[tuesday.trips["trip_id"] == "X1_20250106:SHIFTED"]
    first = tuesday.stop_times.groupby("trip_key")["departure_s"].min()
    assert sorted(first[trips["trip_key"]].tolist()) == [20 * 60, 86_400 + 20 * 60]


def test_no_vehicle_journeys_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, _txc(journeys=[]))
    with pytest.raises(ApgeoValueError, match="no <VehicleJourney>"):
        read_transxchange(path)


def test_empty_file_among_others_is_skipped_with_a_warning(tmp_path: Path) -> None:
    _write(tmp_path, _txc(), "a.xml")
    _write(tmp_path, _txc(journeys=[], line="Y2"), "b.xml")
    with pytest.warns(UserWarning, match=r"no vehicle journeys and were skipped: b\.xml"):
        tables = read_transxchange(tmp_path)
    assert len(tables.trips) == 1


def test_stop_without_coordinates_is_named(tmp_path: Path) -> None:
    path = _write(tmp_path, _txc(with_location=False))
    with pytest.warns(UserWarning, match=r"3 stop\(s\).*A1 \(Alpha, in x1\.xml\).*stops="):
        tables = read_transxchange(path)
    # the trip and its stop times are read; the stops are listed, and routing gets none
    assert len(tables.trips) == 1 and len(tables.stop_times) == 3
    assert list(tables.stops_without_coordinates["stop_id"]) == ["A1", "B1", "C1"]
    assert len(tables.as_dict()["stop_times.txt"]) == 0
    with pytest.raises(ApgeoError, match="no coordinates"):
        read_transxchange(path, strict=True)
    naptan = pd.DataFrame(
        {
            "ATCOCode": ["A1", "B1", "C1"],
            "CommonName": ["Alpha", "Bravo", "Charlie"],
            "Easting": ["435000", "435600", "436200"],
            "Northing": ["387000", "387000", "387000"],
        }
    )
    tables = read_transxchange(path, stops=naptan)  # easting / northing -> degrees
    lat = tables.stops.set_index("stop_id")["stop_lat"].astype(float)
    assert lat.between(53.37, 53.39).all()
    # and a stops.csv inside the zip
    zipped = tmp_path / "feed.zip"
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.write(path, "x1.xml")
        archive.writestr("stops.csv", naptan.to_csv(index=False))
    assert len(read_transxchange(zipped).stops) == 3


def test_not_transxchange(tmp_path: Path) -> None:
    with pytest.raises(ApgeoValueError, match="root element is <gpx>"):
        read_transxchange(_write(tmp_path, "<?xml version='1.0'?><gpx></gpx>", "a.xml"))
    with pytest.raises(ApgeoValueError, match="not well-formed XML"):
        read_transxchange(_write(tmp_path, "stop_id,stop_name\n", "b.xml"))
    empty_zip = tmp_path / "c.zip"
    with zipfile.ZipFile(empty_zip, "w") as archive:
        archive.writestr("readme.txt", "no timetables")
    with pytest.raises(ApgeoValueError, match=r"holds no \.xml file"):
        read_transxchange(empty_zip)
    with pytest.raises(DataFileNotFoundError):
        read_transxchange(tmp_path / "missing.zip")


def test_local_ids_of_two_files_do_not_mix(tmp_path: Path) -> None:
    """Both files use RT1 / JP1 / JPS1 / VJ1; each trip keeps its own file's pattern."""
    _write(tmp_path, _txc(line="X1"), "x1.xml")
    other = _txc(line="X2", links=[("C1", "A1", "PT9M")]).replace(
        "<ServiceRef>X1</ServiceRef>", "<ServiceRef>X2</ServiceRef>"
    )
    _write(tmp_path, other, "x2.xml")
    tables = read_transxchange(tmp_path)
    assert sorted(tables.trips["trip_id"]) == ["X1_20250106:VJ1", "X2_20250106:VJ1"]
    assert _times(tables, "X2_20250106:VJ1") == [
        ("C1", "07:00:00", "07:00:00"),
        ("A1", "07:09:00", "07:09:00"),
    ]
    routes = tables.trips.set_index("trip_id")["route_id"]
    assert routes["X2_20250106:VJ1"] == "X2_20250106:L1"


def test_calendar_days_bank_holidays_and_special_days(tmp_path: Path) -> None:
    profile = (
        "<RegularDayType><DaysOfWeek><MondayToFriday/></DaysOfWeek></RegularDayType>"
        "<SpecialDaysOperation><DaysOfNonOperation><DateRange><StartDate>2025-04-14"
        "</StartDate><EndDate>2025-04-15</EndDate></DateRange></DaysOfNonOperation>"
        "<DaysOfOperation><DateRange><StartDate>2025-04-12</StartDate><EndDate>2025-04-12"
        "</EndDate></DateRange></DaysOfOperation></SpecialDaysOperation>"
        "<BankHolidayOperation><DaysOfNonOperation><GoodFriday/><EasterMonday/>"
        "</DaysOfNonOperation></BankHolidayOperation>"
    )
    text = _txc(start="2025-04-01", end=None, profile=profile)
    tables = read_transxchange(_write(tmp_path, text), open_end_days=30)
    cd = tables.calendar_dates
    assert list(zip(cd["date"], cd["exception_type"], strict=True)) == [
        ("20250412", 1),  # a Saturday added
        ("20250414", 2),
        ("20250415", 2),
        ("20250418", 2),  # Good Friday
        ("20250421", 2),  # Easter Monday
    ]
    assert tables.calendar.iloc[0]["end_date"] == "20250501"  # open period: 30 days


def test_write_gtfs_zip_reads_back(tmp_path: Path) -> None:
    out = transxchange_to_gtfs(_write(tmp_path, _txc()), tmp_path / "out" / "feed.zip")
    with zipfile.ZipFile(out) as archive:
        assert {"stops.txt", "trips.txt", "stop_times.txt", "calendar.txt"} <= set(
            archive.namelist()
        )
    feed = TransitFeed.from_path(out, service_date="2025-01-07")
    assert feed.n_trips == 1 and len(feed.stops) == 3


def test_durations_and_holidays() -> None:
    assert parse_duration_s("PT2M30S") == 150
    assert parse_duration_s("PT1H") == 3600
    assert parse_duration_s("PT0S") == 0
    assert parse_duration_s(None) == 0
    for bad in ("2M", "PT", "-PT1M", "P1Y"):
        with pytest.raises(ApgeoValueError, match="duration"):
            parse_duration_s(bad)
    assert easter_sunday(2025) == date(2025, 4, 20)
    assert easter_sunday(2024) == date(2024, 3, 31)
    h = bank_holidays(2021)  # Christmas on a Saturday: substitute Monday and Tuesday
    assert h["ChristmasDayHoliday"] == date(2021, 12, 27)
    assert h["BoxingDayHoliday"] == date(2021, 12, 28)
    assert bank_holidays(2025)["LateSummerBankHolidayNotScotland"] == date(2025, 8, 25)
    assert bank_holidays(2022)["NewYearsDayHoliday"] == date(2022, 1, 3)
