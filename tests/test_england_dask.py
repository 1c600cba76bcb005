"""England on street networks: one task per authority, serial or on Dask, resumable."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest

from apgeo._errors import ApgeoValueError, ApgeoWarning
from apgeo.analysis.england import (
    _prepare_authorities,
    _prepare_lsoas,
    _prepare_sites,
    england_comparison,
)
from apgeo.analysis.england_networks import (
    AuthorityJob,
    SyntheticNetworks,
    authority_rows,
    build_jobs,
    display_names,
    finish_table,
)
from apgeo.routing.straight_line import DEFAULT_CIRCUITY, STRAIGHT_LINE_SPEEDS_KPH
from apgeo.settings import WORKING_CRS
from apgeo.study.cli import main
from apgeo.study.england_run import result_path, run_england_networks, run_jobs

distributed = pytest.importorskip("dask.distributed")

# Five small authorities side by side along x, 4 km apart: codes of before and after the
# reorganisations (Dorset 835 old / 838 new share a name; Cumbria 909 split into
# Cumberland 942 and Westmorland and Furness 943). 943 has no AP setting of its own.
CODES = ("835", "838", "909", "942", "943")
NAMES = ("Dorset", "Dorset", "Cumbria", "Cumberland", "Westmorland and Furness")
ORIGIN = (400_000.0, 400_000.0)
FACTORY = SyntheticNetworks(spacing_m=250.0)
MODES = ("walk", "drive")


def _lsoas() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = []
    for k, code in enumerate(CODES):
        for i in range(3):
            for j in range(3):
                rows.append(
                    {
                        "lsoa11cd": f"E{code}{i}{j}",
                        "la_code": code,
                        "easting_m": ORIGIN[0] + k * 4_000 + i * 1_000 + 130.0,
                        "northing_m": ORIGIN[1] + j * 1_000 + 70.0,
                        "children_0_15": int(rng.integers(50, 400)),
                        "imd_decile": int((3 * i + j + k) % 10 + 1),
                    }
                )
    return pd.DataFrame(rows)


def _authorities() -> pd.DataFrame:
    return pd.DataFrame({"la_code": CODES, "la_name": NAMES, "region": "Test"})


def _sites() -> gpd.GeoDataFrame:
    xy = [(0, 500, 900), (1, 4_600, 1_900), (2, 8_900, 300), (3, 14_000, 2_200), (2, 9_700, 2_100)]
    frame = pd.DataFrame(
        {
            "urn": [f"U{n}" for n in range(len(xy))],
            "la_code": [CODES[k] for k, _, _ in xy],
        }
    )
    return gpd.GeoDataFrame(
        frame,
        geometry=gpd.points_from_xy(
            [ORIGIN[0] + x for _, x, _ in xy], [ORIGIN[1] + y for _, _, y in xy]
        ),
        crs=WORKING_CRS,
    )


def _run(**kwargs):
    return run_england_networks(
        kwargs.pop("factory", FACTORY),
        modes=MODES,
        lsoas=_lsoas(),
        ap_settings=_sites(),
        authorities=_authorities(),
        buffer_m=3_000.0,
        **kwargs,
    )


def _jobs(buffer_m: float = 3_000.0) -> list[AuthorityJob]:
    lsoa = _prepare_lsoas(_lsoas())
    auth = _prepare_authorities(_authorities(), lsoa)
    sites = _prepare_sites(_sites(), set(auth["la_code"]))
    return build_jobs(
        lsoa, sites, auth, modes=MODES, thresholds_min=(15, 30, 45, 60), buffer_m=buffer_m
    )


@dataclass(frozen=True)
class CountingFactory:
    """Synthetic networks that record each (authority, mode) built in a folder."""

    folder: str
    stop_after: int | None = None  # raise KeyboardInterrupt at this many authorities

    def __call__(self, job, mode):
        seen = sorted({p.name.split("_")[0] for p in Path(self.folder).iterdir()})
        if self.stop_after is not None and job.la_code not in seen and len(seen) >= self.stop_after:
            raise KeyboardInterrupt
        (Path(self.folder) / f"{job.la_code}_{mode}").touch()
        return FACTORY(job, mode)

    def describe(self) -> str:
        return FACTORY.describe()


@dataclass(frozen=True)
class FailingFactory:
    code: str

    def __call__(self, job, mode):
        if job.la_code == self.code:
            raise ApgeoValueError(f"no network for {job.la_code}")
        return FACTORY(job, mode)

    def describe(self) -> str:
        return FACTORY.describe()


@dataclass(frozen=True)
class KillOnceFactory:
    """Kills the worker process the first time it builds ``code``'s network."""

    marker: str
    code: str

    def __call__(self, job, mode):
        if job.la_code == self.code and not os.path.exists(self.marker):
            Path(self.marker).touch()
            os._exit(1)
        return FACTORY(job, mode)

    def describe(self) -> str:
        return FACTORY.describe()


