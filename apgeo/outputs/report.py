"""The study report: Markdown a planner can paste, and the same as HTML.

Every figure in it comes from the study's tables; the header says how travel times
were made (street network or straight-line estimate) before anything else.
"""

from __future__ import annotations

import numbers
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from apgeo import schema as S
from apgeo.analysis.coldspots import GI_KNN_NEIGHBOURS
from apgeo.inputs.landscape import BEYOND_BORDER_SOURCE, area_caveats, data_manifest
from apgeo.outputs.files import relative_link
from apgeo.routing.straight_line import STRAIGHT_LINE_SPEEDS_KPH, error_band_sentence

if TYPE_CHECKING:
    from apgeo.study.config import StudyConfig
    from apgeo.study.result import StudyResult


#: Caveats of every study; an area's own ones come from ``caveats.md`` in its data folder.
CAVEATS = [
    "'Access cold spot' here means an area with children far from suitable provision. It "
    "is not the Centre for Social Justice's 2020 quality-based 'cold spot' ranking of local "
    "authorities, nor a Gi* cluster (a statistical test).",
    "Coverage and cold spots are decided from travel times, never from catchment polygons.",
]
#: Added when the demand areas are LSOA centroids from the England extract.
CENTROID_CAVEAT = (
    "No LSOA polygons, wards or boundary are available offline for this authority: demand "
    "areas are LSOA population-weighted centroids (shown as points), the map's outline is an "
    "approximate extent, and Gi* uses the k nearest areas as neighbours instead of shared borders."
)


#: Columns holding identifiers or ordinal codes: written as they are, no separators.
_CODE_HINTS = ("urn", "_id", "code", "decile", "rank", "year", "date", "ks")


def _is_seconds(column: str) -> bool:
    return column.endswith("_s")


def number_text(value: float, column: str = "") -> str:
    """A number as a planner reads it: never scientific notation; times in seconds as
    minutes; shares (0-1) as percentages, gaps in shares as percentage points; whole
    numbers with thousands separators (not identifiers such as URNs).

    Parameters
    ----------
    value
        The number.
    column
        Its column name, which decides the format (``_s`` seconds, ``share``, ``gap_share``,
        ``time..._min``, code hints such as ``urn``).

    Returns
    -------
    str
        The formatted number.
    """
    name = column.lower()
    x = float(value)
    if _is_seconds(name):
        return f"{x / 60:,.1f}"
    if name.startswith("gap_share"):
        return f"{x * 100:+.1f} pp"
    if "share" in name:
        return f"{x * 100:.1f}%"
    if "time" in name and name.endswith("_min"):
        return f"{x:,.1f}"
    if x.is_integer():
        return str(int(x)) if any(h in name for h in _CODE_HINTS) else f"{int(x):,}"
    a = abs(x)
    if a >= 1000:
        return f"{x:,.0f}"
    if a >= 1:
        return f"{x:,.1f}"
    return f"{x:.2f}" if a >= 0.01 else f"{x:.4f}"


def _table(frame: pd.DataFrame, *, max_rows: int = 30) -> str:
    """A Markdown table (pipes escaped), numbers as :func:`number_text` writes them; a
    column in seconds (``*_s``) is shown in minutes and its header says ``_min``."""
    if frame.empty:
        return "_(none)_\n"
    f = frame.head(max_rows)
    cols = [str(c) for c in f.columns]
    numeric = {c: pd.api.types.is_numeric_dtype(f[c]) and not pd.api.types.is_bool_dtype(f[c]) for c in f.columns}
    header = [c[:-2] + "_min" if numeric[c] and _is_seconds(c) else c for c in cols]

    def cell(v: object, col: str) -> str:
        if v is None or v is pd.NA or (isinstance(v, float) and pd.isna(v)):
            text = ""
        elif isinstance(v, numbers.Number) and not isinstance(v, (bool, np.bool_)) and numeric[col]:
            text = number_text(float(v), col)  # type: ignore[arg-type]
        else:
            text = str(v)
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in cols) + "|"]
    lines += ["| " + " | ".join(cell(v, c) for v, c in zip(row, cols)) + " |" for row in f.itertuples(index=False)]
    more = f"\n_{len(frame) - max_rows} more rows in the CSV._\n" if len(frame) > max_rows else ""
    return "\n".join(lines) + "\n" + more


