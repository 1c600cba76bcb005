"""Notebook manners: a study result, a scenario and a location model show as a short HTML
table with the method label, not as a raw dataclass dump."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from apgeo.planning.models.mclp import MaximalCovering
from apgeo.planning.scenarios import Scenario
from apgeo.settings import repo_root
from apgeo.study.config import load_config
from apgeo.study.result import StudyResult


def test_scenario_html_lists_edits():
    sc = Scenario("north hub").add_site("N1", name="North <hub>", key_stages="KS3").close_site("S9")
    page = sc._repr_html_()
    assert "Scenario &#x27;north hub&#x27; (2 edits)" in page
    assert "North &lt;hub&gt;" in page and "close S9" in page and "Method:" in page


def test_model_html_before_and_after_solve():
    cost = np.array([[60.0, 4000.0], [4000.0, 60.0], [90.0, 3000.0]])
    model = MaximalCovering.from_cost_matrix(cost, [5, 3, 2], max_travel_time_s=600, p=1)
    assert "not solved yet" in model._repr_html_()
    page = model.solve(method="greedy")._repr_html_()
    assert "Maximal covering model" in page and "Method: greedy" in page
    assert "Selected sites" in page and "<table>" in page


def test_study_result_repr_is_short(tmp_path):
    cfg_path = tmp_path / "study.toml"
    cfg_path.write_text(
        f'[study]\nname = "mini"\ndata_dir = "{repo_root() / "data" / "sheffield"}"\n'
        f'output_dir = "{tmp_path / "out"}"\nmaps_dir = "{tmp_path / "maps"}"\n'
        '[network]\nsource = "straight-line"\nmodes = ["walk"]\n',
        encoding="utf-8",
    )
    pts = gpd.GeoDataFrame(
        {"provider_id": ["a"], "kind": ["pru"]}, geometry=[Point(435000, 387000)], crs="EPSG:27700"
    )
    result = StudyResult(
        config=load_config(cfg_path),
        providers=pts,
        not_located=pd.DataFrame({"name": []}),
        demand=pts.rename(columns={"provider_id": "area_id"}),
        wards=None,
        boundary=pts,
        network_method={"walk": "STRAIGHT-LINE ESTIMATE <x1.3>"},
        headline={"children_within_30_min_walk": 1234.0, "big": list(range(10_000))},
    )
    assert repr(result).startswith("StudyResult('mini': 1 providers")
    assert len(repr(result)) < 200
    page = result._repr_html_()
    assert "Study mini" in page and "STRAIGHT-LINE ESTIMATE &lt;x1.3&gt;" in page
    assert "children_within_30_min_walk" in page and "1,234" in page
    assert "9999" not in page  # no dump of the data
