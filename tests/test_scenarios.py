"""What-if scenarios (apgeo.scenarios) on a toy city worked out by hand."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely.geometry import Point

from apgeo import ApgeoValueError, ApgeoWarning
from apgeo.planning.scenarios import MEAN_TIME_METRIC, Scenario, compare_scenarios


def _city():
    demand = pd.DataFrame(
        {
            "area_id": ["A1", "A2", "A3"],
            "children_ks1": 0.0,
            "children_ks2": 0.0,
            "children_ks3": [100.0, 50.0, 80.0],
            "children_ks4": 0.0,
            "children_ks5": 0.0,
            "imd_decile": [5, 7, 1],
            "idaci_decile": [5, 7, 1],
        }
    )
    providers = gpd.GeoDataFrame(
        {
            "site_id": ["E1", "E2"],
            "provider_id": ["E", "F"],
            "name": ["Centre", "Annexe"],
            "kind": ["pru", "pru"],
            "key_stages": ["KS3", "KS3"],
            "capacity_places": [40.0, 10.0],
        },
        geometry=[Point(435_000, 387_000), Point(436_000, 388_000)],
        crs="EPSG:27700",
    )
    tt = pd.DataFrame(
        [
            ("A1", "E1", 600.0), ("A2", "E1", 2400.0), ("A3", "E1", 3000.0),
            ("A1", "E2", 1200.0), ("A2", "E2", 1500.0), ("A3", "E2", np.nan),
        ],
        columns=["origin_id", "destination_id", "travel_time_s"],
    )
    return tt, demand, providers


def _new_rows(site_id: str, times: list[float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"origin_id": ["A1", "A2", "A3"], "destination_id": site_id, "travel_time_s": times}
    )


def _value(table: pd.DataFrame, metric: str, column: str, key_stage: str = "all") -> float:
    hit = table[(table["metric"] == metric) & (table["key_stage"] == key_stage)]
    assert len(hit) == 1, (metric, key_stage)
    return float(hit.iloc[0][column])


def test_add_site_before_after_by_hand() -> None:
    tt, demand, providers = _city()
    scenario = Scenario("hub").add_site(
        "HUB", name="Hub", key_stages="KS3", capacity_places=20, geometry=Point(437_000, 389_000)
    )
    out = compare_scenarios(
        tt, demand, providers, scenario, mode="walk", key_stages="KS3",
        new_travel_times=_new_rows("HUB", [3000.0, 3000.0, 900.0]),
    )
    assert list(out.columns) == ["scenario", "metric", "key_stage", "unit", "before", "after", "change"]
    # before: A1 (600 s) and A2 (1500 s) within 30 min = 150 children; after: + A3 (900 s)
    assert _value(out, "children within 30 min", "before") == 150
    assert _value(out, "children within 30 min", "after") == 230
    assert _value(out, "children within 30 min", "change") == 80
    assert _value(out, "access cold spots", "before") == 1
    assert _value(out, "access cold spots", "after") == 0
    # mean nearest time (min): (100*10 + 50*25 + 80*50) / 230 -> (100*10 + 50*25 + 80*15) / 230
    assert _value(out, MEAN_TIME_METRIC, "before") == pytest.approx((1000 + 1250 + 4000) / 230)
    assert _value(out, MEAN_TIME_METRIC, "after") == pytest.approx((1000 + 1250 + 1200) / 230)
    assert out.attrs["coldspots_resolved"] == ["A3 KS3"] and out.attrs["coldspots_new"] == []
    assert "add Hub (HUB, KS3)" in out.attrs["description"]
    assert "E2SFCA places per 1,000 children (demand-weighted mean)" in set(out["metric"])


def test_close_site_reuses_other_rows_and_keeps_inputs() -> None:
    tt, demand, providers = _city()
    tt_copy, prov_copy = tt.copy(), providers.copy()
    scenario = Scenario("close annexe").close_site("E2")
    prov_after, tt_after = scenario.apply(providers, tt)
    assert list(prov_after["site_id"]) == ["E1"]
    assert set(tt_after["destination_id"]) == {"E1"} and len(tt_after) == 3
    out = compare_scenarios(tt, demand, providers, scenario, mode="walk", key_stages="KS3")
    assert _value(out, "children within 30 min", "change") == -50  # A2 loses E2 (25 min)
    assert out.attrs["coldspots_new"] == ["A2 KS3"]
    pd.testing.assert_frame_equal(tt, tt_copy)
    pd.testing.assert_frame_equal(providers, prov_copy)


def test_move_site_calls_the_engine_only_for_the_moved_site() -> None:
    tt, demand, providers = _city()
    seen: list[list[str]] = []

    def engine(sites: gpd.GeoDataFrame) -> pd.DataFrame:
        seen.append(list(sites["site_id"]))
        assert sites.crs.to_epsg() == 27700 and sites.geometry.iloc[0].equals(Point(438_000, 390_000))
        return _new_rows("E1", [1500.0, 1500.0, 1500.0])

    scenario = Scenario("move the centre").move_site("E1", geometry=Point(438_000, 390_000))
    out = compare_scenarios(tt, demand, providers, scenario, mode="walk", key_stages="KS3",
                            new_travel_times=engine)
    assert seen == [["E1"]]
    assert _value(out, "children within 30 min", "after") == 230
    prov_after, tt_after = scenario.apply(providers, tt, new_travel_times=engine)
    assert prov_after.geometry.iloc[0].equals(Point(438_000, 390_000))
    # E2's rows are reused unchanged
    pd.testing.assert_frame_equal(
        tt_after[tt_after["destination_id"] == "E2"].reset_index(drop=True),
        tt[tt["destination_id"] == "E2"].reset_index(drop=True),
    )


def test_set_capacity_changes_access_not_coverage() -> None:
    tt, demand, providers = _city()
    out = compare_scenarios(
        tt, demand, providers, Scenario("grow").set_capacity("E1", 80), mode="walk", key_stages="KS3"
    )
    assert _value(out, "children within 30 min", "change") == 0
    access = "E2SFCA places per 1,000 children (demand-weighted mean)"
    assert _value(out, access, "change", "KS3") > 0


def test_scenario_errors_name_the_fix() -> None:
    tt, demand, providers = _city()
    with pytest.raises(ApgeoValueError, match=r"close names site 'NOPE'.*not in providers"):
        compare_scenarios(tt, demand, providers, Scenario().close_site("NOPE"), mode="walk")
    with pytest.raises(ApgeoValueError, match="cannot add site 'E1', a site with that id exists"):
        Scenario().add_site("E1", name="x", key_stages="KS3").apply(providers, tt)
    with pytest.raises(ApgeoValueError, match=r"HUB.*need travel times; pass new_travel_times"):
        Scenario().add_site("HUB", name="x", key_stages="KS3").apply(providers, tt)
    with pytest.raises(ApgeoValueError, match=r"no rows for new or moved site\(s\) HUB"):
        Scenario().add_site("HUB", name="x", key_stages="KS3").apply(
            providers, tt, new_travel_times=_new_rows("OTHER", [1.0, 1.0, 1.0])
        )
    with pytest.raises(ApgeoValueError, match="capacity_places must be a number >= 0"):
        Scenario().set_capacity("E1", -3)
    with pytest.raises(ApgeoValueError, match="key_stages must name at least one"):
        Scenario().add_site("H", name="x", key_stages="")


@settings(max_examples=20, deadline=None)
@given(st.lists(st.floats(min_value=0, max_value=5000, allow_nan=False), min_size=3, max_size=3))
def test_adding_a_site_never_makes_access_worse(times: list[float]) -> None:
    tt, demand, providers = _city()
    scenario = Scenario().add_site("HUB", name="Hub", key_stages="KS3", capacity_places=5)
    out = compare_scenarios(
        tt, demand, providers, scenario, mode="walk", key_stages="KS3",
        new_travel_times=_new_rows("HUB", times), include_access=False,
    )
    assert _value(out, "children within 30 min", "change") >= 0
    assert _value(out, MEAN_TIME_METRIC, "change") <= 1e-9
    assert _value(out, "access cold spots", "change") <= 0
    assert 0 <= _value(out, "share within 30 min", "after") <= 1


def test_default_key_stages_are_the_reports_one_site_listing_ks5_adds_nobody() -> None:
    """One rule for "within N minutes": a child counts when a site serving their key stage
    is within N; KS1-KS4 unless KS5 is named. Before, one site listing KS5 put every 16-17
    year old into the defaults, so a closure made them unreachable and dropped them out of
    the mean time (Sheffield: 15,136 children through compare_scenarios, 14,645 in the report)."""
    from apgeo.analysis.coverage import coverage_summary

    tt, demand, providers = _city()
    demand = demand.assign(children_ks5=[40.0, 0.0, 0.0])
    providers = providers.assign(key_stages=["KS3", "KS3,KS5"])
    out = compare_scenarios(tt, demand, providers, Scenario("close").close_site("E2"), mode="walk")
    assert out.attrs["key_stages"] == ["KS3"]
    assert set(out["key_stage"]) == {"all", "KS3"}
    with pytest.warns(ApgeoWarning, match="no provider serves KS1, KS2, KS4"):
        report_rule = coverage_summary(tt, demand, providers, mode="walk", thresholds_min=[30],
                                       key_stages=["KS1", "KS2", "KS3", "KS4"]).set_index("key_stage")
    assert _value(out, "children within 30 min", "before") == report_rule.loc["all", "children_within_30_min"]
    # A3 cannot reach E2 and E1 is 50 min away: nobody is left out of the mean, before or after
    assert _value(out, "children unreachable", "after") == 0
    assert _value(out, "areas unreachable", "after") == 0
    # naming KS5 counts it, and the 40 children then left with no KS5 site are stated
    with pytest.warns(ApgeoWarning, match="no provider serves KS5"):
        with_ks5 = compare_scenarios(tt, demand, providers, Scenario("close").close_site("E2"), mode="walk",
                                     key_stages="KS3,KS5")
    assert _value(with_ks5, "children unreachable", "after") == 40
    assert _value(with_ks5, "areas unreachable", "after") == 1


# ---- applying many edits: the one-pass rule equals the edits applied one at a time -------

_EDIT_SITES = ["E1", "E2", "N1", "N2"]


def _one_at_a_time(scenario: Scenario, providers: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The provider table after the edits, each applied to the whole table in turn (the
    rule Scenario.apply follows in one pass)."""
    after = providers.copy()
    for c in scenario.changes:
        if c.action == "add":
            row = {col: (np.nan if col == "capacity_places" else "") for col in after.columns if col != "geometry"}
            row.update({"site_id": c.site_id, **c.attributes})
            new = gpd.GeoDataFrame(pd.DataFrame([row]), geometry=[c.geometry], crs=after.crs)
            after = pd.concat([after, new], ignore_index=True)
            continue
        mask = (after["site_id"] == c.site_id).to_numpy()
        if c.action == "close":
            after = after[~mask].reset_index(drop=True)
        elif c.action == "move":
            after.loc[mask, "geometry"] = c.geometry
        elif c.action == "key_stages":
            after.loc[mask, "key_stages"] = c.attributes["key_stages"]
        else:
            after.loc[mask, "capacity_places"] = float(c.attributes["capacity_places"])
    return after.reset_index(drop=True)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["add", "close", "move", "key_stages", "places"]),
                          st.sampled_from(_EDIT_SITES), st.integers(0, 9)), max_size=12))
