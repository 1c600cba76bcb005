"""apgeo's travel times on real OpenStreetMap networks equal an independent Dijkstra.

Each network is read twice from the same PBF: by apgeo (``load_networks``), and here with
pyrosm's own edge table, this file's own reading of the documented mode rules (which streets
a mode may use, one-way rules, speeds), lengths measured on the edges projected to
EPSG:27700, a plain networkx graph and ``networkx.single_source_dijkstra_path_length``. The
times must agree to 0.1 s for every node reached from a few sampled sources.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import networkx as nx
import numpy as np
import pandas as pd
import pytest

from apgeo.network.load import load_networks
from apgeo.routing.travel_times import TravelTimeEngine

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "osm"
IOW = SHARED / "isle_of_wight_osm_2015-01-01.osm.pbf"
RUTLAND = SHARED / "rutland_osm_2018-02-27.osm.pbf"
MPH = 1.609344

# the documented rules (apgeo.network), written out here
WALK_KPH = 4.8
NEVER = {"abandoned", "bus_guideway", "construction", "planned", "platform", "proposed",
         "raceway", "razed", "no", "escape", "elevator"}
WALK_EXCLUDED = NEVER | {"motorway", "motorway_link", "busway"}
DRIVE_MPH = {"motorway": 70, "motorway_link": 50, "trunk": 50, "trunk_link": 40, "primary": 40,
             "primary_link": 30, "secondary": 30, "secondary_link": 30, "tertiary": 30,
             "tertiary_link": 30, "unclassified": 30, "residential": 30, "road": 30,
             "living_street": 10, "service": 10}
NO_DRIVE_SERVICE = {"parking", "parking_aisle", "private", "emergency_access", "driveway"}
ALLOW = {"yes", "designated", "permissive", "destination"}
DENY = {"no", "private"}


def _tag(row: dict[str, Any], key: str) -> str | None:
    value = row.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        value = row["_tags"].get(key)
    return None if value is None else str(value).strip().lower()


def _usable(row: dict[str, Any], mode: str) -> bool:
    highway = _tag(row, "highway")
    if highway is None or _tag(row, "area") == "yes" or row["u"] == row["v"]:
        return False
    if mode == "walk":
        own = _tag(row, "foot")
        if highway in WALK_EXCLUDED:
            return False
    else:
        own = _tag(row, "motor_vehicle") or _tag(row, "motorcar")
        if highway not in DRIVE_MPH or _tag(row, "service") in NO_DRIVE_SERVICE:
            return False
    if own in DENY:
        return False
    return not (_tag(row, "access") in DENY and own not in ALLOW)


def _mph_to_kph(text: str | None) -> float:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(mph)?", text or "")
    return float(match.group(1)) * MPH if match else math.nan


def _independent_graph(pbf: Path, mode: str) -> nx.DiGraph:
    """The mode's network from pyrosm's edge table, by this file's rules."""
    import pyrosm

    _, edges = pyrosm.OSM(str(pbf)).get_network(network_type="all", nodes=True)
    length_m = edges.geometry.set_crs("EPSG:4326", allow_override=True).to_crs("EPSG:27700").length
    table = pd.DataFrame(edges.drop(columns="geometry"))
    table["length_m"] = length_m.to_numpy()
    table["_tags"] = [json.loads(t) if isinstance(t, str) and t else {} for t in table["tags"]]
    rows = [r for r in table.to_dict("records") if _usable(r, mode)]
    directed: list[tuple[Any, Any, dict[str, Any]]] = []
    for r in rows:
        oneway = _tag(r, "oneway")
        forward = oneway in ("yes", "true", "1") or (
            oneway is None
            and (_tag(r, "junction") in ("roundabout", "circular") or _tag(r, "highway") == "motorway")
        )
        reverse = oneway in ("-1", "reverse")
        if mode == "walk" or not reverse:
            directed.append((r["u"], r["v"], r))
        if mode == "walk" or not forward:
            directed.append((r["v"], r["u"], r))
    if mode == "walk":
        speeds = [WALK_KPH] * len(directed)
    else:  # maxspeed, else the mean known maxspeed of the type (over directed edges), else the table
        known = [_mph_to_kph(_tag(r, "maxspeed")) for _, _, r in directed]
        types = [_tag(r, "highway") for _, _, r in directed]
        means = pd.Series(known).groupby(pd.Series(types)).mean()
        speeds = [
            k if not math.isnan(k)
            else (means[h] if not math.isnan(means[h]) else DRIVE_MPH[h] * MPH)  # type: ignore[index]
            for k, h in zip(known, types, strict=True)
        ]
    G = nx.DiGraph()
    for (u, v, r), kph in zip(directed, speeds, strict=True):
        seconds = r["length_m"] / (kph / 3.6)
        if not G.has_edge(u, v) or G[u][v]["t"] > seconds:
            G.add_edge(u, v, t=seconds)
    return G


def _check_against_networkx(G_apgeo: nx.MultiDiGraph, pbf: Path, mode: str) -> None:
    ours = TravelTimeEngine.from_graph(G_apgeo, warn_dropped_fraction=None)
    theirs = _independent_graph(pbf, mode)
    assert ours.n_nodes > 0.5 * theirs.number_of_nodes()
    rng = np.random.default_rng(7)
    sources = [ours.node_ids[i] for i in rng.choice(ours.n_nodes, size=3, replace=False)]
    targets = [ours.node_ids[i] for i in rng.choice(ours.n_nodes, size=300, replace=False)]
    times = ours.node_times(sources)
    for row, source in enumerate(sources):
        expected = nx.single_source_dijkstra_path_length(theirs, source, weight="t")
        got = [times[row, ours.node_index[t]] for t in targets]
        want = [expected.get(t, math.inf) for t in targets]
        np.testing.assert_allclose(got, want, atol=0.1, rtol=0)
        assert np.isfinite(want).mean() > 0.9  # the sample is of the main network


needs_iow = pytest.mark.skipif(not IOW.is_file(), reason=f"{IOW} not found")
needs_rutland = pytest.mark.skipif(not RUTLAND.is_file(), reason=f"{RUTLAND} not found")


@pytest.fixture(scope="session")
def iow_networks() -> dict[str, nx.MultiDiGraph]:
    return load_networks(IOW, modes=("walk", "drive"), cache=False)


@needs_iow
@pytest.mark.parametrize("mode", ["walk", "drive"])
def test_isle_of_wight_times_equal_an_independent_dijkstra(
    iow_networks: dict[str, nx.MultiDiGraph], mode: str
) -> None:
    _check_against_networkx(iow_networks[mode], IOW, mode)


@needs_rutland
def test_rutland_walk_times_equal_an_independent_dijkstra() -> None:
    G = load_networks(RUTLAND, modes=("walk",), cache=False)["walk"]
    _check_against_networkx(G, RUTLAND, "walk")
