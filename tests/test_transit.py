"""Tests for apgeo.transit: GTFS loading and checks, the RAPTOR engine, the long table.

The hand-written feed ``tests/data/gtfs_tiny`` sits on a 21 x 21 walk grid (100 m
spacing, node 0 at (430000, 380000), 4.8 km/h: 75 s per 100 m)::

    S6 (2000, 2000)  Park Top           tram R2: S4 -> S5 -> S6, +3 min per stop,
     |                                  leaves S4 at 06:56:30, 07:06:30 ... 09:16:30
    S5 (2000, 1000)  Hillside
     |
    S4 (2000, 100)   Interchange Tram   <- 100 m walk (75 s) from S3: the transfer
    S3 (2000, 0)     Interchange East
    S2 (1000, 0)     Market             bus R1: S1 -> S2 -> S3, +2 min per stop,
    S1 (0, 0)        Church Street      leaves S1 at 06:50:30, 07:00:30 ... 09:10:30
                                        (trip R1_0700 has no time at S2: interpolated
                                        07:02:30), plus R1_late at 25:10:30

Service WK runs Monday-Friday 2025-01-06..2025-07-18 except Wednesday 2025-03-05
(calendar_dates: removed); service SAT runs one R1 trip at 10:00:30 on Saturdays.

Worked out on paper for origin O1 (on S1), destinations D1 (on S6) and D2 (on S3),
Tuesday 2025-03-04:

* O1 -> D2, leaving at minute m: wait for the next R1 (:x0:30), ride 4 min. Leaving at
  :x0 waits 0.5 min, at :x1 9.5 min ... at :x9 1.5 min: travel 4.5 .. 13.5 min.
  Walking is 2,000 m = 25 min.
* O1 -> D1: R1 to S3 (arrive :x4:30), walk to S4 (:x5:45), tram at :x6:30, S6 at
  :x12:30: travel = wait + 12 min, 12.5 .. 21.5 min. Walking is 4,000 m = 50 min.
* 07:00-09:00 every minute is 120 departures, each of the 10 waits 12 times. Nearest-rank
  median = 60th fastest = 5th group: O1 -> D1 16.5 min (990 s), O1 -> D2 8.5 min (510 s);
  90th percentile = 108th = 9th group: 20.5 min (1230 s) and 12.5 min (750 s).
"""

from __future__ import annotations

import shutil
import zipfile
from datetime import date
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import Transformer
from shapely.geometry import Point

from apgeo import ApgeoValueError, ApgeoWarning
from apgeo._errors import DataFileNotFoundError, DuplicateIdError, MissingColumnError
from apgeo.network.synthetic import grid_network
from apgeo.routing.transit.feed import TransitFeed, parse_gtfs_time
from apgeo.routing.transit.raptor import TransitEngine
from apgeo.routing.transit.travel_time_table import departure_times, transit_travel_time_table
from apgeo.routing.travel_times import TravelTimeEngine

TINY = Path(__file__).parent / "data" / "gtfs_tiny"
TUESDAY = date(2025, 3, 4)
X0, Y0 = 430_000.0, 380_000.0
TO_LONLAT = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
APPROX = 0.01  # seconds: stops are stored in degrees, so snapping is off by < 1 mm


@pytest.fixture(scope="module")
def walk() -> TravelTimeEngine:
    return TravelTimeEngine.from_graph(grid_network(21, 21), warn_dropped_fraction=None)


@pytest.fixture(scope="module")
def feed() -> TransitFeed:
    return TransitFeed.from_path(TINY, service_date=TUESDAY)


@pytest.fixture(scope="module")
def engine(feed: TransitFeed, walk: TravelTimeEngine) -> TransitEngine:
    return TransitEngine(feed, walk)


