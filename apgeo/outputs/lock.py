"""One study at a time per output folder: a lock the operating system holds for the run.

Two runs writing the same folder at once would interleave their tables, maps and
report. :func:`output_lock` takes an exclusive lock on ``<folder>/.apgeo.lock.flock``
(``filelock``: ``flock`` on Unix, ``LockFileEx`` on Windows), in one atomic step: of two
runs starting together exactly one gets it. The operating system releases it when the
process ends, however it ends, so a crashed run leaves no lock to take over by hand and
two runs can never both take over the same stale one. Both files are removed when the run
gives the lock back. While held, ``<folder>/.apgeo.lock``
names the process id, host, start time and run, so a second run gets an error naming the
folder and the run holding it; one left by a run that ended without releasing is replaced
with a warning. The lock is re-entrant within one process, so the command line can take it
before opening the log and :func:`apgeo.study.pipeline.run_study` take it again.
"""

from __future__ import annotations

import os
import socket
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from apgeo._log import warn
from apgeo.outputs.files import OutputFolderError, writable_folder

LOCK_NAME = ".apgeo.lock"
#: The file the operating system's lock is taken on (it holds nothing; removed on release).
KERNEL_LOCK_NAME = ".apgeo.lock.flock"
_HELD: dict[Path, tuple[FileLock, int]] = {}


def _read(lock: Path) -> dict[str, str]:
    try:
        text = lock.read_text(encoding="utf-8")
    except OSError:
        return {}
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def _who(info: dict[str, str]) -> str:
    return (
        f"{info.get('run', 'another run')} (process {info.get('pid', '?')} on {info.get('host', '?')}, "
        f"started {info.get('started', '?')})"
    )


def _write(lock: Path, label: str) -> None:
    """Write the holder's description atomically (a temporary file renamed into place)."""
    started = datetime.now(UTC).isoformat(timespec="seconds")
    fd, tmp = tempfile.mkstemp(prefix=LOCK_NAME + ".", suffix=".tmp", dir=lock.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(f"pid={os.getpid()}\nhost={socket.gethostname()}\nstarted={started}\nrun={label}\n")
        os.replace(tmp, lock)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    held = _HELD.get(lock)
    if held is not None:
        _HELD[lock] = (held[0], held[1] + 1)
        return lock
    kernel = FileLock(root / KERNEL_LOCK_NAME, timeout=0, thread_local=False)
    try:
        kernel.acquire()
    except Timeout:
        raise OutputFolderError(
            f"the output folder {root} is in use by {_who(_read(lock))}; wait for it to finish "
            "or give this study another output_dir"
        ) from None
    try:
        left = _read(lock)
        if left:  # written by a run that ended without giving the lock back
            warn(f"{root}: taking over a stale lock left by {_who(left)}, which is no longer running", stacklevel=4)
        _write(lock, label)
    except BaseException:
        kernel.release()
        raise
    _HELD[lock] = (kernel, 1)
    return lock


def release(lock: Path) -> None:
    """Give the lock back (the description is removed when the outermost holder releases).

    Parameters
    ----------
    lock
        The lock file :func:`acquire` returned.
    """
    held = _HELD.get(lock)
    if held is None:
        return
    kernel, count = held
    if count > 1:
        _HELD[lock] = (kernel, count - 1)
        return
    del _HELD[lock]
    try:
        if _read(lock).get("pid") == str(os.getpid()):
            lock.unlink(missing_ok=True)
        # removed while still held: a run that opened it meanwhile finds it unlinked and
        # does not take the lock on it (filelock checks), so two runs never hold two files
        lock.with_name(KERNEL_LOCK_NAME).unlink(missing_ok=True)
    finally:
        kernel.release()


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


__all__ = ["KERNEL_LOCK_NAME", "LOCK_NAME", "acquire", "output_lock", "release"]
