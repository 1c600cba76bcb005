"""What-if scenarios: add, close or move a provider site, or change its capacity.

A :class:`Scenario` is an ordered list of edits to the provider table::

    s = (
        Scenario("Inclusion Centre moves; KS1-2 hub in the north-east")
        .move_site("URN137596-1", geometry=Point(438_600, 390_700))
        .add_site("HUB-NE", name="North-east hub", key_stages="KS1,KS2",
                  capacity_places=16, geometry=Point(440_100, 391_900))
    )
    table = compare_scenarios(travel_times, demand, providers, s, mode="walk",
                              new_travel_times=lambda sites: my_engine(sites))

Only sites that are new or moved need new travel times: the rows of every other site
are reused unchanged. ``new_travel_times`` is either a precomputed long table with rows
for those sites or a callable that receives a GeoDataFrame of them (``site_id`` and
point geometry) and returns the long table, e.g. a wrapper around
:func:`apgeo.routing.straight_line.straight_line_travel_times` or the network engine.

:func:`compare_scenarios` returns a tidy table (``metric``, ``key_stage``, ``unit``,
``before``, ``after``, ``change``) of coverage (:func:`apgeo.analysis.coverage.coverage_summary`),
access cold spots (:func:`apgeo.analysis.coldspots.access_coldspots`) and, when capacities are
known, E2SFCA access (:func:`apgeo.analysis.access.enhanced_two_step_fca`).
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from apgeo._errors import ApgeoValueError
from apgeo._validate import require_columns
from apgeo.analysis.coverage import coverage_summary
from apgeo.analysis.tables import (
    ALL_KEY_STAGES,
    AREAS_UNREACHABLE,
    CHILDREN,
    CHILDREN_UNREACHABLE,
    KEY_STAGE,
    MEAN_NEAREST_TIME_S,
    check_key_stages,
    children_within_column,
    format_ids,
    kind_value,
    share_within_column,
    travel_time_method,
)
from apgeo.planning.scenario_edits import Change, NewTravelTimes, Scenario
from apgeo.schema import (
    AP_KINDS,
    AREA_ID,
    CAPACITY_PLACES,
    DESTINATION_ID,
    KEY_STAGES,
    KIND,
    MODE,
    PROVIDER_ID,
    SITE_ID,
    TRAVEL_TIME_METHOD,
    ProviderKind,
    children_column,
    parse_key_stages,
)

# ---- column names introduced here (to move into schema.py) --------------------------
METRIC = "metric"
UNIT = "unit"
BEFORE = "before"
AFTER = "after"
CHANGE = "change"
#: The mean leaves out children who reach no site; the two metrics after it count them.
MEAN_TIME_METRIC = "mean nearest time (children who reach a site)"


def _rows_of(travel_times: pd.DataFrame, sites: pd.DataFrame) -> pd.DataFrame:
    """The travel-time rows of ``sites`` only (``attrs`` kept)."""
    out = travel_times[travel_times[DESTINATION_ID].astype(str).isin(set(map(str, sites[SITE_ID])))]
    out.attrs = dict(travel_times.attrs)
    return out


def _metrics(
    travel_times: pd.DataFrame,
    demand: pd.DataFrame,
    providers: pd.DataFrame,
    *,
    mode: str,
    key_stages: tuple[str, ...],
    max_travel_time_min: float,
    thresholds_min: Sequence[float],
    weight_by: Literal["idaci", "none"],
    include_access: bool,
    notes: list[str],
    access_known: Mapping[str, float] | None = None,
) -> tuple[list[dict[str, Any]], set[str]]:
    from apgeo.analysis.coldspots import ACCESS_COLDSPOT, PRIORITY_SCORE, access_coldspots

    rows: list[dict[str, Any]] = []
    cov = coverage_summary(
        travel_times, demand, providers, mode=mode, thresholds_min=list(thresholds_min),
        key_stages=list(key_stages), kinds=None,  # providers are already the kinds counted
    )
    T = max_travel_time_min
    for _, r in cov.iterrows():
        ks = r[KEY_STAGE]
        for t in thresholds_min:
            rows += [
                {"metric": f"children within {t:g} min", KEY_STAGE: ks, UNIT: "children",
                 "value": float(r[children_within_column(t)])},
                {"metric": f"share within {t:g} min", KEY_STAGE: ks, UNIT: "share",
                 "value": float(r[share_within_column(t)])},
            ]
        rows += [
            {"metric": MEAN_TIME_METRIC, KEY_STAGE: ks, UNIT: "min",
             "value": float(r[MEAN_NEAREST_TIME_S]) / 60.0},
            # who the mean leaves out, right after it
            {"metric": "children unreachable", KEY_STAGE: ks, UNIT: "children",
             "value": float(r[CHILDREN_UNREACHABLE])},
            {"metric": "areas unreachable", KEY_STAGE: ks, UNIT: "areas",
             "value": float(r[AREAS_UNREACHABLE])},
        ]
    cold = access_coldspots(
        travel_times, demand, providers, mode=mode, key_stages=list(key_stages),
        max_travel_time_min=T, weight_by=weight_by, kinds=None,
    )
    groups: list[tuple[str, pd.DataFrame]] = [(ALL_KEY_STAGES, cold)]
    groups += [(ks, cold[cold[KEY_STAGE] == ks]) for ks in key_stages]
    for ks, g in groups:
        flag = g[ACCESS_COLDSPOT].astype(bool)
        rows += [
            {"metric": "access cold spots", KEY_STAGE: ks, UNIT: "areas x key stages",
             "value": float(flag.sum())},
            {"metric": "children in access cold spots", KEY_STAGE: ks, UNIT: "children",
             "value": float(g.loc[flag, CHILDREN].sum())},
            {"metric": "cold-spot priority score", KEY_STAGE: ks, UNIT: "score",
             "value": float(g[PRIORITY_SCORE].sum())},
        ]
    cold_ids = {
        f"{a} {k}" for a, k, f in zip(cold[AREA_ID], cold[KEY_STAGE], cold[ACCESS_COLDSPOT], strict=True) if f
    }
    if include_access:
        from apgeo.analysis.access import DEMAND, PLACES_PER_1000, enhanced_two_step_fca

        known = providers[CAPACITY_PLACES].astype(float).notna().to_numpy() & (
            providers[CAPACITY_PLACES].astype(float).fillna(0) > 0
        ).to_numpy()
        serving = providers[known]
        for ks in key_stages:
            ok = serving[KEY_STAGES].map(lambda v, ks=ks: ks in parse_key_stages(v)).astype(bool)
            sub = serving[ok.to_numpy()]
            # no site serving this key stage left at all: 0 places per 1,000. NaN when a
            # site remains but its places are unknown, or there are no children.
            children = float(demand[children_column(ks)].astype(float).sum())
            any_site = providers[KEY_STAGES].map(lambda v, ks=ks: ks in parse_key_stages(v)).astype(bool).any()
            value = 0.0 if children > 0 and not any_site else math.nan
            if access_known is not None and ks in access_known:
                value = access_known[ks]  # the caller knows this key stage's sites are unchanged
            elif len(sub):
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    acc = enhanced_two_step_fca(
                        travel_times[travel_times[DESTINATION_ID].isin(set(sub[SITE_ID]))],
                        demand, sub, mode=mode, key_stages=[ks], kinds=None,
                    )
                notes.extend(str(w.message) for w in caught)
                dem = acc[DEMAND].to_numpy(dtype=float)
                value = float((dem * acc[PLACES_PER_1000]).sum() / dem.sum()) if dem.sum() > 0 else math.nan
            rows.append(
                {"metric": "E2SFCA places per 1,000 children (demand-weighted mean)", KEY_STAGE: ks,
                 UNIT: "places per 1,000", "value": value}
            )
    return rows, cold_ids


@dataclass(frozen=True)
class ScenarioTables:
    """The tables a comparison is computed from: today's and the scenario's providers of
    the kinds counted, with their travel-time rows (see :func:`scenario_tables`)."""

    providers: pd.DataFrame
    travel_times: pd.DataFrame
    providers_after: pd.DataFrame
    travel_times_after: pd.DataFrame
    key_stages: tuple[str, ...]
    include_access: bool
    kinds: str | list[str]
    notes: tuple[str, ...] = ()


def scenario_tables(
    travel_times: pd.DataFrame,
    providers: pd.DataFrame,
    scenario: Scenario,
    *,
    new_travel_times: NewTravelTimes = None,
    key_stages: Sequence[str] | str | None = None,
    include_access: bool | None = None,
    kinds: Collection[str | ProviderKind] | None = AP_KINDS,
) -> ScenarioTables:
    """Today's and the scenario's tables of the providers counted (the first half of
    :func:`compare_scenarios`; parameters as there).

    Parameters
    ----------
    travel_times, providers
        Today's travel-time and provider tables.
    scenario
        The edits.
    new_travel_times
        Travel times of added and moved sites (table or callable; see
        :meth:`Scenario.apply`).
    key_stages
        Key stages to report (``None``: KS1-KS4 as the counted providers serve them).
    include_access
        Whether to compute access (``None``: when a site has a known capacity).
    kinds
        Provider kinds counted (default the AP kinds; ``None``: every provider); sites the
        scenario adds always count.

    Returns
    -------
    ScenarioTables
        Today's and the scenario's providers and travel times of the kinds counted, the key
        stages, whether access is computed, the kinds and notes.
    """
    if not isinstance(scenario, Scenario):
        raise ApgeoValueError(f"scenario must be a Scenario; got {type(scenario).__name__}")
    require_columns(providers, [SITE_ID, PROVIDER_ID, KIND, KEY_STAGES], source="providers")
    ks_list = tuple(check_key_stages(key_stages, providers, kinds))
    prov_after, tt_after = scenario.apply(providers, travel_times, new_travel_times=new_travel_times)
    notes: list[str] = []
    wanted: set[str] = set()
    if kinds is not None:
        wanted = {kind_value(k) for k in ([kinds] if isinstance(kinds, str) else kinds)}
        added = {c.site_id for c in scenario.changes if c.action == "add"}

        def counted(frame: pd.DataFrame) -> np.ndarray:
            text = frame[KIND].astype(str).str.strip().str.lower().str.replace(" ", "_")
            return (text.isin(wanted) | frame[SITE_ID].astype(str).isin(added)).to_numpy()

        keep_before = counted(providers)
        if not keep_before.any() and not added:
            raise ApgeoValueError(
                f"no provider is of kind(s) {sorted(wanted)} (kinds present: "
                f"{sorted(set(map(str, providers[KIND])))}); the default counts AP kinds only "
                "(apgeo.schema.AP_KINDS): pass kinds=None to count every provider"
            )
        ignored = sorted(
            c.site_id for c in scenario.changes
            if c.action != "add" and c.site_id in set(map(str, providers[SITE_ID][~keep_before]))
        )
        if ignored:
            notes.append(
                f"site(s) {format_ids(ignored)} are not of the kinds counted ({', '.join(sorted(wanted))}); "
                "their edits change nothing here: pass kinds=None to count every provider"
            )
        providers = providers[keep_before]
        prov_after = prov_after[counted(prov_after)].reset_index(drop=True)
        travel_times = _rows_of(travel_times, providers)
        tt_after = _rows_of(tt_after, prov_after)
    if include_access is None:
        caps = pd.concat([providers.get(CAPACITY_PLACES, pd.Series(dtype=float)),
                          prov_after[CAPACITY_PLACES]])
        include_access = bool(caps.astype(float).notna().any())
    prov_before = providers.copy()
    if CAPACITY_PLACES not in prov_before.columns:
        prov_before[CAPACITY_PLACES] = np.nan
    return ScenarioTables(
        providers=prov_before, travel_times=travel_times, providers_after=prov_after,
        travel_times_after=tt_after, key_stages=ks_list, include_access=include_access,
        kinds="all" if kinds is None else sorted(wanted), notes=tuple(notes),
    )


@dataclass(frozen=True)
class ScenarioMetrics:
    """One side (today or the scenario) of a comparison: tidy metric rows, the access cold
    spots (``"area_id KS"``) and the access measure's warnings."""

    rows: tuple[dict[str, Any], ...]
    coldspots: frozenset[str]
    notes: tuple[str, ...] = ()


