"""Circuity: how much longer the road is than the straight line, measured on a network.

The straight-line fallback (:mod:`apgeo.straight_line`) multiplies crow-fly distance by a
circuity factor (default 1.3). :func:`circuity_ratio` measures that factor on a real
network between real origins and destinations, so the assumption can be checked.

Road distances come from the travel-time engine run on a copy of the network whose edge
"time" is its length: ``travel_time_s`` is set to ``length_m`` and the access leg is
"walked" at 3.6 km/h (1 m/s), so every "second" the engine adds up is exactly one metre.
Both ends are snapped to the nearest edge of the largest strongly connected component
(:func:`apgeo.snap.snap_points`), partial edges included, one-way rules kept.
"""

from __future__ import annotations

from dataclasses import dataclass

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from scipy.spatial.distance import cdist

from apgeo._errors import ApgeoValueError
from apgeo._validate import to_working_crs
from apgeo.network.arrays import check_network
from apgeo.routing.node_index import node_rows
from apgeo.routing.snap import snap_points
from apgeo.routing.straight_line import DEFAULT_CIRCUITY
from apgeo.routing.travel_times import TravelTimeEngine, travel_time_table

#: Access-leg speed that makes the engine's seconds metres (1 m/s).
_METRES_PER_SECOND_KPH = 3.6


@dataclass(frozen=True)
class CircuityResult:
    """Road distance / crow-fly distance over origin-destination pairs.

    Attributes
    ----------
    median, quartile_25, quartile_75
        Of the ratio over the pairs measured.
    n_pairs
        Pairs measured (reachable, at least ``min_crow_fly_m`` apart).
    n_unreachable
        Pairs with no road route (different components after snapping; rare).
    n_too_close
        Pairs left out because they lie closer than ``min_crow_fly_m``.
    include_access_legs
        Whether the road distance includes the straight access legs (door to street).
    pairs
        One row per pair: ``origin_id``, ``destination_id``, ``crow_fly_m``,
        ``network_m`` (between the snap points), ``access_m`` (both access legs),
        ``road_m`` (what the ratio uses), ``ratio`` (NaN where left out).
    """

    median: float
    quartile_25: float
    quartile_75: float
    n_pairs: int
    n_unreachable: int
    n_too_close: int
    include_access_legs: bool
    pairs: pd.DataFrame

    @property
    def iqr(self) -> float:
        """Interquartile range of the ratio."""
        return self.quartile_75 - self.quartile_25

    def summary(self) -> str:
        """One line, next to the straight-line fallback's assumption.

        Returns
        -------
        str
            Median and quartiles of the circuity, pairs measured, too close and unreachable.
        """
        legs = (
            "door to door (access legs included)"
            if self.include_access_legs
            else ("between snap points on the network")
        )
        return (
            f"circuity (road / crow-fly distance, {legs}): median {self.median:.3f}, "
            f"IQR {self.quartile_25:.3f}-{self.quartile_75:.3f} over {self.n_pairs} pairs "
            f"({self.n_too_close} too close, {self.n_unreachable} unreachable); the "
            f"straight-line fallback assumes {DEFAULT_CIRCUITY:g}"
        )


def _length_graph(G: nx.MultiDiGraph) -> nx.MultiDiGraph:
    """A copy of ``G`` whose ``travel_time_s`` is the edge length in metres."""
    H = nx.MultiDiGraph(**G.graph)
    H.add_nodes_from(G.nodes(data=True))
    for u, v, k, data in G.edges(keys=True, data=True):
        length = data.get("length_m")
        if length is None or not np.isfinite(length) or length < 0:
            raise ApgeoValueError(
                f"edge {u!r} -> {v!r} has no valid 'length_m' (metres); build the network with "
                "apgeo.network"
            )
        H.add_edge(u, v, key=k, **{**data, "travel_time_s": float(length)})
    return H


