"""Gi*'s permutation p-values (esda's conditional randomisation), compiled once per machine.

esda draws the permutations and computes the statistic in numba kernels; its loop over the
areas (``esda.crand.compute_chunk``) takes the statistic as a function argument, which
numba compiles again in every process and cannot keep in its on-disk cache: about 9 s
(30 s on a busy 2-core machine) before the first Gi* of each study run, against 0.03 s for
Sheffield's 345 areas x 999 permutations. :func:`gi_star_p_sim` is that loop with the Gi*
statistic called directly (esda's own ``_g_local_star_crand``, its permutation ids from
``esda.crand.vec_permutations`` with the same seed, its ``_permutation_significance``), so
numba keeps it in its cache like :mod:`apgeo.routing.transit.raptor_compiled`: the same
numbers as ``esda.G_Local(..., star=True, n_jobs=1).p_sim``, bit for bit
(``tests/test_coldspots.py``), without the compile in a later process.
"""

from __future__ import annotations

from typing import Any

import numpy as np

numba: Any
try:  # esda runs without numba too (pure Python); then so does this module, through esda
    import numba
    from esda.crand import vec_permutations
    from esda.getisord import _g_local_star_crand
    from esda.significance import _permutation_significance
except ImportError:  # pragma: no cover - numba is a dependency of apgeo
    numba = None

#: ``True`` when the compiled loop can be used (numba and esda's kernels are importable).
AVAILABLE = numba is not None


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
        p_sims[i] = _permutation_significance(observed[i], rstats, alternative="directed").item()
    return p_sims


_p_sims_jit: Any = (
    numba.njit(parallel=False, fastmath=True, cache=True)(_p_sims_loop) if numba is not None else None
)


def gi_star_p_sim(y: np.ndarray, w: Any, observed: np.ndarray, *, permutations: int, seed: int) -> np.ndarray:
    """Pseudo p-values of Gi* by conditional randomisation, as esda computes them.

    Parameters
    ----------
    y
        The values, one per area.
    w
        The Gi* weights as ``esda.G_Local`` holds them after its set-up (``G_Local.w``:
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
    import warnings

    z = np.asarray(y, dtype=float).reshape(-1)
    adj = w.sparse.copy()  # esda changes the weights' matrix in place; a copy leaves w alone
    self_weights = adj.diagonal()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scipy's note on changing a sparse structure
        adj.setdiag(0)
        adj.eliminate_zeros()
    other_weights = adj.data.astype(z.dtype)
    cardinalities = np.array((adj != 0).sum(1)).flatten()
    permuted_ids = vec_permutations(int(cardinalities.max()), len(z), int(permutations), int(seed))
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


__all__ = ["AVAILABLE", "gi_star_p_sim"]
