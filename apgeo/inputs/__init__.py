"""Stage 1, the inputs: what is where, and who needs it.

Comes in: the committed data extracts (``data/<area>/`` with a manifest), GIAS, the
planners' own provider, quality, candidate and placement files, postcodes.
Goes out: providers as points in EPSG:27700 with kind, key stages and places
(:mod:`~apgeo.inputs.providers`); demand areas with children by key stage and
deprivation (:mod:`~apgeo.inputs.demand`); aggregated placement counts, never pupil
rows (:mod:`~apgeo.inputs.placements`); provider quality (:mod:`~apgeo.inputs.quality`).
Modules: ``areas`` (any English education authority from the committed England extract),
``landscape`` (a study area's demand and every provider: the planner's files, the settings
list, GIAS), ``data`` (files, manifest, downloads), ``geocode`` (postcodes, any in the UK),
``providers``, ``demand``, ``quality``, ``placements`` (counts, and time in AP),
``synthetic_placements``.

Next stage: :mod:`apgeo.network` (the streets) and :mod:`apgeo.routing` (travel times).
"""
