"""Bus timetables from the Bus Open Data Service (BODS): list, download, check.

BODS publishes every English bus timetable twice:

* as **GTFS, one zip per region** (``yorkshire``, ``north_west``...), converted by BODS and
  open to anyone: ``<base>/timetable/download/gtfs-file/<region>/``;
* as the operators' own **TransXChange datasets**, listed by the timetables API
  ``<base>/api/v1/dataset/?api_key=...&noc=...`` (an API key from a free BODS account),
  each downloaded from the ``url`` the listing gives (a zip of TXC files, one per line, or
  one ``.xml``).

:func:`fetch_bods_gtfs` and :func:`fetch_bods_timetables` download into a folder, check
what arrived (not empty; a readable zip with the GTFS files, or TransXChange XML) and
record its sha256 and source in a ``<file>.json`` beside it, so a study can cite exactly
what it used. A failed or bad download leaves nothing behind.

The API key is read from the ``BODS_API_KEY`` environment variable (or passed in); it is
never written to a file, a log line or an error message. ``base_url`` (default
:data:`BODS_BASE_URL`, or the ``APGEO_BODS_URL`` environment variable) points the
functions at another server, e.g. a local one in tests.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from apgeo._errors import ApgeoValueError, FetchError
from apgeo._log import logger
from apgeo.inputs.data import sha256_file
from apgeo.settings import get_settings

BODS_BASE_URL = "https://data.bus-data.dft.gov.uk"
#: Environment variable holding the user's BODS API key.
API_KEY_ENV = "BODS_API_KEY"
#: Regions of the BODS GTFS downloads.
BODS_REGIONS = (
    "all",
    "east_anglia",
    "east_midlands",
    "london",
    "north_east",
    "north_west",
    "scotland",
    "south_east",
    "south_west",
    "wales",
    "west_midlands",
    "yorkshire",
)
_GTFS_FILES = ("stops.txt", "trips.txt", "stop_times.txt", "routes.txt")


@dataclass(frozen=True)
class FetchedFile:
    """A downloaded file with what was checked: where from, size and sha256."""

    path: Path
    url: str
    bytes: int
    sha256: str
    kind: str  # "gtfs" or "transxchange"
    files: int  # members of the zip (1 for a single XML)

    def record(self) -> dict[str, Any]:
        """The ``.json`` record written beside the file.

        Returns
        -------
        dict
            ``file`` (name), ``url``, ``bytes``, ``sha256``, ``kind``, ``files`` and
            ``downloaded_utc`` (now, ISO 8601).
        """
        return {
            "file": self.path.name,
            "url": self.url,
            "bytes": self.bytes,
            "sha256": self.sha256,
            "kind": self.kind,
            "files": self.files,
            "downloaded_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }


def _base(base_url: str | None) -> str:
    return (base_url or os.environ.get("APGEO_BODS_URL") or BODS_BASE_URL).rstrip("/")


def _redact(text: str, key: str | None) -> str:
    return text.replace(key, "<api key>") if key else text


def _api_key(api_key: str | None) -> str:
    key = api_key or os.environ.get(API_KEY_ENV, "").strip()
    if not key:
        raise ApgeoValueError(
            f"the BODS timetables API needs an API key: set the {API_KEY_ENV} environment "
            "variable to the key of your free Bus Open Data Service account (My account -> "
            "API key); the regional GTFS downloads need none"
        )
    return key


def _download(url: str, target: Path, *, timeout_s: float, what: str) -> Path:
    """Download ``url`` to a temporary file beside ``target``; the caller checks it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, delete=False, suffix=".part") as tmp:
        part = Path(tmp.name)
        try:
            request = urllib.request.Request(url, headers={"User-Agent": "apgeo"})
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                shutil.copyfileobj(response, tmp)
        except (urllib.error.URLError, OSError, ValueError) as exc:
            if isinstance(exc, urllib.error.HTTPError):
                exc.close()
            tmp.close()
            part.unlink(missing_ok=True)
            raise FetchError(
                f"could not download {what} from {url}: {exc}. Check the internet connection "
                f"(and the region or dataset), or download it by hand into {target.parent}"
            ) from None
    return part


