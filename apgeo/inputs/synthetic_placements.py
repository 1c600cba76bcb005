"""SYNTHETIC placement lists drawn from real demand, schools and providers, clearly
labelled, for tests and the demo.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Final

import numpy as np
import pandas as pd

from apgeo import schema as S
from apgeo._errors import ApgeoValueError
from apgeo._validate import require_columns
from apgeo.inputs.placements import (
    _PHASES_FOR_KS,
    END_DATE,
    HOME_POSTCODE,
    KEY_STAGE,
    OUTCOME,
    SCHOOL_URN,
    SESSIONS_PER_WEEK,
    START_DATE,
    SYNTHETIC,
    _as_date,
    _stamp,
    load_schools,
)

SYNTHETIC_KS_SHARES: Final[dict[str, float]] = {"KS1": 0.04, "KS2": 0.14, "KS3": 0.32, "KS4": 0.46, "KS5": 0.04}
#: Relative pull of each provider kind in the synthetic draw.
_KIND_PULL: Final[dict[str, float]] = {
    "inclusion_centre": 6.0,
    "primary_ap_hub": 4.0,
    "pru": 4.0,
    "ap_academy": 4.0,
    "ap_free_school": 4.0,
    "framework_provider": 3.0,
    "hospital_education": 1.0,
    "special_school": 0.6,
    "other": 1.0,
}
_SCHOOL_SCALE_M: Final = 2_000.0
_PROVIDER_SCALE_M: Final = 5_000.0


def synthetic_placements(
    n: int = 1000,
    *,
    random_state: int = 20250401,
    as_of: dt.date | str = "2025-03-31",
    demand: pd.DataFrame | None = None,
    providers: pd.DataFrame | None = None,
    schools: pd.DataFrame | None = None,
    data_dir: str | Path | None = None,
    with_end_dates: bool = True,
) -> pd.DataFrame:
    """Plausible, clearly labelled SYNTHETIC placement rows drawn from real Sheffield data.

    Draw, per placement: a key stage (:data:`SYNTHETIC_KS_SHARES`); a home LSOA with
    probability proportional to its children of that key stage x an IDACI need weight
    ``(11 - idaci_decile) ** 1.5`` (decile 1 = most deprived); a real live postcode in that
    LSOA (ONS postcode -> LSOA lookup, so loading exercises geocoding); a referring
    mainstream school (GIAS) of a matching phase, closer more likely
    (``exp(-d / 2 km)``); a located provider site serving the key stage, closer and AP
    proper more likely (``kind pull x exp(-d / 5 km)``); a start date in the two years
    before ``as_of``; 2-10 sessions a week.

    Parameters
    ----------
    n
        Number of rows.
    random_state
        Seed: the same seed and inputs give the same rows.
    as_of
        No start date is after it.
    demand, providers, schools
        Reference tables (defaults: Sheffield demand, providers, GIAS extract).
    data_dir
        Data folder for the defaults and the postcode lookup.
    with_end_dates
        Add ``end_date`` and ``outcome`` (:func:`_synthetic_ends`; drawn with their own
        seed, so the other columns do not change).

    Returns
    -------
    pandas.DataFrame
        Pupil-level rows (SYNTHETIC, so no one's data) with :data:`PLACEMENT_COLUMNS` and
        ``synthetic`` (all True); ``attrs["synthetic"] = True``. Never mix with real data.
    """
    if not isinstance(n, (int, np.integer)) or n < 1:
        raise ApgeoValueError(f"n must be a positive whole number of placements, not {n!r}")
    as_of_date = _as_date(as_of, name="as_of")
    rng = np.random.default_rng(random_state)
    if demand is None:
        from apgeo.inputs.demand import load_demand

        demand = load_demand(data_dir=data_dir)
    if providers is None:
        from apgeo.inputs.providers import load_sheffield_providers

        providers = load_sheffield_providers(data_dir=data_dir)
    schools = load_schools(data_dir=data_dir) if schools is None else schools
    require_columns(demand, [S.AREA_ID, "pwc_easting", "pwc_northing", S.IDACI_DECILE], source="demand")

    areas = pd.DataFrame(demand.drop(columns="geometry", errors="ignore")).sort_values(S.AREA_ID).reset_index(drop=True)
    area_xy = areas[["pwc_easting", "pwc_northing"]].to_numpy(dtype=float)
    need = (11.0 - areas[S.IDACI_DECILE].fillna(5).to_numpy(dtype=float)) ** 1.5

    # real live postcodes per LSOA that the geocoder can place
    from apgeo.inputs.data import data_path
    from apgeo.inputs.geocode import PostcodeLookup, normalise_postcode

    base = data_path("codepoint", data_dir=data_dir).parent.parent
    lookup = PostcodeLookup.from_data_dir(base)
    table = lookup.table
    live = table[(table["status"] == "live") & table["lsoa11cd"].notna()]
    pc_by_area = {a: sorted(g.index) for a, g in live.groupby("lsoa11cd")}
    has_pc = areas[S.AREA_ID].isin(pc_by_area).to_numpy()

    located = providers
    if "geometry" in providers.columns:
        ok = ~(providers.geometry.isna() | providers.geometry.is_empty)
        located = providers[ok]
    sites = pd.DataFrame(located.drop(columns="geometry", errors="ignore")).reset_index(drop=True)
    site_xy = np.column_stack([located.geometry.x.to_numpy(), located.geometry.y.to_numpy()])
    order = np.argsort(sites[S.SITE_ID].to_numpy(dtype=str), kind="stable")
    sites, site_xy = sites.iloc[order].reset_index(drop=True), site_xy[order]
    serves = sites[S.KEY_STAGES].map(S.parse_key_stages)
    pull = sites[S.KIND].astype(str).map(_KIND_PULL).fillna(1.0).to_numpy(dtype=float)

    main = schools[schools["mainstream"] & schools[S.EASTING].notna()].sort_values(S.URN).reset_index(drop=True)
    school_xy = main[[S.EASTING, S.NORTHING]].to_numpy(dtype=float)

    ks_names = list(SYNTHETIC_KS_SHARES)
    ks_p = np.array(list(SYNTHETIC_KS_SHARES.values()))
    drawn_ks = rng.choice(ks_names, size=n, p=ks_p / ks_p.sum())
    rows: list[dict[str, object]] = []
    window_days = 730
    for ks in ks_names:
        idx = np.flatnonzero(drawn_ks == ks)
        if len(idx) == 0:
            continue
        weights = areas[S.children_column(ks)].to_numpy(dtype=float) * need * has_pc
        area_pick = rng.choice(len(areas), size=len(idx), p=weights / weights.sum())
        site_ok = serves.map(lambda v, k=ks: k in v).to_numpy()
        school_ok = main["education_phase"].isin(_PHASES_FOR_KS[ks]).to_numpy()
        if not site_ok.any() or not school_ok.any():
            raise ApgeoValueError(f"synthetic_placements: no provider or school for {ks}; pass other tables")
        for a in area_pick:
            d_school = np.hypot(*(school_xy - area_xy[a]).T)
            w_school = np.where(school_ok, np.exp(-d_school / _SCHOOL_SCALE_M), 0.0)
            school = int(rng.choice(len(main), p=w_school / w_school.sum()))
            d_site = np.hypot(*(site_xy - area_xy[a]).T)
            w_site = np.where(site_ok, pull * np.exp(-d_site / _PROVIDER_SCALE_M), 0.0)
            site = int(rng.choice(len(sites), p=w_site / w_site.sum()))
            postcodes = pc_by_area[str(areas.at[a, S.AREA_ID])]
            rows.append(
                {
                    HOME_POSTCODE: normalise_postcode(postcodes[int(rng.integers(len(postcodes)))]),
                    SCHOOL_URN: str(main.at[school, S.URN]),
                    S.PROVIDER_ID: str(sites.at[site, S.PROVIDER_ID]),
                    S.SITE_ID: str(sites.at[site, S.SITE_ID]),
                    KEY_STAGE: ks,
                    START_DATE: (as_of_date - dt.timedelta(days=int(rng.integers(0, window_days)))).isoformat(),
                    SESSIONS_PER_WEEK: int(rng.choice([2, 4, 5, 6, 8, 10], p=[0.1, 0.15, 0.2, 0.15, 0.15, 0.25])),
                }
            )
    out = pd.DataFrame(rows)
    out = out.iloc[rng.permutation(len(out))].reset_index(drop=True)
    if with_end_dates:
        out[END_DATE], out[OUTCOME] = _synthetic_ends(out[START_DATE], as_of_date, random_state)
    out[SYNTHETIC] = True
    return _stamp(out, synthetic=True, title=f"{n} synthetic AP placements (seed {random_state})")



#: SYNTHETIC outcome shares of an ended placement (not evidence: a plausible mix).
SYNTHETIC_OUTCOME_SHARES: Final[dict[str, float]] = {
    "returned_to_mainstream": 0.40,
    "moved_to_special_school": 0.15,
    "moved_to_another_ap": 0.20,
    "left_education": 0.10,
    "other_or_unknown": 0.15,
}
#: SYNTHETIC placement lengths: lognormal with this median (days) and log-sd.
_MEDIAN_LENGTH_DAYS: Final = 120.0
_LENGTH_SIGMA: Final = 0.8


def _synthetic_ends(start: pd.Series, as_of: dt.date, random_state: int) -> tuple[pd.Series, pd.Series]:
    """End dates and outcomes for synthetic placements: a lognormal length (median 120
    days); a placement whose end would fall after ``as_of`` is still open (empty end date
    and outcome)."""
    rng = np.random.default_rng([int(random_state), 1])
    length = np.maximum(1, np.round(rng.lognormal(np.log(_MEDIAN_LENGTH_DAYS), _LENGTH_SIGMA, len(start))))
    names = list(SYNTHETIC_OUTCOME_SHARES)
    shares = np.array(list(SYNTHETIC_OUTCOME_SHARES.values()))
    outcome = rng.choice(names, size=len(start), p=shares / shares.sum())
    starts = pd.to_datetime(start)
    ends = starts + pd.to_timedelta(length, unit="D")
    still_open = (ends.dt.date > as_of).to_numpy()
    end_text = ends.dt.strftime("%Y-%m-%d").where(~still_open, "")
    out_text = pd.Series(np.where(still_open, "", outcome), index=start.index)
    return end_text, out_text


__all__ = [
    "SYNTHETIC_OUTCOME_SHARES",
    "synthetic_placements",
]
