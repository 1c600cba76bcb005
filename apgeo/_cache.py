"""Disk cache helpers: content hashes, code fingerprints, cache keys and atomic ``.npz`` files.

Expensive artefacts are cached under a hash of their inputs and parameters, in a folder
named by the fingerprint of the code that computes them (:func:`code_fingerprint`: the
apgeo version and the source of the computing modules and of every apgeo module they
import). An apgeo whose code changed therefore never reads what an older one kept, even
under the same version number: the older folders are ignored (logged once at INFO) until
``apgeo cache clear --what stale`` removes them. Each such folder holds a ``made_by.json``
naming the version, fingerprint and modules that made it (:func:`cache_inventory`). Entries are plain numpy ``.npz`` archives read with
``allow_pickle=False``: no pickles, so a cache file can never run code. Writes are atomic
(a temporary file renamed into place), so an interrupted run leaves no half-written entry.
An unreadable entry is logged and treated as a miss; the caller rebuilds and rewrites it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from apgeo._log import logger

_CHUNK = 1 << 20
MANIFEST = "made_by.json"
_CODE_PREFIX = "code-"


#: sha256 of files already read in this process, under their identity on disk.
_FILE_DIGESTS: dict[tuple[str, int, int, int, int, int], str] = {}
#: Files at least this large also have their digest kept in the cache folder.
_KEEP_DIGEST_BYTES = 8 << 20


def file_sha256(path: str | Path) -> str:
    """Hex sha256 of a file's content (read in 1 MiB chunks).

    A file is not read again while its identity on disk is unchanged: its resolved path,
    device, inode, size and modification and change times (the change time is set by the
    system on every write, and cannot be set back). Within a process every file is
    remembered; a file of 8 MiB or more (a network extract) also has its digest kept in
    the cache folder (``file_digests``), so a study started again does not read its
    network file only to hash it (a 100 MB GraphML: 0.3 s with the file in the page
    cache, seconds without).
    """
    st = os.stat(path)
    identity = (str(Path(path).resolve()), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    found = _FILE_DIGESTS.get(identity)
    if found is not None:
        return found
    kept = _kept_digest_path(identity) if st.st_size >= _KEEP_DIGEST_BYTES else None
    if kept is not None:
        try:
            text = kept.read_text().strip()
        except OSError:
            text = ""
        if re.fullmatch(r"[0-9a-f]{64}", text):
            _FILE_DIGESTS[identity] = text
            return text
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    if len(_FILE_DIGESTS) > 1_000:
        _FILE_DIGESTS.clear()
    _FILE_DIGESTS[identity] = value = digest.hexdigest()
    if kept is not None:
        try:
            with _replaced_atomically(kept, "w") as handle:
                handle.write(value)
            mark_written(kept.parent)
        except OSError as exc:  # a digest that cannot be kept costs only time
            logger.warning("could not keep the digest of %s in %s: %s", path, kept, exc)
    return value


def _kept_digest_path(identity: tuple[object, ...]) -> Path:
    """Where the digest of a file with ``identity`` is kept (see :func:`file_sha256`)."""
    from apgeo.settings import get_settings

    name = hashlib.sha256(json.dumps(identity).encode()).hexdigest()[:32]
    return code_folder(get_settings().cache_dir / "file_digests", __name__) / f"{name}.txt"


@contextmanager
def _replaced_atomically(path: Path, mode: str) -> Iterator[Any]:
    """A handle (``mode`` ``"w"`` or ``"wb"``) on a temporary file beside ``path`` that
    replaces ``path`` once the block ends without error; on an error it is removed and
    ``path`` is left as it was. The folder is made when missing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=path.name + ".", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode) as handle:
            yield handle
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def cache_key(payload: Mapping[str, Any], *, length: int = 24) -> str:
    """Stable hex key of a JSON-serialisable mapping (keys sorted), ``length`` characters."""
    text = json.dumps(payload, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:length]


# ---- code fingerprints ------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _module_files() -> dict[str, Path]:
    """apgeo module name -> its source file (a package by its ``__init__.py``)."""
    root = Path(__file__).resolve().parent
    out: dict[str, Path] = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


_FROM_IMPORT = re.compile(r"^[ \t]*from[ \t]+(apgeo[\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n]*)", re.M)
_IMPORT = re.compile(r"^[ \t]*import[ \t]+([^\n]*)", re.M)
_LAZY_NAME = re.compile(r"[\"'](\w+)[\"']\s*:\s*[\"'](apgeo[\w.]*)[\"']")
_COMMENT = re.compile(r"#[^\n]*")


@cache
def _source(name: str) -> bytes:
    path = _module_files().get(name)
    return b"" if path is None else path.read_bytes()


