"""Travel times on a street network: the engine, the long table, nearest provider, fields.

Stage 3 of the pipeline (``network -> snap -> travel_times -> catchments -> ...``).

:class:`TravelTimeEngine` converts a network once into a scipy CSR matrix of edge travel
times (the fastest of parallel edges), keeps the largest strongly connected component and
runs multi-source Dijkstra (:func:`scipy.sparse.csgraph.dijkstra`) with a time limit.

Points (providers, demand-area centroids) are snapped to the nearest *edge*
(:func:`apgeo.routing.snap.snap_points`). The time between two snapped points is::

    access leg + partial edge + network time + partial edge + access leg

or, when both points lie on the same street, the direct ride along it if the direction
of travel allows it (whichever is shorter). Snapped points enter Dijkstra as virtual nodes
joined to the two ends of their edge, so limits and one-way rules stay exact.

Direction matters for driving: ``direction="from"`` gives times *from* the sources,
``direction="to"`` times *to* the sources (the transposed graph), e.g. from every home to
a provider.

Unreachable pairs, and pairs beyond ``max_travel_time_s``, are ``NaN`` in tables and
``inf`` in arrays, never a magic number.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

from apgeo._errors import ApgeoValueError, NetworkError
from apgeo._log import logger, warn
from apgeo._progress import progress_steps
from apgeo._validate import _check_limit
from apgeo.network.arrays import _gc_paused, _object_array, check_network
from apgeo.routing.edge_geometry import EdgeGeometry
from apgeo.routing.main_component import fastest_edge_matrix, largest_component, main_edge_rows
from apgeo.routing.node_index import NodeIndex, node_rows
from apgeo.routing.snap import SNAP_COLUMNS, EdgeIndex, snap_points
from apgeo.routing.snapped_times import direct_times, node_snap_table, target_times
from apgeo.routing.virtual_sources import CAPACITY as VIRTUAL_CAPACITY
from apgeo.routing.virtual_sources import (
    VirtualSourceMatrix,
    augmented_copy,
    nearest_source_dijkstra,
    source_links,
)
from apgeo.schema import DESTINATION_ID, ORIGIN_ID, TRAVEL_TIME_S

Direction = Literal["from", "to"]
#: Name of the nearest-source id column returned by :func:`nearest`.
NEAREST_ID = "nearest_id"
#: Sources per Dijkstra call: bounds memory at ``chunk * n_nodes * 8`` bytes.
DIJKSTRA_CHUNK = VIRTUAL_CAPACITY


def _check_direction(direction: object) -> Direction:
    if direction not in ("from", "to"):
        raise ApgeoValueError(f"direction={direction!r}: use 'from' (from the sources) or 'to'")
    return direction  # type: ignore[return-value]


@dataclass(eq=False)
class TravelTimeEngine:
    """A network prepared for fast shortest-path travel times.

    Build it with :meth:`from_graph`. Attributes are read-only by convention.

    Attributes
    ----------
    graph
        The network it was built from (not copied, never modified); ``None`` for an
        engine built from arrays (:func:`apgeo.routing.engine_arrays.engine_from_arrays`).
    mode, crs
        From the graph attributes.
    node_ids
        Node ids of the largest strongly connected component, in matrix order.
    node_index
        Node id -> matrix row (a read-only mapping, compact for integer ids).
    matrix
        CSR matrix ``(n, n)`` of travel times (s); ``matrix[i, j]`` is the fastest edge i -> j.
    edges
        One row per edge of the component: ``u``, ``v``, ``key``, ``u_index``, ``v_index``,
        ``length_m``, ``travel_time_s`` (parallel edges kept, for catchments).
    dropped_nodes
        Node ids left out (outside the largest strongly connected component).
    n_components
        Strongly connected components of the network the engine was built from.
    """

    graph: nx.MultiDiGraph | None
    mode: str
    crs: str
    node_ids: np.ndarray
    node_index: Mapping[Hashable, int]
    matrix: sp.csr_matrix
    edges: pd.DataFrame
    dropped_nodes: tuple[Hashable, ...]
    n_components: int = 1
    _matrix_t: sp.csr_matrix | None = field(default=None, repr=False)
    _snap_index: Any = field(default=None, repr=False)
    _geometry: EdgeGeometry | None = field(default=None, repr=False)
    _virtual_buffers: dict[str, VirtualSourceMatrix] = field(default_factory=dict, repr=False)

    def edge_geometry(self) -> EdgeGeometry:
        """Node coordinates and the geometry of every row of :attr:`edges` as flat arrays,
        built once on first use (for catchments).

        Returns
        -------
        EdgeGeometry
            The geometries.
        """
        if self._geometry is None:
            G = self.graph
            if G is None:  # pragma: no cover - engines from arrays are given their geometry
                raise NetworkError("this engine has neither a graph nor edge geometries")
            nodes = G.nodes
            x = np.fromiter((nodes[n]["x"] for n in self.node_ids), float, self.n_nodes)
            y = np.fromiter((nodes[n]["y"] for n in self.node_ids), float, self.n_nodes)
            lines = _object_array(
                [
                    G[u][v][k].get("geometry")
                    for u, v, k in zip(
                        self.edges["u"].to_numpy(),
                        self.edges["v"].to_numpy(),
                        self.edges["key"].to_numpy(),
                        strict=True,
                    )
                ],
                len(self.edges),
            )
            self._geometry = EdgeGeometry.from_lines(
                x,
                y,
                self.edges["u_index"].to_numpy(),
                self.edges["v_index"].to_numpy(),
                lines,
            )
        return self._geometry

    def edge_index(self) -> EdgeIndex:
        """The spatial index of this engine's edges for snapping, built once on first use.

        Returns
        -------
        EdgeIndex
            The index.
        """
        if self._snap_index is None:
            if self.graph is None:  # pragma: no cover - engines from arrays get theirs
                raise NetworkError("this engine has neither a graph nor a snap index")
            self._snap_index = EdgeIndex.build(self.graph, main_nodes=set(self.node_ids.tolist()))
        return self._snap_index

    @property
    def dropped_node_count(self) -> int:
        """Number of nodes outside the largest strongly connected component."""
        return len(self.dropped_nodes)

    @property
    def n_nodes(self) -> int:
        """Number of nodes kept."""
        return len(self.node_ids)

    @property
    def matrix_t(self) -> sp.csr_matrix:
        """The transposed matrix (times *to* a node), built once on first use."""
        if self._matrix_t is None:
            self._matrix_t = self.matrix.transpose().tocsr()
        return self._matrix_t

    @classmethod
    def from_graph(
        cls,
        G: nx.MultiDiGraph,
        *,
        weight: str = TRAVEL_TIME_S,
        warn_dropped_fraction: float | None = 0.05,
    ) -> TravelTimeEngine:
        """Prepare ``G`` (an apgeo network) for travel-time queries.

        Parameters
        ----------
        G
            A network from :mod:`apgeo.network`: every edge needs ``weight`` (seconds),
            every node ``x`` and ``y`` (for snapping).
        weight
            Edge attribute holding the travel time in seconds.
        warn_dropped_fraction
            Emit an :class:`~apgeo.ApgeoWarning` when more than this fraction of the nodes
            lie outside the largest strongly connected component (``None``: never). Any
            dropped node is logged.

        Returns
        -------
        TravelTimeEngine
            The engine on the largest strongly connected component.

        Raises
        ------
        NetworkError
            Empty graph, or an edge without a valid travel time.
        """
        check_network(G)
        with _gc_paused():
            return cls._from_graph(G, weight=weight, warn_dropped_fraction=warn_dropped_fraction)

    @classmethod
    def _from_graph(
        cls, G: nx.MultiDiGraph, *, weight: str, warn_dropped_fraction: float | None
    ) -> TravelTimeEngine:
        all_ids = list(G.nodes)
        index_all = {n: i for i, n in enumerate(all_ids)}
        m = G.number_of_edges()
        u_all = np.empty(m, dtype=np.int64)
        v_all = np.empty(m, dtype=np.int64)
        w_all = np.empty(m, dtype=float)
        len_all = np.empty(m, dtype=float)
        keys: list[Hashable] = []
        for i, (u, v, k, data) in enumerate(G.edges(keys=True, data=True)):
            u_all[i] = index_all[u]
            v_all[i] = index_all[v]
            value = data.get(weight)
            w_all[i] = np.nan if value is None else float(value)
            len_all[i] = float(data.get("length_m", np.nan))
            keys.append(k)
        bad = ~np.isfinite(w_all) | (w_all < 0)
        if bad.any():
            first = int(np.flatnonzero(bad)[0])
            raise NetworkError(
                f"{int(bad.sum())} edge(s) lack a valid {weight!r} (seconds >= 0), e.g. edge "
                f"{all_ids[u_all[first]]!r} -> {all_ids[v_all[first]]!r}; build the network with apgeo.network"
            )
        for attr in ("x", "y"):
            if any(attr not in d for _, d in G.nodes(data=True)):
                raise NetworkError(
                    f"every node needs coordinates {attr!r}; build the network with apgeo.network"
                )
        return cls._from_parts(
            G,
            all_ids,
            u_all,
            v_all,
            w_all,
            len_all,
            _object_array(keys),
            mode=str(G.graph.get("mode", "unknown")),
            crs=str(G.graph["crs"]),
            warn_dropped_fraction=warn_dropped_fraction,
        )

    @classmethod
    def _from_parts(
        cls,
        G: nx.MultiDiGraph | None,
        all_ids: Sequence[Hashable] | np.ndarray,
        u_all: np.ndarray,
        v_all: np.ndarray,
        w_all: np.ndarray,
        len_all: np.ndarray,
        keys: np.ndarray,
        *,
        mode: str,
        crs: str,
        warn_dropped_fraction: float | None,
        order: np.ndarray | None = None,
        component: tuple[int, np.ndarray] | None = None,
    ) -> TravelTimeEngine:
        """The engine of the edges ``u_all -> v_all`` (rows of ``all_ids``) with travel
        times ``w_all`` (checked) and lengths ``len_all``, listed in ``order`` (default:
        as given); ``G`` is kept when given; ``component``: :func:`~apgeo.routing.main_component.largest_component` of
        these edges when already known."""
        n_all = len(all_ids)
        n_comp, keep = component or largest_component(u_all, v_all, w_all, n_all)
        kept_idx = np.flatnonzero(keep)
        ids_array = _object_array(all_ids)
        dropped = tuple(ids_array[~keep].tolist())
        remap = np.full(n_all, -1, dtype=np.int64)
        remap[kept_idx] = np.arange(len(kept_idx))
        main_pos = main_edge_rows(u_all, v_all, keep, order)
        del keep
        ui, vi = remap[u_all[main_pos]], remap[v_all[main_pos]]
        del remap
        w_main = w_all[main_pos]
        matrix = fastest_edge_matrix(ui, vi, w_main, len(kept_idx))
        node_ids = ids_array[kept_idx]
        node_index = NodeIndex(node_ids)
        # one block per column: no consolidated copy of the table
        edges = pd.DataFrame(
            {
                "u": ids_array[u_all[main_pos]],
                "v": ids_array[v_all[main_pos]],
                "key": np.asarray(keys[main_pos], dtype=object),
                "u_index": ui,
                "v_index": vi,
                "length_m": len_all[main_pos],
                TRAVEL_TIME_S: w_main,
            },
            copy=False,
        )
        del ids_array, main_pos, ui, vi, w_main
        if dropped:
            fraction = len(dropped) / n_all
            message = (
                f"{len(dropped)} of {n_all} network node(s) ({fraction:.1%}) lie outside the "
                f"largest strongly connected component ({n_comp} components) and were dropped; "
                "points near them are snapped to the main network"
            )
            if warn_dropped_fraction is not None and fraction > warn_dropped_fraction:
                warn(message, stacklevel=5)
            else:
                logger.info(message)
        return cls(
            graph=G,  # type: ignore[arg-type]
            mode=mode,
            crs=crs,
            node_ids=node_ids,
            node_index=node_index,
            matrix=matrix,
            edges=edges,
            dropped_nodes=dropped,
            n_components=int(n_comp),
        )

    # ---- sources --------------------------------------------------------------------

    def _sources_table(self, sources: pd.DataFrame | Sequence[Hashable]) -> pd.DataFrame:
        """Snap table for snapped points, or a zero-offset one for node ids."""
        if isinstance(sources, pd.DataFrame):
            missing = [c for c in SNAP_COLUMNS if c not in sources.columns]
            if missing:
                raise ApgeoValueError(
                    f"sources lacks snap column(s) {missing}; pass the result of "
                    "apgeo.routing.snap.snap_points(engine, points, id_column=...) or a list of node ids"
                )
            return sources
        ids = list(sources)
        self._source_rows(ids)  # known ids only
        return node_snap_table(ids)

    def _source_rows(self, ids: list[Hashable]) -> np.ndarray:
        """Matrix rows of node ids; an error naming the ids not in the network."""
        try:
            return node_rows(self.node_index, _object_array(ids))
        except (KeyError, TypeError):
            unknown = [n for n in ids if n not in self.node_index]
            raise ApgeoValueError(
                f"{len(unknown)} source node id(s) are not in the engine's network (largest "
                f"strongly connected component): {unknown[:10]}; snap points with apgeo.routing.snap.snap_points"
            ) from None

    def _source_links(
        self, table: pd.DataFrame, direction: Direction
    ) -> tuple[np.ndarray, np.ndarray]:
        """The links of one virtual node per source (:func:`source_links`)."""
        return source_links(self.node_index, table, direction)

    def _virtual(self, direction: Direction) -> VirtualSourceMatrix:
        """The reusable matrix with free virtual rows for ``direction`` (built on first use)."""
        buffers = self._virtual_buffers
        if direction not in buffers:
            buffers[direction] = VirtualSourceMatrix(
                self.matrix if direction == "from" else self.matrix_t
            )
        return buffers[direction]

    def _augmented(
        self, table: pd.DataFrame, direction: Direction
    ) -> tuple[sp.csr_matrix, np.ndarray]:
        """A new matrix with one virtual node per source; returns it and the virtual indices."""
        base = self.matrix if direction == "from" else self.matrix_t
        cols, weights_s = self._source_links(table, direction)
        return augmented_copy(base, cols, weights_s)

    @staticmethod
    def _node_only(table: pd.DataFrame) -> bool:
        """True when every source sits on a node with no offset (Dijkstra needs no virtual nodes)."""
        return bool(
            (table["u"].to_numpy() == table["v"].to_numpy()).all()
            and (table["access_time_s"].to_numpy(float) == 0).all()
            and (table["time_to_u_s"].to_numpy(float) == 0).all()
            and (table["time_from_u_s"].to_numpy(float) == 0).all()
        )

    def _run(
        self,
        table: pd.DataFrame,
        *,
        limit: float,
        direction: Direction,
    ) -> np.ndarray:
        """Dijkstra from every source of ``table``: (k, n_nodes) seconds, inf beyond."""
        if len(table) <= DIJKSTRA_CHUNK:  # one chunk: no copy of the result
            return self._run_chunk(table, limit=limit, direction=direction)
        out = np.empty((len(table), self.n_nodes), dtype=float)
        for start in progress_steps(len(table), DIJKSTRA_CHUNK, desc="travel times", unit=" source"):
            chunk = table.iloc[start : start + DIJKSTRA_CHUNK]
            out[start : start + len(chunk)] = self._run_chunk(chunk, limit=limit, direction=direction)
        return out

    def _node_dijkstra(self, rows: np.ndarray, limit: float, direction: Direction) -> np.ndarray:
        matrix = self.matrix if direction == "from" else self.matrix_t
        return np.atleast_2d(dijkstra(matrix, directed=True, indices=rows, limit=limit))

    def _run_chunk(self, table: pd.DataFrame, *, limit: float, direction: Direction) -> np.ndarray:
        if self._node_only(table):  # sources on nodes: the matrix as it is
            return self._node_dijkstra(node_rows(self.node_index, table["u"].to_numpy()), limit, direction)
        cols, weights_s = self._source_links(table, direction)
        dist, _ = self._virtual(direction).dijkstra(cols, weights_s, limit=limit)
        return dist

    def node_times(
        self,
        sources: pd.DataFrame | Sequence[Hashable],
        *,
        max_travel_time_s: float | None = None,
        direction: Direction = "from",
    ) -> np.ndarray:
        """Travel time between every source and every node.

        Parameters
        ----------
        sources
            Snapped points (:func:`apgeo.routing.snap.snap_points`; their access leg and partial
            edge are included) or node ids of the network (no offset).
        max_travel_time_s
            Stop searching beyond this time (``None``: no limit).
        direction
            ``"from"``: from each source to every node; ``"to"``: from every node to each
            source (the transposed graph; differs where one-way streets bind drivers).

        Returns
        -------
        numpy.ndarray
            ``(n_sources, n_nodes)`` seconds; columns follow :attr:`node_ids`;
            ``inf`` where unreachable or beyond the limit.
        """
        limit = _check_limit(max_travel_time_s)
        direction = _check_direction(direction)
        if not isinstance(sources, pd.DataFrame):  # node ids: no table, no virtual rows
            rows = self._source_rows(list(sources))
            if len(rows) == 0:
                return np.empty((0, self.n_nodes))
            if len(rows) <= DIJKSTRA_CHUNK:  # one chunk: no copy of the result
                return self._node_dijkstra(rows, limit, direction)
            return np.vstack(
                [
                    self._node_dijkstra(rows[start : start + DIJKSTRA_CHUNK], limit, direction)
                    for start in range(0, len(rows), DIJKSTRA_CHUNK)
                ]
            )
        table = self._sources_table(sources)
        if len(table) == 0:
            return np.empty((0, self.n_nodes))
        return self._run(table, limit=limit, direction=direction)

    def nearest_node_field(
        self,
        sources: pd.DataFrame | Sequence[Hashable],
        *,
        max_travel_time_s: float | None = None,
        direction: Direction = "to",
    ) -> tuple[np.ndarray, np.ndarray]:
        """For every node, the time to (or from) the nearest source and which one.

        One Dijkstra run whatever the number of sources (``min_only=True``).

        Parameters
        ----------
        sources
            Snapped points or node ids, as in :meth:`node_times`.
        max_travel_time_s
            Search limit (``None``: none).
        direction
            ``"to"`` (default): time from each node to its nearest source (e.g. from home
            to a provider); ``"from"``: from the nearest source to the node.

        Returns
        -------
        (numpy.ndarray, numpy.ndarray)
            Seconds per node (``inf`` beyond reach) and the position in ``sources`` of the
            nearest source (``-1`` where none is reached).
        """
        limit = _check_limit(max_travel_time_s)
        direction = _check_direction(direction)
        table = self._sources_table(sources)
        if len(table) == 0:
            return np.full(self.n_nodes, np.inf), np.full(self.n_nodes, -1, dtype=np.int64)
        if self._node_only(table):
            matrix = self.matrix if direction == "from" else self.matrix_t
            indices = node_rows(self.node_index, table["u"].to_numpy())
            position = np.full(self.n_nodes + 1, -1, dtype=np.int64)  # last slot: unreached
            position[indices[::-1]] = np.arange(len(indices))[::-1]  # first occurrence wins
        elif len(table) <= VIRTUAL_CAPACITY:
            cols, weights_s = self._source_links(table, direction)
            seconds, which = self._virtual(direction).dijkstra(
                cols, weights_s, limit=limit, min_only=True
            )
            assert which is not None
            return seconds, which
        else:
            matrix, indices = self._augmented(table, direction)
            position = np.full(self.n_nodes + len(table) + 1, -1, dtype=np.int64)
            position[indices] = np.arange(len(indices))
        seconds, origin = nearest_source_dijkstra(matrix, indices, n_nodes=self.n_nodes, limit=limit)
        return seconds, position[origin]  # -1 (unreached) maps to the last slot, which holds -1


def _snapped(
    engine: TravelTimeEngine,
    points: gpd.GeoDataFrame | pd.DataFrame,
    *,
    id_column: str,
    name: str,
    **snap_options: Any,
) -> pd.DataFrame:
    if isinstance(points, gpd.GeoDataFrame):  # messages name the mode
        return snap_points(
            engine, points, id_column=id_column, name=f"{name} ({engine.mode})", **snap_options
        )
    if isinstance(points, pd.DataFrame) and all(c in points.columns for c in SNAP_COLUMNS):
        return points
    raise ApgeoValueError(
        f"{name} must be a point GeoDataFrame or the result of apgeo.routing.snap.snap_points, "
        f"not {type(points).__name__}"
    )


def travel_time_table(
    engine: TravelTimeEngine,
    origins: gpd.GeoDataFrame | pd.DataFrame,
    destinations: gpd.GeoDataFrame | pd.DataFrame,
    *,
    origin_id_column: str,
    destination_id_column: str,
    max_travel_time_s: float | None = None,
    **snap_options: Any,
) -> pd.DataFrame:
    """All-pairs travel times from origins to destinations: the pipeline's long table.

    Parameters
    ----------
    engine
        A :class:`TravelTimeEngine`.
    origins, destinations
        Point GeoDataFrames in any CRS (snapped with :func:`apgeo.routing.snap.snap_points`), or
        already snapped tables.
    origin_id_column, destination_id_column
        Unique id columns.
    max_travel_time_s
        Pairs slower than this are ``NaN`` (``None``: no limit).
    **snap_options
        Passed to :func:`apgeo.routing.snap.snap_points` (``warn_distance_m``, ``max_distance_m``,
        ``access_speed_kph``, ``strict``).

    Returns
    -------
    pandas.DataFrame
        Columns exactly ``origin_id``, ``destination_id``, ``travel_time_s``: every pair,
        origins in input order then destinations; ``NaN`` when unreachable or beyond the
        limit. ``attrs``: ``mode`` (the engine's) and ``method``
        (``"street network (<source>)"``), carried by every table derived from it.

    Notes
    -----
    Dijkstra runs from the smaller side: from the origins on the graph, or from the
    destinations on the transposed graph, so one-way rules hold either way.
    """
    limit = _check_limit(max_travel_time_s)
    o = _snapped(engine, origins, id_column=origin_id_column, name="origins", **snap_options)
    d = _snapped(
        engine, destinations, id_column=destination_id_column, name="destinations", **snap_options
    )
    if len(o) <= len(d):
        field_s = (
            engine._run(o, limit=limit, direction="from")
            if len(o)
            else np.empty((0, engine.n_nodes))
        )
        times, _ = target_times(engine, field_s, d, "from")
    else:
        field_s = (
            engine._run(d, limit=limit, direction="to") if len(d) else np.empty((0, engine.n_nodes))
        )
        back, _ = target_times(engine, field_s, o, "to")
        times = back.T
    times = np.minimum(times, direct_times(o, d))
    times = np.where(times <= limit, times, np.nan)
    table = pd.DataFrame(
        {
            ORIGIN_ID: np.repeat(o[origin_id_column].to_numpy(), len(d)),
            DESTINATION_ID: np.tile(d[destination_id_column].to_numpy(), len(o)),
            TRAVEL_TIME_S: times.reshape(-1),
        }
    )
    if engine.mode != "unknown":
        table.attrs["mode"] = engine.mode
    source = engine.graph.graph.get("source", "osm") if engine.graph is not None else "network arrays"
    table.attrs["method"] = f"street network ({source})"
    return table


def nearest(
    engine: TravelTimeEngine,
    sources: gpd.GeoDataFrame | pd.DataFrame,
    targets: gpd.GeoDataFrame | pd.DataFrame,
    *,
    source_id_column: str,
    target_id_column: str,
    max_travel_time_s: float | None = None,
    direction: Direction = "to",
    **snap_options: Any,
) -> pd.DataFrame:
    """For every target point, the travel time to its nearest source and that source's id.

    Parameters
    ----------
    engine
        A :class:`TravelTimeEngine`.
    sources
        Providers: point GeoDataFrame (any CRS) or a snapped table.
    targets
        Demand points (e.g. LSOA population-weighted centroids), same forms.
    source_id_column, target_id_column
        Unique id columns.
    max_travel_time_s
        Sources farther than this do not count (``None``: no limit).
    direction
        ``"to"`` (default): time from the target to the source (a child travelling from
        home to a provider); ``"from"``: from the source to the target.

    Returns
    -------
    pandas.DataFrame
        ``target_id_column``, ``travel_time_s`` (``NaN`` when no source is reachable within
        the limit) and ``nearest_id`` (missing then), in target order.
    """
    limit = _check_limit(max_travel_time_s)
    direction = _check_direction(direction)
    s = _snapped(engine, sources, id_column=source_id_column, name="sources", **snap_options)
    t = _snapped(engine, targets, id_column=target_id_column, name="targets", **snap_options)
    n_t = len(t)
    if len(s) == 0 or n_t == 0:
        times = np.full(n_t, np.inf)
        which = np.full(n_t, -1, dtype=np.int64)
    else:
        field_s, node_source = engine.nearest_node_field(
            s, max_travel_time_s=max_travel_time_s, direction=direction
        )
        times, via_u = target_times(engine, field_s, t, "from" if direction == "from" else "to")
        u_idx = node_rows(engine.node_index, t["u"].to_numpy())
        v_idx = node_rows(engine.node_index, t["v"].to_numpy())
        which = np.where(via_u, node_source[u_idx], node_source[v_idx])
        which = np.where(np.isfinite(times), which, -1)
        direct = direct_times(s, t) if direction == "from" else direct_times(t, s).T
        if np.isfinite(direct).any():
            best = direct.argmin(axis=0)
            best_s = direct[best, np.arange(n_t)]
            better = best_s < times
            times = np.where(better, best_s, times)
            which = np.where(better, best, which)
    reached = times <= limit
    ids = s[source_id_column].to_numpy(dtype=object) if len(s) else np.array([], dtype=object)
    nearest_ids = np.array(
        [ids[w] if ok and w >= 0 else None for w, ok in zip(which, reached, strict=True)],
        dtype=object,
    )
    return pd.DataFrame(
        {
            target_id_column: t[target_id_column].to_numpy(),
            TRAVEL_TIME_S: np.where(reached, times, np.nan),
            NEAREST_ID: nearest_ids,
        }
    )


@dataclass(frozen=True, eq=False)
class TravelTimeField:
    """Per-source travel times over the whole network, for catchments.

    Attributes
    ----------
    engine
        The engine used.
    sources
        The snapped sources (one row each; ``u``, ``v``, ``fraction`` place each on its edge).
    source_ids
        Source ids in row order.
    node_times_s
        ``(n_sources, n_nodes)`` seconds, ``inf`` beyond ``max_travel_time_s``; columns
        follow ``engine.node_ids``. Includes each source's access leg.
    max_travel_time_s
        The limit used (``inf`` for none).
    direction
        ``"from"`` the sources or ``"to"`` them.
    """

    engine: TravelTimeEngine
    sources: pd.DataFrame
    source_ids: np.ndarray
    node_times_s: np.ndarray
    max_travel_time_s: float
    direction: Direction

    def edge_times(self, source: int) -> pd.DataFrame:
        """Times at both ends of every edge for source number ``source``.

        Parameters
        ----------
        source
            Row of the source in :attr:`sources`.

        Returns
        -------
        pandas.DataFrame
            ``u``, ``v``, ``key``, ``length_m``, ``travel_time_s`` (of the edge),
            ``time_u_s`` and ``time_v_s`` (time at each end; ``inf`` when beyond the limit).
            With ``direction="from"``, a point at fraction ``f`` of an edge u -> v is
            reached at ``time_u_s + f * travel_time_s``; the edge is wholly inside a
            catchment of ``T`` seconds when ``time_u_s + travel_time_s <= T``, partly when
            ``time_u_s < T`` (reach ``(T - time_u_s) / travel_time_s`` of it). The source's
            own edge (``sources.loc[source]``) is also reached directly from the point.
        """
        times = self.node_times_s[source]
        edges = self.engine.edges
        return pd.DataFrame(
            {
                "u": edges["u"],
                "v": edges["v"],
                "key": edges["key"],
                "length_m": edges["length_m"],
                TRAVEL_TIME_S: edges[TRAVEL_TIME_S],
                "time_u_s": times[edges["u_index"].to_numpy()],
                "time_v_s": times[edges["v_index"].to_numpy()],
            }
        )

    def node_frame(self) -> pd.DataFrame:
        """Long table ``source_id, node, travel_time_s`` of the nodes within the limit.

        Returns
        -------
        pandas.DataFrame
            One row per source and node reached.
        """
        src, node = np.nonzero(np.isfinite(self.node_times_s))
        return pd.DataFrame(
            {
                "source_id": self.source_ids[src],
                "node": self.engine.node_ids[node],
                TRAVEL_TIME_S: self.node_times_s[src, node],
            }
        )


def travel_time_field(
    engine: TravelTimeEngine,
    sources: gpd.GeoDataFrame | pd.DataFrame,
    *,
    id_column: str,
    max_travel_time_s: float | None = None,
    direction: Direction = "from",
    **snap_options: Any,
) -> TravelTimeField:
    """Travel times from (or to) each source to every node within ``max_travel_time_s``.

    This is what catchment polygons are built from: for provider ``i``,
    ``field.node_times_s[i]`` gives the time at every node and ``field.edge_times(i)`` the
    times at both ends of every edge (so partially reached edges can be cut).

    Parameters
    ----------
    engine
        A :class:`TravelTimeEngine`.
    sources
        Point GeoDataFrame (any CRS) or a snapped table.
    id_column
        Unique source id column.
    max_travel_time_s
        Search limit (``None``: none).
    direction
        ``"from"`` the sources (default) or ``"to"`` them (e.g. children driving to a
        provider: use ``"to"``).
    **snap_options
        Passed to :func:`apgeo.routing.snap.snap_points`.

    Returns
    -------
    TravelTimeField
        Times in seconds from each source to every node (``inf`` beyond the limit).
    """
    limit = _check_limit(max_travel_time_s)
    direction = _check_direction(direction)
    s = _snapped(engine, sources, id_column=id_column, name="sources", **snap_options)
    times = (
        engine._run(s, limit=limit, direction=direction)
        if len(s)
        else np.empty((0, engine.n_nodes))
    )
    return TravelTimeField(
        engine=engine,
        sources=s,
        source_ids=s[id_column].to_numpy(dtype=object),
        node_times_s=times,
        max_travel_time_s=limit,
        direction=direction,
    )


__all__ = [
    "NEAREST_ID",
    "Direction",
    "TravelTimeEngine",
    "TravelTimeField",
    "nearest",
    "travel_time_field",
    "travel_time_table",
]
