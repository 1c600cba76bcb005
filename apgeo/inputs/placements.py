"""Placements: which children are placed in AP, from where, for how long, read safely.

Comes in: the council's placement list (``.csv`` or ``.xlsx``, one row per placement:
home postcode or LSOA, referring school URN, provider or site, key stage, start date,
sessions per week; optional end date and outcome), GIAS schools for the referring schools.
Goes out: :func:`load_placements`, counts by home area, referring school, site and key
stage (never pupil rows, and not yet suppressed: for analysis, never for publication);
:func:`load_placement_episodes`, the same with time in AP and outcomes.
Column names introduced here are constants (``HOME_POSTCODE``, ``SCHOOL_URN``, ...);
:data:`ALL` labels the total row and column of every published table. Bad rows are
errors naming the file, row and column; synthetic lists are stamped so every output says
SYNTHETIC. Nothing pupil-level leaves this module: see :mod:`apgeo.privacy`.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from apgeo import schema as S
from apgeo._errors import ApgeoValueError
from apgeo._log import logger, warn
from apgeo._validate import read_csv, require_columns, require_rows, row_numbers

# ---- column names introduced here ---------------------------------------------------
HOME_POSTCODE: Final = "home_postcode"
HOME_LSOA: Final = "home_lsoa"
SCHOOL_URN: Final = "school_urn"
SCHOOL_NAME: Final = "school_name"
KEY_STAGE: Final = "key_stage"
START_DATE: Final = "start_date"
SESSIONS_PER_WEEK: Final = "sessions_per_week"
#: Optional columns: when the placement ended (empty = still open on ``as_of``) and why.
END_DATE: Final = "end_date"
OUTCOME: Final = "outcome"
SYNTHETIC: Final = "synthetic"
PLACEMENTS: Final = "placements"
SESSIONS_PER_WEEK_TOTAL: Final = "sessions_per_week_total"
NEAREST_SUITABLE_TIME_S: Final = "nearest_suitable_time_s"
NEAREST_SUITABLE_SITE_ID: Final = "nearest_suitable_site_id"
EXCESS_TIME_S: Final = "excess_time_s"
GROUP_BY: Final = "group_by"
GROUP: Final = "group"
GROUP_NAME: Final = "group_name"
PLACEMENTS_NO_TIME: Final = "placements_no_time"
MEAN_TRAVEL_TIME_S: Final = "mean_travel_time_s"
MEDIAN_TRAVEL_TIME_S: Final = "median_travel_time_s"
MEAN_EXCESS_TIME_S: Final = "mean_excess_time_s"
SUPPRESSED: Final = "suppressed"
DESTINATION_NAME: Final = "destination_name"
SCHOOL_EASTING: Final = "school_easting"
SCHOOL_NORTHING: Final = "school_northing"
DESTINATION_EASTING: Final = "destination_easting"
DESTINATION_NORTHING: Final = "destination_northing"
#: attrs key: column groups whose sum, published elsewhere, must be suppressed there too.
HIDDEN_COLUMN_GROUPS: Final = "hidden_column_groups"
#: Label of the total row / column of every published table.
ALL: Final = "all"

#: Columns of the placement file (one row per placement). Give ``home_postcode`` or
#: ``home_lsoa`` (or both: the postcode wins when it can be placed), and ``site_id`` or
#: ``provider_id`` (a provider id, or its URN, is enough when the provider has one site).
PLACEMENT_COLUMNS: Final[tuple[str, ...]] = (
    HOME_POSTCODE,
    HOME_LSOA,
    SCHOOL_URN,
    S.PROVIDER_ID,
    S.SITE_ID,
    KEY_STAGE,
    START_DATE,
    SESSIONS_PER_WEEK,
)
#: Other spellings accepted in headers (after lower-casing, spaces -> underscores).
_ALIASES: Final[dict[str, str]] = {
    "postcode": HOME_POSTCODE,
    "home_post_code": HOME_POSTCODE,
    "lsoa": HOME_LSOA,
    "lsoa11cd": HOME_LSOA,
    "lsoa_code": HOME_LSOA,
    "home_lsoa11cd": HOME_LSOA,
    "urn": SCHOOL_URN,
    "referring_school_urn": SCHOOL_URN,
    "referring_school": SCHOOL_URN,
    "school": SCHOOL_URN,
    "provider": S.PROVIDER_ID,
    "site": S.SITE_ID,
    "ks": KEY_STAGE,
    "keystage": KEY_STAGE,
    "sessions": SESSIONS_PER_WEEK,
    "start": START_DATE,
    "end": END_DATE,
    "end_date_of_placement": END_DATE,
    "placement_outcome": OUTCOME,
    "destination": OUTCOME,
}
#: A week has ten half-day sessions.
MAX_SESSIONS_PER_WEEK: Final = 10.0

#: Columns the count table gains when a file has ``end_date`` (time in AP and outcomes).
DAYS_IN_AP: Final = "days_in_ap"
DAYS_SINCE_START: Final = "days_since_start"
PLACEMENT_OPEN: Final = "placement_open"
#: Outcomes of an ended placement, and the other spellings accepted for each.
RETURNED_TO_MAINSTREAM: Final = "returned_to_mainstream"
OUTCOMES: Final[dict[str, tuple[str, ...]]] = {
    RETURNED_TO_MAINSTREAM: ("returned", "return to mainstream", "reintegrated", "mainstream"),
    "moved_to_special_school": ("special school", "special", "ehcp special school"),
    "moved_to_another_ap": ("another ap", "other ap", "moved ap", "ap"),
    "left_education": ("neet", "left", "left education"),
    "other_or_unknown": ("other", "unknown", "not known"),
}

#: GIAS establishment types counted as mainstream (referring) schools.
MAINSTREAM_TYPES: Final[frozenset[str]] = frozenset(
    {
        "Academy converter",
        "Academy sponsor led",
        "Community school",
        "Foundation school",
        "Voluntary aided school",
        "Voluntary controlled school",
        "Free schools",
        "University technical college",
        "Free schools 16 to 19",
        "Academy 16-19 converter",
        "Studio schools",
    }
)
#: GIAS phases whose schools teach each key stage (for the synthetic generator).
_PHASES_FOR_KS: Final[dict[str, tuple[str, ...]]] = {
    "KS1": ("Primary", "All-through"),
    "KS2": ("Primary", "All-through", "Middle deemed primary"),
    "KS3": ("Secondary", "All-through", "Middle deemed secondary"),
    "KS4": ("Secondary", "All-through"),
    "KS5": ("16 plus", "Secondary", "All-through"),
}

#: Burden bands: DfT-style upper limits (inclusive) in minutes.
DEFAULT_BURDEN_THRESHOLDS_MIN: Final[tuple[float, ...]] = (30.0, 45.0, 60.0)
BurdenDimension = Literal["key_stage", "kind", "imd_decile", "school_urn", "provider_id"]
BURDEN_DIMENSIONS: Final[tuple[str, ...]] = (
    "key_stage",
    "kind",
    "imd_decile",
    "school_urn",
    "provider_id",
)
FlowLevel = Literal["provider", "site"]


# ======================================================================================
# Small helpers
# ======================================================================================


def _as_date(value: dt.date | str, *, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise ApgeoValueError(
            f"{name} must be a date (datetime.date or 'YYYY-MM-DD'), not {value!r}"
        ) from None


def _clean_urn(value: object) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA:
        return ""
    text = str(value).strip()
    if text.endswith(".0") and text[:-2].isdigit():
        text = text[:-2]
    return text


def _synthetic_flag(frame: pd.DataFrame) -> bool:
    return bool(frame.attrs.get(SYNTHETIC, False))


def _stamp(frame: pd.DataFrame, *, synthetic: bool, title: str) -> pd.DataFrame:
    """Set ``attrs["synthetic"]`` and a title that starts with SYNTHETIC when it is."""
    frame.attrs[SYNTHETIC] = synthetic
    frame.attrs["title"] = f"SYNTHETIC DATA - {title}" if synthetic else title
    return frame


def load_schools(*, data_dir: str | Path | None = None) -> pd.DataFrame:
    """The GIAS extract as a school lookup (every establishment, indexed by URN).

    Parameters
    ----------
    data_dir
        Folder of the data extract (default: the settings' ``data_dir``).

    Returns
    -------
    pandas.DataFrame
        Columns ``urn`` (str), ``school_name``, ``establishment_type``,
        ``education_phase``, ``easting``, ``northing``, ``mainstream`` (bool, type in
        :data:`MAINSTREAM_TYPES`).
    """
    from apgeo.inputs.data import data_path

    path = data_path("gias", data_dir=data_dir)
    raw = read_csv(path)
    need = [S.URN, "establishment_name", "establishment_type", "education_phase", S.EASTING, S.NORTHING]
    require_columns(raw, need, source=str(path))
    out = pd.DataFrame(
        {
            S.URN: raw[S.URN].map(_clean_urn),
            SCHOOL_NAME: raw["establishment_name"].astype(str),
            "establishment_type": raw["establishment_type"].astype(str),
            "education_phase": raw["education_phase"].astype(str),
            S.EASTING: pd.to_numeric(raw[S.EASTING], errors="coerce"),
            S.NORTHING: pd.to_numeric(raw[S.NORTHING], errors="coerce"),
        }
    )
    out["mainstream"] = out["establishment_type"].isin(MAINSTREAM_TYPES)
    out = out.drop_duplicates(S.URN).set_index(S.URN, drop=False)
    out.index.name = None
    return out


# ======================================================================================
# Suppression with an exact disclosure audit
# ======================================================================================


def read_placement_file(path: str | Path, *, sheet_name: str | int = 0) -> pd.DataFrame:
    """Read a placement file (``.csv`` / ``.txt`` export, ``.xlsx`` / ``.xlsm``) as text.

    Headers are lower-cased, trimmed, spaces and hyphens become underscores, and common
    other spellings (``postcode``, ``urn``, ``lsoa11cd`` ...) are renamed to
    :data:`PLACEMENT_COLUMNS`. Title rows above the header are skipped (the header row is
    found among the first rows and named in a warning); UTF-16 and Windows-1252 text is
    read. The index keeps spreadsheet row numbers for messages.

    Parameters
    ----------
    path
        The file.
    sheet_name
        Excel sheet to read.

    Returns
    -------
    pandas.DataFrame
        Every cell as text, one row per placement (pupil-level: never publish it).
    """
    p = Path(path).expanduser()
    from apgeo._validate import read_table, require_file

    require_file(p, what="placement file", how_to_get="Check the path (CSV or Excel .xlsx).")
    words = (*PLACEMENT_COLUMNS, END_DATE, OUTCOME, *_ALIASES)
    frame = read_table(p, what="a placement file", header_columns=words, sheet_name=sheet_name)
    return _normalise_headers(frame)


def _normalise_headers(frame: pd.DataFrame) -> pd.DataFrame:
    from apgeo._validate import header_name

    names = [_ALIASES.get(header_name(c), header_name(c)) for c in frame.columns]
    out = frame.copy()
    out.columns = names
    if out.columns.duplicated().any():
        dups = sorted(set(out.columns[out.columns.duplicated()]))
        raise ApgeoValueError(
            f"placement file: column(s) {dups} appear twice (after normalising header names); "
            "keep one of each"
        )
    return out


def _parse_key_stage(value: object) -> str | None:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    text = str(value).strip().upper().replace("KEY STAGE", "KS").replace(" ", "")
    if text.isdigit():
        text = "KS" + text
    return text if text in S.KEY_STAGE_NAMES else None


def _parse_outcome(value: object) -> str | None:
    """An outcome name from :data:`OUTCOMES` (or one of its spellings); "" for empty;
    None when not recognised."""
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    text = str(value).strip().lower().replace("-", " ").replace("_", " ")
    if not text:
        return ""
    for name, spellings in OUTCOMES.items():
        if text == name.replace("_", " ") or text in spellings:
            return name
    return None


def _parse_dates(series: pd.Series) -> pd.Series:
    """ISO dates (also Excel's 'YYYY-MM-DD 00:00:00') or UK day-first dd/mm/yyyy."""
    text = series.astype("string").str.strip()
    iso = pd.to_datetime(text, errors="coerce", format="ISO8601")
    uk = pd.to_datetime(text, errors="coerce", format="%d/%m/%Y")
    return iso.fillna(uk)


def load_placements(
    source: str | Path | pd.DataFrame,
    *,
    as_of: dt.date | str,
    providers: pd.DataFrame | None = None,
    schools: pd.DataFrame | None = None,
    demand: pd.DataFrame | None = None,
    lookup: Any = None,
    duplicates: Literal["error", "drop"] = "error",
    sheet_name: str | int = 0,
    strict: bool = False,
) -> pd.DataFrame:
    """Read, validate, geocode and aggregate placements: counts, never pupil rows.

    Parameters
    ----------
    source
        A ``.csv`` / ``.xlsx`` file or a DataFrame with the columns of
        :data:`PLACEMENT_COLUMNS`: ``home_postcode`` and/or ``home_lsoa``,
        ``school_urn`` (referring school, GIAS URN), ``site_id`` and/or ``provider_id``
        (a provider id or its URN), ``key_stage`` (``KS3``, ``3``...), ``start_date``
        (``YYYY-MM-DD`` or ``dd/mm/yyyy``), ``sessions_per_week`` (half-days, 0-10).
        Optional: ``end_date`` (empty while the placement is open on ``as_of``) and
        ``outcome`` of an ended placement (:data:`OUTCOMES`: returned to mainstream, moved
        to a special school, moved to another AP, left education, other or unknown).
        A ``synthetic`` column (all true) marks synthetic data.
    as_of
        The date the file describes; a start date after it is an error. Always given
        explicitly so results do not depend on the day they are run.
    providers
        Provider sites (default :func:`apgeo.inputs.providers.load_sheffield_providers`).
    schools
        School lookup (default :func:`load_schools`, the GIAS extract).
    demand
        Demand areas with ``area_id`` (default :func:`apgeo.inputs.demand.load_demand`);
        homes in other LSOAs are left out with a warning.
    lookup
        A :class:`apgeo.inputs.geocode.PostcodeLookup` (default: the committed postcode data).
    duplicates
        ``"error"`` (default): identical rows are an error, as they are usually entered
        twice; ``"drop"``: keep the first of each and warn.
    sheet_name
        Excel sheet to read.
    strict
        Turn warnings (homes that cannot be placed, sites not listing the key stage)
        into errors.

    Returns
    -------
    pandas.DataFrame
        One row per home LSOA x referring school x site x key stage: ``area_id``,
        ``school_urn``, ``provider_id``, ``site_id``, ``key_stage``, ``placements``,
        ``sessions_per_week_total``. NOT suppressed: for analysis, never for
        publication. For time in AP and outcomes see :func:`load_placement_episodes`. ``attrs``: ``synthetic``, ``title``, ``as_of``, ``source``,
        ``rows_read``, ``rows_counted``.

    Raises
    ------
    MissingColumnError
        A required column is missing.
    ApgeoValueError
        Unknown school URN or provider / site, bad key stage, date or sessions, start
        date after ``as_of``, duplicate rows. The message lists every problem with its
        spreadsheet row numbers (header = row 1) and never shows a postcode.
    """
    return _load(
        source, as_of=as_of, providers=providers, schools=schools, demand=demand, lookup=lookup,
        duplicates=duplicates, sheet_name=sheet_name, strict=strict, episodes=False,
    )


def load_placement_episodes(
    source: str | Path | pd.DataFrame,
    *,
    as_of: dt.date | str,
    providers: pd.DataFrame | None = None,
    schools: pd.DataFrame | None = None,
    demand: pd.DataFrame | None = None,
    lookup: Any = None,
    duplicates: Literal["error", "drop"] = "error",
    sheet_name: str | int = 0,
    strict: bool = False,
) -> pd.DataFrame:
    """Time in AP of a placement file with ``end_date`` (and ``outcome``): counts, never
    pupil rows, for :mod:`apgeo.analysis.time_in_ap`.

    The same file, checks and parameters as :func:`load_placements`; the counts are by
    referring school x site x key stage x (``placement_open``, ``outcome``,
    ``days_in_ap`` = to the end date or to ``as_of`` while open, ``days_since_start`` =
    to ``as_of``), without the home area. NOT suppressed: for analysis, never for
    publication.

    Parameters
    ----------
    source, as_of, providers, schools, demand, lookup, duplicates, sheet_name, strict
        As in :func:`load_placements`.

    Returns
    -------
    pandas.DataFrame
        The counts described above, with the ``attrs`` of :func:`load_placements`.
    """
    return _load(
        source, as_of=as_of, providers=providers, schools=schools, demand=demand, lookup=lookup,
        duplicates=duplicates, sheet_name=sheet_name, strict=strict, episodes=True,
    )


def _load(
    source: str | Path | pd.DataFrame,
    *,
    as_of: dt.date | str,
    providers: pd.DataFrame | None = None,
    schools: pd.DataFrame | None = None,
    demand: pd.DataFrame | None = None,
    lookup: Any = None,
    duplicates: Literal["error", "drop"] = "error",
    sheet_name: str | int = 0,
    strict: bool = False,
    episodes: bool,
) -> pd.DataFrame:
    """Read, validate, geocode and aggregate placements (see :func:`load_placements`)."""
    as_of_date = _as_date(as_of, name="as_of")
    if duplicates not in ("error", "drop"):
        raise ApgeoValueError(f"duplicates must be 'error' or 'drop', not {duplicates!r}")
    if isinstance(source, pd.DataFrame):
        frame = _normalise_headers(source).reset_index(drop=True)
        label = "placements table"
        synthetic_attr = _synthetic_flag(source)
    else:
        frame = read_placement_file(source, sheet_name=sheet_name)
        label = f"placement file {Path(source).name}"
        synthetic_attr = False
    require_rows(frame, source=label)
    if HOME_POSTCODE not in frame.columns and HOME_LSOA not in frame.columns:
        require_columns(frame, [HOME_POSTCODE], source=f"{label} (or give {HOME_LSOA!r})")
    if S.SITE_ID not in frame.columns and S.PROVIDER_ID not in frame.columns:
        require_columns(frame, [S.SITE_ID], source=f"{label} (or give {S.PROVIDER_ID!r})")
    require_columns(frame, [SCHOOL_URN, KEY_STAGE, START_DATE, SESSIONS_PER_WEEK], source=label)

    synthetic = synthetic_attr
    if SYNTHETIC in frame.columns:
        flag = frame[SYNTHETIC].astype(str).str.strip().str.lower().isin(["true", "1", "yes"])
        if flag.any() and not flag.all():
            raise ApgeoValueError(
                f"{label}: column 'synthetic' is true for some rows only (e.g. row(s) "
                f"{row_numbers(frame.index[~flag], limit=5)} are not); never mix synthetic and real placements"
            )
        synthetic = synthetic or bool(flag.all())

    # ---- reference tables
    if providers is None:
        from apgeo.inputs.providers import load_sheffield_providers

        providers = load_sheffield_providers()
    require_columns(providers, [S.PROVIDER_ID, S.SITE_ID, S.URN], source="providers")
    schools = load_schools() if schools is None else schools
    require_columns(schools, [S.URN], source="schools")
    if demand is None:
        from apgeo.inputs.demand import load_demand

        demand = load_demand()
    require_columns(demand, [S.AREA_ID], source="demand")

    problems: list[str] = []

    def problem(mask: pd.Series | np.ndarray, text: str) -> None:
        m = np.asarray(mask, dtype=bool)
        if m.any():
            problems.append(f"{text} at row(s) {row_numbers(frame.index[m])}")

    # ---- duplicates (before anything else changes the rows)
    dup = frame.duplicated(keep="first")
    if dup.any():
        first_of = {
            tuple(r): i for i, r in zip(frame.index[::-1], frame.iloc[::-1].itertuples(index=False))
        }
        pairs = [
            f"{int(first_of[tuple(r)]) + 2} = {int(i) + 2}"
            for i, r in zip(frame.index[dup], frame[dup].itertuples(index=False))
        ]
        if duplicates == "error":
            problems.append(
                f"{int(dup.sum())} row(s) repeat an earlier row exactly (rows {', '.join(pairs[:10])}); "
                "remove the copies, or pass duplicates='drop' if they are known double entries"
            )
        else:
            warn(
                f"{label}: {int(dup.sum())} duplicate row(s) dropped (rows {', '.join(pairs[:10])})",
                strict=strict,
            )
            frame = frame[~dup.to_numpy()]

    # ---- referring school
    urn = frame[SCHOOL_URN].map(_clean_urn)
    problem(urn == "", "'school_urn' is empty")
    known_urns = set(schools[S.URN].map(_clean_urn))
    unknown = (urn != "") & ~urn.isin(known_urns)
    if unknown.any():
        examples = ", ".join(sorted(set(urn[unknown]))[:5])
        problem(unknown, f"'school_urn' is not a school in the GIAS extract (e.g. URN {examples})")

    # ---- provider / site
    prov = pd.DataFrame(providers.drop(columns="geometry", errors="ignore"))
    site_col = frame[S.SITE_ID].astype("string").str.strip() if S.SITE_ID in frame.columns else None
    prov_col = frame[S.PROVIDER_ID].astype("string").str.strip() if S.PROVIDER_ID in frame.columns else None
    site_of = pd.Series(pd.NA, index=frame.index, dtype="string")
    site_ids = set(prov[S.SITE_ID].astype(str))
    provider_of_site = dict(zip(prov[S.SITE_ID].astype(str), prov[S.PROVIDER_ID].astype(str)))
    if site_col is not None:
        given = site_col.notna() & (site_col != "")
        bad = given & ~site_col.isin(site_ids)
        if bad.any():
            examples = ", ".join(sorted(set(site_col[bad].astype(str)))[:5])
            problem(bad, f"'site_id' is not a known provider site (e.g. {examples})")
        site_of[given & ~bad] = site_col[given & ~bad]
    if prov_col is not None:
        sites_by_provider: dict[str, list[str]] = {}
        for pid, sid, purn in zip(prov[S.PROVIDER_ID].astype(str), prov[S.SITE_ID].astype(str), prov[S.URN]):
            sites_by_provider.setdefault(pid, []).append(sid)
            if _clean_urn(purn):
                sites_by_provider.setdefault(_clean_urn(purn), []).append(sid)
        need = site_of.isna() & prov_col.notna() & (prov_col != "")
        resolved = prov_col.map(lambda v: sites_by_provider.get(_clean_urn(v), []) if pd.notna(v) else [])
        none = need & (resolved.map(len) == 0)
        if none.any():
            examples = ", ".join(sorted(set(prov_col[none].astype(str)))[:5])
            problem(none, f"'provider_id' is not a known provider id or URN (e.g. {examples})")
        many = need & (resolved.map(len) > 1)
        problem(many, "the provider has several sites; give 'site_id'")
        one = need & (resolved.map(len) == 1)
        site_of[one] = resolved[one].map(lambda v: v[0])
        both = ~need & site_of.notna() & prov_col.notna() & (prov_col != "")
        if both.any():
            mismatch = both & ~pd.Series(
                [
                    s in sites_by_provider.get(_clean_urn(p), [])
                    for s, p in zip(site_of.fillna(""), prov_col.fillna(""))
                ],
                index=frame.index,
            )
            problem(mismatch, "'site_id' does not belong to the 'provider_id' given")
    given_any = pd.Series(False, index=frame.index)
    for col in (site_col, prov_col):
        if col is not None:
            given_any |= (col.notna() & (col != "")).fillna(False).astype(bool)
    problem(~given_any, "no 'site_id' or 'provider_id' given")

    # ---- key stage, dates, sessions
    ks = frame[KEY_STAGE].map(_parse_key_stage)
    problem(ks.isna(), "'key_stage' is not one of KS1..KS5")
    start = _parse_dates(frame[START_DATE])
    problem(start.isna(), "'start_date' is empty or not a date (use YYYY-MM-DD or dd/mm/yyyy)")
    future = start.notna() & (start.dt.date > as_of_date)
    problem(future, f"'start_date' is after as_of ({as_of_date.isoformat()})")
    end = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    outcome = pd.Series("", index=frame.index, dtype=object)
    with_end = END_DATE in frame.columns
    if with_end:
        given_end = frame[END_DATE].astype("string").str.strip().fillna("").ne("")
        end = _parse_dates(frame[END_DATE])
        problem(
            given_end & end.isna(),
            "'end_date' is not a date (use YYYY-MM-DD or dd/mm/yyyy; leave it empty for an open placement)",
        )
        problem(end.notna() & start.notna() & (end < start), "'end_date' is before 'start_date'")
        problem(
            end.notna() & (end > pd.Timestamp(as_of_date)),
            f"'end_date' is after as_of ({as_of_date.isoformat()}); leave it empty for a placement still open then",
        )
    if OUTCOME in frame.columns:
        if not with_end:
            require_columns(frame, [END_DATE], source=f"{label} (an 'outcome' column needs 'end_date')")
        outcome = frame[OUTCOME].map(_parse_outcome)
        problem(
            outcome.isna(),
            f"'outcome' is not one of {', '.join(OUTCOMES)} (or leave it empty for an open placement)",
        )
        problem(outcome.fillna("").ne("") & end.isna(), "'outcome' is given but 'end_date' is empty")
    home_given = pd.Series(False, index=frame.index)
    for home_col in (HOME_POSTCODE, HOME_LSOA):
        if home_col in frame.columns:
            home_given |= frame[home_col].astype("string").str.strip().fillna("").ne("")
    if not home_given.any():
        present = [c for c in (HOME_POSTCODE, HOME_LSOA) if c in frame.columns]
        problems.append(
            f"every row's home is blank ({' and '.join(repr(c) for c in present)} empty in all "
            f"{len(frame)} rows): fill {HOME_POSTCODE!r} (the pupil's home postcode) or {HOME_LSOA!r} "
            "(its LSOA 2011 code, e.g. E01007321) for each placement; without a home nothing can be counted"
        )
    sessions = pd.to_numeric(frame[SESSIONS_PER_WEEK].astype("string").str.strip(), errors="coerce")
    problem(
        sessions.isna() | (sessions <= 0) | (sessions > MAX_SESSIONS_PER_WEEK),
        f"'sessions_per_week' is not a number of half-day sessions from more than 0 to {MAX_SESSIONS_PER_WEEK:g}",
    )
    if problems:
        raise ApgeoValueError(
            f"{label}: {len(problems)} problem(s) found; fix them and load again:\n  - "
            + "\n  - ".join(problems)
        )

    # ---- site serves the key stage? (warn only)
    stages = dict(zip(prov[S.SITE_ID].astype(str), prov[S.KEY_STAGES].map(S.parse_key_stages)))
    not_served = pd.Series(
        [k not in stages.get(str(s), ()) for s, k in zip(site_of, ks)], index=frame.index
    )
    if not_served.any():
        warn(
            f"{label}: {int(not_served.sum())} placement(s) at a site that does not list the pupil's "
            f"key stage (row(s) {row_numbers(frame.index[not_served.to_numpy()])}); they are kept - "
            "check the provider's key stages",
            strict=strict,
        )

    # ---- home area: postcode centroid -> LSOA, else the LSOA given
    area = pd.Series(pd.NA, index=frame.index, dtype="string")
    if HOME_LSOA in frame.columns:
        area = frame[HOME_LSOA].astype("string").str.strip().str.upper().replace({"": pd.NA})
    if HOME_POSTCODE in frame.columns:
        if lookup is None:
            from apgeo.inputs.geocode import PostcodeLookup

            lookup = PostcodeLookup.from_data_dir()
        located = lookup.locate(frame[HOME_POSTCODE])
        from_pc = located["lsoa11cd"].astype("string")
        area = from_pc.fillna(area)
        terminated = (located["postcode_status"] == "terminated") & from_pc.notna()
        if terminated.any():
            logger.info(
                "%s: %d terminated postcode(s) placed at their last centroid (rows %s)",
                label,
                int(terminated.sum()),
                row_numbers(frame.index[terminated.to_numpy()]),
            )
    unplaced = area.isna()
    if unplaced.any():
        # row numbers only: never echo a pupil's postcode into a log or message
        warn(
            f"{label}: {int(unplaced.sum())} row(s) have no home postcode or LSOA that can be placed "
            f"(row(s) {row_numbers(frame.index[unplaced.to_numpy()])}); they are not counted",
            strict=strict,
        )
    outside = ~unplaced & ~area.isin(set(demand[S.AREA_ID].astype(str)))
    if outside.any():
        warn(
            f"{label}: {int(outside.sum())} row(s) have a home outside the study area's LSOAs "
            f"(row(s) {row_numbers(frame.index[outside.to_numpy()])}); they are not counted",
            strict=strict,
        )
    keep = (~unplaced & ~outside).to_numpy()
    if not keep.any():
        why = (
            f"none of the {len(frame)} homes could be placed in an LSOA (postcodes not in the lookup, "
            "LSOA codes not 2011 codes)" if unplaced.all() else
            f"no home is in the study area's {len(demand)} LSOAs"
        )
        raise ApgeoValueError(
            f"{label}: {why}, so no placement would be counted; check {HOME_POSTCODE!r} / {HOME_LSOA!r} "
            "and that the file is for this study's area"
        )

    # ---- aggregate at once: nothing below LSOA level survives this point
    rows = pd.DataFrame(
        {
            S.AREA_ID: area[keep].astype(str).to_numpy(),
            SCHOOL_URN: urn[keep].to_numpy(),
            S.SITE_ID: site_of[keep].astype(str).to_numpy(),
            KEY_STAGE: ks[keep].to_numpy(),
            SESSIONS_PER_WEEK: sessions[keep].astype(float).to_numpy(),
        }
    )
    rows[S.PROVIDER_ID] = rows[S.SITE_ID].map(provider_of_site)
    keys = [S.AREA_ID, SCHOOL_URN, S.PROVIDER_ID, S.SITE_ID, KEY_STAGE]
    if episodes:
        if not with_end:
            raise ApgeoValueError(
                f"{label} has no 'end_date' column: time in AP needs it (empty for a placement "
                "still open on as_of), and 'outcome' for return to mainstream"
            )
        # time in AP: days to the end date, or to as_of for a placement still open. The
        # home area is left out: these counts are by school, site and key stage only.
        as_of_ts = pd.Timestamp(as_of_date)
        rows[PLACEMENT_OPEN] = end.isna()[keep].to_numpy()
        rows[DAYS_IN_AP] = ((end.fillna(as_of_ts) - start).dt.days)[keep].to_numpy().astype(int)
        rows[DAYS_SINCE_START] = ((as_of_ts - start).dt.days)[keep].to_numpy().astype(int)
        rows[OUTCOME] = outcome.fillna("")[keep].to_numpy()
        keys = [SCHOOL_URN, S.PROVIDER_ID, S.SITE_ID, KEY_STAGE, PLACEMENT_OPEN, OUTCOME, DAYS_IN_AP, DAYS_SINCE_START]
    out = (
        rows.groupby(keys, sort=True)
        .agg(**{PLACEMENTS: (SESSIONS_PER_WEEK, "size"), SESSIONS_PER_WEEK_TOTAL: (SESSIONS_PER_WEEK, "sum")})
        .reset_index()
    )
    out[PLACEMENTS] = out[PLACEMENTS].astype(int)
    out.attrs.update(
        {
            "as_of": as_of_date.isoformat(),
            "source": label,
            "rows_read": len(keep) + (int(dup.sum()) if duplicates == "drop" else 0),
            "rows_counted": int(keep.sum()),
            "publishable": False,
        }
    )
    return _stamp(out, synthetic=synthetic, title="placement counts (not suppressed: not for publication)")


# ======================================================================================
# Travel burden
# ======================================================================================


__all__ = [
    "BURDEN_DIMENSIONS",
    "DEFAULT_BURDEN_THRESHOLDS_MIN",
    "MAINSTREAM_TYPES",
    "PLACEMENT_COLUMNS",
    "load_placement_episodes",
    "load_placements",
    "load_schools",
    "read_placement_file",
]
