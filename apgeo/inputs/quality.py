"""Provider quality: Ofsted grades and the council's QA outcomes, and "good or better" provision.

Quality is optional: a user file keyed by ``urn`` or ``provider_id`` adds

``ofsted_grade``
    1 outstanding, 2 good, 3 requires improvement, 4 inadequate (the words are accepted
    too; "satisfactory", the pre-2012 name of grade 3, counts as 3). Blank = not known
    (many unregistered AP settings are never inspected by Ofsted).
``qa_outcome``
    The council's own quality-assurance outcome: ``good``, ``satisfactory`` or
    ``concerns`` (also accepted: "concern", "some concerns", "serious concerns" ->
    ``concerns``; "outstanding", "excellent" -> ``good``; "requires improvement",
    "adequate" -> ``satisfactory``). Blank = not known.

The **good-or-better rule** (:func:`quality_status`), applied per provider:

1. ``below_good`` when the Ofsted grade is 3 or 4, *or* the QA outcome is ``concerns``
   (a recent council concern overrides an older good inspection);
2. otherwise ``good_or_better`` when the Ofsted grade is 1 or 2;
3. otherwise (no grade, no concern) ``unknown``: kept only when ``include_unknown=True``.

:func:`good_or_better` returns the providers that pass, so coverage, cold spots and
recommendations can be re-run on quality provision; :func:`quality_coverage` compares
coverage of all provision with good-or-better provision side by side.

Note this is *provision quality*, not the Centre for Social Justice's quality "cold
spot" ranking of whole local authorities (FIELD-NOTES item 12).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Final, Literal

import numpy as np
import pandas as pd

from apgeo import schema as S
from apgeo._errors import ApgeoValueError, DuplicateIdError
from apgeo._log import warn
from apgeo._validate import header_name, read_table, require_rows, row_numbers

OFSTED_GRADE: Final = "ofsted_grade"
QA_OUTCOME: Final = "qa_outcome"
QUALITY_STATUS: Final = "quality_status"
QUALITY_REASON: Final = "quality_reason"
GOOD_OR_BETTER: Final = "good_or_better"
BELOW_GOOD: Final = "below_good"
UNKNOWN: Final = "unknown"

_OFSTED_WORDS: Final[dict[str, int]] = {
    "1": 1,
    "outstanding": 1,
    "2": 2,
    "good": 2,
    "3": 3,
    "requires improvement": 3,
    "requires_improvement": 3,
    "ri": 3,
    "satisfactory": 3,
    "4": 4,
    "inadequate": 4,
}
QA_OUTCOMES: Final[tuple[str, ...]] = ("good", "satisfactory", "concerns")
_QA_WORDS: Final[dict[str, str]] = {
    "good": "good",
    "outstanding": "good",
    "excellent": "good",
    "satisfactory": "satisfactory",
    "requires improvement": "satisfactory",
    "adequate": "satisfactory",
    "concerns": "concerns",
    "concern": "concerns",
    "some concerns": "concerns",
    "serious concerns": "concerns",
}


def _blank(value: object) -> bool:
    if value is None or value is pd.NA:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return str(value).strip().lower() in ("", "nan", "none", "n/a", "na", "not known", "unknown", "not inspected")


def _clean_key(value: object) -> str:
    text = "" if _blank(value) else str(value).strip()
    return text[:-2] if text.endswith(".0") and text[:-2].isdigit() else text


def read_provider_quality(
    source: str | Path | pd.DataFrame,
    *,
    key: Literal["urn", "provider_id"] | None = None,
) -> pd.DataFrame:
    """Read and validate a provider quality file (CSV or DataFrame).

    Parameters
    ----------
    source
        CSV / Excel file (title rows above the header are skipped) or DataFrame with
        ``urn`` or ``provider_id`` (the organisation, not a ``site_id``) and at least one of
        ``ofsted_grade``, ``qa_outcome``.
    key
        Key column; default ``provider_id`` when present, else ``urn``.

    Returns
    -------
    pandas.DataFrame
        ``key`` column (str), ``ofsted_grade`` (nullable Int64, 1-4), ``qa_outcome``
        (``good`` / ``satisfactory`` / ``concerns`` or missing); ``attrs["key"]``.

    Raises
    ------
    ApgeoValueError
        An unknown grade or outcome word, or a repeated key (the message gives row
        numbers, header = row 1).
    """
    if isinstance(source, pd.DataFrame):
        frame, label = source.reset_index(drop=True), "provider quality table"
    else:
        words = ("urn", S.PROVIDER_ID, OFSTED_GRADE, QA_OUTCOME, "name")
        frame = read_table(source, what="a provider quality file", header_columns=words)
        label = f"provider quality file {Path(source).name}"
    frame.columns = [header_name(c) for c in frame.columns]
    require_rows(frame, source=label)
    if key is None:
        key = "provider_id" if S.PROVIDER_ID in frame.columns else "urn"
    if key not in ("urn", "provider_id"):
        raise ApgeoValueError(f"key must be 'urn' or 'provider_id', not {key!r}")
    if key not in frame.columns:
        from apgeo._errors import MissingColumnError

        raise MissingColumnError(
            f"{label} needs a {key!r} column to match providers; columns found: {', '.join(frame.columns)}"
        )
    if OFSTED_GRADE not in frame.columns and QA_OUTCOME not in frame.columns:
        from apgeo._errors import MissingColumnError

        raise MissingColumnError(f"{label} needs {OFSTED_GRADE!r} and/or {QA_OUTCOME!r}; columns found: {', '.join(frame.columns)}")
    keys = frame[key].map(_clean_key)
    problems: list[str] = []
    empty = keys == ""
    if empty.any():
        problems.append(f"{key!r} is empty at row(s) {row_numbers(frame.index[empty])}")
    dup = keys.duplicated(keep=False) & ~empty
    if dup.any():
        raise DuplicateIdError(
            f"{label}: {key!r} repeats at row(s) {row_numbers(frame.index[dup])}; give one row per provider"
        )
    grades = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    if OFSTED_GRADE in frame.columns:
        raw = frame[OFSTED_GRADE]
        text = raw.map(lambda v: "" if _blank(v) else _clean_key(v).lower().replace("-", " "))
        parsed = text.map(lambda t: _OFSTED_WORDS.get(t) if t else None)
        bad = (text != "") & parsed.isna()
        if bad.any():
            examples = ", ".join(sorted({repr(v) for v in raw[bad]})[:5])
            problems.append(
                f"{OFSTED_GRADE!r} is not 1-4 or outstanding / good / requires improvement / inadequate "
                f"at row(s) {row_numbers(frame.index[bad])} (e.g. {examples})"
            )
        grades = pd.Series(
            [pd.NA if p is None or pd.isna(p) else int(p) for p in parsed], index=frame.index, dtype="Int64"
        )
    qa = pd.Series(pd.NA, index=frame.index, dtype="string")
    if QA_OUTCOME in frame.columns:
        raw = frame[QA_OUTCOME]
        text = raw.map(lambda v: "" if _blank(v) else " ".join(str(v).strip().lower().replace("_", " ").split()))
        parsed = text.map(lambda t: _QA_WORDS.get(t) if t else None)
        bad = (text != "") & parsed.isna()
        if bad.any():
            examples = ", ".join(sorted({repr(v) for v in raw[bad]})[:5])
            problems.append(
                f"{QA_OUTCOME!r} is not one of {list(QA_OUTCOMES)} at row(s) "
                f"{row_numbers(frame.index[bad])} (e.g. {examples})"
            )
        qa = pd.Series(parsed, index=frame.index, dtype="string")
    if problems:
        raise ApgeoValueError(f"{label}: " + "; ".join(problems))
    out = pd.DataFrame({key: keys.to_numpy(), OFSTED_GRADE: grades.to_numpy(), QA_OUTCOME: qa.to_numpy()})
    out.attrs["key"] = key
    return out


def quality_status(ofsted_grade: pd.Series, qa_outcome: pd.Series) -> pd.DataFrame:
    """Apply the good-or-better rule (module docstring) element by element.

    Parameters
    ----------
    ofsted_grade
        Ofsted grades 1-4 (other values and blanks: no grade).
    qa_outcome
        Council QA outcomes; ``"concerns"`` (any case) counts.

    Returns
    -------
    pandas.DataFrame
        ``quality_status`` (``good_or_better`` / ``below_good`` / ``unknown``) and
        ``quality_reason`` (a short sentence), same index as the inputs.
    """
    grade = pd.to_numeric(ofsted_grade, errors="coerce")
    qa = qa_outcome.astype("string").str.lower()
    concerns = (qa == "concerns").fillna(False).to_numpy(dtype=bool)
    low = grade.isin([3, 4]).to_numpy(dtype=bool)
    good = grade.isin([1, 2]).to_numpy(dtype=bool)
    status = np.where(low | concerns, BELOW_GOOD, np.where(good, GOOD_OR_BETTER, UNKNOWN))
    reason = np.where(
        low,
        "Ofsted grade 3 or 4",
        np.where(
            concerns,
            "council QA: concerns",
            np.where(good, "Ofsted grade 1 or 2, no QA concerns", "no Ofsted grade and no QA concerns"),
        ),
    )
    return pd.DataFrame({QUALITY_STATUS: status, QUALITY_REASON: reason}, index=ofsted_grade.index)


def attach_quality(
    providers: pd.DataFrame,
    quality: pd.DataFrame | str | Path,
    *,
    key: Literal["urn", "provider_id"] | None = None,
    strict: bool = False,
) -> pd.DataFrame:
    """Add ``ofsted_grade``, ``qa_outcome``, ``quality_status``, ``quality_reason`` to providers.

    Keys in the quality file that match no provider are reported in a warning;
    providers missing from the file get no grade (status ``unknown`` unless QA says
    otherwise). Returns a copy; the input is not changed.

    Parameters
    ----------
    providers
        The provider table, with the key column.
    quality
        The quality table or its file (see :func:`read_provider_quality`).
    key
        Column to match on (``None``: the quality table's ``attrs["key"]``, else as
        :func:`read_provider_quality` finds it).
    strict
        Turn the warning into an error.

    Returns
    -------
    pandas.DataFrame
        A copy of ``providers`` with the four columns.
    """
    if key is None and isinstance(quality, pd.DataFrame):
        key = quality.attrs.get("key")
    q = read_provider_quality(quality, key=key)
    k = str(q.attrs["key"])
    if k not in providers.columns:
        raise ApgeoValueError(f"providers have no {k!r} column to match the quality file on")
    out = providers.copy()
    for col in (OFSTED_GRADE, QA_OUTCOME, QUALITY_STATUS, QUALITY_REASON):
        if col in out.columns:
            out = out.drop(columns=col)
    prov_keys = out[k].map(_clean_key)
    table = q.set_index(k)
    unmatched = sorted(set(table.index) - set(prov_keys))
    if unmatched:
        warn(
            f"provider quality: {len(unmatched)} {k} value(s) match no provider "
            f"({', '.join(unmatched[:10])}); those rows are not used",
            strict=strict,
        )
    grade = prov_keys.map(table[OFSTED_GRADE]) if OFSTED_GRADE in table else pd.Series(pd.NA, index=out.index)
    qa = prov_keys.map(table[QA_OUTCOME]) if QA_OUTCOME in table else pd.Series(pd.NA, index=out.index)
    out[OFSTED_GRADE] = pd.array(grade.to_numpy(), dtype="Int64")
    out[QA_OUTCOME] = pd.array(qa.to_numpy(), dtype="string")
    status = quality_status(out[OFSTED_GRADE], out[QA_OUTCOME])
    out[QUALITY_STATUS] = status[QUALITY_STATUS].to_numpy()
    out[QUALITY_REASON] = status[QUALITY_REASON].to_numpy()
    if "geometry" in out.columns and hasattr(providers, "geometry"):
        cols = [c for c in out.columns if c != "geometry"] + ["geometry"]
        out = out[cols]
    return out


def _good_mask(providers: pd.DataFrame, *, include_unknown: bool) -> np.ndarray:
    status = providers[QUALITY_STATUS].astype(str)
    keep = status == GOOD_OR_BETTER
    if include_unknown:
        keep |= status == UNKNOWN
    return keep.to_numpy(dtype=bool)


def good_or_better(
    providers: pd.DataFrame,
    *,
    quality: pd.DataFrame | str | Path | None = None,
    include_unknown: bool = False,
    key: Literal["urn", "provider_id"] | None = None,
    strict: bool = False,
) -> pd.DataFrame:
    """The providers that are good or better (rule in the module docstring).

    Parameters
    ----------
    providers
        Provider sites; either already with ``quality_status`` (from
        :func:`attach_quality`) or with ``quality`` given.
    quality
        Quality file or table (see :func:`read_provider_quality`).
    include_unknown
        Keep providers with no Ofsted grade and no QA concern.
    key
        Key column of the quality file.
    strict
        Turn warnings into errors.

    Returns
    -------
    DataFrame (GeoDataFrame when given one)
        The kept providers with the quality columns; ``attrs["include_unknown"]``.
        Warns when none are kept.
    """
    if quality is not None:
        providers = attach_quality(providers, quality, key=key, strict=strict)
    if QUALITY_STATUS not in providers.columns:
        raise ApgeoValueError(
            "providers have no quality_status: pass quality= (a file with ofsted_grade / qa_outcome) "
            "or call attach_quality first"
        )
    out = providers[_good_mask(providers, include_unknown=include_unknown)].copy()
    if len(out) == 0:
        warn("good_or_better: no provider passes the good-or-better rule", strict=strict)
    out.attrs["include_unknown"] = bool(include_unknown)
    return out


def quality_coverage(
    travel_times: pd.DataFrame,
    demand: pd.DataFrame,
    providers: pd.DataFrame,
    *,
    mode: str,
    quality: pd.DataFrame | str | Path | None = None,
    include_unknown: bool = False,
    thresholds_min: Sequence[float] = (30.0,),
    key_stages: Sequence[str] | str | None = None,
    kinds: Collection[str | S.ProviderKind] | None = S.AP_KINDS,
    strict: bool = False,
) -> pd.DataFrame:
    """Coverage of all provision next to coverage of good-or-better provision.

    Runs :func:`apgeo.analysis.coverage.coverage_summary` twice, on every provider and on
    :func:`good_or_better` ones, and puts the results side by side.

    Parameters
    ----------
    travel_times, demand, providers, mode, thresholds_min, key_stages, kinds, strict
        As in :func:`apgeo.analysis.coverage.coverage_summary`.
    quality, include_unknown
        As in :func:`good_or_better` (``quality=None`` when providers already carry
        ``quality_status``).

    Returns
    -------
    pandas.DataFrame
        One row per ``key_stage`` (``all`` first): ``mode``, ``key_stage``, ``children``,
        then for each band ``share_within_<t>_min_all``,
        ``share_within_<t>_min_good_or_better`` and ``share_within_<t>_min_change``
        (good-or-better minus all, <= 0), then ``mean_nearest_time_s_all`` and
        ``mean_nearest_time_s_good_or_better``. ``attrs``: ``providers_all``,
        ``providers_good_or_better``, ``include_unknown``.
    """
    from apgeo.analysis.coverage import coverage_summary
    from apgeo.analysis.tables import (
        CHILDREN,
        KEY_STAGE,
        MEAN_NEAREST_TIME_S,
        check_key_stages,
        share_within_column,
    )

    if quality is not None:
        providers = attach_quality(providers, quality, strict=strict)
    if QUALITY_STATUS not in providers.columns:
        raise ApgeoValueError("providers have no quality_status: pass quality= or call attach_quality first")
    if not _good_mask(providers, include_unknown=include_unknown).any():
        raise ApgeoValueError(
            "no provider is good or better, so there is nothing to compare; check the quality file "
            "or pass include_unknown=True"
        )
    # one set of key stages for both runs: those all the providers serve, by default
    ks_list = check_key_stages(key_stages, providers, kinds)
    common = dict(mode=mode, thresholds_min=thresholds_min, key_stages=ks_list, kinds=kinds, strict=strict)
    everything = coverage_summary(travel_times, demand, providers, **common)  # type: ignore[arg-type]
    good = good_or_better(providers, include_unknown=include_unknown, strict=strict)
    in_good = travel_times[S.DESTINATION_ID].isin(set(good[S.SITE_ID]))
    if not in_good.any():
        raise ApgeoValueError(
            "travel_times has no rows for any good-or-better site; compute travel times to those sites"
        )
    quality_only = coverage_summary(travel_times[in_good], demand, good, **common)  # type: ignore[arg-type]
    out = everything[[S.MODE, KEY_STAGE, CHILDREN]].copy()
    for t in thresholds_min:
        col = share_within_column(t)
        out[f"{col}_all"] = everything[col].to_numpy()
        out[f"{col}_{GOOD_OR_BETTER}"] = quality_only[col].to_numpy()
        out[f"{col}_change"] = out[f"{col}_{GOOD_OR_BETTER}"] - out[f"{col}_all"]
    out[f"{MEAN_NEAREST_TIME_S}_all"] = everything[MEAN_NEAREST_TIME_S].to_numpy()
    out[f"{MEAN_NEAREST_TIME_S}_{GOOD_OR_BETTER}"] = quality_only[MEAN_NEAREST_TIME_S].to_numpy()
    out.attrs.update(
        {
            "providers_all": len(providers),
            "providers_good_or_better": len(good),
            "include_unknown": bool(include_unknown),
            "title": "Children within reach: all provision vs good-or-better provision",
        }
    )
    return out


__all__ = [
    "BELOW_GOOD",
    "GOOD_OR_BETTER",
    "OFSTED_GRADE",
    "QA_OUTCOME",
    "QUALITY_STATUS",
    "UNKNOWN",
    "attach_quality",
    "good_or_better",
    "quality_coverage",
    "quality_status",
    "read_provider_quality",
]
