"""Benchmark of the study's catchment stage alone, on the city-size stand-in network.

Run on demand (not part of pytest)::

    .venv/bin/python benchmarks/bench_catchment_stage.py [--workdir DIR] [--repeats 3]

The network is the stand-in of ``benchmarks/bench_study.py`` (an osmnx-style GraphML grid
over the Sheffield extent, 100 m spacing: about 88,000 junctions and 355,000 directed
edges), written once into ``--workdir`` and loaded as the study loads it
(:func:`apgeo.routing.engine_arrays.load_engines`, clipped to the study boundary; the
processed network is cached in the work folder). The AP sites, thresholds (15/30/45/60
min), key stages and demand are the Sheffield study's.

Timed, as :func:`apgeo.study.pipeline.compute_catchments` does it
(:func:`apgeo.study.incremental.cached_catchments` per mode):

* "stage": the three modes with an empty study cache, no cached tile polygons and
  engines whose catchment building blocks are not built yet;
* "stage, tile polygons cached": the same with the networks' tile polygons in the cache
  (what a warm study run does: the processed network and its tile polygons come from the
  cache, the per-site polygons are drawn again); skipped by a version of apgeo that keeps
  tile polygons in the study cache;
* "one site moved": after a stage run filled the cache, the first AP site moved 250 m
  east, with fresh building blocks (a new study run builds its engines again): that
  site's 12 polygons are drawn, the tile polygons come from the cache.

Reported: median (min..max) of ``--repeats`` runs each, and the median CPU time of the
process (user + system: less sensitive to other work on a shared machine); ``--profile``
writes a cProfile of one stage run.

Measured on the 2-core build machine (shared, load average about 5), before (one tile
polygon per ~2,000 edges, unioned one by one) and after (tiles of ~100 edges in a
quadtree, tile polygons kept with the network), in the same run, 3 repeats each:
stage with nothing cached 105.7 s -> 57.0 s (CPU 69.8 s -> 39.2 s); stage with the tile
polygons cached 16.0 s (CPU 15.9 s; before, clearing the study cache dropped the tiles,
so a warm run cost the 105.7 s); one site moved 15.5 s -> 5.1 s (CPU 10.5 s -> 5.0 s).
The polygons differ by at most 5e-15 in relative area.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import resource
import sys
import time
import warnings
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
import shapely

import apgeo
from apgeo.analysis import catchment_geometry
from apgeo.network.modes import check_mode
from apgeo.study import incremental
from apgeo.study.config import load_config
from apgeo.study.pipeline import load_inputs


def setup(workdir: Path) -> tuple[Any, dict[str, Any], Any]:
    """The study config, its engines and its inputs (the grid written on first use)."""
    from bench_study import config, grid_graphml

    from apgeo.routing.engine_arrays import load_engines

    workdir.mkdir(parents=True, exist_ok=True)
    apgeo.configure(cache_dir=workdir / "cache")
    net = workdir / "grid.graphml"
    if not net.exists():
        grid_graphml(net, 100.0)
    cfg = load_config(config(workdir, str(net)))
    result = load_inputs(cfg)
    polygon = result.boundary.geometry.union_all()
    engines = dict(
        load_engines(
            str(net),
            modes=[check_mode(m) for m in cfg.modes],
            polygon=polygon,
            buffer_m=cfg.network_buffer_m,
        )
    )
    return cfg, engines, result


def fresh_blocks(engines: dict[str, Any]) -> None:
    """Forget the engines' catchment building blocks (a new study run builds them again)."""
    for engine in engines.values():
        catchment_geometry._BLOCK_CACHE.pop(engine, None)


def stage(cfg: Any, engines: dict[str, Any], result: Any, ap: Any) -> dict[str, Any]:
    out = {}
    for mode, engine in engines.items():
        out[mode] = incremental.cached_catchments(
            engine,
            ap,
            thresholds_min=cfg.thresholds_min,
            mode=check_mode(mode),
            demand=result.demand,
            key_stages=list(cfg.key_stages),
        )
    return out


