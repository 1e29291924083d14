"""Sample tables of fragmented MP4 (``moof``/``traf``/``tfhd``/``tfdt``/``trun``).

Each ``trun`` is only sliced here; the entries of all runs of a track are decoded together
with numpy at the end, so an hour of one-second fragments costs little Python."""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from footage.media.clip.mp4_boxes import Box, BoxError, child, children, full_header, need

I64 = npt.NDArray[np.int64]

_TFHD_BASE_OFFSET = 0x1
_TFHD_DESCRIPTION = 0x2
_TFHD_DEFAULTS = (0x8, 0x10, 0x20)  # duration, size, flags
_TFHD_BASE_IS_MOOF = 0x20000
_TRUN_DATA_OFFSET = 0x1
_TRUN_FIRST_FLAGS = 0x4
_TRUN_FIELDS = ((0x100, "dur"), (0x200, "size"), (0x400, "flags"), (0x800, "cts"))
_NON_SYNC = 0x10000


@dataclass(frozen=True, slots=True)
class TrackDefaults:
    duration: int = 0
    size: int = 0
    flags: int = 0


@dataclass(kw_only=True)
class FragmentSamples:
    dts: I64
    dur: I64
    cts: I64
    size: I64
    offset: I64
    sync: npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class _Run:
    """One ``trun``: where its samples start (time, bytes) and its raw entry table."""

    dts: int
    data: int
    count: int
    layout: tuple[int, int]  # (trun flags, version)
    entries: bytes
    defaults: TrackDefaults
    first_flags: int | None


@dataclass
class _Track:
    next_dts: int = 0
    runs: list[_Run] = field(default_factory=list)


class FragmentReader:
    """Reads every ``moof`` of a file once and hands out each track's samples."""

    def __init__(self, f: BinaryIO, moofs: list[Box], trex: dict[int, TrackDefaults]) -> None:
        self._trex = trex
        self._tracks: dict[int, _Track] = {}
        for moof in moofs:
            f.seek(moof.start)
            buf = f.read(moof.size)
            data_end = moof.start
            for traf in children(buf, Box(b"moof", 0, moof.header, len(buf)), b"traf"):
                data_end = self._traf(buf, traf, moof.start, data_end)

    def samples(self, track_id: int) -> FragmentSamples:
        track = self._tracks.get(track_id, _Track())
        if not track.runs:
            empty = np.zeros(0, np.int64)
            return FragmentSamples(
                dts=empty, dur=empty, cts=empty, size=empty, offset=empty, sync=empty > 0
            )
        groups: dict[tuple[int, int], list[_Run]] = {}
        for run in track.runs:
            groups.setdefault(run.layout, []).append(run)
        if len(groups) == 1:
            return _decode(track.runs)
        parts = [_decode([run]) for run in track.runs]  # rare: runs laid out differently
        return FragmentSamples(
            **{k: np.concatenate([getattr(p, k) for p in parts]) for k in _FIELDS}
        )

    def _traf(self, buf: bytes, traf: Box, moof_pos: int, prev_end: int) -> int:
        tfhd = need(buf, traf, b"tfhd")
        _, flags = full_header(buf, tfhd)
        (track_id,) = struct.unpack_from(">I", buf, tfhd.body + 4)
        pos = tfhd.body + 8
        base = prev_end
        if flags & _TFHD_BASE_OFFSET:
            (base,) = struct.unpack_from(">Q", buf, pos)
            pos += 8
        elif flags & _TFHD_BASE_IS_MOOF:
            base = moof_pos
        pos += 4 if flags & _TFHD_DESCRIPTION else 0
        d = self._trex.get(track_id, TrackDefaults())
        values = [d.duration, d.size, d.flags]
        for i, bit in enumerate(_TFHD_DEFAULTS):
            if flags & bit:
                (values[i],) = struct.unpack_from(">I", buf, pos)
                pos += 4
        defaults = TrackDefaults(*values)
        track = self._tracks.setdefault(track_id, _Track())
        tfdt = child(buf, traf, b"tfdt")
        if tfdt is not None:
            version, _ = full_header(buf, tfdt)
            fmt = ">Q" if version == 1 else ">I"
            (track.next_dts,) = struct.unpack_from(fmt, buf, tfdt.body + 4)
        data = base
        for trun in children(buf, traf, b"trun"):
            data = self._trun(buf, trun, track, base, data, defaults)
        return data

    def _trun(
        self, buf: bytes, trun: Box, track: _Track, base: int, data: int, d: TrackDefaults
    ) -> int:
        version, flags = full_header(buf, trun)
        (count,) = struct.unpack_from(">I", buf, trun.body + 4)
        pos = trun.body + 8
        if flags & _TRUN_DATA_OFFSET:
            (rel,) = struct.unpack_from(">i", buf, pos)
            data = base + rel
            pos += 4
        first_flags = None
        if flags & _TRUN_FIRST_FLAGS:
            (first_flags,) = struct.unpack_from(">I", buf, pos)
            pos += 4
        width = 4 * sum(1 for bit, _ in _TRUN_FIELDS if flags & bit)
        if pos + count * width > trun.end:
            raise BoxError("trun entries overrun the box")
        layout = (flags & 0xF00, version)
        run = _Run(
            track.next_dts, data, count, layout, buf[pos : pos + count * width], d, first_flags
        )
        track.runs.append(run)
        dur = _column(run, "dur", d.duration)
        size = _column(run, "size", d.size)
        track.next_dts += int(dur.sum())
        return data + int(size.sum())


