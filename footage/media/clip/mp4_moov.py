"""Writing ``ftyp`` and ``moov`` boxes (ISO/IEC 14496-12) from laid-out sample tables."""

from __future__ import annotations

import struct
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt

from footage.media.clip.mp4_layout import MOVIE_TIMESCALE, FileLayout, TrackLayout
from footage.media.clip.sample_entry import tag_hvc1

_MP4_EPOCH = datetime(1904, 1, 1, tzinfo=UTC)
_MATRIX = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
_U32 = 0xFFFFFFFF


@dataclass(frozen=True, kw_only=True)
class MovieInfo:
    created: datetime
    title: str
    comment: str


def box(kind: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), kind) + body


def full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return box(kind, struct.pack(">I", (version << 24) | flags), *payload)


def ftyp(brand: bytes) -> bytes:
    return box(b"ftyp", b"isom", struct.pack(">I", 0x200), b"isom", b"iso2", brand, b"mp41")


def moov(layout: FileLayout, info: MovieInfo, mdat_payload_at: int) -> bytes:
    """The whole ``moov``; chunk offsets are made absolute by adding ``mdat_payload_at``."""
    stamp = int((info.created - _MP4_EPOCH).total_seconds())
    traks = [
        _trak(t, i + 1, layout.duration, stamp, mdat_payload_at)
        for i, t in enumerate(layout.tracks)
    ]
    return box(
        b"moov",
        _mvhd(stamp, layout.duration, len(layout.tracks) + 1),
        *traks,
        _udta(info),
    )


def _times(version: int, stamp: int) -> bytes:
    return struct.pack(">QQ" if version else ">II", stamp, stamp)


def _mvhd(stamp: int, duration: int, next_id: int) -> bytes:
    v = 1 if duration > _U32 or stamp > _U32 else 0
    return full_box(
        b"mvhd",
        v,
        0,
        _times(v, stamp),
        struct.pack(">IQ" if v else ">II", MOVIE_TIMESCALE, duration),
        struct.pack(">IH10x", 0x10000, 0x100),
        _MATRIX,
        bytes(24),
        struct.pack(">I", next_id),
    )


def _trak(t: TrackLayout, track_id: int, duration: int, stamp: int, base: int) -> bytes:
    v = 1 if duration > _U32 or stamp > _U32 else 0
    audio = t.kind == "audio"
    tkhd = full_box(
        b"tkhd",
        v,
        3,
        _times(v, stamp),
        struct.pack(">I4xQ" if v else ">I4xI", track_id, duration),
        struct.pack(">8xhhH2x", 0, 0, 0x100 if audio else 0),
        _MATRIX,
        struct.pack(">II", t.width << 16, t.height << 16),
    )
    return box(b"trak", tkhd, _edts(t), _mdia(t, stamp, base))


def _edts(t: TrackLayout) -> bytes:
    v = 1 if any(d > _U32 or m > 0x7FFFFFFF for d, m in t.edits) else 0
    rows = b"".join(struct.pack(">Qq" if v else ">Ii", d, m) + b"\0\1\0\0" for d, m in t.edits)
    return box(b"edts", full_box(b"elst", v, 0, struct.pack(">I", len(t.edits)), rows))


def _mdia(t: TrackLayout, stamp: int, base: int) -> bytes:
    duration = t.media_duration
    v = 1 if duration > _U32 or stamp > _U32 else 0
    mdhd = full_box(
        b"mdhd",
        v,
        0,
        _times(v, stamp),
        struct.pack(">IQ" if v else ">II", t.timescale, duration),
        struct.pack(">HH", 0x55C4, 0),  # language "und"
    )
    handler, name, header = (
        (b"soun", b"SoundHandler\0", full_box(b"smhd", 0, 0, bytes(4)))
        if t.kind == "audio"
        else (b"vide", b"VideoHandler\0", full_box(b"vmhd", 0, 1, bytes(8)))
    )
    hdlr = full_box(b"hdlr", 0, 0, bytes(4), handler, bytes(12), name)
    dinf = box(b"dinf", full_box(b"dref", 0, 0, struct.pack(">I", 1), full_box(b"url ", 0, 1)))
    return box(b"mdia", mdhd, hdlr, box(b"minf", header, dinf, _stbl(t, base)))


