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
