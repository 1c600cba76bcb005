"""Street networks downloaded from OpenStreetMap (through osmnx and the Overpass API) and
cached, when the machine is online.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import networkx as nx
import shapely
from shapely.geometry.base import BaseGeometry

from apgeo._cache import file_sha256, mark_written
from apgeo._errors import NetworkError
from apgeo._log import logger
from apgeo.network.area import _buffered_area
from apgeo.network.arrays import _graph_from_arrays
from apgeo.network.cache import _build_modes, _load_cached, _processed_path, network_cache_folder
from apgeo.network.graphml import _parts_from_graph, _prepare_osmnx, _read_graphml
from apgeo.network.modes import Mode, check_mode, resolve_speeds
from apgeo.settings import WORKING_CRS


def network_cache_key(polygon_wkt: str, mode: Mode, speeds_kph: Mapping[str, float]) -> str:
    """Hash of everything a downloaded network depends on (the fingerprint of apgeo's
    network code and the osmnx version too).

    Parameters
    ----------
    polygon_wkt
        WKT of the buffered area downloaded.
    mode
        Travel mode.
    speeds_kph
        The resolved speeds, km/h by key.

    Returns
    -------
    str
        The first 24 hex digits of the SHA-256 of those inputs.
    """
    import osmnx as ox

    from apgeo._cache import code_fingerprint

    payload = json.dumps(
        {
            "polygon": polygon_wkt,
            "mode": mode,
            "speeds_kph": dict(sorted(speeds_kph.items())),
            "apgeo": code_fingerprint("apgeo.network"),
            "osmnx": ox.__version__,
        },
        sort_keys=True,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:24]


def overpass_reachable(*, timeout_s: float = 3.0) -> tuple[bool, str]:
    """Whether osmnx's Overpass endpoint answers a TCP connection within ``timeout_s``.

    A quick check before a download, so an offline run falls back in seconds instead of
    waiting for osmnx's retries.

    Parameters
    ----------
    timeout_s
        Seconds to wait for the connection.

    Returns
    -------
    reachable : bool
        Whether the connection was made.
    reason : str
        ``"<host>:<port>: <error>"`` when it was not, else ``""``.
    """
    import socket
    from urllib.parse import urlparse

    import osmnx as ox

    url = urlparse(str(ox.settings.overpass_url))
    host = url.hostname or ""
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True, ""
    except OSError as exc:
        return False, f"{host}:{port}: {exc}"


# ---- processed-network cache ------------------------------------------------------------------

#: Bumped whenever the cached arrays or the mode rules change meaning.
def _load_download(
    polygon: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries,
    wanted: list[Mode],
    *,
    buffer_m: float,
    speeds: dict[str, float],
    cache: bool,
    crs: str,
    polygon_crs: str,
    slope_aware: bool,
    build: Any = None,
) -> dict[Mode, Any]:
    """Networks from the download cache, else one download shared by every mode.

    The raw download (``network_type="all"``, simplified) is saved as GraphML in a file
    per mode named by :func:`network_cache_key` (hard links to one file when possible);
    each mode's array form is cached beside it. ``build(arrays, source)`` makes what is
    returned (default: the networkx graph; :func:`apgeo.network.load._load_arrays` keeps
    the arrays, so no graph is made from the cache). A fresh download is a networkx graph
    (osmnx returns one); it is freed once its streets are read.
    """
    make = _graph_from_arrays if build is None else build
    import osmnx as ox

    area_4326, _ = _buffered_area(polygon, buffer_m=buffer_m, crs=crs, polygon_crs=polygon_crs)
    shape = area_4326.iloc[0]
    wkt = shapely.to_wkt(shape, rounding_precision=6)
    folder = network_cache_folder()
    raw_paths = {m: folder / f"{network_cache_key(wkt, m, speeds)}.graphml" for m in wanted}
    out: dict[Mode, Any] = {}
    if cache:
        # modes whose raw download is cached: processed cache, else read the raw file once
        readable = [m for m in wanted if raw_paths[m].is_file()]
        by_digest: dict[str, list[Mode]] = {}
        processed: dict[Mode, Path] = {}
        for mode in readable:
            digest = file_sha256(raw_paths[mode])
            processed[mode] = _processed_path(
                {"kind": "download", "sha256": digest},
                mode=mode,
                speeds=speeds,
                crs=crs,
                slope_aware=slope_aware,
            )
            arrays = _load_cached(processed[mode])
            if arrays is not None:
                out[mode] = make(arrays, source=f"cache:{raw_paths[mode]}")
            else:
                by_digest.setdefault(digest, []).append(mode)
        for modes_ in by_digest.values():
            raw = raw_paths[modes_[0]]
            logger.info("network cache hit: %s", raw)
            try:
                out.update(
                    _build_modes(
                        lambda raw=raw: _read_graphml(raw, crs=crs, source=f"cache:{raw}"),
                        modes_,
                        speeds=speeds,
                        slope_aware=slope_aware,
                        paths=processed,
                        source={m: f"cache:{raw_paths[m]}" for m in modes_},
                        build=build,
                    )
                )
            except NetworkError as exc:  # a damaged cache file is ignored and replaced
                logger.warning("ignoring unreadable cached network %s: %s", raw, exc)
    missing = [m for m in wanted if m not in out]
    if not missing:
        return {m: out[m] for m in wanted}
    reachable, why = overpass_reachable()
    if not reachable:
        raise NetworkError(
            f"cannot download the {'/'.join(missing)} network: the Overpass API is not reachable "
            f"({why}) and no cached copy exists; connect to the internet once (the network is "
            "then cached) or give a .pbf / .graphml file"
        )
    extra_tags = ["foot", "bicycle", "motor_vehicle", "motorcar"]
    old_tags = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = old_tags + [t for t in extra_tags if t not in old_tags]
    try:
        raw_graph = ox.graph_from_polygon(shape, network_type="all", simplify=True, retain_all=True)
    except Exception as exc:
        raise NetworkError(
            f"downloading the {'/'.join(missing)} network from OpenStreetMap failed: {exc}"
        ) from exc
    finally:
        ox.settings.useful_tags_way = old_tags
    if raw_graph.number_of_edges() == 0:
        raise NetworkError("OpenStreetMap returned no streets for the area; check the polygon")
    parts = _parts_from_graph(raw_graph, source="osm-download")
    processed_paths: dict[Mode, Path] | None = None
    if cache:  # the raw download first: its digest names the processed files
        first = raw_paths[missing[0]]
        first.parent.mkdir(parents=True, exist_ok=True)
        ox.save_graphml(raw_graph, first)
        mark_written(first.parent)
        for mode in missing[1:]:
            _link_or_copy(first, raw_paths[mode])
        digest = file_sha256(first)
        processed_paths = {
            mode: _processed_path(
                {"kind": "download", "sha256": digest},
                mode=mode,
                speeds=speeds,
                crs=crs,
                slope_aware=slope_aware,
            )
            for mode in missing
        }
        logger.info("cached downloaded network at %s", first)
    del raw_graph  # the streets are in ``parts`` now
    built = _build_modes(
        lambda: _prepare_osmnx(parts, crs=crs, source="osm-download"),
        missing,
        speeds=speeds,
        slope_aware=slope_aware,
        paths=processed_paths,
        source="osm-download",
        build=build,
    )
    out.update(built)
    return {m: out[m] for m in wanted}


def _link_or_copy(src: Path, dst: Path) -> None:
    import os
    import shutil

    dst.unlink(missing_ok=True)
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def network_from_osm(
    polygon: BaseGeometry | gpd.GeoDataFrame | gpd.GeoSeries,
    *,
    mode: Mode,
    buffer_m: float = 3000.0,
    speeds_kph: Mapping[str, float] | None = None,
    cache: bool = True,
    crs: str = "auto",
    polygon_crs: str = WORKING_CRS,
    slope_aware: bool = False,
) -> nx.MultiDiGraph:
    """Download the streets of an area from OpenStreetMap with osmnx, with a disk cache.

    The raw download (``network_type="all"``, simplified) is saved as GraphML under
    ``get_settings().cache_dir / "networks"`` (in the folder of the current network code)
    in a file named by :func:`network_cache_key` (buffered polygon WKT, mode, speeds, the
    network code's fingerprint and the osmnx version), and the mode's processed network next to it (see :func:`load_networks`);
    failed or empty downloads are never cached.

    Parameters
    ----------
    polygon
        The study area (a geometry in ``polygon_crs`` or a GeoDataFrame / GeoSeries with a
        CRS).
    mode
        ``"walk"``, ``"cycle"`` or ``"drive"``.
    buffer_m
        The area is buffered by this many metres before the download (default 3,000), so
        journeys may leave and re-enter it.
    speeds_kph
        Speed overrides, see :func:`apgeo.network.resolve_speeds`.
    cache
        Read and write the disk cache.
    crs
        Working CRS, ``"auto"``: EPSG:27700 in Great Britain, UTM elsewhere.
    polygon_crs
        CRS of ``polygon`` when it is a bare shapely geometry.
    slope_aware
        Adjust walk and cycle speeds to slope (see the module docstring).

    Returns
    -------
    networkx.MultiDiGraph
        The mode's network in the working CRS.
    """
    mode = check_mode(mode)
    speeds = resolve_speeds(speeds_kph)
    return _load_download(
        polygon,
        [mode],
        buffer_m=buffer_m,
        speeds=speeds,
        cache=cache,
        crs=crs,
        polygon_crs=polygon_crs,
        slope_aware=slope_aware,
    )[mode]


__all__ = [
    "network_cache_key",
    "network_from_osm",
]
