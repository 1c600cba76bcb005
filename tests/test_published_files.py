"""What a planner publishes: HTML in which text from the data stays text (report, England
report, maps), and CSVs that open cleanly in Excel (no scientific notation, minutes beside
seconds, area names beside codes, one rounding per column)."""

from __future__ import annotations

import csv
import re
import warnings
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from apgeo.outputs.files import planner_table
from apgeo.outputs.html_page import markdown_html
from apgeo.settings import repo_root
from apgeo.study.config import load_config

#: Markup planted in names from the data: an element with an event handler, a script,
#: a javascript: link and a JS template-literal escape.
PLANTED_IMG = "<img src=x onerror=alert(1)>"
PLANTED_SCRIPT = "<script>alert(2)</script>"
PLANTED_LINK = "[click](javascript:alert(3))"
PLANTED_JS = "`${alert(4)}`"

PLANTED_PROVIDERS = f"""provider_id,name,kind,key_stages,capacity_places,easting,northing
EVIL1,{PLANTED_IMG} {PLANTED_LINK},framework_provider,KS3-KS4,10,437318,385597
EVIL2,{PLANTED_SCRIPT} {PLANTED_JS},framework_provider,KS3-KS4,10,,
"""


class _Elements(HTMLParser):
    """Every element and attribute of a page, and the text of its scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"

    def handle_endtag(self, tag):  # type: ignore[no-untyped-def]
        self._in_script = False

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        if self._in_script:
            self.scripts.append(data)


def _elements(text: str) -> _Elements:
    parser = _Elements()
    parser.feed(text)
    return parser


def _assert_inert(page: str, *, scripts_allowed: bool) -> None:
    """No planted element, attribute, link or script: only their escaped text."""
    parsed = _elements(page)
    for tag, attrs in parsed.tags:
        assert not any(a.startswith("on") for a in attrs), (tag, attrs)
        for a in ("href", "src"):
            assert not str(attrs.get(a) or "").strip().lower().startswith("javascript:"), (tag, attrs)
        assert not (tag == "img" and attrs.get("src") == "x"), (tag, attrs)
    if not scripts_allowed:
        assert not any(tag == "script" for tag, _ in parsed.tags)
    for planted in (PLANTED_IMG, PLANTED_SCRIPT, "alert(2)</script>"):
        assert planted not in page
    # inside a script (folium's popups are JS template literals) ${...} would run
    assert all("${alert(4)}" not in s for s in parsed.scripts)
    if scripts_allowed:
        assert "${alert(4)}" not in page


@pytest.fixture(scope="module")
def planted_study(tmp_path_factory):  # type: ignore[no-untyped-def]
    """A straight-line Sheffield study whose planner file names providers with markup, and
    whose area names are then replaced with markup and the maps drawn again."""
    from apgeo import schema as S
    from apgeo.study.outputs import draw_maps
    from apgeo.study.pipeline import run_study

    tmp = tmp_path_factory.mktemp("planted")
    (tmp / "providers.csv").write_text(PLANTED_PROVIDERS, encoding="utf-8")
    config = tmp / "study.toml"
    config.write_text(
        f"""
[study]
name = "sheffield"
data_dir = "{repo_root() / 'data' / 'sheffield'}"
output_dir = "{tmp / 'reports'}"
maps_dir = "{tmp / 'maps'}"

[network]
source = "straight-line"

