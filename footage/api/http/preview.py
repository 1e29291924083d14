"""The preview clip: a short range of recordings remuxed (stream copy, video only) into
fragmented MP4, produced in a thread and handed out chunk by chunk as it is written.

(A streaming sibling of ``footage.media.clip``; it could move there.) The range starts at the
key frame at or before ``start``; gaps between segments are closed up, so the preview plays
the recorded pictures back to back.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import av

from footage.domain import FootageError, MediaError, NotFound, Segment, TimeRange, to_us

_US = 1_000_000
_MOVFLAGS = "frag_keyframe+empty_moov+default_base_moof"
_END = object()


class _Stopped(Exception):
    """The reader went away: stop producing."""


class _Sink:
    """The file object PyAV writes to: each write becomes a queued chunk."""

    def __init__(self, chunks: queue.Queue[object], stop: threading.Event) -> None:
        self._chunks = chunks
        self._stop = stop

    def write(self, data: bytes) -> int:
        chunk = bytes(data)
        while not self._stop.is_set():
            try:
                self._chunks.put(chunk, timeout=0.5)
                return len(chunk)
            except queue.Full:
                continue
        raise _Stopped

    def flush(self) -> None:
        pass


class PreviewStream:
    """Produce the fMP4 of ``span`` in a thread; ``first()`` waits for the first bytes (or
    raises the error that stopped it), then iterate for the rest."""

    def __init__(self, segments: Sequence[Segment], span: TimeRange) -> None:
        if not segments:
            raise NotFound(f"nothing is recorded between {span}")
        self._segments = list(segments)
        self._span = span
        self._chunks: queue.Queue[object] = queue.Queue(maxsize=64)
        self._stop = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="preview", daemon=True)
        self._thread.start()

    def first(self, timeout: float = 30.0) -> bytes:
        item = self._next(timeout)
        if item is None:
            raise NotFound(f"no picture is recorded between {self._span}")
        return item

    def __iter__(self) -> Iterator[bytes]:
        try:
            while (item := self._next(None)) is not None:
                yield item
        finally:
            self.close()

    def close(self) -> None:
        self._stop.set()

    def _next(self, timeout: float | None) -> bytes | None:
        try:
            item = self._chunks.get(timeout=timeout)
        except queue.Empty:
            self.close()
            raise MediaError("the preview took too long to start") from None
        if item is _END:
            if self._error is not None:
                raise self._error
            return None
        assert isinstance(item, bytes)
        return item

    def _run(self) -> None:
        try:
            _remux(self._segments, self._span, _Sink(self._chunks, self._stop))
        except _Stopped:
            return
        except FootageError as exc:
            self._error = exc
        except Exception as exc:  # PyAV/FFmpeg errors: the recording cannot be read
            self._error = MediaError(f"cannot make the preview: {exc}")
        self._chunks.put(_END)


def _remux(segments: Sequence[Segment], span: TimeRange, sink: _Sink) -> None:
    out: Any = None
    state = _Clock()
    try:
        for segment in segments:
            if segment.end <= span.start or segment.start >= span.end:
                continue
            out = _copy_segment(segment, span, sink, out, state)
    finally:
        if out is not None:
            out.close()
    if out is None:
        raise NotFound(f"no picture is recorded between {span}")


class _Clock:
    """Output time: wall-clock microseconds with the gaps between segments closed up."""

    def __init__(self) -> None:
        self.base_us: int | None = None  # wall time that became zero
        self.shift_us = 0  # gaps removed so far
        self.last_wall_us: int | None = None  # end of the last packet written
        self.last_dts: int = -1


def _copy_segment(segment: Segment, span: TimeRange, sink: _Sink, out: Any, clock: _Clock) -> Any:
    try:
        source = av.open(str(Path(segment.path)))
    except (OSError, av.FFmpegError) as exc:
        raise MediaError(f"cannot open the recording {segment.path}: {exc}") from exc
    with source:
        if not source.streams.video:
            raise MediaError(f"{segment.path} has no video stream")
        vin = source.streams.video[0]
        tb = vin.time_base
        if tb is None:
            raise MediaError(f"{segment.path} has no time base")
        first_pts = vin.start_time or 0
        seg_us = to_us(segment.start)
        if clock.last_wall_us is not None and seg_us > clock.last_wall_us:
            clock.shift_us += seg_us - clock.last_wall_us
        offset_us = to_us(span.start) - seg_us
        if offset_us > 0:
            source.seek(
                first_pts + int(offset_us * tb.denominator / (tb.numerator * _US)),
                stream=vin,
                backward=True,
                any_frame=False,
            )
        if out is None:
            out = av.open(sink, "w", format="mp4", options={"movflags": _MOVFLAGS})
            out.add_stream_from_template(vin)
        vout = out.streams.video[0]
        for packet in source.demux(vin):
            if packet.dts is None or packet.pts is None:
                continue
            wall_us = seg_us + int((packet.pts - first_pts) * tb * _US)
            if wall_us >= to_us(span.end):
                break
            if clock.base_us is None:
                if not packet.is_keyframe:
                    continue
                clock.base_us = wall_us
            _write(packet, vout, out, tb, first_pts, seg_us, clock)
    return out


def _write(
    packet: Any, vout: Any, out: Any, tb: Fraction, first_pts: int, seg_us: int, clock: _Clock
) -> None:
    assert clock.base_us is not None
    shift_us = seg_us - clock.base_us - clock.shift_us
    shift = int(shift_us * tb.denominator / (tb.numerator * _US))
    dts = packet.dts - first_pts + shift
    if dts <= clock.last_dts:
        return
    packet.pts = packet.pts - first_pts + shift
    packet.dts = dts
    clock.last_dts = dts
    duration = packet.duration or 0
    clock.last_wall_us = seg_us + int((packet.pts - shift + duration) * tb * _US)
    packet.stream = vout
    out.mux(packet)
