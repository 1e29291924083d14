"""Sample tables of fragmented MP4 (``moof``/``traf``/``tfhd``/``tfdt``/``trun``).

Parsing is in three passes so an hour of fragments costs little Python: each ``trun`` is
only located (a few struct reads per fragment); then the entries of every run of the file
are decoded together with numpy; then one short loop over the runs fixes where each starts
in time and in the file, and numpy spreads that over the samples."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from footage.media.clip.mp4_boxes import BoxError, Buf

I64 = npt.NDArray[np.int64]

_TFHD_BASE_OFFSET = 0x1
_TFHD_DESCRIPTION = 0x2
_TFHD_DEFAULTS = (0x8, 0x10, 0x20)  # duration, size, flags
_TFHD_ANY_DEFAULT = 0x38
_TFHD_BASE_IS_MOOF = 0x20000
_TRUN_DATA_OFFSET = 0x1
_TRUN_FIRST_FLAGS = 0x4
_TRUN_FIELDS = ((0x100, "dur"), (0x200, "size"), (0x400, "flags"), (0x800, "cts"))
_NON_SYNC = 0x10000
_HEAD = struct.Struct(">I4s")
_U32 = struct.Struct(">I")


@dataclass(frozen=True, slots=True)
class TrackDefaults:
    duration: int = 0
    size: int = 0
    flags: int = 0


_NO_DEFAULTS = TrackDefaults()


@dataclass(kw_only=True)
class FragmentSamples:
    dts: I64
    dur: I64
    cts: I64
    size: I64
    offset: I64
    sync: npt.NDArray[np.bool_]


@dataclass(slots=True)
class _Run:
    """One ``trun``: its raw entry table and what its header says."""

    rel: int | None  # data offset from the traf's base, when given
    count: int
    layout: tuple[int, int]  # (which entry fields are present, version)
    entries: bytes
    first_flags: int | None
    defaults: TrackDefaults


@dataclass(slots=True)
class _Traf:
    track_id: int
    moof: int  # file offset of the enclosing moof
    base: int | None  # explicit base data offset
    base_is_moof: bool
    tfdt: int | None
    runs: tuple[_Run, ...]


class FragmentReader:
    """Decodes every ``moof`` of a file once (each given as its file offset and its bytes),
    then hands out each track's samples."""

    def __init__(self, moofs: list[tuple[int, bytes]], trex: dict[int, TrackDefaults]) -> None:
        trafs = [t for at, moof in moofs for t in _moof(moof, at, trex)]
        self._tables = _decode(trafs)

    def samples(self, track_id: int) -> FragmentSamples:
        found = self._tables.get(track_id)
        if found is None:
            empty = np.zeros(0, np.int64)
            return FragmentSamples(
                dts=empty, dur=empty, cts=empty, size=empty, offset=empty, sync=empty > 0
            )
        return found


