"""A synthetic bus timetable of city-region size laid over the real South Yorkshire stops.

No South Yorkshire bus timetable can be read here, yet apgeo must cope with one: the Bus
Open Data Service publishes every English bus service as TransXChange (one file per line)
and as regional GTFS holding millions of stop times. This module makes a stand-in of that
size, deterministic for a seed, written both ways:

* **stops**: the active NaPTAN bus stops (``BCT`` on-street, ``BCS`` bus-station bays) of
  South Yorkshire (``../shared/data/transit/naptan_south_yorkshire_stops_atco370.csv``,
  OGL v3), real ATCO codes, names and positions;
* **routes**: walks from a town centre outwards along a slowly turning bearing, each step
  to one of the three nearest stops 150-700 m ahead (so a route is a chain of nearby stops,
  like a road corridor); one in five starts 2-5 km out and runs across town. The return
  direction calls at the stop across the road (the nearest other stop within 80 m) where
  there is one. Run times come from the straight-line distance x 1.3 at 18-20 km/h
  (dwell included), in whole seconds;
* **timetable**: a headway per route (10, 15, 20, 30 or 60 min on weekdays 07:00-18:00,
  hourly from 06:00 on routes every 30 min or better, hourly in the evening to 20:00, or to
  22:00 on routes every 20 min or better, one trip after 23:30 on the frequent routes that runs
  past midnight), Saturdays at 1.5 times and Sundays at twice the headway (some routes none),
  and on a third of routes school-day-only trips (07:25-08:15 and 15:05-15:45) that do not
  run in the February half-term (2025-02-17 to 21). The calendar runs 2025-01-06 to 2025-03-30.

Scales: ``"city"`` is Sheffield's buses (routes from Sheffield's centre; weekday, Saturday,
Sunday and school-day services); ``"region"`` is the four boroughs' buses (routes from
Sheffield, Rotherham, Barnsley and Doncaster) with each day of the week its own trips
(service ids ``MO`` ... ``SU``, ``SCH_MO`` ... ``SCH_FR``), as converters that split
timetables by day write them: a week of stop times in one file. ``"tiny"`` is for tests.

Run::

    .venv/bin/python benchmarks/regional_feed.py /tmp/busfeed --scale city
    .venv/bin/python benchmarks/regional_feed.py /tmp/busfeed --scale region --no-txc

It writes ``<out>/sy_bus_<scale>_gtfs.zip`` and ``<out>/sy_bus_<scale>_txc/`` (one
TransXChange 2.4 file per line, school-day journeys tied to a ``ServicedOrganisation`` whose
working days leave out the half-term) and prints the exact counts. Generated feeds are not
committed.
"""

from __future__ import annotations

import argparse
import io
import sys
import time
import zipfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape

import numpy as np
import pandas as pd
from pyproj import Transformer
from scipy.spatial import cKDTree

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from apgeo.settings import repo_root

Scale = Literal["tiny", "city", "region"]

NAPTAN = (
    repo_root().parent / "shared" / "data" / "transit" / "naptan_south_yorkshire_stops_atco370.csv"
)
#: Town centres (longitude, latitude) the routes start from.
HUBS = {
    "Sheffield": (-1.4701, 53.3811),
    "Rotherham": (-1.3578, 53.4329),
    "Barnsley": (-1.4777, 53.5534),
    "Doncaster": (-1.1346, 53.5221),
}
#: Routes per hub at each scale.
SCALE_ROUTES: dict[str, dict[str, int]] = {
    "tiny": {"Sheffield": 8},
    "city": {"Sheffield": 250},
    "region": {"Sheffield": 230, "Rotherham": 90, "Barnsley": 90, "Doncaster": 110},
}
START = date(2025, 1, 6)  # a Monday
END = date(2025, 3, 30)  # a Sunday
HALF_TERM = (date(2025, 2, 17), date(2025, 2, 21))
#: A school-term Tuesday inside the calendar: the day counts are given for.
SCHOOL_DAY = date(2025, 1, 14)
HEADWAYS_MIN = np.array([10, 15, 20, 30, 60])
HEADWAY_P = np.array([0.03, 0.07, 0.15, 0.40, 0.35])
DETOUR = 1.3
DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
TXC_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass
class Route:
    """One line: its stops each way, run times between them, and its trips."""

    route_id: str
    line_name: str
    hub: str
    stops: tuple[np.ndarray, np.ndarray]  # stop row indices, outbound and inbound
    run_s: tuple[np.ndarray, np.ndarray]  # seconds between consecutive stops
    trips: list[tuple[str, int, int]] = field(default_factory=list)  # service, direction, dep s


