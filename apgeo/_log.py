"""Logging and warnings: the library never prints."""

from __future__ import annotations

import logging
import warnings

from apgeo._errors import ApgeoError, ApgeoWarning

logger = logging.getLogger("apgeo")
logger.addHandler(logging.NullHandler())


def warn(message: str, *, strict: bool = False, stacklevel: int = 3) -> None:
    """Emit an :class:`ApgeoWarning` (or raise :class:`ApgeoError` when ``strict``)."""
    if strict:
        raise ApgeoError(f"{message} (raised because strict=True)")
    logger.warning(message)
    warnings.warn(message, ApgeoWarning, stacklevel=stacklevel)
