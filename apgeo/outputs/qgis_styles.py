"""QGIS styles inside a GeoPackage: the study's layers open in QGIS with the web maps'
classes and colours.

QGIS keeps a layer's default style in the GeoPackage table ``layer_styles`` (its own
schema: ``f_table_name``, ``f_geometry_column``, ``styleName``, ``styleQML``, ``styleSLD``,
``useAsDefault``, ...). :func:`write_layer_styles` adds that table with one row per styled
layer, each a QML rule-based renderer built from the constants of
:mod:`apgeo.outputs.map_layers`: the travel-time classes :data:`TIME_BINS_MIN` with their
colours (unreachable areas grey), providers by kind (AP filled, AP-adjacent as rings),
catchments by threshold, access cold spots as a dashed outline. ``update_time`` is the
GeoPackage's fixed timestamp, so reruns give the same bytes.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Mapping, Sequence
from contextlib import closing
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path
from xml.sax.saxutils import quoteattr

from apgeo.outputs.files import GPKG_TIMESTAMP
from apgeo.outputs.map_layers import (
    CATCHMENT_COLOURS,
    COLDSPOT_COLOUR,
    COLDSPOT_FILL_OPACITY,
    KIND_STYLE,
    NAN_COLOUR,
    TIME_BINS_MIN,
    TIME_CLASS_COLOURS,
)
from apgeo.schema import AP_KINDS, KIND

#: The GeoPackage table QGIS reads a layer's default style from.
LAYER_STYLES = "layer_styles"
#: Column of the travel-time layers the classes are drawn from.
TIME_MIN_COLUMN = "nearest_time_min"

_CREATE = f"""CREATE TABLE IF NOT EXISTS "{LAYER_STYLES}" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "f_table_catalog" TEXT(256),
    "f_table_schema" TEXT(256),
    "f_table_name" TEXT(256),
    "f_geometry_column" TEXT(256),
    "styleName" TEXT(30),
    "styleQML" TEXT,
    "styleSLD" TEXT,
    "useAsDefault" BOOLEAN,
    "description" TEXT,
    "owner" TEXT(30),
    "ui" TEXT(30),
    "update_time" DATETIME DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
)"""


@dataclass(frozen=True)
class Rule:
    """One rule of a rule-based renderer: a QGIS filter expression, a label, a symbol."""

    filter: str
    label: str
    symbol: str  # the <symbol> element's inner layer XML, see _fill / _marker


def _rgba(colour: str, alpha: float = 1.0) -> str:
    """``#rrggbb`` as QGIS's ``r,g,b,a`` (a transparent colour for ``transparent``)."""
    if colour == "transparent":
        return "0,0,0,0"
    h = colour.lstrip("#")
    r, g, b = (int(h[i : i + 2], 16) for i in (0, 2, 4))
    return f"{r},{g},{b},{round(alpha * 255)}"


def _options(values: Mapping[str, str]) -> str:
    items = "".join(f'<Option name={quoteattr(k)} type="QString" value={quoteattr(v)}/>' for k, v in values.items())
    return f'<Option type="Map">{items}</Option>'


def _fill(colour: str, *, alpha: float, outline: str, outline_width_mm: float, dashed: bool = False) -> str:
    opts = {
        "color": _rgba(colour, alpha),
        "style": "solid" if alpha > 0 else "no",
        "outline_color": _rgba(outline),
        "outline_style": "dash" if dashed else "solid",
        "outline_width": f"{outline_width_mm:g}",
        "outline_width_unit": "MM",
        "joinstyle": "bevel",
    }
    return f'<symbol type="fill" name="{{name}}" alpha="1" clip_to_extent="1" force_rhr="0"><layer class="SimpleFill" enabled="1" locked="0" pass="0">{_options(opts)}</layer></symbol>'


