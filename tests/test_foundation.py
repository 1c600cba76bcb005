"""Package infrastructure: errors, settings, logging, data manifest, fetch."""

from __future__ import annotations

import gzip
import hashlib
import logging
import subprocess
import sys
from pathlib import Path

import pytest

import apgeo
from apgeo._errors import (
    ApgeoError,
    ApgeoValueError,
    DataFileNotFoundError,
    FetchError,
    MissingColumnError,
)
from apgeo.inputs import data as D


def test_errors_subclass_matching_builtins():
    assert issubclass(ApgeoValueError, ValueError) and issubclass(ApgeoValueError, ApgeoError)
    assert issubclass(MissingColumnError, KeyError)
    assert issubclass(DataFileNotFoundError, FileNotFoundError)
    assert str(MissingColumnError("column 'x' missing")) == "column 'x' missing"


def test_logger_has_null_handler():
    log = logging.getLogger("apgeo")
    assert any(isinstance(h, logging.NullHandler) for h in log.handlers)


def test_import_writes_nothing(tmp_path):
    code = "import apgeo, apgeo.providers, apgeo.demand, apgeo.data; print('ok')"
    env = {"APGEO_CACHE_DIR": str(tmp_path / "cache"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "ok"
    assert not (tmp_path / "cache").exists()


def test_settings_working_crs_and_configure(tmp_path):
    s = apgeo.get_settings()
    assert s.working_crs == "EPSG:27700"
    apgeo.configure(cache_dir=str(tmp_path))
    assert apgeo.get_settings().cache_dir == tmp_path
    with pytest.raises(ApgeoValueError, match="unknown setting 'cash_dir'"):
        apgeo.configure(cash_dir=tmp_path)


def test_manifest_matches_committed_files(data_dir):
    manifest = D.verify_manifest(data_dir)
    assert (manifest["status"] == "ok").all()
    assert {"file", "sha256", "source_url", "licence", "data_date", "description"} <= set(manifest.columns)
    total = sum(int(b) for b in manifest["bytes"])
    assert total < 20_000_000  # committed data stays under 20 MB
    # every file of the layout is in the manifest
    listed = set(manifest["file"])
    for name, rels in D.FILES.items():
        assert rels[0] in listed, name


def test_manifest_detects_tampering(tmp_path, data_dir):
    import shutil

    copy = tmp_path / "d"
    shutil.copytree(data_dir, copy)
    target = copy / "schools" / "sheffield_ap_settings_candidates.csv"
    target.write_text(target.read_text() + "\n")
    with pytest.raises(ApgeoValueError, match=r"sheffield_ap_settings_candidates\.csv: hash mismatch"):
        D.verify_manifest(copy)


def test_missing_file_message_names_path_and_fix(tmp_path):
    with pytest.raises(DataFileNotFoundError) as err:
        D.data_path("gias", data_dir=tmp_path)
    msg = str(err.value)
    assert str(tmp_path / "schools") in msg and "APGEO_DATA_DIR" in msg


@pytest.mark.skipif(not (Path(__file__).parents[2] / "shared" / "data").is_dir(), reason="no ../shared/data")
def test_loaders_accept_shared_data_folder():
    from apgeo.inputs.demand import load_demand
    from apgeo.inputs.geocode import PostcodeLookup

    shared = Path(__file__).parents[2] / "shared" / "data"
    assert D.data_path("codepoint", data_dir=shared).name == "codepoint_open_2025_S_area.csv"
    assert len(load_demand(data_dir=shared)) == 345
    assert PostcodeLookup.from_data_dir(shared).locate(__import__("pandas").Series(["S2 2JQ"]))["easting"].iloc[0] > 0


def _registry(tmp_path: Path, payload: bytes, sha: str | None) -> dict[str, D.RemoteFile]:
    src = tmp_path / "origin.csv.gz"
    src.write_bytes(payload)
    return {"x": D.RemoteFile("x", src.as_uri(), "x.csv.gz", sha, "OGL", "test file")}


def test_fetch_downloads_and_checks_hash(tmp_path):
    payload = gzip.compress(b"a,b\n1,2\n")
    reg = _registry(tmp_path, payload, hashlib.sha256(payload).hexdigest())
    out = D.fetch("x", dest_dir=tmp_path / "dl", registry=reg)
    assert out.read_bytes() == payload
    # second call finds it and does not download again
    (tmp_path / "origin.csv.gz").unlink()
    assert D.fetch("x", dest_dir=tmp_path / "dl", registry=reg) == out


def test_fetch_rejects_wrong_hash_and_keeps_nothing(tmp_path):
    reg = _registry(tmp_path, b"tampered", "0" * 64)
    with pytest.raises(FetchError, match="expected 0000"):
        D.fetch("x", dest_dir=tmp_path / "dl", registry=reg)
    assert list((tmp_path / "dl").iterdir()) == []


def test_fetch_unpinned_warns_with_hash(tmp_path):
    reg = _registry(tmp_path, b"abc", None)
    with pytest.warns(apgeo.ApgeoWarning, match=hashlib.sha256(b"abc").hexdigest()):
        D.fetch("x", dest_dir=tmp_path / "dl", registry=reg)


def test_fetch_failure_names_url(tmp_path):
    reg = {"y": D.RemoteFile("y", (tmp_path / "nope.csv").as_uri(), "y.csv", None, "OGL", "missing")}
    with pytest.raises(FetchError, match="could not download y from file://"):
        D.fetch("y", dest_dir=tmp_path / "dl", registry=reg)
    with pytest.raises(ApgeoValueError, match="unknown remote file 'zzz'"):
        D.fetch("zzz")


def test_england_files_pinned_to_shared_copies():
    shared = Path(__file__).parents[2] / "shared" / "data" / "deprivation"
    if not shared.is_dir():
        pytest.skip("no ../shared/data")
    for spec in D.REMOTE_FILES.values():
        local = shared / spec.filename
        if spec.sha256 and local.is_file():
            assert D.sha256_file(local) == spec.sha256


def test_public_api_resolves_lazily():
    import importlib

    for name, module in apgeo._LAZY.items():
        assert getattr(apgeo, name) is getattr(importlib.import_module(module), name)
        # a lazy name must never collide with a submodule (importing it would shadow the function)
        assert not (Path(apgeo.__file__).parent / f"{name}.py").exists(), name
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        apgeo.nope  # noqa: B018
