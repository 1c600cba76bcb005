"""One study at a time per output folder: a lock file created atomically.

Two runs writing the same folder at once would interleave their tables, maps and
report. :func:`output_lock` creates ``<folder>/.apgeo.lock`` with ``O_EXCL`` (it fails if
the file exists) naming the process id, host and start time; a second run gets an
error naming the folder and the run holding it. A lock left by a process that has
ended (a crash, a killed terminal) is taken over with a warning. The lock is
re-entrant within one process, so the command line can take it before opening the
log and :func:`apgeo.study.pipeline.run_study` take it again.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from apgeo._log import warn
from apgeo.outputs.files import OutputFolderError, writable_folder

LOCK_NAME = ".apgeo.lock"
_HELD: dict[Path, int] = {}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by another user
        return True
    return True


def _read(lock: Path) -> dict[str, str]:
    try:
        text = lock.read_text(encoding="utf-8")
    except OSError:
        return {}
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def _create(lock: Path, label: str) -> None:
    fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        started = datetime.now(UTC).isoformat(timespec="seconds")
        fh.write(f"pid={os.getpid()}\nhost={socket.gethostname()}\nstarted={started}\nrun={label}\n")


def acquire(folder: str | Path, *, label: str = "apgeo study") -> Path:
    """Take the lock of ``folder`` (created if needed); see :func:`output_lock`.

    Parameters
    ----------
    folder
        The output folder.
    label
        Who holds the lock, named in the error another run gets.

    Returns
    -------
    Path
        The lock file; give it to :func:`release`.
    """
    root = writable_folder(folder).resolve()
    lock = root / LOCK_NAME
    if _HELD.get(lock):
        _HELD[lock] += 1
        return lock
    for _attempt in range(2):
        try:
            _create(lock, label)
            _HELD[lock] = 1
            return lock
        except FileExistsError:
            info = _read(lock)
            pid = int(info["pid"]) if info.get("pid", "").isdigit() else None
            same_host = info.get("host", socket.gethostname()) == socket.gethostname()
            who = (
                f"{info.get('run', 'another run')} (process {pid} on {info.get('host', '?')}, "
                f"started {info.get('started', '?')})"
            )
            if pid is not None and same_host and not _alive(pid):
                warn(f"{root}: taking over a stale lock left by {who}, which is no longer running", stacklevel=4)
                lock.unlink(missing_ok=True)
                continue
            raise OutputFolderError(
                f"the output folder {root} is in use by {who}; wait for it to finish or give this "
                f"study another output_dir (if no run is going, delete {lock})"
            ) from None
    raise OutputFolderError(f"could not take the lock {lock}; delete it if no study is running")  # pragma: no cover


def release(lock: Path) -> None:
    """Give the lock back (the file is removed when the outermost holder releases).

    Parameters
    ----------
    lock
        The lock file :func:`acquire` returned.
    """
    count = _HELD.get(lock, 0) - 1
    if count > 0:
        _HELD[lock] = count
        return
    _HELD.pop(lock, None)
    if _read(lock).get("pid") == str(os.getpid()):
        lock.unlink(missing_ok=True)


@contextmanager
def output_lock(folder: str | Path, *, label: str = "apgeo study") -> Iterator[Path]:
    """Hold the lock of an output folder while writing it (re-entrant in one process).

    Parameters
    ----------
    folder
        The output folder.
    label
        Who holds the lock, named in the error another run gets.

    Yields
    ------
    Path
        The lock file, held until the ``with`` block ends.
    """
    lock = acquire(folder, label=label)
    try:
        yield lock
    finally:
        release(lock)


__all__ = ["LOCK_NAME", "acquire", "output_lock", "release"]
