"""Range-RAPTOR equals per-departure RAPTOR; straight-line walking legs; transfer lists.

Straight-line walking on the hand-written feed ``tests/data/gtfs_tiny`` (see
tests/test_transit.py for the timetable): every walking leg is crow-fly x 1.3 at 4.8 km/h,
i.e. 0.975 s per metre.

* O1 (on S1) -> D2 (on S3): bus only, as on the network: median 510 s.
* O1 -> D1 (on S6): bus to S3 (:x4:30), walk S3 -> S4 100 m = 97.5 s (:x6:07.5), tram
  :x6:30, S6 :x12:30: the same 990 s median as the network's 75 s transfer (both catch it).
* O1 -> D3 (300 m south of S3): bus to S3 then 300 m = 292.5 s: median 510 + 292.5 = 802.5 s.
* O1 -> D4 (800 m south of S3): 800 x 1.3 = 1,040 m is over max_walk_m = 1,000 and S2 is
  1,281 m away, so no stop is in reach: walking all the way, 2,154 m x 0.975 = 2,100.3 s.
"""

from __future__ import annotations

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

from apgeo import ApgeoValueError
from apgeo.network.synthetic import grid_network
from apgeo.routing.transit.feed import TransitFeed
from apgeo.routing.transit.feeds import MultiFeedTransitEngine, load_merged_feed
from apgeo.routing.transit.legs import StraightLineWalk
from apgeo.routing.transit.raptor import TransitEngine
from apgeo.routing.transit.travel_time_table import departure_times, transit_travel_time_table
from apgeo.routing.travel_times import TravelTimeEngine

TINY = Path(__file__).parent / "data" / "gtfs_tiny"
TUESDAY = date(2025, 3, 4)
X0, Y0 = 430_000.0, 380_000.0
TO_LONLAT = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
PER_M = 1.3 / (4.8 / 3.6)  # seconds per crow-fly metre


def _points(xy: dict[str, tuple[float, float]]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {"id": list(xy)},
        geometry=[Point(X0 + dx, Y0 + dy) for dx, dy in xy.values()],
        crs="EPSG:27700",
    )


# ---- straight-line walking -------------------------------------------------------------------


@pytest.fixture(scope="module")
def straight() -> TransitEngine:
    return TransitEngine(TransitFeed.from_path(TINY, service_date=TUESDAY), None)


def test_straight_line_walking_hand_worked(straight: TransitEngine) -> None:
    table = transit_travel_time_table(
        straight,
        _points({"O1": (0, 0)}),
        _points({"D1": (2000, 2000), "D2": (2000, 0), "D3": (2000, -300), "D4": (2000, -800)}),
        origin_id_column="id",
        destination_id_column="id",
    )
    got = table.set_index("destination_id")["travel_time_s"]
    assert got["D1"] == pytest.approx(990, abs=0.01)
    assert got["D2"] == pytest.approx(510, abs=0.01)
    assert got["D3"] == pytest.approx(802.5, abs=0.01)
    assert got["D4"] == pytest.approx(np.hypot(2000, 800) * PER_M, abs=0.01)
    assert "straight-line walking" in table.attrs["walk_legs"]
    assert table.attrs["transfer_times"] == "straight_line"
    assert table.attrs["search"] == "range-RAPTOR"


def test_straight_line_transfer_time(straight: TransitEngine) -> None:
    tr = straight.transfers.set_index(["from_stop_id", "to_stop_id"])["travel_time_s"]
    assert tr[("S3", "S4")] == pytest.approx(100 * PER_M, abs=0.01)
    assert straight.n_stops == 6 and straight.dropped_stops == ()


def test_straight_line_needs_points(straight: TransitEngine) -> None:
    with pytest.raises(ApgeoValueError, match="point GeoDataFrame"):
        straight.earliest_arrivals(
            pd.DataFrame({"id": ["a"]}), _points({"b": (0, 0)}), [25_200.0],
            origin_id_column="id", destination_id_column="id",
        )