[providers]
files = ["{tmp / 'providers.csv'}"]
""",
        encoding="utf-8",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the unlocated planted row and known data warnings
        result = run_study(load_config(config))
        result.demand[S.AREA_NAME] = result.demand[S.AREA_NAME].astype(str) + " " + PLANTED_IMG + PLANTED_JS
        draw_maps(result)
    return result


def test_report_html_keeps_planted_markup_inert(planted_study):
    page = (planted_study.config.output_dir / "report.html").read_text(encoding="utf-8")
    _assert_inert(page, scripts_allowed=False)
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in page  # the not-located provider, as text
    assert "javascript:" not in page.lower().replace("(javascript:alert(3))", "")


def test_maps_keep_planted_provider_and_area_names_inert(planted_study):
    maps = sorted(planted_study.config.maps_dir.glob("*.html"))
    assert maps
    for path in maps:
        page = path.read_text(encoding="utf-8")
        _assert_inert(page, scripts_allowed=True)
        assert "&lt;img src=x onerror=alert(1)&gt;" in page  # the names are there, escaped


def test_england_report_and_map_keep_planted_names_inert(tmp_path):
    from test_england import _tiny_lsoas, _tiny_sites

    from apgeo.analysis.england import england_comparison
    from apgeo.outputs.england_report import write_england_outputs

    lsoas = _tiny_lsoas()
    lsoas.loc[lsoas["la_code"] == "002", "la_name"] = f"Bton {PLANTED_IMG}{PLANTED_SCRIPT}{PLANTED_JS}{PLANTED_LINK}"
    table = england_comparison(modes=("walk",), lsoas=lsoas, ap_settings=_tiny_sites())
    paths = write_england_outputs(table, tmp_path, area="001", n_neighbours=1, folium_map=True)
    page = paths["html"].read_text(encoding="utf-8")
    _assert_inert(page, scripts_allowed=False)
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    _assert_inert(paths["map"].read_text(encoding="utf-8"), scripts_allowed=True)


def test_markdown_html_reads_no_raw_html_and_no_unsafe_links():
    body = markdown_html(f"| name |\n|---|\n| {PLANTED_IMG} |\n\n{PLANTED_SCRIPT} [ok](report.md) {PLANTED_LINK}")
    assert "&lt;img src=x onerror=alert(1)&gt;" in body and "&lt;script&gt;" in body
    assert '<a href="report.md">ok</a>' in body and "<a>click</a>" in body


# ---- CSVs -------------------------------------------------------------------------------

_SCIENTIFIC = re.compile(r"^[+-]?\d+(\.\d+)?[eE][+-]?\d+$")
_NUMBER = re.compile(r"^-?\d+(\.(\d+))?$")


def _csvs(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.csv"))


def test_every_study_csv_is_planner_ready(planted_study):
    out = planted_study.config.output_dir
    files = _csvs(out)
    assert len(files) >= 20
    for path in files:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
        header, body = rows[0], rows[1:]
        for r, row in enumerate(body, start=2):
            for col, cell in zip(header, row, strict=True):
                assert not _SCIENTIFIC.match(cell), (path.name, r, col, cell)
                if col.endswith("_s") and cell:
                    assert re.fullmatch(r"-?\d+", cell), (path.name, r, col, cell)  # whole seconds
        for i, col in enumerate(header):
            cells = [row[i] for row in body if row[i] != ""]
            numbers = [c for c in cells if _NUMBER.match(c)]
            if numbers and len(numbers) == len(cells):  # a numeric column: one rounding
                decimals = {len(m.group(2) or "") for m in map(_NUMBER.match, numbers) if m}
                assert len(decimals) == 1, (path.name, col, sorted(decimals), numbers[:5])
            if col.endswith("_s"):
                assert f"{col[:-2]}_min" in header, (path.name, col)  # minutes beside seconds
        if "area_id" in header:
            assert "area_name" in header, path.name
            named = body[0][header.index("area_name")]
            assert named.startswith("Sheffield"), (path.name, named)  # the LSOA's name from the data


def test_planner_table_rule():
    import numpy as np
    import pandas as pd

    frame = pd.DataFrame(
        {
            "area_id": ["E01033277", "E01007823"],
            "nearest_time_s": [3969.2, np.nan],
            "share_within_30_min": [5.62779e-06, 0.197048],
            "children_0_15": [1.0405e07, 351.0],
            "places": [351.0, 347.0],
        }
    )
    out = planner_table(frame, names={"area_id": {"E01033277": "Sheffield 073E"}})
    assert list(out.columns) == [
        "area_id", "area_name", "nearest_time_s", "nearest_time_min", "share_within_30_min", "children_0_15", "places",
    ]
    assert list(out["area_name"]) == ["Sheffield 073E", ""]
    assert list(out["nearest_time_s"]) == ["3969", ""] and list(out["nearest_time_min"]) == ["66.2", ""]
    assert list(out["share_within_30_min"]) == ["0.0000", "0.1970"]
    assert list(out["children_0_15"]) == ["10405000", "351"] and list(out["places"]) == ["351", "347"]


def test_a_long_csv_written_in_blocks_is_the_file_written_at_once(tmp_path, monkeypatch):
    """write_csv makes a long table into text a block at a time (its memory stays bounded):
    decimals and the numbers-or-text choice are decided over the whole table, so a block of
    whole minutes or of numbers only in a mixed column reads as the rest does."""
    import apgeo.outputs.files as files

    frame = pd.DataFrame(
        {
            "origin_id": [f"E0100{i:04d}" for i in range(10)],
            "travel_time_s": [60.0, 120.0, 180.0, 240.0, 300.0, 90.0, np.nan, 1e7 + 0.4, 30.0, -0.0],
            "note": [1, 2, 3, 4, 5, "far", None, 2.5, 7, 8],  # numbers only in the first block
            "share_x": [0.5, 0.25, 0.0, 1.0, 0.5, 0.123456, 0.1, 0.2, 0.3, 0.4],
        }
    )
    names = {"origin_id": {"E01000003": "Somewhere 003A"}}
    whole = files.write_csv(frame, tmp_path / "whole.csv", names=names).read_bytes()
    monkeypatch.setattr(files, "CSV_BLOCK_ROWS", 4)
    blocks = files.write_csv(frame, tmp_path / "blocks.csv", names=names).read_bytes()
    assert blocks == whole
    assert b"1.0\n" not in whole and b",1.0," in whole  # minutes with a decimal in every block
