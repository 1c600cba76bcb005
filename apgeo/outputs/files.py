"""Writing output files: folders that can be written, GeoPackages identical across reruns."""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd

from apgeo._errors import ApgeoError

#: The creation / modification time written into every GeoPackage apgeo makes, so the
#: same study gives byte-identical files (GDAL otherwise stamps the current time).
GPKG_TIMESTAMP = "2025-01-01T00:00:00.000Z"


def relative_link(target: str | Path, folder: str | Path) -> str:
    """The link, written in a file in ``folder``, that opens ``target``: the relative path
    between the two real locations (both made absolute first), with ``/`` separators and
    percent-encoded for Markdown and HTML; a ``file:`` URI when there is none (another
    drive on Windows). Wherever the two folders are, nested or absolute, the link works."""
    to, start = os.path.abspath(target), os.path.abspath(folder)
    try:
        rel = os.path.relpath(to, start)
    except ValueError:  # pragma: no cover - Windows, another drive
        return Path(to).as_uri()
    return urllib.parse.quote(Path(rel).as_posix())


class OutputFolderError(ApgeoError, OSError):
    """An output folder cannot be created or written, or another run is writing it."""


@contextmanager
def fixed_gdal_date(value: str = GPKG_TIMESTAMP) -> Iterator[None]:
    """Set GDAL's ``OGR_CURRENT_DATE`` while writing (restored afterwards)."""
    import pyogrio

    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": value})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def write_gpkg(frame: gpd.GeoDataFrame, path: str | Path, *, layer: str) -> Path:
    """Write ``frame`` as ``layer`` of the GeoPackage ``path`` (added to the file when it
    exists) with a fixed timestamp: a rerun of the same study gives the same bytes."""
    p = Path(path)
    with fixed_gdal_date():
        frame.to_file(p, layer=layer, driver="GPKG")
    return p


def writable_folder(folder: str | Path, *, what: str = "output folder") -> Path:
    """Create ``folder`` if needed and check a file can be written in it, or raise
    :class:`OutputFolderError` naming the folder and the fix (one line, no traceback)."""
    p = Path(folder).expanduser()
    try:
        p.mkdir(parents=True, exist_ok=True)
        probe = p / f".apgeo-write-test-{os.getpid()}"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise OutputFolderError(
            f"cannot write to the {what} {p} ({reason}); choose a folder you can write to "
            "(output_dir / maps_dir in the study config) or fix its permissions"
        ) from None
    return p


__all__ = ["GPKG_TIMESTAMP", "OutputFolderError", "fixed_gdal_date", "relative_link", "writable_folder", "write_gpkg"]