def test_apply_in_one_pass_equals_the_edits_one_at_a_time(edits: list[tuple[str, str, int]]) -> None:
    tt, _, providers = _city()
    present = set(providers["site_id"])
    scenario = Scenario("mixed")
    for action, sid, k in edits:  # only edits valid where they fall (re-adding a closed id is)
        where = Point(435_000 + 100 * k, 387_000 + 50 * k)
        if action == "add":
            if sid in present:
                continue
            scenario = scenario.add_site(sid, name=f"New {sid}", key_stages="KS3", kind="other", geometry=where)
            present.add(sid)
        elif sid not in present:
            continue
        elif action == "close":
            scenario = scenario.close_site(sid)
            present.discard(sid)
        elif action == "move":
            scenario = scenario.move_site(sid, geometry=where)
        elif action == "key_stages":
            scenario = scenario.set_key_stages(sid, "KS3,KS4" if k % 2 else "KS2")
        else:
            scenario = scenario.set_capacity(sid, k)

    def times(sites: gpd.GeoDataFrame) -> pd.DataFrame:
        return pd.concat([_new_rows(s, [60.0 * (i + 1)] * 3) for i, s in enumerate(sites["site_id"])])

    after, after_tt = scenario.apply(providers, tt, new_travel_times=times)
    expected = _one_at_a_time(scenario, providers)
    pd.testing.assert_frame_equal(pd.DataFrame(after.drop(columns="geometry")),
                                  pd.DataFrame(expected.drop(columns="geometry")))
    assert list(after.geometry.to_wkt()) == list(expected.geometry.to_wkt())
    assert set(after_tt["destination_id"]) == set(after["site_id"]) == present


