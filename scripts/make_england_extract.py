"""Build data/england_extract/: every English LSOA 2011 with its education authority.

Run from the repository root:  .venv/bin/python scripts/make_england_extract.py [SHARED_DATA]

``SHARED_DATA`` defaults to ``../shared/data`` next to the repository. Outputs (committed,
about 1 MB together):

``lsoa_england.csv.gz``
    One row per English LSOA 2011 (32,844): ``lsoa11cd, lsoa11nm, lad19cd, lad19nm,
    la_code, la_name, la_ons_code, utla19cd, easting_m, northing_m, children_0_15,
    imd_decile, idaci_decile``.
``authorities.csv``
    One row per education authority (local authority with education duties, as GIAS
    numbers them in May 2025): ``la_code, la_name, kind, ons_code_2019, ons_code_2025,
    region, lad19_codes, lad19_count, lsoa_count, children_0_15, gias_schools,
    lad_school_share_min``.
``MANIFEST.csv``
    The two files above with sha256, bytes, sources, licence, data date and contents.

How each LSOA gets its education authority
------------------------------------------
1. LSOA 2011 -> local authority district (LAD 2019): from IMD 2019 File 1, which lists
   every English LSOA once with its LAD 2019 code and name.
2. LAD 2019 -> education authority (DfE LA number, 2025): *derived from GIAS*. Each open
   establishment in the May 2025 GIAS extract has its LA number and the LSOA it stands in.
   Schools whose LSOA code is an LSOA 2011 code are placed in their LAD 2019, and each
   LAD takes the LA number most of its schools carry (ties: lowest LA number). This gives
   county councils for the districts of two-tier counties (e.g. Sevenoaks -> Kent, 886)
   and, because GIAS 2025 already uses the reorganised authorities, it maps the 2019
   districts onto the 2020-2023 unitaries without a hand table: Cumbria's six districts
   split by district into Cumberland (942: Allerdale, Carlisle, Copeland) and
   Westmorland and Furness (943: Barrow-in-Furness, Eden, South Lakeland); the seven
   North Yorkshire districts go to North Yorkshire (815), the four Somerset districts to
   Somerset (933), the four Buckinghamshire districts to Buckinghamshire (825) and the
   Northamptonshire districts to North (940) or West (941) Northamptonshire. The City of
   London (201) and the Isles of Scilly (420) come out of the same rule (they have their
   own schools), so no hand table is needed for the link itself. The build fails if a
   LAD has no school or if the modal LA holds less than :data:`MIN_MODAL_SHARE` of the
   LAD's schools; the smallest share per authority is written to ``authorities.csv``.
   Boundary changes after 2019 that cut across LAD 2019 (none known among education
   authorities) would not be seen by this rule.

Hand tables (documented below, checked against ONS lookups when written)
-----------------------------------------------------------------------
* :data:`COUNTY_ONS_2019`: ONS codes (E10) of the county councils of 2019, for
  authorities made of several 2019 districts. Single-district authorities take their
  LAD 2019 code as their 2019 upper-tier code.
* :data:`ONS_2025_CHANGES`: authorities whose ONS code changed after 2019 (new unitary
  authorities 2020-2023; Barnsley and Sheffield re-coded after their 2025 boundary
  change). Every other authority keeps its 2019 code.
* :data:`REGION_BY_LA`: English region (ONS RGN) of each authority, taken from the ONS
  LAD (2018) to region lookup through the derived LAD -> LA link (Dorset 838 and BCP 839,
  new in 2019, added by hand: South West).

Children aged 0-15 are the IoD 2019 File 6 "Dependent Children aged 0-15: mid 2015
(excluding prisoners)". Coordinates are the ONS population-weighted centroids converted
from WGS84 to British National Grid (EPSG:27700) with pyproj and rounded to 0.1 m; on
Sheffield's 345 LSOAs they agree with the ONS easting/northing to within 0.07 m.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer

from apgeo.inputs.areas import LSOA_COLUMNS

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "data" / "england_extract"
DEFAULT_SHARED = ROOT.parent / "shared" / "data"

OGL = "Open Government Licence v3.0"

FILE1 = "deprivation/england_File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz"
FILE3 = "deprivation/england_File_3_-_IoD2019_Supplementary_Indices_-_IDACI_and_IDAOPI.csv.gz"
FILE6 = "deprivation/england_File_6_-_IoD2019_Population_Denominators.csv.gz"
PWC = "geography/england_wales_lsoa2011_population_weighted_centroids.csv"
GIAS = "schools/england_gias_open_establishments_20250524.csv"
#: GIAS columns kept in the compact England extract (what apgeo reads).
GIAS_COLUMNS = [
    "urn", "la_code", "la_name", "establishment_name", "establishment_type",
    "establishment_type_group", "education_phase", "number_of_pupils", "easting", "northing",
    "lsoa_code",
]

SOURCES = {
    FILE1: "https://github.com/anetobradley/energy_flex/tree/709f2f8b79a86e273a86f6c7324f4fc2b1aeeefd/02-EnergyModel/Energy_Intensity_Analysis/data/imd (MHCLG IoD2019 File 1)",
    FILE3: "https://github.com/eatyourpeas/imd/blob/1b64ee6f73e77f19e23d99443836719ddf9133fc/File_3_-_IoD2019_Supplementary_Indices_-_IDACI_and_IDAOPI.xlsx",
    FILE6: "https://github.com/anetobradley/energy_flex/tree/709f2f8b79a86e273a86f6c7324f4fc2b1aeeefd/02-EnergyModel/Energy_Intensity_Analysis/data/imd (MHCLG IoD2019 File 6)",
    PWC: "https://github.com/iainfletcher/NimbusData/blob/09026622065c49c400e7b72c4d3b36423a4ee0ae/Lower_Layer_Super_Output_Areas_December_2011_Population_Weighted_Centroids.csv (ONS)",
    GIAS: "https://github.com/cwthom/hack25usefuldata/blob/ac00fc579549da8d5c48a4736b5b4162fcaebb32/data/gias.rda (DfE GIAS edubasealldata20250524.csv)",
}

#: English LSOAs 2011 in the IMD 2019 files.
ENGLAND_LSOA_COUNT = 32_844

#: DfE numbers of English LAs (London 2xx, metropolitan 3xx, Isles of Scilly 420, shire and
#: unitary 8xx/9xx). GIAS also has 000 "Does not apply", Welsh 660-681 and offshore or
#: overseas 701-708, whose establishments carry an English LSOA of a head office and must
#: not vote.
ENGLISH_LA_NUMBER = r"2\d\d|3\d\d|420|8\d\d|9\d\d"

#: The modal LA of a LAD's schools must hold at least this share of them.
MIN_MODAL_SHARE = 0.75

#: ONS codes of the 2019 county councils, by the 2025 DfE LA number of the authority that
#: now holds the education duty. Cumbria (E10000006) is shared by Cumberland and
#: Westmorland and Furness; Northamptonshire (E10000021) by North and West
#: Northamptonshire.
COUNTY_ONS_2019: dict[str, tuple[str, str]] = {
    "815": ("E10000023", "North Yorkshire"),
    "825": ("E10000002", "Buckinghamshire"),
    "830": ("E10000007", "Derbyshire"),
    "845": ("E10000011", "East Sussex"),
    "850": ("E10000014", "Hampshire"),
    "855": ("E10000018", "Leicestershire"),
    "860": ("E10000028", "Staffordshire"),
    "873": ("E10000003", "Cambridgeshire"),
    "878": ("E10000008", "Devon"),
    "881": ("E10000012", "Essex"),
    "885": ("E10000034", "Worcestershire"),
    "886": ("E10000016", "Kent"),
    "888": ("E10000017", "Lancashire"),
    "891": ("E10000024", "Nottinghamshire"),
    "916": ("E10000013", "Gloucestershire"),
    "919": ("E10000015", "Hertfordshire"),
    "925": ("E10000019", "Lincolnshire"),
    "926": ("E10000020", "Norfolk"),
    "931": ("E10000025", "Oxfordshire"),
    "933": ("E10000027", "Somerset"),
    "935": ("E10000029", "Suffolk"),
    "936": ("E10000030", "Surrey"),
    "937": ("E10000031", "Warwickshire"),
    "938": ("E10000032", "West Sussex"),
    "940": ("E10000021", "Northamptonshire"),
    "941": ("E10000021", "Northamptonshire"),
    "942": ("E10000006", "Cumbria"),
    "943": ("E10000006", "Cumbria"),
}

#: ONS codes that changed after 2019: LA number -> (2025 code, why).
ONS_2025_CHANGES: dict[str, tuple[str, str]] = {
    "825": ("E06000060", "Buckinghamshire unitary from April 2020"),
    "940": ("E06000061", "North Northamptonshire unitary from April 2021"),
    "941": ("E06000062", "West Northamptonshire unitary from April 2021"),
    "942": ("E06000063", "Cumberland unitary from April 2023"),
    "943": ("E06000064", "Westmorland and Furness unitary from April 2023"),
    "815": ("E06000065", "North Yorkshire unitary from April 2023"),
    "933": ("E06000066", "Somerset unitary from April 2023"),
    "370": ("E08000038", "Barnsley re-coded after the Barnsley/Sheffield boundary change"),
    "373": ("E08000039", "Sheffield re-coded after the Barnsley/Sheffield boundary change"),
}

_LONDON = "201 202 203 204 205 206 207 208 209 210 211 212 213 " + " ".join(
    str(n) for n in range(301, 321)
)
#: English region of each education authority (DfE LA number).
REGION_BY_LA: dict[str, str] = {
    la: region
    for region, codes in {
        "North East": "390 391 392 393 394 805 806 807 808 840 841 929",
        "North West": "340 341 342 343 344 350 351 352 353 354 355 356 357 358 359 "
        "876 877 888 889 890 895 896 942 943",
        "Yorkshire and The Humber": "370 371 372 373 380 381 382 383 384 810 811 812 813 815 816",
        "East Midlands": "830 831 855 856 857 891 892 925 940 941",
        "West Midlands": "330 331 332 333 334 335 336 860 861 884 885 893 894 937",
        "East of England": "821 822 823 873 874 881 882 883 919 926 935",
        "London": _LONDON,
        "South East": "825 826 845 846 850 851 852 867 868 869 870 871 872 886 887 921 931 936 938",
        "South West": "420 800 801 802 803 838 839 865 866 878 879 880 908 916 933",
    }.items()
    for la in codes.split()
}

KIND_BY_PREFIX = {
    "E06": "unitary authority",
    "E08": "metropolitan district",
    "E09": "London borough",
    "E10": "county",
}



def _read_imd(path: Path, wanted: dict[str, str]) -> pd.DataFrame:
    """Read an IoD 2019 file, keep ``wanted`` columns (prefix -> new name)."""
    frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", thousands=",")
    frame.columns = [c.strip() for c in frame.columns]
    out = {}
    for prefix, name in wanted.items():
        match = [c for c in frame.columns if c.startswith(prefix)]
        if len(match) != 1:
            raise SystemExit(f"{path}: expected one column starting {prefix!r}, found {match}")
        out[name] = frame[match[0]].str.replace(",", "", regex=False).str.strip()
    result = pd.DataFrame(out)
    if len(result) != ENGLAND_LSOA_COUNT or result["lsoa11cd"].duplicated().any():
        raise SystemExit(f"{path}: expected {ENGLAND_LSOA_COUNT} unique LSOAs, got {len(result)}")
    return result


def lad_to_la(lsoa_lad: pd.Series, gias: pd.DataFrame) -> pd.DataFrame:
    """Education authority of each LAD 2019, from the modal LA number of its GIAS schools.

    ``lsoa_lad``: LAD 2019 code indexed by LSOA 2011 code. ``gias``: the England GIAS
    extract (``la_code``, ``la_name``, ``lsoa_code``); only establishments of English LAs
    (:data:`ENGLISH_LA_NUMBER`) vote. Returns one row per LAD with
    ``la_code``, ``la_name``, ``schools`` (GIAS schools placed in the LAD) and
    ``modal_share`` (share of those schools carrying ``la_code``).
    """
    english = gias["la_code"].str.fullmatch(ENGLISH_LA_NUMBER, na=False)
    g = gias[english].assign(lad19cd=gias["lsoa_code"].map(lsoa_lad)).dropna(subset=["lad19cd"])
    counts = g.groupby(["lad19cd", "la_code"]).size().rename("n").reset_index()
    total = counts.groupby("lad19cd")["n"].sum()
    top = (
        counts.sort_values(["lad19cd", "n", "la_code"], ascending=[True, False, True])
        .drop_duplicates("lad19cd")
        .set_index("lad19cd")
    )
    top["schools"] = total
    top["modal_share"] = top["n"] / top["schools"]
    names = gias.drop_duplicates("la_code").set_index("la_code")["la_name"]
    top["la_name"] = top["la_code"].map(names)
    missing = sorted(set(lsoa_lad) - set(top.index))
    if missing:
        raise SystemExit(f"no GIAS school in LAD(s) {missing}: add them to a hand table")
    weak = top[top["modal_share"] < MIN_MODAL_SHARE]
    if len(weak):
        raise SystemExit(f"LADs without a clear education authority:\n{weak}")
    return top[["la_code", "la_name", "schools", "modal_share"]]


def build(shared: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The LSOA table and the authority table, from the raw files in ``shared``."""
    f1 = _read_imd(
        shared / FILE1,
        {
            "LSOA code (2011)": "lsoa11cd",
            "LSOA name (2011)": "lsoa11nm",
            "Local Authority District code (2019)": "lad19cd",
            "Local Authority District name (2019)": "lad19nm",
            "Index of Multiple Deprivation (IMD) Decile": "imd_decile",
        },
    )
    f3 = _read_imd(
        shared / FILE3,
        {
            "LSOA code (2011)": "lsoa11cd",
            "Income Deprivation Affecting Children Index (IDACI) Decile": "idaci_decile",
        },
    )
    f6 = _read_imd(
        shared / FILE6,
        {"LSOA code (2011)": "lsoa11cd", "Dependent Children aged 0-15": "children_0_15"},
    )
    lsoa = f1.merge(f3, on="lsoa11cd", validate="one_to_one").merge(
        f6, on="lsoa11cd", validate="one_to_one"
    )
    for col in ("imd_decile", "idaci_decile", "children_0_15"):
        lsoa[col] = pd.to_numeric(lsoa[col], errors="raise").astype("int64")

    pwc = pd.read_csv(shared / PWC, encoding="utf-8-sig", dtype={"lsoa11cd": str})
    pwc = pwc[pwc["lsoa11cd"].str.startswith("E")]
    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    east, north = to_bng.transform(pwc["X"].to_numpy(), pwc["Y"].to_numpy())
    pwc = pd.DataFrame(
        {
            "lsoa11cd": pwc["lsoa11cd"],
            "easting_m": np.round(east, 1),
            "northing_m": np.round(north, 1),
        }
    )
    lsoa = lsoa.merge(pwc, on="lsoa11cd", how="left", validate="one_to_one")
    if lsoa["easting_m"].isna().any():
        raise SystemExit(
            f"no centroid for {lsoa.loc[lsoa['easting_m'].isna(), 'lsoa11cd'].tolist()[:10]}"
        )

    gias = pd.read_csv(shared / GIAS, dtype=str)
    link = lad_to_la(lsoa.set_index("lsoa11cd")["lad19cd"], gias)
    lsoa = lsoa.merge(link[["la_code", "la_name"]], left_on="lad19cd", right_index=True, how="left")

    # 2019 upper-tier code: the county for multi-district authorities, else the LAD itself.
    lads_per_la = lsoa.groupby("la_code")["lad19cd"].agg(lambda s: sorted(set(s)))
    utla19: dict[str, str] = {}
    for key, lads in lads_per_la.items():
        la = str(key)
        if la in COUNTY_ONS_2019:
            utla19[la] = COUNTY_ONS_2019[la][0]
        elif len(lads) == 1:
            utla19[la] = lads[0]
        else:
            raise SystemExit(f"LA {la} spans LADs {lads} but has no county code in COUNTY_ONS_2019")
    extra = set(COUNTY_ONS_2019) - set(lads_per_la.index)
    if extra:
        raise SystemExit(
            f"COUNTY_ONS_2019 names LA numbers not derived from the data: {sorted(extra)}"
        )
    ons2025 = {la: ONS_2025_CHANGES.get(la, (code, ""))[0] for la, code in utla19.items()}
    lsoa["utla19cd"] = lsoa["la_code"].map(utla19)
    lsoa["la_ons_code"] = lsoa["la_code"].map(ons2025)
    lsoa = lsoa[list(LSOA_COLUMNS)].sort_values("lsoa11cd").reset_index(drop=True)

    schools_by_la = gias["la_code"].value_counts()
    share_min = link.groupby("la_code")["modal_share"].min()
    grouped = lsoa.groupby("la_code")
    auth = pd.DataFrame(
        {
            "la_code": lads_per_la.index,
            "la_name": grouped["la_name"].first().reindex(lads_per_la.index).to_numpy(),
            "ons_code_2019": [utla19[la] for la in lads_per_la.index],
            "ons_code_2025": [ons2025[la] for la in lads_per_la.index],
            "lad19_codes": [";".join(v) for v in lads_per_la],
            "lad19_count": [len(v) for v in lads_per_la],
            "lsoa_count": grouped.size().reindex(lads_per_la.index).to_numpy(),
            "children_0_15": grouped["children_0_15"].sum().reindex(lads_per_la.index).to_numpy(),
            "gias_schools": schools_by_la.reindex(lads_per_la.index)
            .fillna(0)
            .astype(int)
            .to_numpy(),
            "lad_school_share_min": share_min.reindex(lads_per_la.index).round(3).to_numpy(),
        }
    )
    auth.insert(2, "kind", auth["ons_code_2025"].str[:3].map(KIND_BY_PREFIX))
    missing_region = sorted(set(auth["la_code"]) - set(REGION_BY_LA))
    if missing_region or auth["kind"].isna().any():
        raise SystemExit(f"no region or kind for LA(s) {missing_region}")
    auth.insert(5, "region", auth["la_code"].map(REGION_BY_LA))
    auth = auth.sort_values("la_code").reset_index(drop=True)
    return lsoa, auth


