"""What to generate (``SynthOptions``) and the checks that turn it into a settled plan input."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from footage.archive.local.layout import check_camera_id, get_layout
from footage.domain import InvalidRequest, ensure_utc, from_us, to_us
from footage.media.synth.stamp import stamp_geometry

CONTAINERS = ("fmp4", "mp4", "ts")
CODECS = ("h264", "hevc")
STAMP_MODES = ("exact", "loop", "auto")
EXTENSIONS = {"fmp4": "mp4", "mp4": "mp4", "ts": "ts"}

#: ``stamps="auto"`` encodes every frame when the archive holds at most this much video
#: (summed over cameras); above it, segments are copies of one encoded stretch per camera.
AUTO_EXACT_LIMIT = timedelta(minutes=30)

MAX_CAMERAS = 256
MAX_WIDTH, MAX_HEIGHT = 3840, 2160
MIN_BITRATE = 10_000


@dataclass(frozen=True, kw_only=True)
class SynthOptions:
    """What the synthetic-footage generator writes; see ``footage.media.synth.generate``.

    ``start`` None means (now - duration) floored to a whole second. ``stamps``: ``exact``
    encodes every frame with its own time; ``loop`` encodes one segment per camera and copies
    it (the frames then show the template's time, marked LOOP); ``auto`` picks exact for small
    archives (at most 30 minutes of video over all cameras) and loop otherwise.
    """

    cameras: int = 3
    duration: timedelta = timedelta(hours=1)
    start: datetime | None = None
    segment_seconds: float = 60.0
    layout: str = "native"
    container: str = "fmp4"
    resolution: tuple[int, int] = (640, 360)
    fps: int = 25
    gop: int = 50
    codec: str = "h264"
    audio: bool = True
    gaps: bool = False
    seed: int = 0
    stamps: str = "auto"
    camera_prefix: str = "cam"
    bitrate: int | None = None

    def camera_ids(self) -> list[str]:
        return [f"{self.camera_prefix}{index}" for index in range(1, self.cameras + 1)]

    @property
    def extension(self) -> str:
        return EXTENSIONS.get(self.container, self.container)


def _choice(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InvalidRequest(f"unknown {name} {value!r}; choose one of {', '.join(allowed)}")


def _positive_int(name: str, value: int, upper: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= upper:
        raise InvalidRequest(f"{name} must be a whole number from 1 to {upper}, not {value!r}")


def segment_frames(options: SynthOptions) -> int:
    """Frames in a full segment: ``segment_seconds * fps``, which must be a whole number."""
    exact = options.segment_seconds * options.fps
    frames = round(exact)
    if frames < 1 or not math.isclose(exact, frames, rel_tol=0, abs_tol=1e-6):
        raise InvalidRequest(
            f"a segment of {options.segment_seconds} s at {options.fps} fps is "
            f"{exact:g} frames; choose segment_seconds so that it holds a whole number "
            "of frames (at least one)"
        )
    return frames


def _check_resolution(resolution: tuple[int, int]) -> None:
    try:
        width, height = (int(v) for v in resolution)
    except (TypeError, ValueError):
        raise InvalidRequest(f"resolution must be (width, height), not {resolution!r}") from None
    if width % 2 or height % 2:
        raise InvalidRequest(
            f"resolution {width}x{height} has an odd side; 4:2:0 video needs even "
            "width and height, e.g. 640x360"
        )
    if width > MAX_WIDTH or height > MAX_HEIGHT or stamp_geometry(width, height) is None:
        raise InvalidRequest(
            f"resolution {width}x{height} is out of range; use from 80x48 "
            f"up to {MAX_WIDTH}x{MAX_HEIGHT} so the time pattern fits"
        )


def check_options(options: SynthOptions) -> None:
    """Raise InvalidRequest saying what is wrong and what to do, or return quietly."""
    _positive_int("cameras", options.cameras, MAX_CAMERAS)
    for camera_id in options.camera_ids():
        check_camera_id(camera_id)
    if options.duration <= timedelta(0):
        raise InvalidRequest(f"duration must be positive, not {options.duration}")
    get_layout(options.layout)
    _choice("container", options.container, CONTAINERS)
    _choice("codec", options.codec, CODECS)
    _choice("stamps mode", options.stamps, STAMP_MODES)
    _positive_int("fps", options.fps, 120)
    _positive_int("gop", options.gop, 100_000)
    _check_resolution(options.resolution)
    if not options.segment_seconds > 0:
        raise InvalidRequest(f"segment_seconds must be positive, not {options.segment_seconds}")
    segment_frames(options)
    if options.bitrate is not None and (
        isinstance(options.bitrate, bool) or options.bitrate < MIN_BITRATE
    ):
        raise InvalidRequest(
            f"bitrate {options.bitrate!r} bit/s is too low; give at least {MIN_BITRATE} "
            "or leave it unset for the default quality"
        )
    start = options.start
    if start is not None:
        start = ensure_utc(start)
    if options.layout == "frigate":
        if options.segment_seconds != int(options.segment_seconds):
            raise InvalidRequest(
                "the frigate layout names files by whole seconds; give whole-second "
                f"segment_seconds instead of {options.segment_seconds}"
            )
        if start is not None and start.microsecond:
            raise InvalidRequest(
                "the frigate layout names files by whole seconds; give a start on a whole "
                f"second instead of {start.isoformat()}"
            )


def resolve(options: SynthOptions, *, now: datetime | None = None) -> SynthOptions:
    """Check ``options`` and settle ``start`` (UTC) and ``stamps`` (exact or loop)."""
    check_options(options)
    if options.start is None:
        end = now or datetime.now(UTC)
        start_us = to_us(end - options.duration) // 1_000_000 * 1_000_000
        start = from_us(start_us)
    else:
        start = ensure_utc(options.start)
    stamps = options.stamps
    if stamps == "auto":
        stamps = "exact" if options.duration * options.cameras <= AUTO_EXACT_LIMIT else "loop"
    return replace(options, start=start, stamps=stamps)
