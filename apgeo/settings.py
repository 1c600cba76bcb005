"""Global settings: where data and caches live, and the working CRS.

Nothing here touches the disk at import time. Folders are created only when a
function that writes to them runs.

Environment variables override the defaults:

``APGEO_DATA_DIR``
    Folder holding the data files (default: the repository's ``data/sheffield``
    when apgeo runs from a clone, else ``./data/sheffield``). ``../shared/data``
    also works: loaders look each file up under several known names.
``APGEO_CACHE_DIR``
    Folder for downloaded networks and cached travel-time tables
    (default ``~/.cache/apgeo``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

#: British National Grid: metres, used for every distance and buffer in Great Britain.
WORKING_CRS = "EPSG:27700"
#: Longitude / latitude, used only for display (maps) and for user input in degrees.
DISPLAY_CRS = "EPSG:4326"

_REPO_ROOT = Path(__file__).resolve().parent.parent


def _default_data_dir() -> Path:
    env = os.environ.get("APGEO_DATA_DIR")
    if env:
        return Path(env).expanduser()
    in_repo = _REPO_ROOT / "data" / "sheffield"
    if in_repo.is_dir():
        return in_repo
    return Path.cwd() / "data" / "sheffield"


def _default_cache_dir() -> Path:
    env = os.environ.get("APGEO_CACHE_DIR")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "apgeo"


@dataclass(frozen=True)
class Settings:
    """Immutable settings; use :func:`configure` to change the active ones."""

    data_dir: Path = field(default_factory=_default_data_dir)
    cache_dir: Path = field(default_factory=_default_cache_dir)
    working_crs: str = WORKING_CRS
    #: Warn when a point's access leg to the street network is longer than this.
    snap_warn_distance_m: float = 500.0
    #: Refuse to snap a point farther than this from any street.
    snap_max_distance_m: float = 5_000.0
    #: Counts 1..4 are never shown (Office for National Statistics / DfE practice).
    suppression_threshold: int = 5
    #: Progress bars on long calls (``tqdm.auto``): ``False`` silences them, ``True`` always
    #: shows them, ``None`` shows them in a notebook or on a terminal only.
    progress: bool | None = None


_active = Settings()


def get_settings() -> Settings:
    """Return the active settings.

    Returns
    -------
    Settings
        The settings in force (the defaults until :func:`configure` changes them).
    """
    return _active


def configure(**changes: object) -> Settings:
    """Change the active settings, e.g. ``apgeo.configure(data_dir="../shared/data")``.

    Parameters
    ----------
    **changes
        Fields of :class:`Settings` and their new values, e.g. ``progress=False`` to
        silence the progress bars of long calls.

    Returns
    -------
    Settings
        The settings now active.
    """
    global _active
    fixed: dict[str, object] = {}
    for key, value in changes.items():
        if key not in Settings.__dataclass_fields__:
            from apgeo._errors import ApgeoValueError

            raise ApgeoValueError(
                f"unknown setting {key!r}; known settings: {sorted(Settings.__dataclass_fields__)}"
            )
        if key == "progress" and value is not None and not isinstance(value, bool):
            from apgeo._errors import ApgeoValueError

            raise ApgeoValueError(f"progress must be True, False or None; got {value!r}")
        fixed[key] = Path(value).expanduser() if key.endswith("_dir") else value  # type: ignore[arg-type]
    _active = replace(_active, **fixed)  # type: ignore[arg-type]
    return _active


def repo_root() -> Path:
    """The folder apgeo's source tree lives in (useful from a clone).

    Returns
    -------
    pathlib.Path
        The folder holding the ``apgeo`` package directory.
    """
    return _REPO_ROOT
