"""A study area's landscape: its children, its providers and where they stand.

Stage 1 for one education authority, chosen by name, DfE LA number or ONS code
(:func:`apgeo.inputs.areas.resolve_area`):

* :func:`load_area_inputs` gives the demand areas (LSOA 2011) of the authority. Where the
  study's data folder holds the authority's detailed extract (LSOA polygons, wards, the
  boundary, single-year ages; ``data/sheffield/`` ships one), that is used. Anywhere else
  the committed England extract gives each LSOA as its population-weighted centroid, with
  dependent children aged 0-15 (mid-2015, IoD 2019 File 6) split into key stages by
  :data:`apgeo.inputs.areas.KEY_STAGE_SPLIT_RULE`; no polygons, wards or boundary are
  available offline then, and :attr:`AreaInputs.polygons` says so.
* :func:`load_study_providers` joins the planner's own provider files, the council's
  settings list (where the data folder has one) and GIAS. The planner's rows win over GIAS
  for the same URN (each such row says so in ``source``). Providers outside the authority
  stay in the study (children cross borders) with ``in_area = False``; one far away (more
  than :data:`FAR_KM` from every LSOA of the authority) is an error naming it unless
  ``allow_far=True``, and a file whose coordinates are swapped is caught.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

from apgeo import schema as S
from apgeo._errors import ApgeoValueError, DataFileNotFoundError
from apgeo._log import logger, warn
from apgeo.inputs.areas import (
    EXTRACT_DIR,
    GIAS_EXTRACT_FILE,
    KEY_STAGE_SPLIT_RULE,
    Area,
    area_lsoas,
    load_lsoas_england,
    resolve_area,
    split_children_by_key_stage,
)
from apgeo.inputs.data import data_path, read_manifest
from apgeo.inputs.demand import load_demand, load_la_boundary, load_wards
from apgeo.inputs.providers import (
    _finish,
    load_ap_settings,
    load_gias_providers,
    read_providers,
)
from apgeo.settings import WORKING_CRS

#: Providers farther than this (km) from every LSOA centroid of the study area are an
#: error unless ``allow_far=True``: another region, or coordinates typed wrongly.
FAR_KM = 40.0
#: Distance (m) above which the planner's location and GIAS's for the same URN are
#: reported as different.
SAME_PLACE_M = 250.0
#: The population note of the England extract, quoted by every output that uses it.
ENGLAND_POPULATION_NOTE = (
    "dependent children aged 0-15, mid-2015 (IoD 2019 File 6), by LSOA 2011; " + KEY_STAGE_SPLIT_RULE
)


@dataclass(frozen=True)
class AreaInputs:
    """The demand side of a study area."""

    area: Area
    #: One row per LSOA 2011: ``area_id``, ``pwc_easting``, ``pwc_northing``, children by
    #: key stage, IMD / IDACI deciles; polygons where :attr:`polygons`, else points.
    demand: gpd.GeoDataFrame
    wards: gpd.GeoDataFrame | None
    boundary: gpd.GeoDataFrame | None
    #: True when demand areas are LSOA polygons (the detailed extract), False for points.
    polygons: bool
    population_note: str
    #: The detailed data folder used, or None (the England extract).
    data_dir: Path | None


def detailed_data_dir(area: Area, data_dir: str | Path | None) -> Path | None:
    """``data_dir`` when it holds the detailed extract of ``area`` (its LSOA polygons and
    population files cover the authority's LSOAs), else None.

    Parameters
    ----------
    area
        The authority.
    data_dir
        A candidate data folder (``None`` gives ``None``).

    Returns
    -------
    pathlib.Path or None
        The folder, or ``None``.
    """
    if data_dir is None:
        return None
    folder = Path(data_dir)
    try:
        data_path("lsoa_boundaries", data_dir=folder)
        codes = _folder_lsoa_codes(folder)
    except (DataFileNotFoundError, ApgeoValueError):
        return None
    ours = set(area_lsoas(area)[S.AREA_ID])
    return folder if ours and ours <= set(codes) else None


def _folder_lsoa_codes(data_dir: str | Path) -> pd.Series:
    """The LSOA codes of a detailed data folder (its population-weighted centroid file)."""
    centroids = pd.read_csv(data_path("lsoa_centroids", data_dir=data_dir), dtype=str)
    code = next((c for c in centroids.columns if c.upper().startswith("LSOA") and "CD" in c.upper()), None)
    if code is None:
        raise ApgeoValueError(f"{data_dir}: the LSOA centroid file has no LSOA code column")
    return centroids[code]


def infer_area(data_dir: str | Path) -> Area:
    """The education authority whose LSOAs a detailed data folder holds.

    Parameters
    ----------
    data_dir
        A detailed data folder.

    Returns
    -------
    Area
        The authority holding most of the folder's LSOAs.
    """
    england = load_lsoas_england().set_index("lsoa11cd")["la_code"]
    las = england.reindex(_folder_lsoa_codes(data_dir)).dropna()
    if las.empty:
        raise ApgeoValueError(f"{data_dir}: no English LSOA codes in its LSOA centroid file")
    return resolve_area(str(las.mode().iloc[0]))


def area_demand_points(area: str | int | Area) -> gpd.GeoDataFrame:
    """Demand areas of any English authority from the committed England extract.

    One row per LSOA 2011 with the point geometry of its population-weighted centroid
    (EPSG:27700), ``children_0_15`` (mid-2015), ``children_ks1`` .. ``children_ks4`` by
    :data:`~apgeo.inputs.areas.KEY_STAGE_SPLIT_RULE` (expected values, not whole
    children), ``children_ks5`` NaN (16-17 year olds are not in the source),
    ``children_school_age`` (ages 5-15: 11/16 of 0-15), ``imd_decile``, ``idaci_decile``;
    ``ward_code`` / ``ward_name`` empty (no wards offline).

    Parameters
    ----------
    area
        An authority: LA number, name or :class:`~apgeo.inputs.areas.Area`.

    Returns
    -------
    geopandas.GeoDataFrame
        The demand table described above.
    """
    lsoas = split_children_by_key_stage(area_lsoas(area))
    out = pd.DataFrame(
        {
            S.AREA_ID: lsoas[S.AREA_ID],
            S.AREA_NAME: lsoas[S.AREA_NAME],
            S.WARD_CODE: "",
            S.WARD_NAME: "",
            "pwc_easting": lsoas["easting_m"].astype(float),
            "pwc_northing": lsoas["northing_m"].astype(float),
            S.POPULATION_ALL: np.nan,
            S.CHILDREN_0_15: lsoas[S.CHILDREN_0_15].astype(float),
        }
    )
    for ks in ("KS1", "KS2", "KS3", "KS4"):
        out[S.children_column(ks)] = lsoas[S.children_column(ks)].astype(float)
    out[S.children_column("KS5")] = np.nan
    out["children_school_age"] = out[S.CHILDREN_0_15] * 11.0 / 16.0
    out[S.IMD_RANK] = np.nan
    out[S.IMD_DECILE] = lsoas[S.IMD_DECILE].astype(float)
    out[S.IDACI_RANK] = np.nan
    out[S.IDACI_DECILE] = lsoas[S.IDACI_DECILE].astype(float)
    out["population_source"] = ENGLAND_POPULATION_NOTE
    geometry = gpd.points_from_xy(out["pwc_easting"], out["pwc_northing"])
    return gpd.GeoDataFrame(out, geometry=geometry, crs=WORKING_CRS)


def load_area_inputs(
    area: str | int | Area,
    *,
    data_dir: str | Path | None = None,
    population_source: str = "mid2020",
) -> AreaInputs:
    """The demand areas, wards and boundary of an education authority (see the module).

    Parameters
    ----------
    area
        An authority: LA number, name or :class:`~apgeo.inputs.areas.Area`.
    data_dir
        A detailed data folder; used when it covers the authority's LSOAs, else the
        England extract is read.
    population_source
        ``"mid2020"`` or ``"census2021"`` (the latter needs the detailed extract).

    Returns
    -------
    AreaInputs
        The demand areas (polygons from a detailed folder, else centroid points), wards and
        boundary (``None`` from the England extract), and where they came from.
    """
    a = resolve_area(area)
    folder = detailed_data_dir(a, data_dir)
    if folder is not None:
        demand = load_demand(data_dir=folder, population_source=population_source)  # type: ignore[arg-type]
        return AreaInputs(
            area=a,
            demand=demand,
            wards=load_wards(data_dir=folder),
            boundary=load_la_boundary(data_dir=folder),
            polygons=True,
            population_note=str(demand["population_source"].iloc[0]),
            data_dir=folder,
        )
    if population_source != "mid2020":
        raise ApgeoValueError(
            f"population_source={population_source!r} needs the detailed extract of {a.name}; "
            "the England extract has mid-2015 children aged 0-15 only: leave population_source "
            "at its default"
        )
    logger.info("%s: demand from the England extract (LSOA centroids, no polygons offline)", a)
    demand = area_demand_points(a)
    return AreaInputs(
        area=a,
        demand=demand,
        wards=None,
        boundary=approximate_extent(demand, a),
        polygons=False,
        population_note=ENGLAND_POPULATION_NOTE,
        data_dir=None,
    )


#: What the approximate extent of an authority without an offline boundary is.
APPROXIMATE_EXTENT_NOTE = (
    "approximate extent: the convex hull of the LSOA population-weighted centroids plus "
    "{buffer_m:,.0f} m (no boundary polygon offline; `apgeo fetch` needs the internet)"
)


def approximate_extent(demand: gpd.GeoDataFrame, area: Area, *, buffer_m: float = 1_000.0) -> gpd.GeoDataFrame:
    """A stand-in for an authority's boundary when no polygon is available offline: the
    convex hull of its LSOA centroids buffered by ``buffer_m`` (labelled as such).

    Parameters
    ----------
    demand
        The authority's demand areas with ``pwc_easting`` and ``pwc_northing``.
    area
        The authority.
    buffer_m
        Buffer in metres.

    Returns
    -------
    geopandas.GeoDataFrame
        One polygon (EPSG:27700) with ``name`` and ``note``.
    """
    hull = gpd.GeoSeries(
        gpd.points_from_xy(demand["pwc_easting"], demand["pwc_northing"]), crs=WORKING_CRS
    ).union_all().convex_hull.buffer(buffer_m)
    return gpd.GeoDataFrame(
        {"name": [area.name], "note": [APPROXIMATE_EXTENT_NOTE.format(buffer_m=buffer_m)]},
        geometry=[hull],
        crs=WORKING_CRS,
    )


def data_manifest(data_dir: str | Path | None) -> pd.DataFrame:
    """The manifest of the data a study read: its detailed folder, else the England extract.

    Parameters
    ----------
    data_dir
        The study's detailed data folder (``None``: the England extract).

    Returns
    -------
    pandas.DataFrame
        The manifest (see :func:`apgeo.inputs.data.read_manifest`).
    """
    return read_manifest(data_dir if data_dir is not None else EXTRACT_DIR)


def area_caveats(data_dir: str | Path | None) -> list[str]:
    """Caveats that belong to an area's own data (``caveats.md`` in its data folder: one
    ``- `` bullet each), e.g. which sites open data misses.

    Parameters
    ----------
    data_dir
        The area's data folder (``None``: no caveats).

    Returns
    -------
    list of str
        One caveat per bullet (continuation lines joined), empty without the file.
    """
    if data_dir is None:
        return []
    path = Path(data_dir) / "caveats.md"
    if not path.is_file():
        return []
    items: list[str] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("- "):
            items.append(line[2:].strip())
        elif line.startswith("  ") and items:
            items[-1] += " " + line.strip()
    return items


# ---------------------------------------------------------------------- providers


def _names(frame: pd.DataFrame, mask: np.ndarray | pd.Series) -> str:
    rows = frame.loc[np.asarray(mask)]
    shown = [f"{n} ({i})" for n, i in zip(rows[S.NAME], rows[S.SITE_ID])][:10]
    more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
    return "; ".join(shown) + more


def _check_swapped(frame: gpd.GeoDataFrame, centre: np.ndarray, source: str) -> None:
    """Raise when a file's points are far from the area but their swapped coordinates
    (northing, easting) fall inside it: easting and northing were exchanged."""
    pts = frame[frame.geometry.map(lambda g: g is not None and not g.is_empty).astype(bool)]
    if pts.empty:
        return
    xy = np.column_stack([pts.geometry.x, pts.geometry.y])
    tree = cKDTree(centre)
    d, _ = tree.query(xy)
    d_swapped, _ = tree.query(xy[:, ::-1])
    swapped = (d > FAR_KM * 1000) & (d_swapped < 10_000)
    if swapped.any():
        raise ApgeoValueError(
            f"{source}: easting and northing look swapped for {int(swapped.sum())} provider(s) "
            f"({_names(pts, swapped)}): exchanged, they fall inside the study area; put the "
            "east-west coordinate in 'easting' and the north-south one in 'northing'"
        )


def _check_urns(frame: gpd.GeoDataFrame, source: str) -> None:
    """Warn for URNs that are not among England's open establishments in GIAS."""
    from apgeo.inputs.areas import load_gias_england

    urn = frame[S.URN].astype("string").fillna("").str.strip().str.replace(r"\.0$", "", regex=True)
    given = urn.ne("")
    if not given.any():
        return
    known = set(load_gias_england()["urn"].astype(str))
    unknown = given & ~urn.isin(known)
    if unknown.any():
        who = ", ".join(f"{u} ({s})" for u, s in zip(urn[unknown], frame.loc[unknown, S.SITE_ID]))
        warn(
            f"{source}: {int(unknown.sum())} URN(s) are not among England's open establishments in GIAS "
            f"(24 May 2025 extract): {who}; closed, not yet open or mistyped: check them. The rows are "
            "kept as given and replace no GIAS row"
        )


