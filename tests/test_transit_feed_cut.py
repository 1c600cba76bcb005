"""Reading a regional timetable cut to the study area and the service date.

The synthetic South Yorkshire bus feed (``benchmarks/regional_feed.py``, tiny scale: 8
routes from Sheffield's centre over the real NaPTAN stops) checks that the generator is
deterministic and counts what it writes, and that the cut read gives the same journeys as
the whole read between places inside the area. Hand-made feeds check the edges: untimed
calls at the area's edge, frequency-based trips, bad rows.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from apgeo._errors import ApgeoValueError, CRSError
from apgeo.routing.transit.feed import TransitFeed
from apgeo.routing.transit.feed_cut import FeedArea
from apgeo.routing.transit.feeds import load_feeds
from apgeo.routing.transit.raptor import TransitEngine
from apgeo.settings import repo_root

NAPTAN = repo_root().parent / "shared" / "data" / "transit" / "naptan_south_yorkshire_stops_atco370.csv"
TUESDAY = "2025-01-14"
CENTRE = (-1.4701, 53.3811)  # Sheffield


def _generator():  # type: ignore[no-untyped-def]
    path = repo_root() / "benchmarks" / "regional_feed.py"
    spec = importlib.util.spec_from_file_location("regional_feed", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("regional_feed", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    if not NAPTAN.is_file():
        pytest.skip("the South Yorkshire NaPTAN stops are not in ../shared/data")
    return _generator().make_regional_feed(tmp_path_factory.mktemp("tiny"), scale="tiny", seed=7)


def _around(lon: float, lat: float, radius_m: float) -> gpd.GeoSeries:
    centre = gpd.GeoSeries([Point(lon, lat)], crs="EPSG:4326").to_crs("EPSG:27700")
    return centre.buffer(radius_m)


# ---- the generator ------------------------------------------------------------------------


def test_generator_is_deterministic_and_counts_what_it_writes(tiny, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    again = _generator().make_regional_feed(tmp_path, scale="tiny", seed=7)
    assert again.gtfs_path.read_bytes() == tiny.gtfs_path.read_bytes()
    for xml in sorted(tiny.txc_dir.glob("*.xml")):
        assert (again.txc_dir / xml.name).read_bytes() == xml.read_bytes()
    assert again.counts == tiny.counts
    with zipfile.ZipFile(tiny.gtfs_path) as zf:
        trips = pd.read_csv(zf.open("trips.txt"), dtype=str)
        stop_times = pd.read_csv(zf.open("stop_times.txt"), dtype=str)
        stops = pd.read_csv(zf.open("stops.txt"), dtype=str)
        routes = pd.read_csv(zf.open("routes.txt"), dtype=str)
    c = tiny.counts
    assert (c["routes"], c["trips"], c["stop_times"], c["stops"]) == (
        len(routes), len(trips), len(stop_times), len(stops),
    )  # fmt: skip
    assert c["routes"] == 8 and c["txc_files"] == 8 == len(list(tiny.txc_dir.glob("*.xml")))
    # every stop is a real, active South Yorkshire NaPTAN stop
    naptan = pd.read_csv(NAPTAN, dtype=str).set_index("id")
    assert stops["stop_id"].isin(naptan.index).all()
    assert (naptan.loc[stops["stop_id"], "status"] == "active").all()
    # the school-day counts are those of the feed read for Tuesday 2025-01-14
    feed = TransitFeed.from_path(tiny.gtfs_path, service_date=TUESDAY)
    today = feed.trips["day_offset"] == 0
    assert int(today.sum()) == c["school_day_trips"]
    assert int(feed.stop_times["trip_key"].isin(feed.trips.loc[today, "trip_key"]).sum()) == (
        c["school_day_stop_times"]
    )
    # school-day-only trips do not run in the half-term
    half_term = TransitFeed.from_path(tiny.gtfs_path, service_date="2025-02-18")
    assert half_term.n_trips < feed.n_trips
    assert not half_term.trips["service_id"].eq("SCH").any()
    assert feed.trips["service_id"].eq("SCH").any()


def test_the_transxchange_files_hold_the_same_journeys(tiny) -> None:  # type: ignore[no-untyped-def]
    from apgeo.routing.transit.txc import read_transxchange

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # school-day (ServicedOrganisation) journeys
        tables = read_transxchange(tiny.txc_dir).as_dict()
    assert len(tables["trips.txt"]) == tiny.counts["txc_journeys"] == tiny.counts["trips"]
    assert len(tables["stop_times.txt"]) == tiny.counts["stop_times"]
    with zipfile.ZipFile(tiny.gtfs_path) as zf:
        gtfs = pd.read_csv(zf.open("stop_times.txt"), dtype=str)
    txc = tables["stop_times.txt"].astype({"departure_time": str})
    key = txc["trip_id"].astype(str).str.split(":").str[-1]
    assert set(key) == set(gtfs["trip_id"])
    a = gtfs.groupby("trip_id")["departure_time"].agg(list)
    b = txc.assign(trip=key).groupby("trip")["departure_time"].agg(list)
    assert a.to_dict() == b.to_dict()


# ---- the cut ------------------------------------------------------------------------------


def test_a_cut_covering_everything_reads_the_same_feed(tiny) -> None:  # type: ignore[no-untyped-def]
    whole = load_feeds({"bus": tiny.gtfs_path}, service_date=TUESDAY)["bus"]
    cut = load_feeds(
        {"bus": tiny.gtfs_path}, service_date=TUESDAY, area=_around(*CENTRE, 50_000)
    )["bus"]
    assert cut.cut is not None and cut.cut.trips_kept == cut.cut.trips_running
    pd.testing.assert_frame_equal(cut.feed.trips, whole.feed.trips)
    pd.testing.assert_frame_equal(cut.feed.stop_times, whole.feed.stop_times)
    pd.testing.assert_frame_equal(cut.feed.stops, whole.feed.stops)


def test_journeys_inside_the_area_are_the_same_on_the_cut_feed(tiny) -> None:  # type: ignore[no-untyped-def]
    area = _around(*CENTRE, 2_500)
    whole = load_feeds({"bus": tiny.gtfs_path}, service_date=TUESDAY)["bus"]
    cut = load_feeds({"bus": tiny.gtfs_path}, service_date=TUESDAY, area=area, margin_m=1_500)["bus"]
    assert cut.cut is not None
    assert cut.cut.stop_times_kept < 0.75 * len(whole.feed.stop_times)  # the cut does cut
    assert cut.cut.stops_in_area < cut.cut.stops_in_feed
    assert "cut to the study area + 1.5 km" in cut.cut.label()
    rng = np.random.default_rng(3)
    places = area.iloc[0].buffer(-500)
    minx, miny, maxx, maxy = places.bounds
    pts = []
    while len(pts) < 24:
        p = Point(rng.uniform(minx, maxx), rng.uniform(miny, maxy))
        if places.contains(p):
            pts.append(p)
    where = gpd.GeoDataFrame({"id": range(len(pts))}, geometry=pts, crs="EPSG:27700")
    deps = np.arange(7 * 3600, 8 * 3600, 600, dtype=float)
    kwargs = {"origin_id_column": "id", "destination_id_column": "id"}
    full_arr = TransitEngine(whole.feed, None).earliest_arrivals(where, where, deps, **kwargs)
    cut_arr = TransitEngine(cut.feed, None).earliest_arrivals(where, where, deps, **kwargs)
    np.testing.assert_array_equal(cut_arr, full_arr)
    assert np.isfinite(full_arr).mean() > 0.5


# ---- hand-made feeds ----------------------------------------------------------------------


def _feed(folder: Path, stop_times: str, *, frequencies: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    lats = 53.38
    stops = "\n".join(
        f"{s},Stop {s},{lats:.5f},{-1.50 + 0.01 * i:.5f}" for i, s in enumerate("ABCDE")
    )
    files = {
        "stops.txt": f"stop_id,stop_name,stop_lat,stop_lon\n{stops}\n",
        "routes.txt": "route_id,route_type\nR,3\n",
        "trips.txt": "route_id,service_id,trip_id\nR,WD,T1\nR,WD,T2\nR,SU,T3\nR,MO,T4\nR,MO,T5\n",
        "calendar.txt": (
            "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,start_date,"
            "end_date\nWD,1,1,1,1,1,0,0,20250106,20250330\nSU,0,0,0,0,0,0,1,20250106,20250330\n"
            "MO,1,0,0,0,0,0,0,20250106,20250330\n"
        ),
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n" + stop_times,
    }
    if frequencies:
        files["frequencies.txt"] = "trip_id,start_time,end_time,headway_secs\n" + frequencies
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


# stop B at -1.49 and C at -1.48: an area around (-1.485, 53.38) of 500 m holds both, not A or D
BC = _around(-1.485, 53.38, 100)
ROWS = (
    "T1,07:00:00,07:00:00,A,1\nT1,,,B,2\nT1,,,C,3\nT1,07:09:00,07:09:00,D,4\nT1,07:12:00,07:12:00,E,5\n"
    "T2,08:00:00,08:00:00,A,1\nT2,08:03:00,08:03:00,B,2\nT2,08:06:00,08:06:00,C,3\n"
    "T3,09:00:00,09:00:00,A,1\nT3,09:03:00,09:03:00,B,2\n"
    # Monday only: T4 runs past midnight into Tuesday, T5 does not
    "T4,23:58:00,23:58:00,B,1\nT4,24:06:00,24:06:00,C,2\n"
    "T5,20:00:00,20:00:00,B,1\nT5,20:03:00,20:03:00,C,2\n"
)


def test_untimed_calls_at_the_edge_keep_their_interpolated_times(tmp_path: Path) -> None:
    src = _feed(tmp_path / "f", ROWS)
    whole = load_feeds({"x": src}, service_date=TUESDAY)["x"].feed
    cut = load_feeds({"x": src}, service_date=TUESDAY, area=BC, margin_m=400)["x"]
    assert cut.cut is not None
    assert (cut.cut.stops_in_area, cut.cut.trips_kept, cut.cut.trips_running) == (2, 3, 2)
    st = cut.feed.stop_times.merge(cut.feed.trips[["trip_key", "trip_id"]], on="trip_key")
    # T1 is widened to its timed calls A and D (B and C are untimed); E is dropped
    assert st.loc[st["trip_id"] == "T1", "stop_id"].tolist() == ["A", "B", "C", "D"]
    assert st.loc[st["trip_id"] == "T2", "stop_id"].tolist() == ["B", "C"]
    full = whole.stop_times.merge(whole.trips[["trip_key", "trip_id"]], on="trip_key")
    both = st.merge(full, on=["trip_id", "stop_id"], suffixes=("", "_full"))
    assert len(both) == len(st)
    assert (both["arrival_s"] == both["arrival_s_full"]).all()
    t1_b = (both["trip_id"] == "T1") & (both["stop_id"] == "B")
    assert both.loc[t1_b, "arrival_s"].tolist() == [7 * 3600 + 180]  # A 07:00 .. D 07:09
    # Monday's T4 runs past midnight: kept, on Tuesday's clock (00:06 = 360 s); T5 is not
    assert set(cut.feed.trips["trip_id"]) == set(whole.trips["trip_id"]) - {"T3", "T5"} == {
        "T1", "T2", "T4"
    }
    assert st.loc[st["trip_id"] == "T4", "arrival_s"].tolist() == [-120.0, 360.0]


def test_a_frequency_trip_is_kept_whole(tmp_path: Path) -> None:
    src = _feed(tmp_path / "f", ROWS, frequencies="T2,08:00:00,09:00:00,1800\n")
    whole = load_feeds({"x": src}, service_date=TUESDAY)["x"].feed
    cut = load_feeds({"x": src}, service_date=TUESDAY, area=BC, margin_m=400)["x"].feed
    pick = lambda f: f.stop_times.merge(f.trips, on="trip_key").query("trip_id.str.startswith('T2')")  # noqa: E731
    a, b = pick(whole), pick(cut)
    assert len(a) == len(b) == 6  # two departures x A, B, C
    assert a["arrival_s"].tolist() == b["arrival_s"].tolist()


def test_stop_times_of_an_unknown_trip_are_an_error_naming_the_row(tmp_path: Path) -> None:
    src = _feed(tmp_path / "f", ROWS + "GHOST,10:00:00,10:00:00,A,1\n")
    with pytest.raises(ApgeoValueError, match=r"\['GHOST'\] at row\(s\) 16 are not in trips.txt"):
        load_feeds({"x": src}, service_date=TUESDAY, area=BC, margin_m=400)
    zipped = tmp_path / "f.zip"
    with zipfile.ZipFile(zipped, "w") as zf:
        for f in sorted(src.iterdir()):
            zf.write(f, f.name)
    with pytest.raises(ApgeoValueError, match=r"GHOST.*row\(s\) 16"):
        load_feeds({"x": zipped}, service_date=TUESDAY, area=BC, margin_m=400)


def test_bad_rows_are_named_by_their_line_in_the_file(tmp_path: Path) -> None:
    bad_time = ROWS.replace("T2,08:03:00,08:03:00", "T2,8h03,8h03")
    with pytest.raises(ApgeoValueError, match=r"arrival_time.*row\(s\) 8 .*'8h03'"):
        load_feeds({"x": _feed(tmp_path / "t", bad_time)}, service_date=TUESDAY, area=BC)
    bad_stop = ROWS.replace("T2,08:06:00,08:06:00,C", "T2,08:06:00,08:06:00,Z")
    with pytest.raises(ApgeoValueError, match=r"\['Z'\] at row\(s\) 9 are not in stops.txt"):
        load_feeds({"x": _feed(tmp_path / "s", bad_stop)}, service_date=TUESDAY, area=BC)


def test_no_stop_in_the_area_is_a_clear_error(tmp_path: Path) -> None:
    src = _feed(tmp_path / "f", ROWS)
    far = _around(-0.1276, 51.5072, 1_000)  # London
    with pytest.raises(ApgeoValueError, match=r"none of its 5 stops .* lies within the study area"):
        load_feeds({"x": src}, service_date=TUESDAY, area=far, margin_m=1_000)
    with pytest.raises(CRSError, match="no CRS"):
        FeedArea.from_geometry(gpd.GeoSeries([Point(0, 0)]))
    with pytest.raises(ApgeoValueError, match="margin_m"):
        FeedArea.from_geometry(BC, margin_m=-1)


def test_a_transxchange_folder_is_cut_the_same_way(tiny) -> None:  # type: ignore[no-untyped-def]
    area = _around(*CENTRE, 2_500)
    gtfs = load_feeds({"bus": tiny.gtfs_path}, service_date=TUESDAY, area=area, margin_m=1_500)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # school-day (ServicedOrganisation) journeys
        txc = load_feeds({"bus": tiny.txc_dir}, service_date=TUESDAY, area=area, margin_m=1_500)
    a, b = gtfs["bus"].cut, txc["bus"].cut
    assert a is not None and b is not None
    assert (a.trips_kept, a.stop_times_kept, a.stops_in_area) == (
        b.trips_kept, b.stop_times_kept, b.stops_in_area,
    )  # fmt: skip


def test_the_merged_feed_of_a_study_keeps_the_area_cut(tiny) -> None:  # type: ignore[no-untyped-def]
    """``load_merged_feed(area=...)`` merges the cut feeds, not the whole ones read again."""
    from apgeo.routing.transit.feeds import load_merged_feed

    area = _around(*CENTRE, 2_500)
    whole = load_merged_feed({"bus": tiny.gtfs_path}, service_date=TUESDAY)
    cut = load_merged_feed({"bus": tiny.gtfs_path}, service_date=TUESDAY, area=area, margin_m=1_500)
    alone = load_feeds({"bus": tiny.gtfs_path}, service_date=TUESDAY, area=area, margin_m=1_500)["bus"]
    assert len(cut.feed.stop_times) == len(alone.feed.stop_times) < len(whole.feed.stop_times)
    assert len(cut.feed.stops) < len(whole.feed.stops)


def test_an_area_of_a_city_and_many_outside_points_grows_as_their_union() -> None:
    """Each part is grown on its own and the parts joined: the same area as growing the union."""
    import shapely

    rng = np.random.default_rng(5)
    city = _around(*CENTRE, 4_000)
    x0, y0 = city.iloc[0].centroid.x, city.iloc[0].centroid.y
    points = gpd.GeoSeries(
        gpd.points_from_xy(x0 + rng.uniform(-9_000, 9_000, 300), y0 + rng.uniform(-9_000, 9_000, 300)),
        crs=city.crs,
    )
    area = gpd.GeoSeries(pd.concat([city, points], ignore_index=True), crs=city.crs)
    grown = FeedArea.from_geometry(area, margin_m=1_500)
    expected = shapely.buffer(area.union_all(), 1_500.0, quad_segs=4)
    assert grown.geometry.area == pytest.approx(expected.area, rel=1e-9)
    assert shapely.symmetric_difference(grown.geometry, expected).area < 1e-6 * expected.area