def _kids(buf: Buf, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload offset, end) of the boxes laid end to end in ``buf[start:end]``."""
    pos = start
    while pos + 8 <= end:
        size, kind = _HEAD.unpack_from(buf, pos)
        body = pos + 8
        if size == 1:
            (size,) = struct.unpack_from(">Q", buf, body)
            body += 8
        elif size == 0:
            size = end - pos
        if size < body - pos or pos + size > end:
            raise BoxError(f"box {kind!r} at {pos} of size {size} overruns its parent")
        yield kind, body, pos + size
        pos += size


def _moof(moof: bytes, at: int, trex: dict[int, TrackDefaults]) -> Iterator[_Traf]:
    """The track fragments of the ``moof`` box ``moof`` found at file offset ``at``."""
    ((_, body, end),) = _kids(moof, 0, len(moof))
    for kind, traf_body, traf_end in _kids(moof, body, end):
        if kind == b"traf":
            yield _traf(moof, traf_body, traf_end, at, trex)


def _traf(buf: Buf, start: int, end: int, moof: int, trex: dict[int, TrackDefaults]) -> _Traf:
    tfhd: int | None = None
    tfdt: int | None = None
    truns: list[tuple[int, int]] = []
    for kind, body, box_end in _kids(buf, start, end):
        if kind == b"tfhd":
            tfhd = body
        elif kind == b"tfdt":
            version = buf[body]
            (tfdt,) = struct.unpack_from(">Q" if version == 1 else ">I", buf, body + 4)
        elif kind == b"trun":
            truns.append((body, box_end))
    if tfhd is None:
        raise BoxError("box traf has no tfhd")
    flags, track_id = struct.unpack_from(">II", buf, tfhd)
    flags &= 0xFFFFFF
    pos = tfhd + 8
    base = None
    if flags & _TFHD_BASE_OFFSET:
        (base,) = struct.unpack_from(">Q", buf, pos)
        pos += 8
    pos += 4 if flags & _TFHD_DESCRIPTION else 0
    defaults = trex.get(track_id, _NO_DEFAULTS)
    if flags & _TFHD_ANY_DEFAULT:
        values = [defaults.duration, defaults.size, defaults.flags]
        for i, bit in enumerate(_TFHD_DEFAULTS):
            if flags & bit:
                (values[i],) = _U32.unpack_from(buf, pos)
                pos += 4
        defaults = TrackDefaults(*values)
    runs = tuple(_trun(buf, body, box_end, defaults) for body, box_end in truns)
    return _Traf(
        track_id=track_id,
        moof=moof,
        base=base,
        base_is_moof=bool(flags & _TFHD_BASE_IS_MOOF),
        tfdt=tfdt,
        runs=runs,
    )


def _trun(buf: Buf, body: int, end: int, defaults: TrackDefaults) -> _Run:
    word, count = struct.unpack_from(">II", buf, body)
    version, flags = word >> 24, word & 0xFFFFFF
    pos = body + 8
    rel = None
    if flags & _TRUN_DATA_OFFSET:
        (rel,) = struct.unpack_from(">i", buf, pos)
        pos += 4
    first_flags = None
    if flags & _TRUN_FIRST_FLAGS:
        (first_flags,) = _U32.unpack_from(buf, pos)
        pos += 4
    width = 4 * sum(1 for bit, _ in _TRUN_FIELDS if flags & bit)
    if pos + count * width > end:
        raise BoxError("trun entries overrun the box")
    entries = bytes(buf[pos : pos + count * width])
    return _Run(rel, count, (flags & 0xF00, version), entries, first_flags, defaults)


def _dtype(layout: tuple[int, int]) -> np.dtype[np.void]:
    flags, version = layout
    names = [name for bit, name in _TRUN_FIELDS if flags & bit]
    return np.dtype([(n, ">i4" if n == "cts" and version else ">u4") for n in names])


def _decode(trafs: list[_Traf]) -> dict[int, FragmentSamples]:
    """Every track's samples, from all runs of the file at once."""
    runs = [r for t in trafs for r in t.runs]
    if not runs:
        return {}
    counts = np.array([r.count for r in runs], np.int64)
    cols = _columns(runs, counts)
    starts = np.cumsum(counts) - counts
    run_of = np.repeat(np.arange(len(runs)), counts)
    dur_before, dur_sum = _running(cols["dur"], starts, counts, run_of)
    size_before, size_sum = _running(cols["size"], starts, counts, run_of)
    run_dts, run_data = _anchors(trafs, dur_sum.tolist(), size_sum.tolist())
    dts = np.array(run_dts, np.int64)[run_of] + dur_before
    offset = np.array(run_data, np.int64)[run_of] + size_before
    track_of = np.array([t.track_id for t in trafs for _ in t.runs], np.int64)[run_of]
    sync = (cols["flags"] & _NON_SYNC) == 0
    tables = {}
    for track_id in dict.fromkeys(t.track_id for t in trafs):
        mine = track_of == track_id
        tables[track_id] = FragmentSamples(
            dts=dts[mine],
            dur=cols["dur"][mine],
            cts=cols["cts"][mine],
            size=cols["size"][mine],
            offset=offset[mine],
            sync=sync[mine],
        )
    return tables


