"""Live counts of the ``.jpg`` and ``.mp4`` files in a run's output folder.

The folder is what counts (a user may add or delete files while a run goes on), so the
counts come from listing it; :class:`FolderCounter` lists at most every ``interval``
seconds however often it is asked. Hidden files (temporary names, the state) are skipped.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True, kw_only=True)
class Counters:
    jpg: int = 0
    mp4: int = 0

    def to_json(self) -> dict[str, int]:
        return {"jpg": self.jpg, "mp4": self.mp4}


def count_files(folder: Path) -> Counters:
    """The ``.jpg``/``.jpeg`` and ``.mp4`` files directly in ``folder`` (0 if it is gone)."""
    jpg = mp4 = 0
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    continue
                suffix = os.path.splitext(entry.name)[1].lower()
                if suffix in (".jpg", ".jpeg") and entry.is_file():
                    jpg += 1
                elif suffix == ".mp4" and entry.is_file():
                    mp4 += 1
    except FileNotFoundError:
        pass
    return Counters(jpg=jpg, mp4=mp4)


class FolderCounter:
    """Throttled counting; :meth:`refresh` returns the counts only when they changed."""

    def __init__(self, folder: Path, *, interval: float = 0.25) -> None:
        self.folder = Path(folder)
        self.interval = interval
        self._lock = threading.Lock()
        self._last: Counters | None = None
        self._at = float("-inf")

    @property
    def last(self) -> Counters:
        with self._lock:
            return self._last or Counters()

    def refresh(self, *, force: bool = False) -> Counters | None:
        with self._lock:
            now = time.monotonic()
            if not force and now - self._at < self.interval:
                return None
            self._at = now
            counts = count_files(self.folder)
            if counts == self._last:
                return None
            self._last = counts
            return counts
