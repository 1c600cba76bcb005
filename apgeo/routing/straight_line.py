"""The clearly labelled fallback when no street network is available: a straight-line estimate.

travel time = crow-fly distance x circuity factor / mode speed

The circuity factor (default 1.3) converts straight-line distance to an approximate
street distance. Source: Ballou, R. H., Rahardja, H. & Sakai, N. (2002) "Selected
country circuity factors for road travel distance estimation", *Transportation
Research Part A* 36(9), 843-848, which reports factors of roughly 1.1-1.4 between
countries; 1.3 is a conventional middle value for a hilly, river-cut city such as
Sheffield. It ignores one-way streets, rivers, railways, hills and motorways: every
output built on it says "straight-line estimate".

How far off it is was measured on every real street network at hand
(``scripts/measure_straight_line.py``, :mod:`apgeo.routing.straight_line_error`): per
LSOA, the street time to the nearest site over this estimate. Walking and cycling agree
between a city centre and rural counties; driving does not (rural roads are much faster
than 30 km/h, city main roads are not). :data:`MEASURED_BANDS` holds the measured spread and
:func:`method_note` carries it on every output: a short band in titles and table labels,
:func:`error_band_sentence` the full sentence for reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist

from apgeo import schema as S
from apgeo._errors import ApgeoValueError
from apgeo._validate import (
    check_geometries,
    check_near_area,
    check_unique,
    require_columns,
    to_working_crs,
)

#: Speeds (km/h) of the estimate. Walking 4.8 km/h (DfT journey-time statistics, the walk
#: network's speed); cycling 13.5 km/h, fitted: the street networks ride at 15 km/h, but door
#: to door, with the walk to and from the street and the detours, the measured effective
#: speed was 13.6 km/h on the Isle of Wight and 13.5 km/h in Rutland (LSOAs to their
#: nearest secondary school), which agree; driving 30 km/h (an urban average including
#: junctions), kept: measured 35 km/h door to door on Sheffield's main roads (to the one GIAS
#: AP setting, 5 km away) but 40-58 km/h on the Isle of Wight's and Rutland's rural roads, so
#: no one speed fits both (see :data:`MEASURED_BANDS`). Measured by
#: ``scripts/measure_straight_line.py`` (benchmarks/results/straight_line_error.csv).
STRAIGHT_LINE_SPEEDS_KPH: Final[dict[str, float]] = {"walk": 4.8, "cycle": 13.5, "drive": 30.0}
DEFAULT_CIRCUITY: Final[float] = 1.3
METHOD_LABEL: Final[str] = "straight-line estimate"
#: Circuity factor per mode (street distance / crow-fly distance, door to door). Measured
#: (median per place, LSOAs to their nearest secondary school): walk 1.32 Isle of Wight,
#: 1.23 Rutland, 1.32 Leeds centre; cycle 1.31 / 1.23; drive 1.40 / 1.32 and 1.35 on
#: Sheffield's main roads (to its AP setting). Every mode's median lies within 0.1 of
#: 1.3, so 1.3 is kept for all: the measurements do not support a different factor per mode.
STRAIGHT_LINE_CIRCUITY: Final[dict[str, float]] = {"walk": 1.3, "cycle": 1.3, "drive": 1.3}


def circuity_for(mode: str) -> float:
    """The committed circuity factor of ``mode`` (:data:`DEFAULT_CIRCUITY` for another mode).

    Parameters
    ----------
    mode
        Travel mode.

    Returns
    -------
    float
        Road distance / crow-fly distance.
    """
    return STRAIGHT_LINE_CIRCUITY.get(mode, DEFAULT_CIRCUITY)


@dataclass(frozen=True)
class MeasuredBand:
    """Street time / straight-line time over measured areas, at the committed constants.

    ``low`` and ``high`` are the 10th and 90th percentiles (8 areas in 10 lie between),
    ``where`` names the places, ``setting`` the kind of place when modes differ by it
    (empty: all places agree).
    """

    low: float
    median: float
    high: float
    where: str
    setting: str = ""


#: The measured bands, per mode, at :data:`STRAIGHT_LINE_CIRCUITY` and
#: :data:`STRAIGHT_LINE_SPEEDS_KPH` (``scripts/measure_straight_line.py``, the "band" lines;
#: LSOA population-weighted centroids to their nearest secondary school, the destination
#: set every place has; AP trips are longer and fall inside these bands for walking and
#: cycling). Driving differs between rural roads and a city and carries both.
MEASURED_BANDS: Final[dict[str, tuple[MeasuredBand, ...]]] = {
    "walk": (MeasuredBand(0.89, 1.01, 1.55, "Isle of Wight, Rutland, Leeds centre"),),
    "cycle": (MeasuredBand(0.83, 1.02, 1.86, "Isle of Wight, Rutland"),),
    # rural: nearest secondary school (to the Isle of Wight's one AP setting, 10 km away:
    # median 0.50, 0.42-0.85); city: Sheffield's main roads to its GIAS AP setting (to
    # secondary schools 1 km away the walk to the nearest main road dominates: 2.77)
    "drive": (
        MeasuredBand(0.46, 0.89, 1.67, "Isle of Wight, Rutland", "on rural roads"),
        MeasuredBand(0.66, 0.93, 1.61, "Sheffield, main roads only", "in a city"),
    ),
}


def _scale(mode: str, circuity_factor: float | None, speed_kph: float | None) -> float | None:
    """How the measured ratios change for another factor or speed (they are exact multiples:
    street time / (crow-fly x c / v)); ``None`` when the mode has no committed speed."""
    if mode not in STRAIGHT_LINE_SPEEDS_KPH:
        return None
    c = circuity_factor if circuity_factor is not None else circuity_for(mode)
    v = speed_kph if speed_kph is not None else STRAIGHT_LINE_SPEEDS_KPH[mode]
    return (circuity_for(mode) / STRAIGHT_LINE_SPEEDS_KPH[mode]) / (c / v)


def error_band(mode: str, *, circuity_factor: float | None = None, speed_kph: float | None = None) -> str:
    """The measured band in a few words, for titles and table labels, e.g.
    ``"real street times 0.9-1.6x this"``.

    Parameters
    ----------
    mode
        Travel mode.
    circuity_factor, speed_kph
        The estimate's factor and speed in km/h (``None``: the mode's committed ones); the
        measured ratios are rescaled to them.

    Returns
    -------
    str
        The band, or ``"error not measured for this mode"``.
    """
    scale = _scale(mode, circuity_factor, speed_kph)
    bands = MEASURED_BANDS.get(mode)
    if scale is None or not bands:
        return "error not measured for this mode"
    parts = [
        f"{b.low * scale:.1f}-{b.high * scale:.1f}x{' this' if i == 0 else ''}" + (f" {b.setting}" if b.setting else "")
        for i, b in enumerate(bands)
    ]
    return "real street times " + ", ".join(parts)


def error_band_sentence(mode: str, *, circuity_factor: float | None = None, speed_kph: float | None = None) -> str:
    """The measured band as a sentence a planner reads, for the report's method section.

    Parameters
    ----------
    mode
        Travel mode.
    circuity_factor, speed_kph
        The estimate's factor and speed in km/h (``None``: the mode's committed ones).

    Returns
    -------
    str
        The sentence(s).
    """
    scale = _scale(mode, circuity_factor, speed_kph)
    bands = MEASURED_BANDS.get(mode)
    if scale is None or not bands:
        return f"How far off the {mode} estimate is has not been measured."
    verb = {"walk": "walking", "cycle": "cycling", "drive": "driving"}.get(mode, mode)
    parts = [
        f"{b.setting + ' ' if b.setting else ''}{b.low * scale:.1f}-{b.high * scale:.1f} times "
        f"{'this estimate ' if i == 0 else ''}(median {b.median * scale:.2f}; {b.where})"
        for i, b in enumerate(bands)
    ]
    text = (
        f"Measured on real street networks, the {verb} time from 8 in 10 neighbourhoods (LSOAs) "
        f"to their nearest site was {'; '.join(parts)}."
    )
    if len(bands) > 1:
        text += (
            " One speed cannot fit both: on rural roads the estimate overstates driving times, "
            "most on long trips (to the Isle of Wight's one AP setting, 10 km away, real times "
            "were half the estimate); read drive figures outside cities as an upper bound."
        )
    return text + " (scripts/measure_straight_line.py)"


def method_note(mode: str, *, circuity_factor: float | None = None, speed_kph: float | None = None) -> str:
    """One line that says how these times were made and how far off they may be, for titles,
    legends and table labels (:func:`error_band_sentence` has the full sentence).

    Parameters
    ----------
    mode
        Travel mode.
    circuity_factor, speed_kph
        The estimate's factor and speed in km/h (``None``: the mode's committed ones).

    Returns
    -------
    str
        ``"STRAIGHT-LINE ESTIMATE, not a street network: ..."``.
    """
    c = circuity_factor if circuity_factor is not None else circuity_for(mode)
    speed = speed_kph if speed_kph is not None else STRAIGHT_LINE_SPEEDS_KPH.get(mode, float("nan"))
    return (
        f"STRAIGHT-LINE ESTIMATE, not a street network: crow-fly distance x {c:g} "
        f"at {speed:g} km/h ({mode}); {error_band(mode, circuity_factor=c, speed_kph=speed)}"
    )


def straight_line_travel_times(
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    *,
    origin_id_column: str,
    destination_id_column: str,
    mode: str,
    circuity_factor: float | None = None,
    speed_kph: float | None = None,
    max_travel_time_s: float | None = None,
    allow_far: bool = False,
) -> pd.DataFrame:
    """All-pairs travel-time table from the straight-line estimate.

    A destination more than 50 km from every origin (outside their convex hull) gets a
    warning; more than 150 km an error naming it, unless ``allow_far=True``: London
    coordinates in a Sheffield study would otherwise give plausible, long times.

    Returns the long table ``origin_id, destination_id, travel_time_s`` (the same seam
    as the network engine), plus ``distance_m`` (crow-fly). Pairs beyond
    ``max_travel_time_s`` are NaN. ``table.attrs["method"]`` holds the method note
    (:func:`method_note`) and ``table.attrs["mode"]`` the mode: every table derived from
    it (coverage, access, cold spots) carries both, and refuses another ``mode``.

    Parameters
    ----------
    origins, destinations
        Point GeoDataFrames in a projected CRS (polygons: their representative points).
    origin_id_column, destination_id_column
        Unique id columns of each.
    mode
        ``"walk"``, ``"cycle"`` or ``"drive"`` (sets the default speed).
    circuity_factor
        Network distance / crow-fly distance (default 1.3, or the mode's measured value).
    speed_kph
        Speed (default: the mode's speed).
    max_travel_time_s
        Pairs beyond this are NaN (``None``: no limit).
    allow_far
        Accept destinations more than 150 km from every origin (with a warning).

    Returns
    -------
    pandas.DataFrame
        The long table described above, with ``attrs["method"]`` and ``attrs["mode"]``.
    """
    if mode not in STRAIGHT_LINE_SPEEDS_KPH and speed_kph is None:
        raise ApgeoValueError(
            f"unknown mode {mode!r} for the straight-line estimate; use one of "
            f"{sorted(STRAIGHT_LINE_SPEEDS_KPH)} or pass speed_kph="
        )
    speed = float(speed_kph if speed_kph is not None else STRAIGHT_LINE_SPEEDS_KPH[mode])
    circuity_factor = float(circuity_factor if circuity_factor is not None else circuity_for(mode))
    if not np.isfinite(speed) or speed <= 0:
        raise ApgeoValueError(f"speed_kph must be a positive number of km/h, not {speed_kph!r}")
    if not np.isfinite(circuity_factor) or circuity_factor < 1:
        raise ApgeoValueError(f"circuity_factor must be >= 1 (street distance >= crow-fly), not {circuity_factor!r}")
    for gdf, col, name in ((origins, origin_id_column, "origins"), (destinations, destination_id_column, "destinations")):
        require_columns(gdf, [col], source=name)
        check_unique(gdf, col, source=name)
    o = to_working_crs(origins, name="origins")
    d = to_working_crs(destinations, name="destinations")
    check_geometries(o, id_column=origin_id_column, name="origins")
    check_geometries(d, id_column=destination_id_column, name="destinations")
    if len(o) and len(d):
        check_near_area(
            d.geometry.centroid, o.geometry.union_all().convex_hull, ids=d[destination_id_column],
            source="destinations", allow_far=allow_far,
        )
    oxy = np.column_stack([o.geometry.centroid.x, o.geometry.centroid.y])
    dxy = np.column_stack([d.geometry.centroid.x, d.geometry.centroid.y])
    dist = cdist(oxy, dxy) if len(oxy) and len(dxy) else np.zeros((len(oxy), len(dxy)))
    times = dist * circuity_factor / (speed / 3.6)
    if max_travel_time_s is not None:
        times = np.where(times <= max_travel_time_s, times, np.nan)
    table = pd.DataFrame(
        {
            S.ORIGIN_ID: np.repeat(o[origin_id_column].to_numpy(), len(d)),
            S.DESTINATION_ID: np.tile(d[destination_id_column].to_numpy(), len(o)),
            S.TRAVEL_TIME_S: times.ravel(),
            "distance_m": dist.ravel(),
        }
    )
    table.attrs["method"] = method_note(mode, circuity_factor=circuity_factor, speed_kph=speed)
    table.attrs["mode"] = mode
    return table
