"""Stop coordinates for TransXChange: from the file's own stop points, else a NaPTAN stops
table (inside the zip or given); stops found in none are listed (and left out of routing).
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from apgeo._errors import DataFileNotFoundError, MissingColumnError
from apgeo._validate import decode_text
from apgeo.routing.transit.txc_file import _Source

if TYPE_CHECKING:
    from apgeo.routing.transit.txc import _Tables

# ---- stops --------------------------------------------------------------------------------

_ID_COLUMNS = ("ATCOCode", "AtcoCode", "atco_code", "atcocode", "stop_id", "id")
_LONLAT_COLUMNS = (
    ("Longitude", "Latitude"),
    ("longitude", "latitude"),
    ("stop_lon", "stop_lat"),
    ("lon", "lat"),
    ("lng", "lat"),
)
_EN_COLUMNS = (("Easting", "Northing"), ("easting", "northing"))


def _stop_lookup(table: pd.DataFrame, source: str) -> pd.DataFrame:
    """``stop_id, stop_name, stop_lon, stop_lat`` (degrees) from a NaPTAN-like table."""
    id_col = next((c for c in _ID_COLUMNS if c in table.columns), None)
    if id_col is None:
        raise MissingColumnError(
            f"{source}: no stop id column; expected one of {', '.join(_ID_COLUMNS)} "
            f"(found {', '.join(map(str, table.columns[:15]))})"
        )
    ids = table[id_col].astype(str).str.strip()
    name = pd.Series(ids.to_numpy(), index=table.index)
    for col in ("CommonName", "name", "stop_name"):
        if col in table.columns:
            name = table[col].fillna("").astype(str).str.strip()
            if "Indicator" in table.columns:
                ind = table["Indicator"].fillna("").astype(str).str.strip()
                has = [i != "" and not n.endswith(i) for n, i in zip(name, ind, strict=True)]
                name = name.where(~pd.Series(has, index=name.index), name + " " + ind)
            break
    lon = lat = None
    for x, y in _LONLAT_COLUMNS:
        if x in table.columns and y in table.columns:
            lon = pd.to_numeric(table[x], errors="coerce")
            lat = pd.to_numeric(table[y], errors="coerce")
            break
    for x, y in _EN_COLUMNS:
        if x in table.columns and y in table.columns:
            east = pd.to_numeric(table[x], errors="coerce")
            north = pd.to_numeric(table[y], errors="coerce")
            need = (
                (lon.isna() | lat.isna())
                if lon is not None and lat is not None
                else pd.Series(True, index=table.index)
            )
            if need.any():
                from pyproj import Transformer

                tr = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
                ex, ny = tr.transform(east.to_numpy(float), north.to_numpy(float))
                if lon is None or lat is None:
                    lon = pd.Series(ex, index=table.index)
                    lat = pd.Series(ny, index=table.index)
                else:
                    lon = lon.where(~need, pd.Series(ex, index=table.index))
                    lat = lat.where(~need, pd.Series(ny, index=table.index))
            break
    if lon is None or lat is None:
        raise MissingColumnError(
            f"{source}: no coordinate columns; expected Longitude/Latitude (or lon/lat, "
            "stop_lon/stop_lat) or Easting/Northing"
        )
    out = pd.DataFrame(
        {"stop_id": ids, "stop_name": name, "stop_lon": lon, "stop_lat": lat}
    ).dropna(subset=["stop_lon", "stop_lat"])
    return out.drop_duplicates("stop_id").set_index("stop_id")


def _read_stop_table(stops: pd.DataFrame | str | Path, label: str) -> pd.DataFrame:
    if isinstance(stops, pd.DataFrame):
        return _stop_lookup(stops, label)
    p = Path(stops).expanduser()
    if not p.is_file():
        raise DataFileNotFoundError(
            f"stops={stops!r}: no file there; pass a NaPTAN stops CSV (ATCOCode, Longitude, "
            "Latitude) or a DataFrame"
        )
    return _stop_lookup(_csv(p.read_bytes(), str(p)), str(p))


def _csv(raw: bytes, source: str) -> pd.DataFrame:
    text = decode_text(raw, source)
    return pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_values=[""])


def _stops_table(
    out: _Tables, used: Iterable[str], stops: pd.DataFrame | None, naptan: _Source | None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The located stops (GTFS ``stops``) and the stops without coordinates
    (``stop_id, stop_name, file, stop_times``)."""
    from pyproj import Transformer

    calls = pd.Series(used if isinstance(used, pd.Series) else list(used)).value_counts()
    used = sorted(map(str, calls.index))
    rows: dict[str, tuple[str, float, float]] = {}
    bng = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)
    for code in used:
        if code in out.stop_coords:
            x, y, crs = out.stop_coords[code]
            if crs != "EPSG:4326":
                x, y = bng.transform(x, y)
            rows[code] = (out.stop_names.get(code, code), float(x), float(y))
    lookups: list[pd.DataFrame] = []
    if stops is not None:
        lookups.append(stops)
    missing = [c for c in used if c not in rows]
    if missing and naptan is not None:
        lookups.append(_stop_lookup(_csv(naptan.raw, naptan.name), naptan.name))
    for lookup in lookups:
        found = lookup.loc[lookup.index.isin([c for c in used if c not in rows])]
        for code, name, lon, lat in zip(
            found.index, found["stop_name"], found["stop_lon"], found["stop_lat"], strict=True
        ):
            rows[str(code)] = (str(name) or out.stop_names.get(code, code), float(lon), float(lat))
    missing = [c for c in used if c not in rows]
    unlocated = pd.DataFrame(
        {
            "stop_id": missing,
            "stop_name": [out.stop_names.get(c, c) for c in missing],
            "file": [out.stop_files.get(c, "") for c in missing],
            "stop_times": [int(calls.get(c, 0)) for c in missing],
        }
    )
    stops_df = pd.DataFrame(
        {
            "stop_id": list(rows),
            "stop_name": [v[0] for v in rows.values()],
            "stop_lat": [f"{v[2]:.8f}" for v in rows.values()],
            "stop_lon": [f"{v[1]:.8f}" for v in rows.values()],
        }
    )
    return stops_df, unlocated