def _gias(area: Area, folder: Path | None, border_km: float, centre: np.ndarray) -> gpd.GeoDataFrame:
    """GIAS providers of the authority (and of neighbours within ``border_km``)."""
    if folder is not None:
        own = load_gias_providers(data_dir=folder, la_codes=[area.la_code, *area.ons_codes])
    else:
        own = load_gias_providers(EXTRACT_DIR / GIAS_EXTRACT_FILE, la_codes=[area.la_code])
    if border_km <= 0:
        return own
    everyone = load_gias_providers(EXTRACT_DIR / GIAS_EXTRACT_FILE, la_codes=_all_la_codes())
    everyone = everyone[~everyone[S.URN].isin(set(own[S.URN]))]
    everyone = everyone[~everyone.geometry.is_empty]
    d, _ = cKDTree(centre).query(np.column_stack([everyone.geometry.x, everyone.geometry.y]))
    near = everyone[d <= border_km * 1000]
    combined = pd.concat([own, near], ignore_index=True)
    return _finish(pd.DataFrame(combined.drop(columns="geometry")), combined.geometry, source="GIAS")


def _all_la_codes() -> list[str]:
    return sorted(load_lsoas_england()["la_code"].unique())


def load_study_providers(
    inputs: AreaInputs,
    *,
    files: tuple[str | Path, ...] | list[str | Path] = (),
    tables: Sequence[gpd.GeoDataFrame] = (),
    include_gias: bool = True,
    include_settings_list: bool | None = None,
    allow_far: bool = False,
    gias_border_km: float = 0.0,
    ap_kinds: Sequence[str] | None = None,
    key_stages: Sequence[str] = S.COMPULSORY_KEY_STAGES,
    nearest_beyond_border: bool | None = None,
    strict: bool = False,
) -> gpd.GeoDataFrame:
    """Every provider of the study: the planner's files, the settings list and GIAS.

    Parameters
    ----------
    inputs
        The study area (:func:`load_area_inputs`).
    files
        The planner's own provider files (CSV / Excel-saved CSV / GeoJSON / GeoPackage,
        see :func:`apgeo.inputs.providers.read_providers`): postcode or coordinates,
        ``kind``, ``key_stages``, ``capacity_places`` and, for a provider with several
        sites, one row per site with the same ``provider_id`` and its own ``site_id``. An
        optional ``urn`` column links a row to GIAS: then the planner's row replaces the
        GIAS one.
    tables
        Provider tables already read (from PostGIS,
        :func:`apgeo.inputs.postgis.read_providers_postgis`), checked as the files are;
        each named by its ``source`` column.
    include_gias
        Add the authority's PRUs, AP academies and free schools, special and hospital
        schools from GIAS.
    include_settings_list
        Add the council's curated settings list where the data folder has one (default:
        when it does).
    allow_far
        Keep providers more than :data:`FAR_KM` from the authority's LSOAs (else an error
        naming them).
    gias_border_km
        Also add GIAS providers of neighbouring authorities within this distance (km) of
        the authority's LSOAs (0: none).
    ap_kinds, key_stages
        The kinds counted as AP (default :data:`apgeo.schema.AP_KINDS`) and the key stages
        studied, for ``nearest_beyond_border``.
    nearest_beyond_border
        Add, for every LSOA of the authority and every key stage, the nearest AP setting
        in GIAS beyond the border (crow-fly), each named in a warning. ``None`` (default):
        only when GIAS is included and the authority has no AP setting of its own
        (Rutland, say), which is a normal case: its children are placed in neighbours'
        settings.

    Returns
    -------
    geopandas.GeoDataFrame
        The provider schema plus ``in_area`` (the site lies in the authority: its nearest
        English LSOA centroid belongs to it) and ``nearest_authority``.
    """
    area = inputs.area
    centre = np.column_stack([inputs.demand["pwc_easting"], inputs.demand["pwc_northing"]]).astype(float)
    parts: list[gpd.GeoDataFrame] = []
    planner_urns: dict[str, str] = {}
    own_tables = [(str(f), read_providers(f, strict=strict)) for f in files]
    for table in tables:
        name = str(table[S.SOURCE].iloc[0]) if S.SOURCE in table.columns and len(table) else "provider table"
        own_tables.append((name, read_providers(table, strict=strict)))
    for f, own in own_tables:
        _check_swapped(own, centre, str(f))
        if len(own) and not own[S.LOCATED].any():
            raise ApgeoValueError(
                f"{f}: none of its {len(own)} provider(s) could be located (see the warnings "
                "above for each row); give a valid postcode or coordinates for each"
            )
        parts.append(own)
        if S.URN in own.columns:
            for urn in own[S.URN].dropna().astype(str).str.replace(r"\.0$", "", regex=True):
                if urn.strip():
                    planner_urns[urn.strip()] = str(f)
            _check_urns(own, str(f))
    planner = pd.concat(parts, ignore_index=True) if parts else None
    if planner is not None and planner[S.SITE_ID].duplicated().any():
        dup = sorted(set(planner.loc[planner[S.SITE_ID].duplicated(), S.SITE_ID]))
        raise ApgeoValueError(
            f"site_id {', '.join(dup[:10])} appears in more than one provider file; each site "
            "(provider_id = the organisation, site_id = one of its places) needs its own site_id"
        )

    settings_list: gpd.GeoDataFrame | None = None
    folder = inputs.data_dir
    if include_settings_list is None:
        include_settings_list = folder is not None and _has(folder, "ap_settings")
    if include_settings_list:
        if folder is None or not _has(folder, "ap_settings"):
            raise ApgeoValueError(
                f"include_settings_list = true, but there is no settings list for {area.name}; "
                "give the council's providers as [providers] files instead"
            )
        settings_list = load_ap_settings(data_dir=folder)

    gias = _gias(area, folder, gias_border_km, centre) if include_gias else None
    frames: list[gpd.GeoDataFrame] = []
    if planner is not None:
        frames.append(planner)
    if settings_list is not None:
        if planner is not None:
            settings_list = settings_list[~settings_list[S.URN].astype(str).isin(planner_urns)]
        frames.append(settings_list)
    if gias is not None:
        taken = set(planner_urns)
        if settings_list is not None:
            taken |= set(settings_list[S.URN].astype(str)) - {""}
        if planner is not None and planner_urns:
            planner = _replace_gias(planner, gias, planner_urns)
            frames[0] = planner
        frames.append(gias[~gias[S.URN].astype(str).isin(taken)])
    if not frames:
        raise ApgeoValueError(
            "no providers: give [providers] files, or set include_gias = true"
        )
    combined = pd.concat(frames, ignore_index=True)
    out = _finish(pd.DataFrame(combined.drop(columns="geometry")), combined.geometry, source="study providers")
    out = _flag_area(out, area, centre, allow_far=allow_far)
    kinds = tuple(ap_kinds) if ap_kinds is not None else S.AP_KIND_NAMES
    own_ap = out["in_area"].to_numpy(dtype=bool) & out[S.KIND].isin(kinds).to_numpy()
    if nearest_beyond_border or (nearest_beyond_border is None and include_gias and not own_ap.any()):
        out = _add_nearest_beyond_border(out, area, centre, kinds=kinds, key_stages=key_stages)
    return out


