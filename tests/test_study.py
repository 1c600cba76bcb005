"""The Sheffield study end to end on the committed data (straight-line estimate offline)."""

from __future__ import annotations

import json
import warnings

import pandas as pd
import pytest

from apgeo._errors import ConfigError
from apgeo.settings import repo_root
from apgeo.study.cli import main
from apgeo.study.config import load_config


def _config(tmp_path, extra: str = "", network: str = 'source = "straight-line"'):
    p = tmp_path / "study.toml"
    p.write_text(
        f"""
[study]
name = "sheffield"
data_dir = "{repo_root() / 'data' / 'sheffield'}"
output_dir = "{tmp_path / 'reports'}"
maps_dir = "{tmp_path / 'maps'}"

[network]
{network}
{extra}
""",
        encoding="utf-8",
    )
    return p


@pytest.fixture(scope="module")
def study_result(tmp_path_factory):
    from apgeo.study.pipeline import run_study

    tmp = tmp_path_factory.mktemp("study")
    cfg = load_config(_config(tmp))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # known data warnings (unknown capacities) are logged
        return run_study(cfg)


def test_study_writes_labelled_outputs(study_result):
    r = study_result
    assert r.is_estimate
    assert all("STRAIGHT-LINE ESTIMATE" in m for m in r.network_method.values())
    out = r.config.output_dir
    for name in (
        "coverage", "equity", "access_coldspots", "gi_star_clusters", "providers_not_located",
        "travel_times_walk", "recommendations", "scenarios", "catchments_walk",
    ):
        assert (out / f"{name}.csv").is_file(), name
    prov = json.loads((out / "provenance.json").read_text())
    assert prov["network_method"]["walk"].startswith("STRAIGHT-LINE ESTIMATE")
    assert len(prov["data_files"]) >= 18


def test_study_recommendations_and_scenarios(study_result):
    rec = study_result.tables["recommendations"]
    assert set(rec["group"]) == {"primary", "secondary"} and set(rec["objective"]) == {"coverage", "time"}
    assert (rec.groupby(["group", "objective"]).size() == 3).all()
    assert rec["places_suggested"].between(1, 100).all()  # at the city's current rate, not one per child
    assert rec["why"].str.len().gt(50).all()
    sc = study_result.tables["scenarios"]
    assert set(sc["scenario"]) == {"Inclusion Centre main site alone", "recommended sites added"}
    alone = sc[(sc["scenario"] == "Inclusion Centre main site alone") & (sc["metric"] == "children within 30 min") & (sc["key_stage"] == "all")]
    assert alone["change"].item() < 0  # closing the other sites never helps
    added = sc[(sc["scenario"] == "recommended sites added") & (sc["metric"] == "children within 30 min") & (sc["key_stage"] == "all")]
    assert added["change"].item() > 0
    report = (study_result.config.output_dir / "report.md").read_text()
    assert "## Recommendations" in report and "## Scenarios side by side" in report
    import re

    assert not re.search(r"\de[+-]\d", report)  # no scientific notation anywhere a planner reads
    assert not re.search(r"\|[^|\n]*_time_s \|", report)  # times in minutes, not seconds
    assert (study_result.config.output_dir / "recommendations_primary_coverage" / "recommendations.gpkg").is_file()


def test_study_tables_are_consistent(study_result):
    r = study_result
    tt = pd.read_csv(r.config.output_dir / "travel_times_walk.csv")
    assert len(tt) == 345 * len(r.providers)
    # the seam's columns, with the area's name and the time in minutes beside them for planners
    assert list(tt.columns) == ["origin_id", "origin_name", "destination_id", "travel_time_s", "travel_time_min", "method"]
    assert (tt["travel_time_s"] == tt["travel_time_s"].round()).all()
    assert tt["method"].str.startswith("STRAIGHT-LINE ESTIMATE").all()
    page = (r.config.maps_dir / "sheffield_walk.html").read_text(encoding="utf-8")
    assert "sheffield - walk (straight-line estimate)" in page.lower()
    cov = r.tables["coverage"]
    assert cov.filter(like="share_within").stack().between(0, 1).all()
    # the five framework suppliers with no address are listed, not dropped
    assert len(r.not_located) == 5
    assert r.headline["lsoas"] == 345