def _scenario_view(sc: pd.DataFrame) -> pd.DataFrame:
    """Scenario rows as text in their own unit: shares as %, changes in shares in
    percentage points, counts whole with separators, minutes to one decimal."""
    out = sc.copy()

    def fmt(v: object, unit: str, change: bool) -> str:
        if v is None or pd.isna(v):  # type: ignore[call-overload]
            return ""
        x = float(v)  # type: ignore[arg-type]
        if unit == "share":
            return f"{x * 100:+.1f} pp" if change else f"{x * 100:.1f}%"
        if unit == "min":
            return f"{x:+.1f}" if change else f"{x:.1f}"
        text = number_text(round(x) if abs(x) >= 10 else x)
        return f"+{text}" if change and x > 0 else text

    for col in ("before", "after", "change"):
        out[col] = [fmt(v, str(u), col == "change") for v, u in zip(sc[col], sc["unit"])]
    out["unit"] = out["unit"].replace({"share": "% of children"})
    return out


def _minutes(seconds: pd.Series) -> pd.Series:
    return (seconds / 60).round(1)


def map_path(cfg: StudyConfig, mode: str) -> Path:
    """Where the study's map of ``mode`` is written (the report links to it).

    Parameters
    ----------
    cfg
        The study's config.
    mode
        Travel mode.

    Returns
    -------
    pathlib.Path
        ``<maps_dir>/<study name>_<mode>.html``.
    """
    return cfg.maps_dir / f"{cfg.name}_{mode}.html"


