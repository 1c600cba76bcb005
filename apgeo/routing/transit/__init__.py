"""Public transport: GTFS feeds and RAPTOR travel times over a departure window.

Comes in: a GTFS feed (zip or folder), an explicit service date and departure window,
and a walk network for the access, egress and transfer legs.
Goes out: the same travel-time seam as :mod:`apgeo.routing.travel_times`, with
``attrs["mode"] == "transit"``.
Modules: ``feed`` (reading and checking a GTFS feed for one service date), ``raptor``
(the engine and the percentile over departures).
"""
