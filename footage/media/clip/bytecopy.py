"""Copying byte ranges of source files into an output file, in the kernel when it can
(``copy_file_range``: no userspace buffers), in large chunks between cancel checks."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable

from footage.domain import MediaError, NoSpace
from footage.media.clip.cancel import CancelToken
from footage.media.clip.mp4_layout import CopyPlan

CHUNK = 8 << 20  # per system call: a few ms, so cancel and the hasher follow closely
_FALLBACK_BUFFER = 1 << 20
# copy_file_range refused for these files (another file system on an old kernel, a file
# system without it, ...): copy through a buffer instead.
_NO_KERNEL_COPY = {errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL, errno.ETXTBSY}


def write_with_copies(
    fd: int,
    header: bytes,
    plan: CopyPlan,
    *,
    cancel: CancelToken,
    progress: Callable[[float], None],
    written: Callable[[int], None],
    kernel: bool = True,
) -> None:
    """Write ``header`` at the start of ``fd``, then every range of ``plan`` after it.
    ``written(n)`` is called each time bytes ``[0, n)`` of the output are in place.
    ``kernel=False`` copies through a buffer even where ``copy_file_range`` works."""
    copier = _Copier(fd, kernel=kernel)
    try:
        copier.write(header)
        written(copier.pos)
        _copy_ranges(copier, plan, cancel, progress, written)
    except OSError as exc:
        raise _translate(exc) from exc


def _copy_ranges(
    copier: _Copier,
    plan: CopyPlan,
    cancel: CancelToken,
    progress: Callable[[float], None],
    written: Callable[[int], None],
) -> None:
    src_fd, src_idx = -1, -1
    done = 0.0
    ranges = zip(
        plan.src.tolist(),
        plan.offset.tolist(),
        plan.length.tolist(),
        plan.seconds.tolist(),
        strict=True,
    )
    try:
        for idx, offset, length, seconds in ranges:
            cancel.check()
            if idx != src_idx:
                if src_fd >= 0:
                    os.close(src_fd)
                src_fd, src_idx = -1, idx
                src_fd = os.open(plan.sources[idx], os.O_RDONLY)
            end = offset + length
            while offset < end:
                offset += copier.copy(src_fd, offset, min(CHUNK, end - offset))
                written(copier.pos)
                if offset < end:
                    cancel.check()
            done += seconds
            progress(done)
    finally:
        if src_fd >= 0:
            os.close(src_fd)


class _Copier:
    """Appends to the output at ``pos``: by ``copy_file_range``, or through a buffer."""

    def __init__(self, fd: int, *, kernel: bool) -> None:
        self._fd = fd
        self.pos = 0
        self._kernel = kernel and hasattr(os, "copy_file_range")
        self._buf: bytearray | None = None

    def write(self, data: bytes) -> None:
        self._pwrite(memoryview(data))
        self.pos += len(data)

    def _pwrite(self, view: memoryview) -> None:
        at = self.pos
        while view:
            n = os.pwrite(self._fd, view, at)
            view = view[n:]
            at += n

    def copy(self, src: int, offset: int, count: int) -> int:
        """Copy up to ``count`` bytes from ``src`` at ``offset``; the number copied."""
        n = 0
        if self._kernel:
            try:
                n = os.copy_file_range(src, self._fd, count, offset, self.pos)
            except OSError as exc:
                if exc.errno not in _NO_KERNEL_COPY:
                    raise
                self._kernel = False
        if not self._kernel:
            n = self._copy_buffered(src, offset, count)
        if n <= 0:
            raise MediaError(f"a source file ended early at byte {offset}; was it truncated?")
        self.pos += n
        return n

    def _copy_buffered(self, src: int, offset: int, count: int) -> int:
        if self._buf is None:
            self._buf = bytearray(_FALLBACK_BUFFER)
        view = memoryview(self._buf)[: min(count, _FALLBACK_BUFFER)]
        n = os.preadv(src, [view], offset)
        self._pwrite(view[:n])
        return n


def _translate(exc: OSError) -> Exception:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return NoSpace(f"the export disk is full: {exc.strerror}; free some space and retry")
    return MediaError(f"copying media failed: {exc}")
