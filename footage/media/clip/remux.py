"""The PyAV packet path: remux segments by stream copy into MKV, MPEG-TS or MP4.

Used for MKV and MPEG-TS outputs, for MPEG-TS sources, and for MP4 sources the bulk path
cannot read. Timestamps are placed exactly like the bulk path: each segment at its wall-clock
offset (gaps skipped), in integer units of the output time base."""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

import av
import av.container

from footage.domain import FootageError, MediaError, NoSpace, from_us
from footage.media.clip.cancel import CancelToken
from footage.media.clip.mp4_boxes import BoxError
from footage.media.clip.mp4_patch import limit_duration
from footage.media.clip.options import ClipOptions
from footage.media.clip.plan import ClipPlan, Piece
from footage.media.clip.remux_select import Selected, select_packets

US = 1_000_000
_OVERHEAD = {"mp4": (1.0, 16), "mkv": (1.0, 24), "ts": (188 / 184, 200)}
_MUX_OPTIONS = {"mp4": {"movflags": "+faststart"}, "mkv": {}, "ts": {}}
_FORMAT = {"mp4": "mp4", "mkv": "matroska", "ts": "mpegts"}


@dataclass(kw_only=True)
class RemuxedFile:
    """One file the packet path wrote (still under its temporary name)."""

    path: Path
    first_us: int
    last_us: int
    video_codec: str
    width: int
    height: int


@dataclass(kw_only=True)
class _Out:
    container: av.container.OutputContainer
    path: Path
    streams: dict[str, av.stream.Stream]
    tb: dict[str, Fraction]
    signature: tuple[object, ...]
    origin_us: int  # output-timeline µs that becomes time zero
    first_us: int
    last_us: int = -1
    end_pos_us: int | None = None  # output-timeline µs where the requested range ends
    written: float = 0.0
    last_dts: dict[str, int] = field(default_factory=dict)
    conversions: dict[tuple[object, ...], tuple[int, int, int]] = field(default_factory=dict)
    info: tuple[str, int, int] = ("", 0, 0)