def test_closing_every_site_but_one_of_many_is_one_pass() -> None:
    """The study's "Inclusion Centre alone" scenario closes every other AP site: with
    20,000 sites that was 20,000 passes over the table (quadratic: 80 s at 10,000)."""
    n = 20_000
    ids = [f"S{i:05d}" for i in range(n)]
    providers = gpd.GeoDataFrame(
        {"site_id": ids, "provider_id": ids, "kind": "framework_provider", "key_stages": "KS3"},
        geometry=gpd.points_from_xy(np.arange(n, dtype=float), np.zeros(n)), crs="EPSG:27700",
    )
    tt = pd.DataFrame({"origin_id": "A1", "destination_id": ids, "travel_time_s": 60.0})
    scenario = Scenario("alone").close_sites(ids[1:])
    assert len(scenario.changes) == n - 1 and scenario.changes[-1].site_id == ids[-1]
    lookups: list[int] = []
    original = pd.Series.astype

    def counted(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if self.name == "site_id":
            lookups.append(1)
        return original(self, *args, **kwargs)

    pd.Series.astype = counted  # type: ignore[method-assign]
    try:
        after, after_tt = scenario.apply(providers, tt)
    finally:
        pd.Series.astype = original  # type: ignore[method-assign]
    assert list(after["site_id"]) == [ids[0]] and list(after_tt["destination_id"]) == [ids[0]]
    assert len(lookups) <= 2  # the site ids read once, not once per edit


def test_scenarios_compared_with_one_today_equal_each_compared_alone(monkeypatch: pytest.MonkeyPatch) -> None:
    """ScenarioComparer measures today once (per key stages and access setting), also when
    scenarios are compared on two threads, and gives what compare_scenarios gives each."""
    from concurrent.futures import ThreadPoolExecutor

    import apgeo.planning.scenarios as scenarios_module
    from apgeo.planning.scenarios import ScenarioComparer

    tt, demand, providers = _city()
    hub = Scenario("hub").add_site("HUB", name="Hub", key_stages="KS3", geometry=Point(437_000, 389_000))
    edits = [
        (Scenario("close annexe").close_site("E2"), None),
        (hub, _new_rows("HUB", [3000.0, 3000.0, 900.0])),
        (Scenario("more places").set_capacity("E1", 80), None),
    ]
    alone = [
        compare_scenarios(tt, demand, providers, s, mode="walk", key_stages="KS3", new_travel_times=new)
        for s, new in edits
    ]
    measured: list[int] = []
    metrics = scenarios_module.scenario_metrics

    def counted(*args: object, **kwargs: object) -> object:
        measured.append(len(args[0]))  # type: ignore[arg-type]
        return metrics(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(scenarios_module, "scenario_metrics", counted)
    comparer = ScenarioComparer(tt, demand, providers, mode="walk", key_stages="KS3")
    with ThreadPoolExecutor(max_workers=2) as pool:
        together = list(pool.map(lambda e: comparer.compare(e[0], new_travel_times=e[1]), edits))
    assert len(measured) == len(edits) + 1  # each scenario's side, and today's once
    for a, b in zip(alone, together, strict=True):
        pd.testing.assert_frame_equal(a, b)
        assert a.attrs == b.attrs
