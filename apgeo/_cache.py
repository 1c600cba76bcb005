"""Disk cache helpers: content hashes, cache keys and atomic ``.npz`` files.

Expensive artefacts are cached under a hash of their inputs, parameters and the apgeo
version (STYLE.md). Entries are plain numpy ``.npz`` archives read with
``allow_pickle=False``: no pickles, so a cache file can never run code. Writes are atomic
(a temporary file renamed into place), so an interrupted run leaves no half-written entry.
An unreadable entry is logged and treated as a miss; the caller rebuilds and rewrites it.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import numpy as np

from apgeo._log import logger

_CHUNK = 1 << 20


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's content (read in 1 MiB chunks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def cache_key(payload: Mapping[str, Any], *, length: int = 24) -> str:
    """Stable hex key of a JSON-serialisable mapping (keys sorted), ``length`` characters."""
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


def save_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` atomically (uncompressed ``.npz``, no object arrays)."""
    for name, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise TypeError(f"cache array {name!r} has dtype object; it would need pickle")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, **arrays)  # type: ignore[arg-type]
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load_npz(path: Path) -> dict[str, np.ndarray] | None:
    """The arrays of a cache entry, or ``None`` when it is missing or unreadable (logged)."""
    if not path.is_file():
        return None
    try:
        with open(path, "rb") as handle, np.load(handle, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except Exception as exc:  # damaged, truncated or foreign file: a miss
        logger.warning("ignoring unreadable cache entry %s (%s: %s)", path, type(exc).__name__, exc)
        return None


def array_digest(*arrays: Any) -> str:
    """Hex sha256 of arrays' dtypes, shapes and bytes (for cache keys of computed inputs)."""
    digest = hashlib.sha256()
    for value in arrays:
        arr = np.ascontiguousarray(value)
        digest.update(f"{arr.dtype.str}{arr.shape}|".encode())
        digest.update(arr.tobytes())
    return digest.hexdigest()


_RESULTS_DIR: ContextVar[Path | None] = ContextVar("apgeo_results_cache_dir", default=None)


@contextmanager
def results_cache(folder: Path | None) -> Iterator[None]:
    """Inside the block, deep computations without a ``cache_dir`` parameter of their own
    (the disclosure checks) keep their results in ``folder`` (see :func:`cached_arrays`);
    ``None``: no cache. A study run sets it to its study cache folder."""
    token = _RESULTS_DIR.set(folder)
    try:
        yield
    finally:
        _RESULTS_DIR.reset(token)


def results_cache_dir() -> Path | None:
    """The folder set by the innermost :func:`results_cache` block (``None`` outside)."""
    return _RESULTS_DIR.get()


def cached_arrays(
    folder: Path | None,
    payload: Mapping[str, Any],
    compute: Callable[[], dict[str, np.ndarray] | None],
) -> dict[str, np.ndarray] | None:
    """``compute()``, kept in ``folder`` under a key of ``payload`` and the apgeo version.

    ``payload`` must name everything the result depends on (digests of arrays, options,
    library versions). ``folder=None`` computes without the cache. A result of ``None``
    (a failed or partial computation) is returned but never cached; a cache that cannot
    be written only costs time (logged).
    """
    if folder is None:
        return compute()
    from apgeo import __version__

    path = folder / f"{cache_key({**payload, 'apgeo': __version__}, length=32)}.npz"
    found = load_npz(path)
    if found is not None:
        return found
    result = compute()
    if result is not None:
        try:
            save_npz(path, result)
        except OSError as exc:
            logger.warning("could not write the cache entry %s: %s", path, exc)
    return result


__all__ = [
    "array_digest",
    "cache_key",
    "cached_arrays",
    "file_sha256",
    "load_npz",
    "results_cache",
    "results_cache_dir",
    "save_npz",
]
