"""Incremental studies: travel-time columns and catchment polygons cached per site.

A study rerun after one site moved should recompute only that site. Two artefacts are
cached in ``<cache_dir>/study`` (:func:`apgeo.settings.get_settings`), each under a key of
everything it depends on:

* the travel times from every origin to one site (one column of the long table): the
  network's content hash, the mode, the origins (ids and coordinates), the site's
  location and the time limit;
* one site's catchment polygons: the network hash, the mode, the site's location, the
  thresholds, buffer, method, direction and hole size;

and one artefact per network, in ``<cache_dir>/catchment_tiles``:

* the network's two-way pairing of streets (:func:`apgeo.analysis.catchment_geometry._match_twins`,
  about 0.3 s per mode on a city network), under a key of the network hash;
* the network's tile polygons (the buffered streets of each wholly reached tile and of
  each quadtree group of tiles, see :mod:`apgeo.analysis.catchment_geometry`), under a
  key of the network hash, the buffer width and the tiling, so a new or moved site whose
  catchment covers most of the city does not buffer the whole network again. They
  depend on the network only, not on the sites, the thresholds or the study: clearing
  the per-site entries (``what="study"``) keeps them, as it keeps the processed networks.

Each kind is kept in the folder of the code that computes it (:func:`apgeo._cache.code_folder`:
a fingerprint of this module and every apgeo module it imports), so an apgeo whose routing
or catchment code changed computes again instead of reading older results.

The site's id is not in the key (renaming a site reuses its entry); its location is.
Entries are written only after a computation succeeded, atomically (a temporary file
renamed into place), so a failed or interrupted run never leaves a partial entry; they
hold plain arrays (no pickle). ``apgeo cache clear`` (:func:`clear_cache`) removes them
with the rest of the cache.

The outputs are identical to those of an uncached run: the travel-time engine computes
each site's column on its own (the other sites do not change it), and so does the
catchment builder for each site's polygons.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from apgeo import schema as S
from apgeo._cache import cache_inventory, cache_key, cached_arrays, code_folder, load_npz, save_npz
from apgeo._errors import ApgeoValueError
from apgeo._log import logger
from apgeo.analysis import catchment_geometry
from apgeo.analysis.catchment_geometry import _blocks
from apgeo.analysis.catchments import (
    DEFAULT_MIN_AREA_M2,
    THRESHOLD_MIN,
    _check_thresholds,
    _Demand,
    _finish,
    _record,
    _resolve_buffer,
    _resolve_mode,
    catchments,
)
from apgeo.routing.deferred import DeferredEngine, resolve_engine
from apgeo.routing.travel_times import TravelTimeEngine, travel_time_table
from apgeo.settings import get_settings

_FORMAT = "apgeo-study-incremental-1"
_HASHES: weakref.WeakKeyDictionary[TravelTimeEngine, str] = weakref.WeakKeyDictionary()


def study_cache_dir() -> Path:
    """Folder of the per-site study cache.

    Returns
    -------
    Path
        ``<cache_dir>/study`` (not created here).
    """
    return get_settings().cache_dir / "study"


def tile_cache_dir() -> Path:
    """Folder of the networks' catchment tile polygons.

    Returns
    -------
    Path
        ``<cache_dir>/catchment_tiles`` (not created here).
    """
    return get_settings().cache_dir / "catchment_tiles"


def clear_cache(*, what: str = "computed") -> list[Path]:
    """Delete cached artefacts; returns the folders (or files) removed.

    ``what="study"``: the study cache (:func:`study_cache_dir`: the per-site travel times
    and catchments, and the study's other kept results: the engines' network records,
    Gi* statistics, location-model solutions, disclosure checks, figures; the networks'
    tile polygons are kept, like the processed networks); ``"stale"``: every entry made by
    other apgeo code than this one (never read again; see
    :func:`apgeo._cache.cache_inventory`); ``"computed"`` (default): everything in the
    cache folder except fetched source files (``data``); ``"all"``: the whole cache folder.

    Parameters
    ----------
    what
        ``"study"``, ``"stale"``, ``"computed"`` or ``"all"``, as above.

    Returns
    -------
    list of Path
        The folders removed.
    """
    root = get_settings().cache_dir
    if what == "all":
        targets = [root]
    elif what == "study":
        targets = [study_cache_dir()]
    elif what == "stale":
        targets = [p for group in cache_inventory(root) if group.stale for p in group.paths]
    elif what == "computed":
        targets = sorted(p for p in root.iterdir() if p.name != "data") if root.is_dir() else []
    else:
        raise ApgeoValueError(f"what={what!r}: use 'study', 'stale', 'computed' or 'all'")
    removed = []
    for target in targets:
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
        else:
            continue
        removed.append(target)
    return removed


def network_hash(engine: TravelTimeEngine | DeferredEngine) -> str:
    """Content hash of what travel times and catchments depend on: the travel-time
    matrix, the edges and their geometry, the node coordinates and the CRS (computed once
    per engine; a deferred engine carries its own, recorded when it was first built).

    Parameters
    ----------
    engine
        A travel-time engine, or a deferred one.

    Returns
    -------
    str
        The hex digest.
    """
    if isinstance(engine, DeferredEngine):
        return engine.network_hash
    found = _HASHES.get(engine)
    if found is not None:
        return found
    digest = hashlib.sha256()
    geo = engine.edge_geometry()
    parts: list[Any] = [
        engine.matrix.indptr,
        engine.matrix.indices,
        engine.matrix.data,
        engine.edges["u_index"].to_numpy(),
        engine.edges["v_index"].to_numpy(),
        engine.edges["length_m"].to_numpy(float),
        engine.edges[S.TRAVEL_TIME_S].to_numpy(float),
        geo.x,
        geo.y,
        geo.offsets,
        geo.coords,
    ]
    for part in parts:
        digest.update(np.ascontiguousarray(part).tobytes())
    digest.update(f"{engine.crs}|{engine.mode}".encode())
    out = digest.hexdigest()[:32]
    _HASHES[engine] = out
    return out


def _xy(points: gpd.GeoDataFrame, crs: str) -> np.ndarray:
    projected = points.to_crs(crs) if points.crs is not None and str(points.crs) != crs else points
    return np.column_stack(
        [projected.geometry.x.to_numpy(float), projected.geometry.y.to_numpy(float)]
    )


def _site_key(base: dict[str, Any], xy: np.ndarray) -> str:
    return cache_key({**base, "site": [float(xy[0]).hex(), float(xy[1]).hex()]}, length=32)


class _Counter:
    """How many sites were computed and how many came from the cache (for tests and logs)."""

    computed = 0
    cached = 0
    _lock = threading.Lock()  # the study draws the modes' catchments on threads

    @classmethod
    def add(cls, *, cached: int, computed: int) -> None:
        with cls._lock:
            cls.cached += cached
            cls.computed += computed


def _origins_hash(origins: gpd.GeoDataFrame, id_column: str, crs: str) -> str:
    digest = hashlib.sha256()
    digest.update(pd.util.hash_pandas_object(origins[id_column], index=False).to_numpy().tobytes())
    digest.update(_xy(origins, crs).tobytes())
    return digest.hexdigest()[:32]


def cached_travel_time_table(
    engine: TravelTimeEngine | DeferredEngine,
    origins: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    *,
    origin_id_column: str,
    destination_id_column: str,
    max_travel_time_s: float | None = None,
    **snap_options: Any,
) -> pd.DataFrame:
    """:func:`apgeo.routing.travel_times.travel_time_table` with one cached column per site:
    only the sites not seen before (new or moved) are computed. Same result. A deferred
    engine is built only when some site has to be computed. ``snap_options`` (e.g.
    ``beyond="estimate"``) are passed to the snapping step and are part of the key.

    Parameters
    ----------
    engine
        The mode's engine (a deferred one is built only when a site has to be computed).
    origins, sites
        Origin points and site points.
    origin_id_column, destination_id_column
        Their id columns.
    max_travel_time_s
        Journey limit in seconds (``None``: none).
    **snap_options
        Passed to the snapping step.

    Returns
    -------
    pandas.DataFrame
        As :func:`apgeo.routing.travel_times.travel_time_table`.
    """
    crs = engine.crs
    base = {
        "format": _FORMAT,
        "kind": "travel_times",
        "network": network_hash(engine),
        "mode": engine.mode,
        "origins": _origins_hash(origins, origin_id_column, crs),
        "limit_s": None if max_travel_time_s is None else float(max_travel_time_s),
        "snap": {k: snap_options[k] for k in sorted(snap_options)},
    }
    folder = code_folder(study_cache_dir() / "travel_times", __name__)
    xy = _xy(sites, crs)
    keys = [_site_key(base, p) for p in xy]
    n_o = len(origins)
    columns: list[np.ndarray | None] = []
    for key in keys:
        data = load_npz(folder / f"{key}.npz")
        column = None if data is None else data.get("travel_time_s")
        columns.append(column if column is not None and len(column) == n_o else None)
    missing = [j for j, c in enumerate(columns) if c is None]
    _Counter.add(cached=len(keys) - len(missing), computed=len(missing))
    if missing:
        fresh = travel_time_table(
            resolve_engine(engine),
            origins,
            sites.iloc[missing],
            origin_id_column=origin_id_column,
            destination_id_column=destination_id_column,
            max_travel_time_s=max_travel_time_s,
            **snap_options,
        )
        block = fresh[S.TRAVEL_TIME_S].to_numpy(float).reshape(n_o, len(missing))
        for k, j in enumerate(missing):
            columns[j] = np.ascontiguousarray(block[:, k])
        for k, j in enumerate(missing):  # only after the whole computation succeeded
            _save(folder / f"{keys[j]}.npz", {"travel_time_s": block[:, k].copy()})
    filled = [c for c in columns if c is not None]
    times = np.column_stack(filled) if filled else np.empty((n_o, 0))
    return pd.DataFrame(
        {
            S.ORIGIN_ID: np.repeat(origins[origin_id_column].to_numpy(), len(sites)),
            S.DESTINATION_ID: np.tile(sites[destination_id_column].to_numpy(), n_o),
            S.TRAVEL_TIME_S: times.reshape(-1),
        }
    )


def _save(path: Path, arrays: dict[str, np.ndarray]) -> None:
    try:
        save_npz(path, arrays)
    except OSError as exc:  # a cache that cannot be written only costs time
        logger.warning("could not write the study cache entry %s: %s", path, exc)


def cached_catchments(
    engine: TravelTimeEngine | DeferredEngine,
    providers: gpd.GeoDataFrame,
    *,
    thresholds_min: Sequence[float] | float = (15, 30, 45, 60),
    mode: str | None = None,
    buffer_m: float | None = None,
    direction: str = "from",
    demand: gpd.GeoDataFrame | None = None,
    key_stages: Sequence[str] | str | None = None,
    id_column: str = S.SITE_ID,
    min_area_m2: float = DEFAULT_MIN_AREA_M2,
) -> gpd.GeoDataFrame:
    """:func:`apgeo.analysis.catchments.catchments` (edge method, children by weighted
    centroids) with each site's polygons cached: only new or moved sites are drawn.
    Same result.

    Parameters
    ----------
    engine
        The mode's engine (a deferred one is built only when a site has to be drawn).
    providers
        The sites (point layer).
    thresholds_min
        Thresholds in minutes.
    mode
        Mode label (``None``: the engine's).
    buffer_m
        Half-width of the street buffer in metres (``None``: the mode's default).
    direction
        ``"from"`` the site or ``"to"`` it.
    demand
        Demand areas whose children are counted in each polygon (``None``: no counts).
    key_stages
        Key stages counted.
    id_column
        The providers' id column.
    min_area_m2
        Holes and pieces smaller than this (square metres) are dropped.

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`apgeo.analysis.catchments.catchments`.
    """
    thresholds = _check_thresholds(thresholds_min)
    mode_ = _resolve_mode(mode, engine)  # type: ignore[arg-type]  # reads engine.mode only
    width_m = _resolve_buffer(buffer_m, mode_)
    crs = engine.crs
    base = {
        "format": _FORMAT,
        "kind": "catchments",
        "drawing": 2,  # tiles grouped in a quadtree: noding can differ in the last digits
        "network": network_hash(engine),
        "mode": mode_,
        "thresholds_min": [float(t) for t in thresholds],
        "buffer_m": float(width_m),
        "direction": direction,
        "min_area_m2": float(min_area_m2),
    }
    folder = code_folder(study_cache_dir() / "catchments", __name__)
    points = providers.to_crs(crs) if str(providers.crs) != crs else providers
    xy = _xy(points, crs)
    keys = [_site_key(base, p) for p in xy]
    polygons: list[list[Any] | None] = []
    for key in keys:
        data = load_npz(folder / f"{key}.npz")
        polygons.append(None if data is None else _from_wkb(data, len(thresholds)))
    missing = [j for j, p in enumerate(polygons) if p is None]
    _Counter.add(cached=len(keys) - len(missing), computed=len(missing))
    if missing:
        engine = resolve_engine(engine)  # a deferred engine is built only now
        blocks = _blocks(engine, _cached_twins(str(base["network"])))
        tiles_key = {
            "format": _FORMAT,
            "kind": "tiles",
            "network": base["network"],
            "buffer_m": float(width_m),
            "tile_edges": catchment_geometry._TILE_EDGES,
            "tiles": [blocks.n_cols, blocks.n_rows],
        }
        tiles_path = code_folder(tile_cache_dir(), __name__) / f"tiles-{cache_key(tiles_key, length=32)}.npz"
        n_tiles = _load_tiles(engine, tiles_path, width_m)
        fresh = catchments(
            engine,
            providers.iloc[missing],
            thresholds_min=thresholds_min,
            mode=mode_,  # type: ignore[arg-type]
            buffer_m=width_m,
            direction=direction,  # type: ignore[arg-type]
            id_column=id_column,
            min_area_m2=min_area_m2,
        )
        by_id = {
            site: list(group.sort_values(THRESHOLD_MIN, kind="stable").geometry)
            for site, group in fresh.groupby(id_column, sort=False)
        }
        for j in missing:
            polygons[j] = by_id[providers[id_column].iloc[j]]
        for j in missing:
            geoms = polygons[j]
            assert geoms is not None
            _save(folder / f"{keys[j]}.npz", _to_wkb(geoms))
        _save_tiles(engine, tiles_path, width_m, n_tiles)
    rows: list[dict[str, Any]] = []
    geoms_out: list[Any] = []
    for j in range(len(providers)):
        site_polygons = polygons[j]
        assert site_polygons is not None
        for threshold, geom in zip(thresholds, site_polygons, strict=True):
            rows.append(
                _record(providers, j, id_column=id_column, mode=mode_, threshold=threshold, method="edges")
            )
            geoms_out.append(geom)
    demand_ = (
        None
        if demand is None
        else _Demand(demand, crs=crs, key_stages=key_stages, children_method="pwc")
    )
    return _finish(rows, geoms_out, crs, demand_, id_column, sort_threshold=True)


def _cached_twins(network: str) -> catchment_geometry.TwinMatcher:
    """:func:`~apgeo.analysis.catchment_geometry._match_twins` kept in the tile folder under
    the network's hash (which covers the edges' nodes and geometry it reads): a moved
    site's catchments do not pair the city's streets again."""

    def match(geometry: Any, u_index: np.ndarray, v_index: np.ndarray) -> np.ndarray:
        def compute() -> dict[str, np.ndarray]:
            return {"twins": catchment_geometry._match_twins(geometry, u_index, v_index)}

        payload = {"format": _FORMAT, "kind": "twins", "network": network, "edges": len(u_index)}
        data = cached_arrays(tile_cache_dir(), payload, compute, code=[__name__])
        twins = None if data is None else data.get("twins")
        if twins is None or twins.shape != (len(u_index),) or twins.dtype.kind != "i":
            return compute()["twins"]  # a damaged entry: computed again
        return np.asarray(twins, dtype=np.int64)

    return match


def _load_tiles(engine: TravelTimeEngine, path: Path, width_m: float) -> int:
    """Hand the cached tile polygons of a network (:class:`~apgeo.analysis.catchment_geometry._Blocks`)
    to the engine's blocks, as WKB decoded when first needed: a moved site then needs no
    tile drawn again. Returns how many polygons the blocks have built so far (those drawn
    afterwards are new to the cache)."""
    blocks = _blocks(engine)
    data = load_npz(path)
    if data is not None and {"tiles", "offsets", "wkb"} <= set(data):
        tiles, offsets, raw = data["tiles"], data["offsets"], data["wkb"].tobytes()
        if len(offsets) == len(tiles) + 1:
            for k, tile in enumerate(tiles.tolist()):
                blocks.stored.setdefault((int(tile), width_m), raw[offsets[k] : offsets[k + 1]])
    return int(blocks.built)


def _known(blocks: Any, width_m: float) -> dict[int, bytes | Any]:
    """Tile code -> polygon (drawn or decoded) or WKB (not decoded yet), for ``width_m``."""
    out: dict[int, bytes | Any] = {t: b for (t, w), b in list(blocks.stored.items()) if w == width_m}
    out.update({t: g for (t, w), g in list(blocks.polygons.items()) if w == width_m})
    return out


def _save_tiles(engine: TravelTimeEngine, path: Path, width_m: float, before: int) -> None:
    """Cache the engine's tile polygons of ``width_m`` when new ones were drawn (the
    blocks had built ``before`` polygons when the cache was read)."""
    blocks = _blocks(engine)
    if blocks.built <= before:
        return
    known = _known(blocks, width_m)
    codes = sorted(known)
    blobs = [b if isinstance(b, bytes) else shapely.to_wkb(b) for b in (known[c] for c in codes)]
    offsets = np.zeros(len(blobs) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in blobs], out=offsets[1:])
    payload: dict[str, np.ndarray] = {
        "wkb": np.frombuffer(b"".join(blobs), dtype=np.uint8),
        "offsets": offsets,
        "tiles": np.array(codes, dtype=np.int64),
    }
    _save(path, payload)


def _to_wkb(geoms: list[Any]) -> dict[str, np.ndarray]:
    blobs = [shapely.to_wkb(g) for g in geoms]
    offsets = np.zeros(len(blobs) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in blobs], out=offsets[1:])
    return {"wkb": np.frombuffer(b"".join(blobs), dtype=np.uint8), "offsets": offsets}


def _from_wkb(data: dict[str, np.ndarray], n: int) -> list[Any] | None:
    try:
        offsets, raw = data["offsets"], data["wkb"].tobytes()
        if len(offsets) != n + 1:
            return None
        return [shapely.from_wkb(raw[offsets[i] : offsets[i + 1]]) for i in range(n)]
    except Exception:  # a damaged entry is a miss
        return None


__all__ = [
    "cached_catchments",
    "cached_travel_time_table",
    "clear_cache",
    "network_hash",
    "study_cache_dir",
    "tile_cache_dir",
]
