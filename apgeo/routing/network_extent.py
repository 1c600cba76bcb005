"""Where a street network ends: its extent, and the points that lie beyond it.

An extract cut to one authority (the Rutland PBF, say) does not reach the settings in the
next county that its children attend. A point that lies *beyond the network's edge* is not
a point far from a street inside the network (a farm 600 m up a track): it is outside the
area the streets were read for. :func:`network_extent` is that area (the convex hull of
the network's vertices); :func:`points_beyond` names the points more than a margin outside
it and how far they are from it. The snapping step (:func:`apgeo.routing.snap.snap_points`)
and the study use the same rule, so what is reported is what was computed.
"""

from __future__ import annotations

import numpy as np
import shapely
from scipy.spatial import ConvexHull, QhullError
from shapely.geometry.base import BaseGeometry

#: A point this far (m) or farther outside the network's extent lies beyond its edge.
BEYOND_MARGIN_M = 500.0


def network_extent(x: np.ndarray, y: np.ndarray) -> BaseGeometry:
    """The extent of a network whose vertices are at ``x``, ``y`` (metres): their convex
    hull (a polygon; a line or point for degenerate networks).

    Parameters
    ----------
    x, y
        Vertex coordinates in metres (non-finite ones are ignored).

    Returns
    -------
    shapely.Geometry
        The hull; an empty polygon when no vertex is finite.
    """
    xy = np.column_stack([np.asarray(x, float), np.asarray(y, float)])
    xy = xy[np.isfinite(xy).all(axis=1)]
    if not len(xy):
        return shapely.Polygon()
    try:
        # qhull on the coordinate array: about 5x faster on a city's vertices than
        # building a shapely multipoint of them first; the same polygon
        hull = ConvexHull(xy)
    except QhullError:  # fewer than 3 points, or all on one line: a line or a point
        return shapely.convex_hull(shapely.multipoints(xy))
    return shapely.Polygon(xy[hull.vertices])


def points_beyond(
    extent: BaseGeometry, x: np.ndarray, y: np.ndarray, *, margin_m: float = BEYOND_MARGIN_M
) -> tuple[np.ndarray, np.ndarray]:
    """(mask, distance to the extent in metres) of the points more than ``margin_m``
    outside ``extent``; distance 0 inside it.

    Parameters
    ----------
    extent
        The network's extent (:func:`network_extent`).
    x, y
        Point coordinates in metres.
    margin_m
        Distance beyond the extent that still counts as on the network, metres.

    Returns
    -------
    mask : numpy.ndarray
        Booleans: the point is beyond (every point for an empty extent).
    distance_m : numpy.ndarray
        Metres to the extent (``inf`` for an empty extent).
    """
    points = shapely.points(np.asarray(x, float), np.asarray(y, float))
    if extent.is_empty:
        return np.ones(len(points), dtype=bool), np.full(len(points), np.inf)
    distance_m = np.asarray(shapely.distance(extent, points), dtype=float)
    return distance_m > margin_m, distance_m


__all__ = ["BEYOND_MARGIN_M", "network_extent", "points_beyond"]