def _add_nearest_beyond_border(
    providers: gpd.GeoDataFrame,
    area: Area,
    centre: np.ndarray,
    *,
    kinds: Sequence[str],
    key_stages: Sequence[str],
) -> gpd.GeoDataFrame:
    """``providers`` plus, for every LSOA and key stage, its nearest AP setting in GIAS
    beyond the border (crow-fly), with a warning naming them."""
    everyone = load_gias_providers(EXTRACT_DIR / GIAS_EXTRACT_FILE, la_codes=_all_la_codes())
    everyone = everyone[~everyone.geometry.is_empty & everyone[S.KIND].isin(kinds)]
    everyone = everyone[~everyone[S.URN].astype(str).isin(set(providers[S.URN].astype(str)) - {""})]
    if not len(everyone):
        return providers
    flagged = _flag_area(everyone.reset_index(drop=True), area, centre, allow_far=True)
    beyond = flagged[~flagged["in_area"].to_numpy(dtype=bool)].reset_index(drop=True)
    xy = np.column_stack([beyond.geometry.x, beyond.geometry.y])
    serves = [set(S.parse_key_stages(v)) for v in beyond[S.KEY_STAGES]]
    chosen: set[int] = set()
    for ks in key_stages:
        rows = np.array([i for i, stages in enumerate(serves) if ks in stages or not stages])
        if not len(rows):
            continue
        _, nearest = cKDTree(xy[rows]).query(centre)
        chosen.update(int(rows[j]) for j in np.atleast_1d(nearest))
    if not chosen:
        return providers
    added = beyond.iloc[sorted(chosen)].copy()
    added[S.SOURCE] = added[S.SOURCE].astype(str) + f" ({BEYOND_BORDER_SOURCE} {area.name}'s border)"
    distance_km = cKDTree(centre).query(np.column_stack([added.geometry.x, added.geometry.y]))[0] / 1000
    listing = "; ".join(
        f"{n} ({la}, {d:,.1f} km from the nearest area)"
        for n, la, d in zip(added[S.NAME], added["nearest_authority"], distance_km)
    )
    warn(
        f"{area.name} has no AP setting of its own counted as AP ({', '.join(kinds)}); the "
        f"study uses the nearest {len(added)} beyond its border (each area's nearest for "
        f"{', '.join(key_stages)}): {listing}. Give the settings its children really attend "
        "as [providers] files, or set nearest_beyond_border = false",
        stacklevel=3,
    )
    return pd.concat([providers, added], ignore_index=True)  # type: ignore[return-value]


