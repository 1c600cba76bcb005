"""A study's size is known before it runs, and one that cannot fit is refused up front:
50,000 provider sites are refused with the figures and what to change, before any travel
time is computed; the limit is the configured one, else a share of the machine's memory.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import apgeo
from apgeo._errors import ConfigError, StudyTooLargeError
from apgeo.settings import repo_root
from apgeo.study.config import load_config
from apgeo.study.study_size import (
    PEAK_BASE_GB,
    PEAK_GB_PER_MILLION_PAIRS,
    check_study_size,
    machine_memory_gb,
    study_modes,
    study_size,
)

SHEFFIELD = repo_root() / "data" / "sheffield"


def _study(tmp_path: Path, extra_sites: int, *, limit: str = "", modes: str = '["walk"]') -> Path:
    """A Sheffield study (straight-line) with ``extra_sites`` framework providers."""
    rng = np.random.default_rng(1)
    ks = np.array(["KS1,KS2", "KS3,KS4"])[rng.integers(0, 2, extra_sites)]
    pd.DataFrame(
        {
            "provider_id": [f"X{i:06d}" for i in range(extra_sites)],
            "name": [f"Extra {i}" for i in range(extra_sites)],
            "kind": "framework_provider",
            "key_stages": ks,
            "capacity_places": 10,
            "easting": rng.uniform(430_000, 440_000, extra_sites).round(),
            "northing": rng.uniform(383_000, 392_000, extra_sites).round(),
        }
    ).to_csv(tmp_path / "extra.csv", index=False)
    cfg = tmp_path / "study.toml"
    cfg.write_text(
        f"""[study]
name = "big"
data_dir = "{SHEFFIELD}"
output_dir = "{tmp_path / 'reports'}"
maps_dir = "{tmp_path / 'maps'}"
{limit}
[network]
source = "straight-line"
modes = {modes}
[providers]
files = ["{tmp_path / 'extra.csv'}"]
""",
        encoding="utf-8",
    )
    return cfg


def test_fifty_thousand_sites_are_refused_before_any_travel_time(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import apgeo.study.pipeline as pipeline

    def no_travel_times(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("travel times computed for a study that was to be refused")

    monkeypatch.setattr(pipeline, "compute_travel_times", no_travel_times)
    config = load_config(_study(tmp_path, 50_000, limit="memory_limit_gb = 16", modes='["walk", "cycle", "drive"]'))
    started = time.perf_counter()
    with pytest.raises(StudyTooLargeError) as info:
        pipeline.run_study(config)
    message = str(info.value)
    assert "345 areas x 50,0" in message and "sites x 3 mode(s) (walk, cycle, drive)" in message
    assert "more than the 16.0 GB allowed ([study] memory_limit_gb)" in message
    assert "Refused before any travel time was computed" in message
    assert "memory_limit_gb" in message and "[network] modes" in message
    assert str(config.config_path) in message
    assert isinstance(info.value, MemoryError) and isinstance(info.value, apgeo.ApgeoError)
    assert not list((tmp_path / "reports").glob("*.csv"))  # nothing written
    assert time.perf_counter() - started < 120  # refused after reading the inputs only


def test_a_study_within_the_limit_runs_and_logs_its_size(tmp_path: Path, caplog) -> None:  # type: ignore[no-untyped-def]
    config = load_config(_study(tmp_path, 50_000, limit="memory_limit_gb = 16"))
    size = study_size(345, 50_019, study_modes(config))
    assert size.pairs == 345 * 50_019
    assert size.peak_gb == pytest.approx(PEAK_BASE_GB + PEAK_GB_PER_MILLION_PAIRS * size.pairs / 1e6)
    small = study_size(345, 40, ("walk", "cycle", "drive", "transit"))
    with caplog.at_level("INFO", logger="apgeo"):
        check_study_size(small, memory_limit_gb=16, output_dir=tmp_path, source="s.toml")
    assert "345 areas x 40 sites x 4 mode(s) (walk, cycle, drive, transit)" in caplog.text


def test_the_default_limit_is_a_share_of_this_machines_memory(tmp_path: Path) -> None:
    machine = machine_memory_gb()
    assert machine is not None and machine > 0.5
    huge = study_size(345, 10_000_000, ("walk",))  # far beyond any machine
    with pytest.raises(StudyTooLargeError, match=r"80% of this machine's [\d,.]+ GB"):
        check_study_size(huge, source="s.toml")


def test_tables_that_would_not_fit_on_the_output_disk_are_refused(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import shutil

    import apgeo.study.study_size as module

    monkeypatch.setattr(module.shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(10**12, 10**12 - 10**8, 10**8))  # type: ignore[attr-defined]
    size = study_size(345, 20_000, ("walk", "cycle"))
    with pytest.raises(StudyTooLargeError, match=r"has only 0\.1 GB free"):
        check_study_size(size, memory_limit_gb=1_000, output_dir=tmp_path / "new" / "folder", source="s.toml")


@pytest.mark.parametrize("value", ["0", "-2", "inf", '"16"'])
def test_a_bad_memory_limit_is_a_config_error(tmp_path: Path, value: str) -> None:
    p = tmp_path / "s.toml"
    p.write_text(f'[study]\nname = "x"\nmemory_limit_gb = {value}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="memory_limit_gb"):
        load_config(p)


def test_an_explore_session_too_big_is_refused_before_any_travel_time(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import apgeo.study.pipeline as pipeline
    from apgeo.study.explore import explore_session

    def no_travel_times(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("travel times computed for a session that was to be refused")

    monkeypatch.setattr(pipeline, "compute_travel_times", no_travel_times)
    config = load_config(_study(tmp_path, 50_000, limit="memory_limit_gb = 16", modes='["walk", "cycle", "drive"]'))
    with pytest.raises(StudyTooLargeError, match=r"more than the 16\.0 GB allowed"):
        explore_session(config)