def scenario_metrics(
    travel_times: pd.DataFrame,
    demand: pd.DataFrame,
    providers: pd.DataFrame,
    *,
    mode: str,
    key_stages: Sequence[str],
    max_travel_time_min: float = 30.0,
    thresholds_min: Sequence[float] | None = None,
    weight_by: Literal["idaci", "none"] = "idaci",
    include_access: bool = True,
    access_known: Mapping[str, float] | None = None,
) -> ScenarioMetrics:
    """The metrics of one side of :func:`compare_scenarios` for providers already limited
    to the kinds counted (e.g. ``ScenarioTables.providers_after``); parameters as there.
    ``access_known`` (key stage -> E2SFCA places per 1,000) skips the access measure of
    key stages whose sites, places and travel times the caller knows to be unchanged.

    Parameters
    ----------
    travel_times, demand, providers
        The seam tables of one side (providers already limited to the kinds counted).
    mode
        Travel mode label.
    key_stages
        Key stages to report.
    max_travel_time_min
        Threshold for coverage and access cold spots, in minutes.
    thresholds_min
        Coverage thresholds in minutes (default ``[max_travel_time_min]``).
    weight_by
        Need weighting of the cold-spot priority score.
    include_access
        Add E2SFCA places per 1,000 children.
    access_known
        E2SFCA places per 1,000 by key stage, reused instead of computed (``None``: compute
        every key stage).

    Returns
    -------
    ScenarioMetrics
        The metric rows, the access cold spots (``"area_id KS"``) and the notes.
    """
    notes: list[str] = []
    rows, cold = _metrics(
        travel_times, demand, providers, mode=mode, key_stages=tuple(key_stages),
        max_travel_time_min=max_travel_time_min,
        thresholds_min=_thresholds(thresholds_min, max_travel_time_min),
        weight_by=weight_by, include_access=include_access, notes=notes, access_known=access_known,
    )
    return ScenarioMetrics(tuple(rows), frozenset(cold), tuple(notes))


