"""Reading a folder of TransXChange files (one per line, as BODS gives them): files/s, MB/s.

The folder is the regional feed generator's TXC output when given (``benchmarks/
regional_feed.py <out> --scale city`` writes ``<out>/sy_bus_city_txc/``), else many copies
of the TNDS samples (``../shared/data/transit/txc_samples/transxchange.zip``; their stops
have no coordinates, so each read also warns). The baseline, measured in the same run, is
parsing every file with ``xml.etree.ElementTree`` and nothing else: the floor any reader
built on it pays. Medians of ``--repeat`` runs.

Run::

    .venv/bin/python benchmarks/bench_txc_folder.py --folder /tmp/busfeed/sy_bus_city_txc
    .venv/bin/python benchmarks/bench_txc_folder.py --copies 20
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import warnings
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from apgeo.routing.transit.txc import read_transxchange
from apgeo.settings import repo_root

SAMPLES = repo_root().parent / "shared" / "data" / "transit" / "txc_samples" / "transxchange.zip"


def _copies(folder: Path, copies: int) -> None:
    """``copies`` copies of each TNDS sample, each with its own ServiceCode."""
    with zipfile.ZipFile(SAMPLES) as archive:
        for name in archive.namelist():
            text = archive.read(name).decode("utf-8")
            for i in range(copies):
                code = f"<ServiceCode>C{i:03d}_"
                (folder / f"{i:03d}_{name}").write_text(
                    text.replace("<ServiceCode>", code), encoding="utf-8"
                )


def _median_s(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, help="a folder of TXC files")
    parser.add_argument("--copies", type=int, default=10, help="copies of the samples")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.folder
        if folder is None:
            folder = Path(tmp)
            _copies(folder, args.copies)
        files = sorted(folder.rglob("*.xml"))
        mb = sum(f.stat().st_size for f in files) / 1e6

        def parse_only() -> None:
            for f in files:
                ET.parse(f)

        def read() -> None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                read_transxchange(folder)

        base_s = _median_s(parse_only, args.repeat)
        read_s = _median_s(read, args.repeat)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tables = read_transxchange(folder)
    print(
        f"{len(files)} files, {mb:.1f} MB, {len(tables.trips):,} trips, "
        f"{len(tables.stop_times):,} stop times"
    )
    print(
        f"read_transxchange: {read_s:.2f} s median of {args.repeat}: "
        f"{len(files) / read_s:.1f} files/s, {mb / read_s:.2f} MB/s"
    )
    print(
        f"baseline (XML parse only): {base_s:.2f} s: {len(files) / base_s:.1f} files/s, "
        f"{mb / base_s:.2f} MB/s; read = {read_s / base_s:.1f} x parse"
    )


if __name__ == "__main__":
    main()
