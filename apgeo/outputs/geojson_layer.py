"""GeoJSON map layers: the features of a table, and a layer that writes them into the page
as they are.

:func:`feature_collection` turns a table into GeoJSON features with only the properties a
layer's callback gives (already escaped), reading the rows as plain mappings rather than
one pandas Series each.

folium writes a layer's script through its template, and branca then compiles the written
script, every coordinate of the layer's GeoJSON included, as a template of its own before
putting it in the page (``MacroElement.render``): on a study's maps megabytes of
coordinates are read as template source for nothing. :class:`GeoJsonLayer` is ``folium.GeoJson`` with its features handed to the
layer by a separate line of script, written as text after the layer's own script: the
page draws the same layer, with the same styles, tooltips and popups.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import folium
import geopandas as gpd
import shapely.geometry
from branca.element import Element, Figure
from folium.features import GeoJsonStyleMapper
from folium.map import Layer
from folium.utilities import get_obj_in_upper_tree

__all__ = ["FeatureRow", "GeoJsonLayer", "feature_collection", "geojson_layer"]

_EMPTY: dict[str, Any] = {"type": "FeatureCollection", "features": []}


class _Text(Element):
    """Text put in the page as it is, not as a template."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self._text = text

    def render(self, **kwargs: Any) -> str:
        return self._text


def _html_safe_json(data: Any) -> str:
    """JSON that cannot close the page's script element, as folium's ``tojson`` writes it."""
    return (
        json.dumps(data, sort_keys=True)
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("'", "\\u0027")
    )


class GeoJsonLayer(folium.GeoJson):
    """``folium.GeoJson`` (same arguments) whose features reach the page as plain text.

    The style and highlight maps are made from the features as folium makes them; the
    layer's script is then written for an empty collection, one more line of script after
    it adds the features, and the layer's tooltip and popup follow.
    """

    def render(self, **kwargs: Any) -> None:  # type: ignore[override]  # as folium.GeoJson.render
        """Write the layer's script, then the line adding its features.

        Parameters
        ----------
        **kwargs
            Passed on as folium passes them.

        Returns
        -------
        None
        """
        figure = self.get_root()
        assert isinstance(figure, Figure), "You cannot render this Element if it is not in a Figure."
        # what folium.GeoJson.render does before its script is written
        self.parent_map = get_obj_in_upper_tree(self, folium.Map)  # type: ignore[assignment]
        if (self.style or self.highlight) and self.data["features"]:
            mapper = GeoJsonStyleMapper(self.data, self.feature_identifier, self)
            if self.style:
                self.style_map = mapper.get_style_map(self.style_function)
            if self.highlight:
                self.highlight_map = mapper.get_highlight_map(self.highlight_function)
        # the layer's own script for no features; its children (tooltip, popup) are
        # written after the features, with the features in place, as folium orders them
        data, self.data = self.data, _EMPTY
        children, self._children = self._children, OrderedDict()
        try:
            Layer.render(self, **kwargs)
        finally:
            self.data, self._children = data, children
        name = self.get_name()
        figure.script.add_child(_Text(f"{name}_add({_html_safe_json(data)});"), name=f"{name}_features")
        for child in self._children.values():
            child.render(**kwargs)


class FeatureRow(dict[str, Any]):
    """One row of a layer's table: its values by column (the objects ``iterrows`` would
    give) and its index label as ``name``."""

    __slots__ = ("name",)

    def __init__(self, values: dict[str, Any], name: Any) -> None:
        super().__init__(values)
        self.name = name


def feature_collection(
    gdf: gpd.GeoDataFrame, properties: Callable[[FeatureRow], dict[str, str]]
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of ``gdf`` with only the (already escaped) properties
    ``properties`` gives for each row; features are numbered from 0 in row order.

    Parameters
    ----------
    gdf
        The layer's table (lon/lat geometry).
    properties
        The properties of a row.

    Returns
    -------
    dict
        The FeatureCollection.
    """
    columns = [str(c) for c in gdf.columns]
    geometry = gdf.geometry.to_numpy()
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": str(i),
                "properties": properties(FeatureRow(dict(zip(columns, values, strict=True)), name)),
                "geometry": shapely.geometry.mapping(geometry[i]),
            }
            for i, (name, values) in enumerate(zip(gdf.index, gdf.to_numpy(dtype=object), strict=True))
        ],
    }


def geojson_layer(data: dict[str, Any], **kwargs: Any) -> GeoJsonLayer:
    """A :class:`GeoJsonLayer` that accepts an empty collection (folium's tooltip needs a
    feature: it is left out then).

    Parameters
    ----------
    data
        The FeatureCollection.
    **kwargs
        As for ``folium.GeoJson``.

    Returns
    -------
    GeoJsonLayer
        The layer.
    """
    if not data["features"]:
        kwargs.pop("tooltip", None)
    return GeoJsonLayer(data, **kwargs)