def test_walk_engine_type_is_checked() -> None:
    with pytest.raises(ApgeoValueError, match="StraightLineWalk or None"):
        TransitEngine(TransitFeed.from_path(TINY, service_date=TUESDAY), "walk")  # type: ignore[arg-type]
    with pytest.raises(ApgeoValueError, match="circuity"):
        StraightLineWalk(circuity=0.8)


# ---- extra and forbidden transfers -----------------------------------------------------------


def test_extra_transfers_shorter_wins_listed_always_wins() -> None:
    feed = TransitFeed.from_path(TINY, service_date=TUESDAY)
    extra = pd.DataFrame(
        {
            "from_stop_id": ["S3", "S4", "S1"],
            "to_stop_id": ["S4", "S3", "S2"],
            "travel_time_s": [500.0, 10.0, 60.0],
            "source": ["walk", "transfers.txt", "walk"],
        }
    )
    forbidden = pd.DataFrame({"from_stop_id": ["S1"], "to_stop_id": ["S2"]})
    engine = TransitEngine(feed, None, extra_transfers=extra, forbidden_transfers=forbidden)
    tr = engine.transfers.set_index(["from_stop_id", "to_stop_id"])["travel_time_s"]
    assert tr[("S3", "S4")] == pytest.approx(97.5, abs=0.01)  # own 97.5 s beats 500 s
    assert tr[("S4", "S3")] == 10.0  # transfers.txt wins even when longer or shorter
    assert ("S1", "S2") not in tr.index  # forbidden
    # a long listed transfer makes the bus -> tram change miss the :x6:30 tram
    slow = pd.DataFrame(
        {"from_stop_id": ["S3"], "to_stop_id": ["S4"], "travel_time_s": [180.0],
         "source": ["transfers.txt"]}
    )
    late = TransitEngine(feed, None, extra_transfers=slow)
    arr = late.earliest_arrivals(
        _points({"O1": (0, 0)}), _points({"D1": (2000, 2000)}), [25_200.0],
        origin_id_column="id", destination_id_column="id",
    )
    # bus 07:00:30 -> S3 07:04:30, walk 3 min, next tram 07:16:30 -> S6 07:22:30
    assert arr[0, 0, 0] == pytest.approx(25_200 + 22.5 * 60, abs=0.01)


def test_multi_feed_engine_rejects_own_transfer_lists() -> None:
    merged = load_merged_feed({"tiny": TINY}, service_date=TUESDAY)
    with pytest.raises(ApgeoValueError, match="merge_feeds"):
        MultiFeedTransitEngine(merged, None, extra_transfers=pd.DataFrame())
    engine = MultiFeedTransitEngine(merged, None)
    assert len(engine.transfers) >= 2


# ---- range-RAPTOR == per-departure RAPTOR ----------------------------------------------------

GRID = 8  # stops on an 8 x 8 lattice, 350 m apart


