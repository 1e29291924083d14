"""Clip export on generated footage: the source segments, the export call in seconds after
``T0``, and what a player shows of the result (stamps, durations), checked by Debian's ffmpeg
where it is installed."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av

from footage.domain import Segment, TimeRange, to_us
from footage.media.clip import ClipOptions, ClipResult, export_clip
from footage.media.synth import decode_stamp
from tests.helpers.media import segments_of, tiny_report

T0 = datetime(2026, 3, 1, 8, 0, 0, tzinfo=UTC)
FFMPEG = shutil.which("ffmpeg")
FRAME_MS = 100  # ``synth`` footage runs at 10 fps unless asked otherwise


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def ms(seconds: float) -> int:
    return to_us(at(seconds)) // 1000


def synth(
    root: Path,
    *,
    container: str = "fmp4",
    seconds: float = 12.0,
    segment: float = 4.0,
    codec: str = "h264",
    resolution: tuple[int, int] = (160, 96),
    fps: int = 10,
    start: datetime = T0,
    audio: bool = True,
) -> list[Segment]:
    """Segments from the synthetic-footage generator (frames show their own time)."""
    report = tiny_report(
        root,
        start,
        timedelta(seconds=seconds),
        segment_seconds=segment,
        container=container,
        resolution=resolution,
        fps=fps,
        gop=fps,
        codec=codec,
        audio=audio,
    )
    return segments_of(report)


def export(segments: Any, start: float, end: float, out: Path, **kw: Any) -> ClipResult:
    return export_clip(segments, TimeRange(start=at(start), end=at(end)), out, ClipOptions(**kw))


@dataclass
class Shown:
    stamps: list[int]  # ms since the epoch, in display order
    video_seconds: float
    audio_seconds: float | None
    first_key: bool


def shown(path: Path) -> Shown:
    """What a player shows: decode every frame PyAV outputs (it honours the edit list)."""
    with av.open(str(path)) as c:
        v = c.streams.video[0]
        first = next(p for p in c.demux(v) if p.size)
        c.seek(0)
        stamps = [decode_stamp(f) for f in c.decode(v)]
        video_s = _seconds(v)
        audio_s = _seconds(c.streams.audio[0]) if c.streams.audio else None
    return Shown(stamps, video_s, audio_s, first.is_keyframe)


def _seconds(stream: av.stream.Stream) -> float:
    return float(stream.duration * stream.time_base) if stream.duration else float("nan")


def ffmpeg_errors(path: Path) -> str:
    assert FFMPEG is not None
    run = subprocess.run(
        [FFMPEG, "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=False,
    )
    return run.stderr


def check_clean(path: Path) -> None:
    if FFMPEG is not None:
        assert ffmpeg_errors(path) == ""
