"""Tests for load_networks and the processed-network cache (apgeo.network, apgeo._cache)."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

import networkx as nx
import numpy as np
import pytest
import shapely

import apgeo.network.graphml as network_graphml
import apgeo.network.load as network_load
from apgeo import ApgeoValueError, NetworkError
from apgeo.network.graphml import network_from_graphml
from apgeo.network.load import load_network, load_networks
from apgeo.network.pbf import network_from_pbf
from apgeo.routing.travel_times import TravelTimeEngine
from apgeo.settings import get_settings

try:
    from tests._network_fixtures import osmnx_style_graph, pbf_path
except ImportError:  # tests/ is not a package
    from _network_fixtures import osmnx_style_graph, pbf_path


def _entries() -> list[Path]:
    return sorted((get_settings().cache_dir / "networks").rglob("*.npz"))


def _graphml(tmp_path: Path) -> Path:
    import osmnx as ox

    path = tmp_path / "area.graphml"
    ox.save_graphml(osmnx_style_graph(), path)
    return path


def _signature(G: nx.MultiDiGraph) -> tuple[object, ...]:
    """Everything about a graph, in iteration order (nodes, edges, keys, attributes)."""
    nodes = [(n, sorted(d.items())) for n, d in G.nodes(data=True)]
    edges = []
    for u, v, k, d in G.edges(keys=True, data=True):
        attrs = {a: (val.wkt if a == "geometry" else val) for a, val in d.items()}
        edges.append((u, v, k, sorted(attrs.items())))
    preds = [(n, list(G.predecessors(n))) for n in G.nodes]
    return dict(G.graph), nodes, edges, preds


@pytest.fixture
def spy_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record every raw read of a file (PBF or GraphML)."""
    reads: list[str] = []
    real_pbf, real_graphml = network_load._read_pbf, network_load._read_graphml

    def pbf(*args: object, **kwargs: object) -> object:
        reads.append("pbf")
        return real_pbf(*args, **kwargs)  # type: ignore[arg-type]

    def graphml(*args: object, **kwargs: object) -> object:
        reads.append("graphml")
        return real_graphml(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(network_load, "_read_pbf", pbf)
    monkeypatch.setattr(network_load, "_read_graphml", graphml)
    return reads


# ---- load_networks: one read, the same graphs as load_network -----------------------------------


def test_load_networks_reads_once_and_matches_single_mode_loads(spy_reads: list[str]) -> None:
    nets = load_networks(pbf_path(), modes=("walk", "cycle", "drive"), cache=False)
    assert list(nets) == ["walk", "cycle", "drive"]
    assert spy_reads == ["pbf"]
    for mode, G in nets.items():
        single = network_from_pbf(pbf_path(), mode=mode)  # type: ignore[arg-type]
        assert _signature(G) == _signature(single)
        assert G.graph["source"] == f"pbf:{pbf_path()}"
        assert G.graph["mode"] == mode


def test_load_networks_graphml_matches_network_from_graphml(tmp_path: Path) -> None:
    path = _graphml(tmp_path)
    nets = load_networks(path, modes=["drive", "walk"], cache=False)
    assert list(nets) == ["drive", "walk"]
    for mode, G in nets.items():
        assert _signature(G) == _signature(network_from_graphml(path, mode=mode))  # type: ignore[arg-type]


def test_fast_graphml_reader_equals_osmnx(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The streaming reader gives exactly what osmnx.load_graphml gives."""
    path = _graphml(tmp_path)
    fast = network_from_graphml(path, mode="walk")

    def decline(_: Path) -> object:
        raise network_graphml._UnsupportedGraphML("test")

    monkeypatch.setattr(network_graphml, "_parts_from_graphml", decline)
    assert _signature(network_from_graphml(path, mode="walk")) == _signature(fast)


def test_regex_and_xml_graphml_records_agree(tmp_path: Path) -> None:
    path = _graphml(tmp_path)
    assert network_graphml._graphml_records_regex(path) == network_graphml._graphml_records_xml(path)


def test_load_networks_bad_modes() -> None:
    with pytest.raises(ApgeoValueError, match="unknown mode 'bus'"):
        load_networks(pbf_path(), modes=("walk", "bus"))  # type: ignore[arg-type]
    with pytest.raises(ApgeoValueError, match="modes is empty"):
        load_networks(pbf_path(), modes=())
    with pytest.raises(ApgeoValueError, match="needs polygon="):
        load_networks(None, modes=("walk",))
    with pytest.raises(ApgeoValueError, match="unknown network file type"):
        load_networks("streets.txt", modes=("walk",))


# ---- the processed-network cache ----------------------------------------------------------------


def test_cache_miss_then_hit_without_reading(spy_reads: list[str]) -> None:
    first = load_networks(pbf_path(), modes=("walk", "drive"))
    assert spy_reads == ["pbf"]
    assert len(_entries()) == 2
    second = load_networks(pbf_path(), modes=("walk", "drive"))
    assert spy_reads == ["pbf"]  # no second read: both modes came from the cache
    for mode in ("walk", "drive"):
        assert _signature(second[mode]) == _signature(first[mode])


def test_load_network_caches_every_mode_from_one_read(spy_reads: list[str]) -> None:
    walk = load_network(pbf_path(), mode="walk")
    assert spy_reads == ["pbf"]
    assert len(_entries()) == 3  # walk, cycle and drive from the same read
    drive = load_network(pbf_path(), mode="drive")
    assert spy_reads == ["pbf"]
    assert walk.graph["source"] == drive.graph["source"] == f"pbf:{pbf_path()}"


def test_cached_graph_keeps_the_callers_source(tmp_path: Path) -> None:
    a = _graphml(tmp_path)
    b = tmp_path / "copy.graphml"
    shutil.copyfile(a, b)
    load_networks(a, modes=("walk",))
    again = load_networks(b, modes=("walk",))["walk"]  # same content: a cache hit
    assert len(_entries()) == 1
    assert again.graph["source"] == f"graphml:{b}"


@pytest.mark.parametrize(
    ("change", "kwargs"),
    [
        ("speeds", {"speeds_kph": {"walk": 4.0}}),
        ("mode", {"modes": ("cycle",)}),
        ("crs", {"crs": "EPSG:3067"}),
        (
            "polygon",
            {
                "polygon": shapely.Point(26.95, 60.53).buffer(0.004),
                "polygon_crs": "EPSG:4326",
                "buffer_m": 100,
            },
        ),
    ],
)
def test_key_changes_with_options(
    change: str, kwargs: dict[str, object], spy_reads: list[str]
) -> None:
    load_networks(pbf_path(), modes=("walk",))
    before = set(_entries())
    options: dict[str, object] = {"modes": ("walk",), **kwargs}
    load_networks(pbf_path(), **options)  # type: ignore[arg-type]
    assert spy_reads == ["pbf", "pbf"], change
    assert len(set(_entries()) - before) == 1, change


def test_key_changes_with_file_content(tmp_path: Path, spy_reads: list[str]) -> None:
    path = _graphml(tmp_path)
    original = load_networks(path, modes=("walk",))["walk"]
    text = path.read_text(encoding="utf-8")
    node = next(iter(osmnx_style_graph().nodes))
    # drop every edge of one node: different content, different key, different graph
    kept = [
        block
        for block in text.split("<edge ")
        if f'source="{node}"' not in block.split(">")[0]
        and f'target="{node}"' not in block.split(">")[0]
    ]
    path.write_text("<edge ".join(kept), encoding="utf-8")
    edited = load_networks(path, modes=("walk",))["walk"]
    assert spy_reads == ["graphml", "graphml"]
    assert len(_entries()) == 2
    assert edited.number_of_edges() < original.number_of_edges()


@pytest.mark.parametrize("damage", ["garbage", "truncated", "wrong arrays"])
def test_corrupt_entry_is_logged_and_rebuilt(
    damage: str, spy_reads: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    fresh = load_networks(pbf_path(), modes=("walk",))["walk"]
    (entry,) = _entries()
    if damage == "garbage":
        entry.write_bytes(b"not an npz file")
    elif damage == "truncated":
        entry.write_bytes(entry.read_bytes()[:2000])
    else:
        with np.load(entry) as archive:
            arrays = {name: archive[name] for name in archive.files}
        arrays["u"] = arrays["u"][:-5]
        np.savez(entry, **arrays)
    with caplog.at_level(logging.WARNING, logger="apgeo"):
        rebuilt = load_networks(pbf_path(), modes=("walk",))["walk"]
    assert "ignoring" in caplog.text and str(entry) in caplog.text
    assert spy_reads == ["pbf", "pbf"]
    assert _signature(rebuilt) == _signature(fresh)
    # the rebuilt entry was written back and now loads
    again = load_networks(pbf_path(), modes=("walk",))["walk"]
    assert spy_reads == ["pbf", "pbf"]
    assert _signature(again) == _signature(fresh)


def test_failures_and_empty_networks_are_not_cached(tmp_path: Path) -> None:
    broken = tmp_path / "broken.graphml"
    broken.write_text("<graphml><graph>not closed")
    with pytest.raises(NetworkError, match="not a readable osmnx GraphML file"):
        load_networks(broken, modes=("walk",))
    far = shapely.box(430_000, 380_000, 440_000, 390_000)  # Sheffield: not in the Finnish PBF
    with pytest.raises(NetworkError, match="does not cover the area"):
        load_networks(pbf_path(), modes=("walk",), polygon=far)
    assert _entries() == []


def test_cache_false_writes_nothing() -> None:
    load_networks(pbf_path(), modes=("walk", "cycle"), cache=False)
    load_network(pbf_path(), mode="drive", cache=False)
    assert _entries() == []


def test_cache_files_hold_no_pickles() -> None:
    load_networks(pbf_path(), modes=("walk",))
    (entry,) = _entries()
    with np.load(entry, allow_pickle=False) as archive:
        assert all(archive[name].dtype != object for name in archive.files)


@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_identical_travel_times_cached_and_fresh(mode: str) -> None:
    fresh = load_networks(pbf_path(), modes=(mode,), cache=False)[mode]  # type: ignore[arg-type]
    load_networks(pbf_path(), modes=(mode,))  # type: ignore[arg-type]
    cached = load_networks(pbf_path(), modes=(mode,))[mode]  # type: ignore[arg-type]
    a = TravelTimeEngine.from_graph(fresh, warn_dropped_fraction=None)
    b = TravelTimeEngine.from_graph(cached, warn_dropped_fraction=None)
    assert list(a.node_ids) == list(b.node_ids)
    sources = list(a.node_ids[:: max(1, a.n_nodes // 20)])
    np.testing.assert_array_equal(a.node_times(sources), b.node_times(sources))
