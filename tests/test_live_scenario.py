"""The warm what-if session equals compare_scenarios for every kind of edit and mode."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from shapely.geometry import Point

from apgeo.planning.live import LiveScenario, scenario_from_table
from apgeo.planning.scenarios import Scenario, compare_scenarios
from apgeo.routing.straight_line import straight_line_travel_times
from apgeo.schema import AREA_ID, KIND, SITE_ID
from apgeo.settings import repo_root

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def session(tmp_path_factory):
    from apgeo.study.config import load_config
    from apgeo.study.explore import explore_session

    data = repo_root() / "data" / "sheffield"
    path = tmp_path_factory.mktemp("live") / "s.toml"
    path.write_text(
        f'[study]\nname = "s"\ndata_dir = "{data.as_posix()}"\noutput_dir = "{path.parent.as_posix()}/r"\n'
        f'maps_dir = "{path.parent.as_posix()}/m"\n[network]\nsource = "straight-line"\nmodes = ["walk", "drive"]\n'
        f'[transit]\nfeeds = ["{(data / "transit" / "sheffield_supertram_gtfs_2024-25.zip").as_posix()}"]\n'
        'service_date = "2025-01-14"\n', encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return explore_session(load_config(path))


def _expected(session, mode):
    s, live = session.study, session.live
    return compare_scenarios(
        s.travel_times[mode], s.demand, s.providers, live.scenario, mode=mode,
        new_travel_times=live.site_times[mode], key_stages=live.key_stages, kinds=s.ap_kinds,
        thresholds_min=[15, 30, 45], max_travel_time_min=30,
    )


@pytest.mark.parametrize("mode", ["walk", "drive", "transit"])
def test_every_edit_equals_compare_scenarios(session, mode):
    live = session.live
    live.reset()
    ap = session.study.providers[session.study.providers[KIND].isin(session.study.ap_kinds)]
    first, second, third = (str(v) for v in ap[SITE_ID].iloc[:3])
    g = ap.geometry.iloc[0]
    live.move_site(first, Point(g.x + 1234.4, g.y - 987.6))
    new = live.add_site(Point(440_000, 385_000), key_stages="KS1,KS2", capacity_places=12)
    live.set_capacity(second, 30)
    live.set_key_stages(third, "KS1,KS2,KS3")
    for step in range(4, 0, -1):
        got = live.compare(mode)
        want = _expected(session, mode)
        cols = ["metric", "key_stage", "before", "after", "change"]
        pd.testing.assert_frame_equal(got.table[cols], want[cols])
        assert got.coldspots_new == want.attrs["coldspots_new"]
        assert got.coldspots_resolved == want.attrs["coldspots_resolved"]
        assert len(live.scenario.changes) == step
        live.undo()
    live.close_site(first)
    got, want = live.compare(mode), _expected(session, mode)
    assert np.array_equal(got.table["after"].to_numpy(), want["after"].to_numpy(), equal_nan=True)
    assert new == "NEW-1" or new.startswith("NEW-")


def test_saved_changes_rebuild_the_scenario(session):
    live = session.live
    live.reset()
    live.add_site(Point(440_000.4, 385_000.6), key_stages="KS3", capacity_places=5, name="Hub")
    live.close_site("URN147136-1")
    table = live.changes_table()
    assert table.loc[0, "easting"] == 440_000 and table.loc[0, "northing"] == 385_001
    rebuilt = scenario_from_table(table)
    assert [c.action for c in rebuilt.changes] == ["add", "close"]
    assert rebuilt.changes[0].geometry.equals(live.scenario.changes[0].geometry)


def test_new_site_times_are_the_straight_line_estimate(session):
    demand = session.study.demand
    from apgeo.inputs.demand import demand_points

    sites = session.study.providers.iloc[:1][[SITE_ID, "geometry"]]
    want = straight_line_travel_times(demand_points(demand)[[AREA_ID, "geometry"]], sites,
                                      origin_id_column=AREA_ID, destination_id_column=SITE_ID,
                                      mode="walk", circuity_factor=1.3)
    got = session.live.site_times["walk"](sites)
    assert got["travel_time_s"].equals(want["travel_time_s"])
    assert isinstance(session.live.scenario, Scenario)


def test_live_scenario_refuses_a_mode_without_a_timer(session):
    s = session.study
    with pytest.raises(ValueError, match="site_times"):
        LiveScenario(s.travel_times, s.demand, s.providers, site_times={})


def test_transit_stop_field_equals_the_timetable_search(session):
    """A new site's public-transport times from the kept stop arrivals equal a full search."""
    import geopandas as gpd

    from apgeo.inputs.demand import demand_points
    from apgeo.routing.transit.travel_time_table import transit_travel_time_table

    cfg = session.config
    engine = session.study.engines["transit"]
    origins = demand_points(session.study.demand)[[AREA_ID, "geometry"]]
    sites = gpd.GeoDataFrame({SITE_ID: ["A", "B"]}, geometry=[Point(436_000, 387_000), Point(441_000, 392_000)],
                             crs=27700)
    want = transit_travel_time_table(engine, origins, sites, origin_id_column=AREA_ID, destination_id_column=SITE_ID,
                                     departure_window=cfg.transit_window, step_min=cfg.transit_step_min,
                                     percentile=cfg.transit_percentile)
    got = session.live.site_times["transit"](sites)
    assert got["destination_id"].tolist() == want["destination_id"].tolist()
    assert np.array_equal(got["travel_time_s"].to_numpy(), want["travel_time_s"].to_numpy(), equal_nan=True)


def test_key_stages_no_edit_touches_keep_todays_access_and_equal_compare_scenarios(session):
    """Editing a primary-only site: KS3 and KS4 reuse today's E2SFCA, and every number still
    equals compare_scenarios."""
    from apgeo.planning.live import _access_unchanged
    from apgeo.planning.scenarios import scenario_tables

    live = session.live
    live.reset()
    ap = session.study.providers[session.study.providers[KIND].isin(session.study.ap_kinds)]
    primary = ap[ap["key_stages"].astype(str) == "KS1,KS2"]
    sid = str(primary[SITE_ID].iloc[0])
    g = primary.geometry.iloc[0]
    live.move_site(sid, Point(g.x + 2500, g.y + 1500))
    live.set_capacity(sid, 40)
    got, want = live.compare("walk"), _expected(session, "walk")
    cols = ["metric", "key_stage", "before", "after", "change"]
    pd.testing.assert_frame_equal(got.table[cols], want[cols], check_exact=True)
    tables = scenario_tables(session.study.travel_times["walk"], live.providers, live.scenario,
                             new_travel_times=live.site_times["walk"], key_stages=live.key_stages,
                             kinds=live.kinds)
    before = live._before[("walk", tables.include_access)]
    assert set(_access_unchanged(live.scenario, tables, before)) == {"KS3", "KS4"}
    live.reset()