def build_markdown(result: StudyResult, *, figures: dict[str, Path] | None = None) -> str:
    """The report as Markdown text.

    Parameters
    ----------
    result
        The study's result.
    figures
        Figure images by caption, linked under "Figures" (``None``: no such section).

    Returns
    -------
    str
        The report's Markdown text.
    """
    cfg = result.config
    out: list[str] = [f"# {cfg.title}\n"]
    if result.is_estimate:
        out.append(
            "> **Travel times in this report are a STRAIGHT-LINE ESTIMATE, not street-network "
            "times.** No street network was available (offline, no network file). Crow-fly "
            f"distance is multiplied by a circuity factor of {cfg.circuity_factor:g} "
            "(Ballou, Rahardja & Sakai 2002) at each mode's speed. Run the study once with "
            "internet access, or set `[network] source` to an OpenStreetMap PBF / GraphML file, "
            "for real street-network times.\n"
        )
    out.append("## How travel times were made\n")
    for mode, method in result.network_method.items():
        out.append(f"- **{mode}**: {method}")
        if method.startswith("STRAIGHT-LINE ESTIMATE"):  # its measured error, in full
            out.append(f"  {error_band_sentence(mode, circuity_factor=cfg.circuity_factor)}")
    out.append("")
    out.extend(_network_section(result))
    out.extend(_beyond_border_note(result))
    out.append("## Headline figures\n")
    h = result.headline
    out.append(f"- Demand areas: {h.get('lsoas')} LSOAs (2011); children aged 5-15: {h.get('children_school_age'):,}.")
    out.append(
        f"- Provider sites located: {h.get('providers_located')}; not located (listed below): "
        f"{h.get('providers_not_located')}."
    )
    for mode in result.travel_times:
        cold = h.get(f"access_coldspot_areas_{mode}")
        out.append(
            f"- By {mode}: {_within_text(h, mode)}median time from an LSOA to its nearest AP site "
            f"(any key stage) {_median_text(h, mode)}; {cold} LSOAs are access cold spots for at "
            f"least one key stage (> {cfg.cold_spot_threshold_min:g} min)."
        )
    out.append("")
    if "coverage" in result.tables:
        cov = result.tables["coverage"]
        cov = cov[cov["providers"] == "AP"]
        share_cols = [c for c in cov.columns if c.startswith("share_within_")]
        lost = [c for c in ("children_unreachable", "areas_unreachable") if c in cov.columns]
        view = cov[["mode", "key_stage", "children", "mean_nearest_time_s", *lost, *share_cols]].copy()
        view.insert(3, "mean_nearest_time_min", _minutes(view.pop("mean_nearest_time_s")))
        out.append("## Coverage: share of children (%) within each band of an AP site serving their key stage\n")
        out.append(
            "A child counts as within N minutes when an AP site serving their key stage is "
            f"(key stages {', '.join(cfg.key_stages)}); the same rule as headline_coverage.csv and "
            "the scenarios. Mean times are over the children who reach such a site: the "
            "children_unreachable (in areas_unreachable LSOAs) are left out of the mean and count "
            "in every share as not within.\n"
        )
        out.append(_table(view))
    if "equity_gaps" in result.tables:
        out.append("## Equity: most deprived tenth minus least deprived tenth\n")
        out.append(
            "Positive time gaps mean children in the most deprived areas travel longer; "
            "deciles are national (1 = most deprived 10 % of England's LSOAs).\n"
        )
        # the header above says how travel times were made; the CSV carries it per row
        gaps = result.tables["equity_gaps"].drop(columns=[S.TRAVEL_TIME_METHOD], errors="ignore")
        gaps["gap_mean_nearest_time_min"] = _minutes(gaps.pop("gap_mean_nearest_time_s"))
        out.append("Share gaps are in percentage points.\n")
        out.append(_table(gaps))
    if "access_coldspots" in result.tables:
        cold = result.tables["access_coldspots"]
        cold = cold[cold["access_coldspot"]].sort_values(["mode", "priority_score"], ascending=[True, False])
        top = cold.groupby("mode").head(10)[["mode", S.AREA_ID, "key_stage", "priority_score", "reason"]]
        out.append("## Access cold spots (far from suitable provision), top 10 per mode by priority\n")
        out.append(
            "priority = children x IDACI weight ((11 - decile) / 10) x min(time / threshold, 2).\n"
        )
        out.append(_table(top, max_rows=40))
    if "recommendations" in result.tables:
        from apgeo.planning.export import recommendations_markdown

        rec = result.tables["recommendations"]
        cfg_r = result.config
        out.append(
            f"## Recommendations: where new AP capacity should go ({cfg_r.recommend_mode}, "
            f"within {cfg_r.recommend_max_travel_time_min:g} min)\n"
        )
        rate = result.headline.get("known_ap_places_per_1000_weighted_need")
        places = (
            "Places suggested at the area's current rate of known AP places per unit of need "
            f"({rate:.1f} per 1,000). "
            if isinstance(rate, (int, float))
            else "No places are suggested: no existing AP provider has known places to scale from. "
        )
        out.append(
            "Exact location-allocation with the current AP sites kept open. *coverage* = maximal "
            "covering (most need newly within the threshold); *time* = p-median (least "
            "need-weighted travel time). Need = children x IDACI weight. "
            f"{places}"
            "Candidates are mainstream schools that could host a hub, as the primary AP hubs do.\n"
        )
        for (group, objective), part in rec.groupby(["group", "objective"], sort=False):
            out.append(f"### {str(group).capitalize()} ({objective})\n")
            out.append(recommendations_markdown(part).replace("## Recommended sites", "#### Recommended sites", 1))
            out.append("")
    if "scenarios" in result.tables:
        sc = result.tables["scenarios"]
        sc = sc[sc["key_stage"] == "all"][["scenario", "metric", "unit", "before", "after", "change"]]
        out.append("## Scenarios side by side\n")
        out.append(_table(_scenario_view(sc)))
    out += _transit_section(result)
    if "england_comparison" in result.tables:
        out += _england_section(result)
    burden = [k for k in result.tables if k.startswith("placements") and k.endswith("burden_key_stage")]
    if burden:
        from apgeo.privacy.statistics_check import SUPPRESSION_NOTE
    for key in burden:
        synthetic = "synthetic" in key
        out.append("## Placements: travel burden by key stage" + (" (SYNTHETIC DATA, not real pupils)" if synthetic else "") + "\n")
        out.append(f"{SUPPRESSION_NOTE}\n")
        if result.headline.get("placements_withheld"):  # what the audit of all tables together withheld
            out.append(f"{result.headline['placements_withheld']}\n")
        out.append(_table(result.tables[key]))
    out += _time_in_ap_section(result)
    if "quality_coverage" in result.tables:
        out.append("## Quality: all provision next to good-or-better provision\n")
        out.append(_table(result.tables["quality_coverage"]))
    if "providers_by_kind" in result.tables:
        out.append("## Providers by kind\n")
        out.append(_table(result.tables["providers_by_kind"]))
    out.append("## Providers not located\n")
    nl = result.not_located
    out.append(_table(pd.DataFrame(nl[[S.NAME, S.KIND, S.KEY_STAGES, S.LOCATION_NOTE]]) if len(nl) else nl))
    if "children_by_key_stage" in result.tables:
        out.append("## Children by key stage\n")
        out.append(f"Source: {result.population_note or 'see the data sources'}.\n")
        out.append(_table(result.tables["children_by_key_stage"]))
    if figures:
        out.append("## Figures\n")
        for label, path in figures.items():
            out.append(f"![{label}]({relative_link(path, cfg.output_dir)})\n")
    out.append("## Maps\n")
    for mode in result.travel_times:
        out.append(f"- [{mode} map]({relative_link(map_path(cfg, mode), cfg.output_dir)})")
    out.append("")
    out.append("## Assumptions\n")
    sl = STRAIGHT_LINE_SPEEDS_KPH
    out.append(
        "- Speeds: walk 4.8 km/h (DfT journey-time statistics), cycle 15 km/h, drive from OSM maxspeed on "
        f"street networks; the straight-line estimate uses walk {sl['walk']:g}, cycle {sl['cycle']:g} and "
        f"drive {sl['drive']:g} km/h (fitted to real streets: scripts/measure_straight_line.py)."
    )
    out.append(f"- Thresholds: {', '.join(f'{t:g}' for t in cfg.thresholds_min)} minutes; key stages {', '.join(cfg.key_stages)}.")
    out.append(f"- Provider kinds counted as AP: {', '.join(cfg.ap_kinds)}.")
    out.append("- Demand points: ONS population-weighted centroids of LSOAs (2011).")
    weights = "Queen contiguity" if result.polygons else f"the {GI_KNN_NEIGHBOURS} nearest areas (no polygons offline)"
    out.append(
        f"- Gi* clusters: 999 permutations, seed {cfg.random_state}, false discovery rate 0.05 "
        f"(Benjamini-Hochberg) over the {len(result.demand):,} local tests, {weights}."
    )
    out.append("")
    out.append("## Caveats\n")
    caveats = [*area_caveats(cfg.data_dir), *CAVEATS]
    if not result.polygons:
        caveats.append(CENTROID_CAVEAT)
    out += [f"- {c}" for c in caveats]
    out.append("")
    out.append("## Data sources\n")
    manifest = data_manifest(cfg.data_dir)
    out.append(_table(manifest[["file", "data_date", "licence", "source_url"]], max_rows=60))
    out.append(
        "Contains OS data © Crown copyright and database right 2025; Contains Royal Mail data © "
        "Royal Mail copyright and database right 2025; Contains National Statistics data © Crown "
        "copyright and database right 2025. OpenStreetMap data © OpenStreetMap contributors (ODbL).\n"
    )
    return "\n".join(out)


