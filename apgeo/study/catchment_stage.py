"""The study's catchments stage, and catchments drawn while the analysis runs.

Catchment polygons depend only on the AP sites, the engines, the demand areas, the
boundary and the settings, all fixed once the travel times are made. When the engines
are built by then (some site was new or moved, or the network was read for the first
time), :class:`CatchmentsAhead` starts drawing on a background thread as the travel-time
stage ends, while coverage, cold spots and the recommendations run (mostly Python, while
the drawing is mostly GEOS, which releases the GIL: the two share a 2-core machine). The
catchments stage then collects the result. When the engines are not built (a rerun whose
catchments all come from the study cache), the stage draws in place as before.

The result is the same either way: the same code on the same inputs (copied when the
drawing starts), tables stored at the catchments stage in mode order. An error is raised
by that stage; apgeo warnings are held while drawing (:func:`apgeo._log.held_warnings`)
and given by that stage, in mode order, under the caller's warning filters.
"""

from __future__ import annotations

import contextvars
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import geopandas as gpd

from apgeo import schema as S
from apgeo._log import give_warnings, held_warnings, logger
from apgeo.routing.deferred import DeferredEngine
from apgeo.study.result import StudyResult

#: One mode's catchment polygons (``None``: none drawn) and the warnings held while drawing.
Drawn = list[tuple[gpd.GeoDataFrame | None, list[str]]]


@dataclass(frozen=True)
class _Inputs:
    """What the catchments of a study are drawn from, taken when the drawing starts."""

    ap: gpd.GeoDataFrame
    demand: gpd.GeoDataFrame
    clip: Any
    engines: dict[str, Any]
    beyond: dict[str, set[str]]
    modes: list[str]
    thresholds_min: tuple[float, ...]
    key_stages: list[str]
    circuity_factor: float


def _inputs(result: StudyResult) -> _Inputs | None:
    """The drawing's inputs (copies), ``None`` when the study has no AP site."""
    cfg = result.config
    ap = result.providers[result.providers[S.KIND].isin(result.ap_kinds)].copy()
    if ap.empty:
        return None
    modes = [m for m in result.travel_times if m != "transit"]  # no polygons for timetables
    beyond = {}
    for mode in modes:
        record = result.network_records.get(mode)
        beyond[mode] = {p["id"] for p in record.beyond_network if p["kind"] == "site"} if record else set()
    return _Inputs(
        ap=ap,
        demand=result.demand.copy(),
        clip=result.boundary.geometry.union_all(),
        engines={m: result.engines[m] for m in modes if m in result.engines},
        beyond=beyond,
        modes=modes,
        thresholds_min=tuple(cfg.thresholds_min),
        key_stages=list(cfg.key_stages),
        circuity_factor=cfg.circuity_factor,
    )


def _draw(inputs: _Inputs, mode: str) -> gpd.GeoDataFrame | None:
    """One mode's catchments: street-network polygons when the mode has an engine (only
    new or moved sites drawn), else straight-line circles clipped to the boundary."""
    from apgeo.analysis.catchments import straight_line_catchments
    from apgeo.network.modes import check_mode
    from apgeo.study.incremental import cached_catchments

    ap = inputs.ap
    engine = inputs.engines.get(mode)
    if engine is not None:
        # a site beyond the network's edge has no street catchment to draw: its
        # journeys are estimated beyond the edge (named in the network's record)
        beyond = inputs.beyond[mode]
        if beyond:
            logger.info("%s catchments: %d site(s) beyond the network's edge not drawn", mode, len(beyond))
        if ap[S.SITE_ID].isin(beyond).all():
            return None
        return cached_catchments(
            engine, ap[~ap[S.SITE_ID].isin(beyond)], thresholds_min=inputs.thresholds_min, mode=check_mode(mode),
            demand=inputs.demand, key_stages=inputs.key_stages,
        )
    return straight_line_catchments(
        ap, thresholds_min=inputs.thresholds_min, mode=check_mode(mode), circuity_factor=inputs.circuity_factor,
        demand=inputs.demand, key_stages=inputs.key_stages, clip=inputs.clip,
    )


def _draw_held(inputs: _Inputs, mode: str) -> tuple[gpd.GeoDataFrame | None, list[str]]:
    with held_warnings() as held:
        return _draw(inputs, mode), held


def _draw_all(inputs: _Inputs) -> Drawn:
    """Every mode's catchments, in mode order. The modes are independent and GEOS
    releases the GIL: one thread per mode when more than one has a street network."""
    if sum(m in inputs.engines for m in inputs.modes) > 1:
        with ThreadPoolExecutor(max_workers=len(inputs.modes)) as pool:
            # each thread in a copy of this context (the study's results cache)
            futures = [pool.submit(contextvars.copy_context().run, _draw_held, inputs, m) for m in inputs.modes]
            return [f.result() for f in futures]
    return [_draw_held(inputs, m) for m in inputs.modes]


def _store(result: StudyResult, inputs: _Inputs, drawn: Drawn) -> None:
    for mode, (polys, held) in zip(inputs.modes, drawn, strict=True):
        give_warnings(held, stacklevel=4)
        if polys is not None:
            result.tables[f"catchments_{mode}"] = polys


def compute_catchments(result: StudyResult) -> None:
    """Catchment polygons of the AP sites per mode and threshold (for display: coverage
    figures come from travel times). Street-network polygons when a network was used,
    else straight-line circles clipped to the local-authority boundary.

    Parameters
    ----------
    result
        The study so far; this stage adds ``catchments_<mode>`` tables to it.
    """
    inputs = _inputs(result)
    if inputs is not None:
        _store(result, inputs, _draw_all(inputs))


class CatchmentsAhead:
    """Catchments drawn on a background thread from the end of the travel-time stage
    (:meth:`start`) and collected by the catchments stage (:meth:`stage`); see the module
    docstring. :meth:`close` waits for a drawing still running (a study that failed
    before its catchments stage)."""

    def __init__(self) -> None:
        self._pool: ThreadPoolExecutor | None = None
        self._future: Future[Drawn] | None = None
        self._inputs: _Inputs | None = None

    def start(self, result: StudyResult) -> bool:
        """Start drawing when every street engine of the study is built (nothing to
        build on the thread); returns whether it started."""
        engines = [result.engines.get(m) for m in result.travel_times if m != "transit"]
        streets = [e for e in engines if e is not None]
        if not streets or any(isinstance(e, DeferredEngine) and not e.loaded for e in streets):
            return False
        inputs = _inputs(result)
        if inputs is None:
            return False
        self._inputs = inputs
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="apgeo-catchments")
        self._future = self._pool.submit(contextvars.copy_context().run, _draw_all, inputs)
        return True

    def stage(self, result: StudyResult) -> None:
        """The catchments stage: the drawing started ahead, else :func:`compute_catchments`."""
        if self._future is None or self._inputs is None:
            compute_catchments(result)
            return
        try:
            drawn = self._future.result()
        finally:
            self.close()
        _store(result, self._inputs, drawn)

    def close(self) -> None:
        """Wait for the drawing (if any) and let its thread go."""
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        self._pool = None
        self._future = None


__all__ = ["CatchmentsAhead", "compute_catchments"]
