"""Benchmark: a series of 60 pictures over one hour of 1080p video, footage vs the ffmpeg CLI.

Builds one hour of 1920x1080 25 fps H.264 (GOP 2 s, as cameras send) as 60 one-minute
segments (one minute encoded with PyAV's libx264 ultrafast, copied 60 times), then times

* footage: ``run_series`` over the hour, one picture a minute at a mid-minute offset;
* the baseline: 60 runs of Debian's ``ffmpeg -v error -ss OFFSET -i SEGMENT -frames:v 1 out.jpg``
  (``-ss`` before ``-i``: seek by the index, then decode from the key frame, the fast way).

Prints both times and the ratio (target: footage <= 0.5 x ffmpeg). Usage:
``python bench/picture_bench.py [--offset 31] [--keep DIR]``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
from PIL import Image

from footage.domain import Segment, TimeRange
from footage.media.picture import PictureOptions, run_series

WIDTH, HEIGHT, FPS, GOP = 1920, 1080, 25, 50
MINUTES = 60
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def encode_minute(path: Path) -> None:
    """One minute of a textured gradient with a moving block, slowly panning."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[0:HEIGHT, 0:WIDTH]
    base = np.stack(
        [xx * 255 // WIDTH, yy * 255 // HEIGHT, (xx + yy) * 255 // (WIDTH + HEIGHT)], axis=-1
    )
    texture = rng.integers(0, 40, (HEIGHT // 4, WIDTH // 4, 1)).repeat(4, 0).repeat(4, 1)
    rgb = np.clip(base + texture - 20, 0, 255).astype(np.uint8)
    luma_chroma = av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")
    planes = luma_chroma.to_ndarray()
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=FPS)
        stream.width, stream.height, stream.pix_fmt = WIDTH, HEIGHT, "yuv420p"
        stream.codec_context.options = {
            "preset": "ultrafast",
            "crf": "23",
            "g": str(GOP),
            "keyint_min": str(GOP),
            "sc_threshold": "0",
        }
        for number in range(FPS * 60):
            picture = np.roll(planes, number, axis=1)
            left = (number * 8) % (WIDTH - 200)
            picture[300:500, left : left + 200] = 235
            frame = av.VideoFrame.from_ndarray(picture, format="yuv420p")
            frame.pts = number
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def build_hour(root: Path) -> list[Segment]:
    template = root / "template.mp4"
    if not template.exists():  # kept from an earlier run with --keep
        print("encoding one minute of 1080p ...", flush=True)
        encode_minute(template)
    segments = []
    for minute in range(MINUTES):
        start = START + timedelta(minutes=minute)
        path = root / "cam1" / f"{start:%Y-%m-%dT%H-%M-%S}.mp4"
        path.parent.mkdir(exist_ok=True)
        shutil.copyfile(template, path)
        segments.append(
            Segment(
                camera_id="cam1",
                path=str(path),
                start=start,
                end=start + timedelta(minutes=1),
                container="mp4",
                video_codec="h264",
                width=WIDTH,
                height=HEIGHT,
                fps=FPS,
                audio_codec=None,
                size=path.stat().st_size,
            )
        )
    return segments


def run_footage(
    segments: list[Segment], offset: float, out: Path, workers: int | None
) -> tuple[float, list[Path]]:
    first = START + timedelta(seconds=offset)
    span = TimeRange(start=first, end=START + timedelta(minutes=MINUTES))
    began = time.perf_counter()
    options = PictureOptions(quality=90)
    result = run_series(segments, span, timedelta(minutes=1), out, options, workers=workers)
    elapsed = time.perf_counter() - began
    if len(result.pictures) != MINUTES:
        sys.exit(f"footage wrote {len(result.pictures)} pictures, expected {MINUTES}")
    return elapsed, [picture.path for picture in result.pictures]


def run_ffmpeg(segments: list[Segment], offset: float, out: Path) -> tuple[float, list[Path]]:
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"ffmpeg_{number:04d}.jpg" for number in range(1, MINUTES + 1)]
    began = time.perf_counter()
    for segment, path in zip(segments, paths, strict=True):
        command = ["ffmpeg", "-v", "error", "-y", "-ss", f"{offset:g}", "-i", segment.path]
        subprocess.run([*command, "-frames:v", "1", str(path)], check=True)
    return time.perf_counter() - began, paths


def psnr_to_reference(picture: Path, segment: Segment, offset: float) -> float:
    """PSNR of a JPEG against ffmpeg's exact RGB of the same frame."""
    command = ["ffmpeg", "-v", "error", "-ss", f"{offset:g}", "-i", segment.path]
    command += ["-frames:v", "1", "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    raw = subprocess.run(command, capture_output=True, check=True).stdout
    reference = np.frombuffer(raw, dtype=np.uint8).reshape(HEIGHT, WIDTH, 3).astype(np.float64)
    with Image.open(picture) as image:
        ours = np.asarray(image.convert("RGB"), dtype=np.float64)
    mse = float(np.mean((ours - reference) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(255**2 / mse))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offset", type=float, default=31.0, help="seconds into each minute")
    parser.add_argument("--keep", type=Path, help="build the footage here and keep it")
    parser.add_argument("--rounds", type=int, default=2, help="best of this many rounds each")
    parser.add_argument("--workers", type=int, help="footage's reader threads (default: cores)")
    args = parser.parse_args()
    if shutil.which("ffmpeg") is None:
        sys.exit("needs Debian's ffmpeg on PATH for the baseline")
    with tempfile.TemporaryDirectory(prefix="picture-bench-") as scratch:
        root = args.keep or Path(scratch)
        root.mkdir(parents=True, exist_ok=True)
        segments = build_hour(root)
        footage_times, ffmpeg_times = [], []
        for _ in range(args.rounds):  # interleaved, so a busy spell hits both alike
            footage_s, ours = run_footage(segments, args.offset, root / "footage", args.workers)
            ffmpeg_s, theirs = run_ffmpeg(segments, args.offset, root / "ffmpeg")
            footage_times.append(footage_s)
            ffmpeg_times.append(ffmpeg_s)
        footage_s, ffmpeg_s = min(footage_times), min(ffmpeg_times)
        ours_db = psnr_to_reference(ours[0], segments[0], args.offset)
        theirs_db = psnr_to_reference(theirs[0], segments[0], args.offset)
    print(
        f"60 pictures, 1 h of {WIDTH}x{HEIGHT} {FPS} fps H.264, GOP {GOP}, offset {args.offset:g} s"
    )
    print(
        f"footage run_series : {footage_s:7.2f} s  ({footage_s / MINUTES * 1000:6.1f} ms/picture)"
    )
    print(f"ffmpeg CLI x60     : {ffmpeg_s:7.2f} s  ({ffmpeg_s / MINUTES * 1000:6.1f} ms/picture)")
    print(f"ratio footage/ffmpeg: {footage_s / ffmpeg_s:.2f}  (target <= 0.50)")
    print(f"PSNR vs ffmpeg's exact RGB of the frame: footage {ours_db:.1f} dB, ", end="")
    print(f"ffmpeg's JPEG {theirs_db:.1f} dB")


if __name__ == "__main__":
    main()
