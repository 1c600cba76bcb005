"""Gi*'s permutation p-values (esda's conditional randomisation), compiled once per machine.

esda draws the permutations and computes the statistic in numba kernels; its loop over the
areas (``esda.crand.compute_chunk``) takes the statistic as a function argument, which
numba compiles again in every process and cannot keep in its on-disk cache (about 9 s
before the first Gi* of each study run, against 0.03 s for Sheffield's 345 areas x 999
permutations), and importing esda brings libpysal, scikit-learn and scipy.stats with it
(about 1 s). This module carries esda's kernels over (``vec_permutations``,
``_prepare_univariate``, ``_g_local_star_crand`` and the "directed" branch of
``_permutation_significance``, esda 2.x, BSD 3-Clause licence, copyright 2018 PySAL
Developers), unchanged but for that branch, and calls the statistic directly in a loop
numba keeps in its cache like :mod:`apgeo.routing.transit.raptor_compiled`: the same
numbers as ``esda.G_Local(..., star=True, n_jobs=1).p_sim``, bit for bit
(``tests/test_coldspots.py`` checks them against esda), with neither the compile nor esda's
imports in a later process.
"""

from __future__ import annotations

import warnings
from typing import Any

import numba
import numpy as np
import scipy.sparse as sp
from numba import boolean, njit, prange


@njit(fastmath=True, cache=True)
def _vec_permutations(max_card: int, n: int, k_replications: int, seed: int) -> np.ndarray:  # pragma: no cover - compiled
    """esda's ``crand.vec_permutations``: ``k_replications`` draws of ``max_card`` ids
    from ``range(n - 1)`` without replacement, numba's generator seeded with ``seed``."""
    np.random.seed(seed)  # noqa: NPY002  # numba's own generator, seeded as esda seeds it
    result = np.empty((k_replications, max_card), dtype=np.int64)
    for k in prange(k_replications):
        result[k] = np.random.choice(n - 1, size=max_card, replace=False)  # noqa: NPY002
    return result


@njit(fastmath=False, cache=True)
def _prepare_univariate(i: int, z: np.ndarray, permuted_ids: np.ndarray, weights_i: np.ndarray) -> Any:  # pragma: no cover - compiled
    """esda's ``crand._prepare_univariate``: area ``i``'s value and its neighbours' values
    in each permutation."""
    mask = np.ones_like(z, dtype=boolean)  # type: ignore[call-overload]  # numba's boolean type
    mask[i] = False
    z_no_i = z[mask]
    cardinality = len(weights_i)
    flat_permutation_ids = permuted_ids[:, :cardinality].flatten()
    zrand = z_no_i[flat_permutation_ids].reshape(-1, cardinality)
    return z[i], zrand


@njit(fastmath=True, cache=True)
def _g_local_star_crand(i: int, z: np.ndarray, permuted_ids: np.ndarray, weights_i: np.ndarray, scaling: float) -> np.ndarray:  # pragma: no cover - compiled
    """esda's ``getisord._g_local_star_crand``: Gi* of area ``i`` in each permutation."""
    self_weight = weights_i[0]
    other_weights = weights_i[1:]
    zi, zrand = _prepare_univariate(i, z, permuted_ids, other_weights)
    return (zrand @ other_weights + self_weight * zi) / scaling


@njit(fastmath=False, cache=True)
def _directed_significance(test_stat: float, reference_distribution: np.ndarray) -> float:  # pragma: no cover - compiled
    """esda's ``significance._permutation_significance(..., alternative="directed")`` for
    one area: ``(extreme draws + 1) / (draws + 1)``, the smaller tail."""
    p_permutations = reference_distribution.shape[0]
    larger = (reference_distribution >= test_stat).sum()
    if (p_permutations - larger) < larger:
        larger = p_permutations - larger
    return (larger + 1.0) / (p_permutations + 1.0)


def _p_sims_loop(
    z: np.ndarray,
    observed: np.ndarray,
    cardinalities: np.ndarray,
    self_weights: np.ndarray,
    other_weights: np.ndarray,
    permuted_ids: np.ndarray,
    scaling: float,
    island_weight: float,
) -> np.ndarray:  # pragma: no cover - compiled
    """``esda.crand.compute_chunk`` for one chunk of all areas, Gi* statistic, "directed"."""
    n = z.shape[0]
    p_sims = np.zeros((n,), dtype=np.float32)
    wloc = 0
    for i in range(n):
        cardinality = cardinalities[i]
        if cardinality == 0:  # an island
            weights_i = np.zeros(2, dtype=other_weights.dtype)
            weights_i[1] = island_weight
        else:  # the self-weight first, then this area's neighbours' weights
            weights_i = np.zeros(cardinality + 1, dtype=other_weights.dtype)
            weights_i[0] = self_weights[i]
            weights_i[1:] = other_weights[wloc : (wloc + cardinality)]
        wloc += cardinality
        rstats = _g_local_star_crand(i, z, permuted_ids, weights_i, scaling)
        p_sims[i] = _directed_significance(observed[i], rstats)
    return p_sims


_p_sims_jit: Any = numba.njit(parallel=False, fastmath=True, cache=True)(_p_sims_loop)


def gi_star_p_sim(
    y: np.ndarray, weights: sp.csr_matrix, observed: np.ndarray, *, permutations: int, seed: int
) -> np.ndarray:
    """Pseudo p-values of Gi* by conditional randomisation, as esda computes them.

    Parameters
    ----------
    y
        The values, one per area.
    weights
        The Gi* weights as ``esda.G_Local`` holds them after its set-up (``G_Local.w.sparse``:
        row-standardised, self-weights on the diagonal); not changed.
    observed
        The observed statistics (``G_Local.Gs``).
    permutations
        Number of permutations (esda's ``permutations``).
    seed
        Seed of the permutations (esda's ``seed``).

    Returns
    -------
    numpy.ndarray
        ``p_sim`` per area (float32, as esda's), the "directed" alternative: the smaller
        tail, ``(extreme draws + 1) / (permutations + 1)``.
    """
    z = np.asarray(y, dtype=float).reshape(-1)
    adj = weights.copy()  # the diagonal is taken out below; a copy leaves the weights alone
    self_weights = adj.diagonal()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's note on changing a sparse structure
        adj.setdiag(0)
        adj.eliminate_zeros()
    other_weights = adj.data.astype(z.dtype)
    cardinalities = np.array((adj != 0).sum(1)).flatten()
    permuted_ids = _vec_permutations(int(cardinalities.max()), len(z), int(permutations), int(seed))
    return np.asarray(
        _p_sims_jit(
            z,
            np.asarray(observed, dtype=float),
            cardinalities,
            self_weights,
            other_weights,
            permuted_ids,
            float(z.sum()),
            0.0,
        )
    )


__all__ = ["gi_star_p_sim"]
