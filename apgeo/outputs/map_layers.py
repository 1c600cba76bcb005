"""The layers of the interactive study map (providers, travel-time areas, catchments, cold
spots, Gi* clusters, recommendations, wards, boundary) and their text helpers.
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from folium.template import Template

from apgeo import schema as _schema
from apgeo._errors import ApgeoValueError
from apgeo._validate import check_crs, require_columns
from apgeo.outputs.geojson_layer import FeatureRow, feature_collection, geojson_layer
from apgeo.schema import (
    AP_KINDS,
    AREA_ID,
    AREA_NAME,
    CAPACITY_PLACES,
    KEY_STAGES,
    KIND,
    MODE,
    NAME,
    PROVIDER_ID,
    URN,
    WARD_NAME,
    ProviderKind,
)
from apgeo.settings import WORKING_CRS

# ---- names and constants ----------------------------------------------------------------

#: CRS of the web map (Leaflet wants longitude/latitude).
DISPLAY_CRS = "EPSG:4326"
#: Get Information about Schools page of an establishment.
GIAS_URL = (
    "https://get-information-schools.service.gov.uk/Establishments/Establishment/Details/{urn}"
)

#: Columns of the other tables the map reads (produced by catchments / coldspots / recommend).
THRESHOLD_MIN = _schema.THRESHOLD_MIN
REASON = _schema.REASON
GI_LABEL = _schema.GI_LABEL
RANK = _schema.RANK
SITE_NAME = _schema.SITE_NAME
NEWLY_REACHED_CHILDREN = "newly_reached_children"
WHY = _schema.WHY

GI_HOT = _schema.GI_HOT
GI_COLD = _schema.GI_COLD
GI_NOT_SIGNIFICANT = _schema.GI_NOT_SIGNIFICANT

ACCESS_COLDSPOT_LAYER = "Access cold spots (far from suitable provision)"
#: Fill of an access cold spot: low, so the travel-time choropleth shows through.
COLDSPOT_FILL_OPACITY = 0.08
GI_LAYER = "Gi* clusters of travel time (statistical)"
RECOMMENDATIONS_LAYER = "Recommended new sites"
WARDS_LAYER = "Ward boundaries"
BOUNDARY_LAYER = "Local authority boundary"
AREAS_LAYER = "Demand areas (LSOA)"

#: Label and colour of each provider kind. Kinds counted as AP proper are drawn filled,
#: AP-adjacent kinds (special schools, other) as rings.
KIND_STYLE: dict[ProviderKind, tuple[str, str]] = {
    ProviderKind.INCLUSION_CENTRE: ("Inclusion centre (PRU)", "#d55e00"),
    ProviderKind.PRU: ("Pupil referral unit", "#e69f00"),
    ProviderKind.AP_ACADEMY: ("AP academy", "#cc79a7"),
    ProviderKind.AP_FREE_SCHOOL: ("AP free school", "#882255"),
    ProviderKind.FRAMEWORK_PROVIDER: ("Framework (independent) AP provider", "#009e73"),
    ProviderKind.HOSPITAL_EDUCATION: ("Hospital education", "#0072b2"),
    ProviderKind.PRIMARY_AP_HUB: ("Primary AP hub", "#56b4e9"),
    ProviderKind.SPECIAL_SCHOOL: ("Special school (AP-adjacent)", "#332288"),
    ProviderKind.OTHER: ("Other provision", "#555555"),
}

#: Default bins (minutes) for travel times: DfT's 15 / 30 / 45 / 60 bands, split finer below 30.
TIME_BINS_MIN: tuple[float, ...] = (0, 5, 10, 15, 20, 30, 45, 60, math.inf)
#: Sequential palette, near (light) to far (dark) - ColorBrewer YlOrRd.
SEQUENTIAL = (
    "#ffffcc",
    "#ffeda0",
    "#fed976",
    "#feb24c",
    "#fd8d3c",
    "#fc4e2a",
    "#e31a1c",
    "#b10026",
)
NAN_COLOUR = "#9e9e9e"
CATCHMENT_COLOURS = ("#1b9e77", "#7570b3", "#d95f02", "#e7298a", "#66a61e", "#e6ab02")
GI_COLOURS = {GI_HOT: "#b2182b", GI_COLD: "#2166ac"}
GI_OTHER_COLOUR = "#bdbdbd"
COLDSPOT_COLOUR = "#6a3d9a"

_COORD_DECIMALS = 6

#: Leaflet pane of the site markers (see :func:`_sites_pane`).
SITES_PANE = "apgeo-sites"
#: Site markers whose centres are nearer than this on screen (pixels) overlap ...
OVERLAP_PX = 20.0
#: ... and are drawn side by side, this far apart (pixels), centre to centre.
SPREAD_PX = 26.0


# ---- text helpers ------------------------------------------------------------------------


def _esc(value: object) -> str:
    """HTML-escape ``value`` for a page *and* a JS template literal (``$``, backtick)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    text = html.escape(str(value), quote=True)
    return text.replace("$", "&#36;").replace("`", "&#96;").replace("\\", "&#92;")


