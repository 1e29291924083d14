"""Is an output file what it claims to be? A JPG must decode; an MP4 must probe and be whole.

Nothing is counted as a success on its name alone: a truncated file, an empty one or a
device's error page saved under ``.mp4``/``.jpg`` is invalid, with the reason why.
"""

from __future__ import annotations

import os
import struct
from pathlib import Path

from footage.batch.model import FileStamp
from footage.domain import MediaError
from footage.media.probe import probe

_MP4_TOP = frozenset(
    {b"ftyp", b"moov", b"mdat", b"free", b"skip", b"moof", b"mfra", b"styp", b"sidx", b"uuid"}
)
_MP4_TOP |= {b"meta", b"wide", b"pdin", b"prft", b"emsg"}


def stamp(path: Path) -> FileStamp:
    info = path.stat()
    return FileStamp(size=info.st_size, mtime_ns=info.st_mtime_ns)


def check_output(path: Path, known: FileStamp | None = None) -> str | None:
    """None when ``path`` is a valid output, else why not.

    ``known`` is the file as it was when last found valid: an unchanged file (same size
    and modification time) is not decoded again.
    """
    try:
        info = path.stat()
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"cannot read: {exc.strerror}"
    if known is not None and (info.st_size, info.st_mtime_ns) == (known.size, known.mtime_ns):
        return None
    if info.st_size == 0:
        return "empty file"
    suffix = path.suffix.lower()
    if suffix in (".jpg", ".jpeg"):
        return check_jpeg(path)
    if suffix == ".mp4":
        return check_mp4(path)
    return f"not an output kind footage checks ({suffix})"


def check_jpeg(path: Path) -> str | None:
    from PIL import Image, UnidentifiedImageError

    with path.open("rb") as handle:
        head = handle.read(3)
        handle.seek(-2, os.SEEK_END)
        tail = handle.read(2)
    if head != b"\xff\xd8\xff":
        return f"not a JPEG (starts {head!r})"
    if tail != b"\xff\xd9":
        return "truncated JPEG (no end marker)"
    try:
        with Image.open(path) as image:
            image.load()
    except (OSError, UnidentifiedImageError, SyntaxError, ValueError) as exc:
        return f"the JPEG does not decode: {exc}"
    return None


def check_mp4(path: Path) -> str | None:
    problem = _mp4_boxes_whole(path)
    if problem is not None:
        return problem
    try:
        result = probe(path)
    except MediaError as exc:
        return exc.message
    if result.container not in ("mp4", "fmp4"):
        return f"not an MP4 ({result.container})"
    if result.duration_us <= 0:
        return "the MP4 holds no video"
    return None


def _mp4_boxes_whole(path: Path) -> str | None:
    """The top-level boxes must tile the file exactly: a cut-off ``mdat`` is truncation."""
    size = path.stat().st_size
    pos = 0
    seen: list[bytes] = []
    with path.open("rb") as handle:
        while pos < size:
            handle.seek(pos)
            head = handle.read(16)
            if len(head) < 8:
                return f"truncated MP4 ({size - pos} stray bytes at the end)"
            length, kind = struct.unpack(">I4s", head[:8])
            if length == 1 and len(head) == 16:
                length = struct.unpack(">Q", head[8:16])[0]
            elif length == 0:
                length = size - pos
            if kind not in _MP4_TOP or length < 8:
                return f"not an MP4 (unexpected box {kind!r} at byte {pos})"
            seen.append(kind)
            pos += length
    if pos != size:
        return f"truncated MP4 (the last box runs {pos - size} bytes past the end)"
    if b"moov" not in seen:
        return "not a playable MP4 (no moov box)"
    return None
