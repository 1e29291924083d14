"""Clip export benchmark: footage's stream copy against ``cat`` and the ffmpeg CLI.

Builds a reference archive (1 h, 1920x1080, 25 fps, 4 Mbit/s H.264 + AAC, 60 one-minute
segments, as fragmented and as progressive MP4: one minute is encoded once with PyAV and
copied 60 times), then for each source variant and each range (the whole hour; 10 min from
the middle of a segment) times:

* ``cat`` of the same segment files into a file on the same disk (the baseline),
* footage ``export_clip`` to MP4 (in a child process, which also reports its peak RSS),
* Debian's ``ffmpeg -f concat -c copy -movflags +faststart`` (when on PATH),
* footage to MPEG-TS and MKV (the PyAV packet path).

The page cache is warm for every measurement: the segment files are read once by ``cat``
before anything is timed. Nothing is synced to disk (neither ``cat`` nor the others).

    python bench/clip_bench.py [--dir DIR] [--keep] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

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
            frame = av.AudioFrame.from_ndarray(np.stack([tone, tone]) * 0.2, format="fltp")
            frame.sample_rate, frame.pts = 48000, t
            out.mux(a.encode(frame))
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
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    result = export_clip(
        segments, span, Path(spec["out"]), ClipOptions(format=spec["format"], file_stem="bench")
    )
    seconds = time.perf_counter() - started
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    size = sum(f.size for f in result.files)
    print(
        json.dumps({"seconds": seconds, "rss_kb": rss, "rss_before_kb": rss_before, "size": size})
    )


def run_footage(spec: dict[str, object], work: Path) -> dict[str, float]:
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
    out: dict[str, float] = json.loads(run.stdout.strip().splitlines()[-1])
    out["process_seconds"] = wall
    shutil.rmtree(spec["out"], ignore_errors=True)  # type: ignore[arg-type]
    return out


def run_cat(paths: list[Path], target: Path) -> float:
    started = time.perf_counter()
    with open(target, "wb") as sink:
        subprocess.run(["cat", *map(str, paths)], stdout=sink, check=True)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None, help="work here (reuses a kept archive)")
    parser.add_argument("--keep", action="store_true", help="keep the archive afterwards")
    parser.add_argument("--repeat", type=int, default=3, help="runs of cat and footage mp4")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    root = args.dir / "clip-bench" if args.dir else Path(tempfile.mkdtemp(prefix="clip-bench-"))
    try:
        variants = existing(root / "archive") or build(root / "archive")
        rows = [measure(name, paths, root, args.repeat) for name, paths in variants.items()]
        report([r for group in rows for r in group])
    finally:
        if args.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)


def measure(variant: str, paths: list[Path], root: Path, repeat: int) -> list[dict[str, object]]:
    total = SEGMENTS * SEGMENT_S
    ranges = {"whole hour": (0.0, float(total)), "10 min mid-segment": (1530.52, 2130.52)}
    rows = []
    for label, (start_s, end_s) in ranges.items():
        first = int(start_s // SEGMENT_S)
        used = paths[first : int(-(-end_s // SEGMENT_S))]
        run_cat(used, root / "warm.bin")  # warm the page cache
        spec = {
            "segments": segment_spec(paths, variant),
            "start": (T0 + timedelta(seconds=start_s)).isoformat(),
            "end": (T0 + timedelta(seconds=end_s)).isoformat(),
            "out": str(root / "out"),
        }
        cats, mp4 = [], []
        for _ in range(repeat):  # interleaved, each after a sync, so both see the same disk
            os.sync()
            cats.append(run_cat(used, root / "cat.bin"))
            os.sync()
            mp4.append(run_footage({**spec, "format": "mp4"}, root))
        best = sorted(mp4, key=lambda r: r["seconds"])[len(mp4) // 2]
        row: dict[str, object] = {
            "source": variant,
            "range": label,
            "bytes": sum(p.stat().st_size for p in used),
            "cat": statistics.median(cats),
            "cat runs": cats,
            "footage mp4": best["seconds"],
            "footage mp4 runs": [r["seconds"] for r in mp4],
            "footage mp4 (process)": best["process_seconds"],
            "peak RSS MB": max(r["rss_kb"] for r in mp4) / 1024,
            "RSS before export MB": best["rss_before_kb"] / 1024,
        }
        os.sync()
        offset = first * SEGMENT_S
        row["ffmpeg CLI"] = run_ffmpeg(used, start_s - offset, end_s - offset, root)
        for fmt in ("ts", "mkv"):
            os.sync()
            row[f"footage {fmt}"] = run_footage({**spec, "format": fmt}, root)["seconds"]
        print(json.dumps(row), flush=True)
        rows.append(row)
    return rows


def report(rows: list[dict[str, object]]) -> None:
    timed = [
        "cat",
        "footage mp4",
        "footage mp4 (process)",
        "ffmpeg CLI",
        "footage ts",
        "footage mkv",
    ]
    print("\npage cache warm for every run; times are medians in seconds; (x) = ratio to cat\n")
    head = f"{'source':6} {'range':20} {'GB':>5} " + " ".join(f"{t:>22}" for t in timed)
    print(head + f" {'peak RSS MB':>12}")
    for r in rows:
        cat = float(r["cat"])  # type: ignore[arg-type]
        cells = []
        for t in timed:
            value = r.get(t)
            if value is None:
                cells.append(f"{'n/a':>22}")
            else:
                cells.append(f"{float(value):>13.2f} ({float(value) / cat:4.2f}x)")  # type: ignore[arg-type]
        gb = int(r["bytes"]) / 1e9  # type: ignore[call-overload]
        print(
            f"{r['source']:6} {r['range']:20} {gb:5.2f} "
            + " ".join(cells)
            + f" {float(r['peak RSS MB']):12.0f}"
        )  # type: ignore[arg-type]


if __name__ == "__main__":
    main()
