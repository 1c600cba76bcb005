"""How big a study is, known before it runs, and the refusal of one that cannot fit.

A study's memory and output grow with its *pairs*: demand areas x provider sites x travel
modes (public transport counts as a mode). Every travel-time table holds one row per
pair, every analysis stage reads a dense areas x sites matrix per mode, and the CSV of
travel times a planner opens writes each pair on a line. :func:`study_size` estimates the
peak memory and the size of those CSVs from the pairs, with a model measured on
Sheffield (345 LSOAs, 4 modes, 19 to 10,019 provider sites: ``benchmarks/bench_study_size.py``;
measured peaks 0.87, 1.86, 3.47 and 6.27 GB at 0.03, 2.8, 6.9 and 13.8 M pairs, CSVs 0.263 GB
per million pairs; the model stays above every measured peak);
:func:`check_study_size` refuses, before any travel time is computed, a study whose
estimated peak exceeds the memory allowed (``[study] memory_limit_gb``, else 80 % of the
machine's memory) or whose tables would not fit on the output disk, naming the figures
and what to change. A study that fits runs; the estimate is logged.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from apgeo._errors import StudyTooLargeError
from apgeo._log import logger

if TYPE_CHECKING:
    from apgeo.study.config import StudyConfig
    from apgeo.study.result import StudyResult

#: Peak memory of a study with (almost) no pairs: libraries, inputs, maps (GB).
PEAK_BASE_GB = 0.9
#: Peak memory per million area-site-mode pairs (GB), measured: see the module docstring.
PEAK_GB_PER_MILLION_PAIRS = 0.40
#: Travel-time CSVs written per million pairs (GB): ids, names, minutes, seconds, method.
CSV_GB_PER_MILLION_PAIRS = 0.27
#: Share of the machine's memory a study may plan to use when no limit is configured.
DEFAULT_MEMORY_SHARE = 0.8


@dataclass(frozen=True)
class StudySize:
    """The size of a study before it runs.

    Attributes
    ----------
    areas, sites
        Demand areas and located provider sites (every kind: travel times are made to all).
    modes
        The travel modes (``"transit"`` included when the study has a timetable).
    pairs
        ``areas x sites x len(modes)``.
    peak_gb
        Estimated peak memory (GB).
    travel_time_csv_gb
        Estimated size of the travel-time CSVs (GB).
    """

    areas: int
    sites: int
    modes: tuple[str, ...]
    pairs: int
    peak_gb: float
    travel_time_csv_gb: float

    def describe(self) -> str:
        """One line for the log and the error.

        Returns
        -------
        str
            E.g. ``"345 areas x 2,019 sites x 4 modes = 2.8 M pairs: about 1.9 GB of
            memory at the peak and 0.6 GB of travel-time CSVs"``.
        """
        return (
            f"{self.areas:,} areas x {self.sites:,} sites x {len(self.modes)} mode(s) "
            f"({', '.join(self.modes)}) = {self.pairs / 1e6:,.1f} M pairs: about "
            f"{self.peak_gb:,.1f} GB of memory at the peak and {self.travel_time_csv_gb:,.1f} GB "
            "of travel-time CSVs"
        )


def study_size(areas: int, sites: int, modes: Sequence[str]) -> StudySize:
    """Estimate a study's peak memory and travel-time CSV size from its pairs.

    Parameters
    ----------
    areas
        Demand areas.
    sites
        Located provider sites.
    modes
        Travel modes, public transport included when the study has a timetable.

    Returns
    -------
    StudySize
        The counts and the estimates.
    """
    pairs = int(areas) * int(sites) * len(modes)
    millions = pairs / 1e6
    return StudySize(
        areas=int(areas),
        sites=int(sites),
        modes=tuple(modes),
        pairs=pairs,
        peak_gb=PEAK_BASE_GB + PEAK_GB_PER_MILLION_PAIRS * millions,
        travel_time_csv_gb=CSV_GB_PER_MILLION_PAIRS * millions,
    )


def study_modes(config: StudyConfig) -> tuple[str, ...]:
    """The modes a study makes travel times for: its street modes, and ``"transit"`` when
    it has a timetable.

    Parameters
    ----------
    config
        The study settings.

    Returns
    -------
    tuple of str
        Mode names.
    """
    has_timetable = bool(config.transit_feeds) or config.transit_feed is not None
    return (*config.modes, *(("transit",) if has_timetable else ()))


def machine_memory_gb() -> float | None:
    """The memory this process may use (GB): the container's limit where one is set
    (cgroup v2 ``memory.max``), else the machine's physical memory; ``None`` if unknown.

    Returns
    -------
    float or None
        Gigabytes (10^9 bytes).
    """
    total: float | None = None
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9
    except (ValueError, OSError, AttributeError):  # not POSIX
        total = None
    try:
        text = Path("/sys/fs/cgroup/memory.max").read_text(encoding="ascii").strip()
    except OSError:
        return total
    if text.isdigit():
        limit = int(text) / 1e9
        return limit if total is None else min(total, limit)
    return total


def check_study_size(
    size: StudySize,
    *,
    memory_limit_gb: float | None = None,
    output_dir: Path | None = None,
    source: str = "the study",
) -> None:
    """Refuse a study that would not fit, before any travel time is computed.

    Parameters
    ----------
    size
        From :func:`study_size`.
    memory_limit_gb
        The memory the study may use (``[study] memory_limit_gb``); ``None``:
        :data:`DEFAULT_MEMORY_SHARE` of :func:`machine_memory_gb` (no check when unknown).
    output_dir
        Where the tables are written: their estimated size is compared with its free space.
    source
        How to name the study in the message (its config file).

    Raises
    ------
    StudyTooLargeError
        When the estimated peak exceeds the limit, or the CSVs the free disk space.
    """
    logger.info("%s: %s", source, size.describe())
    limit = memory_limit_gb
    where = "[study] memory_limit_gb"
    if limit is None:
        machine = machine_memory_gb()
        limit = None if machine is None else DEFAULT_MEMORY_SHARE * machine
        where = f"{DEFAULT_MEMORY_SHARE:.0%} of this machine's {machine:,.1f} GB" if machine else ""
    fixes = (
        "study the sites a planner compares (the AP settings and the framework providers in use, "
        "not every possible address), fewer modes ([network] modes), or run the analysis "
        "functions (apgeo.coverage_summary, apgeo.choice_counts) on travel-time tables of "
        "your own in pieces"
    )
    if limit is not None and size.peak_gb > limit:
        raise StudyTooLargeError(
            f"{source}: {size.describe()}, more than the {limit:,.1f} GB allowed ({where}). "
            f"Refused before any travel time was computed. To go on: {fixes}; or, on a machine "
            "with more memory, set [study] memory_limit_gb to what it can give."
        )
    if output_dir is not None:
        probe = Path(output_dir)
        while not probe.exists() and probe != probe.parent:
            probe = probe.parent
        try:
            free_gb = shutil.disk_usage(probe).free / 1e9
        except OSError:
            return
        if size.travel_time_csv_gb > free_gb:
            raise StudyTooLargeError(
                f"{source}: {size.describe()}; the output folder {output_dir} has only "
                f"{free_gb:,.1f} GB free. Refused before any travel time was computed. "
                f"To go on: free space or choose another output_dir, or {fixes}."
            )


def check_study_fits(result: StudyResult, *, output_dir: Path | None = None) -> None:
    """:func:`check_study_size` of a study whose inputs are loaded, with its own limit:
    ``apgeo study`` (with its output folder) and ``apgeo explore`` call it before any
    travel time is computed.

    Parameters
    ----------
    result
        The study after :func:`apgeo.study.pipeline.load_inputs`.
    output_dir
        Where its tables are written (``None``: nothing written, no disk check).

    Raises
    ------
    StudyTooLargeError
        As :func:`check_study_size`.
    """
    config = result.config
    check_study_size(
        study_size(len(result.demand), len(result.providers), study_modes(config)),
        memory_limit_gb=config.memory_limit_gb, output_dir=output_dir,
        source=str(config.config_path or config.name),
    )


__all__ = [
    "CSV_GB_PER_MILLION_PAIRS",
    "DEFAULT_MEMORY_SHARE",
    "PEAK_BASE_GB",
    "PEAK_GB_PER_MILLION_PAIRS",
    "StudySize",
    "check_study_fits",
    "check_study_size",
    "machine_memory_gb",
    "study_modes",
    "study_size",
]
