"""Getis-Ord Gi* machinery for :func:`apgeo.analysis.coldspots.gi_star_clusters`: the
spatial weights of the areas and esda's permutation statistic, optionally kept in a cache
folder under a digest of everything it depends on (the same inputs give the same
permutations, so the result is read back rather than drawn again).

esda compiles its permutation kernels with numba on first use in every process (about
30 s on a 2-core machine, against 0.03 s for Sheffield's 345 areas x 999 permutations).
:func:`_cache_esda_kernels` lets numba keep the kernels that take only arrays in its
on-disk cache, as :mod:`apgeo.routing.transit.raptor_compiled` does with its own, and the
loop over the areas, which esda compiles again in every process (its statistic is a
function argument), is :mod:`apgeo.analysis.gi_star_permutations`'s cached copy: a later
process loads everything (0.6 s for Sheffield's first Gi*, 9 s before) and the p-values
are esda's, bit for bit.
"""

from __future__ import annotations

import functools
import hashlib
import threading
import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely

from apgeo._cache import array_digest, cache_key, cached_arrays
from apgeo.analysis.tables import format_ids
from apgeo.schema import AREA_ID


def _wkb_digest(areas: gpd.GeoDataFrame) -> str:
    """Digest of the areas' geometries (WKB, each with its length)."""
    digest = hashlib.sha256()
    for blob in shapely.to_wkb(np.asarray(areas.geometry.array), hex=False):
        digest.update(len(blob).to_bytes(8, "little"))
        digest.update(blob)
    return digest.hexdigest()


#: Neighbours of each area in the Gi* weights when areas are points (no polygons), or
#: when some polygon shares no border with another.
GI_KNN_NEIGHBOURS = 6


#: Weights already made in this process, as ``(neighbours, weights, message)`` by a digest
#: of the areas (a study measures Gi* of several values over the same areas); the few
#: most recent are kept.
_WEIGHTS_MADE: dict[str, tuple[dict[object, list[object]], dict[object, list[float]], str]] = {}
_WEIGHTS_KEPT = 4
_WEIGHTS_LOCK = threading.Lock()


def _spatial_weights(gdf: gpd.GeoDataFrame) -> tuple[object, str]:
    """The Gi* weights of the areas, and the warning to give about them ("" for none).

    They depend on the areas' ids and geometry only, so they are made once per areas in
    a process; each call gets a new ``libpysal.weights.W`` of them (esda changes the
    object it is given)."""
    from libpysal.weights import W

    ids = list(gdf[AREA_ID])
    key = cache_key({"ids": [str(a) for a in ids], "geometry": _wkb_digest(gdf), "crs": str(gdf.crs)}, length=64)
    with _WEIGHTS_LOCK:
        made = _WEIGHTS_MADE.get(key)
    if made is None:
        w, message = _make_weights(gdf, ids)
        made = ({i: list(n) for i, n in w.neighbors.items()}, {i: list(v) for i, v in w.weights.items()}, message)  # type: ignore[attr-defined]
        with _WEIGHTS_LOCK:
            _WEIGHTS_MADE[key] = made
            while len(_WEIGHTS_MADE) > _WEIGHTS_KEPT:
                del _WEIGHTS_MADE[next(iter(_WEIGHTS_MADE))]
    neighbours, weights, message = made
    fresh = W(
        {i: list(n) for i, n in neighbours.items()}, {i: list(v) for i, v in weights.items()},
        id_order=ids, silence_warnings=True,
    )
    return fresh, message


def _make_weights(gdf: gpd.GeoDataFrame, ids: list[object]) -> tuple[object, str]:
    """Queen contiguity of the areas' polygons; the k nearest neighbours of their points
    (no polygons) or centroids (some polygon borders no other), with the warning to give."""
    from libpysal.weights import KNN, Queen

    k = min(GI_KNN_NEIGHBOURS, len(gdf) - 1)
    if (gdf.geometry.geom_type == "Point").all():
        # centroids only (no polygons offline): k nearest neighbours, stated in the report
        return KNN.from_dataframe(gdf[[AREA_ID, gdf.geometry.name]], k=k, ids=ids, use_index=False), ""
    queen = Queen.from_dataframe(gdf, ids=ids, use_index=False, silence_warnings=True)
    if not queen.islands:
        return queen, ""
    message = (
        f"{len(queen.islands)} area(s) share no border with any other "
        f"({format_ids(queen.islands)}); Gi* uses the {k} nearest neighbours of each area's "
        "centroid instead of Queen contiguity"
    )
    points = gpd.GeoDataFrame({AREA_ID: ids}, geometry=gdf.geometry.centroid, crs=gdf.crs)
    return KNN.from_dataframe(points, k=k, ids=ids, use_index=False), message


