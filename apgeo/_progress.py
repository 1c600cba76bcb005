"""Progress bars for the long library calls (network build, travel times, catchments,
public transport): :func:`progress_bar`.

The bars come from ``tqdm.auto``: a widget in Jupyter (with ``ipywidgets``), text on a
terminal. ``apgeo.configure(progress=False)`` silences them, ``True`` always shows them;
the default (``None``) shows them in a notebook or on a terminal and never in a log file
or a test run. A bar closes itself when its loop ends (``leave=False``).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from typing import Any


def _in_notebook() -> bool:
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    try:
        ip = shell.get_ipython()  # type: ignore[attr-defined]
    except Exception:  # pragma: no cover - an IPython without a shell
        return False
    return ip is not None and "IPKernelApp" in getattr(ip, "config", {})


def progress_enabled() -> bool:
    """Whether apgeo's progress bars show (see :mod:`apgeo._progress`).

    Returns
    -------
    bool
        ``apgeo.configure(progress=...)`` when set, else whether a notebook or a terminal
        is there to show them.
    """
    from apgeo.settings import get_settings

    wanted = get_settings().progress
    if wanted is not None:
        return bool(wanted)
    if _in_notebook():
        return True
    err = sys.stderr
    return bool(err is not None and hasattr(err, "isatty") and err.isatty())


def progress_bar(*, total: int | None, desc: str, unit: str = "it") -> Any:
    """A ``tqdm.auto`` bar of ``total`` steps, disabled when progress is off.

    Parameters
    ----------
    total
        Number of steps (``None`` when unknown).
    desc
        What is running, e.g. ``"travel times (walk)"``.
    unit
        The step's name.

    Returns
    -------
    tqdm.tqdm
        Use it as a context manager and call ``update(n)``; a disabled bar does nothing.
    """
    enabled = progress_enabled()
    if enabled and _in_notebook():
        try:
            import ipywidgets  # noqa: F401
            from tqdm.auto import tqdm
        except ImportError:  # no widgets: text bars in the notebook
            from tqdm.std import tqdm
    else:
        from tqdm.std import tqdm
    return tqdm(total=total, desc=desc, unit=unit, disable=not enabled, leave=False, file=sys.stderr)


def progress_steps(total: int, step: int, *, desc: str, unit: str = "it") -> Iterator[int]:
    """``range(0, total, step)`` with a :func:`progress_bar` advanced by each step's size.

    Parameters
    ----------
    total
        Number of items.
    step
        Items per step.
    desc, unit
        As in :func:`progress_bar`.

    Yields
    ------
    int
        The first item of each step.
    """
    with progress_bar(total=total, desc=desc, unit=unit) as bar:
        for start in range(0, total, step):
            yield start
            bar.update(min(step, total - start))
