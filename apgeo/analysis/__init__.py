"""Stage 4, analysis: who can reach what, and where access is poor.

Comes in: the travel-time seam (:mod:`apgeo.routing`), demand areas and providers
(:mod:`apgeo.inputs`).
Goes out: nearest times and coverage shares by threshold, key stage and deprivation
(``coverage``); capacity-aware access, 2SFCA / E2SFCA (``access``); access and capacity
cold spots and Gi* clusters (``coldspots``); catchment polygons (``catchments``,
``catchment_geometry``) and service areas (``service_areas``); the travel burden and
flows of placements (``burden``, ``flows``); time in AP and return to mainstream
(``time_in_ap``); every English authority compared (``england``, straight line;
``england_networks``, one street-network task per authority). ``tables`` prepares the
aligned arrays all of them share.

Next stage: :mod:`apgeo.planning` (where new places should go), then
:mod:`apgeo.privacy` and :mod:`apgeo.outputs`.
"""
