"""Revisions of a TransXChange service: the latest one wins.

An operator republishes a service with a higher ``RevisionNumber`` (the root attribute of
the document) when its timetable changes; a folder or zip downloaded at one time can hold
both. Read side by side, both revisions' journeys would run: every trip twice. The rule:

* Services are the same when their ``ServiceCode`` is the same.
* Of two such services whose operating periods overlap, the one with the lower
  ``RevisionNumber`` is superseded (equal numbers: the earlier ``ModificationDateTime``;
  equal again: both are kept, as operators split one service into several files).
* A superseded service that starts before the one that supersedes it keeps its days up to
  the day before (its period is cut there); otherwise it is dropped whole.

Services whose periods do not overlap (this winter's timetable and next spring's) are all
kept. The caller is told which services were dropped or cut, and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class Superseded:
    """A service (per-file key) dropped or cut because a later revision covers its days."""

    key: str
    file: str
    service_code: str
    revision: int
    by_key: str
    by_file: str
    by_revision: int
    #: last day kept, or ``None`` when the service is dropped whole
    end: date | None

    def describe(self) -> str:
        """The service dropped or cut and the revision that superseded it, in words.

        Returns
        -------
        str
            One sentence.
        """
        what = "dropped" if self.end is None else f"cut to end on {self.end.isoformat()}"
        return (
            f"{self.file} (service {self.service_code}, revision {self.revision}) {what}: "
            f"superseded by {self.by_file} (revision {self.by_revision})"
        )


def superseded_services(services: Sequence[dict[str, Any]]) -> list[Superseded]:
    """Which services lose to a later revision of the same ``ServiceCode`` (see module notes).

    ``services`` rows carry ``key``, ``service_code``, ``revision``, ``modified``,
    ``start``, ``end`` and ``file``.

    Parameters
    ----------
    services
        One dict per service of the files read.

    Returns
    -------
    list of Superseded
        The services dropped or cut.
    """
    out: list[Superseded] = []
    by_code: dict[str, list[dict[str, Any]]] = {}
    for row in services:
        by_code.setdefault(str(row["service_code"]), []).append(row)
    for rows in by_code.values():
        if len(rows) < 2:
            continue
        rank = sorted(rows, key=lambda r: (r["revision"], r["modified"]), reverse=True)
        for i, row in enumerate(rank):
            winners = [
                w
                for w in rank[:i]
                if (w["revision"], w["modified"]) > (row["revision"], row["modified"])
                and w["start"] <= row["end"]
                and row["start"] <= w["end"]
            ]
            if not winners:
                continue
            first = min(winners, key=lambda w: w["start"])
            end = first["start"] - timedelta(days=1) if row["start"] < first["start"] else None
            out.append(
                Superseded(
                    key=row["key"],
                    file=row["file"],
                    service_code=str(row["service_code"]),
                    revision=int(row["revision"]),
                    by_key=first["key"],
                    by_file=first["file"],
                    by_revision=int(first["revision"]),
                    end=end,
                )
            )
    return out


def apply_superseded(
    frames: dict[str, pd.DataFrame], superseded: Sequence[Superseded]
) -> dict[str, pd.DataFrame]:
    """The GTFS frames without the dropped services and with the cut ones ended early.

    Every id starts with its service's key and ``:`` (``routes.route_id``,
    ``trips.trip_id`` / ``service_id``, ``calendar.service_id``, ``stop_times.trip_id``).

    Parameters
    ----------
    frames
        GTFS frames by table name (``routes``, ``trips``, ``calendar``, ``stop_times``...).
    superseded
        Output of :func:`superseded_services`.

    Returns
    -------
    dict of str to pandas.DataFrame
        New frames (the input is not changed).
    """
    if not superseded:
        return frames
    out = dict(frames)
    dropped = tuple(f"{s.key}:" for s in superseded if s.end is None)
    if dropped:
        for name, column in (
            ("routes", "route_id"),
            ("trips", "trip_id"),
            ("stop_times", "trip_id"),
            ("calendar", "service_id"),
            ("calendar_dates", "service_id"),
        ):
            frame = out[name]
            if len(frame):
                keep = ~frame[column].astype(str).str.startswith(dropped)
                out[name] = frame.loc[keep].reset_index(drop=True)
    for s in superseded:
        if s.end is None:
            continue
        last = f"{s.end:%Y%m%d}"
        cal = out["calendar"].copy()
        mine = cal["service_id"].astype(str).str.startswith(f"{s.key}:")
        cal.loc[mine, "end_date"] = cal.loc[mine, "end_date"].where(
            cal.loc[mine, "end_date"] <= last, last
        )
        out["calendar"] = cal
        cd = out["calendar_dates"]
        late = cd["service_id"].astype(str).str.startswith(f"{s.key}:") & (cd["date"] > last)
        out["calendar_dates"] = cd.loc[~late].reset_index(drop=True)
    return out


__all__ = ["Superseded", "apply_superseded", "superseded_services"]
