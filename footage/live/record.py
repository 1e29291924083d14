"""Clips and pictures from live RTSP streams (cameras, NVR channels), with PyAV.

``record_clip`` connects over TCP (interleaved RTP), skips to the first key frame and copies
the next ``seconds`` of stream time, video (and audio) untouched, into an MP4 (faststart) or
MKV whose timestamps start at 0. ``live_picture`` saves the first frame that decodes as a JPG.

Sound (``audio=True``) is cut to the video: the packets whose middle is before the end of the
last frame, and that start at or after the first key frame (MKV) or whose middle is (MP4: its
edit list trims the part before time zero), so it starts and ends within one audio frame of
the video (the recording reads on for a moment after the last frame to get the sound that
arrives later than the video). It is copied as sent when the container takes the codec (AAC
and the like into MP4, most codecs into MKV). G.711 (PCMU/PCMA), which MP4 cannot hold, is
transcoded to AAC for an MP4 (cheap for narrow-band sound, and better than a silent clip), and
decoded to 16-bit PCM for an MKV (the same sound: FFmpeg puts G.711 into MKV only as a Windows
ACM codec, and PyAV refuses even that). Should the conversion fail, the sound is left out.
``LiveFile.audio_codec`` says what the file holds; ``audio_note`` (also logged) says when the
sound was converted or left out.

Wall-clock times come from receive times: ``first_ts`` is when the first key frame arrived
here, less the one frame interval FFmpeg's parser holds each frame back (FFmpeg is asked not
to probe the stream first, so packets are handed over as they arrive); ``last_ts`` is
``first_ts`` plus the stream time written (the end of the last frame). The camera's own
clock (RTCP sender reports) is not used: it is often unset, and FFmpeg does not expose it for
a stream of one track.

Files are written under ``.<stem>.<fmt>.part``, validated, hashed, put on the disk and only
then renamed (``footage.durable``): the final name never shows a partial file, and after an
error or a cancel nothing is left. Errors name the camera URL without its password.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.container

from footage.archive.live import public_url
from footage.domain import (
    FootageError,
    InvalidRequest,
    MediaError,
    NoSpace,
    SourceTimeout,
    SourceUnavailable,
)
from footage.durable import publish, write_file
from footage.media.clip.cancel import CancelToken
from footage.media.clip.options import OutputFile
from footage.media.clip.output import validate
from footage.media.picture.jpeg import JpegWriter
from footage.media.picture.options import PictureOptions

FORMATS = {"mp4": ("mp4", "video/mp4"), "mkv": ("matroska", "video/x-matroska")}
_MUX_OPTIONS = {"mp4": {"movflags": "+faststart"}, "mkv": {}}
#: audio codecs the MP4 muxer takes by stream copy (G.711 and the like are left out of MP4s)
_MP4_AUDIO = {"aac", "mp3", "mp2", "opus", "ac3", "eac3", "alac", "flac"}
MAX_SECONDS = 24 * 3600
_STOP_CHECK = 0.2  # seconds between two questions to ``stop``
#: after the last video frame, how long (wall clock) to wait for the sound that goes with it
_AUDIO_TAIL_WAIT = 1.5
_MAX_WAITING = 2000  # audio packets held back while the video has not caught up
_AAC_BIT_RATE = 32_000  # for sound transcoded to AAC (G.711 is 64 kbit/s of 8 kHz sound)

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class LiveFile(OutputFile):
    """A file made from a live stream: a clip's output record, with what became of the
    sound. ``first_ts``/``last_ts`` are the UTC wall-clock times of the first and last frame
    written (equal for a picture). ``audio_codec`` is the codec of the file's sound track
    (None: no sound); ``audio_note`` says, when not empty, that the stream's sound was
    transcoded or left out, and why."""

    audio_codec: str | None = None
    audio_note: str = ""


def _describe(exc: Exception) -> str:
    """The reason in an FFmpeg error, without the URL (which holds the password)."""
    reason = getattr(exc, "strerror", None)
    return str(reason) if reason else type(exc).__name__


def _source_error(exc: Exception, url: str, wait: float) -> FootageError:
    shown = public_url(url)
    if isinstance(exc, av.error.HTTPUnauthorizedError):
        return SourceUnavailable(
            f"the live stream {shown} refused the user name and password (401 Unauthorized); "
            "check the credentials configured for this camera"
        )
    if isinstance(exc, av.error.HTTPForbiddenError):
        return SourceUnavailable(
            f"the live stream {shown} refused access (403 Forbidden); the user may lack the "
            "permission to view live video"
        )
    if isinstance(exc, av.error.HTTPNotFoundError):
        return SourceUnavailable(
            f"the live stream {shown} does not exist on the device (404 Not Found); check the "
            "path and the channel number"
        )
    if isinstance(exc, av.error.HTTPError):
        return SourceUnavailable(f"cannot reach the live stream {shown}: {_describe(exc)}")
    if isinstance(exc, av.error.ExitError | av.error.TimeoutError | TimeoutError):
        return SourceTimeout(f"the live stream {shown} sent nothing within {wait:g} s")
    return SourceUnavailable(f"cannot reach the live stream {shown}: {_describe(exc)}")


@contextlib.contextmanager
def _open(url: str, wait: float) -> Iterator[av.container.InputContainer]:
    if not url.lower().startswith(("rtsp://", "rtsps://")):
        raise InvalidRequest(f"{public_url(url)} is not an RTSP URL (rtsp://host:port/path)")
    options = {
        "rtsp_transport": "tcp",
        "timeout": str(int(wait * 1_000_000)),  # socket I/O timeout, µs
        # Hand packets over as they arrive: probing would buffer seconds of them first (and
        # make receive times late). The SDP's parameter sets say what probing would find.
        "analyzeduration": "0",
        "probesize": "32",
        "fpsprobesize": "0",
    }
    began = time.monotonic()
    try:
        container = av.open(url, options=options, timeout=(wait, wait))
    except (av.error.FFmpegError, OSError) as exc:
        if not isinstance(exc, av.error.HTTPError) and time.monotonic() - began >= wait * 0.9:
            # a silent server: FFmpeg's socket timeout surfaces as whatever read failed
            raise SourceTimeout(
                f"the live stream {public_url(url)} sent nothing within {wait:g} s"
            ) from exc
        raise _source_error(exc, url, wait) from exc
    try:
        if not container.streams.video:
            raise MediaError(f"the live stream {public_url(url)} has no video")
        yield container
    finally:
        with contextlib.suppress(av.error.FFmpegError, OSError):
            container.close()


def _check_args(stem: str, fmt: str, seconds: float) -> None:
    if fmt not in FORMATS:
        raise InvalidRequest(f"live clips are mp4 or mkv, not {fmt!r}")
    if not 0 < seconds <= MAX_SECONDS:
        raise InvalidRequest(f"a live clip lasts more than 0 and at most {MAX_SECONDS} s")
    if not stem or "/" in stem or "\\" in stem or stem.startswith("."):
        raise InvalidRequest(f"{stem!r} is not a usable file name")


def _mkdir(out_dir: Path) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise NoSpace(f"cannot create the output folder {out_dir}: {exc.strerror}") from exc


def _sha256(path: Path) -> tuple[str, int]:
    digest = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size


def _codec_label(name: str) -> str:
    return {"pcm_mulaw": "G.711 \u03bc-law (PCMU)", "pcm_alaw": "G.711 A-law (PCMA)"}.get(
        name, name
    )


class _AudioTrack:
    """One sound stream of the input: its packets wait (times relative to the first key
    frame) until the video written covers them, then go to the output, copied or converted
    (``transcode_into``)."""

    def __init__(self, stream: Any, tb: Fraction, *, straddle: bool) -> None:
        self.stream = stream
        self.tb = tb
        # the packet that straddles the first key frame is kept when its middle is after it
        # (MP4 trims what comes before time zero with an edit list; MKV cannot)
        self.straddle = straddle
        self.name: str = stream.codec_context.name
        self.out_stream: Any = None
        self.encoder: Any = None  # set when transcoding
        self.early: list[Any] = []  # packets that came before the first key frame was known
        self.waiting: list[Any] = []  # packets with relative pts, in arrival order
        self.step = 0  # the last interval between two packets (input time base)
        self.last_rel: int | None = None  # relative pts of the latest packet
        self.failed = ""  # why transcoding broke off

    def copy_into(self, out: av.container.OutputContainer) -> None:
        self.out_stream = out.add_stream_from_template(self.stream)

    def transcode_into(self, out: av.container.OutputContainer, codec: str) -> None:
        """Decode the sound and encode it as ``codec`` ("aac" or "pcm_s16le"); PyAV's
        encoder converts the samples and regroups them into frames of its size."""
        ctx = self.stream.codec_context
        rate = ctx.sample_rate or 8000
        layout = "mono" if ctx.channels <= 1 else "stereo"
        out_stream = out.add_stream(codec, rate=rate)
        enc: Any = out_stream.codec_context
        enc.layout = layout
        if codec == "aac":
            enc.format, enc.bit_rate = "fltp", _AAC_BIT_RATE * (2 if layout == "stereo" else 1)
        else:
            enc.format = "s16"
        enc.time_base = Fraction(1, rate)
        out_stream.time_base = Fraction(1, rate)
        self.out_stream, self.encoder = out_stream, enc

    def add(self, packet: Any, rel: int) -> None:
        if self.last_rel is not None and rel > self.last_rel:
            self.step = rel - self.last_rel
            if self.waiting and not self.waiting[-1].duration:
                self.waiting[-1].duration = self.step
        self.last_rel = rel
        packet.pts = packet.dts = rel
        packet.time_base = self.tb
        self.waiting.append(packet)
        if len(self.waiting) > _MAX_WAITING:
            del self.waiting[0]

    def reaches(self, end: int) -> bool:
        """A packet at or after ``end`` (relative, input time base) has arrived."""
        return self.last_rel is not None and self.last_rel >= end

    def release(self, out: av.container.OutputContainer, end: int, final: bool) -> None:
        """Write the waiting packets that end by ``end`` (all decided ones when ``final``):
        those that start at 0 or later (``straddle``: whose middle is at 0 or later) and whose
        middle is before ``end``."""
        keep: list[Any] = []
        for packet in self.waiting:
            duration = packet.duration or (self.step if final else 0)
            if not duration or (not final and packet.pts + duration > end):
                keep.append(packet)
                continue
            start = 2 * packet.pts + duration if self.straddle else packet.pts
            if start >= 0 and 2 * packet.pts + duration <= 2 * end:
                packet.duration = duration
                self._write(out, packet)
        self.waiting = [] if final else keep

    def _write(self, out: av.container.OutputContainer, packet: Any) -> None:
        if self.encoder is None:
            packet.stream = self.out_stream
            packet.time_base = self.tb
            out.mux(packet)
            return
        if self.failed:
            return
        rel = packet.pts
        try:
            frames = self.stream.codec_context.decode(packet)
        except av.error.InvalidDataError:
            return  # a damaged packet: a moment of silence
        try:
            for frame in frames:
                frame.pts = int(rel * self.tb * frame.sample_rate)
                frame.time_base = Fraction(1, frame.sample_rate)
                rel += int(Fraction(frame.samples, frame.sample_rate) / self.tb)
                self._encode(out, frame)
        except (av.error.FFmpegError, ValueError) as exc:
            self.failed = _describe(exc)

    def _encode(self, out: av.container.OutputContainer, frame: Any) -> None:
        for packet in self.encoder.encode(frame):
            packet.stream = self.out_stream
            out.mux(packet)

    def finish(self, out: av.container.OutputContainer) -> None:
        if self.encoder is None or self.failed:
            return
        try:
            self._encode(out, None)
        except (av.error.FFmpegError, ValueError) as exc:
            self.failed = _describe(exc)


class _Copier:
    """Copies packets of the input into the output, video from its first key frame, with
    time zero at that key frame, and stops after ``limit`` seconds of stream time."""

    def __init__(
        self,
        source: av.container.InputContainer,
        out: av.container.OutputContainer,
        *,
        seconds: float,
        audio: bool,
        fmt: str,
    ) -> None:
        self.video_in = source.streams.video[0]
        self.video_out = out.add_stream_from_template(self.video_in)
        self.out = out
        self.tb = self.video_in.time_base or Fraction(1, 90_000)
        self.limit = int(seconds / self.tb)
        self.audio: dict[int, _AudioTrack] = {}
        self.notes: list[str] = []
        if audio:
            for stream in source.streams.audio:
                self._add_audio(stream, out, fmt)
        self.base: int | None = None  # input pts of the first key frame
        self.held: Any = None  # the last video packet, muxed once the next one gives its length
        self.written = 0  # stream time written (input time base)
        self._arrivals: list[tuple[float, int]] = []  # (time.time(), pts) of early packets
        self.done = False
        self._last_pts: int | None = None
        self._step = 0

    def _add_audio(self, stream: Any, out: av.container.OutputContainer, fmt: str) -> None:
        tb = stream.time_base or Fraction(1, 90_000)
        track = _AudioTrack(stream, tb, straddle=fmt == "mp4")
        label = _codec_label(track.name)
        if fmt != "mp4" or track.name in _MP4_AUDIO:
            with contextlib.suppress(ValueError):  # the muxer refuses the codec
                track.copy_into(out)
        if track.out_stream is None:
            # MP4: AAC, which every player plays. MKV (FFmpeg writes G.711 into MKV only as
            # a Windows ACM codec, which few players know): the decoded samples, losslessly
            target, name = ("aac", "AAC") if fmt == "mp4" else ("pcm_s16le", "16-bit PCM")
            how = "transcoded to AAC" if fmt == "mp4" else "decoded to 16-bit PCM (the same sound)"
            try:
                track.transcode_into(out, target)
            except (av.error.FFmpegError, ValueError) as exc:
                self.notes.append(
                    f"the {label} sound was left out: {fmt.upper()} cannot hold it and it could "
                    f"not be converted to {name} ({_describe(exc)})"
                )
                return
            self.notes.append(f"the {label} sound was {how}: {fmt.upper()} cannot hold it as sent")
        self.audio[stream.index] = track

    @property
    def audio_pending(self) -> bool:
        """Some sound that goes with the video written may still be on its way (from the
        streams that sent any: cameras may announce a sound track and send nothing)."""
        return any(
            t.last_rel is not None and not t.reaches(int(self.written * self.tb / t.tb))
            for t in self.audio.values()
        )

    def end_audio(self, out: av.container.OutputContainer) -> None:
        """Write the sound still waiting (after the last video frame) and flush encoders."""
        for track in self.audio.values():
            end = int(self.written * self.tb / track.tb)
            track.release(out, end, final=True)
            track.finish(out)
            if track.failed:
                self.notes.append(
                    f"the conversion of the {_codec_label(track.name)} sound broke off "
                    f"({track.failed}); the clip's sound ends early"
                )

    @property
    def audio_codec(self) -> str | None:
        for track in self.audio.values():
            return str(track.encoder.name) if track.encoder is not None else track.name
        return None

    @property
    def started_at(self) -> float | None:
        """When the first frame written was captured (``time.time()``), estimated from
        receive times: FFmpeg's H.264/H.265 parser hands a frame over when the next one
        starts arriving, so frame k arrives about when frame k+1 was captured. The earliest
        (least delayed) arrival among the first packets sets the clock."""
        if self.base is None or not self._arrivals:
            return None
        base, tb = self.base, self.tb
        offset = min(arrived - float((pts - base) * tb) for arrived, pts in self._arrivals)
        return offset - float(self._step * tb)

    @property
    def streams(self) -> list[Any]:
        return [self.video_in] + [t.stream for t in self.audio.values()]

    def _pts(self, packet: Any) -> int | None:
        pts = packet.pts if packet.pts is not None else packet.dts
        if pts is None and self._last_pts is not None and self._step:
            pts = self._last_pts + self._step
        return pts  # type: ignore[no-any-return]

    def video(self, packet: Any) -> None:
        if packet.size == 0:
            return
        arrived = time.time()
        if self.held is None and self.base is None and not packet.is_keyframe:
            return
        if self.base is None and not self.video_out.codec_context.width:
            self._learn_size(packet)
        pts = self._pts(packet)
        if pts is not None and len(self._arrivals) < 50:
            self._arrivals.append((arrived, pts))
        if self.held is not None:
            held_pts = self.held.pts
            if pts is None:
                raise MediaError("the live stream sends video without timestamps")
            if held_pts is None:  # FFmpeg gives the first frame of an RTSP stream no time
                step = self.held.duration or packet.duration or int(Fraction(1, 25) / self.tb)
                held_pts = pts - step
            if self.base is None:
                self.base = held_pts
            if pts <= held_pts:
                return  # out of order or repeated: not copyable as is
            self._mux_video(self.held, held_pts, pts - held_pts)
            self.held = None
            self._step = pts - held_pts
            if pts - self.base + self._step // 2 >= self.limit:  # to the nearest frame
                self.done = True
                return
        self._last_pts = pts
        packet.pts = pts
        self.held = packet

    def _learn_size(self, packet: Any) -> None:
        """Give the output the picture size, which FFmpeg's short probe of the stream leaves
        unknown when the first packet it read was sound: decode the first frames."""
        try:
            frames = self.video_in.codec_context.decode(packet)
        except av.error.FFmpegError:
            return
        if frames:
            ctx = self.video_out.codec_context
            ctx.width, ctx.height = frames[0].width, frames[0].height

    def _mux_video(self, packet: Any, pts: int, duration: int) -> None:
        assert self.base is not None
        rel = pts - self.base
        packet.stream = self.video_out
        packet.pts = packet.dts = rel
        packet.duration = duration
        packet.time_base = self.tb
        self.out.mux(packet)
        self.written = rel + duration
        for track in self.audio.values():
            self._release(track)

    def _release(self, track: _AudioTrack) -> None:
        if self.base is None:
            return
        if track.early:  # came before the first key frame's time was known
            early, track.early = track.early, []
            for packet in early:
                track.add(packet, packet.pts - int(self.base * self.tb / track.tb))
        track.release(self.out, int(self.written * self.tb / track.tb), final=False)

    def other(self, packet: Any) -> None:
        track = self.audio.get(packet.stream_index)
        if track is None or packet.pts is None or packet.size == 0:
            return
        if self.base is None:  # its time relative to the first key frame is not known yet
            track.early.append(packet)
            if len(track.early) > _MAX_WAITING:
                del track.early[0]
            return
        self._release(track)
        track.add(packet, packet.pts - int(self.base * self.tb / track.tb))
        self._release(track)


def record_clip(
    url: str,
    out_dir: Path,
    *,
    stem: str,
    seconds: float,
    fmt: str = "mp4",
    audio: bool = True,
    progress: Callable[[float], None] | None = None,
    cancel: CancelToken | None = None,
    connect_timeout: float = 10.0,
    camera_name: str = "",
    comment: str = "",
    stop: Callable[[], bool] | None = None,
) -> LiveFile:
    """Record the next ``seconds`` of the live stream at ``url`` into ``out_dir/<stem>.<fmt>``.

    ``stop`` (asked a few times a second) ends the recording early and keeps it: the clip
    then holds what was received until then (a recording "until stopped").

    Raises SourceUnavailable (unreachable, refused credentials, no such stream),
    SourceTimeout (nothing received within ``connect_timeout``), MediaError (a stream that
    cannot be copied), Cancelled (``cancel``), NoSpace; no file is left after any of them.
    """
    _check_args(stem, fmt, seconds)
    cancel = cancel or CancelToken()
    report = progress or (lambda _: None)
    _mkdir(out_dir)
    final = out_dir / f"{stem}.{fmt}"
    temp = out_dir / f".{stem}.{fmt}.part"
    shown = public_url(url)
    try:
        cancel.check()
        with _open(url, connect_timeout) as source:
            copier = _record(
                source, temp, seconds, fmt, audio, camera_name, comment, cancel, report, stop
            )
            cancel.check()
        if copier.started_at is None or copier.written <= 0:
            raise MediaError(f"the live stream {shown} sent no usable video")
        codec, width, height = validate(temp)
        cancel.check()
        sha256, size = _sha256(temp)
        publish([(temp, final)])
    except BaseException:
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    report(100.0)
    for note in copier.notes:
        lost = "left out" in note or "broke off" in note
        log.log(
            logging.WARNING if lost else logging.INFO,
            "live clip %s from %s: %s",
            final.name,
            shown,
            note,
        )
    first = datetime.fromtimestamp(copier.started_at, UTC)
    return LiveFile(
        path=final,
        size=size,
        sha256=sha256,
        mime_type=FORMATS[fmt][1],
        first_ts=first,
        last_ts=first + timedelta(seconds=float(copier.written * copier.tb)),
        width=width,
        height=height,
        video_codec=codec,
        audio_codec=copier.audio_codec,
        audio_note="; ".join(copier.notes),
    )


def _record(
    source: av.container.InputContainer,
    temp: Path,
    seconds: float,
    fmt: str,
    audio: bool,
    camera_name: str,
    comment: str,
    cancel: CancelToken,
    report: Callable[[float], None],
    stop: Callable[[], bool] | None = None,
) -> _Copier:
    url = public_url(source.name)
    stopped = False
    asked = time.monotonic()
    try:
        out = av.open(str(temp), "w", format=FORMATS[fmt][0], options=_MUX_OPTIONS[fmt])
    except (av.error.FFmpegError, OSError) as exc:
        raise MediaError(f"cannot create {temp.name}: {_describe(exc)}") from exc
    try:
        if camera_name:
            out.metadata["title"] = camera_name
        if comment:
            out.metadata["comment"] = comment
        copier = _Copier(source, out, seconds=seconds, audio=audio, fmt=fmt)
        shown = -1
        try:
            for packet in source.demux(copier.streams):
                cancel.check()
                if packet.stream_index == copier.video_in.index:
                    copier.video(packet)
                else:
                    copier.other(packet)
                if copier.done:
                    break
                if stop is not None and time.monotonic() - asked >= _STOP_CHECK:
                    asked = time.monotonic()
                    if copier.written > 0 and stop():
                        stopped = True
                        break
                percent = int(99 * copier.written / copier.limit) if copier.limit else 0
                if percent != shown:
                    shown = percent
                    report(float(percent))
            if copier.audio_pending:  # the sound of the last frames comes a little later
                _read_audio_tail(source, copier, cancel)
        except av.error.EOFError:
            pass
        except (av.error.ExitError, av.error.TimeoutError) as exc:
            raise SourceTimeout(f"the live stream {url} stopped sending video") from exc
        except av.error.InvalidDataError as exc:
            raise MediaError(f"the live stream {url} sent damaged data: {_describe(exc)}") from exc
        except av.error.FFmpegError as exc:
            raise _source_error(exc, source.name, 0) from exc
        if not copier.done and not stopped:
            raise SourceUnavailable(
                f"the live stream {url} ended after {float(copier.written * copier.tb):.1f} s "
                f"of the {seconds:g} s asked for"
            )
        copier.end_audio(out)
    finally:
        try:
            out.close()
        except av.error.FFmpegError as exc:
            raise MediaError(f"cannot finish {temp.name}: {_describe(exc)}") from exc
        except OSError as exc:
            raise NoSpace(f"cannot finish {temp.name}: {exc.strerror}") from exc
    return copier


def _read_audio_tail(
    source: av.container.InputContainer, copier: _Copier, cancel: CancelToken
) -> None:
    """Read on (for at most ``_AUDIO_TAIL_WAIT`` s) until every sound stream has sent the
    packets that go with the video written; video packets are dropped."""
    deadline = time.monotonic() + _AUDIO_TAIL_WAIT
    try:
        for packet in source.demux(copier.streams):  # video too: it keeps the loop turning
            cancel.check()
            if packet.stream_index in copier.audio:
                copier.other(packet)
            if not copier.audio_pending or time.monotonic() >= deadline:
                break
    except (av.error.EOFError, av.error.ExitError, av.error.TimeoutError):
        pass  # the video is complete: the sound ends where it ends


def live_picture(
    url: str,
    out_dir: Path,
    *,
    stem: str,
    quality: int = 90,
    connect_timeout: float = 10.0,
    cancel: CancelToken | None = None,
) -> LiveFile:
    """Save the first frame of the live stream at ``url`` that decodes as
    ``out_dir/<stem>.jpg`` (full-range colours). Errors as for :func:`record_clip`."""
    _check_args(stem, "mp4", 1)
    writer = JpegWriter(PictureOptions(quality=quality))
    cancel = cancel or CancelToken()
    _mkdir(out_dir)
    shown = public_url(url)
    cancel.check()
    with _open(url, connect_timeout) as source:
        frame, received = _first_frame(source, shown, cancel)
    try:
        data = writer.encode(frame)
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise MediaError(f"cannot make a JPG of the live stream {shown}: {exc}") from exc
    cancel.check()
    path = out_dir / f"{stem}.jpg"
    write_file(path, data)
    moment = datetime.fromtimestamp(received, UTC)
    return LiveFile(
        path=path,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        mime_type="image/jpeg",
        first_ts=moment,
        last_ts=moment,
        width=frame.width,
        height=frame.height,
        video_codec="mjpeg",
    )


def _first_frame(
    source: av.container.InputContainer, shown: str, cancel: CancelToken
) -> tuple[Any, float]:
    stream = source.streams.video[0]
    started = False
    failures = 0
    try:
        for packet in source.demux(stream):
            cancel.check()
            if not started:
                if not packet.is_keyframe:
                    continue
                started = True
            try:
                frames = packet.decode()
            except av.error.InvalidDataError:
                failures += 1
                if failures > 50:
                    raise
                continue
            if frames:
                # the parser hands a frame over as the next one starts to arrive
                held_back = float(packet.duration * packet.time_base) if packet.duration else 0
                return frames[0], time.time() - held_back
    except av.error.EOFError:
        pass
    except (av.error.ExitError, av.error.TimeoutError) as exc:
        raise SourceTimeout(f"the live stream {shown} stopped sending video") from exc
    except av.error.InvalidDataError as exc:
        raise MediaError(f"the live stream {shown} sent video that does not decode") from exc
    except av.error.FFmpegError as exc:
        raise _source_error(exc, source.name, 0) from exc
    raise SourceUnavailable(f"the live stream {shown} ended before a picture could be decoded")
