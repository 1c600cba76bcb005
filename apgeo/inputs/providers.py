"""Providers of Alternative Provision and related settings, as one validated table.

Schema (one row per *site*; a provider may have several sites):

``provider_id`` (str), ``site_id`` (str, unique), ``name``, ``kind``
(:class:`~apgeo.schema.ProviderKind` value), ``key_stages`` (e.g. ``"KS1,KS2"``),
``capacity_places`` (float >= 0, NaN = unknown), ``capacity_source``, ``urn``,
``postcode``, ``source``, ``located`` (bool), ``location_note``, Point geometry in
EPSG:27700 (empty for providers that could not be located: they are *kept*, never
dropped, so a report can list them).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from apgeo import schema as S
from apgeo._errors import ApgeoValueError, DuplicateIdError, MissingColumnError
from apgeo._validate import (
    EXCEL_SUFFIXES,
    TEXT_SUFFIXES,
    check_crs,
    check_near_area,
    check_points_in_england,
    check_unique,
    header_name,
    read_csv,
    read_table,
    require_columns,
    require_rows,
    row_numbers,
    to_numeric,
)
from apgeo.inputs import provider_rows as rows
from apgeo.inputs.data import SHEFFIELD_LA_CODES, data_path
from apgeo.inputs.geocode import INVALID, NATIONAL_SOURCE, PostcodeLookup, geocode_postcodes
from apgeo.settings import WORKING_CRS

#: GIAS establishment types -> provider kind.
GIAS_TYPE_KIND: dict[str, S.ProviderKind] = {
    "Pupil referral unit": S.ProviderKind.PRU,
    "Academy alternative provision converter": S.ProviderKind.AP_ACADEMY,
    "Academy alternative provision sponsor led": S.ProviderKind.AP_ACADEMY,
    "Free schools alternative provision": S.ProviderKind.AP_FREE_SCHOOL,
    "Community special school": S.ProviderKind.SPECIAL_SCHOOL,
    "Foundation special school": S.ProviderKind.SPECIAL_SCHOOL,
    "Academy special converter": S.ProviderKind.SPECIAL_SCHOOL,
    "Academy special sponsor led": S.ProviderKind.SPECIAL_SCHOOL,
    "Free schools special": S.ProviderKind.SPECIAL_SCHOOL,
    "Non-maintained special school": S.ProviderKind.SPECIAL_SCHOOL,
    "Other independent special school": S.ProviderKind.SPECIAL_SCHOOL,
    "Hospital school": S.ProviderKind.HOSPITAL_EDUCATION,
}

#: GIAS types kept by default: AP proper plus special and hospital schools.
DEFAULT_GIAS_TYPES: tuple[str, ...] = tuple(GIAS_TYPE_KIND)

#: GIAS ``education_phase`` -> key stages. "Not applicable" (PRUs, special schools)
#: gives KS1-KS4 as an assumption, recorded in ``key_stages_source``.
PHASE_KEY_STAGES: dict[str, str] = {
    "Primary": "KS1,KS2",
    "Middle deemed primary": "KS2,KS3",
    "Middle deemed secondary": "KS2,KS3",
    "Secondary": "KS3,KS4",
    "All-through": "KS1,KS2,KS3,KS4,KS5",
    "16 plus": "KS5",
    "Nursery": "",
    "Not applicable": "KS1,KS2,KS3,KS4",
}

#: The Sheffield Inclusion Centre, the city's PRU.
INCLUSION_CENTRE_URN = "137596"

COLUMNS = [
    S.PROVIDER_ID,
    S.SITE_ID,
    S.NAME,
    S.KIND,
    S.KEY_STAGES,
    S.CAPACITY_PLACES,
    S.CAPACITY_SOURCE,
    S.URN,
    S.POSTCODE,
    S.SOURCE,
    S.LOCATED,
    S.LOCATION_NOTE,
]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Z0-9]+", "-", text.upper()).strip("-")


def _empty_point() -> Point:
    return Point()


def _finish(frame: pd.DataFrame, geometry: Iterable[object], *, source: str) -> gpd.GeoDataFrame:
    """Common validation and column order for every loader."""
    out = gpd.GeoDataFrame(frame, geometry=list(geometry), crs=WORKING_CRS)
    out[S.LOCATED] = ~(out.geometry.is_empty | out.geometry.isna())
    for col in COLUMNS:
        if col not in out.columns:
            out[col] = np.nan if col == S.CAPACITY_PLACES else ""
    out[S.CAPACITY_PLACES] = out[S.CAPACITY_PLACES].astype(float)
    negative = out[S.CAPACITY_PLACES] < 0
    if negative.any():
        who = ", ".join(
            f"{i} ({c:g})" for i, c in zip(out.loc[negative, S.PROVIDER_ID], out.loc[negative, S.CAPACITY_PLACES])
        )
        raise ApgeoValueError(
            f"{source}: column 'capacity_places' must be >= 0 (or blank when unknown); "
            f"negative for {who}"
        )
    check_unique(out, S.SITE_ID, source=source)
    extra = [c for c in out.columns if c not in COLUMNS and c != "geometry"]
    return out[[*COLUMNS, *extra, "geometry"]].reset_index(drop=True)


# ------------------------------------------------------------------------- GIAS


def load_gias_providers(
    path: str | Path | None = None,
    *,
    la_codes: Iterable[str] = SHEFFIELD_LA_CODES,
    establishment_types: Iterable[str] = DEFAULT_GIAS_TYPES,
    data_dir: str | Path | None = None,
) -> gpd.GeoDataFrame:
    """Providers from a GIAS extract filtered by local authority and establishment type.

    Parameters
    ----------
    path
        A GIAS CSV with columns ``urn, la_code, establishment_name, establishment_type,
        education_phase, number_of_pupils, easting, northing`` (the committed Sheffield
        extract by default; the full England file works too).
    la_codes
        DfE LA numbers or ONS LAD codes; Sheffield's ``373``, ``E08000019`` and
        ``E08000039`` all select Sheffield.
    establishment_types
        GIAS ``establishment_type`` values to keep.

    Returns
    -------
    geopandas.GeoDataFrame
        Provider table in EPSG:27700 (kind from the establishment type, capacity unknown),
        with ``establishment_type`` and ``number_of_pupils``.
    """
    p = Path(path) if path is not None else data_path("gias", data_dir=data_dir)
    raw = read_csv(p)
    require_columns(
        raw,
        ["urn", "la_code", "establishment_name", "establishment_type", "education_phase", "easting", "northing"],
        source=str(p),
    )
    codes = {str(c) for c in la_codes}
    if codes & SHEFFIELD_LA_CODES:
        codes |= SHEFFIELD_LA_CODES
    types = set(establishment_types)
    unknown_types = types - set(GIAS_TYPE_KIND)
    if unknown_types:
        raise ApgeoValueError(
            f"unknown GIAS establishment type(s) {sorted(unknown_types)}; known: {sorted(GIAS_TYPE_KIND)}"
        )
    sel = raw[raw["la_code"].isin(codes) & raw["establishment_type"].isin(types)].copy()
    urn = sel["urn"].astype(str)
    kinds = sel["establishment_type"].map(lambda t: GIAS_TYPE_KIND[t].value)
    kinds[urn == INCLUSION_CENTRE_URN] = S.ProviderKind.INCLUSION_CENTRE.value
    frame = pd.DataFrame(
        {
            S.PROVIDER_ID: "URN" + urn,
            S.SITE_ID: "URN" + urn + "-1",
            S.NAME: sel["establishment_name"],
            S.KIND: kinds,
            S.KEY_STAGES: sel["education_phase"].map(PHASE_KEY_STAGES).fillna("KS1,KS2,KS3,KS4"),
            "key_stages_source": "GIAS phase " + sel["education_phase"].fillna("unknown"),
            S.CAPACITY_PLACES: np.nan,
            S.CAPACITY_SOURCE: "",
            S.URN: urn,
            S.POSTCODE: sel.get("nearest_cpo_postcode", pd.Series("", index=sel.index)).fillna(""),
            S.SOURCE: f"GIAS ({p.name})",
            S.LOCATION_NOTE: "GIAS easting/northing",
            "establishment_type": sel["establishment_type"],
            "number_of_pupils": to_numeric(sel.get("number_of_pupils", pd.Series(np.nan, index=sel.index)), column="number_of_pupils", source=str(p)),
        }
    )
    e = to_numeric(sel["easting"], column="easting", source=str(p))
    n = to_numeric(sel["northing"], column="northing", source=str(p))
    check_points_in_england(e.dropna(), n.dropna(), ids=frame.loc[e.notna() & n.notna(), S.PROVIDER_ID], source=str(p))
    geoms = [Point(x, y) if np.isfinite(x) and np.isfinite(y) else _empty_point() for x, y in zip(e, n)]
    return _finish(frame, geoms, source=str(p))


# ---------------------------------------------------------------- AP settings list


def load_ap_settings(
    path: str | Path | None = None,
    *,
    attributes_path: str | Path | None = None,
    data_dir: str | Path | None = None,
) -> gpd.GeoDataFrame:
    """The Sheffield AP settings list, with curated kind, key stages and places.

    Rows without coordinates (framework suppliers with no published address) are kept
    with ``located=False`` and a ``location_note`` saying why.

    Parameters
    ----------
    path
        The AP settings CSV (``None``: the data folder's ``ap_settings``).
    attributes_path
        The curated attributes CSV (kind, key stages, places) matched on ``name``
        (``None``: the data folder's ``provider_attributes``).
    data_dir
        The data folder (``None``: the active setting).

    Returns
    -------
    geopandas.GeoDataFrame
        Provider table in EPSG:27700.
    """
    p = Path(path) if path is not None else data_path("ap_settings", data_dir=data_dir)
    a = Path(attributes_path) if attributes_path is not None else data_path("provider_attributes", data_dir=data_dir)
    raw = read_csv(p)
    require_columns(raw, ["name", "category", "urn", "easting", "northing", "source"], source=str(p))
    require_rows(raw, source=str(p))
    attrs = read_csv(a)
    require_columns(attrs, ["name", "kind", "key_stages", "capacity_places", "capacity_source"], source=str(a))
    merged = raw.merge(attrs.drop(columns=["urn"], errors="ignore"), on="name", how="left", validate="one_to_one")
    missing = merged["kind"].isna()
    if missing.any():
        raise ApgeoValueError(
            f"{a}: no kind / key stages for {', '.join(merged.loc[missing, 'name'])}; add a row "
            "per AP setting to the attributes file"
        )
    urn = merged["urn"].fillna("").astype(str).str.replace(r"\.0$", "", regex=True)
    pid = np.where(urn != "", "URN" + urn, "AP-" + merged["name"].map(_slug))
    e = to_numeric(merged["easting"], column="easting", source=str(p))
    n = to_numeric(merged["northing"], column="northing", source=str(p))
    ok = e.notna() & n.notna()
    check_points_in_england(e[ok], n[ok], ids=pd.Series(pid, index=merged.index)[ok], source=str(p))
    postcode = merged.get("postcode", pd.Series("", index=merged.index)).fillna("")
    frame = pd.DataFrame(
        {
            S.PROVIDER_ID: pid,
            S.SITE_ID: [f"{x}-1" for x in pid],
            S.NAME: merged["name"],
            S.KIND: merged["kind"].map(lambda k: S.ProviderKind.parse(k).value),
            S.KEY_STAGES: merged["key_stages"].map(lambda k: ",".join(S.parse_key_stages(k))),
            "key_stages_source": "apgeo_provider_attributes.csv",
            S.CAPACITY_PLACES: to_numeric(merged["capacity_places"], column="capacity_places", source=str(a)),
            S.CAPACITY_SOURCE: merged["capacity_source"].fillna(""),
            S.URN: urn,
            S.POSTCODE: postcode.str.extract(r"^([A-Z0-9]+ [0-9][A-Z]{2})", expand=False).fillna(""),
            S.SOURCE: merged["source"].fillna(""),
            S.LOCATION_NOTE: np.where(ok, "GIAS easting/northing (host school for hubs)", "no address in open data: not located"),
            "category": merged["category"],
            "note": merged.get("note_y", merged.get("note", pd.Series("", index=merged.index))).fillna(""),
        }
    )
    geoms = [Point(x, y) if good else _empty_point() for x, y, good in zip(e, n, ok)]
    return _finish(frame, geoms, source=str(p))


# ------------------------------------------------------------------ user files

#: Other headers accepted in a provider file (compared after :func:`header_name`):
#: alias -> column. Used only when the column itself is absent; each use is logged and
#: written in the row's ``source``.
PROVIDER_ALIASES: dict[str, str] = {
    "provider": S.PROVIDER_ID,
    "provider_code": S.PROVIDER_ID,
    "provider_ref": S.PROVIDER_ID,
    "site": S.SITE_ID,
    "site_code": S.SITE_ID,
    "site_ref": S.SITE_ID,
    "places": S.CAPACITY_PLACES,
    "capacity": S.CAPACITY_PLACES,
    "number_of_places": S.CAPACITY_PLACES,
    "commissioned_places": S.CAPACITY_PLACES,
    "provider_name": S.NAME,
    "setting_name": S.NAME,
    "type": S.KIND,
    "provider_kind": S.KIND,
    "provider_type": S.KIND,
    "key_stage": S.KEY_STAGES,
    "key_stages_served": S.KEY_STAGES,
    "phase": S.KEY_STAGES,
    "age_range": S.KEY_STAGES,
    "year_groups": S.KEY_STAGES,
    "post_code": S.POSTCODE,
    "eastings": "easting",
    "northings": "northing",
}
#: Header words that identify the header row of a provider file below title rows.
HEADER_WORDS: tuple[str, ...] = (
    S.PROVIDER_ID, S.SITE_ID, S.NAME, S.KIND, S.KEY_STAGES, S.CAPACITY_PLACES, S.POSTCODE, S.URN,
    "easting", "northing", "longitude", "latitude", *PROVIDER_ALIASES,
)


def provider_columns(frame: pd.DataFrame, *, source: str) -> pd.DataFrame:
    """Headers as compared (``"Provider ID"`` -> ``provider_id``) and the aliases of
    :data:`PROVIDER_ALIASES` renamed, with a note; the geometry column is left alone.

    Parameters
    ----------
    frame
        A provider table as read.
    source
        How to name the table in the error and the log.

    Returns
    -------
    pandas.DataFrame
        The table with renamed columns.
    """
    from apgeo._log import logger

    geom = frame.geometry.name if isinstance(frame, gpd.GeoDataFrame) else None
    names = {c: c if c == geom else header_name(c) for c in frame.columns}
    taken = set(names.values())
    notes = []
    for col, name in list(names.items()):
        target = PROVIDER_ALIASES.get(name)
        if target and target not in taken:
            names[col] = target
            taken.add(target)
            notes.append(f"{col!r} read as {target!r}")
    renamed = list(names.values())
    if len(set(renamed)) < len(renamed):
        dup = sorted({n for n in renamed if renamed.count(n) > 1})
        raise ApgeoValueError(f"{source}: column(s) {dup} appear twice (ignoring case and spaces); keep one of each")
    out = frame.rename(columns=names)
    if notes:
        note = "; ".join(notes)
        logger.info("%s: %s", source, note)
        out.attrs["column_aliases"] = note
        if S.SOURCE not in out.columns:
            out[S.SOURCE] = f"{source} ({note})"
    return out



def read_providers(
    data: str | Path | pd.DataFrame,
    *,
    crs: str | None = None,
    lookup: PostcodeLookup | None = None,
    study_area: Any = None,
    allow_far: bool = False,
    strict: bool = False,
) -> gpd.GeoDataFrame:
    """Read a user's provider table (CSV, Excel .xlsx, GeoJSON, GeoPackage or a DataFrame).

    Required columns: ``provider_id`` (the organisation), ``name``, ``kind`` and a
    location: a point geometry, ``easting``/``northing`` (BNG metres),
    ``longitude``/``latitude`` (or ``lon``/``lat``; ``53,38`` with a decimal comma is
    read), or ``postcode``. Optional: ``site_id`` (one address of the provider, unique
    per row; default ``<provider_id>-1``, so a provider with several sites needs it),
    ``key_stages`` (default KS1-KS4), ``capacity_places`` (pupils the site takes at once).

    Headers are compared ignoring case and spaces (``Provider ID``); other spellings
    (``provider``, ``site``, ``places``, ``capacity``, ``type`` ...: :data:`PROVIDER_ALIASES`)
    are accepted with a note in ``source``. Files as Excel saves them are read: title rows
    above the header (the header row is found and named in a warning), UTF-16 "Unicode
    text", Windows-1252, numbers typed with ``£``, spaces or thousands separators.

    Providers that cannot be located are kept with ``located=False`` and a warning
    names their rows (``strict=True`` raises instead).

    A row with coordinates *and* a postcode whose centroid is more than 1 km away gets a
    warning naming the row; the coordinates win (``location_note`` says so).

    Parameters
    ----------
    data
        A file path (``.csv``, ``.xlsx``, ``.geojson``, ``.gpkg``) or a DataFrame.
    crs
        Only checked: ``longitude``/``latitude`` columns are always WGS84 degrees, and a
        ``crs`` other than EPSG:4326 given with them is an error (eastings and northings
        are British National Grid; a file's geometry keeps its own CRS).
    lookup
        Postcode lookup used for rows located by ``postcode`` (default: the committed
        postcode data).
    study_area
        The study's areas or boundary (GeoDataFrame / GeoSeries in any CRS, or a
        shapely geometry in EPSG:27700). A provider more than 50 km from it gets a
        warning, more than 150 km an error naming it (unless ``allow_far=True``):
        London coordinates in a Sheffield study are caught here.
    allow_far
        Keep providers more than 150 km from ``study_area`` (with a warning).
    strict
        Turn warnings (providers not located, far postcodes) into errors.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per site in EPSG:27700 with ``provider_id``, ``site_id``, ``name``,
        ``kind``, ``key_stages``, ``capacity_places``, ``located``, ``location_note``
        and ``source``.
    """
    source = str(data) if not isinstance(data, pd.DataFrame) else "provider table"
    frame: pd.DataFrame
    if isinstance(data, pd.DataFrame):
        frame = data.copy().reset_index(drop=True)
    else:
        p = Path(data)
        if not p.is_file():
            from apgeo._errors import DataFileNotFoundError

            raise DataFileNotFoundError(f"provider file not found: {p}; check the path")
        if p.suffix.lower() in (*TEXT_SUFFIXES, *EXCEL_SUFFIXES, ".xls"):
            frame = read_table(p, what="a provider file", header_columns=HEADER_WORDS)
        else:
            frame = gpd.read_file(p)
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns:
        check_crs(frame, name=source)
    require_rows(frame, source=source)
    frame = provider_columns(frame, source=source)
    require_columns(frame, [S.PROVIDER_ID, S.NAME, S.KIND], source=source)
    frame = rows.drop_total_rows(frame, source=source, strict=strict)
    rows.require_ids(frame, source=source)
    notes = rows.Notes(source)
    frame[S.PROVIDER_ID] = frame[S.PROVIDER_ID].astype(str).str.strip()
    if S.SITE_ID not in frame.columns:
        repeated = frame[S.PROVIDER_ID].duplicated(keep=False)
        if repeated.any():
            raise DuplicateIdError(
                f"{source}: {S.meaning(S.PROVIDER_ID)} repeats at row(s) {row_numbers(frame.index[repeated])} "
                f"({', '.join(sorted(set(frame.loc[repeated, S.PROVIDER_ID]))[:5])}) and there is no "
                f"{S.meaning(S.SITE_ID)} column: add 'site_id' with one value per row when a provider "
                "has several sites, or give each provider its own 'provider_id'"
            )
        frame[S.SITE_ID] = frame[S.PROVIDER_ID] + "-1"
    check_unique(frame, S.SITE_ID, source=source)
    frame[S.KIND] = rows.read_kinds(frame, notes, source=source)
    frame[S.KEY_STAGES], frame["key_stages_source"] = rows.read_key_stage_column(
        frame, notes, source=source, strict=strict
    )
    if S.CAPACITY_PLACES in frame.columns:
        frame[S.CAPACITY_PLACES] = to_numeric(
            rows.read_capacity(frame, notes), column=S.CAPACITY_PLACES, source=source
        )
    if S.URN in frame.columns:
        frame[S.URN] = rows.read_urns(frame, notes, source=source)
    frame[S.SOURCE] = frame.get(S.SOURCE, pd.Series(source, index=frame.index)).fillna(source)
    ids = frame[S.PROVIDER_ID]

    geoms: list[object]
    half = pd.Series(False, index=frame.index)  # rows with one coordinate of two (warned)
    if isinstance(frame, gpd.GeoDataFrame) and frame.geometry.name in frame.columns:
        gdf = frame.to_crs(WORKING_CRS)
        if gdf.geometry.notna().all() and (gdf.geometry.geom_type != "Point").any():
            bad = gdf.loc[gdf.geometry.geom_type != "Point", S.PROVIDER_ID]
            raise ApgeoValueError(f"{source}: provider geometries must be points; not for {', '.join(bad)}")
        check_points_in_england(gdf.geometry.x, gdf.geometry.y, ids=ids, source=source)
        geoms = list(gdf.geometry)
        frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
        frame[S.LOCATION_NOTE] = "geometry in file"
    elif {"easting", "northing"} <= set(frame.columns):
        e = to_numeric(frame["easting"], column="easting", source=source)
        n = to_numeric(frame["northing"], column="northing", source=source)
        if e.dropna().between(-180, 180).all() and n.dropna().between(-90, 90).all() and len(e.dropna()):
            raise ApgeoValueError(
                f"{source}: 'easting'/'northing' hold degrees (e.g. {e.dropna().iloc[0]:g}, "
                f"{n.dropna().iloc[0]:g}); put longitude/latitude in 'longitude'/'latitude' columns"
            )
        ok = e.notna() & n.notna()
        half = rows.warn_half_coordinates(frame, e, n, ("easting", "northing"), source=source, strict=strict)
        rows.check_kilometres(frame, e, n, source=source)
        rows.check_swapped(frame, e, n, source=source, study_area=study_area)
        check_points_in_england(e[ok], n[ok], ids=ids[ok], source=source)
        geoms = [Point(x, y) if good else _empty_point() for x, y, good in zip(e, n, ok)]
        frame[S.LOCATION_NOTE] = np.where(ok, "easting/northing in file", "no coordinates")
    elif {"longitude", "latitude"} <= set(frame.columns) or {"lon", "lat"} <= set(frame.columns):
        xcol, ycol = ("longitude", "latitude") if "longitude" in frame.columns else ("lon", "lat")
        x = to_numeric(frame[xcol], column=xcol, source=source, decimal_comma=True)
        y = to_numeric(frame[ycol], column=ycol, source=source, decimal_comma=True)
        ok = x.notna() & y.notna()
        half = rows.warn_half_coordinates(frame, x, y, (xcol, ycol), source=source, strict=strict)
        if crs is not None and crs not in ("EPSG:4326", "epsg:4326"):
            raise ApgeoValueError(f"{source}: columns {xcol}/{ycol} must be WGS84 degrees, not {crs}")
        check_points_in_england(x[ok], y[ok], ids=ids[ok], source=source, crs="EPSG:4326")
        pts = gpd.GeoSeries.from_xy(x.fillna(0), y.fillna(0), crs="EPSG:4326").to_crs(WORKING_CRS)
        geoms = [g if good else _empty_point() for g, good in zip(pts, ok)]
        frame[S.LOCATION_NOTE] = np.where(ok, f"{xcol}/{ycol} in file (reprojected to EPSG:27700)", "no coordinates")
    elif S.POSTCODE in frame.columns:
        geoms = [_empty_point()] * len(frame)
        frame[S.LOCATION_NOTE] = "no location"
    else:
        raise MissingColumnError(
            f"{source} has no location: give a point geometry, 'easting'/'northing', "
            f"'longitude'/'latitude' or 'postcode'; columns found: {', '.join(map(str, frame.columns))}"
        )
    if S.POSTCODE in frame.columns:
        geoms = _with_postcodes(frame, geoms, lookup=lookup, source=source, strict=strict)
        _check_postcodes_agree(frame, geoms, lookup=lookup, source=source, strict=strict)
    if study_area is not None:
        check_near_area(
            gpd.GeoSeries(geoms, crs=WORKING_CRS), study_area, ids=frame[S.SITE_ID], source=source,
            allow_far=allow_far, strict=strict,
        )
    not_located = np.array([g is None or getattr(g, "is_empty", False) for g in geoms], dtype=bool)
    if S.POSTCODE in frame.columns:  # rows with a postcode were warned about by the geocoder
        not_located &= frame[S.POSTCODE].astype("string").str.strip().fillna("").eq("").to_numpy()
    not_located &= ~half.to_numpy(dtype=bool)
    if not_located.any():
        from apgeo._log import warn

        idx = frame.index[not_located]
        warn(
            f"{source}: {len(idx)} provider(s) have no location at row(s) {row_numbers(idx)} "
            f"({', '.join(frame.loc[idx, S.PROVIDER_ID])}); they are kept with located=False "
            "and left out of travel times",
            strict=strict,
        )
    rows.warn_post16_only(frame, frame[S.KEY_STAGES], source=source, strict=strict)
    notes.emit(strict=strict)
    frame["input_note"] = notes.column(frame.index)
    return _finish(frame, geoms, source=source)


def _with_postcodes(
    frame: pd.DataFrame,
    geoms: list[object],
    *,
    lookup: PostcodeLookup | None,
    source: str,
    strict: bool,
) -> list[object]:
    """Locate by postcode the rows that have no coordinates (a file may mix the two).
    Updates ``frame`` in place (postcode normalised, ``location_note``)."""
    empty = np.array([g is None or getattr(g, "is_empty", False) for g in geoms])
    given = frame[S.POSTCODE].notna() & frame[S.POSTCODE].astype(str).str.strip().ne("")
    if not given.any():
        return geoms
    rows = frame.loc[given.to_numpy() & empty]
    if rows.empty:
        return geoms
    located = geocode_postcodes(rows, postcode_column=S.POSTCODE, lookup=lookup, source=source, strict=strict)
    frame.loc[rows.index, S.POSTCODE] = located["postcode"].fillna(rows[S.POSTCODE])
    out = list(geoms)
    for idx, loc in located.iterrows():
        pos = int(frame.index.get_loc(idx))  # type: ignore[arg-type]
        found = pd.notna(loc["easting"])
        if empty[pos]:
            status = str(loc["postcode_status"])
            if found:
                out[pos] = Point(loc["easting"], loc["northing"])
                where = "national directory" if loc.get("postcode_source") == NATIONAL_SOURCE else status
                frame.loc[[idx], S.LOCATION_NOTE] = f"postcode centroid ({where})"
            else:
                frame.loc[[idx], S.LOCATION_NOTE] = (
                    "invalid postcode: not located" if status == INVALID else "unknown postcode: not located"
                )
    return out


def _check_postcodes_agree(
    frame: pd.DataFrame, geoms: list[object], *, lookup: PostcodeLookup | None, source: str, strict: bool
) -> None:
    """Warn for rows whose coordinates and postcode centroid are more than 1 km apart."""
    import warnings

    from apgeo._errors import ApgeoError, ApgeoWarning
    from apgeo._log import warn

    given = frame[S.POSTCODE].astype("string").str.strip().fillna("")
    has = (given != "").to_numpy() & np.array([not getattr(g, "is_empty", True) for g in geoms])
    if not has.any():
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ApgeoWarning)  # coordinates win: unknown postcodes do not matter
            located = geocode_postcodes(frame[has], postcode_column=S.POSTCODE, lookup=lookup, source=source)
    except ApgeoError:
        return  # no postcode lookup available: nothing to compare against
    idx = frame.index[has]
    e = located["easting"].to_numpy(dtype=float)
    n = located["northing"].to_numpy(dtype=float)
    xy = np.array([(g.x, g.y) for g, h in zip(geoms, has, strict=True) if h])  # type: ignore[attr-defined]
    apart = np.hypot(xy[:, 0] - e, xy[:, 1] - n)
    bad = np.nan_to_num(apart, nan=0.0) > 1000.0
    if not bad.any():
        return
    rows = idx[bad]
    frame.loc[rows, S.LOCATION_NOTE] = frame.loc[rows, S.LOCATION_NOTE] + "; postcode disagrees, coordinates used"
    who = "; ".join(
        f"row {row_numbers([r])} ({i}, {pc}): {d / 1000:.1f} km"
        for r, i, pc, d in zip(rows, frame.loc[rows, S.SITE_ID], given[rows], apart[bad], strict=True)
    )
    warn(
        f"{source}: {int(bad.sum())} row(s) have coordinates more than 1 km from their postcode's centroid "
        f"({who}); the coordinates were used: correct whichever is wrong",
        strict=strict,
        stacklevel=4,
    )


# ------------------------------------------------------------------- combined


def load_sheffield_providers(
    *,
    data_dir: str | Path | None = None,
    include_gias: bool = True,
) -> gpd.GeoDataFrame:
    """All Sheffield providers: the AP settings list plus GIAS PRUs / AP / special / hospital.

    Where a setting is in both, the AP settings list wins (it carries curated kind,
    key stages and places). Nothing is dropped: unlocated providers stay with
    ``located=False``.

    Parameters
    ----------
    data_dir
        Folder of the data extract (default: the settings' ``data_dir``).
    include_gias
        Add the GIAS establishments (PRUs, AP academies and free schools, special and
        hospital schools); ``False``: the settings list only.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per site, as :func:`read_providers` returns.
    """
    ap = load_ap_settings(data_dir=data_dir)
    if not include_gias:
        return ap
    gias = load_gias_providers(data_dir=data_dir)
    gias = gias[~gias[S.URN].isin(set(ap[S.URN]) - {""})]
    combined = pd.concat([ap, gias], ignore_index=True)
    return _finish(pd.DataFrame(combined.drop(columns="geometry")), combined.geometry, source="Sheffield providers")


def split_located(providers: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, pd.DataFrame]:
    """``(located, not_located)``: the second is a plain table for the report.

    Parameters
    ----------
    providers
        Providers with a ``located`` column (as :func:`read_providers` returns).

    Returns
    -------
    tuple
        ``(located, not_located)``: a GeoDataFrame of the sites on the map and a
        DataFrame (no geometry) of the others.
    """
    mask = providers[S.LOCATED].astype(bool)
    return providers[mask].copy(), pd.DataFrame(providers.loc[~mask].drop(columns="geometry"))


def filter_providers(
    providers: gpd.GeoDataFrame,
    *,
    kinds: Iterable[str] | None = None,
    key_stage: str | None = None,
) -> gpd.GeoDataFrame:
    """Providers of the given kinds that serve ``key_stage`` (both optional).

    Parameters
    ----------
    providers
        Providers with ``kind`` and ``key_stages``.
    kinds
        Kinds to keep (``ProviderKind`` values); ``None`` keeps every kind.
    key_stage
        Keep sites whose ``key_stages`` include this one (e.g. ``"KS3"``); ``None``
        keeps all.

    Returns
    -------
    geopandas.GeoDataFrame
        The rows kept, in their original order.
    """
    out = providers
    if kinds is not None:
        wanted = {S.ProviderKind.parse(k).value for k in kinds}
        out = out[out[S.KIND].isin(wanted)]
    if key_stage is not None:
        ks = S.parse_key_stages(key_stage)
        if len(ks) != 1:
            raise ApgeoValueError(f"key_stage must be one key stage such as 'KS3', not {key_stage!r}")
        out = out[out[S.KEY_STAGES].str.split(",").map(lambda v: ks[0] in v)]
    return out.copy()
