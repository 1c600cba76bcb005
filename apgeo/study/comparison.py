"""The study area against England, the core cities and its nearest neighbours.

A study stage: the straight-line England run (:func:`apgeo.analysis.england.england_comparison`,
every English education authority, under a second) and the study area's standing in it,
for a section of the report and ``england_comparison.csv``. The England figures are
always the straight-line estimate with mid-2015 children and GIAS's state-funded AP
settings (the caveats travel with the table), whatever the study's own network is.

It depends on neither the providers nor the network, so a rerun after a site moved takes
it from the study cache: kept under the content of the committed England extract, the
modes and the area, in the folder of the code that computes it.
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

from apgeo._cache import cached_arrays, file_sha256
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
    from apgeo.inputs.areas import resolve_area
    from apgeo.study.incremental import study_cache_dir

    cfg = result.config
    modes = [m for m in cfg.modes if m in ENGLAND_MODES] or list(ENGLAND_MODES)
    area = resolve_area(result.area_name or cfg.area)
    extract = _extract_digests()
    payload = {"kind": "england comparison", "modes": modes, "la_code": area.la_code, "extract": extract}
    folder = study_cache_dir() / "england" if extract else None  # not the extract: not kept
    data = cached_arrays(folder, payload, lambda: _comparison_arrays(modes, area.la_code), code=[__name__])
    assert data is not None  # computed, or read back whole
    comparison = pd.read_parquet(io.BytesIO(data["comparison"].tobytes()))
    lines = [str(line) for line in data["standing"].tolist()]
    result.tables["england_comparison"] = comparison
    result.headline.update(
        {f"england_rank_{m}": int(r) for m, r in zip(data["rank_modes"].tolist(), data["ranks"].tolist(), strict=True)}
    )
    result.sections["england_standing"] = lines
    logger.info("%s against England: %s", area.name, "; ".join(lines))


def _extract_digests() -> dict[str, str] | None:
    """sha256 of each file of the committed England extract (about 1.3 MB: a few ms);
    ``None`` when one is missing (the inputs then come from elsewhere: nothing is kept)."""
    from apgeo.inputs.areas import AUTHORITIES_FILE, EXTRACT_DIR, GIAS_EXTRACT_FILE, LSOA_FILE

    paths = [EXTRACT_DIR / name for name in (AUTHORITIES_FILE, GIAS_EXTRACT_FILE, LSOA_FILE)]
    if not all(p.is_file() for p in paths):
        return None
    return {p.name: file_sha256(p) for p in paths}


def _comparison_arrays(modes: list[str], la_code: str) -> dict[str, Any]:
    """The comparison table (Parquet bytes: types kept), each mode's rank of the area and
    its standing lines, as arrays for the study cache."""
    from apgeo.analysis.england import comparators, england_comparison
    from apgeo.inputs.areas import ap_settings_england, load_gias_england
    from apgeo.outputs.england_report import standing_lines

    table = england_comparison(modes=modes, ap_settings=ap_settings_england(load_gias_england()))
    comparison = comparators(table, la_code, n=5)
    comparison.insert(2, "method", comparison["mode"].map(
        dict(zip(table["mode"], table["method"], strict=True))
    ))
    ranks = {
        str(mode): int(t.loc[t["la_code"] == la_code, "rank"].iloc[0])
        for mode, t in table.groupby("mode", sort=False)
    }
    buffer = io.BytesIO()
    comparison.to_parquet(buffer, index=False)
    return {
        "comparison": np.frombuffer(buffer.getvalue(), dtype=np.uint8),
        "rank_modes": np.array(list(ranks), dtype=str),
        "ranks": np.array(list(ranks.values()), dtype=np.int64),
        "standing": np.array(standing_lines(table, la_code), dtype=str),
    }
