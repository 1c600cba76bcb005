"""Synthetic grid networks for tests, benchmarks and examples.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import networkx as nx
import numpy as np

from apgeo._errors import ApgeoValueError
from apgeo.network.modes import (
    DEFAULT_SPEEDS_KPH,
    FALLBACK_DRIVE_SPEED_MPH,
    MPH_TO_KPH,
    Mode,
    _check_speed,
    check_mode,
    resolve_speeds,
)
from apgeo.settings import WORKING_CRS


def grid_network(
    n_cols: int,
    n_rows: int,
    *,
    spacing_m: float = 100.0,
    mode: Mode = "walk",
    speed_kph: float | None = None,
    origin: tuple[float, float] = (430_000.0, 380_000.0),
    one_way: Iterable[tuple[int, int]] = (),
    crs: str = WORKING_CRS,
) -> nx.MultiDiGraph:
    """A synthetic square grid street network, for tests and benchmarks.

    Node ``r * n_cols + c`` sits at ``origin + (c * spacing_m, r * spacing_m)``; every pair of
    horizontal or vertical neighbours is joined in both directions by straight streets
    (no ``geometry`` attribute) of highway type ``residential``.

    Parameters
    ----------
    n_cols, n_rows
        Grid size in nodes (each >= 1, at least 2 nodes in all).
    spacing_m
        Street length between neighbouring nodes.
    mode
        Mode recorded on the graph.
    speed_kph
        Speed on every edge; default the mode's default (walk 4.8, cycle 15, drive 30 mph).
    origin
        Coordinates of node 0 (default: central Sheffield in EPSG:27700).
    one_way
        Pairs ``(a, b)`` of neighbouring nodes whose street may be driven only from ``a`` to
        ``b``; ignored for walk and cycle (one-way streets bind drivers only).
    crs
        CRS recorded on the graph.

    Returns
    -------
    networkx.MultiDiGraph
        The grid, with ``length`` (metres) and ``travel_time`` (seconds) on every edge.
    """
    mode = check_mode(mode)
    if int(n_cols) < 1 or int(n_rows) < 1 or int(n_cols) * int(n_rows) < 2:
        raise ApgeoValueError(f"grid_network needs at least 2 nodes, got {n_cols} x {n_rows}")
    if not math.isfinite(spacing_m) or spacing_m <= 0:
        raise ApgeoValueError(f"spacing_m = {spacing_m!r}: give a positive distance in metres")
    if speed_kph is None:
        speed = DEFAULT_SPEEDS_KPH.get(mode, FALLBACK_DRIVE_SPEED_MPH * MPH_TO_KPH)
    else:
        speed = _check_speed(speed_kph, name="speed_kph")
    speeds = resolve_speeds({mode: speed})
    travel_time_s = spacing_m / (speed / 3.6)
    G = nx.MultiDiGraph(crs=crs, mode=mode, source="synthetic grid", speeds_kph=speeds)
    ids = np.arange(n_cols * n_rows)
    xs = origin[0] + (ids % n_cols) * spacing_m
    ys = origin[1] + (ids // n_cols) * spacing_m
    G.add_nodes_from(
        (int(i), {"x": float(x), "y": float(y)}) for i, x, y in zip(ids, xs, ys, strict=True)
    )
    grid = ids.reshape(n_rows, n_cols)
    pairs = np.concatenate(
        [
            np.stack([grid[:, :-1].ravel(), grid[:, 1:].ravel()], axis=1),
            np.stack([grid[:-1, :].ravel(), grid[1:, :].ravel()], axis=1),
        ]
    )
    blocked: set[tuple[int, int]] = set()
    if mode == "drive":
        existing = {(int(a), int(b)) for a, b in pairs} | {(int(b), int(a)) for a, b in pairs}
        for a, b in one_way:
            if (int(a), int(b)) not in existing:
                raise ApgeoValueError(f"one_way pair {(a, b)} is not a street of the grid")
            blocked.add((int(b), int(a)))
    attrs = {
        "length_m": float(spacing_m),
        "speed_kph": speed,
        "travel_time_s": travel_time_s,
        "highway": "residential",
    }
    G.add_edges_from(
        (a, b, dict(attrs))
        for p, q in pairs
        for a, b in ((int(p), int(q)), (int(q), int(p)))
        if (a, b) not in blocked
    )
    return G


# ---- loaders ----------------------------------------------------------------------------------


__all__ = [
    "grid_network",
]
