"""Files of the England comparison: CSV, GeoPackage, Markdown and HTML summary, optional map.

:func:`write_england_outputs` writes what :func:`apgeo.analysis.england.england_comparison`
returns, with the caveats next to the figures. The GeoPackage holds one point layer per
mode at each authority's child-weighted LSOA centroid (EPSG:27700); its timestamps are
fixed (GDAL's ``OGR_CURRENT_DATE``) so reruns on the same data are byte-identical.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd

from apgeo import schema as S
from apgeo._validate import require_columns
from apgeo.analysis.england import (
    CAVEATS,
    DENSITY_PROXY,
    EQUITY_RULE,
    MEDIAN_RULE,
    NEIGHBOURS_LABEL,
    RANK_RULE,
    SIMILARITY_RULE,
    area_la_code,
    comparators,
)
from apgeo.outputs.files import (
    GPKG_TIMESTAMP as GPKG_TIMESTAMP,  # re-exported: the GeoPackage's fixed date
)
from apgeo.outputs.files import write_csv, write_gpkg
from apgeo.settings import WORKING_CRS

_SHOWN = {
    "la_name": "authority",
    "children_0_15": "children 0-15",
    "ap_settings": "AP settings",
    "ap_settings_per_10k_children": "AP per 10k children",
    "share_within_30_min_any": "within 30 min (any)",
    "share_within_30_min_own": "within 30 min (own LA)",
    "median_time_min_any": "median min (any)",
    "median_time_min_own": "median min (own LA)",
    "equity_gap_share_within_30_min": "equity gap, 30 min share",
    "equity_gap_median_time_min": "equity gap, median min",
    "rank": "rank",
    "rank_own": "rank (own LA)",
    "similarity_distance": "similarity distance (z)",
}


def _cell(value: object, column: str) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    if isinstance(value, (float, int, np.integer, np.floating)) and not isinstance(value, bool):
        v = float(value)
        if column.startswith("share") or column == "equity_gap_share_within_30_min":
            return f"{v * 100:.1f}%"
        if (
            column.startswith(("children", "rank", "ap_settings"))
            and column != "ap_settings_per_10k_children"
        ):
            return f"{v:,.0f}"
        if column in ("ap_settings_per_10k_children", "similarity_distance"):
            return f"{v:.2f}"
        return f"{v:.1f}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _md_table(frame: pd.DataFrame, columns: list[str]) -> str:
    if frame.empty:
        return "_(none)_\n"
    head = [_SHOWN.get(c, c) for c in columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for _, row in frame.iterrows():
        lines.append("| " + " | ".join(_cell(row[c], c) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def standing_lines(table: pd.DataFrame, area: str | int) -> list[str]:
    """One Markdown bullet per mode: the area's rank and shares next to the median authority.

    Parameters
    ----------
    table
        The England comparison, one row per authority and mode.
    area
        The authority: LA number, name, or anything
        :func:`~apgeo.analysis.england.area_la_code` accepts.

    Returns
    -------
    list of str
        One bullet per mode, in the table's mode order.
    """
    code = area_la_code(table, area)
    lines = []
    n = table["la_code"].nunique()
    for mode, t in table.groupby(S.MODE, sort=False):
        r = t.loc[t["la_code"] == code].iloc[0]
        median_share = t["share_within_30_min_any"].median()
        lines.append(
            f"- **{mode}**: rank {int(r['rank'])} of {n}; "
            f"{r['share_within_30_min_any'] * 100:.1f}% of children within 30 min of the nearest AP "
            f"setting anywhere (median authority {median_share * 100:.1f}%), "
            f"{r['share_within_30_min_own'] * 100:.1f}% of their own authority's "
            f"(rank {int(r['rank_own'])}); median {r['median_time_min_any']:.1f} min"
        )
    return lines


def england_markdown(table: pd.DataFrame, comparison: pd.DataFrame, *, area_code: str) -> str:
    """The Markdown summary: caveats, where the area stands, comparators, extremes, rules.

    Parameters
    ----------
    table
        The England comparison, one row per authority and mode.
    comparison
        The comparator rows of :func:`~apgeo.analysis.england.comparators`.
    area_code
        The DfE LA number of the area the summary is about.

    Returns
    -------
    str
        The Markdown text.
    """
    name = str(table.loc[table["la_code"] == area_code, "la_name"].iloc[0])
    first = table.drop_duplicates("la_code")
    none = first.loc[~first["has_own_ap_setting"].astype(bool)]
    out = [
        "# Access to state-funded alternative provision: every English authority\n",
        f"{first['la_code'].nunique()} education authorities, "
        f"{int(first['children_0_15'].sum()):,} children aged 0-15, "
        f"{int(first['ap_settings'].sum())} state-funded AP settings in their authorities.\n",
    ]
    out += [f"> **Caveat.** {c}\n" for c in table.attrs.get("caveats", CAVEATS)]
    out += [f"- {m}" for m in table["method"].drop_duplicates()] + [""]
    out += [f"## Where {name} stands\n", *standing_lines(table, area_code), ""]
    cols = [
        "la_name",
        "children_0_15",
        "ap_settings",
        "ap_settings_per_10k_children",
        "share_within_30_min_any",
        "share_within_30_min_own",
        "median_time_min_any",
        "equity_gap_share_within_30_min",
        "rank",
        "similarity_distance",
    ]
    for mode, c in comparison.groupby(S.MODE, sort=False):
        out.append(f"### {name} and its comparators: {mode}\n")
        out.append(_md_table(c.assign(la_name=c["group"] + ": " + c["la_name"]), cols))
        method = table.loc[table[S.MODE] == mode, "method"].iloc[0]
        out.append(f"> {method}. Equity gap: most minus least deprived fifth.\n")
    out.append(f"Nearest neighbours {NEIGHBOURS_LABEL}. {SIMILARITY_RULE}. {DENSITY_PROXY}.\n")
    out.append(f"## Authorities with no AP setting of their own ({len(none)})\n")
    out.append(
        (", ".join(f"{n} ({c})" for c, n in zip(none["la_code"], none["la_name"])) or "none")
        + ". Their children's nearest setting is another authority's; the own-authority "
        "shares are 0. GIAS lists only state-funded AP: they may commission independent or "
        "unregistered AP, or places in neighbours' settings.\n"
    )
    short = [
        "la_name",
        "children_0_15",
        "ap_settings",
        "share_within_30_min_any",
        "median_time_min_any",
        "rank",
    ]
    for mode, t in table.groupby(S.MODE, sort=False):
        t = t.sort_values(["rank", "la_code"])
        out.append(f"## Best and worst access: {mode}\n")
        out.append(_md_table(t.head(10), short))
        out.append(_md_table(t.tail(10), short))
    out.append("## How the figures are made\n")
    out += [f"- {rule}" for rule in (RANK_RULE, EQUITY_RULE, MEDIAN_RULE, DENSITY_PROXY)]
    out.append(
        "\nSource: DfE Get Information about Schools (24 May 2025); MHCLG English Indices of "
        "Deprivation 2019 (IMD, population denominators); ONS LSOA 2011 population-weighted "
        "centroids. Open Government Licence v3.0. Contains OS data © Crown copyright and "
        "database right.\n"
    )
    return "\n".join(out)


def _html_page(text: str, title: str) -> str:
    from apgeo.outputs.html_page import html_page

    return html_page(text, title)  # names from the data stay text


def authority_points(table: pd.DataFrame) -> gpd.GeoDataFrame:
    """The table as points at each authority's child-weighted LSOA centroid (EPSG:27700).

    Parameters
    ----------
    table
        The England comparison (:func:`~apgeo.analysis.england.england_comparison`), with
        ``centroid_easting_m`` and ``centroid_northing_m``.

    Returns
    -------
    geopandas.GeoDataFrame
        The table's rows (index reset) with point geometries, EPSG:27700.
    """
    require_columns(
        table, ["centroid_easting_m", "centroid_northing_m"], source="England comparison"
    )
    geometry = gpd.points_from_xy(
        table["centroid_easting_m"], table["centroid_northing_m"], crs=WORKING_CRS
    )
    return gpd.GeoDataFrame(table.reset_index(drop=True), geometry=geometry, crs=WORKING_CRS)


def write_england_map(table: pd.DataFrame, path: Path, *, mode: str = "walk") -> Path:
    """A Folium map of authority points coloured by share of children within 30 min.

    Written by :func:`apgeo.outputs.maps.save_map`, so it opens without the internet
    (the colour key is plain HTML, not branca's d3 colour bar, which loads from a CDN).

    Parameters
    ----------
    table
        The England comparison (:func:`apgeo.analysis.england.england_comparison`).
    path
        The ``.html`` file to write.
    mode
        The mode whose shares are drawn.

    Returns
    -------
    Path
        The file written.
    """
    import folium
    from branca.colormap import LinearColormap
    from branca.element import Element, Figure

    from apgeo.outputs.map_layers import _esc  # escaped for the page and the tooltip's script
    from apgeo.outputs.maps import _legend_box, save_map, use_bundled_libraries

    pts = authority_points(table.loc[table[S.MODE] == mode]).to_crs("EPSG:4326")
    fmap = use_bundled_libraries(folium.Map(location=[53.0, -1.5], zoom_start=6, tiles="OpenStreetMap"))
    scale = LinearColormap(["#b2182b", "#f7f7f7", "#2166ac"], vmin=0, vmax=1)
    caption = (
        f"Share of children within 30 min of an AP setting ({mode}, straight-line estimate)"
    )
    for _, r in pts.iterrows():
        share = float(r["share_within_30_min_any"])
        tip = (
            f"{_esc(r['la_name'])}: {share * 100:.1f}% within 30 min; "
            f"{int(r['ap_settings'])} AP setting(s); rank {int(r['rank'])}"
        )
        folium.CircleMarker(
            [r.geometry.y, r.geometry.x],
            radius=4 + 8 * np.sqrt(float(r["children_0_15"]) / 250_000),
            color="#333" if r["has_own_ap_setting"] else "#000",
            weight=1 if r["has_own_ap_setting"] else 3,
            fill=True,
            fill_color=scale(share),
            fill_opacity=0.85,
            tooltip=tip,
        ).add_to(fmap)
    ramp = ", ".join(scale(v / 4) for v in range(5))
    key = (
        f'<span style="display:inline-block;width:120px;height:10px;vertical-align:middle;'
        f'background:linear-gradient(to right, {ramp})"></span> 0% to 100%'
    )
    rows = [f"<b>{html.escape(caption)}</b>", key, "Thick outline: no AP setting of its own"]
    root = cast(Figure, fmap.get_root())
    root.html.add_child(Element(_legend_box(rows)))
    return save_map(fmap, path)


def write_england_outputs(
    table: pd.DataFrame,
    out_dir: str | Path,
    *,
    area: str | int = "Sheffield",
    n_neighbours: int = 5,
    folium_map: bool = False,
) -> dict[str, Path]:
    """Write the England comparison into ``out_dir``.

    Files: ``england_comparison.csv`` (the table), ``england_comparators.csv``
    (:func:`~apgeo.analysis.england.comparators` for ``area``), ``england_comparison.gpkg``
    (layer ``authorities_<mode>`` per mode, points, EPSG:27700, fixed timestamps),
    ``england_comparison.md`` and ``.html`` (summary with the caveats), and with
    ``folium_map`` ``england_map.html`` (walk, or the first mode). Returns name -> path.

    Parameters
    ----------
    table
        The England comparison, one row per authority and mode.
    out_dir
        Folder to write into (created if missing).
    area
        The authority the comparators and the summary are about.
    n_neighbours
        Number of most similar authorities among the comparators.
    folium_map
        Also write ``england_map.html``.

    Returns
    -------
    dict of str to pathlib.Path
        Path of each file written, keyed ``csv``, ``comparators``, ``gpkg``, ``markdown``,
        ``html`` and (with ``folium_map``) ``map``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    comparison = comparators(table, area, n=n_neighbours)
    code = str(comparison.loc[comparison["group"] == "area", "la_code"].iloc[0])
    paths = {
        "csv": out / "england_comparison.csv",
        "comparators": out / "england_comparators.csv",
        "gpkg": out / "england_comparison.gpkg",
        "markdown": out / "england_comparison.md",
        "html": out / "england_comparison.html",
    }
    write_csv(table, paths["csv"])
    write_csv(comparison, paths["comparators"])
    paths["gpkg"].unlink(missing_ok=True)
    points = authority_points(table)
    for mode, layer in points.groupby(S.MODE, sort=False):
        write_gpkg(layer, paths["gpkg"], layer=f"authorities_{mode}")
    text = england_markdown(table, comparison, area_code=code)
    paths["markdown"].write_text(text, encoding="utf-8")
    paths["html"].write_text(_html_page(text, "England comparison of AP access"), encoding="utf-8")
    if folium_map:
        modes = list(table[S.MODE].drop_duplicates())
        paths["map"] = write_england_map(
            table, out / "england_map.html", mode="walk" if "walk" in modes else modes[0]
        )
    return paths


__all__ = [
    "authority_points",
    "england_markdown",
    "standing_lines",
    "write_england_map",
    "write_england_outputs",
]
