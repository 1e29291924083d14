"""The frame shown at ascending moments of one media file, found in one forward pass.

The reader demuxes ahead by whole GOPs (a key frame and the packets up to the next one) and
decodes only the GOP holding the moment asked for: a GOP that ends before the moment is read
but never decoded, and a moment further ahead than a couple of GOPs is reached by a seek. A
frame's time is ``(pts - first_pts) * time_base`` after the file's first frame; the frame shown
at a moment is the last one whose time is at or before it.

Assumes closed GOPs (what cameras send): pictures of a GOP never reference the GOP before.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import av

from footage.domain import MediaError, SourceUnavailable

_US = 1_000_000
_MIN_SEEK_AHEAD_US = 1_000_000  # never seek for less than this; demuxing ahead is cheaper


@dataclass(frozen=True, slots=True)
class ShownFrame:
    frame: Any  # av.VideoFrame
    pts: int
    offset_us: int  # after the file's first frame, rounded down to the microsecond


class FrameReader:
    """Open one media file and hand out the frames shown at ascending offsets.

    ``threads`` is the decoder's thread count (0: as many as suit the machine; 1 when several
    readers already run side by side). Not thread-safe: one reader per thread.
    """

    def __init__(self, path: Path, *, threads: int = 0) -> None:
        self.path = path
        self._container = _open(path)
        try:
            streams = self._container.streams.video
            if not streams:
                raise MediaError(f"{path} has no video stream")
            self._stream = streams[0]
            # Slice threads only: frame threads add a frame of delay per thread, which costs
            # more than it gains when a picture needs a short run of frames.
            self._stream.thread_type = "SLICE" if threads != 1 else "NONE"
            self._stream.thread_count = threads
            self._codec = self._stream.codec_context
            self._time_base: Fraction = self._stream.time_base
            self._first_pts = self._find_first_pts()
        except BaseException:
            self._container.close()
            raise
        self._demuxer: Iterator[Any] = iter(())
        self._gop: list[Any] = []  # the GOP holding the last moment asked for
        self._next_key: Any = None  # the key packet after it, read ahead; None at the end
        self._fed = 0  # packets of the GOP sent to the decoder since it was last reset
        self._spent = False  # the decoder was drained part-way, so the GOP must restart
        self._frames: deque[Any] = deque()  # decoded frames of the GOP not yet passed
        self._last_target: int | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._gop.clear()
        self._frames.clear()
        self._next_key = None
        self._container.close()

    @property
    def duration_us(self) -> int | None:
        """The video's length as the container states it, if it does."""
        if self._stream.duration is not None:
            return self.offset_of(self._first_pts + self._stream.duration)
        if self._container.duration is not None:
            return int(self._container.duration)
        return None

    def first_key_offset_us(self) -> int | None:
        """When the first decodable frame (a key frame) is shown; None if there is none."""
        try:
            self._seek(self._first_pts)
        except av.FFmpegError as exc:
            raise MediaError(f"cannot read {self.path} ({exc.strerror or exc}); damaged?") from exc
        return None if self._next_key is None else self.offset_of(_pts(self._next_key))

    def offset_of(self, pts: int) -> int:
        span = (pts - self._first_pts) * self._time_base * _US
        return span.numerator // span.denominator

    def pts_at(self, offset_us: int) -> int:
        """The largest pts whose time is at or before ``offset_us``."""
        span = Fraction(offset_us, _US) / self._time_base
        return self._first_pts + span.numerator // span.denominator

    def shown_at(self, offset_us: int, *, next_offset_us: int | None = None) -> ShownFrame | None:
        """The frame shown ``offset_us`` after the first frame; None before any decodable frame.

        ``next_offset_us`` is the moment the caller will ask for next, if it knows: when it
        falls in the same GOP the decoder keeps its state instead of being drained.
        """
        try:
            return self._shown_at(self.pts_at(offset_us), next_offset_us)
        except av.FFmpegError as exc:
            reason = exc.strerror or str(exc)
            raise MediaError(f"cannot read {self.path} ({reason}); damaged?") from exc

    def _shown_at(self, limit: int, next_offset_us: int | None) -> ShownFrame | None:
        if self._needs_seek(limit):
            self._seek(limit)
        while self._next_key is not None and _pts(self._next_key) <= limit:
            self._read_gop()
        if not self._gop or _pts(self._gop[0]) > limit:
            return None
        if self._next_key is None:
            self._check_not_cut_short(limit)
        key_pts = _pts(self._gop[0])
        target = max(p for p in map(_pts, self._gop) if key_pts <= p <= limit)
        keep = next_offset_us is not None and (
            self._next_key is None or self.pts_at(next_offset_us) < _pts(self._next_key)
        )
        frame = self._decode_until(target, keep_state=keep)
        if frame is None:
            return None
        return ShownFrame(frame=frame, pts=frame.pts, offset_us=self.offset_of(frame.pts))

    # -- positioning ---------------------------------------------------------------------

    def _needs_seek(self, limit: int) -> bool:
        if not self._gop:
            return True
        if limit < _pts(self._gop[0]):
            return True  # behind the current GOP: only a seek goes back
        if self._next_key is None:
            return False
        gop_length = _pts(self._next_key) - _pts(self._gop[0])
        ahead = max(2 * gop_length, self.pts_at(_MIN_SEEK_AHEAD_US) - self._first_pts)
        return limit - _pts(self._next_key) > ahead

    def _seek(self, limit: int) -> None:
        """Position the demuxer so the next key packet is the last one at or before ``limit``."""
        self._reset_decoder()
        self._gop = []
        self._last_target = None
        # The key frame at or before the moment; failing that (a file that starts part-way
        # into a GOP has none), the file's first packet, reading on to its first key frame.
        for where, any_frame in ((limit, False), (self._first_pts, True)):
            try:
                self._container.seek(where, backward=True, any_frame=any_frame, stream=self._stream)
            except av.FFmpegError:
                continue
            self._demuxer = self._packets()
            self._next_key = self._next_key_packet()
            if self._next_key is not None and _pts(self._next_key) <= limit:
                return
        # Even the file's first key frame comes after the moment: nothing decodable is shown.

    def _packets(self) -> Iterator[Any]:
        packets = self._container.demux(self._stream)
        while True:
            try:
                packet = next(packets)
            except (StopIteration, av.FFmpegError):
                return  # a damaged or truncated tail ends the file, as for ffmpeg
            if packet.size and (packet.pts is not None or packet.dts is not None):
                yield packet

    def _next_key_packet(self) -> Any:
        for packet in self._demuxer:
            if packet.is_keyframe:
                return packet
        return None

    def _read_gop(self) -> None:
        """Make the read-ahead key packet the start of the current GOP and read the rest."""
        self._reset_decoder()
        self._last_target = None
        self._gop = [self._next_key]
        self._next_key = None
        for packet in self._demuxer:
            if packet.is_keyframe:
                self._next_key = packet
                return
            self._gop.append(packet)

    def _check_not_cut_short(self, limit: int) -> None:
        """Refuse a moment past the data of an MP4 whose index says the video goes on."""
        if "mp4" not in self._container.format.name or self._stream.duration is None:
            return  # only an MP4 index states the length exactly
        step = max(int(packet.duration or 0) for packet in self._gop) or 1
        data_end = max(_pts(packet) for packet in self._gop) + step
        declared_end = self._first_pts + int(self._stream.duration)
        if limit >= data_end and declared_end > data_end + step:
            raise MediaError(
                f"{self.path} is truncated: its video data ends at "
                f"{self.offset_of(data_end) / _US:g} s of {self.offset_of(declared_end) / _US:g} s"
            )

    # -- decoding ------------------------------------------------------------------------

    def _reset_decoder(self) -> None:
        if self._fed and not self._spent:
            self._codec.flush_buffers()
        self._fed = 0
        self._spent = False
        self._frames.clear()

    def _decode_until(self, target: int, *, keep_state: bool) -> Any:
        """The decoded frame with pts ``target`` (or the last one before it, if dropped)."""
        if self._last_target is not None and target < self._last_target:
            self._reset_decoder()  # asked for an earlier frame of this GOP: decode it again
        self._last_target = target
        restarted = False
        while True:
            while self._frames and self._frames[0].pts < target:
                passed = self._frames.popleft()
                if not self._frames or self._frames[0].pts > target:
                    self._frames.appendleft(passed)  # the best we have if target never comes
                    break
            if self._frames and self._frames[0].pts == target:
                return self._frames[0]
            if self._spent:
                if restarted or self._fed == len(self._gop):
                    return self._fallback(target)
                self._reset_decoder()  # drained too early for this moment: decode the GOP again
                restarted = True
                continue
            if self._fed < len(self._gop):
                packet = self._gop[self._fed]
                self._fed += 1
                self._collect(packet)
                if _pts(packet) != target or keep_state:
                    continue
            self._collect(None)
            self._codec.flush_buffers()
            self._spent = True

    def _fallback(self, target: int) -> Any:
        """The last frame before ``target`` when the decoder never produced ``target``."""
        if self._frames and self._frames[0].pts < target:
            return self._frames[0]
        return None

    def _collect(self, packet: Any) -> None:
        try:
            frames = self._codec.decode(packet)
        except av.FFmpegError:
            return  # a damaged packet: carry on as ffmpeg does; the picture shows what decodes
        for frame in frames:
            if frame.pts is not None:
                self._frames.append(frame)

    def _find_first_pts(self) -> int:
        if self._stream.start_time is not None:
            return int(self._stream.start_time)
        if self._container.start_time is not None:
            span = Fraction(int(self._container.start_time), _US) / self._time_base
            return span.numerator // span.denominator
        return 0


def _pts(packet: Any) -> int:
    return int(packet.pts if packet.pts is not None else packet.dts)


def _open(path: Path) -> Any:
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise SourceUnavailable(f"{path} is missing") from exc
    except OSError as exc:
        raise SourceUnavailable(f"cannot read {path}: {exc.strerror or exc}") from exc
    if size == 0:
        raise MediaError(f"{path} is empty (0 bytes)")
    try:
        return av.open(str(path))
    except av.FFmpegError as exc:
        reason = exc.strerror or str(exc)
        raise MediaError(f"{path} is not readable video ({reason}); damaged or truncated?") from exc
