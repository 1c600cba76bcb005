"""Prepared tables for the coverage and access measures: travel times, demand areas and
sites checked once and held as aligned arrays; column-name helpers.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd

from apgeo._errors import ApgeoValueError
from apgeo._log import warn
from apgeo._validate import check_unique, require_columns, require_rows, to_numeric
from apgeo.schema import (
    AP_KINDS,
    AREA_ID,
    COMPULSORY_KEY_STAGES,
    DESTINATION_ID,
    IDACI_DECILE,
    IMD_DECILE,
    KEY_STAGE_NAMES,
    KEY_STAGES,
    KIND,
    METHOD,
    MODE,
    ORIGIN_ID,
    PROVIDER_ID,
    SITE_ID,
    TRAVEL_TIME_METHOD,
    TRAVEL_TIME_S,
    KeyStage,
    ProviderKind,
    children_column,
    parse_key_stages,
)

# ---- column names introduced here (to move into schema.py) --------------------------
NEAREST_TIME_S = "nearest_time_s"
NEAREST_SITE_ID = "nearest_site_id"
KEY_STAGE = "key_stage"
DEPRIVATION_INDEX = "deprivation_index"
DECILE = "decile"
AREAS = "areas"
CHILDREN = "children"
CHILDREN_UNREACHABLE = "children_unreachable"
#: Areas holding children who reach no suitable site (left out of the mean time).
AREAS_UNREACHABLE = "areas_unreachable"
MEAN_NEAREST_TIME_S = "mean_nearest_time_s"
#: ``key_stage`` value meaning "all children, each to a provider suitable for them".
ALL_KEY_STAGES = "all"
#: ``key_stage`` value meaning "any provider, whatever key stages it serves".
ANY_KEY_STAGE = "any"

#: DfT journey-time statistics bands (FIELD-NOTES item 13).
DEFAULT_THRESHOLDS_MIN: tuple[float, ...] = (15.0, 30.0, 45.0, 60.0)
#: pandana's "no path" value (pandana #168): a time this large is a sentinel, not a time.
_PANDANA_SENTINEL_S = 4_294_967.0

DeprivationIndex = Literal["imd", "idaci"]
_DEPRIVATION_COLUMNS: dict[str, str] = {"imd": IMD_DECILE, "idaci": IDACI_DECILE}


def kind_value(kind: str | ProviderKind) -> str:
    """The table value of a provider kind (accepts the enum or its spelling).

    Parameters
    ----------
    kind
        A :class:`~apgeo.schema.ProviderKind` or a spelling of one.

    Returns
    -------
    str
        The kind's value, e.g. ``"pru"``.
    """
    if isinstance(kind, ProviderKind):
        return kind.value
    return ProviderKind.parse(kind).value


def nearest_ks_time_column(key_stage: str) -> str:
    """Column holding the time to the nearest site serving a key stage: ``nearest_ks3_time_s``.

    Parameters
    ----------
    key_stage
        Key stage name, any case.

    Returns
    -------
    str
        ``nearest_<key stage in lower case>_time_s``.
    """
    return f"nearest_{key_stage.lower()}_time_s"


def nearest_ks_site_column(key_stage: str) -> str:
    """Column holding the nearest site serving a key stage: ``nearest_ks3_site_id``.

    Parameters
    ----------
    key_stage
        Key stage name, any case.

    Returns
    -------
    str
        ``nearest_<key stage in lower case>_site_id``.
    """
    return f"nearest_{key_stage.lower()}_site_id"


def nearest_kind_time_column(kind: str | ProviderKind) -> str:
    """Column holding the time to the nearest site of a kind: ``nearest_pru_time_s``.

    Parameters
    ----------
    kind
        A provider kind or a spelling of one.

    Returns
    -------
    str
        ``nearest_<kind>_time_s``.
    """
    return f"nearest_{kind_value(kind)}_time_s"


def nearest_kind_site_column(kind: str | ProviderKind) -> str:
    """Column holding the nearest site of a kind: ``nearest_pru_site_id``.

    Parameters
    ----------
    kind
        A provider kind or a spelling of one.

    Returns
    -------
    str
        ``nearest_<kind>_site_id``.
    """
    return f"nearest_{kind_value(kind)}_site_id"


def threshold_label(threshold_min: float) -> str:
    """``15.0 -> "15"``, ``7.5 -> "7.5"``: the minutes part of a threshold column name.

    Parameters
    ----------
    threshold_min
        Minutes.

    Returns
    -------
    str
        The number in ``%g`` format.
    """
    return f"{float(threshold_min):g}"


def share_within_column(threshold_min: float) -> str:
    """Column holding the share of children served within a band: ``share_within_30_min``.

    Parameters
    ----------
    threshold_min
        The band's upper limit in minutes.

    Returns
    -------
    str
        ``share_within_<threshold>_min``.
    """
    return f"share_within_{threshold_label(threshold_min)}_min"


def children_within_column(threshold_min: float) -> str:
    """Column holding the children served within a band: ``children_within_30_min``.

    Parameters
    ----------
    threshold_min
        The band's upper limit in minutes.

    Returns
    -------
    str
        ``children_within_<threshold>_min``.
    """
    return f"children_within_{threshold_label(threshold_min)}_min"


def providers_within_column(threshold_min: float) -> str:
    """Column holding the distinct providers within a band: ``providers_within_30_min``.

    Parameters
    ----------
    threshold_min
        The band's upper limit in minutes.

    Returns
    -------
    str
        ``providers_within_<threshold>_min``.
    """
    return f"providers_within_{threshold_label(threshold_min)}_min"


# ======================================================================================
# Shared preparation (also used by apgeo.access and apgeo.coldspots)
# ======================================================================================


@dataclass(frozen=True)
class PreparedTables:
    """Validated inputs aligned as dense arrays (internal; shared by access and coldspots).

    Attributes
    ----------
    mode
        The mode label carried into outputs.
    areas
        Demand rows sorted by ``area_id`` (a plain DataFrame copy, index 0..n-1).
    sites
        Provider rows sorted by ``site_id`` (copy, index 0..m-1), ``kind`` normalised.
    times_s
        ``(n_areas, n_sites)`` travel times in seconds, ``inf`` = unreachable or missing.
    serves
        ``(n_sites, 5)`` booleans: site serves KS1..KS5.
    method
        How the travel times were made (``travel_times.attrs["method"]`` or its
        ``method`` column), ``None`` when the table does not say.
    kinds
        Provider kinds counted (sorted), ``None`` = every kind.
    """

    mode: str
    areas: pd.DataFrame
    sites: pd.DataFrame
    times_s: np.ndarray
    serves: np.ndarray
    method: str | None = None
    kinds: tuple[str, ...] | None = None

    @property
    def area_ids(self) -> np.ndarray:
        """Area ids in row order."""
        return self.areas[AREA_ID].to_numpy()

    @property
    def site_ids(self) -> np.ndarray:
        """Site ids in column order."""
        return self.sites[SITE_ID].to_numpy()

    def serves_key_stage(self, key_stage: str) -> np.ndarray:
        """Boolean mask over sites: which sites serve ``key_stage``.

        Parameters
        ----------
        key_stage
            A key stage, ``"KS1"`` to ``"KS5"``.

        Returns
        -------
        numpy.ndarray
            ``(n_sites,)`` booleans in ``sites`` order.
        """
        return np.asarray(self.serves[:, KEY_STAGE_NAMES.index(key_stage)], dtype=bool)  # type: ignore[arg-type]

    def children(self, key_stage: str) -> np.ndarray:
        """Children of one key stage per area (float).

        Parameters
        ----------
        key_stage
            A key stage (``"KS3"``) whose column was prepared.

        Returns
        -------
        numpy.ndarray
            ``(n_areas,)`` in ``areas`` order.
        """
        return self.areas[children_column(key_stage)].to_numpy(dtype=float)


def format_ids(values: Iterable[object], limit: int = 10) -> str:
    """Ids as one comma-separated text, at most ``limit`` shown.

    Parameters
    ----------
    values
        The ids.
    limit
        How many are shown before ``... (<n> in all)``.

    Returns
    -------
    str
        The text.
    """
    items = [str(v) for v in list(values)]
    text = ", ".join(items[:limit])
    return text + (f" ... ({len(items)} in all)" if len(items) > limit else "")


def check_thresholds_min(
    thresholds_min: Sequence[float], *, name: str = "thresholds_min"
) -> np.ndarray:
    """Validate band limits in minutes: non-empty, finite, positive, strictly increasing.

    Returns the thresholds in **seconds**.

    Parameters
    ----------
    thresholds_min
        Band limits in minutes.
    name
        How to name the option in errors.

    Returns
    -------
    numpy.ndarray
        The limits in seconds (float).
    """
    try:
        values = np.asarray(list(thresholds_min), dtype=float)
    except (TypeError, ValueError):
        raise ApgeoValueError(
            f"{name} must be a list of numbers of minutes, e.g. [15, 30, 45, 60]; got {thresholds_min!r}"
        ) from None
    if values.ndim != 1 or values.size == 0:
        raise ApgeoValueError(
            f"{name} must hold at least one number of minutes; got {thresholds_min!r}"
        )
    if not np.all(np.isfinite(values)) or np.any(values <= 0):
        raise ApgeoValueError(
            f"{name} must be positive, finite minutes; got {list(values)}; e.g. [15, 30, 45, 60]"
        )
    if np.any(np.diff(values) <= 0):
        raise ApgeoValueError(
            f"{name} must be strictly increasing; got {list(values)}; sort them and drop repeats"
        )
    return values * 60.0


def check_key_stages(
    key_stages: Sequence[str] | str | None,
    providers: pd.DataFrame | None = None,
    kinds: Collection[str | ProviderKind] | None = None,
) -> tuple[KeyStage, ...]:
    """Parse a ``key_stages`` option.

    ``None`` means compulsory school age, KS1-KS4 (the study's default ``[analysis]
    key_stages``), less the ones no provider passed (of ``kinds``) serves; KS1-KS4 when
    ``providers`` is not given or serves none of them. KS5 is counted only when named
    (``key_stages=[..., "KS5"]``, or the study's ``key_stages``), where demand for post-16
    AP is estimated: a site listing KS5 does not add the 16-17 year olds to the figures.
    Results say which were used in ``attrs["key_stages"]``.

    Parameters
    ----------
    key_stages
        The option: ``None``, a string such as ``"KS3,KS4"`` or a sequence.
    providers
        Providers whose ``key_stages`` decide the default (``None``: KS1-KS4).
    kinds
        Only providers of these kinds decide the default (``None``: every kind).

    Returns
    -------
    tuple of KeyStage
        The key stages, in key stage order.
    """
    if key_stages is None:
        return default_key_stages(providers, kinds)
    parsed = parse_key_stages(key_stages)
    if not parsed:
        raise ApgeoValueError(f"key_stages must name at least one of KS1..KS5; got {key_stages!r}")
    return parsed


def default_key_stages(
    providers: pd.DataFrame | None, kinds: Collection[str | ProviderKind] | None = None
) -> tuple[KeyStage, ...]:
    """KS1-KS4 as served by ``providers`` of ``kinds``; KS1-KS4 when they serve none of them.

    Never KS5: post-16 is counted only when asked for (see :func:`check_key_stages`).

    Parameters
    ----------
    providers
        Providers with ``key_stages`` (``None``, or without the column: KS1-KS4).
    kinds
        Only providers of these kinds count (``None``: every kind).

    Returns
    -------
    tuple of KeyStage
        The key stages of KS1-KS4 served, in order.
    """
    if providers is None or KEY_STAGES not in providers.columns:
        return COMPULSORY_KEY_STAGES
    rows = providers
    wanted = _check_kinds(kinds)
    if wanted is not None and KIND in providers.columns:
        text = providers[KIND].astype(str).str.strip().str.lower().str.replace(" ", "_")
        rows = providers[text.isin(wanted).to_numpy()]
    served: set[str] = set()
    for value in rows[KEY_STAGES]:
        try:
            served.update(parse_key_stages(value))
        except ApgeoValueError:
            continue  # reported with the row by prepare_tables
    out = tuple(k for k in COMPULSORY_KEY_STAGES if k in served)
    return out or COMPULSORY_KEY_STAGES


def _check_kinds(kinds: Collection[str | ProviderKind] | None) -> frozenset[str] | None:
    if kinds is None:
        return None
    if isinstance(kinds, str):
        kinds = [kinds]
    parsed = frozenset(kind_value(k) for k in kinds)
    if not parsed:
        raise ApgeoValueError(
            "kinds must name at least one provider kind, or be None for all kinds"
        )
    return parsed


def travel_time_method(travel_times: pd.DataFrame, mode: str) -> str | None:
    """How a travel-time table was made: ``attrs["method"]``, else its ``method`` column.

    ``None`` when the table does not say (e.g. one read back from a file without it).

    Parameters
    ----------
    travel_times
        A travel-time table.
    mode
        With a ``mode`` column, only its rows of this mode are read.

    Returns
    -------
    str or None
        The label (several ``method`` values joined with ``"; "``), or ``None``.
    """
    label = travel_times.attrs.get(METHOD)
    if label:
        return str(label)
    if METHOD in travel_times.columns:
        rows = travel_times
        if MODE in rows.columns:
            rows = rows[rows[MODE].astype(str) == mode]
        values = sorted(set(map(str, rows[METHOD].dropna())))
        if values:
            return "; ".join(values)
    return None


def check_travel_mode(travel_times: pd.DataFrame, mode: str) -> None:
    """Raise when a table made for one mode (``attrs["mode"]``) is used as another.

    Parameters
    ----------
    travel_times
        A travel-time table.
    mode
        The mode it is used as.
    """
    made_for = travel_times.attrs.get(MODE)
    if made_for is None or MODE in travel_times.columns or str(made_for) == mode:
        return
    raise ApgeoValueError(
        f"travel_times were computed for mode {str(made_for)!r} (travel_times.attrs['mode']) "
        f"but mode={mode!r} was passed; pass mode={str(made_for)!r}, or compute {mode} "
        "travel times for this analysis"
    )


def label_output(
    out: pd.DataFrame,
    prep: PreparedTables,
    *,
    key_stages: Sequence[str] | None = None,
    column: bool = True,
) -> pd.DataFrame:
    """Carry the mode, travel-time method, kinds and key stages of ``prep`` onto ``out``.

    ``attrs``: ``mode``, ``method`` (``None`` when unknown), ``kinds`` (list, or ``"all"``)
    and ``key_stages``. With ``column``, a ``travel_time_method`` column follows ``mode``
    whenever the method is known, so a CSV export keeps the caveat (e.g. "STRAIGHT-LINE
    ESTIMATE, not a street network ...").

    Parameters
    ----------
    out
        The result table, changed in place.
    prep
        The prepared tables it was computed from.
    key_stages
        Key stages recorded in ``attrs["key_stages"]`` (``None``: not recorded).
    column
        Add the ``travel_time_method`` column.

    Returns
    -------
    pandas.DataFrame
        ``out``.
    """
    out.attrs[MODE] = prep.mode
    out.attrs[METHOD] = prep.method
    out.attrs["kinds"] = list(prep.kinds) if prep.kinds is not None else "all"
    if key_stages is not None:
        out.attrs["key_stages"] = list(key_stages)
    if column and prep.method is not None and TRAVEL_TIME_METHOD not in out.columns:
        at = list(out.columns).index(MODE) + 1 if MODE in out.columns else 0
        out.insert(at, TRAVEL_TIME_METHOD, prep.method)
    return out


def prepare_tables(
    travel_times: pd.DataFrame,
    demand: pd.DataFrame,
    providers: pd.DataFrame,
    *,
    mode: str,
    key_stages: Sequence[str] = KEY_STAGE_NAMES,
    kinds: Collection[str | ProviderKind] | None = AP_KINDS,
    demand_columns: Sequence[str] = (),
    provider_columns: Sequence[str] = (),
    strict: bool = False,
) -> PreparedTables:
    """Validate the three input tables and align them as dense arrays.

    Raises before any heavy work when a column is missing, an id repeats or is unknown,
    a time is negative or a sentinel, a child count is missing or negative, or a table
    is empty. Warns (``strict=True``: raises) when providers serve no key stage or no
    provider serves a requested key stage.

    Parameters
    ----------
    travel_times, demand, providers
        The seam tables described in the module docstring.
    mode
        Travel mode label (e.g. ``"walk"``, ``"bus"``). When ``travel_times`` has a
        ``mode`` column, only its rows for this mode are used.
    key_stages
        Key stages whose ``children_ks*`` columns are needed.
    kinds
        Keep only providers of these kinds (default: the AP kinds,
        :data:`apgeo.schema.AP_KINDS`; ``None`` = all kinds).
    demand_columns, provider_columns
        Further columns that must be present.
    strict
        Turn warnings into errors.

    Returns
    -------
    PreparedTables
        The validated tables aligned as arrays (areas by ``area_id``, sites by ``site_id``).
    """
    if not isinstance(mode, str) or not mode.strip():
        raise ApgeoValueError(
            f"mode must be a non-empty label such as 'walk' or 'bus'; got {mode!r}"
        )
    for frame, source in (
        (travel_times, "travel_times"),
        (demand, "demand"),
        (providers, "providers"),
    ):
        if not isinstance(frame, pd.DataFrame):
            raise ApgeoValueError(
                f"{source} must be a pandas DataFrame; got {type(frame).__name__}"
            )
    child_cols = [children_column(ks) for ks in key_stages]
    require_columns(travel_times, [ORIGIN_ID, DESTINATION_ID, TRAVEL_TIME_S], source="travel_times")
    require_columns(demand, [AREA_ID, *child_cols, *demand_columns], source="demand")
    require_columns(
        providers, [SITE_ID, PROVIDER_ID, KIND, KEY_STAGES, *provider_columns], source="providers"
    )
    require_rows(demand, source="demand")
    require_rows(providers, source="providers")
    check_unique(demand, AREA_ID, source="demand")
    check_unique(providers, SITE_ID, source="providers")
    for frame, column, source in ((demand, AREA_ID, "demand"), (providers, SITE_ID, "providers")):
        if frame[column].isna().any():
            raise ApgeoValueError(
                f"{source}: column {column!r} has empty ids; give every row an id"
            )

    # ---- travel times ----------------------------------------------------------------
    check_travel_mode(travel_times, mode)
    method = travel_time_method(travel_times, mode)
    tt = travel_times
    if MODE in tt.columns:
        tt = tt[tt[MODE].astype(str) == mode]
        if len(tt) == 0:
            modes = sorted(set(map(str, travel_times[MODE].dropna())))
            raise ApgeoValueError(
                f"travel_times has no rows for mode {mode!r}; modes in the table: {modes or '(none)'}"
            )
    require_rows(tt, source="travel_times")
    times = to_numeric(tt[TRAVEL_TIME_S], column=TRAVEL_TIME_S, source="travel_times").to_numpy(
        dtype=float, copy=True
    )
    times[np.isinf(times) & (times > 0)] = np.nan  # +inf is another spelling of unreachable
    negative = times < 0
    if negative.any():
        pairs = [
            f"{o}->{d} ({t:g})"
            for o, d, t in zip(
                tt[ORIGIN_ID][negative], tt[DESTINATION_ID][negative], times[negative], strict=True
            )
        ]
        raise ApgeoValueError(
            f"travel_times: column {TRAVEL_TIME_S!r} has negative times for {format_ids(pairs)}; "
            "times must be >= 0 seconds (NaN = unreachable)"
        )
    sentinel = times >= _PANDANA_SENTINEL_S
    if sentinel.any():
        pairs = [
            f"{o}->{d}"
            for o, d in zip(tt[ORIGIN_ID][sentinel], tt[DESTINATION_ID][sentinel], strict=True)
        ]
        raise ApgeoValueError(
            f"travel_times: {int(sentinel.sum())} time(s) of {_PANDANA_SENTINEL_S:g} s or more "
            f"({format_ids(pairs)}) look like an engine's 'no path' sentinel (pandana uses "
            "4294967.295); replace them with NaN"
        )
    # each id column factorised once: the checks and the matrix below work on integer
    # codes, not on millions of strings (a long table holds areas x sites rows)
    o_codes, o_uniques = pd.factorize(tt[ORIGIN_ID], use_na_sentinel=False)
    d_codes, d_uniques = pd.factorize(tt[DESTINATION_ID], use_na_sentinel=False)
    pair_codes = o_codes.astype(np.int64) * len(d_uniques) + d_codes
    dup = pd.Series(pair_codes).duplicated(keep=False).to_numpy()
    if dup.any():
        pairs = sorted(
            {f"{o}->{d}" for o, d in zip(tt[ORIGIN_ID][dup], tt[DESTINATION_ID][dup], strict=True)}
        )
        raise ApgeoValueError(
            f"travel_times: {len(pairs)} origin/destination pair(s) appear more than once "
            f"({format_ids(pairs)}); keep one time per pair (and mode)"
        )

    areas = pd.DataFrame(demand.drop(columns="geometry", errors="ignore"))
    areas = areas.sort_values(AREA_ID, kind="stable").reset_index(drop=True)
    sites = pd.DataFrame(providers).sort_values(SITE_ID, kind="stable").reset_index(drop=True)

    area_index = pd.Index(areas[AREA_ID])
    site_index_all = pd.Index(sites[SITE_ID])
    area_of_origin = area_index.get_indexer(o_uniques)  # position of each distinct origin
    unknown_o = sorted(set(map(str, o_uniques[area_of_origin < 0])))
    if unknown_o:
        raise ApgeoValueError(
            f"travel_times: {len(unknown_o)} {ORIGIN_ID} value(s) are not in demand[{AREA_ID!r}]: "
            f"{format_ids(unknown_o)}; add those areas to the demand table or drop their rows"
        )
    unknown_d = sorted(set(map(str, d_uniques[site_index_all.get_indexer(d_uniques) < 0])))
    if unknown_d:
        raise ApgeoValueError(
            f"travel_times: {len(unknown_d)} {DESTINATION_ID} value(s) are not in providers[{SITE_ID!r}]: "
            f"{format_ids(unknown_d)}; add those sites to the providers table or drop their rows"
        )

    # ---- demand numbers ---------------------------------------------------------------
    for col in child_cols:
        values = to_numeric(areas[col], column=col, source="demand")
        missing = values.isna().to_numpy()
        if missing.any():
            raise ApgeoValueError(
                f"demand: column {col!r} is empty for area(s) {format_ids(areas[AREA_ID][missing])}; "
                "fill the counts (0 if there are no children)"
            )
        bad = (values < 0).to_numpy()
        if bad.any():
            raise ApgeoValueError(
                f"demand: column {col!r} has negative counts for area(s) {format_ids(areas[AREA_ID][bad])}"
            )
        areas[col] = values.to_numpy()

    # ---- providers ----------------------------------------------------------------------
    kind_values: list[str] = []
    serves_rows: list[list[bool]] = []
    for site_id, kind, ks in zip(sites[SITE_ID], sites[KIND], sites[KEY_STAGES], strict=True):
        try:
            kind_values.append(ProviderKind.parse(kind).value)
            parsed = parse_key_stages(ks)
        except ApgeoValueError as err:
            raise ApgeoValueError(f"providers: site {site_id!s}: {err}") from None
        serves_rows.append([k in parsed for k in KEY_STAGE_NAMES])
    sites[KIND] = kind_values
    serves = np.array(serves_rows, dtype=bool).reshape(len(sites), len(KEY_STAGE_NAMES))

    wanted_kinds = _check_kinds(kinds)
    if wanted_kinds is not None:
        keep = sites[KIND].isin(wanted_kinds).to_numpy()
        if not keep.any():
            hint = (
                "; the default counts AP kinds only (apgeo.schema.AP_KINDS): pass kinds=None "
                "to count every provider"
                if wanted_kinds == frozenset(k.value for k in AP_KINDS)
                else "; pass kinds=None to count every provider"
            )
            raise ApgeoValueError(
                f"no provider is of kind(s) {sorted(wanted_kinds)} (the kinds= argument: which "
                "providers this call counts; the study's [analysis] ap_kinds sets it there); "
                f"values of the 'kind' column present: {sorted(set(kind_values))}{hint}"
            )
        sites = sites[keep].reset_index(drop=True)
        serves = serves[keep]

    none_served = np.asarray(~serves.any(axis=1), dtype=bool)
    if none_served.any():
        warn(
            f"providers: {int(none_served.sum())} site(s) list no key stage "
            f"({format_ids(sites[SITE_ID][none_served])}); they count only in overall nearest "
            "times and choice counts, never as suitable for a key stage",
            strict=strict,
            stacklevel=4,
        )
    unserved = [ks for ks in key_stages if not serves[:, KEY_STAGE_NAMES.index(ks)].any()]
    if unserved:
        warn(
            f"no provider serves {', '.join(unserved)}: every area is unreachable for "
            "those key stages",
            strict=strict,
            stacklevel=4,
        )

    # ---- dense matrix -------------------------------------------------------------------
    site_index = pd.Index(sites[SITE_ID])
    rows = area_of_origin[o_codes]
    cols = site_index.get_indexer(d_uniques)[d_codes]  # -1 for sites dropped by `kinds`
    matrix = np.full((len(areas), len(sites)), np.inf)
    ok = (cols >= 0) & ~np.isnan(times)
    matrix[rows[ok], cols[ok]] = times[ok]
    return PreparedTables(
        mode=mode,
        areas=areas,
        sites=sites,
        times_s=matrix,
        serves=serves,
        method=method,
        kinds=None if wanted_kinds is None else tuple(sorted(wanted_kinds)),
    )


def nearest_in(times_s: np.ndarray, site_mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Nearest time (``inf`` if none) and site position (``-1`` if none) per row.

    Ties go to the first site in ``site_id`` order, so results are deterministic.

    Parameters
    ----------
    times_s
        ``(n_rows, n_sites)`` seconds, ``inf`` for unreachable.
    site_mask
        ``(n_sites,)`` booleans: the sites that count.

    Returns
    -------
    time_s : numpy.ndarray
        ``(n_rows,)`` seconds to the nearest site, ``inf`` when none is reachable.
    position : numpy.ndarray
        ``(n_rows,)`` column of that site, ``-1`` when none.
    """
    n = times_s.shape[0]
    if not site_mask.any():
        return np.full(n, np.inf), np.full(n, -1, dtype=int)
    masked = np.where(site_mask[None, :], times_s, np.inf)
    idx = np.argmin(masked, axis=1)
    best = masked[np.arange(n), idx]
    idx = np.where(np.isfinite(best), idx, -1)
    return best, idx


def _as_time(values: np.ndarray) -> np.ndarray:
    out = values.astype(float, copy=True)
    out[~np.isfinite(out)] = np.nan
    return out


def _site_ids_at(prep: PreparedTables, idx: np.ndarray) -> pd.Series:
    ids = prep.site_ids
    return pd.Series([ids[i] if i >= 0 else None for i in idx], dtype=object)


def _warn_unreachable(prep: PreparedTables, best: np.ndarray, *, strict: bool) -> None:
    lost = np.asarray(~np.isfinite(best), dtype=bool)
    if lost.any():
        warn(
            f"{int(lost.sum())} area(s) reach no provider by {prep.mode} "
            f"({format_ids(prep.area_ids[lost])}); their nearest times are NaN",
            strict=strict,
            stacklevel=4,
        )


def nearest_suitable_s(prep: PreparedTables, key_stages: Sequence[str]) -> np.ndarray:
    """``(n_areas, len(key_stages))`` seconds to the nearest site serving each key stage.

    Parameters
    ----------
    prep
        The prepared tables.
    key_stages
        The key stages, one column each.

    Returns
    -------
    numpy.ndarray
        Float seconds, ``inf`` where no serving site is reachable.
    """
    out = np.full((len(prep.areas), len(key_stages)), np.inf)
    for j, ks in enumerate(key_stages):
        out[:, j] = nearest_in(prep.times_s, prep.serves_key_stage(ks))[0]
    return out


__all__ = [
    "ALL_KEY_STAGES",
    "ANY_KEY_STAGE",
    "DEFAULT_THRESHOLDS_MIN",
]
