"""The public-transport layer of a map: lines and stops from the timetable feed.

Comes in: a :class:`~apgeo.routing.transit.feed.TransitFeed` (one service date).
Goes out: a Folium layer with one line per distinct stop sequence of each route (straight
segments between consecutive stops, since the feeds carry no shapes) and a marker per stop
named in its tooltip. Only the timetable's own geometry is drawn: nothing is snapped or
guessed.
"""

from __future__ import annotations

import html
from typing import Any

import folium

#: Colours of the lines, by GTFS route_type (0 tram, 1 metro, 2 rail, 3 bus).
ROUTE_TYPE_COLOURS: dict[int, str] = {0: "#7b3294", 1: "#7b3294", 2: "#1a1a1a", 3: "#2b8cbe"}
ROUTE_TYPE_NAMES: dict[int, str] = {0: "tram", 1: "metro", 2: "rail", 3: "bus"}


def stop_sequences(feed: Any) -> list[tuple[int, list[str]]]:
    """Distinct stop sequences of the feed's trips that day, with their route type,
    longest first (so shorter sub-patterns are drawn on top).

    Parameters
    ----------
    feed
        A :class:`~apgeo.routing.transit.feed.TransitFeed`.

    Returns
    -------
    list of tuple
        ``(route_type, [stop_id, ...])`` per distinct sequence.
    """
    st = feed.stop_times.sort_values(["trip_key", "stop_sequence"], kind="stable")
    route_type = feed.trips.set_index("trip_key")["route_type"]
    seen: dict[tuple[str, ...], int] = {}
    for trip, group in st.groupby("trip_key", sort=True):
        seq = tuple(group["stop_id"].astype(str))
        if len(seq) > 1 and seq not in seen:
            seen[seq] = int(route_type.get(trip, 3))
    return sorted(((rt, list(seq)) for seq, rt in seen.items()), key=lambda x: (-len(x[1]), x[1]))


def transit_layer(feed: Any, *, name: str | None = None, show: bool = True) -> folium.FeatureGroup:
    """Lines and stops of ``feed`` as one map layer.

    Parameters
    ----------
    feed
        A :class:`~apgeo.routing.transit.feed.TransitFeed`.
    name
        Layer name; default names the kinds of line and the feed.
    show
        Whether the layer is on when the map opens (it can be switched on in the layer list).

    Returns
    -------
    folium.FeatureGroup
        Add it to a map, e.g. through ``study_map(extra_layers=[...])``.
    """
    stops = feed.stops.set_index(feed.stops["stop_id"].astype(str))
    types = {rt for rt, _ in stop_sequences(feed)} or {0}
    kinds = " and ".join(sorted({ROUTE_TYPE_NAMES.get(t, "public transport") for t in types}))
    layer = folium.FeatureGroup(name=name or f"Public transport: {kinds} lines and stops ({feed.name})", show=show)
    for rt, seq in stop_sequences(feed):
        points = [(float(stops.at[s, "stop_lat"]), float(stops.at[s, "stop_lon"])) for s in seq if s in stops.index]
        folium.PolyLine(points, color=ROUTE_TYPE_COLOURS.get(rt, "#2b8cbe"), weight=3, opacity=0.8).add_to(layer)
    for stop_id, row in stops.iterrows():
        label = html.escape(str(row.get("stop_name", stop_id)))
        folium.CircleMarker(
            (float(row["stop_lat"]), float(row["stop_lon"])), radius=3, color="#4d004b", weight=1,
            fill=True, fill_opacity=0.9, tooltip=label,
        ).add_to(layer)
    return layer


__all__ = ["stop_sequences", "transit_layer"]
