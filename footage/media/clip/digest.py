"""SHA-256 of an output file, computed on a second core while the file is still being written.

The digest is taken over the bytes of the file itself (mapped from the page cache just
behind the writer), so it is the checksum of what was written, not of what was meant to be.
hashlib releases the GIL while it hashes, so the writer and the hasher run in parallel and
an export costs about max(copy, hash) instead of their sum. Each window is hashed in one
call, straight from the mapping: no copy into a buffer, and few GIL hand-overs between the
two threads (each one can cost a scheduler time slice on a busy machine)."""

from __future__ import annotations

import hashlib
import mmap
import os
import threading
from pathlib import Path

from footage.domain import MediaError
from footage.media.clip.cancel import CancelToken

WINDOW = 16 << 20  # mapped and hashed at a time


class FollowingDigest:
    """Hashes ``path`` from its first byte up to ``total`` bytes, never passing the point the
    writer has reported with ``advance``. ``hexdigest`` waits for the end; ``abort`` stops.

    Memory: one mapped ``WINDOW`` of the page cache. The cancel token is checked between
    windows. Only the writer's own file is mapped: nothing else shortens it while it is
    hashed (a mapping read past the end of a file would be a SIGBUS)."""

    def __init__(self, path: Path, total: int, cancel: CancelToken) -> None:
        self._path = path
        self._total = total
        self._cancel = cancel
        self._ready = 0
        self._stopped = False
        self._moved = threading.Condition()
        self._error: BaseException | None = None
        self._hash = hashlib.sha256()
        self._fd = os.open(path, os.O_RDONLY)
        self._thread = threading.Thread(target=self._run, name="clip-sha256", daemon=True)
        self._thread.start()

    def advance(self, upto: int) -> None:
        """Bytes ``[0, upto)`` of the file are written."""
        with self._moved:
            self._ready = upto
            self._moved.notify()

    def abort(self) -> None:
        """Stop hashing (after an error elsewhere) and release the file."""
        with self._moved:
            self._stopped = True
            self._moved.notify()
        self._join()

    def hexdigest(self) -> str:
        """The SHA-256 (hex) of the whole file, once every byte is written and hashed."""
        self._join()
        self._cancel.check()
        if self._error is not None:
            raise MediaError(f"hashing {self._path.name} failed: {self._error}")
        return self._hash.hexdigest()

    def _join(self) -> None:
        self._thread.join()
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def _wait(self, pos: int) -> int:
        """How far the file is written once it passes ``pos``; ``-1`` when stopped."""
        with self._moved:
            while self._ready <= pos and not self._stopped and not self._cancel.cancelled:
                self._moved.wait(0.1)  # the timeout lets a cancel through
            return -1 if self._stopped or self._cancel.cancelled else self._ready

    def _run(self) -> None:
        pos = 0
        try:
            while pos < self._total:
                ready = self._wait(pos)
                if ready < 0:
                    return
                while pos < ready and not self._cancel.cancelled:
                    end = min(ready, pos + WINDOW)
                    self._hash_range(pos, end)
                    pos = end
        except BaseException as exc:  # reported by hexdigest()
            self._error = exc

    def _hash_range(self, pos: int, end: int) -> None:
        if os.fstat(self._fd).st_size < end:
            raise MediaError(f"{self._path.name} is shorter than was written")
        start = pos - pos % mmap.ALLOCATIONGRANULARITY
        with (
            mmap.mmap(self._fd, end - start, access=mmap.ACCESS_READ, offset=start) as mapped,
            memoryview(mapped) as whole,
            whole[pos - start :] as part,
        ):
            self._hash.update(part)
