"""Report figures build, carry units and save as PNG."""

from __future__ import annotations

import pandas as pd
import pytest
from matplotlib.figure import Figure

from apgeo import MissingColumnError
from apgeo._errors import ApgeoValueError
from apgeo.outputs.figures import before_after, coverage_curve, equity_bars, save_figure

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def coverage_table() -> pd.DataFrame:
    rows = []
    for mode, speed in (("walk", 0.02), ("cycle", 0.05), ("car", 0.09)):
        for minutes in range(0, 65, 5):
            rows.append({"minutes": minutes, "share": min(1.0, speed * minutes), "group": mode})
    return pd.DataFrame(rows)


def test_coverage_curve(coverage_table, tmp_path):
    before = coverage_table.copy()
    fig = coverage_curve(coverage_table, group_label="Mode", note="Straight-line estimate")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert len(ax.get_lines()) == 3
    assert "minutes" in ax.get_xlabel() and "%" in ax.get_ylabel()
    path = save_figure(fig, tmp_path / "new" / "coverage.png")
    assert path.read_bytes()[:8] == PNG_MAGIC
    pd.testing.assert_frame_equal(coverage_table, before)


def test_coverage_curve_key_stage_column(tmp_path):
    table = pd.DataFrame(
        {
            "minutes": [0, 15, 30, 0, 15, 30],
            "share": [0, 0.5, 0.9, 0, 0.3, 0.7],
            "key_stage": ["KS3"] * 3 + ["KS4"] * 3,
        }
    )
    fig = coverage_curve(table, group_column="key_stage", group_label="Key stage")
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["KS3", "KS4"]


def test_coverage_curve_rejects_percentages(coverage_table):
    bad = coverage_table.assign(share=coverage_table["share"] * 100)
    with pytest.raises(ApgeoValueError, match="fraction"):
        coverage_curve(bad)


def test_coverage_curve_missing_column(coverage_table):
    with pytest.raises(MissingColumnError, match="'group'"):
        coverage_curve(coverage_table.drop(columns="group"))


def test_equity_bars(tmp_path):
    table = pd.DataFrame({"decile": range(1, 11), "value": [12, 11, 10, 9, 9, 8, 8, 7, 7, 6.5]})
    fig = equity_bars(table)
    ax = fig.axes[0]
    assert len(ax.patches) == 10
    assert "minutes" in ax.get_ylabel() and "decile" in ax.get_xlabel().lower()
    assert save_figure(fig, tmp_path / "equity.png").read_bytes()[:8] == PNG_MAGIC


def test_equity_bars_bad_decile():
    with pytest.raises(ApgeoValueError, match=r"1\.\.10"):
        equity_bars(pd.DataFrame({"decile": [0, 1], "value": [1, 2]}))


def test_before_after(tmp_path):
    table = pd.DataFrame(
        {
            "metric": ["Children beyond 30 min (count)", "Mean travel time (min)"],
            "before": [1200, 21.5],
            "after": [450, 14.2],
        }
    )
    fig = before_after(table, value_label="Value (unit in metric name)")
    assert len(fig.axes[0].patches) == 4
    assert save_figure(fig, tmp_path / "ba.png").read_bytes()[:8] == PNG_MAGIC


def test_save_figure_bad_suffix(tmp_path):
    fig = equity_bars(pd.DataFrame({"decile": [1], "value": [1.0]}))
    with pytest.raises(ApgeoValueError, match=r"\.png"):
        save_figure(fig, tmp_path / "x.jpeg")


def test_empty_table():
    with pytest.raises(ApgeoValueError, match="no rows"):
        before_after(pd.DataFrame({"metric": [], "before": [], "after": []}))
