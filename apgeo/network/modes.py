"""Travel modes and their rules: which streets each mode may use, one-way rules and speeds.

See :mod:`apgeo.network` for the full rules (walk 4.8 km/h, cycle 15 km/h, drive from
``maxspeed`` in mph inside Great Britain, optional slope factors).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Literal, get_args

import numpy as np
import pandas as pd

from apgeo._errors import ApgeoValueError

Mode = Literal["walk", "cycle", "drive"]
MODES: tuple[Mode, ...] = get_args(Mode)

#: Default walking and cycling speeds (km/h).
DEFAULT_SPEEDS_KPH: dict[str, float] = {"walk": 4.8, "cycle": 15.0}

#: Drive speeds (mph) by OSM ``highway`` type, used when no ``maxspeed`` of that type is
#: known anywhere in the network. UK limits: 70 mph motorways, 60 mph national single
#: carriageway roads outside towns, 30 mph in built-up areas (most of Sheffield's
#: classified roads), walking pace on living streets, car parks and driveways.
DEFAULT_DRIVE_SPEEDS_MPH: dict[str, float] = {
    "motorway": 70.0,
    "motorway_link": 50.0,
    "trunk": 50.0,
    "trunk_link": 40.0,
    "primary": 40.0,
    "primary_link": 30.0,
    "secondary": 30.0,
    "secondary_link": 30.0,
    "tertiary": 30.0,
    "tertiary_link": 30.0,
    "unclassified": 30.0,
    "residential": 30.0,
    "road": 30.0,
    "busway": 30.0,
    "living_street": 10.0,
    "service": 10.0,
}
#: Drive speed (mph) for a highway type missing from every table.
FALLBACK_DRIVE_SPEED_MPH = 30.0
MPH_TO_KPH = 1.609344

_DRIVE_HIGHWAYS = frozenset(DEFAULT_DRIVE_SPEEDS_MPH) - {"busway"}
_DRIVE_EXCLUDED_SERVICE = frozenset(
    {"parking", "parking_aisle", "private", "emergency_access", "driveway"}
)
_NEVER = frozenset(
    {
        "abandoned",
        "bus_guideway",
        "construction",
        "planned",
        "platform",
        "proposed",
        "raceway",
        "razed",
        "no",
        "escape",
        "elevator",
    }
)
_WALK_EXCLUDED = _NEVER | {"motorway", "motorway_link", "busway"}
_CYCLE_EXCLUDED = _NEVER | {"motorway", "motorway_link", "steps", "corridor", "escalator", "busway"}
_PUSH_HIGHWAYS = frozenset({"footway", "pedestrian"})
_ALLOW_VALUES = frozenset({"yes", "designated", "permissive", "destination"})
_DENY_VALUES = frozenset({"no", "private"})
_TAG_COLUMNS = (
    "highway",
    "oneway",
    "junction",
    "maxspeed",
    "access",
    "foot",
    "bicycle",
    "motor_vehicle",
    "motorcar",
    "service",
    "area",
)
#: Great Britain in degrees (lon_min, lat_min, lon_max, lat_max), generous.
_GB_BOUNDS_LONLAT = (-8.8, 49.8, 1.9, 60.95)


# ---- modes and speeds -----------------------------------------------------------------


def check_mode(mode: object) -> Mode:
    """Return ``mode`` if it is one of :data:`MODES`, else raise :class:`ApgeoValueError`.

    Parameters
    ----------
    mode
        The value to check.

    Returns
    -------
    Mode
        ``mode``, typed.
    """
    if mode not in MODES:
        raise ApgeoValueError(
            f"unknown mode {mode!r}; use one of {', '.join(repr(m) for m in MODES)}"
        )
    return mode  # type: ignore[return-value]


def resolve_speeds(speeds_kph: Mapping[str, float] | None = None) -> dict[str, float]:
    """Merge user speeds into the defaults and check them.

    Parameters
    ----------
    speeds_kph
        Overrides. Keys: ``"walk"``, ``"cycle"``, ``"drive"`` (one speed for every drive
        edge, ignoring ``maxspeed``) or ``"drive:<highway>"`` (an entry of the default drive
        table, e.g. ``"drive:residential"``).

    Returns
    -------
    dict
        The full table in km/h (``walk``, ``cycle`` and every ``drive:<highway>``, plus
        ``drive`` when forced).
    """
    resolved: dict[str, float] = dict(DEFAULT_SPEEDS_KPH)
    for highway, mph in DEFAULT_DRIVE_SPEEDS_MPH.items():
        resolved[f"drive:{highway}"] = round(mph * MPH_TO_KPH, 6)
    for key, value in (speeds_kph or {}).items():
        if key not in ("walk", "cycle", "drive") and not str(key).startswith("drive:"):
            raise ApgeoValueError(
                f"speeds_kph: unknown key {key!r}; use 'walk', 'cycle', 'drive' or "
                "'drive:<highway type>' such as 'drive:residential'"
            )
        try:
            speed = float(value)
        except (TypeError, ValueError):
            raise ApgeoValueError(
                f"speeds_kph[{key!r}] = {value!r} is not a number; give a speed in km/h"
            ) from None
        if not math.isfinite(speed) or speed <= 0:
            raise ApgeoValueError(
                f"speeds_kph[{key!r}] = {value!r}: a speed must be a positive number of km/h"
            )
        resolved[str(key)] = speed
    return resolved


def _check_speed(speed_kph: float, *, name: str) -> float:
    if not isinstance(speed_kph, (int, float)) or not math.isfinite(speed_kph) or speed_kph <= 0:
        raise ApgeoValueError(f"{name} = {speed_kph!r}: a speed must be a positive number of km/h")
    return float(speed_kph)


_NUMBER_UNIT = re.compile(r"^(\d+(?:\.\d+)?)\s*(mph|km/h|kmh|kph|knots)?$")


def parse_maxspeed_kph(
    value: object,
    *,
    highway: str | None = None,
    oneway: bool = False,
    default_unit: Literal["mph", "kph"] = "mph",
) -> float:
    """Read an OSM ``maxspeed`` value as km/h; NaN when it says nothing usable.

    Parameters
    ----------
    value
        The tag: ``"30 mph"``, ``"20"``, ``"50 km/h"``, ``"national"``, ``"GB:nsl_dual"``,
        ``"30;40"`` (mean), a list of those (osmnx simplified edges; mean), NaN or None.
    highway, oneway
        Used for the national speed limit (70 mph on motorways and dual carriageways,
        60 mph otherwise).
    default_unit
        Unit of bare numbers: ``"mph"`` in the UK, ``"kph"`` elsewhere.

    Returns
    -------
    float
        The speed in km/h, or NaN.
    """
    if value is None:
        return math.nan
    if isinstance(value, (list, tuple, set)):
        parts = [
            parse_maxspeed_kph(v, highway=highway, oneway=oneway, default_unit=default_unit)
            for v in value
        ]
        known = [p for p in parts if math.isfinite(p)]
        return float(np.mean(known)) if known else math.nan
    if isinstance(value, (int, float, np.integer, np.floating)):
        number = float(value)
        if not math.isfinite(number) or number <= 0:
            return math.nan
        return number * MPH_TO_KPH if default_unit == "mph" else number
    text = str(value).strip().lower()
    if ";" in text or "|" in text:
        return parse_maxspeed_kph(
            re.split(r"[;|]", text), highway=highway, oneway=oneway, default_unit=default_unit
        )
    if text in (
        "national",
        "gb:national",
        "uk:national",
        "gb:nsl_single",
        "gb:nsl_dual",
        "gb:motorway",
        "uk:motorway",
    ):
        dual = (
            text in ("gb:nsl_dual", "gb:motorway", "uk:motorway")
            or highway in ("motorway", "motorway_link")
            or (
                text in ("national", "gb:national", "uk:national")
                and oneway
                and highway in ("trunk", "primary")
            )
        )
        if text == "gb:nsl_single":
            dual = False
        return (70.0 if dual else 60.0) * MPH_TO_KPH
    if text in ("gb:nsl_restricted", "gb:urban", "uk:nsl_restricted"):
        return 30.0 * MPH_TO_KPH
    match = _NUMBER_UNIT.match(text)
    if not match:
        return math.nan
    number = float(match.group(1))
    if number <= 0:
        return math.nan
    unit = match.group(2) or default_unit
    if unit == "mph":
        return number * MPH_TO_KPH
    if unit == "knots":
        return number * 1.852
    return number


# ---- CRS helpers ------------------------------------------------------------------------


def _usable_mask(edges: pd.DataFrame, mode: Mode) -> np.ndarray:
    highway = edges["highway"]
    access = edges["access"]
    area = edges["area"]
    if mode == "walk":
        own = edges["foot"]
        ok = ~highway.isin(_WALK_EXCLUDED)
    elif mode == "cycle":
        own = edges["bicycle"]
        ok = ~highway.isin(_CYCLE_EXCLUDED)
        ok &= ~(
            highway.isin(["trunk", "trunk_link"])
            & edges["bicycle"].isin(_DENY_VALUES | {"dismount"})
        )
        # bicycle=no on an ordinary way: push, which needs foot access
        ok &= ~(edges["bicycle"].isin(_DENY_VALUES) & edges["foot"].isin(_DENY_VALUES))
        own = own.where(~own.isin(_DENY_VALUES), edges["foot"])
    else:
        own = edges["motor_vehicle"].where(edges["motor_vehicle"].notna(), edges["motorcar"])
        ok = highway.isin(_DRIVE_HIGHWAYS)
        ok &= ~edges["service"].isin(_DRIVE_EXCLUDED_SERVICE)
    ok &= highway.notna()
    ok &= ~(area == "yes")
    denied = access.isin(_DENY_VALUES) & ~own.isin(_ALLOW_VALUES)
    ok &= ~denied
    ok &= ~own.isin(_DENY_VALUES)
    return ok.to_numpy(dtype=bool)


def _exclusion_reasons(edges: pd.DataFrame, mode: Mode) -> np.ndarray:
    """Why :func:`_usable_mask` leaves each row out for ``mode`` (``""``: usable), as the
    first rule that excludes it, named by its tag: ``"highway=motorway"``, ``"foot=no"``,
    ``"access=private"``, ``"service=parking"``, ``"area=yes"``, ``"no highway tag"``."""
    usable = _usable_mask(edges, mode)
    n = len(edges)
    reason = np.full(n, "", dtype=object)

    def note(mask: pd.Series | np.ndarray, text: pd.Series | np.ndarray | str) -> None:
        m = np.asarray(mask, dtype=bool) & ~usable & (reason == "")
        values = np.asarray(text, dtype=object) if not isinstance(text, str) else None
        reason[m] = text if values is None else values[m]

    highway = edges["highway"]
    own_key = {"walk": "foot", "cycle": "bicycle"}.get(mode, "motor_vehicle")
    if mode == "drive":
        own = edges["motor_vehicle"].where(edges["motor_vehicle"].notna(), edges["motorcar"])
        own_key_col = np.where(edges["motor_vehicle"].notna(), "motor_vehicle", "motorcar")
        excluded = ~highway.isin(_DRIVE_HIGHWAYS)
    else:
        own = edges[own_key]
        own_key_col = np.full(n, own_key, dtype=object)
        excluded = highway.isin(_WALK_EXCLUDED if mode == "walk" else _CYCLE_EXCLUDED)
    note(highway.isna(), "no highway tag")
    note(excluded, "highway=" + highway.astype(str))
    if mode == "drive":
        note(edges["service"].isin(_DRIVE_EXCLUDED_SERVICE), "service=" + edges["service"].astype(str))
    note(edges["area"] == "yes", "area=yes")
    note(own.isin(_DENY_VALUES), own_key_col + "=" + own.astype(str))
    note(edges["access"].isin(_DENY_VALUES), "access=" + edges["access"].astype(str))
    if mode == "cycle":
        note(edges["foot"].isin(_DENY_VALUES), "bicycle and foot=" + edges["foot"].astype(str))
        note(edges["bicycle"].notna(), "bicycle=" + edges["bicycle"].astype(str))
    note(~usable, "the mode's rules")
    return reason


def _is_oneway(edges: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """(forward-only, reverse-only) masks from the OSM tags of digitised ways."""
    oneway = edges["oneway"]
    forward = oneway.isin(["yes", "true", "1"])
    reverse = oneway.isin(["-1", "reverse"])
    implied = edges["junction"].isin(["roundabout", "circular"]) | edges["highway"].isin(
        ["motorway"]
    )
    forward |= implied & oneway.isna()
    return forward.to_numpy(dtype=bool), reverse.to_numpy(dtype=bool)


def _drive_speeds_kph(
    edges: pd.DataFrame, speeds: Mapping[str, float], *, default_unit: Literal["mph", "kph"]
) -> np.ndarray:
    if "drive" in speeds:
        return np.full(len(edges), float(speeds["drive"]))
    oneway = edges["oneway"].isin(["yes", "true", "1", "-1"]).to_numpy()
    raw = edges["maxspeed_raw"].to_numpy(dtype=object)
    highway_arr = edges["highway"].to_numpy(dtype=object)
    parsed = np.full(len(edges), np.nan)
    memo: dict[tuple[Any, ...], float] = {}
    for i in np.flatnonzero(pd.notna(raw)):  # missing values parse to NaN: skip them
        m, h, o = raw[i], highway_arr[i], bool(oneway[i])
        try:
            key = (type(m), m, h, o)
            parsed[i] = memo[key]
        except KeyError:
            parsed[i] = memo[key] = parse_maxspeed_kph(
                m, highway=h, oneway=o, default_unit=default_unit
            )
        except TypeError:  # a list of values (osmnx simplified edge)
            parsed[i] = parse_maxspeed_kph(m, highway=h, oneway=o, default_unit=default_unit)
    frame = pd.DataFrame({"highway": highway_arr, "kph": parsed})
    means = frame.groupby("highway")["kph"].mean()
    imputed = frame["highway"].map(means).to_numpy(dtype=float)
    codes, uniques = pd.factorize(highway_arr)
    per_type = np.array(
        [speeds.get(f"drive:{h}", FALLBACK_DRIVE_SPEED_MPH * MPH_TO_KPH) for h in uniques]
        + [FALLBACK_DRIVE_SPEED_MPH * MPH_TO_KPH],
        dtype=float,
    )
    table = per_type[codes]
    out = np.where(np.isfinite(parsed), parsed, np.where(np.isfinite(imputed), imputed, table))
    return out


def _slope_factor(grade: np.ndarray, mode: Mode, speeds: Mapping[str, float]) -> np.ndarray:
    if mode == "walk":
        return np.exp(-3.5 * np.abs(grade + 0.05)) / math.exp(-3.5 * 0.05)
    factor = np.clip(1.0 - 8.0 * grade, 0.3, 1.5)
    return np.maximum(factor, speeds["walk"] / speeds["cycle"])


__all__ = [
    "DEFAULT_DRIVE_SPEEDS_MPH",
    "DEFAULT_SPEEDS_KPH",
    "MODES",
    "Mode",
    "check_mode",
    "parse_maxspeed_kph",
    "resolve_speeds",
]
