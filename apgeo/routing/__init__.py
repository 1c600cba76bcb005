"""Stage 3, routing: travel times from every demand area to every provider site.

Comes in: a network (:mod:`apgeo.network`) or none, and points (demand areas, sites).
Goes out: the travel-time seam, a long table ``origin_id, destination_id,
travel_time_s`` whose ``attrs`` carry the mode and the method (street network, timetable
or the labelled straight-line estimate); every later stage reads only this table.
Modules: ``snap`` (points to edges, with access legs), ``travel_times`` (the scipy
engine on a street network), ``straight_line`` (the crow-fly fallback with a circuity
factor), ``circuity`` (road distance over crow-fly distance on a real network, the check of
that factor), ``transit/`` (GTFS and TransXChange timetables, RAPTOR).

Next stage: :mod:`apgeo.analysis`.
"""
