"""The task store: a typed protocol of domain operations, with SQLite and PostgreSQL adapters.

Every change of state is one conditional, atomic operation. Operations on a running task take
the ``attempt`` the worker claimed it with, so a worker that was presumed dead (and whose task
was handed to another) cannot overwrite the newer attempt: it gets ``Conflict`` instead.

Legal transitions (anything else raises ``Conflict``)::

    QUEUED  -> RUNNING (claim) | CANCELLED (cancel) | FAILED (stop, e.g. abandoned)
    RUNNING -> DONE (finish) | FAILED (fail, stop) | CANCELLED (cancel, fail)
               | QUEUED (release: re-run from the start)
    DONE    -> EXPIRED (expire)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from footage.tasks.model import (
    ExportTask,
    Failure,
    Keepalive,
    TaskFile,
    TaskFilter,
    TaskPage,
    TaskStatus,
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceLimits:
    """How many exports may run at once per archive source (an NVR allows one or two)."""

    default: int = 1
    per_source: Mapping[str, int] = field(default_factory=dict)

    def limit(self, source: str) -> int:
        return self.per_source.get(source, self.default)


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskChange:
    """What changed in one task: enough for an event stream, cheap to read in bulk."""

    task_id: str
    owner: str
    status: TaskStatus
    progress: float
    version: int
    updated: datetime
    failure_code: str | None = None


class TaskStore(Protocol):
    def enqueue(self, tasks: Sequence[ExportTask]) -> None:
        """Insert new QUEUED tasks, all or none."""
        ...

    def claim(self, *, node: str, now: datetime, limits: SourceLimits) -> ExportTask | None:
        """Atomically take the first queued task (priority, then FIFO) whose source has a free
        slot: it becomes RUNNING on ``node`` with ``attempt + 1``. None when nothing is due."""
        ...

    def heartbeat(self, *, node: str, held: Mapping[str, int], now: datetime) -> set[str]:
        """Mark ``node`` alive for the tasks it holds (id -> attempt); return those still held.

        A task missing from the answer was cancelled, stopped or handed to another worker."""
        ...

    def progress(self, task_id: str, attempt: int, percent: float, now: datetime) -> int | None:
        """Record progress of a running attempt; its new version, or None if no longer held."""
        ...

    def finish(
        self,
        task_id: str,
        attempt: int,
        *,
        files: Sequence[TaskFile],
        now: datetime,
        expires: datetime | None,
    ) -> ExportTask:
        """RUNNING -> DONE with its (already complete and validated) output files."""
        ...

    def finish_and_claim(
        self,
        task_id: str,
        attempt: int,
        *,
        files: Sequence[TaskFile],
        now: datetime,
        expires: datetime | None,
        node: str,
        limits: SourceLimits,
    ) -> tuple[ExportTask, ExportTask | None]:
        """``finish``, then ``claim`` the next task for ``node``, in one transaction: a busy
        worker commits once per task. Raises as ``finish`` does, and then claims nothing.

        The claim sees the finished task's slot free. None when nothing was claimed in that
        transaction: the queue is empty, or (PostgreSQL) another worker won the slot of the
        first eligible task's source; ``claim`` then looks further."""
        ...

    def fail(
        self,
        task_id: str,
        attempt: int,
        *,
        failure: Failure,
        now: datetime,
        status: TaskStatus = TaskStatus.FAILED,
    ) -> ExportTask:
        """RUNNING -> FAILED (or CANCELLED) for the worker holding ``attempt``."""
        ...

    def release(self, task_id: str, attempt: int, *, now: datetime) -> ExportTask:
        """RUNNING -> QUEUED, keeping its place in the queue (to be re-run from the start)."""
        ...

    def stop(
        self, task_id: str, *, status: TaskStatus, failure: Failure, now: datetime
    ) -> ExportTask:
        """QUEUED or RUNNING -> ``status`` (CANCELLED or FAILED), whoever holds it."""
        ...

    def expire(self, task_id: str, *, now: datetime) -> ExportTask:
        """DONE -> EXPIRED (after its files were deleted)."""
        ...

    def destroy(self, task_id: str, *, now: datetime) -> ExportTask:
        """Hide a task from listings for good (its files are removed by the caller)."""
        ...

    def touch(self, task_id: str, *, now: datetime, expires: datetime | None) -> ExportTask:
        """Record a poll or download; a DONE task's expiry moves to ``expires`` when given."""
        ...

    def get(self, task_id: str) -> ExportTask:
        """One task; ``NotFound`` if there is none with this id."""
        ...

    def list_page(
        self, query: TaskFilter, *, limit: int, after: tuple[int, str] | None
    ) -> TaskPage:
        """Newest first, ``limit`` at most, strictly after the (created_us, id) keyset cursor."""
        ...

    def count(self, query: TaskFilter) -> int: ...

    def due_to_expire(self, now: datetime, *, limit: int) -> list[ExportTask]:
        """DONE tasks whose expiry time has come."""
        ...

    def unpolled(
        self, keepalive: Keepalive, *, polled_before: datetime, limit: int
    ) -> list[ExportTask]:
        """Queued or running tasks of ``keepalive`` kind not polled since ``polled_before``."""
        ...

    def stale(self, *, heartbeat_before: datetime, limit: int) -> list[ExportTask]:
        """Running tasks whose worker has not sent a heartbeat since ``heartbeat_before``."""
        ...

    def referenced(self, task_ids: Sequence[str]) -> dict[str, TaskStatus]:
        """The status of each of ``task_ids`` that exists and is not destroyed."""
        ...

    def changes(self, *, since: datetime, limit: int) -> list[TaskChange]:
        """Tasks changed at or after ``since``, oldest change first."""
        ...
