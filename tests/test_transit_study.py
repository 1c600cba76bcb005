"""Public transport in the study: the committed Supertram timetable, checked against itself,
and the study's transit rows with straight-line walking (no street network offline).

Timetable facts (``data/sheffield/transit/sheffield_supertram_gtfs_2024-25.zip``, Tuesday
2025-01-14, read from its stop_times.txt): a tram leaves "Cathedral From City Hall"
(9400ZZSYCAT2) at 07:02:00 and reaches "Meadowhall Interchange To City" (9400ZZSYMHI1) at
07:21:00 (19 min in the vehicle); the next leaves at 07:13:00 and arrives at 07:32:00.
"""

from __future__ import annotations

import warnings
import zipfile

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from apgeo.routing.transit.feed import TransitFeed
from apgeo.routing.transit.raptor import TransitEngine
from apgeo.settings import repo_root
from apgeo.study.config import load_config

TRAM = repo_root() / "data" / "sheffield" / "transit" / "sheffield_supertram_gtfs_2024-25.zip"
CATHEDRAL, MEADOWHALL = "9400ZZSYCAT2", "9400ZZSYMHI1"


def _raw(name: str) -> pd.DataFrame:
    with zipfile.ZipFile(TRAM) as zf:
        return pd.read_csv(zf.open(name), dtype=str)


@pytest.fixture(scope="module")
def tram_engine() -> TransitEngine:
    return TransitEngine(TransitFeed.from_path(TRAM, service_date="2025-01-14"), None)


def _at_stop(stop_id: str) -> gpd.GeoDataFrame:
    s = _raw("stops.txt").set_index("stop_id").loc[stop_id]
    return gpd.GeoDataFrame(
        {"id": [stop_id]},
        geometry=gpd.points_from_xy([float(s["stop_lon"])], [float(s["stop_lat"])]),
        crs="EPSG:4326",
    )


def test_the_timetable_has_these_trams() -> None:
    st = _raw("stop_times.txt")
    a = st[(st["stop_id"] == CATHEDRAL) & st["departure_time"].isin(["07:02:00", "07:13:00"])]
    b = st[(st["stop_id"] == MEADOWHALL) & st["arrival_time"].isin(["07:21:00", "07:32:00"])]
    pairs = a.merge(b, on="trip_id", suffixes=("_a", "_b"))
    got = set(zip(pairs["departure_time_a"], pairs["arrival_time_b"], strict=True))
    assert {("07:02:00", "07:21:00"), ("07:13:00", "07:32:00")} <= got


def test_in_vehicle_time_equals_the_timetable(tram_engine: TransitEngine) -> None:
    deps = np.array([7 * 3600 + 2 * 60, 7 * 3600 + 2 * 60 + 1, 7 * 3600 + 13 * 60], dtype=float)
    arr = tram_engine.earliest_arrivals(
        _at_stop(CATHEDRAL), _at_stop(MEADOWHALL), deps,
        origin_id_column="id", destination_id_column="id",
    )[0, 0]
    # standing at the platform (0 m walks) at 07:02:00: the 07:02 tram, 19 min on board
    assert arr[0] == 7 * 3600 + 21 * 60
    assert arr[0] - deps[0] == 19 * 60
    # one second after it leaves: wait for the next one (the 11-minute headway shows)
    assert arr[1] == 7 * 3600 + 32 * 60
    assert arr[2] == 7 * 3600 + 32 * 60


def test_sheffield_config_runs_the_tram() -> None:
    cfg = load_config(repo_root() / "studies" / "sheffield.toml")
    assert [p.name for p in cfg.transit_feeds] == [TRAM.name]
    assert cfg.transit_service_date == "2025-01-14"
    assert cfg.transit_window == ("07:00", "09:00")
    assert cfg.transit_percentile == 50


