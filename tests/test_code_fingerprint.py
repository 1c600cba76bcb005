"""Cached results follow the code that computes them: every cache folder is named by a
fingerprint of that code (apgeo._cache.code_fingerprint), so an apgeo whose computation
changed, under the same version number, computes again instead of reading older results."""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import apgeo
from apgeo import _cache as C
from apgeo.study.cli import main
from apgeo.study.incremental import clear_cache

PACKAGE = Path(apgeo.__file__).resolve().parent

# A study's travel-time columns and a Gi* statistic through their caches, in a fresh process
# running the apgeo in argv[1], with the cache folder argv[2].
SCRIPT = """
import json, sys
sys.path.insert(0, sys.argv[1])
import geopandas as gpd, numpy as np, pandas as pd, shapely
import apgeo
assert apgeo.__file__.startswith(sys.argv[1]), apgeo.__file__
apgeo.configure(cache_dir=sys.argv[2])
from apgeo.analysis.gi_star import _gi_star_cached
from apgeo.network.synthetic import grid_network
from apgeo.routing.travel_times import TravelTimeEngine
from apgeo.study.incremental import cached_travel_time_table

engine = TravelTimeEngine.from_graph(grid_network(8, 8))
def points(xy, prefix, column):
    return gpd.GeoDataFrame({column: [f"{prefix}{i}" for i in range(len(xy))]},
        geometry=[shapely.Point(430_000 + x, 380_000 + y) for x, y in xy], crs="EPSG:27700")
origins = points([(110.0 * i + 7, 60.0 * (i % 5) + 13) for i in range(6)], "o", "area_id")
sites = points([(230.0, 410.0), (590.0, 110.0)], "s", "site_id")
table = cached_travel_time_table(engine, origins, sites, origin_id_column="area_id",
                                 destination_id_column="site_id")
areas = gpd.GeoDataFrame({"area_id": [f"a{i}" for i in range(16)]},
    geometry=[shapely.box(x * 100, y * 100, x * 100 + 100, y * 100 + 100)
              for y in range(4) for x in range(4)], crs="EPSG:27700")
gi = _gi_star_cached(np.arange(16.0), areas, permutations=19, random_state=1,
                    cache_dir=sys.argv[2] + "/gi")
print(json.dumps({"travel_time_s": float(table["travel_time_s"].sum()),
                  "z": float(np.nansum(gi["z"]))}))
"""

# Appended to a module of the copy: the same computation, changed (1 minute more per
# journey; Gi* z-scores one higher).
CHANGE_TRAVEL_TIMES = """

_unchanged_travel_time_table = travel_time_table


def travel_time_table(*args, **kwargs):
    out = _unchanged_travel_time_table(*args, **kwargs)
    out["travel_time_s"] = out["travel_time_s"] + 60.0
    return out
"""
CHANGE_GI_STAR = """

_unchanged_gi_star = _gi_star


def _gi_star(*args, **kwargs):
    out = dict(_unchanged_gi_star(*args, **kwargs))
    out["z"] = out["z"] + 1.0
    return out
"""


def _run(copy: Path, cache: Path) -> dict[str, float]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "APGEO_CACHE_DIR")}
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(copy), str(cache)],
        capture_output=True, text=True, env=env, cwd=copy, timeout=300, check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_updated_code_is_not_served_results_of_the_older_code(tmp_path: Path) -> None:
    copy = tmp_path / "src"
    shutil.copytree(PACKAGE, copy / "apgeo", ignore=shutil.ignore_patterns("__pycache__"))
    cache = tmp_path / "cache"
    before = _run(copy, cache)
    assert _run(copy, cache) == before  # kept and read back
    with open(copy / "apgeo" / "study" / "incremental.py", "a") as handle:
        handle.write(CHANGE_TRAVEL_TIMES)
    with open(copy / "apgeo" / "analysis" / "gi_star.py", "a") as handle:
        handle.write(CHANGE_GI_STAR)
    after = _run(copy, cache)  # same version number, changed code, same cache folder
    assert after["travel_time_s"] == pytest.approx(before["travel_time_s"] + 6 * 2 * 60.0)
    assert after["z"] == pytest.approx(before["z"] + 16.0, rel=1e-9)


# ---- the fingerprint --------------------------------------------------------------------