def _synthetic_tables(rng: np.random.Generator, n_routes: int, n_trips: int) -> dict[str, pd.DataFrame]:
    """Random routes (some loop back to a stop, some trips overtake) on a lattice."""
    routes = []
    for _ in range(n_routes):
        stops = list(rng.choice(GRID * GRID, size=int(rng.integers(3, 9)), replace=False))
        if rng.random() < 0.2:
            stops.append(stops[0])  # a loop: the same stop twice on one pattern
        routes.append(stops)
    nodes = sorted({int(n) for r in routes for n in r})
    xs, ys = X0 + (np.array(nodes) % GRID) * 350.0, Y0 + (np.array(nodes) // GRID) * 350.0
    lon, lat = TO_LONLAT.transform(xs, ys)
    rows, trips = [], []
    for j in range(n_trips):
        r = int(rng.integers(n_routes))
        t = int(rng.integers(24_000, 30_000))
        trips.append((f"r{r}", f"t{j}"))
        for k, node in enumerate(routes[r]):
            hms = f"{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"
            rows.append({"trip_id": f"t{j}", "arrival_time": hms, "departure_time": hms,
                         "stop_id": f"n{node}", "stop_sequence": str(k)})
            t += int(rng.integers(40, 300))
    return {
        "stops.txt": pd.DataFrame({"stop_id": [f"n{n}" for n in nodes],
                                   "stop_lat": [f"{v:.9f}" for v in lat],
                                   "stop_lon": [f"{v:.9f}" for v in lon]}),
        "routes.txt": pd.DataFrame({"route_id": [f"r{i}" for i in range(n_routes)],
                                    "route_type": ["3"] * n_routes}),
        "trips.txt": pd.DataFrame({"route_id": [r for r, _ in trips], "service_id": "S",
                                   "trip_id": [t for _, t in trips]}),
        "stop_times.txt": pd.DataFrame(rows),
        "calendar_dates.txt": pd.DataFrame({"service_id": ["S"], "date": ["20250304"],
                                            "exception_type": ["1"]}),
    }


def _random_points(rng: np.random.Generator, n: int, prefix: str) -> gpd.GeoDataFrame:
    xy = rng.uniform(-300, GRID * 350 + 300, size=(n, 2))
    return gpd.GeoDataFrame({"id": [f"{prefix}{i}" for i in range(n)]},
                            geometry=[Point(X0 + x, Y0 + y) for x, y in xy], crs="EPSG:27700")


def _both(engine: TransitEngine, o: gpd.GeoDataFrame, d: gpd.GeoDataFrame, deps: np.ndarray,
          limit: float | None) -> tuple[np.ndarray, np.ndarray]:
    kw = {"origin_id_column": "id", "destination_id_column": "id", "max_travel_time_s": limit}
    return (engine.earliest_arrivals(o, d, deps, method="range", **kw),
            engine.earliest_arrivals(o, d, deps, method="per_departure", **kw))


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("max_rides", [1, 2, 4])
def test_range_equals_per_departure_many_origins(seed: int, max_rides: int) -> None:
    rng = np.random.default_rng(seed)
    feed = TransitFeed.from_frames(_synthetic_tables(rng, 10, 120), service_date=TUESDAY)
    engine = TransitEngine(feed, None, max_rides=max_rides, max_walk_m=700, transfer_radius_m=500)
    o, d = _random_points(rng, 60, "o"), _random_points(rng, 15, "d")
    deps = departure_times(("07:00", "08:00"), 1)
    fast, slow = _both(engine, o, d, deps, 3600.0)
    assert np.array_equal(fast, slow)
    assert np.isfinite(fast).mean() > 0.3  # the comparison is not vacuous
    t_fast = transit_travel_time_table(engine, o, d, origin_id_column="id",
                                       destination_id_column="id", extra_percentiles=(10, 90))
    t_slow = transit_travel_time_table(engine, o, d, origin_id_column="id",
                                       destination_id_column="id", extra_percentiles=(10, 90),
                                       method="per_departure")
    for col in ("travel_time_s", "travel_time_p10_s", "travel_time_p90_s"):
        np.testing.assert_array_equal(t_fast[col].to_numpy(), t_slow[col].to_numpy())


def test_the_table_made_in_blocks_of_origins_equals_one_block(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Origins are searched a block at a time (memory bound); the table does not change."""
    import apgeo.routing.transit.travel_time_table as table_module

    rng = np.random.default_rng(11)
    feed = TransitFeed.from_frames(_synthetic_tables(rng, 10, 120), service_date=TUESDAY)
    engine = TransitEngine(feed, None, max_walk_m=700, transfer_radius_m=500)
    o, d = _random_points(rng, 23, "o"), _random_points(rng, 9, "d")
    kwargs = {"origin_id_column": "id", "destination_id_column": "id", "extra_percentiles": (25,)}
    whole = transit_travel_time_table(engine, o, d, **kwargs)
    n_deps = len(departure_times(("07:00", "09:00"), 1))
    monkeypatch.setattr(table_module, "TABLE_BLOCK_CELLS", 5 * 9 * n_deps)  # blocks of 5 origins
    blocks = transit_travel_time_table(engine, o, d, **kwargs)
    pd.testing.assert_frame_equal(blocks, whole)
    assert whole["travel_time_s"].notna().mean() > 0.3


def test_range_equals_per_departure_on_a_walk_network() -> None:
    rng = np.random.default_rng(7)
    walk = TravelTimeEngine.from_graph(
        grid_network(GRID * 2 + 4, GRID * 2 + 4, spacing_m=175, origin=(X0 - 350, Y0 - 350)),
        warn_dropped_fraction=None,
    )
    feed = TransitFeed.from_frames(_synthetic_tables(rng, 8, 80), service_date=TUESDAY)
    engine = TransitEngine(feed, walk, max_rides=3)
    o, d = _random_points(rng, 40, "o"), _random_points(rng, 10, "d")
    fast, slow = _both(engine, o, d, departure_times(("07:00", "07:45"), 1), None)
    assert np.array_equal(fast, slow)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000), st.integers(1, 5), st.lists(st.integers(24_000, 30_000),
                                                          min_size=1, max_size=8))
def test_range_equals_per_departure_property(seed: int, max_rides: int, deps: list[int]) -> None:
    rng = np.random.default_rng(seed)
    feed = TransitFeed.from_frames(_synthetic_tables(rng, 4, 25), service_date=TUESDAY)
    engine = TransitEngine(feed, None, max_rides=max_rides, max_walk_m=800)
    o, d = _random_points(rng, 12, "o"), _random_points(rng, 6, "d")
    fast, slow = _both(engine, o, d, np.array(deps, dtype=float), 2400.0)
    assert np.array_equal(fast, slow)


def test_unknown_search_method(straight: TransitEngine) -> None:
    with pytest.raises(ApgeoValueError, match="per_departure"):
        straight.earliest_arrivals(_points({"a": (0, 0)}), _points({"b": (0, 0)}), [25_200.0],
                                   origin_id_column="id", destination_id_column="id",
                                   method="fast")  # type: ignore[arg-type]


# ---- bad input --------------------------------------------------------------------------------


def _tiny_tables() -> dict[str, pd.DataFrame]:
    return {p.name: pd.read_csv(p, dtype=str, keep_default_na=False) for p in TINY.glob("*.txt")}


def test_gtfs_stop_without_coordinates_is_named() -> None:
    tables = _tiny_tables()
    stops = tables["stops.txt"]
    stops.loc[stops["stop_id"] == "S5", ["stop_lat", "stop_lon"]] = ["", ""]
    with pytest.raises(ApgeoValueError, match=r"\['S5'\].*no valid stop_lat / stop_lon"):
        TransitFeed.from_frames(tables, service_date=TUESDAY)


def test_trip_past_midnight_in_range_raptor(straight: TransitEngine) -> None:
    """R1_late leaves S1 at 25:10:30 (01:10:30 next day): range and per-departure agree."""
    deps = np.array([25 * 3600 + 10 * 60, 25 * 3600 + 11 * 60], dtype=float)
    fast, slow = _both(straight, _points({"O1": (0, 0)}), _points({"D2": (2000, 0)}), deps, None)
    assert np.array_equal(fast, slow)
    assert fast[0, 0, 0] == pytest.approx(25 * 3600 + 14 * 60 + 30, abs=0.01)  # waits 30 s, rides 4 min


def test_merged_feed_date_outside_every_feed_is_moved_and_labelled() -> None:
    """A study date outside the feed's calendar: the same weekday inside it is used, with a
    warning, and the engine's record says which day."""
    from apgeo import ApgeoWarning

    with pytest.warns(ApgeoWarning, match="2025-07-18|outside"):
        merged = load_merged_feed({"tiny": TINY}, service_date="2026-03-03")
    engine = MultiFeedTransitEngine(merged, None)
    rec = engine.record()
    assert rec["feed_service_dates"]["tiny"] != "2026-03-03"
    assert date.fromisoformat(rec["feed_service_dates"]["tiny"]).weekday() == 1  # a Tuesday
