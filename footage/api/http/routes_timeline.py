"""Recorded spans and gaps of a camera over a range (what the page's timeline draws)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Query

from footage.api.http.deps import RuntimeDep, Viewer
from footage.api.http.responses import errors
from footage.api.http.schemas import TimelineOut
from footage.api.http.times import time_range

router = APIRouter(prefix="/api/v1", tags=["cameras"])
MAX_TIMELINE = timedelta(days=62)

TimeQuery = Query(description="ISO 8601 with an offset (2026-03-01T08:00:00Z) or now")


@router.get("/cameras/{camera_id}/timeline", response_model=TimelineOut, responses=errors(403, 404))
def timeline(
    camera_id: str,
    start: Annotated[str, TimeQuery],
    end: Annotated[str, TimeQuery],
    runtime: RuntimeDep,
    caller: Viewer,
) -> TimelineOut:
    """Spans and gaps of ``camera_id`` between ``start`` and ``end`` (at most 62 days)."""
    caller.require_camera(camera_id)
    span = time_range(start, end, limit=MAX_TIMELINE)
    return TimelineOut.of(runtime.archive.timeline(camera_id, span))