def _built(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.fixture(scope="module")
def serial():
    return _run()


# ------------------------------------------------------------------ the rows themselves


def test_rows_with_straight_line_times_match_england_comparison():
    """Fed straight-line times, the per-authority summary reproduces england_comparison."""
    jobs = _jobs(buffer_m=50_000.0)  # every setting in reach, as in england_comparison
    rows = []
    for job in jobs:
        xy = job.lsoas[["easting_m", "northing_m"]].to_numpy()
        times, methods = {}, {}
        for mode in job.modes:
            per_min = STRAIGHT_LINE_SPEEDS_KPH[mode] * 1000 / 60

            def nearest(
                sites: pd.DataFrame, per_min: float = per_min, xy: np.ndarray = xy
            ) -> np.ndarray:
                if sites.empty:
                    return np.full(len(xy), np.inf)
                d = np.hypot(
                    xy[:, None, 0] - sites["x"].to_numpy(), xy[:, None, 1] - sites["y"].to_numpy()
                )
                return d.min(axis=1) * DEFAULT_CIRCUITY / per_min

            own = job.sites.loc[job.sites["la_code"] == job.la_code]
            times[mode] = (nearest(job.sites), nearest(own))
            methods[mode] = mode
        rows.append(authority_rows(job, times, methods).assign(status="ok"))
    ours = finish_table(rows, buffer_m=50_000.0)
    theirs = england_comparison(
        modes=MODES, lsoas=_lsoas(), ap_settings=_sites(), authorities=_authorities()
    )
    names = display_names(_authorities())
    theirs["la_name"] = theirs["la_code"].map(names)
    cols = [c for c in theirs.columns if c != "method"]
    pd.testing.assert_frame_equal(
        ours[cols].astype({"rank": int, "rank_own": int}), theirs[cols], check_dtype=False
    )


def test_same_name_old_and_new_codes_kept_apart(serial, tmp_path):
    table = serial.table
    assert table.groupby("mode")["la_code"].apply(sorted).tolist() == [list(CODES)] * 2
    first = table.drop_duplicates("la_code").set_index("la_code")["la_name"]
    assert first["835"] == "Dorset (835, before April 2019)"
    assert first["838"] == "Dorset"
    assert first["909"] == "Cumbria (909, abolished April 2023)"
    assert first["942"] == "Cumberland"
    assert first.is_unique
    # two codes with one name and no dated label: both suffixed with their code
    names = display_names(pd.DataFrame({"la_code": ["815", "816"], "la_name": ["York", "York"]}))
    assert names == {"815": "York (LA 815)", "816": "York (LA 816)"}
    run = _run(resume_dir=tmp_path)
    assert sorted(p.name for p in tmp_path.glob("*.csv")) == [f"{c}.csv" for c in CODES]
    assert (
        pd.read_csv(result_path(tmp_path, "835"), dtype={"la_code": str})["la_code"] == "835"
    ).all()
    pd.testing.assert_frame_equal(run.table, table)


def test_networks_give_figures_and_flags(serial):
    t = serial.table
    assert serial.failed == {} and sorted(serial.computed) == list(CODES)
    assert (t["status"] == "ok").all() and t["rank"].notna().all()
    walk = t.loc[t["mode"] == "walk"].set_index("la_code")
    assert not walk.loc["943", "has_own_ap_setting"]
    assert walk.loc["943", "share_within_30_min_own"] == 0
    # 943 reaches 942's setting over the border
    assert walk.loc["943", "share_within_60_min_any"] > 0
    drive = t.loc[t["mode"] == "drive"].set_index("la_code")
    assert (drive["median_time_min_any"] < walk["median_time_min_any"]).all()
    assert (walk["network_source"] == "synthetic grid").all()


# ------------------------------------------------------------------ Dask


def test_dask_two_workers_equal_serial(serial):
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        run = _run(client=client)
    assert sorted(run.computed) == list(CODES)
    pd.testing.assert_frame_equal(run.table, serial.table)


@pytest.mark.slow
def test_worker_killed_mid_run_still_completes(serial, tmp_path):
    import cloudpickle

    cloudpickle.register_pickle_by_value(sys.modules[__name__])
    try:
        marker = tmp_path / "killed"
        run = _run(
            factory=KillOnceFactory(str(marker), "909"),
            workers=2,
            processes=True,
            resume_dir=tmp_path / "res",
        )
    finally:
        cloudpickle.unregister_pickle_by_value(sys.modules[__name__])
    assert marker.exists()  # a worker did die
    assert run.failed == {}
    assert run.table.groupby("mode")["la_code"].apply(list).tolist() == [list(CODES)] * 2
    pd.testing.assert_frame_equal(run.table, serial.table)


def test_interrupted_run_resumes_with_only_the_rest(serial, tmp_path):
    calls = tmp_path / "calls"
    calls.mkdir()
    res = tmp_path / "res"
    with pytest.raises(KeyboardInterrupt):
        _run(factory=CountingFactory(str(calls), stop_after=2), resume_dir=res)
    assert sorted(p.name for p in res.iterdir()) == ["835.csv", "838.csv"]  # no temp files left
    for p in calls.iterdir():
        p.unlink()
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        run = _run(factory=CountingFactory(str(calls)), resume_dir=res, client=client)
    assert _built(calls) == sorted(f"{c}_{m}" for c in CODES[2:] for m in MODES)
    assert sorted(run.resumed) == ["835", "838"] and sorted(run.computed) == list(CODES[2:])
    pd.testing.assert_frame_equal(run.table, serial.table)
    # a third run computes nothing
    for p in calls.iterdir():
        p.unlink()
    again = _run(factory=CountingFactory(str(calls)), resume_dir=res)
    assert _built(calls) == [] and sorted(again.resumed) == list(CODES)
    pd.testing.assert_frame_equal(again.table, serial.table)


def test_changed_inputs_are_recomputed(tmp_path):
    _run(resume_dir=tmp_path)
    calls = tmp_path / "calls"
    calls.mkdir()
    run = run_england_networks(
        CountingFactory(str(calls)),
        modes=MODES,
        lsoas=_lsoas(),
        ap_settings=_sites().iloc[:-1],
        authorities=_authorities(),
        buffer_m=3_000.0,
        resume_dir=tmp_path,
    )
    # the dropped setting (909's second) is 909's own and in reach of 942 only
    assert sorted(run.computed) == ["909", "942"]


def test_failed_authority_is_reported_and_retried(serial, tmp_path):
    with pytest.warns(ApgeoWarning, match=r"1 of 5 authorities failed: 942: ApgeoValueError"):
        run = _run(factory=FailingFactory("942"), resume_dir=tmp_path)
    assert list(run.failed) == ["942"]
    t = run.table
    assert t.groupby("mode")["la_code"].apply(list).tolist() == [list(CODES)] * 2
    bad = t.loc[t["la_code"] == "942"]
    assert (bad["status"] == "failed").all() and bad["rank"].isna().all()
    assert bad["note"].str.contains("no network for 942").all()
    assert not result_path(tmp_path, "942").exists()
    calls = tmp_path / "calls"
    calls.mkdir()
    rerun = _run(factory=CountingFactory(str(calls)), resume_dir=tmp_path)
    assert rerun.computed == ["942"] and rerun.failed == {}
    pd.testing.assert_frame_equal(rerun.table, serial.table)


def test_run_jobs_rejects_bad_input():
    jobs = _jobs()
    with pytest.raises(ApgeoValueError, match="more than one job"):
        run_jobs([jobs[0], jobs[0]], FACTORY)
    with pytest.raises(ApgeoValueError, match="workers=-1"):
        run_jobs(jobs, FACTORY, workers=-1)
    with pytest.raises(ApgeoValueError, match="not among the authorities"):
        _run(la_codes=["999"])
    with pytest.raises(ApgeoValueError):
        run_england_networks(FACTORY, modes=["bus"], lsoas=_lsoas(), ap_settings=_sites())
    with pytest.raises(ApgeoValueError, match="positive minutes"):
        run_england_networks(FACTORY, thresholds_min=[0], lsoas=_lsoas(), ap_settings=_sites())


# ------------------------------------------------------------------ CLI


def test_cli_england_networks_synthetic(tmp_path, capsys):
    out = tmp_path / "out"
    res = tmp_path / "res"
    argv = [
        "england",
        "--out",
        str(out),
        "--modes",
        "walk",
        "--networks",
        "synthetic",
        "--authorities",
        "373",
        "370",
        "--resume-dir",
        str(res),
        "--area",
        "Sheffield",
        "--workers",
        "0",
        "--buffer-km",
        "2",
    ]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "2 authorities" in text and "street network" in text
    table = pd.read_csv(out / "england_comparison.csv", dtype={"la_code": str})
    assert sorted(table["la_code"]) == ["370", "373"] and (table["status"] == "ok").all()
    assert sorted(p.name for p in res.glob("*.csv")) == ["370.csv", "373.csv"]
    md = (out / "england_comparison.md").read_text()
    assert "street network" in md and "crow-fly" not in md
    assert main(argv) == 0
    assert "2 resumed" in capsys.readouterr().out


def test_cli_england_network_options_checked(capsys):
    assert main(["england", "--networks", "pbf"]) == 2
    assert "--pbf" in capsys.readouterr().err
    assert main(["england", "--workers", "2"]) == 2
    assert "--networks" in capsys.readouterr().err
