"""The study's placement and quality stages: travel burden, flows and time in AP of
placements (a user file, or a SYNTHETIC list clearly labelled), suppressed before anything
is written; and coverage of all provision next to good-or-better provision.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from apgeo._errors import ApgeoValueError
from apgeo._log import logger
from apgeo.study.result import StudyResult


def analyse_placements_and_quality(result: StudyResult) -> None:
    """Travel burden and flows of placements (a user file, or SYNTHETIC rows clearly
    labelled), suppressed before anything is written; and coverage of all provision next
    to good-or-better provision when a quality file is given.

    Parameters
    ----------
    result
        The study's result, its tables added to in place.
    """
    cfg = result.config
    if (cfg.placements_file is not None or cfg.placements_synthetic) and cfg.data_dir is None:
        raise ApgeoValueError(
            f"[placements] needs the detailed data extract of {result.area_name} (postcodes by "
            "LSOA, to place each home in its area); only the England extract is available for "
            "it, so leave [placements] out, or add the area's extract as [study] data_dir"
        )
    if cfg.placements_file is not None or cfg.placements_synthetic:
        from apgeo.analysis.burden import placement_travel_times
        from apgeo.inputs.placements import load_placements
        from apgeo.inputs.synthetic_placements import synthetic_placements
        from apgeo.privacy.publish import publish_placement_tables

        source: Any = cfg.placements_file
        if cfg.placements_synthetic:
            source = synthetic_placements(
                cfg.placements_rows, random_state=cfg.random_state, as_of=cfg.placements_as_of,
                demand=result.demand, data_dir=cfg.data_dir,
            )
        # pupil-level rows are aggregated to LSOA inside load_placements and never kept
        placements = load_placements(source, as_of=cfg.placements_as_of, providers=result.providers, demand=result.demand)
        synthetic = bool(placements.attrs.get("synthetic", False))
        mode = cfg.placements_mode
        times = placement_travel_times(placements, result.travel_times[mode], mode=mode, providers=result.providers, demand=result.demand)
        # every placement table is published from one audit of all of them together
        tables = publish_placement_tables(times, providers=result.providers, time_in_ap=_time_in_ap(result, source))
        prefix = "placements_synthetic_" if synthetic else "placements_"
        result.headline["placements_withheld"] = str(tables["burden_key_stage"].attrs.get("withheld", ""))
        for name, table in tables.items():
            table = pd.DataFrame(table)
            table.attrs = {}
            result.tables[prefix + name] = table
        result.headline["placements_synthetic"] = synthetic  # the flow map is drawn with the maps
    if cfg.quality_file is not None:
        from apgeo.inputs.quality import quality_coverage

        frames = []
        for mode, table in result.travel_times.items():
            frames.append(
                quality_coverage(
                    table, result.demand, result.providers, mode=mode, quality=cfg.quality_file,
                    include_unknown=cfg.quality_include_unknown, thresholds_min=cfg.thresholds_min,
                    key_stages=list(cfg.key_stages), kinds=result.ap_kinds,
                )
            )
        q = pd.concat(frames, ignore_index=True)
        q.attrs = {}
        result.tables["quality_coverage"] = q


def _time_in_ap(result: StudyResult, source: Any) -> dict[str, pd.DataFrame]:
    """Time in AP and return to mainstream by dimension (not yet suppressed), when the
    placements carry end dates."""
    from apgeo.analysis.time_in_ap import TIME_DIMENSIONS, time_in_ap_table
    from apgeo.inputs.placements import END_DATE, load_placement_episodes, read_placement_file

    cfg = result.config
    columns = source.columns if isinstance(source, pd.DataFrame) else read_placement_file(source).columns
    if END_DATE not in columns:
        logger.info("placements have no end_date: no time-in-AP tables")
        return {}
    episodes = load_placement_episodes(source, as_of=cfg.placements_as_of, providers=result.providers, demand=result.demand)
    return {
        dim: time_in_ap_table(episodes, by=dim, providers=result.providers)  # type: ignore[arg-type]
        for dim in TIME_DIMENSIONS
    }
