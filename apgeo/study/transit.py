"""The study's public-transport travel times: timetable feeds + walking legs, one label.

With a walk street network the walking legs (to the first stop, from the last, between
stops) use it; without one (offline) they are the straight-line estimate, crow-fly x the
study's circuity factor at 4.8 km/h, and every label says "straight-line walking".
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd

from apgeo import schema as S
from apgeo.study.config import _feed_name
from apgeo.study.result import StudyResult


def transit_times(result: StudyResult, origins: gpd.GeoDataFrame, sites: gpd.GeoDataFrame) -> None:
    """Median (or the configured percentile) public-transport times over the departure window
    into ``result.travel_times["transit"]``, with ``result.network_method["transit"]`` saying
    which feeds and dates were used and how the walking legs were timed."""
    from apgeo.routing.transit.feeds import MultiFeedTransitEngine, load_merged_feed
    from apgeo.routing.transit.legs import StraightLineWalk
    from apgeo.routing.transit.raptor import transit_travel_time_table

    cfg = result.config
    feeds = cfg.transit_feeds or ((cfg.transit_feed,) if cfg.transit_feed is not None else ())
    if not feeds:
        return
    merged = load_merged_feed({_feed_name(f): f for f in feeds}, service_date=cfg.transit_service_date)
    walk: Any = result.engines.get("walk")
    if walk is None:
        walk = StraightLineWalk(circuity=cfg.circuity_factor)
    engine = MultiFeedTransitEngine(merged, walk)
    table = transit_travel_time_table(
        engine, origins, sites, origin_id_column=S.AREA_ID, destination_id_column=S.SITE_ID,
        departure_window=cfg.transit_window, step_min=cfg.transit_step_min, percentile=cfg.transit_percentile,
    )
    rec = table.attrs
    result.engines["transit"] = engine
    result.travel_times["transit"] = table[[S.ORIGIN_ID, S.DESTINATION_ID, S.TRAVEL_TIME_S]]
    result.tables["transit_feeds"] = feeds_table(engine, merged.service_dates, date.fromisoformat(cfg.transit_service_date))
    walking = (
        "STRAIGHT-LINE walking (crow-fly distance x "
        f"{cfg.circuity_factor:g} at {engine.walk_speed_kph:g} km/h)"
        if isinstance(walk, StraightLineWalk)
        else "walking on the street network"
    )
    kinds = {_feed_name(f): _feed_kind(f) for f in feeds}
    used = ", ".join(
        f"{kinds[name]} {name} read for {day.isoformat()} ({day.strftime('%A')})"
        for name, day in merged.service_dates.items()
    )
    result.network_method["transit"] = (
        f"public transport: timetable {used} + {walking}, at most {engine.max_walk_m:,.0f} m to and "
        f"from stops; departures {cfg.transit_window[0]}-{cfg.transit_window[1]} every "
        f"{cfg.transit_step_min:g} min, {_ordinal(cfg.transit_percentile)} over the window "
        f"({rec['search']})"
    )


def _feed_kind(path: Path) -> str:
    """"GTFS" when the zip or folder has a stops.txt, else "TransXChange"."""
    import zipfile

    if path.is_dir():
        return "GTFS" if (path / "stops.txt").is_file() else "TransXChange"
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            names = {n.rsplit("/", 1)[-1] for n in zf.namelist()}
        return "GTFS" if "stops.txt" in names and "stop_times.txt" in names else "TransXChange"
    return "TransXChange"


def _ordinal(p: float) -> str:
    return "median" if p == 50 else f"{p:g}th percentile"


def feeds_table(engine: Any, service_dates: dict[str, date], requested: date) -> Any:
    """One row per feed: name, the day it was read for, stops and trips used."""
    import pandas as pd

    stops = engine.feed.stops
    trips = engine.feed.trips
    rows = []
    for name, day in service_dates.items():
        prefix = f"{name}:"
        rows.append(
            {
                "feed": name,
                "requested_date": requested.isoformat(),
                "service_date": day.isoformat(),
                "weekday": day.strftime("%A"),
                "stops": int(stops["stop_id"].astype(str).str.startswith(prefix).sum()),
                "trips": int(trips["trip_id"].astype(str).str.startswith(prefix).sum()),
                "walk_legs": engine.walk_method,
            }
        )
    return pd.DataFrame(rows)


__all__ = ["feeds_table", "transit_times"]
