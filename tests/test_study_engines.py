"""The study's engines from a network file: built the first time, deferred afterwards
(apgeo.study.engines, apgeo.routing.deferred): a rerun whose sites are all in the study
cache builds no engine, gives the same tables, and warns as the first run did."""

from __future__ import annotations

import warnings
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from apgeo import ApgeoWarning
from apgeo.routing.deferred import DeferredEngine, resolve_engine
from apgeo.routing.travel_times import TravelTimeEngine, travel_time_table
from apgeo.study import engines as study_engines_module
from apgeo.study.engines import study_engines
from apgeo.study.incremental import cached_catchments, cached_travel_time_table, network_hash

try:
    from tests._network_fixtures import osmnx_style_graph
except ImportError:  # tests/ is not a package
    from _network_fixtures import osmnx_style_graph

MODES = ("walk", "drive")


@pytest.fixture(scope="module")
def graphml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    import osmnx as ox

    path = tmp_path_factory.mktemp("net") / "area.graphml"
    ox.save_graphml(osmnx_style_graph(), path)
    return path


def _load(path: Path, **kwargs: object) -> tuple[dict[str, object], list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        engines = study_engines(path, modes=MODES, polygon=None, buffer_m=3000.0, **kwargs)  # type: ignore[arg-type]
    return dict(engines), sorted(str(w.message) for w in caught if issubclass(w.category, ApgeoWarning))


def _points(engine: TravelTimeEngine, rows: list[int], prefix: str, column: str) -> gpd.GeoDataFrame:
    geo = engine.edge_geometry()
    return gpd.GeoDataFrame(
        {column: [f"{prefix}{i}" for i in range(len(rows))]},
        geometry=[shapely.Point(geo.x[r] + 3.0, geo.y[r] + 2.0) for r in rows],
        crs=engine.crs,
    )


def test_engines_built_once_then_deferred(graphml: Path) -> None:
    first, first_warnings = _load(graphml)
    assert all(isinstance(e, TravelTimeEngine) for e in first.values())
    again, again_warnings = _load(graphml)
    assert all(isinstance(e, DeferredEngine) and not e.loaded for e in again.values())
    assert again_warnings == first_warnings  # a rerun warns as the first run did
    for mode in MODES:
        built, deferred = first[mode], again[mode]
        assert isinstance(built, TravelTimeEngine) and isinstance(deferred, DeferredEngine)
        assert (deferred.mode, deferred.crs) == (built.mode, built.crs)
        assert network_hash(deferred) == network_hash(built)
        engine = resolve_engine(deferred)
        assert deferred.loaded and network_hash(engine) == network_hash(built)
        assert resolve_engine(deferred) is engine  # built once


def test_changed_inputs_build_again(graphml: Path, tmp_path: Path) -> None:
    _load(graphml)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ApgeoWarning)  # the network's dropped nodes
        other_buffer = study_engines(graphml, modes=MODES, polygon=None, buffer_m=1000.0)
        one_mode = study_engines(graphml, modes=("walk",), polygon=None, buffer_m=3000.0)
    assert all(isinstance(e, TravelTimeEngine) for e in other_buffer.values())
    assert isinstance(one_mode["walk"], TravelTimeEngine)
    edited = tmp_path / "edited.graphml"
    edited.write_bytes(graphml.read_bytes().replace(b"</graphml>", b"<!-- edited --></graphml>"))
    assert all(isinstance(e, TravelTimeEngine) for e in _load(edited)[0].values())


