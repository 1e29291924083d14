"""Laying out one MP4 output file: its sample tables, chunks, edit lists and byte copies."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from footage.media.clip.assemble import US, Cut, PieceCut

I64 = npt.NDArray[np.int64]
MOVIE_TIMESCALE = 1000


@dataclass(eq=False, kw_only=True)
class TrackLayout:
    kind: str
    timescale: int
    stsd: bytes
    width: int
    height: int
    dts: I64 = field(repr=False)
    dur: I64 = field(repr=False)
    cts: I64 = field(repr=False)
    size: I64 = field(repr=False)
    sync: npt.NDArray[np.bool_] = field(repr=False)
    chunk_count: I64 = field(repr=False)  # samples per chunk, in track order
    chunk_offset: I64 = field(repr=False)  # relative to the start of the mdat payload
    edits: list[tuple[int, int]] = field(default_factory=list)  # (movie duration, media time)

    @property
    def media_duration(self) -> int:
        return int(self.dur.sum())


@dataclass(eq=False, kw_only=True)
class CopyPlan:
    """Byte ranges copied in order into the mdat payload."""

    sources: list[Path]
    src: I64  # index into sources
    offset: I64
    length: I64
    seconds: npt.NDArray[np.float64]  # recorded seconds each range carries (for progress)

    @property
    def total(self) -> int:
        return int(self.length.sum())


@dataclass(eq=False, kw_only=True)
class FileLayout:
    tracks: list[TrackLayout]
    copies: CopyPlan
    duration: int  # movie timescale
    first_us: int
    last_us: int


@dataclass(eq=False)
class _Chunks:
    track: int
    offset: I64  # in the source
    nbytes: I64
    count: I64


def layout_file(cuts: list[PieceCut], *, final: bool) -> FileLayout:
    """Place ``cuts`` (consecutive, one signature) into one MP4 file."""
    has_audio = any(c.audio is not None for c in cuts)
    per_track: list[list[Cut]] = [[c.video for c in cuts]]
    if has_audio:
        per_track.append([c.audio for c in cuts if c.audio is not None])
    order, chunk_out = _interleave(cuts, has_audio)
    v_first = cuts[0].video
    begin_v = cuts[0].begin_out
    if begin_v is None:
        begin_v = int(v_first.out_pts().min())
    end_v, last_cut, last_pts = _video_end(cuts, final=final)
    movie_dur = _rescale(end_v - begin_v, MOVIE_TIMESCALE, v_first.track.timescale)
    tracks = []
    for t, cut_list in enumerate(per_track):
        track = _track(cut_list, chunk_out[t])
        ts = track.timescale
        begin = begin_v * ts // v_first.track.timescale
        track.edits = _edits(begin - int(cut_list[0].out_dts()[0]), movie_dur, ts)
        tracks.append(track)
    first_us = cuts[0].wall_us(begin_v)
    if cuts[0].begin_out is not None:
        first_us = max(first_us, cuts[0].piece.begin_us)
    return FileLayout(
        tracks=tracks,
        copies=order,
        duration=movie_dur,
        first_us=first_us,
        last_us=last_cut.wall_us(last_pts),
    )


def _rescale(value: int, to_scale: int, from_scale: int) -> int:
    return (value * to_scale + from_scale // 2) // from_scale


def _edits(media_time: int, movie_dur: int, ts: int) -> list[tuple[int, int]]:
    if media_time >= 0:
        return [(movie_dur, media_time)]
    delay = _rescale(-media_time, MOVIE_TIMESCALE, ts)
    return [(delay, -1), (max(movie_dur - delay, 0), 0)]


def _video_end(cuts: list[PieceCut], *, final: bool) -> tuple[int, PieceCut, int]:
    """Output pts where the file's video ends, and the cut and pts of the last frame shown."""
    last = cuts[-1]
    v = last.video
    pts = v.out_pts()
    end = int((pts + v.track.dur[v.i0 : v.i1]).max())
    if final and last.piece.last:
        t = v.track
        wanted = (last.piece.end_us - last.piece.start_us) * t.timescale // US
        wanted += v.delta + t.shift + int(t.pts.min())
        end = min(end, max(wanted, int(pts.min()) + 1))
    shown = pts[pts < end]
    return end, last, int(shown.max() if len(shown) else pts.min())


