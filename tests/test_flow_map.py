"""The flow map: only shown (suppressed, >= 5) flows are drawn, synthetic data is labelled,
text is escaped, small numbers are refused (offline)."""

from __future__ import annotations

import datetime as dt
import re

import numpy as np
import pandas as pd
import pytest

from apgeo import ApgeoValueError, MissingColumnError
from apgeo.analysis.flows import flow_lines, flow_matrix
from apgeo.inputs.demand import load_la_boundary
from apgeo.inputs.geocode import PostcodeLookup
from apgeo.inputs.placements import load_placements, load_schools
from apgeo.inputs.synthetic_placements import synthetic_placements
from apgeo.outputs.flow_map import FLOW_BANDS, flow_map
from apgeo.outputs.maps import save_map

AS_OF = dt.date(2025, 3, 31)
EVIL = "<script>alert(1)</script>${x}`"


@pytest.fixture(scope="module")
def lines(sheffield_demand, sheffield_providers, data_dir, tmp_path_factory):
    schools = load_schools(data_dir=data_dir)
    rows = synthetic_placements(
        1000, random_state=11, as_of=AS_OF, demand=sheffield_demand, providers=sheffield_providers,
        schools=schools, data_dir=data_dir,
    )
    path = tmp_path_factory.mktemp("flows") / "placements.csv"
    rows.to_csv(path, index=False)
    counts = load_placements(
        path, as_of=AS_OF, providers=sheffield_providers, schools=schools, demand=sheffield_demand,
        lookup=PostcodeLookup.from_data_dir(data_dir),
    )
    return flow_lines(flow_matrix(counts), providers=sheffield_providers, schools=schools)


def polylines(html: str) -> int:
    return len(re.findall(r"L\.polyline\(", html))


def test_only_shown_flows_are_drawn_and_synthetic_is_labelled(lines, sheffield_providers, data_dir, tmp_path):
    assert lines.attrs["synthetic"] is True
    shown = lines[~lines["suppressed"]]
    assert len(shown) > 0 and (shown["placements"] >= 5).all()
    assert lines["suppressed"].sum() > 0
    m = flow_map(
        lines, title="AP placement flows", method_note="placement file as of 31 March 2025",
        providers=sheffield_providers, boundary=load_la_boundary(data_dir=data_dir),
    )
    path = save_map(m, tmp_path / "flows.html")
    html = path.read_text(encoding="utf-8")
    assert "SYNTHETIC DATA - AP placement flows" in html
    assert 'id="apgeo-synthetic"' in html
    assert polylines(html) == len(shown)
    # every count on the page is 5 or more: tooltips say "N placements"
    counts = [int(n.replace(",", "")) for n in re.findall(r": ([\d,]+) placements", html)]
    assert len(counts) == len(shown) and min(counts) >= 5
    assert f"({int(lines['suppressed'].sum())} pair(s) in all), are not drawn" in html
    for lo, hi, _ in FLOW_BANDS:
        assert (f"{lo:g} or more" if np.isinf(hi) else f"{lo:g} to {hi - 1:g}") in html


def test_real_flows_have_no_synthetic_banner_and_text_is_escaped(lines):
    real = lines.copy()
    real.attrs = {}
    first = real.index[~real["suppressed"]][0]
    real.loc[first, "school_name"] = EVIL
    html = flow_map(real, title=f"Flows {EVIL}", tiles=None).get_root().render()
    assert "SYNTHETIC" not in html
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&#36;{x}&#96;" in html


def test_small_counts_that_were_not_suppressed_are_refused(lines):
    bad = lines.copy()
    row = bad.index[0]
    bad.loc[row, "placements"] = 3.0
    bad.loc[row, "suppressed"] = False
    with pytest.raises(ApgeoValueError, match="count from 1 to 4"):
        flow_map(bad, title="Flows")


def test_bad_input(lines):
    with pytest.raises(MissingColumnError, match="destination_easting"):
        flow_map(lines.drop(columns="destination_easting"), title="Flows")
    with pytest.raises(ApgeoValueError, match="title is empty"):
        flow_map(lines, title="  ")


def test_unlocated_ends_are_counted_not_drawn(lines):
    part = lines[~lines["suppressed"]].head(3).copy()
    part.attrs = {}
    part.loc[part.index[0], "destination_easting"] = np.nan
    html = flow_map(part, title="Flows", tiles=None).get_root().render()
    assert polylines(html) == 2
    assert "1 shown flow(s) have an end without a location" in html
    empty = pd.DataFrame(columns=lines.columns)
    assert polylines(flow_map(empty, title="Nothing", tiles=None).get_root().render()) == 0
