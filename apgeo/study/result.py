"""What a study produced (:class:`StudyResult`), shared by the pipeline and the report.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd

from apgeo.routing.straight_line import METHOD_LABEL
from apgeo.study.config import StudyConfig

Progress = Callable[[str], None]


@dataclass(repr=False)
class StudyResult:
    """Everything a study produced, in memory, plus the files written.

    In a notebook it shows as a short table (``_repr_html_``): the study, how the travel
    times were made, the headline figures and what was written.
    """

    config: StudyConfig
    providers: gpd.GeoDataFrame
    not_located: pd.DataFrame
    demand: gpd.GeoDataFrame
    wards: gpd.GeoDataFrame | None
    boundary: gpd.GeoDataFrame
    #: The education authority studied (its name as GIAS spells it).
    area_name: str = ""
    #: True when demand areas are LSOA polygons; False when they are centroids only.
    polygons: bool = True
    #: Where the children counts come from (quoted by every output that uses them).
    population_note: str = ""
    network_method: dict[str, str] = field(default_factory=dict)  # mode -> how times were made
    #: mode -> what its street network was (file, hash, date, kept, dropped, beyond its edge)
    network_records: dict[str, Any] = field(default_factory=dict)
    travel_times: dict[str, pd.DataFrame] = field(default_factory=dict)  # mode -> long table
    #: mode -> TravelTimeEngine (network runs), or a DeferredEngine (apgeo.routing.deferred)
    #: for a network file the study cache knows: ``resolve_engine`` builds it when needed.
    engines: dict[str, Any] = field(default_factory=dict)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)
    #: Extra output formats besides CSV and the GeoPackage ("parquet": GeoParquet files).
    formats: tuple[str, ...] = ()
    headline: dict[str, Any] = field(default_factory=dict)
    #: Ready-made report lines by section (e.g. ``england_standing``).
    sections: dict[str, list[str]] = field(default_factory=dict)

    @property
    def ap_kinds(self) -> list[str]:
        """The configured AP kinds that some provider of the study has."""
        present = set(self.providers["kind"])
        return [k for k in self.config.ap_kinds if k in present]

    def __repr__(self) -> str:
        modes = ", ".join(self.travel_times) or "none"
        return (
            f"StudyResult({self.config.name!r}: {len(self.providers)} providers, "
            f"{len(self.demand)} areas, modes {modes}, {len(self.tables)} tables, "
            f"{len(self.files)} files)"
        )

    def _repr_html_(self) -> str:
        from apgeo._repr import html_summary

        rows: list[tuple[str, object]] = [
            ("Area", self.area_name or self.config.name),
            ("Providers (located)", len(self.providers)),
            ("Providers not located", len(self.not_located)),
            ("Demand areas", len(self.demand)),
        ]
        rows += [(f"Travel times: {mode}", how) for mode, how in self.network_method.items()]
        shown = [(k, v) for k, v in self.headline.items() if isinstance(v, (int, float, str))]
        rows += shown[:12]
        if len(shown) > 12:
            rows.append(("More headline figures", f"{len(shown) - 12} in .headline"))
        rows += [("Tables", len(self.tables)), ("Files written", len(self.files))]
        method = "STRAIGHT-LINE ESTIMATE for some modes" if self.is_estimate else None
        return html_summary(f"Study {self.config.name}", rows, method=method)

    @property
    def is_estimate(self) -> bool:
        return any(METHOD_LABEL in v.lower() or "straight-line" in v.lower() for v in self.network_method.values())
