"""Downloading bus timetables from BODS, against a local HTTP server serving fixtures.

The server (``http.server`` on 127.0.0.1, a free port) answers the three BODS addresses
apgeo uses: the regional GTFS download, the timetables API (which checks the API key and
pages its answer) and a dataset download. Broken answers (a damaged zip, an HTML page, a
zip without GTFS files) must leave nothing behind, and the API key must never show in a
file, a log line or an error.
"""

from __future__ import annotations

import io
import json
import logging
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from apgeo._errors import ApgeoValueError, FetchError
from apgeo.inputs.bods import fetch_bods_gtfs, fetch_bods_timetables, list_bods_timetables
from apgeo.inputs.data import sha256_file
from apgeo.routing.transit.txc import read_transxchange

try:
    from tests.test_txc import _txc
except ImportError:  # tests/ is not a package (the pytest script, not python -m pytest)
    from test_txc import _txc  # type: ignore[no-redef]

KEY = "k3y-0f-the-user-123"


def _zip(members: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buf.getvalue()


GTFS = _zip(
    {
        "agency.txt": "agency_id,agency_name,agency_url,agency_timezone\nA,Bus,http://x,Europe/London\n",
        "stops.txt": "stop_id,stop_name,stop_lat,stop_lon\nS1,One,53.38,-1.47\nS2,Two,53.39,-1.46\n",
        "routes.txt": "route_id,agency_id,route_short_name,route_type\nR1,A,1,3\n",
        "trips.txt": "route_id,service_id,trip_id\nR1,WK,T1\n",
        "stop_times.txt": "trip_id,arrival_time,departure_time,stop_id,stop_sequence\n"
        "T1,07:00:00,07:00:00,S1,1\nT1,07:10:00,07:10:00,S2,2\n",
        "calendar.txt": "service_id,monday,tuesday,wednesday,thursday,friday,saturday,sunday,"
        "start_date,end_date\nWK,1,1,1,1,1,0,0,20250101,20251231\n",
    }
)
TXC = _zip({"X1.xml": _txc()})
DAMAGED = GTFS[: len(GTFS) // 2] + b"\0" * 64 + GTFS[len(GTFS) // 2 + 64 :]


class _Handler(BaseHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # quiet
        pass

    def _send(self, code: int, body: bytes, ctype: str = "application/zip") -> None:
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        url = urlparse(self.path)
        query = parse_qs(url.query)
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        bodies = {
            "/timetable/download/gtfs-file/yorkshire/": GTFS,
            "/timetable/download/gtfs-file/london/": DAMAGED,
            "/timetable/download/gtfs-file/wales/": b"<html>Service unavailable</html>",
            "/timetable/download/gtfs-file/scotland/": TXC,  # a zip, but not GTFS
            "/timetable/dataset/7/download/": TXC,
            "/timetable/dataset/8/download/": _txc(line="X2").encode(),
        }
        if url.path in bodies:
            self._send(200, bodies[url.path])
        elif url.path == "/api/v1/dataset/":
            if query.get("api_key") != [KEY]:
                self._send(401, b'{"detail": "Invalid token."}', "application/json")
                return
            item = {"noc": ["TEST"], "status": "published", "operatorName": "Test Buses"}
            if query.get("offset") == ["1"]:
                page = {
                    "next": None,
                    "results": [{**item, "id": 8, "name": "X2", "extension": "xml",
                                 "url": f"{base}/timetable/dataset/8/download/"}],
                }  # fmt: skip
            else:
                page = {
                    "next": f"{base}/api/v1/dataset/?api_key={KEY}&offset=1",
                    "results": [{**item, "id": 7, "name": "X1", "extension": "zip",
                                 "url": f"{base}/timetable/dataset/7/download/",
                                 "lines": ["X1"]}],
                }  # fmt: skip
            self._send(200, json.dumps(page).encode(), "application/json")
        else:
            self._send(404, b"not found", "text/plain")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_regional_gtfs_is_downloaded_checked_and_recorded(server: str, tmp_path: Path) -> None:
    got = fetch_bods_gtfs("yorkshire", dest_dir=tmp_path, base_url=server)
    assert got.path == tmp_path / "bods_gtfs_yorkshire.zip"
    assert got.bytes == len(GTFS) and got.sha256 == sha256_file(got.path) and got.files == 6
    record = json.loads((tmp_path / "bods_gtfs_yorkshire.zip.json").read_text())
    assert record["sha256"] == got.sha256
    assert record["url"] == f"{server}/timetable/download/gtfs-file/yorkshire/"


@pytest.mark.parametrize(
    ("region", "reason"),
    [
        ("london", "damaged zip"),
        ("wales", "is not a zip"),
        ("scotland", r"without the GTFS file\(s\) stops\.txt"),
        ("north_east", "could not download"),  # 404
    ],
)
def test_a_bad_download_leaves_nothing(
    server: str, tmp_path: Path, region: str, reason: str
) -> None:
    with pytest.raises(FetchError, match=reason):
        fetch_bods_gtfs(region, dest_dir=tmp_path, base_url=server)
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ApgeoValueError, match="choose one of"):
        fetch_bods_gtfs("sheffield", dest_dir=tmp_path, base_url=server)


def test_timetables_are_listed_with_the_key_and_downloaded(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setenv("BODS_API_KEY", KEY)
    caplog.set_level(logging.DEBUG, logger="apgeo")
    listed = list_bods_timetables(noc="TEST", base_url=server)
    assert list(listed["id"]) == [7, 8]  # both pages
    assert listed["noc"].tolist() == ["TEST", "TEST"] and listed["lines"].tolist() == [1, 0]
    got = fetch_bods_timetables(listed, dest_dir=tmp_path)
    assert [g.path.name for g in got] == ["bods_txc_7.zip", "bods_txc_8.xml"]
    assert all(g.kind == "transxchange" for g in got)
    # the folder reads as one timetable: X1 from the zip... and X2 from the xml
    tables = read_transxchange(tmp_path / "bods_txc_8.xml")
    assert len(tables.trips) == 1
    # the key is in no file written and no log line
    for path in tmp_path.iterdir():
        assert KEY.encode() not in path.read_bytes()
    assert KEY not in caplog.text


def test_the_api_key_is_required_and_never_shown(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BODS_API_KEY", raising=False)
    with pytest.raises(ApgeoValueError, match="BODS_API_KEY"):
        list_bods_timetables(noc="TEST", base_url=server)
    with pytest.raises(FetchError, match="401") as info:
        list_bods_timetables(noc="TEST", base_url=server, api_key="wrong-key-999")
    assert "wrong-key-999" not in str(info.value) and "<api key>" in str(info.value)


def test_cli_fetch_lists_and_downloads(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from apgeo.study.cli import main

    monkeypatch.setenv("BODS_API_KEY", KEY)
    args = ["fetch", "bods-gtfs", "--region", "yorkshire", "--dest", str(tmp_path)]
    assert main([*args, "--bods-url", server]) == 0
    assert "bods_gtfs_yorkshire.zip" in capsys.readouterr().out
    args = ["fetch", "bods-txc", "--noc", "TEST", "--list", "--bods-url", server]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "2 dataset(s)" in out and KEY not in out
    assert not list(tmp_path.glob("bods_txc_*"))
