"""Sample tables of progressive and fragmented MP4 files as numpy arrays."""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from footage.media.clip.mp4_boxes import (
    Box,
    BoxError,
    child,
    children,
    full_header,
    need,
    read_top_boxes,
)
from footage.media.clip.mp4_fragments import FragmentReader, TrackDefaults
from footage.media.clip.sample_entry import describe

I64 = npt.NDArray[np.int64]


@dataclass(eq=False, kw_only=True)
class TrackSamples:
    """One track's samples in decode order; times in the track timescale."""

    track_id: int
    kind: str  # "video" | "audio"
    timescale: int
    stsd: bytes
    codec: str
    width: int
    height: int
    shift: int  # presentation time = dts + cts - shift (from the source edit list)
    dts: I64 = field(repr=False)
    dur: I64 = field(repr=False)
    cts: I64 = field(repr=False)
    size: I64 = field(repr=False)
    offset: I64 = field(repr=False)
    sync: npt.NDArray[np.bool_] = field(repr=False)

    @property
    def pts(self) -> I64:
        return self.dts + self.cts - self.shift

    def __len__(self) -> int:
        return len(self.dts)


@dataclass(eq=False, kw_only=True)
class Mp4Media:
    path: Path
    video: TrackSamples
    audio: TrackSamples | None


@dataclass(kw_only=True)
class _TrackHead:
    track_id: int
    kind: str
    timescale: int
    stsd: bytes
    shift: int
    trak: Box


def read_mp4(path: Path) -> Mp4Media:
    """Read the sample tables of the first video and first audio track of ``path``.

    Only box headers, the ``moov`` and the ``moof`` boxes are read, never the media data."""
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        tops = list(read_top_boxes(fd, size, {b"moov", b"moof"}))
    finally:
        os.close(fd)
    tracks = _read_tracks(tops)
    for t in tracks:
        _drop_overruns(t, size)
    if len(tracks[0]) == 0:
        raise BoxError("the video track has no samples")
    return Mp4Media(path=path, video=tracks[0], audio=tracks[1] if len(tracks) > 1 else None)


def _read_tracks(tops: list[tuple[Box, bytes | None]]) -> list[TrackSamples]:
    """The video track and, when there is one, the audio track (parsed, not yet checked)."""
    moov_box, moov = next(((b, d) for b, d in tops if b.type == b"moov"), (None, None))
    if moov_box is None or moov is None:
        raise BoxError("no moov box")
    root = Box(b"moov", 0, moov_box.header, moov_box.size)
    heads = [h for h in (_track_head(moov, t) for t in children(moov, root, b"trak")) if h]
    video = next((h for h in heads if h.kind == "video"), None)
    if video is None:
        raise BoxError("no video track")
    audio = next((h for h in heads if h.kind == "audio"), None)
    moofs = [(b.start, d) for b, d in tops if b.type == b"moof" and d is not None]
    if moofs:
        reader = FragmentReader(moofs, _trex(moov, root))
        return [_fragmented(h, reader) for h in (video, audio) if h]
    return [_progressive(h, moov) for h in (video, audio) if h]


def _track_head(moov: bytes, trak: Box) -> _TrackHead | None:
    mdia = need(moov, trak, b"mdia")
    hdlr = need(moov, mdia, b"hdlr")
    handler = moov[hdlr.body + 8 : hdlr.body + 12]
    kind = {b"vide": "video", b"soun": "audio"}.get(handler)
    if kind is None:
        return None
    tkhd = need(moov, trak, b"tkhd")
    version, _ = full_header(moov, tkhd)
    track_id = struct.unpack_from(">I", moov, tkhd.body + (20 if version == 1 else 12))[0]
    mdhd = need(moov, mdia, b"mdhd")
    version, _ = full_header(moov, mdhd)
    timescale = struct.unpack_from(">I", moov, mdhd.body + (20 if version == 1 else 12))[0]
    stsd = need(moov, mdia, b"minf", b"stbl", b"stsd")
    if timescale <= 0:
        raise BoxError(f"track {track_id} has timescale {timescale}")
    return _TrackHead(
        track_id=track_id,
        kind=kind,
        timescale=timescale,
        stsd=moov[stsd.start : stsd.end],
        shift=_edit_shift(moov, trak, timescale),
        trak=trak,
    )


def _edit_shift(moov: bytes, trak: Box, timescale: int) -> int:
    """``media_time`` of the first real edit, less any leading empty edit (as media time)."""
    elst = child(moov, trak, b"edts")
    elst = child(moov, elst, b"elst") if elst else None
    if elst is None:
        return 0
    mvhd_scale = _movie_timescale(moov)
    version, _ = full_header(moov, elst)
    (count,) = struct.unpack_from(">I", moov, elst.body + 4)
    fmt, step = (">Qq", 20) if version == 1 else (">Ii", 12)
    delay = 0
    for i in range(count):
        duration, media_time = struct.unpack_from(fmt, moov, elst.body + 8 + i * step)
        if media_time == -1:
            delay += duration * timescale // mvhd_scale
            continue
        return int(media_time) - delay
    return -delay


def _movie_timescale(moov: bytes) -> int:
    root = Box(b"moov", 0, 8, len(moov))
    mvhd = need(moov, root, b"mvhd")
    version, _ = full_header(moov, mvhd)
    scale: int = struct.unpack_from(">I", moov, mvhd.body + (20 if version == 1 else 12))[0]
    return scale or 1000


