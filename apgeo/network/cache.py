"""The processed-network cache: each mode's arrays stored as plain numpy files (no pickle),
keyed by the source's content hash, the area, mode, speeds, CRS and slope option, in the
folder of the current network code (:func:`apgeo._cache.code_folder`); and deriving every mode from one read of a source.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import shapely

from apgeo._cache import cache_key, code_folder, load_npz, save_npz
from apgeo._errors import ApgeoError, ApgeoValueError
from apgeo._log import logger
from apgeo._progress import progress_bar
from apgeo.network.arrays import _derive, _graph_from_arrays, _ModeArrays, _object_array
from apgeo.network.modes import Mode, check_mode
from apgeo.settings import get_settings

_PROCESSED_FORMAT = "apgeo-network-arrays-1"


def _processed_path(
    fingerprint: Mapping[str, Any],
    *,
    mode: Mode,
    speeds: Mapping[str, float],
    crs: str,
    slope_aware: bool,
) -> Path:
    """Where a mode's processed network is cached (see :func:`load_networks`)."""
    key = cache_key(
        {
            "format": _PROCESSED_FORMAT,
            "source": dict(fingerprint),
            "mode": mode,
            "speeds_kph": dict(sorted(speeds.items())),
            "crs": crs,
            "slope_aware": bool(slope_aware),
        }
    )
    return network_cache_folder() / f"{key}.{mode}.npz"


def network_cache_folder() -> Path:
    """The folder of the networks cached by the current network code (downloads and
    processed arrays; the fingerprint of :mod:`apgeo.network` names it).

    Returns
    -------
    pathlib.Path
        ``<cache_dir>/networks/<folder of the current apgeo.network code>``.
    """
    return code_folder(get_settings().cache_dir / "networks", "apgeo.network")


def _arrays_to_npz(arrays: _ModeArrays) -> dict[str, np.ndarray] | None:
    """Plain (non-object) arrays of a mode network, or ``None`` when it cannot be stored
    without pickle (node ids that are not integers, exotic ``osmid`` values)."""
    ids = arrays.node_ids.tolist()
    if not all(type(n) is int for n in ids):
        return None
    osmid_kind = np.zeros(len(arrays.osmid), dtype=np.int8)  # 0 absent, 1 int, 2 JSON
    osmid_int = np.zeros(len(arrays.osmid), dtype=np.int64)
    osmid_json: list[str] = []
    for i, value in enumerate(arrays.osmid.tolist()):
        if value is None:
            continue
        if type(value) is int:
            osmid_kind[i], osmid_int[i] = 1, value
            continue
        try:
            osmid_json.append(json.dumps(value))
        except TypeError:
            return None
        osmid_kind[i] = 2
    highway_codes, highway_names = pd.factorize(arrays.highway)
    if (highway_codes < 0).any() or not all(isinstance(h, str) for h in highway_names):
        return None
    has = pd.notna(arrays.geometry)
    geom_rows = np.flatnonzero(has)
    coords, index = shapely.get_coordinates(arrays.geometry[has], return_index=True)
    out: dict[str, np.ndarray] = {
        "node_ids": np.asarray(ids, dtype=np.int64),
        "x": arrays.x,
        "y": arrays.y,
        "u": arrays.u.astype(np.int64),
        "v": arrays.v.astype(np.int64),
        "key": arrays.key.astype(np.int64),
        "length_m": arrays.length_m,
        "speed_kph": arrays.speed_kph,
        "travel_time_s": arrays.travel_time_s,
        "highway_codes": highway_codes.astype(np.int32),
        "highway_names": np.asarray(list(highway_names), dtype=str),
        "osmid_kind": osmid_kind,
        "osmid_int": osmid_int,
        "osmid_json": np.asarray(osmid_json, dtype=str),
        "geom_rows": geom_rows,
        "geom_coords": coords,
        "geom_index": index.astype(np.int64),
        "meta": np.asarray(
            json.dumps(
                {
                    "format": _PROCESSED_FORMAT,
                    "crs": arrays.crs,
                    "mode": arrays.mode,
                    "source": arrays.source,
                    "speeds_kph": arrays.speeds_kph,
                }
            )
        ),
    }
    if arrays.elevation is not None:
        out["elevation"] = arrays.elevation
    return out


