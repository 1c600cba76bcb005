"""Stage 5, planning: where new provision should go, and what changes if it does.

Comes in: the travel-time seam, need per demand area (key stage and deprivation), the
existing sites (fixed open) and candidate sites.
Goes out: recommended sites with an explained table (children newly within reach,
time changes, cold spots resolved, a sentence saying why), and scenarios side by side.
Modules: ``candidates`` (GIAS schools, the planners' list, clusters of need),
``models/`` (MCLP, p-median and their capacitated forms, exact by their own branch and
bound or with HiGHS or CBC, or lazy greedy with a certified gap), ``instance`` (a model
built from study tables), ``explain`` and ``recommend`` (the explained table), ``export`` (CSV, GeoPackage,
Markdown), ``scenarios`` (add, close, move, resize sites).

Next stage: :mod:`apgeo.outputs`.
"""
