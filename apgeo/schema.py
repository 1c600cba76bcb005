"""Column names, kinds and key stages: spelled once, used everywhere."""

from __future__ import annotations

import functools
import re
from enum import StrEnum
from typing import Literal

# ---- providers -------------------------------------------------------------------
PROVIDER_ID = "provider_id"
SITE_ID = "site_id"
NAME = "name"
KIND = "kind"
KEY_STAGES = "key_stages"  # comma-separated, e.g. "KS3,KS4"
CAPACITY_PLACES = "capacity_places"
CAPACITY_SOURCE = "capacity_source"
URN = "urn"
POSTCODE = "postcode"
SOURCE = "source"
LOCATED = "located"
LOCATION_NOTE = "location_note"

#: What the easily confused columns mean, quoted by every message about them.
#: ``provider_id`` is the organisation, ``site_id`` one of its addresses (travel times and
#: placements are per site), ``capacity_places`` the site's places; the function argument
#: ``kinds`` picks provider kinds for one call, the study's ``[analysis] ap_kinds`` sets
#: which kinds count as AP (default :data:`AP_KINDS`).
COLUMN_MEANING: dict[str, str] = {
    PROVIDER_ID: "the organisation; several sites of one provider share it",
    SITE_ID: "one address pupils attend, unique per row; travel times and placements are per site "
    "(default <provider_id>-1 for a one-site provider)",
    CAPACITY_PLACES: "pupils the site can take at once (not sessions or pupils per year); blank if unknown",
    KIND: "the provider's kind, e.g. pru or special_school; study setting ap_kinds lists the kinds counted as AP",
    KEY_STAGES: "the key stages the site teaches, e.g. KS3,KS4",
}


def meaning(column: str) -> str:
    """``"'site_id' (one address pupils attend ...)"`` for a column of :data:`COLUMN_MEANING`.

    Parameters
    ----------
    column
        A column name.

    Returns
    -------
    str
        The quoted column name followed by its meaning in brackets, or just the quoted name
        when :data:`COLUMN_MEANING` does not describe it.
    """
    text = COLUMN_MEANING.get(column)
    return f"{column!r} ({text})" if text else repr(column)


# ---- demand areas ----------------------------------------------------------------
AREA_ID = "area_id"  # LSOA code
AREA_NAME = "area_name"
WARD_CODE = "ward_code"
WARD_NAME = "ward_name"
POPULATION_ALL = "population_all"
CHILDREN_0_15 = "children_0_15"
IMD_RANK = "imd_rank"
IMD_DECILE = "imd_decile"
IDACI_RANK = "idaci_rank"
IDACI_DECILE = "idaci_decile"
NEED_COUNT = "need_count"
NEED_SUPPRESSED = "need_suppressed"

# ---- the seam: long travel-time table ---------------------------------------------
ORIGIN_ID = "origin_id"
DESTINATION_ID = "destination_id"
TRAVEL_TIME_S = "travel_time_s"
MODE = "mode"

# ---- analysis outputs shared by several stages ------------------------------------
THRESHOLD_MIN = "threshold_min"
#: How a travel-time table was made (``"street network (osm)"``, the straight-line
#: estimate note, a timetable ...): the column of the travel-time CSVs.
METHOD = "method"
#: The same label in tables derived from travel times (coverage, access, cold spots),
#: where ``method`` may already name the measure (e.g. ``"e2sfca_stepped"``).
TRAVEL_TIME_METHOD = "travel_time_method"
REASON = "reason"  # plain-English reason a cold spot or recommendation was flagged
GI_LABEL = "gi_label"
GI_HOT = "hot (far, significant)"
GI_COLD = "cold (near, significant)"
GI_NOT_SIGNIFICANT = "not significant"
RANK = "rank"
SITE_NAME = "site_name"
WHY = "why"

# ---- geometry ----------------------------------------------------------------------
GEOMETRY = "geometry"
EASTING = "easting"
NORTHING = "northing"


