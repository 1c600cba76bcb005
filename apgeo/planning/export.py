"""Exporting recommendations: CSV, GeoPackage and a Markdown table for the report.
"""

from __future__ import annotations

import math
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from apgeo._errors import ApgeoValueError
from apgeo._validate import (
    require_columns,
    to_working_crs,
)
from apgeo.analysis.tables import format_ids
from apgeo.outputs.files import write_csv, write_gpkg
from apgeo.planning.explain import (
    CHILDREN_NEWLY_WITHIN,
    COLDSPOTS_RESOLVED,
    MEAN_TIME_CHANGE_MIN,
    RANK,
    SITE_NAME,
    WHY,
)
from apgeo.schema import (
    SITE_ID,
    WARD_NAME,
)
from apgeo.settings import WORKING_CRS


def export_recommendations(
    table: pd.DataFrame, sites_gdf: gpd.GeoDataFrame, folder: str | Path
) -> dict[str, Path]:
    """Write ``recommendations.csv``, ``recommendations.gpkg`` and ``recommendations.md``.

    Parameters
    ----------
    table
        Output of :func:`recommend_sites`.
    sites_gdf
        Candidate sites with point geometry and ``site_id`` (any CRS; written in
        EPSG:27700).
    folder
        Output folder (created if missing).

    Returns
    -------
    dict
        ``{"csv": path, "gpkg": path, "markdown": path}``.
    """
    require_columns(table, [RANK, SITE_ID], source="recommendations table")
    require_columns(sites_gdf, [SITE_ID], source="sites_gdf")
    if not isinstance(sites_gdf, gpd.GeoDataFrame):
        raise ApgeoValueError("sites_gdf must be a GeoDataFrame with point geometry")
    g = to_working_crs(sites_gdf, name="sites_gdf")
    missing = sorted(set(map(str, table[SITE_ID])) - set(map(str, g[SITE_ID])))
    if missing:
        raise ApgeoValueError(
            f"sites_gdf has no geometry for recommended site(s) {format_ids(missing)}; pass the "
            "candidate table used for the recommendation"
        )
    out_dir = Path(folder)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {
        "csv": out_dir / "recommendations.csv",
        "gpkg": out_dir / "recommendations.gpkg",
        "markdown": out_dir / "recommendations.md",
    }
    write_csv(table, paths["csv"])  # the planners' number format
    geom = dict(zip(g[SITE_ID].astype(str), g.geometry, strict=True))
    plain = pd.DataFrame(table).copy()
    for col in plain.columns:
        if plain[col].dtype == object or str(plain[col].dtype).startswith("str"):
            plain[col] = plain[col].astype(str)
    layer = gpd.GeoDataFrame(
        plain, geometry=[geom[str(s)] for s in table[SITE_ID]], crs=WORKING_CRS
    )
    if paths["gpkg"].exists():
        paths["gpkg"].unlink()
    write_gpkg(layer, paths["gpkg"], layer="recommendations")
    paths["markdown"].write_text(recommendations_markdown(table), encoding="utf-8")
    return paths


def recommendations_markdown(table: pd.DataFrame) -> str:
    """A short Markdown summary of a recommendation table a planner can paste.

    Parameters
    ----------
    table
        Output of :func:`recommend_sites`.

    Returns
    -------
    str
        A heading, a line on the method, one numbered item per site (its ``why``) and a
        compact table of the main numbers.
    """
    attrs = table.attrs
    lines = ["## Recommended sites for alternative provision", ""]
    T = attrs.get("max_travel_time_min")
    mode = attrs.get("mode", "")
    if T is not None:
        method = attrs.get("method", "")
        solver = attrs.get("solver", "")
        gap = attrs.get("gap", math.nan)
        gap_text = "optimal" if gap == 0 else ("gap unknown" if not np.isfinite(gap) else f"gap {gap:.1%}")
        lines.append(
            f"Model: {attrs.get('model', '')}, threshold {float(T):g} min ({mode}), key stages "
            f"{attrs.get('key_stages', '')}; solved {method} with {solver} ({gap_text})."
        )
        lines.append("")
    if len(table) == 0:
        lines.append(f"No site is recommended: {attrs.get('reason') or 'nothing to add'}.")
        return "\n".join(lines) + "\n"
    for _, row in table.iterrows():
        lines.append(f"{int(row[RANK])}. **{row[SITE_NAME]}** ({row[SITE_ID]}). {row[WHY]}")
    lines += [
        "",
        f"| Rank | Site | Ward | Children newly within {'the threshold' if T is None else f'{float(T):g} min'} "
        "| Cold spots resolved | Mean time change (min) |",
        "|---:|---|---|---:|---:|---:|",
    ]
    for _, row in table.iterrows():
        lines.append(
            f"| {int(row[RANK])} | {_md(row[SITE_NAME])} | {_md(row[WARD_NAME])} | "
            f"{float(row[CHILDREN_NEWLY_WITHIN]):,.0f} | {int(row[COLDSPOTS_RESOLVED])} | "
            f"{float(row[MEAN_TIME_CHANGE_MIN]):+.1f} |"
        )
    lines += ["", "Access cold spot = an area with children whose journey to the nearest suitable "
              "provider exceeds the threshold (not the CSJ quality ranking)."]
    return "\n".join(lines) + "\n"


def _md(value: object) -> str:
    return str(value if value is not None and value == value else "").replace("|", "\\|")


# ======================================================================================
# Candidate sites
# ======================================================================================


__all__ = [
    "export_recommendations",
    "recommendations_markdown",
]
