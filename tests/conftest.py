"""Shared fixtures. Tests are offline; online tests need APGEO_ONLINE_TESTS=1."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import apgeo
from apgeo.settings import repo_root

DATA_DIR = repo_root() / "data" / "sheffield"
SHARED_DATA = repo_root().parent / "shared" / "data"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("APGEO_ONLINE_TESTS") == "1":
        return
    skip = pytest.mark.skip(reason="needs the internet; set APGEO_ONLINE_TESTS=1 to run")
    for item in items:
        if "online" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path_factory: pytest.TempPathFactory):
    """Every test sees the committed data and a private cache folder."""
    before = apgeo.get_settings()
    apgeo.configure(data_dir=DATA_DIR, cache_dir=tmp_path_factory.mktemp("cache"))
    yield
    apgeo.configure(**{k: getattr(before, k) for k in before.__dataclass_fields__})


@pytest.fixture
def cache_dir(tmp_path: Path) -> Iterator[Path]:
    """A cache folder of the test's own, as the path it is configured at."""
    before = apgeo.get_settings().cache_dir
    apgeo.configure(cache_dir=tmp_path / "cache")
    try:
        yield tmp_path / "cache"
    finally:
        apgeo.configure(cache_dir=before)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA_DIR


@pytest.fixture(scope="session")
def sheffield_demand():
    from apgeo.inputs.demand import load_demand

    return load_demand(data_dir=DATA_DIR)


@pytest.fixture(scope="session")
def sheffield_providers():
    from apgeo.inputs.providers import load_sheffield_providers

    return load_sheffield_providers(data_dir=DATA_DIR)
