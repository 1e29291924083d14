"""Synthetic footage for tests: small archives from footage's generator, their segments, fake
segments with no file behind them, and the time a picture shows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from footage.domain import Segment
from footage.media.synth import GenerationReport, SynthOptions, decode_stamp, generate

#: What makes footage small and quick to write and read: 160x96 at 10 fps with a key frame
#: every second, no sound, every frame stamped with its own time.
TINY: dict[str, Any] = {
    "resolution": (160, 96),
    "fps": 10,
    "gop": 10,
    "audio": False,
    "stamps": "exact",
}


def tiny_options(start: datetime, duration: timedelta, **options: Any) -> SynthOptions:
    """One camera of ``TINY`` footage from ``start`` for ``duration``; ``options`` (any
    ``SynthOptions`` field) change any of it."""
    return SynthOptions(**{"cameras": 1, **TINY, "start": start, "duration": duration, **options})


def tiny_report(
    root: Path, start: datetime, duration: timedelta, *, workers: int | None = None, **options: Any
) -> GenerationReport:
    """Generate ``tiny_options(start, duration, **options)`` under ``root``; ``workers`` as
    ``generate`` takes it (None: its default)."""
    return generate(root, tiny_options(start, duration, **options), workers=workers)


def tiny_archive(
    root: Path, start: datetime, duration: timedelta, *, workers: int | None = None, **options: Any
) -> Path:
    """``tiny_report``, returning the archive's root."""
    tiny_report(root, start, duration, workers=workers, **options)
    return root


def segments_of(report: GenerationReport) -> list[Segment]:
    """The written segments, in the report's order, as the archive index describes them."""
    options = report.options
    width, height = options.resolution
    return [
        Segment(
            camera_id=written.camera_id,
            path=str(written.path),
            start=written.start,
            end=written.end,
            container=options.container,
            video_codec=options.codec,
            width=width,
            height=height,
            fps=options.fps,
            audio_codec="aac" if options.audio else None,
            size=written.path.stat().st_size,
        )
        for written in report.segments
    ]


def fake_segment(
    t0: datetime, start_s: float, end_s: float, camera: str = "cam1", **media: Any
) -> Segment:
    """A segment from ``start_s`` to ``end_s`` seconds after ``t0`` with no file behind it (for
    planning without media): 160x96 fragmented MP4, H.264 at 10 fps, no sound, unless
    ``media`` (``Segment`` fields) says otherwise."""
    fields: dict[str, Any] = {
        "container": "fmp4",
        "video_codec": "h264",
        "width": 160,
        "height": 96,
        "fps": 10,
        "audio_codec": None,
        "size": 1,
    }
    return Segment(
        camera_id=camera,
        path=f"/nowhere/{start_s}.mp4",
        start=t0 + timedelta(seconds=start_s),
        end=t0 + timedelta(seconds=end_s),
        **(fields | media),
    )


def picture_ms(path: Path) -> int:
    """Milliseconds since the epoch that the picture (a JPG of generated footage) shows."""
    with Image.open(path) as image:
        return decode_stamp(np.asarray(image.convert("RGB")))


def picture_time(path: Path) -> datetime:
    """The moment the picture (a JPG of generated footage) shows."""
    return datetime.fromtimestamp(picture_ms(path) / 1000, UTC)
