"""OpenStreetMap PBF extracts (read with pyrosm) as networks.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from apgeo._errors import NetworkError
from apgeo._log import logger, warn
from apgeo._validate import require_file
from apgeo.network.area import _buffered_area, _fmt_bounds, choose_crs
from apgeo.network.arrays import _derive, _graph_from_arrays, _object_array, _prepare, _Prepared
from apgeo.network.modes import _TAG_COLUMNS, Mode, check_mode, resolve_speeds
from apgeo.settings import WORKING_CRS


def _tags_from_json(edges: pd.DataFrame, keys: Iterable[str]) -> pd.DataFrame:
    """Fill tag columns pyrosm leaves in its JSON ``tags`` column."""
    wanted = [k for k in keys if k not in edges.columns]
    if not wanted or "tags" not in edges.columns:
        return edges
    out = edges.copy()
    parsed = [json.loads(t) if isinstance(t, str) and t else {} for t in out["tags"]]
    for key in wanted:
        out[key] = pd.Series([p.get(key, np.nan) for p in parsed], index=out.index, dtype=object)
    return out


def _pbf_area(
    pbf: Path,
    *,
    polygon: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None,
    buffer_m: float,
    crs: str,
    polygon_crs: str,
) -> tuple[BaseGeometry | None, str | None, tuple[float, float, float, float] | None]:
    """The buffered area in EPSG:4326 and the working CRS (``None`` without a polygon), and
    the PBF's extent; raises when the PBF misses the area, warns when it covers part of it."""
    pbf_bounds: tuple[float, float, float, float] | None = None
    try:
        from pyrosm.utils import get_bounding_box

        pbf_bounds = tuple(get_bounding_box(str(pbf)).bounds)  # type: ignore[assignment]
    except Exception:  # header without bbox, or a pyrosm without the helper
        pbf_bounds = None
    if polygon is None:
        return None, None, pbf_bounds
    area_4326, working = _buffered_area(
        polygon, buffer_m=buffer_m, crs=crs, polygon_crs=polygon_crs
    )
    bbox_4326 = area_4326.iloc[0]
    area_bounds = _fmt_bounds(area_4326.total_bounds)
    if pbf_bounds is not None:
        pbf_box = shapely.box(*pbf_bounds)
        if not pbf_box.intersects(bbox_4326):
            raise NetworkError(
                f"{pbf} does not cover the area: the PBF spans "
                f"{_fmt_bounds(pbf_bounds)} but the area (buffered by "
                f"{buffer_m:g} m) spans {area_bounds}; use an extract that contains the area"
            )
        if not pbf_box.contains(bbox_4326):
            # the buffer reaching past the extract (into the sea, or over a border the
            # extract was cut at) is expected; only an extract that misses part of the area
            # itself is worth a warning. Points beyond the network's edge are named later
            # by the study (apgeo.routing.network_extent).
            core_4326, _ = _buffered_area(polygon, buffer_m=0.0, crs=crs, polygon_crs=polygon_crs)
            message = (
                f"{pbf} covers only part of the area: the PBF spans "
                f"{_fmt_bounds(pbf_bounds)}, the area {_fmt_bounds(core_4326.total_bounds)}; "
                "journeys near the edge may be too long; give an extract that contains the area"
            )
            if pbf_box.contains(core_4326.iloc[0].envelope):
                logger.info(
                    "%s spans %s: it holds the area but not all of its %g m buffer (%s)",
                    pbf, _fmt_bounds(pbf_bounds), buffer_m, area_bounds,
                )
            else:
                warn(message, stacklevel=4)
    return bbox_4326, working, pbf_bounds