@pytest.fixture
def edited(monkeypatch: pytest.MonkeyPatch):
    """``edit(module)``: fingerprints from now on see ``module``'s source changed."""
    monkeypatch.setattr(C, "_FINGERPRINTS", {})
    source = C._source

    def edit(module: str) -> None:
        monkeypatch.setattr(C, "_FINGERPRINTS", {})
        monkeypatch.setattr(C, "_source", lambda m: source(m) + (b"\n# edited\n" if m == module else b""))

    return edit


def test_fingerprint_covers_the_modules_a_computation_imports(edited) -> None:
    study = C.code_fingerprint("apgeo.study.incremental")
    network = C.code_fingerprint("apgeo.network")
    whole = C.code_fingerprint()
    assert C.code_fingerprint("apgeo.study.incremental") == study  # stable
    assert len({study, network, whole}) == 3
    # imported inside a function of a module the study cache imports (catchment tiles)
    edited("apgeo.analysis.catchment_geometry")
    assert C.code_fingerprint("apgeo.study.incremental") != study
    assert C.code_fingerprint("apgeo.network") == network  # not network code
    assert C.code_fingerprint() != whole
    edited("apgeo.network.arrays")  # network code under the study's engines
    assert C.code_fingerprint("apgeo.network") != network
    edited("apgeo.outputs.report")  # not imported by the study cache
    assert C.code_fingerprint("apgeo.study.incremental") == study


def test_closure_follows_lazy_names_and_function_imports() -> None:
    # apgeo.study.engines imports apgeo.routing.engine_arrays inside a function
    assert "apgeo.routing.engine_arrays" in C._closure(("apgeo.study.engines",))
    assert "apgeo.network.load" in C._closure(("apgeo.network",))
    assert "apgeo.outputs.figures" in C._closure(("apgeo.study.outputs",))
    assert "apgeo.schema" in C._closure(("apgeo.study.incremental",))


def test_network_cache_follows_the_network_code(cache_dir: Path, edited) -> None:
    from apgeo.network.cache import _processed_path

    def path() -> Path:
        return _processed_path({"kind": "t"}, mode="walk", speeds={"walk": 4.8}, crs="EPSG:27700", slope_aware=False)

    first = path()
    assert path() == first
    edited("apgeo.network.modes")
    assert path() != first and path().name == first.name  # same key, the new code's folder


def test_england_run_key_follows_the_code(edited) -> None:
    from apgeo.study import england_run

    class Job:
        def content_key(self) -> str:
            return "job"

    class Factory:
        def describe(self) -> str:
            return "grids"

    first = england_run.run_key(Job(), Factory())  # type: ignore[arg-type]
    edited("apgeo.analysis.england_networks")
    assert england_run.run_key(Job(), Factory()) != first  # type: ignore[arg-type]


# ---- what is kept: apgeo cache info / clear --what stale -------------------------------


def _keep(folder: Path, name: str) -> None:
    C.cached_arrays(folder, {"name": name}, lambda: {"x": np.arange(1000.0)}, code=["apgeo.analysis.gi_star"])


def test_inventory_and_stale_entries(
    cache_dir: Path, edited, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    study = cache_dir / "study" / "gi_star"
    _keep(study, "a")
    _keep(study, "b")
    (cache_dir / "networks").mkdir(parents=True)
    (cache_dir / "networks" / "0123.walk.npz").write_bytes(b"x" * 100)  # before fingerprints
    (cache_dir / "data").mkdir()
    (cache_dir / "data" / "lsoa.csv").write_text("a,b\n")
    (group,) = [g for g in C.cache_inventory() if g.kind == "study/gi_star"]
    assert group.entries == 2 and not group.stale and group.apgeo_version == apgeo.__version__
    assert group.code == C.code_fingerprint("apgeo.analysis.gi_star")
    edited("apgeo.analysis.gi_star")
    with caplog.at_level(logging.INFO, logger="apgeo"):
        _keep(study, "a")  # the new code computes again, in its own folder
    assert "made by other apgeo code" in caplog.text
    groups = {(g.kind, g.stale): g for g in C.cache_inventory()}
    assert groups["study/gi_star", True].entries == 2
    assert groups["study/gi_star", False].entries == 1
    assert groups["networks", True].apgeo_version is None
    assert not groups["data", False].stale
    assert main(["cache", "info"]) == 0
    out = capsys.readouterr().out
    assert "study/gi_star" in out and "stale" in out and "before code fingerprints" in out
    assert "fetched source files" in out and "MB" in out
    removed = clear_cache(what="stale")
    assert len(removed) == 2
    left = {(g.kind, g.stale) for g in C.cache_inventory()}
    assert left == {("study/gi_star", False), ("data", False)}
