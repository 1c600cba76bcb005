"""The study area against England, the core cities and its nearest neighbours.

A study stage: the straight-line England run (:func:`apgeo.analysis.england.england_comparison`,
every English education authority, under a second) and the study area's standing in it,
for a section of the report and ``england_comparison.csv``. The England figures are
always the straight-line estimate with mid-2015 children and GIAS's state-funded AP
settings (the caveats travel with the table), whatever the study's own network is.
"""

from __future__ import annotations

from apgeo._log import logger
from apgeo.study.result import StudyResult

#: Modes the England comparison covers (public transport has no England-wide timetable).
ENGLAND_MODES = ("walk", "cycle", "drive")


def compare_with_england(result: StudyResult) -> None:
    """Add ``england_comparison`` (the area, England quartiles, the core cities and the 5
    most similar authorities, per mode) and ``england_standing`` (one line per mode) to
    the study's tables.

    Parameters
    ----------
    result
        The study's result, changed in place: ``tables``, ``headline`` (``england_rank_<mode>``)
        and ``sections``.
    """
    from apgeo.analysis.england import comparators, england_comparison
    from apgeo.inputs.areas import ap_settings_england, load_gias_england, resolve_area
    from apgeo.outputs.england_report import standing_lines

    cfg = result.config
    modes = [m for m in cfg.modes if m in ENGLAND_MODES] or list(ENGLAND_MODES)
    area = resolve_area(result.area_name or cfg.area)
    table = england_comparison(modes=modes, ap_settings=ap_settings_england(load_gias_england()))
    comparison = comparators(table, area.la_code, n=5)
    comparison.insert(2, "method", comparison["mode"].map(
        dict(zip(table["mode"], table["method"], strict=True))
    ))
    result.tables["england_comparison"] = comparison
    result.headline.update(
        {
            f"england_rank_{mode}": int(t.loc[t["la_code"] == area.la_code, "rank"].iloc[0])
            for mode, t in table.groupby("mode", sort=False)
        }
    )
    result.sections["england_standing"] = standing_lines(table, area.la_code)
    logger.info("%s against England: %s", area.name, "; ".join(standing_lines(table, area.la_code)))
