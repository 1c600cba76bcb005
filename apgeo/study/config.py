"""Study configuration: a TOML file, validated before any heavy work starts.

Errors name the key and the line it is on, and say what is allowed.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apgeo._errors import ConfigError
from apgeo.network.load import LINE_LAYER_SUFFIXES
from apgeo.schema import AP_KIND_NAMES, KEY_STAGE_NAMES, ProviderKind

MODES = ("walk", "cycle", "drive")
#: Road-line layers a study can route on (OS Open Roads, a council's centrelines, OSM
#: lines): the ones :func:`apgeo.network.load.load_network` reads.
ROAD_LINE_SUFFIXES = LINE_LAYER_SUFFIXES

#: The library's one definition of AP kinds (:data:`apgeo.schema.AP_KINDS`).
DEFAULT_AP_KINDS = AP_KIND_NAMES


@dataclass(frozen=True)
class StudyConfig:
    """A validated study configuration. Paths are absolute."""

    name: str
    title: str
    #: The detailed data folder of the area (polygons, wards, single-year ages), or None:
    #: then the committed England extract gives the area's LSOA centroids.
    data_dir: Path | None
    output_dir: Path
    maps_dir: Path
    network_source: str = "auto"  # "auto" | "straight-line" | a .pbf / .graphml / road-line path
    #: What the network is, quoted in every output (e.g. "main roads only (gritting routes)").
    network_label: str = ""
    network_buffer_m: float = 3000.0
    circuity_factor: float = 1.3
    modes: tuple[str, ...] = MODES
    thresholds_min: tuple[float, ...] = (15.0, 30.0, 45.0, 60.0)
    key_stages: tuple[str, ...] = ("KS1", "KS2", "KS3", "KS4")
    ap_kinds: tuple[str, ...] = DEFAULT_AP_KINDS
    include_gias: bool = True
    population_source: str = "mid2020"
    cold_spot_threshold_min: float = 30.0
    random_state: int = 12345
    recommend_sites: int = 3
    recommend_mode: str = "walk"
    recommend_max_travel_time_min: float = 30.0
    recommend_candidates: Path | None = None
    transit_feed: Path | None = None
    transit_feeds: tuple[Path, ...] = ()
    transit_service_date: str = ""
    transit_window: tuple[str, str] = ("07:00", "09:00")
    transit_step_min: float = 1.0
    transit_percentile: float = 50.0
    placements_file: Path | None = None
    placements_synthetic: bool = False
    placements_rows: int = 1000
    placements_as_of: str = ""
    placements_mode: str = ""
    quality_file: Path | None = None
    quality_include_unknown: bool = False
    #: The education authority studied (name, DfE LA number or ONS code); "" = the one
    #: whose LSOAs ``data_dir`` holds.
    area: str = ""
    #: The planner's own provider files ([providers] files).
    provider_files: tuple[Path, ...] = ()
    #: Add the council's curated settings list where the data folder has one (None: when it does).
    include_settings_list: bool | None = None
    allow_far: bool = False
    gias_border_km: float = 0.0
    #: Add each area's nearest AP setting beyond the border (None: only when the area has
    #: no AP setting of its own).
    nearest_beyond_border: bool | None = None
    config_path: Path | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "study": {"name": str, "title": str, "area": (str, int), "data_dir": str, "output_dir": str, "maps_dir": str},
    "providers": {
        "files": list,
        "include_gias": bool,
        "include_settings_list": bool,
        "allow_far": bool,
        "gias_border_km": (int, float),
        "nearest_beyond_border": bool,
    },
    "network": {"source": str, "label": str, "buffer_m": (int, float), "circuity_factor": (int, float), "modes": list},
    "analysis": {
        "thresholds_min": list,
        "key_stages": list,
        "ap_kinds": list,
        "include_gias": bool,
        "population_source": str,
        "cold_spot_threshold_min": (int, float),
        "random_state": int,
    },
    "recommend": {"sites": int, "mode": str, "max_travel_time_min": (int, float), "candidates": str},
    "placements": {"file": str, "synthetic": bool, "rows": int, "as_of": str, "mode": str},
    "quality": {"file": str, "include_unknown": bool},
    "transit": {"feed": str, "feeds": list, "service_date": str, "departure_window": list, "step_min": (int, float), "percentile": (int, float)},
}


def _feed_name(path: Path) -> str:
    """A feed's name (its id prefix) from its file name: letters, digits, '_' and '-'."""
    stem = path.name.removesuffix(".zip").removesuffix(".xml")
    return re.sub(r"[^A-Za-z0-9_-]+", "_", stem) or "feed"