class ProviderKind(StrEnum):
    """What a provider is. The value is what appears in tables."""

    INCLUSION_CENTRE = "inclusion_centre"
    PRU = "pru"
    AP_ACADEMY = "ap_academy"
    AP_FREE_SCHOOL = "ap_free_school"
    FRAMEWORK_PROVIDER = "framework_provider"
    HOSPITAL_EDUCATION = "hospital_education"
    SPECIAL_SCHOOL = "special_school"
    PRIMARY_AP_HUB = "primary_ap_hub"
    OTHER = "other"

    @classmethod
    def parse(cls, value: object) -> ProviderKind:
        """A kind from its value or a spelling councils use (:data:`KIND_SPELLINGS`).

        Parameters
        ----------
        value
            A kind's value (``"pru"``) or a spelling councils use (``"Pupil Referral Unit"``).

        Returns
        -------
        ProviderKind
            The kind; an unknown or blank value raises :class:`~apgeo._errors.ApgeoValueError`.
        """
        return read_kind(value)[0]


#: Kinds counted as alternative provision proper (the others, e.g. special schools, are
#: "AP-adjacent"). The one definition: the default ``kinds`` of every function that counts
#: AP (coverage, access, cold spots, scenarios, recommendations) and of the study's
#: ``[analysis] ap_kinds``. Pass ``kinds=None`` to count every provider, or your own list.
AP_KINDS: frozenset[ProviderKind] = frozenset(
    {
        ProviderKind.INCLUSION_CENTRE,
        ProviderKind.PRU,
        ProviderKind.AP_ACADEMY,
        ProviderKind.AP_FREE_SCHOOL,
        ProviderKind.FRAMEWORK_PROVIDER,
        ProviderKind.HOSPITAL_EDUCATION,
        ProviderKind.PRIMARY_AP_HUB,
    }
)
#: The same kinds as table values, in :class:`ProviderKind` order.
AP_KIND_NAMES: tuple[str, ...] = tuple(k.value for k in ProviderKind if k in AP_KINDS)

KeyStage = Literal["KS1", "KS2", "KS3", "KS4", "KS5"]
KEY_STAGE_NAMES: tuple[KeyStage, ...] = ("KS1", "KS2", "KS3", "KS4", "KS5")
#: Compulsory school age: the key stages used when ``key_stages=None`` and the providers
#: passed do not say which key stages they serve.
COMPULSORY_KEY_STAGES: tuple[KeyStage, ...] = ("KS1", "KS2", "KS3", "KS4")

#: Ages (at 31 August, i.e. the age at the start of the school year) in each key stage.
#: KS1 = Years 1-2, KS2 = Years 3-6, KS3 = Years 7-9, KS4 = Years 10-11, KS5 = Years 12-13.
#: Mid-year population estimates give age at 30 June, which is the age at the
#: *end* of the school year for nearly all children: a Year 7 pupil is 11 at 30 June
#: for ten months of the year. We therefore use these ages directly on mid-year data.
KEY_STAGE_AGES: dict[KeyStage, tuple[int, ...]] = {
    "KS1": (5, 6),
    "KS2": (7, 8, 9, 10),
    "KS3": (11, 12, 13),
    "KS4": (14, 15),
    "KS5": (16, 17),
}


def children_column(key_stage: str) -> str:
    """Column holding the number of children of a key stage, e.g. ``children_ks3``.

    Parameters
    ----------
    key_stage
        Key stage name, any case (``"KS3"``).

    Returns
    -------
    str
        The column name ``children_<key stage in lower case>``.
    """
    return f"children_{key_stage.lower()}"


def age_column(age: int) -> str:
    """Column holding the number of children of one single year of age, e.g. ``age_11``.

    Parameters
    ----------
    age
        Single year of age (e.g. 11).

    Returns
    -------
    str
        The column name ``age_<age>``.
    """
    return f"age_{age}"


def parse_key_stages(value: object) -> tuple[KeyStage, ...]:
    """Parse ``"KS3,KS4"``, ``"KS1-KS4"``, ``["KS1", "KS2"]`` into a sorted tuple; the
    spellings councils use are read too (see :func:`read_key_stages`).

    Parameters
    ----------
    value
        A string or a sequence of strings; ``None`` or NaN gives an empty tuple.

    Returns
    -------
    tuple of KeyStage
        The key stages named, in key stage order, each once.
    """
    return read_key_stages(value)[0]