def _marker(fill: str, outline: str, *, size_mm: float, outline_width_mm: float) -> str:
    opts = {
        "name": "circle",
        "color": _rgba(fill),
        "outline_color": _rgba(outline),
        "outline_style": "solid",
        "outline_width": f"{outline_width_mm:g}",
        "outline_width_unit": "MM",
        "size": f"{size_mm:g}",
        "size_unit": "MM",
        "scale_method": "diameter",
    }
    return f'<symbol type="marker" name="{{name}}" alpha="0.9" clip_to_extent="1" force_rhr="0"><layer class="SimpleMarker" enabled="1" locked="0" pass="0">{_options(opts)}</layer></symbol>'


def rule_qml(rules: Sequence[Rule]) -> str:
    """A QGIS QML document with a rule-based renderer of ``rules``.

    Parameters
    ----------
    rules
        The rules, in drawing order.

    Returns
    -------
    str
        The QML document.
    """
    rule_xml = "".join(
        f'<rule key="{{r{i}}}" filter={quoteattr(r.filter)} label={quoteattr(r.label)} symbol="{i}"/>'
        for i, r in enumerate(rules)
    )
    symbols = "".join(r.symbol.replace("{name}", str(i)) for i, r in enumerate(rules))
    return (
        "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n"
        '<qgis version="3.22.0" styleCategories="Symbology">'
        '<renderer-v2 type="RuleRenderer" symbollevels="0" forceraster="0" enableorderby="0">'
        f'<rules key="{{root}}">{rule_xml}</rules><symbols>{symbols}</symbols></renderer-v2>'
        "</qgis>\n"
    )


def _class_label(lo: float, hi: float) -> str:
    return f"{lo:g} min or more" if math.isinf(hi) else f"{lo:g} to under {hi:g} min"


def travel_time_rules(column: str = TIME_MIN_COLUMN) -> list[Rule]:
    """The web map's travel-time classes (minutes) and colours; no value: grey.

    Parameters
    ----------
    column
        The column holding the time in minutes.

    Returns
    -------
    list of Rule
        One rule per class of :data:`TIME_BINS_MIN` (lower bound included, upper excluded),
        then one for no value.
    """
    rules = []
    edges = list(TIME_BINS_MIN)
    for k, (lo, hi) in enumerate(pairwise(edges)):  # [lo, hi), as the web map's colour_of
        upper = "" if math.isinf(hi) else f' AND "{column}" < {hi:g}'
        rules.append(Rule(
            f'"{column}" >= {lo:g}{upper}', _class_label(lo, hi),
            _fill(TIME_CLASS_COLOURS[k], alpha=0.65, outline="#555555", outline_width_mm=0.1),
        ))
    rules.append(Rule(
        f'"{column}" IS NULL', "Unreachable / no value",
        _fill(NAN_COLOUR, alpha=0.65, outline="#555555", outline_width_mm=0.1),
    ))
    return rules


def provider_rules(kinds: Sequence[str] | None = None) -> list[Rule]:
    """Providers by kind: AP kinds filled, AP-adjacent kinds as white-filled rings.

    Parameters
    ----------
    kinds
        Kind values to style (``None``: every kind of :data:`KIND_STYLE`).

    Returns
    -------
    list of Rule
        One rule per kind, matched on the ``kind`` column, in :data:`KIND_STYLE` order.
    """
    chosen = list(KIND_STYLE) if kinds is None else [k for k in KIND_STYLE if k.value in set(kinds)]
    rules = []
    for kind in chosen:
        label, colour = KIND_STYLE[kind]
        filled = kind in AP_KINDS
        rules.append(Rule(
            f'"{KIND}" = \'{kind.value}\'', label,
            _marker(colour if filled else "#ffffff", colour, size_mm=4.0 if filled else 3.6,
                    outline_width_mm=0.5 if filled else 0.8),
        ))
    return rules


def catchment_rules(thresholds_min: Sequence[float]) -> list[Rule]:
    """One rule per threshold, coloured as the web map colours one mode's catchments.

    Parameters
    ----------
    thresholds_min
        Catchment thresholds in minutes (sorted here), matched on ``threshold_min``.

    Returns
    -------
    list of Rule
        One rule per threshold, shortest first.
    """
    return [
        Rule(
            f'"threshold_min" = {t:g}', f"within {t:g} min",
            _fill(CATCHMENT_COLOURS[i % len(CATCHMENT_COLOURS)], alpha=0.12,
                  outline=CATCHMENT_COLOURS[i % len(CATCHMENT_COLOURS)], outline_width_mm=0.4, dashed=True),
        )
        for i, t in enumerate(sorted(thresholds_min))
    ]


