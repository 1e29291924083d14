"""The Python API of export tasks, which the web, REST, gRPC, batch and CLI layers call."""

from __future__ import annotations

import shutil
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import BinaryIO, Protocol

from footage.archive.live import LiveStreams
from footage.domain import Camera, Conflict, InvalidRequest, NotFound, TimeRange
from footage.tasks.clock import Clock
from footage.tasks.events import EventBroker, EventKind
from footage.tasks.ids import TaskIds
from footage.tasks.model import (
    ExportRequest,
    ExportTask,
    Failure,
    Keepalive,
    Origin,
    Reason,
    TaskFilter,
    TaskPage,
    TaskStatus,
)
from footage.tasks.naming import file_stem, stop_marker
from footage.tasks.paging import decode_token
from footage.tasks.policy import TaskPolicy
from footage.tasks.store import TaskStore

MAX_PAGE = 1000


class CameraDirectory(Protocol):
    """The part of an archive source the service needs (any ``ArchiveSource`` is one)."""

    def camera(self, camera_id: str) -> Camera: ...


class TaskService:
    """Submit, follow, cancel, retry, destroy and download export tasks.

    ``owner`` arguments restrict an operation to that user's tasks (another user's task is
    reported as not found); None means any task (an administrator or a trusted caller).
    """

    def __init__(
        self,
        *,
        store: TaskStore,
        broker: EventBroker,
        clock: Clock,
        cameras: CameraDirectory,
        output_root: Path,
        policy: TaskPolicy | None = None,
        live: LiveStreams | None = None,
    ) -> None:
        self._live = live
        self._store = store
        self._broker = broker
        self._clock = clock
        self._cameras = cameras
        self._root = Path(output_root)
        self._policy = policy or TaskPolicy()
        self._ids = TaskIds()

    @property
    def output_root(self) -> Path:
        return self._root

    @property
    def max_range(self) -> timedelta:
        """The longest interval one export may cover (``tasks.max_range``)."""
        return self._policy.max_range

    def submit(
        self,
        request: ExportRequest,
        *,
        owner: str,
        origin: Origin,
        priority: int = 0,
        keepalive: Keepalive | None = None,
    ) -> ExportTask:
        """Queue one export; raises ``NotFound`` for an unknown camera, ``InvalidRequest``."""
        return self.submit_many(
            request,
            [request.camera_id],
            owner=owner,
            origin=origin,
            priority=priority,
            keepalive=keepalive,
        )[0]

    def submit_many(
        self,
        request: ExportRequest,
        camera_ids: Sequence[str],
        *,
        owner: str,
        origin: Origin,
        priority: int = 0,
        keepalive: Keepalive | None = None,
    ) -> list[ExportTask]:
        """One task per camera with the same parameters, queued in this order, all or none."""
        if not camera_ids:
            raise InvalidRequest("no camera selected; choose at least one camera")
        if len(set(camera_ids)) != len(camera_ids):
            raise InvalidRequest("a camera is selected more than once")
        requests = [request.for_camera(camera_id) for camera_id in camera_ids]
        return self.submit_batch(
            requests, owner=owner, origin=origin, priority=priority, keepalive=keepalive
        )

    def submit_batch(
        self,
        requests: Sequence[ExportRequest],
        *,
        owner: str,
        origin: Origin,
        priority: int = 0,
        keepalive: Keepalive | None = None,
    ) -> list[ExportTask]:
        """Queue many exports (e.g. the rows of a batch run) in this order, all or none."""
        if not owner:
            raise InvalidRequest("a task needs an owner")
        now = self._clock.now()
        cameras: dict[str, Camera] = {}
        tasks = []
        for request in requests:
            if request.range.duration > self._policy.max_range:
                raise InvalidRequest(
                    f"the export interval {request.range.duration} is longer than the "
                    f"{self._policy.max_range} allowed; export a shorter interval"
                )
            if request.camera_id not in cameras:
                cameras[request.camera_id] = self._cameras.camera(request.camera_id)
            if request.live and self._live is not None:
                self._live.url(request.camera_id)  # says how to give it one if it has none
            tasks.append(
                self._new_task(
                    request,
                    cameras[request.camera_id],
                    owner=owner,
                    origin=origin,
                    priority=priority,
                    keepalive=keepalive or self._policy.keepalive_for(origin, request),
                    now=now,
                )
            )
        self._store.enqueue(tasks)
        for task in tasks:
            self._broker.publish_task(task)
        return tasks

    def _new_task(
        self,
        request: ExportRequest,
        camera: Camera,
        *,
        owner: str,
        origin: Origin,
        priority: int,
        keepalive: Keepalive,
        now: datetime,
        retry_of: str | None = None,
    ) -> ExportTask:
        task_id = self._ids.new(now)
        return ExportTask(
            id=task_id,
            owner=owner,
            origin=origin,
            request=request,
            camera_name=camera.name,
            source=camera.source,
            file_stem=file_stem(request, camera_name=camera.name, task_id=task_id),
            created=now,
            priority=priority,
            keepalive=keepalive,
            polled=now,
            updated=now,
            retry_of=retry_of,
            version=1,
        )

    def get(self, task_id: str, *, owner: str | None = None) -> ExportTask:
        task = self._store.get(task_id)
        if owner is not None and task.owner != owner:
            raise NotFound(f"there is no task {task_id}")
        return task

    def list_page(
        self, query: TaskFilter | None = None, *, page_size: int = 10, page_token: str | None = None
    ) -> TaskPage:
        """Newest first; ``next_token`` of one page fetches the next, even as tasks arrive."""
        if not 1 <= page_size <= MAX_PAGE:
            raise InvalidRequest(f"page_size must be from 1 to {MAX_PAGE}")
        after = decode_token(page_token) if page_token else None
        return self._store.list_page(query or TaskFilter(), limit=page_size, after=after)

    def count(self, query: TaskFilter | None = None) -> int:
        return self._store.count(query or TaskFilter())

    def stop(self, task_id: str, *, owner: str | None = None, by: str = "") -> ExportTask:
        """End a task as asked: a running live recording "until stopped" finishes and keeps
        what it recorded (its status follows within a moment); anything else is cancelled."""
        task = self.get(task_id, owner=owner)
        if task.request.until_stopped and task.status is TaskStatus.RUNNING:
            marker = stop_marker(self._root, task.id)
            marker.parent.mkdir(parents=True, exist_ok=True)
            marker.touch()
            return task
        return self.cancel(task_id, owner=owner, by=by)

    def cancel(self, task_id: str, *, owner: str | None = None, by: str = "") -> ExportTask:
        """Cancel a queued or running task (a running export stops within a second)."""
        task = self.get(task_id, owner=owner)
        who = by or owner or task.owner
        failure = Failure(code=Reason.CANCELLED.value, message=f"cancelled by {who}")
        done = self._store.stop(
            task.id, status=TaskStatus.CANCELLED, failure=failure, now=self._clock.now()
        )
        self._broker.publish_task(done)
        return done

    def retry(self, task_id: str, *, owner: str | None = None) -> ExportTask:
        """A new task with the same parameters; the old one stays, linked by ``retry_of``."""
        old = self.get(task_id, owner=owner)
        if not old.status.retryable or old.destroyed is not None:
            raise Conflict(
                f"task {task_id} is {old.status.value}; only failed, cancelled or expired "
                "tasks can be retried"
            )
        camera = Camera(id=old.camera_id, name=old.camera_name, source=old.source)
        now = self._clock.now()
        request = old.request
        if request.live:  # live records from the moment it runs: the same length, from now
            length = request.range.duration
            request = replace(request, range=TimeRange(start=now, end=now + length))
        task = self._new_task(
            request,
            camera,
            owner=old.owner,
            origin=old.origin,
            priority=old.priority,
            keepalive=old.keepalive,
            now=now,
            retry_of=old.id,
        )
        self._store.enqueue([task])
        self._broker.publish_task(task)
        return task

    def destroy(self, task_id: str, *, owner: str | None = None) -> ExportTask:
        """Stop the task if needed, delete its files and hide it from every listing."""
        task = self.get(task_id, owner=owner)
        if task.status.active:
            try:
                self.cancel(task.id, by=owner or task.owner)
            except Conflict:
                pass  # it ended meanwhile
        gone = self._store.destroy(task.id, now=self._clock.now())
        shutil.rmtree(self.folder(task.id), ignore_errors=True)
        self._broker.publish_task(gone)
        return gone

    def touch(self, task_id: str, *, owner: str | None = None) -> ExportTask:
        """A poll (GetSessionState) or a download: resets the session's keepalive clocks."""
        task = self.get(task_id, owner=owner)
        now = self._clock.now()
        return self._store.touch(task.id, now=now, expires=self._policy.expires_on_touch(task, now))

    def folder(self, task_id: str) -> Path:
        return self._root / task_id

    def file_path(self, task_id: str, name: str, *, owner: str | None = None) -> Path:
        """The path of output ``name`` of a DONE task; never a path outside its folder."""
        task = self.get(task_id, owner=owner)
        if task.destroyed is not None:
            raise NotFound(f"task {task_id} was destroyed; its files are gone")
        if task.status is not TaskStatus.DONE:
            raise Conflict(f"task {task_id} is {task.status.value}; it has no files to download")
        if name not in {f.name for f in task.files}:
            raise NotFound(f"task {task_id} has no file {name!r}")
        folder = self.folder(task.id).resolve()
        path = (folder / name).resolve()
        if not path.is_relative_to(folder) or not path.is_file():
            raise NotFound(f"the file {name!r} of task {task_id} is missing")
        return path

    def open_file(
        self, task_id: str, name: str, offset: int = 0, *, owner: str | None = None
    ) -> BinaryIO:
        """The output file ``name`` opened for reading at ``offset`` (resumable downloads)."""
        path = self.file_path(task_id, name, owner=owner)
        size = path.stat().st_size
        if not 0 <= offset <= size:
            raise InvalidRequest(f"offset {offset} is outside {name!r} ({size} bytes)")
        handle = path.open("rb")
        handle.seek(offset)
        self.touch(task_id)
        return handle

    def wait(
        self, task_id: str, timeout: float | None = None, *, recheck: float = 1.0
    ) -> ExportTask:
        """The task once it has ended (or as it is when ``timeout`` seconds have passed).

        Woken by the event broker; re-reads the store every ``recheck`` seconds so changes
        made by another process are seen without a change feed too."""
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._broker.subscribe(
            accept=lambda e: e.task_id == task_id and e.kind is EventKind.STATUS
        ) as events:
            while True:
                task = self._store.get(task_id)
                if not task.status.active:
                    return task
                left = recheck if deadline is None else min(recheck, deadline - time.monotonic())
                if left <= 0:
                    return task
                events.get(left)
