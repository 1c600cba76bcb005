r"""Interactive study maps (folium / Leaflet) for planners.

This is the only apgeo module that imports folium and the only one that reprojects to
EPSG:4326 (longitude/latitude) for display. Everything is computed elsewhere in
EPSG:27700; here geometries are simplified *in metres* (British National Grid), then
reprojected and their coordinates rounded, so a city map stays small.

Privacy: :func:`study_map` takes only area-level tables (LSOAs, wards, catchments) and
provider sites. Never pass pupil-level data (home addresses, pupil records) to it; any
counts shown should already be aggregated (and suppressed where needed, see
:mod:`apgeo.privacy`).

"Cold spot" means three things (FIELD-NOTES item 12) and every layer says which:

* *Access cold spots (far from suitable provision)*: apgeo's travel-time measure;
* *Gi\* clusters of travel time (statistical)*: Getis-Ord Gi\* clusters, where a "cold"
  cluster is a group of areas *near* provision;
* neither is the Centre for Social Justice (2020) quality "cold spot" ranking of whole
  local authorities, which this map does not show.

All text that comes from data (names, reasons, notes) is HTML-escaped before it reaches
the page, including ``$`` and backticks, which folium places inside JavaScript template
literals.

Leaflet, jQuery and the fullscreen plugin ship with apgeo (``apgeo/outputs/assets``, with
their licences) and :func:`save_map` writes them into the page, so a map opens without the
internet. Only the basemap tiles (OpenStreetMap) need it; without them the layers draw on a
blank background.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import cast

import folium
import folium.plugins
import geopandas as gpd
from branca.element import Element, Figure

from apgeo._errors import ApgeoValueError
from apgeo.outputs.map_layers import (
    _COORD_DECIMALS,
    DISPLAY_CRS,
    GI_LABEL,
    NEWLY_REACHED_CHILDREN,
    RANK,
    REASON,
    SITE_NAME,
    THRESHOLD_MIN,
    WHY,
    _add_areas,
    _add_boundary,
    _add_catchments,
    _add_coldspots,
    _add_gi,
    _add_providers,
    _add_recommendations,
    _add_wards,
    _check_gdf,
    _esc,
    _SafeFullscreen,
    _spread_markers,
)
from apgeo.schema import (
    AREA_ID,
    KEY_STAGES,
    KIND,
    LOCATED,
    MODE,
    NAME,
    PROVIDER_ID,
    WARD_NAME,
)

# ---- the map -----------------------------------------------------------------------------


def study_map(
    *,
    providers: gpd.GeoDataFrame,
    areas: gpd.GeoDataFrame | None = None,
    area_value_column: str | None = None,
    area_value_label: str | None = None,
    wards: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    catchments: gpd.GeoDataFrame | None = None,
    coldspots: gpd.GeoDataFrame | None = None,
    clusters: gpd.GeoDataFrame | None = None,
    recommendations: gpd.GeoDataFrame | None = None,
    title: str,
    method_note: str,
    not_located: Sequence[str] | None = None,
    area_bins: Sequence[float] | None = None,
    simplify_tolerance_m: float = 20.0,
    tiles: str | None = "OpenStreetMap",
    extra_layers: Sequence[folium.FeatureGroup] = (),
    unreachable_within_min: float | None = None,
) -> folium.Map:
    """Build the interactive study map: one toggleable layer per theme.

    Only area-level tables and provider sites go on the map; never pass pupil-level data.

    Parameters
    ----------
    providers
        Provider sites: ``provider_id``, ``name``, ``kind``, ``key_stages``; optional
        ``capacity_places`` (shown as "unknown" when missing), ``urn`` (adds a GIAS link) and
        ``located``. Rows with ``located`` False or an empty geometry are not drawn and are
        listed in the "not located" note.
    areas
        Demand areas (polygons) with ``area_id``; optional ``area_name``, ``ward_name``.
    area_value_column
        Column of ``areas`` to colour by. A name ending in ``_s`` is taken as seconds and
        shown in minutes. NaN (or inf) is drawn grey and labelled "not reachable within N
        min" (``unreachable_within_min``) in the legend and tooltips.
    area_value_label
        Legend and layer title of the choropleth (with its unit).
    wards
        Ward polygons with ``ward_name``.
    boundary
        Local authority boundary polygon(s).
    catchments
        Catchment polygons with ``provider_id``, ``mode``, ``threshold_min``: one layer per
        (mode, threshold), only the first shown at start. For display only.
    coldspots
        Access cold spots (area polygons) with ``reason``.
    clusters
        Gi* results (area polygons) with ``gi_label``; only significant areas are drawn.
    recommendations
        Recommended sites (points) with ``rank``, ``site_name``, ``newly_reached_children``, ``why``.
    title
        Title shown in the title box.
    method_note
        How travel times were obtained, shown prominently under the title (e.g. "STRAIGHT-LINE
        ESTIMATE (crow-fly distance x 1.3 at mode speed), not a street network").
    extra_layers
        More layers (e.g. :func:`apgeo.outputs.transit_layer.transit_layer`), listed in the
        layer control; provider sites are always drawn above them.
    unreachable_within_min
        The journey limit of the travel times (minutes), e.g. 120 for public transport:
        grey areas are "not reachable within 120 min". ``None``: the times have no limit,
        so no time means no route.
    not_located
        Names to list as "not located". ``None`` lists the providers skipped for having no
        location; an empty list shows no note.
    area_bins
        Class edges of the choropleth in display units (minutes for ``*_s`` columns). Default:
        0, 5, 10, 15, 20, 30, 45, 60, inf minutes for times; quintiles otherwise.
    simplify_tolerance_m
        Simplification tolerance in metres (EPSG:27700) for polygons; 0 keeps every vertex.
    tiles
        Basemap name passed to :class:`folium.Map`; ``None`` for no basemap.

    Returns
    -------
    folium.Map
        Save it with :func:`save_map`.

    Raises
    ------
    MissingColumnError
        A table lacks a column listed above (the message names it).
    CRSError
        A GeoDataFrame has no CRS.
    ApgeoValueError
        ``area_value_column`` without ``areas``, an empty title, or bad bins.
    """
    if not str(title).strip():
        raise ApgeoValueError("title is empty; give the map a title saying what it shows")
    if not str(method_note).strip():
        raise ApgeoValueError(
            "method_note is empty; say how travel times were obtained, e.g. "
            "'STRAIGHT-LINE ESTIMATE (crow-fly distance x 1.3 at mode speed)'"
        )
    if simplify_tolerance_m < 0 or not math.isfinite(simplify_tolerance_m):
        raise ApgeoValueError(
            f"simplify_tolerance_m must be a finite number >= 0 (metres), got {simplify_tolerance_m!r}"
        )
    # ---- check everything before any work
    _check_gdf(providers, name="providers", columns=[PROVIDER_ID, NAME, KIND, KEY_STAGES])
    if area_value_column is not None and areas is None:
        raise ApgeoValueError(
            f"area_value_column={area_value_column!r} was given without areas; pass areas=..."
        )
    if areas is not None:
        cols = [AREA_ID] + ([area_value_column] if area_value_column else [])
        _check_gdf(areas, name="areas", columns=cols)
    if wards is not None:
        _check_gdf(wards, name="wards", columns=[WARD_NAME])
    if boundary is not None:
        _check_gdf(boundary, name="boundary", columns=[])
    if catchments is not None:
        _check_gdf(catchments, name="catchments", columns=[PROVIDER_ID, MODE, THRESHOLD_MIN])
    if coldspots is not None:
        _check_gdf(coldspots, name="coldspots", columns=[REASON])
    if clusters is not None:
        _check_gdf(clusters, name="clusters", columns=[GI_LABEL])
    if recommendations is not None:
        _check_gdf(
            recommendations,
            name="recommendations",
            columns=[RANK, SITE_NAME, NEWLY_REACHED_CHILDREN, WHY],
        )

    # ---- which providers can be drawn
    missing_geom = providers.geometry.isna() | providers.geometry.is_empty
    if LOCATED in providers.columns:
        missing_geom = missing_geom | ~providers[LOCATED].fillna(False).astype(bool)
    located = providers[~missing_geom]
    if not_located is None:
        not_located = [str(n) for n in providers.loc[missing_geom, NAME]]

    # ---- the map
    extent_source = next((g for g in (boundary, areas, wards) if g is not None and len(g)), located)
    m = use_bundled_libraries(folium.Map(tiles=tiles, control_scale=True, prefer_canvas=False))
    if len(extent_source):
        xmin, ymin, xmax, ymax = extent_source.to_crs(DISPLAY_CRS).total_bounds
        if all(map(math.isfinite, (xmin, ymin, xmax, ymax))):
            m.fit_bounds(
                [
                    [round(float(v), _COORD_DECIMALS) for v in corner]
                    for corner in ((ymin, xmin), (ymax, xmax))
                ]
            )

    legend: list[str] = []
    if areas is not None:
        legend += _add_areas(
            m,
            areas,
            value_column=area_value_column,
            value_label=area_value_label,
            bins=area_bins,
            tolerance_m=simplify_tolerance_m,
            unreachable_within_min=unreachable_within_min,
        )
    if catchments is not None:
        names = {str(p): str(n) for p, n in zip(providers[PROVIDER_ID], providers[NAME])}
        legend += _add_catchments(
            m, catchments, provider_names=names, tolerance_m=simplify_tolerance_m
        )
    if coldspots is not None:
        legend += _add_coldspots(m, coldspots, tolerance_m=simplify_tolerance_m)
    if clusters is not None:
        legend += _add_gi(m, clusters, tolerance_m=simplify_tolerance_m)
    if wards is not None:
        legend += _add_wards(m, wards, tolerance_m=simplify_tolerance_m)
    if boundary is not None:
        _add_boundary(m, boundary, tolerance_m=simplify_tolerance_m)
    for layer in extra_layers:
        layer.add_to(m)
    markers: list[tuple[object, float, float]] = []
    provider_rows = _add_providers(m, located, markers=markers)
    if recommendations is not None:
        legend += _add_recommendations(m, recommendations, markers=markers)
    spread = _spread_markers(m, markers)
    legend = [
        "<b>Providers</b> (filled: AP; ring: AP-adjacent"
        + ("; sites close together are drawn side by side until you zoom in)" if spread else ")"),
        *provider_rows,
        *legend,
    ]

    # collapsed: open, it covers a laptop screen's right third; hover or tap to open it
    folium.LayerControl(collapsed=True, position="topright").add_to(m)
    root = cast(Figure, m.get_root())
    root.header.add_child(Element(f"<title>{_esc(title)}</title>"), name="apgeo_title")
    root.header.add_child(Element(_LAYERS_BUTTON_CSS), name="apgeo_layers_button")
    root.html.add_child(Element(_title_box(title, method_note, not_located)))
    root.html.add_child(Element(_legend_box(legend)))
    # last, so a missing fullscreen plugin cannot stop the layers above from drawing
    _SafeFullscreen(position="topleft").add_to(m)
    return m


def _title_box(title: str, method_note: str, not_located: Sequence[str]) -> str:
    note = ""
    if not_located:
        names = ", ".join(_esc(n) for n in not_located)
        note = (
            f'<div style="margin-top:4px;font-size:11px"><b>Not located ({len(not_located)}), '
            f"not on the map:</b> {names}</div>"
        )
    body = (
        '<div id="apgeo-method-note" style="margin-top:4px;padding:4px 6px;background:#fff3cd;'
        f'border-left:4px solid #e0a800;font-weight:bold">{_esc(method_note)}</div>'
        '<div style="margin-top:4px;font-size:11px">"Cold spot" means three things: '
        "<i>access cold spot</i> = far from suitable provision (travel times); "
        "<i>Gi* cluster</i> = statistical cluster of long/short travel times; "
        "the Centre for Social Justice's quality ranking of local authorities is not shown.</div>"
        f"{note}"
    )
    return title_box(title, body)


def title_box(title: str, body_html: str) -> str:
    """The map's title box: the title, then ``body_html`` (already escaped); a click on
    the title folds the box away (and back), so it need not hide the map beneath it.

    Parameters
    ----------
    title
        Plain text; escaped here.
    body_html
        HTML shown under the title while the box is open.

    Returns
    -------
    str
        An HTML ``<details>`` element fixed at the top left of the page.
    """
    return (
        '<details id="apgeo-title" open style="position:fixed;top:10px;left:54px;z-index:1000;'
        "max-width:420px;background:rgba(255,255,255,0.95);padding:6px 10px;border:1px solid #888;"
        'border-radius:4px;font:13px/1.35 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)">'
        '<summary title="Click to fold the title box away or open it" '
        f'style="font-size:15px;font-weight:bold;cursor:pointer">{_esc(title)}</summary>'
        f"{body_html}</details>"
    )


#: The collapsed layer control says what it is: its icon alone is easy to miss, and
#: Leaflet's icon is an image file beside leaflet.css that a map saved with local copies
#: of Leaflet does not have, so the icon is drawn inline.
_LAYERS_ICON = (
    "data:image/svg+xml;utf8,<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 24 24'>"
    "<path d='M12 3 2 8l10 5 10-5z' fill='%23555'/><path d='M2 12l10 5 10-5M2 16l10 5 10-5' "
    "fill='none' stroke='%23555' stroke-width='1.6'/></svg>"
)
_LAYERS_BUTTON_CSS = (
    "<style>a.leaflet-control-layers-toggle{width:auto!important;height:auto!important;"
    f'padding:8px 10px 8px 36px;background-image:url("{_LAYERS_ICON}")!important;'
    "background-position:8px center;background-size:22px;"
    "font:bold 13px/1.2 sans-serif;color:#333;text-decoration:none}"
    'a.leaflet-control-layers-toggle::after{content:"Layers"}</style>'
)


#: Legends longer than this many rows are laid out in two columns, so they fit a
#: 1366 x 768 laptop screen under the title box without scrolling.
LEGEND_ONE_COLUMN_ROWS = 14


def _legend_box(rows: Sequence[str]) -> str:
    body = "".join(f'<div style="break-inside:avoid">{r}</div>' for r in rows)
    two = len(rows) > LEGEND_ONE_COLUMN_ROWS
    width = "max-width:600px;column-count:2;column-gap:14px;" if two else "max-width:320px;"
    # folds away with a click on "Legend"; scrolls inside only on screens smaller than a
    # 1366 x 768 laptop
    return (
        '<details id="apgeo-legend" open style="position:fixed;bottom:52px;left:10px;z-index:1000;'
        f"{width}max-height:calc(100vh - 330px);overflow-y:auto;background:rgba(255,255,255,0.95);"
        "padding:4px 8px;border:1px solid #888;border-radius:4px;font:11px/1.3 sans-serif;"
        'box-shadow:0 1px 4px rgba(0,0,0,.3)"><summary style="font-weight:bold;cursor:pointer;'
        f'column-span:all">Legend</summary>{body}</details>'
    )


# ---- saving ------------------------------------------------------------------------------

#: The JavaScript and CSS files apgeo ships (``apgeo/outputs/assets``, licences in its
#: ``LICENSES.md``), keyed by the file name of the CDN link folium writes for them.
ASSETS_DIR = Path(__file__).resolve().parent / "assets"
BUNDLED_ASSETS: dict[str, str] = {
    "leaflet.js": "leaflet.js",
    "leaflet.css": "leaflet.css",
    "jquery-3.7.1.min.js": "jquery-3.7.1.min.js",
    "Control.FullScreen.min.js": "Control.FullScreen.js",
    "Control.FullScreen.css": "Control.FullScreen.css",
}

#: The libraries apgeo's maps load: Leaflet, and jQuery for folium's popups. folium's
#: Bootstrap and awesome-markers (icons apgeo does not draw) are left out.
MAP_JS: list[tuple[str, str]] = [
    ("leaflet", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js"),
    ("jquery", "https://code.jquery.com/jquery-3.7.1.min.js"),
]
MAP_CSS: list[tuple[str, str]] = [
    ("leaflet_css", "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css"),
]


def use_bundled_libraries(m: folium.Map) -> folium.Map:
    """Make ``m`` load only the libraries apgeo ships (Leaflet, jQuery), not folium's
    Bootstrap and awesome-markers, so :func:`save_map` can write it with nothing online.

    Parameters
    ----------
    m
        A folium map that draws no ``folium.Icon`` markers (those need awesome-markers).

    Returns
    -------
    folium.Map
        The same map, changed in place.
    """
    m.default_js = list(MAP_JS)
    m.default_css = list(MAP_CSS)
    return m


def bundled_assets() -> dict[str, Path]:
    """The JavaScript and CSS files apgeo ships for offline maps.

    Returns
    -------
    dict
        CDN file name -> the file inside the installed package.
    """
    return {name: ASSETS_DIR / file for name, file in BUNDLED_ASSETS.items()}


_SCRIPT_RE = re.compile(r'<script src="(?P<url>[^"]+)"></script>')
_LINK_RE = re.compile(r'<link rel="stylesheet" href="(?P<url>[^"]+)"\s*/?>')


def _inline_assets(text: str, assets: Mapping[str, str | Path]) -> str:
    def file_for(url: str) -> Path | None:
        name = url.rsplit("/", 1)[-1].split("?", 1)[0]
        if name not in assets:
            return None
        path = Path(assets[name])
        if not path.is_file():
            raise ApgeoValueError(
                f"offline_assets[{name!r}] = {str(path)!r} is not a file; "
                "give an existing file or drop the entry"
            )
        return path

    def script(match: re.Match[str]) -> str:
        path = file_for(match["url"])
        if path is None:
            return match[0]
        code = path.read_text(encoding="utf-8").replace("</script", "<\\/script")
        return f"<script>/* {path.name} (inlined) */\n{code}\n</script>"

    def style(match: re.Match[str]) -> str:
        path = file_for(match["url"])
        if path is None:
            return match[0]
        css = path.read_text(encoding="utf-8").replace("</style", "<\\/style")
        return f"<style>/* {path.name} (inlined) */\n{css}\n</style>"

    return _LINK_RE.sub(style, _SCRIPT_RE.sub(script, text))


def online_links(text: str) -> list[str]:
    """The scripts and stylesheets an HTML page still loads from the web.

    Parameters
    ----------
    text
        The page's HTML.

    Returns
    -------
    list of str
        Their URLs (``http(s)://`` or protocol-relative), in page order. Basemap tiles are
        requested by Leaflet at run time and are not listed.
    """
    urls = [m["url"] for m in _SCRIPT_RE.finditer(text)] + [m["url"] for m in _LINK_RE.finditer(text)]
    return [u for u in urls if u.startswith(("http://", "https://", "//"))]


def save_map(
    m: folium.Map,
    path: str | Path,
    *,
    offline_assets: Mapping[str, str | Path] | None = None,
) -> Path:
    """Write ``m`` as one self-contained HTML file, creating the parent folder.

    The data and the libraries the page needs (Leaflet, jQuery, the fullscreen button; see
    :func:`bundled_assets`) are inside the file, so it opens without the internet, e.g.
    from an e-mail on a laptop whose browser reaches no CDN. Only the basemap tiles need
    the internet; without it the layers draw on a blank background. The libraries add
    about 260 KB to each file.

    Parameters
    ----------
    m
        A map from :func:`study_map` (or any folium map; a library apgeo does not ship,
        such as folium's Bootstrap, keeps its web link).
    path
        The ``.html`` file to write.
    offline_assets
        More CDN file names (e.g. ``"leaflet.js"``) -> local file, inlined instead of the
        link, on top of (and overriding) :func:`bundled_assets`.

    Returns
    -------
    Path
        The file written.
    """
    out = Path(path).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    assets: dict[str, str | Path] = dict(bundled_assets())
    assets.update(offline_assets or {})
    text = _inline_assets(m.get_root().render(), assets)
    out.write_text(text, encoding="utf-8")
    return out


__all__ = [
    "bundled_assets",
    "online_links",
    "save_map",
    "study_map",
    "title_box",
    "use_bundled_libraries",
]
