"""``apgeo explore`` in headless Chromium: drag a site, read the panel, check its numbers.

The server is started as a planner starts it (``apgeo explore --config ... --port N
--no-browser``) on a free loopback port, with the Sheffield data on the straight-line
estimate (walk and public transport). The test drags the Inclusion Centre's marker, waits
for the panel to show the move, rebuilds the same scenario from the panel's saved-scenario
CSV and checks every number of the panel against ``compare_scenarios``. Screenshots at
1366 x 768 go to the test's tmp folder (``APGEO_SCREENSHOTS`` names another).

Needs /usr/bin/chromium, /usr/bin/chromedriver (``make browser-deps``), selenium, voila
and ipyleaflet; skipped with a reason otherwise.
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

from apgeo.settings import repo_root

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
    pytest.skip("the explore browser test needs /usr/bin/chromium and /usr/bin/chromedriver "
                "(make browser-deps)", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (pip install -e '.[dev]')")
pytest.importorskip("voila", reason="needs voila (pip install -e '.[explore]')")
pytest.importorskip("ipyleaflet", reason="needs ipyleaflet (pip install -e '.[explore]')")
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402

pytestmark = pytest.mark.slow
SITE = "URN137596-1"  # the Sheffield Inclusion Centre's main site
DATA = repo_root() / "data" / "sheffield"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def config_path(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("explore")
    path = folder / "sheffield.toml"
    path.write_text(
        f'[study]\nname = "sheffield"\ndata_dir = "{DATA.as_posix()}"\n'
        f'output_dir = "{(folder / "reports").as_posix()}"\nmaps_dir = "{(folder / "maps").as_posix()}"\n'
        '[network]\nsource = "straight-line"\nmodes = ["walk"]\n'
        f'[transit]\nfeeds = ["{(DATA / "transit" / "sheffield_supertram_gtfs_2024-25.zip").as_posix()}"]\n'
        'service_date = "2025-01-14"\n',
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def server(config_path, tmp_path_factory):
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(repo_root()), os.environ.get("PYTHONPATH", "")])}
    log = (tmp_path_factory.mktemp("explore-log") / "server.log").open("w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "apgeo.study.cli", "explore", "--config", str(config_path),
         "--port", str(port), "--no-browser"],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"apgeo explore exited with {proc.returncode}: see {log.name}")
            try:
                urllib.request.urlopen(url + "voila/api/shutdown", timeout=2).close()
                break
            except urllib.error.HTTPError:  # any answer: the server is up
                break
            except OSError:
                time.sleep(1)
        else:  # pragma: no cover - a stuck server
            pytest.fail("apgeo explore did not start within 180 s")
        yield url
    finally:
        import psutil

        # voila and its kernels (started in sessions of their own), as a service manager
        # or `kill` stops apgeo explore: one SIGTERM to the apgeo process alone
        started = psutil.Process(proc.pid).children(recursive=True) if proc.poll() is None else []
        proc.terminate()
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:  # pragma: no cover
            proc.kill()
            proc.wait()
        _, left = psutil.wait_procs(started, timeout=30)
        for p in left:  # pragma: no cover - do not leave them running
            p.kill()
        log.close()
        assert not left, f"apgeo explore stopped but left running: {[p.pid for p in left]}"


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--window-size=1366,768",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    drv.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                        {"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False})
    drv.set_page_load_timeout(300)
    yield drv
    drv.quit()


def _wait(drv, script: str, timeout_s: float = 240):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = drv.execute_script(script)
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for: {script}")


def _panel(drv) -> pd.DataFrame:
    rows = drv.execute_script(
        "return Array.from(document.querySelectorAll('.apgeo-results td[data-metric]')).map(td => ["
        "td.dataset.metric, td.dataset.keyStage, td.dataset.before, td.dataset.after])"
    )
    return pd.DataFrame(rows, columns=["metric", "key_stage", "before", "after"]).astype({"before": float, "after": float})


def _shots(tmp_path: Path) -> Path:
    folder = Path(os.environ.get("APGEO_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def test_drag_a_site_and_the_panel_equals_compare_scenarios(server, driver, config_path, tmp_path):
    from apgeo.planning.live import scenario_from_table
    from apgeo.planning.scenarios import compare_scenarios
    from apgeo.study.config import load_config
    from apgeo.study.explore import explore_session

    shots = _shots(tmp_path)
    driver.get(server)
    _wait(driver, "return document.querySelectorAll('.apgeo-results td[data-metric]').length > 0")
    _wait(driver, f"return document.querySelector('.apgeo-site-{SITE}')")
    time.sleep(1.0)  # let the widgets finish laying out
    driver.save_screenshot(str(shots / "explore_1366x768_today.png"))
    today = _panel(driver)
    assert (today["before"] == today["after"]).all()

    marker = driver.find_element("css selector", f".apgeo-site-{SITE}")
    ActionChains(driver).click_and_hold(marker).pause(0.2).move_by_offset(20, 10).pause(0.1) \
        .move_by_offset(60, 30).pause(0.2).release().perform()
    changes = _wait(driver, "const p = document.querySelector('pre.apgeo-changes');"
                            "return p && p.textContent.includes('move') ? p.textContent : null")
    time.sleep(0.5)
    driver.save_screenshot(str(shots / "explore_1366x768_moved.png"))
    shown = _panel(driver)
    # how the times were made is in view at 1366 x 768, above the numbers
    heading = ("const r = document.querySelector('.apgeo-results');"
               "return [r.textContent.split('children')[0], r.getBoundingClientRect().top, window.innerHeight]")
    text, top, height = driver.execute_script(heading)
    assert text.startswith("Walk (straight-line estimate)") and 0 <= top < height - 100, (text, top, height)
    elapsed_ms = float(driver.execute_script("return document.querySelector('.apgeo-results').dataset.elapsedMs"))
    assert elapsed_ms > 0

    scenario = scenario_from_table(pd.read_csv(io.StringIO(changes), dtype={"site_id": str}))
    assert [c.action for c in scenario.changes] == ["move"] and scenario.changes[0].site_id == SITE
    session = explore_session(load_config(config_path))
    study, live = session.study, session.live
    expected = compare_scenarios(
        study.travel_times["walk"], study.demand, study.providers, scenario, mode="walk",
        new_travel_times=live.site_times["walk"], key_stages=live.key_stages, kinds=study.ap_kinds,
        thresholds_min=[15, 30, 45], max_travel_time_min=30,
    )
    merged = shown.merge(expected, on=["metric", "key_stage"], suffixes=("_page", ""))
    assert len(merged) == len(shown) > 20
    assert (merged["before_page"] == merged["before"]).all()
    assert (merged["after_page"] == merged["after"]).all()
    assert (shown["before"] != shown["after"]).any()  # the move changed something
    gained = int(driver.execute_script("return document.querySelector('.apgeo-coldspots').dataset.gained"))
    lost = int(driver.execute_script("return document.querySelector('.apgeo-coldspots').dataset.lost"))
    assert (gained, lost) == (len(expected.attrs["coldspots_new"]), len(expected.attrs["coldspots_resolved"]))

    # public transport: the same move, answered for the other mode
    driver.find_element("xpath", "//button[normalize-space()='Public transport']").click()
    _wait(driver, "return document.querySelector('.apgeo-results').dataset.mode === 'transit'")
    time.sleep(0.5)
    driver.save_screenshot(str(shots / "explore_1366x768_transit.png"))
    assert driver.execute_script(heading)[0].startswith("Public transport (timetable)")
    shown = _panel(driver)
    expected = compare_scenarios(
        study.travel_times["transit"], study.demand, study.providers, scenario, mode="transit",
        new_travel_times=live.site_times["transit"], key_stages=live.key_stages, kinds=study.ap_kinds,
        thresholds_min=[15, 30, 45], max_travel_time_min=30,
    )
    merged = shown.merge(expected, on=["metric", "key_stage"], suffixes=("_page", ""))
    assert len(merged) == len(shown)
    assert (merged["after_page"] == merged["after"]).all()
    # nothing but the offline font CDN failed in the browser
    severe = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    assert [m for m in severe if "fontawesome" not in m] == []
