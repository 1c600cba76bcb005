"""Run every English authority on street networks: in-process or on Dask, resumable.

:func:`run_england_networks` makes one :class:`~apgeo.analysis.england_networks.AuthorityJob`
per authority and runs :func:`~apgeo.analysis.england_networks.authority_task` for each:

* ``workers=0``: serially, in this process;
* ``workers=N``: on a :class:`dask.distributed.LocalCluster` of N single-threaded workers;
* ``scheduler="tcp://host:8786"``: on an existing Dask cluster (the workers need apgeo,
  and the data or network cache on a path they can read);
* ``client=``: on a :class:`dask.distributed.Client` you already hold.

With ``resume_dir`` each authority's rows are written, as they arrive, to
``<resume_dir>/<la_code>.csv`` (temporary file, then rename: a file that exists is
complete). A rerun with the same inputs and options loads those files and computes only
the rest; a file made with other inputs or options (its ``run_key`` differs) is computed
again. A failed authority (an exception, or a worker lost more than Dask allows) is
reported in :attr:`EnglandNetworkRun.failed` and keeps its rows in the table with
``status`` "failed"; it has no file, so the next run retries it.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from apgeo._cache import code_fingerprint
from apgeo._errors import ApgeoValueError
from apgeo._log import logger, warn
from apgeo.analysis.england import DEFAULT_THRESHOLDS_MIN, england_inputs
from apgeo.analysis.england_networks import (
    DEFAULT_BUFFER_M,
    STATUS_OK,
    AuthorityJob,
    NetworkFactory,
    authority_task,
    build_jobs,
    failed_rows,
    finish_table,
)
from apgeo.network.modes import check_mode

#: Progress callback: (la_code, outcome) with outcome "done", "resumed" or "failed".
Progress = Callable[[str, str], None]


@dataclass
class EnglandNetworkRun:
    """What :func:`run_england_networks` did.

    ``table``: one row per authority and mode (england_comparison's columns plus
    ``network_source, network_nodes, sites_in_reach, lsoas_unreached, status, error,
    run_key``). ``computed`` / ``resumed``: LA codes run now / loaded from ``resume_dir``.
    ``failed``: LA code -> error text. ``seconds``: wall time.
    """

    table: pd.DataFrame
    computed: list[str] = field(default_factory=list)
    resumed: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


def run_key(job: AuthorityJob, factory: NetworkFactory) -> str:
    """A short hash of the job's inputs, the network factory and the fingerprint of the
    code that runs it (:func:`apgeo._cache.code_fingerprint`: the apgeo version and the
    source of this module and every apgeo module it imports).

    Parameters
    ----------
    job
        The authority's job.
    factory
        The network factory (its :meth:`describe` text is hashed).

    Returns
    -------
    str
        The first 16 hex digits of a SHA-256.
    """
    h = hashlib.sha256(job.content_key().encode())
    h.update(factory.describe().encode())
    h.update(code_fingerprint(__name__).encode())
    return h.hexdigest()[:16]


def result_path(resume_dir: Path, la_code: str) -> Path:
    """Where one authority's rows are kept.

    Parameters
    ----------
    resume_dir
        The resume folder.
    la_code
        The authority's DfE LA number.

    Returns
    -------
    pathlib.Path
        ``<resume_dir>/<la_code>.csv``.
    """
    return resume_dir / f"{la_code}.csv"


def write_result(frame: pd.DataFrame, path: Path) -> None:
    """Write ``frame`` to ``path`` atomically (temporary file in the same folder, rename).

    Parameters
    ----------
    frame
        The rows to write (CSV, no index).
    path
        The file; its folder is created if missing.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        frame.to_csv(tmp, index=False)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def read_result(path: Path, job: AuthorityJob, key: str) -> pd.DataFrame | None:
    """The stored rows for ``job`` if they are complete and made with ``key``, else None.

    Parameters
    ----------
    path
        The authority's result file.
    job
        The authority's job; the file must hold one row per mode of it, in order.
    key
        The :func:`run_key` the rows must carry.

    Returns
    -------
    pandas.DataFrame or None
        The rows, or ``None`` when the file is missing, unreadable, made with another key or
        not all ``ok``.
    """
    if not path.is_file():
        return None
    try:
        frame = pd.read_csv(
            path,
            dtype={"la_code": str, "la_name": str, "region": str, "note": str, "error": str},
            keep_default_na=False,
            na_values=[""],
        )
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        logger.info("ignoring unreadable result file %s: %s", path, exc)
        return None
    ok = (
        "run_key" in frame
        and len(frame) == len(job.modes)
        and (frame["run_key"].astype(str) == key).all()
        and (frame["la_code"] == job.la_code).all()
        and list(frame["mode"]) == list(job.modes)
        and (frame.get("status", pd.Series(dtype=str)) == STATUS_OK).all()
    )
    if not ok:
        logger.info("result file %s was made with other inputs or options; recomputing", path)
        return None
    for col in ("region", "note", "error", "la_name"):
        frame[col] = frame[col].fillna("")
    return frame