def _has(folder: Path, name: str) -> bool:
    try:
        data_path(name, data_dir=folder)
    except DataFileNotFoundError:
        return False
    return True


def _replace_gias(planner: gpd.GeoDataFrame, gias: gpd.GeoDataFrame, urns: dict[str, str]) -> gpd.GeoDataFrame:
    """Note on each planner row that replaces a GIAS row, and warn where the two places
    differ by more than :data:`SAME_PLACE_M`."""
    planner = planner.copy()
    g = gias.set_index(gias[S.URN].astype(str))
    moved = []
    for i, row in planner.iterrows():
        urn = str(row.get(S.URN, "") or "").replace(".0", "").strip()
        if urn not in g.index:
            continue
        planner.loc[i, S.SOURCE] = f"{row[S.SOURCE]} (replaces GIAS URN {urn})"
        gp = g.loc[urn].geometry
        if isinstance(gp, gpd.GeoSeries):
            gp = gp.iloc[0]
        pp = row.geometry
        if pp is not None and not pp.is_empty and gp is not None and not gp.is_empty:
            d = float(pp.distance(gp))
            if d > SAME_PLACE_M:
                moved.append(f"{row[S.NAME]} (URN {urn}): {d:,.0f} m from GIAS's location")
    if moved:
        warn(
            f"{len(moved)} provider(s) in the planner's file are also in GIAS at a different "
            f"place: {'; '.join(moved[:10])}. The planner's location is used; check the address "
            "if the site has not moved"
        )
    return planner