@cache
def _lazy_names(name: str) -> dict[str, str]:
    """A package's lazy public names (``"name": "apgeo.module"`` pairs in its ``__init__``)."""
    path = _module_files().get(name)
    if path is None or path.name != "__init__.py":
        return {}
    known = _module_files()
    text = _source(name).decode()
    return {k: v for k, v in _LAZY_NAME.findall(text) if v in known}


@cache
def _imports(name: str) -> frozenset[str]:
    """The apgeo modules ``name`` imports anywhere in its code (inside functions too), with
    the modules behind the lazy names it takes from a package (``from apgeo import x``,
    ``apgeo.x`` after ``import apgeo``). apgeo's imports are absolute (STYLE.md)."""
    known = _module_files()
    text = _source(name).decode()
    out: set[str] = set()

    def add(module: str, attr: str | None = None) -> None:
        while module and module not in known:
            module = module.rpartition(".")[0]
        if not module:
            return
        out.add(module)
        if attr is not None:
            if f"{module}.{attr}" in known:
                out.add(f"{module}.{attr}")
            elif attr in _lazy_names(module):
                out.add(_lazy_names(module)[attr])

    for base, names in _FROM_IMPORT.findall(text):
        for item in _COMMENT.sub("", names).strip("()").split(","):
            attr = item.split(" as ")[0].strip()
            if attr:
                add(base, attr)
    bound: dict[str, str] = {}  # local name -> module, for ``import apgeo`` then ``apgeo.x``
    for line in _IMPORT.findall(text):
        for item in _COMMENT.sub("", line).split(","):
            module, _, alias = item.strip().partition(" as ")
            if module.split(".")[0] == "apgeo":
                add(module)
                bound[alias.strip() or "apgeo"] = module if alias.strip() else "apgeo"
    for local, module in bound.items():
        for attr in re.findall(rf"\b{re.escape(local)}\.(\w+)", text):
            add(module, attr)
    return frozenset(out)


def _closure(roots: Sequence[str]) -> list[str]:
    """``roots`` (a package stands for all its modules), every apgeo module they import,
    directly or not, and the packages above each one (their ``__init__`` runs too)."""
    known = _module_files()
    todo = [m for m in known for r in roots if m == r or m.startswith(r + ".")]
    seen: set[str] = set()
    while todo:
        module = todo.pop()
        if module in seen:
            continue
        seen.add(module)
        todo.extend(_imports(module))
        parent = module.rpartition(".")[0]
        while parent:
            todo.append(parent)
            parent = parent.rpartition(".")[0]
    return sorted(seen)


_FINGERPRINTS: dict[tuple[str, ...], str] = {}
_FINGERPRINT_LOCK = threading.Lock()


def code_fingerprint(*modules: str) -> str:
    """Fingerprint of the code that computes a cached thing: a hash of the apgeo version and
    the source of ``modules`` (module or subpackage names, e.g. ``"apgeo.network"``; none:
    the whole package) and of every apgeo module they import, directly or not (imports
    inside functions and lazy public names included). Any change to that code gives a new
    fingerprint, so cached results of other code are never read. Computed once per process
    (about 0.1 s for the whole package)."""
    from apgeo import __version__

    roots = tuple(sorted(set(modules))) or ("apgeo",)
    with _FINGERPRINT_LOCK:
        found = _FINGERPRINTS.get(roots)
        if found is None:
            digest = hashlib.sha256(f"apgeo {__version__}\n".encode())
            for module in _closure(roots):
                source = _source(module)
                digest.update(f"{module} {len(source)}\n".encode())
                digest.update(source)
            found = _FINGERPRINTS[roots] = digest.hexdigest()[:16]
    return found


_PENDING: dict[Path, dict[str, Any]] = {}
_STALE_LOGGED: set[Path] = set()


def code_folder(folder: Path, *modules: str) -> Path:
    """The folder, inside ``folder``, of the entries computed by the current code of
    ``modules`` (see :func:`code_fingerprint`). Its ``made_by.json`` (version, fingerprint,
    modules) is written with the first entry (:func:`save_npz`, :func:`mark_written`).
    Entries of other code beside it are ignored; the first look in a process logs them at
    INFO."""
    from apgeo import __version__

    fingerprint = code_fingerprint(*modules)
    path = Path(folder) / f"{_CODE_PREFIX}{fingerprint}"
    with _FINGERPRINT_LOCK:
        if path not in _PENDING:
            _PENDING[path] = {
                "apgeo": __version__,
                "code": fingerprint,
                "modules": sorted(set(modules)) or ["apgeo"],
            }
            if Path(folder).is_dir():
                stale = [p for p in Path(folder).iterdir() if p != path and p.name != MANIFEST]
                if stale and path not in _STALE_LOGGED:
                    _STALE_LOGGED.add(path)
                    logger.info(
                        "ignoring %d cache item(s) in %s made by other apgeo code (this code: %s); "
                        "`apgeo cache clear --what stale` removes them",
                        len(stale), folder, fingerprint,
                    )
    return path


