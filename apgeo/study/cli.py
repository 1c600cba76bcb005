"""The ``apgeo`` command.

``apgeo study --config studies/sheffield.toml`` runs the whole study. User errors print
one clear line and exit with status 2 (a traceback only with ``--debug``).
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import apgeo


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="apgeo",
        description="Geographic access to Alternative Provision: networks, travel times, catchments, "
        "cold spots and recommendations.",
    )
    p.add_argument("--debug", action="store_true", help="show tracebacks and debug logging")
    p.add_argument("--version", action="version", version=f"apgeo {apgeo.__version__}")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser("study", help="run a whole study from a TOML config (maps, report, tables)")
    s.add_argument("--config", required=True, type=Path, help="study config, e.g. studies/sheffield.toml")
    s.add_argument("--no-progress", action="store_true", help="hide progress bars")
    s.add_argument("--format", action="append", choices=["csv", "parquet"], default=None,
                   help="also write GeoParquet (parquet/ folder); CSV and the GeoPackage are always written")
    s.add_argument("--to-postgis", action="store_true",
                   help="write every table and layer to the [postgis] output_schema (one transaction)")

    r = sub.add_parser(
        "recommend", help="run a study up to its recommendations and scenarios (tables only: no maps, figures or report)"
    )
    r.add_argument("--config", required=True, type=Path, help="study config, e.g. studies/sheffield.toml")
    r.add_argument("--no-progress", action="store_true", help="hide progress bars")

    m = sub.add_parser("map", help="run a study and draw its maps (tables and maps, no report)")
    m.add_argument("--config", required=True, type=Path, help="study config, e.g. studies/sheffield.toml")
    m.add_argument("--no-progress", action="store_true", help="hide progress bars")

    n = sub.add_parser(
        "network", help="load (and cache) the street networks of a study area: file, cache or download"
    )
    n.add_argument("--config", required=True, type=Path, help="study config, e.g. studies/sheffield.toml")
    n.add_argument("--mode", action="append", choices=["walk", "cycle", "drive"], help="mode (repeatable; default: the study's)")

    f = sub.add_parser("fetch", help="download an England-wide data file from its public original")
    f.add_argument("name", nargs="?", help="file to fetch (omit to list them)")
    f.add_argument("--dest", type=Path, default=None, help="folder to write to (default: cache folder)")
    f.add_argument("--region", help="bods-gtfs: BODS region (yorkshire, north_west, ...)")
    f.add_argument("--noc", action="append", help="bods-txc: National Operator Code (repeatable)")
    f.add_argument("--search", help="bods-txc: text in the dataset or operator name")
    f.add_argument("--list", action="store_true", help="bods-txc: list the datasets, download none")
    f.add_argument("--bods-url", default=None, help=argparse.SUPPRESS)  # another server (tests)

    e = sub.add_parser("england", help="compare AP access in every English authority (straight line)")
    e.add_argument("--out", type=Path, default=Path("reports/england"), help="output folder")
    modes = ["walk", "cycle", "drive"]
    e.add_argument("--modes", nargs="+", choices=modes, default=modes, help="modes (default: all)")
    e.add_argument("--area", default="Sheffield", help="authority to compare (name, LA number, ONS code)")
    e.add_argument("--gias", type=Path, default=None, help="England GIAS file (default: data folder)")
    e.add_argument("--map", action="store_true", help="also draw a Folium map of the authorities")
    e.add_argument(
        "--networks",
        choices=["none", "synthetic", "osm", "pbf"],
        default="none",
        help="street networks per authority: none (straight line, the default), synthetic "
        "(grids, no download), osm (download, cached) or pbf (cut from --pbf)",
    )
    e.add_argument("--pbf", type=Path, default=None, help="OSM PBF extract for --networks pbf")
    e.add_argument("--buffer-km", type=float, default=10.0, help="network buffer around each authority (km)")
    e.add_argument("--authorities", nargs="+", default=None, metavar="LA", help="only these DfE LA numbers (networks)")
    e.add_argument("--workers", type=int, default=None, help="local Dask workers (0: in-process; default: one per core)")
    e.add_argument("--scheduler", default=None, help="existing Dask scheduler, e.g. tcp://host:8786")
    e.add_argument("--resume-dir", type=Path, default=None, help="per-authority result files; a rerun resumes")

    c = sub.add_parser(
        "cache", help="show (info) or clear cached networks, travel times, catchments and other study results"
    )
    c.add_argument("action", choices=["info", "clear"])
    c.add_argument("--what", choices=["study", "stale", "computed", "all"], default="computed",
                   help="for clear: study: the study cache (per-site results, Gi*, solutions, figures, "
                   "...); stale: entries made by other apgeo code (never read again); computed "
                   "(default): all but fetched data files; all")

    x = sub.add_parser(
        "explore", help="a local page of the study's map: move, add or close sites and see what changes"
    )
    x.add_argument("--config", required=True, type=Path, help="study config, e.g. studies/sheffield.toml")
    x.add_argument("--port", type=int, default=8866, help="port to serve on (default 8866, as voila)")
    x.add_argument("--no-browser", action="store_true", help="do not open a web browser")

    v = sub.add_parser("verify-data", help="check a data folder against its MANIFEST.csv")
    v.add_argument("--data-dir", type=Path, default=None, help="data folder (default: data/sheffield)")
    return p


_HANDLERS: list[logging.Handler] = []


class _OncePerMessage(logging.Filter):
    """Show each distinct console message once (the log file keeps every one)."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if text in self.seen:
            return False
        self.seen.add(text)
        return True


