"""Choosing each segment's samples, placing them on the output timeline, and grouping them
into output files (a new file on a codec change or when a file would pass the size limit)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from footage.media.clip.mp4_samples import Mp4Media, TrackSamples
from footage.media.clip.plan import Piece
from footage.media.clip.sample_entry import config_key

US = 1_000_000
_HEADER_BYTES = 8192  # ftyp, the fixed part of moov, mdat header
_VIDEO_SAMPLE_BYTES = 32  # stsz + stts + ctts + stss + chunk tables, pessimistic
_AUDIO_SAMPLE_BYTES = 16


@dataclass(frozen=True, eq=False, kw_only=True)
class Cut:
    """Samples ``[i0, i1)`` (decode order) of a source track; output dts = dts + delta."""

    track: TrackSamples
    i0: int
    i1: int
    delta: int

    @property
    def count(self) -> int:
        return self.i1 - self.i0

    def out_pts(self) -> np.ndarray:
        t = self.track
        return t.dts[self.i0 : self.i1] + t.cts[self.i0 : self.i1] + self.delta

    def out_dts(self) -> np.ndarray:
        return self.track.dts[self.i0 : self.i1] + self.delta

    def nbytes(self) -> int:
        return int(self.track.size[self.i0 : self.i1].sum())


@dataclass(frozen=True, eq=False, kw_only=True)
class PieceCut:
    """What one segment contributes to one output file."""

    piece: Piece
    media: Mp4Media
    video: Cut
    audio: Cut | None
    begin_out: int | None  # exact first piece: output video pts where playback starts

    def wall_us(self, out_video_pts: int) -> int:
        """Wall-clock µs of an output video presentation time inside this cut."""
        t = self.video.track
        rel = out_video_pts - self.video.delta - t.shift - _origin(t)
        return self.piece.start_us + rel * US // t.timescale

    def signature(self) -> tuple[object, ...]:
        v = self.video.track
        a = self.audio.track if self.audio else None
        audio = (config_key(a.stsd), a.timescale) if a else None
        return (config_key(v.stsd), v.timescale, audio)


def _origin(track: TrackSamples) -> int:
    """Presentation time of the first frame shown: the segment's wall-clock start."""
    return int(track.pts.min())


def _units(us: int, timescale: int) -> int:
    return us * timescale // US


def cut_piece(piece: Piece, media: Mp4Media, *, exact: bool, audio: bool) -> PieceCut | None:
    """The samples of ``media`` that ``piece`` needs, or ``None`` when it has none."""
    v = media.video
    pts = v.pts
    p0 = _origin(v)
    scaled = (pts - p0) * US
    begin_t = (piece.begin_us - piece.start_us) * v.timescale
    end_t = (piece.end_us - piece.start_us) * v.timescale
    if piece.first:
        keys = np.flatnonzero(v.sync & (scaled <= begin_t))
        keys = keys if len(keys) else np.flatnonzero(v.sync)[:1]
    else:
        keys = np.flatnonzero(v.sync & (scaled >= begin_t))[:1]
    if not len(keys):
        return None
    i0 = int(keys[-1] if piece.first else keys[0])
    before_end = scaled[i0:] < end_t
    if piece.last:
        shown = np.flatnonzero(before_end)
        i1 = i0 + int(shown[-1]) + 1 if len(shown) else i0
    else:
        stop = np.flatnonzero(~before_end)
        i1 = i0 + int(stop[0]) if len(stop) else len(v)
    if i1 <= i0:
        return None
    base = _units(piece.out_us, v.timescale)
    video = Cut(track=v, i0=i0, i1=i1, delta=base - p0 - v.shift)
    begin_out = None
    if piece.first and exact:
        key_pts = int(pts[i0]) - p0 + base
        begin_out = max(key_pts, _units(piece.begin_us - piece.start_us, v.timescale) + base)
    cut = PieceCut(piece=piece, media=media, video=video, audio=None, begin_out=begin_out)
    if audio and media.audio is not None:
        cut = _with_audio(cut, media.audio)
    return cut


def _with_audio(cut: PieceCut, a: TrackSamples) -> PieceCut:
    v = cut.video
    ts = a.timescale
    lo_out = cut.begin_out if cut.begin_out is not None else int(v.out_pts().min())
    lo = cut.wall_us(lo_out)
    hi = min(cut.piece.end_us, cut.wall_us(int((v.out_pts() + v.track.dur[v.i0 : v.i1]).max())))
    p0a = _origin(v.track) * ts // v.track.timescale
    rel = a.pts - p0a
    s = cut.piece.start_us
    mid2 = (2 * rel + a.dur) * US
    if cut.piece.first:
        a0 = int(np.searchsorted((rel + a.dur) * US > (lo - s) * ts, True))
        a0 = max(0, a0 - 1)  # one frame of pre-roll; the edit list hides it
    else:
        a0 = int(np.searchsorted(mid2 >= 2 * (lo - s) * ts, True))
    a1 = int(np.count_nonzero(mid2 < 2 * (hi - s) * ts))
    if a1 <= a0:
        return cut
    delta = _units(cut.piece.out_us, ts) - p0a - a.shift
    track = Cut(track=a, i0=a0, i1=a1, delta=delta)
    return PieceCut(piece=cut.piece, media=cut.media, video=v, audio=track, begin_out=cut.begin_out)