@dataclass
class RegionalFeed:
    """What :func:`make_regional_feed` wrote, with its exact counts."""

    gtfs_path: Path
    txc_dir: Path | None
    counts: dict[str, int]


def _stops() -> pd.DataFrame:
    table = pd.read_csv(NAPTAN, dtype={"id": str, "name": str})
    keep = (table["status"] == "active") & table["stop_type"].isin(["BCT", "BCS"])
    table = table[keep].sort_values("id").reset_index(drop=True)
    tr = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    x, y = tr.transform(table["lng"].to_numpy(float), table["lat"].to_numpy(float))
    return table.assign(x=x, y=y)


def _walk(
    tree: cKDTree, xy: np.ndarray, start: int, bearing: float, n_target: int,
    rng: np.random.Generator,
) -> list[int]:  # fmt: skip
    path, seen, theta = [start], {start}, bearing
    while len(path) < n_target:
        cur = xy[path[-1]]
        u = np.array([np.cos(theta), np.sin(theta)])
        chosen = -1
        for radius in (700.0, 1500.0):
            cand = np.array([c for c in tree.query_ball_point(cur, radius) if c not in seen])
            if len(cand) == 0:
                continue
            d = xy[cand] - cur
            dist = np.hypot(d[:, 0], d[:, 1])
            fwd = d @ u
            ok = (fwd >= 150) & (fwd >= 0.6 * dist)
            if ok.any():
                near = cand[ok][np.argsort(dist[ok], kind="stable")[:3]]
                chosen = int(near[rng.integers(len(near))])
                break
        if chosen < 0:
            break
        step = xy[chosen] - cur
        theta = 0.7 * theta + 0.3 * np.arctan2(step[1], step[0]) + rng.normal(0, 0.12)
        path.append(chosen)
        seen.add(chosen)
    return path


def _departures(start_h: float, end_h: float, step_min: float, offset_min: float) -> list[int]:
    first = start_h * 3600 + offset_min * 60
    return [int(s) for s in np.arange(first, end_h * 3600, step_min * 60)]


def _timetable(route: Route, headway: int, rng: np.random.Generator, by_day: bool) -> None:
    """Fill ``route.trips`` with (service_id, direction, first departure s)."""
    sat = int(np.ceil(headway * 1.5 / 5) * 5)
    sun = max(30, 2 * headway)
    has_sunday = headway <= 30 or rng.random() < 0.5
    school = rng.random() < 0.35
    night = headway <= 15
    for direction in (0, 1):
        off = float(rng.integers(0, headway)) + (headway / 2 if direction else 0.0)
        off = off % headway
        weekday = (
            (_departures(6, 7, 60, off + 10) if headway <= 30 else [])
            + _departures(7, 18, headway, off)
            + _departures(18, 22 if headway <= 20 else 20, 60, off % 60 + 15)
            + ([int(23.6 * 3600)] if night else [])
        )
        saturday = _departures(7.5, 18.5, sat, off % sat) + _departures(18.5, 22.6, 60, 20)
        sunday = _departures(8.5, 18, sun, off % sun) if has_sunday else []
        schools = (
            [int(7.42 * 3600) + int(off) * 30, int(8.0 * 3600) + int(off) * 15,
             int(15.1 * 3600) + int(off) * 20, int(15.6 * 3600) + int(off) * 10]
            if school else []
        )  # fmt: skip
        if by_day:
            for day in DAYS[:5]:
                extra = [int(23.3 * 3600)] if day == "FR" and headway <= 30 else []
                route.trips += [(day, direction, d) for d in weekday + extra]
                route.trips += [(f"SCH_{day}", direction, d) for d in schools]
            route.trips += [("SA", direction, d) for d in saturday]
            route.trips += [("SU", direction, d) for d in sunday]
        else:
            route.trips += [("WD", direction, d) for d in weekday]
            route.trips += [("SCH", direction, d) for d in schools]
            route.trips += [("SA", direction, d) for d in saturday]
            route.trips += [("SU", direction, d) for d in sunday]


