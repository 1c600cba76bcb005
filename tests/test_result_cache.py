"""Results kept in a cache folder under a digest of their inputs: the Gi* statistic and the
proven-optimal solutions of the location models. A cached run gives exactly what an
uncached run gives; a changed input is a new entry; failed solves are never kept."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from apgeo import ApgeoError, ApgeoWarning
from apgeo._cache import cached_arrays
from apgeo.analysis import gi_star as G
from apgeo.analysis.coldspots import gi_star_clusters
from apgeo.planning.models import base as B
from apgeo.planning.models.capacitated import CapacitatedMaximalCovering
from apgeo.planning.models.mclp import MaximalCovering
from apgeo.planning.models.pmedian import PMedian

try:
    from tests.test_coldspots import lattice
except ImportError:  # tests/ not a package
    from test_coldspots import lattice  # type: ignore[no-redef]

T = 1800.0


def _entries(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.npz")) if folder.is_dir() else []


# ---- the helper -------------------------------------------------------------------------


def test_cached_arrays_keeps_results_and_never_failures(tmp_path: Path) -> None:
    calls: list[int] = []

    def compute() -> dict[str, np.ndarray]:
        calls.append(1)
        return {"x": np.arange(3.0)}

    first = cached_arrays(tmp_path, {"kind": "t", "a": 1}, compute)
    again = cached_arrays(tmp_path, {"kind": "t", "a": 1}, compute)
    assert calls == [1] and first is not None and again is not None
    np.testing.assert_array_equal(first["x"], again["x"])
    cached_arrays(tmp_path, {"kind": "t", "a": 2}, compute)  # another input: computed
    assert len(calls) == 2 and len(_entries(tmp_path)) == 2
    assert cached_arrays(tmp_path, {"kind": "failed"}, lambda: None) is None
    assert len(_entries(tmp_path)) == 2  # a failed computation leaves no entry
    assert cached_arrays(None, {"kind": "t", "a": 1}, compute) is not None
    assert len(calls) == 3  # no folder: always computed


# ---- Gi* --------------------------------------------------------------------------------


def test_gi_star_same_with_and_without_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    tt, geo, prov, _ = lattice(n=6, hot=2)
    plain = gi_star_clusters(tt, geo, prov, mode="walk", permutations=199, random_state=7)
    first = gi_star_clusters(tt, geo, prov, mode="walk", permutations=199, random_state=7, cache_dir=tmp_path)
    assert len(_entries(tmp_path / "gi_star")) == 1

    def no_permutations(*args: object, **kwargs: object) -> None:
        raise AssertionError("Gi* computed again although its inputs are cached")

    monkeypatch.setattr(G, "_gi_star", no_permutations)
    second = gi_star_clusters(tt, geo, prov, mode="walk", permutations=199, random_state=7, cache_dir=tmp_path)
    pd.testing.assert_frame_equal(plain, first)
    pd.testing.assert_frame_equal(plain, second)
    # every input the statistic depends on is in the key: each change is a miss
    with pytest.raises(AssertionError, match="computed again"):
        gi_star_clusters(tt, geo, prov, mode="walk", permutations=199, random_state=8, cache_dir=tmp_path)
    with pytest.raises(AssertionError, match="computed again"):
        gi_star_clusters(tt, geo, prov, mode="walk", permutations=299, random_state=7, cache_dir=tmp_path)
    slower = tt.assign(travel_time_s=tt["travel_time_s"] * 1.01)
    with pytest.raises(AssertionError, match="computed again"):
        gi_star_clusters(slower, geo, prov, mode="walk", permutations=199, random_state=7, cache_dir=tmp_path)
    shifted = geo.assign(geometry=geo.geometry.translate(1.0, 0.0))
    with pytest.raises(AssertionError, match="computed again"):
        gi_star_clusters(tt, shifted, prov, mode="walk", permutations=199, random_state=7, cache_dir=tmp_path)


def test_gi_star_cache_repeats_the_weights_warning(tmp_path: Path) -> None:
    tt, geo, prov, _ = lattice(n=4, hot=2)
    islands = geo.assign(geometry=geo.geometry.scale(0.5, 0.5))
    outs = []
    for _ in range(2):  # computed, then read back: the same warning both times
        with pytest.warns(ApgeoWarning, match=r"16 area\(s\) share no border"):
            outs.append(gi_star_clusters(tt, islands, prov, mode="walk", permutations=99, cache_dir=tmp_path))
    pd.testing.assert_frame_equal(outs[0], outs[1])
    assert len(_entries(tmp_path)) == 2  # the result and the areas' weights
    with pytest.raises(ApgeoError, match="share no border"):
        gi_star_clusters(tt, islands, prov, mode="walk", permutations=99, cache_dir=tmp_path, strict=True)


# ---- location models --------------------------------------------------------------------


def _instance(seed: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    cost = rng.uniform(0, 3000, (12, 7))
    cost[rng.random((12, 7)) < 0.2] = np.nan
    return cost, rng.integers(1, 60, 12).astype(float)


def _fitted(model: B._LocationModel) -> dict[str, object]:
    return {
        "selected": list(model.selected_),
        "objective": model.objective_,
        "gain": model.gain_,
        "status": model.status_,
        "served": model.served_need_.tolist(),
    }


@pytest.mark.parametrize(
    ("build", "solver"),
    [
        # the integer programs (by default these two are solved by their own search, not cached)
        (lambda c, n: MaximalCovering.from_cost_matrix(c, n, max_travel_time_s=T, p=2, fixed_open=[0]), "highs"),
        (lambda c, n: PMedian.from_cost_matrix(c, n, p=2, max_travel_time_s=T, fixed_open=[0]), "highs"),
        (lambda c, n: CapacitatedMaximalCovering.from_cost_matrix(
            c, n, capacity=np.full(7, 90.0), max_travel_time_s=T, p=2, fixed_open=[0]
        ), "auto"),
    ],
    ids=["mclp", "pmedian", "capacitated"],
)
def test_solution_cache_same_result(build, solver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    cost, need = _instance()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ApgeoWarning)
        plain = build(cost, need).solve("exact", solver=solver)
        first = build(cost, need).solve("exact", solver=solver, cache_dir=tmp_path)
        assert len(_entries(tmp_path / "solutions")) == 1

        def no_solver(*args: object, **kwargs: object) -> None:
            raise AssertionError("solved again although the solution is cached")

        monkeypatch.setattr(B, "_run_ilp", no_solver)
        second = build(cost, need).solve("exact", solver=solver, cache_dir=tmp_path)
        assert _fitted(plain) == _fitted(first) == _fitted(second)
        assert second.solver_ == plain.solver_ and second.method_ == "exact"
        # another instance is another entry
        with pytest.raises(AssertionError, match="solved again"):
            build(cost, need * 2).solve("exact", solver=solver, cache_dir=tmp_path)
        with pytest.raises(AssertionError, match="solved again"):
            build(np.where(np.isnan(cost), np.nan, cost * 0.9), need).solve("exact", solver=solver, cache_dir=tmp_path)


def test_solution_cache_keys_every_setting(tmp_path: Path) -> None:
    cost, need = _instance()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ApgeoWarning)
        MaximalCovering.from_cost_matrix(cost, need, max_travel_time_s=T, p=2, fixed_open=[0]).solve(
            "exact", solver="highs", cache_dir=tmp_path
        )
        MaximalCovering.from_cost_matrix(cost, need, max_travel_time_s=T, p=3, fixed_open=[0]).solve(
            "exact", solver="highs", cache_dir=tmp_path
        )
        MaximalCovering.from_cost_matrix(cost, need, max_travel_time_s=T / 2, p=2, fixed_open=[0]).solve(
            "exact", solver="highs", cache_dir=tmp_path
        )
        PMedian.from_cost_matrix(cost, need, p=2, max_travel_time_s=T, fixed_open=[0]).solve(
            "exact", solver="highs", cache_dir=tmp_path
        )
    assert len(_entries(tmp_path)) == 4


def test_solution_cache_keeps_no_unproven_solution(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cost, need = _instance()

    def stopped(program: object, solver: object) -> B._IlpResult:
        return B._IlpResult([], "Not Solved", False, {}, "the solver stopped before proving optimality")

    monkeypatch.setattr(B, "_run_ilp", stopped)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ApgeoWarning)  # fell back to greedy
        model = MaximalCovering.from_cost_matrix(cost, need, max_travel_time_s=T, p=2, fixed_open=[0])
        model.solve("exact", solver="highs", cache_dir=tmp_path)
    assert model.method_ == "greedy (fallback)"
    assert _entries(tmp_path) == []


# ---- disclosure checks ------------------------------------------------------------------


def test_disclosure_checks_cached_only_inside_a_results_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from apgeo._cache import results_cache
    from apgeo.privacy import disclosure as D

    table = pd.DataFrame(
        [[3, 12, 9, 0], [8, 2, 15, 6], [11, 7, 1, 14]],
        index=pd.Index(["a", "b", "c"], name="area"),
        columns=pd.Index(["s1", "s2", "s3", "s4"], name="site"),
    )
    plain = D.protect_table(table, threshold=5)
    assert not _entries(tmp_path)  # no results cache active: nothing kept
    with results_cache(tmp_path):
        first = D.protect_table(table, threshold=5)
    assert len(_entries(tmp_path / "disclosure")) == 1

    def no_check(*args: object, **kwargs: object) -> None:
        raise AssertionError("checked again although the result is cached")

    monkeypatch.setattr(D, "_protect_uncached", no_check)
    with results_cache(tmp_path):
        second = D.protect_table(table, threshold=5)
        pd.testing.assert_frame_equal(plain, first)
        pd.testing.assert_frame_equal(plain, second)
        with pytest.raises(AssertionError, match="checked again"):
            D.protect_table(table.assign(s1=table["s1"] + 1), threshold=5)  # other counts
        with pytest.raises(AssertionError, match="checked again"):
            D.protect_table(table, threshold=5, hide_total=True)  # other entries hidden first
    with pytest.raises(AssertionError, match="checked again"):
        D.protect_table(table, threshold=5)  # outside the block: computed


def test_cache_clear_removes_every_kept_result() -> None:
    from apgeo.study.cli import main
    from apgeo.study.incremental import study_cache_dir

    tt, geo, prov, _ = lattice(n=4, hot=2)
    gi_star_clusters(tt, geo, prov, mode="walk", permutations=99, cache_dir=study_cache_dir())
    cost, need = _instance()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ApgeoWarning)
        MaximalCovering.from_cost_matrix(cost, need, max_travel_time_s=T, p=2, fixed_open=[0]).solve(
            "exact", solver="highs", cache_dir=study_cache_dir()
        )
    assert len(_entries(study_cache_dir())) == 3  # Gi*, its areas' weights and the solution
    assert main(["cache", "clear", "--what", "study"]) == 0
    assert _entries(study_cache_dir()) == []


def test_file_digest_is_read_again_when_the_file_changes(tmp_path: Path) -> None:
    """A file's sha256 is remembered while the file is unchanged on disk, and read again
    when it is rewritten, even with the same size."""
    import hashlib
    import os

    from apgeo._cache import file_sha256

    path = tmp_path / "network.graphml"
    path.write_bytes(b"a" * 1000)
    assert file_sha256(path) == hashlib.sha256(b"a" * 1000).hexdigest()
    assert file_sha256(path) == hashlib.sha256(b"a" * 1000).hexdigest()  # remembered
    st = os.stat(path)
    path.write_bytes(b"b" * 1000)  # same size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # even with the old modification time
    assert file_sha256(path) == hashlib.sha256(b"b" * 1000).hexdigest()


def test_a_large_files_digest_is_kept_across_processes(
    tmp_path: Path, cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A network-sized file's digest is kept in the cache folder under its identity on
    disk: a new process (an empty in-process memo) reads it there instead of the file, and a
    rewritten file (same size, old modification time) is read again."""
    import hashlib
    import os

    import apgeo._cache as cache

    monkeypatch.setattr(cache, "_KEEP_DIGEST_BYTES", 1000)
    path = tmp_path / "network.graphml"
    path.write_bytes(b"a" * 1000)
    real = hashlib.sha256(b"a" * 1000).hexdigest()
    assert cache.file_sha256(path) == real
    kept = list((cache_dir / "file_digests").rglob("*.txt"))
    assert [p.read_text() for p in kept] == [real]
    cache._FILE_DIGESTS.clear()  # as in a new process
    kept[0].write_text("f" * 64)  # what is kept is what is read: the file is not read
    assert cache.file_sha256(path) == "f" * 64
    cache._FILE_DIGESTS.clear()
    st = os.stat(path)
    path.write_bytes(b"b" * 1000)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert cache.file_sha256(path) == hashlib.sha256(b"b" * 1000).hexdigest()
    assert any(e.kind == "file_digests" and not e.stale for e in cache.cache_inventory())
