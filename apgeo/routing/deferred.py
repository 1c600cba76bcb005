"""A travel-time engine built on first use (:class:`DeferredEngine`).

Building a city's engines from the processed-network cache takes seconds per mode (the
CSR matrix, the snap index, the edge geometry). A study rerun whose per-site travel times
and catchments all come from its cache (:mod:`apgeo.study.incremental`) needs none of
that: it needs only what identifies the network (its content hash, mode and CRS). A
:class:`DeferredEngine` carries those and builds the engine only when something has to
be computed on it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from apgeo.routing.travel_times import TravelTimeEngine


class DeferredEngine:
    """A :class:`~apgeo.routing.travel_times.TravelTimeEngine` known by its network's
    content hash, built by ``build`` the first time :meth:`load` is called.

    Attributes
    ----------
    mode, crs
        As the engine's.
    network_hash
        The content hash of the engine's network
        (:func:`apgeo.study.incremental.network_hash` of the built engine).
    facts
        What was recorded of the built engine (nodes and edges kept, its extent, ...:
        :func:`apgeo.study.networks.engine_facts`), so it can be reported unbuilt.
    """

    def __init__(
        self,
        mode: str,
        crs: str,
        network_hash: str,
        build: Callable[[], TravelTimeEngine],
        facts: Mapping[str, Any] | None = None,
    ) -> None:
        self.mode = mode
        self.crs = crs
        self.network_hash = network_hash
        self.facts: dict[str, Any] = dict(facts or {})
        self._build: Callable[[], TravelTimeEngine] | None = build
        self._engine: TravelTimeEngine | None = None
        self._lock = threading.Lock()  # threads asking at once get the one engine

    @property
    def loaded(self) -> bool:
        """Whether the engine has been built."""
        return self._engine is not None

    def load(self) -> TravelTimeEngine:
        """The engine, built on the first call.

        Returns
        -------
        TravelTimeEngine
            The built engine (the same object on every call).
        """
        with self._lock:
            if self._engine is None:
                assert self._build is not None
                self._engine = self._build()
                self._build = None  # what it held (paths, polygons) is no longer needed
            return self._engine

    def __repr__(self) -> str:
        state = "built" if self.loaded else "not built yet"
        return f"DeferredEngine(mode={self.mode!r}, crs={self.crs!r}, network {self.network_hash[:12]}, {state})"


def resolve_engine(engine: TravelTimeEngine | DeferredEngine) -> TravelTimeEngine:
    """The engine itself: ``engine`` built when it is deferred.

    Parameters
    ----------
    engine
        An engine or a deferred one.

    Returns
    -------
    TravelTimeEngine
        The built engine.
    """
    return engine.load() if isinstance(engine, DeferredEngine) else engine


__all__ = ["DeferredEngine", "resolve_engine"]
