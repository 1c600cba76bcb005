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
    assert "## Public transport: what the timetable changes" in report
    # the tram lines and stops are a layer of the maps, listed in the layer control
    html = (tmp_path / "maps" / "sheffield_transit.html").read_text(encoding="utf-8")
    assert html.count("Public transport: tram lines and stops") >= 1
    assert '"Public transport: tram lines and stops (' in html
    # drawn: the layer is built before the layer control that lists it
    assert html.index("#7b3294") < html.index("L.control.layers(")