def test_deferred_engine_built_only_for_a_new_site(graphml: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, _ = _load(graphml)
    walk = first["walk"]
    assert isinstance(walk, TravelTimeEngine)
    origins = _points(walk, [0, 5, 9, 14], "o", "area_id")
    sites = _points(walk, [3, 20], "s", "site_id")
    kw = {"origin_id_column": "area_id", "destination_id_column": "site_id"}
    expected = travel_time_table(walk, origins, sites, **kw)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(cached_travel_time_table(walk, origins, sites, **kw), expected)  # type: ignore[arg-type]
    demand = origins.assign(children_ks3=np.arange(4.0))
    ckw = {"thresholds_min": (5, 10), "demand": demand, "key_stages": "KS3", "mode": "walk"}
    polygons = cached_catchments(walk, sites, **ckw)  # type: ignore[arg-type]

    again, _ = _load(graphml)
    deferred = again["walk"]
    assert isinstance(deferred, DeferredEngine)
    pd.testing.assert_frame_equal(cached_travel_time_table(deferred, origins, sites, **kw), expected)  # type: ignore[arg-type]
    cached_polygons = cached_catchments(deferred, sites, **ckw)  # type: ignore[arg-type]
    assert not deferred.loaded  # every site came from the cache: no engine was built
    pd.testing.assert_frame_equal(cached_polygons.drop(columns="geometry"), polygons.drop(columns="geometry"))
    assert all(a.equals_exact(b, 0) for a, b in zip(cached_polygons.geometry, polygons.geometry, strict=True))
    new_site = _points(walk, [30], "n", "site_id")
    table = cached_travel_time_table(deferred, origins, new_site, **kw)  # type: ignore[arg-type]
    assert deferred.loaded  # a site not seen before: the engine is built now
    pd.testing.assert_frame_equal(table, travel_time_table(walk, origins, new_site, **kw))  # type: ignore[arg-type]


def test_failed_build_records_nothing(graphml: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from apgeo.study.incremental import study_cache_dir

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("interrupted")

    monkeypatch.setattr(study_engines_module, "_build", boom)
    copy = tmp_path / "copy.graphml"
    copy.write_bytes(graphml.read_bytes() + b"\n")
    with pytest.raises(RuntimeError, match="interrupted"):
        _load(copy)
    engines_dir = study_cache_dir() / "engines"
    before = set(engines_dir.rglob("*.npz")) if engines_dir.is_dir() else set()
    monkeypatch.undo()
    assert all(isinstance(e, TravelTimeEngine) for e in _load(copy)[0].values())
    assert len(set(engines_dir.rglob("*.npz")) - before) == 1


def test_a_record_that_no_longer_matches_is_dropped(graphml: Path, caplog: pytest.LogCaptureFixture) -> None:
    from apgeo._cache import load_npz, save_npz

    _load(graphml)
    entry = study_engines_module._entry_path(graphml, list(MODES), None, 3000.0)
    data = load_npz(entry)
    assert data is not None
    data["network_hash"] = np.array(["0" * 32, "1" * 32])  # as if the engines were built differently
    save_npz(entry, data)
    deferred = _load(graphml)[0]["walk"]
    assert isinstance(deferred, DeferredEngine)
    with caplog.at_level("WARNING", logger="apgeo"):
        resolve_engine(deferred)
    assert "differs from the one recorded" in caplog.text
    assert not entry.exists()
    assert all(isinstance(e, TravelTimeEngine) for e in _load(graphml)[0].values())  # built again


def test_the_first_engine_needed_builds_every_mode_once(graphml: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A study's modes share their sites and areas: the first deferred engine needed builds
    every mode's at once (on threads), and asking from several threads builds them once."""
    from concurrent.futures import ThreadPoolExecutor

    first, _ = _load(graphml)
    again, _ = _load(graphml)
    monkeypatch.setattr(study_engines_module, "_KEPT", {})  # as in a new process
    calls: list[tuple[str, ...]] = []
    build = study_engines_module._build

    def counted(source: Path, modes: tuple[str, ...], polygon: object, buffer_m: float) -> dict[str, TravelTimeEngine]:
        calls.append(tuple(modes))
        return build(source, modes, polygon, buffer_m)  # type: ignore[arg-type]

    monkeypatch.setattr(study_engines_module, "_build", counted)
    deferred = [again[m] for m in MODES]
    with ThreadPoolExecutor(max_workers=4) as pool:
        engines = list(pool.map(resolve_engine, deferred * 3))  # type: ignore[arg-type]
    assert calls == [MODES]  # one build, of every mode
    for mode, engine in zip(MODES * 3, engines, strict=True):
        assert engine is resolve_engine(again[mode])  # type: ignore[arg-type]
        assert network_hash(engine) == network_hash(first[mode])  # type: ignore[arg-type]


def test_a_second_study_in_the_process_takes_the_engines_kept(graphml: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The engines last built from a network file are kept in the process: a study run
    again (a notebook's rerun after a site moves) takes them instead of building them
    from the cache again, and gets the same travel times; kept engines that are not the
    ones recorded are not taken."""
    first, _ = _load(graphml)
    calls: list[int] = []
    build = study_engines_module._build

    def counted(source: Path, modes: tuple[str, ...], polygon: object, buffer_m: float) -> dict[str, TravelTimeEngine]:
        calls.append(1)
        return build(source, modes, polygon, buffer_m)  # type: ignore[arg-type]

    monkeypatch.setattr(study_engines_module, "_build", counted)
    again, _ = _load(graphml)
    for mode in MODES:
        assert resolve_engine(again[mode]) is first[mode]  # type: ignore[arg-type]
    assert calls == []
    entry = study_engines_module._entry_path(graphml, list(MODES), None, 3000.0)
    monkeypatch.setattr(study_engines_module, "_KEPT", {entry: {m: first["walk"] for m in MODES}})  # wrong ones
    other, _ = _load(graphml)
    assert resolve_engine(other["drive"]) is not first["walk"]  # type: ignore[arg-type]
    assert calls == [1]