def test_study_transit_rows_straight_line_walking(tmp_path) -> None:
    from apgeo.study.pipeline import run_study

    p = tmp_path / "study.toml"
    p.write_text(
        f"""
[study]
name = "sheffield"
data_dir = "{repo_root() / 'data' / 'sheffield'}"
output_dir = "{tmp_path / 'reports'}"
maps_dir = "{tmp_path / 'maps'}"

[network]
source = "straight-line"
modes = ["walk"]

[analysis]
thresholds_min = [15, 30]

[transit]
feeds = ["{TRAM}"]
service_date = "2025-01-14"
departure_window = ["07:00", "08:00"]
step_min = 10
""",
        encoding="utf-8",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = run_study(load_config(p))
    method = r.network_method["transit"]
    assert "GTFS sheffield_supertram_gtfs_2024-25 read for 2025-01-14 (Tuesday)" in method
    assert "STRAIGHT-LINE walking" in method and "07:00-08:00 every 10 min" in method
    assert "median" in method
    walk = r.travel_times["walk"].set_index(["origin_id", "destination_id"])["travel_time_s"]
    tr = r.travel_times["transit"].set_index(["origin_id", "destination_id"])["travel_time_s"]
    both = pd.concat([walk, tr], axis=1, keys=["walk", "transit"]).dropna()
    assert (both["transit"] <= both["walk"] + 1e-6).all()
    assert (both["transit"] < both["walk"] - 60).any()  # the tram helps somewhere
    for table in ("coverage", "nearest_ap", "equity", "access_coldspots"):
        assert "transit" in set(r.tables[table]["mode"]), table
    out = r.config.output_dir
    csv = pd.read_csv(out / "travel_times_transit.csv")
    assert csv["method"].str.contains("STRAIGHT-LINE walking").all()
    assert (tmp_path / "maps" / "sheffield_transit.html").is_file()
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "transit" in report and "sheffield_supertram_gtfs_2024-25" in report
    feeds = pd.read_csv(out / "transit_feeds.csv")
    assert feeds.loc[0, "service_date"] == "2025-01-14" and feeds.loc[0, "stops"] == 94
    # the trams of that Tuesday, and apart from them Monday's still running after midnight
    assert (feeds.loc[0, "trips"], feeds.loc[0, "trips_from_previous_day"]) == (447, 10)
    # what the timetable changes: the Inclusion Centre is ~130 m from Spring Lane tram stop
    sites = r.tables["transit_ap_sites"].set_index("site_id")
    assert sites.loc["URN137596-1", "within_400_m"]
    assert "Spring Lane" in sites.loc["URN137596-1", "nearest_stop"]
    assert 100 < sites.loc["URN137596-1", "nearest_stop_distance_m"] < 160
    vs = r.tables["transit_vs_walk"].set_index("mode")
    assert vs.loc["transit", "share_within_30_min"] >= vs.loc["walk", "share_within_30_min"]
    # the same children and shares as the coverage table's AP rows (not AP-adjacent too)
    cov = r.tables["coverage"]
    ap = cov[(cov["providers"] == "AP") & (cov["mode"] == "walk") & cov["key_stage"].isin(["KS3", "KS4"])]
    assert vs.loc["walk", "children"] == pytest.approx(ap["children"].sum())
    assert vs.loc["walk", "share_within_30_min"] == pytest.approx(ap["children_within_30_min"].sum() / ap["children"].sum())
    assert (r.tables["transit_difference_areas"]["minutes_saved"] > 0).all()
    # one rule for "within N minutes": headline_coverage.csv counts what the coverage
    # table's "all" row (AP sites serving the child's key stage) and the report count
    from apgeo.study.pipeline import WITHIN_ANY_SITE, WITHIN_SUITABLE

    head = pd.read_csv(out / "headline_coverage.csv")
    every = cov[(cov["providers"] == "AP") & (cov["key_stage"] == "all")].set_index("mode")
    for row in head.itertuples():
        t = f"{row.threshold_min:g}"
        assert getattr(row, WITHIN_SUITABLE) == pytest.approx(every.loc[row.mode, f"children_within_{t}_min"])
        assert getattr(row, WITHIN_ANY_SITE) >= getattr(row, WITHIN_SUITABLE)
    walk30 = every.loc["walk", "children_within_30_min"]
    assert f"{walk30:,.0f} children" in report
    # the tram median counts the LSOAs reaching no AP site within 120 min as beyond it, and says so
    near = r.tables["nearest_ap"]
    tram = near[near["mode"] == "transit"]["nearest_time_s"]
    lost = int(tram.isna().sum())
    assert lost > 0 and r.headline["areas_unreachable_transit"] == lost
    assert r.headline["travel_time_cap_min_transit"] == 120
    median = r.headline["median_minutes_to_nearest_ap_transit"]
    assert median == pytest.approx(np.median(tram.fillna(np.inf)) / 60)
    assert median > np.nanmedian(tram) / 60  # dropping them made public transport look faster
    assert f"({lost} LSOAs, " in report and "within the 120-min journey limit and count as beyond it" in report
    assert (head.loc[head["mode"] == "transit", "areas_unreachable"] == lost).all()
    assert "## Public transport: what the timetable changes" in report
    # the tram lines and stops are a layer of the maps, listed in the layer control
    html = (tmp_path / "maps" / "sheffield_transit.html").read_text(encoding="utf-8")
    assert html.count("Public transport: tram lines and stops") >= 1
    assert '"Public transport: tram lines and stops (' in html
    # drawn: the layer is built before the layer control that lists it
    assert html.index("#7b3294") < html.index("L.control.layers(")


def _island(saving_min: float):  # type: ignore[no-untyped-def]
    """A made-up island: two areas, one AP site 3.3 km from the only bus stop."""
    from types import SimpleNamespace

    from shapely.geometry import Point

    stops = gpd.GeoDataFrame({"stop_id": ["b1"], "stop_name": ["Quay"]}, geometry=[Point(450_000, 90_000)], crs=27700)
    engine = SimpleNamespace(feed=SimpleNamespace(stops_gdf=lambda: stops), max_walk_m=1000.0)
    providers = gpd.GeoDataFrame(
        {"site_id": ["ap1"], "name": ["Island AP"], "kind": ["pru"]}, geometry=[Point(453_300, 90_000)], crs=27700
    )
    demand = pd.DataFrame({"area_id": ["x1", "x2", "x3"], "area_name": ["X 1", "X 2", "X 3"],
                           "ward_name": ["W", "W", "W"], "children_school_age": [100, 50, 70]})
    walk = [40 * 60.0, 90 * 60.0, 150 * 60.0]
    transit = [40 * 60.0 - saving_min * 60, 90 * 60.0, np.nan]  # x3: beyond the 2-hour limit
    near = pd.DataFrame({"area_id": ["x1", "x2", "x3"] * 2, "mode": ["walk"] * 3 + ["transit"] * 3,
                         "nearest_time_s": walk + transit})
    return SimpleNamespace(
        engines={"transit": engine}, travel_times={"walk": None, "transit": None}, providers=providers,
        ap_kinds=["pru"], demand=demand, tables={"nearest_ap": near}, headline={},
        network_method={"transit": "public transport: buses"},
    )


def test_island_where_buses_save_nothing_says_so_and_names_the_far_site() -> None:
    """Isle of Wight: no "most time saved" table of zero rows; the site far from every stop named."""
    from apgeo.outputs.report import _transit_section
    from apgeo.study.transit import transit_difference

    r = _island(0.0)
    transit_difference(r)  # type: ignore[arg-type]
    assert r.tables["transit_difference_areas"].empty
    assert r.headline["transit_areas_saving_time"] == 0 and r.headline["transit_areas_unreachable"] == 1
    sites = r.tables["transit_ap_sites"]
    assert bool(sites["beyond_longest_walk_from_a_stop"].iloc[0]) and sites["nearest_stop_distance_m"].iloc[0] == 3300
    text = "\n".join(_transit_section(r))  # type: ignore[arg-type]
    assert "Public transport saves no time over walking to the nearest AP site in any of the 3 LSOAs" in text
    assert "| area_id |" not in text
    assert "1 LSOAs reach no AP site by public transport within the journey limit" in text
    assert "Island AP (Quay, 3,300 m)" in text and "farther than the longest walk from a stop (1,000 m)" in text


def test_island_lists_only_areas_where_buses_save_time() -> None:
    from apgeo.outputs.report import _transit_section
    from apgeo.study.transit import transit_difference

    r = _island(5.0)
    transit_difference(r)  # type: ignore[arg-type]
    table = r.tables["transit_difference_areas"]
    assert list(table["area_id"]) == ["x1"] and table["minutes_saved"].iloc[0] == 5.0
    text = "\n".join(_transit_section(r))  # type: ignore[arg-type]
    assert "it saves time in 1 of 3 LSOAs" in text