#: What the ``source`` of a setting added by ``nearest_beyond_border`` says (the report finds
#: those settings by it).
BEYOND_BORDER_SOURCE = "nearest AP beyond"

#: A point farther than this (m) from every English LSOA centroid is outside England.
OUTSIDE_ENGLAND_M = 15_000.0


def _where(out: gpd.GeoDataFrame, mask: np.ndarray, nearest_la: np.ndarray, d_england: np.ndarray) -> list[str]:
    """Where each flagged provider is: "in Scotland (postcode EH1 1YZ): outside England",
    "outside England", or "near <the nearest English authority>"."""
    from apgeo.inputs.geocode import postcode_country

    postcodes = out.loc[mask, S.POSTCODE].astype("string").fillna("") if S.POSTCODE in out.columns else None
    country = postcode_country(postcodes) if postcodes is not None else pd.Series("", index=out.index[mask])
    shown = []
    for pc, c, la, d in zip(
        postcodes if postcodes is not None else [""] * int(mask.sum()), country, nearest_la[mask], d_england[mask]
    ):
        if c and c != "England":
            shown.append(f"in {c} (postcode {pc}), outside England: apgeo's data (GIAS, IMD, LSOAs) cover England only")
        elif d > OUTSIDE_ENGLAND_M:
            shown.append(f"outside England ({d / 1000:,.0f} km from the nearest English area)")
        else:
            shown.append(f"near {la}")
    return shown