#: esda's numba kernels (module, names) whose arguments are arrays and scalars only: safe
#: for numba's on-disk cache. ``crand.compute_chunk`` takes the statistic as a function
#: argument, whose type differs in every process: caching it would add a copy per run.
_CACHEABLE_KERNELS = {
    "esda.crand": ("vec_permutations", "build_weights_offsets", "chunk_generator", "_prepare_univariate",
                   "_prepare_bivariate", "local"),
    "esda.significance": ("_permutation_significance",),
    "esda.getisord": ("_g_local_crand", "_g_local_star_crand"),
}


@functools.cache
def _cache_esda_kernels() -> int:
    """Turn on numba's on-disk cache (numba's own place: next to esda, else the user's
    cache folder) for :data:`_CACHEABLE_KERNELS`, once per process, before their first
    compile. Returns how many; a kernel that is missing (another esda version) or cannot be
    cached (no writable folder) is left as it is."""
    import importlib

    n = 0
    for module_name, names in _CACHEABLE_KERNELS.items():
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        for name in names:
            kernel = getattr(module, name, None)
            if kernel is None or not hasattr(kernel, "enable_caching") or kernel.signatures:
                continue  # absent, not numba, or already compiled in this process
            try:
                kernel.enable_caching()
            except Exception:  # numba raises RuntimeError when no cache folder is writable
                continue
            n += 1
    return n


def _gi_star(
    y: np.ndarray, areas: gpd.GeoDataFrame, *, permutations: int, random_state: int
) -> dict[str, np.ndarray]:
    """esda's Gi* of ``y`` over ``areas`` (one row per value): ``z``, ``p_sim`` and the
    weights ``warning`` ("" for none)."""
    import esda  # esda, libpysal and scipy.stats: about 1 s to import, so only when measured

    from apgeo.analysis import gi_star_permutations

    _cache_esda_kernels()
    w, message = _spatial_weights(areas)
    w.transform = "B"  # type: ignore[attr-defined]  # binary, so esda sets self-weight 1
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        # esda announces a future change of its default alternative; we label with
        # today's directional (folded) p_sim, documented in gi_star_clusters.
        warnings.filterwarnings(
            "ignore", message="The alternative hypothesis", category=DeprecationWarning
        )
        # the statistic by esda; its permutation p-values by the same kernels in a loop
        # numba keeps in its disk cache (apgeo.analysis.gi_star_permutations), when it can
        compiled = permutations > 0 and gi_star_permutations.AVAILABLE
        g = esda.G_Local(
            y,
            w,
            transform="R",
            permutations=0 if compiled else int(permutations),
            star=True,
            keep_simulations=False,
            n_jobs=1,
            seed=int(random_state),
        )
        if compiled:
            p_sim = gi_star_permutations.gi_star_p_sim(
                y, g.w, g.Gs, permutations=int(permutations), seed=int(random_state)
            )
        else:
            p_sim = g.p_sim
    return {
        "z": np.asarray(g.Zs, dtype=float),
        "p_sim": np.asarray(p_sim, dtype=float),
        "warning": np.array([message]),
    }


def _gi_star_cached(
    y: np.ndarray,
    areas: gpd.GeoDataFrame,
    *,
    permutations: int,
    random_state: int,
    cache_dir: str | Path | None,
) -> dict[str, np.ndarray]:
    """:func:`_gi_star`, kept in ``cache_dir`` under a digest of the values, the areas
    (ids and geometry, which make the weights), the permutations, the seed and the esda
    and libpysal versions."""
    from importlib.metadata import version

    folder = None if cache_dir is None else Path(cache_dir) / "gi_star"
    payload: dict[str, object] = {}
    if folder is not None:
        payload = {
            "kind": "gi_star",
            "values": array_digest(y),
            "ids": cache_key({"ids": [str(a) for a in areas[AREA_ID]]}, length=64),
            "geometry": _wkb_digest(areas),
            "crs": str(areas.crs),
            "permutations": int(permutations),
            "random_state": int(random_state),
            "knn": GI_KNN_NEIGHBOURS,
            "esda": version("esda"),
            "libpysal": version("libpysal"),
        }
    data = cached_arrays(
        folder,
        payload,
        lambda: _gi_star(y, areas, permutations=permutations, random_state=random_state),
        code=[__name__],
    )
    assert data is not None
    return data
