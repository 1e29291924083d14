"""Export tasks: create (one per camera), list with filters and page tokens, get, cancel,
retry and delete. Another user's task does not exist for the caller (404)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from footage.api.http.deps import Caller, Exporter, RuntimeDep
from footage.api.http.responses import errors
from footage.api.http.schemas import CreatedOut, ExportIn, TaskListOut, TaskOut
from footage.api.http.times import time_range
from footage.domain import InvalidRequest, NotFound, PermissionDenied, TimeRange
from footage.tasks.model import ExportRequest, Origin, TaskFilter, TaskKind, TaskStatus

router = APIRouter(prefix="/api/v1", tags=["exports"])

StatusName = Literal["queued", "running", "done", "failed", "cancelled", "expired"]


def _span(body: ExportIn) -> TimeRange:
    """The archive range asked for, or for a live export from now for its duration."""
    if not body.live:
        if body.duration is not None:
            raise InvalidRequest("duration is for live exports; give start and end instead")
        if not body.start or not body.end:
            raise InvalidRequest("give start and end (or live: true with a duration)")
        return time_range(body.start, body.end)
    if body.start or body.end:
        raise InvalidRequest("a live export records from now: leave start and end out")
    now = datetime.now(UTC)
    if body.format == "jpg":
        if body.picture_interval is not None:
            raise InvalidRequest("a live picture is one picture now; picture_interval is not used")
        return TimeRange(start=now, end=now + timedelta(seconds=1))
    if body.duration is None:
        raise InvalidRequest("a live clip needs a duration in seconds, e.g. 30")
    return TimeRange(start=now, end=now + timedelta(seconds=body.duration))


def _request(body: ExportIn) -> ExportRequest:
    span = _span(body)
    pictures = body.format == "jpg"
    return ExportRequest(
        camera_id=body.cameras[0],
        range=span,
        kind=TaskKind.PICTURES if pictures else TaskKind.CLIP,
        format=body.format,
        audio=body.audio,
        exact=body.exact,
        picture_interval=None
        if body.picture_interval is None
        else timedelta(seconds=body.picture_interval),
        file_name=body.file_name,
        comment=body.comment,
        live=body.live,
    )


@router.post(
    "/exports",
    response_model=CreatedOut,
    status_code=status.HTTP_201_CREATED,
    responses=errors(403, 404),
)
def create_exports(body: ExportIn, runtime: RuntimeDep, caller: Exporter) -> CreatedOut:
    """Queue one export task per camera, all with the same parameters (all or none)."""
    for camera_id in body.cameras:
        caller.require_camera(camera_id)
    request = _request(body)
    origin = Origin.WEB if caller.by_cookie else Origin.REST
    tasks = runtime.tasks.service.submit_many(
        request, body.cameras, owner=caller.user.name, origin=origin
    )
    return CreatedOut(tasks=[TaskOut.of(task) for task in tasks])


def _filter(
    caller: Caller,
    statuses: list[StatusName] | None,
    camera: str | None,
    owner: str | None,
    everyone: bool,
) -> TaskFilter:
    if (owner is not None and owner != caller.user.name) or everyone:
        if not caller.user.is_admin:
            raise PermissionDenied("only an administrator may list other users' tasks")
    who = owner if owner is not None else (None if everyone else caller.user.name)
    return TaskFilter(
        owner=who,
        statuses=frozenset(TaskStatus(s) for s in statuses) if statuses else None,
        camera_id=camera or None,
    )


@router.get("/exports", response_model=TaskListOut, responses=errors(403))
def list_exports(
    runtime: RuntimeDep,
    caller: Exporter,
    status_: Annotated[
        list[StatusName] | None, Query(alias="status", description="repeat for several")
    ] = None,
    camera: Annotated[str | None, Query(max_length=200)] = None,
    owner: Annotated[str | None, Query(max_length=200, description="admins only")] = None,
    all_users: Annotated[
        bool, Query(alias="all", description="admins: every user's tasks")
    ] = False,
    page_size: Annotated[int, Query(ge=1, le=100)] = 10,
    page_token: Annotated[str | None, Query(max_length=500)] = None,
) -> TaskListOut:
    """The caller's tasks, newest first, a page at a time."""
    query = _filter(caller, status_, camera, owner, all_users)
    service = runtime.tasks.service
    page = service.list_page(query, page_size=page_size, page_token=page_token or None)
    return TaskListOut(
        tasks=[TaskOut.of(task) for task in page.tasks],
        next_page_token=page.next_token,
        total=service.count(query),
    )


@router.get("/exports/{task_id}", response_model=TaskOut, responses=errors(403, 404))
def get_export(task_id: str, runtime: RuntimeDep, caller: Exporter) -> TaskOut:
    """One task (a poll: it keeps an API export alive)."""
    service = runtime.tasks.service
    task = service.get(task_id, owner=caller.owner)
    if task.destroyed is not None:
        raise _gone(task_id)
    if task.origin is not Origin.WEB:
        task = service.touch(task_id, owner=caller.owner)
    return TaskOut.of(task)


@router.post("/exports/{task_id}/cancel", response_model=TaskOut, responses=errors(403, 404, 409))
def cancel_export(task_id: str, runtime: RuntimeDep, caller: Exporter) -> TaskOut:
    """Cancel a queued or running task."""
    _visible(runtime, caller, task_id)
    task = runtime.tasks.service.cancel(task_id, owner=caller.owner, by=caller.user.name)
    return TaskOut.of(task)


@router.post(
    "/exports/{task_id}/retry",
    response_model=TaskOut,
    status_code=status.HTTP_201_CREATED,
    responses=errors(403, 404, 409),
)
def retry_export(task_id: str, runtime: RuntimeDep, caller: Exporter) -> TaskOut:
    """A new task with the same parameters; the old one stays in the history."""
    _visible(runtime, caller, task_id)
    return TaskOut.of(runtime.tasks.service.retry(task_id, owner=caller.owner))


@router.delete(
    "/exports/{task_id}", status_code=status.HTTP_204_NO_CONTENT, responses=errors(403, 404)
)
def delete_export(task_id: str, runtime: RuntimeDep, caller: Exporter) -> None:
    """Stop the task if needed, delete its files and remove it from the history."""
    _visible(runtime, caller, task_id)
    runtime.tasks.service.destroy(task_id, owner=caller.owner)


def _visible(runtime: RuntimeDep, caller: Caller, task_id: str) -> None:
    task = runtime.tasks.service.get(task_id, owner=caller.owner)
    if task.destroyed is not None:
        raise _gone(task_id)


def _gone(task_id: str) -> NotFound:
    return NotFound(f"there is no task {task_id}")
