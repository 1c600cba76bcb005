"""Study areas for any English education authority, from the committed England extract.

An *area* is a local authority with education duties, numbered as DfE numbers them in
Get Information about Schools (GIAS, May 2025): 153 in England, from the City of London
(201) to Westmorland and Furness (943). :func:`resolve_area` accepts a name ("Sheffield",
"kingston upon hull", "Hull"), a DfE LA number (373 or "373") or an ONS code, 2019 or
2025 (E08000019 or E08000039 for Sheffield; E10000016 for Kent), and returns an
:class:`Area`.

The data come from ``data/england_extract/`` (built by ``scripts/make_england_extract.py``,
checked by its ``MANIFEST.csv``): every English LSOA 2011 with its local authority
district (LAD 2019), its education authority, its population-weighted centroid and its
children aged 0-15. Two-tier counties own education for their districts, so every LSOA of
a Kent district belongs to Kent (886). The 2019 districts are mapped to the authorities
of 2025: the Cumbrian districts to Cumberland (942) or Westmorland and Furness (943) by
district, the North Yorkshire and Somerset districts to the 2023 unitaries (815, 933).
The script's docstring says how that link is derived from GIAS.

Children
--------
``children_0_15`` is the IoD 2019 population denominator "Dependent Children aged 0-15:
mid 2015 (excluding prisoners)" (MHCLG, File 6). It is a mid-2015 count on LSOA 2011:
older than the Sheffield single-year-of-age estimates in :mod:`apgeo.demand`. Key stages
come from it by :data:`KEY_STAGE_SPLIT_RULE` (see :func:`split_children_by_key_stage`).
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd

from apgeo import schema as S
from apgeo._errors import ApgeoValueError, DataFileNotFoundError
from apgeo._log import warn
from apgeo._validate import read_csv, require_columns
from apgeo.settings import WORKING_CRS, get_settings, repo_root

#: Folder of the committed England extract.
EXTRACT_DIR = repo_root() / "data" / "england_extract"
LSOA_FILE = "lsoa_england.csv.gz"
AUTHORITIES_FILE = "authorities.csv"
#: The columns of the England LSOA extract, in order (written by
#: ``scripts/make_england_extract.py``, required when it is read).
LSOA_COLUMNS: tuple[str, ...] = (
    "lsoa11cd",
    "lsoa11nm",
    "lad19cd",
    "lad19nm",
    "la_code",
    "la_name",
    "la_ons_code",
    "utla19cd",
    "easting_m",
    "northing_m",
    "children_0_15",
    "imd_decile",
    "idaci_decile",
)
#: The compact England GIAS extract (open establishments of English authorities).
GIAS_EXTRACT_FILE = "gias_england.csv.gz"

#: GIAS file name of the England-wide open-establishments extract (24 May 2025).
GIAS_ENGLAND_FILE = "schools/england_gias_open_establishments_20250524.csv"

#: GIAS ``establishment_type`` values of state-funded alternative provision.
AP_ESTABLISHMENT_TYPES: tuple[str, ...] = (
    "Pupil referral unit",
    "Academy alternative provision converter",
    "Academy alternative provision sponsor led",
    "Free schools alternative provision",
)

#: Share of the 0-15 count given to each key stage: ages spread evenly over 0..15.
KEY_STAGE_SHARE_OF_0_15: dict[S.KeyStage, float] = {
    ks: len(S.KEY_STAGE_AGES[ks]) / 16 for ks in ("KS1", "KS2", "KS3", "KS4")
}

#: The rule that turns children aged 0-15 into key stages, in words outputs can quote.
KEY_STAGE_SPLIT_RULE = (
    "Children per key stage = children aged 0-15 (IoD 2019 File 6, mid-2015) x (number of "
    "single years of age in the key stage / 16), i.e. ages assumed evenly spread over 0-15: "
    "KS1 ages 5-6 = 2/16, KS2 ages 7-10 = 4/16, KS3 ages 11-13 = 3/16, KS4 ages 14-15 = 2/16. "
    "KS5 (ages 16-17) is outside the 0-15 count and is not estimated."
)

#: Authorities that no longer exist: normalised name, old DfE number or ONS code -> successors.
FORMER_AUTHORITIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "cumbria": ("Cumbria (909, abolished April 2023)", ("942", "943")),
    "909": ("Cumbria (909, abolished April 2023)", ("942", "943")),
    "northamptonshire": ("Northamptonshire (928, abolished April 2021)", ("940", "941")),
    "928": ("Northamptonshire (928, abolished April 2021)", ("940", "941")),
    "835": ("Dorset (835, before April 2019)", ("838",)),
    "836": ("Poole (836, before April 2019)", ("839",)),
    "837": ("Bournemouth (837, before April 2019)", ("839",)),
    "E06000028": ("Bournemouth (E06000028, before April 2019)", ("839",)),
    "E06000029": ("Poole (E06000029, before April 2019)", ("839",)),
    "E10000009": ("Dorset County (E10000009, before April 2019)", ("838", "839")),
}

#: Short or common names -> DfE LA number.
ALIASES: dict[str, str] = {
    "hull": "810",
    "durham": "840",
    "saint helens": "342",
    "bcp": "839",
    "bournemouth": "839",
    "poole": "839",
    "newcastle": "391",
    "stoke": "861",
    "southend": "882",
    "banes": "800",
    "bath": "800",
    "brighton": "846",
    "windsor": "868",
    "telford": "894",
    "blackburn": "889",
    "hammersmith": "205",
    "kensington": "207",
    "bucks": "825",
    "redcar": "807",
    "stockton": "808",
    "east riding": "811",
    "westmorland": "943",
    "north northants": "940",
    "west northants": "941",
    "scilly": "420",
    "isle of scilly": "420",
}

_PREFIXES = ("london borough of ", "royal borough of ", "city of ", "county of ", "borough of ")
_SUFFIXES = (
    " metropolitan borough council",
    " county council",
    " city council",
    " borough council",
    " district council",
    " council",
    " city",
    " county",
    " la",
)


@dataclass(frozen=True)
class Area:
    """One English education authority.

    ``la_code`` is the three-digit DfE LA number as text ("373"), as in GIAS.
    ``ons_code_2025`` is its current ONS code; ``ons_code_2019`` its upper-tier code
    in 2019 (the county for two-tier areas, shared by the successors of a split county).
    ``children_0_15`` is a mid-2015 count (persons).
    """

    la_code: str
    name: str
    kind: str
    ons_code_2025: str
    ons_code_2019: str
    region: str
    lad19_codes: tuple[str, ...]
    lsoa_count: int
    children_0_15: int

    @property
    def ons_codes(self) -> tuple[str, ...]:
        """Every ONS code that names this authority: 2025 first, then 2019 if different."""
        return tuple(dict.fromkeys((self.ons_code_2025, self.ons_code_2019)))

    @property
    def la_number(self) -> int:
        """The DfE LA number as an integer (373)."""
        return int(self.la_code)

    @property
    def slug(self) -> str:
        """A lower-case file-name-safe name, e.g. ``kingston_upon_hull_city_of``."""
        return _normalise(self.name).replace(" ", "_")

    def __str__(self) -> str:
        return f"{self.name} (LA {self.la_code}, {self.ons_code_2025})"


def _normalise(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    t = ascii_text.lower().replace("&", " and ").replace(".", "").replace("'", "")
    return re.sub(r"[^a-z0-9]+", " ", t).strip()


def _strip_affixes(key: str) -> str:
    changed = True
    while changed:
        changed = False
        for p in _PREFIXES:
            if key.startswith(p) and len(key) > len(p):
                key, changed = key[len(p) :], True
        for s in _SUFFIXES:
            if key.endswith(s) and len(key) > len(s):
                key, changed = key[: -len(s)], True
    return key


def _extract_file(name: str, extract_dir: str | Path | None) -> Path:
    folder = Path(extract_dir) if extract_dir is not None else EXTRACT_DIR
    path = folder / name
    if not path.is_file():
        raise DataFileNotFoundError(
            f"England extract file {path} not found; it is committed in data/england_extract/ "
            "(restore it with git checkout, or rebuild it with scripts/make_england_extract.py)"
        )
    return path


@lru_cache(maxsize=4)
def _authorities(path: Path) -> pd.DataFrame:
    frame = read_csv(path)
    require_columns(
        frame,
        [
            "la_code",
            "la_name",
            "kind",
            "ons_code_2019",
            "ons_code_2025",
            "region",
            "lad19_codes",
            "lsoa_count",
            "children_0_15",
        ],
        source=str(path),
    )
    return frame


@lru_cache(maxsize=4)
def _lsoas(path: Path) -> pd.DataFrame:
    frame = pd.read_csv(
        path,
        dtype={"la_code": str, "lsoa11cd": str, "lad19cd": str},
        keep_default_na=False,
        na_values=[""],
    )
    require_columns(frame, LSOA_COLUMNS, source=str(path))
    return frame


def load_authorities(*, extract_dir: str | Path | None = None) -> pd.DataFrame:
    """The table of the 153 English education authorities (``authorities.csv``), as text.

    Parameters
    ----------
    extract_dir
        Folder of the England extract (default: the committed one).

    Returns
    -------
    pandas.DataFrame
        One row per authority, every column as text.
    """
    return _authorities(_extract_file(AUTHORITIES_FILE, extract_dir)).copy()


def load_lsoas_england(*, extract_dir: str | Path | None = None) -> pd.DataFrame:
    """Every English LSOA 2011 (32,844 rows) with its district and education authority.

    Columns: ``lsoa11cd, lsoa11nm, lad19cd, lad19nm, la_code, la_name, la_ons_code``
    (2025), ``utla19cd`` (2019 upper tier), ``easting_m, northing_m`` (population-weighted
    centroid, EPSG:27700, metres), ``children_0_15`` (mid-2015, persons), ``imd_decile``,
    ``idaci_decile`` (1 = most deprived tenth of England's LSOAs).

    Parameters
    ----------
    extract_dir
        Folder of the England extract (default: the committed one).

    Returns
    -------
    pandas.DataFrame
        The LSOAs with the columns above.
    """
    return _lsoas(_extract_file(LSOA_FILE, extract_dir)).copy()


def _area_from_row(row: pd.Series) -> Area:
    return Area(
        la_code=str(row["la_code"]),
        name=str(row["la_name"]),
        kind=str(row["kind"]),
        ons_code_2025=str(row["ons_code_2025"]),
        ons_code_2019=str(row["ons_code_2019"]),
        region=str(row["region"]),
        lad19_codes=tuple(str(row["lad19_codes"]).split(";")),
        lsoa_count=int(row["lsoa_count"]),
        children_0_15=int(row["children_0_15"]),
    )


def all_areas(*, extract_dir: str | Path | None = None) -> list[Area]:
    """Every English education authority, in DfE LA number order.

    Parameters
    ----------
    extract_dir
        Folder of the England extract (default: the committed one).

    Returns
    -------
    list of Area
        One per authority.
    """
    return [_area_from_row(r) for _, r in load_authorities(extract_dir=extract_dir).iterrows()]


def _name_index(auth: pd.DataFrame) -> dict[str, str]:
    """Normalised name (and variants) -> LA number."""
    index: dict[str, str] = {}
    for code, name in zip(auth["la_code"], auth["la_name"]):
        key = _normalise(name)
        index[key] = code
        if "," in name:  # "Bristol, City of" -> "bristol", "city of bristol"
            head, tail = (part.strip() for part in name.split(",", 1))
            index.setdefault(_normalise(head), code)
            index.setdefault(_normalise(f"{tail} {head}"), code)
    for alias, code in ALIASES.items():
        index.setdefault(alias, code)
    return index


def _describe(auth: pd.DataFrame, codes: tuple[str, ...] | list[str]) -> str:
    names = auth.set_index("la_code")["la_name"]
    return " or ".join(f"{names[c]} ({c})" for c in codes)


def resolve_area(area: str | int | Area, *, extract_dir: str | Path | None = None) -> Area:
    """The education authority named by ``area``.

    Accepts an :class:`Area` (returned as is), a DfE LA number (``373`` or ``"373"``), an
    ONS code of 2019 or 2025 (``"E08000019"``, ``"E08000039"``, ``"E10000016"``), or a
    name, case and punctuation insensitive (``"Sheffield"``, ``"bristol"``,
    ``"Kingston upon Hull"``, ``"Hull"``, ``"Sheffield City Council"``).

    Parameters
    ----------
    area
        The authority as above.
    extract_dir
        Folder of the England extract (default: the committed one).

    Returns
    -------
    Area
        The authority.

    Raises
    ------
    ApgeoValueError
        For an unknown area (with close matches), a district of a two-tier county (naming
        the county that runs its schools), a code shared by several successor authorities
        (Cumbria, Northamptonshire), or an abolished authority (naming its successors).
    """
    if isinstance(area, Area):
        return area
    auth = load_authorities(extract_dir=extract_dir)
    known = set(auth["la_code"])

    def found(code: str) -> Area:
        return _area_from_row(auth.loc[auth["la_code"] == code].iloc[0])

    if isinstance(area, bool) or not isinstance(area, (str, int)):
        raise ApgeoValueError(
            f"area must be a name, a DfE LA number or an ONS code, not {type(area).__name__} "
            f"({area!r}); e.g. resolve_area('Sheffield'), resolve_area(373)"
        )
    text = str(area).strip()
    if not text:
        raise ApgeoValueError(
            "area is empty; give a name ('Sheffield'), a DfE LA number (373) or an ONS code"
        )

    if text.isdigit():
        code = text.zfill(3)
        if code in known:
            return found(code)
        if code in FORMER_AUTHORITIES:
            raise _former(auth, code)
        raise ApgeoValueError(
            f"no English education authority has DfE LA number {text}; numbers run 201-943 "
            f"(Welsh 660-681 and offshore 7xx are not English); see {EXTRACT_DIR / AUTHORITIES_FILE}"
        )

    upper = text.upper()
    if re.fullmatch(r"[EWSN]\d{8}", upper):
        hits = auth.loc[
            (auth["ons_code_2025"] == upper) | (auth["ons_code_2019"] == upper), "la_code"
        ]
        if len(hits) == 1:
            return found(str(hits.iloc[0]))
        if len(hits) > 1:
            raise ApgeoValueError(
                f"ONS code {upper} (2019) covers several education authorities since its "
                f"reorganisation: {_describe(auth, list(hits))}; choose one of them"
            )
        if upper in FORMER_AUTHORITIES:
            raise _former(auth, upper)
        district = _district_hint(upper, extract_dir)
        if district:
            raise ApgeoValueError(district)
        raise ApgeoValueError(
            f"no English education authority has ONS code {upper}; use the county or unitary "
            f"code (E06/E08/E09/E10), a DfE LA number or a name; see {EXTRACT_DIR / AUTHORITIES_FILE}"
        )

    index = _name_index(auth)
    key = _normalise(text)
    for candidate in (key, _strip_affixes(key)):
        if candidate in index:
            return found(index[candidate])
        if candidate in FORMER_AUTHORITIES:
            raise _former(auth, candidate)
    district = _district_hint(text, extract_dir)
    if district:
        raise ApgeoValueError(district)
    close = difflib.get_close_matches(_strip_affixes(key), list(index), n=3, cutoff=0.6)
    codes = list(dict.fromkeys(index[c] for c in close))
    names = auth.set_index("la_code")["la_name"]
    hint = f"did you mean {', '.join(f'{names[c]} ({c})' for c in codes)}? " if codes else ""
    raise ApgeoValueError(
        f"unknown English education authority {text!r}; {hint}Give a name (e.g. 'Sheffield'), "
        f"a DfE LA number (e.g. 373) or an ONS code (e.g. E08000019); the list is in "
        f"{EXTRACT_DIR / AUTHORITIES_FILE}"
    )


def _former(auth: pd.DataFrame, key: str) -> ApgeoValueError:
    what, successors = FORMER_AUTHORITIES[key]
    return ApgeoValueError(
        f"{what} no longer runs schools; its area now belongs to {_describe(auth, successors)}: "
        "resolve one of those instead"
    )


def _district_hint(text: str, extract_dir: str | Path | None) -> str | None:
    """A message for a LAD 2019 code or name whose schools a county council runs."""
    lsoas = load_lsoas_england(extract_dir=extract_dir)
    lads = lsoas.drop_duplicates("lad19cd")
    match = lads[
        (lads["lad19cd"] == text.upper()) | (lads["lad19nm"].map(_normalise) == _normalise(text))
    ]
    if match.empty:
        return None
    row = match.iloc[0]
    return (
        f"{row['lad19nm']} ({row['lad19cd']}) is a district (LAD 2019), not an education "
        f"authority; its schools are run by {row['la_name']} (LA {row['la_code']}): use "
        f"resolve_area({row['la_code']}) and select its LSOAs with lad19cd == {row['lad19cd']!r}"
    )


def area_lsoas(area: str | int | Area, *, extract_dir: str | Path | None = None) -> pd.DataFrame:
    """The LSOAs 2011 of an education authority, one row each, sorted by code.

    Columns: ``area_id`` (LSOA 2011 code), ``area_name``, ``lad19cd``, ``lad19nm``,
    ``la_code``, ``la_name``, ``easting_m``, ``northing_m`` (population-weighted centroid,
    EPSG:27700, metres), ``children_0_15`` (persons, mid-2015, IoD 2019 File 6),
    ``imd_decile``, ``idaci_decile`` (1 = most deprived tenth of England).

    Parameters
    ----------
    area
        The authority (see :func:`resolve_area`).
    extract_dir
        Folder of the England extract (default: the committed one).

    Returns
    -------
    pandas.DataFrame
        The LSOAs with the columns above.
    """
    a = resolve_area(area, extract_dir=extract_dir)
    lsoas = load_lsoas_england(extract_dir=extract_dir)
    out = lsoas.loc[lsoas["la_code"] == a.la_code].rename(
        columns={"lsoa11cd": S.AREA_ID, "lsoa11nm": S.AREA_NAME}
    )
    out = out[
        [
            S.AREA_ID,
            S.AREA_NAME,
            "lad19cd",
            "lad19nm",
            "la_code",
            "la_name",
            "easting_m",
            "northing_m",
            S.CHILDREN_0_15,
            S.IMD_DECILE,
            S.IDACI_DECILE,
        ]
    ]
    if len(out) != a.lsoa_count:
        raise ApgeoValueError(
            f"the England extract holds {len(out)} LSOAs for {a} but authorities.csv says "
            f"{a.lsoa_count}; rebuild both with scripts/make_england_extract.py"
        )
    return out.sort_values(S.AREA_ID).reset_index(drop=True)


def split_children_by_key_stage(lsoas: pd.DataFrame) -> pd.DataFrame:
    """Add ``children_ks1`` .. ``children_ks4`` (persons, expected values, not whole numbers).

    Uses :data:`KEY_STAGE_SPLIT_RULE`: each key stage gets its number of single years of
    age out of the 16 in ``children_0_15`` (:data:`KEY_STAGE_SHARE_OF_0_15`). Totals over
    KS1-KS4 are 11/16 of the 0-15 count (ages 0-4 are before school).

    Parameters
    ----------
    lsoas
        LSOAs with ``children_0_15`` (e.g. :func:`area_lsoas`).

    Returns
    -------
    pandas.DataFrame
        A copy with the four key-stage columns added.
    """
    require_columns(lsoas, [S.CHILDREN_0_15], source="LSOA table")
    out = lsoas.copy()
    base = pd.to_numeric(out[S.CHILDREN_0_15], errors="raise").astype(float)
    for ks, share in KEY_STAGE_SHARE_OF_0_15.items():
        out[S.children_column(ks)] = base * share
    return out


def _la_codes(column: pd.Series) -> pd.Series:
    """LA numbers as three-digit text, whether read as text or as numbers."""
    text = column.astype(str).str.strip().str.replace(r"\.0$", "", regex=True)
    return text.where(~text.str.isdigit(), text.str.zfill(3))


def load_gias_england(path: str | Path | None = None) -> pd.DataFrame:
    """The England-wide GIAS open-establishments extract (24 May 2025), all text columns.

    ``path`` defaults to the committed compact extract
    (``data/england_extract/gias_england.csv.gz``: the columns apgeo reads, English
    authorities only), then ``<data_dir>/schools/england_gias_open_establishments_20250524.csv``
    (``data_dir`` from :func:`apgeo.configure`), then ``data/england/`` in the clone.

    Parameters
    ----------
    path
        The GIAS file (``.csv`` or ``.csv.gz``), or ``None`` for the defaults above.

    Returns
    -------
    pandas.DataFrame
        One row per open establishment, every column as text.
    """
    if path is not None:
        candidates = [Path(path).expanduser()]
    else:
        candidates = [
            EXTRACT_DIR / GIAS_EXTRACT_FILE,
            get_settings().data_dir / GIAS_ENGLAND_FILE,
            repo_root() / "data" / "england" / GIAS_ENGLAND_FILE,
        ]
    for p in candidates:
        if p.is_file():
            return read_csv(p)
    raise DataFileNotFoundError(
        f"England GIAS extract not found (looked at {', '.join(map(str, candidates))}); pass its "
        "path, or point apgeo.configure(data_dir=...) at a folder holding "
        f"{GIAS_ENGLAND_FILE} (for example the shared data folder)"
    )


def area_gias(
    area: str | int | Area, gias: pd.DataFrame, *, extract_dir: str | Path | None = None
) -> pd.DataFrame:
    """The GIAS establishments of an education authority, selected by DfE LA number.

    GIAS gives each establishment the LA it belongs to (maintained schools) or stands in
    (academies, independent schools), so this is the authority's own schools, not the
    ones nearest to its children: for access, use all of England's settings.

    Parameters
    ----------
    area
        The authority (see :func:`resolve_area`).
    gias
        The GIAS table (e.g. :func:`load_gias_england`).
    extract_dir
        Folder of the England extract (default: the committed one).

    Returns
    -------
    pandas.DataFrame
        The rows of ``gias`` whose LA is the authority's.
    """
    require_columns(gias, ["la_code"], source="GIAS table")
    a = resolve_area(area, extract_dir=extract_dir)
    return gias.loc[_la_codes(gias["la_code"]) == a.la_code].reset_index(drop=True)


def ap_settings_england(
    gias: pd.DataFrame,
    *,
    area: str | int | Area | None = None,
    extract_dir: str | Path | None = None,
) -> gpd.GeoDataFrame:
    """Open state-funded alternative provision in England as points in EPSG:27700.

    Keeps the GIAS establishment types in :data:`AP_ESTABLISHMENT_TYPES` (pupil referral
    units, AP academies converter and sponsor led, AP free schools); with ``area``, only
    that authority's. Rows without a usable easting/northing are dropped with a warning
    that names them (URN and name). Columns: the GIAS columns plus ``geometry``.

    Parameters
    ----------
    gias
        The GIAS table (:func:`load_gias_england`).
    area
        An authority (see :func:`resolve_area`), or ``None`` for all of England.
    extract_dir
        Folder of the England extract (default: the committed one).

    Returns
    -------
    geopandas.GeoDataFrame
        The AP settings as points.
    """
    require_columns(
        gias,
        ["urn", "la_code", "establishment_name", "establishment_type", "easting", "northing"],
        source="GIAS table",
    )
    ap = gias.loc[gias["establishment_type"].astype(str).str.strip().isin(AP_ESTABLISHMENT_TYPES)]
    if area is not None:
        a = resolve_area(area, extract_dir=extract_dir)
        ap = ap.loc[_la_codes(ap["la_code"]) == a.la_code]
    ap = ap.copy()
    east = pd.to_numeric(ap["easting"], errors="coerce")
    north = pd.to_numeric(ap["northing"], errors="coerce")
    bad = east.isna() | north.isna() | (east <= 0) | (north <= 0)
    if bad.any():
        who = "; ".join(
            f"URN {u} {n}" for u, n in zip(ap.loc[bad, "urn"], ap.loc[bad, "establishment_name"])
        )
        warn(
            f"{int(bad.sum())} alternative provision setting(s) in GIAS have no easting/northing "
            f"and are left out of the map and the travel times: {who}. Add their location by hand "
            "(a provider table with a postcode) to include them"
        )
    ap = ap.loc[~bad]
    ap["easting"] = east[~bad]
    ap["northing"] = north[~bad]
    geometry = gpd.points_from_xy(ap["easting"], ap["northing"], crs=WORKING_CRS)
    return gpd.GeoDataFrame(ap.reset_index(drop=True), geometry=geometry, crs=WORKING_CRS)


__all__ = [
    "AP_ESTABLISHMENT_TYPES",
    "KEY_STAGE_SHARE_OF_0_15",
    "KEY_STAGE_SPLIT_RULE",
    "Area",
    "all_areas",
    "ap_settings_england",
    "area_gias",
    "area_lsoas",
    "load_authorities",
    "load_gias_england",
    "load_lsoas_england",
    "resolve_area",
    "split_children_by_key_stage",
]
