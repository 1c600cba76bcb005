"""Column names, kinds and key stages: spelled once, used everywhere."""

from __future__ import annotations

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
    """``"'site_id' (one address pupils attend ...)"`` for a column of :data:`COLUMN_MEANING`."""
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
        from apgeo._errors import ApgeoValueError

        text = str(value).strip().lower().replace(" ", "_").replace("-", "_")
        try:
            return cls(text)
        except ValueError:
            raise ApgeoValueError(
                f"unknown provider kind {value!r}; use one of {[k.value for k in cls]}"
            ) from None


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
    """Column holding the number of children of a key stage, e.g. ``children_ks3``."""
    return f"children_{key_stage.lower()}"


def age_column(age: int) -> str:
    """Column holding the number of children of one single year of age, e.g. ``age_11``."""
    return f"age_{age}"


def parse_key_stages(value: object) -> tuple[KeyStage, ...]:
    """Parse ``"KS3,KS4"``, ``"KS1-KS4"``, ``["KS1", "KS2"]`` into a sorted tuple."""
    from apgeo._errors import ApgeoValueError

    if value is None or (isinstance(value, float) and value != value):
        return ()
    items: list[str]
    if isinstance(value, str):
        items = [p for p in value.replace(";", ",").replace(" ", "").split(",") if p]
    else:
        items = [str(v).strip() for v in value]  # type: ignore[attr-defined]
    out: set[str] = set()
    for item in items:
        item = item.upper()
        if "-" in item:
            lo, hi = item.split("-", 1)
            if not hi.startswith("KS"):
                hi = "KS" + hi
            names = list(KEY_STAGE_NAMES)
            if lo not in names or hi not in names:
                raise ApgeoValueError(f"bad key-stage range {item!r}; write e.g. 'KS1-KS4'")
            out.update(names[names.index(lo) : names.index(hi) + 1])
        elif item in KEY_STAGE_NAMES:
            out.add(item)
        else:
            raise ApgeoValueError(
                f"unknown key stage {item!r}; use KS1..KS5, comma-separated or a range 'KS1-KS4'"
            )
    return tuple(k for k in KEY_STAGE_NAMES if k in out)