def _routes(stops: pd.DataFrame, scale: Scale, seed: int) -> list[Route]:
    rng = np.random.default_rng(seed)
    xy = stops[["x", "y"]].to_numpy(float)
    tree = cKDTree(xy)
    tr = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    routes: list[Route] = []
    n_min = 20
    for hub, n_routes in SCALE_ROUTES[scale].items():
        hx, hy = tr.transform(*HUBS[hub])
        centre = tree.query_ball_point((hx, hy), 800.0)
        made = 0
        while made < n_routes:
            bearing = rng.uniform(0, 2 * np.pi)
            if rng.random() < 0.2:  # across town: start 2-5 km out, run tangentially
                r = rng.uniform(2000, 5000)
                _, start = tree.query((hx + r * np.cos(bearing), hy + r * np.sin(bearing)))
                bearing += np.pi / 2 * rng.choice([-1, 1])
            else:
                start = centre[rng.integers(len(centre))]
            n_target = int(rng.integers(n_min, 2 * n_min + 7))
            out = np.array(_walk(tree, xy, int(start), bearing, n_target, rng))
            if len(out) < n_min:
                continue
            # the way back calls at the stop across the road where there is one
            taken = set(out.tolist())
            dist, idx = tree.query(xy[out[::-1]], k=3)
            back = out[::-1].copy()
            for j in range(len(back)):
                for dj, ij in zip(dist[j, 1:], idx[j, 1:], strict=True):
                    if dj <= 80 and int(ij) not in taken:
                        back[j] = ij
                        taken.add(int(ij))
                        break
            speed_ms = rng.uniform(18, 20) / 3.6
            runs = []
            for seq in (out, back):
                step = np.hypot(*np.diff(xy[seq], axis=0).T)
                runs.append(np.maximum(np.round(step * DETOUR / speed_ms), 20).astype(np.int64))
            made += 1
            number = len(routes) + 1
            route = Route(
                route_id=f"SYB{number:03d}",
                line_name=str(number),
                hub=hub,
                stops=(out, back),
                run_s=(runs[0], runs[1]),
            )
            _timetable(route, int(rng.choice(HEADWAYS_MIN, p=HEADWAY_P)), rng, scale == "region")
            routes.append(route)
    return routes


def _time_strings(max_s: int) -> np.ndarray:
    s = np.arange(max_s + 1)
    return np.array([f"{h:02d}:{m:02d}:{x:02d}" for h, m, x in zip(s // 3600, s // 60 % 60, s % 60,
                                                                   strict=True)], dtype=object)  # fmt: skip


def _trip_id(route: Route, k: int, service: str, direction: int) -> str:
    return f"{route.route_id}_{service}_{'IO'[direction == 0]}{k:04d}"


