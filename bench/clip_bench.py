"""Clip export benchmark: footage's stream copy against ``cat`` and the ffmpeg CLI.

Builds a reference archive (1 h, 1920x1080, 25 fps, 4 Mbit/s H.264 + AAC, 60 one-minute
segments, as fragmented and as progressive MP4: one minute is encoded once with PyAV and
copied 60 times), then for each source variant and each range (the whole hour; 10 min from
the middle of a segment) times:

* ``cat`` of the same segment files into a file on the same disk (the baseline),
* the same ``cat`` followed by ``fdatasync`` of its output: the same bytes durably on the disk,
  which footage waits for before it publishes an export (a crash must not leave a reported
  file empty or cut short),
* footage ``export_clip`` to MP4 (in a child process, which also reports its peak RSS),
* Debian's ``ffmpeg -f concat -c copy -movflags +faststart`` (when on PATH),
* footage to MPEG-TS and MKV (the PyAV packet path),
* SHA-256 alone of the same bytes, read from the page cache in this process (hashlib): the
  floor for any export that checksums its output, shown next to ``cat``.

Every variant is treated the same way: the segment files of a range are read into the page
cache (to /dev/null) before that range is timed, the dirty pages of earlier runs are synced
before each run (nothing is synced inside a run), and the runs of all tools are interleaved
``--repeat`` times; each figure is the median. footage's MP4 export also reports its stages
(parse, layout, copy, validation while the hash finishes, rest of the hash), taken from the
DEBUG log of ``footage.media.clip.export``.

    python bench/clip_bench.py [--dir DIR] [--keep] [--repeat N]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from functools import partial
from pathlib import Path
from typing import Any

T0 = datetime(2026, 1, 1, 0, 0, 0, tzinfo=UTC)
SEGMENTS = 60
SEGMENT_S = 60
FPS = 25


def encode_minute(path: Path, movflags: str) -> None:
    """One minute of 1080p25 at 4 Mbit/s (moving noise, so the bitrate is really spent)."""
    import av
    import numpy as np

    rng = np.random.default_rng(0)
    noise = rng.integers(0, 255, (8, 1080 // 4, 1920 // 4), dtype=np.uint8)
    with av.open(str(path), "w", format="mp4", options={"movflags": movflags}) as out:
        v = out.add_stream("libx264", rate=FPS)
        v.width, v.height, v.pix_fmt = 1920, 1080, "yuv420p"
        v.bit_rate = 4_000_000
        v.options = {
            "preset": "ultrafast",
            "g": "50",
            "x264-params": "nal-hrd=vbr:vbv-maxrate=4000:vbv-bufsize=8000:scenecut=0",
        }
        a = out.add_stream("aac", rate=48000)
        a.layout = "stereo"
        a.bit_rate = 128_000
        for i in range(SEGMENT_S * FPS):
            small = np.roll(noise[i % 8], i * 3, axis=1)
            luma = np.repeat(np.repeat(small, 4, axis=0), 4, axis=1)
            yuv = np.concatenate([luma, np.full((540, 1920), 128, np.uint8)])
            frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
            frame.pts, frame.time_base = i, Fraction(1, FPS)
            out.mux(v.encode(frame))
        out.mux(v.encode())
        t = 0
        while t < SEGMENT_S * 48000:
            tone = np.sin(np.arange(t, t + 1024) / 48000 * 2 * np.pi * 440).astype(np.float32)
            sound = av.AudioFrame.from_ndarray(np.stack([tone, tone]) * 0.2, format="fltp")
            sound.sample_rate, sound.pts = 48000, t
            out.mux(a.encode(sound))
            t += 1024
        out.mux(a.encode())


def build(root: Path) -> dict[str, list[Path]]:
    variants = {}
    for name, flags in (
        ("fmp4", "frag_keyframe+empty_moov+default_base_moof"),
        ("mp4", "+faststart"),
    ):
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        template = folder / "template.mp4"
        if name == "fmp4":
            started = time.perf_counter()
            encode_minute(template, flags)
            print(f"encoded one minute in {time.perf_counter() - started:.1f} s", flush=True)
        else:
            remux(root / "fmp4" / "seg000.mp4", template, flags)
        paths = []
        for n in range(SEGMENTS):
            path = folder / f"seg{n:03d}.mp4"
            shutil.copyfile(template, path)
            paths.append(path)
        template.unlink()
        variants[name] = paths
    return variants


def existing(archive: Path) -> dict[str, list[Path]] | None:
    """An archive kept by an earlier ``--keep`` run, reused as is."""
    variants = {
        n: [archive / n / f"seg{i:03d}.mp4" for i in range(SEGMENTS)] for n in ("fmp4", "mp4")
    }
    if all(p.exists() for paths in variants.values() for p in paths):
        print(f"reusing {archive}")
        return variants
    return None


def remux(src: Path, dst: Path, movflags: str) -> None:
    import av

    with av.open(str(src)) as inp, av.open(str(dst), "w", options={"movflags": movflags}) as out:
        streams = {s.index: out.add_stream_from_template(s) for s in inp.streams}
        for packet in inp.demux():
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            out.mux(packet)


def segment_spec(paths: list[Path], container: str) -> list[dict[str, object]]:
    return [
        {
            "path": str(p),
            "start": (T0 + timedelta(seconds=SEGMENT_S * i)).isoformat(),
            "end": (T0 + timedelta(seconds=SEGMENT_S * (i + 1))).isoformat(),
            "container": container,
            "size": p.stat().st_size,
        }
        for i, p in enumerate(paths)
    ]


def child(spec_path: str) -> None:
    """Run one export in this process; print seconds and peak RSS as JSON."""
    from footage.domain import Segment, TimeRange
    from footage.media.clip import ClipOptions, export_clip

    spec = json.loads(Path(spec_path).read_text())
    segments = [
        Segment(
            camera_id="bench",
            path=s["path"],
            start=datetime.fromisoformat(s["start"]),
            end=datetime.fromisoformat(s["end"]),
            container=s["container"],
            video_codec="h264",
            width=1920,
            height=1080,
            fps=FPS,
            audio_codec="aac",
            size=s["size"],
        )
        for s in spec["segments"]
    ]
    span = TimeRange(
        start=datetime.fromisoformat(spec["start"]), end=datetime.fromisoformat(spec["end"])
    )
    stages: dict[str, float] = {}

    class Stages(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            name = getattr(record, "stage", None)
            if name is not None:
                stages[name] = stages.get(name, 0.0) + float(getattr(record, "seconds", 0.0))

    logger = logging.getLogger("footage.media.clip.export")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(Stages())
    rss_before = _status_kb("VmHWM")
    started, cpu = time.perf_counter(), _cpu_self()
    result = export_clip(
        segments, span, Path(spec["out"]), ClipOptions(format=spec["format"], file_stem="bench")
    )
    seconds, cpu = time.perf_counter() - started, _cpu_self() - cpu
    rss = _status_kb("VmHWM")
    size = sum(f.size for f in result.files)
    out = {"seconds": seconds, "cpu": cpu, "rss_kb": rss, "rss_before_kb": rss_before}
    out["size"] = size
    print(json.dumps({**out, "stages": stages}))


def _cpu_self() -> float:
    """CPU seconds (user + system, all threads) this process has used."""
    t = os.times()
    return t.user + t.system


def _cpu_children() -> float:
    """CPU seconds used by waited-for child processes (and the work of this process)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime + _cpu_self()