def _check(part: Path, *, url: str, what: str, kind: str) -> int:
    """Check a download is what it should be; return its member count. Deletes it if not."""

    def bad(reason: str) -> FetchError:
        part.unlink(missing_ok=True)
        return FetchError(f"{what} from {url} {reason}; nothing was kept")

    size = part.stat().st_size
    if size == 0:
        raise bad("is empty")
    if zipfile.is_zipfile(part):
        try:
            with zipfile.ZipFile(part) as archive:
                broken = archive.testzip()
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError) as exc:
            raise bad(f"is a damaged zip ({exc})") from None
        if broken is not None:
            raise bad(f"is a damaged zip (member {broken} fails its CRC)")
        base = {Path(n).name for n in names}
        if kind == "gtfs":
            missing = [f for f in _GTFS_FILES if f not in base]
            if missing:
                raise bad(f"is a zip without the GTFS file(s) {', '.join(missing)}")
        elif not any(n.lower().endswith(".xml") for n in names):
            raise bad("is a zip without any TransXChange .xml file")
        return len(names)
    head = part.read_bytes()[:4096]
    if kind == "transxchange" and b"TransXChange" in head:
        return 1
    text = head[:200].decode("utf-8", "replace").strip().replace("\n", " ")
    raise bad(f"is not a {'zip' if kind == 'gtfs' else 'zip or TransXChange XML'} ({text!r}...)")


def _keep(part: Path, target: Path, *, url: str, kind: str, files: int) -> FetchedFile:
    part.replace(target)
    fetched = FetchedFile(
        path=target,
        url=url,
        bytes=target.stat().st_size,
        sha256=sha256_file(target),
        kind=kind,
        files=files,
    )
    target.with_name(target.name + ".json").write_text(
        json.dumps(fetched.record(), indent=2) + "\n", encoding="utf-8"
    )
    logger.info("downloaded %s (%d bytes, sha256 %s)", target, fetched.bytes, fetched.sha256)
    return fetched


def _folder(dest_dir: str | Path | None) -> Path:
    return Path(dest_dir) if dest_dir is not None else get_settings().cache_dir / "data" / "bods"


def fetch_bods_gtfs(
    region: str,
    *,
    dest_dir: str | Path | None = None,
    base_url: str | None = None,
    timeout_s: float = 600.0,
) -> FetchedFile:
    """Download BODS's GTFS zip of ``region`` (one of :data:`BODS_REGIONS`) and check it.

    Written to ``<dest_dir>/bods_gtfs_<region>.zip`` (default folder
    ``<cache_dir>/data/bods``) with a ``.json`` record of its URL, size and sha256.

    Parameters
    ----------
    region
        A BODS GTFS region, e.g. ``"yorkshire"``.
    dest_dir
        Folder to write into (``None``: ``<cache_dir>/data/bods``).
    base_url
        BODS's address (``None``: ``APGEO_BODS_URL`` or :data:`BODS_BASE_URL`).
    timeout_s
        Seconds to wait for the server before giving up.

    Returns
    -------
    FetchedFile
        The file written and what was checked.

    Raises
    ------
    ApgeoValueError
        Unknown region.
    FetchError
        The download failed, or it is empty, not a zip, damaged, or lacks GTFS files.
    """
    if region not in BODS_REGIONS:
        raise ApgeoValueError(f"region={region!r}: choose one of {', '.join(BODS_REGIONS)}")
    url = f"{_base(base_url)}/timetable/download/gtfs-file/{region}/"
    target = _folder(dest_dir) / f"bods_gtfs_{region}.zip"
    what = f"the BODS GTFS of {region}"
    part = _download(url, target, timeout_s=timeout_s, what=what)
    files = _check(part, url=url, what=what, kind="gtfs")
    return _keep(part, target, url=url, kind="gtfs", files=files)