def _cut_chunks(cut: Cut, track: int) -> _Chunks:
    t = cut.track
    off = t.offset[cut.i0 : cut.i1]
    size = t.size[cut.i0 : cut.i1]
    brk = np.flatnonzero(off[1:] != off[:-1] + size[:-1]) + 1
    starts = np.concatenate(([0], brk))
    ends = np.concatenate((brk, [len(off)]))
    cum = np.concatenate(([0], np.cumsum(size)))
    return _Chunks(track, off[starts], cum[ends] - cum[starts], ends - starts)


def _interleave(cuts: list[PieceCut], has_audio: bool) -> tuple[CopyPlan, list[list[I64]]]:
    """Chunks of each cut in source byte order; their mdat offsets per track and the copies."""
    sources: list[Path] = []
    srcs, offs, lens, secs = [], [], [], []
    chunk_out: list[list[I64]] = [[], []] if has_audio else [[]]
    pos = 0
    for c in cuts:
        parts = [_cut_chunks(c.video, 0)]
        if c.audio is not None:
            parts.append(_cut_chunks(c.audio, 1))
        off = np.concatenate([p.offset for p in parts])
        nbytes = np.concatenate([p.nbytes for p in parts])
        order = np.argsort(off, kind="stable")
        placed = np.empty(len(off), np.int64)
        placed[order] = pos + np.concatenate(([0], np.cumsum(nbytes[order])[:-1]))
        n_video = len(parts[0].offset)
        chunk_out[0].append(placed[:n_video])
        if len(parts) > 1:
            chunk_out[1].append(placed[n_video:])
        o_off, o_len = _coalesce(off[order], nbytes[order])
        total = int(nbytes.sum())
        pos += total
        srcs.append(np.full(len(o_off), len(sources), np.int64))
        sources.append(c.media.path)
        offs.append(o_off)
        lens.append(o_len)
        seconds = (c.video.count / max(len(c.video.track), 1)) * c.piece.segment.duration
        secs.append(o_len / max(total, 1) * seconds.total_seconds())
    copies = CopyPlan(
        sources=sources,
        src=np.concatenate(srcs),
        offset=np.concatenate(offs),
        length=np.concatenate(lens),
        seconds=np.concatenate(secs),
    )
    return copies, [[np.concatenate(x)] for x in chunk_out]


def _coalesce(off: I64, nbytes: I64) -> tuple[I64, I64]:
    """Merge ranges that follow each other in the source into one copy."""
    if len(off) == 0:
        return off, nbytes
    brk = np.flatnonzero(off[1:] != off[:-1] + nbytes[:-1]) + 1
    starts = np.concatenate(([0], brk))
    ends = np.concatenate((brk, [len(off)]))
    cum = np.concatenate(([0], np.cumsum(nbytes)))
    return off[starts], cum[ends] - cum[starts]


def _track(cuts: list[Cut], chunk_offsets: list[I64]) -> TrackLayout:
    t0 = cuts[0].track
    dts = np.concatenate([c.out_dts() for c in cuts])
    pts = np.concatenate([c.out_pts() for c in cuts])
    idx = np.arange(len(dts), dtype=np.int64)
    dts = np.maximum.accumulate(dts - idx) + idx  # strictly increasing decode times
    shift = int(dts[0])
    dts -= shift
    pts -= shift
    dur = np.empty(len(dts), np.int64)
    dur[:-1] = np.diff(dts)
    dur[-1] = max(int(cuts[-1].track.dur[cuts[-1].i1 - 1]), 1)
    counts = np.concatenate([_cut_chunks(c, 0).count for c in cuts])
    return TrackLayout(
        kind=t0.kind,
        timescale=t0.timescale,
        stsd=t0.stsd,
        width=t0.width,
        height=t0.height,
        dts=dts,
        dur=dur,
        cts=pts - dts,
        size=np.concatenate([c.track.size[c.i0 : c.i1] for c in cuts]),
        sync=np.concatenate([c.track.sync[c.i0 : c.i1] for c in cuts]),
        chunk_count=counts,
        chunk_offset=chunk_offsets[0],
    )
