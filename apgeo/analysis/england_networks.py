"""Every English authority on street networks: one self-contained task per authority.

:func:`apgeo.analysis.england.england_comparison` answers for all 153 authorities at once
with straight lines. On street networks each authority is its own job
(:class:`AuthorityJob`): its LSOAs, the AP settings within reach (inside its LSOAs' extent
widened by ``buffer_m``, so settings over the border count) and the modes. The task
(:func:`authority_task`) builds the authority's network with a *network factory*
(:class:`SyntheticNetworks` for tests and dry runs, :class:`OsmNetworks` to download,
:class:`PbfNetworks` to cut from a PBF), routes every LSOA to its nearest setting anywhere
and of its own authority, and summarises them into the same columns
:func:`~apgeo.analysis.england.england_comparison` gives (:func:`authority_rows`).
:func:`finish_table` ranks the authorities once every row is in.

Jobs and factories are plain picklable objects, so the task runs the same in-process or on
a Dask worker (:mod:`apgeo.study.england_run` runs them, with resume files).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

import geopandas as gpd
import networkx as nx
import numpy as np
import pandas as pd
from scipy.spatial import cKDTree

import apgeo
from apgeo import schema as S
from apgeo._errors import ApgeoValueError
from apgeo.analysis.england import (
    CAVEAT_AP_SETTINGS,
    CAVEAT_POPULATION,
    DENSITY_PROXY,
    EQUITY_RULE,
    LEAST_DEPRIVED_DECILES,
    MEDIAN_RULE,
    MOST_DEPRIVED_DECILES,
    NO_OWN_AP_NOTE,
    RANK_RULE,
    RANK_THRESHOLD_MIN,
    _grouped_weighted_median,
    _rank,
)
from apgeo.inputs.areas import FORMER_AUTHORITIES
from apgeo.network.modes import check_mode
from apgeo.network.synthetic import grid_network
from apgeo.routing.snap import snap_points
from apgeo.routing.travel_times import TravelTimeEngine, nearest
from apgeo.settings import WORKING_CRS, get_settings

#: Default buffer (m) around an authority's LSOAs: its network and the settings in reach.
DEFAULT_BUFFER_M: Final[float] = 10_000.0
#: Columns every per-authority result carries besides england_comparison's.
EXTRA_COLUMNS: Final[tuple[str, ...]] = (
    "network_source",
    "network_nodes",
    "sites_in_reach",
    "lsoas_unreached",
    "status",
    "error",
    "run_key",
)
STATUS_OK: Final[str] = "ok"
STATUS_FAILED: Final[str] = "failed"
_SAFE_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


def network_caveat(buffer_m: float) -> str:
    """The method caveat of a street-network run (replaces the straight-line one).

    Parameters
    ----------
    buffer_m
        The network buffer in metres.

    Returns
    -------
    str
        The caveat sentence.
    """
    return (
        "Travel times are shortest times on each authority's own street network: from each "
        "LSOA's population-weighted centroid, snapped to the nearest street (the gap walked at "
        "4.8 km/h), to the nearest AP setting. The network covers the authority's LSOAs plus "
        f"{buffer_m / 1000:g} km, and only settings inside it count: a setting farther over "
        "the border is out of reach. Free-flow speeds, no congestion, no public transport."
    )


def network_method_note(mode: str, source: str, buffer_m: float) -> str:
    """The ``method`` cell of a street-network row.

    Parameters
    ----------
    mode
        Travel mode.
    source
        The network source in words (:meth:`NetworkFactory.describe`).
    buffer_m
        The network buffer in metres.

    Returns
    -------
    str
        The cell's text.
    """
    return (
        f"{mode}: street network ({source}), shortest travel time to the nearest AP setting "
        f"within the authority's LSOAs + {buffer_m / 1000:g} km"
    )


@dataclass(frozen=True, eq=False)
class AuthorityJob:
    """Everything one authority's task needs; picklable, small (its LSOAs and nearby sites).

    ``lsoas``: ``lsoa_id, easting_m, northing_m, children_0_15, imd_decile,
    nn_distance_m`` (EPSG:27700 metres; ``nn_distance_m`` to the nearest other LSOA
    centroid in England). ``sites``: ``site_id, la_code, x, y`` of the AP settings within
    ``buffer_m`` of the LSOAs' extent plus all of the authority's own. ``own_sites`` is the
    number of the authority's own settings (all of them, in reach or not).
    """

    la_code: str
    la_name: str
    region: str
    lsoas: pd.DataFrame
    sites: pd.DataFrame
    own_sites: int
    modes: tuple[str, ...]
    thresholds_min: tuple[float, ...]
    buffer_m: float

    def extent_m(self) -> tuple[float, float, float, float]:
        """``(xmin, ymin, xmax, ymax)`` of the LSOA centroids widened by ``buffer_m``.

        Returns
        -------
        tuple of float
            The bounds in EPSG:27700 metres.
        """
        x = self.lsoas["easting_m"].to_numpy(float)
        y = self.lsoas["northing_m"].to_numpy(float)
        b = self.buffer_m
        return float(x.min() - b), float(y.min() - b), float(x.max() + b), float(y.max() + b)

    def area_polygon(self) -> object:
        """The convex hull of the LSOA centroids (EPSG:27700), widened 1 km so it is an area.

        Returns
        -------
        shapely.Polygon
            The widened hull, EPSG:27700.
        """
        import shapely

        points = shapely.multipoints(self.lsoas[["easting_m", "northing_m"]].to_numpy(float))
        return points.convex_hull.buffer(1_000.0)

    def content_key(self) -> str:
        """A hash of the job's inputs (LSOAs, sites, modes, thresholds, buffer).

        Returns
        -------
        str
            The SHA-256 hex digest.
        """
        h = hashlib.sha256()
        for frame in (self.lsoas, self.sites):
            h.update(pd.util.hash_pandas_object(frame, index=False).to_numpy().tobytes())
        h.update(
            repr(
                (self.la_code, self.own_sites, self.modes, self.thresholds_min, self.buffer_m)
            ).encode()
        )
        return h.hexdigest()


class NetworkFactory(Protocol):
    """Builds the street network of one authority and mode (must be picklable)."""

    def __call__(self, job: AuthorityJob, mode: str) -> nx.MultiDiGraph: ...

    """The network source in words, for the ``method`` cell and the run key.
    """
    def describe(self) -> str:
        """The network source in words, for the ``method`` cell and the run key.

        Returns
        -------
        str
            E.g. ``"OpenStreetMap download"``.
        """


@dataclass(frozen=True)
class SyntheticNetworks:
    """A square grid over each authority's extent: no download, for tests and dry runs.

    The spacing is ``spacing_m``, widened so no side has more than ``max_side_nodes``
    nodes; speeds are the mode defaults of :func:`apgeo.network.synthetic.grid_network`.
    """

    spacing_m: float = 400.0
    max_side_nodes: int = 150

    def __call__(self, job: AuthorityJob, mode: str) -> nx.MultiDiGraph:
        xmin, ymin, xmax, ymax = job.extent_m()
        side = max(xmax - xmin, ymax - ymin)
        spacing = max(float(self.spacing_m), side / max(self.max_side_nodes - 1, 1))
        n_cols = math.ceil((xmax - xmin) / spacing) + 1
        n_rows = math.ceil((ymax - ymin) / spacing) + 1
        return grid_network(
            max(n_cols, 2),
            max(n_rows, 2),
            spacing_m=spacing,
            mode=check_mode(mode),
            origin=(xmin, ymin),
        )

    def describe(self) -> str:
        """The network source in words.

        Returns
        -------
        str
            The grid's spacing and size limit.
        """
        return f"synthetic grid (spacing >= {self.spacing_m:g} m, <= {self.max_side_nodes} nodes a side)"


@dataclass(frozen=True)
class OsmNetworks:
    """Download each authority's network from OpenStreetMap (cached per area on disk)."""

    cache: bool = True

    def __call__(self, job: AuthorityJob, mode: str) -> nx.MultiDiGraph:
        from apgeo.network.load import load_network

        return load_network(
            None,
            mode=check_mode(mode),
            polygon=job.area_polygon(),
            buffer_m=job.buffer_m,
            cache=self.cache,
        )

    def describe(self) -> str:
        """The network source in words.

        Returns
        -------
        str
            ``"OpenStreetMap download"``.
        """
        return "OpenStreetMap download"