def length_engine(engine: TravelTimeEngine) -> TravelTimeEngine:
    """An engine on the same streets as ``engine`` whose edge "time" is its length (m),
    built from its arrays (no networkx graph).

    Parameters
    ----------
    engine
        An engine whose edges carry ``length_m``.

    Returns
    -------
    TravelTimeEngine
        The engine on lengths: its "seconds" are metres.
    """
    from apgeo.network.arrays import _ModeArrays, _object_array
    from apgeo.routing.engine_arrays import engine_from_arrays

    edges = engine.edges
    geometry = engine.edge_geometry()
    length_m = edges["length_m"].to_numpy(float)
    bad = ~np.isfinite(length_m) | (length_m < 0)
    if bad.any():
        raise ApgeoValueError(
            f"{int(bad.sum())} edge(s) have no valid 'length_m' (metres); build the network "
            "with apgeo.network"
        )
    n_edges = len(edges)
    lines = np.full(n_edges, None, dtype=object)
    bent = np.flatnonzero(np.diff(geometry.offsets) > 0)
    lines[bent] = geometry.lines(bent)
    arrays = _ModeArrays(
        node_ids=_object_array(list(engine.node_ids)),
        x=geometry.x,
        y=geometry.y,
        elevation=None,
        u=edges["u_index"].to_numpy(np.int64),
        v=edges["v_index"].to_numpy(np.int64),
        key=edges["key"].to_numpy(),
        length_m=length_m,
        speed_kph=np.full(n_edges, _METRES_PER_SECOND_KPH),
        travel_time_s=length_m,
        highway=np.full(n_edges, None, dtype=object),
        osmid=np.full(n_edges, None, dtype=object),
        geometry=lines,
        crs=engine.crs,
        mode=engine.mode,
        source="lengths",
        speeds_kph={},
    )
    return engine_from_arrays(arrays, warn_dropped_fraction=None)


def _snap_xy(engine: TravelTimeEngine, snapped: pd.DataFrame) -> np.ndarray:
    """Coordinates of the snap points (on their edges, at ``position_m`` from ``u``)."""
    edges = engine.edges[["u_index", "v_index", "key"]]
    wanted = pd.DataFrame(
        {
            "u_index": node_rows(engine.node_index, snapped["u"].to_numpy()),
            "v_index": node_rows(engine.node_index, snapped["v"].to_numpy()),
            "key": snapped["key"].to_numpy(),
        }
    )
    found = wanted.merge(
        edges.assign(row=np.arange(len(edges))), on=["u_index", "v_index", "key"], how="left"
    )
    rows = found["row"].to_numpy(np.int64)
    lines = engine.edge_geometry().lines(rows)
    points = shapely.line_interpolate_point(lines, snapped["position_m"].to_numpy(float))
    return np.column_stack([shapely.get_x(points), shapely.get_y(points)])