def _line_of(text: str, section: str, key: str | None) -> int:
    lines = text.splitlines()
    start = 0
    for i, line in enumerate(lines):
        if re.match(rf"^\s*\[{re.escape(section)}\]\s*$", line):
            start = i
            if key is None:
                return i + 1
            break
    for i in range(start, len(lines)):
        if key is not None and re.match(rf"^\s*{re.escape(key)}\s*=", lines[i]):
            return i + 1
    return start + 1


def load_config(path: str | Path) -> StudyConfig:
    """Read and validate a study TOML file; relative paths are relative to the file.

    Parameters
    ----------
    path
        The ``.toml`` file (e.g. ``studies/sheffield.toml``).

    Returns
    -------
    StudyConfig
        The validated settings; an unknown or bad key raises a ``ConfigError`` naming the
        file, the section and the key.
    """
    p = Path(path).expanduser().resolve()
    if not p.is_file():
        raise ConfigError(f"study config not found: {p}; the Sheffield one is studies/sheffield.toml")
    text = p.read_text(encoding="utf-8")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from None

    def fail(section: str, key: str | None, message: str) -> ConfigError:
        where = f"[{section}]" + (f" {key}" if key else "")
        return ConfigError(f"{p}, line {_line_of(text, section, key)}: {where}: {message}")

    for section, body in raw.items():
        if section not in _SCHEMA:
            raise fail(section, None, f"unknown section; allowed: {', '.join(f'[{s}]' for s in _SCHEMA)}")
        if not isinstance(body, dict):
            raise fail(section, None, "must be a table")
        for key, value in body.items():
            if key not in _SCHEMA[section]:
                raise fail(section, key, f"unknown key; allowed in [{section}]: {', '.join(_SCHEMA[section])}")
            expected = _SCHEMA[section][key]
            if not isinstance(value, expected) or (expected in ((int, float), int) and isinstance(value, bool)):
                names = expected.__name__ if isinstance(expected, type) else " or ".join(t.__name__ for t in expected)
                raise fail(section, key, f"must be {names}, not {type(value).__name__} {value!r}")

    study = raw.get("study", {})
    net = raw.get("network", {})
    ana = raw.get("analysis", {})
    rec = raw.get("recommend", {})
    base = p.parent

    def path_of(value: str | None, default: str) -> Path:
        q = Path(value if value is not None else default).expanduser()
        return q if q.is_absolute() else (base / q).resolve()

    if "name" not in study:
        raise fail("study", None, "needs a 'name' (used for the report folder)")
    modes = tuple(net.get("modes", MODES))
    for m in modes:
        if m not in MODES:
            raise fail("network", "modes", f"unknown mode {m!r}; allowed: {', '.join(MODES)} (transit needs a GTFS feed)")
    if not modes:
        raise fail("network", "modes", "give at least one mode")
    thresholds = tuple(float(t) for t in ana.get("thresholds_min", (15, 30, 45, 60)))
    if not thresholds or any(t <= 0 for t in thresholds) or list(thresholds) != sorted(set(thresholds)):
        raise fail("analysis", "thresholds_min", f"must be positive and strictly increasing, not {list(thresholds)}")
    key_stages = tuple(ana.get("key_stages", ("KS1", "KS2", "KS3", "KS4")))
    for ks in key_stages:
        if ks not in KEY_STAGE_NAMES:
            raise fail("analysis", "key_stages", f"unknown key stage {ks!r}; allowed: {', '.join(KEY_STAGE_NAMES)}")
    kinds = tuple(ana.get("ap_kinds", DEFAULT_AP_KINDS))
    valid_kinds = {k.value for k in ProviderKind}
    for k in kinds:
        if k not in valid_kinds:
            raise fail("analysis", "ap_kinds", f"unknown provider kind {k!r}; allowed: {', '.join(sorted(valid_kinds))}")
    source = net.get("source", "auto")
    if source not in ("auto", "straight-line"):
        sp = path_of(source, source)
        if sp.suffix.lower() not in (".pbf", ".graphml", *ROAD_LINE_SUFFIXES):
            raise fail(
                "network", "source",
                "must be 'auto', 'straight-line', a .pbf / .graphml file or a road-line layer "
                f"({' / '.join(ROAD_LINE_SUFFIXES)}), not {source!r}",
            )
        if not sp.is_file():
            raise fail("network", "source", f"network file not found: {sp}")
        source = str(sp)
    circuity = float(net.get("circuity_factor", 1.3))
    if circuity < 1:
        raise fail("network", "circuity_factor", f"must be >= 1, not {circuity}")
    pop = ana.get("population_source", "mid2020")
    if pop not in ("mid2020", "census2021"):
        raise fail("analysis", "population_source", f"must be 'mid2020' or 'census2021', not {pop!r}")
    sites = int(rec.get("sites", 3))
    if sites < 0:
        raise fail("recommend", "sites", f"must be >= 0, not {sites}")
    rec_mode = rec.get("mode", "walk" if "walk" in modes else modes[0])
    if rec_mode not in modes:
        raise fail("recommend", "mode", f"must be one of the study's modes {list(modes)}, not {rec_mode!r}")
    rec_candidates: Path | None = None
    if "candidates" in rec:
        rec_candidates = path_of(rec["candidates"], rec["candidates"])
        if not rec_candidates.is_file():
            raise fail("recommend", "candidates", f"candidate file not found: {rec_candidates}")
    rec_t = float(rec.get("max_travel_time_min", 30.0))
    if rec_t <= 0:
        raise fail("recommend", "max_travel_time_min", f"must be positive, not {rec_t}")
    tr = raw.get("transit", {})
    feed: Path | None = None
    feeds: list[Path] = []
    if tr:
        if ("feed" not in tr and "feeds" not in tr) or "service_date" not in tr:
            raise fail(
                "transit", None,
                "needs 'feed' (a GTFS or TransXChange zip / folder) or 'feeds' (a list of them) and "
                "'service_date' (YYYY-MM-DD, never 'today')",
            )
        if "feed" in tr and "feeds" in tr:
            raise fail("transit", "feed", "give either feed = \"one.zip\" or feeds = [...], not both")
        key = "feeds" if "feeds" in tr else "feed"
        listed = tr["feeds"] if key == "feeds" else [tr["feed"]]
        if not listed or not all(isinstance(f, str) for f in listed):
            raise fail("transit", key, f"must be a list of paths to GTFS or TransXChange feeds, not {listed!r}")
        for f in listed:
            path = path_of(f, f)
            if not path.exists():
                raise fail("transit", key, f"feed not found: {path}")
            feeds.append(path)
        stems = [_feed_name(f) for f in feeds]
        if len(set(stems)) != len(stems):
            raise fail("transit", key, f"two feeds have the same file name {stems}: rename one")
        feed = feeds[0]
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", tr["service_date"]):
            raise fail("transit", "service_date", f"must be a date YYYY-MM-DD, not {tr['service_date']!r}")
        window = tr.get("departure_window", ["07:00", "09:00"])
        if len(window) != 2 or not all(isinstance(w, str) for w in window):
            raise fail("transit", "departure_window", f"must be two times like [\"07:00\", \"09:00\"], not {window!r}")
        if not 0 < float(tr.get("percentile", 50)) <= 100:
            raise fail("transit", "percentile", f"must be in (0, 100], not {tr.get('percentile')!r}")
    pl = raw.get("placements", {})
    pl_file: Path | None = None
    if pl:
        if ("file" in pl) == bool(pl.get("synthetic", False)):
            raise fail("placements", None, "give either file = \"placements.csv\" or synthetic = true (not both)")
        if "file" in pl:
            pl_file = path_of(pl["file"], pl["file"])
            if not pl_file.is_file():
                raise fail("placements", "file", f"placement file not found: {pl_file}")
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(pl.get("as_of", ""))):
            raise fail("placements", "as_of", "must be the date the list was extracted, YYYY-MM-DD")
        if pl.get("mode", rec_mode) not in modes:
            raise fail("placements", "mode", f"must be one of the study's modes {list(modes)}")
    ql = raw.get("quality", {})
    q_file: Path | None = None
    if ql:
        if "file" not in ql:
            raise fail("quality", None, "needs file = a CSV with urn or provider_id, ofsted_grade and/or qa_outcome")
        q_file = path_of(ql["file"], ql["file"])
        if not q_file.is_file():
            raise fail("quality", "file", f"quality file not found: {q_file}")
    area = str(study.get("area", "")).strip()
    if "area" in study:
        from apgeo.inputs.areas import resolve_area

        try:
            resolved = resolve_area(study["area"])
        except Exception as exc:  # an unknown name: the resolver's message suggests matches
            raise fail("study", "area", str(exc)) from None
        area = resolved.la_code
        default_data = f"../data/{resolved.slug}"
    else:
        default_data = "../data/sheffield"
    data_dir: Path | None = path_of(study.get("data_dir"), default_data)
    if data_dir is not None and not data_dir.is_dir():
        if "data_dir" in study:
            raise fail("study", "data_dir", f"data folder not found: {data_dir}")
        data_dir = None  # no detailed extract for this area: the England extract is used
    pv = raw.get("providers", {})
    provider_files: list[Path] = []
    for f in pv.get("files", []):
        if not isinstance(f, str):
            raise fail("providers", "files", f"must be a list of file paths, not {f!r}")
        fp = path_of(f, f)
        if not fp.is_file():
            raise fail("providers", "files", f"provider file not found: {fp}")
        provider_files.append(fp)
    border = float(pv.get("gias_border_km", 0.0))
    if border < 0:
        raise fail("providers", "gias_border_km", f"must be >= 0, not {border}")
    if "include_gias" in pv and "include_gias" in ana and pv["include_gias"] != ana["include_gias"]:
        raise fail("providers", "include_gias", "also set in [analysis] with another value; keep one")
    name = study["name"]
    return StudyConfig(
        name=name,
        title=study.get("title", f"Alternative Provision access: {name}"),
        data_dir=data_dir,
        area=area,
        provider_files=tuple(provider_files),
        include_settings_list=pv.get("include_settings_list"),
        allow_far=bool(pv.get("allow_far", False)),
        gias_border_km=border,
        nearest_beyond_border=pv.get("nearest_beyond_border"),
        output_dir=path_of(study.get("output_dir"), f"../reports/{name}"),
        maps_dir=path_of(study.get("maps_dir"), "../maps"),
        network_source=source,
        network_label=str(net.get("label", "")),
        network_buffer_m=float(net.get("buffer_m", 3000.0)),
        circuity_factor=circuity,
        modes=modes,
        thresholds_min=thresholds,
        key_stages=key_stages,
        ap_kinds=kinds,
        include_gias=bool(pv.get("include_gias", ana.get("include_gias", True))),
        population_source=pop,
        cold_spot_threshold_min=float(ana.get("cold_spot_threshold_min", 30.0)),
        random_state=int(ana.get("random_state", 12345)),
        recommend_sites=sites,
        recommend_mode=rec_mode,
        recommend_max_travel_time_min=rec_t,
        recommend_candidates=rec_candidates,
        placements_file=pl_file,
        placements_synthetic=bool(pl.get("synthetic", False)),
        placements_rows=int(pl.get("rows", 1000)),
        placements_as_of=str(pl.get("as_of", "")),
        placements_mode=str(pl.get("mode", rec_mode)),
        quality_file=q_file,
        quality_include_unknown=bool(ql.get("include_unknown", False)),
        transit_feed=feed,
        transit_feeds=tuple(feeds),
        transit_service_date=str(tr.get("service_date", "")),
        transit_window=tuple(tr.get("departure_window", ("07:00", "09:00"))),  # type: ignore[arg-type]
        transit_step_min=float(tr.get("step_min", 1.0)),
        transit_percentile=float(tr.get("percentile", 50.0)),
        config_path=p,
    )
