"""apgeo: geospatial provision-coverage analysis for Alternative Provision planning.

The pipeline, one module per stage::

    network -> snap -> travel_times -> catchments -> coverage / access / coldspots
            -> recommend -> maps / report

Importing apgeo writes nothing, creates no folder and starts nothing.
"""

from __future__ import annotations

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
)
from apgeo.settings import configure, get_settings

__version__ = "0.1.0"

#: Public functions, imported on first use so ``import apgeo`` stays light.
_LAZY: dict[str, str] = {
    "load_sheffield_providers": "apgeo.providers",
    "read_providers": "apgeo.providers",
    "split_located": "apgeo.providers",
    "filter_providers": "apgeo.providers",
    "load_demand": "apgeo.demand",
    "demand_points": "apgeo.demand",
    "aggregate_need": "apgeo.demand",
    "load_network": "apgeo.network",
    "load_networks": "apgeo.network",
    "grid_network": "apgeo.network",
    "snap_points": "apgeo.snap",
    "TravelTimeEngine": "apgeo.travel_times",
    "travel_time_table": "apgeo.travel_times",
    "travel_time_field": "apgeo.travel_times",
    "nearest": "apgeo.travel_times",
    "straight_line_travel_times": "apgeo.straight_line",
    # ``catchments`` itself is not here: the name is the submodule ``apgeo.catchments``
    "service_areas": "apgeo.catchments",
    "straight_line_catchments": "apgeo.catchments",
    "nearest_times": "apgeo.coverage",
    "coverage_summary": "apgeo.coverage",
    "choice_counts": "apgeo.coverage",
    "equity_table": "apgeo.coverage",
    "two_step_fca": "apgeo.access",
    "enhanced_two_step_fca": "apgeo.access",
    "access_coldspots": "apgeo.coldspots",
    "capacity_coldspots": "apgeo.coldspots",
    "gi_star_clusters": "apgeo.coldspots",
    "study_map": "apgeo.maps",
    "save_map": "apgeo.maps",
    "load_config": "apgeo.config",
    "run_study": "apgeo.study",
    "fetch": "apgeo.data",
    "TransitFeed": "apgeo.transit",
    "TransitEngine": "apgeo.transit",
    "transit_travel_time_table": "apgeo.transit",
    "recommend_sites": "apgeo.recommend",
    "compare_scenarios": "apgeo.scenarios",
    "Scenario": "apgeo.scenarios",
    "load_placements": "apgeo.placements",
    "synthetic_placements": "apgeo.placements",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'apgeo' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_LAZY])

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
    "__version__",
    "configure",
    "get_settings",
]
