"""Writing output files: folders that can be written, GeoPackages identical across reruns."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import geopandas as gpd

from apgeo._errors import ApgeoError

#: The creation / modification time written into every GeoPackage apgeo makes, so the
#: same study gives byte-identical files (GDAL otherwise stamps the current time).
GPKG_TIMESTAMP = "2025-01-01T00:00:00.000Z"


class OutputFolderError(ApgeoError, OSError):
    """An output folder cannot be created or written, or another run is writing it."""


@contextmanager
def fixed_gdal_date(value: str = GPKG_TIMESTAMP) -> Iterator[None]:
    """Set GDAL's ``OGR_CURRENT_DATE`` while writing (restored afterwards).

    Parameters
    ----------
    value
        The timestamp GDAL writes into GeoPackage metadata.

    Yields
    ------
    None
        Inside the ``with`` block the date is fixed.
    """
    import pyogrio

    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": value})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def write_gpkg(frame: gpd.GeoDataFrame, path: str | Path, *, layer: str) -> Path:
    """Write ``frame`` as ``layer`` of the GeoPackage ``path`` (added to the file when it
    exists) with a fixed timestamp: a rerun of the same study gives the same bytes.

    Parameters
    ----------
    frame
        The table to write.
    path
        The ``.gpkg`` file.
    layer
        The layer name.

    Returns
    -------
    Path
        The file written.
    """
    p = Path(path)
    with fixed_gdal_date():
        frame.to_file(p, layer=layer, driver="GPKG")
    return p


def writable_folder(folder: str | Path, *, what: str = "output folder") -> Path:
    """Create ``folder`` if needed and check a file can be written in it, or raise
    :class:`OutputFolderError` naming the folder and the fix (one line, no traceback).

    Parameters
    ----------
    folder
        The folder.
    what
        What the folder is for, named in the error.

    Returns
    -------
    Path
        The folder, ready to write to.
    """
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


__all__ = ["GPKG_TIMESTAMP", "OutputFolderError", "fixed_gdal_date", "writable_folder", "write_gpkg"]
