"""The study's street networks, recorded: which file, what was kept, and what lies beyond.

For every mode routed on a street network the study keeps a
:class:`~apgeo.network.provenance.NetworkRecord`: the source file (sha256, size, the OSM
data date of a PBF), the nodes and edges the engine kept and dropped, its components, the
mode's speed and one-way rules, the access-leg rule and the sites or areas that lie beyond
the network's edge (:mod:`apgeo.routing.network_extent`). The record is what the report's
network section and ``provenance.json`` say, and what the method label of every table
built on the network is made from.

Facts about an engine (:func:`engine_facts`) are recorded with the study's engines
(:mod:`apgeo.study.engines`), so a rerun served from the cache reports the same network
without building it.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from apgeo import schema as S
from apgeo._log import warn
from apgeo._validate import to_working_crs
from apgeo.network.modes import DEFAULT_SPEEDS_KPH
from apgeo.network.provenance import (
    ONE_WAY_RULES,
    SPEED_RULES,
    NetworkRecord,
    access_leg_rule,
    describe_network_file,
)
from apgeo.routing.deferred import DeferredEngine
from apgeo.routing.network_extent import BEYOND_MARGIN_M, network_extent, points_beyond
from apgeo.routing.travel_times import TravelTimeEngine
from apgeo.study.result import StudyResult


def engine_facts(engine: TravelTimeEngine) -> dict[str, Any]:
    """What the study records of a built engine: nodes and edges kept, nodes dropped, its
    strongly connected components and its extent (WKB, hex).

    Parameters
    ----------
    engine
        A built engine.

    Returns
    -------
    dict
        ``nodes_kept``, ``edges_kept``, ``nodes_dropped``, ``components`` (int) and
        ``extent_wkb`` (hex text).
    """
    segments = engine.edge_index().segments
    extent = network_extent(segments.px, segments.py)
    return {
        "nodes_kept": int(engine.n_nodes),
        "edges_kept": len(engine.edges),
        "nodes_dropped": int(engine.dropped_node_count),
        "components": int(engine.n_components),
        "extent_wkb": shapely.to_wkb(extent, hex=True),
    }


def facts_of(engine: TravelTimeEngine | DeferredEngine) -> dict[str, Any]:
    """:func:`engine_facts` of an engine, from the record of a deferred one when it has it.

    Parameters
    ----------
    engine
        A built or deferred engine (a deferred one without a record is built).

    Returns
    -------
    dict
        As :func:`engine_facts`.
    """
    if isinstance(engine, DeferredEngine):
        if engine.facts:
            return dict(engine.facts)
        return engine_facts(engine.load())
    return engine_facts(engine)


def beyond_edge(
    facts: dict[str, Any], points: gpd.GeoDataFrame, *, id_column: str, crs: str
) -> list[dict[str, Any]]:
    """The points more than :data:`BEYOND_MARGIN_M` outside the network's extent, farthest
    first: ``{"id", "distance_m"}`` (distance to the extent).

    Parameters
    ----------
    facts
        The network's facts (:func:`engine_facts`), with ``extent_wkb``.
    points
        The points to check.
    id_column
        Their id column.
    crs
        The network's CRS (the points are projected to it).

    Returns
    -------
    list of dict
        ``{"id": str, "distance_m": float}`` per point beyond, farthest first.
    """
    extent = shapely.from_wkb(bytes.fromhex(facts["extent_wkb"]))
    projected = to_working_crs(points, name=id_column, crs=crs)
    mask, distance_m = points_beyond(
        extent, projected.geometry.x.to_numpy(float), projected.geometry.y.to_numpy(float)
    )
    ids = points[id_column].to_numpy(dtype=object)[mask]
    dist = distance_m[mask]
    order = np.argsort(-dist, kind="stable")
    return [{"id": str(ids[i]), "distance_m": round(float(dist[i]), 1)} for i in order]


def source_description(source: str) -> dict[str, Any]:
    """What identifies the network source of a study: a file's hash and date, or the
    download. A file is read once per content state (path, size, modification time), not
    once per mode.

    Parameters
    ----------
    source
        The study's ``[network] source``: ``"auto"`` or a path.

    Returns
    -------
    dict
        As :func:`apgeo.network.provenance.describe_network_file` for a file; ``file``,
        ``format`` and ``osm_data_date`` for a download; ``file`` and ``format`` for a path
        that does not exist.
    """
    if source == "auto":
        return {"file": "OpenStreetMap download or cached download (osmnx)", "format": "osm", "osm_data_date": ""}
    path = Path(source)
    if not path.exists():
        return {"file": source, "format": path.suffix.lstrip(".")}
    stat = path.stat()
    return dict(_described(str(path), stat.st_size, stat.st_mtime_ns))


@lru_cache(maxsize=8)
def _described(path: str, size: int, mtime_ns: int) -> dict[str, Any]:
    """:func:`describe_network_file`, kept while the file is unchanged."""
    return describe_network_file(path)


def network_record(
    mode: str, source: dict[str, Any], facts: dict[str, Any], beyond: Sequence[dict[str, Any]]
) -> NetworkRecord:
    """The record of one mode's network.

    Parameters
    ----------
    mode
        Travel mode.
    source
        What identifies the source (:func:`source_description`).
    facts
        The engine's facts (:func:`engine_facts`).
    beyond
        Points beyond the network's edge (:func:`beyond_edge`).

    Returns
    -------
    NetworkRecord
        The record, with the mode's speed, one-way and access-leg rules.
    """
    return NetworkRecord(
        mode=mode,
        source=source,
        nodes_kept=int(facts["nodes_kept"]),
        edges_kept=int(facts["edges_kept"]),
        nodes_dropped=int(facts["nodes_dropped"]),
        components=int(facts["components"]),
        speed_rule=SPEED_RULES.get(mode, ""),
        one_way_rule=ONE_WAY_RULES.get(mode, ""),
        access_leg_rule=access_leg_rule(DEFAULT_SPEEDS_KPH["walk"]),
        beyond_network=list(beyond),
    )


def warn_beyond(
    beyond_by_mode: dict[str, list[dict[str, Any]]], *, what: str, source: str, estimate: str
) -> None:
    """One warning for the points beyond the networks' edge, naming them, how far, and
    what to give instead (modes with the same points share one message).

    Parameters
    ----------
    beyond_by_mode
        Points beyond the edge by mode (:func:`beyond_edge`).
    what
        What the points are, plural (e.g. ``"AP sites"``).
    source
        The network source named in the warning.
    estimate
        How the journeys beyond the edge are estimated, in words.
    """
    groups: dict[tuple[str, ...], list[str]] = {}
    for mode, points in beyond_by_mode.items():
        if points:
            groups.setdefault(tuple(p["id"] for p in points), []).append(mode)
    for ids, modes in groups.items():
        points = beyond_by_mode[modes[0]]
        listing = ", ".join(f"{p['id']} ({p['distance_m'] / 1000:,.1f} km)" for p in points[:10])
        more = f" ... ({len(ids)} in all)" if len(ids) > 10 else ""
        warn(
            f"{len(ids)} {what} lie beyond the edge of the {' / '.join(modes)} network from "
            f"{source} (more than {BEYOND_MARGIN_M:,.0f} m outside it; distance to its edge: "
            f"{listing}{more}). Their journeys are routed on the streets to the network's "
            f"edge and estimated by straight line beyond it ({estimate}); to route them on "
            "streets, give a network extract that covers them (e.g. the county's or England's "
            "from download.geofabrik.de)",
            stacklevel=3,
        )


def street_travel_times(
    result: StudyResult,
    mode: str,
    graph: Any,
    origins: gpd.GeoDataFrame,
    sites: gpd.GeoDataFrame,
    beyond: dict[str, list[dict[str, Any]]],
) -> None:
    """One mode's travel times on its street network into ``result``, with the network's
    record: sites and areas beyond its edge are joined to its nearest street and estimated
    beyond it.

    Parameters
    ----------
    result
        The study so far; gains the mode's engine, travel times, method label and record.
    mode
        The travel mode.
    graph
        The mode's network: an engine, a deferred engine or a networkx graph.
    origins, sites
        Demand points (``area_id``) and provider sites (``site_id``).
    beyond
        Filled with the points beyond the network's edge, per mode, for
        :func:`warn_beyond_edge`.
    """
    from apgeo.routing.straight_line import STRAIGHT_LINE_SPEEDS_KPH
    from apgeo.study.incremental import cached_travel_time_table

    cfg = result.config
    # a file: built from arrays (no graph), or deferred until a site needs computing
    lean = isinstance(graph, (TravelTimeEngine, DeferredEngine))
    engine = graph if lean else TravelTimeEngine.from_graph(graph)
    result.engines[mode] = engine
    facts = facts_of(engine)
    out_sites = beyond_edge(facts, sites, id_column=S.SITE_ID, crs=engine.crs)
    out_areas = beyond_edge(facts, origins, id_column=S.AREA_ID, crs=engine.crs)
    beyond[mode] = [{**p, "kind": "site"} for p in out_sites] + [{**p, "kind": "area"} for p in out_areas]
    speed_kph = STRAIGHT_LINE_SPEEDS_KPH[mode]
    with beyond_warnings_given():
        result.travel_times[mode] = cached_travel_time_table(  # only new or moved sites computed
            engine, origins, sites, origin_id_column=S.AREA_ID, destination_id_column=S.SITE_ID,
            beyond="estimate", beyond_speed_kph=speed_kph, beyond_circuity=cfg.circuity_factor,
        )
    if not lean:
        name = graph.graph.get("source", "osm")
    elif cfg.network_source == "auto":  # downloaded, or from the download cache
        name = "osm"
    else:
        kind = "OSM PBF" if cfg.network_source.lower().endswith(".pbf") else Path(cfg.network_source).suffix[1:]
        name = f"{kind} {Path(cfg.network_source).name}"
    source = source_description(cfg.network_source)
    date = f", OSM data of {source['osm_data_date']}" if source.get("osm_data_date") else ""
    label = f"road network: {cfg.network_label}" if cfg.network_label else f"street network ({name}{date})"
    if beyond[mode]:
        n_sites, n_areas = len(out_sites), len(out_areas)
        parts = [f"{n_sites} site(s)"] * bool(n_sites) + [f"{n_areas} area(s)"] * bool(n_areas)
        label += (
            f"; {' and '.join(parts)} beyond the network's edge, their journeys beyond it "
            f"estimated as crow-fly x {cfg.circuity_factor:g} at {speed_kph:g} km/h"
        )
    result.network_method[mode] = label
    result.network_records[mode] = network_record(mode, source, facts, beyond[mode])


def warn_beyond_edge(
    beyond: dict[str, list[dict[str, Any]]], *, network_source: str, circuity_factor: float
) -> None:
    """The study's warnings for the sites and areas beyond its networks' edge (one per group
    of modes with the same points, sites and areas apart).

    Parameters
    ----------
    beyond
        Mode -> points beyond its network's edge (as :func:`street_travel_times` fills it).
    network_source, circuity_factor
        The config's network source and straight-line circuity, for the message.
    """
    if not beyond:
        return
    source = network_source if network_source != "auto" else "the download"
    estimate = f"crow-fly x {circuity_factor:g} at the mode's straight-line speed"
    for kind, what in (("site", "provider site(s)"), ("area", "demand area(s)")):
        warn_beyond(
            {m: [p for p in b if p["kind"] == kind] for m, b in beyond.items()},
            what=what, source=source, estimate=estimate,
        )


@contextmanager
def beyond_warnings_given() -> Iterator[None]:
    """Inside, the snapping step's own "beyond the network's edge" warnings are not given
    again (the study gives one warning per network for all of them).

    Yields
    ------
    None
        Nothing; the filter is lifted on leaving.
    """
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*lie beyond the network's edge.*")
        yield


__all__ = [
    "beyond_edge",
    "beyond_warnings_given",
    "engine_facts",
    "facts_of",
    "network_record",
    "source_description",
    "street_travel_times",
    "warn_beyond",
    "warn_beyond_edge",
]
