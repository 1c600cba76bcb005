"""Candidate sites for new provision: mainstream schools from GIAS, the planners' own list,
or clusters of need (weighted k-means with a silhouette choice of k, DBSCAN).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from apgeo._errors import ApgeoValueError
from apgeo._validate import (
    read_csv,
    require_columns,
    to_numeric,
    to_working_crs,
)
from apgeo.analysis.tables import format_ids
from apgeo.planning.explain import CLUSTER, CLUSTER_AREAS, CLUSTER_NEED, SNAP_DISTANCE_M, SNAPPED_TO
from apgeo.schema import (
    AREA_ID,
    CAPACITY_PLACES,
    KEY_STAGES,
    KIND,
    NAME,
    POSTCODE,
    PROVIDER_ID,
    SITE_ID,
    ProviderKind,
)
from apgeo.settings import WORKING_CRS

#: Fixed seed of every random step (k-means initialisation).
DEFAULT_RANDOM_STATE = 12345
#: k-means restarts (fixed so results do not depend on scikit-learn's default).
DEFAULT_N_INIT = 10
#: Mainstream GIAS establishment types that could host an AP hub or satellite.
MAINSTREAM_GIAS_TYPES: tuple[str, ...] = (
    "Academy converter",
    "Academy sponsor led",
    "Community school",
    "Foundation school",
    "Voluntary aided school",
    "Voluntary controlled school",
    "Free schools",
)

def gias_candidate_sites(
    path: str | Path | None = None,
    *,
    phases: Sequence[str] = ("Primary",),
    establishment_types: Sequence[str] = MAINSTREAM_GIAS_TYPES,
    data_dir: str | Path | None = None,
    la_codes: Sequence[str] | None = None,
) -> gpd.GeoDataFrame:
    """Mainstream schools that could host an AP hub, as candidate sites.

    Sheffield already hosts primary AP hubs inside mainstream primary schools, so the
    default is every open mainstream primary school.

    Parameters
    ----------
    path
        A GIAS CSV (``urn, establishment_name, establishment_type, education_phase,
        easting, northing, nearest_cpo_postcode``); the committed Sheffield extract by
        default.
    phases
        GIAS ``education_phase`` values to keep.
    establishment_types
        GIAS ``establishment_type`` values to keep (mainstream by default).
    data_dir
        Data folder (default: the configured one).
    la_codes
        Keep only schools of these DfE LA numbers (needed with an England-wide GIAS file,
        e.g. ``data/england_extract/gias_england.csv.gz``).

    Returns
    -------
    geopandas.GeoDataFrame
        Provider-schema candidates (EPSG:27700): ``site_id`` ``"CAND-URN<urn>"``,
        ``provider_id``, ``name``, ``kind`` (``primary_ap_hub`` for primary schools, else
        ``other``), ``key_stages`` (from the phase), ``capacity_places`` (NaN),
        ``urn``, ``postcode``, ``establishment_type``, ``number_of_pupils``.
    """
    from apgeo.inputs.data import data_path
    from apgeo.inputs.providers import PHASE_KEY_STAGES

    p = Path(path) if path is not None else data_path("gias", data_dir=data_dir)
    raw = read_csv(p)
    require_columns(
        raw, ["urn", "establishment_name", "establishment_type", "education_phase", "easting", "northing"],
        source=str(p),
    )
    if la_codes is not None:
        require_columns(raw, ["la_code"], source=str(p))
        raw = raw[raw["la_code"].astype(str).isin({str(c) for c in la_codes})]
    sel = raw[raw["education_phase"].isin(list(phases)) & raw["establishment_type"].isin(list(establishment_types))]
    if len(sel) == 0:
        raise ApgeoValueError(
            f"{p}: no school matches phases {list(phases)} and types {list(establishment_types)}; "
            f"phases present: {sorted(set(raw['education_phase'].dropna()))}"
        )
    e = to_numeric(sel["easting"], column="easting", source=str(p))
    n = to_numeric(sel["northing"], column="northing", source=str(p))
    ok = (e.notna() & n.notna()).to_numpy()
    sel, e, n = sel[ok], e[ok], n[ok]
    urn = sel["urn"].astype(str)
    is_primary = sel["education_phase"] == "Primary"
    frame = pd.DataFrame(
        {
            SITE_ID: ("CAND-URN" + urn).to_numpy(),
            PROVIDER_ID: ("CAND-URN" + urn).to_numpy(),
            NAME: sel["establishment_name"].to_numpy(),
            KIND: np.where(is_primary, ProviderKind.PRIMARY_AP_HUB.value, ProviderKind.OTHER.value),
            KEY_STAGES: sel["education_phase"].map(PHASE_KEY_STAGES).fillna("").to_numpy(),
            CAPACITY_PLACES: np.nan,
            "urn": urn.to_numpy(),
            POSTCODE: sel.get("nearest_cpo_postcode", pd.Series("", index=sel.index)).fillna("").to_numpy(),
            "establishment_type": sel["establishment_type"].to_numpy(),
            "number_of_pupils": to_numeric(
                sel.get("number_of_pupils", pd.Series(np.nan, index=sel.index)),
                column="number_of_pupils", source=str(p),
            ).to_numpy(),
        }
    )
    out = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(e, n), crs=WORKING_CRS)
    return out.sort_values(SITE_ID, kind="stable").reset_index(drop=True)


def read_candidates(
    data: str | Path | pd.DataFrame,
    *,
    kind: str | ProviderKind = ProviderKind.OTHER,
    key_stages: str | None = None,
    id_prefix: str = "CAND-",
    lookup: Any = None,
    strict: bool = False,
) -> gpd.GeoDataFrame:
    """A planner's candidate sites from CSV, GeoJSON, GeoPackage, postcodes or a DataFrame.

    Parsing is :func:`apgeo.inputs.providers.read_providers`; columns it requires that a
    candidate list rarely has are filled: ``provider_id`` (``id_prefix`` + row number
    when absent), ``kind`` (``kind``, e.g. ``"primary_ap_hub"``), ``key_stages``
    (``key_stages`` when given).

    Parameters
    ----------
    data
        A CSV (or ``.txt``) or a vector file (GeoJSON, GeoPackage...) path, or a DataFrame;
        rows need coordinates or a postcode, as :func:`~apgeo.inputs.providers.read_providers`
        reads them.
    kind
        Provider kind given to rows without a ``kind`` column (default ``"other"``).
    key_stages
        Key stages written into every row (e.g. ``"KS3,KS4"``), replacing a ``key_stages``
        column; ``None`` keeps the file's column.
    id_prefix
        Prefix of the ``provider_id`` made from the row number when the file has neither
        ``provider_id`` nor ``site_id``.
    lookup
        Postcode lookup passed to :func:`~apgeo.inputs.providers.read_providers` (``None``:
        its default).
    strict
        Turn warnings into errors.

    Returns
    -------
    geopandas.GeoDataFrame
        Provider-schema table in EPSG:27700 (unlocated rows kept with ``located=False``).
    """
    from apgeo.inputs.providers import read_providers

    kind_value = ProviderKind.parse(kind).value
    frame: pd.DataFrame
    if isinstance(data, pd.DataFrame):
        frame = data.copy()
    else:
        p = Path(data)
        if not p.is_file():
            from apgeo._errors import DataFileNotFoundError

            raise DataFileNotFoundError(f"candidate file not found: {p}; check the path")
        frame = read_csv(p) if p.suffix.lower() in {".csv", ".txt"} else gpd.read_file(p)
    if PROVIDER_ID not in frame.columns:
        frame[PROVIDER_ID] = (
            frame[SITE_ID].astype(str) if SITE_ID in frame.columns
            else [f"{id_prefix}{i + 1}" for i in range(len(frame))]
        )
    if KIND not in frame.columns:
        frame[KIND] = kind_value
    if key_stages is not None:
        frame[KEY_STAGES] = key_stages
    if NAME not in frame.columns:
        frame[NAME] = frame[PROVIDER_ID].astype(str)
    return read_providers(frame, lookup=lookup, strict=strict)


def _weighted_silhouette(x: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> float:
    from sklearn.metrics import silhouette_samples

    s = silhouette_samples(x, labels)
    return float(np.average(s, weights=weights)) if weights.sum() > 0 else float(s.mean())


def cluster_candidates(
    coldspots: pd.DataFrame,
    demand: pd.DataFrame,
    *,
    method: Literal["kmeans", "dbscan"] = "kmeans",
    n_clusters: int | None = None,
    k_range: tuple[int, int] = (2, 8),
    eps_m: float = 1500.0,
    min_need: float | None = None,
    sites: gpd.GeoDataFrame | None = None,
    random_state: int = DEFAULT_RANDOM_STATE,
    n_init: int = DEFAULT_N_INIT,
) -> gpd.GeoDataFrame:
    """Candidate sites at the centres of clusters of unmet need (access cold spots).

    Each cold-spot area is a point at its population-weighted centroid
    (``pwc_easting``/``pwc_northing``, else the polygon centroid; EPSG:27700) weighted by
    its ``weighted_need`` summed over the key stages where it is a cold spot.

    * ``method="kmeans"``: scikit-learn ``KMeans`` with ``sample_weight`` = need, fixed
      ``random_state`` and ``n_init``. Unless ``n_clusters`` is given, k maximises the
      need-weighted mean silhouette over ``k_range`` (inclusive, capped at points - 1).
    * ``method="dbscan"``: scikit-learn ``DBSCAN`` with ``sample_weight`` = need: a core
      area has at least ``min_need`` need within ``eps_m`` metres (default ``min_need``:
      10% of all cold-spot need). Noise areas are left out; the centre is the
      need-weighted mean of each cluster.

    With ``sites`` (e.g. :func:`gias_candidate_sites`), each centre is snapped to the
    nearest site not already taken by a larger cluster; otherwise the centres are returned
    as points (snap them to the street network before computing travel times).

    Parameters
    ----------
    coldspots
        Output of :func:`apgeo.analysis.coldspots.access_coldspots`.
    demand
        The demand table (``area_id`` and ``pwc_easting``/``pwc_northing`` or polygons).
    method, n_clusters, k_range, eps_m, min_need, random_state, n_init
        See above.
    sites
        Real candidate sites (GeoDataFrame with ``site_id``) to snap centres to.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cluster, largest need first (EPSG:27700): ``site_id``
        (the snapped site's id, or ``"CLUSTER-<n>"``), ``name``, ``kind``,
        ``key_stages`` (those of the cold spots in the cluster), ``cluster``,
        ``cluster_need``, ``cluster_areas`` (count), ``snapped_site_id``,
        ``snap_distance_m`` (NaN when not snapped), ``method``; ``attrs["k_scores"]``
        holds the silhouette per k for k-means.
    """
    from sklearn.cluster import DBSCAN, KMeans

    require_columns(coldspots, [AREA_ID, "key_stage", "access_coldspot", "weighted_need"], source="coldspots")
    require_columns(demand, [AREA_ID], source="demand")
    cold = coldspots[coldspots["access_coldspot"].astype(bool)]
    if len(cold) == 0:
        raise ApgeoValueError(
            "coldspots has no access cold spot: every area with need reaches suitable provision "
            "within the threshold, so there is no unmet need to cluster"
        )
    per_area = (
        cold.groupby(AREA_ID, sort=True)
        .agg(need=("weighted_need", "sum"), ks=("key_stage", lambda s: ",".join(sorted(set(s)))))
        .reset_index()
    )
    if {"pwc_easting", "pwc_northing"} <= set(demand.columns):
        xy = pd.DataFrame(demand).set_index(AREA_ID)[["pwc_easting", "pwc_northing"]].astype(float)
    elif isinstance(demand, gpd.GeoDataFrame):
        d = to_working_crs(demand, name="demand")
        c = d.geometry.centroid
        xy = pd.DataFrame({"pwc_easting": c.x.to_numpy(), "pwc_northing": c.y.to_numpy()}, index=d[AREA_ID])
    else:
        raise ApgeoValueError(
            "demand needs pwc_easting/pwc_northing or polygon geometry to place the cold spots"
        )
    missing = sorted(set(per_area[AREA_ID]) - set(xy.index))
    if missing:
        raise ApgeoValueError(f"demand has no location for cold-spot area(s) {format_ids(missing)}")
    pts = xy.loc[per_area[AREA_ID]].to_numpy(dtype=float)
    w = per_area["need"].to_numpy(dtype=float)
    if (w <= 0).all():
        w = np.ones_like(w)
    n_pts = len(pts)
    k_scores: dict[int, float] = {}
    if method == "kmeans":
        if n_clusters is not None:
            if not isinstance(n_clusters, int) or n_clusters < 1 or n_clusters > n_pts:
                raise ApgeoValueError(
                    f"n_clusters must be between 1 and the number of cold-spot areas ({n_pts}); "
                    f"got {n_clusters!r}"
                )
            k = n_clusters
        else:
            lo, hi = k_range
            hi = min(hi, n_pts - 1)
            if lo < 2 or hi < lo:
                k = 1 if n_pts < 3 else min(max(lo, 2), n_pts - 1)
            else:
                for kk in range(lo, hi + 1):
                    km = KMeans(n_clusters=kk, random_state=random_state, n_init=n_init)
                    lab = km.fit_predict(pts, sample_weight=w)
                    k_scores[kk] = (
                        _weighted_silhouette(pts, lab, w) if len(set(lab)) > 1 else -1.0
                    )
                k = max(k_scores, key=lambda kk: (round(k_scores[kk], 12), -kk))
        km = KMeans(n_clusters=k, random_state=random_state, n_init=n_init)
        labels = km.fit_predict(pts, sample_weight=w)
    elif method == "dbscan":
        if not np.isfinite(eps_m) or eps_m <= 0:
            raise ApgeoValueError(f"eps_m must be a positive number of metres; got {eps_m!r}")
        mn = 0.1 * float(w.sum()) if min_need is None else float(min_need)
        labels = DBSCAN(eps=eps_m, min_samples=1).fit_predict(pts, sample_weight=w / mn if mn > 0 else w)
        if (labels < 0).all():
            raise ApgeoValueError(
                f"DBSCAN found no cluster with at least {mn:g} need within {eps_m:g} m; lower "
                "min_need or raise eps_m, or use method='kmeans'"
            )
    else:
        raise ApgeoValueError(f"method must be 'kmeans' or 'dbscan'; got {method!r}")
    rows = []
    for lab in sorted(set(int(v) for v in labels if v >= 0)):
        m = labels == lab
        centre = np.average(pts[m], axis=0, weights=w[m])
        ks = sorted(set(",".join(per_area.loc[m, "ks"]).split(",")))
        rows.append(
            {
                "_x": centre[0], "_y": centre[1], CLUSTER_NEED: float(w[m].sum()),
                CLUSTER_AREAS: int(m.sum()), KEY_STAGES: ",".join(ks),
            }
        )
    rows.sort(key=lambda r: (-r[CLUSTER_NEED], r["_x"], r["_y"]))
    out = pd.DataFrame(rows)
    out[CLUSTER] = np.arange(1, len(out) + 1)
    out[SNAPPED_TO] = ""
    out[SNAP_DISTANCE_M] = np.nan
    geoms = list(gpd.points_from_xy(out["_x"], out["_y"]))
    out[SITE_ID] = [f"CLUSTER-{c}" for c in out[CLUSTER]]
    out[NAME] = [f"Centre of cold-spot cluster {c}" for c in out[CLUSTER]]
    if sites is not None:
        require_columns(sites, [SITE_ID], source="sites")
        s = to_working_crs(sites, name="sites")
        s = s[~(s.geometry.isna() | s.geometry.is_empty)]
        sxy = np.column_stack([s.geometry.x, s.geometry.y])
        taken: set[int] = set()
        for r in range(len(out)):
            d = np.hypot(sxy[:, 0] - out.at[r, "_x"], sxy[:, 1] - out.at[r, "_y"])
            for idx in np.argsort(d, kind="stable"):
                if int(idx) not in taken:
                    taken.add(int(idx))
                    break
            else:  # more clusters than sites: leave as a point
                continue
            out.at[r, SNAPPED_TO] = str(s[SITE_ID].iloc[idx])
            out.at[r, SNAP_DISTANCE_M] = float(d[idx])
            out.at[r, SITE_ID] = str(s[SITE_ID].iloc[idx])
            if NAME in s.columns:
                out.at[r, NAME] = str(s[NAME].iloc[idx])
            geoms[r] = s.geometry.iloc[idx]
    out[PROVIDER_ID] = out[SITE_ID]
    out[KIND] = ProviderKind.OTHER.value
    out["method"] = method
    cols = [SITE_ID, PROVIDER_ID, NAME, KIND, KEY_STAGES, CLUSTER, CLUSTER_NEED, CLUSTER_AREAS,
            SNAPPED_TO, SNAP_DISTANCE_M, "method"]
    result = gpd.GeoDataFrame(out[cols], geometry=geoms, crs=WORKING_CRS)
    result.attrs["k_scores"] = k_scores
    return result


__all__ = [
    "MAINSTREAM_GIAS_TYPES",
    "cluster_candidates",
    "gias_candidate_sites",
    "read_candidates",
]