def _is_missing(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() in ("", "nan", "None", "<NA>")


def _fmt_number(value: object, *, digits: int = 0) -> str:
    if _is_missing(value):
        return "unknown"
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return _esc(value)
    return f"{number:,.{digits}f}"


def provider_layer_name(kind: ProviderKind | str, count: int) -> str:
    """Layer name of the providers of one kind, e.g. ``"Providers: Primary AP hub (2)"``.

    Parameters
    ----------
    kind
        A provider kind (its label from :data:`KIND_STYLE`; another string as given).
    count
        Number of sites drawn.

    Returns
    -------
    str
        The name shown in the layer list.
    """
    try:
        label = KIND_STYLE[ProviderKind(kind)][0]
    except ValueError:
        label = str(kind)
    return f"Providers: {label} ({count})"


def catchment_layer_name(mode: str, threshold_min: float) -> str:
    """Layer name of one catchment set, e.g. ``"Catchments (display only): walk, 30 min"``.

    Parameters
    ----------
    mode
        The travel mode.
    threshold_min
        The catchment's limit in minutes.

    Returns
    -------
    str
        The name shown in the layer list.
    """
    return f"Catchments (display only): {mode}, {threshold_min:g} min"


# ---- geometry helpers --------------------------------------------------------------------


def _check_gdf(gdf: Any, *, name: str, columns: Sequence[str]) -> gpd.GeoDataFrame:
    if not isinstance(gdf, gpd.GeoDataFrame):
        raise ApgeoValueError(
            f"{name} must be a GeoDataFrame, got {type(gdf).__name__}; "
            "build one with geopandas.GeoDataFrame(df, geometry=..., crs='EPSG:27700')"
        )
    require_columns(gdf, columns, source=name)
    check_crs(gdf, name=name)
    return gdf


def _for_display(gdf: gpd.GeoDataFrame, *, tolerance_m: float) -> gpd.GeoDataFrame:
    """Drop empty geometries, simplify in metres, reproject to lon/lat, round coordinates."""
    out = gdf[~(gdf.geometry.isna() | gdf.geometry.is_empty)].copy()
    if len(out) == 0:
        return out.to_crs(DISPLAY_CRS)
    out = out.to_crs(WORKING_CRS)
    if tolerance_m > 0:
        out = out.set_geometry(out.geometry.simplify(tolerance_m, preserve_topology=True))
    out = out.to_crs(DISPLAY_CRS)
    rounded = shapely.transform(
        np.asarray(out.geometry.values), lambda xy: np.round(xy, _COORD_DECIMALS)
    )
    return out.set_geometry(gpd.GeoSeries(rounded, index=out.index, crs=DISPLAY_CRS))


def _tooltip(fields: Sequence[str]) -> folium.GeoJsonTooltip:
    return folium.GeoJsonTooltip(
        fields=list(fields), aliases=[f"{f}:" for f in fields], sticky=True
    )


# ---- layers ------------------------------------------------------------------------------


def _provider_popup(row: pd.Series | FeatureRow) -> str:
    kind = str(row[KIND])
    try:
        kind_label = KIND_STYLE[ProviderKind(kind)][0]
    except ValueError:
        kind_label = kind
    capacity = row.get(CAPACITY_PLACES)
    cap_text = "unknown" if _is_missing(capacity) else f"{_fmt_number(capacity)} places"
    stages = row.get(KEY_STAGES)
    lines = [
        f"<b>{_esc(row[NAME])}</b>",
        f"Kind: {_esc(kind_label)}",
        f"Key stages: {_esc(stages) if not _is_missing(stages) else 'unknown'}",
        f"Capacity: {cap_text}",
    ]
    urn = row.get(URN)
    if not _is_missing(urn):
        urn_text = str(urn).strip()
        if urn_text.endswith(".0"):
            urn_text = urn_text[:-2]
        link = GIAS_URL.format(urn=_esc(urn_text))
        lines.append(
            f'<a href="{link}" target="_blank" rel="noopener noreferrer">'
            f"GIAS record (URN {_esc(urn_text)})</a>"
        )
    return "<br>".join(lines)


def _sites_pane(m: folium.Map) -> str:
    """The pane site markers are drawn in: above every area and line (Leaflet's overlay
    pane, 400), below the recommended-site icons (600), whatever order layers are toggled."""
    panes = [c for c in m._children.values() if isinstance(c, folium.map.CustomPane)]
    if not any(getattr(p, "name", None) == SITES_PANE for p in panes):
        folium.map.CustomPane(SITES_PANE, z_index=450, pointer_events=True).add_to(m)
    return SITES_PANE


def _add_providers(
    m: folium.Map,
    providers: gpd.GeoDataFrame,
    *,
    markers: list[tuple[Any, float, float]] | None = None,
) -> list[str]:
    """Add one layer per provider kind; return the legend rows (HTML). Each marker and its
    longitude / latitude is appended to ``markers`` when given (see :func:`_spread_markers`)."""
    legend: list[str] = []
    pane = _sites_pane(m)
    shown = _for_display(providers, tolerance_m=0)
    kinds = [k for k in KIND_STYLE if (shown[KIND].astype(str) == k.value).any()]
    others = sorted(set(shown[KIND].astype(str)) - {k.value for k in KIND_STYLE})
    counts = shown[KIND].astype(str).value_counts()
    # a kind with very many sites is drawn first, beneath the few of the other kinds
    for kind in sorted([*kinds, *others], key=lambda k: counts.get(str(k), 0) <= MAX_SEPARATE_MARKERS):
        rows = shown[shown[KIND].astype(str) == str(kind)]
        label, colour = KIND_STYLE.get(kind, (str(kind), "#555555"))  # type: ignore[call-overload]
        filled = kind in AP_KINDS
        group = folium.FeatureGroup(name=_esc(provider_layer_name(kind, len(rows))), show=True)
        style: dict[str, Any] = {"radius": 8 if filled else 7, "color": colour, "weight": 2 if filled else 3,
                                 "fill": True, "fill_color": colour if filled else "#ffffff", "fill_opacity": 0.9}
        if len(rows) > MAX_SEPARATE_MARKERS:
            _add_many_sites(group, rows, style=style, pane=pane)
            group.add_to(m)
            legend.append(_kind_swatch(colour, filled) + f" {_esc(label)} ({len(rows):,})")
            continue
        for _, row in rows.iterrows():
            point = _marker_point(row.geometry)
            marker = folium.CircleMarker(
                location=[point.y, point.x],
                **style,
                tooltip=folium.Tooltip(_esc(row[NAME])),
                popup=folium.Popup(_provider_popup(row), max_width=320),
            )
            marker.options["pane"] = pane
            marker.add_to(group)
            if markers is not None:
                markers.append((marker, float(point.x), float(point.y)))
        group.add_to(m)
        legend.append(f"{_kind_swatch(colour, filled)} {_esc(label)} ({len(rows)})")
    return legend


def _marker_point(geom: Any) -> Any:
    """Where a site's marker goes: the site's point, or a point inside its shape."""
    return geom if geom.geom_type == "Point" else geom.representative_point()


def _kind_swatch(colour: str, filled: bool) -> str:
    return (
        f'<span style="display:inline-block;width:12px;height:12px;border-radius:50%;'
        f"border:2px solid {colour};background:{colour if filled else '#fff'};"
        f'vertical-align:middle"></span>'
    )


#: Above this many sites of one kind, one GeoJSON layer of circle markers (same look, tooltip
#: and popup) instead of a map element per site (50,000 took minutes per map to render).
MAX_SEPARATE_MARKERS = 1_000


def _add_many_sites(group: folium.FeatureGroup, rows: gpd.GeoDataFrame, *, style: dict[str, Any], pane: str) -> None:
    """The sites of one kind as one GeoJSON layer (in lon/lat, properties escaped)."""
    points = rows.set_geometry([_marker_point(g) for g in rows.geometry])
    marker = folium.CircleMarker(**style)
    marker.options["pane"] = pane
    geojson_layer(
        feature_collection(points, lambda row: {"Site": _esc(row[NAME]), "Details": _provider_popup(row)}),
        marker=marker,
        tooltip=folium.GeoJsonTooltip(["Site"], labels=False),
        popup=folium.GeoJsonPopup(["Details"], labels=False, max_width=320),
    ).add_to(group)


def _bins_for(values: pd.Series, bins: Sequence[float] | None, *, minutes: bool) -> list[float]:
    if bins is not None:
        edges = [float(b) for b in bins]
        if len(edges) < 2 or any(b <= a for a, b in pairwise(edges)):
            raise ApgeoValueError(
                f"area_bins must be at least two increasing numbers, got {list(bins)}"
            )
        return edges
    if minutes:
        return list(TIME_BINS_MIN)
    finite = values[np.isfinite(values)]
    if len(finite) == 0:
        return [0.0, 1.0]
    qs = np.unique(np.quantile(finite, [0, 0.2, 0.4, 0.6, 0.8, 1.0]))
    if len(qs) < 2:
        return [float(qs[0]), float(qs[0]) + 1.0]
    return [float(q) for q in qs]


def _bin_label(lo: float, hi: float, unit: str) -> str:
    if math.isinf(hi):
        return f"{lo:g}{unit} or more"
    return f"{lo:g} to under {hi:g}{unit}"


def _add_areas(
    m: folium.Map,
    areas: gpd.GeoDataFrame,
    *,
    value_column: str | None,
    value_label: str | None,
    bins: Sequence[float] | None,
    tolerance_m: float,
    unreachable_within_min: float | None = None,
) -> list[str]:
    """Add the choropleth (or plain area outlines); return legend rows."""
    shown = _for_display(areas, tolerance_m=tolerance_m)
    if value_column is None:
        group = folium.FeatureGroup(name=AREAS_LAYER, show=True)

        def plain_props(row: FeatureRow) -> dict[str, str]:
            return {"Area": _area_text(row), "Ward": _esc(row.get(WARD_NAME))}

        geojson_layer(
            feature_collection(shown, plain_props),
            style_function=lambda f: {"color": "#666", "weight": 0.5, "fillOpacity": 0},
            tooltip=_tooltip(["Area", "Ward"]),
        ).add_to(group)
        group.add_to(m)
        return []

    minutes = value_column.endswith("_s")
    unit = " min" if minutes else ""
    raw = pd.to_numeric(shown[value_column], errors="coerce").astype(float)
    values = raw / 60.0 if minutes else raw
    values = values.where(np.isfinite(values))  # inf (unreachable inside kernels) -> NaN
    edges = _bins_for(values, bins, minutes=minutes)
    n_classes = len(edges) - 1
    palette = _palette(n_classes)
    label = value_label or (
        f"Travel time to nearest provider ({value_column}, shown in minutes)"
        if minutes
        else value_column
    )
    short = "Value (min)" if minutes else "Value"
    no_value = unreachable_text(unreachable_within_min) if minutes else "no value"

    def colour_of(v: float) -> str:
        if math.isnan(v):
            return NAN_COLOUR
        idx = int(np.searchsorted(edges, v, side="right")) - 1
        return palette[min(max(idx, 0), n_classes - 1)]

    colours = {i: colour_of(float(v)) for i, v in enumerate(values)}

    def props(row: FeatureRow) -> dict[str, str]:
        v = float(values.loc[row.name])
        text = no_value if math.isnan(v) else f"{v:,.1f}{unit}"
        return {"Area": _area_text(row), "Ward": _esc(row.get(WARD_NAME)), short: text}

    data = feature_collection(shown, props)
    for i, feature in enumerate(data["features"]):
        feature["properties"]["_fill"] = colours[i]
    group = folium.FeatureGroup(name=_esc(label), show=True)
    geojson_layer(
        data,
        style_function=lambda f: {
            "fillColor": f["properties"]["_fill"],
            "color": "#555555",
            "weight": 0.4,
            "fillOpacity": 0.65,
        },
        tooltip=_tooltip(["Area", "Ward", short]),
    ).add_to(group)
    group.add_to(m)

    rows = [f"<b>{_esc(label)}</b>"]
    for k in range(n_classes):
        count = int(((values >= edges[k]) & (values < edges[k + 1])).sum())
        if k == n_classes - 1:
            count = int(((values >= edges[k]) & (values <= edges[k + 1])).sum())
        rows.append(
            f"{_swatch(palette[k])} {_esc(_bin_label(edges[k], edges[k + 1], unit))} ({count})"
        )
    n_nan = int(values.isna().sum())
    rows.append(
        f"{_swatch(NAN_COLOUR)} {_esc(no_value[:1].upper() + no_value[1:])} "
        f"({n_nan} area{'s' if n_nan != 1 else ''})"
    )
    return rows


def unreachable_text(within_min: float | None) -> str:
    """What a grey area (no travel time) means, e.g. ``"not reachable within 120 min"``.

    Parameters
    ----------
    within_min
        The journey limit of the travel times in minutes; ``None`` when they have none
        (then no time means no route at all).

    Returns
    -------
    str
        Lower-case text for a tooltip or, capitalised, a legend row.
    """
    if within_min is None or not math.isfinite(within_min):
        return "not reachable (no route to any site)"
    return f"not reachable within {within_min:g} min"


def _palette(n: int) -> list[str]:
    if n <= len(SEQUENTIAL):
        idx = np.round(np.linspace(0, len(SEQUENTIAL) - 1, n)).astype(int)
        return [SEQUENTIAL[i] for i in idx]
    return [SEQUENTIAL[min(i * len(SEQUENTIAL) // n, len(SEQUENTIAL) - 1)] for i in range(n)]


#: The colours of the travel-time classes :data:`TIME_BINS_MIN` (the QGIS styles use them).
TIME_CLASS_COLOURS: tuple[str, ...] = tuple(_palette(len(TIME_BINS_MIN) - 1))


def _swatch(colour: str, *, border: str = "#555") -> str:
    return (
        f'<span style="display:inline-block;width:14px;height:10px;background:{colour};'
        f'border:1px solid {border};vertical-align:middle"></span>'
    )


def _area_text(row: pd.Series | FeatureRow) -> str:
    name, code = row.get(AREA_NAME), row.get(AREA_ID)
    if not _is_missing(name) and not _is_missing(code) and name != code:
        return f"{_esc(name)} ({_esc(code)})"
    return _esc(name if not _is_missing(name) else code)


def _add_catchments(
    m: folium.Map,
    catchments: gpd.GeoDataFrame,
    *,
    provider_names: Mapping[str, str],
    tolerance_m: float,
) -> list[str]:
    joined = _join_many_catchments(catchments)
    shown = _for_display(joined, tolerance_m=tolerance_m)
    keys = sorted(
        {(str(mo), float(t)) for mo, t in zip(shown[MODE], shown[THRESHOLD_MIN])},
        key=lambda k: (k[0], k[1]),
    )
    legend = []
    by_mode: dict[str, list[str]] = {}
    for i, (mode, threshold) in enumerate(keys):
        colour = CATCHMENT_COLOURS[i % len(CATCHMENT_COLOURS)]
        sel = shown[
            (shown[MODE].astype(str) == mode) & (shown[THRESHOLD_MIN].astype(float) == threshold)
        ]
        name = catchment_layer_name(mode, threshold)

        def props(row: FeatureRow, mode: str = mode, threshold: float = threshold) -> dict[str, str]:
            pid = str(row[PROVIDER_ID])
            joined_sites = row.get(_JOINED_SITES)
            sites = int(joined_sites) if pd.notna(joined_sites) else 0
            return {
                "Catchment of": (
                    f"{sites:,} sites, joined" if sites else _esc(provider_names.get(pid, pid))
                ),
                "Mode": _esc(mode),
                "Within": f"{threshold:g} min",
            }

        group = folium.FeatureGroup(name=_esc(name), show=(i == 0))
        geojson_layer(
            feature_collection(sel, props),
            style_function=lambda f, c=colour: {
                "color": c,
                "weight": 1.5,
                "fillColor": c,
                "fillOpacity": 0.12,
                "dashArray": "4 3",
            },
            tooltip=_tooltip(["Catchment of", "Mode", "Within"]),
        ).add_to(group)
        group.add_to(m)
        by_mode.setdefault(mode, []).append(f"{_swatch(colour)}&nbsp;{threshold:g}")
    # one row per mode, so the legend fits a laptop screen
    for mode, swatches in by_mode.items():
        legend.append(f"Catchments (display only), {_esc(mode)}: {' '.join(swatches)} min")
    if legend:
        legend.append(
            "<i>Catchment polygons are for display; coverage and cold spots are decided "
            "from travel times.</i>"
        )
    if _JOINED_SITES in joined.columns:
        legend.append(f"<i>More than {MAX_SEPARATE_CATCHMENTS:,} sites at a threshold: their catchments "
                      "are drawn joined into one area.</i>")
    return legend


#: Above this many sites' catchments at one mode and threshold, the map draws their union
#: (one area) instead of a polygon per site: 50,000 sites' catchments made a 227 MB map.
MAX_SEPARATE_CATCHMENTS = 200
_JOINED_SITES = "joined_sites"


def _join_many_catchments(catchments: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The catchments to draw: per mode and threshold, one polygon per site, or their
    union when there are more than :data:`MAX_SEPARATE_CATCHMENTS` (with the number of
    sites joined in ``joined_sites``)."""
    keys = [catchments[MODE].astype(str), catchments[THRESHOLD_MIN].astype(float)]
    sizes = catchments.groupby(keys, sort=False)[THRESHOLD_MIN].transform("size")
    many = (sizes > MAX_SEPARATE_CATCHMENTS).to_numpy()
    if not many.any():
        return catchments
    rows = []
    for (mode, threshold), part in catchments[many].groupby([k[many] for k in keys], sort=True):
        geometry = shapely.union_all(np.asarray(part.geometry.values))
        rows.append({PROVIDER_ID: "", MODE: mode, THRESHOLD_MIN: threshold, _JOINED_SITES: len(part), "geometry": geometry})
    joined = gpd.GeoDataFrame(rows, geometry="geometry", crs=catchments.crs)
    return pd.concat([catchments[~many], joined], ignore_index=True)


def _add_coldspots(m: folium.Map, coldspots: gpd.GeoDataFrame, *, tolerance_m: float) -> list[str]:
    shown = _for_display(coldspots, tolerance_m=tolerance_m)

    def props(row: FeatureRow) -> dict[str, str]:
        return {
            "Access cold spot": _area_text(row) or "area",
            "Ward": _esc(row.get(WARD_NAME)),
            "Reason": _esc(row[REASON]),
        }

    # off by default, and an outline with a faint fill when on: the travel-time colours
    # beneath stay readable (the cold spots are those areas, not another measure)
    group = folium.FeatureGroup(name=ACCESS_COLDSPOT_LAYER, show=False)
    geojson_layer(
        feature_collection(shown, props),
        style_function=lambda f: {
            "color": COLDSPOT_COLOUR,
            "weight": 1.5,
            "dashArray": "6 4",
            "fillColor": COLDSPOT_COLOUR,
            "fillOpacity": COLDSPOT_FILL_OPACITY,
        },
        tooltip=_tooltip(["Access cold spot", "Ward", "Reason"]),
    ).add_to(group)
    group.add_to(m)
    return [
        f"{_swatch('transparent', border=COLDSPOT_COLOUR)} <b>Access cold spot</b> (dashed outline; "
        f"layer off at first): far from suitable provision, from travel times ({len(shown)} areas)"
    ]


def _add_gi(m: folium.Map, clusters: gpd.GeoDataFrame, *, tolerance_m: float) -> list[str]:
    labels = clusters[GI_LABEL].astype(str)
    significant = clusters[labels != GI_NOT_SIGNIFICANT]
    shown = _for_display(significant, tolerance_m=tolerance_m)

    def props(row: FeatureRow) -> dict[str, str]:
        return {
            "Area": _area_text(row),
            "Gi* cluster (statistical)": _esc(row[GI_LABEL]),
        }

    data = feature_collection(shown, props)
    for feature, label in zip(data["features"], shown[GI_LABEL].astype(str)):
        feature["properties"]["_fill"] = GI_COLOURS.get(label, GI_OTHER_COLOUR)
    group = folium.FeatureGroup(name=GI_LAYER, show=False)
    geojson_layer(
        data,
        style_function=lambda f: {
            "color": f["properties"]["_fill"],
            "weight": 1,
            "fillColor": f["properties"]["_fill"],
            "fillOpacity": 0.5,
        },
        tooltip=_tooltip(["Area", "Gi* cluster (statistical)"]),
    ).add_to(group)
    group.add_to(m)
    counts = labels.value_counts()
    rows = [f"<b>{_esc(GI_LAYER)}</b> (off by default)"]
    entries = [
        f"{_swatch(colour)} Gi* {_esc(lab)} ({int(counts.get(lab, 0))})"
        for lab, colour in GI_COLOURS.items()
    ]
    others = {
        k: int(v) for k, v in counts.items() if k not in GI_COLOURS and k != GI_NOT_SIGNIFICANT
    }
    entries += [f"{_swatch(GI_OTHER_COLOUR)} Gi* {_esc(lab)} ({n})" for lab, n in sorted(others.items())]
    rows += ["<br>".join(entries)]
    rows.append(
        f"Not shown: {int(counts.get(GI_NOT_SIGNIFICANT, 0))} areas not significant. "
        "A Gi* <i>cold</i> cluster is a group of areas <i>near</i> provision, not an access cold spot."
    )
    return rows


def _add_recommendations(
    m: folium.Map,
    recs: gpd.GeoDataFrame,
    *,
    markers: list[tuple[Any, float, float]] | None = None,
) -> list[str]:
    shown = _for_display(recs, tolerance_m=0).sort_values(RANK)
    group = folium.FeatureGroup(name=RECOMMENDATIONS_LAYER, show=True)
    for _, row in shown.iterrows():
        point = _marker_point(row.geometry)
        rank = _esc(_fmt_number(row[RANK]))
        popup = "<br>".join(
            [
                f"<b>Recommended site #{rank}: {_esc(row[SITE_NAME])}</b>",
                f"Children newly within reach: {_fmt_number(row[NEWLY_REACHED_CHILDREN])}",
                f"Why: {_esc(row[WHY])}",
            ]
        )
        icon = folium.DivIcon(
            html=(
                '<div style="width:24px;height:24px;border-radius:50%;background:#111;'
                "color:#fff;border:2px solid #ffd400;font:bold 12px sans-serif;"
                f'text-align:center;line-height:20px">{rank}</div>'
            ),
            icon_size=(24, 24),
            icon_anchor=(12, 12),
        )
        marker = folium.Marker(
            location=[point.y, point.x],
            icon=icon,
            tooltip=folium.Tooltip(f"#{rank} {_esc(row[SITE_NAME])}"),
            popup=folium.Popup(popup, max_width=340),
        )
        marker.add_to(group)
        if markers is not None:
            markers.append((marker, float(point.x), float(point.y)))
    group.add_to(m)
    return [
        '<span style="display:inline-block;width:14px;height:14px;border-radius:50%;'
        'background:#111;border:2px solid #ffd400;vertical-align:middle"></span> '
        f"Recommended new site, numbered by rank ({len(shown)})"
    ]


def _add_wards(m: folium.Map, wards: gpd.GeoDataFrame, *, tolerance_m: float) -> list[str]:
    shown = _for_display(wards, tolerance_m=tolerance_m)
    group = folium.FeatureGroup(name=WARDS_LAYER, show=True)
    geojson_layer(
        feature_collection(shown, lambda row: {"Ward": _esc(row[WARD_NAME])}),
        style_function=lambda f: {"color": "#222", "weight": 1.2, "fillOpacity": 0, "opacity": 0.7},
        tooltip=_tooltip(["Ward"]),
    ).add_to(group)
    group.add_to(m)
    return [
        '<span style="display:inline-block;width:14px;border-top:2px solid #222;'
        'vertical-align:middle"></span> Ward boundary (hover for name)'
    ]


def _add_boundary(m: folium.Map, boundary: gpd.GeoDataFrame, *, tolerance_m: float) -> None:
    shown = _for_display(boundary, tolerance_m=tolerance_m)
    group = folium.FeatureGroup(name=BOUNDARY_LAYER, show=True)
    geojson_layer(
        feature_collection(shown, lambda row: {}),
        style_function=lambda f: {"color": "#000", "weight": 3, "fillOpacity": 0},
        interactive=False,
    ).add_to(group)
    group.add_to(m)


class _SpreadMarkers(MacroElement):  # type: ignore[misc]
    """Draw site markers that would overlap on screen side by side, around the middle of
    their group, at every zoom (recomputed on zoom; each keeps its tooltip and popup; only
    the drawing moves, never the data). Zoomed in far enough, each sits at its address."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            var items = [
            {%- for marker in this.markers %}
                {{ marker.get_name() }},
            {%- endfor %}
            ].map(function (m) { return {m: m, at: m.getLatLng()}; });
            var near = {{ this.overlap_px }}, ring = {{ this.ring_px }};
            function place() {
                var pts = items.map(function (it) { return map.latLngToLayerPoint(it.at); });
                var parent = items.map(function (_, i) { return i; });
                function find(i) { while (parent[i] !== i) { i = parent[i] = parent[parent[i]]; } return i; }
                for (var i = 0; i < pts.length; i++) {
                    for (var j = i + 1; j < pts.length; j++) {
                        if (pts[i].distanceTo(pts[j]) < near) { parent[find(j)] = find(i); }
                    }
                }
                var groups = {};
                items.forEach(function (_, i) { (groups[find(i)] = groups[find(i)] || []).push(i); });
                Object.keys(groups).forEach(function (k) {
                    var g = groups[k], n = g.length;
                    if (n === 1) { items[g[0]].m.setLatLng(items[g[0]].at); return; }
                    var cx = 0, cy = 0;
                    g.forEach(function (i) { cx += pts[i].x / n; cy += pts[i].y / n; });
                    var r = Math.max(ring / 2, ring / (2 * Math.sin(Math.PI / n)));
                    g.forEach(function (i, k2) {
                        var a = Math.PI + 2 * Math.PI * k2 / n;
                        var p = L.point(cx + r * Math.cos(a), cy + r * Math.sin(a));
                        items[i].m.setLatLng(map.layerPointToLatLng(p));
                    });
                });
            }
            map.on("zoomend viewreset", place);
            map.whenReady(place);
        })();
        {% endmacro %}
        """
    )

    def __init__(self, markers: Sequence[Any], *, overlap_px: float, ring_px: float) -> None:
        super().__init__()
        self._name = "SpreadMarkers"
        self.markers = list(markers)
        self.overlap_px = overlap_px
        self.ring_px = ring_px


def _spread_markers(m: folium.Map, markers: Sequence[tuple[Any, float, float]]) -> int:
    """Make the site markers that would overlap on screen draw side by side (see
    :class:`_SpreadMarkers`); return how many markers take part."""
    if len(markers) < 2:
        return 0
    _SpreadMarkers(
        [marker for marker, _, _ in markers], overlap_px=OVERLAP_PX, ring_px=SPREAD_PX
    ).add_to(m)
    return len(markers)


class _SafeFullscreen(folium.plugins.Fullscreen):  # type: ignore[misc]
    """Fullscreen button that does nothing (instead of stopping the page) when its CDN is down."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
            if (L.control.fullscreen) {
                L.control.fullscreen(
                    {{ this.options|tojavascript }}
                ).addTo({{this._parent.get_name()}});
            }
        {% endmacro %}
        """
    )


__all__ = [
    "ACCESS_COLDSPOT_LAYER",
    "BOUNDARY_LAYER",
    "DISPLAY_CRS",
    "GIAS_URL",
    "GI_LAYER",
    "RECOMMENDATIONS_LAYER",
    "TIME_CLASS_COLOURS",
    "WARDS_LAYER",
    "catchment_layer_name",
    "provider_layer_name",
    "unreachable_text",
]
