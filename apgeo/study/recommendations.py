"""The study's recommendation stage: where new AP places should go, and what they change.

For the primary and the secondary key stages in turn, candidate sites (the planner's own
list, else the area's mainstream schools from GIAS that could host a hub) are timed from
every demand area the same way as the mode's table, then the maximal covering (MCLP) and
p-median recommendations are made (:func:`apgeo.planning.recommend.recommend_sites`) with
places suggested at the city's current rate of known places per unit of need. Two
scenarios are compared with today, as :func:`apgeo.planning.scenarios.compare_scenarios`
compares each (:class:`~apgeo.planning.scenarios.ScenarioComparer`, today measured once):
the Inclusion Centre's main site alone against all current AP settings, and the
recommended sites added. The models are solved on two threads (HiGHS releases the GIL).
:func:`recommend_and_compare` is one stage of :func:`apgeo.study.pipeline.run_study`.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor, as_completed

import geopandas as gpd
import pandas as pd

from apgeo import schema as S
from apgeo._log import warn
from apgeo.inputs.demand import demand_points
from apgeo.inputs.providers import split_located
from apgeo.routing.straight_line import straight_line_travel_times
from apgeo.study.result import StudyResult

__all__ = ["RECOMMENDATION_GROUPS", "recommend_and_compare"]


def _times_to(result: StudyResult, mode: str, sites: gpd.GeoDataFrame, id_column: str) -> pd.DataFrame:
    """LSOA -> site travel times for extra sites, made the same way as the mode's table."""
    origins = demand_points(result.demand)[[S.AREA_ID, "geometry"]]
    engine = result.engines.get(mode)
    if engine is not None:
        from apgeo.study.incremental import cached_travel_time_table

        return cached_travel_time_table(
            engine, origins, sites[[id_column, "geometry"]], origin_id_column=S.AREA_ID, destination_id_column=id_column
        )
    return straight_line_travel_times(
        origins, sites[[id_column, "geometry"]], origin_id_column=S.AREA_ID, destination_id_column=id_column,
        mode=mode, circuity_factor=result.config.circuity_factor,
    )


#: (label, key stages, GIAS phases of candidate host schools)
RECOMMENDATION_GROUPS: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("primary", ("KS1", "KS2"), ("Primary",)),
    ("secondary", ("KS3", "KS4"), ("Secondary",)),
)


