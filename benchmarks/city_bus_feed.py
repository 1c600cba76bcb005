"""A synthetic bus timetable of Sheffield's size over the real NaPTAN stops, for benchmarks.

Until a regional feed generator exists, ``bench_transit.py --city`` times RAPTOR on this
feed (it takes any GTFS with ``--feed``). Deterministic (fixed seed); no network access.

* stops: the active on-street bus stops (NaPTAN types BCT / BCS) of
  ``data/sheffield/transit/naptan_stops_sheffield_5km.csv`` inside a 25 x 20 km box
  centred on Sheffield's LSOA population-weighted centroids;
* 250 routes: half radial (an outer stop to a stop near the city centre), half cross-town
  (outer stop to outer stop); each a greedy chain of nearby stops that always gets closer
  to its end (next stop 150-900 m away, the nearest making progress), 10 to 60 stops;
* both directions, one headway per route drawn from 10, 12, 15, 20 and 30 minutes, first
  departures from 06:00 (a random offset within the headway) to 12:00 at the first stop;
  running time is crow-fly distance x 1.3 at 18 km/h plus 20 s dwell per stop, whole
  seconds; one weekday-only calendar for the 2024-25 school year.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.spatial import cKDTree

REPO = Path(__file__).resolve().parent.parent
NAPTAN = REPO / "data" / "sheffield" / "transit" / "naptan_stops_sheffield_5km.csv"
SEED = 20250114
N_ROUTES = 250
BOX_M = (25_000.0, 20_000.0)
HEADWAYS_MIN = (10, 12, 15, 20, 30)
SERVICE_S = (6 * 3600, 12 * 3600)
BUS_SPEED_KPH = 18.0
CIRCUITY = 1.3
DWELL_S = 20


def _stops(centre: tuple[float, float]) -> pd.DataFrame:
    """Active bus stops in the box, with British National Grid ``x``, ``y``."""
    raw = pd.read_csv(NAPTAN, dtype={"id": str})
    raw = raw[(raw["status"] == "active") & raw["stop_type"].isin(["BCT", "BCS"])]
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    x, y = to_bng.transform(raw["lng"].to_numpy(float), raw["lat"].to_numpy(float))
    inside = (np.abs(x - centre[0]) <= BOX_M[0] / 2) & (np.abs(y - centre[1]) <= BOX_M[1] / 2)
    out = pd.DataFrame(
        {"stop_id": raw["id"].to_numpy()[inside], "lat": raw["lat"].to_numpy(float)[inside],
         "lon": raw["lng"].to_numpy(float)[inside], "x": x[inside], "y": y[inside]}
    )
    return out.drop_duplicates("stop_id").sort_values("stop_id").reset_index(drop=True)


def _chain(xy: np.ndarray, tree: cKDTree, start: int, end: int) -> list[int]:
    """Stops from ``start`` towards ``end``: each the nearest unvisited stop 150-900 m on
    that is at least 100 m closer to the end."""
    route = [start]
    seen = {start}
    cur = start
    target = xy[end]
    while len(route) < 60:
        left = float(np.hypot(*(xy[cur] - target)))
        if left < 300:
            break
        near = tree.query_ball_point(xy[cur], 900.0)
        best, best_d = -1, np.inf
        for s in near:
            if s in seen:
                continue
            d = float(np.hypot(*(xy[s] - xy[cur])))
            if d < 150 or d >= best_d:
                continue
            if float(np.hypot(*(xy[s] - target))) <= left - 100:
                best, best_d = s, d
        if best < 0:
            break
        route.append(best)
        seen.add(best)
        cur = best
    return route


def city_bus_tables(centre: tuple[float, float]) -> dict[str, pd.DataFrame]:
    """GTFS tables of the synthetic city bus network around ``centre`` (BNG metres)."""
    rng = np.random.default_rng(SEED)
    stops = _stops(centre)
    xy = stops[["x", "y"]].to_numpy(float)
    tree = cKDTree(xy)
    r_from_centre = np.hypot(xy[:, 0] - centre[0], xy[:, 1] - centre[1])
    outer = np.flatnonzero(r_from_centre > 4_000)
    inner = np.flatnonzero(r_from_centre < 1_500)
    routes: list[list[int]] = []
    while len(routes) < N_ROUTES:
        start = int(rng.choice(outer))
        if len(routes) % 2 == 0:
            end = int(rng.choice(inner))
        else:
            end = int(rng.choice(outer))
            if np.hypot(*(xy[start] - xy[end])) < 6_000:
                continue
        nodes = _chain(xy, tree, start, end)
        if len(nodes) >= 10:
            routes.append(nodes)
    trip_rows: list[tuple[str, str, str]] = []
    st_trip: list[np.ndarray] = []
    st_stop: list[np.ndarray] = []
    st_seq: list[np.ndarray] = []
    st_time: list[np.ndarray] = []
    for r, nodes in enumerate(routes):
        headway_s = 60 * int(rng.choice(HEADWAYS_MIN))
        for direction, seq in enumerate((nodes, nodes[::-1])):
            hop_m = np.hypot(*np.diff(xy[seq], axis=0).T) * CIRCUITY
            hop_s = np.rint(hop_m / (BUS_SPEED_KPH / 3.6)) + DWELL_S
            offsets = np.concatenate([[0], np.cumsum(hop_s)]).astype(np.int64)
            first = SERVICE_S[0] + int(rng.integers(0, headway_s // 60)) * 60
            ids = stops["stop_id"].to_numpy()[seq]
            for k, start_s in enumerate(range(first, SERVICE_S[1], headway_s)):
                trip = f"b{r}d{direction}t{k}"
                trip_rows.append((f"b{r}", "SCHOOLDAY", trip))
                st_trip.append(np.full(len(seq), trip, dtype=object))
                st_stop.append(ids)
                st_seq.append(np.arange(len(seq)))
                st_time.append(start_s + offsets)
    times = np.concatenate(st_time)
    hms = [f"{t // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}" for t in times.tolist()]
    return {
        "agency.txt": pd.DataFrame(
            {"agency_id": ["CITYBUS"], "agency_name": ["Synthetic city buses"],
             "agency_url": ["https://example.org"], "agency_timezone": ["Europe/London"]}
        ),
        "stops.txt": pd.DataFrame(
            {"stop_id": stops["stop_id"], "stop_name": stops["stop_id"],
             "stop_lat": stops["lat"], "stop_lon": stops["lon"]}
        ),
        "routes.txt": pd.DataFrame(
            {"route_id": [f"b{r}" for r in range(len(routes))],
             "route_short_name": [str(r + 1) for r in range(len(routes))], "route_type": 3}
        ),
        "trips.txt": pd.DataFrame(trip_rows, columns=["route_id", "service_id", "trip_id"]),
        "stop_times.txt": pd.DataFrame(
            {
                "trip_id": np.concatenate(st_trip),
                "arrival_time": hms,
                "departure_time": hms,
                "stop_id": np.concatenate(st_stop),
                "stop_sequence": np.concatenate(st_seq),
            }
        ),
        "calendar.txt": pd.DataFrame(
            [["SCHOOLDAY", 1, 1, 1, 1, 1, 0, 0, "20240902", "20250718"]],
            columns=["service_id", "monday", "tuesday", "wednesday", "thursday", "friday",
                     "saturday", "sunday", "start_date", "end_date"],
        ),
    }


__all__ = ["city_bus_tables"]
