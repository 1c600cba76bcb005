"""Joining the ways of a line layer where they share a vertex, as OpenStreetMap joins them.

OpenStreetMap ways meet where they share a node, and a line layer exported from OSM (GDAL's
or osmextract's ``lines`` layer, the Leeds extract in ``shared/data/osm``) keeps those nodes
as vertices with identical coordinates but not split at them: a crossroads is a vertex
inside both ways. :func:`_shared_vertex_topology` splits every way at each interior vertex
it shares with another way, so the network has a junction exactly where OSM has one and
nowhere else (no snapping within a tolerance, which invents links OSM does not have).

Levels
    Two ways that share a vertex inside both of them join only when they are on the same
    level: the same ``layer`` (a number, default 0) and both or neither a bridge (any
    ``bridge`` value but ``no``) and both or neither a tunnel (any ``tunnel`` value but
    ``no``, ``building_passage`` and ``covered``, which are passages at street level).
    Where a way *ends* at the vertex every way there joins, whatever its level: that is how
    OSM ramps, stairs and bridge approaches connect. Otherwise the network has one node per
    level at the point and the ways pass without a junction.

Choosing the join (:func:`_choose_join`, ``join="auto"``)
    An OSM layer (an ``osm_id`` and a ``highway`` column) is joined at shared vertices.
    Another layer is too when at least :data:`SHARED_VERTEX_SHARE` of its junction points
    (points where two or more pieces meet) lie inside a piece: the sign of ways left whole
    across junctions. Council centrelines split at their junctions (the Sheffield gritting
    routes: 0 of 314 junction points inside a piece) or digitised without a vertex on the
    through road need proximity snapping instead (:mod:`apgeo.network.lines`).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from apgeo._errors import ApgeoValueError
from apgeo.network.line_layer import (
    _COORD_QUANTUM_M,
    Join,
    _Pieces,
    _Tags,
    is_osm_layer,
)

#: Share of junction points lying inside a piece above which ``join="auto"`` joins a
#: non-OSM layer at shared vertices (OSM Leeds: 0.72; Sheffield gritting routes: 0.0).
SHARED_VERTEX_SHARE = 0.25
#: ``tunnel`` values that are passages at street level, not a separate level.
_STREET_LEVEL_TUNNELS = frozenset({"no", "building_passage", "covered"})


@dataclass(frozen=True)
class _SharedStats:
    """What the shared-vertex join found (see :class:`LineNetworkReport`)."""

    n_shared_points: int
    n_junction_points: int
    n_level_separated: int


def _vertex_table(geoms: np.ndarray) -> pd.DataFrame:
    """Every vertex of every piece: piece, quantised key, coordinates, end flag; repeated
    consecutive vertices (closer than the quantum) dropped."""
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    keys = np.round(coords / _COORD_QUANTUM_M).astype(np.int64)
    repeat = np.zeros(len(coords), dtype=bool)
    repeat[1:] = (owner[1:] == owner[:-1]) & (keys[1:] == keys[:-1]).all(axis=1)
    coords, owner, keys = coords[~repeat], owner[~repeat], keys[~repeat]
    first = np.ones(len(owner), dtype=bool)
    first[1:] = owner[1:] != owner[:-1]
    last = np.ones(len(owner), dtype=bool)
    last[:-1] = owner[:-1] != owner[1:]
    return pd.DataFrame(
        {
            "piece": owner,
            "kx": keys[:, 0],
            "ky": keys[:, 1],
            "x": coords[:, 0],
            "y": coords[:, 1],
            "first": first,
            "last": last,
        }
    )


def _junction_share(geoms: np.ndarray) -> tuple[float, int]:
    """Share of junction points (two or more pieces) that lie inside some piece, and
    the number of junction points."""
    table = _vertex_table(geoms)
    table["end"] = table["first"] | table["last"]
    table = table.drop_duplicates(["kx", "ky", "piece"])
    grouped = table.groupby(["kx", "ky"], sort=False)["end"].agg(["all", "size"])
    junctions = grouped[grouped["size"] >= 2]
    if junctions.empty:
        return 0.0, 0
    return float((~junctions["all"]).mean()), len(junctions)


def _choose_join(
    gdf: gpd.GeoDataFrame, geoms: np.ndarray, join: Join
) -> tuple[Literal["shared_vertices", "proximity"], str]:
    """The join to use for a generic layer and why (see the module docstring)."""
    if join == "shared_vertices" or join == "proximity":
        return join, f"join={join!r}"
    if join != "auto":
        raise ApgeoValueError(
            f"join={join!r}; use 'auto', 'shared_vertices' (ways meet where they share a "
            "vertex, as in OpenStreetMap) or 'proximity' (ends snapped within the tolerance)"
        )
    if is_osm_layer(gdf):
        return "shared_vertices", "an OpenStreetMap layer: osm_id and highway columns"
    share, n_junctions = _junction_share(geoms)
    text = f"{share:.0%} of {n_junctions} junction point(s) lie inside a line"
    if n_junctions > 0 and share >= SHARED_VERTEX_SHARE:
        return "shared_vertices", text
    return "proximity", text + f" (under {SHARED_VERTEX_SHARE:.0%}: lines end at junctions)"


def _level_codes(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """An integer per row: equal codes are on the same level (``layer``, bridge, tunnel)."""
    tags = _Tags(gdf)
    n = len(gdf)
    absent = np.full(n, np.nan, dtype=object)
    layer_raw = tags.get("layer")
    layer = pd.to_numeric(
        pd.Series(absent if layer_raw is None else layer_raw, dtype=object), errors="coerce"
    ).fillna(0.0)
    levels = pd.DataFrame({"layer": layer.to_numpy(dtype=float)})
    for key, street_level in (("bridge", frozenset({"no"})), ("tunnel", _STREET_LEVEL_TUNNELS)):
        raw = tags.get(key)
        text = pd.Series(absent if raw is None else raw, dtype=object)
        text = text.map(lambda x: "" if pd.isna(x) else str(x).strip().lower())
        levels[key] = ~text.isin(street_level | {""}).to_numpy()
    codes, _ = pd.factorize(pd.MultiIndex.from_frame(levels))
    return np.asarray(codes, dtype=np.int64)


def _shared_vertex_topology(
    geoms: np.ndarray, rows: np.ndarray, levels: np.ndarray, dropped: Counter[str]
) -> tuple[_Pieces, _SharedStats]:
    """Split the pieces at every interior vertex they share with another piece on their
    level (or where another piece ends), and number the nodes by their coordinates."""
    table = _vertex_table(geoms)
    sizes = table.groupby("piece", sort=False).size()
    short = sizes.index[sizes < 2].to_numpy()
    if len(short):
        dropped["zero length"] += len(short)
        table = table[~table["piece"].isin(short)].reset_index(drop=True)
    table["level"] = levels[rows[table["piece"].to_numpy()]]
    table["end"] = table["first"] | table["last"]
    point = table.groupby(["kx", "ky"], sort=False)
    has_end = point["end"].transform("any").to_numpy()
    # the node of a vertex: its point, and its level unless some way ends there
    table["node_level"] = np.where(has_end, -1, table["level"].to_numpy())
    key = table[["kx", "ky", "node_level"]].to_numpy(dtype=np.int64)
    unique, node = np.unique(key, axis=0, return_inverse=True)
    node = node.reshape(-1)
    table["node"] = node
    # pieces meeting at each node (a piece passing twice counts once)
    meet = table.drop_duplicates(["node", "piece"]).groupby("node").size()
    n_pieces_at = meet.reindex(np.arange(len(unique)), fill_value=0).to_numpy()
    cut = table["end"].to_numpy() | (n_pieces_at[node] >= 2)
    # interior cut vertices end one part and start the next: write them twice
    twice = cut & ~table["end"].to_numpy()
    repeat = np.where(twice, 2, 1)
    xy = np.repeat(table[["x", "y"]].to_numpy(), repeat, axis=0)
    nodes_x = np.repeat(node, repeat)
    owner = np.repeat(table["piece"].to_numpy(), repeat)
    starts = np.repeat(table["first"].to_numpy(), repeat)
    second = np.zeros(len(xy), dtype=bool)
    positions = np.cumsum(repeat) - 1  # the last copy of each vertex
    second[positions[twice]] = True
    part = np.cumsum(starts | second) - 1
    new_geoms = shapely.linestrings(xy, indices=part)
    first_of = np.r_[0, np.flatnonzero(np.diff(part)) + 1]
    last_of = np.r_[first_of[1:] - 1, len(part) - 1]
    node_xy = np.zeros((len(unique), 2))
    node_xy[node] = table[["x", "y"]].to_numpy()
    # statistics: points shared by two or more ways, and how they were joined
    per_point = table.drop_duplicates(["kx", "ky", "piece"]).groupby(["kx", "ky"]).size()
    shared_points = per_point[per_point >= 2]
    nodes_per_point = (
        table.drop_duplicates(["kx", "ky", "node"]).groupby(["kx", "ky"]).size()
    ).reindex(shared_points.index)
    joined = table[n_pieces_at[node] >= 2].drop_duplicates(["kx", "ky"])
    stats = _SharedStats(
        n_shared_points=len(shared_points),
        n_junction_points=len(joined),
        n_level_separated=int((nodes_per_point > 1).sum()),
    )
    pieces = _Pieces(
        geoms=new_geoms,
        rows=rows[owner[first_of]],
        u=nodes_x[first_of].astype(np.int64),
        v=nodes_x[last_of].astype(np.int64),
        node_xy=node_xy,
    )
    return pieces, stats


__all__ = ["SHARED_VERTEX_SHARE"]
