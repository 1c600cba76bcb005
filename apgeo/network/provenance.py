"""Network provenance: what a street network was built from, and what was kept of it.

A planner who publishes a travel time must be able to say which streets it was measured
on. :func:`describe_network_file` reads what identifies a network file (its size, sha256
and, for an OpenStreetMap PBF, the data date and writing program from the file's own
header block); :class:`NetworkRecord` adds, per mode, what the engine kept (nodes, edges,
the nodes dropped outside the largest strongly connected component, the number of
components), the speed and one-way rules of the mode and the access-leg rule. The study
writes one record per mode into ``provenance.json`` and the report's network section.

The PBF header is decoded here (a few protobuf fields of the ``OSMHeader`` block, as the
OSM PBF format specifies them): no extra dependency, and the file is read only up to its
first block.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from apgeo._cache import file_sha256
from apgeo._errors import NetworkError
from apgeo.network.modes import (
    DEFAULT_DRIVE_SPEEDS_MPH,
    DEFAULT_SPEEDS_KPH,
    FALLBACK_DRIVE_SPEED_MPH,
)

#: How the leg from a point (an area's centroid, a site) to its nearest street is timed, in
#: every mode: the straight line to the street, walked. The same rule for drive: the leg
#: stands for the walk from a door to a car or a kerb, and it keeps modes comparable.
ACCESS_LEG_RULE = (
    "access leg: the straight line from each point (area centroid or site) to the nearest "
    "street of the main network, walked at {walk_kph:g} km/h in every mode (drive too: the "
    "walk from a door to the street)"
)

#: One-way rules, per mode, in words.
ONE_WAY_RULES: dict[str, str] = {
    "walk": "one-way streets walked both ways",
    "cycle": "one-way streets ridden both ways (contraflow lanes are not checked)",
    "drive": "one-way rules applied (OSM oneway=yes / -1, roundabouts, motorways)",
}

#: Speed rules, per mode, in words.
SPEED_RULES: dict[str, str] = {
    "walk": f"{DEFAULT_SPEEDS_KPH['walk']:g} km/h on every street and path open to walking",
    "cycle": f"{DEFAULT_SPEEDS_KPH['cycle']:g} km/h on every way open to cycling (pushed on footways)",
    "drive": (
        "OSM maxspeed where tagged, else the mean maxspeed of that road type in the "
        f"network, else UK defaults by road type ({FALLBACK_DRIVE_SPEED_MPH:g} mph for "
        f"residential, {DEFAULT_DRIVE_SPEEDS_MPH['primary']:g} mph primary, "
        f"{DEFAULT_DRIVE_SPEEDS_MPH['motorway']:g} mph motorway)"
    ),
}

_PBF_MAX_HEADER_BYTES = 64 * 1024
_PBF_MAX_BLOB_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class PbfHeader:
    """What an OSM PBF file says of itself in its ``OSMHeader`` block.

    ``replication_timestamp`` is the data state (the last change included), ``None`` when
    the writer did not record it.
    """

    replication_timestamp: datetime | None
    writing_program: str
    replication_base_url: str
    bbox_lonlat: tuple[float, float, float, float] | None

    @property
    def data_date(self) -> str:
        """The data state as an ISO date ("" when unknown)."""
        return self.replication_timestamp.date().isoformat() if self.replication_timestamp else ""


def _varint(data: bytes, i: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if i >= len(data):
            raise ValueError("truncated varint")
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, i


def _fields(data: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, value) of a protobuf message: varints as int, bytes as bytes."""
    i = 0
    while i < len(data):
        key, i = _varint(data, i)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, i = _varint(data, i)
            yield number, value
        elif wire == 2:
            length, i = _varint(data, i)
            yield number, data[i : i + length]
            i += length
        elif wire == 1:
            i += 8
        elif wire == 5:
            i += 4
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")


def _zigzag(value: int) -> int:
    return (value >> 1) ^ -(value & 1)


def read_pbf_header(path: str | Path) -> PbfHeader:
    """The header block of an OSM PBF file (data date, writing program, bounding box).

    Parameters
    ----------
    path
        The ``.osm.pbf`` file.

    Returns
    -------
    PbfHeader
        The replication timestamp, writing program, replication base URL and bounding box
        (lon / lat degrees; ``None`` when not recorded).

    Raises
    ------
    NetworkError
        The file does not start with an OSM PBF header block.
    """
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            (size,) = struct.unpack(">I", handle.read(4))
            if not 0 < size <= _PBF_MAX_HEADER_BYTES:
                raise ValueError(f"block header of {size} bytes")
            header = dict(_fields(handle.read(size)))
            if header.get(1) != b"OSMHeader":
                raise ValueError(f"first block is {header.get(1)!r}, not OSMHeader")
            blob_size = int(header.get(3, 0))  # type: ignore[call-overload]
            if not 0 < blob_size <= _PBF_MAX_BLOB_BYTES:
                raise ValueError(f"header blob of {blob_size} bytes")
            blob = dict(_fields(handle.read(blob_size)))
        raw = blob.get(1)
        packed = blob.get(3)
        data = zlib.decompress(packed) if isinstance(packed, bytes) else raw
        if not isinstance(data, bytes):
            raise ValueError("header blob is neither raw nor zlib-compressed")
    except (OSError, ValueError, struct.error, zlib.error) as exc:
        raise NetworkError(
            f"{path}: not an OpenStreetMap PBF file ({exc}); give a .osm.pbf extract "
            "(e.g. from download.geofabrik.de)"
        ) from exc
    timestamp: datetime | None = None
    program = base_url = ""
    bbox: tuple[float, float, float, float] | None = None
    for number, value in _fields(data):
        if number == 32 and isinstance(value, int):
            timestamp = datetime.fromtimestamp(value, tz=UTC)
        elif number == 16 and isinstance(value, bytes):
            program = value.decode("utf-8", "replace")
        elif number == 34 and isinstance(value, bytes):
            base_url = value.decode("utf-8", "replace")
        elif number == 1 and isinstance(value, bytes):
            box = {n: _zigzag(v) for n, v in _fields(value) if isinstance(v, int)}
            if len(box) == 4:  # nanodegrees: left, right, top, bottom
                bbox = (box[1] / 1e9, box[4] / 1e9, box[2] / 1e9, box[3] / 1e9)
    return PbfHeader(timestamp, program, base_url, bbox)