def _status_kb(field: str) -> int:
    """A memory figure of this process in KiB. VmHWM is the peak RSS of this program only
    (``ru_maxrss`` would carry the parent's peak over ``fork``/``exec``)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def run_footage(spec: dict[str, object], work: Path) -> dict[str, Any]:
    spec_path = work / "spec.json"
    spec_path.write_text(json.dumps(spec))
    started = time.perf_counter()
    run = subprocess.run(
        [sys.executable, __file__, "--child", str(spec_path)],
        capture_output=True,
        text=True,
        check=True,
    )
    wall = time.perf_counter() - started
    out: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    out["process_seconds"] = wall
    shutil.rmtree(spec["out"], ignore_errors=True)  # type: ignore[arg-type]
    return out


def run_cat(paths: list[Path], target: Path, *, durable: bool = False) -> float:
    """``cat`` of the files into ``target``; ``durable`` also waits for the data to reach the
    disk (``fdatasync``), as footage does before it publishes an export."""
    started = time.perf_counter()
    with open(target, "wb") as sink:
        subprocess.run(["cat", *map(str, paths)], stdout=sink, check=True)
        if durable:
            os.fdatasync(sink.fileno())
    seconds = time.perf_counter() - started
    target.unlink()
    return seconds


def run_ffmpeg(paths: list[Path], start_s: float, end_s: float, work: Path) -> float | None:
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        return None
    lines = []
    for i, p in enumerate(paths):
        lines.append(f"file '{p}'")
        seg_start = i * SEGMENT_S
        if start_s > seg_start:
            lines.append(f"inpoint {start_s - seg_start:.3f}")
        if end_s < seg_start + SEGMENT_S:
            lines.append(f"outpoint {end_s - seg_start:.3f}")
    listing = work / "list.txt"
    listing.write_text("\n".join(lines) + "\n")
    target = work / "ffmpeg_out.mp4"
    cmd = [ffmpeg, "-v", "error", "-y", "-f", "concat", "-safe", "0", "-i", str(listing)]
    cmd += ["-c", "copy", "-movflags", "+faststart", str(target)]
    started = time.perf_counter()
    subprocess.run(cmd, check=True)
    seconds = time.perf_counter() - started
    target.unlink()
    return seconds


def run_sha256(paths: list[Path]) -> float:
    """SHA-256 of the files' bytes from the page cache, as footage reads them (256 KiB)."""
    buf = bytearray(256 * 1024)
    view = memoryview(buf)
    started = time.perf_counter()
    digest = hashlib.sha256()
    for path in paths:
        fd = os.open(path, os.O_RDONLY)
        try:
            pos = 0
            while (n := os.preadv(fd, [view], pos)) > 0:
                digest.update(view[:n])
                pos += n
        finally:
            os.close(fd)
    return time.perf_counter() - started


