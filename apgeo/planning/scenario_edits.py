"""The edits of a what-if scenario and how they apply to the provider and travel-time tables.

A :class:`Scenario` is an ordered, immutable list of :class:`Change` edits: add a site,
close one, move one, set its key stages or its places. :meth:`Scenario.apply` returns the
provider table and the long travel-time table after the edits, in one pass over them (a
scenario may close every site but one of 50,000): rows of unchanged sites are reused, and
new or moved sites get their rows from ``new_travel_times`` (a long table, or a callable
that computes them for a GeoDataFrame of those sites). How the two sides compare is
:func:`apgeo.planning.scenarios.compare_scenarios`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from apgeo._errors import ApgeoValueError
from apgeo._validate import check_unique, require_columns
from apgeo.analysis.tables import format_ids
from apgeo.schema import (
    CAPACITY_PLACES,
    DESTINATION_ID,
    KEY_STAGES,
    KIND,
    NAME,
    PROVIDER_ID,
    SITE_ID,
    ProviderKind,
    parse_key_stages,
)
from apgeo.settings import WORKING_CRS

Action = Literal["add", "close", "move", "capacity", "key_stages"]
NewTravelTimes = pd.DataFrame | Callable[[gpd.GeoDataFrame], pd.DataFrame] | None


@dataclass(frozen=True)
class Change:
    """One edit of a scenario (see :class:`Scenario`)."""

    action: Action
    site_id: str
    attributes: dict[str, Any] = field(default_factory=dict)
    geometry: Any = None

    def describe(self) -> str:
        """Plain-English description of the edit.

        Returns
        -------
        str
            E.g. ``"close URN107073-1"``.
        """
        if self.action == "add":
            name = self.attributes.get(NAME, self.site_id)
            return f"add {name} ({self.site_id}, {self.attributes.get(KEY_STAGES, '')})"
        if self.action == "close":
            return f"close {self.site_id}"
        if self.action == "move":
            return f"move {self.site_id}"
        if self.action == "key_stages":
            return f"set {self.site_id} key stages to {self.attributes.get(KEY_STAGES)}"
        return f"set {self.site_id} capacity to {self.attributes.get(CAPACITY_PLACES)} places"


@dataclass(frozen=True)
class Scenario:
    """An ordered, immutable list of edits to the provider table.

    Every method returns a new scenario, so scenarios can share a common base.

    Parameters
    ----------
    name
        Label used in tables and reports.
    changes
        The edits, applied in order.
    """

    name: str = "scenario"
    changes: tuple[Change, ...] = ()

    def _with(self, change: Change) -> Scenario:
        return replace(self, changes=(*self.changes, change))

    def add_site(
        self,
        site_id: str,
        *,
        name: str,
        key_stages: str | Sequence[str],
        kind: str | ProviderKind = ProviderKind.OTHER,
        capacity_places: float = math.nan,
        provider_id: str | None = None,
        geometry: Any = None,
    ) -> Scenario:
        """Add a new site (it needs travel times through ``new_travel_times``).

        Parameters
        ----------
        site_id
            Id of the new site (unique among the sites).
        name
            Its name.
        key_stages
            Key stages it serves, e.g. ``"KS3,KS4"`` or ``["KS3", "KS4"]``.
        kind
            Provider kind (default ``other``).
        capacity_places
            Places (default unknown, NaN).
        provider_id
            The organisation (default: the site id).
        geometry
            Its location (a point in EPSG:27700), needed to compute its travel times.

        Returns
        -------
        Scenario
            A new scenario with the edit appended.
        """
        ks = ",".join(parse_key_stages(key_stages))
        if not ks:
            raise ApgeoValueError(f"add_site({site_id!r}): key_stages must name at least one of KS1..KS5")
        if not (math.isnan(capacity_places) or capacity_places >= 0):
            raise ApgeoValueError(f"add_site({site_id!r}): capacity_places must be >= 0; got {capacity_places!r}")
        attrs = {
            NAME: name,
            KEY_STAGES: ks,
            KIND: ProviderKind.parse(kind).value,
            CAPACITY_PLACES: float(capacity_places),
            PROVIDER_ID: provider_id or str(site_id),
        }
        return self._with(Change("add", str(site_id), attrs, geometry))

    def close_site(self, site_id: str) -> Scenario:
        """Close an existing site (its travel-time rows are dropped).

        Parameters
        ----------
        site_id
            The site to close.

        Returns
        -------
        Scenario
            A new scenario with the edit appended.
        """
        return self._with(Change("close", str(site_id)))

    def close_sites(self, site_ids: Iterable[str]) -> Scenario:
        """Close several existing sites at once (one edit each, in the order given).

        Parameters
        ----------
        site_ids
            The sites to close.

        Returns
        -------
        Scenario
            A new scenario with the edits appended (made in one step: closing every site
            but one of 50,000 with :meth:`close_site` in a loop copies the list of edits
            each time).
        """
        return replace(self, changes=(*self.changes, *(Change("close", str(sid)) for sid in site_ids)))

    def move_site(self, site_id: str, *, geometry: Any = None) -> Scenario:
        """Move an existing site; it keeps its attributes and needs new travel times.

        Parameters
        ----------
        site_id
            The site to move.
        geometry
            Its new location (a point in EPSG:27700).

        Returns
        -------
        Scenario
            A new scenario with the edit appended.
        """
        return self._with(Change("move", str(site_id), {}, geometry))

    def set_capacity(self, site_id: str, capacity_places: float) -> Scenario:
        """Change the number of places at an existing site.

        Parameters
        ----------
        site_id
            The site.
        capacity_places
            Its new number of places (>= 0).

        Returns
        -------
        Scenario
            A new scenario with the edit appended.
        """
        if not np.isfinite(capacity_places) or capacity_places < 0:
            raise ApgeoValueError(
                f"set_capacity({site_id!r}): capacity_places must be a number >= 0; got {capacity_places!r}"
            )
        return self._with(Change("capacity", str(site_id), {CAPACITY_PLACES: float(capacity_places)}))

    def set_key_stages(self, site_id: str, key_stages: str | Sequence[str]) -> Scenario:
        """Change the key stages an existing site serves (its travel times are kept).

        Parameters
        ----------
        site_id
            Id of an existing site.
        key_stages
            The key stages it serves instead (at least one of KS1-KS5).

        Returns
        -------
        Scenario
            A new scenario with the change appended (this one is unchanged).
        """
        ks = ",".join(parse_key_stages(key_stages))
        if not ks:
            raise ApgeoValueError(
                f"set_key_stages({site_id!r}): key_stages must name at least one of KS1..KS5; "
                f"got {key_stages!r} (close the site to stop it serving any)"
            )
        return self._with(Change("key_stages", str(site_id), {KEY_STAGES: ks}))

    def _repr_html_(self) -> str:
        from apgeo._repr import html_summary

        rows = [(f"{i}. {c.action}", c.describe()) for i, c in enumerate(self.changes, start=1)]
        return html_summary(
            f"Scenario {self.name!r} ({len(self.changes)} edit{'s' if len(self.changes) != 1 else ''})",
            rows or [("edits", "none")],
            method="edits applied in order to the provider table; compare with compare_scenarios",
        )

    def describe(self) -> str:
        """``"name: edit; edit"``.

        Returns
        -------
        str
            The scenario's name and its edits in plain English.
        """
        return f"{self.name}: " + ("; ".join(c.describe() for c in self.changes) or "no change")

    # ---- application ------------------------------------------------------------------
    def apply(
        self,
        providers: pd.DataFrame,
        travel_times: pd.DataFrame,
        *,
        new_travel_times: NewTravelTimes = None,
    ) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The provider table and the travel-time table after the edits.

        Parameters
        ----------
        providers
            Provider sites (``site_id`` unique; a GeoDataFrame keeps its geometry).
        travel_times
            The long table for the current sites; rows of unchanged sites are reused.
        new_travel_times
            Rows for added and moved sites: a long table, or a callable receiving a
            GeoDataFrame of those sites (``site_id``, point geometry in EPSG:27700) and
            returning one.

        Returns
        -------
        tuple of pandas.DataFrame
            ``(providers_after, travel_times_after)``; inputs are not modified.
        """
        require_columns(providers, [SITE_ID], source="providers")
        require_columns(travel_times, [DESTINATION_ID], source="travel_times")
        check_unique(providers, SITE_ID, source="providers")
        # one pass over the edits, in time linear in sites + edits (a scenario may close
        # every site but one: 50,000 edits): rows are found through a dict, closed rows
        # dropped and added rows appended once at the end, in the order the edits leave them
        after = providers.copy().reset_index(drop=True)
        if CAPACITY_PLACES not in after.columns:
            after[CAPACITY_PLACES] = np.nan
        after[CAPACITY_PLACES] = after[CAPACITY_PLACES].astype(float)
        is_geo = isinstance(after, gpd.GeoDataFrame)
        # the open sites: today's (row_of) and those the edits added, each once
        row_of = {sid: i for i, sid in enumerate(after[SITE_ID].astype(str))}  # site id -> row of today
        added: dict[str, tuple[dict[str, Any], Any]] = {}  # site id -> (row, geometry), in order
        closed_rows: list[int] = []
        needs_times: dict[str, Any] = {}
        dropped: set[str] = set()
        for change in self.changes:
            sid = change.site_id
            if change.action == "add":
                if sid in row_of or sid in added:
                    raise ApgeoValueError(
                        f"scenario {self.name!r}: cannot add site {sid!r}, a site with that id exists; "
                        "choose a new site_id"
                    )
                row = {c: (np.nan if c == CAPACITY_PLACES else "") for c in after.columns if c != "geometry"}
                row.update({SITE_ID: sid, **change.attributes})
                added[sid] = (row, change.geometry)
                needs_times[sid] = change.geometry
                continue
            if sid not in row_of and sid not in added:
                raise ApgeoValueError(
                    f"scenario {self.name!r}: {change.action} names site {sid!r}, which is not in "
                    f"providers; site ids present include {format_ids(sorted([*row_of, *added]))}"
                )
            if change.action in ("close", "move"):
                if change.action == "close":
                    needs_times.pop(sid, None)
                else:
                    needs_times[sid] = change.geometry
                dropped.add(sid)
            if sid in added:  # a site this scenario added
                row = added[sid][0]
                if change.action == "close":
                    del added[sid]
                elif change.action == "move":
                    if is_geo and change.geometry is not None:
                        added[sid] = (row, change.geometry)
                elif change.action == "key_stages":
                    row[KEY_STAGES] = change.attributes[KEY_STAGES]
                else:
                    row[CAPACITY_PLACES] = float(change.attributes[CAPACITY_PLACES])
                continue
            i = row_of[sid]
            if change.action == "close":
                del row_of[sid]
                closed_rows.append(i)
            elif change.action == "move":
                if is_geo and change.geometry is not None:
                    after.loc[i, after.geometry.name] = change.geometry
            elif change.action == "key_stages":
                after.loc[i, KEY_STAGES] = change.attributes[KEY_STAGES]
            else:
                after.loc[i, CAPACITY_PLACES] = float(change.attributes[CAPACITY_PLACES])
        if closed_rows:
            after = after.drop(index=closed_rows)
        if added:
            new = pd.DataFrame([row for row, _ in added.values()])
            if is_geo:
                new = gpd.GeoDataFrame(new, geometry=[g for _, g in added.values()], crs=after.crs)
            after = pd.concat([after, new], ignore_index=True)
        tt = travel_times[~travel_times[DESTINATION_ID].astype(str).isin(dropped | set(needs_times))]
        if needs_times:
            extra = _new_rows(needs_times, after, new_travel_times, scenario=self.name)
            tt = pd.concat([tt, extra], ignore_index=True)
        tt = tt.reset_index(drop=True)
        tt.attrs = dict(travel_times.attrs)  # same mode and method as today's table
        return after.reset_index(drop=True), tt


