"""``LocalArchive``: recordings in a folder on this machine, served from the segment index."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from sqlalchemy import Engine

from footage.archive.local.index import SegmentIndex
from footage.archive.local.scan import Progress, ScanReport, scan
from footage.domain import Camera, Segment, SourceUnavailable, Timeline, TimeRange


class LocalArchive:
    """The ``ArchiveSource`` of a local folder. Queries read the index; only opening a
    segment touches the disk, and a file gone since the last scan is a clear error."""

    def __init__(self, engine: Engine, root: str | os.PathLike[str], gap_tolerance: float) -> None:
        self.root = Path(root).expanduser()
        self.gap_tolerance = gap_tolerance
        self._engine = engine
        self._index = SegmentIndex(engine)

    def cameras(self) -> list[Camera]:
        return self._index.cameras()

    def camera(self, camera_id: str) -> Camera:
        return self._index.camera(camera_id)

    def timeline(self, camera_id: str, span: TimeRange) -> Timeline:
        return self._index.timeline(camera_id, span, self.gap_tolerance)

    def segments(self, camera_id: str, span: TimeRange) -> list[Segment]:
        return self._index.segments(camera_id, span)

    def rescan(self, *, workers: int = 1, progress: Progress | None = None) -> ScanReport:
        """Bring the index up to date with the folder."""
        return scan(self._engine, self.root, workers=workers, progress=progress)

    def check_segment(self, segment: Segment) -> Path:
        """The segment's path, or ``SourceUnavailable`` if it is gone or changed on disk."""
        path = Path(segment.path)
        try:
            size = path.stat().st_size
        except FileNotFoundError:
            raise self._stale(segment, "was deleted or moved") from None
        except OSError as exc:
            raise SourceUnavailable(
                f"segment {path} of camera {segment.camera_id} cannot be read: {exc.strerror}"
            ) from exc
        if size != segment.size:
            raise self._stale(segment, f"changed size ({segment.size} → {size} bytes)")
        return path

    def open_segment(self, segment: Segment) -> BinaryIO:
        """Open the segment's file for reading (checked as ``check_segment`` does)."""
        path = self.check_segment(segment)
        try:
            return path.open("rb")
        except FileNotFoundError:
            raise self._stale(segment, "was deleted or moved") from None
        except OSError as exc:
            raise SourceUnavailable(f"cannot open segment {path}: {exc.strerror}") from exc

    def _stale(self, segment: Segment, what: str) -> SourceUnavailable:
        return SourceUnavailable(
            f"segment {segment.path} of camera {segment.camera_id} {what} since the last "
            f"scan; run `footage archive scan {self.root}` to update the index"
        )
