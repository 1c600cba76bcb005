"""A study rerun reads what its cache holds (per-site travel times and catchments, Gi*
statistics, location-model solutions, the engines' network identity) and writes exactly
the files an uncached run writes: every table, the report and every GeoPackage, byte for
byte. With nothing changed on a street-network file, no engine is built at all."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

import apgeo
from apgeo.routing.deferred import DeferredEngine
from apgeo.study.config import load_config
from apgeo.study.pipeline import run_study

try:
    from tests.test_study import _config, _sheffield_grid_graphml
except ImportError:  # tests/ is not a package
    from test_study import _config, _sheffield_grid_graphml  # type: ignore[no-redef]


def _outputs(folder: Path) -> dict[Path, bytes]:
    """Every table, report and GeoPackage of a run (maps carry random element ids)."""
    return {
        p.relative_to(folder): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.suffix in {".csv", ".md", ".gpkg", ".json", ".geojson", ".png"} and p.name != "provenance.json"
    }


def _folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def _run(config_path: Path, cache: Path) -> apgeo.study.result.StudyResult:  # type: ignore[name-defined]
    apgeo.configure(cache_dir=cache)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return run_study(load_config(config_path))


def test_straight_line_rerun_from_cache_writes_the_same_files(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    extra = '[placements]\nsynthetic = true\nrows = 300\nas_of = "2025-03-31"\n'
    first = _run(_config(_folder(tmp_path / "a"), extra=extra), cache)  # an empty cache: all computed
    # (no "solutions": the study's location models are solved by their own branch and
    # bound, in milliseconds, and only integer-program solutions are kept)
    for kind in ("gi_star", "disclosure", "figures", "england"):
        assert (cache / "study" / kind).is_dir(), kind
    again = _run(_config(_folder(tmp_path / "b"), extra=extra), cache)  # read back
    assert any("placements_synthetic" in name for name in again.tables)
    expected = _outputs(first.config.output_dir)
    assert len(expected) > 20
    got = _outputs(again.config.output_dir)
    assert sorted(got) == sorted(expected)
    for rel, data in expected.items():
        assert got[rel] == data, rel


@pytest.mark.parametrize("modes", [["walk", "drive"]])
def test_network_rerun_builds_no_engine_and_writes_the_same_files(tmp_path: Path, modes: list[str]) -> None:
    net = _sheffield_grid_graphml(tmp_path / "grid.graphml")
    network = f'source = "{net}"\nmodes = {modes!r}'.replace("'", '"')
    extra = "[analysis]\nthresholds_min = [15, 30]"
    cache = tmp_path / "cache"
    uncached = _run(_config(_folder(tmp_path / "a"), network=network, extra=extra), cache)  # empty
    assert all(not isinstance(e, DeferredEngine) for e in uncached.engines.values())
    again = _run(_config(_folder(tmp_path / "b"), network=network, extra=extra), cache)
    for mode in modes:
        engine = again.engines[mode]
        assert isinstance(engine, DeferredEngine) and not engine.loaded, mode
    expected = _outputs(uncached.config.output_dir)
    got = _outputs(again.config.output_dir)
    assert sorted(got) == sorted(expected)
    for rel, data in expected.items():
        assert got[rel] == data, rel


def test_england_comparison_is_kept_under_the_extract_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A rerun takes the England comparison from the study cache (it depends on neither the
    providers nor the network); a changed England extract computes it again."""
    import apgeo.analysis.england as england
    import apgeo.study.comparison as comparison

    cache = tmp_path / "cache"
    first = _run(_config(_folder(tmp_path / "a")), cache)
    calls: list[int] = []
    real = england.england_comparison

    def counted(**kwargs: object) -> object:
        calls.append(1)
        return real(**kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(england, "england_comparison", counted)
    again = _run(_config(_folder(tmp_path / "b")), cache)
    assert calls == []  # read back
    assert again.tables["england_comparison"].equals(first.tables["england_comparison"])
    assert again.tables["england_comparison"].attrs == first.tables["england_comparison"].attrs
    assert again.sections["england_standing"] == first.sections["england_standing"]
    ranks = {k: v for k, v in first.headline.items() if k.startswith("england_rank_")}
    assert ranks and all(again.headline[k] == v for k, v in ranks.items())
    digests = comparison._extract_digests()
    assert digests is not None
    monkeypatch.setattr(comparison, "_extract_digests", lambda: {**digests, "authorities.csv": "changed"})
    _run(_config(_folder(tmp_path / "c")), cache)
    assert calls == [1]  # another extract: computed again
