"""UK postcodes to British National Grid coordinates (and LSOA 2011 codes).

Sources, in order: OS Code-Point Open (live postcodes), then the ONS Postcode
Directory (NSPD, which keeps terminated postcodes). The ONS May 2022 lookup gives
the LSOA 2011 code and whether a postcode was terminated. Postcodes are normalised
(upper case, one space before the inward code) before lookup.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from apgeo._validate import read_csv, row_numbers
from apgeo.inputs.data import data_path

_POSTCODE_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")

#: Values of the ``postcode_status`` column.
LIVE, TERMINATED, UNKNOWN, INVALID = "live", "terminated", "unknown", "invalid"


def normalise_postcode(value: object) -> str | None:
    """``" s2 2jq"`` -> ``"S2 2JQ"``; ``None`` when the text is not a UK postcode."""
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return None
    text = re.sub(r"[^A-Za-z0-9]", "", str(value)).upper()
    if len(text) < 5 or len(text) > 7:
        return None
    text = f"{text[:-3]} {text[-3:]}"
    return text if _POSTCODE_RE.match(text) else None


@dataclass(frozen=True)
class PostcodeLookup:
    """Postcode -> easting, northing, LSOA 2011, status (live / terminated)."""

    table: pd.DataFrame  # index: normalised postcode; columns easting, northing, lsoa11cd, status

    @classmethod
    def from_data_dir(cls, data_dir: str | Path | None = None) -> PostcodeLookup:
        return _load_lookup(str(data_path("codepoint", data_dir=data_dir).parent.parent))

    def locate(self, postcodes: pd.Series) -> pd.DataFrame:
        """Look up a Series of postcodes; returns one row per input row (same index).

        Columns: ``postcode`` (normalised or None), ``easting``, ``northing``,
        ``lsoa11cd``, ``postcode_status`` (live / terminated / unknown / invalid).
        """
        norm = postcodes.map(normalise_postcode)
        found = self.table.reindex(norm.fillna(""))
        out = pd.DataFrame(
            {
                "postcode": norm,
                "easting": found["easting"].to_numpy(),
                "northing": found["northing"].to_numpy(),
                "lsoa11cd": found["lsoa11cd"].to_numpy(),
                "postcode_status": found["status"].fillna(UNKNOWN).to_numpy(),
            },
            index=postcodes.index,
        )
        out.loc[norm.isna(), "postcode_status"] = INVALID
        return out


@lru_cache(maxsize=4)
def _load_lookup(folder: str) -> PostcodeLookup:
    base = Path(folder)
    cpo = read_csv(data_path("codepoint", data_dir=base), usecols=["Postcode", "Eastings", "Northings"])
    cpo = pd.DataFrame(
        {
            "postcode": cpo["Postcode"].map(normalise_postcode),
            "easting": cpo["Eastings"].astype(float),
            "northing": cpo["Northings"].astype(float),
        }
    )
    nspd = read_csv(data_path("nspd", data_dir=base), usecols=["pcds", "oseast1m", "osnrth1m"])
    nspd = pd.DataFrame(
        {
            "postcode": nspd["pcds"].map(normalise_postcode),
            "easting": pd.to_numeric(nspd["oseast1m"], errors="coerce"),
            "northing": pd.to_numeric(nspd["osnrth1m"], errors="coerce"),
        }
    ).dropna(subset=["easting", "northing"])
    lk = read_csv(data_path("postcode_lsoa", data_dir=base), usecols=["pcds", "doterm", "lsoa11cd"])
    lk["postcode"] = lk["pcds"].map(normalise_postcode)
    lk = lk.drop_duplicates("postcode").set_index("postcode")

    coords = pd.concat([cpo.assign(in_cpo=True), nspd.assign(in_cpo=False)])
    coords = coords.dropna(subset=["postcode"]).drop_duplicates("postcode", keep="first")
    coords = coords.set_index("postcode")
    coords["lsoa11cd"] = lk["lsoa11cd"].reindex(coords.index)
    terminated = lk["doterm"].reindex(coords.index).notna() | ~coords["in_cpo"]
    coords["status"] = np.where(terminated, TERMINATED, LIVE)
    return PostcodeLookup(coords[["easting", "northing", "lsoa11cd", "status"]])


def geocode_postcodes(
    frame: pd.DataFrame,
    *,
    postcode_column: str = "postcode",
    lookup: PostcodeLookup | None = None,
    source: str = "table",
    strict: bool = False,
) -> pd.DataFrame:
    """Add ``easting``, ``northing``, ``lsoa11cd`` and ``postcode_status`` to ``frame``.

    Rows whose postcode is invalid or unknown are *kept* with empty coordinates and a
    warning lists their row numbers; terminated postcodes resolve to their last
    centroid with a warning. With ``strict=True`` either case raises instead.
    """
    from apgeo._log import warn

    lookup = lookup or PostcodeLookup.from_data_dir()
    located = lookup.locate(frame[postcode_column])
    out = frame.copy()
    for col in ("easting", "northing", "lsoa11cd", "postcode_status"):
        out[col] = located[col]
    out[postcode_column] = located["postcode"].fillna(frame[postcode_column])
    status = located["postcode_status"]
    bad = status.isin([UNKNOWN, INVALID])
    if bad.any():
        examples = ", ".join(repr(v) for v in frame.loc[bad, postcode_column].head(5))
        warn(
            f"{source}: {int(bad.sum())} postcode(s) could not be located at row(s) "
            f"{row_numbers(frame.index[bad])} (e.g. {examples}); those {int(bad.sum())} row(s) "
            "are kept out of the analysis until a valid postcode or coordinates are given",
            strict=strict,
        )
    term = status == TERMINATED
    if term.any():
        examples = ", ".join(repr(v) for v in frame.loc[term, postcode_column].head(5))
        warn(
            f"{source}: {int(term.sum())} terminated postcode(s) at row(s) "
            f"{row_numbers(frame.index[term])} (e.g. {examples}) were placed at their last "
            "known centroid; check the address is still right",
            strict=strict,
        )
    return out
