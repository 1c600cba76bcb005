"""Stage 7, outputs: what a planner reads.

Comes in: the tables of the analysis and planning stages, already suppressed by
:mod:`apgeo.privacy` where they describe placements.
Goes out: interactive Folium maps (``maps``, ``map_layers``, ``flow_map``), figures
(``figures``) and the Markdown / HTML report (``report``).
Every output carries the method (street network or straight-line estimate) and, for
synthetic placements, the word SYNTHETIC.
"""