def _points(xy: dict[str, tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": list(xy)},
        geometry=[Point(X0 + dx, Y0 + dy) for dx, dy in xy.values()],
        crs="EPSG:27700",
    )


O1 = _points({"O1": (0, 0)})
DESTS = _points({"D1": (2000, 2000), "D2": (2000, 0)})


def _table(engine: TransitEngine, **kwargs: object) -> pd.Series:
    table = transit_travel_time_table(
        engine, O1, DESTS, origin_id_column="id", destination_id_column="id", **kwargs
    )
    return table.set_index("destination_id")["travel_time_s"]


def _tiny_tables() -> dict[str, pd.DataFrame]:
    return {p.name: pd.read_csv(p, dtype=str, keep_default_na=False) for p in TINY.glob("*.txt")}


# ---- the feed ------------------------------------------------------------------------------


def test_feed_reads_the_service_day(feed: TransitFeed) -> None:
    assert feed.name == "gtfs_tiny"
    assert (feed.start_date, feed.end_date) == (date(2025, 1, 6), date(2025, 7, 18))
    # 15 R1 + R1_late + 15 R2 today, and Monday's R1_late running after midnight
    assert feed.n_trips == 32
    late = feed.trips[feed.trips["trip_id"] == "R1_late"].set_index("day_offset")["trip_key"]
    first = feed.stop_times.groupby("trip_key")["departure_s"].min()
    assert first[late[0]] == parse_gtfs_time("25:10:30") == 90_630
    assert first[late[-1]] == 90_630 - 86_400  # Monday's trip, 01:10:30 on Tuesday
    record = feed.record()
    assert record["service_date"] == "2025-03-04" and record["service_weekday"] == "Tuesday"


def test_feed_info_names_the_feed(tmp_path: Path) -> None:
    path = _copy_tiny(tmp_path)
    (path / "feed_info.txt").write_text(
        "feed_publisher_name,feed_publisher_url,feed_lang,feed_version\n"
        "Tiny Transit,https://example.org,en,2025-02\n"
    )
    assert TransitFeed.from_path(path, service_date=TUESDAY).name == "Tiny Transit 2025-02"
    assert TransitFeed.from_path(path, service_date=TUESDAY, name="mine").name == "mine"


def test_blank_times_are_interpolated(feed: TransitFeed) -> None:
    key = int(feed.trips.loc[feed.trips["trip_id"] == "R1_0700", "trip_key"].iloc[0])
    times = feed.stop_times[feed.stop_times["trip_key"] == key]
    assert times["arrival_s"].tolist() == [25_230, 25_350, 25_470]  # 07:00:30, 07:02:30, 07:04:30


def test_zip_reads_like_the_folder(tmp_path: Path) -> None:
    archive = tmp_path / "tiny.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for p in TINY.glob("*.txt"):
            z.write(p, f"feed/{p.name}")  # a subfolder inside the zip is fine
    zipped = TransitFeed.from_path(archive, service_date=TUESDAY)
    folder = TransitFeed.from_path(TINY, service_date=TUESDAY)
    assert zipped.name == "tiny"
    pd.testing.assert_frame_equal(zipped.stop_times, folder.stop_times)


def test_saturday_keeps_fridays_late_trip() -> None:
    saturday = TransitFeed.from_path(TINY, service_date=date(2025, 3, 8))
    assert sorted(saturday.trips["trip_id"]) == ["R1_late", "R1_sat"]
    late = saturday.trips.set_index("trip_id").loc["R1_late", "trip_key"]
    times = saturday.stop_times[saturday.stop_times["trip_key"] == late]
    assert times["departure_s"].iloc[0] == 4_230  # 25:10:30 on Friday = 01:10:30


def test_frequencies_expand_into_trips() -> None:
    tables = _tiny_tables()
    tables["frequencies.txt"] = pd.DataFrame(
        {
            "trip_id": ["R2_0656"],
            "start_time": ["07:00:00"],
            "end_time": ["07:30:00"],
            "headway_secs": ["600"],
        }
    )
    feed = TransitFeed.from_frames(tables, service_date=TUESDAY)
    r2 = feed.trips[feed.trips["trip_id"].str.startswith("R2_0656")]
    assert sorted(r2["trip_id"]) == ["R2_0656@25200", "R2_0656@25800", "R2_0656@26400"]


# ---- hand-worked travel times ------------------------------------------------------------------


def test_median_and_percentile_over_the_window(engine: TransitEngine) -> None:
    table = transit_travel_time_table(
        engine,
        O1,
        DESTS,
        origin_id_column="id",
        destination_id_column="id",
        extra_percentiles=(90,),
    )
    assert list(table.columns) == [
        "origin_id",
        "destination_id",
        "travel_time_s",
        "travel_time_p90_s",
    ]
    by = table.set_index("destination_id")
    assert by.loc["D1", "travel_time_s"] == pytest.approx(990, abs=APPROX)
    assert by.loc["D2", "travel_time_s"] == pytest.approx(510, abs=APPROX)
    assert by.loc["D1", "travel_time_p90_s"] == pytest.approx(1230, abs=APPROX)
    assert by.loc["D2", "travel_time_p90_s"] == pytest.approx(750, abs=APPROX)
    attrs = table.attrs
    assert attrs["mode"] == "transit"
    assert attrs["feed_name"] == "gtfs_tiny"
    assert (attrs["feed_start_date"], attrs["feed_end_date"]) == ("2025-01-06", "2025-07-18")
    assert attrs["service_date"] == "2025-03-04"
    assert attrs["departure_window"] == ("07:00", "09:00")
    assert attrs["n_departures"] == 120 and attrs["percentile"] == 50.0


def test_departures_on_the_minute_of_the_bus(engine: TransitEngine) -> None:
    # every 10 minutes from 07:00: always 30 s wait
    times = _table(engine, step_min=10)
    assert times["D1"] == pytest.approx(
        750, abs=APPROX
    )  # 0.5 wait + 4 ride + 1.25 walk + 0.75 wait + 6 ride
    assert times["D2"] == pytest.approx(270, abs=APPROX)  # 0.5 + 4 min


def test_earliest_arrivals_per_departure(engine: TransitEngine) -> None:
    deps = departure_times(("07:00", "07:10"), 1)
    arr = engine.earliest_arrivals(
        O1, DESTS, deps, origin_id_column="id", destination_id_column="id"
    )
    assert arr.shape == (1, 2, 10)
    # leaving 07:00 catches R1 07:00:30; leaving 07:01..07:09 catches 07:10:30
    expected_d1 = [parse_gtfs_time("07:12:30")] + [parse_gtfs_time("07:22:30")] * 9
    np.testing.assert_allclose(arr[0, 0], expected_d1, atol=APPROX)


def test_times_past_midnight(engine: TransitEngine) -> None:
    times = _table(engine, departure_window=("25:00", "25:10"))
    # R1_late at 25:10:30: 14.5 .. 5.5 min, median of 10 = 5th fastest = 9.5 min
    assert times["D2"] == pytest.approx(570, abs=APPROX)
    # no tram then and S3 is 2 km from D1 (> max_walk_m): walk all the way, 50 min
    assert times["D1"] == pytest.approx(3000, abs=APPROX)


def test_previous_days_late_trip_runs_after_midnight(walk: TravelTimeEngine) -> None:
    saturday = TransitEngine(TransitFeed.from_path(TINY, service_date=date(2025, 3, 8)), walk)
    assert _table(saturday, departure_window=("01:00", "01:10"))["D2"] == pytest.approx(
        570, abs=APPROX
    )


def test_limit_gives_nan(engine: TransitEngine) -> None:
    times = transit_travel_time_table(
        engine,
        O1,
        DESTS,
        origin_id_column="id",
        destination_id_column="id",
        max_travel_time_s=900,
        extra_percentiles=(25,),
    ).set_index("destination_id")
    # O1 -> D1 takes 12.5..21.5 min: only 36 of 120 departures are within 15 min
    assert np.isnan(times.loc["D1", "travel_time_s"])
    assert times.loc["D1", "travel_time_p25_s"] == pytest.approx(870, abs=APPROX)  # 30th
    assert times.loc["D2", "travel_time_s"] == pytest.approx(510, abs=APPROX)


def test_walking_wins_when_faster(engine: TransitEngine) -> None:
    near = _points({"N": (0, 300)})
    table = transit_travel_time_table(
        engine, O1, near, origin_id_column="id", destination_id_column="id"
    )
    assert table["travel_time_s"].iloc[0] == pytest.approx(225)


def test_transfer_times_and_radius(
    feed: TransitFeed, walk: TravelTimeEngine, engine: TransitEngine
) -> None:
    net = engine.transfers.set_index(["from_stop_id", "to_stop_id"])["travel_time_s"]
    assert net[("S3", "S4")] == pytest.approx(75, abs=APPROX)
    assert len(net) == 2  # S3 <-> S4 only: every other pair is > 400 m apart
    straight = TransitEngine(feed, walk, transfer_times="straight_line")
    line = straight.transfers.set_index(["from_stop_id", "to_stop_id"])["travel_time_s"]
    assert line[("S4", "S3")] == pytest.approx(100 * 1.3 / (4.8 / 3.6), abs=APPROX)  # 97.5 s
    assert _table(straight)["D1"] == pytest.approx(990, abs=APPROX)  # 97.5 s still makes :x6:30
    none = TransitEngine(feed, walk, transfer_radius_m=50)
    assert none.transfers.empty
    assert _table(none)["D1"] == pytest.approx(3000, abs=APPROX)  # no transfer: walk


def test_max_rides_one(feed: TransitFeed, walk: TravelTimeEngine) -> None:
    one = TransitEngine(feed, walk, max_rides=1)
    times = _table(one)
    assert times["D1"] == pytest.approx(3000, abs=APPROX)  # needs two rides
    assert times["D2"] == pytest.approx(510, abs=APPROX)


def test_table_feeds_the_pipeline_seam(engine: TransitEngine) -> None:
    table = transit_travel_time_table(
        engine,
        _points({"a": (0, 0), "b": (100, 0)}),
        DESTS,
        origin_id_column="id",
        destination_id_column="id",
    )
    assert table[["origin_id", "destination_id"]].values.tolist() == [
        ["a", "D1"],
        ["a", "D2"],
        ["b", "D1"],
        ["b", "D2"],
    ]
    assert table["travel_time_s"].dtype == float


# ---- bad input -------------------------------------------------------------------------------


def _copy_tiny(tmp_path: Path) -> Path:
    target = tmp_path / "feed"
    shutil.copytree(TINY, target)
    return target


def test_missing_file_is_named(tmp_path: Path) -> None:
    path = _copy_tiny(tmp_path)
    (path / "trips.txt").unlink()
    with pytest.raises(DataFileNotFoundError, match=r"trips\.txt"):
        TransitFeed.from_path(path, service_date=TUESDAY)
    with pytest.raises(DataFileNotFoundError, match="GTFS feed not found"):
        TransitFeed.from_path(tmp_path / "nowhere.zip", service_date=TUESDAY)


def test_missing_column_names_file_and_column() -> None:
    tables = _tiny_tables()
    tables["stops.txt"] = tables["stops.txt"].drop(columns=["stop_lat"])
    with pytest.raises(MissingColumnError, match=r"stops\.txt.*'stop_lat'"):
        TransitFeed.from_frames(tables, service_date=TUESDAY)
    tables = _tiny_tables()
    tables["calendar.txt"] = tables["calendar.txt"].drop(columns=["sunday"])
    with pytest.raises(MissingColumnError, match=r"calendar\.txt.*'sunday'"):
        TransitFeed.from_frames(tables, service_date=TUESDAY)


def test_no_service_names_the_date_range() -> None:
    # Wednesday 2025-03-05 is removed in calendar_dates.txt
    with pytest.raises(ApgeoValueError, match=r"2025-03-05.*2025-01-06 to 2025-07-18"):
        TransitFeed.from_path(TINY, service_date=date(2025, 3, 5))
    with pytest.raises(ApgeoValueError, match="2025-01-06 to 2025-07-18"):
        TransitFeed.from_path(TINY, service_date=date(2026, 3, 3))


@pytest.mark.parametrize("value", ["today", "now", None, 20250304])
def test_service_date_must_be_explicit(value: object) -> None:
    with pytest.raises(ApgeoValueError, match="never assumes 'today'"):
        TransitFeed.from_path(TINY, service_date=value)  # type: ignore[arg-type]


def test_duplicate_ids() -> None:
    tables = _tiny_tables()
    tables["stops.txt"] = pd.concat([tables["stops.txt"], tables["stops.txt"].iloc[[2]]])
    with pytest.raises(DuplicateIdError, match=r"stops\.txt.*'stop_id'.*S3"):
        TransitFeed.from_frames(tables, service_date=TUESDAY)
    tables = _tiny_tables()
    tables["stop_times.txt"] = pd.concat(
        [tables["stop_times.txt"], tables["stop_times.txt"].iloc[[0]]]
    )
    with pytest.raises(DuplicateIdError, match=r"R1_0650/1"):
        TransitFeed.from_frames(tables, service_date=TUESDAY)


def test_bad_times_name_the_row() -> None:
    tables = _tiny_tables()
    tables["stop_times.txt"].loc[3, "departure_time"] = "7h00"
    with pytest.raises(ApgeoValueError, match=r"'departure_time'.*row\(s\) 5 .*'7h00'"):
        TransitFeed.from_frames(tables, service_date=TUESDAY)
    tables = _tiny_tables()
    tables["stop_times.txt"].loc[2, ["arrival_time", "departure_time"]] = "06:40:00"
    with pytest.raises(ApgeoValueError, match=r"backwards within trip.*R1_0650"):
        TransitFeed.from_frames(tables, service_date=TUESDAY)


def test_unknown_references() -> None:
    tables = _tiny_tables()
    tables["stop_times.txt"].loc[0, "stop_id"] = "S99"
    with pytest.raises(ApgeoValueError, match=r"S99.*row\(s\) 2 .*not in stops\.txt"):
        TransitFeed.from_frames(tables, service_date=TUESDAY)


def test_stops_outside_the_network(walk: TravelTimeEngine) -> None:
    tables = _tiny_tables()
    lon, lat = TO_LONLAT.transform(X0 + 2000, Y0 + 5000)  # 3 km north of the grid
    tables["stops.txt"].loc[5, ["stop_lat", "stop_lon"]] = [f"{lat:.8f}", f"{lon:.8f}"]
    feed = TransitFeed.from_frames(tables, service_date=TUESDAY)
    with pytest.warns(ApgeoWarning, match=r"1 GTFS stop\(s\).*left out: S6 \(3,000 m\)"):
        engine = TransitEngine(feed, walk)
    assert engine.dropped_stops == ("S6",)
    with pytest.raises(ApgeoValueError, match="all 6 stops"):
        TransitEngine(feed, walk, max_stop_distance_m=0.0001)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"departure_window": ("09:00", "07:00")}, "end must be after"),
        ({"departure_window": ("7 am", "09:00")}, "HH:MM"),
        ({"step_min": 0}, "step_min"),
        ({"percentile": 0}, "percentile"),
        ({"max_travel_time_s": -5}, "max_travel_time_s"),
    ],
)
def test_bad_options(engine: TransitEngine, kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ApgeoValueError, match=message):
        _table(engine, **kwargs)