def _gzip_csv(frame: pd.DataFrame) -> bytes:
    """CSV bytes gzipped with a fixed timestamp, so the same data gives the same hash."""
    text = frame.to_csv(index=False, lineterminator="\n").encode("utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(text)
    return buf.getvalue()


def main(shared: Path) -> None:
    lsoa, auth = build(shared)
    if len(lsoa) != ENGLAND_LSOA_COUNT or lsoa["lsoa11cd"].duplicated().any():
        raise SystemExit("the LSOA table must hold every English LSOA exactly once")
    if lsoa.isna().any().any():
        raise SystemExit(f"missing values:\n{lsoa.isna().sum()}")
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "lsoa_england.csv.gz").write_bytes(_gzip_csv(lsoa))
    (OUT / "authorities.csv").write_bytes(
        auth.to_csv(index=False, lineterminator="\n").encode("utf-8")
    )

    gias = pd.read_csv(shared / GIAS, dtype=str)
    gias = gias.loc[gias["la_code"].str.fullmatch(ENGLISH_LA_NUMBER, na=False), GIAS_COLUMNS]
    gias = gias.sort_values("urn", key=lambda u: u.astype(int)).reset_index(drop=True)
    (OUT / "gias_england.csv.gz").write_bytes(_gzip_csv(gias))

    derived = "derived by scripts/make_england_extract.py from: "
    rows = [
        {
            "file": "lsoa_england.csv.gz",
            "source_url": derived + "; ".join(SOURCES[k] for k in (FILE1, FILE3, FILE6, PWC, GIAS)),
            "licence": OGL + " (contains OS data, Crown copyright and database right)",
            "data_date": "2019-09-26 (IoD 2019; children mid-2015); LSOA 2011; GIAS 2025-05-24",
            "description": (
                f"Every English LSOA 2011 ({len(lsoa)}) with LAD 2019, education authority "
                "(DfE LA number, name, ONS code 2025 and 2019 upper tier), population-weighted "
                "centroid (EPSG:27700, m), dependent children aged 0-15 mid-2015, IMD and IDACI deciles"
            ),
        },
        {
            "file": "gias_england.csv.gz",
            "source_url": SOURCES[GIAS],
            "licence": OGL,
            "data_date": "2025-05-24",
            "description": (
                f"Open establishments of English education authorities in GIAS ({len(gias)}), "
                "the columns apgeo reads: URN, LA number and name, name, type and type group, "
                "phase, pupils, easting/northing (EPSG:27700), LSOA"
            ),
        },
        {
            "file": "authorities.csv",
            "source_url": derived
            + "; ".join(SOURCES[k] for k in (FILE1, FILE6, GIAS))
            + "; hand tables COUNTY_ONS_2019, ONS_2025_CHANGES, REGION_BY_LA in the script",
            "licence": OGL,
            "data_date": "2025-05-24 (authorities as in GIAS); ONS codes to 2025",
            "description": (
                f"{len(auth)} English education authorities: LA number, name, kind, ONS codes "
                "2019 and 2025, region, LAD 2019 districts, LSOA count, children aged 0-15 (mid-2015)"
            ),
        },
    ]
    for row in rows:
        p = OUT / row["file"]
        row["sha256"] = hashlib.sha256(p.read_bytes()).hexdigest()
        row["bytes"] = str(p.stat().st_size)
    with open(OUT / "MANIFEST.csv", "w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(
            fh,
            fieldnames=[
                "file",
                "sha256",
                "bytes",
                "source_url",
                "licence",
                "data_date",
                "description",
            ],
            lineterminator="\n",
        )
        w.writeheader()
        w.writerows(sorted(rows, key=lambda r: r["file"]))
    print(
        f"{len(lsoa)} LSOAs, {len(auth)} authorities, children 0-15 {lsoa['children_0_15'].sum():,}; "
        f"{sum(int(r['bytes']) for r in rows):,} bytes written to {OUT}"
    )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SHARED)
