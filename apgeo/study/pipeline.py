"""The whole study, from a validated config to tables, maps and a report.

Each stage is a function over the previous stage's outputs, so the pipeline reads like
the analysis and a notebook can run any part of it. :func:`run_study` chains them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

import apgeo
from apgeo import schema as S
from apgeo._errors import ApgeoValueError
from apgeo._log import logger, warn
from apgeo.inputs.areas import resolve_area
from apgeo.inputs.demand import demand_points
from apgeo.inputs.landscape import AreaInputs, infer_area, load_area_inputs, load_study_providers
from apgeo.inputs.providers import split_located
from apgeo.routing.straight_line import method_note as straight_line_note
from apgeo.routing.straight_line import straight_line_travel_times
from apgeo.study.comparison import compare_with_england
from apgeo.study.config import POSTGIS_PREFIX, ROAD_LINE_SUFFIXES, StudyConfig
from apgeo.study.networks import street_travel_times, warn_beyond_edge
from apgeo.study.outputs import draw_maps, write_outputs, write_report_stage
from apgeo.study.placements import analyse_placements_and_quality
from apgeo.study.recommendations import recommend_and_compare
from apgeo.study.result import Progress, StudyResult
from apgeo.study.transit import transit_difference

__all__ = ["draw_maps", "run_study", "study_area_inputs", "write_outputs", "write_report_stage"]

# ----------------------------------------------------------------------- stages


def study_area_inputs(config: StudyConfig) -> AreaInputs:
    """The study's own area (``[study] area``, else the area of ``data_dir``): its demand
    areas, wards and boundary (or approximate extent). Every CLI verb starts here.

    Parameters
    ----------
    config
        The study settings.

    Returns
    -------
    AreaInputs
        The area, its demand areas, wards and boundary.
    """
    if config.area:
        area = resolve_area(config.area)
    elif config.data_dir is not None:
        area = infer_area(config.data_dir)
    else:
        raise ApgeoValueError("the study needs [study] area (a name, DfE LA number or ONS code)")
    inputs = load_area_inputs(area, data_dir=config.data_dir, population_source=config.population_source)
    if config.postgis is not None and config.postgis.demand:
        import dataclasses

        from apgeo.inputs.postgis import read_demand_postgis

        demand = read_demand_postgis(config.postgis)
        polygons = bool(demand.geom_type.isin(["Polygon", "MultiPolygon"]).all())
        inputs = dataclasses.replace(
            inputs, demand=demand, polygons=polygons, population_note=str(demand["population_source"].iloc[0])
        )
    return inputs


def load_inputs(config: StudyConfig) -> StudyResult:
    """The study area's demand areas, wards and boundary, and every provider (located or
    not): the planner's files, the settings list and GIAS (see :mod:`apgeo.inputs.landscape`).

    Parameters
    ----------
    config
        The study settings.

    Returns
    -------
    StudyResult
        The result the later stages fill.
    """
    inputs = study_area_inputs(config)
    area = inputs.area
    tables = []
    if config.postgis is not None and config.postgis.providers:
        from apgeo.inputs.postgis import read_providers_postgis

        tables.append(read_providers_postgis(config.postgis))
    providers = load_study_providers(
        inputs,
        files=config.provider_files,
        tables=tables,
        include_gias=config.include_gias,
        include_settings_list=config.include_settings_list,
        allow_far=config.allow_far,
        gias_border_km=config.gias_border_km,
        ap_kinds=config.ap_kinds,
        key_stages=config.key_stages,
        nearest_beyond_border=config.nearest_beyond_border,
    )
    located, not_located = split_located(providers)
    if config.scenario_file is not None:
        located = apply_scenario_file(located, config.scenario_file)
    if len(not_located):
        logger.info(
            "%d provider(s) have no location in open data and are listed, not mapped: %s",
            len(not_located),
            ", ".join(not_located[S.NAME]),
        )
    return StudyResult(
        config=config,
        providers=located,
        not_located=not_located,
        demand=inputs.demand,
        wards=inputs.wards,
        boundary=inputs.boundary,
        area_name=area.name,
        polygons=inputs.polygons,
        population_note=inputs.population_note,
    )


def apply_scenario_file(providers: gpd.GeoDataFrame, path: Path) -> gpd.GeoDataFrame:
    """The providers after a saved what-if scenario (``[scenario] file``, written by
    ``apgeo explore``): sites added, moved, closed, their places or key stages changed.

    Parameters
    ----------
    providers
        Today's providers.
    path
        The scenario's changes table (CSV, :data:`apgeo.planning.live.CHANGE_COLUMNS`).

    Returns
    -------
    geopandas.GeoDataFrame
        The providers after the edits (added sites marked located).
    """
    from apgeo.planning.live import scenario_from_table

    table = pd.read_csv(path, dtype={S.SITE_ID: str, "action": str})
    scenario = scenario_from_table(table, name=path.stem, source=str(path))
    after, _ = scenario.apply(providers, pd.DataFrame({S.DESTINATION_ID: []}), new_travel_times=_no_times)
    for col in (S.LOCATED,):  # added sites are located: they were put on the map
        if col in after.columns:
            after[col] = True
    logger.info("scenario %s applied: %s", path, scenario.describe())
    return after  # type: ignore[return-value]


def _no_times(sites: gpd.GeoDataFrame) -> pd.DataFrame:
    return pd.DataFrame({S.DESTINATION_ID: sites[S.SITE_ID].astype(str)})


def summarise_inputs(result: StudyResult) -> None:
    """Data summary tables: providers by kind, children by key stage, IMD deciles.

    Parameters
    ----------
    result
        The study after :func:`load_inputs`. Filled in place: ``tables["providers_by_kind"]``
        (sites, located, places known; the sites that could not be located counted too),
        ``tables["children_by_key_stage"]`` and ``tables["imd_deciles"]``.

    Returns
    -------
    None
    """
    all_providers = pd.concat(
        [pd.DataFrame(result.providers.drop(columns="geometry")), result.not_located], ignore_index=True
    )
    by_kind = (
        all_providers.groupby(S.KIND)
        .agg(
            sites=(S.SITE_ID, "count"),
            located=(S.LOCATED, "sum"),
            places_known=(S.CAPACITY_PLACES, lambda s: int(s.notna().sum())),
            places=(S.CAPACITY_PLACES, "sum"),
        )
        .reset_index()
    )
    by_kind["counted_as_ap"] = by_kind[S.KIND].isin(result.config.ap_kinds)
    result.tables["providers_by_kind"] = by_kind
    d = result.demand
    ks_cols = {ks: S.children_column(ks) for ks in S.KEY_STAGE_NAMES}
    result.tables["children_by_key_stage"] = pd.DataFrame(
        {
            "key_stage": list(ks_cols),
            "ages": [f"{min(S.KEY_STAGE_AGES[k])}-{max(S.KEY_STAGE_AGES[k])}" for k in ks_cols],  # type: ignore[index]
            "children": [int(d[c].sum()) for c in ks_cols.values()],
        }
    )
    deciles = (
        d.groupby(S.IMD_DECILE)
        .agg(lsoas=(S.AREA_ID, "count"), children_school_age=("children_school_age", "sum"))
        .reset_index()
        .rename(columns={S.IMD_DECILE: "imd_decile"})
    )
    deciles["imd_decile"] = deciles["imd_decile"].astype(int)
    result.tables["imd_deciles"] = deciles
    result.headline.update(
        {
            "lsoas": len(d),
            "children_school_age": int(d["children_school_age"].sum()),
            "providers_located": len(result.providers),
            "providers_not_located": len(result.not_located),
        }
    )


def compute_travel_times(result: StudyResult, *, progress: Progress | None = None) -> None:
    """Travel times from every LSOA (population-weighted centroid) to every provider site.

    Network sources, in order: a file named in the config, the cache, a download via
    osmnx (read once for all modes); when none is possible, the straight-line estimate,
    with one warning that says how to get the real network.

    Parameters
    ----------
    result
        The study so far; this stage adds its tables to it in place.
    progress
        Called with the name of each step (the CLI's progress bar).
    """
    cfg = result.config
    origins = demand_points(result.demand)[[S.AREA_ID, "geometry"]]
    sites = result.providers[[S.SITE_ID, "geometry"]]
    graphs = _load_graphs(result) if cfg.network_source != "straight-line" else {}
    beyond: dict[str, list[dict[str, Any]]] = {}
    for mode in cfg.modes:
        if progress:
            progress(f"travel times: {mode}")
        graph = graphs.get(mode)
        if graph is not None:
            street_travel_times(result, mode, graph, origins, sites, beyond)
        else:
            result.travel_times[mode] = straight_line_travel_times(
                origins, sites, origin_id_column=S.AREA_ID, destination_id_column=S.SITE_ID,
                mode=mode, circuity_factor=cfg.circuity_factor,
            )
            result.network_method[mode] = straight_line_note(mode, circuity_factor=cfg.circuity_factor)
    warn_beyond_edge(beyond, network_source=cfg.network_source, circuity_factor=cfg.circuity_factor)
    if cfg.transit_feed is not None:
        if progress:
            progress("travel times: transit")
        _transit_times(result, origins, sites)
    for mode, table in result.travel_times.items():
        # every table derived from these (coverage, access, cold spots) carries both
        table.attrs["mode"] = mode
        table.attrs["method"] = result.network_method[mode]


def _load_graphs(result: StudyResult) -> dict[str, Any]:
    """Street graphs for every mode from the configured file, the cache or a download.

    A named file that fails is an error; with ``source = "auto"`` a failure falls back to
    the straight-line estimate with a warning.
    """
    from apgeo.network.modes import check_mode

    cfg = result.config
    polygon = result.boundary.geometry.union_all()
    source = None if cfg.network_source == "auto" else cfg.network_source
    if source is not None and source.startswith(POSTGIS_PREFIX) and cfg.postgis is not None:
        from apgeo.inputs.postgis import read_road_lines_postgis

        lines, label = read_road_lines_postgis(cfg.postgis)
        return _road_line_graphs(result, lines, label=label)
    if source is not None and Path(source).suffix.lower() in ROAD_LINE_SUFFIXES:
        return _road_line_graphs(result, Path(source))
    try:  # engines straight from arrays, no networkx graph
        if source is not None:  # a file
            from apgeo.study.engines import study_engines

            # built only when some site is not in the study cache (see apgeo.study.engines)
            return dict(study_engines(source, modes=[check_mode(m) for m in cfg.modes], polygon=polygon, buffer_m=cfg.network_buffer_m))
        from apgeo.routing.engine_arrays import load_engines  # the download cache or a download

        return dict(load_engines(None, modes=[check_mode(m) for m in cfg.modes], polygon=polygon, buffer_m=cfg.network_buffer_m))
    except apgeo.ApgeoError as exc:
        if source is not None:
            raise
        warn(
            f"no street network ({exc}). Using a STRAIGHT-LINE ESTIMATE for "
            f"{', '.join(cfg.modes)}: run once with internet access (the network is then cached), "
            "or set [network] source to a Geofabrik south-yorkshire-latest.osm.pbf or an osmnx GraphML file",
            stacklevel=2,
        )
        return {}


def _road_line_graphs(result: StudyResult, path: Path | gpd.GeoDataFrame, *, label: str = "") -> dict[str, Any]:
    """Every mode's network from a road-line layer, with its component report logged."""
    from apgeo.network.lines import load_road_lines
    from apgeo.network.modes import check_mode

    cfg = result.config
    graphs: dict[str, Any] = {}
    for mode in cfg.modes:
        graph, report = load_road_lines(path, mode=check_mode(mode), label=cfg.network_label or label or None)
        logger.info("%s network from %s: %s", mode, label or getattr(path, "name", "lines"), report.summary())
        result.tables[f"network_report_{mode}"] = pd.DataFrame([{"mode": mode, "report": report.summary()}])
        graphs[mode] = graph
    return graphs


def _transit_times(result: StudyResult, origins: gpd.GeoDataFrame, sites: gpd.GeoDataFrame) -> None:
    """Public-transport times from the configured feeds (walk network, else straight-line walking)."""
    from apgeo.study.transit import transit_times

    transit_times(result, origins, sites)


#: What ``run_study(..., only=...)`` can be limited to, and the stages each part skips.
PARTS: dict[str, frozenset[str]] = {
    "all": frozenset(),
    "recommend": frozenset({"England comparison", "catchments", "maps", "figures and report"}),
    "maps": frozenset({"figures and report"}),
}


#: Output formats besides CSV and the GeoPackage (``run_study(formats=...)``).
FORMATS = ("parquet",)


def run_study(
    config: StudyConfig,
    *,
    progress: Progress | None = None,
    only: str = "all",
    formats: tuple[str, ...] | list[str] = (),
    to_postgis: bool = False,
) -> StudyResult:
    """Run every stage and write the outputs; returns the in-memory result.

    ``only="recommend"`` stops after the recommendations (tables written, no maps, figures
    or report); ``only="maps"`` writes tables and maps but no report. ``formats=("parquet",)``
    adds GeoParquet files; ``to_postgis=True`` writes every table and layer to the
    ``[postgis] output_schema`` (:func:`apgeo.study.outputs.write_postgis`). The output folder is
    locked while the study runs (:mod:`apgeo.outputs.lock`): a second study writing the
    same folder at once gets an error naming the run that holds it.

    Parameters
    ----------
    config
        The study settings (:func:`apgeo.study.config.load_config`).
    progress
        Called with the name of each stage as it starts (the CLI's progress bar).
    only
        ``"all"`` (default), ``"recommend"`` or ``"maps"``: a key of :data:`PARTS`.

    Returns
    -------
    StudyResult
        Every table, the travel times, the headline figures and the files written.
    """
    if only not in PARTS:
        raise apgeo.ApgeoValueError(f"only must be one of {sorted(PARTS)}, not {only!r}")
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise apgeo.ApgeoValueError(f"formats {unknown} unknown; allowed: {', '.join(FORMATS)}")
    if to_postgis and config.postgis is None:
        raise apgeo.ConfigError(f"{config.config_path}: --to-postgis needs a [postgis] section with dsn")
    started = datetime.now(UTC)
    steps: list[tuple[str, Callable[[StudyResult], None]]] = [
        ("summarise inputs", summarise_inputs),
        ("travel times", lambda r: compute_travel_times(r, progress=progress)),
        ("coverage, choice and equity", analyse_coverage),
        ("nearest provider", nearest_by_mode),
        ("public transport difference", transit_difference),
        ("capacity-aware access", analyse_access),
        ("cold spots", analyse_coldspots),
        ("recommendations and scenarios", recommend_and_compare),
        ("placements and quality", analyse_placements_and_quality),
        ("England comparison", compare_with_england),
        ("catchments", compute_catchments),
        ("maps", draw_maps),
        ("write outputs", write_outputs),
        ("figures and report", write_report_stage),
    ]
    from apgeo._cache import results_cache
    from apgeo.outputs.files import writable_folder
    from apgeo.outputs.lock import output_lock
    from apgeo.study.incremental import study_cache_dir
    from apgeo.study.study_size import check_study_fits

    writable_folder(config.maps_dir, what="maps folder")
    # one study at a time per output folder: two at once would interleave their files;
    # deterministic results (disclosure checks) are kept in the study cache
    with (
        output_lock(config.output_dir, label=f"study {config.name!r} ({config.config_path})"),
        results_cache(study_cache_dir()),
    ):
        if progress:
            progress("load inputs")
        result = load_inputs(config)
        check_study_fits(result, output_dir=config.output_dir)
        result.formats = tuple(formats)
        if to_postgis:
            from apgeo.study.outputs import write_postgis

            def to_schema(r: StudyResult) -> None:
                write_postgis(r)

            steps.append(("write PostGIS", to_schema))
        for label, step in steps:
            if label in PARTS[only]:
                continue
            if progress:
                progress(label)
            logger.info("study %s: %s", config.name, label)
            step(result)
    logger.info("study %s finished in %.1f s", config.name, (datetime.now(UTC) - started).total_seconds())
    return result


#: ``headline_coverage`` columns: the one rule (a site serving the child's key stage)
#: and, named as the other measure, any AP site whatever key stages it serves.
WITHIN_SUITABLE = "children_within_site_serving_their_key_stage"
SHARE_SUITABLE = "share_within_site_serving_their_key_stage"
WITHIN_ANY_SITE = "children_within_any_ap_site_any_key_stage"
SHARE_ANY_SITE = "share_within_any_ap_site_any_key_stage"


def travel_time_cap_min(table: pd.DataFrame) -> float | None:
    """The journey limit of a travel-time table in minutes (``attrs["max_travel_time_s"]``,
    e.g. 120 for public transport), ``None`` when it has none (unreachable = no path).

    Parameters
    ----------
    table
        A travel-time table.

    Returns
    -------
    float or None
        The limit in minutes, or ``None``.
    """
    cap = table.attrs.get("max_travel_time_s")
    return float(cap) / 60.0 if cap is not None and np.isfinite(cap) else None


def median_counting_unreachable_s(times_s: pd.Series | np.ndarray) -> float:
    """Median of nearest times with unreachable ones (NaN) counted as beyond any time:
    still defined while fewer than half are unreachable, else ``inf`` ("over the cap").

    Parameters
    ----------
    times_s
        Nearest times in seconds, NaN for unreachable.

    Returns
    -------
    float
        The median in seconds: ``inf`` when half or more are unreachable, NaN when empty.
    """
    t = np.asarray(times_s, dtype=float)
    if t.size == 0:
        return float("nan")
    return float(np.median(np.where(np.isnan(t), np.inf, t)))


def nearest_by_mode(result: StudyResult) -> None:
    """``headline_coverage``: per mode and threshold, children within the threshold of an
    AP site serving their key stage (the coverage table's rule: key stage "all", AP kinds,
    the study's key stages) and, named as the other measure, of any AP site whatever key
    stages it serves; per mode, the median time from an LSOA to its nearest AP site with
    unreachable LSOAs counted as beyond the journey limit, and how many LSOAs and children
    aged 5-15 reach none (also in ``result.headline``).

    Parameters
    ----------
    result
        The study after :func:`analyse_coverage` (it reads ``tables["nearest_ap"]`` and
        ``tables["coverage"]``). Filled in place: ``tables["headline_coverage"]`` and the
        ``result.headline`` figures per mode (median minutes to the nearest AP site,
        areas and children unreachable, the journey limit, children and share within
        each threshold).

    Returns
    -------
    None
    """
    cfg = result.config
    near = result.tables["nearest_ap"]
    cov = result.tables["coverage"]
    cov = cov[(cov["providers"] == "AP") & (cov["key_stage"] == "all")].set_index("mode")
    kids_by_area = result.demand.set_index(S.AREA_ID)["children_school_age"]
    rows = []
    for mode, table in result.travel_times.items():
        nearest = near[near["mode"] == mode].set_index(S.AREA_ID)["nearest_time_s"]
        kids = kids_by_area.reindex(nearest.index)
        lost = nearest.isna().to_numpy()
        cap = travel_time_cap_min(table)
        median_s = median_counting_unreachable_s(nearest)
        suitable: dict[Any, Any] = cov.loc[mode].to_dict()
        for threshold in cfg.thresholds_min:
            within = (nearest <= threshold * 60).to_numpy()
            rows.append(
                {
                    "mode": mode,
                    "threshold_min": threshold,
                    "children": float(suitable["children"]),
                    WITHIN_SUITABLE: float(suitable[f"children_within_{threshold:g}_min"]),
                    SHARE_SUITABLE: float(suitable[f"share_within_{threshold:g}_min"]),
                    WITHIN_ANY_SITE: float(kids[within].sum()),
                    SHARE_ANY_SITE: float(kids[within].sum() / kids.sum()) if kids.sum() > 0 else np.nan,
                    "areas": len(nearest),
                    "areas_unreachable": int(lost.sum()),
                    "children_school_age_unreachable": float(kids[lost].sum()),
                    "travel_time_cap_min": cap,
                    "median_minutes_to_nearest_ap_unreachable_as_beyond_cap": median_s / 60
                    if np.isfinite(median_s) else np.nan,
                    "method": result.network_method[mode],
                }
            )
        # None: more than half the LSOAs reach no AP site within the cap ("over the cap")
        result.headline[f"median_minutes_to_nearest_ap_{mode}"] = median_s / 60 if np.isfinite(median_s) else None
        result.headline[f"areas_unreachable_{mode}"] = int(lost.sum())
        result.headline[f"children_unreachable_{mode}"] = round(float(kids[lost].sum()))
        result.headline[f"travel_time_cap_min_{mode}"] = cap
        at = 30.0 if 30.0 in cfg.thresholds_min else float(cfg.thresholds_min[0])
        result.headline[f"children_within_{at:g}_min_{mode}"] = float(suitable[f"children_within_{at:g}_min"])
        result.headline[f"share_within_{at:g}_min_{mode}"] = float(suitable[f"share_within_{at:g}_min"])
    result.tables["headline_coverage"] = pd.DataFrame(rows)


# ------------------------------------------------------------------ analysis stages


def analyse_coverage(result: StudyResult) -> None:
    """Nearest times, coverage by key stage, choice and equity, per mode (AP kinds).

    Parameters
    ----------
    result
        The study after :func:`compute_travel_times`. Filled in place, one block of rows per
        mode: ``tables["nearest_ap"]``, ``tables["coverage"]``, ``tables["choice"]``,
        ``tables["equity"]`` and ``tables["equity_gaps"]``
        (:mod:`apgeo.analysis.coverage`).

    Returns
    -------
    None
    """
    from apgeo.analysis.coverage import (
        choice_counts,
        coverage_summary,
        equity_gaps,
        equity_table,
        nearest_times,
    )

    cfg = result.config
    kinds = result.ap_kinds
    nearest, summary, choice, equity, gaps = [], [], [], [], []
    for mode, table in result.travel_times.items():
        opts: dict[str, Any] = {"mode": mode, "key_stages": list(cfg.key_stages), "kinds": kinds}
        nearest.append(nearest_times(table, result.demand, result.providers, **opts))
        summary.append(
            coverage_summary(table, result.demand, result.providers, thresholds_min=cfg.thresholds_min, **opts)
            .assign(providers="AP")
        )
        summary.append(
            coverage_summary(
                table,
                result.demand,
                result.providers,
                mode=mode,
                key_stages=list(cfg.key_stages),
                thresholds_min=cfg.thresholds_min,
                kinds=None,
            ).assign(providers="AP and AP-adjacent (special schools etc.)")
        )
        choice.append(choice_counts(table, result.demand, result.providers, thresholds_min=cfg.thresholds_min, **opts))
        eq = equity_table(table, result.demand, result.providers, thresholds_min=cfg.thresholds_min, **opts)
        equity.append(eq)
        gaps.append(equity_gaps(eq).assign(mode=mode))
    result.tables["nearest_ap"] = pd.concat(nearest, ignore_index=True)
    result.tables["coverage"] = pd.concat(summary, ignore_index=True)
    result.tables["choice"] = pd.concat(choice, ignore_index=True)
    result.tables["equity"] = pd.concat(equity, ignore_index=True)
    result.tables["equity_gaps"] = pd.concat(gaps, ignore_index=True)


def analyse_access(result: StudyResult) -> None:
    """E2SFCA places per 1,000 children (stepped decay) where capacity is known.

    Parameters
    ----------
    result
        The study after :func:`compute_travel_times`. Filled in place:
        ``tables["access_e2sfca"]`` per mode (:func:`apgeo.analysis.access.enhanced_two_step_fca`);
        when no AP provider has known places a warning says so and the table is left out.

    Returns
    -------
    None
    """
    from apgeo.analysis.access import enhanced_two_step_fca

    kinds = result.ap_kinds
    ap = result.providers[result.providers[S.KIND].isin(kinds)]
    if not pd.to_numeric(ap[S.CAPACITY_PLACES], errors="coerce").notna().any():
        warn(
            f"no AP provider of {result.area_name or 'the study'} has known places "
            "(capacity_places), so capacity-aware access (E2SFCA) and capacity cold spots are "
            "left out; give capacity_places in a [providers] file to include them",
            stacklevel=2,
        )
        return
    frames = []
    for mode, table in result.travel_times.items():
        for ks_group in (("KS1", "KS2"), ("KS3", "KS4")):
            ks = [k for k in ks_group if k in result.config.key_stages]
            if not ks:
                continue
            frames.append(
                enhanced_two_step_fca(
                    table, result.demand, result.providers, mode=mode, key_stages=ks, kinds=kinds, decay="stepped"
                ).assign(key_stages="+".join(ks))
            )
    if frames:
        result.tables["access_e2sfca"] = pd.concat(frames, ignore_index=True)


def analyse_coldspots(result: StudyResult) -> None:
    """Access cold spots (far from suitable provision), capacity cold spots and Gi* clusters.

    Parameters
    ----------
    result
        The study after :func:`compute_travel_times` and :func:`analyse_access`. Filled in
        place: ``tables["access_coldspots"]``, ``tables["gi_star_clusters"]`` (Gi* results
        kept in the study cache), ``tables["capacity_coldspots"]`` when capacity-aware access
        was made, and ``headline["access_coldspot_areas_<mode>"]``.

    Returns
    -------
    None
    """
    from apgeo.analysis.coldspots import access_coldspots, capacity_coldspots, gi_star_clusters
    from apgeo.study.incremental import study_cache_dir

    cfg = result.config
    kinds = result.ap_kinds
    cold, clusters = [], []
    for mode, table in result.travel_times.items():
        cold.append(
            access_coldspots(
                table,
                result.demand,
                result.providers,
                mode=mode,
                key_stages=list(cfg.key_stages),
                max_travel_time_min=cfg.cold_spot_threshold_min,
                kinds=kinds,
            )
        )
        for ks in cfg.key_stages:
            clusters.append(
                gi_star_clusters(
                    table,
                    result.demand,
                    result.providers,
                    mode=mode,
                    key_stage=ks,
                    kinds=kinds,
                    random_state=cfg.random_state,
                    fdr=True,  # one local test per area: control the false discovery rate
                    cache_dir=study_cache_dir(),  # the permutations of unchanged inputs are read back
                )
            )
    coldspots = pd.concat(cold, ignore_index=True)
    result.tables["access_coldspots"] = coldspots
    result.tables["gi_star_clusters"] = pd.concat(clusters, ignore_index=True)
    if "access_e2sfca" in result.tables:
        result.tables["capacity_coldspots"] = capacity_coldspots(result.tables["access_e2sfca"])
    flagged = coldspots[coldspots["access_coldspot"]]
    for mode in result.travel_times:
        m = flagged[flagged["mode"] == mode]
        result.headline[f"access_coldspot_areas_{mode}"] = int(m["area_id"].nunique())


# ---------------------------------------------------------------------- catchments


def compute_catchments(result: StudyResult) -> None:
    """Catchment polygons of the AP sites per mode and threshold (for display: coverage
    figures come from travel times). Street-network polygons when a network was used,
    else straight-line circles clipped to the local-authority boundary.

    Parameters
    ----------
    result
        The study after :func:`compute_travel_times` (its engines are used when a street
        network was loaded). Filled in place: ``tables["catchments_<mode>"]`` for every mode
        but public transport (a timetable draws no polygon); only new or moved sites are
        drawn again (:func:`apgeo.study.incremental.cached_catchments`), and sites beyond a
        network's edge are left out and logged.

    Returns
    -------
    None
    """
    from apgeo.analysis.catchments import straight_line_catchments
    from apgeo.network.modes import check_mode
    from apgeo.study.incremental import cached_catchments

    cfg = result.config
    ap = result.providers[result.providers[S.KIND].isin(result.ap_kinds)]
    if ap.empty:
        return
    clip = result.boundary.geometry.union_all()

    def draw(mode: str) -> gpd.GeoDataFrame | None:
        engine = result.engines.get(mode)
        if engine is not None:
            # a site beyond the network's edge has no street catchment to draw: its
            # journeys are estimated beyond the edge (named in the network's record)
            record = result.network_records.get(mode)
            beyond = {p["id"] for p in record.beyond_network if p["kind"] == "site"} if record else set()
            if beyond:
                logger.info("%s catchments: %d site(s) beyond the network's edge not drawn", mode, len(beyond))
            if ap[S.SITE_ID].isin(beyond).all():
                return None
            return cached_catchments(  # only new or moved sites drawn
                engine, ap[~ap[S.SITE_ID].isin(beyond)], thresholds_min=cfg.thresholds_min, mode=check_mode(mode), demand=result.demand,
                key_stages=list(cfg.key_stages),
            )
        return straight_line_catchments(
            ap, thresholds_min=cfg.thresholds_min, mode=check_mode(mode), circuity_factor=cfg.circuity_factor,
            demand=result.demand, key_stages=list(cfg.key_stages), clip=clip,
        )

    modes = [m for m in result.travel_times if m != "transit"]  # no polygons for timetables
    # the modes are independent and GEOS releases the GIL: one thread per street-network
    # mode; results are kept in mode order, so they do not depend on the threads
    threaded = sum(m in result.engines for m in modes) > 1
    if threaded:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=len(modes)) as pool:
            drawn = list(pool.map(draw, modes))
    else:
        drawn = [draw(m) for m in modes]
    for mode, polys in zip(modes, drawn, strict=True):
        if polys is not None:
            result.tables[f"catchments_{mode}"] = polys


