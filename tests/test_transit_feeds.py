"""Tests for apgeo.routing.transit.feeds: several feeds, one service date, one merged feed.

Real data: the Supertram GTFS (2024-08-12 .. 2025-12-15) and the 2019 GB rail extract
(2019-08-02 .. 2019-09-10) have no day in common. For Tuesday 2025-01-14 the tram is read
for that day and the rail for Tuesday 2019-09-10 (term time; 1,453 trips, the extract's
main day). Sheffield station's rail stop is 65 m and 75 m from the two Sheffield Station
tram platforms: walking transfers of distance x 1.3 / 4.8 km/h.

Hand-made feeds ``a`` and ``b`` reuse the same stop and trip ids on a 21 x 21 walk grid
(100 m spacing, node 0 at (430000, 380000), 4.8 km/h = 75 s per 100 m)::

    b:S2 (1000, 2000)                 feed b: S1 07:06:00 -> S2 07:10:00
     |
    b:S1 (1000, 150)  <- 150 m: transfer 150 x 1.3 / (4.8 / 3.6) = 146.25 s
    a:S1 (0, 0) ---- a:S2 (1000, 0)   feed a: S1 07:00:30 -> S2 07:02:30

Leaving (0, 0) at 07:00 for (1000, 2000): ride a to 07:02:30, walk to b:S1 by 07:04:56,
ride b at 07:06 to 07:10: 600 s. Without the transfer only walking is left: 3,000 m, 2,250 s.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
from pyproj import Transformer
from shapely.geometry import Point

from apgeo._errors import ApgeoError, ApgeoValueError
from apgeo.network.synthetic import grid_network
from apgeo.routing.transit.feeds import (
    MergedFeed,
    MultiFeedTransitEngine,
    choose_service_date,
    load_feeds,
    load_merged_feed,
    merge_feeds,
    read_feed_tables,
    school_holidays,
    trips_per_day,
)
from apgeo.routing.transit.raptor import TransitEngine
from apgeo.routing.transit.travel_time_table import transit_travel_time_table
from apgeo.routing.travel_times import TravelTimeEngine

TRANSIT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "transit"
TRAM = TRANSIT / "sheffield_supertram_gtfs_2024-25.zip"
RAIL = TRANSIT / "gb_rail_gtfs_centred_on_south_yorkshire_2019-09.zip"
TUESDAY = date(2025, 1, 14)
X0, Y0 = 430_000.0, 380_000.0
TO_LONLAT = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
WALK_MS = 4.8 / 3.6


# ---- real feeds ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tram_and_rail() -> MergedFeed:
    if not (TRAM.is_file() and RAIL.is_file()):
        pytest.skip("the Supertram GTFS and the 2019 rail GTFS are not in ../shared/data")
    with pytest.warns(UserWarning) as record:
        merged = load_merged_feed({"tram": TRAM, "rail": RAIL}, service_date=TUESDAY)
    messages = [str(w.message) for w in record]
    assert any("19 stop time(s) depart before they arrive" in m for m in messages)
    assert any(
        "feed 'rail' covers 2019-08-02 to 2019-09-10, not service_date=2025-01-14 (Tuesday): "
        "read it for 2019-09-10 (Tuesday, term-time, 1453 trips)" in m
        for m in messages
    )
    return merged


def test_each_feed_is_read_for_its_own_date(tram_and_rail: MergedFeed) -> None:
    assert tram_and_rail.service_dates == {"tram": TUESDAY, "rail": date(2019, 9, 10)}
    feed = tram_and_rail.feed
    assert feed.name == "tram@2025-01-14+rail@2019-09-10"
    assert feed.service_date == TUESDAY
    assert tram_and_rail.record()["feed_service_dates"] == {
        "tram": "2025-01-14",
        "rail": "2019-09-10",
    }
    prefixes = feed.stops["stop_id"].str.split(":").str[0].value_counts().to_dict()
    assert prefixes == {"tram": 94, "rail": 87}
    assert feed.trips["trip_key"].is_unique
    assert feed.trips["trip_id"].str.match(r"^(tram|rail):").all()
    assert set(feed.stop_times["trip_key"]) == set(feed.trips["trip_key"])


def test_rail_and_tram_stops_are_linked_by_walks(tram_and_rail: MergedFeed) -> None:
    tr = tram_and_rail.transfers.set_index(["from_stop_id", "to_stop_id"])
    for tram_stop, metres in (("tram:9400ZZSYSHU1", 74.6), ("tram:9400ZZSYSHU2", 64.6)):
        row = tr.loc[[("rail:9100SHEFFLD", tram_stop)]]
        distance_m = float(row["distance_m"].iloc[0])
        time_s = float(row["travel_time_s"].iloc[0])
        assert distance_m == pytest.approx(metres, abs=0.5)
        assert time_s == pytest.approx(distance_m * 1.3 / WALK_MS)
        assert (tram_stop, "rail:9100SHEFFLD") in tr.index
    assert (tr["distance_m"] <= 250).all()
    cross = (
        tram_and_rail.transfers["from_stop_id"].str[:4]
        != tram_and_rail.transfers["to_stop_id"].str[:4]
    )
    # Sheffield, Meadowhall and Rotherham Central stations, both ways
    assert int(cross.sum()) == 10


def test_strict_refuses_a_feed_outside_the_date() -> None:
    if not RAIL.is_file():
        pytest.skip("the 2019 rail GTFS is not in ../shared/data")
    rail = read_feed_tables(RAIL)
    with pytest.raises(ApgeoError, match=r"covers 2019-08-02 to 2019-09-10.*strict=False"):
        choose_service_date(rail, TUESDAY, name="rail", strict=True)
    # strict also refuses to mend the feed's 19 stop times that depart before they arrive
    with pytest.raises(ApgeoError, match="depart before they arrive"):
        load_feeds({"rail": RAIL}, service_date=TUESDAY, strict=True)


# ---- hand-made feeds ----------------------------------------------------------------------


def _lonlat(dx: float, dy: float) -> tuple[float, float]:
    lon, lat = TO_LONLAT.transform(X0 + dx, Y0 + dy)
    return float(lon), float(lat)


def _feed(
    stops: dict[str, tuple[float, float]],
    times: list[tuple[str, str]],
    *,
    start: str = "20250106",
    end: str = "20250718",
    transfers: pd.DataFrame | None = None,
) -> dict[str, pd.DataFrame]:
    """One route, one trip ``T1`` calling at ``times`` (stop, HH:MM:SS), weekdays."""
    lonlat = {s: _lonlat(*xy) for s, xy in stops.items()}
    tables = {
        "stops.txt": pd.DataFrame(
            {
                "stop_id": list(stops),
                "stop_name": list(stops),
                "stop_lat": [lonlat[s][1] for s in stops],
                "stop_lon": [lonlat[s][0] for s in stops],
            }
        ),
        "routes.txt": pd.DataFrame({"route_id": ["R1"], "route_type": ["3"]}),
        "trips.txt": pd.DataFrame({"route_id": ["R1"], "service_id": ["WK"], "trip_id": ["T1"]}),
        "stop_times.txt": pd.DataFrame(
            {
                "trip_id": "T1",
                "arrival_time": [t for _, t in times],
                "departure_time": [t for _, t in times],
                "stop_id": [s for s, _ in times],
                "stop_sequence": [str(i) for i in range(1, len(times) + 1)],
            }
        ),
        "calendar.txt": pd.DataFrame(
            {
                "service_id": ["WK"],
                **{d: ["1"] for d in ("monday", "tuesday", "wednesday", "thursday", "friday")},
                "saturday": ["0"],
                "sunday": ["0"],
                "start_date": [start],
                "end_date": [end],
            }
        ),
    }
    if transfers is not None:
        tables["transfers.txt"] = transfers
    return tables


FEED_A = _feed({"S1": (0, 0), "S2": (1000, 0)}, [("S1", "07:00:30"), ("S2", "07:02:30")])
FEED_B = _feed({"S1": (1000, 150), "S2": (1000, 2000)}, [("S1", "07:06:00"), ("S2", "07:10:00")])


@pytest.fixture(scope="module")
def walk() -> TravelTimeEngine:
    return TravelTimeEngine.from_graph(grid_network(21, 21), warn_dropped_fraction=None)


@pytest.fixture(scope="module")
def merged() -> MergedFeed:
    return load_merged_feed({"a": FEED_A, "b": FEED_B}, service_date="2025-03-04")


def test_overlapping_feeds_reusing_stop_ids_stay_apart(merged: MergedFeed) -> None:
    feed = merged.feed
    assert sorted(feed.stops["stop_id"]) == ["a:S1", "a:S2", "b:S1", "b:S2"]
    assert sorted(feed.trips["trip_id"]) == ["a:T1", "b:T1"]
    assert sorted(feed.trips["trip_key"]) == [0, 1]
    by_trip = feed.stop_times.merge(feed.trips[["trip_key", "trip_id"]], on="trip_key")
    assert by_trip.groupby("trip_id")["stop_id"].apply(list).to_dict() == {
        "a:T1": ["a:S1", "a:S2"],
        "b:T1": ["b:S1", "b:S2"],
    }
    # the only stops within 250 m: a:S2 - b:S1 (150 m), both ways
    tr = merged.transfers
    assert list(zip(tr["from_stop_id"], tr["to_stop_id"], strict=True)) == [
        ("a:S2", "b:S1"),
        ("b:S1", "a:S2"),
    ]
    assert tr["distance_m"].to_numpy() == pytest.approx([150, 150], abs=0.01)
    assert tr["travel_time_s"].to_numpy() == pytest.approx([146.25, 146.25], abs=0.01)


def test_engine_rides_across_feeds(merged: MergedFeed, walk: TravelTimeEngine) -> None:
    origin = gpd.GeoDataFrame({"id": ["O"]}, geometry=[Point(X0, Y0)], crs="EPSG:27700")
    dest = gpd.GeoDataFrame({"id": ["D"]}, geometry=[Point(X0 + 1000, Y0 + 2000)], crs=27700)
    options = {"transfer_radius_m": 0.0, "transfer_times": "straight_line"}
    engine = MultiFeedTransitEngine(merged, walk, **options)
    assert len(engine.transfers) == 2
    table = transit_travel_time_table(
        engine,
        origin,
        dest,
        origin_id_column="id",
        destination_id_column="id",
        departure_window=("07:00", "07:01"),
    )
    assert table["travel_time_s"].iloc[0] == pytest.approx(600, abs=0.5)
    assert table.attrs["feed_service_dates"] == {"a": "2025-03-04", "b": "2025-03-04"}
    # the plain engine without transfers can only walk: 3,000 m at 4.8 km/h
    plain = TransitEngine(merged.feed, walk, **options)  # type: ignore[arg-type]
    walked = transit_travel_time_table(
        plain,
        origin,
        dest,
        origin_id_column="id",
        destination_id_column="id",
        departure_window=("07:00", "07:01"),
    )
    assert walked["travel_time_s"].iloc[0] == pytest.approx(2250, abs=0.5)


def test_transfers_txt_overrides_and_forbids() -> None:
    listed = pd.DataFrame(
        {
            "from_stop_id": ["S2", "S3", "S1"],
            "to_stop_id": ["S3", "S2", "S1"],
            "transfer_type": ["2", "3", "2"],
            "min_transfer_time": ["300", "", "60"],
        }
    )
    one = _feed(
        {"S1": (0, 0), "S2": (1000, 0), "S3": (1000, 100)},
        [("S1", "07:00:00"), ("S2", "07:05:00"), ("S3", "07:06:00")],
        transfers=listed,
    )
    with pytest.warns(UserWarning, match="1 transfers.txt row.*x same-stop: 1"):
        merged = load_merged_feed({"x": one}, service_date="2025-03-04")
    tr = merged.transfers
    assert list(zip(tr["from_stop_id"], tr["to_stop_id"], tr["source"], strict=True)) == [
        ("x:S2", "x:S3", "transfers.txt")
    ]
    assert tr["travel_time_s"].iloc[0] == 300
    assert list(merged.forbidden.itertuples(index=False, name=None)) == [("x:S3", "x:S2")]


def test_service_date_outside_a_feeds_range() -> None:
    autumn = _feed(
        {"S1": (0, 0), "S2": (1000, 0)},
        [("S1", "07:00:00"), ("S2", "07:05:00")],
        start="20240901",
        end="20241130",
    )
    # Tuesday 2025-03-04 is not in Sep-Nov 2024: the first term-time Tuesday is 10 Sep
    # (3 Sep is in the wide summer holiday, 22 and 29 Oct in half term)
    with pytest.warns(UserWarning, match=r"read it for 2024-09-10 \(Tuesday, term-time, 1 trips"):
        day = choose_service_date(autumn, "2025-03-04", name="autumn")
    assert day == date(2024, 9, 10)
    assert choose_service_date(autumn, "2024-10-01") == date(2024, 10, 1)  # in range: kept
    with pytest.raises(ApgeoValueError, match="strict=False"):
        choose_service_date(autumn, "2025-03-04", strict=True)
    summer = _feed(
        {"S1": (0, 0), "S2": (1000, 0)},
        [("S1", "07:00:00"), ("S2", "07:05:00")],
        start="20240801",
        end="20240830",
    )
    with pytest.warns(UserWarning, match=r"2024-08-06 \(Tuesday, NOT term-time"):
        assert choose_service_date(summer, "2025-03-04") == date(2024, 8, 6)
    weekend = _feed({"S1": (0, 0), "S2": (1000, 0)}, [("S1", "07:00:00"), ("S2", "07:05:00")])
    weekend["calendar.txt"] = weekend["calendar.txt"].assign(tuesday="0")
    with pytest.raises(ApgeoValueError, match="no trips on any Tuesday"):
        choose_service_date(weekend, "2024-03-05")


def test_trips_per_day_and_school_holidays() -> None:
    feed = _feed({"S1": (0, 0), "S2": (1000, 0)}, [("S1", "07:00:00"), ("S2", "07:05:00")])
    feed["calendar_dates.txt"] = pd.DataFrame(
        {"service_id": ["WK", "WK"], "date": ["20250111", "20250113"], "exception_type": ["1", "2"]}
    )
    per_day = trips_per_day(feed)
    assert per_day.index[0] == date(2025, 1, 6) and per_day.index[-1] == date(2025, 7, 18)
    assert per_day[date(2025, 1, 10)] == 1  # Friday
    assert per_day[date(2025, 1, 11)] == 1  # Saturday added
    assert per_day[date(2025, 1, 12)] == 0  # Sunday
    assert per_day[date(2025, 1, 13)] == 0  # Monday removed
    holidays = school_holidays(2025)
    assert date(2025, 1, 14) not in holidays and date(2025, 8, 12) in holidays
    assert date(2025, 4, 22) in holidays and date(2025, 5, 27) in holidays
    assert {date(2025, 10, 28), date(2025, 12, 24)} <= holidays


def test_bad_feed_names_and_options() -> None:
    with pytest.raises(ApgeoValueError, match="feed name 'a:b'"):
        load_feeds({"a:b": FEED_A}, service_date="2025-03-04")
    with pytest.raises(ApgeoValueError, match="mapping of feed name"):
        load_feeds({}, service_date="2025-03-04")
    with pytest.raises(ApgeoValueError, match="service_date"):
        load_feeds({"a": FEED_A}, service_date="tuesday")
    loaded = load_feeds({"a": FEED_A}, service_date="2025-03-04")
    with pytest.raises(ApgeoValueError, match="transfer_radius_m"):
        merge_feeds(loaded, transfer_radius_m=-1)
