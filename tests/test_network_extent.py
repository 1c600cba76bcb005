"""The extent of a network (its vertices' convex hull) for every shape of vertex set."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

from apgeo.routing.network_extent import network_extent


def _shapely_hull(x: np.ndarray, y: np.ndarray) -> shapely.Geometry:
    return shapely.convex_hull(shapely.multipoints(np.column_stack([x, y])))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_extent_is_the_convex_hull_of_the_vertices(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(418_000, 452_000, 5_000), rng.uniform(376_000, 402_000, 5_000)
    extent = network_extent(x, y)
    assert extent.geom_type == "Polygon" and extent.equals(_shapely_hull(x, y))


def test_a_street_grid_with_collinear_edges() -> None:
    xs, ys = np.meshgrid(np.arange(0.0, 1_001.0, 100.0), np.arange(0.0, 501.0, 100.0))
    extent = network_extent(xs.ravel(), ys.ravel())
    assert extent.equals(shapely.box(0, 0, 1_000, 500))


@pytest.mark.parametrize(
    ("x", "y", "kind"),
    [
        ([5.0], [7.0], "Point"),
        ([5.0, 5.0], [7.0, 7.0], "Point"),
        ([0.0, 10.0], [0.0, 10.0], "LineString"),
        ([0.0, 5.0, 10.0], [0.0, 5.0, 10.0], "LineString"),  # one straight road
    ],
)
def test_degenerate_networks_are_a_point_or_a_line(x: list[float], y: list[float], kind: str) -> None:
    extent = network_extent(np.array(x), np.array(y))
    assert extent.geom_type == kind and extent.equals(_shapely_hull(np.array(x), np.array(y)))


def test_non_finite_vertices_are_ignored_and_none_is_empty() -> None:
    x = np.array([0.0, 100.0, np.nan, 100.0, 0.0])
    y = np.array([0.0, 0.0, 5.0, 100.0, np.inf])
    assert network_extent(x, y).equals(shapely.Polygon([(0, 0), (100, 0), (100, 100)]))
    assert network_extent(np.array([np.nan]), np.array([np.nan])).is_empty
