"""Benchmark: the synthetic-footage generator on the demo-sized archive (3 cameras x 24 h).

Run as ``python bench/synth_bench.py [--out DIR] [--hours H] [--cameras N]``. It generates the
archive with default settings into a fresh folder under DIR (default: the system temp folder),
then measures a baseline on the same disk in the same run: ``cp -r`` of the very same files
to a sibling folder. It prints wall time, files, bytes and the ratio to the baseline, then
deletes both folders.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from footage.media.synth import SynthOptions, generate


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()))
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--cameras", type=int, default=3)
    parser.add_argument("--gaps", action="store_true")
    return parser.parse_args(argv)


def _sync() -> None:
    subprocess.run(["sync"], check=False)


def main(argv: list[str]) -> int:
    args = _parse(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="synth-bench-", dir=args.out))
    try:
        options = SynthOptions(
            cameras=args.cameras, duration=timedelta(hours=args.hours), gaps=args.gaps
        )
        _sync()
        began = time.perf_counter()
        report = generate(work / "archive", options)
        generate_s = time.perf_counter() - began
        files, size = len(report.segments), report.size
        _sync()
        began = time.perf_counter()
        subprocess.run(["cp", "-r", str(work / "archive"), str(work / "copy")], check=True)
        copy_s = time.perf_counter() - began
        mode = report.options.stamps
        print(f"archive      {args.cameras} cameras x {args.hours:g} h, stamps={mode}")
        print(f"files        {files}")
        kbps = size * 8 / (args.cameras * args.hours * 3600) / 1000
        print(f"bytes        {size} ({size / 1e9:.2f} GB, {kbps:.0f} kbit/s per camera)")
        print(f"generate     {generate_s:.2f} s ({size / generate_s / 1e6:.0f} MB/s)")
        print(f"cp -r        {copy_s:.2f} s ({size / copy_s / 1e6:.0f} MB/s)  [baseline]")
        print(f"ratio        {generate_s / copy_s:.2f} x baseline")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
