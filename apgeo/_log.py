"""Logging and warnings: the library never prints."""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from apgeo._errors import ApgeoError, ApgeoWarning

logger = logging.getLogger("apgeo")
logger.addHandler(logging.NullHandler())


def warn(message: str, *, strict: bool = False, stacklevel: int = 3) -> None:
    """Emit an :class:`ApgeoWarning` (or raise :class:`ApgeoError` when ``strict``)."""
    if strict:
        raise ApgeoError(f"{message} (raised because strict=True)")
    held = _HELD.get()
    if held is not None:  # work running beside the caller: given when it is collected
        held.append(message)
        return
    logger.warning(message)
    warnings.warn(message, ApgeoWarning, stacklevel=stacklevel)


#: Messages of :func:`warn` held by the innermost :func:`held_warnings` block (``None``: none).
_HELD: ContextVar[list[str] | None] = ContextVar("apgeo_held_warnings", default=None)


@contextmanager
def held_warnings() -> Iterator[list[str]]:
    """Inside the block (in this context: a thread started with a copy of it shares the
    list), :func:`warn` keeps its messages in the list yielded instead of emitting them,
    so work run on a background thread has them given by the thread that collects its
    result (:func:`give_warnings`), under that thread's warning filters and in a fixed
    order, rather than while the caller may be recording or ignoring its own."""
    held: list[str] = []
    token = _HELD.set(held)
    try:
        yield held
    finally:
        _HELD.reset(token)


def give_warnings(messages: list[str], *, stacklevel: int = 3) -> None:
    """Emit ``messages`` held by :func:`held_warnings`, in order, as :func:`warn` would have."""
    for message in messages:
        warn(message, stacklevel=stacklevel + 1)
