"""Benchmark the archive index: full scan, rescans, and queries over 10 cameras x 24 h.

Run as a whole process: ``python bench/index_bench.py [--dir DIR] [--reuse]``. It generates
10 cameras x 24 h of 60 s segments (14,400 files, ``stamps=loop``, 160x96) and reports each
figure in seconds and as a ratio to baselines measured in the same run on the same tree:
``os.walk`` + ``os.stat`` of every file, ``cat`` of every byte to /dev/null, and ffprobe on
a sample of files (run with as many parallel processes as the scan has workers),
extrapolated to the whole archive. The page cache is warm for everything (the files were
just written or read), which favours the baselines and the scan alike.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from rich.console import Console
from rich.table import Table

from footage.archive.local.index import SegmentIndex
from footage.archive.local.layout import detect, get_layout
from footage.archive.local.scan import ScanReport, scan
from footage.db import open_database
from footage.domain import TimeRange
from footage.media.probe import probe
from footage.media.synth import SynthOptions, generate

START = datetime(2026, 11, 21, tzinfo=UTC)
console = Console(width=150)


def timed(work: Callable[[], Any]) -> tuple[float, Any]:
    began = time.perf_counter()
    result = work()
    return time.perf_counter() - began, result


def make_archive(root: Path, cameras: int, hours: int, reuse: bool) -> list[Path]:
    marker = root / ".bench-complete"
    if not (reuse and marker.exists()):
        shutil.rmtree(root, ignore_errors=True)
        options = SynthOptions(
            cameras=cameras,
            duration=timedelta(hours=hours),
            start=START,
            segment_seconds=60,
            resolution=(160, 96),
            fps=5,
            gop=10,
            audio=False,
            stamps="loop",
            bitrate=10_000,
        )
        console.print(f"generating {cameras} cameras x {hours} h of 60 s segments in {root} ...")
        seconds, report = timed(lambda: generate(root, options))
        console.print(
            f"  {len(report.segments)} files, {report.size / 1e9:.2f} GB, {seconds:.0f} s"
        )
        marker.touch()
    return sorted(p for p in root.rglob("*.mp4") if not p.name.startswith("."))


def walk_and_stat(root: Path) -> int:
    count = 0
    for folder, _, names in os.walk(root):
        for name in names:
            os.stat(os.path.join(folder, name))
            count += 1
    return count


def cat_all(files: list[Path]) -> None:
    listing = b"\0".join(str(p).encode() for p in files)
    subprocess.run(["xargs", "-0", "cat"], input=listing, stdout=subprocess.DEVNULL, check=True)


def ffprobe_sample(sample: list[Path], workers: int) -> None:
    command = ["xargs", "-0", "-n", "1", "-P", str(workers), "ffprobe", "-v", "error"]
    command += ["-show_entries", "stream=codec_name,width,height,duration", "-of", "json"]
    listing = b"\0".join(str(p).encode() for p in sample)
    subprocess.run(command, input=listing, stdout=subprocess.DEVNULL, check=True)


def add_new_files(root: Path, files: list[Path], count: int) -> None:
    """Copy ``count`` segments to new names just after the end of the archive."""
    newest: dict[str, tuple[datetime, Path]] = {}
    for path in files:
        parsed = detect(PurePosixPath(os.path.relpath(path, root)))
        assert parsed is not None
        if parsed.camera_id not in newest or parsed.start > newest[parsed.camera_id][0]:
            newest[parsed.camera_id] = (parsed.start, path)
    layout = get_layout("native")
    cameras = sorted(newest)
    for n in range(count):
        camera = cameras[n % len(cameras)]
        last, source = newest[camera]
        start = last + timedelta(seconds=60)
        target = root / layout.relpath(camera, start, "mp4")
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        newest[camera] = (start, target)


def query_figures(engine: Any, cameras: list[str], hours: int) -> tuple[float, float]:
    index = SegmentIndex(engine)
    day = TimeRange(start=START, end=START + timedelta(hours=hours))
    late = TimeRange(start=day.end - timedelta(minutes=10), end=day.end)
    timelines, _ = timed(lambda: [index.timeline(c, day, 0.5) for c in cameras])
    windows, _ = timed(lambda: [index.segments(c, late) for c in cameras])
    return timelines / len(cameras), windows / len(cameras)


def describe(report: ScanReport) -> str:
    return (
        f"+{report.added} ~{report.updated} -{report.removed} ={report.unchanged} "
        f"!{len(report.failed)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, help="work folder (default: a temporary one)")
    parser.add_argument("--reuse", action="store_true", help="reuse an archive already there")
    parser.add_argument("--cameras", type=int, default=10)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--sample", type=int, default=300, help="files ffprobe is run on")
    args = parser.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="footage-index-bench-"))
    root = work / "archive"
    files = make_archive(root, args.cameras, args.hours, args.reuse)
    total = len(files)
    sample = files[:: max(1, total // args.sample)][: args.sample]

    walk_s, walked = timed(lambda: walk_and_stat(root))
    cat_s, _ = timed(lambda: cat_all(files))
    ffprobe_s, _ = timed(lambda: ffprobe_sample(sample, args.workers))
    ffprobe_all_s = ffprobe_s * total / len(sample)
    probe_s, _ = timed(lambda: [probe(p) for p in sample])

    db = work / "footage.db"
    for leftover in work.glob("footage.db*"):
        leftover.unlink()
    engine = open_database(f"sqlite:///{db}")
    full_s, full = timed(lambda: scan(engine, root, workers=args.workers))
    again_s, again = timed(lambda: scan(engine, root, workers=args.workers))
    add_new_files(root, files, 10)
    added_s, added = timed(lambda: scan(engine, root, workers=args.workers))
    cameras = [c.id for c in SegmentIndex(engine).cameras()]
    timeline_s, window_s = query_figures(engine, cameras, args.hours)
    engine.dispose()
    if args.dir is None:
        shutil.rmtree(work)
    else:
        for path in root.rglob("*.mp4"):
            parsed = detect(PurePosixPath(os.path.relpath(path, root)))
            if parsed is not None and parsed.start >= START + timedelta(hours=args.hours):
                path.unlink()  # the 10 added files, so that --reuse starts from the same tree

    assert walked == total + 1, (walked, total)  # the .bench-complete marker
    assert full.added == total and not full.failed, describe(full)
    assert again.unchanged == total and again.added == 0, describe(again)
    assert added.added == 10 and added.unchanged == total, describe(added)

    table = Table(
        title=f"archive index: {total} files, {len(cameras)} cameras, {args.workers} workers"
    )
    for column in ("figure", "seconds", "÷ walk+stat", "÷ cat", "÷ ffprobe (extrap.)", "result"):
        table.add_column(column, justify="left" if column in ("figure", "result") else "right")

    def row(name: str, seconds: float, result: str = "") -> None:
        table.add_row(
            name,
            f"{seconds:.3f}",
            f"{seconds / walk_s:.2f}",
            f"{seconds / cat_s:.2f}",
            f"{seconds / ffprobe_all_s:.3f}",
            result,
        )

    row("baseline: os.walk + os.stat", walk_s, f"{walked} entries")
    row("baseline: cat all bytes > /dev/null", cat_s)
    row(f"baseline: ffprobe x{len(sample)}, extrapolated", ffprobe_all_s, f"{ffprobe_s:.2f} s")
    row(f"probe() x{len(sample)}, in-process, extrapolated", probe_s * total / len(sample))
    row("full index from scratch", full_s, describe(full))
    row("rescan, nothing new", again_s, describe(again))
    row("rescan after adding 10 files", added_s, describe(added))
    row("timeline of 24 h, per camera", timeline_s)
    row("segments of the last 10 min, per camera", window_s)
    console.print(table)
    console.print(
        f"per file: probe() {probe_s / len(sample) * 1000:.2f} ms, "
        f"ffprobe {ffprobe_s / len(sample) * 1000 * args.workers:.2f} ms (one process); "
        f"full index {full_s / total * 1000:.2f} ms with {args.workers} workers"
    )


if __name__ == "__main__":
    main()