#: Phase words councils write for key stages (compared in lower case, spaces and
#: hyphens ignored).
PHASE_KEY_STAGES: dict[str, tuple[KeyStage, ...]] = {
    "primary": ("KS1", "KS2"),
    "infant": ("KS1",),
    "infants": ("KS1",),
    "junior": ("KS2",),
    "juniors": ("KS2",),
    "middle": ("KS2", "KS3"),
    "secondary": ("KS3", "KS4"),
    "post16": ("KS5",),
    "16+": ("KS5",),
    "16plus": ("KS5",),
    "sixthform": ("KS5",),
    "allthrough": ("KS1", "KS2", "KS3", "KS4", "KS5"),
}
#: National curriculum year -> key stage (Years 1-2 KS1, 3-6 KS2, 7-9 KS3, 10-11 KS4, 12-13 KS5).
YEAR_KEY_STAGE: dict[int, KeyStage] = {
    1: "KS1", 2: "KS1", 3: "KS2", 4: "KS2", 5: "KS2", 6: "KS2", 7: "KS3", 8: "KS3", 9: "KS3",
    10: "KS4", 11: "KS4", 12: "KS5", 13: "KS5",
}
_MONTHS = "jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec"
_EXCEL_DATE = re.compile(
    rf"^(\d{{1,2}}[-/ ]({_MONTHS})[a-z]*([-/ ]\d{{2,4}})?|({_MONTHS})[a-z]*[-/ ]\d{{1,4}}|\d{{4}}-\d{{2}}-\d{{2}}( 00:00:00)?)$"
)
_KS_PART = re.compile(r"^(?:ks|keystage|key_stage|stage)_?(\d)(?:(?:-|to)(?:ks|keystage|key_stage)?_?(\d))?$")
_YEAR_PART = re.compile(r"^(?:y|yr|yrs|year|years|ncy)_?(\d{1,2})(?:(?:-|to)(?:y|yr|year)?_?(\d{1,2}))?$")
_AGE_PART = re.compile(r"^(?:age|ages|aged)_?(\d{1,2})(?:(?:-|to)_?(\d{1,2}))?$")
_BARE_PART = re.compile(r"^(\d{1,2})(?:(?:-|to)(\d{1,2}))?$")
_SEPARATORS = re.compile(r"\s*(?:,|;|/|&|\+|\||\band\b|\n)\s*", re.IGNORECASE)


def _stages_of(unit: str, lo: int, hi: int | None, text: str) -> tuple[KeyStage, ...]:
    from apgeo._errors import ApgeoValueError

    hi = lo if hi is None else hi
    if hi < lo:
        raise ApgeoValueError(f"bad range {text!r}: the first number must be the smaller")
    if unit == "ks":
        if not (1 <= lo and hi <= 5):
            raise ApgeoValueError(f"unknown key stage {text!r}: key stages are KS1..KS5")
        return KEY_STAGE_NAMES[lo - 1 : hi]
    if unit == "year":
        if not (1 <= lo and hi <= 13):
            raise ApgeoValueError(f"school year {text!r} is outside Years 1-13 (Reception and nursery are not key stages)")
        return tuple(dict.fromkeys(YEAR_KEY_STAGE[y] for y in range(lo, hi + 1)))
    # ages: a school age range "11-16" runs from 11 up to (not including) 16
    ages = range(lo, hi) if hi > lo else range(lo, lo + 1)
    out = tuple(k for k in KEY_STAGE_NAMES if set(KEY_STAGE_AGES[k]) & set(ages))
    if not out:
        raise ApgeoValueError(f"ages {text!r} fall in no key stage (KS1 starts at 5, KS5 ends at 17)")
    return out