def split_at(cut: PieceCut, k: int) -> tuple[PieceCut, PieceCut]:
    """Split before video sample ``k`` (a key frame); audio goes by midpoint."""
    v = cut.video
    head_v = Cut(track=v.track, i0=v.i0, i1=k, delta=v.delta)
    tail_v = Cut(track=v.track, i0=k, i1=v.i1, delta=v.delta)
    head_a = tail_a = None
    if cut.audio is not None:
        a = cut.audio
        k_out = int(v.track.dts[k] + v.track.cts[k] + v.delta)
        k_out_a = k_out * a.track.timescale // v.track.timescale
        mid2 = 2 * a.out_pts() + a.track.dur[a.i0 : a.i1]
        m = a.i0 + int(np.count_nonzero(mid2 < 2 * k_out_a))
        head_a = Cut(track=a.track, i0=a.i0, i1=m, delta=a.delta) if m > a.i0 else None
        tail_a = Cut(track=a.track, i0=m, i1=a.i1, delta=a.delta) if a.i1 > m else None
    head = PieceCut(
        piece=cut.piece, media=cut.media, video=head_v, audio=head_a, begin_out=cut.begin_out
    )
    tail = PieceCut(piece=cut.piece, media=cut.media, video=tail_v, audio=tail_a, begin_out=None)
    return head, tail


def group_files(cuts: list[PieceCut], max_bytes: int | None) -> list[list[PieceCut]]:
    """Output files: a new one at each codec parameter change, and before the size limit."""
    groups: list[list[PieceCut]] = []
    for cut in cuts:
        if groups and groups[-1][-1].signature() == cut.signature():
            groups[-1].append(cut)
        else:
            groups.append([cut])
    if max_bytes is None:
        return groups
    return [f for g in groups for f in _split_by_size(g, max_bytes)]


def _cost(cut: PieceCut, k: int | None = None) -> int:
    """Bytes ``cut`` adds to a file (up to video sample ``k`` when given)."""
    v = cut.video
    end = v.i1 if k is None else k
    total = int(v.track.size[v.i0 : end].sum()) + (end - v.i0) * _VIDEO_SAMPLE_BYTES
    if cut.audio is not None:
        a = cut.audio
        if k is None:
            n = a.count
        else:
            k_out = int(v.track.dts[k] + v.track.cts[k] + v.delta)
            limit = 2 * (k_out * a.track.timescale // v.track.timescale)
            n = int(np.count_nonzero(2 * a.out_pts() + a.track.dur[a.i0 : a.i1] < limit))
        total += int(a.track.size[a.i0 : a.i0 + n].sum()) + n * _AUDIO_SAMPLE_BYTES
    return total


def _split_by_size(cuts: list[PieceCut], limit: int) -> list[list[PieceCut]]:
    files: list[list[PieceCut]] = [[]]
    used = _HEADER_BYTES
    queue = list(reversed(cuts))
    while queue:
        cut = queue.pop()
        cost = _cost(cut)
        if used + cost <= limit:
            files[-1].append(cut)
            used += cost
            continue
        k = _last_fitting_key(cut, limit - used, allow_start=not files[-1])
        if k is None and not files[-1]:  # one GOP larger than the limit: it cannot be split
            files[-1].append(cut)
            used += cost
            continue
        if k is None:
            files.append([])
            used = _HEADER_BYTES
            queue.append(cut)
            continue
        head, tail = split_at(cut, k)
        files[-1].append(head)
        files.append([])
        used = _HEADER_BYTES
        queue.append(tail)
    return [f for f in files if f]


def _last_fitting_key(cut: PieceCut, room: int, *, allow_start: bool) -> int | None:
    """The last key frame before which ``cut`` fits in ``room`` bytes. When the file is
    empty, the first key frame after the start is taken even if too big (a GOP is atomic)."""
    v = cut.video
    keys = v.i0 + np.flatnonzero(v.track.sync[v.i0 + 1 : v.i1]) + 1
    best = None
    for k in keys.tolist():
        if _cost(cut, k) > room:
            break
        best = k
    if best is None and allow_start and len(keys):
        best = int(keys[0])
    return best
