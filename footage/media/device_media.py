"""Media as NVRs deliver it, turned into MP4 (and a picture) with PyAV.

Devices send their own containers: Hikvision an MPEG program stream, often behind a 40-byte
``IMKH`` header; Dahua ``.dav`` files made of ``DHAV`` frames. :func:`sniff` names the format
from the first bytes (and tells media from an error page), :func:`remux_to_mp4` copies the
video packets into an MP4 (audio too, transcoded to AAC when it is G.711 or another codec MP4
does not carry) and :func:`picture_from_media` writes the frame nearest a moment as a JPEG.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import av
from PIL import Image

from footage.domain import MediaError
from footage.durable import publish, write_file
from footage.media.picture.jpeg import frame_to_rgb

MediaKind = Literal["hikvision-ps", "mpeg-ps", "dhav", "mpeg-ts"]

IMKH_HEADER_SIZE = 40
SNIFF_BYTES = 64
_DEMUXERS: dict[str, str] = {
    "hikvision-ps": "mpeg",
    "mpeg-ps": "mpeg",
    "dhav": "dhav",
    "mpeg-ts": "mpegts",
}
_MP4_AUDIO = frozenset({"aac", "mp3", "mp2", "ac3", "eac3", "opus", "flac", "alac"})
_OPEN_OPTIONS = {"probesize": "5000000", "analyzeduration": "5000000"}


def sniff(head: bytes) -> MediaKind | None:
    """The device media format ``head`` starts, or None when it is not media we know."""
    if head.startswith(b"IMKH"):
        return "hikvision-ps"
    if head.startswith(b"\x00\x00\x01\xba"):
        return "mpeg-ps"
    if head.startswith((b"DHAV", b"DAHUA")):
        return "dhav"
    if head[:1] == b"\x47" and (len(head) < 189 or head[188:189] == b"\x47"):
        return "mpeg-ts"
    return None


def looks_like_text(head: bytes) -> bool:
    """True for an XML/HTML/JSON/plain-text body (a device's error page, not media)."""
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped[:1] in (b"<", b"{"):
        return True
    sample = stripped[:SNIFF_BYTES]
    return bool(sample) and all(32 <= b < 127 or b in (9, 10, 13) for b in sample)


@dataclass(frozen=True, slots=True, kw_only=True)
class RemuxResult:
    path: Path
    kind: MediaKind
    duration: float  # seconds of video
    frames: int
    first_wall_ms: int | None  # DHAV only: device wall clock of the first frame, ms
    audio: str | None  # codec in the MP4


def remux_to_mp4(source: Path, out: Path, *, kind: MediaKind | None = None) -> RemuxResult:
    """Copy the video of device media ``source`` into the MP4 ``out`` (written via a temp name).

    Raises ``MediaError`` when the file is not media, holds no video frame, or is damaged.
    """
    kind = kind or _sniff_file(source)
    tmp = out.with_name(f".{out.name}.part")
    try:
        with av.open(str(source), format=_DEMUXERS[kind], options=_OPEN_OPTIONS) as inp:
            result = _remux(inp, tmp, kind)
    except av.FFmpegError as exc:
        tmp.unlink(missing_ok=True)
        raise MediaError(f"cannot read the device media {source.name}: {exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    publish([(tmp, out)])
    return RemuxResult(
        path=out,
        kind=kind,
        duration=result[0],
        frames=result[1],
        first_wall_ms=result[2] if kind == "dhav" else None,
        audio=result[3],
    )


def _sniff_file(source: Path) -> MediaKind:
    with source.open("rb") as handle:
        head = handle.read(SNIFF_BYTES * 4)
    kind = sniff(head)
    if kind is None:
        raise MediaError(f"{source.name} is not device media (starts {head[:16]!r})")
    return kind


class _TimestampFixer:
    """Fills packets a program stream leaves without timestamps (several frames per PES)."""

    def __init__(self, default_duration: int) -> None:
        self.default = max(default_duration, 1)
        self.last: int | None = None

    def fix(self, packet: Any) -> None:
        duration = packet.duration or self.default
        if packet.dts is None:
            packet.dts = packet.pts if packet.pts is not None else self._next(duration)
        if self.last is not None and packet.dts <= self.last:
            packet.dts = self.last + 1
        if packet.pts is None or packet.pts < packet.dts:
            packet.pts = packet.dts
        self.last = packet.dts

    def _next(self, duration: int) -> int:
        return 0 if self.last is None else self.last + duration


def _remux(inp: Any, tmp: Path, kind: MediaKind) -> tuple[float, int, int | None, str | None]:
    if not inp.streams.video:
        raise MediaError("the device media holds no video stream")
    vin = inp.streams.video[0]
    ain = inp.streams.audio[0] if inp.streams.audio else None
    with av.open(str(tmp), "w", format="mp4", options={"movflags": "+faststart"}) as out:
        vout = out.add_stream_from_template(vin)
        audio = _AudioPath(out, ain) if ain is not None else None
        rate = vin.average_rate or vin.guessed_rate or Fraction(25)
        fixer = _TimestampFixer(round(1 / (Fraction(rate) * vin.time_base)))
        first: int | None = None
        last = 0
        frames = 0
        started = False
        streams = [vin] + ([ain] if ain is not None else [])
        for packet in inp.demux(streams):
            if packet.size == 0:
                continue
            if packet.stream is vin:
                if not started and not packet.is_keyframe:
                    continue  # nothing decodes before the first key frame
                started = True
                fixer.fix(packet)
                first = packet.pts if first is None else min(first, packet.pts)
                last = max(last, packet.pts + (packet.duration or fixer.default))
                frames += 1
                packet.stream = vout
                out.mux(packet)
            elif audio is not None and started:
                audio.push(packet)
        if audio is not None:
            audio.flush()
    if frames == 0 or first is None:
        raise MediaError("the device media holds no complete video frame")
    seconds = float((last - first) * vin.time_base)
    first_ms = int(first * vin.time_base * 1000)
    return seconds, frames, first_ms, audio.codec if audio is not None else None


class _AudioPath:
    """Copies MP4-compatible audio; decodes anything else (G.711…) and encodes AAC."""

    def __init__(self, out: Any, ain: Any) -> None:
        self._ain = ain
        self._out = out
        name = ain.codec_context.name
        self._copy = name in _MP4_AUDIO and (name != "aac" or bool(ain.codec_context.extradata))
        if self._copy:
            self._stream = out.add_stream_from_template(ain)
            self.codec = name
        else:
            rate = ain.codec_context.sample_rate or 8000
            self._stream = out.add_stream("aac", rate=max(rate, 8000), layout="mono")
            self._resampler = av.AudioResampler(format="fltp", layout="mono", rate=max(rate, 8000))
            self.codec = "aac"
        self._broken = False

    def push(self, packet: Any) -> None:
        if self._broken:
            return
        if self._copy:
            if packet.dts is None:
                return
            packet.stream = self._stream
            self._out.mux(packet)
            return
        try:
            for frame in packet.decode():
                frame.pts = None
                for resampled in self._resampler.resample(frame):
                    self._out.mux(self._stream.encode(resampled))
        except av.FFmpegError:
            self._broken = True  # a damaged audio frame must not cost the video

    def flush(self) -> None:
        if not self._copy and not self._broken:
            self._out.mux(self._stream.encode(None))


def picture_from_media(
    source: Path,
    out: Path,
    *,
    at_wall_ms: int | None = None,
    kind: MediaKind | None = None,
    quality: int = 90,
) -> int:
    """Write the frame of ``source`` nearest ``at_wall_ms`` (DHAV wall-clock ms) as a JPEG.

    Without ``at_wall_ms`` (or for formats without absolute times) the first decodable
    frame is taken. Returns the JPEG's size in bytes.
    """
    kind = kind or _sniff_file(source)
    best: Any = None
    try:
        with av.open(str(source), format=_DEMUXERS[kind], options=_OPEN_OPTIONS) as inp:
            if not inp.streams.video:
                raise MediaError("the device media holds no video stream")
            stream = inp.streams.video[0]
            best = _nearest_frame(inp, stream, at_wall_ms if kind == "dhav" else None)
    except av.FFmpegError as exc:
        raise MediaError(f"cannot decode the device media {source.name}: {exc}") from exc
    if best is None:
        raise MediaError("the device media holds no decodable video frame")
    rgb = frame_to_rgb(best, best.width, best.height)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, format="JPEG", quality=quality)
    write_file(out, buffer.getvalue())
    return buffer.tell()


def _nearest_frame(inp: Any, stream: Any, at_ms: int | None) -> Any:
    best: Any = None
    best_gap: float | None = None
    for frame in inp.decode(stream):
        if at_ms is None:
            return frame
        if frame.pts is None:
            continue
        gap = abs(float(frame.pts * stream.time_base) * 1000 - at_ms)
        if best_gap is not None and gap > best_gap:
            break  # frames only move further away from here
        best, best_gap = frame, gap
    return best
