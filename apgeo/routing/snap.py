"""Attach points (providers, demand-area centroids) to the nearest street edge.

Stage 2 of the pipeline (``network -> snap -> travel_times -> ...``).

Points are snapped to the nearest *edge*, not the nearest node: with long edges the
nearest node can be on the wrong street (FIELD-NOTES 4). The straight line from the point
to the street is the *access leg*; it is walked at ``access_speed_kph`` (default 4.8 km/h
for every mode: a child walks from the door to the street, and a car is parked on it) and
its time is added to every journey. Every snap is recorded (``snap_distance_m``) so it can
be inspected.

The result has one row per point with the point's id and :data:`SNAP_COLUMNS`:

``u``, ``v``, ``key``
    The edge (for a two-way street, the direction with the smaller node position). Of
    equidistant streets (a point nearest to a junction), a two-way street, then the first
    in the network's edge order.
``fraction``, ``position_m``
    Where along the edge, from ``u`` (0..1 and metres along its geometry).
``snap_distance_m``, ``access_time_s``
    Length and time of the access leg.
``time_to_u_s``, ``time_to_v_s``
    Network time from the snap point to ``u`` / ``v`` along the edge (``inf`` when the
    direction is not allowed, e.g. against a one-way street).
``time_from_u_s``, ``time_from_v_s``
    Time from ``u`` / ``v`` to the snap point.
``edge_forward_s``, ``edge_reverse_s``
    Whole-edge travel times u -> v and v -> u (``inf`` when one-way).
``moved_from_island``
    True when the nearest street lay outside the engine's main network and the point was
    moved to the nearest street of the main network.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import shapely
from shapely import STRtree

from apgeo._errors import ApgeoValueError, SnapError
from apgeo._log import warn
from apgeo._validate import check_geometries, check_unique, require_columns, to_working_crs
from apgeo.network.arrays import _gc_paused, _object_array, check_network
from apgeo.network.modes import DEFAULT_SPEEDS_KPH
from apgeo.routing.edge_geometry import EdgeGeometry, _ranges
from apgeo.routing.network_extent import network_extent, points_beyond
from apgeo.routing.segment_index import SegmentIndex
from apgeo.settings import get_settings

if TYPE_CHECKING:
    from apgeo.routing.travel_times import TravelTimeEngine


SNAP_COLUMNS: tuple[str, ...] = (
    "u",
    "v",
    "key",
    "fraction",
    "position_m",
    "snap_distance_m",
    "access_time_s",
    "time_to_u_s",
    "time_to_v_s",
    "time_from_u_s",
    "time_from_v_s",
    "edge_forward_s",
    "edge_reverse_s",
)


@dataclass(frozen=True)
class EdgeIndex:
    """Edges of a network prepared for nearest-edge queries (one entry per street).

    Built once per engine (cached on it) or per call for a bare graph. ``edge_u``,
    ``edge_v`` (rows of ``node_ids``), ``edge_key`` and ``edge_s`` (travel time) describe
    every edge of the main network (for an engine: its edge table's columns, shared);
    entry ``i`` is edge ``row[i]``, with the reverse time ``reverse_s[i]`` (``inf``:
    one-way). The streets' vertices are kept in flat arrays
    (:class:`~apgeo.routing.segment_index.SegmentIndex`, ``segments``); :meth:`lines`
    makes the LineStrings of the streets asked for.
    """

    node_ids: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_key: np.ndarray
    edge_s: np.ndarray
    row: np.ndarray
    reverse_s: np.ndarray
    segments: SegmentIndex
    island_tree: STRtree | None
    bounds: tuple[float, float, float, float]

    @functools.cached_property
    def extent(self) -> Any:
        """The network's extent, made once per index (a study snaps to it many times).

        Returns
        -------
        shapely.Geometry
            :func:`~apgeo.routing.network_extent.network_extent` of the streets' vertices.
        """
        return network_extent(self.segments.px, self.segments.py)

    @classmethod
    def build(cls, G: nx.MultiDiGraph, *, main_nodes: Any | None = None) -> EdgeIndex:
        """Index the edges of ``G`` whose ends are both in ``main_nodes`` (default: all).

        A two-way street (an edge and a reverse edge of about the same length) becomes one
        entry, oriented from the end that comes first in ``G.nodes``; its reverse time is
        the fastest matching reverse edge. Array operations throughout, except for the
        rare node pairs joined by parallel edges.

        Parameters
        ----------
        G
            A network from :mod:`apgeo.network`.
        main_nodes
            The nodes of the main (routable) network; ``None``: every node.

        Returns
        -------
        EdgeIndex
            The index.
        """
        check_network(G)
        with _gc_paused():
            return cls._build(G, main_nodes)

    @classmethod
    def _build(cls, G: nx.MultiDiGraph, main_nodes: Any | None) -> EdgeIndex:
        node_list = list(G.nodes)
        n_nodes = len(node_list)
        position = {n: i for i, n in enumerate(node_list)}
        node_data = G.nodes
        xs = np.fromiter((node_data[n]["x"] for n in node_list), float, n_nodes)
        ys = np.fromiter((node_data[n]["y"] for n in node_list), float, n_nodes)
        m = G.number_of_edges()
        ui = np.empty(m, dtype=np.int64)
        vi = np.empty(m, dtype=np.int64)
        keys = np.empty(m, dtype=object)
        length = np.empty(m, dtype=float)
        tt = np.empty(m, dtype=float)
        geom = np.empty(m, dtype=object)
        for i, (u, v, k, data) in enumerate(G.edges(keys=True, data=True)):
            ui[i] = position[u]
            vi[i] = position[v]
            keys[i] = k
            length[i] = data.get("length_m", np.nan)
            tt[i] = data["travel_time_s"]
            geom[i] = data.get("geometry")
        if main_nodes is None:
            node_in = np.ones(n_nodes, dtype=bool)
        else:
            node_in = np.fromiter((n in main_nodes for n in node_list), bool, n_nodes)
        return cls.from_arrays(_object_array(node_list), xs, ys, ui, vi, keys, length, tt, geom, node_in)

    @classmethod
    def from_arrays(
        cls,
        node_ids: np.ndarray,
        xs: np.ndarray,
        ys: np.ndarray,
        ui: np.ndarray,
        vi: np.ndarray,
        keys: np.ndarray,
        length: np.ndarray,
        tt: np.ndarray,
        geom: np.ndarray,
        node_in: np.ndarray,
    ) -> EdgeIndex:
        """The index of edges given as arrays in graph edge order (``ui`` / ``vi``: rows of
        ``node_ids``; ``geom``: LineStrings or ``None`` for straight edges); ``node_in``
        marks the nodes of the main network. The arrays are not modified.

        Parameters
        ----------
        node_ids
            Node ids.
        xs, ys
            Node coordinates in metres.
        ui, vi
            Start and end node row of each edge.
        keys
            Edge keys (parallel edges).
        length
            Edge lengths in metres.
        tt
            Edge travel times in seconds.
        geom
            Edge LineStrings, ``None`` for straight edges.
        node_in
            Booleans over nodes: the main network.

        Returns
        -------
        EdgeIndex
            The index of the main network's edges.
        """
        rows = np.flatnonzero(ui != vi)
        in_main = node_in[ui[rows]] & node_in[vi[rows]]
        island_geoms = _lines_of(xs, ys, ui, vi, geom, rows[~in_main])
        rows = rows[in_main]
        del in_main
        ui, vi = ui[rows], vi[rows]
        geometry = EdgeGeometry.from_lines(xs, ys, ui, vi, geom[rows])
        return cls.from_main(
            node_ids,
            geometry,
            keys[rows],
            length[rows],
            tt[rows],
            island_geoms,
            bounds=(float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())),
        )

    @classmethod
    def from_main(
        cls,
        node_ids: np.ndarray,
        geometry: EdgeGeometry,
        keys: np.ndarray,
        length: np.ndarray,
        tt: np.ndarray,
        island_geoms: np.ndarray,
        *,
        bounds: tuple[float, float, float, float],
    ) -> EdgeIndex:
        """The index of the edges of the main network (no self-loops), in graph edge order,
        given by their geometry (``u_index`` / ``v_index``: rows of ``node_ids``), with
        the LineStrings of the edges cut off from it and the extent of the network for
        messages. The arrays are kept (not copied) and not modified.

        Parameters
        ----------
        node_ids
            Node ids.
        geometry
            Node coordinates and edge geometries of the main network's edges.
        keys
            Edge keys (parallel edges).
        length
            Edge lengths in metres.
        tt
            Edge travel times in seconds.
        island_geoms
            LineStrings of the edges cut off from the main network.
        bounds
            ``(xmin, ymin, xmax, ymax)`` of the network in metres.

        Returns
        -------
        EdgeIndex
            The index.
        """
        ui, vi = geometry.u_index, geometry.v_index
        no_length = np.flatnonzero(np.isnan(length))
        if len(no_length):
            length = length.copy()
            length[no_length] = shapely.length(geometry.lines(no_length))
        twin_s, used = _match_twins(ui, vi, length, tt, len(node_ids))
        first = ui < vi
        out = np.concatenate([np.flatnonzero(first), np.flatnonzero(~first & ~used)])
        del first, used
        return cls(
            node_ids=node_ids,
            edge_u=ui,
            edge_v=vi,
            edge_key=keys,
            edge_s=tt,
            row=out.astype(np.int32 if len(ui) < 2**31 - 1 else np.int64),
            reverse_s=twin_s[out],
            segments=_segments_of(geometry, out),
            island_tree=STRtree(island_geoms) if len(island_geoms) else None,
            bounds=bounds,
        )

    def __len__(self) -> int:
        return len(self.row)

    def lines(self, rows: np.ndarray) -> np.ndarray:
        """LineStrings of entries ``rows`` (object array, same order).

        Parameters
        ----------
        rows
            Entry numbers.

        Returns
        -------
        numpy.ndarray
            One LineString per row.
        """
        return self.segments.lines(rows)


def _lines_of(
    xs: np.ndarray, ys: np.ndarray, ui: np.ndarray, vi: np.ndarray, geom: np.ndarray, rows: np.ndarray
) -> np.ndarray:
    """LineStrings of edges ``rows`` (straight ones drawn between their nodes)."""
    out = geom[rows]
    straight = np.flatnonzero(pd.isna(out))
    if len(straight):
        a, b = ui[rows[straight]], vi[rows[straight]]
        ends = np.stack([np.column_stack([xs[a], ys[a]]), np.column_stack([xs[b], ys[b]])], axis=1)
        out[straight] = shapely.linestrings(ends)
    return out


def _segments_of(geometry: EdgeGeometry, rows: np.ndarray) -> SegmentIndex:
    """The segment index of edges ``rows``: a straight edge refers to its two nodes, a
    curved one to its own vertices."""
    start = geometry.offsets[rows]
    counts = geometry.offsets[rows + 1] - start
    curved = np.flatnonzero(counts > 0)
    n_nodes = len(geometry.x)
    # the node coordinates are shared (not copied) when no street is curved
    px, py = geometry.x, geometry.y
    if len(curved):
        inner = geometry.coords[_ranges(start[curved], counts[curved])]
        px = np.concatenate([px, inner[:, 0]])
        py = np.concatenate([py, inner[:, 1]])
        del inner
    del start
    straight = counts == 0
    counts[straight] = 2
    offsets = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    refs = np.empty(int(offsets[-1]), dtype=np.int64 if len(px) >= 2**31 - 1 else np.int32)
    at = offsets[:-1][straight]
    refs[at] = geometry.u_index[rows[straight]]
    refs[at + 1] = geometry.v_index[rows[straight]]
    del at, straight
    if len(curved):
        refs[_ranges(offsets[:-1][curved], counts[curved])] = np.arange(
            n_nodes, len(px), dtype=np.int64
        )
    return SegmentIndex.from_refs(px, py, counts, refs)


def _match_twins(
    ui: np.ndarray, vi: np.ndarray, length: np.ndarray, tt: np.ndarray, n_nodes: int
) -> tuple[np.ndarray, np.ndarray]:
    """Reverse time of every edge ``ui < vi`` (its fastest unused reverse edge of about the
    same length, 0.5 m + 1 %), and which reverse edges were taken.

    Edges are visited in order; an edge ``ui > vi`` is only ever a twin (its own reverse
    edges were all visited and used before). Node pairs with parallel edges are matched
    one by one in Python, the rest with array operations.
    """
    n = len(ui)
    twin_s = np.full(n, np.inf)
    used = np.zeros(n, dtype=bool)
    if n == 0:
        return twin_s, used
    n_pairs = np.int64(n_nodes)
    code = ui * n_pairs + vi
    codes, counts = np.unique(code, return_counts=True)
    at = np.searchsorted(codes, code)
    own_single = counts[at] == 1
    # rows of the edges alone in their direction, by code (-1: none or several)
    row_of_code = np.full(len(codes), -1, dtype=np.int64)
    row_of_code[at[own_single]] = np.flatnonzero(own_single)
    del code
    back = vi * n_pairs + ui
    np.minimum(np.searchsorted(codes, back), len(codes) - 1, out=at)
    found = codes[at] == back
    simple = own_single & (~found | (counts[at] <= 1))
    del own_single, counts
    first = ui < vi
    # simple pairs: at most one edge each way
    f = np.flatnonzero(first & simple)
    b = np.where(found[f], row_of_code[at[f]], -1)
    del at, found, row_of_code
    has = b >= 0
    f, b = f[has], b[has]
    del has
    close = np.abs(length[b] - length[f]) <= 0.5 + 0.01 * length[f]
    f, b = f[close], b[close]
    twin_s[f] = tt[b]
    used[b] = True
    del f, b, close
    # pairs with parallel edges: the greedy rule, one edge at a time
    hard = np.flatnonzero(first & ~simple)
    if len(hard):
        candidates: dict[int, list[int]] = {}
        hard_codes = ui[hard] * n_pairs + vi[hard]
        for j in np.flatnonzero(~first & np.isin(back, hard_codes)).tolist():
            candidates.setdefault(int(ui[j] * n_pairs + vi[j]), []).append(j)
        for i in hard.tolist():
            best = -1
            for j in candidates.get(int(back[i]), ()):
                if used[j] or abs(length[j] - length[i]) > 0.5 + 0.01 * length[i]:
                    continue
                if best < 0 or tt[j] < tt[best]:
                    best = j
            if best >= 0:
                used[best] = True
                twin_s[i] = tt[best]
    return twin_s, used


def _index_for(network: nx.MultiDiGraph | TravelTimeEngine) -> tuple[EdgeIndex, str]:
    # An engine owns its snap index (built once, reused by every call); it is found by
    # its ``edge_index`` method so this module need not import the engine's.
    edge_index = getattr(network, "edge_index", None)
    if callable(edge_index) and not isinstance(network, nx.MultiDiGraph):
        return edge_index(), str(network.crs)
    if isinstance(network, nx.MultiDiGraph):
        check_network(network)
        return EdgeIndex.build(network), str(network.graph["crs"])
    raise ApgeoValueError(
        f"network must be an apgeo network (networkx MultiDiGraph) or a TravelTimeEngine, "
        f"not {type(network).__name__}"
    )


def _list(ids: np.ndarray, distances: np.ndarray, limit: int = 10) -> str:
    parts = [f"{i} ({d:,.0f} m)" for i, d in zip(ids[:limit], distances[:limit], strict=True)]
    more = f" ... ({len(ids)} in all)" if len(ids) > limit else ""
    return ", ".join(parts) + more


def snap_points(
    network: nx.MultiDiGraph | TravelTimeEngine,
    points: gpd.GeoDataFrame,
    *,
    id_column: str,
    warn_distance_m: float | None = None,
    max_distance_m: float | None = None,
    access_speed_kph: float = DEFAULT_SPEEDS_KPH["walk"],
    beyond: Literal["error", "estimate"] = "error",
    beyond_speed_kph: float | None = None,
    beyond_circuity: float = 1.0,
    strict: bool = False,
    name: str = "points",
) -> pd.DataFrame:
    """Snap points to the nearest street edge of a network.

    Parameters
    ----------
    network
        An apgeo network, or a :class:`~apgeo.routing.travel_times.TravelTimeEngine` (then only its
        main component is used, and the edge index is cached on the engine).
    points
        Point GeoDataFrame in any CRS (reprojected to the network's CRS).
    id_column
        Unique id column, copied to the result.
    warn_distance_m
        Warn (:class:`~apgeo.ApgeoWarning`, listing ids) when an access leg is longer;
        default ``get_settings().snap_warn_distance_m`` (500 m).
    max_distance_m
        Raise :class:`~apgeo.SnapError` naming the ids when no street is this close;
        default ``get_settings().snap_max_distance_m`` (5 km).
    access_speed_kph
        Speed of the access leg (default walking, 4.8 km/h, for every mode).
    beyond
        Points beyond the network's edge (more than
        :data:`~apgeo.routing.network_extent.BEYOND_MARGIN_M` outside its extent, e.g. a
        setting in the next county of an extract cut to one authority): ``"error"``
        (default) treats them like any point (an error past ``max_distance_m``);
        ``"estimate"`` snaps them to the nearest street of the network, estimates the rest
        of their journey by straight line (crow-fly x ``beyond_circuity`` at
        ``beyond_speed_kph``) and warns, naming them.
    beyond_speed_kph, beyond_circuity
        The straight-line estimate beyond the edge (``beyond_speed_kph`` is required with
        ``beyond="estimate"``: the mode's speed).
    strict
        Turn the warnings into errors.
    name
        What the points are, for messages (e.g. ``"providers"``).

    Returns
    -------
    pandas.DataFrame
        ``id_column`` then :data:`SNAP_COLUMNS` and ``moved_from_island``, one row per
        point in input order.

    Raises
    ------
    CRSError
        ``points`` has no CRS.
    ApgeoValueError
        Missing, empty, NaN or non-point geometry (ids named), bad thresholds or speed.
    SnapError
        A point farther than ``max_distance_m`` from every street (e.g. outside the
        network's extent).
    """
    settings = get_settings()
    warn_m = settings.snap_warn_distance_m if warn_distance_m is None else float(warn_distance_m)
    max_m = settings.snap_max_distance_m if max_distance_m is None else float(max_distance_m)
    if not np.isfinite(max_m) or max_m <= 0 or not warn_m >= 0:
        raise ApgeoValueError(
            f"snap thresholds must be positive distances in metres: warn_distance_m={warn_m!r}, "
            f"max_distance_m={max_m!r}"
        )
    if (
        not isinstance(access_speed_kph, (int, float))
        or not np.isfinite(access_speed_kph)
        or access_speed_kph <= 0
    ):
        raise ApgeoValueError(
            f"access_speed_kph={access_speed_kph!r}: a speed must be a positive number of km/h"
        )
    if beyond not in ("error", "estimate"):
        raise ApgeoValueError(f"beyond={beyond!r}: choose 'error' or 'estimate'")
    if beyond == "estimate" and not (
        isinstance(beyond_speed_kph, (int, float)) and np.isfinite(beyond_speed_kph) and beyond_speed_kph > 0
    ):
        raise ApgeoValueError(
            f"beyond_speed_kph={beyond_speed_kph!r}: beyond='estimate' needs the mode's speed "
            "in km/h for the part of a journey beyond the network's edge"
        )
    if not isinstance(points, gpd.GeoDataFrame):
        raise ApgeoValueError(
            f"{name} must be a GeoDataFrame of points, not {type(points).__name__}"
        )
    require_columns(points, [id_column], source=name)
    check_unique(points, id_column, source=name)
    index, crs = _index_for(network)
    check_geometries(points, id_column=id_column, name=name)
    not_point = (points.geometry.geom_type != "Point").to_numpy()
    if not_point.any():
        ids = ", ".join(map(str, points.loc[not_point, id_column].head(10)))
        raise ApgeoValueError(
            f"{name}: {int(not_point.sum())} geometrie(s) are not points ({id_column}: {ids}); "
            "pass points, e.g. population-weighted centroids of the areas"
        )
    projected = to_working_crs(points, name=name, crs=crs)
    x = projected.geometry.x.to_numpy(float)
    y = projected.geometry.y.to_numpy(float)
    bad = ~(np.isfinite(x) & np.isfinite(y))
    if bad.any():
        ids = ", ".join(map(str, points.loc[bad, id_column].head(10)))
        raise ApgeoValueError(
            f"{name}: {int(bad.sum())} point(s) have NaN or infinite coordinates ({id_column}: {ids}); "
            "fix or remove them"
        )
    geoms = shapely.points(x, y)
    ids_all = points[id_column].to_numpy(dtype=object)
    n = len(geoms)
    # equidistant streets (a point nearest to a junction): a two-way street first, so the
    # point is reached from the junction both ways, then the first in graph edge order
    one_way = ~np.isfinite(index.reverse_s)
    edge, distance_m = index.segments.nearest(x, y, rank=one_way)
    outside = np.zeros(n, dtype=bool)
    if beyond == "estimate" and n:
        outside, _ = points_beyond(index.extent, x, y)
    lost = ~(distance_m <= max_m) & ~outside
    if lost.any():
        far = distance_m[lost] if len(index) else np.full(int(lost.sum()), np.nan)
        xmin, ymin, xmax, ymax = index.bounds
        raise SnapError(
            f"{name}: {int(lost.sum())} point(s) are more than {max_m:,.0f} m from every street "
            f"of the network ({id_column}, distance to the nearest street: "
            f"{_list(ids_all[lost], far)}); the network spans x {xmin:,.0f}..{xmax:,.0f}, "
            f"y {ymin:,.0f}..{ymax:,.0f} in {crs}: check the points' coordinates and CRS, or "
            "load a network covering them"
        )
    lines = index.lines(edge)
    moved = np.zeros(n, dtype=bool)
    if index.island_tree is not None and n:
        _, island_d = index.island_tree.query_nearest(
            geoms, return_distance=True, all_matches=False
        )
        moved = island_d < distance_m - 1e-9
        if moved.any():
            warn(
                f"{name}: {int(moved.sum())} point(s) lie nearest to a street cut off from the "
                f"main network and were snapped to the main network instead ({id_column}, new "
                f"access leg: {_list(ids_all[moved], distance_m[moved])})",
                strict=strict,
            )
    if outside.any():
        assert beyond_speed_kph is not None  # checked above
        warn(
            f"{name}: {int(outside.sum())} point(s) lie beyond the network's edge; each is "
            "joined to the nearest street of the network and the rest of its journey is a "
            f"STRAIGHT-LINE ESTIMATE (crow-fly x {beyond_circuity:g} at {beyond_speed_kph:g} "
            f"km/h) ({id_column}, distance to the nearest street: "
            f"{_list(ids_all[outside], distance_m[outside])}); give a network extract that "
            "covers them (e.g. the county's or England's) to route them on streets",
            strict=strict,
        )
    far_mask = (distance_m > warn_m) & ~outside
    if far_mask.any():
        warn(
            f"{name}: {int(far_mask.sum())} point(s) are more than {warn_m:,.0f} m from the "
            f"nearest street; their access leg is walked at {access_speed_kph:g} km/h "
            f"({id_column}: {_list(ids_all[far_mask], distance_m[far_mask])})",
            strict=strict,
        )
    position_m = shapely.line_locate_point(lines, geoms)
    length = shapely.length(lines)
    fraction = np.divide(position_m, length, out=np.zeros(n), where=length > 0)
    fraction = np.clip(fraction, 0.0, 1.0)
    row = index.row[edge]
    fwd = index.edge_s[row]
    rev = index.reverse_s[edge]
    finite_rev = np.isfinite(rev)
    safe_rev = np.where(finite_rev, rev, 0.0)
    result = pd.DataFrame(
        {
            id_column: points[id_column].to_numpy(),
            "u": index.node_ids[index.edge_u[row]],
            "v": index.node_ids[index.edge_v[row]],
            "key": index.edge_key[row],
            "fraction": fraction,
            "position_m": position_m,
            "snap_distance_m": distance_m,
            "access_time_s": np.where(
                outside,
                distance_m * beyond_circuity / ((beyond_speed_kph or 1.0) / 3.6),
                distance_m / (access_speed_kph / 3.6),
            ),
            "time_to_u_s": np.where(finite_rev, fraction * safe_rev, np.inf),
            "time_to_v_s": (1.0 - fraction) * fwd,
            "time_from_u_s": fraction * fwd,
            "time_from_v_s": np.where(finite_rev, (1.0 - fraction) * safe_rev, np.inf),
            "edge_forward_s": fwd,
            "edge_reverse_s": rev,
            "moved_from_island": moved,
            "beyond_network": outside,
        }
    )
    return result


__all__ = [
    "SNAP_COLUMNS",
    "EdgeIndex",
    "snap_points",
]