def _setup_logging(log_path: Path | None, debug: bool) -> None:
    logger = logging.getLogger("apgeo")
    for old in _HANDLERS:  # a second call (e.g. in one Python session) replaces, not adds
        logger.removeHandler(old)
        old.close()
    _HANDLERS.clear()
    logger.setLevel(logging.DEBUG if debug else logging.INFO)
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(logging.DEBUG if debug else logging.WARNING)
    console.setFormatter(logging.Formatter("apgeo: %(levelname)s: %(message)s"))
    console.addFilter(_OncePerMessage())
    logger.addHandler(console)
    _HANDLERS.append(console)
    if log_path is not None:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        fh = logging.FileHandler(log_path, mode="w", encoding="utf-8")
        fh.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
        logger.addHandler(fh)
        _HANDLERS.append(fh)
    logging.captureWarnings(False)
    # ApgeoWarnings are already logged by apgeo; do not print them twice
    warnings.filterwarnings("ignore", category=apgeo.ApgeoWarning)


def _study(args: argparse.Namespace, only: str = "all") -> int:
    from apgeo.outputs.lock import output_lock
    from apgeo.study.config import load_config
    from apgeo.study.pipeline import run_study

    config = load_config(args.config)
    # the lock comes first: study.log of a run already writing this folder stays whole
    with output_lock(config.output_dir, label=f"study {config.name!r} ({config.config_path})"):
        _setup_logging(config.output_dir / "study.log", args.debug)
        from tqdm import tqdm

        bar = tqdm(total=None, disable=args.no_progress, unit=" step", desc=config.name, file=sys.stderr)

        def progress(label: str) -> None:
            bar.set_postfix_str(label)
            bar.update(1)

        formats = [f for f in (getattr(args, "format", None) or []) if f != "csv"]
        result = run_study(config, progress=progress, only=only, formats=formats,
                           to_postgis=bool(getattr(args, "to_postgis", False)))
        bar.close()
    print(f"apgeo study {config.name!r} done")
    for mode, method in result.network_method.items():
        print(f"  {mode}: {method}")
    h = result.headline
    for key, value in h.items():
        prefix = "median_minutes_to_nearest_ap_"
        if value is None and key.startswith(prefix):  # most LSOAs reach no site within the cap
            mode = key[len(prefix):]
            value = (
                f"over {h.get(f'travel_time_cap_min_{mode}') or 0:g} min "
                f"({h.get(f'areas_unreachable_{mode}')} LSOAs reach no AP site within it)"
            )
        print(f"  {key}: {value:.1f}" if isinstance(value, float) else f"  {key}: {value}")
    maps = "" if only == "recommend" else f"; maps: {config.maps_dir}"
    print(f"  outputs: {config.output_dir} ({len(result.files)} files){maps}")
    return 0


def _network(args: argparse.Namespace) -> int:
    from apgeo.network.load import load_network
    from apgeo.network.modes import check_mode
    from apgeo.study.config import load_config
    from apgeo.study.networks import source_description
    from apgeo.study.pipeline import study_area_inputs

    config = load_config(args.config)
    _setup_logging(None, args.debug)
    if config.network_source == "straight-line":
        raise apgeo.ConfigError(f"{config.config_path}: [network] source is 'straight-line'; nothing to load")
    inputs = study_area_inputs(config)  # the study's own area, never a default one
    if inputs.boundary is None:  # pragma: no cover - every area has a boundary or an extent
        raise apgeo.ApgeoValueError(f"{inputs.area.name} has no boundary to load a network for")
    polygon = inputs.boundary.geometry.union_all()
    source = None if config.network_source == "auto" else config.network_source
    described = source_description(config.network_source)
    date = f", OSM data of {described['osm_data_date']}" if described.get("osm_data_date") else ""
    print(f"{inputs.area.name}: {described['file']}{date}")
    for mode in args.mode or config.modes:
        G = load_network(source, mode=check_mode(mode), polygon=polygon, buffer_m=config.network_buffer_m)
        print(f"{mode}: {G.number_of_nodes():,} nodes, {G.number_of_edges():,} edges ({G.graph.get('source')})")
    return 0