def _columns(runs: list[_Run], counts: I64) -> dict[str, I64]:
    """Duration, size, flags and composition offset of every sample, in run order; runs are
    decoded in groups sharing an entry layout (video and audio runs usually differ)."""
    total = int(counts.sum())
    cols = {name: np.zeros(total, np.int64) for name in ("dur", "size", "flags", "cts")}
    groups: dict[tuple[int, int], list[int]] = {}
    for i, r in enumerate(runs):
        groups.setdefault(r.layout, []).append(i)
    run_of = np.repeat(np.arange(len(runs)), counts) if len(groups) > 1 else None
    for layout, idx in groups.items():
        dtype = _dtype(layout)
        names = dtype.names or ()
        rows = np.frombuffer(b"".join([runs[i].entries for i in idx]), dtype) if names else None
        at: slice | npt.NDArray[np.bool_] = slice(None)
        if run_of is not None:
            in_group = np.zeros(len(runs), np.bool_)
            in_group[idx] = True
            at = in_group[run_of]
        for name, attr in (("dur", "duration"), ("size", "size"), ("flags", "flags")):
            if rows is not None and name in names:
                cols[name][at] = rows[name]
            else:
                given = [getattr(runs[i].defaults, attr) for i in idx]
                cols[name][at] = np.repeat(np.array(given, np.int64), counts[idx])
        if rows is not None and "cts" in names:
            cts = rows["cts"].astype(np.int64)
            if not layout[1]:  # version 0, yet stored signed by some muxers
                cts = np.where(cts >= 1 << 31, cts - (1 << 32), cts)
            cols["cts"][at] = cts
        if "flags" not in names:
            _first_flags(cols["flags"], runs, idx, counts)
    return cols


def _first_flags(flags: I64, runs: list[_Run], idx: list[int], counts: I64) -> None:
    """Apply each run's ``first_sample_flags`` to its first sample."""
    firsts, values = [], []
    for i in idx:
        first = runs[i].first_flags
        if first is not None and runs[i].count:
            firsts.append(i)
            values.append(first)
    if firsts:
        starts = np.cumsum(counts) - counts
        flags[starts[firsts]] = values


def _anchors(
    trafs: list[_Traf], dur_sum: list[int], size_sum: list[int]
) -> tuple[list[int], list[int]]:
    """Decode time and file offset of each run's first sample (ISO/IEC 14496-12 8.8.7-8.8.8:
    without an explicit base, a traf's data follows the previous traf's in the same moof)."""
    dts: list[int] = []
    data: list[int] = []
    clock: dict[int, int] = {}
    moof, end, g = -1, 0, 0
    for t in trafs:
        if t.moof != moof:
            moof = end = t.moof
        if t.base is not None:
            base = t.base
        else:
            base = t.moof if t.base_is_moof else end
        at = base
        now = t.tfdt if t.tfdt is not None else clock.get(t.track_id, 0)
        for r in t.runs:
            if r.rel is not None:
                at = base + r.rel
            dts.append(now)
            data.append(at)
            now += dur_sum[g]
            at += size_sum[g]
            g += 1
        clock[t.track_id] = now
        end = at
    return dts, data


def _running(values: I64, starts: I64, counts: I64, run_of: I64) -> tuple[I64, I64]:
    """Exclusive running sum of ``values`` restarting at each run, and each run's total."""
    cum = np.zeros(len(values) + 1, np.int64)
    np.cumsum(values, out=cum[1:])
    return cum[:-1] - cum[starts][run_of], cum[starts + counts] - cum[starts]