def _thresholds(thresholds_min: Sequence[float] | None, max_travel_time_min: float) -> tuple[float, ...]:
    if not np.isfinite(max_travel_time_min) or max_travel_time_min <= 0:
        raise ApgeoValueError(
            f"max_travel_time_min must be a positive number of minutes; got {max_travel_time_min!r}"
        )
    if thresholds_min is None:
        return (float(max_travel_time_min),)
    out = tuple(float(t) for t in thresholds_min)
    if not out or not all(np.isfinite(t) and t > 0 for t in out):
        raise ApgeoValueError(f"thresholds_min must be positive numbers of minutes; got {thresholds_min!r}")
    return out


def comparison_table(
    scenario: Scenario,
    tables: ScenarioTables,
    before: ScenarioMetrics,
    after: ScenarioMetrics,
    *,
    mode: str,
) -> pd.DataFrame:
    """The tidy before / after table of :func:`compare_scenarios` from its two sides.

    Parameters
    ----------
    scenario
        The scenario compared.
    tables
        Its tables, from :func:`scenario_tables`.
    before, after
        The metrics of today and of the scenario, from :func:`scenario_metrics`.
    mode
        Travel mode label.

    Returns
    -------
    pandas.DataFrame
        The table and ``attrs`` described in :func:`compare_scenarios`.
    """
    out = pd.DataFrame(
        {
            "scenario": scenario.name,
            METRIC: [r["metric"] for r in before.rows],
            KEY_STAGE: [r[KEY_STAGE] for r in before.rows],
            UNIT: [r[UNIT] for r in before.rows],
            BEFORE: [r["value"] for r in before.rows],
            AFTER: [r["value"] for r in after.rows],
        }
    )
    out[CHANGE] = np.round(out[AFTER].to_numpy() - out[BEFORE].to_numpy(), 9) + 0.0
    out.attrs["coldspots_resolved"] = sorted(before.coldspots - after.coldspots)
    out.attrs["coldspots_new"] = sorted(after.coldspots - before.coldspots)
    out.attrs["description"] = scenario.describe()
    out.attrs["notes"] = sorted(set(tables.notes) | set(before.notes) | set(after.notes))
    method = travel_time_method(tables.travel_times, mode)
    out.attrs[MODE] = mode
    out.attrs["method"] = method
    out.attrs["kinds"] = tables.kinds
    out.attrs["key_stages"] = list(tables.key_stages)
    if method is not None:
        out[TRAVEL_TIME_METHOD] = method
    return out


