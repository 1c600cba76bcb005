"""Tests for the incremental study cache: per-site travel-time columns and catchments."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import apgeo
from apgeo.analysis.catchments import catchments
from apgeo.network.synthetic import grid_network
from apgeo.routing.travel_times import TravelTimeEngine, travel_time_table
from apgeo.study import incremental
from apgeo.study.cli import main
from apgeo.study.incremental import (
    cached_catchments,
    cached_travel_time_table,
    clear_cache,
    network_hash,
)

try:
    from tests._network_fixtures import X0, Y0
except ImportError:  # tests/ is not a package
    from _network_fixtures import X0, Y0

BNG = "EPSG:27700"


class _Calls:
    """Counts Dijkstra sources, wrapping ``TravelTimeEngine._run``."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.sources = 0
        original = TravelTimeEngine._run

        def run(engine: TravelTimeEngine, table: pd.DataFrame, **kwargs: object) -> np.ndarray:
            self.sources += len(table)
            return original(engine, table, **kwargs)  # type: ignore[arg-type]

        monkeypatch.setattr(TravelTimeEngine, "_run", run)


def _engine() -> TravelTimeEngine:
    return TravelTimeEngine.from_graph(grid_network(30, 30))  # type: ignore[arg-type]


def _points(coords: list[tuple[float, float]], prefix: str, column: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {column: [f"{prefix}{i}" for i in range(len(coords))]},
        geometry=[shapely.Point(X0 + x, Y0 + y) for x, y in coords],
        crs=BNG,
    )


ORIGINS = [(120.0 * i + 7, 90.0 * (i % 7) + 13) for i in range(20)]
SITES = [(530.0, 1210.0), (1490.0, 310.0), (2250.0, 2730.0)]


