"""Open the saved study map in headless Chromium (Selenium) and look for JS errors.

Needs ``/usr/bin/chromium`` and ``/usr/bin/chromedriver`` (Debian: ``apt-get install chromium
chromium-driver``) and the ``selenium`` package; skipped with a reason otherwise.

Every request that is not a local file is blocked (Chrome DevTools
``Network.setBlockedURLs``), as on a laptop without the internet: the maps carry their own
Leaflet and jQuery (:func:`apgeo.outputs.maps.save_map`), so their layers must draw with
no JS error at all; only the basemap tiles fail to load.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from apgeo.outputs.maps import save_map, study_map

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")

if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
    pytest.skip(
        "headless browser test needs /usr/bin/chromium and /usr/bin/chromedriver "
        "(apt-get install chromium chromium-driver)",
        allow_module_level=True,
    )
webdriver = pytest.importorskip(
    "selenium.webdriver", reason="browser test needs selenium (pip install 'selenium>=4.10')"
)
from selenium.webdriver.chrome.service import Service  # noqa: E402

EVIL = "<script>alert(1)</script>"
TITLE = "Sheffield AP access (browser test)"
METHOD = "Travel times: STRAIGHT-LINE ESTIMATE (crow-fly distance x 1.3 at mode speed)"
#: Network failures (basemap tiles) are expected offline.
NETWORK_FAILURE = re.compile(r"^https?://\S+ - Failed to load resource")
#: Any request outside the file system.
BLOCKED = ["http://*", "https://*", "ws://*", "wss://*", "ftp://*"]


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    profile = tmp_path_factory.mktemp("chromium-profile")
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    drv = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    drv.set_page_load_timeout(60)
    drv.execute_cdp_cmd("Network.enable", {})
    drv.execute_cdp_cmd("Network.setBlockedURLs", {"urls": BLOCKED})
    yield drv
    drv.quit()


@pytest.fixture(scope="module")
def study(sheffield_providers, sheffield_demand):
    providers = sheffield_providers.copy()
    providers.loc[providers.index[0], "name"] = EVIL + " ${alert(2)}"
    areas = sheffield_demand.copy()
    areas["travel_time_s"] = np.random.default_rng(1).uniform(60, 4000, len(areas))
    areas.loc[areas.index[:3], "travel_time_s"] = np.nan
    coldspots = areas.iloc[:5][["area_id", "area_name", "geometry"]].copy()
    coldspots["reason"] = "over 30 min " + EVIL
    return study_map(
        providers=providers,
        areas=areas,
        area_value_column="travel_time_s",
        coldspots=coldspots,
        title=TITLE,
        method_note=METHOD,
    )


def _open(drv, path: Path) -> list[dict]:
    drv.get_log("browser")  # clear
    drv.get(path.as_uri())
    # replace alert before anything else could call it later (e.g. on popup open)
    drv.execute_script("window.__alerts = []; window.alert = (m) => window.__alerts.push(m);")
    return drv.get_log("browser")


def _unexpected(logs: list[dict]) -> list[str]:
    bad = []
    for entry in logs:
        if entry["level"] != "SEVERE":
            continue
        msg = entry["message"]
        if NETWORK_FAILURE.search(msg):
            continue
        bad.append(msg)
    return bad


def _no_alert_fired(drv) -> None:
    # An alert during load leaves an open dialog: the next driver command raises.
    assert drv.execute_script("return window.__alerts.length") == 0


def test_web_is_blocked(driver, tmp_path):
    """The test browser really reaches nothing outside the file system."""
    page = tmp_path / "probe.html"
    page.write_text(
        '<html><body><script src="https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js">'
        "</script></body></html>",
        encoding="utf-8",
    )
    driver.get(page.as_uri())
    assert driver.execute_script("return typeof L") == "undefined"


def test_offline_page_draws_layers(driver, study, tmp_path):
    path = save_map(study, tmp_path / "offline.html")
    logs = _open(driver, path)
    assert driver.title == TITLE
    assert METHOD in driver.find_element("tag name", "body").text
    assert _unexpected(logs) == []
    assert driver.execute_script("return typeof L") == "object"
    n_paths = driver.execute_script(
        "return document.querySelectorAll('path.leaflet-interactive').length"
    )
    assert n_paths >= 345  # every LSOA polygon (plus markers and cold spots)
    labels = driver.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
        ".map(l => l.textContent.trim())"
    )
    assert "Access cold spots (far from suitable provision)" in labels
    # open the popup of the provider with the hostile name: its text shows, nothing runs
    text = driver.execute_script(
        "for (const k in window) { const v = window[k];"
        "  if (v instanceof L.CircleMarker && v.getPopup()) {"
        "    const c = v.getPopup().getContent();"
        "    const t = typeof c === 'string' ? c : c.textContent;"
        "    if (t.includes('alert(1)')) { v.openPopup(); return t; } } }"
        "return null;"
    )
    assert text is not None and EVIL in text and "${alert(2)}" in text
    shown = driver.execute_script(
        "return document.querySelector('.leaflet-popup-content').textContent"
    )
    assert EVIL in shown
    _no_alert_fired(driver)
    assert _unexpected(driver.get_log("browser")) == []
    assert not driver.execute_script(
        "return document.querySelector('.leaflet-popup-content script')"
    )


def test_study_map_in_browser(driver, tmp_path):
    """The map the Sheffield study writes: layers, legend, a tooltip, no console errors."""
    import warnings

    from apgeo.settings import repo_root
    from apgeo.study.config import load_config
    from apgeo.study.pipeline import run_study

    cfg_path = tmp_path / "study.toml"
    cfg_path.write_text(
        f'[study]\nname = "sheffield"\ndata_dir = "{repo_root() / "data" / "sheffield"}"\n'
        f'output_dir = "{tmp_path / "reports"}"\nmaps_dir = "{tmp_path / "maps"}"\n'
        '[network]\nsource = "straight-line"\nmodes = ["walk"]\n',
        encoding="utf-8",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run_study(load_config(cfg_path), only="maps")
    offline = tmp_path / "maps" / "sheffield_walk.html"  # as written, nothing added
    logs = _open(driver, offline)
    assert _unexpected(logs) == []
    labels = driver.execute_script(
        "return Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
        ".map(l => l.textContent.trim())"
    )
    for expected in ("Access cold spots (far from suitable provision)", "Ward boundaries", "Recommended new sites"):
        assert expected in labels
    body = driver.find_element("tag name", "body").text
    assert "STRAIGHT-LINE ESTIMATE" in body and "Legend" in body
    tip = driver.execute_script(
        "for (const k in window) { const v = window[k];"
        "  if (v instanceof L.GeoJSON && v.getTooltip()) { const ls = v.getLayers();"
        "    if (ls.length) { const l = ls[0];"
        "      v.openTooltip(l.getBounds ? l.getBounds().getCenter() : l.getLatLng()); break; } } }"
        "const t = document.querySelector('.leaflet-tooltip'); return t ? t.textContent : null;"
    )
    assert tip  # a tooltip shows text
    driver.save_screenshot(str(tmp_path / "study_map.png"))
    assert (tmp_path / "study_map.png").stat().st_size > 10_000
    _no_alert_fired(driver)
    # on a 1366 x 768 laptop: the layer list is folded away, the whole legend fits between
    # the title box and the bottom edge without scrolling, the cold spots are off at first,
    # sites are drawn above every area and line, and the title box folds away
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride", {"width": 1366, "height": 768, "deviceScaleFactor": 1, "mobile": False}
    )
    try:
        _open(driver, offline)
        box = driver.execute_script(
            "const r = id => document.getElementById(id).getBoundingClientRect();"
            "const c = document.querySelector('.leaflet-control-layers');"
            "const cold = Array.from(document.querySelectorAll('.leaflet-control-layers-overlays label'))"
            "  .find(l => l.textContent.includes('Access cold spots'));"
            "return {legend_top: r('apgeo-legend').top, legend_bottom: r('apgeo-legend').bottom,"
            "  title_bottom: r('apgeo-title').bottom, title_h: r('apgeo-title').height,"
            "  inner_h: window.innerHeight,"
            "  expanded: c.classList.contains('leaflet-control-layers-expanded'), layers_w: c.getBoundingClientRect().width,"
            "  cold_on: cold.querySelector('input').checked,"
            "  legend_scroll: document.getElementById('apgeo-legend').scrollHeight"
            "    - document.getElementById('apgeo-legend').clientHeight,"
            "  sites_z: +getComputedStyle(document.querySelector('.leaflet-apgeo-sites-pane')).zIndex,"
            "  overlay_z: +getComputedStyle(document.querySelector('.leaflet-overlay-pane')).zIndex,"
            "  sites_drawn: document.querySelectorAll('.leaflet-apgeo-sites-pane path').length};"
        )
        driver.execute_script("document.querySelector('#apgeo-title summary').click()")
        folded_h = driver.execute_script(
            "return document.getElementById('apgeo-title').getBoundingClientRect().height"
        )
        driver.save_screenshot(str(tmp_path / "study_map_1366x768.png"))
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert box["inner_h"] == 768
    assert box["title_bottom"] < box["legend_top"] and box["legend_bottom"] <= 768
    assert not box["expanded"] and box["layers_w"] < 150 and not box["cold_on"]
    assert box["legend_scroll"] <= 1, box  # every legend row in sight
    assert box["sites_z"] > box["overlay_z"] and box["sites_drawn"] > 10
    assert folded_h < 60 and folded_h < box["title_h"] / 2  # only the title is left