def read_key_stages(value: object) -> tuple[tuple[KeyStage, ...], str]:
    """Key stages from a cell as councils write it, and a note saying how it was read
    (``""`` when it was written as apgeo writes it: ``"KS3,KS4"``, ``"KS1-KS4"``).

    Read: ``"KS3/KS4"``, ``"KS3 & KS4"``, ``"KS 3"``, ``"Key Stage 3 and 4"``, ``"KS3-4"``,
    school years (``"Y7-Y11"``, ``"Year 10"``, ``"Years 7 to 9"``), phases (``"primary"`` =
    KS1+KS2, ``"secondary"`` = KS3+KS4, ``"post-16"`` = KS5, ``"all-through"``), age ranges
    (``"ages 11-16"``, ``"11-16"``: from 11 up to 16) and bare numbers (``"3,4"``). A date
    (Excel turns ``3-4`` into ``03-Apr``) and anything else raise, saying what to write.

    Parameters
    ----------
    value
        A cell: a string or a sequence of strings; ``None`` or NaN reads as no key stages.

    Returns
    -------
    stages : tuple of KeyStage
        The key stages named, in key stage order, each once.
    note : str
        How a non-canonical spelling was read (e.g. ``"key stages 'Y7-Y11' read as
        KS3+KS4"``), ``""`` when it was written as apgeo writes it.
    """
    if isinstance(value, str):
        return _read_key_stages_text(value)  # a column repeats a few spellings: read each once
    return _read_key_stages(value)


@functools.lru_cache(maxsize=4096)
def _read_key_stages_text(value: str) -> tuple[tuple[KeyStage, ...], str]:
    return _read_key_stages(value)


def _read_key_stages(value: object) -> tuple[tuple[KeyStage, ...], str]:
    from apgeo._errors import ApgeoValueError

    if value is None or (isinstance(value, float) and value != value):
        return (), ""
    items = [value] if isinstance(value, str) else [str(v) for v in value]  # type: ignore[attr-defined]
    out: set[str] = set()
    canonical = True
    for raw in items:
        text = " ".join(str(raw).replace("\u2013", "-").replace("\u2014", "-").split())
        if not text:
            continue
        if _EXCEL_DATE.match(text.lower()):
            raise ApgeoValueError(
                f"key stages {text!r} look like a date: Excel turns a range such as 3-4 into one; "
                "format the column as Text and type e.g. KS3-KS4"
            )
        unit = "ks"
        if not re.fullmatch(r"KS[1-5](-KS[1-5])?(,KS[1-5](-KS[1-5])?)*", re.sub(r",\s+", ",", text)):
            canonical = False
        for part in _SEPARATORS.split(text):
            if not part:
                continue
            key = re.sub(r"\s*(-|to)\s*", r"\1", part.lower())
            key = re.sub(r"\bonly\b|\(.*?\)|\bpupils?\b", "", key).strip()
            key = re.sub(r"\s+", "_", key)
            squashed = key.replace("_", "").replace("-", "")
            if squashed in PHASE_KEY_STAGES:
                out.update(PHASE_KEY_STAGES[squashed])
                continue
            for pattern, kind in ((_KS_PART, "ks"), (_YEAR_PART, "year"), (_AGE_PART, "age")):
                m = pattern.match(key)
                if m:
                    unit = kind
                    break
            else:
                m = _BARE_PART.match(key)
                if m and unit == "ks" and (int(m.group(1)) > 5 or int(m.group(2) or 0) > 5):
                    unit = "age"  # "11-16": a school age range
            if not m:
                raise ApgeoValueError(
                    f"unknown key stage {part!r} in {text!r}; use KS1..KS5, comma-separated or a range "
                    "'KS1-KS4' (school years 'Y7-Y11', 'primary', 'secondary' and 'post-16' are read too)"
                )
            hi = m.group(2)
            out.update(_stages_of(unit, int(m.group(1)), int(hi) if hi else None, part))
    stages = tuple(k for k in KEY_STAGE_NAMES if k in out)
    shown = value if isinstance(value, str) else ", ".join(map(str, items))
    note = "" if canonical else f"key stages {shown!r} read as {'+'.join(stages) or 'none'}"
    return stages, note


