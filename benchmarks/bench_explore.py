"""Response of ``apgeo explore`` to one change, per mode, on Sheffield (offline data).

The warm session (:func:`apgeo.study.explore.explore_session`) takes 20 moves of the
Inclusion Centre's main site to seeded places within 3 km; for each the time of
``LiveScenario.compare`` (the comparison the panel shows: children within 15 / 30 / 45 min,
cold spots, E2SFCA) and, where ipyleaflet is installed, of the whole page update (the
comparison plus redrawing the panel and the areas' colours) with the kilobytes of widget
state the update sends to the browser (JSON, as the kernel would send it). Public transport
is one of the modes when the study has a timetable. Baseline in the same run:
``compare_scenarios`` for the same change, recomputing today's side every time.

Run: ``python benchmarks/bench_explore.py [--config studies/sheffield.toml] [--changes 20]``
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
import warnings

import numpy as np
from shapely.geometry import Point

SITE = "URN137596-1"


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--config", default="studies/sheffield.toml")
    p.add_argument("--changes", type=int, default=20)
    args = p.parse_args()
    from apgeo.planning.scenarios import compare_scenarios
    from apgeo.study.config import load_config
    from apgeo.study.explore import explore_session

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        session = explore_session(load_config(args.config))
    print(f"session loaded in {time.perf_counter() - t0:.1f} s; modes {session.live.modes}")
    sent = [0]
    try:
        import ipywidgets

        real_send = ipywidgets.Widget._send

        def counting_send(self, msg, buffers=None):  # type: ignore[no-untyped-def]
            sent[0] += len(json.dumps(msg, default=str))
            return real_send(self, msg, buffers)

        ipywidgets.Widget._send = counting_send  # type: ignore[method-assign]
        from apgeo.outputs.explore_page import ExplorePage

        page: ExplorePage | None = ExplorePage(session)
    except ImportError:
        page = None
    live, study = session.live, session.study
    g = live.providers.set_index("site_id").geometry[SITE]
    print(f"{'mode':8s} {'compare ms (median, p10-p90)':32s} {'page update ms':26s} {'KB sent':16s} baseline compare_scenarios ms")
    for mode in live.modes:
        rng = np.random.default_rng(12345)
        live.reset()
        live.compare(mode)  # today's side, once
        core, whole, base, kb = [], [], [], []
        for _ in range(args.changes):
            live.move_site(SITE, Point(g.x + rng.uniform(-3000, 3000), g.y + rng.uniform(-3000, 3000)))
            core.append(live.compare(mode).elapsed_ms)
            if page is not None:
                page.mode = mode
                sent[0] = 0
                page.update()
                whole.append(page.last_update_ms)
                kb.append(sent[0] / 1000)
            t = time.perf_counter()
            compare_scenarios(study.travel_times[mode], study.demand, study.providers, live.scenario, mode=mode,
                              new_travel_times=live.site_times[mode], key_stages=live.key_stages,
                              kinds=study.ap_kinds, thresholds_min=[15, 30, 45], max_travel_time_min=30)
            base.append((time.perf_counter() - t) * 1000)

        def fmt(v: list[float]) -> str:
            if not v:
                return "n/a"
            q = np.percentile(v, [10, 90])
            return f"{statistics.median(v):7.0f} ({q[0]:.0f}-{q[1]:.0f})"

        print(f"{mode:8s} {fmt(core):32s} {fmt(whole):26s} {fmt(kb):16s} {fmt(base)}")


if __name__ == "__main__":
    main()