def coldspot_rules() -> list[Rule]:
    """Access cold spots: the web map's dashed purple outline with a faint fill.

    Returns
    -------
    list of Rule
        One rule matching every feature.
    """
    return [Rule(
        "TRUE", "Access cold spot (far from suitable provision)",
        _fill(COLDSPOT_COLOUR, alpha=COLDSPOT_FILL_OPACITY, outline=COLDSPOT_COLOUR, outline_width_mm=0.4, dashed=True),
    )]


def write_layer_styles(
    gpkg: str | Path,
    styles: Mapping[str, tuple[str, str]],
    *,
    timestamp: str = GPKG_TIMESTAMP,
) -> int:
    """Add QGIS's ``layer_styles`` table to ``gpkg`` with a default style per layer.

    ``styles`` maps a layer name to ``(QML, description)``. Each layer's geometry column is
    read from ``gpkg_geometry_columns``; rows of those layers from an earlier call are
    replaced. Returns the number of rows written.

    Parameters
    ----------
    gpkg
        The GeoPackage file, changed in place.
    styles
        ``(QML, description)`` by layer name; names that are not geometry layers of the
        file are skipped.
    timestamp
        The ``last_change`` time written to ``gpkg_contents`` (fixed, so files are
        reproducible).

    Returns
    -------
    int
        The number of styles written.
    """
    path = Path(gpkg)
    with closing(sqlite3.connect(path)) as db, db:
        geom = dict(db.execute("SELECT table_name, column_name FROM gpkg_geometry_columns").fetchall())
        db.execute(_CREATE)
        known = db.execute("SELECT 1 FROM gpkg_contents WHERE table_name = ?", (LAYER_STYLES,)).fetchone()
        if known is None:
            db.execute(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, last_change) "
                "VALUES (?, 'attributes', ?, 'QGIS layer styles', ?)",
                (LAYER_STYLES, LAYER_STYLES, timestamp),
            )
        n = 0
        for layer in sorted(styles):
            if layer not in geom:
                continue
            qml, description = styles[layer]
            db.execute(f'DELETE FROM "{LAYER_STYLES}" WHERE f_table_name = ?', (layer,))
            db.execute(
                f'INSERT INTO "{LAYER_STYLES}" (f_table_catalog, f_table_schema, f_table_name, '
                "f_geometry_column, styleName, styleQML, styleSLD, useAsDefault, description, owner, "
                "ui, update_time) VALUES ('', '', ?, ?, ?, ?, '', 1, ?, '', NULL, ?)",
                (layer, geom[layer], layer, qml, description, timestamp),
            )
            n += 1
    return n


def read_layer_styles(gpkg: str | Path) -> dict[str, str]:
    """Layer name -> its default QML in ``gpkg`` (empty when it has no ``layer_styles``).

    Parameters
    ----------
    gpkg
        A GeoPackage file.

    Returns
    -------
    dict of str to str
        The default QML of each styled layer, by layer name.
    """
    with closing(sqlite3.connect(Path(gpkg))) as db:
        exists = db.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (LAYER_STYLES,)).fetchone()
        if exists is None:
            return {}
        rows = db.execute(
            f'SELECT f_table_name, styleQML FROM "{LAYER_STYLES}" WHERE useAsDefault ORDER BY f_table_name'
        ).fetchall()
    return {str(name): str(qml) for name, qml in rows}


__all__ = [
    "LAYER_STYLES",
    "TIME_MIN_COLUMN",
    "Rule",
    "catchment_rules",
    "coldspot_rules",
    "provider_rules",
    "read_layer_styles",
    "rule_qml",
    "travel_time_rules",
    "write_layer_styles",
]
