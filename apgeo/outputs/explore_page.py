"""The ``apgeo explore`` page: the study's map, edited by hand, answering back.

One ipywidgets view (an ipyleaflet map beside a panel) serves both a notebook cell and the
local page that ``apgeo explore`` opens (voila renders the same widget). The planner drags
a site, clicks to add one (with "Add a site" on), selects a site to close it or change its
places or key stages, and switches the mode; each change goes to the
:class:`~apgeo.planning.live.LiveScenario` of an :class:`~apgeo.study.explore.ExploreSession`,
and the panel and the map's colours show what it changed. Everything the page draws comes
from installed packages (jupyter-leaflet bundles Leaflet): no tiles, no CDN, offline.

Hooks for tests: every number of the panel is a cell ``td[data-metric][data-key-stage]``
with its exact ``data-before`` / ``data-after`` values; ``pre.apgeo-changes`` holds the
edits as the scenario CSV; ``.apgeo-site-<site id>`` marks each site's marker.
"""

from __future__ import annotations

import html
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from apgeo import schema as S
from apgeo.planning.live import LiveResult
from apgeo.study.explore import MODE_LABELS, ExploreSession, save_scenario

#: Nearest-site time bands (upper bound in minutes, fill colour, label); unreachable is grey.
BANDS: tuple[tuple[float, str, str], ...] = (
    (15.0, "#1a9850", "within 15 min"),
    (30.0, "#91cf60", "15-30 min"),
    (45.0, "#fee08b", "30-45 min"),
    (math.inf, "#fc8d59", "over 45 min"),
)
UNREACHABLE_COLOUR = "#bdbdbd"
NEW_COLDSPOT = "#d7191c"
RESOLVED_COLDSPOT = "#2c7bb6"
KEY_STAGES_SHOWN = ("all", "KS1", "KS2", "KS3", "KS4")


def band_colour(minutes: float) -> str:
    """The fill colour of a nearest-site time in minutes (NaN: unreachable).

    Parameters
    ----------
    minutes
        Time to the nearest site in minutes; NaN or infinite when unreachable.

    Returns
    -------
    str
        The colour of the first band of :data:`BANDS` whose upper limit is at least
        ``minutes`` (:data:`UNREACHABLE_COLOUR` when unreachable).
    """
    if not np.isfinite(minutes):
        return UNREACHABLE_COLOUR
    for upper, colour, _ in BANDS:
        if minutes <= upper:
            return colour
    return BANDS[-1][1]  # pragma: no cover - the last band is unbounded


def _zoom_to_fit(
    south: float, west: float, north: float, east: float, *, width_px: int = 900, height_px: int = 650
) -> int:
    """The largest web-map zoom at which the box fits a map of about this size."""
    def fraction_of_world_y(lat: float) -> float:
        s = math.sin(math.radians(max(min(lat, 85.0), -85.0)))
        return 0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)

    x_span = max(east - west, 1e-6) / 360.0
    y_span = max(abs(fraction_of_world_y(south) - fraction_of_world_y(north)), 1e-9)
    zoom = min(math.log2(width_px / 256 / x_span), math.log2(height_px / 256 / y_span))
    return int(max(1, min(18, math.floor(zoom))))


def _locations(geom: Any) -> list[Any]:
    """Leaflet latitude / longitude rings of a (multi)polygon in EPSG:4326 (holes kept)."""

    def rings(poly: Any) -> list[list[tuple[float, float]]]:
        return [[(round(y, 6), round(x, 6)) for x, y in ring.coords]
                for ring in (poly.exterior, *poly.interiors)]

    if geom.geom_type == "MultiPolygon":
        return [rings(p) for p in geom.geoms]
    return rings(geom)


def _css_id(site_id: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in str(site_id))


