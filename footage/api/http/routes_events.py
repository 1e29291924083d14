"""Server-sent events of task changes: the caller's own tasks (an admin's: everyone's).

``event: status`` carries the whole task (as GET /exports/{id} returns it, with the status
the change set, even if the task has moved on since: every change is reported); ``event:
progress`` carries {id, status, progress, version}. Comments (``: ping``) keep the
connection alive. Each event's id is the change's time in microseconds: a client that
reconnects with ``Last-Event-ID`` first gets the status of every task changed since.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from footage.api.http.deps import Caller, Exporter, RuntimeDep
from footage.api.http.responses import errors
from footage.api.http.schemas import TaskOut
from footage.domain import FootageError, to_us
from footage.runtime import Runtime
from footage.tasks.events import EventKind, TaskEvent
from footage.tasks.model import ExportTask, TaskFilter, TaskStatus

router = APIRouter(prefix="/api/v1", tags=["exports"])
REPLAY_LIMIT = 200


def _frame(event: str, event_id: int, data: object) -> str:
    return f"id: {event_id}\nevent: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def _status_frame(task: ExportTask) -> str:
    stamp = to_us(task.updated or task.created)
    return _frame("status", stamp, TaskOut.of(task).model_dump(mode="json"))


def _event_frame(runtime: Runtime, event: TaskEvent) -> str | None:
    if event.kind is EventKind.PROGRESS:
        data = {
            "id": event.task_id,
            "status": event.status.value,
            "progress": round(event.progress, 1),
            "version": event.version,
        }
        return _frame("progress", to_us(event.updated), data)
    try:
        task = runtime.tasks.service.get(event.task_id)
    except FootageError:
        return None
    out = TaskOut.of(task)
    if task.version > event.version:  # it has moved on since: report the change as it was
        out = out.model_copy(
            update={
                "status": event.status.value,
                "progress": round(event.progress, 1),
                "version": event.version,
                "files": out.files if event.status is TaskStatus.DONE else [],
            }
        )
    return _frame("status", to_us(event.updated), out.model_dump(mode="json"))


def _replay(runtime: Runtime, caller: Caller, since_us: int) -> list[str]:
    query = TaskFilter(owner=caller.owner)
    page = runtime.tasks.service.list_page(query, page_size=REPLAY_LIMIT)
    changed = [t for t in page.tasks if to_us(t.updated or t.created) > since_us]
    changed.sort(key=lambda t: to_us(t.updated or t.created))
    return [_status_frame(t) for t in changed if t.destroyed is None]


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "task changes, as they happen"},
        **errors(403),
    },
)
async def events(
    request: Request,
    runtime: RuntimeDep,
    caller: Exporter,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID")] = None,
) -> StreamingResponse:
    """A stream of the caller's task changes (``text/event-stream``)."""
    heartbeat: float = request.app.state.heartbeat
    owner = caller.owner
    broker = runtime.tasks.broker
    since = int(last_event_id) if last_event_id and last_event_id.isdigit() else None

    async def stream() -> AsyncIterator[str]:
        subscription = broker.subscribe(accept=lambda e: owner is None or e.owner == owner)
        try:
            yield "retry: 2000\n: connected\n\n"
            if since is not None:
                for frame in await run_in_threadpool(_replay, runtime, caller, since):
                    yield frame
            while not subscription.closed:
                event = await subscription.get_async(heartbeat)
                if event is None:
                    yield ": ping\n\n"
                    continue
                message = await run_in_threadpool(_event_frame, runtime, event)
                if message is not None:
                    yield message
        finally:
            subscription.close()

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