def recommend_and_compare(result: StudyResult) -> None:
    """Where new AP places should go (MCLP and p-median, primary and secondary), and two
    scenarios side by side: the Inclusion Centre's main site alone vs all current AP
    settings, and the recommended sites added.

    Parameters
    ----------
    result
        The study so far: providers, demand and the travel times of ``[recommend] mode``.
        Filled in place: ``tables["recommendations"]``, ``tables["recommended_sites_map"]``,
        ``tables["scenarios"]`` and the headline rate of known places per 1,000 weighted
        need; the recommendations are also exported beside the tables. Nothing is done
        when ``[recommend] sites = 0`` or the mode has no travel times.

    Returns
    -------
    None
    """
    from apgeo.planning.candidates import read_candidates
    from apgeo.planning.export import export_recommendations
    from apgeo.planning.instance import known_places_per_need
    from apgeo.planning.recommend import recommend_sites
    from apgeo.planning.scenarios import Scenario, ScenarioComparer
    from apgeo.study.incremental import study_cache_dir

    cfg = result.config
    if cfg.recommend_sites == 0 or cfg.recommend_mode not in result.travel_times:
        return
    mode = cfg.recommend_mode
    ap = result.providers[result.providers[S.KIND].isin(result.ap_kinds)]
    ap_ids = set(ap[S.SITE_ID])
    table = result.travel_times[mode]
    ap_times = table[table[S.DESTINATION_ID].isin(ap_ids)]
    # Places suggested at the city's current rate: known AP places per unit of need
    # (children of KS1-4 weighted by IDACI, (11 - decile) / 10), so adding every
    # suggestion for the whole city would double today's known places, no more.
    ks_all = [k for k in S.COMPULSORY_KEY_STAGES if k in cfg.key_stages]
    rate = known_places_per_need(ap, result.demand, key_stages=ks_all, weight_by="idaci")
    places_known = bool(rate)
    places_per_need = rate or 1.0
    result.headline["known_ap_places_per_1000_weighted_need"] = (
        places_per_need * 1000 if places_known else "not known (no AP provider has known places)"
    )
    user_candidates = None
    if cfg.recommend_candidates is not None:
        # a planner's own list (CSV / GeoJSON / GeoPackage, coordinates or postcodes);
        # unlocated rows are kept in the file's table but cannot be recommended
        user_candidates, not_located = split_located(read_candidates(cfg.recommend_candidates))
        if len(not_located):
            warn(f"{len(not_located)} candidate site(s) could not be located and are left out: "
                 f"{', '.join(map(str, not_located[S.SITE_ID]))}", stacklevel=2)
    # the candidates and their times, group by group; then every (group, objective) run
    jobs: list[tuple[str, list[str], gpd.GeoDataFrame, pd.DataFrame, str]] = []
    for label, key_stages, phases in RECOMMENDATION_GROUPS:
        ks = [k for k in key_stages if k in cfg.key_stages]
        if not ks:
            continue
        if user_candidates is not None:
            serves = user_candidates[S.KEY_STAGES].str.split(",").map(lambda v, ks=ks: any(k in v for k in ks))
            candidates = user_candidates[serves]
        else:
            candidates = _gias_candidates(result, phases)
        candidates = candidates[~candidates[S.SITE_ID].isin(ap_ids)]
        if candidates.empty:
            continue
        times = pd.concat([ap_times, _times_to(result, mode, candidates, S.SITE_ID)], ignore_index=True)
        jobs.extend((label, ks, candidates, times, objective) for objective in ("coverage", "time"))

    def run(job: tuple[str, list[str], gpd.GeoDataFrame, pd.DataFrame, str]) -> pd.DataFrame:
        _, ks, candidates, times, objective = job
        return recommend_sites(
            times, result.demand, ap, candidates, mode=mode, p=cfg.recommend_sites,
            objective=objective, key_stages=ks,  # type: ignore[arg-type]
            max_travel_time_min=cfg.recommend_max_travel_time_min, wards=result.wards,
            places_per_need=places_per_need, cache_dir=study_cache_dir(),
        )

    # both scenarios are compared with today, measured once
    comparer = ScenarioComparer(ap_times, result.demand, ap, mode=mode, key_stages=list(cfg.key_stages),
                                max_travel_time_min=cfg.recommend_max_travel_time_min)

    def inclusion_centre_alone() -> pd.DataFrame | None:
        """Scenario (i): the Inclusion Centre's main site alone vs all current AP settings."""
        sic = ap[ap[S.KIND] == S.ProviderKind.INCLUSION_CENTRE.value]
        if sic.empty:
            return None
        alone = Scenario("Inclusion Centre main site alone").close_sites(sorted(ap_ids - set(sic[S.SITE_ID])))
        return comparer.compare(alone)

    def made(job: tuple[str, list[str], gpd.GeoDataFrame, pd.DataFrame, str], rec: pd.DataFrame) -> pd.DataFrame:
        """A recommendation labelled and written out."""
        label, _, candidates, _, objective = job
        rec = rec.assign(group=label, objective=objective)
        if not places_known and len(rec):
            # no known places to scale from: say so rather than suggest a number
            rec["places_suggested"] = pd.NA
            rec["places_basis"] = "not known: no existing AP provider has known places"
        export_recommendations(rec, candidates, cfg.output_dir / f"recommendations_{label}_{objective}")
        return rec

    def covering_sites(done: dict[int, pd.DataFrame]) -> tuple[list[gpd.GeoDataFrame], list[pd.DataFrame]]:
        """The sites the maximal covering models chose (with the key stages they are for)
        and their travel times, group by group."""
        sites, times_of = [], []
        for k, (_, ks, candidates, times, objective) in enumerate(jobs):
            if objective == "coverage" and len(done[k]):
                picked = candidates[candidates[S.SITE_ID].isin(done[k][S.SITE_ID])]
                sites.append(picked.assign(**{S.KEY_STAGES: ",".join(ks)}))
                times_of.append(times[times[S.DESTINATION_ID].isin(picked[S.SITE_ID])])
        return sites, times_of

    def recommended_added(sites: list[gpd.GeoDataFrame], times_of: list[pd.DataFrame]) -> pd.DataFrame | None:
        """Scenario (ii): the recommended (maximal covering) sites added."""
        if not sites:
            return None
        added = Scenario("recommended sites added")
        for _, site in pd.concat(sites, ignore_index=True).iterrows():
            added = added.add_site(
                site[S.SITE_ID], name=site[S.NAME], key_stages=site[S.KEY_STAGES],
                kind=S.ProviderKind.OTHER, geometry=site.geometry,
            )
        return comparer.compare(added, new_travel_times=pd.concat(times_of, ignore_index=True))

    # A location model spends most of its time inside HiGHS, which releases the GIL: on
    # two threads the next model is built (or scenario (i) compared) while one is solved,
    # each recommendation is written as soon as it is made, and scenario (ii) is compared
    # once the covering models are done, while a p-median may still be solving. Each run
    # is deterministic and independent of the others, and the tables are put together in
    # the jobs' order, so the results do not depend on the threads.
    done: dict[int, pd.DataFrame] = {}
    chosen_sites: list[gpd.GeoDataFrame] = []
    coverage_jobs = {k for k, job in enumerate(jobs) if job[4] == "coverage"}
    added_rows: pd.DataFrame | None = None
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {pool.submit(run, job): k for k, job in enumerate(jobs)}
        scenario_alone = pool.submit(inclusion_centre_alone)
        for future in as_completed(runs):
            k = runs[future]
            done[k] = made(jobs[k], future.result())
            if k in coverage_jobs and coverage_jobs <= done.keys():  # the last covering model
                chosen_sites, chosen_times = covering_sites(done)
                added_rows = recommended_added(chosen_sites, chosen_times)
        alone_rows = scenario_alone.result()
    recs = [done[k] for k in range(len(jobs))]
    if recs:
        both = pd.concat(recs, ignore_index=True)
        both.attrs = {}
        result.tables["recommendations"] = both
        if chosen_sites:
            pts = pd.concat(chosen_sites, ignore_index=True)[[S.SITE_ID, "geometry"]]
            cov = both[both["objective"] == "coverage"]
            layer = gpd.GeoDataFrame(pts.merge(cov, on=S.SITE_ID), geometry="geometry", crs=ap.crs)
            layer["newly_reached_children"] = layer["children_newly_within_t"]
            # P1..P3 primary, S1..S3 secondary, so the two rankings stay apart on the map
            layer["rank"] = layer["group"].str[0].str.upper() + layer["rank"].astype(int).astype(str)
            result.tables["recommended_sites_map"] = layer
    rows = [r for r in (alone_rows, added_rows) if r is not None]
    if rows:
        scen = pd.concat(rows, ignore_index=True)
        scen.attrs = {}
        result.tables["scenarios"] = scen.assign(mode=mode)


def _gias_candidates(result: StudyResult, phases: tuple[str, ...] | list[str]) -> gpd.GeoDataFrame:
    """Mainstream schools of the study area that could host AP (GIAS)."""
    from apgeo.inputs.areas import EXTRACT_DIR, GIAS_EXTRACT_FILE, resolve_area
    from apgeo.planning.candidates import gias_candidate_sites

    cfg = result.config
    if cfg.data_dir is not None:
        return gias_candidate_sites(phases=phases, data_dir=cfg.data_dir)
    area = resolve_area(result.area_name or cfg.area)
    return gias_candidate_sites(EXTRACT_DIR / GIAS_EXTRACT_FILE, phases=phases, la_codes=[area.la_code])