def _fmt(value: float, unit: str) -> str:
    if not np.isfinite(value):
        return "n/a"
    if unit == "share":
        return f"{value:.1%}"
    if unit in ("children", "areas", "areas x key stages"):
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def _signed(value: float, unit: str) -> str:
    if not np.isfinite(value) or value == 0:
        return "no change" if value == 0 else ""
    text = _fmt(abs(value), unit)
    return ("+" if value > 0 else "\u2212") + text


def _cells(table: pd.DataFrame) -> dict[tuple[str, str], dict[str, Any]]:
    """The rows of a comparison table by (metric, key stage), read once (a filter per cell
    copies the table's ``attrs`` each time)."""
    cols = ["metric", "key_stage", "before", "after", "change", "unit"]
    cells: dict[tuple[str, str], dict[str, Any]] = {}
    for r in pd.DataFrame(table[cols]).to_dict("records"):
        cells.setdefault((str(r["metric"]), str(r["key_stage"])), {str(k): v for k, v in r.items()})  # the first, as a filter reads it
    return cells


def _cell(cells: dict[tuple[str, str], dict[str, Any]], metric: str, ks: str) -> str:
    r = cells.get((metric, ks))
    if r is None:
        return "<td>-</td>"
    change = float(r["change"])
    better = -change if "cold spot" in metric else change  # fewer cold spots is better
    cls = "up" if better > 0 else ("down" if better < 0 else "same")
    return (
        f'<td data-metric="{html.escape(metric)}" data-key-stage="{ks}" '
        f'data-before="{float(r["before"])!r}" data-after="{float(r["after"])!r}" class="{cls}">'
        f'{_fmt(float(r["after"]), str(r["unit"]))}<br><small>{_signed(change, str(r["unit"]))}</small></td>'
    )


def results_html(result: LiveResult, *, description: str, changes_csv: str, method: str) -> str:
    """The panel: children within 15 / 30 / 45 min by key stage, access cold spots gained
    and lost, E2SFCA places per 1,000 children, the edits and how long the answer took.

    Parameters
    ----------
    result
        The comparison to show.
    description
        The scenario's edits in words.
    changes_csv
        The changes table as CSV text, offered for saving (``""``: no edits).
    method
        How the mode's travel times were made.

    Returns
    -------
    str
        An HTML fragment (style and a ``div``).
    """
    t = result.table
    cells = _cells(t)
    head = "".join(f"<th>{ks}</th>" for ks in KEY_STAGES_SHOWN)
    rows = []
    for minutes in (15, 30, 45):
        metric = f"children within {minutes} min"
        rows.append(f"<tr><th>within {minutes} min</th>" + "".join(_cell(cells, metric, ks) for ks in KEY_STAGES_SHOWN) + "</tr>")
    rows.append("<tr><th>cold spots</th>" + "".join(_cell(cells, "access cold spots", ks) for ks in KEY_STAGES_SHOWN) + "</tr>")
    access = "E2SFCA places per 1,000 children (demand-weighted mean)"
    if any(metric == access for metric, _ in cells):
        rows.append("<tr><th>places per 1,000</th><td>-</td>" + "".join(_cell(cells, access, ks) for ks in KEY_STAGES_SHOWN[1:]) + "</tr>")
    gained, lost = result.coldspots_new, result.coldspots_resolved
    cold = (
        f'<p class="apgeo-coldspots" data-gained="{len(gained)}" data-lost="{len(lost)}">'
        f'Access cold spots (area x key stage, over {result.table.attrs.get("cold_threshold", 30):g} min): '
        f'<b style="color:{NEW_COLDSPOT}">{len(gained)} gained</b>, '
        f'<b style="color:{RESOLVED_COLDSPOT}">{len(lost)} lost</b></p>'
    )
    return (
        "<style>.leaflet-div-icon{background:transparent;border:none}.apgeo-results table{border-collapse:collapse;font-size:12px;width:100%}"
        ".apgeo-results th,.apgeo-results td{border-bottom:1px solid #ddd;padding:2px 4px;text-align:right}"
        ".apgeo-results td.up{color:#1a7837}.apgeo-results td.down{color:#b2182b}"
        ".apgeo-results small{color:inherit}.apgeo-results pre{font-size:10px;white-space:pre-wrap;max-height:70px;overflow:auto}"
        "</style>"
        f'<div class="apgeo-results" data-mode="{html.escape(result.mode)}" data-elapsed-ms="{result.elapsed_ms:.1f}">'
        f"<b>{html.escape(MODE_LABELS.get(result.mode, result.mode))}</b> ({_how_made(result.mode, method)}): "
        "children (after, change vs today)"
        f"<table><tr><th></th>{head}</tr>{''.join(rows)}</table>{cold}"
        f'<p><small>{html.escape(description)}<br>Answered in {result.elapsed_ms:,.0f} ms. '
        f"{html.escape(method)}</small></p>"
        f'<pre class="apgeo-changes">{html.escape(changes_csv)}</pre></div>'
    )


