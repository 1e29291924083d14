"""A picture of a camera at an instant (JPEG) and a short preview clip (streamed fMP4)."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.concurrency import iterate_in_threadpool, run_in_threadpool
from fastapi.responses import StreamingResponse

from footage.api.http.deps import RuntimeDep, Viewer
from footage.api.http.preview import PreviewStream
from footage.api.http.responses import errors
from footage.domain import TimeRange, parse_time
from footage.media.picture import PictureOptions, picture_at
from footage.runtime import Runtime

router = APIRouter(prefix="/api/v1", tags=["cameras"])
MAX_PREVIEW_S = 60.0
_AT = Query(description="ISO 8601 with an offset, e.g. 2026-03-01T08:00:00Z")


def _picture(runtime: Runtime, camera_id: str, at: str, options: PictureOptions) -> Response:
    moment = parse_time(at)
    near = TimeRange(start=moment, end=moment + timedelta(milliseconds=1))
    segments = runtime.archive.segments(camera_id, near)
    with tempfile.TemporaryDirectory(prefix="footage-picture-") as folder:
        written = picture_at(segments, moment, Path(folder) / "picture.jpg", options)
        data = written.path.read_bytes()
    return Response(
        data,
        media_type="image/jpeg",
        headers={
            "X-Shown-At": written.shown_at.isoformat(),
            "Cache-Control": "private, max-age=3600",
        },
    )


@router.get(
    "/cameras/{camera_id}/picture",
    response_class=Response,
    responses={
        200: {"content": {"image/jpeg": {}}, "description": "the frame shown at `at`"},
        **errors(403, 404, 422, 503),
    },
)
async def picture(
    camera_id: str,
    at: Annotated[str, _AT],
    runtime: RuntimeDep,
    caller: Viewer,
    width: Annotated[int | None, Query(ge=16, le=3840)] = None,
    quality: Annotated[int, Query(ge=1, le=100)] = 85,
) -> Response:
    """The picture shown at ``at`` (the last frame at or before it), as JPEG."""
    caller.require_camera(camera_id)
    options = PictureOptions(width=width, quality=quality)
    return await run_in_threadpool(_picture, runtime, camera_id, at, options)


def _open_preview(runtime: Runtime, camera_id: str, start: str, seconds: float) -> PreviewStream:
    begin = parse_time(start)
    span = TimeRange(start=begin, end=begin + timedelta(seconds=seconds))
    segments = runtime.archive.segments(camera_id, span)
    stream = PreviewStream(segments, span)
    return stream


@router.get(
    "/cameras/{camera_id}/preview",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"video/mp4": {}}, "description": "fragmented MP4, streamed"},
        **errors(403, 404, 422, 503),
    },
)
async def preview(
    camera_id: str,
    start: Annotated[str, _AT],
    runtime: RuntimeDep,
    caller: Viewer,
    duration: Annotated[float, Query(gt=0, le=MAX_PREVIEW_S, description="seconds")] = 10.0,
) -> StreamingResponse:
    """Up to 60 s of video from ``start`` as fragmented MP4, sent while it is produced.

    The status is settled before the first byte: the first fragment is made before the
    response starts, so a missing recording is a 404, not a broken stream."""
    caller.require_camera(camera_id)
    stream = await run_in_threadpool(_open_preview, runtime, camera_id, start, duration)
    try:
        head = await run_in_threadpool(stream.first)
    except BaseException:
        stream.close()
        raise

    async def body() -> AsyncIterator[bytes]:
        try:
            yield head
            async for chunk in iterate_in_threadpool(iter(stream)):
                yield chunk
        finally:
            stream.close()

    return StreamingResponse(
        body(), media_type="video/mp4", headers={"Cache-Control": "private, no-store"}
    )
