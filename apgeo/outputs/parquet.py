"""GeoParquet (and plain Parquet) files that are the same bytes on every rerun.

:func:`write_parquet` writes a GeoDataFrame as GeoParquet (geopandas' ``geo`` metadata,
WKB geometry) and a DataFrame as Parquet, with the caller's key-value metadata (the
method label, apgeo's version) in the file's schema metadata. Nothing in the file depends
on the time or the machine: pyarrow stamps no date, the row order and columns are the
caller's, and the index is not written.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from pathlib import Path

import geopandas as gpd
import pandas as pd


def write_parquet(frame: pd.DataFrame, path: str | Path, *, metadata: Mapping[str, str] | None = None) -> Path:
    """Write ``frame`` to ``path`` (GeoParquet when it is a GeoDataFrame) with ``metadata``
    added to the file's key-value metadata (keys and values as UTF-8 text).

    Parameters
    ----------
    frame
        The table (a GeoDataFrame is written as GeoParquet, geometries as WKB); the index
        is not written.
    path
        The file written (zstd-compressed, with statistics).
    metadata
        Extra key-value metadata.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = Path(path)
    if isinstance(frame, gpd.GeoDataFrame):
        buffer = io.BytesIO()  # geopandas writes the GeoParquet "geo" metadata
        frame.to_parquet(buffer, index=False, geometry_encoding="WKB", write_covering_bbox=False)
        table = pq.read_table(pa.BufferReader(buffer.getvalue()))
    else:
        table = pa.Table.from_pandas(pd.DataFrame(frame), preserve_index=False)
    meta = dict(table.schema.metadata or {})
    for key, value in (metadata or {}).items():
        meta[str(key).encode("utf-8")] = str(value).encode("utf-8")
    table = table.replace_schema_metadata(meta)
    pq.write_table(table, p, compression="zstd", write_statistics=True)
    return p


def read_parquet_metadata(path: str | Path) -> dict[str, str]:
    """The key-value metadata of a Parquet file, as text.

    Parameters
    ----------
    path
        A Parquet file.

    Returns
    -------
    dict of str to str
        The file schema's metadata, decoded as UTF-8 (empty when there is none).
    """
    import pyarrow.parquet as pq

    meta = pq.read_schema(Path(path)).metadata or {}
    return {k.decode("utf-8"): v.decode("utf-8") for k, v in meta.items()}


__all__ = ["read_parquet_metadata", "write_parquet"]
