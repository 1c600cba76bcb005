"""Providers, demand areas and road lines read from a council's PostGIS database.

Each reader takes the ``[postgis]`` settings (:class:`apgeo._postgis.PostgisSettings`) and
a source: a table (``schema.table``) or a query (``SELECT ...``). The geometry column must
be in the settings' CRS (EPSG:27700 by default) and the table must have its id column
(``provider_id`` for providers, ``area_id`` for demand areas); anything else is an error
naming the table and the fix (see :func:`apgeo._postgis.read_layer`). What comes back goes
through the same checks as a file: providers through
:func:`apgeo.inputs.providers.read_providers`, road lines through
:func:`apgeo.network.lines.load_road_lines`.
"""

from __future__ import annotations

import geopandas as gpd
import pandas as pd

from apgeo import schema as S
from apgeo._errors import MissingColumnError
from apgeo._postgis import PostgisSettings, connection, read_layer
from apgeo.settings import WORKING_CRS

#: Columns a demand-area table must have besides ``area_id`` and its geometry (the
#: population-weighted centroid, children by key stage, deprivation deciles).
DEMAND_COLUMNS = (
    "pwc_easting",
    "pwc_northing",
    *(S.children_column(ks) for ks in S.KEY_STAGE_NAMES if ks != "KS5"),
    "children_school_age",
    S.IMD_DECILE,
    S.IDACI_DECILE,
)


def postgis_name(source: str) -> str:
    """How a PostGIS source is named in tables and messages.

    Parameters
    ----------
    source
        A table name or SQL query.

    Returns
    -------
    str
        ``"PostGIS <source>"``, whitespace collapsed and cut to 80 characters.
    """
    text = " ".join(source.split())
    return f"PostGIS {text if len(text) <= 80 else text[:77] + '...'}"


def read_postgis(settings: PostgisSettings, source: str, *, id_column: str | None) -> gpd.GeoDataFrame:
    """``source`` (a table or query) as a GeoDataFrame in the settings' CRS.

    Parameters
    ----------
    settings
        The connection settings.
    source
        A table name or query.
    id_column
        Column that must be present and identify rows (``None``: not checked).

    Returns
    -------
    geopandas.GeoDataFrame
        The rows with their geometry.
    """
    with connection(settings) as conn:
        return read_layer(conn, source, id_column=id_column, srid=settings.srid)


def read_providers_postgis(settings: PostgisSettings, source: str | None = None) -> gpd.GeoDataFrame:
    """The providers of ``source`` (default ``settings.providers``) as a provider table
    ready for :func:`apgeo.inputs.providers.read_providers` (its ``source`` column names
    the table), in EPSG:27700.

    Parameters
    ----------
    settings
        The connection settings.
    source
        A table name or query (``None``: ``settings.providers``).

    Returns
    -------
    geopandas.GeoDataFrame
        The provider rows.
    """
    src = source or settings.providers
    gdf = read_postgis(settings, src, id_column=S.PROVIDER_ID)
    gdf = gdf.to_crs(WORKING_CRS)
    if S.SOURCE not in gdf.columns:
        gdf[S.SOURCE] = postgis_name(src)
    return gdf


def read_demand_postgis(settings: PostgisSettings, source: str | None = None) -> gpd.GeoDataFrame:
    """Demand areas of ``source`` (default ``settings.demand``): one row per ``area_id``
    with :data:`DEMAND_COLUMNS` and a polygon or point geometry, in EPSG:27700.

    Parameters
    ----------
    settings
        The connection settings.
    source
        A table name or query (``None``: ``settings.demand``).

    Returns
    -------
    geopandas.GeoDataFrame
        The demand areas, ``area_id`` as text.
    """
    src = source or settings.demand
    gdf = read_postgis(settings, src, id_column=S.AREA_ID).to_crs(WORKING_CRS)
    missing = [c for c in DEMAND_COLUMNS if c not in gdf.columns]
    if missing:
        raise MissingColumnError(
            f"{postgis_name(src)} lacks the demand column(s) {', '.join(missing)}; a demand-area table "
            f"needs {S.AREA_ID}, {', '.join(DEMAND_COLUMNS)} and a geometry (columns found: "
            f"{', '.join(map(str, gdf.columns))})"
        )
    dup = gdf[S.AREA_ID].duplicated()
    if dup.any():
        from apgeo._errors import DuplicateIdError

        raise DuplicateIdError(
            f"{postgis_name(src)}: {S.AREA_ID} repeats ({', '.join(map(str, gdf.loc[dup, S.AREA_ID][:5]))}); "
            "give one row per demand area"
        )
    gdf[S.AREA_ID] = gdf[S.AREA_ID].astype(str)
    for col in DEMAND_COLUMNS:
        gdf[col] = pd.to_numeric(gdf[col], errors="raise")
    if "population_source" not in gdf.columns:
        gdf["population_source"] = postgis_name(src)
    return gdf


def read_road_lines_postgis(settings: PostgisSettings, source: str | None = None) -> tuple[gpd.GeoDataFrame, str]:
    """The road lines of ``source`` (default ``settings.network``) and their label, for
    :func:`apgeo.network.lines.load_road_lines`.

    Parameters
    ----------
    settings
        The connection settings.
    source
        A table name or query (``None``: ``settings.network``).

    Returns
    -------
    lines : geopandas.GeoDataFrame
        The road lines.
    label : str
        The source's name (:func:`postgis_name`).
    """
    src = source or settings.network
    return read_postgis(settings, src, id_column=None), postgis_name(src)


__all__ = [
    "DEMAND_COLUMNS",
    "postgis_name",
    "read_demand_postgis",
    "read_postgis",
    "read_providers_postgis",
    "read_road_lines_postgis",
]
