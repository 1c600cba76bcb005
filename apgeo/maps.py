"""Interactive study maps (folium / Leaflet) for planners.

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
* *Gi\\* clusters of travel time (statistical)*: Getis-Ord Gi\\* clusters, where a "cold"
  cluster is a group of areas *near* provision;
* neither is the Centre for Social Justice (2020) quality "cold spot" ranking of whole
  local authorities, which this map does not show.

All text that comes from data (names, reasons, notes) is HTML-escaped before it reaches
the page, including ``$`` and backticks, which folium places inside JavaScript template
literals.

Leaflet, jQuery and the fullscreen plugin are loaded from public CDNs by default, and the
basemap tiles from CARTO / OpenStreetMap; both need the internet when the page is opened.
:func:`save_map` can inline local copies of the JS/CSS (``offline_assets``), e.g. the ones
Debian's ``libjs-leaflet`` and ``libjs-jquery`` packages install (:func:`system_assets`);
the basemap still needs the internet, the data layers do not.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable, Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any, cast

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure
from folium.template import Template

from apgeo import schema as _schema
from apgeo._errors import ApgeoValueError
from apgeo._validate import check_crs, require_columns
from apgeo.schema import (
    AP_KINDS,
    AREA_ID,
    AREA_NAME,
    CAPACITY_PLACES,
    KEY_STAGES,
    KIND,
    LOCATED,
    MODE,
    NAME,
    PROVIDER_ID,
    URN,
    WARD_NAME,
    ProviderKind,
)
from apgeo.settings import WORKING_CRS

__all__ = [
    "ACCESS_COLDSPOT_LAYER",
    "BOUNDARY_LAYER",
    "DISPLAY_CRS",
    "GIAS_URL",
    "GI_LAYER",
    "RECOMMENDATIONS_LAYER",
    "WARDS_LAYER",
    "catchment_layer_name",
    "provider_layer_name",
    "save_map",
    "study_map",
    "system_assets",
]

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
    """Layer name of the providers of one kind, e.g. ``"Providers: Primary AP hub (2)"``."""
    try:
        label = KIND_STYLE[ProviderKind(kind)][0]
    except ValueError:
        label = str(kind)
    return f"Providers: {label} ({count})"


def catchment_layer_name(mode: str, threshold_min: float) -> str:
    """Layer name of one catchment set, e.g. ``"Catchments (display only): walk, 30 min"``."""
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


def _features(
    gdf: gpd.GeoDataFrame, properties: Callable[[pd.Series], dict[str, str]]
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection with only the (already escaped) properties given."""
    features = []
    for i, (_, row) in enumerate(gdf.iterrows()):
        features.append(
            {
                "type": "Feature",
                "id": str(i),
                "properties": properties(row),
                "geometry": shapely.geometry.mapping(row.geometry),
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _geojson(data: dict[str, Any], **kwargs: Any) -> folium.GeoJson:
    """``folium.GeoJson`` that accepts an empty layer (folium's tooltip needs a feature)."""
    if not data["features"]:
        kwargs.pop("tooltip", None)
    return folium.GeoJson(data, **kwargs)


def _tooltip(fields: Sequence[str]) -> folium.GeoJsonTooltip:
    return folium.GeoJsonTooltip(
        fields=list(fields), aliases=[f"{f}:" for f in fields], sticky=True
    )


# ---- layers ------------------------------------------------------------------------------


def _provider_popup(row: pd.Series) -> str:
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


def _add_providers(m: folium.Map, providers: gpd.GeoDataFrame) -> list[str]:
    """Add one layer per provider kind; return the legend rows (HTML)."""
    legend: list[str] = []
    shown = _for_display(providers, tolerance_m=0)
    kinds = [k for k in KIND_STYLE if (shown[KIND].astype(str) == k.value).any()]
    others = sorted(set(shown[KIND].astype(str)) - {k.value for k in KIND_STYLE})
    for kind in [*kinds, *others]:
        rows = shown[shown[KIND].astype(str) == str(kind)]
        label, colour = KIND_STYLE.get(kind, (str(kind), "#555555"))  # type: ignore[call-overload]
        filled = kind in AP_KINDS
        group = folium.FeatureGroup(name=_esc(provider_layer_name(kind, len(rows))), show=True)
        for _, row in rows.iterrows():
            point = (
                row.geometry
                if row.geometry.geom_type == "Point"
                else row.geometry.representative_point()
            )
            folium.CircleMarker(
                location=[point.y, point.x],
                radius=8 if filled else 7,
                color=colour,
                weight=2 if filled else 3,
                fill=True,
                fill_color=colour if filled else "#ffffff",
                fill_opacity=0.9,
                tooltip=folium.Tooltip(_esc(row[NAME])),
                popup=folium.Popup(_provider_popup(row), max_width=320),
            ).add_to(group)
        group.add_to(m)
        swatch = (
            f'<span style="display:inline-block;width:12px;height:12px;border-radius:50%;'
            f"border:2px solid {colour};background:{colour if filled else '#fff'};"
            f'vertical-align:middle"></span>'
        )
        legend.append(f"{swatch} {_esc(label)} ({len(rows)})")
    return legend


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
) -> list[str]:
    """Add the choropleth (or plain area outlines); return legend rows."""
    shown = _for_display(areas, tolerance_m=tolerance_m)
    if value_column is None:
        group = folium.FeatureGroup(name=AREAS_LAYER, show=True)

        def plain_props(row: pd.Series) -> dict[str, str]:
            return {"Area": _area_text(row), "Ward": _esc(row.get(WARD_NAME))}

        _geojson(
            _features(shown, plain_props),
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

    def colour_of(v: float) -> str:
        if math.isnan(v):
            return NAN_COLOUR
        idx = int(np.searchsorted(edges, v, side="right")) - 1
        return palette[min(max(idx, 0), n_classes - 1)]

    colours = {i: colour_of(float(v)) for i, v in enumerate(values)}

    def props(row: pd.Series) -> dict[str, str]:
        v = float(values.loc[row.name])
        text = "unreachable (no value)" if math.isnan(v) else f"{v:,.1f}{unit}"
        return {"Area": _area_text(row), "Ward": _esc(row.get(WARD_NAME)), short: text}

    data = _features(shown, props)
    for i, feature in enumerate(data["features"]):
        feature["properties"]["_fill"] = colours[i]
    group = folium.FeatureGroup(name=_esc(label), show=True)
    _geojson(
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
        f"{_swatch(NAN_COLOUR)} Unreachable / no value (NaN): grey ({n_nan} area{'s' if n_nan != 1 else ''})"
    )
    return rows


def _palette(n: int) -> list[str]:
    if n <= len(SEQUENTIAL):
        idx = np.round(np.linspace(0, len(SEQUENTIAL) - 1, n)).astype(int)
        return [SEQUENTIAL[i] for i in idx]
    return [SEQUENTIAL[min(i * len(SEQUENTIAL) // n, len(SEQUENTIAL) - 1)] for i in range(n)]


def _swatch(colour: str, *, border: str = "#555") -> str:
    return (
        f'<span style="display:inline-block;width:14px;height:10px;background:{colour};'
        f'border:1px solid {border};vertical-align:middle"></span>'
    )


def _area_text(row: pd.Series) -> str:
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
    shown = _for_display(catchments, tolerance_m=tolerance_m)
    keys = sorted(
        {(str(mo), float(t)) for mo, t in zip(shown[MODE], shown[THRESHOLD_MIN])},
        key=lambda k: (k[0], k[1]),
    )
    legend = []
    for i, (mode, threshold) in enumerate(keys):
        colour = CATCHMENT_COLOURS[i % len(CATCHMENT_COLOURS)]
        sel = shown[
            (shown[MODE].astype(str) == mode) & (shown[THRESHOLD_MIN].astype(float) == threshold)
        ]
        name = catchment_layer_name(mode, threshold)

        def props(row: pd.Series, mode: str = mode, threshold: float = threshold) -> dict[str, str]:
            pid = str(row[PROVIDER_ID])
            return {
                "Catchment of": _esc(provider_names.get(pid, pid)),
                "Mode": _esc(mode),
                "Within": f"{threshold:g} min",
            }

        group = folium.FeatureGroup(name=_esc(name), show=(i == 0))
        _geojson(
            _features(sel, props),
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
        legend.append(f"{_swatch(colour)} {_esc(name)}")
    if legend:
        legend.append(
            "<i>Catchment polygons are for display; coverage and cold spots are decided "
            "from travel times.</i>"
        )
    return legend


def _add_coldspots(m: folium.Map, coldspots: gpd.GeoDataFrame, *, tolerance_m: float) -> list[str]:
    shown = _for_display(coldspots, tolerance_m=tolerance_m)

    def props(row: pd.Series) -> dict[str, str]:
        return {
            "Access cold spot": _area_text(row) or "area",
            "Ward": _esc(row.get(WARD_NAME)),
            "Reason": _esc(row[REASON]),
        }

    group = folium.FeatureGroup(name=ACCESS_COLDSPOT_LAYER, show=True)
    _geojson(
        _features(shown, props),
        style_function=lambda f: {
            "color": COLDSPOT_COLOUR,
            "weight": 2.5,
            "fillColor": COLDSPOT_COLOUR,
            "fillOpacity": 0.35,
        },
        tooltip=_tooltip(["Access cold spot", "Ward", "Reason"]),
    ).add_to(group)
    group.add_to(m)
    return [
        f"{_swatch(COLDSPOT_COLOUR, border=COLDSPOT_COLOUR)} <b>Access cold spot</b>: far from "
        f"suitable provision, from travel times ({len(shown)} areas)"
    ]


def _add_gi(m: folium.Map, clusters: gpd.GeoDataFrame, *, tolerance_m: float) -> list[str]:
    labels = clusters[GI_LABEL].astype(str)
    significant = clusters[labels != GI_NOT_SIGNIFICANT]
    shown = _for_display(significant, tolerance_m=tolerance_m)

    def props(row: pd.Series) -> dict[str, str]:
        return {
            "Area": _area_text(row),
            "Gi* cluster (statistical)": _esc(row[GI_LABEL]),
        }

    data = _features(shown, props)
    for feature, label in zip(data["features"], shown[GI_LABEL].astype(str)):
        feature["properties"]["_fill"] = GI_COLOURS.get(label, GI_OTHER_COLOUR)
    group = folium.FeatureGroup(name=GI_LAYER, show=False)
    _geojson(
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
    for lab, colour in GI_COLOURS.items():
        rows.append(f"{_swatch(colour)} Gi* {_esc(lab)} ({int(counts.get(lab, 0))})")
    others = {
        k: int(v) for k, v in counts.items() if k not in GI_COLOURS and k != GI_NOT_SIGNIFICANT
    }
    for lab, n in sorted(others.items()):
        rows.append(f"{_swatch(GI_OTHER_COLOUR)} Gi* {_esc(lab)} ({n})")
    rows.append(
        f"Not shown: {int(counts.get(GI_NOT_SIGNIFICANT, 0))} areas not significant. "
        "A Gi* <i>cold</i> cluster is a group of areas <i>near</i> provision, not an access cold spot."
    )
    return rows


def _add_recommendations(m: folium.Map, recs: gpd.GeoDataFrame) -> list[str]:
    shown = _for_display(recs, tolerance_m=0).sort_values(RANK)
    group = folium.FeatureGroup(name=RECOMMENDATIONS_LAYER, show=True)
    for _, row in shown.iterrows():
        point = (
            row.geometry
            if row.geometry.geom_type == "Point"
            else row.geometry.representative_point()
        )
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
        folium.Marker(
            location=[point.y, point.x],
            icon=icon,
            tooltip=folium.Tooltip(f"#{rank} {_esc(row[SITE_NAME])}"),
            popup=folium.Popup(popup, max_width=340),
        ).add_to(group)
    group.add_to(m)
    return [
        '<span style="display:inline-block;width:14px;height:14px;border-radius:50%;'
        'background:#111;border:2px solid #ffd400;vertical-align:middle"></span> '
        f"Recommended new site, numbered by rank ({len(shown)})"
    ]


def _add_wards(m: folium.Map, wards: gpd.GeoDataFrame, *, tolerance_m: float) -> list[str]:
    shown = _for_display(wards, tolerance_m=tolerance_m)
    group = folium.FeatureGroup(name=WARDS_LAYER, show=True)
    _geojson(
        _features(shown, lambda row: {"Ward": _esc(row[WARD_NAME])}),
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
    _geojson(
        _features(shown, lambda row: {}),
        style_function=lambda f: {"color": "#000", "weight": 3, "fillOpacity": 0},
        interactive=False,
    ).add_to(group)
    group.add_to(m)


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
        shown in minutes. NaN (or inf) is drawn grey and labelled "unreachable" in the legend.
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
    m = folium.Map(tiles=tiles, control_scale=True, prefer_canvas=False)
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
    provider_rows = _add_providers(m, located)
    if recommendations is not None:
        legend += _add_recommendations(m, recommendations)
    legend = [
        "<b>Providers</b> (filled: AP; ring: AP-adjacent)",
        *provider_rows,
        *legend,
    ]

    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    root = cast(Figure, m.get_root())
    root.header.add_child(Element(f"<title>{_esc(title)}</title>"), name="apgeo_title")
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
    return (
        '<div id="apgeo-title" style="position:fixed;top:10px;left:60px;z-index:1000;'
        "max-width:440px;background:rgba(255,255,255,0.95);padding:8px 10px;border:1px solid #888;"
        'border-radius:4px;font:13px/1.35 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)">'
        f'<div style="font-size:16px;font-weight:bold">{_esc(title)}</div>'
        '<div id="apgeo-method-note" style="margin-top:4px;padding:4px 6px;background:#fff3cd;'
        f'border-left:4px solid #e0a800;font-weight:bold">{_esc(method_note)}</div>'
        '<div style="margin-top:4px;font-size:11px">"Cold spot" means three things: '
        "<i>access cold spot</i> = far from suitable provision (travel times); "
        "<i>Gi* cluster</i> = statistical cluster of long/short travel times; "
        "the Centre for Social Justice's quality ranking of local authorities is not shown.</div>"
        f"{note}</div>"
    )


def _legend_box(rows: Sequence[str]) -> str:
    body = "".join(f"<div>{r}</div>" for r in rows)
    return (
        '<div id="apgeo-legend" style="position:fixed;bottom:60px;left:10px;z-index:1000;'
        "max-width:340px;max-height:55vh;overflow-y:auto;background:rgba(255,255,255,0.95);"
        "padding:6px 8px;border:1px solid #888;border-radius:4px;font:12px/1.4 sans-serif;"
        'box-shadow:0 1px 4px rgba(0,0,0,.3)"><div style="font-weight:bold">Legend</div>'
        f"{body}</div>"
    )


# ---- saving ------------------------------------------------------------------------------

#: Where Debian's ``libjs-leaflet`` and ``libjs-jquery`` put local copies of the files the
#: map loads from CDNs, keyed by the CDN file name.
DEBIAN_ASSETS: dict[str, str] = {
    "leaflet.js": "/usr/share/javascript/leaflet/leaflet.min.js",
    "leaflet.css": "/usr/share/javascript/leaflet/leaflet.css",
    "jquery-3.7.1.min.js": "/usr/share/javascript/jquery/jquery.min.js",
}


def system_assets() -> dict[str, Path]:
    """Local copies of Leaflet / jQuery installed by the system (Debian packages), if any.

    Returns
    -------
    dict
        CDN file name -> local file, for the files present (``apt-get install libjs-leaflet
        libjs-jquery`` provides them). Pass it to :func:`save_map` as ``offline_assets``.
    """
    return {name: Path(p) for name, p in DEBIAN_ASSETS.items() if Path(p).is_file()}


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
                f"offline_assets[{name!r}] = {str(path)!r} is not a file; install it "
                "(e.g. apt-get install libjs-leaflet libjs-jquery) or drop the entry"
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


def save_map(
    m: folium.Map,
    path: str | Path,
    *,
    offline_assets: Mapping[str, str | Path] | None = None,
) -> Path:
    """Write ``m`` as one HTML file (data embedded), creating the parent folder.

    Parameters
    ----------
    m
        A map from :func:`study_map` (or any folium map).
    path
        The ``.html`` file to write.
    offline_assets
        CDN file name (e.g. ``"leaflet.js"``) -> local file. Each script or stylesheet the
        page would fetch from a CDN whose file name is a key is inlined instead, so the map
        draws without the internet (the basemap tiles still need it). :func:`system_assets`
        gives Debian's copies of Leaflet and jQuery. Files not listed keep their CDN link.

    Returns
    -------
    Path
        The file written.
    """
    out = Path(path).expanduser()
    out.parent.mkdir(parents=True, exist_ok=True)
    text = m.get_root().render()
    if offline_assets:
        text = _inline_assets(text, offline_assets)
    out.write_text(text, encoding="utf-8")
    return out


# ---- flow map (referring school -> provider) ----------------------------------------------

#: Line widths (pixels) of flow bands: (lowest count, highest count exclusive, width).
FLOW_BANDS: tuple[tuple[float, float, float], ...] = (
    (5.0, 10.0, 2.0),
    (10.0, 20.0, 4.0),
    (20.0, 50.0, 7.0),
    (50.0, math.inf, 11.0),
)
FLOW_COLOUR = "#54278f"
FLOW_SCHOOL_COLOUR = "#636363"
FLOWS_LAYER = "Placement flows: referring school to provider"
_FLOW_COLUMNS = (
    "school_urn",
    "school_name",
    "destination_id",
    "destination_name",
    "placements",
    "suppressed",
    "school_easting",
    "school_northing",
    "destination_easting",
    "destination_northing",
)


def _flow_width(count: float) -> float:
    for lo, hi, width in FLOW_BANDS:
        if lo <= count < hi:
            return width
    return FLOW_BANDS[0][2]


def _to_lonlat(x: pd.Series, y: pd.Series) -> np.ndarray:
    pts = gpd.GeoSeries(gpd.points_from_xy(x, y), crs=WORKING_CRS).to_crs(DISPLAY_CRS)
    return np.round(np.column_stack([pts.y.to_numpy(), pts.x.to_numpy()]), _COORD_DECIMALS)


def _flow_title_box(title: str, method_note: str | None, synthetic: bool, note: str) -> str:
    banner = (
        '<div id="apgeo-synthetic" style="margin-top:4px;padding:4px 6px;background:#f8d7da;'
        'border-left:4px solid #b02a37;font-weight:bold">SYNTHETIC DATA: made-up placements '
        "for testing and demonstration, not real pupils</div>"
        if synthetic
        else ""
    )
    method = (
        '<div id="apgeo-method-note" style="margin-top:4px;padding:4px 6px;background:#fff3cd;'
        f'border-left:4px solid #e0a800;font-weight:bold">{_esc(method_note)}</div>'
        if method_note
        else ""
    )
    return (
        '<div id="apgeo-title" style="position:fixed;top:10px;left:60px;z-index:1000;'
        "max-width:440px;background:rgba(255,255,255,0.95);padding:8px 10px;border:1px solid #888;"
        'border-radius:4px;font:13px/1.35 sans-serif;box-shadow:0 1px 4px rgba(0,0,0,.3)">'
        f'<div style="font-size:16px;font-weight:bold">{_esc(title)}</div>{banner}{method}'
        f'<div style="margin-top:4px;font-size:11px">{_esc(note)}</div></div>'
    )


def flow_map(
    flows: pd.DataFrame,
    *,
    title: str,
    method_note: str | None = None,
    providers: gpd.GeoDataFrame | None = None,
    boundary: gpd.GeoDataFrame | None = None,
    synthetic: bool | None = None,
    threshold: int | None = None,
    tiles: str | None = "OpenStreetMap",
) -> folium.Map:
    """Map of placement flows from referring schools to providers, line width by count.

    Only flows whose count is shown (``threshold`` or more, not suppressed) are drawn:
    suppressed flows are *not drawn at all* (not even as a neutral line), because a line
    alone would show that a school placed at least one pupil with a provider. The note
    says how many pairs are left off. Counts appear only in bands and tooltips of drawn
    flows; home locations never appear.

    Parameters
    ----------
    flows
        From :func:`apgeo.placements.flow_lines`: ``school_urn``, ``school_name``,
        ``destination_id``, ``destination_name``, ``placements`` (NaN = suppressed),
        ``suppressed``, ``school_easting``, ``school_northing``, ``destination_easting``,
        ``destination_northing`` (EPSG:27700).
    title
        Map title; "SYNTHETIC DATA - " is put in front when the flows are synthetic.
    method_note
        Optional note on the data (e.g. the placement file's date).
    providers
        Optional provider sites drawn as in :func:`study_map`.
    boundary
        Optional local authority boundary.
    synthetic
        Whether the flows are synthetic (default: ``flows.attrs["synthetic"]``).
    threshold
        Smallest count that may be shown (default: settings, 5). A row with a shown
        count from 1 to ``threshold - 1`` is refused.
    tiles
        Basemap name (``None`` for none).

    Returns
    -------
    folium.Map
        Save it with :func:`save_map`.

    Raises
    ------
    MissingColumnError
        ``flows`` lacks a column.
    ApgeoValueError
        Empty title, or a small count that was not suppressed.
    """
    from apgeo.settings import get_settings

    if not str(title).strip():
        raise ApgeoValueError("title is empty; give the map a title saying what it shows")
    require_columns(flows, _FLOW_COLUMNS, source="flows")
    limit = get_settings().suppression_threshold if threshold is None else int(threshold)
    counts = pd.to_numeric(flows["placements"], errors="coerce")
    hidden = flows["suppressed"].fillna(True).astype(bool) | counts.isna()
    small = ~hidden & (counts > 0) & (counts < limit)
    if small.any():
        raise ApgeoValueError(
            f"flows: {int(small.sum())} flow(s) show a count from 1 to {limit - 1}; suppress them first "
            "(apgeo.placements.flow_matrix / flow_lines) - the map never draws small numbers"
        )
    if synthetic is None:
        synthetic = bool(flows.attrs.get("synthetic", False))
    if synthetic and "SYNTHETIC" not in str(title).upper():
        title = f"SYNTHETIC DATA - {title}"
    if providers is not None:
        _check_gdf(providers, name="providers", columns=[PROVIDER_ID, NAME, KIND, KEY_STAGES])
    if boundary is not None:
        _check_gdf(boundary, name="boundary", columns=[])

    ends = ["school_easting", "school_northing", "destination_easting", "destination_northing"]
    located = flows[ends].notna().all(axis=1)
    drawn = flows[~hidden & (counts >= limit) & located].copy()
    drawn["_count"] = counts[drawn.index]
    drawn = drawn.sort_values(["_count", "school_urn", "destination_id"], ascending=[True, True, True])
    left_off = int((hidden & (counts.isna() | (counts > 0))).sum())
    unlocated = int((~hidden & (counts >= limit) & ~located).sum())

    m = folium.Map(tiles=tiles, control_scale=True, prefer_canvas=False)
    all_points = []
    if len(drawn):
        a = _to_lonlat(drawn["school_easting"], drawn["school_northing"])
        b = _to_lonlat(drawn["destination_easting"], drawn["destination_northing"])
        all_points = [*a.tolist(), *b.tolist()]
    if boundary is not None and len(boundary):
        xmin, ymin, xmax, ymax = boundary.to_crs(DISPLAY_CRS).total_bounds
        all_points += [[ymin, xmin], [ymax, xmax]]
    if all_points:
        arr = np.asarray(all_points, dtype=float)
        m.fit_bounds(
            [
                [round(float(arr[:, 0].min()), _COORD_DECIMALS), round(float(arr[:, 1].min()), _COORD_DECIMALS)],
                [round(float(arr[:, 0].max()), _COORD_DECIMALS), round(float(arr[:, 1].max()), _COORD_DECIMALS)],
            ]
        )
    if boundary is not None:
        _add_boundary(m, boundary, tolerance_m=20.0)

    group = folium.FeatureGroup(name=_esc(FLOWS_LAYER), show=True)
    schools_group = folium.FeatureGroup(name="Referring schools (with a drawn flow)", show=True)
    seen_schools: set[str] = set()
    for k, (_, row) in enumerate(drawn.iterrows()):
        count = float(row["_count"])
        tip = (
            f"{_esc(row['school_name'])} &rarr; {_esc(row['destination_name'])}: "
            f"{_fmt_number(count)} placements"
        )
        folium.PolyLine(
            locations=[a[k].tolist(), b[k].tolist()],
            color=FLOW_COLOUR,
            weight=_flow_width(count),
            opacity=0.7,
            tooltip=folium.Tooltip(tip),
        ).add_to(group)
        urn = str(row["school_urn"])
        if urn not in seen_schools:
            seen_schools.add(urn)
            folium.CircleMarker(
                location=a[k].tolist(),
                radius=4,
                color=FLOW_SCHOOL_COLOUR,
                weight=1,
                fill=True,
                fill_color="#ffffff",
                fill_opacity=1.0,
                tooltip=folium.Tooltip(_esc(row["school_name"])),
            ).add_to(schools_group)
    group.add_to(m)
    schools_group.add_to(m)
    legend: list[str] = ["<b>Placements per school-provider pair</b>"]
    for lo, hi, width in FLOW_BANDS:
        label = f"{lo:g} or more" if math.isinf(hi) else f"{lo:g} to {hi - 1:g}"
        legend.append(
            f'<span style="display:inline-block;width:28px;height:0;border-top:{width:g}px solid {FLOW_COLOUR};'
            f'vertical-align:middle"></span> {_esc(label)}'
        )
    legend.append(
        f'<span style="display:inline-block;width:10px;height:10px;border-radius:50%;border:1px solid '
        f'{FLOW_SCHOOL_COLOUR};background:#fff;vertical-align:middle"></span> Referring school'
    )
    if providers is not None:
        shown = providers[~(providers.geometry.isna() | providers.geometry.is_empty)]
        if LOCATED in shown.columns:
            shown = shown[shown[LOCATED].fillna(False).astype(bool)]
        legend += ["<b>Providers</b>", *_add_providers(m, shown)]
    note = (
        f"{len(drawn)} flow(s) drawn. Flows of fewer than {limit} placements, and flows hidden so "
        f"that small ones cannot be worked out ({left_off} pair(s) in all), are not drawn."
    )
    if unlocated:
        note += f" {unlocated} shown flow(s) have an end without a location and are not drawn."
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    root = cast(Figure, m.get_root())
    root.header.add_child(Element(f"<title>{_esc(title)}</title>"), name="apgeo_title")
    root.html.add_child(Element(_flow_title_box(title, method_note, bool(synthetic), note)))
    root.html.add_child(Element(_legend_box(legend)))
    _SafeFullscreen(position="topleft").add_to(m)
    return m