def _network_section(result: StudyResult) -> list[str]:
    """What each street network was: file, hash, OSM date, kept and dropped, rules."""
    if not result.network_records:
        return []
    out = ["### Street networks\n"]
    for record in result.network_records.values():
        out.append(f"- {record.describe()}")
    out.append("")
    return out


def _beyond_border_note(result: StudyResult) -> list[str]:
    """Which settings beyond the border the study added, when the area has none of its own."""
    source = result.providers[S.SOURCE].astype(str) if S.SOURCE in result.providers else None
    if source is None:
        return []
    added = result.providers[source.str.contains(BEYOND_BORDER_SOURCE, regex=False)]
    if added.empty:
        return []
    names = "; ".join(
        f"{n} ({la})" for n, la in zip(added[S.NAME], added.get("nearest_authority", [""] * len(added)))
    )
    area = result.area_name or result.config.area
    return [
        f"**{area} has no AP setting of its own counted as AP.** The study uses each area's "
        f"nearest AP setting beyond the border, by key stage ({len(added)}): {names}. Give the "
        "settings its children really attend as `[providers] files` to study those instead.\n"
    ]


def _within_text(h: dict, mode: str) -> str:
    """"14,645 children (19.7 %) within 30 min of an AP site serving their key stage; "."""
    for key in h:
        if key.startswith("children_within_") and key.endswith(f"_min_{mode}"):
            t = key[len("children_within_"): -len(f"_min_{mode}")]
            share = float(h.get(f"share_within_{t}_min_{mode}") or 0.0)
            return (
                f"{h[key]:,.0f} children ({share * 100:.1f} %) within {t} min of an AP site "
                "serving their key stage; "
            )
    return ""