def _client(workers: int, scheduler: str | None, processes: bool) -> tuple[Any, Any]:
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:  # pragma: no cover - dask is a dependency
        raise ApgeoValueError(
            "running on Dask needs dask.distributed: pip install 'dask[distributed]'"
        ) from None
    if scheduler:
        return Client(scheduler), None
    cluster = LocalCluster(
        n_workers=workers,
        threads_per_worker=1,
        processes=processes,
        dashboard_address=":0",
    )
    client = Client(cluster)
    logger.info("Dask dashboard: %s", client.dashboard_link)
    return client, cluster


def run_jobs(
    jobs: Sequence[AuthorityJob],
    factory: NetworkFactory,
    *,
    workers: int = 0,
    scheduler: str | None = None,
    client: Any = None,
    processes: bool = True,
    resume_dir: str | Path | None = None,
    task: Callable[[AuthorityJob, NetworkFactory], pd.DataFrame] = authority_task,
    progress: Progress | None = None,
) -> EnglandNetworkRun:
    """Run ``task(job, factory)`` for every job; see the module docstring.

    Resumed authorities are not submitted. ``workers=0`` without ``scheduler`` or
    ``client`` runs in this process. An exception in one task fails that authority only;
    ``KeyboardInterrupt`` stops the run, keeping the files already written.

    Parameters
    ----------
    jobs
        One job per authority (each LA code once).
    factory
        Builds each authority's network.
    workers
        0: in this process; N: on a local Dask cluster of N single-threaded workers.
    scheduler
        Address of an existing Dask scheduler (e.g. ``"tcp://host:8786"``).
    client
        A Dask client to run on (it is not closed).
    processes
        Local cluster workers are processes (else threads).
    resume_dir
        Folder of the per-authority result files (``None``: nothing is written or resumed).
    task
        The function computing one authority's rows.
    progress
        Called with ``(la_code, outcome)``, outcome ``"resumed"``, ``"done"`` or
        ``"failed"``.

    Returns
    -------
    EnglandNetworkRun
        The table (failed authorities with ``status`` "failed"), the authorities computed,
        resumed and failed, and the wall time.
    """
    start = time.perf_counter()
    if workers < 0:
        raise ApgeoValueError(f"workers={workers}: give 0 (in-process) or a positive number")
    folder = Path(resume_dir) if resume_dir is not None else None
    tell = progress or (lambda code, outcome: None)
    codes = [j.la_code for j in jobs]
    dupes = sorted({c for c in codes if codes.count(c) > 1})
    if dupes:
        raise ApgeoValueError(f"LA code(s) {', '.join(dupes)} appear in more than one job")
    keys = {j.la_code: run_key(j, factory) for j in jobs}
    frames: dict[str, pd.DataFrame] = {}
    out = EnglandNetworkRun(table=pd.DataFrame())
    todo: list[AuthorityJob] = []
    for job in jobs:
        stored = (
            read_result(result_path(folder, job.la_code), job, keys[job.la_code])
            if folder is not None
            else None
        )
        if stored is None:
            todo.append(job)
        else:
            frames[job.la_code] = stored
            out.resumed.append(job.la_code)
            tell(job.la_code, "resumed")

    def done(job: AuthorityJob, rows: pd.DataFrame) -> None:
        rows = rows.assign(run_key=keys[job.la_code])
        if folder is not None:
            write_result(rows, result_path(folder, job.la_code))
        frames[job.la_code] = rows
        out.computed.append(job.la_code)
        tell(job.la_code, "done")

    def fail(job: AuthorityJob, exc: BaseException) -> None:
        text = f"{type(exc).__name__}: {exc}".strip()
        out.failed[job.la_code] = text
        frames[job.la_code] = failed_rows(job, text)
        tell(job.la_code, "failed")

    if todo and (client is not None or scheduler or workers > 0):
        from concurrent.futures import CancelledError

        from dask.distributed import as_completed

        own_client, cluster = (
            (client, None) if client is not None else _client(workers, scheduler, processes)
        )
        try:
            futures = {
                own_client.submit(
                    task,
                    job,
                    factory,
                    key=f"apgeo-england-{job.la_code}-{keys[job.la_code]}",
                    pure=False,
                ): job
                for job in todo
            }
            for future in as_completed(futures):
                job = futures[future]
                # result() rather than the status seen now: a finished result held by a
                # worker that dies before it is fetched is "lost" for a moment and Dask
                # computes it again; result() waits for that instead of failing the job.
                try:
                    rows = future.result()
                except CancelledError:
                    fail(job, RuntimeError(f"task {future.status} (cluster lost?)"))
                except Exception as exc:
                    fail(job, exc)
                else:
                    done(job, rows)
        finally:
            if client is None:
                own_client.close()
                if cluster is not None:
                    cluster.close()
    else:
        for job in todo:
            try:
                rows = task(job, factory)
            except Exception as exc:
                fail(job, exc)
            else:
                done(job, rows)
    out.table = finish_table([frames[c] for c in codes], buffer_m=jobs[0].buffer_m if jobs else 0.0)
    out.seconds = time.perf_counter() - start
    if out.failed:
        warn(
            f"{len(out.failed)} of {len(jobs)} authorit{'y' if len(jobs) == 1 else 'ies'} failed: "
            + "; ".join(f"{c}: {e}" for c, e in sorted(out.failed.items()))
            + (
                f". Run again with the same resume folder ({folder}) to retry only these"
                if folder is not None
                else ". Fix the cause and run again (give a resume folder to keep the rest)"
            )
        )
    return out


