"""Which packets of one segment the packet path keeps, read in one forward pass."""

from __future__ import annotations

from collections.abc import Generator, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import av.container
from av.packet import Packet as AnyPacket
from av.stream import Stream

from footage.media.clip.plan import Piece

if TYPE_CHECKING:
    Packet = AnyPacket[Stream]
else:
    Packet = AnyPacket

US = 1_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class Selected:
    kind: str  # "video" | "audio"
    packet: Packet
    tb: tuple[int, int]  # the packet's time base (numerator, denominator)
    pts0: int  # the segment's time zero in the packet's time base
    piece_out_us: int  # output-timeline µs of the segment's start
    wall_us: int  # wall-clock µs of the packet's presentation time
    pos_us: int  # output-timeline µs of the packet's presentation time
    shown: bool  # a video frame inside the requested window
    start_pos_us: int | None = None  # exact start: output-timeline µs where playback begins


@dataclass(frozen=True, slots=True)
class _Scale:
    """Integer constants turning one stream's timestamps into wall-clock µs."""

    tb: tuple[int, int]
    mul: int
    sub: int
    div: int
    pts0: int


class _Segment:
    """Time conversions for one segment, fixed by its first video key frame (integers only:
    this runs for every packet)."""

    def __init__(self, piece: Piece, video: Stream, p0: int) -> None:
        self.piece = piece
        self.start_us = piece.start_us
        self.end_us = piece.end_us
        self.out_us = piece.out_us
        self._p0 = p0
        self._video_tb = _ratio(video)
        self._scales: dict[int, _Scale] = {}

    def scale(self, p: Packet) -> _Scale:
        found = self._scales.get(p.stream_index)
        if found is None:
            n, d = _ratio(p.stream)
            nv, dv = self._video_tb
            found = _Scale(
                tb=(n, d),
                mul=n * US * dv,
                sub=self._p0 * nv * US * d,
                div=d * dv,
                pts0=(self._p0 * nv * d) // (dv * n),
            )
            self._scales[p.stream_index] = found
        return found

    def wall(self, p: Packet) -> int:
        s = self.scale(p)
        return self.start_us + ((p.pts or 0) * s.mul - s.sub) // s.div

    def end(self, p: Packet) -> int:
        n, d = self.scale(p).tb
        return self.wall(p) + (p.duration or 0) * n * US // d

    def select(self, kind: str, p: Packet, *, start: int | None = None) -> Selected:
        s = self.scale(p)
        wall = self.start_us + ((p.pts or 0) * s.mul - s.sub) // s.div
        return Selected(
            kind=kind,
            packet=p,
            tb=s.tb,
            pts0=s.pts0,
            piece_out_us=self.out_us,
            wall_us=wall,
            pos_us=self.out_us + wall - self.start_us,
            shown=kind == "video" and wall < self.end_us,
            start_pos_us=None if start is None else self.out_us + start - self.start_us,
        )

    def audio_wanted(self, p: Packet, lo: int, hi: int) -> bool:
        mid = (self.wall(p) + self.end(p)) // 2
        return lo <= mid < hi


def select_packets(
    source: av.container.InputContainer, piece: Piece, *, exact: bool, audio: bool
) -> Iterator[Selected]:
    """The packets ``piece`` needs from ``source``, in decode order."""
    video = source.streams.video[0]
    streams: list[Stream] = [video]
    if audio and source.streams.audio:
        streams.append(source.streams.audio[0])
    seg: _Segment | None = None
    head: list[Packet] = []  # until the start: the GOP holding it, and recent audio
    lo: int | None = None  # audio is kept from here on (wall clock)
    pending: list[Packet] = []  # last piece: frames after the end that may yet be needed
    for p in source.demux(streams):
        if p.pts is None or p.size == 0:
            continue
        is_video = p.stream.index == video.index
        if seg is None:
            if not (is_video and p.is_keyframe):
                head = [*head[-63:], p] if not is_video else head
                continue
            seg = _Segment(piece, video, p.pts)
        if lo is None:
            head, ready, consumed = _seek_step(seg, head, p, is_video)
            if not ready:
                continue
            lo = yield from _start(seg, head, exact=exact)
            head = []
            if consumed:
                continue
        if not is_video:
            if seg.audio_wanted(p, lo, piece.end_us):
                yield seg.select("audio", p)
            continue
        wall = seg.wall(p)
        if wall < piece.end_us:
            yield from (seg.select("video", q) for q in pending)
            pending = []
            yield seg.select("video", p)
        elif not piece.last or p.is_keyframe:
            break
        else:
            pending.append(p)


def _seek_step(
    seg: _Segment, head: list[Packet], p: Packet, is_video: bool
) -> tuple[list[Packet], bool, bool]:
    """Gather the GOP holding the piece's start: (held packets, complete, ``p`` taken)."""
    if not is_video:
        return [*head, p], False, True
    if not seg.piece.first:
        return ([*head, p], True, True) if p.is_keyframe else (head, False, True)
    wall = seg.wall(p)
    begin = seg.piece.begin_us
    has_key = any(q.stream.type == "video" for q in head)
    if p.is_keyframe and wall <= begin:
        recent = [q for q in head if q.stream.type != "video" and seg.wall(q) + US >= wall]
        return [*recent, p], False, True
    if p.is_keyframe and not has_key:
        return [*head, p], True, True
    if p.is_keyframe:  # the next GOP starts after the start: the held one is complete
        return head, True, False
    return [*head, p], wall >= begin, True


def _start(seg: _Segment, head: list[Packet], *, exact: bool) -> Generator[Selected, None, int]:
    """Yield the held GOP (and audio from where playback starts); return that wall time."""
    piece = seg.piece
    key = next(q for q in head if q.stream.type == "video")
    key_wall = seg.wall(key)
    start = max(piece.begin_us, key_wall) if exact and piece.first else None
    lo = start if start is not None else key_wall
    audio = [q for q in head if q.stream.type != "video"]
    ends = [seg.end(q) for q in audio]
    if start is not None:  # from the frame covering the start, with one frame of pre-roll
        first = next((i for i, e in enumerate(ends) if e > lo), len(audio))
        keep = {id(q) for q in audio[max(first - 1, 0) :]}
    else:
        keep = {id(q) for q in audio if seg.audio_wanted(q, lo, piece.end_us)}
    yield seg.select("video", key, start=start)  # first: it opens the output file
    for q in head:
        if q.stream.type == "video" and q is not key:
            yield seg.select("video", q)
        elif id(q) in keep:
            yield seg.select("audio", q)
    return lo


def _ratio(stream: Stream) -> tuple[int, int]:
    tb = stream.time_base
    if tb is None:
        raise ValueError(f"stream {stream.index} has no time base")
    return tb.numerator, tb.denominator
