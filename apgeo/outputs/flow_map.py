"""The flow map: referring school -> provider lines of the suppressed placement flows.
"""

from __future__ import annotations

import math
from typing import cast

import folium
import folium.plugins
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import Element, Figure

from apgeo._errors import ApgeoValueError
from apgeo._validate import require_columns
from apgeo.outputs.map_layers import (
    _COORD_DECIMALS,
    DISPLAY_CRS,
    _add_boundary,
    _add_providers,
    _check_gdf,
    _esc,
    _fmt_number,
    _SafeFullscreen,
)
from apgeo.outputs.maps import _legend_box, title_box, use_bundled_libraries
from apgeo.schema import (
    KEY_STAGES,
    KIND,
    LOCATED,
    NAME,
    PROVIDER_ID,
)
from apgeo.settings import WORKING_CRS

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
    return title_box(title, f'{banner}{method}<div style="margin-top:4px;font-size:11px">{_esc(note)}</div>')


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
        From :func:`apgeo.analysis.flows.flow_lines`: ``school_urn``, ``school_name``,
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
            "(apgeo.analysis.flows.flow_matrix / flow_lines) - the map never draws small numbers"
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

    m = use_bundled_libraries(folium.Map(tiles=tiles, control_scale=True, prefer_canvas=False))
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
