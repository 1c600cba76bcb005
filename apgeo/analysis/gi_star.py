"""Getis-Ord Gi* machinery for :func:`apgeo.analysis.coldspots.gi_star_clusters`: the
spatial weights of the areas, the statistic and its permutation p-values, optionally kept
in a cache folder under a digest of everything they depend on (the same inputs give the
same permutations, so the result is read back rather than drawn again).

The numbers are esda's ``G_Local(y, w, transform="R", star=True)`` with binary weights,
bit for bit (``tests/test_coldspots.py`` checks them against esda): the statistic and its
z-score by the same sparse and array operations on the same matrix, the p-values by esda's
kernels (:mod:`apgeo.analysis.gi_star_permutations`). The weights are libpysal's (Queen
contiguity, else the k nearest neighbours), made once per areas: kept in memory and, with
a cache folder, on disk, so a later process neither builds them again nor imports
libpysal, esda, scikit-learn or scipy.stats (about 1 s of a study's start).
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import geopandas as gpd
import numpy as np
import scipy.sparse as sp
import shapely

from apgeo._cache import array_digest, cache_key, cached_arrays
from apgeo.analysis.tables import format_ids
from apgeo.schema import AREA_ID


def _areas_identity(areas: gpd.GeoDataFrame) -> dict[str, str]:
    """What the weights are made from, for cache keys: the areas' ids, geometry and CRS."""
    return {
        "ids": cache_key({"ids": [str(a) for a in areas[AREA_ID]]}, length=64),
        "geometry": _wkb_digest(areas),
        "crs": str(areas.crs),
    }


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


#: Weights already made in this process, as ``(indptr, indices, message)`` of the binary
#: adjacency by a digest of the areas (a study measures Gi* of several values over the
#: same areas); the few most recent are kept.
_WEIGHTS_MADE: dict[str, tuple[np.ndarray, np.ndarray, str]] = {}
_WEIGHTS_KEPT = 4
_WEIGHTS_LOCK = threading.Lock()


def _spatial_weights(gdf: gpd.GeoDataFrame, cache_dir: str | Path | None = None) -> tuple[sp.csr_matrix, str]:
    """The binary adjacency of the areas (rows and columns in the frame's order, no
    self-weights) and the warning to give about it ("" for none).

    It depends on the areas' ids and geometry only, so it is made once per areas in a
    process, and kept in ``cache_dir`` (when given) for later processes; each call gets
    a new matrix."""
    ids = list(gdf[AREA_ID])
    payload: dict[str, object] = {"kind": "gi_star weights", **_areas_identity(gdf), "knn": GI_KNN_NEIGHBOURS}
    key = cache_key(payload, length=64)
    with _WEIGHTS_LOCK:
        made = _WEIGHTS_MADE.get(key)
    if made is None:

        def compute() -> dict[str, np.ndarray]:
            from importlib.metadata import version

            w, message = _make_weights(gdf, ids)
            matrix = _binary_matrix(w, ids)
            return {"indptr": matrix.indptr, "indices": matrix.indices, "message": np.array([message]),
                    "libpysal": np.array([version("libpysal")])}

        folder = None if cache_dir is None else Path(cache_dir) / "gi_star"
        data = cached_arrays(folder, payload, compute, code=[__name__])
        assert data is not None
        made = (np.asarray(data["indptr"]), np.asarray(data["indices"]), str(data["message"][0]))
        with _WEIGHTS_LOCK:
            _WEIGHTS_MADE[key] = made
            while len(_WEIGHTS_MADE) > _WEIGHTS_KEPT:
                del _WEIGHTS_MADE[next(iter(_WEIGHTS_MADE))]
    indptr, indices, message = made
    n = len(ids)
    return sp.csr_matrix((np.ones(len(indices)), indices.copy(), indptr.copy()), shape=(n, n)), message


def _binary_matrix(w: object, ids: list[object]) -> sp.csr_matrix:
    """libpysal weights as a binary CSR matrix in the order of ``ids``, columns sorted
    (the order libpysal's ``W.sparse`` has once esda has put the self-weights in)."""
    position = {a: k for k, a in enumerate(ids)}
    rows: list[int] = []
    cols: list[int] = []
    for k, a in enumerate(ids):
        for b in w.neighbors[a]:  # type: ignore[attr-defined]
            rows.append(k)
            cols.append(position[b])
    n = len(ids)
    matrix = sp.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    matrix.sum_duplicates()
    matrix.sort_indices()
    return matrix


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


def _gi_star(
    y: np.ndarray, areas: gpd.GeoDataFrame, *, permutations: int, random_state: int,
    cache_dir: str | Path | None = None,
) -> dict[str, np.ndarray]:
    """esda's Gi* of ``y`` over ``areas`` (one row per value): ``z``, ``p_sim`` and the
    weights ``warning`` ("" for none). ``cache_dir`` keeps the areas' weights."""
    from apgeo.analysis import gi_star_permutations

    y = np.asarray(y, dtype=float).reshape(-1)
    binary, message = _spatial_weights(areas, cache_dir)
    n = binary.shape[0]
    # esda's set-up: self-weight 1 on the diagonal, then row-standardised ("R")
    weights = (binary + sp.identity(n, format="csr")).tocsr()
    weights.sort_indices()
    per_row = np.diff(weights.indptr)
    weights.data = np.repeat(1.0 / per_row.astype(float), per_row)
    with np.errstate(divide="ignore", invalid="ignore"):
        # esda.G_Local.calc with star=True, operation for operation
        statistic = (weights @ y) / y.sum()
        empirical_mean = y.sum() / n
        mean_of_squares = (y**2).sum() / n
        empirical_variance = mean_of_squares - empirical_mean**2
        cardinality = np.asarray(weights.sum(axis=1)).squeeze()
        expected_value = cardinality / n
        expected_variance = cardinality * (n - cardinality)
        expected_variance /= n - 1
        expected_variance *= 1 / n**2
        expected_variance *= empirical_variance / (empirical_mean**2)
        z_scores = (statistic - expected_value) / np.sqrt(expected_variance)
    p_sim = gi_star_permutations.gi_star_p_sim(
        y, weights, statistic, permutations=int(permutations), seed=int(random_state)
    )
    return {
        "z": np.asarray(z_scores, dtype=float),
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
    (ids and geometry, which make the weights), the permutations, the seed and the
    versions of numba (whose generator draws the permutations) and libpysal."""
    from importlib.metadata import version

    folder = None if cache_dir is None else Path(cache_dir) / "gi_star"
    payload: dict[str, object] = {}
    if folder is not None:
        payload = {
            "kind": "gi_star",
            "values": array_digest(y),
            **_areas_identity(areas),
            "permutations": int(permutations),
            "random_state": int(random_state),
            "knn": GI_KNN_NEIGHBOURS,
            "numba": version("numba"),
            "libpysal": version("libpysal"),
        }
    data = cached_arrays(
        folder,
        payload,
        lambda: _gi_star(y, areas, permutations=permutations, random_state=random_state, cache_dir=cache_dir),
        code=[__name__],
    )
    assert data is not None
    return data
