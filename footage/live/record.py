"""Clips and pictures from live RTSP streams (cameras, NVR channels), with PyAV.

``record_clip`` connects over TCP (interleaved RTP), skips to the first key frame and copies
the next ``seconds`` of stream time, video (and audio) untouched, into an MP4 (faststart) or
MKV whose timestamps start at 0. ``live_picture`` saves the first frame that decodes as a JPG.

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
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import av
import av.container

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


# A file made from a live stream: the same record as a clip's output. ``first_ts``/``last_ts``
# are the UTC wall-clock times of the first and last frame written (equal for a picture).
LiveFile = OutputFile


def public_url(url: str) -> str:
    """``url`` without user name and password, for messages and logs."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        if parts.port is not None:
            host += f":{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, parts.query, ""))
    except ValueError:
        return "(an invalid URL)"


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
        self.audio: dict[int, tuple[Any, Any, Fraction]] = {}
        if audio:
            for stream in source.streams.audio:
                name = stream.codec_context.name
                if fmt == "mp4" and name not in _MP4_AUDIO:
                    continue
                if stream.time_base is None:
                    continue
                self.audio[stream.index] = (
                    stream,
                    out.add_stream_from_template(stream),
                    stream.time_base,
                )
        self.base: int | None = None  # input pts of the first key frame
        self.held: Any = None  # the last video packet, muxed once the next one gives its length
        self.written = 0  # stream time written (input time base)
        self._arrivals: list[tuple[float, int]] = []  # (time.time(), pts) of early packets
        self.done = False
        self._last_pts: int | None = None
        self._step = 0

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
        return [self.video_in] + [s for s, _, _ in self.audio.values()]

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

    def _mux_video(self, packet: Any, pts: int, duration: int) -> None:
        assert self.base is not None
        rel = pts - self.base
        packet.stream = self.video_out
        packet.pts = packet.dts = rel
        packet.duration = duration
        packet.time_base = self.tb
        self.out.mux(packet)
        self.written = rel + duration

    def other(self, packet: Any) -> None:
        entry = self.audio.get(packet.stream_index)
        if entry is None or self.base is None or packet.pts is None or packet.size == 0:
            return
        _, out_stream, tb = entry
        rel = packet.pts - int(self.base * self.tb / tb)
        if rel < 0 or rel * tb >= self.limit * self.tb:
            return
        packet.stream = out_stream
        packet.pts = packet.dts = rel
        packet.time_base = tb
        self.out.mux(packet)


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
    finally:
        try:
            out.close()
        except av.error.FFmpegError as exc:
            raise MediaError(f"cannot finish {temp.name}: {_describe(exc)}") from exc
        except OSError as exc:
            raise NoSpace(f"cannot finish {temp.name}: {exc.strerror}") from exc
    return copier


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