def run_england_networks(
    factory: NetworkFactory,
    *,
    modes: Sequence[str] = ("walk", "cycle", "drive"),
    thresholds_min: Sequence[float] = DEFAULT_THRESHOLDS_MIN,
    lsoas: pd.DataFrame | None = None,
    ap_settings: gpd.GeoDataFrame | None = None,
    authorities: pd.DataFrame | None = None,
    la_codes: Sequence[str] | None = None,
    buffer_m: float = DEFAULT_BUFFER_M,
    workers: int = 0,
    scheduler: str | None = None,
    client: Any = None,
    processes: bool = True,
    resume_dir: str | Path | None = None,
    progress: Progress | None = None,
) -> EnglandNetworkRun:
    """The England comparison on street networks, one task per authority.

    ``modes``, ``thresholds_min``, ``lsoas``, ``ap_settings`` and ``authorities`` are as
    for :func:`~apgeo.analysis.england.england_comparison` (defaults: the England extract
    and GIAS). ``la_codes`` runs only those authorities (ranks are then among them).
    ``buffer_m`` (metres) widens each authority's LSOA extent for its network and the
    settings in reach. ``factory`` builds each network
    (:class:`~apgeo.analysis.england_networks.SyntheticNetworks`, ``OsmNetworks``,
    ``PbfNetworks``). ``workers``, ``scheduler``, ``client``, ``processes``,
    ``resume_dir`` and ``progress`` are as for :func:`run_jobs`.

    Parameters
    ----------
    factory
        Builds each authority's network.
    modes
        Travel modes, of walk, cycle and drive.
    thresholds_min
        Coverage thresholds in minutes.
    lsoas, ap_settings, authorities
        The England inputs (``None``: the England extract and GIAS).
    la_codes
        Authorities to run (``None``: every one).
    buffer_m
        Widening of each authority's LSOA extent, in metres.
    workers, scheduler, client, processes, resume_dir, progress
        As for :func:`run_jobs`.

    Returns
    -------
    EnglandNetworkRun
        The table, the authorities computed, resumed and failed, and the wall time.
    """
    modes = [check_mode(m) for m in dict.fromkeys(modes)]
    if not modes:
        raise ApgeoValueError("modes is empty; give some of walk, cycle, drive")
    bad = [t for t in thresholds_min if not (float(t) > 0 and float(t) < float("inf"))]
    if bad:
        raise ApgeoValueError(f"thresholds_min must be positive minutes, not {bad}")
    lsoa, auth, sites = england_inputs(lsoas, authorities, ap_settings)
    jobs = build_jobs(
        lsoa,
        sites,
        auth,
        modes=modes,
        thresholds_min=thresholds_min,
        buffer_m=buffer_m,
        la_codes=la_codes,
    )
    return run_jobs(
        jobs,
        factory,
        workers=workers,
        scheduler=scheduler,
        client=client,
        processes=processes,
        resume_dir=resume_dir,
        progress=progress,
    )


__all__ = [
    "EnglandNetworkRun",
    "read_result",
    "result_path",
    "run_england_networks",
    "run_jobs",
    "run_key",
    "write_result",
]