def list_bods_timetables(
    *,
    noc: str | list[str] | None = None,
    search: str | None = None,
    admin_area: str | None = None,
    status: str = "published",
    api_key: str | None = None,
    base_url: str | None = None,
    page_size: int = 100,
    timeout_s: float = 60.0,
) -> pd.DataFrame:
    """The TransXChange datasets the BODS timetables API lists (all pages).

    Columns: ``id``, ``name``, ``operator``, ``noc`` (comma-separated), ``status``,
    ``extension``, ``url`` (the download), ``first_start``, ``last_end``, ``modified``,
    ``lines`` (number). Filters as BODS takes them: National Operator Code(s), free-text
    ``search``, NPTG ``admin_area``, ``status``.

    Parameters
    ----------
    noc
        National Operator Code(s).
    search
        Free text.
    admin_area
        NPTG administrative area code.
    status
        Dataset status (default ``"published"``).
    api_key
        The BODS API key (``None``: the ``BODS_API_KEY`` environment variable).
    base_url
        BODS's address (``None``: ``APGEO_BODS_URL`` or :data:`BODS_BASE_URL`).
    page_size
        Datasets asked for per page.
    timeout_s
        Seconds to wait for each page.

    Returns
    -------
    pandas.DataFrame
        One row per dataset, the columns above.

    Raises
    ------
    ApgeoValueError
        No API key (``BODS_API_KEY`` unset and none given).
    FetchError
        The API could not be reached or refused the key; the key is not in the message.
    """
    key = _api_key(api_key)
    query: dict[str, str] = {"api_key": key, "status": status, "limit": str(page_size)}
    if noc:
        query["noc"] = noc if isinstance(noc, str) else ",".join(noc)
    if search:
        query["search"] = search
    if admin_area:
        query["adminArea"] = admin_area
    url: str | None = f"{_base(base_url)}/api/v1/dataset/?{urllib.parse.urlencode(query)}"
    rows: list[dict[str, Any]] = []
    while url:
        try:
            request = urllib.request.Request(url, headers={"User-Agent": "apgeo"})
            with urllib.request.urlopen(request, timeout=timeout_s) as response:
                page = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            exc.close()
            hint = " (is BODS_API_KEY right?)" if exc.code in (401, 403) else ""
            raise FetchError(
                f"the BODS timetables API answered {exc.code} {exc.reason}{hint}: "
                + _redact(url, key)
            ) from None
        except (urllib.error.URLError, OSError, ValueError) as exc:
            raise FetchError(
                f"could not list BODS timetables ({_redact(str(exc), key)}) from "
                f"{_redact(url, key)}; check the internet connection"
            ) from None
        for item in page.get("results", []):
            nocs = item.get("noc") or []
            rows.append(
                {
                    "id": item.get("id"),
                    "name": item.get("name", ""),
                    "operator": item.get("operatorName", ""),
                    "noc": ",".join(nocs) if isinstance(nocs, list) else str(nocs),
                    "status": item.get("status", ""),
                    "extension": item.get("extension", ""),
                    "url": item.get("url", ""),
                    "first_start": item.get("firstStartDate"),
                    "last_end": item.get("lastEndDate"),
                    "modified": item.get("modified"),
                    "lines": len(item.get("lines") or []),
                }
            )
        url = page.get("next")
    columns = ["id", "name", "operator", "noc", "status", "extension", "url"]
    columns += ["first_start", "last_end", "modified", "lines"]
    return pd.DataFrame(rows, columns=columns)


def fetch_bods_timetables(
    datasets: pd.DataFrame,
    *,
    dest_dir: str | Path | None = None,
    timeout_s: float = 600.0,
) -> list[FetchedFile]:
    """Download the TransXChange datasets listed (rows of :func:`list_bods_timetables`).

    Each goes to ``<dest_dir>/bods_txc_<id>.<zip|xml>`` with its ``.json`` record and is
    checked (a zip with ``.xml`` files, or one TransXChange XML). Read them with
    :func:`apgeo.transit.read_transxchange` (a folder of them reads as one timetable).

    Parameters
    ----------
    datasets
        Rows of :func:`list_bods_timetables` (``id`` and ``url`` needed; ``extension``
        decides zip or XML).
    dest_dir
        Folder to write into (``None``: ``<cache_dir>/data/bods``).
    timeout_s
        Seconds to wait for the server, per dataset.

    Returns
    -------
    list of FetchedFile
        One per dataset, in row order.
    """
    if not {"id", "url"} <= set(datasets.columns):
        raise ApgeoValueError("datasets: give the table list_bods_timetables returns")
    out: list[FetchedFile] = []
    folder = _folder(dest_dir)
    exts = datasets["extension"] if "extension" in datasets.columns else ["zip"] * len(datasets)
    for dataset_id, url, ext in zip(datasets["id"], datasets["url"], exts, strict=True):
        suffix = "xml" if str(ext).lower() == "xml" else "zip"
        target = folder / f"bods_txc_{dataset_id}.{suffix}"
        what = f"BODS timetable dataset {dataset_id}"
        part = _download(str(url), target, timeout_s=timeout_s, what=what)
        files = _check(part, url=str(url), what=what, kind="transxchange")
        out.append(_keep(part, target, url=str(url), kind="transxchange", files=files))
    return out


__all__ = [
    "API_KEY_ENV",
    "BODS_BASE_URL",
    "BODS_REGIONS",
    "FetchedFile",
    "fetch_bods_gtfs",
    "fetch_bods_timetables",
    "list_bods_timetables",
]
