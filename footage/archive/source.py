"""The ``ArchiveSource`` protocol every source of recorded footage implements."""

from __future__ import annotations

from typing import Protocol

from footage.domain import Camera, Segment, Timeline, TimeRange


class ArchiveSource(Protocol):
    """Recorded footage of some cameras, addressable by wall-clock time."""

    def cameras(self) -> list[Camera]:
        """Every camera this source knows, sorted by id."""
        ...

    def camera(self, camera_id: str) -> Camera:
        """One camera; raises ``NotFound`` naming the known cameras when it is unknown."""
        ...

    def timeline(self, camera_id: str, span: TimeRange) -> Timeline:
        """Recorded spans and gaps of ``camera_id`` within ``span`` (clipped to it)."""
        ...

    def segments(self, camera_id: str, span: TimeRange) -> list[Segment]:
        """The segments overlapping ``span`` in time order (what an export reads)."""
        ...