def warm(paths: list[Path]) -> None:
    """Read the files into the page cache (the same way before every range and variant)."""
    with open(os.devnull, "wb") as sink:
        subprocess.run(["cat", *map(str, paths)], stdout=sink, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None, help="work here (reuses a kept archive)")
    parser.add_argument("--keep", action="store_true", help="keep the archive afterwards")
    parser.add_argument("--repeat", type=int, default=3, help="runs of every tool (median)")
    parser.add_argument("--only", choices=("fmp4", "mp4"), help="one source variant")
    parser.add_argument("--no-packets", action="store_true", help="skip the ts and mkv runs")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    root = args.dir / "clip-bench" if args.dir else Path(tempfile.mkdtemp(prefix="clip-bench-"))
    try:
        variants = existing(root / "archive") or build(root / "archive")
        if args.only:
            variants = {args.only: variants[args.only]}
        repeat = max(args.repeat, 1)
        formats = () if args.no_packets else ("ts", "mkv")
        rows = [
            row
            for name, paths in variants.items()
            for row in measure(name, paths, root, repeat, formats)
        ]
        report(rows)
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def measure(
    variant: str, paths: list[Path], root: Path, repeat: int, formats: tuple[str, ...]
) -> list[dict[str, Any]]:
    total = SEGMENTS * SEGMENT_S
    ranges = {"whole hour": (0.0, float(total)), "10 min mid-segment": (1530.52, 2130.52)}
    rows = []
    for label, (start_s, end_s) in ranges.items():
        row = measure_range(variant, paths, (start_s, end_s), root, repeat, formats)
        row["range"] = label
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def measure_range(
    variant: str,
    paths: list[Path],
    span: tuple[float, float],
    root: Path,
    repeat: int,
    formats: tuple[str, ...],
) -> dict[str, Any]:
    start_s, end_s = span
    first = int(start_s // SEGMENT_S)
    used = paths[first : int(-(-end_s // SEGMENT_S))]
    offset = first * SEGMENT_S
    spec = {
        "segments": segment_spec(paths, variant),
        "start": (T0 + timedelta(seconds=start_s)).isoformat(),
        "end": (T0 + timedelta(seconds=end_s)).isoformat(),
        "out": str(root / "out"),
    }
    tools: dict[str, Callable[[], float | None]] = {
        "cat": lambda: run_cat(used, root / "cat.bin"),
        "cat + fsync": lambda: run_cat(used, root / "cat.bin", durable=True),
        "sha256 only": lambda: run_sha256(used),
        "ffmpeg CLI": lambda: run_ffmpeg(used, start_s - offset, end_s - offset, root),
    }
    for fmt in formats:
        tools[f"footage {fmt}"] = partial(_seconds, {**spec, "format": fmt}, root)
    runs: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    mp4: list[dict[str, Any]] = []
    warm(used)
    for _ in range(repeat):  # interleaved, so every tool sees the same machine
        os.sync()  # each run starts without the previous runs' dirty pages
        mp4.append(run_footage({**spec, "format": "mp4"}, root))
        for name, tool in tools.items():
            os.sync()
            before = _cpu_children()
            value = tool()
            if value is not None:
                runs.setdefault(name, []).append(value)
                cpu.setdefault(name, []).append(_cpu_children() - before)
    runs["footage mp4"] = [float(r["seconds"]) for r in mp4]
    runs["footage mp4 (process)"] = [float(r["process_seconds"]) for r in mp4]
    cpu["footage mp4"] = [float(r["cpu"]) for r in mp4]
    return {
        "source": variant,
        "bytes": sum(p.stat().st_size for p in used),
        "runs": runs,
        "median": {k: statistics.median(v) for k, v in runs.items()},
        "cpu": {k: statistics.median(v) for k, v in cpu.items()},
        "stages": _median_stages([r["stages"] for r in mp4]),
        "peak RSS MB": max(float(r["rss_kb"]) for r in mp4) / 1024,
        "RSS before export MB": min(float(r["rss_before_kb"]) for r in mp4) / 1024,
    }


def _seconds(spec: dict[str, Any], root: Path) -> float:
    return float(run_footage(spec, root)["seconds"])


def _median_stages(runs: list[dict[str, float]]) -> dict[str, float]:
    names = dict.fromkeys(name for r in runs for name in r)
    return {n: statistics.median(r.get(n, 0.0) for r in runs) for n in names}


TIMED = (
    "cat",
    "cat + fsync",
    "sha256 only",
    "footage mp4",
    "footage mp4 (process)",
    "ffmpeg CLI",
    "footage ts",
    "footage mkv",
)


def report(rows: list[dict[str, Any]]) -> None:
    print(
        "\npage cache warm for every run; medians in seconds;"
        " (x) = ratio to cat, [x] = ratio to the ffmpeg CLI\n"
    )
    print(f"{'source':6} {'range':20} {'GB':>5} " + " ".join(f"{t:>24}" for t in TIMED))
    for r in rows:
        median = r["median"]
        cat, ffmpeg = median["cat"], median.get("ffmpeg CLI")
        cells = []
        for t in TIMED:
            value = median.get(t)
            if value is None:
                cells.append(f"{'n/a':>24}")
                continue
            vs_ffmpeg = f"[{value / ffmpeg:4.2f}]" if ffmpeg else ""
            cells.append(f"{value:>8.2f} ({value / cat:4.2f}x){vs_ffmpeg:>8}")
        gb = int(r["bytes"]) / 1e9
        print(f"{r['source']:6} {r['range']:20} {gb:5.2f} " + " ".join(cells))
    print("\nfootage mp4 stages (medians, s): parse, layout, copy (kernel copy with the hash")
    print("following on the other core and the disk writes started behind it), validate")
    print("(while the hash and the flush go on), hash tail, flush tail")
    for r in rows:
        stages: dict[str, float] = r["stages"]
        parts = " ".join(f"{k} {v:.3f}" for k, v in stages.items())
        print(f"{r['source']:6} {r['range']:20} {parts}")
    print("\nCPU seconds (user + system, all threads; medians) - what a busy machine charges;")
    print("the ts/mkv and ffmpeg figures include starting the process")
    for r in rows:
        parts = " ".join(f"{k} {v:.2f}" for k, v in r["cpu"].items())
        print(f"{r['source']:6} {r['range']:20} {parts}")
    print("\nmemory of footage mp4 (peak RSS of the child process, MB)")
    for r in rows:
        peak, before = float(r["peak RSS MB"]), float(r["RSS before export MB"])
        print(f"{r['source']:6} {r['range']:20} peak {peak:.0f} (before the export {before:.0f})")
    print("\nfootage mp4 (hashed, validated, on the disk) against the baselines: cat (page")
    print("cache only); cat + fsync (the same bytes durably on the disk); the floor of an")
    print("export that is both hashed and durable, max(SHA-256 alone, cat + fsync)")
    for r in rows:
        m = r["median"]
        ours, cat, durable, sha = m["footage mp4"], m["cat"], m["cat + fsync"], m["sha256 only"]
        floor = max(sha, durable)
        print(
            f"{r['source']:6} {r['range']:20} {ours / cat:.2f}x cat, {ours / durable:.2f}x"
            f" cat + fsync, {ours / floor:.2f}x the floor (SHA-256 alone = {sha / cat:.2f}x cat)"
        )


if __name__ == "__main__":
    main()
