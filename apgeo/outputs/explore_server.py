"""Serve the explore page locally (``apgeo explore``): voila renders the explore widget.

A one-cell notebook (``explore(config)``, :mod:`apgeo.outputs.explore_page`) is written to
a temporary folder and voila serves it on the loopback address. With a preheated kernel the
study is loaded once, before the first visit, and stays warm; every asset the page needs
(voila's page, the widget manager, jupyter-leaflet with Leaflet) comes from installed
packages, so the page works offline.

Stopping ``apgeo explore`` stops the page's server and its kernels with it: Ctrl-C, or a
SIGTERM / SIGHUP to the ``apgeo`` process (a service manager, ``kill``, a closed terminal),
is passed on to voila, which shuts its kernels down before it exits; apgeo waits for it.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from types import FrameType

from apgeo._errors import ApgeoValueError
from apgeo.study.config import StudyConfig

#: The notebook voila renders (one cell: the widget).
NOTEBOOK_NAME = "apgeo_explore.ipynb"


def explore_notebook(config_path: Path) -> dict[str, object]:
    """The one-cell notebook that shows the explore widget of ``config_path``.

    Parameters
    ----------
    config_path
        The study's TOML config (its absolute path is written into the cell).

    Returns
    -------
    dict
        The notebook as nbformat 4 JSON data.
    """
    source = (
        "from apgeo.outputs.explore_page import explore\n"
        f"explore({str(Path(config_path).resolve())!r})"
    )
    return {
        "cells": [{"cell_type": "code", "execution_count": None, "id": "explore", "metadata": {},
                   "outputs": [], "source": source}],
        "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
                     "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


def voila_command(notebook: Path, *, port: int, open_browser: bool) -> list[str]:
    """The voila command line serving ``notebook`` on 127.0.0.1:``port``.

    Parameters
    ----------
    notebook
        The notebook to serve.
    port
        Local port.
    open_browser
        Without it, ``--no-browser`` is added.

    Returns
    -------
    list of str
        The command's arguments, starting with this Python.
    """
    cmd = [
        sys.executable, "-m", "voila", str(notebook), f"--port={port}", "--Voila.ip=127.0.0.1",
        "--theme=light", "--show_tracebacks=True",
        # the study loads in a kernel started before the first visit, and stays warm
        "--preheat_kernel=True", "--pool_size=1",
    ]
    if not open_browser:
        cmd.append("--no-browser")
    return cmd


def serve_explore(config: StudyConfig, *, port: int = 8866, open_browser: bool = True) -> int:
    """Serve the explore page of ``config`` until interrupted; returns voila's exit status.

    Parameters
    ----------
    config
        A study config loaded from a file.
    port
        Local port to serve on (1-65535).
    open_browser
        Open the page in a browser.

    Returns
    -------
    int
        voila's exit status; 130 when interrupted with Ctrl-C.
    """
    try:
        import ipyleaflet  # noqa: F401
        import voila  # noqa: F401
    except ImportError as exc:
        raise ApgeoValueError(
            f"apgeo explore needs voila and ipyleaflet ({exc}): pip install 'apgeo[explore]'"
        ) from None
    if config.config_path is None:
        raise ApgeoValueError("apgeo explore needs a study config file (load_config(path))")
    if not 0 < port < 65536:
        raise ApgeoValueError(f"--port {port}: give a port number between 1 and 65535")
    with tempfile.TemporaryDirectory(prefix="apgeo-explore-") as folder:
        notebook = Path(folder) / NOTEBOOK_NAME
        notebook.write_text(json.dumps(explore_notebook(config.config_path), indent=1), encoding="utf-8")
        print(f"apgeo explore: {config.name} at http://127.0.0.1:{port}/ (Ctrl-C to stop)", file=sys.stderr)
        server = subprocess.Popen(voila_command(notebook, port=port, open_browser=open_browser), cwd=folder)
        with _StopsPassedOn(server):
            try:
                return server.wait()
            except KeyboardInterrupt:
                return 130
            finally:
                _stop(server)


#: Signals that stop ``apgeo explore`` and are passed on to voila.
STOP_SIGNALS = (signal.SIGTERM, signal.SIGHUP) if hasattr(signal, "SIGHUP") else (signal.SIGTERM,)


class _StopsPassedOn:
    """Within the block, a stop signal to this process is sent on to ``server`` (which
    then shuts its kernels down and exits, ending ``server.wait()``); the handlers before
    are restored after. Outside the main thread signals cannot be caught: nothing is done."""

    def __init__(self, server: subprocess.Popen[bytes]) -> None:
        self.server = server
        self.previous: dict[int, object] = {}

    def _pass_on(self, signum: int, frame: FrameType | None) -> None:
        if self.server.poll() is None:
            self.server.send_signal(signum)

    def __enter__(self) -> None:
        if threading.current_thread() is threading.main_thread():
            for sig in STOP_SIGNALS:
                self.previous[sig] = signal.signal(sig, self._pass_on)

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self.previous.items():
            signal.signal(sig, handler)  # type: ignore[arg-type]


def _stop(server: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    """Stop voila if it still runs: SIGTERM (it shuts its kernels down), then SIGKILL."""
    if server.poll() is None:
        server.terminate()
    try:
        server.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


__all__ = ["NOTEBOOK_NAME", "explore_notebook", "serve_explore", "voila_command"]