def _how_made(mode: str, method: str) -> str:
    """A few words on how the mode's times were made, for the panel's heading (in view at
    1366 x 768; the full method closes the panel)."""
    if mode == "transit":
        return "timetable"
    return "<b>straight-line estimate</b>" if "STRAIGHT-LINE ESTIMATE" in method.upper() else "street network"


class ExplorePage:
    """The widget: a map of the study's demand areas and AP sites beside the panel.

    Parameters
    ----------
    session
        From :func:`apgeo.study.explore.explore_session`.
    height
        Height of the map (CSS).
    """

    def __init__(self, session: ExploreSession, *, height: str = "680px") -> None:
        import ipyleaflet as L
        import ipywidgets as W
        from pyproj import Transformer

        self.session = session
        self.live = session.live
        self._to_wgs = Transformer.from_crs(27700, 4326, always_xy=True)
        self._to_bng = Transformer.from_crs(4326, 27700, always_xy=True)
        self.mode = self.live.modes[0]
        self.selected: str | None = None
        self._quiet = False
        self.last: LiveResult | None = None
        self.last_update_ms = math.nan

        demand = session.study.demand
        areas = demand[[S.AREA_ID, S.AREA_NAME, "geometry"]].copy()
        areas["geometry"] = areas.geometry.simplify(20.0)
        areas = areas.to_crs(4326)
        # One polygon per area, drawn once: a change sends only the fill colours that
        # changed (a few bytes each), never the shapes again.
        self._area_ids = [str(a) for a in areas[S.AREA_ID]]
        self._area_polygons = [
            L.Polygon(locations=_locations(g), name=str(n), fill_color=UNREACHABLE_COLOUR, fill_opacity=0.6,
                      color="#666", weight=1, opacity=0.5)
            for n, g in zip(areas[S.AREA_NAME], areas.geometry, strict=True)
        ]
        # the outlines of every area, prebuilt: the cold-spot layer holds only those gained or lost
        self._outlines = {
            aid: {"type": "Feature", "id": aid, "properties": {"area_id": aid},
                  "geometry": g.boundary.__geo_interface__}
            for aid, g in zip(self._area_ids, areas.geometry, strict=True)
        }
        self._coldspot_key: tuple[frozenset[str], frozenset[str]] | None = None
        west, south, east, north = areas.total_bounds
        self.areas_layer = L.LayerGroup(layers=tuple(self._area_polygons), name="Demand areas")
        self.coldspot_layer = L.GeoJSON(data={"type": "FeatureCollection", "features": []},
                                        name="Cold spots gained / lost")
        self.sites_layer = L.LayerGroup(name="AP sites")
        self.map = L.Map(
            center=((south + north) / 2, (west + east) / 2),
            zoom=_zoom_to_fit(south, west, north, east), layers=(),
            scroll_wheel_zoom=True, layout=W.Layout(height=height, width="100%"),
            attribution_control=False,
        )
        self.map.add(self.areas_layer)
        self.map.add(self.coldspot_layer)
        self.map.add(self.sites_layer)
        # (not Map.fit_bounds: it schedules a coroutine on an event loop that a kernel
        # started ahead of the page, or a test, never runs)
        self.map.on_interaction(self._on_map)
        self._markers: dict[str, Any] = {}

        self.mode_buttons = W.ToggleButtons(
            options=[(MODE_LABELS.get(m, m), m) for m in self.live.modes], value=self.mode,
            style={"button_width": "112px"},
        )
        self.mode_buttons.observe(self._on_mode, names="value")
        self.add_toggle = W.ToggleButton(description="Add a site", tooltip="then click the map", icon="plus")
        self.undo_button = W.Button(description="Undo")
        self.reset_button = W.Button(description="Reset")
        self.save_button = W.Button(description="Save scenario")
        self.undo_button.on_click(lambda _: self._edit(self.live.undo))
        self.reset_button.on_click(lambda _: self._edit(self.live.reset))
        self.save_button.on_click(self._on_save)
        self.site_title = W.HTML("<i>Select a site on the map</i>")
        self.ks_boxes = {ks: W.Checkbox(description=ks, indent=False, layout=W.Layout(width="56px")) for ks in ("KS1", "KS2", "KS3", "KS4")}
        self.places = W.FloatText(description="Places", layout=W.Layout(width="150px"))
        self.apply_site = W.Button(description="Apply", button_style="primary", layout=W.Layout(width="70px"))
        self.close_button = W.Button(description="Close site", button_style="danger", layout=W.Layout(width="90px"))
        self.apply_site.on_click(self._on_apply_site)
        self.close_button.on_click(self._on_close)
        self.results = W.HTML()
        self.saved = W.HTML()
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in session.notes[:3])
        legend = " ".join(
            f'<span style="background:{c};padding:0 6px">&nbsp;</span> {label}' for _, c, label in BANDS
        ) + f' <span style="background:{UNREACHABLE_COLOUR};padding:0 6px">&nbsp;</span> none'
        panel = W.VBox(
            [
                W.HTML(f"<b>{html.escape(session.config.title)}</b><br><small>Nearest AP site: {legend}; "
                       f'outline <span style="color:{NEW_COLDSPOT}">new</span> / '
                       f'<span style="color:{RESOLVED_COLDSPOT}">resolved</span> cold spot</small>'
                       + (f"<ul style='font-size:10px;margin:2px'>{notes}</ul>" if notes else "")),
                self.mode_buttons,
                W.HBox([self.add_toggle, self.undo_button, self.reset_button, self.save_button]),
                self.site_title,
                W.HBox(list(self.ks_boxes.values())),
                W.HBox([self.places, self.apply_site, self.close_button]),
                self.results,
                self.saved,
            ],
            layout=W.Layout(width="470px", min_width="470px", padding="0 6px"),
        )
        for child in panel.children:  # a column never squeezes its controls to nothing
            child.layout.flex = "0 0 auto"
        self.widget = W.HBox([W.Box([self.map], layout=W.Layout(flex="1 1 auto")), panel], layout=W.Layout(width="100%"))
        self.widget.add_class("apgeo-explore")
        self.update()

    # ---- coordinates -----------------------------------------------------------------
    def _latlng(self, geom: Any) -> tuple[float, float]:
        lon, lat = self._to_wgs.transform(geom.x, geom.y)
        return (lat, lon)

    def _point(self, latlng: Any) -> Any:
        from shapely.geometry import Point

        x, y = self._to_bng.transform(float(latlng[1]), float(latlng[0]))
        return Point(x, y)

    # ---- drawing ---------------------------------------------------------------------
    def _draw_sites(self) -> None:
        import ipyleaflet as L

        sites = self.live.sites()
        kinds = set(self.session.study.ap_kinds)
        added = {c.site_id for c in self.live.scenario.changes if c.action == "add"}
        shown = sites[sites[S.KIND].isin(kinds) | sites[S.SITE_ID].isin(added)]
        keep: dict[str, Any] = {}
        self._quiet = True
        try:
            for sid, name, ks, geom in zip(shown[S.SITE_ID].astype(str), shown[S.NAME], shown[S.KEY_STAGES], shown.geometry, strict=True):
                colour = "#7b3294" if sid in added else "#222"
                ring = "3px solid #ff0" if sid == self.selected else "2px solid #fff"
                icon_html = (f'<div class="apgeo-site apgeo-site-{_css_id(sid)}" data-site-id="{html.escape(sid)}" '
                             f'title="{html.escape(str(name))}" style="width:14px;height:14px;border-radius:50%;'
                             f'background:{colour};border:{ring};box-shadow:0 0 2px #000"></div>')
                marker = self._markers.get(sid)
                if marker is None:
                    marker = L.Marker(location=self._latlng(geom), draggable=True, title=f"{name} ({ks})",
                                      icon=L.DivIcon(html=icon_html, icon_size=[18, 18], class_name=f"apgeo-site apgeo-site-{_css_id(sid)}"))
                    marker.observe(lambda change, sid=sid: self._on_drag(sid, change), names="location")
                    marker.on_click(lambda sid=sid, **_: self._select(sid))
                    self.sites_layer.add(marker)
                else:
                    loc = self._latlng(geom)
                    if max(abs(loc[0] - marker.location[0]), abs(loc[1] - marker.location[1])) > 1e-7:
                        marker.location = loc
                    if marker.icon.html != icon_html:
                        marker.icon.html = icon_html
                    marker.title = f"{name} ({ks})"
                keep[sid] = marker
            for sid, marker in list(self._markers.items()):
                if sid not in keep:
                    self.sites_layer.remove(marker)
        finally:
            self._quiet = False
        self._markers = keep

    def _draw_areas(self, result: LiveResult) -> None:
        """Recolour the areas whose band changed; redraw the cold-spot outlines if they changed."""
        after = result.nearest_after_s.to_numpy(dtype=float) / 60.0
        for polygon, minutes in zip(self._area_polygons, after, strict=True):
            colour = band_colour(minutes)
            if polygon.fill_color != colour:
                polygon.fill_color = colour
        gained = frozenset(c.split(" ")[0] for c in result.coldspots_new)
        lost = frozenset(c.split(" ")[0] for c in result.coldspots_resolved) - gained
        if (gained, lost) == self._coldspot_key:
            return
        self._coldspot_key = (gained, lost)
        features = [
            {**self._outlines[aid], "properties": {"area_id": aid, "change": change,
                                                   "style": {"color": colour, "weight": 3, "opacity": 1.0, "fill": False}}}
            for aids, change, colour in ((gained, "gained", NEW_COLDSPOT), (lost, "lost", RESOLVED_COLDSPOT))
            for aid in sorted(aids) if aid in self._outlines
        ]
        self.coldspot_layer.data = {"type": "FeatureCollection", "features": features}

    def update(self) -> LiveResult:
        """Compare the live scenario in the current mode and redraw the panel and map.

        Returns
        -------
        LiveResult
            The comparison just drawn (also kept as :attr:`last`).
        """
        started = time.perf_counter()
        result = self.live.compare(self.mode)
        result.table.attrs["cold_threshold"] = self.live.max_travel_time_min
        self._draw_sites()
        self._draw_areas(result)
        self.results.value = results_html(
            result, description=self.live.scenario.describe(),
            changes_csv=self.live.changes_table().to_csv(index=False) if self.live.scenario.changes else "",
            method=self.session.methods.get(self.mode, ""),
        )
        self.last = result
        self.last_update_ms = (time.perf_counter() - started) * 1000.0
        return result

    # ---- events ----------------------------------------------------------------------
    def _edit(self, action: Any, *args: Any) -> None:
        try:
            action(*args)
        except Exception as exc:  # a planner's edit the scenario refuses: say so, keep the page
            self.saved.value = f'<span style="color:#b2182b">{html.escape(str(exc))}</span>'
            return
        self.saved.value = ""
        self.update()

    def _on_drag(self, site_id: str, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        self._edit(self.live.move_site, site_id, self._point(change["new"]))

    def _on_map(self, **event: Any) -> None:
        if event.get("type") != "click" or not self.add_toggle.value:
            return
        self.add_toggle.value = False
        try:
            sid = self.live.add_site(self._point(event["coordinates"]), key_stages="KS3,KS4")
        except Exception as exc:
            self.saved.value = f'<span style="color:#b2182b">{html.escape(str(exc))}</span>'
            return
        self.selected = sid
        self._show_site()
        self.update()

    def _on_mode(self, change: dict[str, Any]) -> None:
        self.mode = change["new"]
        self.update()

    def _select(self, site_id: str) -> None:
        self.selected = site_id
        self._show_site()
        self._draw_sites()

    def _show_site(self) -> None:
        sites = self.live.sites().set_index(S.SITE_ID)
        if self.selected not in sites.index:
            self.selected = None
            self.site_title.value = "<i>Select a site on the map</i>"
            return
        row = sites.loc[self.selected]
        served = set(S.parse_key_stages(row[S.KEY_STAGES]))
        for ks, box in self.ks_boxes.items():
            box.value = ks in served
        places = pd.to_numeric(pd.Series([row.get(S.CAPACITY_PLACES)]), errors="coerce").iloc[0]
        self.places.value = float(places) if pd.notna(places) else 0.0
        self.site_title.value = f"<b>{html.escape(str(row[S.NAME]))}</b> <small>({html.escape(str(self.selected))})</small>"

    def _on_apply_site(self, _: Any) -> None:
        if self.selected is None:
            return
        sid = self.selected
        row = self.live.sites().set_index(S.SITE_ID).loc[sid]
        ks = [k for k, box in self.ks_boxes.items() if box.value]
        before_ks = ",".join(S.parse_key_stages(row[S.KEY_STAGES]))
        try:
            if ks and ",".join(ks) != before_ks and set(ks) != set(before_ks.split(",")) - {"KS5"}:
                self.live.set_key_stages(sid, ks + (["KS5"] if "KS5" in before_ks else []))
            old = pd.to_numeric(pd.Series([row.get(S.CAPACITY_PLACES)]), errors="coerce").iloc[0]
            if self.places.value > 0 and (pd.isna(old) or float(old) != float(self.places.value)):
                self.live.set_capacity(sid, float(self.places.value))
        except Exception as exc:
            self.saved.value = f'<span style="color:#b2182b">{html.escape(str(exc))}</span>'
            return
        self.update()

    def _on_close(self, _: Any) -> None:
        if self.selected is None:
            return
        sid, self.selected = self.selected, None
        self._show_site()
        self._edit(self.live.close_site, sid)

    def _on_save(self, _: Any) -> None:
        folder = self.session.config.output_dir / "scenarios"
        toml_path, csv_path = save_scenario(self.session, folder)
        self.saved.value = (f'<small class="apgeo-saved">Saved {html.escape(str(csv_path))} and '
                            f"{html.escape(str(toml_path))}: add the [scenario] lines to the study config.</small>")


def explore(config: str | Path) -> Any:
    """The explore widget of a study config (for a notebook cell, or voila).

    Parameters
    ----------
    config
        Path of the study's TOML config.

    Returns
    -------
    ipywidgets.Widget
        The page's widget (map and panel); the study's warnings are shown on the page.
    """
    import warnings

    from apgeo._errors import ApgeoWarning
    from apgeo.study.config import load_config
    from apgeo.study.explore import explore_session

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ApgeoWarning)  # shown on the page instead
        session = explore_session(load_config(config))
    return ExplorePage(session).widget


__all__ = ["BANDS", "ExplorePage", "band_colour", "explore", "results_html"]
