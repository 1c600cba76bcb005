"""Walking legs of public-transport journeys without a street network, and transfer lists.

:class:`StraightLineWalk` stands in for the walk :class:`~apgeo.routing.travel_times.
TravelTimeEngine` of :class:`apgeo.routing.transit.raptor.TransitEngine` where no walk
network exists (offline): access, egress, transfer and walk-all-the-way legs are timed as
``crow-fly distance x circuity / walking speed`` (default 1.3 and 4.8 km/h, the same
estimate as the study's straight-line walk mode), in the projected working CRS. Every
table made with it says "straight-line walking".

:func:`combine_transfers` merges the engine's own walking transfers with pairs given by
the caller (``extra_transfers``) and removes forbidden pairs.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
from scipy.spatial.distance import cdist

from apgeo._errors import ApgeoValueError
from apgeo._validate import check_geometries, check_unique, require_columns, to_working_crs
from apgeo.routing.straight_line import DEFAULT_CIRCUITY
from apgeo.schema import TRAVEL_TIME_S
from apgeo.settings import WORKING_CRS


class StraightLineWalk:
    """Walking times as crow-fly distance x ``circuity`` at ``walk_speed_kph``.

    Parameters
    ----------
    circuity
        Street distance / crow-fly distance (>= 1; default 1.3, Ballou et al. 2002).
    crs
        Projected CRS in metres for the distances (default: apgeo's working CRS, British
        National Grid).
    """

    mode = "walk"

    def __init__(self, *, circuity: float = DEFAULT_CIRCUITY, crs: str = WORKING_CRS) -> None:
        if not isinstance(circuity, (int, float)) or not math.isfinite(circuity) or circuity < 1:
            raise ApgeoValueError(
                f"circuity={circuity!r}: give a number >= 1 (street distance >= crow-fly)"
            )
        self.circuity = float(circuity)
        self.crs = crs

    def describe(self, walk_speed_kph: float) -> str:
        """How the walking legs are timed, for labels.

        Parameters
        ----------
        walk_speed_kph
            Walking speed in km/h.

        Returns
        -------
        str
            The rule in words.
        """
        return (
            f"straight-line walking (crow-fly distance x {self.circuity:g} at "
            f"{walk_speed_kph:g} km/h)"
        )

    def points(
        self, frame: gpd.GeoDataFrame | pd.DataFrame, *, id_column: str, name: str
    ) -> gpd.GeoDataFrame:
        """``frame`` as points in :attr:`crs` (polygons by their centroid), ids checked.

        Parameters
        ----------
        frame
            A point GeoDataFrame with a CRS.
        id_column
            Its unique id column.
        name
            How to name it in errors.

        Returns
        -------
        geopandas.GeoDataFrame
            ``id_column`` and geometry, index reset.
        """
        if not isinstance(frame, gpd.GeoDataFrame):
            raise ApgeoValueError(
                f"{name} must be a point GeoDataFrame (straight-line walking has no network to "
                f"snap to), not {type(frame).__name__}"
            )
        require_columns(frame, [id_column], source=name)
        check_unique(frame, id_column, source=name)
        out = to_working_crs(frame[[id_column, frame.geometry.name]], name=name, crs=self.crs)
        check_geometries(out, id_column=id_column, name=name)
        if not (out.geometry.geom_type == "Point").all():
            out = out.set_geometry(out.geometry.centroid)
        return out.reset_index(drop=True)

    @staticmethod
    def xy(points: gpd.GeoDataFrame) -> np.ndarray:
        """``(n, 2)`` coordinates of :meth:`points` output.

        Parameters
        ----------
        points
            Output of :meth:`points`.

        Returns
        -------
        numpy.ndarray
            Float coordinates in metres.
        """
        return np.column_stack(
            [points.geometry.x.to_numpy(float), points.geometry.y.to_numpy(float)]
        )

    def seconds(self, from_xy: np.ndarray, to_xy: np.ndarray, walk_speed_kph: float) -> np.ndarray:
        """``(len(from_xy), len(to_xy))`` walking seconds.

        Parameters
        ----------
        from_xy, to_xy
            ``(n, 2)`` and ``(m, 2)`` coordinates in metres.
        walk_speed_kph
            Walking speed in km/h.

        Returns
        -------
        numpy.ndarray
            Crow-fly distance x circuity / speed.
        """
        if len(from_xy) == 0 or len(to_xy) == 0:
            return np.zeros((len(from_xy), len(to_xy)))
        return cdist(from_xy, to_xy) * self.circuity / (walk_speed_kph / 3.6)


def combine_transfers(
    own: tuple[np.ndarray, np.ndarray, np.ndarray],
    stop_index: dict[Any, int],
    extra: pd.DataFrame | None,
    forbidden: pd.DataFrame | None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The engine's transfers ``own = (from_row, to_row, seconds)`` with ``extra`` added.

    ``extra``: ``from_stop_id``, ``to_stop_id``, ``travel_time_s`` and optionally
    ``source``; rows whose ``source`` is ``"transfers.txt"`` always win for their pair,
    otherwise the shorter time wins. ``forbidden``: ``from_stop_id``, ``to_stop_id`` pairs
    removed whatever their origin. Pairs with a stop the engine does not know are ignored,
    as are pairs from a stop to itself.

    Parameters
    ----------
    own
        The engine's transfers as row arrays and seconds.
    stop_index
        Stop id -> row.
    extra
        Transfers to add (``None``: none).
    forbidden
        Pairs to remove (``None``: none).

    Returns
    -------
    tuple of numpy.ndarray
        ``(from_row, to_row, seconds)``.
    """
    src, dst, w = own
    if (extra is None or extra.empty) and (forbidden is None or forbidden.empty):
        return src, dst, w
    frames = [pd.DataFrame({"a": src, "b": dst, "w": w, "listed": False})]
    if extra is not None and len(extra):
        require_columns(
            extra, ["from_stop_id", "to_stop_id", TRAVEL_TIME_S], source="extra_transfers"
        )
        seconds = pd.to_numeric(extra[TRAVEL_TIME_S], errors="coerce").to_numpy(float)
        if not (np.isfinite(seconds) & (seconds >= 0)).all():
            raise ApgeoValueError(
                "extra_transfers: travel_time_s must be seconds >= 0 on every row; fix or drop "
                "the rows without a time"
            )
        keep = (
            extra["from_stop_id"].isin(stop_index) & extra["to_stop_id"].isin(stop_index)
        ).to_numpy()
        ex = extra[keep]
        listed = (
            (ex["source"] == "transfers.txt").to_numpy(bool)
            if "source" in ex.columns
            else np.zeros(len(ex), bool)
        )
        frames.append(
            pd.DataFrame(
                {
                    "a": ex["from_stop_id"].map(stop_index).to_numpy(np.int64),
                    "b": ex["to_stop_id"].map(stop_index).to_numpy(np.int64),
                    "w": seconds[keep],
                    "listed": listed,
                }
            )
        )
    table = pd.concat(frames, ignore_index=True)
    any_listed = table.groupby(["a", "b"])["listed"].transform("any")
    table = table[~any_listed | table["listed"]]
    table = table.groupby(["a", "b"], as_index=False).agg(w=("w", "min"))
    if forbidden is not None and len(forbidden):
        require_columns(forbidden, ["from_stop_id", "to_stop_id"], source="forbidden_transfers")
        known = forbidden["from_stop_id"].isin(stop_index) & forbidden["to_stop_id"].isin(
            stop_index
        )
        fb = forbidden[known]
        bad = pd.MultiIndex.from_arrays(
            [
                fb["from_stop_id"].map(stop_index).to_numpy(np.int64),
                fb["to_stop_id"].map(stop_index).to_numpy(np.int64),
            ]
        )
        table = table[~pd.MultiIndex.from_arrays([table["a"], table["b"]]).isin(bad)]
    table = table[table["a"] != table["b"]]
    return (
        table["a"].to_numpy(np.int64),
        table["b"].to_numpy(np.int64),
        table["w"].to_numpy(float),
    )


__all__ = ["StraightLineWalk", "combine_transfers"]