def circuity_ratio(
    network: nx.MultiDiGraph | TravelTimeEngine,
    origins: gpd.GeoDataFrame,
    destinations: gpd.GeoDataFrame,
    *,
    origin_id_column: str,
    destination_id_column: str,
    include_access_legs: bool = True,
    min_crow_fly_m: float = 1000.0,
    warn_distance_m: float | None = None,
    max_distance_m: float | None = None,
) -> CircuityResult:
    """Median and quartiles of road distance / crow-fly distance over all pairs.

    Parameters
    ----------
    network
        An apgeo network (every edge with ``length_m``), or a travel-time engine of one
        (e.g. from :func:`apgeo.routing.engine_arrays.load_engines`: no networkx graph is
        needed); its one-way rules apply.
    origins, destinations
        Point GeoDataFrames with a CRS (e.g. population-weighted centroids and provider
        sites).
    origin_id_column, destination_id_column
        Unique id columns.
    include_access_legs
        ``True`` (default): door-to-door road distance (access legs + network) over the
        crow-fly distance between the points themselves, which is what the straight-line
        fallback's factor stands for. ``False``: network distance between the snap
        points over the crow-fly distance between the snap points.
    min_crow_fly_m
        Pairs closer than this (metres) are left out: over short distances the ratio is
        dominated by where the points sit relative to the street and is not a circuity.
    warn_distance_m, max_distance_m
        Passed to :func:`apgeo.snap.snap_points` (a network of main roads only leaves long
        access legs: raise ``warn_distance_m`` to silence the warning knowingly).

    Returns
    -------
    CircuityResult
        ``median``, ``quartile_25``, ``quartile_75``, counts and the per-pair table.

    Raises
    ------
    ApgeoValueError
        No pair can be measured, bad ``min_crow_fly_m`` or edges without ``length_m``.
    CRSError, SnapError
        From snapping (points without a CRS, or beyond ``max_distance_m``).
    """
    if not isinstance(network, TravelTimeEngine):
        check_network(network)
    if not np.isfinite(min_crow_fly_m) or min_crow_fly_m < 0:
        raise ApgeoValueError(f"min_crow_fly_m = {min_crow_fly_m!r}: give metres >= 0")
    if isinstance(network, TravelTimeEngine):
        engine = length_engine(network)
    else:
        engine = TravelTimeEngine.from_graph(_length_graph(network))
    o = snap_points(
        engine,
        origins,
        id_column=origin_id_column,
        name="origins",
        warn_distance_m=warn_distance_m,
        max_distance_m=max_distance_m,
        access_speed_kph=_METRES_PER_SECOND_KPH,
    )
    d = snap_points(
        engine,
        destinations,
        id_column=destination_id_column,
        name="destinations",
        warn_distance_m=warn_distance_m,
        max_distance_m=max_distance_m,
        access_speed_kph=_METRES_PER_SECOND_KPH,
    )
    table = travel_time_table(
        engine, o, d, origin_id_column=origin_id_column, destination_id_column=destination_id_column
    )
    road_m = table["travel_time_s"].to_numpy(float).reshape(len(o), len(d))
    access_o = o["snap_distance_m"].to_numpy(float)
    access_d = d["snap_distance_m"].to_numpy(float)
    access_m = access_o[:, None] + access_d[None, :]
    network_m = road_m - access_m
    if include_access_legs:
        o_xy = _xy(to_working_crs(origins, name="origins", crs=engine.crs))
        d_xy = _xy(to_working_crs(destinations, name="destinations", crs=engine.crs))
        used_m = road_m
    else:
        o_xy = _snap_xy(engine, o)
        d_xy = _snap_xy(engine, d)
        used_m = network_m
    crow_m = cdist(o_xy, d_xy)
    reachable = np.isfinite(used_m)
    far = crow_m >= max(float(min_crow_fly_m), 1e-9)
    ok = reachable & far
    ratio = np.where(ok, used_m / np.where(ok, crow_m, 1.0), np.nan)
    pairs = pd.DataFrame(
        {
            "origin_id": table["origin_id"].to_numpy(),
            "destination_id": table["destination_id"].to_numpy(),
            "crow_fly_m": crow_m.reshape(-1),
            "network_m": network_m.reshape(-1),
            "access_m": access_m.reshape(-1),
            "road_m": used_m.reshape(-1),
            "ratio": ratio.reshape(-1),
        }
    )
    values = ratio[ok]
    if len(values) == 0:
        raise ApgeoValueError(
            f"no origin-destination pair can be measured ({int((~far).sum())} closer than "
            f"min_crow_fly_m={min_crow_fly_m:g} m, {int((~reachable).sum())} unreachable); "
            "lower min_crow_fly_m or give points farther apart"
        )
    q25, median, q75 = np.percentile(values, [25, 50, 75])
    return CircuityResult(
        median=float(median),
        quartile_25=float(q25),
        quartile_75=float(q75),
        n_pairs=len(values),
        n_unreachable=int((~reachable).sum()),
        n_too_close=int((reachable & ~far).sum()),
        include_access_legs=include_access_legs,
        pairs=pairs,
    )


def _xy(gdf: gpd.GeoDataFrame) -> np.ndarray:
    return np.column_stack([gdf.geometry.x.to_numpy(float), gdf.geometry.y.to_numpy(float)])


__all__ = ["CircuityResult", "circuity_ratio"]
