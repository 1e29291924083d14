"""Probe a recorded segment: container, codecs, picture size, rate and exact video duration.

Fast by design (an archive holds thousands of files): nothing is decoded, and the duration
comes from the container index where it is exact (progressive MP4) or from the last packets
only, reached by one seek near the end (fragmented MP4, MPEG-TS, Matroska).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

import av

from footage.domain import MediaError

_FORMATS = {"mov,mp4,m4a,3gp,3g2,mj2": "mp4", "mpegts": "ts", "matroska,webm": "mkv"}
_TAIL_S = 2  # how far before the estimated end the tail read starts
_OPEN_OPTIONS = {"probesize": "2000000", "analyzeduration": "2000000"}


@dataclass(frozen=True, slots=True, kw_only=True)
class ProbeResult:
    container: str  # "fmp4" | "mp4" | "ts" | "mkv"
    video_codec: str
    width: int
    height: int
    fps: float
    audio_codec: str | None
    duration_us: int  # of the video stream: last pts + its duration - first pts
    first_pts_us: int


def probe(path: str | os.PathLike[str]) -> ProbeResult:
    """Describe the media file at ``path``; raises ``MediaError`` saying what is wrong."""
    where = Path(path)
    try:
        size = where.stat().st_size
    except OSError as exc:
        raise MediaError(f"cannot read {where}: {exc.strerror or exc}") from exc
    if size == 0:
        raise MediaError(f"{where} is empty (0 bytes)")
    try:
        with av.open(str(where), options=_OPEN_OPTIONS) as container:
            return _describe(where, container)
    except av.FFmpegError as exc:
        reason = exc.strerror or str(exc)
        raise MediaError(
            f"{where} is not readable media ({reason}); truncated or damaged?"
        ) from exc


def _describe(where: Path, container: Any) -> ProbeResult:
    kind = _FORMATS.get(container.format.name)
    if kind is None:
        raise MediaError(
            f"{where} is {container.format.long_name or container.format.name}, "
            "not MP4, MPEG-TS or Matroska"
        )
    if not container.streams.video:
        raise MediaError(f"{where} has no video stream")
    video = container.streams.video[0]
    codec = video.codec_context
    if not codec.width or not codec.height:
        raise MediaError(f"{where}: the video stream has no picture size (damaged header?)")
    if kind == "mp4" and _mp4_is_fragmented(where):
        kind = "fmp4"
    if kind == "ts":
        _check_whole_ts_packets(where)
    rate = video.guessed_rate or video.average_rate or video.base_rate
    fps = float(rate) if rate else 0.0
    time_base: Fraction = video.time_base
    first = video.start_time
    if kind == "mp4" and video.duration and first is not None:
        length = video.duration  # the sample table's exact sum of sample durations
    else:
        first, end = _tail_end(where, container, video, fps)
        length = end - first
    if length <= 0:
        raise MediaError(f"{where}: the video stream holds no complete frame")
    audio = container.streams.audio
    return ProbeResult(
        container=kind,
        video_codec=codec.name,
        width=codec.width,
        height=codec.height,
        fps=fps,
        audio_codec=audio[0].codec_context.name if audio else None,
        duration_us=_ticks_to_us(length, time_base),
        first_pts_us=_ticks_to_us(first, time_base),
    )


def _tail_end(where: Path, container: Any, video: Any, fps: float) -> tuple[int, int]:
    """(first pts, end of the last frame) in stream ticks, reading only the last packets."""
    time_base: Fraction = video.time_base
    first = video.start_time
    if first is None:
        first = _first_pts(where, container, video)
    frame_ticks = round(1 / (fps * time_base)) if fps else 0
    target = first + (video.duration or 0) - int(_TAIL_S / time_base)
    if video.duration and target > first:
        container.seek(target, stream=video, backward=True)
    else:
        container.seek(first, stream=video, backward=True)
    end: int | None = None
    for packet in container.demux(video):
        if packet.pts is None:
            continue
        if packet.is_corrupt:
            at = float(packet.pts * time_base)
            raise MediaError(f"{where} is truncated or damaged near {at:.3f}s")
        stop = packet.pts + (packet.duration or frame_ticks)
        end = stop if end is None else max(end, stop)
    if end is None:
        raise MediaError(f"{where}: the video stream holds no packets")
    return first, end


def _first_pts(where: Path, container: Any, video: Any) -> int:
    for packet in container.demux(video):
        if packet.pts is not None:
            return int(packet.pts)
    raise MediaError(f"{where}: the video stream holds no packets")


def _check_whole_ts_packets(where: Path) -> None:
    size = where.stat().st_size
    if size % 188 and size % 192:
        raise MediaError(
            f"{where} is truncated: {size} bytes is not a whole number of MPEG-TS packets"
        )


def _ticks_to_us(ticks: int, time_base: Fraction) -> int:
    return round(Fraction(ticks) * time_base * 1_000_000)


def _mp4_is_fragmented(where: Path) -> bool:
    """True when the file has a ``moof`` box or its ``moov`` holds ``mvex`` (ISO BMFF)."""
    with where.open("rb") as handle:
        end = os.fstat(handle.fileno()).st_size
        for kind, body, stop in _boxes(handle, 0, end):
            if kind == b"moof":
                return True
            if kind == b"moov":
                return any(child == b"mvex" for child, _, _ in _boxes(handle, body, stop))
    return False


def _boxes(handle: BinaryIO, pos: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """Yield (type, body offset, end offset) of the boxes between ``pos`` and ``end``."""
    while pos + 8 <= end:
        handle.seek(pos)
        head = handle.read(16)
        if len(head) < 8:
            return
        size, kind = struct.unpack(">I4s", head[:8])
        header = 8
        if size == 1 and len(head) == 16:
            size, header = struct.unpack(">Q", head[8:16])[0], 16
        elif size == 0:
            size = end - pos
        if size < header:
            return
        yield kind, pos + header, min(pos + size, end)
        pos += size
