"""A warm what-if session: one edit at a time, its comparison back in a fraction of a second.

:class:`LiveScenario` holds today's travel-time tables (one per mode), the demand and the
providers, and for each mode a function that times new sites (the straight-line estimate,
a warm street-network engine, or :class:`apgeo.routing.transit.stop_field.TransitStopField`).
Each edit (add, move, close, places, key stages) extends one :class:`~apgeo.planning.scenarios.Scenario`;
:meth:`LiveScenario.compare` returns what :func:`~apgeo.planning.scenarios.compare_scenarios`
returns for that scenario (with ``thresholds_min``), computing only the scenario's side:
today's side is computed once per mode and kept, and a site's travel times are computed
once per place it is put::

    live = LiveScenario(travel_times, demand, providers, site_times=site_times)
    live.move_site("URN137596-1", Point(438_600, 390_700))
    result = live.compare("walk")          # result.table, result.elapsed_ms

Coordinates are rounded to whole metres (EPSG:27700) when a site is put somewhere, so a
saved scenario (:meth:`LiveScenario.changes_table`) reproduces the same numbers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from shapely.geometry import Point

from apgeo._errors import ApgeoValueError
from apgeo.analysis.tables import KEY_STAGE
from apgeo.planning.scenarios import (
    Scenario,
    ScenarioMetrics,
    ScenarioTables,
    comparison_table,
    scenario_metrics,
    scenario_tables,
)
from apgeo.schema import (
    AP_KINDS,
    AREA_ID,
    CAPACITY_PLACES,
    DESTINATION_ID,
    KEY_STAGES,
    KIND,
    NAME,
    ORIGIN_ID,
    SITE_ID,
    TRAVEL_TIME_S,
    ProviderKind,
    parse_key_stages,
)

#: A function giving the long travel-time table of some sites (``site_id`` and point geometry).
SiteTimes = Callable[[gpd.GeoDataFrame], pd.DataFrame]

#: The columns of a saved scenario (:meth:`LiveScenario.changes_table`).
CHANGE_COLUMNS = ("action", SITE_ID, NAME, KIND, KEY_STAGES, CAPACITY_PLACES, "easting", "northing")


@dataclass
class LiveResult:
    """One comparison of the live scenario in one mode."""

    mode: str
    #: As :func:`~apgeo.planning.scenarios.compare_scenarios` returns it.
    table: pd.DataFrame
    #: area_id -> seconds to the nearest counted site after the edits (NaN: none reached).
    nearest_after_s: pd.Series
    #: area_id -> seconds to the nearest counted site today.
    nearest_before_s: pd.Series
    elapsed_ms: float
    coldspots_new: list[str] = field(default_factory=list)
    coldspots_resolved: list[str] = field(default_factory=list)

    def value(self, metric: str, key_stage: str = "all", column: Literal["before", "after", "change"] = "after") -> float:
        """One number of the table (``nan`` when the metric is not there).

        Parameters
        ----------
        metric
            Metric name, as in the ``metric`` column of :attr:`table`.
        key_stage
            ``"all"`` or a key stage (``"KS3"``).
        column
            ``"before"``, ``"after"`` (default) or ``"change"``.

        Returns
        -------
        float
            The value, ``nan`` when the table has no such row.
        """
        t = self.table
        row = t[(t["metric"] == metric) & (t[KEY_STAGE] == key_stage)]
        return float(row[column].iloc[0]) if len(row) else math.nan


class LiveScenario:
    """Today's tables kept warm, and the planner's edits as one growing scenario.

    Parameters
    ----------
    travel_times
        mode -> today's long travel-time table (every provider site).
    demand, providers
        As :func:`~apgeo.planning.scenarios.compare_scenarios` (providers with point
        geometry in EPSG:27700).
    site_times
        mode -> a function timing new or moved sites in that mode.
    key_stages, kinds, max_travel_time_min, weight_by
        As :func:`~apgeo.planning.scenarios.compare_scenarios`.
    thresholds_min
        Coverage thresholds reported (default 15, 30 and 45 min); cold spots use
        ``max_travel_time_min``.
    name
        The scenario's name.
    """

    def __init__(
        self,
        travel_times: Mapping[str, pd.DataFrame],
        demand: pd.DataFrame,
        providers: gpd.GeoDataFrame,
        *,
        site_times: Mapping[str, SiteTimes],
        key_stages: Sequence[str] | None = None,
        kinds: Collection[str | ProviderKind] | None = AP_KINDS,
        thresholds_min: Sequence[float] = (15, 30, 45),
        max_travel_time_min: float = 30.0,
        weight_by: Literal["idaci", "none"] = "idaci",
        name: str = "explore",
    ) -> None:
        missing = sorted(set(travel_times) - set(site_times))
        if missing:
            raise ApgeoValueError(f"site_times has no function for mode(s) {missing}; give one per mode")
        if not isinstance(providers, gpd.GeoDataFrame):
            raise ApgeoValueError("providers must be a GeoDataFrame (sites are drawn and moved)")
        self.travel_times = dict(travel_times)
        # the metrics read the demand table's columns only: drop its polygons once
        geom = getattr(demand, "geometry", None)
        self.demand = pd.DataFrame(demand.drop(columns=demand.geometry.name)) if geom is not None else demand
        self.providers = providers.reset_index(drop=True)
        self.site_times = dict(site_times)
        self.key_stages = list(key_stages) if key_stages is not None else None
        self.kinds = kinds
        self.thresholds_min = tuple(float(t) for t in thresholds_min)
        self.max_travel_time_min = float(max_travel_time_min)
        self.weight_by = weight_by
        self.scenario = Scenario(name)
        self._times: dict[tuple[str, str, float, float], pd.DataFrame] = {}
        self._before: dict[tuple[str, bool], ScenarioMetrics] = {}
        self._added = 0

    # ---- edits ----------------------------------------------------------------------
    @property
    def modes(self) -> list[str]:
        return list(self.travel_times)

    def add_site(
        self,
        geometry: Point,
        *,
        key_stages: str | Sequence[str] = "KS3,KS4",
        capacity_places: float = math.nan,
        name: str | None = None,
        site_id: str | None = None,
        kind: str | ProviderKind = ProviderKind.OTHER,
    ) -> str:
        """Add a site at ``geometry`` (EPSG:27700); returns its id (``NEW-1``, ``NEW-2``...).

        Parameters
        ----------
        geometry
            The site's point in EPSG:27700 metres.
        key_stages
            Key stages the site serves (default ``"KS3,KS4"``).
        capacity_places
            Places the site offers (``nan``: unknown).
        name
            Display name (default ``"New site <id>"``).
        site_id
            The site's id; ``None`` picks the next free ``NEW-<n>``.
        kind
            Provider kind (default ``"other"``).

        Returns
        -------
        str
            The new site's id.
        """
        if site_id is None:
            taken = set(map(str, self.sites()[SITE_ID])) | set(map(str, self.providers[SITE_ID]))
            while True:
                self._added += 1
                site_id = f"NEW-{self._added}"
                if site_id not in taken:
                    break
        self.scenario = self.scenario.add_site(
            site_id, name=name or f"New site {site_id}", key_stages=key_stages, kind=kind,
            capacity_places=capacity_places, geometry=_metre(geometry),
        )
        return site_id

    def move_site(self, site_id: str, geometry: Point) -> None:
        """Put a site (today's or an added one) at ``geometry`` (EPSG:27700).

        Parameters
        ----------
        site_id
            Id of the site to move.
        geometry
            Its new point in EPSG:27700 metres.
        """
        self.scenario = self.scenario.move_site(site_id, geometry=_metre(geometry))

    def close_site(self, site_id: str) -> None:
        """Close a site (today's or an added one): it no longer counts.

        Parameters
        ----------
        site_id
            Id of the site to close.
        """
        self.scenario = self.scenario.close_site(site_id)

    def set_capacity(self, site_id: str, capacity_places: float) -> None:
        """Change the number of places a site offers.

        Parameters
        ----------
        site_id
            Id of the site (today's or an added one).
        capacity_places
            Its new number of places.
        """
        self.scenario = self.scenario.set_capacity(site_id, capacity_places)

    def set_key_stages(self, site_id: str, key_stages: str | Sequence[str]) -> None:
        """Change the key stages a site serves (its travel times are kept).

        Parameters
        ----------
        site_id
            Id of the site (today's or an added one).
        key_stages
            The key stages it now serves (``"KS3,KS4"`` or a sequence).
        """
        self.scenario = self.scenario.set_key_stages(site_id, key_stages)

    def undo(self) -> None:
        """Drop the last edit."""
        self.scenario = Scenario(self.scenario.name, self.scenario.changes[:-1])

    def reset(self) -> None:
        """Back to today."""
        self.scenario = Scenario(self.scenario.name)

    def sites(self) -> gpd.GeoDataFrame:
        """Every provider site after the edits (a closed site is gone).

        Returns
        -------
        geopandas.GeoDataFrame
            The provider table after the edits (added and moved sites at their new points).
        """
        mode = self.modes[0]
        after, _ = self.scenario.apply(self.providers, self.travel_times[mode][:0], new_travel_times=_no_rows)
        return after  # type: ignore[return-value]

    # ---- the comparison --------------------------------------------------------------
    def _new_times(self, mode: str) -> SiteTimes:
        def times(sites: gpd.GeoDataFrame) -> pd.DataFrame:
            parts = []
            for sid, geom in zip(sites[SITE_ID].astype(str), sites.geometry, strict=True):
                key = (mode, sid, float(geom.x), float(geom.y))
                if key not in self._times:
                    one = gpd.GeoDataFrame({SITE_ID: [sid]}, geometry=[geom], crs=sites.crs)
                    self._times[key] = self.site_times[mode](one)[[ORIGIN_ID, DESTINATION_ID, TRAVEL_TIME_S]]
                parts.append(self._times[key])
            return pd.concat(parts, ignore_index=True)

        return times

    def compare(self, mode: str) -> LiveResult:
        """What the edits change in ``mode`` (equal to ``compare_scenarios`` of :attr:`scenario`
        with ``thresholds_min`` and ``max_travel_time_min`` as configured).

        Parameters
        ----------
        mode
            One of this session's modes (:attr:`modes`).

        Returns
        -------
        LiveResult
            The before / after table, nearest times before and after, the access cold spots the
            edits resolve and create, and the time the comparison took (ms).
        """
        if mode not in self.travel_times:
            raise ApgeoValueError(f"mode {mode!r} is not one of this session's: {self.modes}")
        started = time.perf_counter()
        tables = scenario_tables(
            self.travel_times[mode], self.providers, self.scenario,
            new_travel_times=self._new_times(mode), key_stages=self.key_stages, kinds=self.kinds,
        )
        opts: dict[str, Any] = {
            "mode": mode, "key_stages": tables.key_stages, "max_travel_time_min": self.max_travel_time_min,
            "thresholds_min": self.thresholds_min, "weight_by": self.weight_by,
            "include_access": tables.include_access,
        }
        key = (mode, tables.include_access)
        if key not in self._before:
            self._before[key] = scenario_metrics(tables.travel_times, self.demand, tables.providers, **opts)
        before = self._before[key]
        if self.scenario.changes:
            known = _access_unchanged(self.scenario, tables, before) if tables.include_access else None
            after = scenario_metrics(tables.travel_times_after, self.demand, tables.providers_after,
                                     access_known=known, **opts)
        else:
            after = before
        table = comparison_table(self.scenario, tables, before, after, mode=mode)
        elapsed = (time.perf_counter() - started) * 1000.0
        return LiveResult(
            mode=mode, table=table,
            nearest_after_s=_nearest(tables.travel_times_after, self.demand),
            nearest_before_s=_nearest(tables.travel_times, self.demand),
            elapsed_ms=elapsed,
            coldspots_new=list(table.attrs["coldspots_new"]),
            coldspots_resolved=list(table.attrs["coldspots_resolved"]),
        )

    # ---- saving ----------------------------------------------------------------------
    def changes_table(self) -> pd.DataFrame:
        """The edits, one row each (:data:`CHANGE_COLUMNS`), for a study's ``[scenario] file``.

        Returns
        -------
        pandas.DataFrame
            One row per edit in the order made, columns :data:`CHANGE_COLUMNS`: ``action``,
            ``site_id``, ``name``, ``kind``, ``key_stages``, ``capacity_places``, ``easting``,
            ``northing`` (EPSG:27700 metres; ``nan`` for edits without a point).
        """
        rows = []
        for c in self.scenario.changes:
            g = c.geometry
            rows.append(
                {
                    "action": c.action, SITE_ID: c.site_id,
                    NAME: c.attributes.get(NAME, ""), KIND: c.attributes.get(KIND, ""),
                    KEY_STAGES: c.attributes.get(KEY_STAGES, ""),
                    CAPACITY_PLACES: c.attributes.get(CAPACITY_PLACES, math.nan),
                    "easting": float(g.x) if g is not None else math.nan,
                    "northing": float(g.y) if g is not None else math.nan,
                }
            )
        return pd.DataFrame(rows, columns=list(CHANGE_COLUMNS))


def scenario_from_table(table: pd.DataFrame, *, name: str = "scenario", source: str = "scenario file") -> Scenario:
    """The :class:`~apgeo.planning.scenarios.Scenario` of a saved changes table (the
    inverse of :meth:`LiveScenario.changes_table`).

    Parameters
    ----------
    table
        A changes table with at least ``action`` and ``site_id`` columns (see
        :data:`CHANGE_COLUMNS`); actions ``add``, ``move``, ``close``, ``capacity`` and
        ``key_stages``.
    name
        Name of the scenario.
    source
        How to name the table in errors (e.g. its file path).

    Returns
    -------
    Scenario
        The edits, in row order.
    """
    missing = [c for c in ("action", SITE_ID) if c not in table.columns]
    if missing:
        raise ApgeoValueError(f"{source}: missing column(s) {missing}; expected {list(CHANGE_COLUMNS)}")
    s = Scenario(name)
    for i, row in enumerate(table.to_dict("records"), start=2):  # line 1 is the header
        action, sid = str(row["action"]).strip(), str(row[SITE_ID]).strip()

        def point(row: dict[Any, Any] = row, i: int = i, action: str = action, sid: str = sid) -> Point:
            x, y = pd.to_numeric(pd.Series([row.get("easting"), row.get("northing")]), errors="coerce")
            if not (np.isfinite(x) and np.isfinite(y)):
                raise ApgeoValueError(f"{source}, line {i}: {action} {sid!r} needs easting and northing (EPSG:27700)")
            return Point(float(x), float(y))

        def places(row: dict[Any, Any] = row) -> float:
            v = pd.to_numeric(pd.Series([row.get(CAPACITY_PLACES)]), errors="coerce").iloc[0]
            return float(v) if pd.notna(v) else math.nan

        if action == "add":
            s = s.add_site(sid, name=str(row.get(NAME) or sid), key_stages=str(row.get(KEY_STAGES, "")),
                           kind=str(row.get(KIND) or ProviderKind.OTHER.value),
                           capacity_places=places(), geometry=point())
        elif action == "move":
            s = s.move_site(sid, geometry=point())
        elif action == "close":
            s = s.close_site(sid)
        elif action == "capacity":
            s = s.set_capacity(sid, places())
        elif action == "key_stages":
            s = s.set_key_stages(sid, parse_key_stages(str(row.get(KEY_STAGES, ""))))
        else:
            raise ApgeoValueError(
                f"{source}, line {i}: action {action!r}; use add, move, close, capacity or key_stages"
            )
    return s


def _metre(geometry: Any) -> Point:
    if geometry is None or getattr(geometry, "is_empty", True) or geometry.geom_type != "Point":
        raise ApgeoValueError(f"a site needs a point location (EPSG:27700); got {geometry!r}")
    return Point(round(float(geometry.x)), round(float(geometry.y)))


def _access_unchanged(scenario: Scenario, tables: ScenarioTables, before: ScenarioMetrics) -> dict[str, float]:
    """Today's E2SFCA value of each key stage that no edited site serves, before or after
    the edits: its sites, places and travel times are today's, so its value is too."""
    edited = {c.site_id for c in scenario.changes}
    served: set[str] = set()
    for frame in (tables.providers, tables.providers_after):
        rows = frame[frame[SITE_ID].astype(str).isin(edited)]
        for value in rows[KEY_STAGES]:
            served.update(parse_key_stages(value))
    metric = "E2SFCA places per 1,000 children (demand-weighted mean)"
    return {
        str(r[KEY_STAGE]): float(r["value"]) for r in before.rows
        if r["metric"] == metric and r[KEY_STAGE] not in served
    }


def _no_rows(sites: gpd.GeoDataFrame) -> pd.DataFrame:
    return pd.DataFrame({DESTINATION_ID: sites[SITE_ID].astype(str), ORIGIN_ID: "", TRAVEL_TIME_S: np.nan})


def _nearest(travel_times: pd.DataFrame, demand: pd.DataFrame) -> pd.Series:
    t = travel_times.groupby(ORIGIN_ID)[TRAVEL_TIME_S].min()
    return t.reindex(demand[AREA_ID].to_numpy())


__all__ = ["CHANGE_COLUMNS", "LiveResult", "LiveScenario", "SiteTimes", "scenario_from_table"]