def _median_text(h: dict, mode: str) -> str:
    """The median with the LSOAs it counts as beyond the journey limit, or "over the limit"."""
    med = h.get(f"median_minutes_to_nearest_ap_{mode}")
    cap = h.get(f"travel_time_cap_min_{mode}")
    lost = int(h.get(f"areas_unreachable_{mode}") or 0)
    kids = int(h.get(f"children_unreachable_{mode}") or 0)
    limit = f"within the {cap:g}-min journey limit" if cap else "by any path"
    if med is None:
        return f"over {cap:g} min ({lost} LSOAs, {kids:,} children aged 5-15, reach no AP site {limit})"
    text = f"{med:.1f} min"
    if lost:
        text += f" ({lost} LSOAs, {kids:,} children aged 5-15, reach no AP site {limit} and count as beyond it)"
    elif cap:
        text += f" (journeys capped at {cap:g} min; every LSOA reaches one)"
    return text


def _time_in_ap_section(result: StudyResult) -> list[str]:
    """Is AP short term, and do children return to mainstream? (suppressed tables)"""
    keys = [k for k in result.tables if "time_in_ap_" in k and not k.endswith("school_urn")]
    if not keys:
        return []
    from apgeo.analysis.time_in_ap import METHOD_TEXT
    from apgeo.privacy.publish_time_in_ap import TIME_IN_AP_NOTE

    synthetic = any("synthetic" in k for k in keys)
    out = ["## Time in AP and return to mainstream" + (" (SYNTHETIC DATA, not real pupils)" if synthetic else "") + "\n"]
    out.append(f"How it is measured: {METHOD_TEXT}. {TIME_IN_AP_NOTE}\n")
    for key in keys:
        t = result.tables[key]
        shown = pd.DataFrame(
            {
                "group": t["group"],
                "open": t["open_placements"],
                "ended": t["ended_placements"],
                "median_weeks_ended": t["median_weeks_ended"],
                "share_over_one_term": t["share_over_one_term"],
                "share_over_one_year": t["share_over_one_year"],
                "share_returned_within_6_months": t["share_returned_within_6_months"],
                "share_returned_within_12_months": t["share_returned_within_12_months"],
            }
        )
        out.append(f"### By {str(t['group_by'].iloc[0]).replace('_', ' ')}\n")
        out.append(_table(shown))
    out.append("The same figures by referring school are in the time_in_ap_school_urn table.\n")
    return out


