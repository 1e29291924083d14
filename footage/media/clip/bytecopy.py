"""Copying byte ranges of source files into an output file while a second thread computes
the output's SHA-256 from the very same buffers (each byte is read once)."""

from __future__ import annotations

import errno
import hashlib
import os
import queue
import threading
from collections.abc import Callable

from footage.domain import MediaError, NoSpace
from footage.media.clip.cancel import CancelToken
from footage.media.clip.mp4_layout import CopyPlan

BUFFER = 1 << 20  # per read; small enough to stay in cache until it is hashed
BUFFERS = 8


def write_with_copies(
    fd: int,
    header: bytes,
    plan: CopyPlan,
    *,
    cancel: CancelToken,
    progress: Callable[[float], None],
) -> str:
    """Write ``header`` then every range of ``plan`` to ``fd``; return the SHA-256 (hex)."""
    hasher = _Hasher(header)
    hasher.start()
    try:
        _write_all(fd, header)
        _copy_ranges(fd, plan, hasher, cancel, progress)
    except OSError as exc:
        raise _translate(exc) from exc
    finally:
        hasher.finish()
    return hasher.hexdigest()


def _write_all(fd: int, data: bytes | memoryview) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view) :]


def _copy_ranges(
    fd: int,
    plan: CopyPlan,
    hasher: _Hasher,
    cancel: CancelToken,
    progress: Callable[[float], None],
) -> None:
    src_fd, src_idx = -1, -1
    done = 0.0
    try:
        for i in range(len(plan.src)):
            cancel.check()
            if int(plan.src[i]) != src_idx:
                if src_fd >= 0:
                    os.close(src_fd)
                src_idx = int(plan.src[i])
                src_fd = os.open(plan.sources[src_idx], os.O_RDONLY)
            _copy_range(src_fd, fd, int(plan.offset[i]), int(plan.length[i]), hasher, cancel)
            done += float(plan.seconds[i])
            progress(done)
    finally:
        if src_fd >= 0:
            os.close(src_fd)


def _copy_range(
    src: int, dst: int, offset: int, length: int, hasher: _Hasher, cancel: CancelToken
) -> None:
    end = offset + length
    while offset < end:
        buf = hasher.free_buffer()
        n = os.preadv(src, [memoryview(buf)[: min(end - offset, BUFFER)]], offset)
        if n <= 0:
            raise MediaError(f"a source file ended early at byte {offset}; was it truncated?")
        _write_all(dst, memoryview(buf)[:n])
        hasher.feed(buf, n)
        offset += n
        if offset < end and cancel.cancelled:
            cancel.check()


def _translate(exc: OSError) -> Exception:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return NoSpace(f"the export disk is full: {exc.strerror}; free some space and retry")
    return MediaError(f"copying media failed: {exc}")


class _Hasher(threading.Thread):
    """SHA-256 over buffers handed over in order, on a second core (hashlib drops the GIL)."""

    def __init__(self, header: bytes) -> None:
        super().__init__(name="clip-sha256", daemon=True)
        self._hash = hashlib.sha256(header)
        self._full: queue.SimpleQueue[tuple[bytearray, int] | None] = queue.SimpleQueue()
        self._free: queue.SimpleQueue[bytearray] = queue.SimpleQueue()
        for _ in range(BUFFERS):
            self._free.put(bytearray(BUFFER))
        self._error: BaseException | None = None

    def free_buffer(self) -> bytearray:
        return self._free.get()

    def feed(self, buf: bytearray, n: int) -> None:
        self._full.put((buf, n))

    def run(self) -> None:
        while (item := self._full.get()) is not None:
            buf, n = item
            try:
                if self._error is None:
                    self._hash.update(memoryview(buf)[:n])
            except BaseException as exc:  # reported by hexdigest(); keep recycling buffers
                self._error = exc
            self._free.put(buf)

    def finish(self) -> None:
        self._full.put(None)
        self.join()

    def hexdigest(self) -> str:
        if self._error is not None:
            raise MediaError(f"hashing the clip failed: {self._error}")
        return self._hash.hexdigest()