def describe_network_file(path: str | Path) -> dict[str, Any]:
    """What identifies a network file: path, format, bytes, sha256 and, for a PBF, the OSM
    data date, the writing program and the replication source.

    Parameters
    ----------
    path
        A network file (or folder).

    Returns
    -------
    dict
        ``file``, ``format`` (the suffix, ``"osm.pbf"`` for a PBF; ``"folder"`` when there
        is none), ``bytes`` and ``sha256`` (``None`` unless a file), ``osm_data_date``
        (``""`` but for a PBF) and, for a PBF, ``osm_replication_timestamp``,
        ``writing_program`` and ``replication_base_url``.
    """
    p = Path(path)
    suffix = "".join(p.suffixes[-2:]).lower() if p.name.lower().endswith(".osm.pbf") else p.suffix.lower()
    out: dict[str, Any] = {
        "file": str(p),
        "format": suffix.lstrip(".") or "folder",
        "bytes": p.stat().st_size if p.is_file() else None,
        "sha256": file_sha256(p) if p.is_file() else None,
        "osm_data_date": "",
    }
    if p.suffix.lower() == ".pbf":
        header = read_pbf_header(p)
        out["osm_data_date"] = header.data_date
        out["osm_replication_timestamp"] = (
            header.replication_timestamp.isoformat() if header.replication_timestamp else ""
        )
        out["writing_program"] = header.writing_program
        out["replication_base_url"] = header.replication_base_url
    return out


@dataclass(frozen=True)
class NetworkRecord:
    """One mode's street network as the study used it (see the module docstring)."""

    mode: str
    source: dict[str, Any]
    nodes_kept: int
    edges_kept: int
    nodes_dropped: int
    components: int
    speed_rule: str
    one_way_rule: str
    access_leg_rule: str
    #: Sites or areas beyond the network's edge, whose journey beyond it is estimated.
    beyond_network: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """For ``provenance.json``.

        Returns
        -------
        dict
            The record's fields (``dataclasses.asdict``).
        """
        return asdict(self)

    def describe(self) -> str:
        """One sentence for the report.

        Returns
        -------
        str
            The file, its format, size, OSM data date and hash; nodes and edges kept and
            dropped; the speed, one-way and access-leg rules; points beyond the network's edge.
        """
        src = self.source
        date = f", OSM data of {src['osm_data_date']}" if src.get("osm_data_date") else ""
        sha = f", sha256 {src['sha256'][:12]}…" if src.get("sha256") else ""
        size = f", {src['bytes'] / 1e6:.1f} MB" if src.get("bytes") else ""
        total = self.nodes_kept + self.nodes_dropped
        dropped = (
            f"; {self.nodes_dropped:,} of {total:,} nodes ({self.nodes_dropped / total:.1%}) "
            f"dropped outside the largest of {self.components:,} strongly connected components"
            if self.nodes_dropped and total
            else "; one connected network, nothing dropped"
        )
        beyond = ""
        if self.beyond_network:
            names = ", ".join(
                f"{b['id']} ({b['distance_m'] / 1000:.1f} km)" for b in self.beyond_network[:5]
            )
            more = f" and {len(self.beyond_network) - 5} more" if len(self.beyond_network) > 5 else ""
            beyond = (
                f"; {len(self.beyond_network)} point(s) beyond the network's edge, the rest of "
                f"their journey estimated by straight line: {names}{more}"
            )
        return (
            f"{self.mode}: {Path(str(src.get('file', ''))).name} ({src.get('format', '')}{size}{date}{sha}); "
            f"{self.nodes_kept:,} nodes and {self.edges_kept:,} edges kept{dropped}; "
            f"speeds: {self.speed_rule}; {self.one_way_rule}; {self.access_leg_rule}{beyond}"
        )


def access_leg_rule(walk_speed_kph: float = DEFAULT_SPEEDS_KPH["walk"]) -> str:
    """The access-leg rule in words.

    Parameters
    ----------
    walk_speed_kph
        The walking speed of the access leg in km/h (default the walk mode's).

    Returns
    -------
    str
        :data:`ACCESS_LEG_RULE` with the speed filled in.
    """
    return ACCESS_LEG_RULE.format(walk_kph=walk_speed_kph)


__all__ = [
    "ACCESS_LEG_RULE",
    "NetworkRecord",
    "PbfHeader",
    "access_leg_rule",
    "describe_network_file",
    "read_pbf_header",
]