def _fmt(values: list[float], cpu: list[float]) -> str:
    return (
        f"{np.median(values):7.2f} s  ({min(values):.2f}..{max(values):.2f}, n={len(values)}); "
        f"CPU {np.median(cpu):.2f} s"
    )


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    ap_ = argparse.ArgumentParser()
    ap_.add_argument("--workdir", type=Path, default=Path("/tmp/apgeo-catchment-bench"))
    ap_.add_argument("--repeats", type=int, default=3)
    ap_.add_argument("--profile", type=Path, help="write a cProfile of one stage run here")
    ap_.add_argument("--save", type=Path, help="write the stage's polygons (WKB) here")
    ap_.add_argument("--tile-edges", type=int, help="tile size to try (edges per tile)")
    args = ap_.parse_args()
    if args.tile_edges:
        catchment_geometry._TILE_EDGES = args.tile_edges  # type: ignore[misc]
    warnings.simplefilter("ignore")
    t0 = time.perf_counter()
    cfg, engines, result = setup(args.workdir)
    from apgeo import schema as S

    ap = result.providers[result.providers[S.KIND].isin(result.ap_kinds)]
    for engine in engines.values():
        incremental.network_hash(engine)  # computed by the travel-time stage in a study
    sizes = ", ".join(f"{m}: {len(e.edges):,} edges" for m, e in engines.items())
    print(f"setup {time.perf_counter() - t0:.1f} s; {len(ap)} AP sites; {sizes}")

    import shutil

    tiles_dir = getattr(incremental, "tile_cache_dir", incremental.study_cache_dir)()
    stage_s: list[float] = []
    stage_cpu: list[float] = []
    polys: dict[str, Any] = {}
    for _ in range(args.repeats):
        incremental.clear_cache(what="study")
        shutil.rmtree(tiles_dir, ignore_errors=True)
        fresh_blocks(engines)
        t, c = time.perf_counter(), _cpu_s()
        polys = stage(cfg, engines, result, ap)
        stage_s.append(time.perf_counter() - t)
        stage_cpu.append(_cpu_s() - c)
        print(f"  stage run, tiles drawn {stage_s[-1]:.2f} s", flush=True)
    warm_s: list[float] = []
    warm_cpu: list[float] = []
    for _ in range(args.repeats if tiles_dir != incremental.study_cache_dir() else 0):
        incremental.clear_cache(what="study")
        fresh_blocks(engines)
        t, c = time.perf_counter(), _cpu_s()
        stage(cfg, engines, result, ap)
        warm_s.append(time.perf_counter() - t)
        warm_cpu.append(_cpu_s() - c)
        print(f"  stage run, tiles from the cache {warm_s[-1]:.2f} s", flush=True)

    moved_s: list[float] = []
    moved_cpu: list[float] = []
    first = ap.index[0]
    for k in range(args.repeats):
        moved = ap.copy()
        p = moved.geometry.loc[first]
        # a different spot each run, so the site is never in the cache
        moved.loc[first, "geometry"] = shapely.Point(p.x + 250.0 + k, p.y)
        fresh_blocks(engines)
        t, c = time.perf_counter(), _cpu_s()
        stage(cfg, engines, result, moved)
        moved_s.append(time.perf_counter() - t)
        moved_cpu.append(_cpu_s() - c)
        print(f"  one-site run {moved_s[-1]:.2f} s", flush=True)

    print(f"catchment stage (3 modes, {len(ap)} sites, empty cache):       {_fmt(stage_s, stage_cpu)}")
    if warm_s:
        print(f"catchment stage (empty study cache, tile polygons cached): {_fmt(warm_s, warm_cpu)}")
    print(f"one AP site moved (its 12 polygons):                       {_fmt(moved_s, moved_cpu)}")
    for mode, table in polys.items():
        print(f"  {mode}: {len(table)} polygons, total area {table['area_km2'].sum():,.3f} km2")
    if args.save is not None:
        import pickle

        wkb = {m: [shapely.to_wkb(g) for g in t.geometry] for m, t in polys.items()}
        args.save.write_bytes(pickle.dumps(wkb))
    if args.profile is not None:
        incremental.clear_cache(what="study")
        fresh_blocks(engines)
        prof = cProfile.Profile()
        prof.enable()
        stage(cfg, engines, result, ap)
        prof.disable()
        prof.dump_stats(str(args.profile))
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main()
