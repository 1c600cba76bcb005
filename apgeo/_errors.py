"""One error hierarchy for apgeo.

Every specific error subclasses :class:`ApgeoError` *and* the matching builtin, so
callers can catch either ``apgeo.ApgeoError`` or, say, ``ValueError``.
Messages name the parameter, column or file, show the bad value and say what to do.
"""

from __future__ import annotations


class ApgeoError(Exception):
    """Base class of every error apgeo raises on purpose."""


class ApgeoValueError(ApgeoError, ValueError):
    """A parameter or a value in the data is not acceptable."""


class MissingColumnError(ApgeoError, KeyError):
    """A table lacks a column apgeo needs."""

    def __str__(self) -> str:  # KeyError quotes its message; keep it readable
        return str(self.args[0]) if self.args else ""


class DataFileNotFoundError(ApgeoError, FileNotFoundError):
    """A data file is not where apgeo looked for it."""


class CRSError(ApgeoError, ValueError):
    """A GeoDataFrame has no CRS, or one that cannot be used here."""


class DuplicateIdError(ApgeoError, ValueError):
    """Ids that must be unique are repeated."""


class GeocodeError(ApgeoError, ValueError):
    """A postcode or coordinate cannot be placed."""


class NetworkError(ApgeoError, ValueError):
    """A street network is empty, corrupt, disconnected or of the wrong kind."""


class SnapError(ApgeoError, ValueError):
    """A point cannot be attached to the street network."""


class ConfigError(ApgeoError, ValueError):
    """A study configuration is invalid."""


class FetchError(ApgeoError, OSError):
    """A download failed or its content did not match the recorded hash."""


class DatabaseError(ApgeoError, OSError):
    """A database cannot be reached, refuses the login, or has no such table."""


class StudyTooLargeError(ApgeoError, MemoryError):
    """A study would need more memory than the machine (or ``[study] memory_limit_gb``) has."""


class ApgeoWarning(UserWarning):
    """A result is still valid but was affected by the input (rows kept out, points moved...)."""


__all__ = [
    "ApgeoError",
    "ApgeoValueError",
    "ApgeoWarning",
    "CRSError",
    "ConfigError",
    "DataFileNotFoundError",
    "DatabaseError",
    "DuplicateIdError",
    "FetchError",
    "GeocodeError",
    "MissingColumnError",
    "NetworkError",
    "SnapError",
    "StudyTooLargeError",
]
