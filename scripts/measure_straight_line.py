"""Measure the straight-line estimate on every real street network in ../shared/data.

For each network and mode (Isle of Wight and Rutland walk / cycle / drive from their
OpenStreetMap PBF extracts, Leeds centre walk from its OSM line layer, Sheffield by car on
the council's main roads), every LSOA population-weighted centroid gets its street time to
the nearest destination and the straight-line estimate of it
(:func:`apgeo.routing.straight_line_error.measure_straight_line_error`).

Destinations, per place (``destinations`` column):

- ``ap``: the open state-funded AP settings in GIAS (England extract) inside the network:
  the Isle of Wight has one (Lionheart School), Sheffield one; Rutland and the Leeds centre
  circle have none (the Rutland PBF is clipped to the county, so the nearest settings beyond
  its border are off the network), so they have no ``ap`` row.
- ``secondary``: the authority's open secondary schools in GIAS (phases Secondary,
  All-through, Middle deemed secondary) inside the network: few, spread-out sites whose
  trips are as long as trips to AP (AP serves mostly secondary-age pupils), measured
  everywhere, so places compare like for like; the fit uses these rows.
- ``schools``: every open GIAS establishment of the authority inside the network (schools,
  colleges, nurseries): short trips (a few hundred metres), where fixed costs (the walked
  access legs, junctions) dominate; in the CSV as a check, not in the README table.

Areas: the authority's LSOAs (England extract; Sheffield: its detailed extract), for Leeds
centre those whose centroid lies inside the 2.5 km circle of the line layer, with
destinations inside it too.

Writes ``benchmarks/results/straight_line_error.csv`` (one row per network x mode x
destinations) and ``benchmarks/results/straight_line_error_areas.csv`` (one row per area),
and prints the Markdown table of the README, the fitted constants and the bands.

    PYTHONPATH=$PWD python scripts/measure_straight_line.py [--only rutland]

Rerun after a change to a network loader (e.g. how line layers are joined): nothing here
needs editing. Networks are cached by apgeo's processed-network cache.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer

from apgeo import schema as S
from apgeo.inputs.areas import ap_settings_england, area_gias, load_gias_england
from apgeo.inputs.demand import demand_points, load_demand
from apgeo.inputs.landscape import area_demand_points
from apgeo.routing.straight_line import STRAIGHT_LINE_SPEEDS_KPH, circuity_for
from apgeo.routing.straight_line_error import StraightLineError, measure_straight_line_error
from apgeo.settings import WORKING_CRS, repo_root

SHARED = repo_root().parent / "shared" / "data"
OSM = SHARED / "osm"
RESULTS = repo_root() / "benchmarks" / "results"
#: The estimate's constants before they were fitted (Ballou et al. 2002; DfT speeds).
OLD_CIRCUITY = 1.3
OLD_SPEEDS_KPH = {"walk": 4.8, "cycle": 15.0, "drive": 30.0}
#: Leeds centre line layer: a 2.5 km circle around this point (PROVENANCE.md).
LEEDS_CENTRE_LONLAT = (-1.548567, 53.801277)
LEEDS_RADIUS_M = 2500.0
#: GIAS phases of the ``secondary`` destinations.
SECONDARY_PHASES = ("Secondary", "All-through", "Middle deemed secondary")
#: The destination set the fit and the bands use.
FIT_DESTINATIONS = "secondary"
#: Places agree on a mode when each place's median seconds per crow-fly metre lies within
#: this factor of the middle place's.
AGREE_WITHIN = 1.2


@dataclass(frozen=True)
class Place:
    key: str
    label: str
    area: str | int
    network: str
    modes: tuple[str, ...]
    load: Callable[[tuple[str, ...]], dict[str, Any]]
    kind: str = "town"  # "town" or "rural": drive times differ between them
    clip: shapely.Geometry | None = None
    detailed_data: Path | None = None
    warn_distance_m: float | None = None


def _pbf(path: Path) -> Callable[[tuple[str, ...]], dict[str, Any]]:
    def load(modes: tuple[str, ...]) -> dict[str, Any]:
        from apgeo.routing.engine_arrays import load_engines

        return dict(load_engines(path, modes=modes, crs=WORKING_CRS))  # type: ignore[arg-type]

    return load


def _lines(path: Path, label: str | None = None) -> Callable[[tuple[str, ...]], dict[str, Any]]:
    def load(modes: tuple[str, ...]) -> dict[str, Any]:
        from apgeo.network.lines import load_road_lines

        return {m: load_road_lines(path, mode=m, label=label)[0] for m in modes}  # type: ignore[arg-type]

    return load


def _leeds_circle() -> shapely.Geometry:
    x, y = Transformer.from_crs("EPSG:4326", WORKING_CRS, always_xy=True).transform(*LEEDS_CENTRE_LONLAT)
    return shapely.Point(x, y).buffer(LEEDS_RADIUS_M)


def places() -> list[Place]:
    return [
        Place("isle_of_wight", "Isle of Wight", "Isle of Wight", "OSM PBF 2015-01-01",
              ("walk", "cycle", "drive"), _pbf(OSM / "isle_of_wight_osm_2015-01-01.osm.pbf"), kind="rural"),
        Place("rutland", "Rutland", "Rutland", "OSM PBF 2018-02-27",
              ("walk", "cycle", "drive"), _pbf(OSM / "rutland_osm_2018-02-27.osm.pbf"), kind="rural"),
        Place("leeds_centre", "Leeds centre (2.5 km)", 383, "OSM lines 2022-10",
              ("walk",), _lines(OSM / "leeds_centre_2p5km_osm_lines_2022-10.gpkg"), clip=_leeds_circle()),
        Place("sheffield_main_roads", "Sheffield", "Sheffield", "main roads only (gritting routes 2023)",
              ("drive",),
              _lines(SHARED / "roads" / "sheffield_primary_gritting_routes_2023.shp", "main roads only (gritting routes)"),
              detailed_data=repo_root() / "data" / "sheffield", warn_distance_m=5000.0),
    ]


def _areas(place: Place) -> gpd.GeoDataFrame:
    if place.detailed_data is not None:
        pts = demand_points(load_demand(data_dir=place.detailed_data))
    else:
        pts = area_demand_points(place.area)
    pts = pts[[S.AREA_ID, "geometry"]]
    return pts[pts.within(place.clip)] if place.clip is not None else pts


def _destinations(place: Place, gias: pd.DataFrame) -> dict[str, gpd.GeoDataFrame]:
    ap = ap_settings_england(gias, area=place.area)
    own = area_gias(place.area, gias)
    east = pd.to_numeric(own["easting"], errors="coerce")
    north = pd.to_numeric(own["northing"], errors="coerce")
    ok = east.gt(0) & north.gt(0)
    schools = gpd.GeoDataFrame(own[ok], geometry=gpd.points_from_xy(east[ok], north[ok]), crs=WORKING_CRS)
    secondary = schools[own.loc[ok, "education_phase"].isin(SECONDARY_PHASES).to_numpy()]
    out = {}
    for name, gdf in (("ap", ap), ("secondary", secondary), ("schools", schools)):
        gdf = gdf[gdf.within(place.clip)] if place.clip is not None else gdf
        if len(gdf):
            out[name] = gpd.GeoDataFrame({S.SITE_ID: gdf["urn"].astype(str).to_numpy()}, geometry=gdf.geometry.to_numpy(), crs=WORKING_CRS)
    return out


def _row(place: Place, dest: str, n_sites: int, err: StraightLineError) -> dict[str, Any]:
    mode = err.mode
    old = err.summary(circuity_factor=OLD_CIRCUITY, speed_kph=OLD_SPEEDS_KPH[mode])
    new = err.summary()
    m = err.measured
    return {
        "place": place.label,
        "kind": place.kind,
        "network": place.network,
        "mode": mode,
        "destinations": dest,
        "n_sites": n_sites,
        "n_areas": new.n_areas,
        "n_unreachable": new.n_unreachable,
        "median_crow_fly_km": float(np.median(m["crow_fly_m"])) / 1000,
        "median_street_time_min": float(np.median(m["street_time_s"])) / 60,
        "seconds_per_crow_fly_m": float(np.median(m["street_time_s"] / m["crow_fly_m"])),
        "circuity_median": new.circuity_median,
        "speed_kph_median": new.speed_kph_median,
        "old_ratio_median": old.ratio_median,
        "old_ratio_p10": old.ratio_p10,
        "old_ratio_p90": old.ratio_p90,
        "old_share_flipped_30min": old.share_flipped,
        "circuity_factor": new.circuity_factor,
        "speed_kph": new.speed_kph,
        "ratio_median": new.ratio_median,
        "ratio_q25": new.ratio_q25,
        "ratio_q75": new.ratio_q75,
        "ratio_p10": new.ratio_p10,
        "ratio_p90": new.ratio_p90,
        "share_flipped_30min": new.share_flipped,
        "n_optimistic_30min": new.n_optimistic,
        "n_pessimistic_30min": new.n_pessimistic,
    }


def measure(place: Place, gias: pd.DataFrame, areas_out: list[pd.DataFrame]) -> list[dict[str, Any]]:
    """Every mode x destination set of one place."""
    areas = _areas(place)
    dests = _destinations(place, gias)
    networks = place.load(place.modes)
    rows = []
    for mode in place.modes:
        for dest, sites in dests.items():
            err = measure_straight_line_error(networks[mode], areas, sites, warn_distance_m=place.warn_distance_m)
            rows.append(_row(place, dest, len(sites), err))
            areas_out.append(err.areas.assign(place=place.label, kind=place.kind, mode=mode, destinations=dest))
            print(f"  {place.label} {mode} {dest}: {rows[-1]['ratio_median']:.2f}", file=sys.stderr)
    return rows


def _fmt_band(lo: float, hi: float) -> str:
    return f"{lo:.1f}-{hi:.1f}"


def markdown(table: pd.DataFrame) -> str:
    head = (
        "| place | network | mode | destinations | areas (unreached) | median crow-fly km | "
        "median ratio, old 1.3 x speed | 30-min flips, old | measured circuity | measured speed km/h | "
        "median ratio, new | 10th-90th, new | 30-min flips, new |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    )
    lines = [head]
    for r in table[table["destinations"] != "schools"].itertuples():
        lines.append(
            f"| {r.place} | {r.network} | {r.mode} | {r.destinations} ({r.n_sites}) | {r.n_areas} ({r.n_unreachable}) "
            f"| {r.median_crow_fly_km:.1f} | {r.old_ratio_median:.2f} | {r.old_share_flipped_30min:.0%} "
            f"| {r.circuity_median:.2f} | {r.speed_kph_median:.1f} | {r.ratio_median:.2f} "
            f"| {_fmt_band(r.ratio_p10, r.ratio_p90)} | {r.share_flipped_30min:.0%} |"
        )
    return "\n".join(lines)


def fit(table: pd.DataFrame, areas: pd.DataFrame) -> str:
    """Per mode: the fitted circuity and speed (medians over places, ``FIT_DESTINATIONS``
    rows) and whether places agree; then per mode, kind of place and destinations, the
    pooled median and 10th-90th percentile of the ratio at the committed constants (the
    bands of :data:`apgeo.routing.straight_line.MEASURED_BANDS`)."""
    out = []
    for mode, rows in table[table["destinations"] == FIT_DESTINATIONS].groupby("mode", sort=False):
        spm = rows["seconds_per_crow_fly_m"].to_numpy(float)
        mid = float(np.median(spm))
        agree = bool(np.all((spm <= mid * AGREE_WITHIN) & (spm >= mid / AGREE_WITHIN)))
        out.append(
            f"- fit {mode}: circuity {np.median(rows['circuity_median']):.2f}, speed "
            f"{np.median(rows['speed_kph_median']):.1f} km/h (medians over {', '.join(rows['place'])}); "
            f"seconds per crow-fly metre by place {', '.join(f'{s:.2f}' for s in spm)}: "
            f"{'places agree' if agree else 'places DISAGREE'} (within x{AGREE_WITHIN:g})"
        )
    a = areas[areas["destinations"] != "schools"]
    a = a[np.isfinite(a["street_time_s"]) & (a["crow_fly_m"] > 0)]
    pooled = a.assign(kind="all places")
    for (mode, kind, dest), g in pd.concat([pooled, a]).groupby(["mode", "kind", "destinations"], sort=False):
        c, v = circuity_for(str(mode)), STRAIGHT_LINE_SPEEDS_KPH[str(mode)]
        ratio = g["street_time_s"] / (g["crow_fly_m"] * c / (v / 3.6))
        p10, p50, p90 = np.percentile(ratio, [10, 50, 90])
        out.append(
            f"- band {mode}, {kind}, {dest}: at the committed {c:g} x / {v:g} km/h median {p50:.2f}, "
            f"10th-90th {p10:.2f}-{p90:.2f} over {len(g)} areas ({', '.join(g['place'].unique())})"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", help="place keys (isle_of_wight, rutland, leeds_centre, sheffield_main_roads)")
    parser.add_argument("--out", type=Path, default=RESULTS / "straight_line_error.csv")
    args = parser.parse_args(argv)
    gias = load_gias_england()
    rows: list[dict[str, Any]] = []
    areas_out: list[pd.DataFrame] = []
    for place in places():
        if args.only and place.key not in args.only:
            continue
        print(f"measuring {place.label} ({', '.join(place.modes)})", file=sys.stderr)
        rows.extend(measure(place, gias, areas_out))
    table = pd.DataFrame(rows)
    areas = pd.concat(areas_out, ignore_index=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.round(4).to_csv(args.out, index=False)
    areas.round(2).to_csv(args.out.with_name(args.out.stem + "_areas.csv"), index=False)
    print(markdown(table))
    print()
    print(fit(table, areas))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