# ---- real data -------------------------------------------------------------------------------


def test_real_gtfs_feed(data_dir: Path) -> None:
    """The committed Supertram GTFS (BODS TransXChange, OGL v3) on a school-term Tuesday."""
    feed = TransitFeed.from_path(
        data_dir / "transit" / "sheffield_supertram_gtfs_2024-25.zip", service_date="2025-01-14"
    )
    assert len(feed.stops) == 94
    assert feed.n_trips > 300
    assert feed.record()["service_weekday"] == "Tuesday"


def test_real_naptan_stops_snap_to_a_walk_grid(data_dir: Path) -> None:
    """Five real Sheffield tram stops (NaPTAN) as a one-route feed on a grid around them."""
    naptan = pd.read_csv(data_dir / "transit" / "naptan_stops_sheffield_5km.csv", dtype=str)
    tram = naptan[(naptan["stop_type"] == "TMU") & (naptan["status"] == "active")]
    tram = tram.sort_values("id").head(5)
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    x, y = to_bng.transform(
        tram["lng"].astype(float).to_numpy(), tram["lat"].astype(float).to_numpy()
    )
    origin = (
        float(np.floor(x.min() / 100) * 100 - 500),
        float(np.floor(y.min() / 100) * 100 - 500),
    )
    n_cols = int((x.max() - origin[0]) // 100) + 7
    n_rows = int((y.max() - origin[1]) // 100) + 7
    walk = TravelTimeEngine.from_graph(grid_network(n_cols, n_rows, origin=origin))
    ids = tram["id"].tolist()
    tables = {
        "stops.txt": pd.DataFrame(
            {
                "stop_id": ids,
                "stop_name": tram["name"].tolist(),
                "stop_lat": tram["lat"].tolist(),
                "stop_lon": tram["lng"].tolist(),
            }
        ),
        "routes.txt": pd.DataFrame({"route_id": ["T"], "route_type": ["0"]}),
        "trips.txt": pd.DataFrame({"route_id": ["T"], "service_id": ["WK"], "trip_id": ["t1"]}),
        "stop_times.txt": pd.DataFrame(
            {
                "trip_id": ["t1"] * 5,
                "arrival_time": [f"07:{2 * i:02d}:00" for i in range(5)],
                "departure_time": [f"07:{2 * i:02d}:00" for i in range(5)],
                "stop_id": ids,
                "stop_sequence": [str(i) for i in range(5)],
            }
        ),
        "calendar_dates.txt": pd.DataFrame(
            {"service_id": ["WK"], "date": ["20250304"], "exception_type": ["1"]}
        ),
    }
    engine = TransitEngine(
        TransitFeed.from_frames(tables, service_date=TUESDAY, name="naptan"), walk
    )
    assert engine.n_stops == 5
    assert (engine.stops["snap_distance_m"] <= 71).all()  # within half a grid diagonal
    assert len(engine.patterns) == 1


# ---- properties ------------------------------------------------------------------------------

GRID = 6  # 6 x 6 nodes, 400 m apart: walking 300 s per block


def _random_tables(
    routes: list[list[int]], trips: list[tuple[int, int, int]]
) -> dict[str, pd.DataFrame]:
    """A feed on the property grid: stops at grid nodes, trips (route, start_s, hop_s)."""
    nodes = sorted({n for r in routes for n in r})
    xs = X0 + (np.array(nodes) % GRID) * 400.0
    ys = Y0 + (np.array(nodes) // GRID) * 400.0
    lon, lat = TO_LONLAT.transform(xs, ys)
    rows = []
    for j, (route, start, hop) in enumerate(trips):
        for k, node in enumerate(routes[route]):
            t = start + k * hop
            hms = f"{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"
            rows.append(
                {
                    "trip_id": f"t{j}",
                    "arrival_time": hms,
                    "departure_time": hms,
                    "stop_id": f"n{node}",
                    "stop_sequence": str(k),
                }
            )
    return {
        "stops.txt": pd.DataFrame(
            {
                "stop_id": [f"n{n}" for n in nodes],
                "stop_lat": [f"{v:.9f}" for v in lat],
                "stop_lon": [f"{v:.9f}" for v in lon],
            }
        ),
        "routes.txt": pd.DataFrame(
            {"route_id": [f"r{i}" for i in range(len(routes))], "route_type": ["3"] * len(routes)}
        ),
        "trips.txt": pd.DataFrame(
            {
                "route_id": [f"r{r}" for r, _, _ in trips],
                "service_id": ["S"] * len(trips),
                "trip_id": [f"t{j}" for j in range(len(trips))],
            }
        ),
        "stop_times.txt": pd.DataFrame(rows),
        "calendar_dates.txt": pd.DataFrame(
            {"service_id": ["S"], "date": ["20250304"], "exception_type": ["1"]}
        ),
    }


@st.composite
def _feeds(draw: st.DrawFn) -> tuple[list[list[int]], list[tuple[int, int, int]]]:
    n_routes = draw(st.integers(1, 3))
    routes = [
        draw(st.lists(st.integers(0, GRID * GRID - 1), min_size=2, max_size=5, unique=True))
        for _ in range(n_routes)
    ]
    trips = draw(
        st.lists(
            st.tuples(
                st.integers(0, n_routes - 1), st.integers(25_000, 27_000), st.integers(30, 400)
            ),
            min_size=1,
            max_size=6,
        )
    )
    return routes, trips


@pytest.fixture(scope="module")
def prop_walk() -> TravelTimeEngine:
    return TravelTimeEngine.from_graph(grid_network(GRID, GRID, spacing_m=400))


PROP_POINTS = gpd.GeoDataFrame(
    {"id": ["a", "b", "c"]},
    geometry=[Point(X0, Y0), Point(X0 + 2000, Y0 + 2000), Point(X0 + 800, Y0 + 1600)],
    crs="EPSG:27700",
)


def _arrivals(
    walk: TravelTimeEngine,
    routes: list[list[int]],
    trips: list[tuple[int, int, int]],
    deps: np.ndarray,
) -> np.ndarray:
    feed = TransitFeed.from_frames(_random_tables(routes, trips), service_date=TUESDAY)
    engine = TransitEngine(feed, walk, max_walk_m=900)
    return engine.earliest_arrivals(
        PROP_POINTS,
        PROP_POINTS,
        deps,
        origin_id_column="id",
        destination_id_column="id",
        max_travel_time_s=None,
    )


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_feeds(), st.lists(st.integers(24_600, 27_600), min_size=2, max_size=6))
def test_later_departure_never_arrives_earlier(
    prop_walk: TravelTimeEngine, feed_spec, deps_list
) -> None:  # type: ignore[no-untyped-def]
    routes, trips = feed_spec
    deps = np.sort(np.array(deps_list, dtype=float))
    arr = _arrivals(prop_walk, routes, trips, deps)
    assert (np.diff(arr, axis=2) >= -1e-9).all()
    assert (arr >= deps[None, None, :] - 1e-9).all()


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(_feeds(), st.tuples(st.integers(0, 2), st.integers(25_000, 27_000), st.integers(30, 400)))
def test_adding_a_trip_never_lengthens_a_journey(
    prop_walk: TravelTimeEngine, feed_spec, extra
) -> None:  # type: ignore[no-untyped-def]
    routes, trips = feed_spec
    extra = (extra[0] % len(routes), extra[1], extra[2])
    deps = np.array([25_200.0, 25_800.0, 26_400.0])
    before = _arrivals(prop_walk, routes, trips, deps)
    after = _arrivals(prop_walk, routes, [*trips, extra], deps)
    assert (after <= before + 1e-9).all()