def _new_rows(
    needs: dict[str, Any],
    providers_after: pd.DataFrame,
    new_travel_times: NewTravelTimes,
    *,
    scenario: str,
) -> pd.DataFrame:
    ids = sorted(needs)
    if new_travel_times is None:
        raise ApgeoValueError(
            f"scenario {scenario!r}: site(s) {format_ids(ids)} are new or moved and need travel "
            "times; pass new_travel_times (a long table with their rows, or a callable that "
            "computes them from a GeoDataFrame of the sites)"
        )
    if callable(new_travel_times):
        geoms = []
        lookup = (
            dict(zip(providers_after[SITE_ID].astype(str), providers_after.geometry, strict=True))
            if isinstance(providers_after, gpd.GeoDataFrame)
            else {}
        )
        for sid in ids:
            g = needs[sid] if needs[sid] is not None else lookup.get(sid)
            if g is None or getattr(g, "is_empty", False):
                raise ApgeoValueError(
                    f"scenario {scenario!r}: site {sid!r} has no location; give geometry= to "
                    "add_site / move_site"
                )
            geoms.append(g)
        crs = providers_after.crs if isinstance(providers_after, gpd.GeoDataFrame) else WORKING_CRS
        sites = gpd.GeoDataFrame({SITE_ID: ids}, geometry=geoms, crs=crs)
        rows = new_travel_times(sites)
    else:
        rows = new_travel_times
    if not isinstance(rows, pd.DataFrame):
        raise ApgeoValueError(
            f"new_travel_times must give a DataFrame; got {type(rows).__name__}"
        )
    require_columns(rows, [DESTINATION_ID], source="new_travel_times")
    rows = rows[rows[DESTINATION_ID].astype(str).isin(ids)]
    missing = sorted(set(ids) - set(map(str, rows[DESTINATION_ID])))
    if missing:
        raise ApgeoValueError(
            f"new_travel_times has no rows for new or moved site(s) {format_ids(missing)}; "
            "compute their travel times first"
        )
    return rows


__all__ = ["Action", "Change", "NewTravelTimes", "Scenario"]
