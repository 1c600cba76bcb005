"""Old flat module paths (``apgeo.recommend``, ``apgeo.coverage``, ...) kept for one release.

apgeo 0.2 moved its modules into subpackages by pipeline stage. Code that imports from an
old path (``from apgeo.recommend import recommend_sites``) still works for this release, with
a :class:`DeprecationWarning` naming the new home. Names importable from ``apgeo`` itself
(``apgeo.recommend_sites``) are unaffected. ``apgeo.network``, ``apgeo.privacy`` and
``apgeo.study`` are the subpackages themselves and export the same public names as before.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import types
import warnings
from typing import Any

#: old module path -> the modules its public names now live in, searched in order.
MOVED: dict[str, tuple[str, ...]] = {
    "apgeo.data": ("apgeo.inputs.data",),
    "apgeo.geocode": ("apgeo.inputs.geocode",),
    "apgeo.providers": ("apgeo.inputs.providers",),
    "apgeo.demand": ("apgeo.inputs.demand",),
    "apgeo.quality": ("apgeo.inputs.quality",),
    "apgeo.placements": (
        "apgeo.inputs.placements",
        "apgeo.inputs.synthetic_placements",
        "apgeo.analysis.burden",
        "apgeo.analysis.flows",
        "apgeo.privacy.disclosure",
        "apgeo.privacy.publish",
    ),
    "apgeo.snap": ("apgeo.routing.snap",),
    "apgeo.travel_times": ("apgeo.routing.travel_times",),
    "apgeo.straight_line": ("apgeo.routing.straight_line",),
    "apgeo.transit": (
        "apgeo.routing.transit.feed",
        "apgeo.routing.transit.raptor",
        "apgeo.routing.transit.travel_time_table",
    ),
    "apgeo.catchments": (
        "apgeo.analysis.catchments",
        "apgeo.analysis.service_areas",
        "apgeo.analysis.catchment_geometry",
    ),
    "apgeo.coverage": ("apgeo.analysis.coverage", "apgeo.analysis.tables"),
    "apgeo.access": ("apgeo.analysis.access",),
    "apgeo.coldspots": ("apgeo.analysis.coldspots",),
    "apgeo.recommend": (
        "apgeo.planning.recommend",
        "apgeo.planning.explain",
        "apgeo.planning.export",
        "apgeo.planning.candidates",
        "apgeo.planning.instance",
        "apgeo.planning.models.mclp",
        "apgeo.planning.models.pmedian",
        "apgeo.planning.models.capacitated",
        "apgeo.planning.models.base",
    ),
    "apgeo.scenarios": ("apgeo.planning.scenarios",),
    "apgeo.maps": ("apgeo.outputs.maps", "apgeo.outputs.map_layers", "apgeo.outputs.flow_map"),
    "apgeo.figures": ("apgeo.outputs.figures",),
    "apgeo.report": ("apgeo.outputs.report",),
    "apgeo.config": ("apgeo.study.config",),
    "apgeo.cli": ("apgeo.study.cli",),
}


class _MovedModule(types.ModuleType):
    """An old module path: each attribute is looked up in the new modules."""

    _targets: tuple[str, ...] = ()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        for target in self._targets:
            module = importlib.import_module(target)
            if hasattr(module, name):
                return getattr(module, name)
        raise AttributeError(
            f"module {self.__name__!r} (moved to {', '.join(self._targets)}) has no attribute {name!r}"
        )


class _MovedFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(
        self, fullname: str, path: Any = None, target: Any = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname in MOVED:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = _MovedModule(spec.name)
        module._targets = MOVED[spec.name]
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        warnings.warn(
            f"{module.__name__} moved to {MOVED[module.__name__][0]} in apgeo 0.2 (see the README's "
            "'What is in the box'); import from there or from apgeo itself. The old path goes "
            "in the next release.",
            DeprecationWarning,
            stacklevel=2,
        )


def install() -> None:
    """Make the old module paths importable (idempotent)."""
    if not any(isinstance(f, _MovedFinder) for f in sys.meta_path):
        sys.meta_path.append(_MovedFinder())