def test_study_is_deterministic(study_result, tmp_path):
    from apgeo.study.pipeline import run_study

    cfg = load_config(_config(tmp_path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = run_study(cfg)
    first = sorted(p.relative_to(study_result.config.output_dir) for p in study_result.config.output_dir.rglob("*.csv"))
    second = sorted(p.relative_to(again.config.output_dir) for p in again.config.output_dir.rglob("*.csv"))
    assert first == second and len(first) > 20
    for rel in first:  # every table, byte for byte
        a = (study_result.config.output_dir / rel).read_bytes()
        b = (again.config.output_dir / rel).read_bytes()
        assert a == b, rel
    assert (study_result.config.output_dir / "report.md").read_text() == (again.config.output_dir / "report.md").read_text()
    # every GeoPackage too: GDAL stamps a fixed date, not the time of the run
    gpkgs = sorted(p.relative_to(study_result.config.output_dir) for p in study_result.config.output_dir.rglob("*.gpkg"))
    assert len(gpkgs) >= 3  # the study's own, and one per recommendation
    for rel in gpkgs:
        assert (study_result.config.output_dir / rel).read_bytes() == (again.config.output_dir / rel).read_bytes(), rel
    assert not list(again.config.output_dir.glob(".apgeo*"))  # the folder lock is gone after the run


def test_config_errors_name_key_and_line(tmp_path):
    with pytest.raises(ConfigError, match=r"line 11: \[analysis\] thresholds_min: must be positive and strictly increasing"):
        load_config(_config(tmp_path, "[analysis]\nthresholds_min = [30, 15]"))
    with pytest.raises(ConfigError, match=r"line 9: \[network\] speed: unknown key"):
        load_config(_config(tmp_path, network="speed = 3"))
    with pytest.raises(ConfigError, match=r"\[network\] modes: unknown mode 'bus'"):
        load_config(_config(tmp_path, network='modes = ["walk", "bus"]'))
    with pytest.raises(ConfigError, match=r"\[network\] source: network file not found"):
        load_config(_config(tmp_path, network='source = "missing.pbf"'))
    with pytest.raises(ConfigError, match=r"must be int or float, not str"):
        load_config(_config(tmp_path, network='buffer_m = "3 km"'))


def test_cli_user_error_is_one_line(tmp_path, capsys):
    code = main(["study", "--config", str(tmp_path / "nope.toml")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("apgeo: error: study config not found") and err.count("\n") == 1


def test_cli_fetch_lists_files(capsys):
    assert main(["fetch"]) == 0
    assert "imd2019_file1" in capsys.readouterr().out


def test_cli_verify_data(capsys):
    assert main(["verify-data", "--data-dir", str(repo_root() / "data" / "sheffield")]) == 0
    assert "files match their manifest" in capsys.readouterr().out


def test_sheffield_config_is_valid():
    cfg = load_config(repo_root() / "studies" / "sheffield.toml")
    assert cfg.thresholds_min == (15, 30, 45, 60)
    assert cfg.modes == ("walk", "cycle", "drive")


def _sheffield_grid_graphml(path):
    """An osmnx-style GraphML street grid (400 m) over Sheffield: a stand-in street network
    with a known geometry, so the network path of the study runs offline."""
    import networkx as nx
    import numpy as np
    import osmnx as ox
    from pyproj import Transformer

    to_ll = Transformer.from_crs(27700, 4326, always_xy=True)
    xs = np.arange(418_000, 452_001, 400.0)
    ys = np.arange(376_000, 402_001, 400.0)
    G = nx.MultiDiGraph(crs="EPSG:4326")
    ids = {}
    for i, x in enumerate(xs):
        for j, y in enumerate(ys):
            lon, lat = to_ll.transform(x, y)
            ids[i, j] = len(ids) + 1
            G.add_node(ids[i, j], x=lon, y=lat, street_count=4)
    for (i, j), n in ids.items():
        for di, dj in ((1, 0), (0, 1)):
            m = ids.get((i + di, j + dj))
            if m is None:
                continue
            for a, b in ((n, m), (m, n)):
                G.add_edge(a, b, osmid=a * 100000 + b, highway="residential", oneway=False, reversed=False, length=400.0, maxspeed="30 mph")
    ox.save_graphml(G, path)
    return path


def test_study_on_a_street_network_file(tmp_path):
    from apgeo.study.pipeline import run_study

    net = _sheffield_grid_graphml(tmp_path / "grid.graphml")
    cfg = load_config(
        _config(
            tmp_path,
            network=f'source = "{net}"\nmodes = ["walk", "drive"]',
            extra="[analysis]\nthresholds_min = [15, 30]",
        )
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = run_study(cfg)
    assert not r.is_estimate
    assert r.network_method["walk"].startswith("street network (graphml ")
    tt = r.travel_times["walk"]
    assert tt["travel_time_s"].notna().all()
    catch = r.tables["catchments_walk"]
    assert set(catch["method"]) == {"edges"}
    report = (r.config.output_dir / "report.md").read_text()
    assert "STRAIGHT-LINE ESTIMATE" not in report.split("## How travel times were made")[0]
    assert (r.config.maps_dir / "sheffield_walk.html").is_file()


def test_cli_recommend_and_network_subcommands(tmp_path, capsys):
    cfg = _config(tmp_path, extra='[placements]\nsynthetic = true\nrows = 200\nas_of = "2025-03-31"\n')
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["recommend", "--config", str(cfg), "--no-progress"]) == 0
    out = tmp_path / "reports"
    assert (out / "recommendations.csv").is_file()
    assert not (out / "report.md").exists()  # the recommend part stops before the report
    # "tables only", as its help says: no map (the placement flow map included), no figure
    assert not list((tmp_path / "maps").glob("*.html")) and not list(out.glob("*.png"))
    assert "maps:" not in capsys.readouterr().out
    # straight-line config: nothing to load, one clear line
    assert main(["network", "--config", str(cfg)]) == 2
    assert "source is 'straight-line'; nothing to load" in capsys.readouterr().err
    for sub in ("study", "recommend", "map", "network", "fetch", "verify-data"):
        with pytest.raises(SystemExit) as ex:
            main([sub, "--help"])
        assert ex.value.code == 0


def test_study_with_public_transport(tmp_path):
    """A GTFS feed adds mode "transit" to every table (needs the walk street network)."""
    from apgeo.study.pipeline import run_study

    net = _sheffield_grid_graphml(tmp_path / "grid.graphml")
    feed = repo_root() / "tests" / "data" / "gtfs_tiny"
    cfg = load_config(
        _config(
            tmp_path,
            network=f'source = "{net}"\nmodes = ["walk"]',
            extra=(
                "[analysis]\nthresholds_min = [15, 30]\n"
                f'[transit]\nfeed = "{feed}"\nservice_date = "2025-03-04"\n'
                'departure_window = ["07:00", "08:00"]\nstep_min = 10\n'
            ),
        )
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = run_study(cfg)
    assert "transit" in r.travel_times
    method = r.network_method["transit"]
    assert "GTFS" in method and "2025-03-04 (Tuesday)" in method and "07:00-08:00" in method
    # transit never does worse than walking (walking all the way is one of its options)
    walk = r.travel_times["walk"].set_index(["origin_id", "destination_id"])["travel_time_s"]
    tr = r.travel_times["transit"].set_index(["origin_id", "destination_id"])["travel_time_s"]
    both = pd.concat([walk, tr], axis=1, keys=["walk", "transit"]).dropna()
    assert (both["transit"] <= both["walk"] + 1e-6).all()
    assert set(r.tables["coverage"]["mode"]) == {"walk", "transit"}


def test_transit_config_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"\[transit\]: needs 'feed'"):
        load_config(_config(tmp_path, extra='[transit]\nservice_date = "2025-03-04"'))
    feed = repo_root() / "tests" / "data" / "gtfs_tiny"
    with pytest.raises(ConfigError, match=r"\[transit\] service_date: must be a date YYYY-MM-DD, not 'today'"):
        load_config(_config(tmp_path, extra=f'[transit]\nfeed = "{feed}"\nservice_date = "today"'))


def test_study_placements_and_quality(tmp_path):
    from apgeo.study.pipeline import run_study

    quality = tmp_path / "quality.csv"
    quality.write_text("urn,ofsted_grade,qa_outcome\n137596,2,good\n143052,1,good\n142749,3,satisfactory\n", encoding="utf-8")
    cfg = load_config(
        _config(
            tmp_path,
            network='source = "straight-line"\nmodes = ["walk"]',
            extra=(
                '[placements]\nsynthetic = true\nas_of = "2025-03-31"\n'
                f'[quality]\nfile = "{quality}"\ninclude_unknown = true\n'
            ),
        )
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = run_study(cfg)
    out = r.config.output_dir
    burden = pd.read_csv(out / "placements_synthetic_burden_key_stage.csv")
    counts = burden.filter(like="placements").to_numpy().ravel()
    counts = counts[~pd.isna(counts)]
    assert not ((counts >= 1) & (counts <= 4)).any()  # nothing 1-4 is ever written
    assert (r.config.maps_dir / "sheffield_synthetic_flows.html").is_file()
    assert "SYNTHETIC" in (r.config.maps_dir / "sheffield_synthetic_flows.html").read_text(encoding="utf-8")
    report = (out / "report.md").read_text()
    assert "(SYNTHETIC DATA, not real pupils)" in report
    from apgeo.privacy.statistics_check import SUPPRESSION_NOTE

    assert SUPPRESSION_NOTE in report  # one line a planner can repeat
    with_time = burden["placements"] - burden["placements_no_time"]
    assert (burden["mean_travel_time_s"].isna() | (with_time >= 10)).all()
    assert "good-or-better" in report
    q = r.tables["quality_coverage"]
    assert len(q) and q.filter(like="_good_or_better").notna().any().any()
    with pytest.raises(ConfigError, match=r"\[placements\]: give either file"):
        load_config(_config(tmp_path, extra='[placements]\nas_of = "2025-03-31"'))


def test_study_with_planner_candidates(tmp_path):
    from apgeo.study.pipeline import run_study

    cands = tmp_path / "candidates.csv"
    cands.write_text(
        "name,postcode,key_stages\n"
        "North-east hub,S5 7TJ,KS1-KS2\n"
        "City centre secondary,S1 2HE,KS3-KS4\n"
        "Unknown place,ZZ9 9ZZ,KS1-KS2\n",
        encoding="utf-8",
    )
    cfg = load_config(
        _config(tmp_path, network='source = "straight-line"\nmodes = ["walk"]',
                extra=f'[recommend]\nsites = 1\ncandidates = "{cands}"')
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = run_study(cfg)
    rec = r.tables["recommendations"]
    assert set(rec["site_name"]) == {"North-east hub", "City centre secondary"}
    assert set(rec["group"]) == {"primary", "secondary"}


def test_cli_console_shows_each_warning_once():
    import logging

    from apgeo.study.cli import _OncePerMessage

    f = _OncePerMessage()
    rec = logging.LogRecord("apgeo", logging.WARNING, __file__, 1, "same %s", ("thing",), None)
    assert f.filter(rec) is True
    assert f.filter(rec) is False


def _local_links(text: str) -> list[str]:
    import re

    found = re.findall(r"\]\(([^)\s]+)\)", text) + re.findall(r'(?:href|src)="([^"#]+)"', text)
    return [link for link in found if "://" not in link and not link.startswith("mailto:")]


def test_report_links_open_the_maps_and_figures(study_result):
    """Every link of report.md and report.html opens a file that exists (the maps folder
    is not the reports folder's sibling here)."""
    from urllib.parse import unquote

    out = study_result.config.output_dir
    for name in ("report.md", "report.html"):
        links = _local_links((out / name).read_text(encoding="utf-8"))
        assert any(link.endswith("sheffield_walk.html") for link in links), name
        assert any(link.endswith(".png") for link in links), name
        for link in links:
            assert (out / unquote(link)).resolve().is_file(), (name, link)


@pytest.mark.parametrize(
    ("output", "maps"),
    [
        ("reports/nested/deeper/sheffield", "maps/rerun2"),  # maps_dir = "../maps/rerun2" and the like
        ("reports", "reports/maps"),  # maps inside the reports folder
        ("a b/reports", "maps and more/x"),  # spaces
    ],
)
def test_report_links_follow_the_real_folders(study_result, tmp_path, monkeypatch, output, maps):
    from dataclasses import replace
    from urllib.parse import unquote

    from apgeo.outputs.files import relative_link
    from apgeo.outputs.report import build_markdown, map_path

    cfg = replace(study_result.config, output_dir=tmp_path / output, maps_dir=tmp_path / maps)
    figure = tmp_path / "figures" / "coverage_curve.png"
    text = build_markdown(replace(study_result, config=cfg), figures={"Coverage curve": figure})
    links = [unquote(link) for link in _local_links(text)]
    targets = {(cfg.output_dir / link).resolve() for link in links}
    assert {map_path(cfg, mode).resolve() for mode in study_result.travel_times} <= targets
    assert figure.resolve() in targets
    # the same from a relative folder (against the working folder) and to an absolute one
    monkeypatch.chdir(tmp_path)
    link = relative_link(map_path(cfg, "walk"), output)
    assert (tmp_path / output / unquote(link)).resolve() == map_path(cfg, "walk").resolve()