def _arrays_from_npz(data: Mapping[str, np.ndarray]) -> _ModeArrays:
    """Inverse of :func:`_arrays_to_npz`; raises on any inconsistency."""
    meta = json.loads(str(data["meta"]))
    if meta.get("format") != _PROCESSED_FORMAT:
        raise ValueError(f"format {meta.get('format')!r}")
    n_nodes = len(data["node_ids"])
    u, v = data["u"], data["v"]
    m = len(u)
    for name in (
        "v",
        "key",
        "length_m",
        "speed_kph",
        "travel_time_s",
        "highway_codes",
        "osmid_kind",
    ):
        if len(data[name]) != m:
            raise ValueError(f"{name} has {len(data[name])} rows, not {m}")
    if (
        m == 0
        or n_nodes == 0
        or u.max() >= n_nodes
        or v.max() >= n_nodes
        or min(u.min(), v.min()) < 0
    ):
        raise ValueError("empty network or edge ends outside the node table")
    if len(data["x"]) != n_nodes or len(data["y"]) != n_nodes:
        raise ValueError("node coordinates do not match the node ids")
    kind = data["osmid_kind"]
    osmid = np.full(m, None, dtype=object)
    ints = kind == 1
    osmid[ints] = _object_array(data["osmid_int"][ints].tolist())
    other = np.flatnonzero(kind == 2)
    if len(other) != len(data["osmid_json"]):
        raise ValueError("osmid values do not match")
    if len(other):
        osmid[other] = _object_array([json.loads(s) for s in data["osmid_json"].tolist()])
    highway = _object_array(data["highway_names"].tolist())[data["highway_codes"]]
    geometry = np.full(m, None, dtype=object)
    rows = data["geom_rows"]
    if len(rows):
        lines = shapely.linestrings(data["geom_coords"], indices=data["geom_index"])
        if len(lines) != len(rows):
            raise ValueError("edge geometries do not match")
        geometry[rows] = lines
    return _ModeArrays(
        node_ids=_object_array(data["node_ids"].tolist()),
        x=data["x"],
        y=data["y"],
        elevation=data["elevation"] if "elevation" in data else None,
        u=u,
        v=v,
        key=data["key"],
        length_m=data["length_m"],
        speed_kph=data["speed_kph"],
        travel_time_s=data["travel_time_s"],
        highway=highway,
        osmid=osmid,
        geometry=geometry,
        crs=str(meta["crs"]),
        mode=str(meta["mode"]),
        source=str(meta["source"]),
        speeds_kph={str(k): float(val) for k, val in meta["speeds_kph"].items()},
    )


def _load_cached(path: Path) -> _ModeArrays | None:
    data = load_npz(path)
    if data is None:
        return None
    try:
        arrays = _arrays_from_npz(data)
    except Exception as exc:  # a damaged entry is ignored and rebuilt
        logger.warning("ignoring damaged cached network %s (%s: %s)", path, type(exc).__name__, exc)
        return None
    logger.info("network cache hit: %s", path)
    return arrays


def _store_cached(path: Path, arrays: _ModeArrays) -> None:
    """Cache a mode network (never an empty one); a failure to write is only logged."""
    if len(arrays.u) == 0 or len(arrays.node_ids) == 0:
        return
    payload = _arrays_to_npz(arrays)
    if payload is None:
        logger.info("network of %s not cached: node ids or osmids need pickle", arrays.source)
        return
    try:
        save_npz(path, payload)
        logger.info("cached %s network at %s", arrays.mode, path)
    except OSError as exc:
        logger.warning("could not cache the network at %s: %s", path, exc)


# ---- public loaders ---------------------------------------------------------------------------


def _check_modes(modes: Iterable[Mode] | Mode) -> list[Mode]:
    items = [modes] if isinstance(modes, str) else list(modes)
    if not items:
        raise ApgeoValueError("modes is empty; give one or more of 'walk', 'cycle', 'drive'")
    out: list[Mode] = []
    for mode in items:
        checked = check_mode(mode)
        if checked not in out:
            out.append(checked)
    return out


def _build_modes(
    read: Any,
    wanted: list[Mode],
    *,
    speeds: dict[str, float],
    slope_aware: bool,
    paths: Mapping[Mode, Path] | None,
    source: str | Mapping[Mode, str] | None = None,
    also: Iterable[Mode] = (),
    build: Any = None,
) -> dict[Mode, nx.MultiDiGraph]:
    """Read the source once (``read()`` -> :class:`_Prepared`), derive every wanted mode,
    cache each (when ``paths``), and free the raw data. Modes in ``also`` are derived and
    cached too when they can be (errors only logged), but not returned. ``build(arrays,
    source)`` makes what is returned (default: the networkx graph)."""
    modes = [*wanted, *(m for m in also if m not in wanted)]
    out: dict[Mode, nx.MultiDiGraph] = {}
    with progress_bar(total=1 + len(modes), desc="network build", unit=" step") as bar:
        bar.set_postfix_str("reading")
        prepared = read()
        bar.update(1)
        for mode in modes:
            bar.set_postfix_str(mode)
            try:
                arrays = _derive(prepared, mode=mode, speeds=speeds, slope_aware=slope_aware)
            except ApgeoError as exc:
                if mode in wanted:
                    raise
                logger.info("not caching the %s network too: %s", mode, exc)
                bar.update(1)
                continue
            if paths is not None:
                _store_cached(paths[mode], arrays)
            if mode in wanted:
                name = source.get(mode) if isinstance(source, Mapping) else source
                out[mode] = (_graph_from_arrays if build is None else build)(arrays, source=name)
            del arrays
            bar.update(1)
    del prepared
    return out