def compare_scenarios(
    travel_times: pd.DataFrame,
    demand: pd.DataFrame,
    providers: pd.DataFrame,
    scenario: Scenario,
    *,
    mode: str,
    new_travel_times: NewTravelTimes = None,
    key_stages: Sequence[str] | str | None = None,
    max_travel_time_min: float = 30.0,
    thresholds_min: Sequence[float] | None = None,
    weight_by: Literal["idaci", "none"] = "idaci",
    include_access: bool | None = None,
    kinds: Collection[str | ProviderKind] | None = AP_KINDS,
) -> pd.DataFrame:
    """Before / after coverage, access cold spots and access for one scenario.

    Only providers of ``kinds`` count (by default the AP kinds, so special schools
    passed along with AP sites do not mask a closure); sites the scenario adds always
    count, whatever their kind.

    Parameters
    ----------
    travel_times, demand, providers
        The seam tables of today (see :mod:`apgeo.analysis.coverage`).
    scenario
        The edits (see :class:`Scenario`).
    mode
        Travel mode label.
    new_travel_times
        Travel times of added and moved sites (table or callable); see
        :meth:`Scenario.apply`. Rows of other sites are reused.
    key_stages
        Key stages to report (``None``: KS1-KS4 as the counted providers serve them, as
        the study's report and ``headline_coverage.csv`` count; KS5 only when named; see
        ``attrs["key_stages"]``).
    max_travel_time_min
        Threshold for coverage and access cold spots, in minutes.
    thresholds_min
        Coverage thresholds (children and share within each, in this order) when more
        than one is wanted, e.g. ``[15, 30, 45]``; default ``[max_travel_time_min]``.
        Access cold spots always use ``max_travel_time_min``.
    weight_by
        Need weighting of the cold-spot priority score (see
        :func:`apgeo.analysis.coldspots.access_coldspots`).
    include_access
        Add E2SFCA places per 1,000 children (sites with known, positive capacity only);
        default: when at least one site has a known capacity.
    kinds
        Provider kinds counted as provision (default :data:`apgeo.schema.AP_KINDS`;
        ``None``: every provider passed).

    Returns
    -------
    pandas.DataFrame
        Tidy table: ``scenario``, ``metric``, ``key_stage`` (``"all"`` then each key
        stage), ``unit``, ``before``, ``after``, ``change`` (after - before). Metrics:
        children and share within T, mean nearest time (min, over the children who reach
        a suitable site), the children unreachable and the areas holding them,
        access cold spots (area x key stage), children in them, the priority score and,
        with ``include_access``, E2SFCA places per 1,000. ``attrs`` holds
        ``coldspots_resolved`` and ``coldspots_new`` (``"area_id KS"`` lists),
        ``description`` and ``notes`` (warnings from the access measure), ``mode``,
        ``method`` (how the travel times were made), ``kinds`` and ``key_stages``; a
        ``travel_time_method`` column when the travel times say how they were made.
    """
    if not isinstance(scenario, Scenario):
        raise ApgeoValueError(f"scenario must be a Scenario; got {type(scenario).__name__}")
    return ScenarioComparer(
        travel_times, demand, providers, mode=mode, key_stages=key_stages,
        max_travel_time_min=max_travel_time_min, thresholds_min=thresholds_min, weight_by=weight_by,
        include_access=include_access, kinds=kinds,
    ).compare(scenario, new_travel_times=new_travel_times)


