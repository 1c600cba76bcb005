"""Progress bars on long library calls (tqdm.auto), silenced by ``apgeo.configure``."""

from __future__ import annotations

import pytest

import apgeo
from apgeo import ApgeoValueError
from apgeo._progress import progress_bar, progress_enabled
from apgeo.network.synthetic import grid_network
from apgeo.routing import travel_times as tt_module
from apgeo.routing.travel_times import TravelTimeEngine, travel_time_table

try:
    from tests._network_fixtures import grid_points
except ImportError:  # tests/ is not a package
    from _network_fixtures import grid_points


@pytest.fixture
def restore_progress():
    before = apgeo.get_settings().progress
    yield
    apgeo.configure(progress=before)


def _table(monkeypatch) -> None:
    monkeypatch.setattr(tt_module, "DIJKSTRA_CHUNK", 2)  # several chunks: a loop with a bar
    engine = TravelTimeEngine.from_graph(grid_network(3, 3), warn_dropped_fraction=None)
    pts = grid_points([(0, 0), (1, 1), (2, 2), (0, 2), (2, 0)], ids=list("abcde"))
    travel_time_table(engine, pts, pts, origin_id_column="id", destination_id_column="id")


def test_progress_shown_when_asked(monkeypatch, capsys, restore_progress):
    apgeo.configure(progress=True)
    assert progress_enabled()
    _table(monkeypatch)
    assert "travel times" in capsys.readouterr().err


def test_progress_silent_when_switched_off(monkeypatch, capsys, restore_progress):
    apgeo.configure(progress=False)
    assert not progress_enabled()
    _table(monkeypatch)
    assert capsys.readouterr().err == ""


def test_progress_default_is_silent_off_a_terminal(monkeypatch, capsys, restore_progress):
    apgeo.configure(progress=None)  # pytest's captured stderr is no terminal, no notebook
    assert not progress_enabled()
    with progress_bar(total=3, desc="x") as bar:
        bar.update(3)
    assert capsys.readouterr().err == ""


def test_progress_setting_checked(restore_progress):
    with pytest.raises(ApgeoValueError, match="progress must be True, False or None"):
        apgeo.configure(progress="yes")