#: Spellings of provider kinds that councils and GIAS use (compared in lower case with
#: spaces and hyphens as underscores) -> kind.
KIND_SPELLINGS: dict[str, ProviderKind] = {
    "pupil_referral_unit": ProviderKind.PRU,
    "referral_unit": ProviderKind.PRU,
    "short_stay_school": ProviderKind.PRU,
    "ap_academy": ProviderKind.AP_ACADEMY,
    "alternative_provision_academy": ProviderKind.AP_ACADEMY,
    "academy_alternative_provision_converter": ProviderKind.AP_ACADEMY,
    "academy_alternative_provision_sponsor_led": ProviderKind.AP_ACADEMY,
    "ap_free_school": ProviderKind.AP_FREE_SCHOOL,
    "alternative_provision_free_school": ProviderKind.AP_FREE_SCHOOL,
    "free_schools_alternative_provision": ProviderKind.AP_FREE_SCHOOL,
    "framework": ProviderKind.FRAMEWORK_PROVIDER,
    "independent_ap": ProviderKind.FRAMEWORK_PROVIDER,
    "independent_ap_provider": ProviderKind.FRAMEWORK_PROVIDER,
    "independent_alternative_provision": ProviderKind.FRAMEWORK_PROVIDER,
    "commissioned_ap": ProviderKind.FRAMEWORK_PROVIDER,
    "commissioned_provider": ProviderKind.FRAMEWORK_PROVIDER,
    "hospital": ProviderKind.HOSPITAL_EDUCATION,
    "hospital_school": ProviderKind.HOSPITAL_EDUCATION,
    "medical_needs": ProviderKind.HOSPITAL_EDUCATION,
    "special": ProviderKind.SPECIAL_SCHOOL,
    "sen_school": ProviderKind.SPECIAL_SCHOOL,
    "send_school": ProviderKind.SPECIAL_SCHOOL,
    "community_special_school": ProviderKind.SPECIAL_SCHOOL,
    "foundation_special_school": ProviderKind.SPECIAL_SCHOOL,
    "academy_special_converter": ProviderKind.SPECIAL_SCHOOL,
    "academy_special_sponsor_led": ProviderKind.SPECIAL_SCHOOL,
    "free_schools_special": ProviderKind.SPECIAL_SCHOOL,
    "non_maintained_special_school": ProviderKind.SPECIAL_SCHOOL,
    "independent_special_school": ProviderKind.SPECIAL_SCHOOL,
    "other_independent_special_school": ProviderKind.SPECIAL_SCHOOL,
    "primary_hub": ProviderKind.PRIMARY_AP_HUB,
    "primary_ap": ProviderKind.PRIMARY_AP_HUB,
    "primary_ap_hub": ProviderKind.PRIMARY_AP_HUB,
    "inclusion_center": ProviderKind.INCLUSION_CENTRE,
}


def read_kind(value: object) -> tuple[ProviderKind, str]:
    """A provider kind from a cell, and a note when it was read from another spelling
    (``"Pupil Referral Unit"`` -> ``pru``: :data:`KIND_SPELLINGS`); raises naming the kinds.

    Parameters
    ----------
    value
        A cell: a kind's value or another spelling; case and punctuation are ignored, as is
        a leading "a", "an" or "the".

    Returns
    -------
    kind : ProviderKind
        The kind read.
    note : str
        ``"kind '<cell>' read as '<kind>'"`` when it came from :data:`KIND_SPELLINGS`, else
        ``""``.
    """
    if isinstance(value, str):
        return _read_kind_text(value)
    return _read_kind(value)


@functools.lru_cache(maxsize=1024)
def _read_kind_text(value: str) -> tuple[ProviderKind, str]:
    return _read_kind(value)


def _read_kind(value: object) -> tuple[ProviderKind, str]:
    from apgeo._errors import ApgeoValueError

    text = str(value).strip()
    key = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    key = re.sub(r"^(an?|the)_", "", key)
    try:
        return ProviderKind(key), ""
    except ValueError:
        pass
    if key in KIND_SPELLINGS:
        kind = KIND_SPELLINGS[key]
        return kind, f"kind {text!r} read as {kind.value!r}"
    if value is None or (isinstance(value, float) and value != value) or not text:
        raise ApgeoValueError(f"no provider kind given; use one of {[k.value for k in ProviderKind]}")
    raise ApgeoValueError(
        f"unknown provider kind {value!r}; use one of {[k.value for k in ProviderKind]} "
        "(or a spelling such as 'Pupil Referral Unit', 'special school', 'hospital school')"
    )