def test_rerun_recomputes_nothing_and_a_moved_site_only_itself(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _engine()
    origins = _points(ORIGINS, "o", "area_id")
    sites = _points(SITES, "s", "site_id")
    calls = _Calls(monkeypatch)
    kwargs = {"origin_id_column": "area_id", "destination_id_column": "site_id"}
    first = cached_travel_time_table(engine, origins, sites, **kwargs)  # type: ignore[arg-type]
    assert calls.sources == 3
    again = cached_travel_time_table(engine, origins, sites, **kwargs)  # type: ignore[arg-type]
    assert calls.sources == 3  # nothing recomputed
    pd.testing.assert_frame_equal(first, again)
    moved = sites.copy()
    moved.loc[1, "geometry"] = shapely.Point(X0 + 1530.0, Y0 + 640.0)
    after = cached_travel_time_table(engine, origins, moved, **kwargs)  # type: ignore[arg-type]
    assert calls.sources == 4  # only the moved site
    expected = travel_time_table(engine, origins, moved, **kwargs)  # type: ignore[arg-type]
    pd.testing.assert_frame_equal(after, expected)
    assert (cache_dir / "study" / "travel_times").is_dir()


def test_catchments_cached_per_site_and_identical(
    cache_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = _engine()
    sites = _points(SITES, "s", "site_id")
    sites["provider_id"] = ["P0", "P1", "P2"]
    demand = _points(ORIGINS, "o", "area_id")
    demand["children_ks3"] = np.arange(len(demand), dtype=float)
    calls = _Calls(monkeypatch)
    kw = {"thresholds_min": (5, 10), "demand": demand, "key_stages": "KS3"}
    first = cached_catchments(engine, sites, **kw)  # type: ignore[arg-type]
    assert calls.sources == 3
    plain = catchments(engine, sites, **kw)  # type: ignore[arg-type]
    calls.sources = 0
    again = cached_catchments(engine, sites, **kw)  # type: ignore[arg-type]
    assert calls.sources == 0
    for out in (first, again):
        pd.testing.assert_frame_equal(out.drop(columns="geometry"), plain.drop(columns="geometry"))
        assert all(a.equals_exact(b, 0) for a, b in zip(out.geometry, plain.geometry, strict=True))
    moved = sites.copy()
    moved.loc[0, "geometry"] = shapely.Point(X0 + 830.0, Y0 + 1210.0)
    after = cached_catchments(engine, moved, **kw)  # type: ignore[arg-type]
    assert calls.sources == 1
    expected = catchments(engine, moved, **kw)  # type: ignore[arg-type]
    assert all(a.equals_exact(b, 0) for a, b in zip(after.geometry, expected.geometry, strict=True))


def test_failed_run_caches_nothing(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = _engine()
    origins = _points(ORIGINS, "o", "area_id")
    sites = _points(SITES, "s", "site_id")

    def boom(*args: object, **kwargs: object) -> None:
        raise RuntimeError("interrupted")

    monkeypatch.setattr(incremental, "travel_time_table", boom)
    with pytest.raises(RuntimeError):
        cached_travel_time_table(
            engine, origins, sites, origin_id_column="area_id", destination_id_column="site_id"
        )
    assert not list(cache_dir.rglob("*.npz"))


def test_network_hash_follows_content() -> None:
    a, b = _engine(), _engine()
    assert network_hash(a) == network_hash(b)
    other = TravelTimeEngine.from_graph(grid_network(30, 30, speed_kph=5.0))  # type: ignore[arg-type]
    assert network_hash(other) != network_hash(a)


def test_cache_clear_command(cache_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (cache_dir / "study" / "catchments").mkdir(parents=True)
    (cache_dir / "networks").mkdir()
    (cache_dir / "data").mkdir()
    assert main(["cache", "clear"]) == 0
    assert "removed 2" in capsys.readouterr().out
    assert sorted(p.name for p in cache_dir.iterdir()) == ["data"]
    assert clear_cache(what="study") == []
    assert clear_cache(what="all") == [cache_dir]
    with pytest.raises(apgeo.ApgeoValueError):
        clear_cache(what="everything")


def test_tile_polygons_cached_for_a_fresh_engine(cache_dir: Path) -> None:
    from apgeo.analysis.catchment_geometry import _blocks

    sites = _points(SITES, "s", "site_id")
    cached_catchments(_engine(), sites, thresholds_min=(60,))
    assert list(cache_dir.rglob("tiles-*.npz"))
    fresh = _engine()  # a later run: same network, new engine, nothing drawn yet
    assert not _blocks(fresh).polygons
    moved = sites.copy()
    moved.loc[2, "geometry"] = shapely.Point(X0 + 2050.0, Y0 + 2730.0)
    out = cached_catchments(fresh, moved, thresholds_min=(60,))
    blocks = _blocks(fresh)
    assert blocks.polygons and set(blocks.polygons) <= set(blocks.stored)  # read, not drawn
    expected = catchments(_engine(), moved, thresholds_min=(60,))
    assert all(a.equals_exact(b, 0) for a, b in zip(out.geometry, expected.geometry, strict=True))


def test_street_pairing_cached_for_a_fresh_engine(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from apgeo.analysis import catchment_geometry
    from apgeo.analysis.catchment_geometry import _blocks

    sites = _points(SITES, "s", "site_id")
    first = _engine()
    cached_catchments(first, sites, thresholds_min=(15,))
    paired = _blocks(first).twins
    assert (paired >= 0).any()  # the grid's two-way streets are paired
    calls: list[int] = []
    original = catchment_geometry._match_twins

    def counted(*args: object) -> np.ndarray:
        calls.append(1)
        return original(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(catchment_geometry, "_match_twins", counted)
    fresh = _engine()  # a later run: same network, new engine
    moved = sites.copy()
    moved.loc[2, "geometry"] = shapely.Point(X0 + 2050.0, Y0 + 2730.0)
    out = cached_catchments(fresh, moved, thresholds_min=(15,))
    assert not calls  # the pairing was read back, not matched again
    np.testing.assert_array_equal(_blocks(fresh).twins, paired)
    expected = catchments(_engine(), moved, thresholds_min=(15,))
    assert calls  # the uncached run matched its own
    assert all(a.equals_exact(b, 0) for a, b in zip(out.geometry, expected.geometry, strict=True))
