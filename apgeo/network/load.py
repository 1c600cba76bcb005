"""Loading networks for a study: a PBF, GraphML or road-line file (Shapefile, GeoPackage,
GeoJSON), a cached network or a download, every mode from one read (:func:`load_networks`,
:func:`load_network`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import networkx as nx
import shapely
from shapely.geometry.base import BaseGeometry

from apgeo._cache import file_sha256
from apgeo._errors import ApgeoValueError
from apgeo.network.arrays import _arrays_of, _graph_from_arrays, _ModeArrays, _Prepared
from apgeo.network.cache import _build_modes, _check_modes, _load_cached, _processed_path
from apgeo.network.download import _load_download
from apgeo.network.graphml import _read_graphml, _require_graphml
from apgeo.network.modes import MODES, Mode, check_mode, resolve_speeds
from apgeo.network.pbf import _pbf_area, _read_pbf, _require_pbf
from apgeo.settings import WORKING_CRS

#: File name endings read as road-line layers (:func:`apgeo.network.lines.load_road_lines`).
LINE_LAYER_SUFFIXES = (".shp", ".gpkg", ".geojson", ".json")


def _source_kind(source: str | Path | None, polygon: object, *, caller: str) -> str:
    if source is None:
        if polygon is None:
            raise ApgeoValueError(
                f"{caller}(None, ...) downloads from OpenStreetMap and needs polygon=; "
                "or give a .pbf / .graphml path"
            )
        return "download"
    name = str(source).lower()
    if name.endswith(".pbf"):
        return "pbf"
    if name.endswith(".graphml"):
        return "graphml"
    if name.endswith(LINE_LAYER_SUFFIXES):
        return "lines"
    raise ApgeoValueError(
        f"source {str(source)!r}: unknown network file type; give a .pbf, .graphml or "
        f"road-line ({', '.join(LINE_LAYER_SUFFIXES)}) path, or None to download from "
        "OpenStreetMap"
    )


def _load_lines(
    source: str | Path,
    wanted: list[Mode],
    *,
    speeds: dict[str, float],
    crs: str,
    slope_aware: bool,
    build: Any,
) -> dict[Mode, Any]:
    """Each wanted mode from a road-line layer read once (not cached: it loads in seconds)."""
    from apgeo.network.line_layer import _read_layer
    from apgeo.network.lines import load_road_lines

    if crs not in ("auto", WORKING_CRS):
        raise ApgeoValueError(
            f"crs={crs!r}: road-line layers are built in {WORKING_CRS}; use crs='auto'"
        )
    if slope_aware:
        raise ApgeoValueError(
            f"slope_aware=True needs node elevations, which the road-line layer {source} "
            "does not have; use slope_aware=False"
        )
    gdf, label = _read_layer(source, layer=None, label=None)
    out: dict[Mode, Any] = {}
    for mode in wanted:
        G, _ = load_road_lines(gdf, mode=mode, speeds_kph=speeds, label=label)
        out[mode] = G if build is None else build(_arrays_of(G), source=label)
    return out


def load_networks(
    source: str | Path | None,
    *,
    modes: Iterable[Mode] | Mode,
    polygon: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    buffer_m: float = 3000.0,
    speeds_kph: Mapping[str, float] | None = None,
    cache: bool = True,
    crs: str = "auto",
    polygon_crs: str = WORKING_CRS,
    slope_aware: bool = False,
) -> dict[str, nx.MultiDiGraph]:
    """Load the street networks of several modes, reading the source only once.

    Each mode's graph is exactly what :func:`load_network` gives for it (same attributes,
    ``graph["source"]`` included); the raw PBF, GraphML or download is read once and every
    mode derived from it, then freed.

    Processed-network cache (``cache=True``)
        Each mode's graph is stored under ``get_settings().cache_dir / "networks"`` as a
        ``<key>.<mode>.npz`` file of plain arrays (node ids and coordinates; edge ends,
        keys, lengths, speeds, travel times, highway, osmid; edge geometry as coordinates):
        no pickle. The key hashes the source file's content (sha256; for a download, the
        cached raw GraphML), the area (PBF: buffered polygon), the mode, the resolved
        speeds, ``crs``, ``slope_aware`` and the cache format, in the folder of the current
        network code (:func:`apgeo._cache.code_folder`), so editing the file, any option or
        apgeo's network code misses the cache. A later run loads a mode in a
        few seconds. Empty or failed networks are never cached; a damaged entry is
        logged, ignored and rewritten.

    Parameters
    ----------
    source
        A ``.pbf`` path, a ``.graphml`` path, a road-line layer (``.shp``, ``.gpkg``,
        ``.geojson``, ``.json``; see :func:`load_network`), or ``None`` (the download
        cache, else a download with osmnx; needs ``polygon``).
    modes
        Modes to load, e.g. ``("walk", "cycle", "drive")`` (or one mode).
    polygon, buffer_m, polygon_crs, speeds_kph, crs, slope_aware
        As for :func:`load_network`.
    cache
        Use and fill the processed-network cache (and the download cache).

    Returns
    -------
    dict
        Mode -> :class:`networkx.MultiDiGraph`, in the order of ``modes``.

    Raises
    ------
    DataFileNotFoundError, NetworkError, ApgeoValueError, CRSError
        As :func:`load_network`.
    """
    return cast(
        dict[str, nx.MultiDiGraph],
        _load(
            source,
            _check_modes(modes),
            caller="load_networks",
            polygon=polygon,
            buffer_m=buffer_m,
            speeds=resolve_speeds(speeds_kph),
            cache=cache,
            crs=crs,
            polygon_crs=polygon_crs,
            slope_aware=slope_aware,
        ),
    )


def _load(
    source: str | Path | None,
    wanted: list[Mode],
    *,
    caller: str,
    polygon: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None,
    buffer_m: float,
    speeds: dict[str, float],
    cache: bool,
    crs: str,
    polygon_crs: str,
    slope_aware: bool,
    also: Iterable[Mode] = (),
    build: Any = None,
) -> dict[Mode, Any]:
    """Each wanted mode from a file (:func:`_load_file`) or a download
    (:func:`apgeo.network.download._load_download`); ``build(arrays, source)`` makes what
    is returned (default: the networkx graph)."""
    kind = _source_kind(source, polygon, caller=caller)
    options: dict[str, Any] = {
        "buffer_m": buffer_m,
        "speeds": speeds,
        "cache": cache,
        "crs": crs,
        "polygon_crs": polygon_crs,
        "slope_aware": slope_aware,
        "build": build,
    }
    if kind == "download":
        assert polygon is not None  # checked by _source_kind
        return _load_download(polygon, wanted, **options)
    assert source is not None
    if kind == "lines":
        return _load_lines(
            source, wanted, speeds=speeds, crs=crs, slope_aware=slope_aware, build=build
        )
    return _load_file(source, kind, wanted, polygon=polygon, also=also, **options)


def _load_file(
    source: str | Path,
    kind: str,
    wanted: list[Mode],
    *,
    polygon: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None,
    buffer_m: float,
    speeds: dict[str, float],
    cache: bool,
    crs: str,
    polygon_crs: str,
    slope_aware: bool,
    also: Iterable[Mode] = (),
    build: Any = None,
) -> dict[Mode, nx.MultiDiGraph]:
    read: Any
    make = _graph_from_arrays if build is None else build
    if kind == "pbf":
        import pyrosm

        path = _require_pbf(source)
        bbox_4326, working, pbf_bounds = _pbf_area(
            path, polygon=polygon, buffer_m=buffer_m, crs=crs, polygon_crs=polygon_crs
        )
        fingerprint: dict[str, Any] = {
            "kind": "pbf",
            "area": None if bbox_4326 is None else shapely.to_wkt(bbox_4326, rounding_precision=7),
            "reader": f"pyrosm {pyrosm.__version__}",
        }

        def read() -> _Prepared:
            return _read_pbf(
                path, bbox_4326=bbox_4326, working=working, pbf_bounds=pbf_bounds, crs=crs
            )

        name = f"pbf:{path}"
    else:
        path = _require_graphml(source)
        fingerprint = {"kind": "graphml"}

        def read() -> _Prepared:
            return _read_graphml(path, crs=crs, source=f"graphml:{path}")

        name = f"graphml:{path}"
    out: dict[Mode, nx.MultiDiGraph] = {}
    paths: dict[Mode, Path] | None = None
    if cache:
        fingerprint["sha256"] = file_sha256(path)
        modes_all = [*wanted, *(m for m in also if m not in wanted)]
        paths = {
            m: _processed_path(fingerprint, mode=m, speeds=speeds, crs=crs, slope_aware=slope_aware)
            for m in modes_all
        }
        for mode in wanted:
            arrays = _load_cached(paths[mode])
            if arrays is not None:
                out[mode] = make(arrays, source=name)
        also = [m for m in also if not paths[m].is_file()]
    missing = [m for m in wanted if m not in out]
    if missing:
        out.update(
            _build_modes(
                read,
                missing,
                speeds=speeds,
                slope_aware=slope_aware,
                paths=paths,
                source=name,
                also=also,
                build=build,
            )
        )
    return {m: out[m] for m in wanted}


def _load_arrays(
    source: str | Path | None,
    *,
    modes: Iterable[Mode] | Mode,
    polygon: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    buffer_m: float = 3000.0,
    speeds_kph: Mapping[str, float] | None = None,
    cache: bool = True,
    crs: str = "auto",
    polygon_crs: str = WORKING_CRS,
    slope_aware: bool = False,
) -> dict[Mode, _ModeArrays]:
    """The array form of each mode's network from a PBF or GraphML file, a download
    (``source=None`` with ``polygon``) or the cache, as :func:`load_networks` reads it,
    without making networkx graphs (a fresh download is osmnx's graph until its streets
    are read)."""

    def keep(arrays: _ModeArrays, source: str | None) -> _ModeArrays:
        return replace(arrays, source=source or arrays.source)

    return cast(
        dict[Mode, _ModeArrays],
        _load(
            source,
            _check_modes(modes),
            caller="load_networks",
            polygon=polygon,
            buffer_m=buffer_m,
            speeds=resolve_speeds(speeds_kph),
            cache=cache,
            crs=crs,
            polygon_crs=polygon_crs,
            slope_aware=slope_aware,
            build=keep,
        ),
    )


def load_network(
    source: str | Path | None,
    *,
    mode: Mode,
    polygon: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    buffer_m: float = 3000.0,
    speeds_kph: Mapping[str, float] | None = None,
    cache: bool = True,
    crs: str = "auto",
    polygon_crs: str = WORKING_CRS,
    slope_aware: bool = False,
) -> nx.MultiDiGraph:
    """Load a mode's street network from a PBF, a GraphML file or OpenStreetMap.

    To load several modes, :func:`load_networks` reads the source once for all of them.

    Parameters
    ----------
    source
        A path ending ``.pbf`` (pyrosm, :func:`network_from_pbf`), ``.graphml``
        (:func:`network_from_graphml`), ``.shp`` / ``.gpkg`` / ``.geojson`` / ``.json``
        (a road-line layer, :func:`apgeo.network.lines.load_road_lines` with its defaults:
        OSM layers joined at shared vertices, council centrelines by proximity; the whole
        layer is used, ``polygon`` is not applied, nothing is cached), or ``None``: the disk
        cache, else a download (:func:`network_from_osm`, needs ``polygon``).
    mode
        ``"walk"``, ``"cycle"`` or ``"drive"``.
    polygon, buffer_m, polygon_crs
        The area and its buffer in metres (PBF and download).
    speeds_kph
        Speed overrides, see :func:`resolve_speeds`.
    cache
        Use and fill the processed-network cache (see :func:`load_networks`) and the
        download cache. When a file is read, the other modes are derived from the same
        read and cached too, so loading them next costs a cache read.
    crs
        ``"auto"`` (EPSG:27700 in Great Britain, UTM elsewhere) or a projected CRS.
    slope_aware
        Slope-aware walk and cycle speeds (needs node elevations).

    Returns
    -------
    networkx.MultiDiGraph
        The routable network in a projected CRS, ``travel_time`` (seconds) on every
        edge; ``graph["source"]`` says where it came from.
    """
    mode = check_mode(mode)
    return cast(
        nx.MultiDiGraph,
        _load(
            source,
            [mode],
            caller="load_network",
            polygon=polygon,
            buffer_m=buffer_m,
            speeds=resolve_speeds(speeds_kph),
            cache=cache,
            crs=crs,
            polygon_crs=polygon_crs,
            slope_aware=slope_aware,
            also=MODES if cache else (),  # a file read once caches every mode
        )[mode],
    )


__all__ = [
    "load_network",
    "load_networks",
]