class ScenarioComparer:
    """Several scenarios compared with the same today, as :func:`compare_scenarios` compares
    each (parameters as there): today's side is measured once per setting it depends on
    (the key stages and whether access is computed) and shared by every comparison, also
    across threads (one thread measures it, others wait for it).

    Parameters
    ----------
    travel_times, demand, providers
        The seam tables of today.
    mode
        Travel mode label.
    key_stages, max_travel_time_min, thresholds_min, weight_by, include_access, kinds
        As for :func:`compare_scenarios`.
    """

    def __init__(
        self,
        travel_times: pd.DataFrame,
        demand: pd.DataFrame,
        providers: pd.DataFrame,
        *,
        mode: str,
        key_stages: Sequence[str] | str | None = None,
        max_travel_time_min: float = 30.0,
        thresholds_min: Sequence[float] | None = None,
        weight_by: Literal["idaci", "none"] = "idaci",
        include_access: bool | None = None,
        kinds: Collection[str | ProviderKind] | None = AP_KINDS,
    ) -> None:
        self.travel_times, self.demand, self.providers = travel_times, demand, providers
        self.mode, self.key_stages, self.include_access, self.kinds = mode, key_stages, include_access, kinds
        self.max_travel_time_min, self.weight_by = max_travel_time_min, weight_by
        self.thresholds = _thresholds(thresholds_min, max_travel_time_min)
        self._today: dict[tuple[tuple[str, ...], bool], ScenarioMetrics] = {}
        self._lock = threading.Lock()

    def compare(self, scenario: Scenario, *, new_travel_times: NewTravelTimes = None) -> pd.DataFrame:
        """The before / after table of one scenario (:func:`compare_scenarios`).

        Parameters
        ----------
        scenario
            The edits.
        new_travel_times
            Travel times of added and moved sites (see :meth:`Scenario.apply`).

        Returns
        -------
        pandas.DataFrame
            As :func:`compare_scenarios` returns.
        """
        tables = scenario_tables(  # which checks the scenario
            self.travel_times, self.providers, scenario, new_travel_times=new_travel_times,
            key_stages=self.key_stages, include_access=self.include_access, kinds=self.kinds,
        )
        opts: dict[str, Any] = {
            "mode": self.mode, "key_stages": tables.key_stages, "max_travel_time_min": self.max_travel_time_min,
            "thresholds_min": self.thresholds, "weight_by": self.weight_by, "include_access": tables.include_access,
        }
        with self._lock:  # today's side, measured once per setting
            key = (tuple(tables.key_stages), bool(tables.include_access))
            before = self._today.get(key)
            if before is None:
                before = self._today[key] = scenario_metrics(tables.travel_times, self.demand, tables.providers, **opts)
        after = scenario_metrics(tables.travel_times_after, self.demand, tables.providers_after, **opts)
        return comparison_table(scenario, tables, before, after, mode=self.mode)


__all__ = [
    "Change",
    "Scenario",
    "ScenarioComparer",
    "ScenarioMetrics",
    "ScenarioTables",
    "compare_scenarios",
    "comparison_table",
    "scenario_metrics",
    "scenario_tables",
]
