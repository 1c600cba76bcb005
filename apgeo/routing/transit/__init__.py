"""Public transport: timetables (GTFS and TransXChange) and RAPTOR travel times.

Comes in: timetable feeds (GTFS zips or folders; TransXChange zips, folders or files as the
Bus Open Data Service publishes them), an explicit service date and departure window, and a
walk network for the access, egress and transfer legs.
Goes out: the same travel-time seam as :mod:`apgeo.routing.travel_times`, with
``attrs["mode"] == "transit"``.
Modules: ``feed`` (reading and checking one GTFS feed for one service date), ``txc`` with
``txc_file``, ``txc_time`` and ``txc_stops`` (TransXChange to GTFS tables, ids kept local to
each file), ``feeds`` (several feeds at once, each on a matching date, stops linked by
walking transfers), ``raptor`` (the engine and the percentile over departures).
"""
