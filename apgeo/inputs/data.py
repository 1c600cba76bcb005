"""The data layer: where each file lives, the manifest, and fetching England-wide files.

Sheffield-sized extracts are committed under ``data/sheffield/`` with a manifest
(``MANIFEST.csv``: file, sha256, bytes, source URL, licence, data date, what it holds),
so a fresh clone runs offline. England-wide files stay out of git;
:func:`fetch` downloads them from their public originals and checks their hashes.

Each logical dataset has one or more candidate file names, so a loader also works on
another data folder with the same layout, such as ``../shared/data``.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from apgeo._errors import ApgeoValueError, DataFileNotFoundError, FetchError
from apgeo._log import logger, warn
from apgeo.settings import get_settings, repo_root

#: Logical name -> candidate paths relative to the data folder (first found wins).
FILES: dict[str, tuple[str, ...]] = {
    "gias": ("schools/sheffield_gias_open_establishments_20250524.csv",),
    "gias_links": ("schools/sheffield_gias_links_20250422.csv",),
    "ap_settings": ("schools/sheffield_ap_settings_candidates.csv",),
    "provider_attributes": ("schools/apgeo_provider_attributes.csv",),
    "lsoa_boundaries": ("geography/sheffield_lsoa2011_bsc.geojson",),
    "lsoa_centroids": ("geography/sheffield_lsoa2011_population_weighted_centroids.csv",),
    "wards": ("geography/sheffield_wards_may2024_bsc_bng27700.geojson",),
    "la_boundary": ("geography/sheffield_lad_dec2024_bsc.geojson",),
    "pop_lsoa_broad": ("population/sheffield_lsoa2011_pop_broad_age_mid2020.csv",),
    "pop_ward_sya": ("population/sheffield_ward2021_pop_sya_mid2020.csv",),
    "census2021_lsoa": ("population/sheffield_lsoa2021_census2021_usual_residents_6agebands.csv",),
    "imd_file1": ("deprivation/sheffield_imd2019_file1_imd.csv",),
    "imd_file2": ("deprivation/sheffield_imd2019_file2_domains.csv",),
    "imd_file3": ("deprivation/sheffield_imd2019_file3_idaci_idaopi.csv",),
    "imd_file6": ("deprivation/sheffield_imd2019_file6_population_denominators.csv",),
    "codepoint": (
        "postcodes/codepoint_open_2025_sheffield_5km.csv",
        "postcodes/codepoint_open_2025_S_area.csv",
    ),
    "nspd": (
        "postcodes/ons_nspd_nov2025_sheffield_5km.csv",
        "postcodes/ons_nspd_nov2025_S_area_lad25_bng.csv",
    ),
    "postcode_lsoa": (
        "postcodes/ons_pcd_lsoa_may22_sheffield_5km.csv",
        "postcodes/ons_pcd_oa_lsoa_msoa_lad_may22_S_area.csv",
    ),
    "naptan": (
        "transit/naptan_stops_sheffield_5km.csv",
        "transit/naptan_south_yorkshire_stops_atco370.csv",
    ),
}

#: Sheffield's local-authority codes: DfE LA number, ONS LAD code before 2025, ONS LAD 2025.
SHEFFIELD_LA_CODES = frozenset({"373", "E08000019", "E08000039"})


def data_dir(path: str | Path | None = None) -> Path:
    """The data folder: ``path`` if given, else the active setting.

    Parameters
    ----------
    path
        A folder (``~`` expanded), or ``None`` for ``get_settings().data_dir``.

    Returns
    -------
    pathlib.Path
        The folder.
    """
    return Path(path).expanduser() if path is not None else get_settings().data_dir


def data_path(name: str, *, data_dir: str | Path | None = None) -> Path:
    """Path of a logical dataset, raising a message that says how to get it.

    Parameters
    ----------
    name
        A dataset name of :data:`FILES` (e.g. ``"lsoa_boundaries"``).
    data_dir
        The data folder (``None``: the active setting).

    Returns
    -------
    pathlib.Path
        The first of the dataset's known file names that exists in the folder.
    """
    if name not in FILES:
        raise ApgeoValueError(f"unknown dataset {name!r}; known datasets: {sorted(FILES)}")
    folder = globals()["data_dir"](data_dir)
    for rel in FILES[name]:
        candidate = folder / rel
        if candidate.is_file():
            return candidate
    tried = ", ".join(str(folder / rel) for rel in FILES[name])
    raise DataFileNotFoundError(
        f"dataset {name!r} not found (looked for {tried}). The Sheffield extracts ship in the "
        "repository's data/sheffield/ folder: run from a full clone, set APGEO_DATA_DIR, or "
        "pass data_dir= pointing at a folder with the same layout (e.g. ../shared/data)"
    )


def read_manifest(folder: str | Path | None = None) -> pd.DataFrame:
    """The manifest of a data folder as a DataFrame.

    Parameters
    ----------
    folder
        The data folder (``None``: the active setting).

    Returns
    -------
    pandas.DataFrame
        ``MANIFEST.csv`` with every column read as text (``file``, ``sha256``...).
    """
    path = data_dir(folder) / "MANIFEST.csv"
    if not path.is_file():
        raise DataFileNotFoundError(
            f"no MANIFEST.csv in {path.parent}; the committed data/sheffield/ folder has one "
            "(rebuild it with scripts/make_sheffield_extract.py)"
        )
    return pd.read_csv(path, dtype=str)


def sha256_file(path: str | Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks.

    Parameters
    ----------
    path
        The file.

    Returns
    -------
    str
        64 hex digits.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def verify_manifest(folder: str | Path | None = None) -> pd.DataFrame:
    """Check every file in the manifest exists and has its recorded sha256.

    Returns the manifest with an added ``status`` column (``ok``, ``missing``,
    ``hash mismatch``). Raises :class:`ApgeoValueError` listing the bad files.

    Parameters
    ----------
    folder
        The data folder (``None``: the active setting).

    Returns
    -------
    pandas.DataFrame
        The manifest plus ``status``.
    """
    manifest = read_manifest(folder)
    base = data_dir(folder)
    statuses = []
    for rel, expected in zip(manifest["file"], manifest["sha256"]):
        p = base / rel
        if not p.is_file():
            statuses.append("missing")
        elif sha256_file(p) != expected:
            statuses.append("hash mismatch")
        else:
            statuses.append("ok")
    out = manifest.assign(status=statuses)
    bad = out[out["status"] != "ok"]
    if len(bad):
        listing = "; ".join(f"{f}: {s}" for f, s in zip(bad["file"], bad["status"]))
        raise ApgeoValueError(
            f"data folder {base} does not match its manifest ({listing}); restore the files "
            "with git checkout or rebuild them with scripts/make_sheffield_extract.py"
        )
    return out


# ---------------------------------------------------------------- England-wide files


@dataclass(frozen=True)
class RemoteFile:
    """An England-wide file kept out of git and fetched from its public original."""

    name: str
    url: str
    filename: str
    sha256: str | None
    licence: str
    description: str


_ENERGY_FLEX = (
    "https://raw.githubusercontent.com/anetobradley/energy_flex/"
    "f0b011f0584411df8f64fb06fea7fa0cd2fa4b71/02-EnergyModel/Energy_Intensity_Analysis/data/imd/"
)

REMOTE_FILES: dict[str, RemoteFile] = {
    f.name: f
    for f in (
        RemoteFile(
            "imd2019_file1",
            _ENERGY_FLEX + "File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz",
            "england_File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz",
            "2488216caa20df93aee2af86d7f292fd8f7c54b8e2635f683f8e3049ee1f14ce",
            "OGL v3 (MHCLG)",
            "English Indices of Deprivation 2019, File 1 (IMD rank and decile), all 32,844 LSOAs",
        ),
        RemoteFile(
            "imd2019_file2",
            _ENERGY_FLEX + "File_2_-_IoD2019_Domains_of_Deprivation.csv.gz",
            "england_File_2_-_IoD2019_Domains_of_Deprivation.csv.gz",
            "36ca35aa1e056bf8780a74d00c38773f46a14753e4ffeda8dc7cd8d42e4deae7",
            "OGL v3 (MHCLG)",
            "IoD 2019 File 2 (domains), all LSOAs",
        ),
        RemoteFile(
            "imd2019_file6",
            _ENERGY_FLEX + "File_6_-_IoD2019_Population_Denominators.csv.gz",
            "england_File_6_-_IoD2019_Population_Denominators.csv.gz",
            "ae68da9646acf51beaf9bbb129eb5a6344d1754b04f6e155338c08822d44d4fb",
            "OGL v3 (MHCLG)",
            "IoD 2019 File 6 (population denominators), all LSOAs",
        ),
        RemoteFile(
            "imd2019_file7",
            "https://assets.publishing.service.gov.uk/government/uploads/system/uploads/"
            "attachment_data/file/845345/"
            "File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators_3.csv",
            "File_7_-_All_IoD2019_Scores__Ranks__Deciles_and_Population_Denominators_3.csv",
            None,
            "OGL v3 (MHCLG)",
            "IoD 2019 File 7: all scores (incl. IDACI scores), ranks, deciles; from GOV.UK",
        ),
        RemoteFile(
            "gias_all",
            "https://ea-edubase-api-prod.azurewebsites.net/edubase/downloads/public/"
            "edubasealldata20250524.csv",
            "edubasealldata20250524.csv",
            None,
            "OGL v3 (DfE)",
            "Get Information about Schools: all establishments (England), 24 May 2025",
        ),
        RemoteFile(
            "codepoint_open",
            "https://api.os.uk/downloads/v1/products/CodePointOpen/downloads?area=GB&format=CSV&redirect",
            "codepo_gb.zip",
            None,
            "OS OpenData",
            "OS Code-Point Open: every live GB postcode unit with its BNG centroid",
        ),
    )
}


def fetch(
    name: str,
    *,
    dest_dir: str | Path | None = None,
    force: bool = False,
    registry: dict[str, RemoteFile] | None = None,
    timeout_s: float = 120.0,
) -> Path:
    """Download an England-wide file from its public original and check its sha256.

    Files are written to ``dest_dir`` (default ``<cache_dir>/data``). A file already
    there with the right hash is not downloaded again. Files whose hash is not pinned
    (the publisher changes them in place) are accepted with a warning that states the
    hash seen, so a study can record it.

    Parameters
    ----------
    name
        A key of :data:`REMOTE_FILES` (or of ``registry``).
    dest_dir
        Folder to write to (default ``<cache_dir>/data``).
    force
        Download again even when a file with the right hash is there.
    registry
        The files known by name (default :data:`REMOTE_FILES`).
    timeout_s
        Network timeout in seconds.

    Returns
    -------
    Path
        The local file.

    Raises
    ------
    FetchError
        When the download fails or the content does not match the recorded hash.
    """
    files = REMOTE_FILES if registry is None else registry
    if name not in files:
        raise ApgeoValueError(f"unknown remote file {name!r}; choose one of {sorted(files)}")
    spec = files[name]
    folder = Path(dest_dir) if dest_dir is not None else get_settings().cache_dir / "data"
    target = folder / spec.filename
    if target.is_file() and not force and spec.sha256 and sha256_file(target) == spec.sha256:
        logger.info("%s already present at %s", name, target)
        return target
    folder.mkdir(parents=True, exist_ok=True)
    logger.info("downloading %s from %s", name, spec.url)
    with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix=".part") as tmp:
        tmp_path = Path(tmp.name)
        try:
            with urllib.request.urlopen(spec.url, timeout=timeout_s) as response:
                shutil.copyfileobj(response, tmp)
        except Exception as exc:
            tmp.close()
            tmp_path.unlink(missing_ok=True)
            raise FetchError(
                f"could not download {name} from {spec.url}: {exc}. Check the internet "
                f"connection, or download it by hand into {folder}"
            ) from exc
    digest = sha256_file(tmp_path)
    if spec.sha256 is not None and digest != spec.sha256:
        tmp_path.unlink(missing_ok=True)
        raise FetchError(
            f"{name} from {spec.url} has sha256 {digest}, expected {spec.sha256}; the "
            "publisher may have replaced the file. Nothing was kept"
        )
    tmp_path.replace(target)
    if spec.sha256 is None:
        warn(f"{name}: hash not pinned in apgeo; downloaded file has sha256 {digest}; record it", stacklevel=2)
    return target


def repository_data_dir() -> Path:
    """The committed ``data/sheffield`` folder of a clone.

    Returns
    -------
    pathlib.Path
        ``<repo root>/data/sheffield``.
    """
    return repo_root() / "data" / "sheffield"
