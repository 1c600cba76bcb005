"""Stage 7, outputs: what a planner reads.

Comes in: the tables of the analysis and planning stages, already suppressed by
:mod:`apgeo.privacy` where they describe placements.
Goes out: interactive Folium maps (``maps``, ``map_layers``, ``flow_map``,
``transit_layer``), figures (``figures``), the Markdown / HTML report (``report``) and the
England comparison's files (``england_report``); ``files`` writes byte-identical
GeoPackages and ``lock`` keeps two runs out of one output folder.
Every output carries the method (street network or straight-line estimate) and, for
synthetic placements, the word SYNTHETIC.
"""