class Remuxer:
    """Writes the pieces of a plan through PyAV, starting new files as needed."""

    def __init__(
        self,
        plan: ClipPlan,
        options: ClipOptions,
        new_path: Callable[[], Path],
        cancel: CancelToken,
        progress: Callable[[float], None],
    ) -> None:
        self._plan = plan
        self._options = options
        self._new_path = new_path
        self._cancel = cancel
        self._progress = progress
        self._out: _Out | None = None
        self._files: list[RemuxedFile] = []
        self._gop_bytes = 0.0
        self._max_gop = 0.0
        self._done_s = 0.0
        self._scale, self._extra = _OVERHEAD[options.format]

    def run(self) -> list[RemuxedFile]:
        try:
            for piece in self._plan.pieces:
                self._piece(piece)
            self._close()
        finally:
            if self._out is not None:  # after an error: release the file, keep that error
                with contextlib.suppress(av.error.FFmpegError, OSError):
                    self._out.container.close()
        return self._files

    def _piece(self, piece: Piece) -> None:
        try:
            source = av.open(piece.segment.path)
        except (av.error.FFmpegError, OSError) as exc:
            raise MediaError(f"cannot read segment {piece.segment.path}: {exc}") from exc
        with source:
            try:
                exact = self._options.exact and self._options.format == "mp4"
                for sel in select_packets(source, piece, exact=exact, audio=self._options.audio):
                    self._cancel.check()
                    self._packet(piece, source, sel)
            except av.error.FFmpegError as exc:
                raise MediaError(f"segment {piece.segment.path} is corrupt: {exc}") from exc
        if piece.last and self._out is not None:
            self._out.end_pos_us = piece.out_us + piece.end_us - piece.start_us
        self._done_s += piece.seconds
        self._progress(self._done_s)

    def _packet(self, piece: Piece, source: av.container.InputContainer, sel: Selected) -> None:
        if sel.kind == "video" and sel.packet.is_keyframe:
            sig = _signature(source)
            if self._out is None or self._out.signature != sig or self._too_big():
                self._close()
                if sel.start_pos_us is not None:
                    self._open(source, sig, sel.start_pos_us, piece.begin_us)
                else:
                    self._open(source, sig, sel.pos_us, sel.wall_us)
            self._max_gop = max(self._max_gop, self._gop_bytes)
            self._gop_bytes = 0.0
        out = self._out
        if out is None or sel.kind not in out.streams:
            return
        self._mux(out, sel)

    def _too_big(self) -> bool:
        limit = self._options.max_file_size
        if limit is None or self._out is None:
            return False
        return self._out.written + 1.3 * self._max_gop + 64 * 1024 > limit

    def _open(
        self,
        source: av.container.InputContainer,
        sig: tuple[object, ...],
        origin_us: int,
        first_wall: int,
    ) -> None:
        fmt = self._options.format
        path = self._new_path()
        try:
            container = av.open(str(path), "w", format=_FORMAT[fmt], options=_MUX_OPTIONS[fmt])
        except (av.error.FFmpegError, OSError) as exc:
            raise _writing(path, exc) from exc
        streams: dict[str, av.stream.Stream] = {}
        tb: dict[str, Fraction] = {}
        v = source.streams.video[0]
        streams["video"] = container.add_stream_from_template(v)
        if fmt == "mp4" and v.codec_context.name == "hevc":
            streams["video"].codec_context.codec_tag = "hvc1"
        tb["video"] = Fraction(v.time_base or Fraction(1, 90_000))
        if self._options.audio and source.streams.audio:
            a = source.streams.audio[0]
            streams["audio"] = container.add_stream_from_template(a)
            tb["audio"] = Fraction(a.time_base or Fraction(1, a.rate or 90_000))
        container.metadata.update(_metadata(self._options, first_wall))
        ctx = v.codec_context
        self._out = _Out(
            container=container,
            path=path,
            streams=streams,
            tb=tb,
            signature=sig,
            origin_us=origin_us,
            first_us=first_wall,
            info=(ctx.name, ctx.width, ctx.height),
        )

    def _mux(self, out: _Out, sel: Selected) -> None:
        p = sel.packet
        key = (sel.kind, sel.tb, sel.pts0, sel.piece_out_us)
        conv = out.conversions.get(key)
        if conv is None:
            conv = _conversion(sel, out.tb[sel.kind], out.origin_us)
            out.conversions[key] = conv
        mul, div, delta = conv
        pts = p.pts * mul // div + delta if p.pts is not None else None
        dts = p.dts * mul // div + delta if p.dts is not None else pts
        last = out.last_dts.get(sel.kind)
        if dts is not None and last is not None and dts <= last:
            dts = last + 1
            pts = max(pts, dts) if pts is not None else dts
        if dts is not None:
            out.last_dts[sel.kind] = dts
        p.stream = out.streams[sel.kind]
        p.time_base = out.tb[sel.kind]
        p.pts, p.dts = pts, dts
        if sel.kind == "video" and (sel.shown or self._options.format != "mp4"):
            out.last_us = max(out.last_us, sel.wall_us)  # MKV and TS show every frame
        size = p.size * self._scale + self._extra
        out.written += size
        self._gop_bytes += size
        try:
            out.container.mux(p)
        except av.error.FFmpegError as exc:
            raise _writing(out.path, exc) from exc

    def _close(self) -> None:
        out, self._out = self._out, None
        if out is None:
            return
        try:
            out.container.close()
        except (av.error.FFmpegError, OSError) as exc:
            raise _writing(out.path, exc) from exc
        if self._options.format == "mp4" and out.end_pos_us is not None:
            try:
                limit_duration(out.path, out.end_pos_us - out.origin_us)
            except (BoxError, OSError) as exc:
                raise MediaError(f"cannot finish the clip {out.path.name}: {exc}") from exc
        codec, width, height = out.info
        self._files.append(
            RemuxedFile(
                path=out.path,
                first_us=out.first_us,
                last_us=max(out.last_us, out.first_us),
                video_codec=codec,
                width=width,
                height=height,
            )
        )


def _writing(path: Path, exc: Exception) -> FootageError:
    """The error for a failed write of the output ``path`` (not the segment's fault)."""
    if getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT):
        return NoSpace(
            f"the export disk is full while writing {path.name}; free some space and retry"
        )
    return MediaError(f"cannot write the clip {path.name}: {exc}")


def _metadata(options: ClipOptions, first_us: int) -> dict[str, str]:
    meta = {"creation_time": from_us(first_us).isoformat().replace("+00:00", "Z")}
    if options.camera_name:
        meta["title"] = options.camera_name
    if options.comment:
        meta["comment"] = options.comment
    return meta


def _signature(source: av.container.InputContainer) -> tuple[object, ...]:
    v = source.streams.video[0].codec_context
    parts: list[object] = [v.name, v.width, v.height, v.extradata]
    for a in source.streams.audio[:1]:
        c = a.codec_context
        parts += [c.name, c.sample_rate, c.channels, c.extradata]
    return tuple(parts)


def _conversion(sel: Selected, tb_out: Fraction, origin_us: int) -> tuple[int, int, int]:
    """(mul, div, delta): output ticks = input ticks * mul // div + delta, for one stream of
    one segment; the segment's zero lands at its place on the output timeline."""
    n_in, d_in = sel.tb
    mul, div = n_in * tb_out.denominator, d_in * tb_out.numerator
    place = (sel.piece_out_us - origin_us) * tb_out.denominator // (US * tb_out.numerator)
    return mul, div, place - sel.pts0 * mul // div
