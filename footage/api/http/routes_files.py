"""Downloads of finished exports: ``Range``/``If-Range`` (so downloads resume), a strong
ETag from the file's SHA-256, and the file name in ``Content-Disposition``."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse

from footage.api.errors import error_body
from footage.api.http.deps import Exporter, RuntimeDep
from footage.api.http.ranges import RangeNotSatisfiable, if_range_allows, parse_range
from footage.api.http.responses import errors
from footage.domain import InvalidRequest, NotFound
from footage.tasks.service import TaskService

router = APIRouter(prefix="/api/v1", tags=["exports"])
CHUNK = 256 * 1024


def content_disposition(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    ascii_name = base.encode("ascii", "replace").decode().replace('"', "_").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(base)}"


def _chunks(
    service: TaskService, task_id: str, name: str, start: int, length: int
) -> Iterator[bytes]:
    with service.open_file(task_id, name, start) as handle:
        left = length
        while left > 0:
            data = handle.read(min(CHUNK, left))
            if not data:
                break
            left -= len(data)
            yield data


_DOWNLOAD_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}}, "description": "the whole file"},
    206: {"content": {"application/octet-stream": {}}, "description": "the range asked"},
    304: {"description": "If-None-Match matched"},
    **errors(403, 404, 409, 416),
}


@router.head(
    "/exports/{task_id}/files/{name:path}",
    response_class=Response,
    responses=_DOWNLOAD_RESPONSES,
    name="download_head",
)
@router.get(
    "/exports/{task_id}/files/{name:path}",
    response_class=Response,
    responses=_DOWNLOAD_RESPONSES,
    name="download",
)
def download(
    task_id: str,
    name: str,
    request: Request,
    runtime: RuntimeDep,
    caller: Exporter,
    range_: Annotated[str | None, Header(alias="Range")] = None,
    if_range: Annotated[str | None, Header(alias="If-Range")] = None,
    if_none_match: Annotated[str | None, Header(alias="If-None-Match")] = None,
) -> Response:
    """A file of a finished export; ``Range: bytes=N-`` resumes (``curl -C -``)."""
    service = runtime.tasks.service
    task = service.get(task_id, owner=caller.owner)
    entry = next((f for f in task.files if f.name == name), None)
    path = service.file_path(task_id, name, owner=caller.owner)
    if entry is None:
        raise NotFound(f"task {task_id} has no file {name!r}")
    size = path.stat().st_size
    etag = f'"{entry.sha256}"'
    headers = {
        "Accept-Ranges": "bytes",
        "ETag": etag,
        "Content-Disposition": content_disposition(name),
        "Cache-Control": "private, no-cache",
    }
    if if_none_match is not None and etag in [t.strip() for t in if_none_match.split(",")]:
        return Response(status_code=304, headers=headers)
    try:
        wanted = parse_range(range_, size) if if_range_allows(if_range, etag) else None
    except RangeNotSatisfiable as exc:
        body = error_body(InvalidRequest(str(exc), code="range_not_satisfiable"))
        return JSONResponse(body, status_code=416, headers={"Content-Range": f"bytes */{size}"})
    start, length, status = 0, size, 200
    if wanted is not None:
        start, length, status = wanted.start, wanted.length, 206
        headers["Content-Range"] = wanted.content_range(size)
    headers["Content-Length"] = str(length)
    if request.method == "HEAD":
        return Response(status_code=status, headers=headers, media_type=entry.mime_type)
    body_iter = _chunks(service, task_id, name, start, length)
    return StreamingResponse(
        body_iter, status_code=status, headers=headers, media_type=entry.mime_type
    )
