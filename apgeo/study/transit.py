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
    which feeds and dates were used and how the walking legs were timed.

    Parameters
    ----------
    result
        The study's result, changed in place.
    origins, sites
        Origin (area) and site points.
    """
    from apgeo.routing.transit.feeds import MultiFeedTransitEngine, load_merged_feed
    from apgeo.routing.transit.legs import StraightLineWalk
    from apgeo.routing.transit.travel_time_table import transit_travel_time_table

    cfg = result.config
    feeds = cfg.transit_feeds or ((cfg.transit_feed,) if cfg.transit_feed is not None else ())
    if not feeds:
        return
    merged = load_merged_feed(
        {_feed_name(f): f for f in feeds}, service_date=cfg.transit_service_date,
        area=study_area(result, origins, sites),
    )
    walk: Any = result.engines.get("walk")
    if walk is None:
        walk = StraightLineWalk(circuity=cfg.circuity_factor)
    else:
        from apgeo.routing.deferred import resolve_engine

        walk = resolve_engine(walk)  # the transit legs walk on the street network
    engine = MultiFeedTransitEngine(merged, walk)
    table = transit_travel_time_table(
        engine, origins, sites, origin_id_column=S.AREA_ID, destination_id_column=S.SITE_ID,
        departure_window=cfg.transit_window, step_min=cfg.transit_step_min, percentile=cfg.transit_percentile,
    )
    rec = table.attrs
    result.engines["transit"] = engine
    result.travel_times["transit"] = table[[S.ORIGIN_ID, S.DESTINATION_ID, S.TRAVEL_TIME_S]]
    # the journey limit: beyond it a pair is unreachable (NaN); summaries state it
    result.travel_times["transit"].attrs["max_travel_time_s"] = float(rec["max_travel_time_s"])
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
        f"({rec['search']}); journeys over {float(rec['max_travel_time_s']) / 60:g} min count as unreachable"
    )
    cuts = [f"{name} {lf_cut}" for name, lf_cut in _cut_labels(merged).items()]
    if cuts:
        result.network_method["transit"] += "; timetables " + "; ".join(cuts)


def study_area(result: StudyResult, origins: gpd.GeoDataFrame, sites: gpd.GeoDataFrame) -> gpd.GeoSeries:
    """The boundary, the origins and the sites together (the feeds are cut to them plus a
    margin, :data:`apgeo.routing.transit.feed_cut.DEFAULT_AREA_MARGIN_M`).

    Parameters
    ----------
    result
        The study's result (its boundary).
    origins, sites
        The origin and site points.

    Returns
    -------
    geopandas.GeoSeries
        Their geometries together, in the boundary's CRS.
    """
    import pandas as pd

    crs = result.boundary.crs or origins.crs
    parts = [g.geometry.to_crs(crs) for g in (result.boundary, origins, sites) if g is not None and len(g)]
    return gpd.GeoSeries(pd.concat(parts, ignore_index=True), crs=crs)


def _cut_labels(merged: Any) -> dict[str, str]:
    from apgeo.routing.transit.feed_cut import FeedCut

    cuts = merged.settings.get("feed_area_cut", {})
    return {name: FeedCut(**record).label() for name, record in cuts.items()}


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
    """One row per feed: name, the day it was read for, stops used, the trips that run on
    that day (``trips``) and, separately, the previous day's trips still running after
    midnight (``trips_from_previous_day``), which the search uses too.

    Parameters
    ----------
    engine
        The multi-feed transit engine (its merged feed and walk method).
    service_dates
        The day each feed was read for, by feed name.
    requested
        The service date the study asked for.

    Returns
    -------
    pandas.DataFrame
        One row per feed: ``feed``, ``requested_date``, ``service_date``, ``weekday``,
        ``stops``, ``trips``, ``trips_from_previous_day`` and ``walk_legs``.
    """
    import pandas as pd

    stops = engine.feed.stops
    trips = engine.feed.trips
    offset = trips["day_offset"] if "day_offset" in trips.columns else pd.Series(0, index=trips.index)
    rows = []
    for name, day in service_dates.items():
        prefix = f"{name}:"
        mine = trips["trip_id"].astype(str).str.startswith(prefix)
        rows.append(
            {
                "feed": name,
                "requested_date": requested.isoformat(),
                "service_date": day.isoformat(),
                "weekday": day.strftime("%A"),
                "stops": int(stops["stop_id"].astype(str).str.startswith(prefix).sum()),
                "trips": int((mine & offset.eq(0)).sum()),
                "trips_from_previous_day": int((mine & offset.lt(0)).sum()),
                "walk_legs": engine.walk_method,
            }
        )
    return pd.DataFrame(rows)


#: An AP site this close to a stop (straight line, m) is "within a short walk" of it.
NEAR_STOP_M = 400.0
#: The key stages and thresholds of the "by public transport versus walking" comparison.
COMPARE_KEY_STAGES = ("KS3", "KS4")
COMPARE_THRESHOLDS_MIN = (30, 45)


def transit_difference(result: StudyResult) -> None:
    """What public transport changes for reaching AP: which AP sites are within a short
    walk of a stop, the share of KS3-4 children within 30 / 45 min by public transport
    (and walking) against walking alone, and the areas where it makes the most difference.
    Adds ``transit_ap_sites``, ``transit_vs_walk`` and ``transit_difference_areas``.

    Parameters
    ----------
    result
        The study's result, its tables added to in place.
    """
    import numpy as np
    import pandas as pd
    from scipy.spatial import cKDTree

    engine = result.engines.get("transit")
    if engine is None or "walk" not in result.travel_times:
        return
    feed = getattr(engine, "feed", None)
    if feed is None or not hasattr(feed, "stops_gdf"):
        return
    stops = feed.stops_gdf().to_crs(result.providers.crs)
    names = stops["stop_name"] if "stop_name" in stops.columns else stops["stop_id"]
    ap = result.providers[result.providers[S.KIND].isin(result.ap_kinds)]
    d, i = cKDTree(np.column_stack([stops.geometry.x, stops.geometry.y])).query(
        np.column_stack([ap.geometry.x, ap.geometry.y])
    )
    max_walk_m = float(getattr(engine, "max_walk_m", np.inf))
    result.tables["transit_ap_sites"] = pd.DataFrame(
        {
            S.SITE_ID: ap[S.SITE_ID].to_numpy(),
            S.NAME: ap[S.NAME].to_numpy(),
            S.KIND: ap[S.KIND].to_numpy(),
            "nearest_stop": names.to_numpy()[i],
            "nearest_stop_distance_m": np.round(d, 0),
            f"within_{NEAR_STOP_M:.0f}_m": d <= NEAR_STOP_M,
            # farther than the longest walk from a stop: reached on foot only, never by a vehicle
            "beyond_longest_walk_from_a_stop": d > max_walk_m,
        }
    ).sort_values("nearest_stop_distance_m", kind="stable")
    result.headline["transit_longest_walk_from_stop_m"] = max_walk_m if np.isfinite(max_walk_m) else None
    cov = result.tables.get("coverage")
    if cov is not None:
        rows = []
        if "providers" in cov.columns:
            cov = cov[cov["providers"] == "AP"]  # AP sites only, not AP and AP-adjacent
        for mode in ("walk", "transit"):
            part = cov[(cov[S.MODE] == mode) & cov["key_stage"].isin(COMPARE_KEY_STAGES)]
            children = float(part["children"].sum())
            row: dict[str, object] = {S.MODE: mode, "key_stages": "+".join(COMPARE_KEY_STAGES), "children": children}
            if "children_unreachable" in part.columns:  # in every share's denominator, never within
                row["children_unreachable"] = float(part["children_unreachable"].sum())
            for t in COMPARE_THRESHOLDS_MIN:
                if f"children_within_{t}_min" not in part.columns:
                    continue  # not one of the study's thresholds
                row[f"share_within_{t}_min"] = float(part[f"children_within_{t}_min"].sum()) / children if children else np.nan
            rows.append(row)
        result.tables["transit_vs_walk"] = pd.DataFrame(rows)
    near = result.tables.get("nearest_ap")
    if near is not None:
        wide = near.pivot_table(index=S.AREA_ID, columns=S.MODE, values="nearest_time_s", aggfunc="first")
        if {"walk", "transit"} <= set(wide.columns):
            diff = pd.DataFrame(
                {
                    "walk_min": wide["walk"] / 60.0,
                    "transit_min": wide["transit"] / 60.0,
                }
            )
            diff["minutes_saved"] = diff["walk_min"] - diff["transit_min"]
            diff = diff.join(result.demand.set_index(S.AREA_ID)[[S.AREA_NAME, S.WARD_NAME, "children_school_age"]])
            # only areas where public transport saves time (at least 0.1 min as shown); the
            # rest (no saving, or no AP site within the journey limit) are counted, not listed
            saves = diff["minutes_saved"].round(1) > 0
            result.headline["transit_areas_saving_time"] = int(saves.sum())
            result.headline["transit_areas_compared"] = len(diff)
            result.headline["transit_areas_unreachable"] = int(diff["transit_min"].isna().sum())
            result.tables["transit_difference_areas"] = (
                diff[saves].sort_values(["minutes_saved", S.AREA_NAME], ascending=[False, True])
                .head(15).reset_index().round(1)
            )

__all__ = ["NEAR_STOP_M", "feeds_table", "study_area", "transit_difference", "transit_times"]
