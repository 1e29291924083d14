"""Reading ISO base media file format boxes (ISO/IEC 14496-12) from bytes and from files."""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO

Buf = bytes | bytearray
_BLOCK = 4096  # read at each top-level box: its header, and the whole of most moof boxes
CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"edts", b"mvex", b"moof", b"traf"}


class BoxError(ValueError):
    """The bytes are not a well-formed MP4 box structure."""


@dataclass(frozen=True, slots=True)
class Box:
    type: bytes
    start: int  # offset of the box header
    header: int  # header length (8, or 16 with a 64-bit size)
    size: int  # whole box, header included

    @property
    def body(self) -> int:
        """Offset of the box payload."""
        return self.start + self.header

    @property
    def end(self) -> int:
        return self.start + self.size


def iter_boxes(buf: Buf, start: int = 0, end: int | None = None) -> Iterator[Box]:
    """The boxes laid end to end in ``buf[start:end]``."""
    stop = len(buf) if end is None else end
    pos = start
    while pos + 8 <= stop:
        size, kind = struct.unpack_from(">I4s", buf, pos)
        header = 8
        if size == 1:
            if pos + 16 > stop:
                raise BoxError(f"truncated 64-bit box header at {pos}")
            (size,) = struct.unpack_from(">Q", buf, pos + 8)
            header = 16
        elif size == 0:
            size = stop - pos
        if size < header or pos + size > stop:
            raise BoxError(f"box {kind!r} at {pos} of size {size} overruns its parent")
        yield Box(kind, pos, header, size)
        pos += size


def children(buf: Buf, parent: Box, kind: bytes) -> list[Box]:
    return [b for b in iter_boxes(buf, parent.body, parent.end) if b.type == kind]


def child(buf: Buf, parent: Box, kind: bytes) -> Box | None:
    for b in iter_boxes(buf, parent.body, parent.end):
        if b.type == kind:
            return b
    return None


def need(buf: Buf, parent: Box, *path: bytes) -> Box:
    """The box at ``path`` below ``parent``; ``BoxError`` when any step is missing."""
    box = parent
    for kind in path:
        found = child(buf, box, kind)
        if found is None:
            raise BoxError(f"box {box.type.decode(errors='replace')} has no {kind.decode()}")
        box = found
    return box


def full_header(buf: Buf, box: Box) -> tuple[int, int]:
    """Version and flags of a full box."""
    word: int = struct.unpack_from(">I", buf, box.body)[0]
    return word >> 24, word & 0xFFFFFF


def iter_file_boxes(f: BinaryIO, size: int) -> Iterator[Box]:
    """Top-level boxes of a file, reading only their headers."""
    pos = 0
    while pos + 8 <= size:
        f.seek(pos)
        head = f.read(16)
        kind = head[4:8]
        (box_size,) = struct.unpack_from(">I", head, 0)
        header = 8
        if box_size == 1:
            (box_size,) = struct.unpack_from(">Q", head, 8)
            header = 16
        elif box_size == 0:
            box_size = size - pos
        if box_size < header:
            raise BoxError(f"box {kind!r} at {pos} has impossible size {box_size}")
        if pos + box_size > size:
            if kind == b"mdat":  # a recording cut short: use what is there
                box_size = size - pos
            else:
                raise BoxError(f"box {kind!r} at {pos} of size {box_size} is truncated")
        yield Box(kind, pos, header, box_size)
        pos += box_size


def read_top_boxes(fd: int, size: int, keep: set[bytes]) -> Iterator[tuple[Box, bytes | None]]:
    """Top-level boxes of the file ``fd``, each with its bytes when its type is in ``keep``.
    One ``pread`` per box (two for a big kept box); the media data is never read. A last
    ``mdat`` running past the end (a recording cut short) is kept, shortened."""
    pos = 0
    while pos + 8 <= size:
        block = os.pread(fd, _BLOCK, pos)
        if len(block) < 8:
            raise BoxError(f"the file ended at {pos + len(block)} while being read")
        box_size, kind = struct.unpack_from(">I4s", block)
        header = 8
        if box_size == 1:
            if len(block) < 16:
                raise BoxError(f"truncated 64-bit box header at {pos}")
            (box_size,) = struct.unpack_from(">Q", block, 8)
            header = 16
        elif box_size == 0:
            box_size = size - pos
        if box_size < header:
            raise BoxError(f"box {kind!r} at {pos} has impossible size {box_size}")
        if pos + box_size > size:
            if kind != b"mdat":
                raise BoxError(f"box {kind!r} at {pos} of size {box_size} is truncated")
            box_size = size - pos
        data = None
        if kind in keep:
            data = block[:box_size] if box_size <= len(block) else os.pread(fd, box_size, pos)
            if len(data) < box_size:
                raise BoxError(f"box {kind!r} at {pos} is truncated")
        yield Box(kind, pos, header, box_size), data
        pos += box_size
