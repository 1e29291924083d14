"""Shortening the edit lists of an MP4 written by FFmpeg, in place (sizes do not change)."""

from __future__ import annotations

import os
import struct
from pathlib import Path

from footage.media.clip.mp4_boxes import (
    Box,
    BoxError,
    child,
    children,
    full_header,
    iter_file_boxes,
    need,
)


def limit_duration(path: Path, duration_us: int) -> None:
    """Make every track of ``path`` stop playing ``duration_us`` after its start, so frames
    kept only as references for B-frames before the end are not shown."""
    with open(path, "r+b") as f:
        top = next(
            (b for b in iter_file_boxes(f, os.fstat(f.fileno()).st_size) if b.type == b"moov"), None
        )
        if top is None:
            raise BoxError("no moov box")
        f.seek(top.start)
        moov = bytearray(f.read(top.size))
        root = Box(b"moov", 0, top.header, top.size)
        mvhd = need(moov, root, b"mvhd")
        version, _ = full_header(moov, mvhd)
        time_at = mvhd.body + (20 if version else 12)
        scale = struct.unpack_from(">I", moov, time_at)[0]
        limit = duration_us * scale // 1_000_000
        longest = 0
        for trak in children(moov, root, b"trak"):
            longest = max(longest, _limit_track(moov, trak, limit))
        struct.pack_into(">Q" if version else ">I", moov, time_at + 4, longest)
        f.seek(top.start)
        f.write(moov)


def _limit_track(moov: bytearray, trak: Box, limit: int) -> int:
    edts = child(moov, trak, b"edts")
    elst = child(moov, edts, b"elst") if edts else None
    if elst is None:
        return limit
    version, _ = full_header(moov, elst)
    (count,) = struct.unpack_from(">I", moov, elst.body + 4)
    fmt, step = (">Q", 20) if version else (">I", 12)
    total = 0
    for i in range(count):
        at = elst.body + 8 + i * step
        (duration,) = struct.unpack_from(fmt, moov, at)
        duration = max(0, min(duration, limit - total))
        struct.pack_into(fmt, moov, at, duration)
        total += duration
    tkhd = need(moov, trak, b"tkhd")
    t_version, _ = full_header(moov, tkhd)
    struct.pack_into(
        ">Q" if t_version else ">I", moov, tkhd.body + (28 if t_version else 20), total
    )
    return total
