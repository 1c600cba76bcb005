"""The clearly labelled fallback when no street network is available: a straight-line estimate.

travel time = crow-fly distance x circuity factor / mode speed

The circuity factor (default 1.3) converts straight-line distance to an approximate
street distance. Source: Ballou, R. H., Rahardja, H. & Sakai, N. (2002) "Selected
country circuity factors for road travel distance estimation", *Transportation
Research Part A* 36(9), 843-848, which reports factors of roughly 1.1-1.4 between
countries; 1.3 is a conventional middle value for a hilly, river-cut city such as
Sheffield. It ignores one-way streets, rivers, railways, hills and motorways: every
output built on it says "straight-line estimate".
"""

from __future__ import annotations

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

#: Default speeds (km/h) used by the estimate, matching the network defaults:
#: walking 4.8 km/h (DfT journey-time statistics), cycling 15 km/h, driving 30 km/h
#: (an urban average including junctions; the network engine uses OSM maxspeed instead).
STRAIGHT_LINE_SPEEDS_KPH: Final[dict[str, float]] = {"walk": 4.8, "cycle": 15.0, "drive": 30.0}
DEFAULT_CIRCUITY: Final[float] = 1.3
METHOD_LABEL: Final[str] = "straight-line estimate"
#: Circuity factor per mode (street distance / crow-fly distance).
STRAIGHT_LINE_CIRCUITY: Final[dict[str, float]] = {"walk": DEFAULT_CIRCUITY, "cycle": DEFAULT_CIRCUITY, "drive": DEFAULT_CIRCUITY}


def circuity_for(mode: str) -> float:
    """The committed circuity factor of ``mode`` (:data:`DEFAULT_CIRCUITY` for another mode)."""
    return STRAIGHT_LINE_CIRCUITY.get(mode, DEFAULT_CIRCUITY)


def method_note(mode: str, *, circuity_factor: float = DEFAULT_CIRCUITY, speed_kph: float | None = None) -> str:
    """One line that says how these times were made, for titles, legends and reports."""
    speed = speed_kph if speed_kph is not None else STRAIGHT_LINE_SPEEDS_KPH.get(mode, float("nan"))
    return (
        f"STRAIGHT-LINE ESTIMATE, not a street network: crow-fly distance x {circuity_factor:g} "
        f"at {speed:g} km/h ({mode})"
    )


def straight_line_travel_times(
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    *,
    origin_id_column: str,
    destination_id_column: str,
    mode: str,
    circuity_factor: float = DEFAULT_CIRCUITY,
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
    """
    if mode not in STRAIGHT_LINE_SPEEDS_KPH and speed_kph is None:
        raise ApgeoValueError(
            f"unknown mode {mode!r} for the straight-line estimate; use one of "
            f"{sorted(STRAIGHT_LINE_SPEEDS_KPH)} or pass speed_kph="
        )
    speed = float(speed_kph if speed_kph is not None else STRAIGHT_LINE_SPEEDS_KPH[mode])
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
