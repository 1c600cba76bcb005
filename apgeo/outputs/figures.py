"""Static figures for reports (matplotlib, Agg backend; no folium here).

Every function takes a small tidy table, returns a new :class:`matplotlib.figure.Figure`
(built with the object-oriented API on an Agg canvas, so nothing touches pyplot's global
state or backend, and no window opens) and never mutates its input. Save with :func:`save_figure`.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from apgeo._errors import ApgeoValueError
from apgeo._validate import require_columns, to_numeric

MINUTES = "minutes"
SHARE = "share"
GROUP = "group"
DECILE = "decile"
VALUE = "value"
METRIC = "metric"
BEFORE = "before"
AFTER = "after"


def _check_table(table: object, columns: list[str], *, name: str) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise ApgeoValueError(f"{name} must be a pandas DataFrame, got {type(table).__name__}")
    require_columns(table, columns, source=name)
    if len(table) == 0:
        raise ApgeoValueError(f"{name} has no rows; nothing to plot")
    return table


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)  # the Agg backend, without changing matplotlib's global backend
    return fig


def coverage_curve(
    table: pd.DataFrame,
    *,
    group_column: str = GROUP,
    title: str = "Share of children within reach of provision",
    group_label: str = "Group",
    note: str | None = None,
) -> Figure:
    """Share of children reached (%) against travel time (minutes), one line per group.

    Parameters
    ----------
    table
        Long table with ``minutes``, ``share`` (0..1) and a group column (mode or key stage).
    group_column
        Name of the group column.
    title
        Figure title.
    group_label
        Legend title, e.g. ``"Mode"`` or ``"Key stage"``.
    note
        Text under the axes, e.g. how travel times were estimated.

    Returns
    -------
    Figure
    """
    frame = _check_table(table, [MINUTES, SHARE, group_column], name="coverage table")
    minutes = to_numeric(frame[MINUTES], column=MINUTES, source="coverage table")
    share = to_numeric(frame[SHARE], column=SHARE, source="coverage table")
    bad = share.notna() & ((share < 0) | (share > 1))
    if bad.any():
        raise ApgeoValueError(
            f"coverage table: column 'share' must be a fraction in [0, 1]; got "
            f"{share[bad].head(3).tolist()} (divide percentages by 100)"
        )
    data = pd.DataFrame({MINUTES: minutes, SHARE: share, GROUP: frame[group_column].astype(str)})
    fig = _new_figure(7, 4.5)
    ax = fig.add_subplot()
    for group, rows in data.groupby(GROUP, sort=True):
        rows = rows.sort_values(MINUTES)
        ax.plot(rows[MINUTES], rows[SHARE], marker="o", markersize=3, label=str(group))
    ax.set_xlabel("Travel time to nearest suitable provider (minutes)")
    ax.set_ylabel("Children within reach (%)")
    ax.yaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.grid(True, alpha=0.3)
    ax.legend(title=group_label)
    ax.set_title(title)
    if note:
        fig.text(0.01, 0.0, note, fontsize=8, ha="left", va="bottom", style="italic")
    return fig


def equity_bars(
    table: pd.DataFrame,
    *,
    value_label: str = "Mean travel time to nearest provider (minutes)",
    title: str = "Access by deprivation decile",
    decile_label: str = "IMD decile (1 = most deprived 10%)",
) -> Figure:
    """Bars of a value by deprivation decile 1..10.

    Parameters
    ----------
    table
        Columns ``decile`` (integers 1..10; missing deciles show as gaps) and ``value``.
    value_label
        Y axis label, with its unit.
    title
        Figure title.
    decile_label
        X axis label.

    Returns
    -------
    Figure
    """
    frame = _check_table(table, [DECILE, VALUE], name="equity table")
    decile = to_numeric(frame[DECILE], column=DECILE, source="equity table", allow_missing=False)
    value = to_numeric(frame[VALUE], column=VALUE, source="equity table")
    bad = ~decile.isin(range(1, 11))
    if bad.any():
        raise ApgeoValueError(
            f"equity table: column 'decile' must hold whole numbers 1..10; got "
            f"{decile[bad].head(3).tolist()}"
        )
    if decile.duplicated().any():
        raise ApgeoValueError(
            f"equity table: each decile must appear once; repeated: "
            f"{sorted(set(decile[decile.duplicated()].astype(int)))}"
        )
    fig = _new_figure(7, 4.5)
    ax = fig.add_subplot()
    ax.bar(decile.astype(int), value, color="#3f6fa5", edgecolor="#1f3f65")
    ax.set_xticks(np.arange(1, 11))
    ax.set_xlim(0.4, 10.6)
    ax.set_xlabel(decile_label)
    ax.set_ylabel(value_label)
    ax.set_title(title)
    ax.grid(True, axis="y", alpha=0.3)
    return fig


def before_after(
    table: pd.DataFrame,
    *,
    title: str = "Before and after the recommended sites",
    value_label: str = "Value",
    before_label: str = "Before",
    after_label: str = "After",
) -> Figure:
    """Two bars (before, after) per metric.

    Parameters
    ----------
    table
        Columns ``metric`` (name with its unit, e.g. ``"Children beyond 30 min (count)"``),
        ``before`` and ``after``.
    title
        Figure title.
    value_label
        Y axis label (state the unit when every metric shares one).
    before_label, after_label
        Legend entries.

    Returns
    -------
    Figure
    """
    frame = _check_table(table, [METRIC, BEFORE, AFTER], name="before/after table")
    before = to_numeric(frame[BEFORE], column=BEFORE, source="before/after table")
    after = to_numeric(frame[AFTER], column=AFTER, source="before/after table")
    metrics = frame[METRIC].astype(str).tolist()
    x = np.arange(len(metrics))
    width = 0.38
    fig = _new_figure(max(6.0, 1.6 * len(metrics) + 2), 4.5)
    ax = fig.add_subplot()
    bars_b = ax.bar(x - width / 2, before, width, label=before_label, color="#bbbbbb")
    bars_a = ax.bar(x + width / 2, after, width, label=after_label, color="#2b8cbe")
    for bars in (bars_b, bars_a):
        ax.bar_label(bars, fmt="{:,.3g}", fontsize=8, padding=2)
    ax.set_xticks(
        x,
        metrics,
        rotation=15 if len(metrics) > 3 else 0,
        ha="right" if len(metrics) > 3 else "center",
    )
    ax.set_ylabel(value_label)
    ax.set_title(title)
    ax.legend()
    ax.grid(True, axis="y", alpha=0.3)
    return fig


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 150) -> Path:
    """Save ``fig`` (PNG, SVG or PDF, from the suffix), creating the parent folder.

    Parameters
    ----------
    fig
        A figure from this module.
    path
        File to write; the suffix picks the format.
    dpi
        Resolution for raster formats.

    Returns
    -------
    Path
        The file written.
    """
    out = Path(path).expanduser()
    if out.suffix.lower() not in {".png", ".svg", ".pdf"}:
        raise ApgeoValueError(f"save_figure: path {str(out)!r} must end in .png, .svg or .pdf")
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi)
    return out


__all__ = [
    "before_after",
    "coverage_curve",
    "equity_bars",
    "save_figure",
]