def _services(by_day: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """calendar.txt and calendar_dates.txt (the half-term removed from school services)."""
    flags = {
        "WD": "1111100", "SCH": "1111100", "SA": "0000010", "SU": "0000001",
        **{d: "".join("1" if j == i else "0" for j in range(7)) for i, d in enumerate(DAYS)},
        **{f"SCH_{d}": "".join("1" if j == i else "0" for j in range(7))
           for i, d in enumerate(DAYS[:5])},
    }  # fmt: skip
    ids = [*DAYS, *(f"SCH_{d}" for d in DAYS[:5])] if by_day else ["WD", "SCH", "SA", "SU"]
    names = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
    cal = pd.DataFrame(
        [
            {"service_id": s, **{n: flags[s][i] for i, n in enumerate(names)},
             "start_date": START.strftime("%Y%m%d"), "end_date": END.strftime("%Y%m%d")}
            for s in ids
        ]
    )  # fmt: skip
    rows = []
    day = HALF_TERM[0]
    while day <= HALF_TERM[1]:
        for s in ids:
            if s.startswith("SCH") and flags[s][day.weekday()] == "1":
                rows.append({"service_id": s, "date": day.strftime("%Y%m%d"), "exception_type": "2"})
        day += timedelta(days=1)
    return cal, pd.DataFrame(rows, columns=["service_id", "date", "exception_type"])


def _member(name: str) -> zipfile.ZipInfo:
    """A zip entry with a fixed date, so that the same feed gives the same bytes."""
    info = zipfile.ZipInfo(name, date_time=(2025, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    info._compresslevel = 1  # type: ignore[attr-defined]  # fast: the feeds are large
    return info


def _write_csv(archive: zipfile.ZipFile, name: str, frame: pd.DataFrame) -> None:
    with archive.open(_member(name), "w", force_zip64=True) as raw:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        frame.to_csv(text, index=False, lineterminator="\n")
        text.flush()
        text.detach()


def _write_gtfs(path: Path, routes: list[Route], stops: pd.DataFrame, by_day: bool) -> dict[str, int]:
    used = np.unique(np.concatenate([s for r in routes for s in r.stops]))
    cal, cal_dates = _services(by_day)
    running = _running_on(SCHOOL_DAY, by_day)
    counts = {"routes": len(routes), "stops": len(used), "trips": 0, "stop_times": 0,
              "school_day_trips": 0, "school_day_stop_times": 0}  # fmt: skip
    max_s = max(dep + int(r.run_s[d].sum()) for r in routes for _, d, dep in r.trips)
    clock = _time_strings(max_s)
    ids = stops["id"].to_numpy(object)
    trips_rows: list[pd.DataFrame] = []
    with zipfile.ZipFile(path, "w") as zf:
        _write_csv(zf, "agency.txt", pd.DataFrame([{
            "agency_id": "SYB", "agency_name": "South Yorkshire synthetic buses",
            "agency_url": "https://example.org/", "agency_timezone": "Europe/London"}]))  # fmt: skip
        _write_csv(zf, "feed_info.txt", pd.DataFrame([{
            "feed_publisher_name": "apgeo benchmark", "feed_publisher_url": "https://example.org/",
            "feed_lang": "en", "feed_version": f"sy-bus-{len(routes)}"}]))  # fmt: skip
        _write_csv(zf, "stops.txt", pd.DataFrame({
            "stop_id": ids[used], "stop_name": stops["name"].to_numpy(object)[used],
            "stop_lat": stops["lat"].to_numpy(float)[used].round(7),
            "stop_lon": stops["lng"].to_numpy(float)[used].round(7)}))  # fmt: skip
        _write_csv(zf, "routes.txt", pd.DataFrame({
            "route_id": [r.route_id for r in routes], "agency_id": "SYB",
            "route_short_name": [r.line_name for r in routes],
            "route_long_name": [f"{r.hub} {r.line_name}" for r in routes], "route_type": 3}))  # fmt: skip
        _write_csv(zf, "calendar.txt", cal)
        _write_csv(zf, "calendar_dates.txt", cal_dates)
        with zf.open(_member("stop_times.txt"), "w", force_zip64=True) as raw:
            text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
            text.write("trip_id,arrival_time,departure_time,stop_id,stop_sequence\n")
            for r in routes:
                parts = []
                for direction in (0, 1):
                    mine = [(k, s, dep) for k, (s, d, dep) in enumerate(r.trips) if d == direction]
                    if not mine:
                        continue
                    seq = r.stops[direction]
                    cum = np.concatenate([[0], np.cumsum(r.run_s[direction])])
                    deps = np.array([dep for _, _, dep in mine])
                    tid = np.array([_trip_id(r, k, s, direction) for k, s, _ in mine], dtype=object)
                    times = (deps[:, None] + cum[None, :]).ravel()
                    parts.append(pd.DataFrame({
                        "trip_id": np.repeat(tid, len(seq)), "arrival_time": clock[times],
                        "departure_time": clock[times], "stop_id": np.tile(ids[seq], len(mine)),
                        "stop_sequence": np.tile(np.arange(1, len(seq) + 1), len(mine))}))  # fmt: skip
                    services = np.array([s for _, s, _ in mine], dtype=object)
                    trips_rows.append(pd.DataFrame({
                        "route_id": r.route_id, "service_id": services, "trip_id": tid,
                        "direction_id": direction}))  # fmt: skip
                    on = np.isin(services, list(running))
                    counts["trips"] += len(mine)
                    counts["stop_times"] += len(mine) * len(seq)
                    counts["school_day_trips"] += int(on.sum())
                    counts["school_day_stop_times"] += int(on.sum()) * len(seq)
                frame = pd.concat(parts, ignore_index=True)
                frame.to_csv(text, index=False, header=False, lineterminator="\n")
            text.flush()
            text.detach()
        _write_csv(zf, "trips.txt", pd.concat(trips_rows, ignore_index=True))
    return counts


def _running_on(day: date, by_day: bool) -> set[str]:
    school = not (HALF_TERM[0] <= day <= HALF_TERM[1])
    code = DAYS[day.weekday()]
    if by_day:
        return {code} | ({f"SCH_{code}"} if school and day.weekday() < 5 else set())
    base = {"MO": "WD", "TU": "WD", "WE": "WD", "TH": "WD", "FR": "WD", "SA": "SA", "SU": "SU"}
    return {base[code]} | ({"SCH"} if school and day.weekday() < 5 else set())


def _duration(seconds: int) -> str:
    m, s = divmod(int(seconds), 60)
    return f"PT{m}M{s}S" if s else f"PT{m}M"


def _profile(service: str) -> str:
    if service in ("WD", "SCH"):
        days = "<MondayToFriday/>"
    elif service in ("SA", "SU"):
        days = "<Saturday/>" if service == "SA" else "<Sunday/>"
    else:
        days = f"<{TXC_DAYS[DAYS.index(service.removeprefix('SCH_'))]}/>"
    school = (
        "<ServicedOrganisationDayType><DaysOfOperation><WorkingDays><ServicedOrganisationRef>"
        "SYSCHOOLS</ServicedOrganisationRef></WorkingDays></DaysOfOperation>"
        "</ServicedOrganisationDayType>"
        if service.startswith("SCH") else ""
    )  # fmt: skip
    return (f"<OperatingProfile><RegularDayType><DaysOfWeek>{days}</DaysOfWeek></RegularDayType>"
            f"{school}</OperatingProfile>")  # fmt: skip


def _write_txc(folder: Path, routes: list[Route], stops: pd.DataFrame) -> int:
    """One TransXChange 2.4 file per line; returns the number of vehicle journeys."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.xml"):
        old.unlink()
    ids = stops["id"].to_numpy(object)
    names = stops["name"].to_numpy(object)
    lon, lat = stops["lng"].to_numpy(float), stops["lat"].to_numpy(float)
    term = (
        f"<DateRange><StartDate>{START}</StartDate><EndDate>{HALF_TERM[0] - timedelta(days=3)}"
        f"</EndDate></DateRange><DateRange><StartDate>{HALF_TERM[1] + timedelta(days=3)}"
        f"</StartDate><EndDate>{END}</EndDate></DateRange>"
    )
    n_journeys = 0
    for r in routes:
        out: list[str] = [
            '<?xml version="1.0" encoding="UTF-8"?>\n<TransXChange xmlns="http://www.transxchange.org.uk/" '
            f'SchemaVersion="2.4" FileName="{r.route_id}.xml">',
            "<ServicedOrganisations><ServicedOrganisation><OrganisationCode>SYSCHOOLS"
            "</OrganisationCode><Name>South Yorkshire schools</Name>"
            f"<WorkingDays>{term}</WorkingDays></ServicedOrganisation></ServicedOrganisations>",
            "<StopPoints>",
        ]
        for i in np.unique(np.concatenate(r.stops)):
            out.append(
                f"<AnnotatedStopPointRef><StopPointRef>{ids[i]}</StopPointRef><CommonName>"
                f"{escape(str(names[i]))}</CommonName><Location><Longitude>{lon[i]:.7f}</Longitude>"
                f"<Latitude>{lat[i]:.7f}</Latitude></Location></AnnotatedStopPointRef>"
            )
        out.append("</StopPoints><RouteSections>")
        for d, way in enumerate(("O", "I")):
            seq = r.stops[d]
            out.append(f'<RouteSection id="RS{way}">')
            for j in range(len(seq) - 1):
                out.append(f'<RouteLink id="RL{way}{j + 1}"><From><StopPointRef>{ids[seq[j]]}'
                           f"</StopPointRef></From><To><StopPointRef>{ids[seq[j + 1]]}</StopPointRef>"
                           "</To></RouteLink>")  # fmt: skip
            out.append("</RouteSection>")
        out.append("</RouteSections><Routes>")
        for way in ("O", "I"):
            out.append(f'<Route id="R{way}"><Description>{r.hub} {r.line_name}</Description>'
                       f"<RouteSectionRef>RS{way}</RouteSectionRef></Route>")  # fmt: skip
        out.append("</Routes><JourneyPatternSections>")
        for d, way in enumerate(("O", "I")):
            seq, runs = r.stops[d], r.run_s[d]
            out.append(f'<JourneyPatternSection id="JPS{way}">')
            for j in range(len(seq) - 1):
                out.append(
                    f'<JourneyPatternTimingLink id="JPL{way}{j + 1}"><From SequenceNumber="{j + 1}">'
                    f"<StopPointRef>{ids[seq[j]]}</StopPointRef><TimingStatus>PTP</TimingStatus>"
                    f'</From><To SequenceNumber="{j + 2}"><StopPointRef>{ids[seq[j + 1]]}'
                    f"</StopPointRef><TimingStatus>PTP</TimingStatus></To><RouteLinkRef>RL{way}"
                    f"{j + 1}</RouteLinkRef><RunTime>{_duration(runs[j])}</RunTime>"
                    "</JourneyPatternTimingLink>"
                )
            out.append("</JourneyPatternSection>")
        out.append(
            "</JourneyPatternSections><Operators><Operator id=\"O1\"><NationalOperatorCode>SYB"
            "</NationalOperatorCode><OperatorCode>SYB</OperatorCode><OperatorShortName>"
            "South Yorkshire synthetic buses</OperatorShortName></Operator></Operators>"
            f"<Services><Service><ServiceCode>{r.route_id}</ServiceCode><Lines>"
            f'<Line id="L{r.route_id}"><LineName>{r.line_name}</LineName></Line></Lines>'
            f"<OperatingPeriod><StartDate>{START}</StartDate><EndDate>{END}</EndDate>"
            "</OperatingPeriod><RegisteredOperatorRef>O1</RegisteredOperatorRef><Mode>bus</Mode>"
            f"<StandardService><Origin>{r.hub}</Origin><Destination>{r.hub}</Destination>"
            '<JourneyPattern id="JPO"><Direction>outbound</Direction><RouteRef>RO</RouteRef>'
            "<JourneyPatternSectionRefs>JPSO</JourneyPatternSectionRefs></JourneyPattern>"
            '<JourneyPattern id="JPI"><Direction>inbound</Direction><RouteRef>RI</RouteRef>'
            "<JourneyPatternSectionRefs>JPSI</JourneyPatternSectionRefs></JourneyPattern>"
            "</StandardService></Service></Services><VehicleJourneys>"
        )
        for k, (service, d, dep) in enumerate(r.trips):
            h, rest = divmod(dep, 3600)
            out.append(
                f"<VehicleJourney>{_profile(service)}<VehicleJourneyCode>"
                f"{_trip_id(r, k, service, d)}</VehicleJourneyCode><ServiceRef>{r.route_id}"
                f"</ServiceRef><LineRef>L{r.route_id}</LineRef><JourneyPatternRef>JP{'OI'[d]}"
                f"</JourneyPatternRef><DepartureTime>{h:02d}:{rest // 60:02d}:{rest % 60:02d}"
                "</DepartureTime></VehicleJourney>"
            )
        n_journeys += len(r.trips)
        out.append("</VehicleJourneys></TransXChange>\n")
        (folder / f"{r.route_id}.xml").write_text("\n".join(out), encoding="utf-8")
    return n_journeys


def make_regional_feed(
    out_dir: str | Path, *, scale: Scale = "city", seed: int = 2025, txc: bool = True
) -> RegionalFeed:
    """Write the synthetic South Yorkshire bus feed as GTFS (and TransXChange) under ``out_dir``.

    Returns the paths and exact counts: ``routes``, ``stops``, ``trips``, ``stop_times`` (the
    whole file) and ``school_day_trips`` / ``school_day_stop_times`` (those running on
    Tuesday 2025-01-14, a school day), plus ``txc_files`` and ``txc_journeys`` when written.
    The same ``scale`` and ``seed`` give byte-identical files.
    """
    if scale not in SCALE_ROUTES:
        raise ValueError(f"scale={scale!r}: choose one of {', '.join(SCALE_ROUTES)}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stops = _stops()
    routes = _routes(stops, scale, seed)
    gtfs = out / f"sy_bus_{scale}_gtfs.zip"
    counts = _write_gtfs(gtfs, routes, stops, by_day=scale == "region")
    txc_dir = None
    if txc:
        txc_dir = out / f"sy_bus_{scale}_txc"
        counts["txc_journeys"] = _write_txc(txc_dir, routes, stops)
        counts["txc_files"] = len(routes)
    return RegionalFeed(gtfs, txc_dir, counts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--scale", choices=list(SCALE_ROUTES), default="city")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--no-txc", action="store_true", help="write the GTFS zip only")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    feed = make_regional_feed(args.out_dir, scale=args.scale, seed=args.seed, txc=not args.no_txc)
    print(f"{args.scale} feed (seed {args.seed}) in {time.perf_counter() - t0:.1f} s")
    print(f"  GTFS: {feed.gtfs_path} ({feed.gtfs_path.stat().st_size / 1e6:.1f} MB)")
    if feed.txc_dir is not None:
        size = sum(p.stat().st_size for p in feed.txc_dir.glob("*.xml"))
        print(f"  TransXChange: {feed.txc_dir} ({size / 1e6:.1f} MB)")
    for key, value in feed.counts.items():
        print(f"  {key}: {value:,}")


if __name__ == "__main__":
    main()