def _stbl(t: TrackLayout, base: int) -> bytes:
    parts = [tag_hvc1(t.stsd), _stts(t.dur)]
    if not bool(t.sync.all()):
        idx = np.flatnonzero(t.sync) + 1
        parts.append(full_box(b"stss", 0, 0, struct.pack(">I", len(idx)), _be32(idx)))
    if bool(t.cts.any()):
        parts.append(_ctts(t.cts))
    parts += [_stsc(t.chunk_count), _stsz(t.size), _stco(t.chunk_offset + base)]
    return box(b"stbl", *parts)


def _be32(values: npt.NDArray[np.int64]) -> bytes:
    return values.astype(">u4").tobytes()


def _runs(values: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Run-length encoding: (counts, values)."""
    starts = np.concatenate(([0], np.flatnonzero(values[1:] != values[:-1]) + 1))
    counts = np.diff(np.concatenate((starts, [len(values)])))
    return counts.astype(np.int64), values[starts]


def _pairs(a: npt.NDArray[np.int64], b: npt.NDArray[np.int64], fmt: str) -> bytes:
    rows = np.empty(len(a), np.dtype([("a", ">u4"), ("b", fmt)]))
    rows["a"] = a
    rows["b"] = b
    return rows.tobytes()


def _stts(dur: npt.NDArray[np.int64]) -> bytes:
    counts, values = _runs(dur)
    return full_box(b"stts", 0, 0, struct.pack(">I", len(counts)), _pairs(counts, values, ">u4"))


def _ctts(cts: npt.NDArray[np.int64]) -> bytes:
    counts, values = _runs(cts)
    version = 1 if bool((values < 0).any()) else 0
    fmt = ">i4" if version else ">u4"
    body = _pairs(counts, values, fmt)
    return full_box(b"ctts", version, 0, struct.pack(">I", len(counts)), body)


def _stsc(per_chunk: npt.NDArray[np.int64]) -> bytes:
    counts, values = _runs(per_chunk)
    first = np.concatenate(([0], np.cumsum(counts)[:-1])) + 1
    rows = np.empty(len(first), np.dtype([("f", ">u4"), ("n", ">u4"), ("d", ">u4")]))
    rows["f"], rows["n"], rows["d"] = first, values, 1
    return full_box(b"stsc", 0, 0, struct.pack(">I", len(rows)), rows.tobytes())


def _stsz(size: npt.NDArray[np.int64]) -> bytes:
    if len(size) and bool((size == size[0]).all()):
        return full_box(b"stsz", 0, 0, struct.pack(">II", int(size[0]), len(size)))
    return full_box(b"stsz", 0, 0, struct.pack(">II", 0, len(size)), _be32(size))


def _stco(offsets: npt.NDArray[np.int64]) -> bytes:
    head = struct.pack(">I", len(offsets))
    if len(offsets) and int(offsets.max()) > _U32:
        return full_box(b"co64", 0, 0, head, offsets.astype(">u8").tobytes())
    return full_box(b"stco", 0, 0, head, _be32(offsets))


def _udta(info: MovieInfo) -> bytes:
    items = [
        box(key, full_box(b"data", 0, 1, bytes(4), value.encode()))
        for key, value in ((b"\xa9nam", info.title), (b"\xa9cmt", info.comment))
        if value
    ]
    items.append(box(b"\xa9too", full_box(b"data", 0, 1, bytes(4), b"footage")))
    hdlr = full_box(b"hdlr", 0, 0, bytes(4), b"mdir", b"appl", bytes(9))
    return box(b"udta", full_box(b"meta", 0, 0, hdlr, box(b"ilst", *items)))
