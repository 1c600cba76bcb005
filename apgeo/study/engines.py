"""The travel-time engines of a study's modes from a network file, built only when needed.

The first study on a network file builds every mode's engine (from the processed-network
cache, or the file) and records in the study cache what identifies each one: the content
hash of its network (:func:`apgeo.study.incremental.network_hash`), its CRS, and the
warnings building it gave. The entry's key is the file's content (sha256), the modes,
the study polygon and the buffer, in the folder of the current code (its fingerprint,
:func:`apgeo._cache.code_fingerprint`): everything the engines are built
from. Later runs with the same key get :class:`~apgeo.routing.deferred.DeferredEngine`
objects instead, built only when a site's travel times or catchment are not in the study
cache, so a rerun in which nothing changed builds no engine at all. The recorded
warnings are given again, so a rerun warns as the first run did.
"""

from __future__ import annotations

import hashlib
import json
import threading
import warnings
from collections.abc import Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import shapely

from apgeo._cache import cache_key, code_folder, file_sha256, load_npz, save_npz
from apgeo._errors import ApgeoWarning
from apgeo._log import logger
from apgeo.network.modes import Mode
from apgeo.routing.deferred import DeferredEngine
from apgeo.routing.travel_times import TravelTimeEngine
from apgeo.study.incremental import network_hash, study_cache_dir
from apgeo.study.networks import engine_facts

_FORMAT = "apgeo-study-engines-1"

#: The engines last built from a network file in this process, by their study-cache entry
#: (the file's content, the modes, the study polygon and buffer, the code's folder): a
#: study run again in the same process (a notebook's ``run_study`` after a site moves)
#: takes them, and the catchment building blocks kept with them, instead of building them
#: from the cache again. One entry: the next network's engines replace it.
_KEPT: dict[Path, dict[str, TravelTimeEngine]] = {}
_KEPT_LOCK = threading.Lock()


def _keep(entry: Path, engines: dict[str, TravelTimeEngine]) -> None:
    """Keep ``engines`` as the process's last built (replacing the ones kept before)."""
    with _KEPT_LOCK:
        _KEPT.clear()
        _KEPT[entry] = dict(engines)


def _entry_path(source: Path, modes: Sequence[Mode], polygon: Any, buffer_m: float) -> Path:
    area = hashlib.sha256(shapely.to_wkb(polygon)).hexdigest() if polygon is not None else None
    key = cache_key(
        {
            "format": _FORMAT,
            "source_sha256": file_sha256(source),
            "modes": list(modes),
            "polygon": area,
            "buffer_m": float(buffer_m),
        },
        length=32,
    )
    return code_folder(study_cache_dir() / "engines", __name__) / f"{key}.npz"


def _build(source: Path, modes: Sequence[Mode], polygon: Any, buffer_m: float) -> dict[str, TravelTimeEngine]:
    from apgeo.routing.engine_arrays import load_engines

    return dict(load_engines(source, modes=list(modes), polygon=polygon, buffer_m=buffer_m))


class _BuiltTogether:
    """The deferred engines of one network file, built together: the first one needed
    builds every mode's (:func:`~apgeo.routing.engine_arrays.load_engines`, one thread
    per mode). A study's modes share their sites and areas, so a site one mode has to
    compute, every mode has to; building them at once lets the threads overlap.

    Each engine is checked against its recorded network hash: a record that no longer
    matches what this apgeo builds (code changed under the same version) is deleted, so
    the next run builds every engine and records them again. The warnings building them
    gives are not given again (they were given when the deferred engines were made)."""

    def __init__(
        self, source: Path, modes: Sequence[Mode], polygon: Any, buffer_m: float, *,
        expected_hash: dict[str, str], entry: Path,
    ) -> None:
        self.source, self.modes, self.polygon, self.buffer_m = source, list(modes), polygon, buffer_m
        self.expected_hash, self.entry = expected_hash, entry
        self._engines: dict[str, TravelTimeEngine] | None = None
        self._lock = threading.Lock()

    def engine(self, mode: Mode) -> TravelTimeEngine:
        """One mode's engine, every mode's built on the first call.

        Parameters
        ----------
        mode
            One of the group's modes.

        Returns
        -------
        TravelTimeEngine
            The mode's engine.
        """
        with self._lock:
            if self._engines is None:
                with _KEPT_LOCK:
                    kept = _KEPT.get(self.entry)
                # taken only when they are the engines recorded (their hashes are memoised)
                if kept is not None and all(
                    network_hash(kept[m]) == self.expected_hash[m] for m in self.modes
                ):
                    self._engines = kept
            if self._engines is None:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ApgeoWarning)
                    engines = _build(self.source, self.modes, self.polygon, self.buffer_m)
                for mode_ in self.modes:
                    if network_hash(engines[mode_]) != self.expected_hash[mode_]:
                        logger.warning(
                            "the %s engine of %s differs from the one recorded in the study cache; "
                            "the record %s is deleted and the next run builds every engine again",
                            mode_, self.source, self.entry,
                        )
                        self.entry.unlink(missing_ok=True)
                self._engines = engines
                _keep(self.entry, engines)
            return self._engines[mode]


def study_engines(
    source: str | Path, *, modes: Sequence[Mode], polygon: Any, buffer_m: float
) -> dict[str, TravelTimeEngine | DeferredEngine]:
    """Each mode's engine from a PBF or GraphML file: built now the first time (and
    recorded in the study cache), deferred when the study cache knows the network.

    Raises what :func:`apgeo.routing.engine_arrays.load_engines` raises.

    Parameters
    ----------
    source
        The PBF or GraphML file.
    modes
        The modes to build.
    polygon
        The study area (for clipping a PBF).
    buffer_m
        Buffer around ``polygon`` in metres.

    Returns
    -------
    dict
        Mode -> engine (or deferred engine).
    """
    path = Path(source)
    entry = _entry_path(path, modes, polygon, buffer_m)
    data = load_npz(entry)
    if data is not None and data.get("modes") is not None and data["modes"].tolist() == list(modes):
        for message in data["warnings"].tolist():
            warnings.warn(str(message), ApgeoWarning, stacklevel=3)

        recorded = data["facts"].tolist() if data.get("facts") is not None else [""] * len(modes)
        digests = [str(d) for d in data["network_hash"].tolist()]
        together = _BuiltTogether(
            path, modes, polygon, buffer_m, expected_hash=dict(zip(modes, digests, strict=True)), entry=entry
        )
        return {
            mode: DeferredEngine(
                mode, str(crs), digest, partial(together.engine, mode), facts=json.loads(facts) if facts else None
            )
            for mode, crs, digest, facts in zip(modes, data["crs"].tolist(), digests, recorded, strict=True)
        }
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        engines = _build(path, modes, polygon, buffer_m)
    given: list[str] = []
    for w in caught:  # given to the caller as they came; apgeo's own are recorded
        if issubclass(w.category, ApgeoWarning):
            given.append(str(w.message))
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, source=w.source)
    try:
        save_npz(
            entry,
            {
                "modes": np.array(list(modes), dtype=str),
                "crs": np.array([engines[m].crs for m in modes], dtype=str),
                "network_hash": np.array([network_hash(engines[m]) for m in modes], dtype=str),
                "warnings": np.array(given, dtype=str),
                "facts": np.array([json.dumps(engine_facts(engines[m])) for m in modes], dtype=str),
            },
        )
    except OSError as exc:  # a cache that cannot be written only costs time
        logger.warning("could not write the study cache entry %s: %s", entry, exc)
    _keep(entry, engines)
    return dict(engines)


__all__ = ["study_engines"]