_FIELDS = ("dts", "dur", "cts", "size", "offset", "sync")


def _dtype(layout: tuple[int, int]) -> np.dtype[np.void]:
    flags, version = layout
    names = [name for bit, name in _TRUN_FIELDS if flags & bit]
    return np.dtype([(n, ">i4" if n == "cts" and version else ">u4") for n in names])


def _column(run: _Run, name: str, default: int) -> I64:
    dtype = _dtype(run.layout)
    if dtype.names and name in dtype.names:
        return np.frombuffer(run.entries, dtype, run.count)[name].astype(np.int64)
    return np.full(run.count, default, np.int64)


def _decode(runs: list[_Run]) -> FragmentSamples:
    """Decode runs sharing one entry layout with a handful of whole-array operations."""
    dtype = _dtype(runs[0].layout)
    rows = np.frombuffer(b"".join(r.entries for r in runs), dtype)
    counts = np.array([r.count for r in runs], np.int64)
    names = dtype.names or ()

    def column(name: str, attr: str) -> I64:
        if name in names:
            return rows[name].astype(np.int64)
        return np.repeat(np.array([getattr(r.defaults, attr) for r in runs], np.int64), counts)

    dur = column("dur", "duration")
    size = column("size", "size")
    flags = column("flags", "flags")
    cts = rows["cts"].astype(np.int64) if "cts" in names else np.zeros(len(dur), np.int64)
    if "cts" in names and not runs[0].layout[1]:
        cts = np.where(cts >= 1 << 31, cts - (1 << 32), cts)  # v0 stored signed by some muxers
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    if "flags" not in names:
        for r, s in zip(runs, starts.tolist(), strict=True):
            if r.first_flags is not None and r.count:
                flags[s] = r.first_flags
    run_of = np.repeat(np.arange(len(runs)), counts)
    return FragmentSamples(
        dts=_within(dur, starts, run_of) + np.array([r.dts for r in runs], np.int64)[run_of],
        dur=dur,
        cts=cts,
        size=size,
        offset=_within(size, starts, run_of) + np.array([r.data for r in runs], np.int64)[run_of],
        sync=(flags & _NON_SYNC) == 0,
    )


def _within(values: I64, starts: I64, run_of: I64) -> I64:
    """Exclusive running sum of ``values`` restarting at each run."""
    before = np.zeros(len(values), np.int64)
    np.cumsum(values[:-1], out=before[1:])
    return before - before[starts][run_of]