def _fetch(args: argparse.Namespace) -> int:
    from apgeo.inputs.data import REMOTE_FILES, fetch

    if not args.name:
        for spec in REMOTE_FILES.values():
            pinned = "sha256 pinned" if spec.sha256 else "hash recorded on download"
            print(f"{spec.name:16s} {spec.description} [{spec.licence}; {pinned}]\n{'':16s} {spec.url}")
        print(f"{'bods-gtfs':16s} BODS bus timetables as GTFS, one zip per region (--region)")
        print(f"{'bods-txc':16s} BODS TransXChange datasets of operators (--noc; needs BODS_API_KEY)")
        return 0
    if args.name in ("bods-gtfs", "bods-txc"):
        return _fetch_bods(args)
    _setup_logging(None, args.debug)
    path = fetch(args.name, dest_dir=args.dest)
    print(path)
    return 0


def _fetch_bods(args: argparse.Namespace) -> int:
    from apgeo.inputs.bods import (
        BODS_REGIONS,
        fetch_bods_gtfs,
        fetch_bods_timetables,
        list_bods_timetables,
    )

    _setup_logging(None, args.debug)
    if args.name == "bods-gtfs":
        if not args.region:
            print(f"give --region, one of: {', '.join(BODS_REGIONS)}")
            return 2
        got = [fetch_bods_gtfs(args.region, dest_dir=args.dest, base_url=args.bods_url)]
    else:
        if not args.noc and not args.search:
            print("give --noc (National Operator Code, e.g. SCST) or --search")
            return 2
        listed = list_bods_timetables(noc=args.noc, search=args.search, base_url=args.bods_url)
        for row in listed.itertuples():
            print(f"{row.id}\t{row.noc}\t{row.operator}\t{row.name}\t{row.first_start} - {row.last_end}")
        if args.list or listed.empty:
            print(f"{len(listed)} dataset(s)")
            return 0
        got = fetch_bods_timetables(listed, dest_dir=args.dest)
    for g in got:
        print(f"{g.path}  {g.bytes:,} bytes, {g.files} file(s), sha256 {g.sha256}")
    return 0


def _england(args: argparse.Namespace) -> int:
    from apgeo.analysis.england import england_comparison
    from apgeo.inputs.areas import ap_settings_england, load_gias_england
    from apgeo.outputs.england_report import standing_lines, write_england_outputs

    _setup_logging(None, args.debug)
    network_only = {
        "--workers": args.workers is not None,
        "--scheduler": args.scheduler is not None,
        "--resume-dir": args.resume_dir is not None,
        "--authorities": args.authorities is not None,
        "--pbf": args.pbf is not None,
    }
    if args.networks == "none":
        given = [k for k, v in network_only.items() if v]
        if given:
            raise apgeo.ConfigError(
                f"{', '.join(given)} only apply to street networks: add --networks "
                "synthetic|osm|pbf (or drop them for the straight-line comparison)"
            )
    elif args.networks == "pbf" and args.pbf is None:
        raise apgeo.ConfigError("--networks pbf needs the extract: add --pbf PATH (e.g. england-latest.osm.pbf)")
    ap = ap_settings_england(load_gias_england(args.gias))
    if args.networks != "none":
        return _england_networks(args, ap)
    table = england_comparison(modes=args.modes, ap_settings=ap)
    paths = write_england_outputs(table, args.out, area=args.area, folium_map=args.map)
    print(f"apgeo england: {table['la_code'].nunique()} authorities; outputs in {args.out}")
    files = ", ".join(p.name for p in paths.values())
    print(f"Where {args.area} stands (straight-line estimate; files: {files}):")
    print("\n".join(standing_lines(table, args.area)))
    return 0


