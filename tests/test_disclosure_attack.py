"""Attacking the published placement tables with everything they publish.

Means and medians are constraints on blank counts too: with them, a blank could once be
worked out exactly (issue "Suppressed placement counts can be recovered from the
published means, medians and zeros"). The attacker (``tests/_disclosure_attacker.py``,
independent of :mod:`apgeo.privacy.statistics_check`) solves integer programmes over all
the published tables of a sweep of SYNTHETIC lists; nothing may be recovered, and every
blank keeps at least two possible values (the interval rule of the statistics check).
With the statistics check switched off, the attacker recovers the cells of the issue.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from apgeo.analysis.burden import placement_travel_times
from apgeo.inputs.demand import demand_points
from apgeo.inputs.geocode import PostcodeLookup
from apgeo.inputs.placements import ALL, load_placements, load_schools
from apgeo.inputs.providers import split_located
from apgeo.inputs.synthetic_placements import synthetic_placements
from apgeo.privacy import statistics_check
from apgeo.privacy.publish import publish_placement_tables
from apgeo.routing.straight_line import straight_line_travel_times

try:
    from tests._disclosure_attacker import attack
except ImportError:  # pragma: no cover - run from inside tests/
    from _disclosure_attacker import attack  # type: ignore[no-redef]

AS_OF = dt.date(2025, 3, 31)
THRESHOLDS_MIN = (30, 45, 60)
SIZES = (30, 60, 90, 120)
SEEDS = range(8)
MODES = ("walk", "drive")


@pytest.fixture(scope="module")
def ref(sheffield_demand, sheffield_providers, data_dir):
    located, _ = split_located(sheffield_providers)
    times = {}
    for mode in MODES:
        tt = straight_line_travel_times(
            demand_points(sheffield_demand), located, origin_id_column="area_id", destination_id_column="site_id", mode=mode
        )
        times[mode] = tt.assign(mode=mode)
    return {
        "demand": sheffield_demand,
        "providers": sheffield_providers,
        "schools": load_schools(data_dir=data_dir),
        "lookup": PostcodeLookup.from_data_dir(data_dir),
        "times": times,
        "kind": dict(zip(sheffield_providers["provider_id"].astype(str), sheffield_providers["kind"].astype(str))),
    }


def publish(ref, seed: int, n: int, mode: str, **kwargs) -> dict[str, pd.DataFrame]:
    rows = synthetic_placements(
        n, random_state=seed, as_of=AS_OF, demand=ref["demand"], providers=ref["providers"], schools=ref["schools"]
    )
    placements = load_placements(
        rows, as_of=AS_OF, providers=ref["providers"], schools=ref["schools"], demand=ref["demand"], lookup=ref["lookup"]
    )
    pt = placement_travel_times(placements, ref["times"][mode], mode=mode, providers=ref["providers"], demand=ref["demand"])
    return publish_placement_tables(pt, providers=ref["providers"], schools=ref["schools"], **kwargs)


def attack_published(ref, published, mode: str, *, use_statistics: bool = True):
    tt = ref["times"][mode]["travel_time_s"].dropna()  # public geography: the shortest and longest trip
    return attack(
        published,
        thresholds_min=THRESHOLDS_MIN,
        time_range_s=(float(tt.min()), float(tt.max())),
        provider_kind=ref["kind"],
        use_statistics=use_statistics,
    )


def bands_of(published, table: str, group: str) -> list[float]:
    t = published[table].set_index("group")
    return [float(t.loc[group, c]) for c in t.columns if c.startswith("placements_") and c != "placements_no_time"]


def test_the_issue_reproductions_recover_cells_with_the_statistics_check_off(ref):
    """``random_state = 8``, 200 rows, walk: the by-school row of URN 139695 (6 placements,
    every band blank) came back as 3/1/1/1; seed 2, 80 rows: IMD decile 3 as 3/1/0/1."""
    off = publish(ref, 8, 200, "walk", check_statistics=False)
    found = dict(attack_published(ref, off, "walk").recovered)
    school = {c: found.get(("burden_school_urn", "139695", c)) for c in ("placements_within_30_min", "placements_30_to_45_min", "placements_45_to_60_min", "placements_over_60_min")}
    assert list(school.values()) == [3.0, 1.0, 1.0, 1.0]
    off = publish(ref, 2, 80, "walk", check_statistics=False)
    found = dict(attack_published(ref, off, "walk").recovered)
    assert found[("burden_imd_decile", "3", "placements_within_30_min")] == 3.0
    assert found[("burden_imd_decile", "3", "placements_over_60_min")] == 1.0
    # the module switch does the same as the parameter
    statistics_check.CHECK_STATISTICS = False
    try:
        again = publish(ref, 2, 80, "walk")
    finally:
        statistics_check.CHECK_STATISTICS = True
    assert attack_published(ref, again, "walk").recovered


def test_the_issue_reproductions_recover_nothing(ref):
    on = publish(ref, 8, 200, "walk")
    school = on["burden_school_urn"].set_index("group").loc["139695"]
    assert np.isnan(school["mean_travel_time_s"]) and np.isnan(school["median_travel_time_s"])
    result = attack_published(ref, on, "walk")
    assert result.recovered == [] and result.narrowest >= statistics_check.MIN_INTERVAL_WIDTH
    on = publish(ref, 2, 80, "walk")
    assert attack_published(ref, on, "walk").recovered == []


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("n", SIZES)
def test_no_blank_is_recovered_over_a_sweep(ref, n, mode):
    """4 list sizes x 8 seeds x 2 modes (this test runs one size and mode)."""
    for seed in SEEDS:
        published = publish(ref, seed, n, mode)
        result = attack_published(ref, published, mode)
        assert result.recovered == [], (seed, result.recovered)
        assert result.narrowest >= statistics_check.MIN_INTERVAL_WIDTH, (seed, result.narrowest_cell)
        for name in ("burden_key_stage", "burden_kind", "burden_imd_decile", "burden_school_urn"):
            table = published[name]
            counts = table[[c for c in table.columns if c.startswith("placements")]]
            stats = table["mean_travel_time_s"].notna() | table["median_travel_time_s"].notna()
            # statistics only for groups of 10+ placements with a time and no blank count
            with_time = table["placements"] - table["placements_no_time"]
            assert (~stats | (counts.notna().all(axis=1) & (with_time >= statistics_check.STATISTICS_MIN_PLACEMENTS))).all()
            assert table.attrs["note"] == statistics_check.SUPPRESSION_NOTE


def test_statistics_rows_by_hand():
    """Small groups, rows with a blank, and the differencing rule."""
    cols = ["b0", "b1", "b2", "b3", "placements_no_time"]
    counts = pd.DataFrame([[12, 0, 0, 0, 0], [6, 0, 0, 0, 0], [20, 5, 0, 0, 0], [3, 2, 0, 0, 0]], index=list("abcd"), columns=cols)
    full = counts.astype(float)
    full[ALL] = full.sum(axis=1)
    full.loc[ALL] = full.sum(axis=0)
    hidden = full * 0 > 1
    hidden.loc["d", ["b0", "b1", ALL]] = True
    stats = pd.Series(1000.0, index=[*"abcd", ALL])
    table = statistics_check.BurdenCounts(counts=full, hidden=hidden, mean_s=stats, median_s=stats)
    shown = statistics_check.statistics_rows(table)
    # b (6) is small, d has blanks: withheld together they hold 11 placements: enough
    assert shown.tolist() == [True, False, True, False, True]
    # with b at 3, b + d hold 8: the smallest shown row (a) is withheld too
    counts.loc["b", "b0"] = 3
    full = counts.astype(float)
    full[ALL] = full.sum(axis=1)
    full.loc[ALL] = full.sum(axis=0)
    table = statistics_check.BurdenCounts(counts=full, hidden=hidden, mean_s=stats, median_s=stats)
    assert statistics_check.statistics_rows(table).tolist() == [False, False, True, False, True]
