"""Export sessions of the gRPC API on top of the task service.

A session is the tasks one ``StartSession`` created: one per camera. Its id is the task's id
for one camera, or the tasks' ids joined by ``+`` for several, so a session needs no table of
its own and every camera's export is also addressable as a session by itself (``ListSessions``
lists those). Only tasks created through gRPC are sessions; another user's session is
reported as not found (an administrator sees every session).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import BinaryIO

from footage.api.grpc.convert import StartPlan
from footage.auth import Permission, User
from footage.domain import Conflict, InvalidRequest, NotFound
from footage.tasks.model import ExportTask, Origin, TaskFilter, TaskPage, TaskStatus
from footage.tasks.service import TaskService

SEPARATOR = "+"
_TASK_ID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
_DRIVE = re.compile(r"^[A-Za-z]:")


def session_id(tasks: Sequence[ExportTask]) -> str:
    return SEPARATOR.join(task.id for task in tasks)


def parse_session_id(text: str) -> tuple[str, ...]:
    """The task ids a session id stands for; ``InvalidRequest`` if it cannot be one."""
    if not text:
        raise InvalidRequest("session_id is empty; pass the id StartSession answered")
    parts = tuple(text.split(SEPARATOR))
    if not all(_TASK_ID.match(part) for part in parts) or len(set(parts)) != len(parts):
        raise InvalidRequest(
            f"session_id {text[:200]!r} is not a session id (a UUID, or UUIDs joined by '+')"
        )
    return parts


def check_path(path: str) -> str:
    """Refuse what can only be an attempt to leave the session's folder."""
    if not path:
        raise InvalidRequest("file_path is empty; pass a path from the session's result.files")
    parts = path.split("/")
    if (
        path.startswith(("/", "\\"))
        or _DRIVE.match(path)
        or "\\" in path
        or "\x00" in path
        or any(part in ("", ".", "..") for part in parts)
    ):
        raise InvalidRequest(
            f"file_path {path[:200]!r} is not a path of a session file: paths are relative, "
            "without '..', as result.files lists them"
        )
    return path


@dataclass(frozen=True, slots=True)
class OpenFile:
    handle: BinaryIO
    size: int
    task_id: str


class Sessions:
    def __init__(self, service: TaskService) -> None:
        self._service = service

    @staticmethod
    def _owner(user: User) -> str | None:
        return None if user.is_admin else user.name

    def start(self, plan: StartPlan, user: User) -> str:
        user.require(Permission.EXPORT)
        for camera_id in plan.camera_ids:
            user.require(Permission.EXPORT, camera_id)
        tasks = self._service.submit_many(
            plan.request, list(plan.camera_ids), owner=user.name, origin=Origin.GRPC
        )
        return session_id(tasks)

    def tasks(self, text: str, user: User) -> list[ExportTask]:
        """The session's tasks, in its order; ``NotFound`` unless all are the user's."""
        owner = self._owner(user)
        tasks = []
        for task_id in parse_session_id(text):
            try:
                task = self._service.get(task_id, owner=owner)
            except NotFound:
                task = None
            if task is None or task.origin is not Origin.GRPC:
                raise NotFound(f"there is no session {text[:200]}")
            tasks.append(task)
        return tasks

    def poll(self, text: str, user: User) -> list[ExportTask]:
        """The tasks, after resetting their keepalive and download timers (a poll)."""
        return [
            task if task.destroyed is not None else self._service.touch(task.id)
            for task in self.tasks(text, user)
        ]

    @property
    def max_range(self) -> timedelta:
        return self._service.max_range

    def stop(self, text: str, user: User) -> list[ExportTask]:
        user.require(Permission.EXPORT)
        stopped = []
        for task in self.tasks(text, user):
            if task.status.active:
                try:
                    task = self._service.stop(task.id, by=user.name)
                except Conflict:
                    task = self._service.get(task.id)  # it ended meanwhile
            stopped.append(task)
        return stopped

    def destroy(self, text: str, user: User) -> None:
        user.require(Permission.EXPORT)
        for task in self.tasks(text, user):
            if task.destroyed is None:
                self._service.destroy(task.id)

    def page(self, user: User, *, size: int, token: str | None) -> TaskPage:
        query = TaskFilter(owner=self._owner(user), origin=Origin.GRPC)
        return self._service.list_page(query, page_size=size, page_token=token)

    def open(self, text: str, path: str, offset: int, user: User) -> OpenFile:
        """Output ``path`` of a completed session, opened at ``offset`` (a download)."""
        user.require(Permission.EXPORT)
        check_path(path)
        tasks = self.tasks(text, user)
        if len(tasks) == 1:
            task, name = tasks[0], path
        else:
            camera, _, name = path.partition("/")
            found = [t for t in tasks if t.camera_id == camera]
            if not found or not name:
                raise NotFound(f"session {text[:200]} has no file {path!r}")
            task = found[0]
        if task.destroyed is not None or task.status is TaskStatus.EXPIRED:
            why = "destroyed" if task.destroyed is not None else "removed (not downloaded in time)"
            raise NotFound(f"session {text[:200]} was {why}; its files are gone")
        if task.status.active:
            raise Conflict(
                f"session {text[:200]} is still {task.status.value}; download its files once "
                "GetSessionState says S_COMPLETED"
            )
        known = next((f for f in task.files if f.name == name), None)
        if known is not None and offset > known.size:
            raise InvalidRequest(
                f"the download would start at byte {offset}, past the end of {path!r} "
                f"({known.size} bytes)"
            )
        handle = self._service.open_file(task.id, name, offset)
        return OpenFile(handle=handle, size=os.fstat(handle.fileno()).st_size, task_id=task.id)

    def touch(self, task_id: str) -> None:
        self._service.touch(task_id)
