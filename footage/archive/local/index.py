"""The segment index: what a scan found on disk, queried by camera and time from the database.

Reads only the database (never the disk). Times are integer microseconds (UTC) in SQL and
tz-aware datetimes outside.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, func, select

from footage.archive.local.timeline import build_timeline
from footage.db.schema import cameras as cameras_table
from footage.db.schema import segments as segments_table
from footage.domain import Camera, NotFound, Segment, Timeline, TimeRange, from_us


@dataclass(frozen=True, slots=True, kw_only=True)
class CameraSummary:
    """What the index holds for one camera."""

    camera: Camera
    segments: int
    first: datetime
    last: datetime
    recorded: timedelta


class SegmentIndex:
    """Domain queries over the ``cameras`` and ``segments`` tables."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def cameras(self) -> list[Camera]:
        """Every indexed camera, sorted by id."""
        query = select(cameras_table).order_by(cameras_table.c.id)
        with self._engine.connect() as conn:
            return [_camera(row) for row in conn.execute(query).mappings()]

    def camera(self, camera_id: str) -> Camera:
        """One camera; ``NotFound`` names the known cameras."""
        query = select(cameras_table).where(cameras_table.c.id == camera_id)
        with self._engine.connect() as conn:
            row = conn.execute(query).mappings().first()
        if row is None:
            known = ", ".join(camera.id for camera in self.cameras()) or "none; scan an archive"
            raise NotFound(f"no camera {camera_id!r} in the index; known cameras: {known}")
        return _camera(row)

    def summaries(self) -> list[CameraSummary]:
        """Per camera: segment count, first start, last end and recorded time."""
        seg = segments_table.c
        query = (
            select(
                seg.camera_id,
                func.count(),
                func.min(seg.start_us),
                func.max(seg.end_us),
                func.sum(seg.end_us - seg.start_us),
            )
            .group_by(seg.camera_id)
            .order_by(seg.camera_id)
        )
        known = {camera.id: camera for camera in self.cameras()}
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            CameraSummary(
                camera=known.get(camera_id) or Camera(id=camera_id, name=camera_id),
                segments=count,
                first=from_us(first),
                last=from_us(last),
                recorded=timedelta(microseconds=int(total)),
            )
            for camera_id, count, first, last, total in rows
        ]

    def segments(self, camera_id: str, span: TimeRange) -> list[Segment]:
        """The segments of ``camera_id`` overlapping ``span``, in time order."""
        self.camera(camera_id)
        seg = segments_table.c
        query = (
            select(segments_table)
            .where(
                seg.camera_id == camera_id, seg.start_us < span.end_us, seg.end_us > span.start_us
            )
            .order_by(seg.start_us, seg.end_us)
        )
        with self._engine.connect() as conn:
            return [_segment(row) for row in conn.execute(query).mappings()]

    def timeline(self, camera_id: str, span: TimeRange, gap_tolerance_s: float) -> Timeline:
        """Spans and gaps of ``camera_id`` clipped to ``span``, from the index alone."""
        self.camera(camera_id)
        tolerance_us = round(gap_tolerance_s * 1_000_000)
        seg = segments_table.c
        query = (
            select(seg.start_us, seg.end_us)
            .where(
                seg.camera_id == camera_id,
                seg.start_us <= span.end_us + tolerance_us,
                seg.end_us >= span.start_us - tolerance_us,
            )
            .order_by(seg.start_us, seg.end_us)
        )
        with self._engine.connect() as conn:
            bounds = [(int(start), int(end)) for start, end in conn.execute(query)]
        return build_timeline(camera_id, span, bounds, tolerance_us)


def _camera(row: Any) -> Camera:
    return Camera(id=row["id"], name=row["name"], source=row["source"], group=row["group_name"])


def _segment(row: Any) -> Segment:
    return Segment(
        camera_id=row["camera_id"],
        path=row["path"],
        start=from_us(row["start_us"]),
        end=from_us(row["end_us"]),
        container=row["container"],
        video_codec=row["video_codec"],
        width=row["width"],
        height=row["height"],
        fps=row["fps"],
        audio_codec=row["audio_codec"],
        size=row["size"],
    )
