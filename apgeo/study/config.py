"""Study configuration: a TOML file, validated before any heavy work starts.

Errors name the key and the line it is on, and say what is allowed.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from apgeo._errors import ApgeoValueError, ConfigError
from apgeo._postgis import DEFAULT_PASSWORD_ENV, PostgisSettings, check_dsn, source_sql
from apgeo.network.load import LINE_LAYER_SUFFIXES
from apgeo.schema import AP_KIND_NAMES, KEY_STAGE_NAMES, ProviderKind, parse_key_stages

MODES = ("walk", "cycle", "drive")
#: Public transport: run from the [transit] section's feeds, accepted in ``modes`` too.
TRANSIT = "transit"
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
    network_source: str = "auto"  # "auto" | "straight-line" | a .pbf / .graphml / road-line path | "postgis:<source>"
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
    #: A saved what-if scenario (``apgeo explore``): edits applied to the providers.
    scenario_file: Path | None = None
    config_path: Path | None = None
    #: The ``[postgis]`` section: sources read from PostGIS and the schema written to.
    postgis: PostgisSettings | None = None
    #: Memory the study may use (GB); None: 80 % of the machine's (apgeo.study.study_size).
    memory_limit_gb: float | None = None
    extra: dict[str, Any] = field(default_factory=dict)


_SCHEMA: dict[str, dict[str, type | tuple[type, ...]]] = {
    "study": {
        "name": str, "title": str, "area": (str, int), "data_dir": str, "output_dir": str, "maps_dir": str,
        "memory_limit_gb": (int, float),
    },
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
    "scenario": {"file": str},
    "postgis": {
        "dsn": str, "password_env": str, "providers": str, "demand": str, "network": str,
        "srid": int, "output_schema": str,
    },
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
    def minutes(section: str, key: str, value: object, *, allow_zero: bool = False) -> float:
        """A time in minutes: a finite number > 0 (>= 0 with ``allow_zero``)."""
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            raise fail(section, key, f"must be a number of minutes, not {value!r}")
        x = float(value)
        if not math.isfinite(x):
            raise fail(section, key, f"must be a finite number of minutes (e.g. 30), not {value!r}: "
                                     "there is no 'no limit' setting")
        if x < 0 or (x == 0 and not allow_zero):
            raise fail(section, key, f"must be more than 0 minutes, not {value!r}")
        return x

    modes = tuple(net.get("modes", MODES))
    for m in modes:
        if not isinstance(m, str) or (m not in MODES and m != TRANSIT):
            raise fail("network", "modes", f"unknown mode {m!r}; allowed: {', '.join(MODES)} "
                                           "(public transport: add a [transit] section with its feeds)")
    if TRANSIT in modes:
        if not raw.get("transit"):
            raise fail("network", "modes", "'transit' needs a [transit] section with feeds = [\"...zip\"] "
                                           "and service_date; or remove 'transit' from modes")
        modes = tuple(m for m in modes if m != TRANSIT)  # timetables run from [transit]
    if not modes:
        raise fail("network", "modes", "give at least one street mode (walk, cycle or drive) besides transit")
    raw_thresholds = ana.get("thresholds_min", (15, 30, 45, 60))
    thresholds = tuple(minutes("analysis", "thresholds_min", t) for t in raw_thresholds)
    if not thresholds or list(thresholds) != sorted(set(thresholds)):
        raise fail("analysis", "thresholds_min", f"must be positive and strictly increasing, not {list(raw_thresholds)}")
    cold_min = minutes("analysis", "cold_spot_threshold_min", ana.get("cold_spot_threshold_min", 30.0))
    memory_limit_gb: float | None = None
    if "memory_limit_gb" in study:
        memory_limit_gb = float(study["memory_limit_gb"])
        if not math.isfinite(memory_limit_gb) or memory_limit_gb <= 0:
            raise fail("study", "memory_limit_gb", f"must be a positive number of gigabytes (e.g. 16), not {study['memory_limit_gb']!r}")
    try:
        key_stages = tuple(parse_key_stages(ana.get("key_stages", ("KS1", "KS2", "KS3", "KS4"))))
    except ValueError as exc:
        raise fail("analysis", "key_stages", f"{exc}; allowed: {', '.join(KEY_STAGE_NAMES)}") from None
    if not key_stages:
        raise fail("analysis", "key_stages", f"give at least one of {', '.join(KEY_STAGE_NAMES)}")
    kinds_given = ana.get("ap_kinds", DEFAULT_AP_KINDS)
    try:
        kinds = tuple(dict.fromkeys(ProviderKind.parse(k).value for k in kinds_given))
    except ValueError as exc:
        raise fail("analysis", "ap_kinds", str(exc)) from None
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
    if not math.isfinite(circuity) or circuity < 1:
        raise fail("network", "circuity_factor", f"must be >= 1, not {circuity}")
    buffer_m = float(net.get("buffer_m", 3000.0))
    if not math.isfinite(buffer_m) or buffer_m < 0:
        raise fail("network", "buffer_m", f"must be a finite number of metres >= 0, not {buffer_m}")
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
    rec_t = minutes("recommend", "max_travel_time_min", rec.get("max_travel_time_min", 30.0))
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
        minutes("transit", "step_min", tr.get("step_min", 1.0))
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
    if not math.isfinite(border) or border < 0:
        raise fail("providers", "gias_border_km", f"must be >= 0, not {border}")
    if "include_gias" in pv and "include_gias" in ana and pv["include_gias"] != ana["include_gias"]:
        raise fail("providers", "include_gias", "also set in [analysis] with another value; keep one")
    scen = raw.get("scenario", {})
    scenario_file: Path | None = None
    if scen:
        if "file" not in scen:
            raise fail("scenario", None, "needs file = a scenario CSV saved by apgeo explore")
        scenario_file = path_of(scen["file"], scen["file"])
        if not scenario_file.is_file():
            raise fail("scenario", "file", f"scenario file not found: {scenario_file}")
    name = study["name"]
    postgis = _postgis_settings(raw.get("postgis", {}), fail, default_schema="apgeo_" + re.sub(r"\W", "_", name))
    if postgis is not None and postgis.network:
        if "source" in net and net["source"] not in ("auto",):
            raise fail("postgis", "network", f"the network is also set in [network] source = {net['source']!r}; keep one")
        source = f"{POSTGIS_PREFIX}{postgis.network}"
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
        network_buffer_m=buffer_m,
        circuity_factor=circuity,
        modes=modes,
        thresholds_min=thresholds,
        key_stages=key_stages,
        ap_kinds=kinds,
        include_gias=bool(pv.get("include_gias", ana.get("include_gias", True))),
        population_source=pop,
        cold_spot_threshold_min=cold_min,
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
        scenario_file=scenario_file,
        config_path=p,
        postgis=postgis,
        memory_limit_gb=memory_limit_gb,
    )


#: ``network_source`` of a road-line network read from PostGIS: this prefix and the source.
POSTGIS_PREFIX = "postgis:"


def _postgis_settings(pg: dict[str, Any], fail: Any, *, default_schema: str) -> PostgisSettings | None:
    """The validated ``[postgis]`` section, or None when the study has none."""
    if not pg:
        return None
    if "dsn" not in pg:
        raise fail("postgis", None, "needs dsn = \"postgresql://user@host:5432/database\" (the password "
                                    f"goes in the environment variable named by password_env, default {DEFAULT_PASSWORD_ENV})")
    env = pg.get("password_env", DEFAULT_PASSWORD_ENV)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", env):
        raise fail("postgis", "password_env", f"must be the name of an environment variable, not {env!r}")
    try:
        dsn = check_dsn(pg["dsn"], password_env=env)
    except ApgeoValueError as exc:
        raise fail("postgis", "dsn", str(exc)) from None
    for key in ("providers", "demand", "network"):
        if key in pg:
            try:
                source_sql(pg[key])
            except ApgeoValueError as exc:
                raise fail("postgis", key, str(exc)) from None
    schema = pg.get("output_schema", default_schema)
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", schema):
        raise fail("postgis", "output_schema", f"must be a plain schema name (letters, digits, _), not {schema!r}")
    srid = pg.get("srid", 27700)
    if srid <= 0:
        raise fail("postgis", "srid", f"must be an EPSG code such as 27700, not {srid}")
    return PostgisSettings(
        dsn=dsn, password_env=env, providers=pg.get("providers", ""), demand=pg.get("demand", ""),
        network=pg.get("network", ""), srid=srid, output_schema=schema,
    )