def _flag_area(
    providers: gpd.GeoDataFrame, area: Area, centre: np.ndarray, *, allow_far: bool
) -> gpd.GeoDataFrame:
    out = providers.copy()
    located = out.geometry.map(lambda g: g is not None and not g.is_empty).astype(bool)
    england = load_lsoas_england()
    tree = cKDTree(england[["easting_m", "northing_m"]].to_numpy(dtype=float))
    xy = np.column_stack([out.geometry.x.where(located, 0.0), out.geometry.y.where(located, 0.0)])
    d_england, idx = tree.query(xy)
    nearest_la = england["la_name"].to_numpy()[idx]
    nearest_code = england["la_code"].to_numpy()[idx]
    out["in_area"] = np.where(located, nearest_code == area.la_code, False)
    out["nearest_authority"] = np.where(located, nearest_la, "")
    d_area, _ = cKDTree(centre).query(xy)
    far = located.to_numpy() & (d_area > FAR_KM * 1000)
    if far.any():
        where = _where(out, far, nearest_la, d_england)
        detail = "; ".join(
            f"{n} ({s}) {d / 1000:,.0f} km away, {w}"
            for n, s, d, w in zip(out.loc[far, S.NAME], out.loc[far, S.SITE_ID], d_area[far], where)
        )
        if not allow_far:
            raise ApgeoValueError(
                f"{int(far.sum())} provider(s) lie more than {FAR_KM:g} km from {area.name}: "
                f"{detail}. Check their coordinates or postcode; if they really serve "
                f"{area.name}'s children, set allow_far = true in [providers]"
            )
        warn(f"{int(far.sum())} provider(s) far from {area.name} are kept (allow_far): {detail}")
    outside = located.to_numpy() & ~out["in_area"].to_numpy(dtype=bool) & ~far
    if outside.any():
        logger.info(
            "%d provider(s) outside %s are kept (children cross borders): %s",
            int(outside.sum()), area.name, _names(out, outside),
        )
    return out


__all__ = [
    "APPROXIMATE_EXTENT_NOTE",
    "BEYOND_BORDER_SOURCE",
    "ENGLAND_POPULATION_NOTE",
    "FAR_KM",
    "AreaInputs",
    "approximate_extent",
    "area_caveats",
    "area_demand_points",
    "data_manifest",
    "detailed_data_dir",
    "infer_area",
    "load_area_inputs",
    "load_study_providers",
]
