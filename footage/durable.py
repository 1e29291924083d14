"""Output files that survive a crash once they are reported.

A file is published by renaming it from its temporary name. Without care, a power cut shortly
after the rename can leave the final name pointing at an empty or partly written file while
the task history already says "done" with its size and SHA-256. So: the data reach the disk
before the rename (``fdatasync``), and the rename reaches the disk (``fsync`` of the folder)
before the caller records anything.

Flushing a large file only at the end would add the whole disk write after the copy. While a
file is written, :class:`Flusher` asks the kernel, from a thread of its own, to start writing
each finished stretch out (Linux ``sync_file_range``), so the final flush finds little left to
do and the disk works at the same time as the copy, the hash and the validation. Where
``sync_file_range`` is missing, the final flush does all the work; the result is the same.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from footage.domain import MediaError, NoSpace

_SYNC_FILE_RANGE_WRITE = 2  # <fcntl.h>: start writeback of dirty pages, do not wait
_WRITE_BEHIND_STEP = 32 << 20  # ask for writeback once this much more is written


def _load_sync_file_range() -> Callable[[int, int, int, int], int] | None:
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        func = libc.sync_file_range
    except (OSError, AttributeError):
        return None
    func.argtypes = (ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint)
    func.restype = ctypes.c_int
    return func


_sync_file_range = _load_sync_file_range()


def sync_data(path: Path) -> None:
    """Wait until the data of ``path`` are on the disk."""
    try:
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fdatasync(fd)
        finally:
            os.close(fd)
    except OSError as exc:
        raise _error(path, exc) from exc


def sync_folder(folder: Path) -> None:
    """Wait until the names in ``folder`` (a rename, a new file) are on the disk."""
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise _error(folder, exc) from exc
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.EBADF):  # folders some file systems won't sync
            raise _error(folder, exc) from exc
    finally:
        os.close(fd)


def publish(pairs: Sequence[tuple[Path, Path]], *, synced: bool = False) -> None:
    """Rename each ``(temporary, final)`` pair, durably: the data first (unless ``synced``
    says it was done already), then the renames, then the folders' entries."""
    if not synced:
        for temp, _ in pairs:
            sync_data(temp)
    for temp, final in pairs:
        os.replace(temp, final)
    for folder in dict.fromkeys(final.parent for _, final in pairs):
        sync_folder(folder)


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` durably, through a temporary name beside it: the file is
    either absent or complete, before and after a crash."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(temporary, "wb") as out:
            out.write(data)
            out.flush()
            os.fdatasync(out.fileno())
        publish([(temporary, path)], synced=True)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        if isinstance(exc, OSError):
            raise _error(path, exc) from exc
        raise


class Flusher:
    """Puts a file's data on the disk on a thread of its own, behind the writer.

    The writer reports its progress with ``advance(n)`` (bytes ``[0, n)`` are written); every
    ``_WRITE_BEHIND_STEP`` bytes the thread hands the new stretch to the kernel's writeback
    (``sync_file_range``, where there is one), so the disk works while the copy goes on and
    the writer never waits for it. ``finish()`` says the file is complete: the thread then
    waits for all of it to be on the disk (``fdatasync``). ``wait()`` joins it and raises
    :class:`NoSpace` or :class:`MediaError` when the data could not be saved; ``abort()`` stops
    it after an error elsewhere."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._ready = 0
        self._finished = False
        self._stopped = False
        self._error: Exception | None = None
        self._moved = threading.Condition()
        try:
            self._fd = os.open(path, os.O_RDONLY)
        except OSError as exc:
            raise _error(path, exc) from exc
        self._thread = threading.Thread(target=self._run, name="flush", daemon=True)
        self._thread.start()

    def advance(self, upto: int) -> None:
        with self._moved:
            self._ready = upto
            self._moved.notify()

    def finish(self) -> None:
        with self._moved:
            self._finished = True
            self._moved.notify()

    def wait(self) -> None:
        self.finish()
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abort(self) -> None:
        with self._moved:
            self._stopped = True
            self._moved.notify()
        self._thread.join()

    def _run(self) -> None:
        asked = 0
        behind = _sync_file_range is not None
        try:
            while True:
                with self._moved:
                    while not (self._stopped or self._finished) and (
                        not behind or self._ready - asked < _WRITE_BEHIND_STEP
                    ):
                        self._moved.wait()
                    if self._stopped:
                        return
                    finished, ready = self._finished, self._ready
                if finished:
                    os.fdatasync(self._fd)
                    return
                assert _sync_file_range is not None
                if _sync_file_range(self._fd, asked, ready - asked, _SYNC_FILE_RANGE_WRITE):
                    behind = False  # refused here: the final fdatasync does all the work
                asked = ready
        except OSError as exc:
            self._error = _error(self._path, exc)
        finally:
            os.close(self._fd)


def _error(path: Path, exc: OSError) -> Exception:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return NoSpace(f"the disk is full while saving {path.name}; free some space and retry")
    return MediaError(f"cannot save {path.name} to the disk: {exc.strerror or exc}")
