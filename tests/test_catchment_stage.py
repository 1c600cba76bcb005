"""The study's catchments drawn ahead on a background thread (apgeo.study.catchment_stage)."""

from __future__ import annotations

import threading
import warnings
from types import SimpleNamespace
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from apgeo._errors import ApgeoValueError, ApgeoWarning
from apgeo._log import give_warnings, held_warnings, warn
from apgeo.routing.deferred import DeferredEngine
from apgeo.study import catchment_stage
from apgeo.study.catchment_stage import CatchmentsAhead

BNG = "EPSG:27700"


def _result(engines: dict[str, Any]) -> Any:
    providers = gpd.GeoDataFrame(
        {"site_id": ["a", "b"], "kind": ["ap", "ap"]},
        geometry=[shapely.Point(430_000, 387_000), shapely.Point(431_000, 388_000)],
        crs=BNG,
    )
    area = gpd.GeoDataFrame({"area_id": ["E1"]}, geometry=[shapely.box(429_000, 386_000, 432_000, 389_000)], crs=BNG)
    return SimpleNamespace(
        providers=providers,
        ap_kinds=["ap"],
        travel_times={m: pd.DataFrame() for m in engines},
        engines=engines,
        network_records={},
        demand=area,
        boundary=area,
        config=SimpleNamespace(thresholds_min=(15, 30), key_stages=("KS3",), circuity_factor=1.3),
        tables={},
    )


def _drawing(monkeypatch: pytest.MonkeyPatch, *, fail: str = "") -> list[str]:
    threads: list[str] = []

    def draw(inputs: Any, mode: str) -> gpd.GeoDataFrame:
        threads.append(threading.current_thread().name)
        warn(f"{mode} catchments warned")
        if mode == fail:
            raise ApgeoValueError(f"{mode} failed")
        return inputs.ap.assign(mode=mode)

    monkeypatch.setattr(catchment_stage, "_draw", draw)
    return threads


def test_held_warnings_are_given_by_the_collecting_thread() -> None:
    out: list[list[str]] = []

    def work() -> None:
        with held_warnings() as held:
            warn("first")
            warn("second")
        out.append(held)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        t = threading.Thread(target=work)
        t.start()
        t.join()
    assert not caught  # held, not emitted on the worker
    with pytest.warns(ApgeoWarning) as record:
        give_warnings(out[0])
    assert [str(w.message) for w in record] == ["first", "second"]


def test_catchments_drawn_ahead_stored_and_warned_at_their_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    threads = _drawing(monkeypatch)
    result = _result({"walk": object(), "drive": object()})
    ahead = CatchmentsAhead()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert ahead.start(result)
        assert ahead._future is not None
        ahead._future.result()
    assert not caught and not result.tables  # nothing given or stored before the stage
    assert threads and all(name != threading.current_thread().name for name in threads)
    with pytest.warns(ApgeoWarning) as record:
        ahead.stage(result)
    assert [str(w.message) for w in record] == ["walk catchments warned", "drive catchments warned"]
    assert list(result.tables) == ["catchments_walk", "catchments_drive"]


def test_error_while_drawing_ahead_raised_by_the_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    _drawing(monkeypatch, fail="drive")
    result = _result({"walk": object(), "drive": object()})
    ahead = CatchmentsAhead()
    assert ahead.start(result)
    with pytest.raises(ApgeoValueError, match="drive failed"), warnings.catch_warnings():
        warnings.simplefilter("ignore", ApgeoWarning)
        ahead.stage(result)
    assert ahead._pool is None  # the thread was let go


def test_unbuilt_engines_drawn_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    threads = _drawing(monkeypatch)
    unbuilt = DeferredEngine("walk", BNG, "0" * 32, build=lambda: None)  # type: ignore[arg-type,return-value]
    result = _result({"walk": unbuilt})
    ahead = CatchmentsAhead()
    assert not ahead.start(result)  # building it is left to the stage
    with pytest.warns(ApgeoWarning, match="walk catchments warned"):
        ahead.stage(result)
    assert threads == [threading.current_thread().name]
    assert list(result.tables) == ["catchments_walk"]