def _trex(moov: bytes, root: Box) -> dict[int, TrackDefaults]:
    mvex = child(moov, root, b"mvex")
    out: dict[int, TrackDefaults] = {}
    for trex in children(moov, mvex, b"trex") if mvex else []:
        tid, _sdi, dur, size, flags = struct.unpack_from(">IIIII", moov, trex.body + 4)
        out[tid] = TrackDefaults(duration=dur, size=size, flags=flags)
    return out


def _table(moov: bytes, box: Box | None, fmt: str, skip: int = 8) -> npt.NDArray[np.int64]:
    """Entries of a simple table box as an int64 array of shape (count, fields)."""
    if box is None:
        return np.zeros((0, len(fmt)), np.int64)
    (count,) = struct.unpack_from(">I", moov, box.body + skip - 4)
    dtype = np.dtype([(f"f{i}", ">" + c) for i, c in enumerate(fmt)])
    if box.body + skip + count * dtype.itemsize > box.end:
        raise BoxError(f"{box.type.decode()} table overruns its box")
    rows = np.frombuffer(moov, dtype, count, box.body + skip)
    return np.stack([rows[n].astype(np.int64) for n in dtype.names or ()], axis=1)


def _progressive(head: _TrackHead, moov: bytes) -> TrackSamples:
    stbl = need(moov, head.trak, b"mdia", b"minf", b"stbl")
    stts = _table(moov, need(moov, stbl, b"stts"), "II")
    dur = np.repeat(stts[:, 1], stts[:, 0])
    n = len(dur)
    sizes = _sizes(moov, stbl, n)
    ctts_box = child(moov, stbl, b"ctts")
    ctts = _table(moov, ctts_box, "Ii")
    cts = np.repeat(ctts[:, 1], ctts[:, 0])[:n] if len(ctts) else np.zeros(n, np.int64)
    stss_box = child(moov, stbl, b"stss")
    sync = np.ones(n, np.bool_)
    if stss_box is not None:
        sync[:] = False
        idx = _table(moov, stss_box, "I")[:, 0] - 1
        sync[idx[(idx >= 0) & (idx < n)]] = True
    offsets = _offsets(moov, stbl, sizes)
    dts = np.zeros(n, np.int64)
    np.cumsum(dur[:-1], out=dts[1:])
    return _track(head, dts, dur, cts, sizes, offsets, sync)


def _sizes(moov: bytes, stbl: Box, n: int) -> I64:
    stsz = child(moov, stbl, b"stsz")
    if stsz is None:
        raise BoxError("no stsz box (compact stz2 sizes are not supported)")
    uniform, count = struct.unpack_from(">II", moov, stsz.body + 4)
    if uniform:
        return np.full(min(n, count), uniform, np.int64)
    return _table(moov, stsz, "I", skip=12)[:n, 0].copy()


def _offsets(moov: bytes, stbl: Box, sizes: I64) -> I64:
    stco = child(moov, stbl, b"stco")
    chunk_off = (
        _table(moov, stco, "I")[:, 0]
        if stco
        else _table(moov, need(moov, stbl, b"co64"), "Q")[:, 0]
    )
    stsc = _table(moov, need(moov, stbl, b"stsc"), "III")
    nchunks = len(chunk_off)
    firsts = np.append(stsc[:, 0] - 1, nchunks)
    per_chunk = np.repeat(stsc[:, 1], np.maximum(np.diff(firsts), 0))[:nchunks]
    chunk_of = np.repeat(np.arange(len(per_chunk)), per_chunk)[: len(sizes)]
    if len(chunk_of) < len(sizes):
        raise BoxError("stsc and stco describe fewer samples than stsz")
    before = np.zeros(len(sizes), np.int64)
    np.cumsum(sizes[:-1], out=before[1:])
    chunk_first = np.cumsum(per_chunk) - per_chunk
    return np.asarray(chunk_off[chunk_of] + before - before[chunk_first[chunk_of]], np.int64)


def _fragmented(head: _TrackHead, reader: FragmentReader) -> TrackSamples:
    runs = reader.samples(head.track_id)
    return _track(head, runs.dts, runs.dur, runs.cts, runs.size, runs.offset, runs.sync)


def _track(
    head: _TrackHead, dts: I64, dur: I64, cts: I64, size: I64, offset: I64, sync: np.ndarray
) -> TrackSamples:
    n = min(len(dts), len(size), len(offset))
    entry = describe(head.stsd)
    if head.kind == "audio":
        sync = np.ones(n, np.bool_)
    return TrackSamples(
        track_id=head.track_id,
        kind=head.kind,
        timescale=head.timescale,
        stsd=head.stsd,
        codec=entry.codec,
        width=entry.width,
        height=entry.height,
        shift=head.shift,
        dts=dts[:n],
        dur=dur[:n],
        cts=cts[:n],
        size=size[:n],
        offset=offset[:n],
        sync=sync[:n],
    )


def _drop_overruns(track: TrackSamples, file_size: int) -> None:
    """Keep only the samples wholly inside the file (a recording may end mid-sample)."""
    bad = np.flatnonzero(track.offset + track.size > file_size)
    if len(bad):
        n = int(bad[0])
        for name in ("dts", "dur", "cts", "size", "offset", "sync"):
            setattr(track, name, getattr(track, name)[:n])