def mark_written(folder: Path) -> None:
    """Write ``folder``'s ``made_by.json`` if :func:`code_folder` made it and it has none."""
    manifest = _PENDING.get(folder)
    target = folder / MANIFEST
    if manifest is None or target.is_file():
        return
    with _replaced_atomically(target, "w") as handle:
        json.dump(manifest, handle, indent=1, sort_keys=True)


@dataclass(frozen=True)
class CacheGroup:
    """One kind of kept result made by one code (see :func:`cache_inventory`).

    ``kind``: its folder inside the cache folder (``"networks"``, ``"study/travel_times"``,
    ...; ``"data"``: fetched source files, which depend on no code). ``apgeo_version`` and
    ``code``: what made it (``None``: unknown, an entry made before code fingerprints).
    ``stale``: made by other code than this apgeo's, so never read. ``paths``: what to
    delete to remove the group."""

    kind: str
    entries: int
    size_bytes: int
    apgeo_version: str | None
    code: str | None
    modules: tuple[str, ...]
    stale: bool
    paths: tuple[Path, ...]


def _read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        found = json.loads((folder / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return found if isinstance(found, dict) else None


def cache_inventory(root: Path | None = None) -> list[CacheGroup]:
    """What the cache folder (default ``get_settings().cache_dir``) keeps: one group per kind
    of entry and code that made it, with the count, size, version and fingerprint, and
    whether it is stale (made by other code, so ignored). Entries outside a code folder
    (from an apgeo before code fingerprints) are stale, except the fetched data files."""
    from apgeo.settings import get_settings

    root = Path(root) if root is not None else get_settings().cache_dir
    groups: list[CacheGroup] = []
    loose: dict[Path, list[Path]] = {}
    if not root.is_dir():
        return groups
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        dirnames.sort()
        if here == root / "data" or MANIFEST in filenames or here.name.startswith(_CODE_PREFIX):
            files = [p for p in here.rglob("*") if p.is_file() and p.name != MANIFEST]
            dirnames[:] = []
            modules: tuple[str, ...] = ()
            if here == root / "data":
                version, code, stale = None, None, False
            else:
                made = _read_manifest(here) or {}
                version, code = made.get("apgeo"), made.get("code")
                modules = tuple(str(m) for m in made.get("modules", ()))
                stale = code is None or code_fingerprint(*modules) != code
            kind = (here if here == root / "data" else here.parent).relative_to(root).as_posix()
            groups.append(
                CacheGroup(
                    kind=kind,
                    entries=len(files),
                    size_bytes=sum(p.stat().st_size for p in files),
                    apgeo_version=None if version is None else str(version),
                    code=None if code is None else str(code),
                    modules=modules,
                    stale=stale,
                    paths=(here,),
                )
            )
            continue
        files = [here / f for f in sorted(filenames)]
        if files:
            loose[here] = files
    for here, files in loose.items():
        groups.append(
            CacheGroup(
                kind=here.relative_to(root).as_posix(),
                entries=len(files),
                size_bytes=sum(p.stat().st_size for p in files),
                apgeo_version=None,
                code=None,
                modules=(),
                stale=True,
                paths=tuple(files),
            )
        )
    return sorted(groups, key=lambda g: (g.kind, g.stale, g.code or ""))


def save_npz(path: Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` atomically (uncompressed ``.npz``, no object arrays)."""
    for name, value in arrays.items():
        if np.asarray(value).dtype == object:
            raise TypeError(f"cache array {name!r} has dtype object; it would need pickle")
    with _replaced_atomically(path, "wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]
    mark_written(path.parent)


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
    *,
    code: Sequence[str] = (),
) -> dict[str, np.ndarray] | None:
    """``compute()``, kept in ``folder`` under a key of ``payload``, in the folder of the
    code that computes it (:func:`code_folder` of the modules ``code``, e.g. the caller's
    ``__name__``; empty: the whole package).

    ``payload`` must name everything the result depends on (digests of arrays, options,
    library versions). ``folder=None`` computes without the cache. A result of ``None``
    (a failed or partial computation) is returned but never cached; a cache that cannot
    be written only costs time (logged).
    """
    if folder is None:
        return compute()
    path = code_folder(folder, *code) / f"{cache_key(payload, length=32)}.npz"
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
    "MANIFEST",
    "CacheGroup",
    "array_digest",
    "cache_inventory",
    "cache_key",
    "cached_arrays",
    "code_fingerprint",
    "code_folder",
    "file_sha256",
    "load_npz",
    "mark_written",
    "results_cache",
    "results_cache_dir",
    "save_npz",
]
