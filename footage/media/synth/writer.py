"""Writing segment files: containers, encoders, whole-file copies and prefix remuxes.

Every file is written as ``.<name>.part`` in its final folder and renamed when complete, so a
scanner never sees half a file.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import cast

import av
from av.audio.stream import AudioStream
from av.container import OutputContainer
from av.video.codeccontext import VideoCodecContext
from av.video.stream import VideoStream

from footage.domain import MediaError
from footage.media.synth.audio import AUDIO_RATE, tone_samples
from footage.media.synth.draw import FrameRenderer
from footage.media.synth.plan import Stretch

_FORMATS: dict[str, tuple[str, dict[str, str]]] = {
    "fmp4": ("mp4", {"movflags": "frag_keyframe+empty_moov+default_base_moof+delay_moov"}),
    "mp4": ("mp4", {"movflags": "+faststart"}),
    "ts": ("mpegts", {}),
}
_ENCODERS = {"h264": "libx264", "hevc": "libx265"}
_AUDIO_FRAME = 1024
#: Samples of tone fed before time 0 so the encoder is settled when the segment starts; the
#: muxer hides them (MP4 edit list) or shifts every stream by them (MPEG-TS).
AUDIO_LEAD_IN = 1024
_AUDIO_BITRATE = 48_000


@dataclass(frozen=True, slots=True, kw_only=True)
class EncodeSettings:
    container: str
    codec: str
    width: int
    height: int
    fps: int
    gop: int
    bitrate: int | None
    audio: bool
    threads: int = 0  # 0 lets the encoder choose


def part_path(final: Path) -> Path:
    return final.with_name(f".{final.name}.part")


@contextmanager
def atomic_file(final: Path) -> Iterator[Path]:
    """Yield the temporary path to write; rename it to ``final`` when the block succeeds."""
    final.parent.mkdir(parents=True, exist_ok=True)
    part = part_path(final)
    try:
        yield part
        os.replace(part, final)
    except BaseException:
        part.unlink(missing_ok=True)
        raise


def _video_options(settings: EncodeSettings) -> dict[str, str]:
    gop = settings.gop
    if settings.codec == "h264":
        params = f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0"
        options = {"preset": "superfast", "x264-params": params}
    else:
        params = f"keyint={gop}:min-keyint={gop}:scenecut=0:bframes=0:open-gop=0:log-level=error"
        if settings.threads == 1:
            params += ":pools=1:frame-threads=1"
        options = {"preset": "ultrafast", "x265-params": params}
    if settings.bitrate is None:
        options["crf"] = "28" if settings.codec == "h264" else "30"
    return options


def open_output(
    part: Path, settings: EncodeSettings
) -> tuple[OutputContainer, VideoStream, AudioStream | None]:
    """Open the container at ``part`` with a video stream and, if asked, an AAC stream."""
    fmt, options = _FORMATS[settings.container]
    out = av.open(str(part), mode="w", format=fmt, options=dict(options))
    video = cast(VideoStream, out.add_stream(_ENCODERS[settings.codec], rate=settings.fps))
    video.width, video.height = settings.width, settings.height
    video.pix_fmt = "yuv420p"
    video.time_base = Fraction(1, settings.fps)
    context: VideoCodecContext = video.codec_context
    context.gop_size = settings.gop
    context.max_b_frames = 0
    context.thread_count = settings.threads
    if settings.bitrate is not None:
        context.bit_rate = settings.bitrate
    context.options = _video_options(settings)
    if settings.codec == "hevc" and fmt == "mp4":
        context.codec_tag = "hvc1"
    audio = None
    if settings.audio:
        audio = out.add_stream("aac", rate=AUDIO_RATE, layout="mono")
        audio.codec_context.bit_rate = _AUDIO_BITRATE
        audio.time_base = Fraction(1, AUDIO_RATE)
    return out, video, audio


def encode_stretch(
    final: Path, settings: EncodeSettings, renderer: FrameRenderer, stretch: Stretch
) -> None:
    """Encode ``stretch`` into a new file at ``final`` (timestamps start at 0)."""
    with atomic_file(final) as part:
        out, video, audio = open_output(part, settings)
        try:
            audio_sent = -AUDIO_LEAD_IN
            audio_first = _audio_sample(stretch.frame_us(0))
            audio_total = _audio_sample(stretch.frame_us(stretch.frames)) - audio_first
            for index in range(stretch.frames):
                t_us = stretch.frame_us(index)
                frame = renderer.render((t_us + 500) // 1000, t_us)
                frame.pts = index
                out.mux(video.encode(frame))
                if audio is not None:
                    due = min(audio_total, _audio_sample(stretch.frame_us(index + 1)) - audio_first)
                    while audio_sent < due:
                        count = min(_AUDIO_FRAME, audio_total - audio_sent)
                        out.mux(audio.encode(_audio_frame(stretch, audio_first, audio_sent, count)))
                        audio_sent += count
            out.mux(video.encode(None))
            if audio is not None:
                out.mux(audio.encode(None))
        except (av.FFmpegError, ValueError) as exc:
            raise MediaError(f"could not write synthetic segment {final}: {exc}") from exc
        finally:
            out.close()


def _audio_sample(t_us: int) -> int:
    return (t_us * AUDIO_RATE + 500_000) // 1_000_000


def _audio_frame(stretch: Stretch, first: int, offset: int, count: int) -> av.AudioFrame:
    samples = tone_samples(first + offset, count, stretch.camera_index, AUDIO_RATE)
    frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="fltp", layout="mono")
    frame.sample_rate = AUDIO_RATE
    frame.pts = offset
    frame.time_base = Fraction(1, AUDIO_RATE)
    return frame


def copy_file(template: Path, final: Path) -> None:
    """Copy ``template`` to ``final`` in the kernel (sharing extents where the disk can)."""
    with atomic_file(final) as part, open(template, "rb") as src, open(part, "wb") as dst:
        remaining = os.fstat(src.fileno()).st_size
        try:
            while remaining > 0:
                copied = os.copy_file_range(src.fileno(), dst.fileno(), remaining)
                if copied == 0:
                    break
                remaining -= copied
        except OSError:
            src.seek(0)
            dst.seek(0)
            dst.truncate()
            shutil.copyfileobj(src, dst, 1 << 20)


def remux_prefix(template: Path, final: Path, frames: int, fps: int, container: str) -> None:
    """Write the first ``frames`` video frames of ``template`` (and their sound) to ``final``."""
    fmt, options = _FORMATS[container]
    cutoff = Fraction(frames, fps)
    with atomic_file(final) as part, av.open(str(template)) as source:
        out = av.open(str(part), mode="w", format=fmt, options=dict(options))
        try:
            streams = {}
            for stream in source.streams:
                streams[stream.index] = out.add_stream_from_template(stream)
                if fmt == "mp4" and stream.codec_context.name == "hevc":
                    streams[stream.index].codec_context.codec_tag = "hvc1"
            video_index = source.streams.video[0].index
            origin: Fraction | None = None
            taken = 0
            for packet in source.demux():
                if packet.dts is None or packet.pts is None or packet.time_base is None:
                    continue
                at = Fraction(packet.pts) * packet.time_base
                if packet.stream.index == video_index:
                    if origin is None:
                        origin = at
                    if taken >= frames:
                        continue
                    taken += 1
                elif origin is not None and at - origin >= cutoff:
                    continue
                packet.stream = streams[packet.stream.index]
                out.mux(packet)
        except av.FFmpegError as exc:
            raise MediaError(f"could not cut synthetic segment {final}: {exc}") from exc
        finally:
            out.close()