def _england_networks(args: argparse.Namespace, ap: object) -> int:
    import os

    from apgeo.analysis.england_networks import OsmNetworks, PbfNetworks, SyntheticNetworks
    from apgeo.outputs.england_report import standing_lines, write_england_outputs
    from apgeo.study.england_run import run_england_networks

    factory: SyntheticNetworks | OsmNetworks | PbfNetworks
    if args.networks == "synthetic":
        factory = SyntheticNetworks()
    elif args.networks == "osm":
        factory = OsmNetworks()
    else:
        factory = PbfNetworks(str(args.pbf))
    workers = (os.cpu_count() or 1) if args.workers is None else args.workers
    where = args.scheduler or (f"{workers} local worker(s)" if workers else "in-process")
    print(f"apgeo england: street networks ({factory.describe()}) on {where}", file=sys.stderr)
    run = run_england_networks(
        factory,
        modes=args.modes,
        ap_settings=ap,  # type: ignore[arg-type]
        la_codes=args.authorities,
        buffer_m=args.buffer_km * 1000,
        workers=workers,
        scheduler=args.scheduler,
        resume_dir=args.resume_dir,
    )
    table = run.table
    n = table["la_code"].nunique()
    print(
        f"apgeo england: {n} authorities on street networks in {run.seconds:.1f} s "
        f"({len(run.computed)} computed, {len(run.resumed)} resumed, {len(run.failed)} failed)"
    )
    if run.failed:
        args.out.mkdir(parents=True, exist_ok=True)
        path = args.out / "england_comparison.csv"
        from apgeo.outputs.files import write_csv

        write_csv(table, path)
        for code, error in sorted(run.failed.items()):
            print(f"  failed: {code}: {error}", file=sys.stderr)
        again = " with the same --resume-dir" if args.resume_dir else " with --resume-dir DIR"
        print(f"  partial table (status column) in {path}; run again{again} to retry the failed ones")
        return 1
    paths = write_england_outputs(table, args.out, area=args.area, folium_map=args.map)
    files = ", ".join(p.name for p in paths.values())
    print(f"Where {args.area} stands (street networks; outputs in {args.out}: {files}):")
    print("\n".join(standing_lines(table, args.area)))
    return 0


def _verify(args: argparse.Namespace) -> int:
    from apgeo.inputs.data import verify_manifest

    table = verify_manifest(args.data_dir)
    print(f"{len(table)} files match their manifest")
    return 0


def _cache(args: argparse.Namespace) -> int:
    from apgeo.study.incremental import clear_cache

    if args.action == "info":
        return _cache_info()
    removed = clear_cache(what=args.what)
    print(f"removed {len(removed)} cache folder(s)" + "".join(f"\n  {p}" for p in removed))
    return 0


def _cache_info() -> int:
    from apgeo._cache import cache_inventory, code_fingerprint

    root = apgeo.get_settings().cache_dir
    groups = cache_inventory(root)
    print(f"cache folder {root} (this apgeo: {apgeo.__version__}, code {code_fingerprint()})")
    if not groups:
        print("  empty")
        return 0
    rows = [("kind", "entries", "size MB", "made by", "")]
    for g in groups:
        if g.kind == "data" and g.code is None and not g.stale:
            made = "fetched source files"
        elif g.code is None:
            made = "unknown (before code fingerprints)"
        else:
            made = f"apgeo {g.apgeo_version}, code {g.code}"
        rows.append((g.kind, str(g.entries), f"{g.size_bytes / 1e6:.1f}", made, "stale" if g.stale else ""))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        print("  " + "  ".join([r[0].ljust(widths[0]), r[1].rjust(widths[1]), r[2].rjust(widths[2]),
                                r[3].ljust(widths[3]), r[4]]).rstrip())
    stale = [g for g in groups if g.stale]
    total_mb = sum(g.size_bytes for g in groups) / 1e6
    stale_mb = sum(g.size_bytes for g in stale) / 1e6
    print(f"total {sum(g.entries for g in groups)} entries, {total_mb:.1f} MB; stale (never read): "
          f"{sum(g.entries for g in stale)} entries, {stale_mb:.1f} MB"
          + ("; `apgeo cache clear --what stale` removes them" if stale else ""))
    return 0


def _explore(args: argparse.Namespace) -> int:
    from apgeo.outputs.explore_server import serve_explore
    from apgeo.study.config import load_config

    config = load_config(args.config)  # a bad config fails here, before the server starts
    _setup_logging(None, args.debug)
    return serve_explore(config, port=args.port, open_browser=not args.no_browser)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``apgeo`` command line.

    Parameters
    ----------
    argv
        The arguments after the program name (``None``: ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 on success, 2 after an apgeo or file error (one line on stderr;
        ``--debug`` raises instead), 130 when interrupted.
    """
    args = _parser().parse_args(argv)
    handlers = {
        "study": _study,
        "recommend": lambda a: _study(a, only="recommend"),
        "map": lambda a: _study(a, only="maps"),
        "network": _network,
        "fetch": _fetch,
        "verify-data": _verify,
        "england": _england,
        "cache": _cache,
        "explore": _explore,
    }
    try:
        return handlers[args.command](args)
    except apgeo.ApgeoError as exc:
        if args.debug:
            raise
        print(f"apgeo: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # a full disk, a folder removed mid-run: one line, not a traceback
        if args.debug:
            raise
        where = f" {exc.filename}" if exc.filename else ""
        print(f"apgeo: error: cannot read or write{where}: {exc.strerror or exc}; check the path, "
              "its permissions and the free disk space (--debug shows the traceback)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("apgeo: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