def _transit_section(result: StudyResult) -> list[str]:
    """What public transport changes: AP sites near stops, KS3-4 shares, the areas it helps."""
    if "transit_vs_walk" not in result.tables and "transit_ap_sites" not in result.tables:
        return []
    out = ["## Public transport: what the timetable changes\n"]
    how = str(result.network_method.get("transit", "not run")).removeprefix("public transport: ")
    out.append(f"How public transport times were made: {how}.\n")
    if "transit_vs_walk" in result.tables:
        t = result.tables["transit_vs_walk"]
        shown = t
        out.append("Share of KS3-4 children (%) within 30 and 45 minutes of an AP site serving them, "
                   "by public transport and walking against walking alone:\n")
        out.append(_table(shown))
    if "transit_ap_sites" in result.tables:
        from apgeo.study.transit import NEAR_STOP_M

        sites = result.tables["transit_ap_sites"]
        is_near = sites[f"within_{NEAR_STOP_M:.0f}_m"].astype(bool)

        def listed(part: pd.DataFrame) -> str:
            return "; ".join(f"{n} ({s}, {d:,.0f} m)" for n, s, d in
                             zip(part["name"], part["nearest_stop"], part["nearest_stop_distance_m"]))

        near, far = sites[is_near], sites[~is_near]
        out.append(
            f"AP sites within {NEAR_STOP_M:.0f} m (straight line) of a stop: {len(near)} of {len(sites)}"
            + (": " + listed(near) if len(near) else "") + ".\n"
        )
        if len(far):
            out.append(f"AP sites farther than {NEAR_STOP_M:.0f} m from every stop (nearest stop, distance): {listed(far)}.\n")
        if "beyond_longest_walk_from_a_stop" in sites.columns:
            beyond = sites[sites["beyond_longest_walk_from_a_stop"].astype(bool)]
            walk_m = result.headline.get("transit_longest_walk_from_stop_m")
            if len(beyond) and walk_m:
                out.append(
                    f"**{len(beyond)} of {len(sites)} AP sites are farther than the longest walk from a stop "
                    f"({walk_m:,.0f} m): public transport cannot bring anyone to "
                    f"{'it' if len(beyond) == 1 else 'them'} (only walking the whole way counts):** "
                    f"{listed(beyond)}.\n"
                )
    h = result.headline
    if "transit_difference_areas" in result.tables:
        saving, compared = h.get("transit_areas_saving_time", 0), h.get("transit_areas_compared", 0)
        unreachable = h.get("transit_areas_unreachable", 0)
        lost = (f" {unreachable} LSOAs reach no AP site by public transport within the journey limit; "
                "they are left out of this table.") if unreachable else ""
        if not saving:
            out.append(f"**Public transport saves no time over walking to the nearest AP site in any of the "
                       f"{compared} LSOAs.**{lost}\n")
        else:
            out.append(f"Areas where public transport makes the most difference (minutes saved on the "
                       f"journey to the nearest AP site): it saves time in {saving} of {compared} LSOAs; "
                       f"the others (no saving) are not listed.{lost}\n")
            out.append(_table(result.tables["transit_difference_areas"]))
    return out


def _england_section(result: StudyResult) -> list[str]:
    """The study area against every English authority (straight-line, with caveats)."""
    from apgeo.analysis.england import CAVEATS as ENGLAND_CAVEATS
    from apgeo.analysis.england import NEIGHBOURS_LABEL, SIMILARITY_RULE

    comp = result.tables["england_comparison"]
    name = result.area_name or result.config.name
    out = [f"## {name} against England, the core cities and similar authorities\n"]
    out.append(
        "Every English education authority computed the same way: the straight-line estimate "
        "from each LSOA to the nearest state-funded AP setting (children cross borders), "
        "ranked by the share of children aged 0-15 within 30 minutes (1 = best). It counts "
        "only GIAS's state-funded AP settings, the one list that exists for every authority, "
        "so its figures differ from this study's own, which count every provider above.\n"
    )
    out += result.sections.get("england_standing", [])
    out.append("")
    for mode, part in comp.groupby("mode", sort=False):
        shown = part.assign(
            authority=part["group"].astype(str) + ": " + part["la_name"].astype(str),
            share_within_30_min=part["share_within_30_min_any"].astype(float),
            share_within_30_min_own_authority=part["share_within_30_min_own"].astype(float),
            rank=part["rank"].astype("string").fillna(""),
        )[["authority", "share_within_30_min", "share_within_30_min_own_authority", "median_time_min_any", "rank"]]
        out.append(f"### {mode}\n")
        out.append(_table(shown))
    out.append(f"Similar authorities are {NEIGHBOURS_LABEL}: {SIMILARITY_RULE}.\n")
    out += [f"> {c}\n" for c in ENGLAND_CAVEATS]
    return out


def write_report(result: StudyResult, *, figures: dict[str, Path] | None = None) -> list[Path]:
    """Write ``report.md`` and ``report.html`` into the study's output folder.

    Parameters
    ----------
    result
        The study's result; files go to its config's ``output_dir`` (created if missing).
    figures
        As for :func:`build_markdown`.

    Returns
    -------
    list of pathlib.Path
        The paths of ``report.md`` and ``report.html``.
    """
    from apgeo.outputs.html_page import html_page

    out = result.config.output_dir
    out.mkdir(parents=True, exist_ok=True)
    text = build_markdown(result, figures=figures)
    md_path = out / "report.md"
    md_path.write_text(text, encoding="utf-8")
    page = html_page(text, result.config.title)  # text from the data stays text
    html_path = out / "report.html"
    html_path.write_text(page, encoding="utf-8")
    return [md_path, html_path]
