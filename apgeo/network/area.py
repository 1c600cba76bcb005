"""The study area of a network: CRS choice (British National Grid in Great Britain, local UTM
elsewhere) and the buffered polygon a network is read or downloaded for.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import geopandas as gpd
import shapely
from pyproj import CRS
from shapely.geometry.base import BaseGeometry

from apgeo._errors import ApgeoValueError, CRSError
from apgeo.network.modes import _GB_BOUNDS_LONLAT
from apgeo.settings import WORKING_CRS


def choose_crs(lon: float, lat: float, *, crs: str = "auto") -> str:
    """The projected CRS apgeo works in for an area centred on ``lon``, ``lat`` (degrees).

    ``crs="auto"`` gives EPSG:27700 inside Great Britain and the WGS 84 UTM zone elsewhere;
    any other value is checked to be a projected CRS and returned.

    Parameters
    ----------
    lon, lat
        Centre of the area, WGS 84 degrees.
    crs
        ``"auto"`` or a projected CRS in any form pyproj reads.

    Returns
    -------
    str
        ``"EPSG:27700"``, ``"EPSG:326<zone>"`` / ``"EPSG:327<zone>"`` (UTM north / south), or
        ``crs`` itself.
    """
    if crs != "auto":
        try:
            parsed = CRS.from_user_input(crs)
        except Exception as exc:
            raise CRSError(f"crs={crs!r} is not a CRS pyproj understands: {exc}") from None
        if not parsed.is_projected:
            raise CRSError(
                f"crs={crs!r} is geographic (degrees); give a projected CRS in metres such as "
                "'EPSG:27700', or crs='auto'"
            )
        return str(crs)
    xmin, ymin, xmax, ymax = _GB_BOUNDS_LONLAT
    if xmin <= lon <= xmax and ymin <= lat <= ymax:
        return WORKING_CRS
    zone = int((lon + 180) // 6) % 60 + 1
    return f"EPSG:{32600 + zone if lat >= 0 else 32700 + zone}"


def _fmt_bounds(bounds: Iterable[float]) -> str:
    xmin, ymin, xmax, ymax = (float(b) for b in bounds)
    return f"lon {xmin:.5f}..{xmax:.5f}, lat {ymin:.5f}..{ymax:.5f}"


def _is_gb(crs: str) -> bool:
    return CRS.from_user_input(crs).equals(CRS.from_user_input(WORKING_CRS))


def _polygon_gdf(
    polygon: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries, *, polygon_crs: str
) -> gpd.GeoSeries:
    """The area as a one-row GeoSeries with a CRS."""
    if isinstance(polygon, gpd.GeoDataFrame):
        series = polygon.geometry
    elif isinstance(polygon, gpd.GeoSeries):
        series = polygon
    elif isinstance(polygon, BaseGeometry):
        series = gpd.GeoSeries([polygon], crs=polygon_crs)
    else:
        raise ApgeoValueError(
            f"polygon must be a shapely geometry, GeoSeries or GeoDataFrame, not {type(polygon).__name__}"
        )
    if series.crs is None:
        raise CRSError(
            "polygon has no CRS; set it first, e.g. gdf.set_crs('EPSG:27700'), or pass a "
            "shapely geometry with polygon_crs="
        )
    if len(series) == 0 or series.isna().all() or series.is_empty.all():
        raise ApgeoValueError("polygon is empty; give the area (e.g. the local authority boundary)")
    merged = shapely.union_all(series.dropna().to_numpy())
    return gpd.GeoSeries([merged], crs=series.crs)


def _buffered_area(
    polygon: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    buffer_m: float,
    crs: str,
    polygon_crs: str,
) -> tuple[gpd.GeoSeries, str]:
    """Buffer the area in metres; return it in EPSG:4326 and the working CRS chosen."""
    if not math.isfinite(buffer_m) or buffer_m < 0:
        raise ApgeoValueError(f"buffer_m = {buffer_m!r}: give a distance in metres >= 0")
    area = _polygon_gdf(polygon, polygon_crs=polygon_crs)
    centre = area.to_crs("EPSG:4326").union_all().centroid
    working = choose_crs(centre.x, centre.y, crs=crs)
    buffered = area.to_crs(working).buffer(buffer_m)
    return buffered.to_crs("EPSG:4326"), working


# ---- building a graph from node and edge tables ------------------------------------------


__all__ = [
    "choose_crs",
]
