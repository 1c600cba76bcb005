"""Tests for the catchment tiles: polygons drawn from tiles and quadtree groups of tiles
are the polygons drawn street by street, each tile is built once, and the tile cache."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

from apgeo.analysis import catchment_geometry
from apgeo.analysis.catchment_geometry import _blocks
from apgeo.analysis.catchments import catchments
from apgeo.network.synthetic import grid_network
from apgeo.routing.travel_times import TravelTimeEngine
from apgeo.study.incremental import cached_catchments, clear_cache, tile_cache_dir

try:
    from tests._network_fixtures import X0, Y0
except ImportError:  # tests/ is not a package
    from _network_fixtures import X0, Y0

BNG = "EPSG:27700"
THRESHOLDS = (4.0, 8.0, 12.0, 30.0)


def _engine(mode: str = "walk") -> TravelTimeEngine:
    """A 40 x 40 grid of 100 m streets with uneven speeds and a park (no streets) in it."""
    G = grid_network(40, 40, mode=mode)  # type: ignore[arg-type]
    park = [r * 40 + c for r in range(22, 28) for c in range(8, 16)]
    G.remove_nodes_from([n for n in list(G.nodes) if n in set(park)])
    rng = np.random.default_rng(7)
    for _, _, data in G.edges(data=True):
        data["travel_time_s"] = float(data["travel_time_s"]) * float(rng.uniform(0.4, 2.5))
    return TravelTimeEngine.from_graph(G)  # type: ignore[arg-type]


def _sites() -> gpd.GeoDataFrame:
    coords = [(1250.0, 1930.0), (3020.0, 410.0), (600.0, 3650.0)]
    return gpd.GeoDataFrame(
        {"site_id": [f"s{i}" for i in range(len(coords))]},
        geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in coords],
        crs=BNG,
    )


def _draw(monkeypatch: pytest.MonkeyPatch, tile_edges: int, **kwargs: object) -> gpd.GeoDataFrame:
    monkeypatch.setattr(catchment_geometry, "_TILE_EDGES", tile_edges)
    return catchments(_engine(), _sites(), thresholds_min=THRESHOLDS, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize("direction", ["from", "to"])
def test_tiles_and_groups_draw_the_street_by_street_polygons(
    monkeypatch: pytest.MonkeyPatch, direction: str
) -> None:
    # one tile for the whole grid: it is only used once everything is reached, so the
    # smaller thresholds are drawn street by street (the reference)
    reference = _draw(monkeypatch, 10**9, direction=direction)
    # tiles of ~20 edges: hundreds of tiles, several quadtree levels
    tiled = _draw(monkeypatch, 20, direction=direction)
    blocks = _blocks(_engine())
    assert blocks.n_tiles > 100 and blocks.levels >= 4
    assert len(tiled) == len(reference) == 3 * len(THRESHOLDS)
    for a, b in zip(tiled.geometry, reference.geometry, strict=True):
        assert a.is_valid and not a.is_empty
        assert a.area == pytest.approx(b.area, rel=1e-9)
        assert a.symmetric_difference(b).area <= 1e-6 * b.area
    assert reference.geometry.iloc[-1].area > 10 * reference.geometry.iloc[0].area


def test_group_polygons_used_for_a_wide_catchment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(catchment_geometry, "_TILE_EDGES", 20)
    engine = _engine()
    catchments(engine, _sites().iloc[:1], thresholds_min=(30,))
    codes = [code for code, _ in _blocks(engine).polygons]
    assert any(code < 0 for code in codes)  # quadtree groups
    assert any(code >= 0 for code in codes)  # tiles


def test_each_polygon_built_once_by_one_thread() -> None:
    blocks = _blocks(_engine())
    calls: list[int] = []
    started = threading.Event()

    def build() -> shapely.Geometry:
        calls.append(1)
        started.set()
        time.sleep(0.05)
        return shapely.box(0, 0, 1, 1)

    out: list[shapely.Geometry] = []
    threads = [
        threading.Thread(target=lambda: out.append(blocks._once((10**6, 1.0), build)))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(out) == 4
    assert all(g is out[0] for g in out)


def test_failed_build_is_not_kept() -> None:
    blocks = _blocks(_engine())

    def fail() -> shapely.Geometry:
        raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError):
        blocks._once((10**6 + 1, 1.0), fail)
    assert (10**6 + 1, 1.0) not in blocks.polygons
    assert blocks._once((10**6 + 1, 1.0), lambda: shapely.box(0, 0, 1, 1)).area == 1.0


def test_tile_cache_kept_by_study_clear_and_shared_by_thresholds(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(catchment_geometry, "_TILE_EDGES", 20)
    sites = _sites()
    first = cached_catchments(_engine(), sites, thresholds_min=(30,))
    files = sorted(tile_cache_dir().rglob("tiles-*.npz"))
    assert len(files) == 1
    clear_cache(what="study")  # per-site entries only: the network's tiles stay
    assert sorted(tile_cache_dir().rglob("tiles-*.npz")) == files
    fresh = _engine()
    again = cached_catchments(fresh, sites, thresholds_min=(30,))
    blocks = _blocks(fresh)
    assert blocks.polygons and set(blocks.polygons) <= set(blocks.stored)  # read, not drawn
    assert all(a.equals_exact(b, 0) for a, b in zip(again.geometry, first.geometry, strict=True))
    # other thresholds, same network and buffer width: the same tile entry
    cached_catchments(_engine(), sites, thresholds_min=(20, 30))
    assert len(list(tile_cache_dir().rglob("tiles-*.npz"))) == 1
    # another buffer width: its own entry
    cached_catchments(_engine(), sites, thresholds_min=(30,), buffer_m=20.0)
    assert len(list(tile_cache_dir().rglob("tiles-*.npz"))) == 2
    clear_cache()
    assert not tile_cache_dir().exists()


def test_damaged_tile_entry_is_drawn_again(cache_dir: Path) -> None:
    engine = _engine()
    reference = catchments(_engine(), _sites(), thresholds_min=(30,))
    blocks = _blocks(engine)
    blocks.stored.update({(t, 50.0): b"not wkb" for t in range(blocks.n_tiles)})
    out = catchments(engine, _sites(), thresholds_min=(30,))
    assert all(a.equals_exact(b, 0) for a, b in zip(out.geometry, reference.geometry, strict=True))


def test_split_union_is_the_union(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(3)
    start = rng.uniform(0, 2_000, size=(400, 2))
    lines = shapely.linestrings(
        np.stack([start, start + rng.uniform(-150, 150, size=(400, 2))], axis=1)
    )
    buffered = shapely.buffer(lines, 30.0, quad_segs=8)
    whole = shapely.union_all(buffered)
    monkeypatch.setattr(catchment_geometry, "_SPLIT_PIECES", 40)  # four levels of halves
    split = catchment_geometry._split_union(buffered)
    assert split.is_valid
    assert split.area == pytest.approx(whole.area, rel=1e-9)
    assert split.symmetric_difference(whole).area <= 1e-9 * whole.area
    again = catchment_geometry._split_union(buffered)
    assert again.equals_exact(split, 0)  # the same split every time
