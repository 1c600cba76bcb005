"""The study: one configuration file in, every table, map and report out.

Comes in: a TOML study configuration (``config``).
Goes out: a :class:`~apgeo.study.result.StudyResult` and the files it wrote, through the
stages of ``pipeline`` (inputs -> networks -> travel times -> coverage, access, cold spots
-> recommendations and scenarios -> placements -> catchments -> maps -> report).
Stages that need more room have their own modules: ``transit`` (public transport and what
it changes), ``placements`` (burden, flows, time in AP), ``comparison`` (the area against
England), ``outputs`` (tables, maps, report); ``england_run`` runs ``apgeo england`` on one
machine or a Dask cluster. ``cli`` is the ``apgeo`` command.
"""

from __future__ import annotations

from apgeo._lazy import lazy_exports

#: Public names of the subpackage, each imported from its module on first use.
_LAZY: dict[str, str] = {
    "StudyConfig": "apgeo.study.config",
    "load_config": "apgeo.study.config",
    "StudyResult": "apgeo.study.result",
    "run_study": "apgeo.study.pipeline",
    "main": "apgeo.study.cli",
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY, globals())

__all__ = sorted(_LAZY)
