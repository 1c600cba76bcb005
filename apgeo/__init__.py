"""apgeo: geospatial provision-coverage analysis for Alternative Provision planning.

The pipeline, one subpackage per stage::

    inputs -> network -> routing -> analysis -> planning -> privacy -> outputs
                                   (study runs them all from one configuration file)

``help(apgeo.analysis)`` and the other subpackages say what comes in, what goes out and
which stage comes next. The functions a notebook needs are importable from ``apgeo``
itself (``apgeo.load_demand``, ``apgeo.coverage_summary``, ...).

Importing apgeo writes nothing, creates no folder and starts nothing.
"""

from __future__ import annotations

from apgeo._compat import install as _install_moved_paths
from apgeo._errors import (
    ApgeoError,
    ApgeoValueError,
    ApgeoWarning,
    ConfigError,
    CRSError,
    DataFileNotFoundError,
    DuplicateIdError,
    FetchError,
    GeocodeError,
    MissingColumnError,
    NetworkError,
    SnapError,
    StudyTooLargeError,
)
from apgeo._lazy import lazy_exports as _lazy_exports
from apgeo.settings import configure, get_settings

_install_moved_paths()

def _version() -> str:
    """The installed package's version (from git through setuptools-scm at install time)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("apgeo")
    except PackageNotFoundError:  # a source tree on the path, not installed
        return "0.1.0+unknown"


__version__ = _version()

#: Public functions, imported on first use so ``import apgeo`` stays light.
_LAZY: dict[str, str] = {
    "load_sheffield_providers": "apgeo.inputs.providers",
    "read_providers": "apgeo.inputs.providers",
    "split_located": "apgeo.inputs.providers",
    "filter_providers": "apgeo.inputs.providers",
    "load_demand": "apgeo.inputs.demand",
    "demand_points": "apgeo.inputs.demand",
    "aggregate_need": "apgeo.inputs.demand",
    "load_network": "apgeo.network.load",
    "load_networks": "apgeo.network.load",
    "grid_network": "apgeo.network.synthetic",
    "snap_points": "apgeo.routing.snap",
    "TravelTimeEngine": "apgeo.routing.travel_times",
    "travel_time_table": "apgeo.routing.travel_times",
    "travel_time_field": "apgeo.routing.travel_times",
    "nearest": "apgeo.routing.travel_times",
    "straight_line_travel_times": "apgeo.routing.straight_line",
    "service_areas": "apgeo.analysis.service_areas",
    "straight_line_catchments": "apgeo.analysis.catchments",
    "nearest_times": "apgeo.analysis.coverage",
    "coverage_summary": "apgeo.analysis.coverage",
    "choice_counts": "apgeo.analysis.coverage",
    "equity_table": "apgeo.analysis.coverage",
    "two_step_fca": "apgeo.analysis.access",
    "enhanced_two_step_fca": "apgeo.analysis.access",
    "access_coldspots": "apgeo.analysis.coldspots",
    "capacity_coldspots": "apgeo.analysis.coldspots",
    "gi_star_clusters": "apgeo.analysis.coldspots",
    "study_map": "apgeo.outputs.maps",
    "save_map": "apgeo.outputs.maps",
    "load_config": "apgeo.study.config",
    "run_study": "apgeo.study.pipeline",
    "fetch": "apgeo.inputs.data",
    "TransitFeed": "apgeo.routing.transit.feed",
    "TransitEngine": "apgeo.routing.transit.raptor",
    "transit_travel_time_table": "apgeo.routing.transit.travel_time_table",
    "recommend_sites": "apgeo.planning.recommend",
    "compare_scenarios": "apgeo.planning.scenarios",
    "Scenario": "apgeo.planning.scenarios",
    "load_placements": "apgeo.inputs.placements",
    "synthetic_placements": "apgeo.inputs.synthetic_placements",
}


__getattr__, __dir__ = _lazy_exports(__name__, _LAZY, globals())


__all__ = [
    "ApgeoError",
    "ApgeoValueError",
    "ApgeoWarning",
    "CRSError",
    "ConfigError",
    "DataFileNotFoundError",
    "DuplicateIdError",
    "FetchError",
    "GeocodeError",
    "MissingColumnError",
    "NetworkError",
    "SnapError",
    "StudyTooLargeError",
    "__version__",
    "configure",
    "get_settings",
]
