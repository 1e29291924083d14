"""What the emulators serve: the frames of an archive within a time range, ready to frame.

:func:`cut_units` reads the segments of a camera that overlap a range and yields each access
unit with its wall-clock time: video as Annex-B H.264/HEVC from the key frame at or before the
start up to the end, audio decoded and re-encoded as G.711 A-law (8 kHz mono), which is what
NVRs record. The vendor muxers (``hikvision.psmux``, ``dahua.davmux``) turn units into bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av

from footage.archive.source import ArchiveSource
from footage.domain import MediaError, Segment, TimeRange, to_us

ALAW_RATE = 8000


@dataclass(frozen=True, slots=True)
class Unit:
    kind: Literal["video", "audio"]
    data: bytes
    time_us: int  # wall clock (UTC) of the unit
    key: bool
    codec: str  # "h264", "hevc", "pcm_alaw"
    width: int = 0
    height: int = 0
    fps: int = 25


def segment_path(archive: ArchiveSource, segment: Segment) -> Path:
    path = Path(segment.path)
    root = getattr(archive, "root", None)
    if not path.is_absolute() and root is not None:
        path = Path(root) / path
    return path


def cut_units(
    archive: ArchiveSource, camera_id: str, span: TimeRange, *, audio: bool = True
) -> Iterator[Unit]:
    """Units of ``camera_id`` within ``span`` in time order (video from a key frame)."""
    started = False
    for segment in archive.segments(camera_id, span):
        path = segment_path(archive, segment)
        for unit in _segment_units(path, segment, span, audio=audio, seek=not started):
            if unit.kind == "video" and not started:
                if not unit.key:
                    continue
                started = True
            if started:
                yield unit


def _segment_units(
    path: Path, segment: Segment, span: TimeRange, *, audio: bool, seek: bool
) -> Iterator[Unit]:
    try:
        with av.open(str(path)) as container:
            yield from _demux(container, segment, span, audio=audio, seek=seek)
    except av.FFmpegError as exc:
        raise MediaError(f"cannot read segment {path}: {exc}") from exc


def _demux(
    container: Any, segment: Segment, span: TimeRange, *, audio: bool, seek: bool
) -> Iterator[Unit]:
    video = container.streams.video[0]
    streams = [video]
    alaw: _Alaw | None = None
    if audio and container.streams.audio:
        streams.append(container.streams.audio[0])
        alaw = _Alaw()
    origin_us = to_us(segment.start)
    first_pts = video.start_time or 0
    tb: Fraction = video.time_base
    start_us, end_us = span.start_us, span.end_us
    if seek and start_us > origin_us:
        target = first_pts + int(Fraction(start_us - origin_us, 1_000_000) / tb)
        container.seek(target, stream=video, backward=True)
    bsf = av.bitstream.BitStreamFilterContext(_annexb_filter(video), video)
    rate = video.average_rate or video.guessed_rate or Fraction(25)
    fps = round(float(rate))
    codec = video.codec_context.name
    width, height = video.codec_context.width, video.codec_context.height
    video_started = False
    for packet in container.demux(streams):
        if packet.pts is None or packet.size == 0:
            continue
        stream_tb: Fraction = packet.stream.time_base
        base = packet.stream.start_time or 0
        at_us = origin_us + int((packet.pts - base) * stream_tb * 1_000_000)
        if packet.stream is video:
            if at_us >= end_us:
                break
            if not video_started and not packet.is_keyframe:
                continue
            video_started = True
            key = bool(packet.is_keyframe)
            for out in bsf.filter(packet):
                yield Unit("video", bytes(out), at_us, key, codec, width, height, fps)
        elif alaw is not None and video_started and at_us < end_us:
            yield from alaw.encode(packet, at_us)


def _annexb_filter(video: Any) -> str:
    return "hevc_mp4toannexb" if video.codec_context.name == "hevc" else "h264_mp4toannexb"


class _Alaw:
    def __init__(self) -> None:
        self._resampler = av.AudioResampler(format="s16", layout="mono", rate=ALAW_RATE)
        self._codec = av.CodecContext.create("pcm_alaw", "w")
        self._codec.sample_rate = ALAW_RATE
        self._codec.layout = "mono"
        self._codec.format = "s16"
        self._codec.open()

    def encode(self, packet: Any, at_us: int) -> Iterator[Unit]:
        offset = 0
        for frame in packet.decode():
            for resampled in self._resampler.resample(frame):
                resampled.pts = None
                for out in self._codec.encode(resampled):
                    t = at_us + offset * 1_000_000 // ALAW_RATE
                    offset += out.size
                    yield Unit("audio", bytes(out), t, True, "pcm_alaw")


def latest_picture(archive: ArchiveSource, camera_id: str) -> bytes:
    """A JPEG of the first frame of the camera's latest segment (the emulators' "live" view)."""
    import io

    from PIL import Image

    from footage.media.picture.jpeg import frame_to_rgb

    timeline_end = _latest_segment(archive, camera_id)
    if timeline_end is None:
        raise MediaError(f"camera {camera_id} has no recording")
    with av.open(str(segment_path(archive, timeline_end))) as container:
        for frame in container.decode(video=0):
            buffer = io.BytesIO()
            rgb = frame_to_rgb(frame, frame.width, frame.height)
            Image.fromarray(rgb).save(buffer, format="JPEG", quality=85)
            return buffer.getvalue()
    raise MediaError(f"the latest segment of {camera_id} has no frame")


def _latest_segment(archive: ArchiveSource, camera_id: str) -> Segment | None:
    wide = TimeRange.from_us(0, to_us(datetime(2200, 1, 1, tzinfo=UTC)))
    found = archive.segments(camera_id, wide)
    return found[-1] if found else None
