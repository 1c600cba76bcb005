"""From node times to snapped points: the last leg along a point's street, and journeys
between two points on the same street.

Points are snapped part-way along an edge (:mod:`apgeo.routing.snap`). Given times to
every node (a Dijkstra field), :func:`target_times` adds the partial edge from either end
and the access leg; :func:`direct_times` finds journeys that never reach a node (both
points on one edge); :func:`node_snap_table` places sources exactly on nodes.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from apgeo.routing.node_index import node_rows

if TYPE_CHECKING:
    from apgeo.routing.travel_times import Direction, TravelTimeEngine


def node_snap_table(node_ids: Sequence[Hashable]) -> pd.DataFrame:
    """A snap table placing each source exactly on a node (no access leg).

    Parameters
    ----------
    node_ids
        Network node ids, one per source.

    Returns
    -------
    pandas.DataFrame
        A snap table (see :func:`apgeo.routing.snap.snap_points`) with zero-length access
        legs.
    """
    k = len(node_ids)
    zeros = np.zeros(k)
    return pd.DataFrame(
        {
            "u": list(node_ids),
            "v": list(node_ids),
            "key": np.full(k, -1),
            "fraction": zeros,
            "position_m": zeros,
            "snap_distance_m": zeros,
            "access_time_s": zeros,
            "time_to_u_s": zeros,
            "time_to_v_s": zeros,
            "time_from_u_s": zeros,
            "time_from_v_s": zeros,
            "edge_forward_s": np.full(k, np.inf),
            "edge_reverse_s": np.full(k, np.inf),
        }
    )


def target_times(
    engine: TravelTimeEngine, field_s: np.ndarray, targets: pd.DataFrame, direction: Direction
) -> tuple[np.ndarray, np.ndarray]:
    """Times (k, n_targets) from node fields to snapped targets, and the via-u choice.

    ``direction="from"``: field = time source -> node; target reached from u or v.
    ``direction="to"``: field = time node -> source; target leaves towards u or v.

    Parameters
    ----------
    engine
        The engine the fields were computed on.
    field_s
        ``(k, n_nodes)`` node times in seconds.
    targets
        Snapped targets (a snap table).
    direction
        ``"from"`` or ``"to"`` the sources, as above.

    Returns
    -------
    tuple of numpy.ndarray
        ``(times_s, via_u)``, each ``(k, n_targets)``.
    """
    u_idx = node_rows(engine.node_index, targets["u"].to_numpy())
    v_idx = node_rows(engine.node_index, targets["v"].to_numpy())
    if direction == "from":
        leg_u = targets["time_from_u_s"].to_numpy(float)
        leg_v = targets["time_from_v_s"].to_numpy(float)
    else:
        leg_u = targets["time_to_u_s"].to_numpy(float)
        leg_v = targets["time_to_v_s"].to_numpy(float)
    access = targets["access_time_s"].to_numpy(float)
    via_u = field_s[..., u_idx] + leg_u
    via_v = field_s[..., v_idx] + leg_v
    return np.minimum(via_u, via_v) + access, via_u <= via_v


def direct_times(from_table: pd.DataFrame, to_table: pd.DataFrame) -> np.ndarray:
    """(n_from, n_to) times along a shared edge (inf where not on the same edge).

    Parameters
    ----------
    from_table, to_table
        Snap tables of the two sets of points.

    Returns
    -------
    numpy.ndarray
        Seconds, ``(n_from, n_to)``.
    """
    out = np.full((len(from_table), len(to_table)), np.inf)
    key_from = list(zip(from_table["u"], from_table["v"], from_table["key"], strict=True))
    by_edge: dict[tuple[Any, Any, Any], list[int]] = {}
    for j, edge in enumerate(zip(to_table["u"], to_table["v"], to_table["key"], strict=True)):
        by_edge.setdefault(edge, []).append(j)
    if not by_edge:
        return out
    f_from = from_table["fraction"].to_numpy(float)
    f_to = to_table["fraction"].to_numpy(float)
    fwd = from_table["edge_forward_s"].to_numpy(float)
    rev = from_table["edge_reverse_s"].to_numpy(float)
    acc_from = from_table["access_time_s"].to_numpy(float)
    acc_to = to_table["access_time_s"].to_numpy(float)
    for i, edge in enumerate(key_from):
        if edge[2] == -1:  # node sources have no edge
            continue
        for j in by_edge.get(edge, ()):
            delta = f_to[j] - f_from[i]
            along = delta * fwd[i] if delta >= 0 else -delta * rev[i]
            out[i, j] = acc_from[i] + along + acc_to[j]
    return out


__all__ = ["direct_times", "node_snap_table", "target_times"]