@dataclass(frozen=True)
class PbfNetworks:
    """Cut each authority's network from one OSM PBF extract (e.g. all of England)."""

    path: str

    def __call__(self, job: AuthorityJob, mode: str) -> nx.MultiDiGraph:
        from apgeo.network.load import load_network

        return load_network(
            self.path, mode=check_mode(mode), polygon=job.area_polygon(), buffer_m=job.buffer_m
        )

    def describe(self) -> str:
        """The network source in words.

        Returns
        -------
        str
            ``"PBF <file name>"``.
        """
        return f"PBF {Path(self.path).name}"


def _points(frame: pd.DataFrame, x: str, y: str) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        frame.reset_index(drop=True),
        geometry=gpd.points_from_xy(frame[x], frame[y]),
        crs=WORKING_CRS,
    )


def authority_times(
    job: AuthorityJob, network: nx.MultiDiGraph
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Minutes from each of the job's LSOAs to the nearest setting anywhere and its own.

    Points farther from every street than ``get_settings().snap_max_distance_m`` are out
    of reach (``inf``), as are settings outside the network. Returns ``(t_any_min,
    t_own_min, info)`` with ``info`` = ``network_nodes, sites_in_reach, lsoas_unreached``.

    Parameters
    ----------
    job
        The authority's job.
    network
        The mode's street network.

    Returns
    -------
    t_any_min : numpy.ndarray
        Minutes to the nearest setting anywhere in reach, per LSOA.
    t_own_min : numpy.ndarray
        Minutes to the nearest setting of the LSOA's own authority.
    info : dict of str to int
        ``network_nodes``, ``sites_in_reach``, ``lsoas_unreached``.
    """
    engine = TravelTimeEngine.from_graph(network, warn_dropped_fraction=None)
    max_m = get_settings().snap_max_distance_m
    n = len(job.lsoas)
    t_any = np.full(n, np.inf)
    t_own = np.full(n, np.inf)
    lsoa_snap = snap_points(
        engine,
        _points(job.lsoas, "easting_m", "northing_m"),
        id_column="lsoa_id",
        name="LSOA centroids",
        max_distance_m=1e12,
        warn_distance_m=math.inf,
    )
    lsoa_ok = lsoa_snap["snap_distance_m"].to_numpy(float) <= max_m
    sites = job.sites
    site_ok = np.zeros(len(sites), dtype=bool)
    site_snap = pd.DataFrame()
    if len(sites):
        site_snap = snap_points(
            engine,
            _points(sites, "x", "y"),
            id_column="site_id",
            name="AP settings",
            max_distance_m=1e12,
            warn_distance_m=math.inf,
        )
        site_ok = site_snap["snap_distance_m"].to_numpy(float) <= max_m
    if lsoa_ok.any():
        targets = lsoa_snap.loc[lsoa_ok]
        own = (sites["la_code"] == job.la_code).to_numpy() if len(sites) else site_ok
        for mask, out in ((site_ok, t_any), (site_ok & own, t_own)):
            if mask.any():
                res = nearest(
                    engine,
                    site_snap.loc[mask],
                    targets,
                    source_id_column="site_id",
                    target_id_column="lsoa_id",
                    direction="to",
                )
                out[lsoa_ok] = res[S.TRAVEL_TIME_S].fillna(np.inf).to_numpy(float) / 60.0
    info = {
        "network_nodes": engine.n_nodes,
        "sites_in_reach": int(site_ok.sum()),
        "lsoas_unreached": int((~np.isfinite(t_any)).sum()),
    }
    return t_any, t_own, info


def authority_rows(
    job: AuthorityJob,
    times: Mapping[str, tuple[np.ndarray, np.ndarray]],
    methods: Mapping[str, str],
) -> pd.DataFrame:
    """One row per mode with england_comparison's columns (before ranking).

    ``times[mode] = (t_any_min, t_own_min)`` per LSOA of the job, ``inf`` when out of
    reach; ``methods[mode]`` is the ``method`` cell. Formulas are those of
    :func:`~apgeo.analysis.england.england_comparison` for one authority.

    Parameters
    ----------
    job
        The authority's job.
    times
        ``(t_any_min, t_own_min)`` arrays per mode, one value per LSOA of the job.
    methods
        The ``method`` cell per mode.

    Returns
    -------
    pandas.DataFrame
        One row per mode of ``job.modes``, england_comparison's columns (no ranks).
    """
    lsoa = job.lsoas
    xy = lsoa[["easting_m", "northing_m"]].to_numpy(float)
    w = lsoa[S.CHILDREN_0_15].to_numpy(float)
    decile = lsoa[S.IMD_DECILE].to_numpy(float)
    most = np.isin(decile, MOST_DEPRIVED_DECILES)
    least = np.isin(decile, LEAST_DEPRIVED_DECILES)
    zero = np.zeros(len(lsoa), dtype=np.int64)

    def median(values: np.ndarray, weights: np.ndarray) -> float:
        return float(_grouped_weighted_median(zero, 1, values, weights)[0])

    children = float(w.sum())
    wsum = children if children > 0 else np.nan
    count = len(lsoa)
    if children > 0:
        cx, cy = float((w * xy[:, 0]).sum() / wsum), float((w * xy[:, 1]).sum() / wsum)
    else:
        cx, cy = float(xy[:, 0].mean()), float(xy[:, 1].mean())
    thresholds = sorted({float(t) for t in job.thresholds_min} | {float(RANK_THRESHOLD_MIN)})
    rows = []
    for mode in job.modes:
        t_any, t_own = times[mode]
        row: dict[str, object] = {
            "la_code": job.la_code,
            "la_name": job.la_name,
            "region": job.region,
            S.MODE: mode,
            "children_0_15": children,
            "lsoa_count": count,
            "ap_settings": job.own_sites,
            "ap_settings_per_10k_children": job.own_sites / wsum * 10_000,
            "has_own_ap_setting": job.own_sites > 0,
        }
        for t in thresholds:
            row[f"share_within_{t:g}_min_any"] = float((w * (t_any <= t)).sum()) / wsum
            row[f"share_within_{t:g}_min_own"] = float((w * (t_own <= t)).sum()) / wsum
        row["median_time_min_any"] = median(t_any, w)
        row["median_time_min_own"] = median(t_own, w)
        within = t_any <= RANK_THRESHOLD_MIN
        for name, mask in (("most_deprived", most), ("least_deprived", least)):
            wm = w * mask
            kids = float(wm.sum())
            row[f"children_{name}"] = kids
            row[f"share_within_30_min_{name}"] = (
                float((wm * within).sum()) / kids if kids > 0 else np.nan
            )
            row[f"median_time_min_{name}"] = median(t_any, wm)
        row["equity_gap_share_within_30_min"] = (
            row["share_within_30_min_most_deprived"] - row["share_within_30_min_least_deprived"]  # type: ignore[operator]
        )
        row["equity_gap_median_time_min"] = (
            row["median_time_min_most_deprived"] - row["median_time_min_least_deprived"]  # type: ignore[operator]
        )
        row["rank"] = np.nan
        row["rank_own"] = np.nan
        row["centroid_easting_m"] = cx
        row["centroid_northing_m"] = cy
        row["lsoa_nn_distance_median_m"] = median(
            lsoa["nn_distance_m"].to_numpy(float), np.ones(count)
        )
        row["share_lsoas_imd_decile_1_2"] = float(most.sum()) / count
        row["note"] = "" if job.own_sites > 0 else NO_OWN_AP_NOTE
        row["method"] = methods[mode]
        rows.append(row)
    return pd.DataFrame(rows)


def authority_task(job: AuthorityJob, factory: NetworkFactory) -> pd.DataFrame:
    """Build each mode's network for ``job``, route and summarise: the unit of work.

    Returns :func:`authority_rows` plus :data:`EXTRA_COLUMNS` (``status`` "ok"; the
    ``run_key`` is filled in by the runner). Raises whatever the factory or routing raises.

    Parameters
    ----------
    job
        The authority's job.
    factory
        Builds each mode's network.

    Returns
    -------
    pandas.DataFrame
        One row per mode.
    """
    times: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    methods: dict[str, str] = {}
    info: dict[str, dict[str, Any]] = {}
    for mode in job.modes:
        G = factory(job, mode)
        t_any, t_own, counts = authority_times(job, G)
        times[mode] = (t_any, t_own)
        methods[mode] = network_method_note(mode, factory.describe(), job.buffer_m)
        info[mode] = {"network_source": str(G.graph.get("source", factory.describe())), **counts}
    rows = authority_rows(job, times, methods)
    for col in ("network_source", "network_nodes", "sites_in_reach", "lsoas_unreached"):
        rows[col] = [info[m][col] for m in job.modes]
    rows["status"] = STATUS_OK
    rows["error"] = ""
    rows["run_key"] = ""
    return rows


def failed_rows(job: AuthorityJob, error: str) -> pd.DataFrame:
    """Rows for an authority whose task failed: identity and counts, figures blank.

    Parameters
    ----------
    job
        The authority's job.
    error
        The error text.

    Returns
    -------
    pandas.DataFrame
        One row per mode: ``la_code``, ``la_name``, ``region``, ``mode``,
        ``children_0_15``, ``lsoa_count``, ``ap_settings``, ``has_own_ap_setting``,
        ``note``, ``method`` (blank), ``status`` "failed", ``error``, ``run_key``.
    """
    rows = pd.DataFrame(
        {
            "la_code": job.la_code,
            "la_name": job.la_name,
            "region": job.region,
            S.MODE: list(job.modes),
            "children_0_15": float(job.lsoas[S.CHILDREN_0_15].sum()),
            "lsoa_count": len(job.lsoas),
            "ap_settings": job.own_sites,
            "has_own_ap_setting": job.own_sites > 0,
            "note": f"failed: {error}",
            "method": "",
            "status": STATUS_FAILED,
            "error": error,
            "run_key": "",
        }
    )
    return rows


def display_names(authorities: pd.DataFrame) -> dict[str, str]:
    """LA code -> a name unique in the table.

    A former authority's code (:data:`apgeo.inputs.areas.FORMER_AUTHORITIES`, e.g. Cumbria
    909, Dorset 835) gets its dated label ("Cumbria (909, abolished April 2023)"); any name
    still shared by several codes gets `` (LA <code>)`` appended.

    Parameters
    ----------
    authorities
        A table with ``la_code`` and ``la_name``.

    Returns
    -------
    dict of str to str
        Display name by LA code.
    """
    names = {}
    for code, name in zip(authorities["la_code"].astype(str), authorities["la_name"].astype(str)):
        names[code] = FORMER_AUTHORITIES[code][0] if code in FORMER_AUTHORITIES else name
    counts = pd.Series(list(names.values())).value_counts()
    return {c: (f"{n} (LA {c})" if counts[n] > 1 else n) for c, n in names.items()}


def build_jobs(
    lsoas: pd.DataFrame,
    sites: pd.DataFrame,
    authorities: pd.DataFrame,
    *,
    modes: Sequence[str],
    thresholds_min: Sequence[float],
    buffer_m: float = DEFAULT_BUFFER_M,
    la_codes: Sequence[str] | None = None,
) -> list[AuthorityJob]:
    """One :class:`AuthorityJob` per authority (in LA code order).

    ``lsoas``, ``sites`` and ``authorities`` are the prepared tables of
    :mod:`apgeo.analysis.england` (``_prepare_lsoas``, ``_prepare_sites``,
    ``_prepare_authorities``). ``la_codes`` restricts the jobs to those authorities; the
    nearest-LSOA density proxy is still measured over every LSOA given.

    Parameters
    ----------
    lsoas, sites, authorities
        The prepared England tables.
    modes
        Travel modes of every job.
    thresholds_min
        Coverage thresholds in minutes.
    buffer_m
        Widening of each authority's LSOA extent, metres (>= 0).
    la_codes
        Authorities to make jobs for (``None``: every one).

    Returns
    -------
    list of AuthorityJob
        One job per authority, in LA code order.
    """
    if not math.isfinite(buffer_m) or buffer_m < 0:
        raise ApgeoValueError(f"buffer_m={buffer_m!r}: give a distance in metres >= 0")
    for code in authorities["la_code"]:
        if not _SAFE_CODE.match(str(code)):
            raise ApgeoValueError(
                f"LA code {code!r} cannot name a result file; use letters, digits, '-' or '_'"
            )
    xy = lsoas[["easting_m", "northing_m"]].to_numpy(float)
    nn = cKDTree(xy).query(xy, k=2)[0][:, 1] if len(xy) > 1 else np.full(len(xy), np.nan)
    ids = (
        lsoas["lsoa11cd"]
        if "lsoa11cd" in lsoas
        else lsoas[S.AREA_ID]
        if S.AREA_ID in lsoas
        else pd.Series(np.arange(len(lsoas)).astype(str), index=lsoas.index)
    )
    table = pd.DataFrame(
        {
            "la_code": lsoas["la_code"].to_numpy(),
            "lsoa_id": ids.astype(str).to_numpy(),
            "easting_m": xy[:, 0],
            "northing_m": xy[:, 1],
            S.CHILDREN_0_15: lsoas[S.CHILDREN_0_15].to_numpy(float),
            S.IMD_DECILE: lsoas[S.IMD_DECILE].to_numpy(float),
            "nn_distance_m": nn,
        }
    )
    site_table = pd.DataFrame(
        {
            "site_id": (
                sites["urn"].astype(str)
                if "urn" in sites
                else pd.Series(range(len(sites))).astype(str)
            ).to_numpy(),
            "la_code": sites["la_code"].to_numpy(),
            "x": sites["x"].to_numpy(float),
            "y": sites["y"].to_numpy(float),
        }
    )
    site_table["site_id"] = (
        site_table["site_id"] + "#" + pd.Series(range(len(site_table))).astype(str)
    )
    names = display_names(authorities)
    wanted = None if la_codes is None else {str(c) for c in la_codes}
    if wanted is not None:
        unknown = sorted(wanted - set(authorities["la_code"]))
        if unknown:
            raise ApgeoValueError(
                f"LA code(s) {', '.join(unknown)} are not among the authorities; give DfE LA "
                "numbers from the authorities table (e.g. 373 for Sheffield)"
            )
    by_code = dict(tuple(table.groupby("la_code", sort=True)))
    jobs = []
    for _, a in authorities.sort_values("la_code").iterrows():
        code = str(a["la_code"])
        if wanted is not None and code not in wanted:
            continue
        mine = by_code[code].drop(columns="la_code").reset_index(drop=True)
        b = buffer_m
        x0, x1 = mine["easting_m"].min() - b, mine["easting_m"].max() + b
        y0, y1 = mine["northing_m"].min() - b, mine["northing_m"].max() + b
        own = site_table["la_code"] == code
        near = site_table["x"].between(x0, x1) & site_table["y"].between(y0, y1)
        jobs.append(
            AuthorityJob(
                la_code=code,
                la_name=names[code],
                region=str(a.get("region", "") if pd.notna(a.get("region", "")) else ""),
                lsoas=mine,
                sites=site_table.loc[own | near].reset_index(drop=True),
                own_sites=int(own.sum()),
                modes=tuple(modes),
                thresholds_min=tuple(float(t) for t in thresholds_min),
                buffer_m=float(buffer_m),
            )
        )
    return jobs


def finish_table(rows: Sequence[pd.DataFrame], *, buffer_m: float) -> pd.DataFrame:
    """Join per-authority rows, rank within each mode, order like england_comparison.

    Failed authorities keep their rows (``status`` "failed", figures and ranks blank) so
    the table has every requested authority exactly once per mode.

    Parameters
    ----------
    rows
        Per-authority rows (:func:`authority_task` or :func:`failed_rows`).
    buffer_m
        The network buffer in metres (for the caveat in ``attrs``).

    Returns
    -------
    pandas.DataFrame
        One row per authority and mode, by mode then LA code, with ``rank`` and
        ``rank_own`` (nullable integers, blank for failed authorities).
    """
    table = pd.concat(rows, ignore_index=True)
    modes = list(dict.fromkeys(table[S.MODE]))
    table["_order"] = table[S.MODE].map({m: i for i, m in enumerate(modes)})
    table = table.sort_values(["_order", "la_code"]).drop(columns="_order").reset_index(drop=True)
    ok = table["status"] == STATUS_OK
    table["rank"] = pd.array([pd.NA] * len(table), dtype="Int64")
    table["rank_own"] = pd.array([pd.NA] * len(table), dtype="Int64")
    for mode in modes:
        sel = ok & (table[S.MODE] == mode)
        if not sel.any():  # every authority of this mode failed: nothing to rank
            continue
        t = table.loc[sel]
        table.loc[sel, "rank"] = _rank(
            t["share_within_30_min_any"].to_numpy(float), t["median_time_min_any"].to_numpy(float)
        )
        table.loc[sel, "rank_own"] = _rank(
            t["share_within_30_min_own"].to_numpy(float), t["median_time_min_own"].to_numpy(float)
        )
    front = [c for c in table.columns if c not in EXTRA_COLUMNS and c != "method"]
    table = table[[*front, "method", *[c for c in EXTRA_COLUMNS if c in table]]]
    table["has_own_ap_setting"] = table["has_own_ap_setting"].astype(bool)
    table.attrs.update(
        {
            "caveats": [network_caveat(buffer_m), CAVEAT_POPULATION, CAVEAT_AP_SETTINGS],
            "method": dict(zip(table[S.MODE], table["method"])),
            "modes": modes,
            "rank_rule": RANK_RULE + " Authorities whose run failed are not ranked.",
            "equity_rule": EQUITY_RULE,
            "median_rule": MEDIAN_RULE,
            "density_proxy": DENSITY_PROXY,
            "failed": sorted(set(table.loc[~ok, "la_code"])),
            "apgeo_version": apgeo.__version__,
        }
    )
    return table


__all__ = [
    "DEFAULT_BUFFER_M",
    "AuthorityJob",
    "NetworkFactory",
    "OsmNetworks",
    "PbfNetworks",
    "SyntheticNetworks",
    "authority_rows",
    "authority_task",
    "authority_times",
    "build_jobs",
    "display_names",
    "failed_rows",
    "finish_table",
    "network_caveat",
    "network_method_note",
]
