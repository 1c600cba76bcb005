"""A study's live what-if session (``apgeo explore``): inputs and travel times loaded once.

:func:`explore_session` runs the study's first stages (inputs, every mode's travel times,
public transport when configured) and returns a :class:`ExploreSession`: the
:class:`~apgeo.planning.live.LiveScenario` over them, with each mode's way of timing a new
site kept warm (the straight-line estimate, the street network's engine, or the stop
arrivals of the timetable search). :func:`save_scenario` writes the edits as a CSV and the
TOML fragment that makes ``apgeo study`` reproduce them.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from apgeo import schema as S
from apgeo._errors import ApgeoWarning
from apgeo.inputs.demand import demand_points
from apgeo.planning.live import LiveScenario, SiteTimes
from apgeo.routing.straight_line import straight_line_travel_times
from apgeo.study.config import StudyConfig
from apgeo.study.result import Progress, StudyResult

#: Labels of the modes as a planner reads them.
MODE_LABELS = {"walk": "Walk", "cycle": "Cycle", "drive": "Drive", "transit": "Public transport"}


@dataclass
class ExploreSession:
    """A study's warm what-if session: the live scenario and the study it came from."""

    study: StudyResult
    live: LiveScenario
    #: mode -> how its travel times were made (the study's label)
    methods: dict[str, str]
    #: warnings given while loading (shown on the page)
    notes: list[str]

    @property
    def config(self) -> StudyConfig:
        return self.study.config


def explore_session(config: StudyConfig, *, progress: Progress | None = None) -> ExploreSession:
    """Load a study's inputs and travel times and keep them warm for :class:`LiveScenario`.

    Parameters
    ----------
    config
        The study's config.
    progress
        Called with the name of each loading step (``None``: silent).

    Returns
    -------
    ExploreSession
        The loaded study, its live scenario (thresholds 15 / 30 / 45 min), the method of
        each mode and the warnings given while loading.
    """
    import apgeo
    from apgeo.study.pipeline import compute_travel_times, load_inputs
    from apgeo.study.study_size import check_study_fits

    # no tqdm widget bars while loading: in a page served ahead of its first visit (voila's
    # preheated kernel) a widget made before the page connects is "not found" in the browser
    before = apgeo.get_settings().progress
    apgeo.configure(progress=False)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", ApgeoWarning)
            if progress:
                progress("load inputs")
            result = load_inputs(config)
            # the session holds every travel-time table: a study too big to run is too
            # big to explore, and is refused before any travel time as run_study does
            check_study_fits(result)
            compute_travel_times(result, progress=progress)
    finally:
        apgeo.configure(progress=before)
    notes = sorted({str(w.message) for w in caught if issubclass(w.category, ApgeoWarning)})
    origins = demand_points(result.demand)[[S.AREA_ID, "geometry"]]
    site_times = {mode: _site_times(result, mode, origins) for mode in result.travel_times}
    live = LiveScenario(
        result.travel_times, result.demand, result.providers, site_times=site_times,
        key_stages=list(config.key_stages), kinds=result.ap_kinds,
        thresholds_min=[t for t in (15.0, 30.0, 45.0)],
        max_travel_time_min=config.cold_spot_threshold_min,
        name=f"{config.name} explore",
    )
    return ExploreSession(result, live, dict(result.network_method), notes)


def _site_times(result: StudyResult, mode: str, origins: gpd.GeoDataFrame) -> SiteTimes:
    """How ``mode`` times a new site, the way the study timed today's sites."""
    cfg = result.config
    engine = result.engines.get(mode)
    if mode == "transit" and engine is not None:
        from apgeo.routing.transit.stop_field import TransitStopField

        field = TransitStopField(
            engine, origins, origin_id_column=S.AREA_ID, departure_window=cfg.transit_window,
            step_min=cfg.transit_step_min, percentile=cfg.transit_percentile,
        )
        return lambda sites: field.travel_times(sites, destination_id_column=S.SITE_ID)
    if engine is not None:
        from apgeo.routing.deferred import resolve_engine
        from apgeo.routing.straight_line import STRAIGHT_LINE_SPEEDS_KPH
        from apgeo.routing.travel_times import travel_time_table

        warm: Any = resolve_engine(engine)  # built now, not at the first click

        def on_network(sites: gpd.GeoDataFrame) -> pd.DataFrame:
            return travel_time_table(
                warm, origins, sites, origin_id_column=S.AREA_ID, destination_id_column=S.SITE_ID,
                beyond="estimate", beyond_speed_kph=STRAIGHT_LINE_SPEEDS_KPH[mode],
                beyond_circuity=cfg.circuity_factor,
            )

        return on_network

    def straight(sites: gpd.GeoDataFrame) -> pd.DataFrame:
        return straight_line_travel_times(
            origins, sites, origin_id_column=S.AREA_ID, destination_id_column=S.SITE_ID,
            mode=mode, circuity_factor=cfg.circuity_factor,
        )

    return straight


def save_scenario(session: ExploreSession, folder: str | Path, *, name: str | None = None) -> tuple[Path, Path]:
    """Write the edits as ``<name>.csv`` and ``<name>.toml`` (a ``[scenario]`` fragment to
    add to the study's config, so ``apgeo study`` reproduces them); returns both paths.

    Parameters
    ----------
    session
        The explore session whose edits are saved.
    folder
        Folder to write into (created if missing).
    name
        File stem (default ``<study name>_scenario``).

    Returns
    -------
    tuple of pathlib.Path
        ``(toml_path, csv_path)``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    stem = name or f"{session.config.name}_scenario"
    csv_path = folder / f"{stem}.csv"
    toml_path = folder / f"{stem}.toml"
    session.live.changes_table().to_csv(csv_path, index=False)
    toml_path.write_text(
        f"# {session.live.scenario.describe()}\n"
        "# Add to the study config so `apgeo study` runs with these edits:\n"
        f'[scenario]\nfile = "{csv_path.resolve().as_posix()}"\n',
        encoding="utf-8",
    )
    return toml_path, csv_path


__all__ = ["MODE_LABELS", "ExploreSession", "explore_session", "save_scenario"]
