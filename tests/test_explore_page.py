"""The explore page recolours its areas without sending their shapes again."""

from __future__ import annotations

import warnings

import pytest
from shapely.geometry import Point

from apgeo.settings import repo_root

pytest.importorskip("ipyleaflet", reason="needs ipyleaflet (pip install -e '.[explore]')")
pytestmark = pytest.mark.slow
SITE = "URN137596-1"


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    from apgeo.outputs.explore_page import ExplorePage
    from apgeo.study.config import load_config
    from apgeo.study.explore import explore_session

    data = repo_root() / "data" / "sheffield"
    path = tmp_path_factory.mktemp("page") / "s.toml"
    path.write_text(
        f'[study]\nname = "s"\ndata_dir = "{data.as_posix()}"\noutput_dir = "{path.parent.as_posix()}/r"\n'
        f'maps_dir = "{path.parent.as_posix()}/m"\n[network]\nsource = "straight-line"\nmodes = ["walk"]\n',
        encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ExplorePage(explore_session(load_config(path)))


def test_a_move_recolours_the_areas_and_sends_no_shapes(page, monkeypatch):
    from apgeo.outputs.explore_page import band_colour

    sent: list[dict] = []
    for widget in page._area_polygons:
        monkeypatch.setattr(widget, "_send", lambda msg, buffers=None, sent=sent: sent.append(msg))
    live = page.live
    live.reset()
    g = live.providers.set_index("site_id").geometry[SITE]
    live.move_site(SITE, Point(g.x + 2500, g.y - 2500))
    result = page.update()
    minutes = result.nearest_after_s.to_numpy(dtype=float) / 60.0
    assert [p.fill_color for p in page._area_polygons] == [band_colour(m) for m in minutes]
    assert sent, "the move changed no area's colour"
    assert all(set(m["state"]) <= {"fill_color"} for m in sent)  # colours only, never locations
    outlined = {f["properties"]["area_id"]: f["properties"]["change"] for f in page.coldspot_layer.data["features"]}
    gained = {c.split(" ")[0] for c in result.coldspots_new}
    lost = {c.split(" ")[0] for c in result.coldspots_resolved} - gained
    assert outlined == {**{a: "lost" for a in lost}, **{a: "gained" for a in gained}}
    live.reset()
    page.update()
    assert page.coldspot_layer.data["features"] == []
