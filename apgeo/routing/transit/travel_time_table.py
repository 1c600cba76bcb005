"""Public-transport travel-time tables: every origin-destination pair over a window of
departure times, summarised as the median (or another percentile) of the journeys.

:func:`transit_travel_time_table` asks a :class:`~apgeo.routing.transit.raptor.TransitEngine`
for the earliest arrivals from a block of origins at a time (every destination, every
departure in the window), turns them into journey times, and keeps only each pair's
percentiles: the arrivals of one block stay under :data:`TABLE_BLOCK_CELLS`, so memory
grows with the number of pairs, not with pairs x departures (345 areas x 50,000 sites x
121 departures would be 16.7 GB of arrivals at once).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from apgeo._errors import ApgeoValueError
from apgeo.routing.transit.feed import DEFAULT_MAX_TRAVEL_TIME_S, _fmt_window_time, parse_clock
from apgeo.routing.transit.raptor import SearchMethod, TransitEngine
from apgeo.routing.travel_times import _check_limit
from apgeo.schema import DESTINATION_ID, MODE, ORIGIN_ID, TRAVEL_TIME_S

#: Largest (origins x destinations x departures) block of arrivals held at once (float64:
#: 128 MB, a few times that with the journey times and the percentile's sort).
TABLE_BLOCK_CELLS = 1 << 24


def departure_times(
    departure_window: tuple[str | float, str | float] = ("07:00", "09:00"), step_min: float = 1
) -> np.ndarray:
    """Departure times (seconds after midnight) of a half-open window, every ``step_min``.

    Parameters
    ----------
    departure_window
        ``(first, end)`` as ``"HH:MM"`` or seconds after midnight; ``end`` is excluded.
    step_min
        Minutes between departures.

    Returns
    -------
    numpy.ndarray
        The departure times in seconds.

    Examples
    --------
    >>> departure_times(("07:00", "07:03"), 1).tolist()
    [25200.0, 25260.0, 25320.0]
    """
    if not isinstance(departure_window, (tuple, list)) or len(departure_window) != 2:
        raise ApgeoValueError(
            f"departure_window={departure_window!r}: give (start, end), e.g. ('07:00', '09:00')"
        )
    start = parse_clock(departure_window[0], name="departure_window start")
    end = parse_clock(departure_window[1], name="departure_window end")
    if not end > start:
        raise ApgeoValueError(
            f"departure_window={departure_window!r}: the end must be after the start"
        )
    if not isinstance(step_min, (int, float)) or not math.isfinite(step_min) or step_min <= 0:
        raise ApgeoValueError(f"step_min={step_min!r}: give a positive number of minutes")
    return np.arange(start, end, step_min * 60.0)


def nearest_rank_percentile(times: np.ndarray, percentile: float, *, axis: int = -1) -> np.ndarray:
    """Nearest-rank percentile along ``axis``; ``inf`` entries count as slowest.

    The smallest value such that at least ``percentile`` % of the values are no larger
    (numpy's ``method="inverted_cdf"``), so a median is always one of the times.

    Parameters
    ----------
    times
        Times (seconds); ``inf`` = no journey.
    percentile
        In ``[0, 100]``; 50 is the median.
    axis
        The axis to reduce.

    Returns
    -------
    numpy.ndarray
        ``times`` with ``axis`` reduced to the percentile.
    """
    return np.percentile(times, percentile, axis=axis, method="inverted_cdf")


def _percentile_column(p: float) -> str:
    return f"travel_time_p{p:g}_s"


def transit_travel_time_table(
    engine: TransitEngine,
    origins: gpd.GeoDataFrame | pd.DataFrame,
    destinations: gpd.GeoDataFrame | pd.DataFrame,
    *,
    origin_id_column: str,
    destination_id_column: str,
    departure_window: tuple[str | float, str | float] = ("07:00", "09:00"),
    step_min: float = 1,
    percentile: float = 50,
    extra_percentiles: Sequence[float] = (),
    max_travel_time_s: float | None = DEFAULT_MAX_TRAVEL_TIME_S,
    method: SearchMethod = "range",
    **snap_options: Any,
) -> pd.DataFrame:
    """Public-transport travel times for every origin-destination pair over a departure window.

    Parameters
    ----------
    engine
        A :class:`TransitEngine`.
    origins, destinations
        Point GeoDataFrames (any CRS) or tables snapped to the engine's walk network.
    origin_id_column, destination_id_column
        Unique id columns.
    departure_window
        ``(start, end)`` clock times on the feed's service date, half-open; default
        07:00-09:00 (the DfT journey-time statistics use 07:00-10:00).
    step_min
        Minutes between departures searched (1 = every minute, as r5py).
    percentile
        Which percentile of the travel times over the window goes in ``travel_time_s``
        (default 50, the median; nearest-rank).
    extra_percentiles
        More percentiles, each in a column ``travel_time_p{p}_s`` (e.g. ``(25, 75)``).
    max_travel_time_s
        Journeys longer than this are ``NaN`` (and are not searched for).
    method
        ``"range"`` (range-RAPTOR, default) or ``"per_departure"``; same results.
    **snap_options
        Passed to :func:`apgeo.routing.snap.snap_points`.

    Returns
    -------
    pandas.DataFrame
        ``origin_id``, ``destination_id``, ``travel_time_s`` (then any extra percentile
        columns): every pair, origins in input order then destinations; ``NaN`` when the
        percentile journey is unreachable or slower than ``max_travel_time_s``.
        ``attrs`` records ``mode="transit"``, the feed (name, date range, service date),
        the window, step, percentile, limits and engine settings.
    """
    for p in (percentile, *extra_percentiles):
        if not isinstance(p, (int, float)) or not 0 < p <= 100:
            raise ApgeoValueError(f"percentile {p!r}: give a number in (0, 100]")
    deps = departure_times(departure_window, step_min)
    limit = _check_limit(max_travel_time_s)
    o = engine.prepare_points(origins, id_column=origin_id_column, name="origins", **snap_options)
    d = engine.prepare_points(
        destinations, id_column=destination_id_column, name="destinations", **snap_options
    )
    # origins in blocks: the (origins x destinations x departures) arrivals of a block stay
    # under TABLE_BLOCK_CELLS, so memory grows with the pairs, not with pairs x departures
    wanted = (percentile, *extra_percentiles)
    columns = {p: np.full((len(o), len(d)), np.nan) for p in wanted}
    block = max(1, TABLE_BLOCK_CELLS // max(1, len(d) * len(deps)))
    for o0 in range(0, len(o), block):
        o1 = min(len(o), o0 + block)
        times = engine.earliest_arrivals(
            o.iloc[o0:o1],
            d,
            deps,
            origin_id_column=origin_id_column,
            destination_id_column=destination_id_column,
            max_travel_time_s=max_travel_time_s,
            method=method,
        )
        times -= deps[None, None, :]
        times[~(times <= limit)] = np.inf
        for p in wanted:
            value = nearest_rank_percentile(times, p, axis=2)
            columns[p][o0:o1] = np.where(np.isfinite(value), value, np.nan)
        del times

    table = pd.DataFrame(
        {
            ORIGIN_ID: np.repeat(o[origin_id_column].to_numpy(), len(d)),
            DESTINATION_ID: np.tile(d[destination_id_column].to_numpy(), len(o)),
            TRAVEL_TIME_S: columns[percentile].reshape(-1),
        }
    )
    for p in extra_percentiles:
        table[_percentile_column(p)] = columns[p].reshape(-1)
    table.attrs.update(
        {
            MODE: "transit",
            **engine.record(),
            "departure_window": (
                _fmt_window_time(parse_clock(departure_window[0])),
                _fmt_window_time(parse_clock(departure_window[1])),
            ),
            "step_min": float(step_min),
            "n_departures": len(deps),
            "percentile": float(percentile),
            "extra_percentiles": [float(p) for p in extra_percentiles],
            "percentile_method": "nearest-rank over departures; unreachable counts as slowest",
            "max_travel_time_s": limit,
            "search": "range-RAPTOR" if method == "range" else "RAPTOR per departure",
        }
    )
    return table


__all__ = [
    "TABLE_BLOCK_CELLS",
    "departure_times",
    "nearest_rank_percentile",
    "transit_travel_time_table",
]