def _read_pbf(
    pbf: Path,
    *,
    bbox_4326: BaseGeometry | None,
    working: str | None,
    pbf_bounds: tuple[float, float, float, float] | None,
    crs: str,
) -> _Prepared:
    """Every street of a PBF (pyrosm, ``network_type="all"``), read once for all modes."""
    import pyrosm

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            osm = (
                pyrosm.OSM(str(pbf), bounding_box=bbox_4326)
                if bbox_4326 is not None
                else pyrosm.OSM(str(pbf))
            )
            result = osm.get_network(network_type="all", nodes=True)
    except Exception as exc:
        raise NetworkError(f"cannot read {pbf} as an OSM PBF extract: {exc}") from exc
    nodes_gdf, edges_gdf = result if isinstance(result, tuple) else (None, None)
    if nodes_gdf is None or edges_gdf is None or len(edges_gdf) == 0:
        raise NetworkError(
            f"{pbf} holds no streets in the area"
            + (f" (PBF spans {_fmt_bounds(pbf_bounds)})" if pbf_bounds else "")
            + "; check the extract and the polygon"
        )
    if working is None:
        lon, lat = float(nodes_gdf["lon"].mean()), float(nodes_gdf["lat"].mean())
        working = choose_crs(lon, lat, crs=crs)
    transformer = Transformer.from_crs("EPSG:4326", working, always_xy=True)
    x, y = transformer.transform(nodes_gdf["lon"].to_numpy(float), nodes_gdf["lat"].to_numpy(float))
    nodes = pd.DataFrame({"x": x, "y": y}, index=pd.Index(nodes_gdf["id"].to_numpy(), name="id"))
    nodes = nodes[~nodes.index.duplicated()]
    del nodes_gdf
    geometry = _object_array(
        edges_gdf.geometry.set_crs("EPSG:4326", allow_override=True).to_crs(working).to_numpy()
    )
    edges = _tags_from_json(pd.DataFrame(edges_gdf.drop(columns="geometry")), _TAG_COLUMNS)
    del edges_gdf
    edges = edges.rename(columns={"id": "osmid"})
    return _prepare(
        nodes, edges, crs=working, directed=False, source=f"pbf:{pbf}", geometry=geometry
    )


def network_from_pbf(
    path: str | Path,
    *,
    mode: Mode,
    polygon: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    buffer_m: float = 3000.0,
    speeds_kph: Mapping[str, float] | None = None,
    crs: str = "auto",
    polygon_crs: str = WORKING_CRS,
    slope_aware: bool = False,
) -> nx.MultiDiGraph:
    """Load a mode's network from an OSM PBF extract with pyrosm.

    All streets are read (``network_type="all"``) and apgeo's own mode rules applied (see
    the module docstring), so cycle networks can include footways at walking speed.
    Nothing is cached (:func:`load_network` and :func:`load_networks` cache).

    Parameters
    ----------
    path
        The ``.osm.pbf`` file (e.g. a Geofabrik extract of South Yorkshire).
    mode
        ``"walk"``, ``"cycle"`` or ``"drive"``.
    polygon
        The study area; the network is clipped to it buffered by ``buffer_m`` so that
        journeys may leave and re-enter it. ``None`` reads the whole file.
    buffer_m
        Buffer in metres (default 3,000).
    speeds_kph
        Speed overrides, see :func:`resolve_speeds`.
    crs
        Working CRS, ``"auto"``: EPSG:27700 in Great Britain, UTM elsewhere.
    polygon_crs
        CRS of ``polygon`` when it is a bare shapely geometry.
    slope_aware
        See the module docstring (needs elevations, which PBF files do not hold).

    Returns
    -------
    networkx.MultiDiGraph
        The mode's network in the working CRS.

    Raises
    ------
    DataFileNotFoundError
        When the file is missing.
    NetworkError
        When the PBF does not cover the area (both extents named) or holds no street of
        the mode there.
    """
    mode = check_mode(mode)
    speeds = resolve_speeds(speeds_kph)
    pbf = _require_pbf(path)
    bbox_4326, working, pbf_bounds = _pbf_area(
        pbf, polygon=polygon, buffer_m=buffer_m, crs=crs, polygon_crs=polygon_crs
    )
    prepared = _read_pbf(pbf, bbox_4326=bbox_4326, working=working, pbf_bounds=pbf_bounds, crs=crs)
    return _graph_from_arrays(_derive(prepared, mode=mode, speeds=speeds, slope_aware=slope_aware))


def _require_pbf(path: str | Path) -> Path:
    return require_file(
        path,
        what="OSM PBF extract",
        how_to_get="Download one, e.g. https://download.geofabrik.de/europe/united-kingdom/england/south-yorkshire.html",
    )


__all__ = [
    "network_from_pbf",
]
