"""Writing one progressive, faststart MP4 (ftyp, moov, mdat) by copying sample bytes."""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from pathlib import Path

from footage.durable import Flusher
from footage.media.clip.bytecopy import write_with_copies
from footage.media.clip.cancel import CancelToken
from footage.media.clip.digest import FollowingDigest
from footage.media.clip.mp4_layout import FileLayout
from footage.media.clip.mp4_moov import MovieInfo, ftyp, moov

_U32 = 0xFFFFFFFF


def header_bytes(layout: FileLayout, info: MovieInfo) -> bytes:
    """``ftyp`` + ``moov`` + the ``mdat`` header, with chunk offsets pointing past them."""
    codec = layout.tracks[0].stsd[20:24]
    head = ftyp(b"avc1" if codec in (b"avc1", b"avc3") else b"iso6")
    payload = layout.copies.total
    mdat_head = (
        struct.pack(">I4s", 8 + payload, b"mdat")
        if payload + 8 <= _U32
        else struct.pack(">I4sQ", 1, b"mdat", 16 + payload)
    )
    base = 0
    for _ in range(4):  # the offsets' width (stco or co64) can change the moov's size
        movie = moov(layout, info, base)
        new_base = len(head) + len(movie) + len(mdat_head)
        if new_base == base:
            break
        base = new_base
    return head + movie + mdat_head


def write_mp4(
    path: Path,
    layout: FileLayout,
    info: MovieInfo,
    *,
    cancel: CancelToken,
    progress: Callable[[float], None],
) -> tuple[FollowingDigest, Flusher]:
    """Write the file at ``path``. Its SHA-256 is still being computed on return (the caller
    may validate the file meanwhile), and its data are still going to the disk: ``wait()`` for
    the flusher, ``hexdigest()`` the digest, or ``abort()`` both."""
    header = header_bytes(layout, info)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        digest = FollowingDigest(path, len(header) + layout.copies.total, cancel)
        flusher = Flusher(path)

        def written(upto: int) -> None:
            digest.advance(upto)
            flusher.advance(upto)

        try:
            write_with_copies(
                fd, header, layout.copies, cancel=cancel, progress=progress, written=written
            )
        except BaseException:
            digest.abort()
            flusher.abort()
            raise
    finally:
        os.close(fd)
    flusher.finish()
    return digest, flusher
