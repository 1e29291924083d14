"""Task change events: an in-process broker that SSE and gRPC streams subscribe to.

Publishers (the service, the workers, the change feed that reads other processes' changes) call
``publish``; each subscriber gets a bounded queue. A slow subscriber loses progress events
(only the newest per task is kept, and none once the queue is full) but never a status change.
Events are deduplicated by (task, version), so a change seen both in-process and by the change
feed is delivered once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from footage.closeable import Closeable
from footage.tasks.model import ExportTask, TaskStatus
from footage.tasks.store import TaskChange


class EventKind(StrEnum):
    STATUS = "status"
    PROGRESS = "progress"


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskEvent:
    kind: EventKind
    task_id: str
    owner: str
    status: TaskStatus
    progress: float
    version: int
    updated: datetime
    failure_code: str | None = None

    @classmethod
    def of(cls, task: ExportTask, kind: EventKind = EventKind.STATUS) -> TaskEvent:
        return cls(
            kind=kind,
            task_id=task.id,
            owner=task.owner,
            status=task.status,
            progress=task.progress,
            version=task.version,
            updated=task.updated or task.created,
            failure_code=task.failure.code if task.failure else None,
        )

    @classmethod
    def of_change(cls, change: TaskChange, kind: EventKind) -> TaskEvent:
        return cls(
            kind=kind,
            task_id=change.task_id,
            owner=change.owner,
            status=change.status,
            progress=change.progress,
            version=change.version,
            updated=change.updated,
            failure_code=change.failure_code,
        )


class Subscription(Closeable):
    """One subscriber's queue. Iterate it (blocking), or ``async for`` it, or call ``get``."""

    def __init__(
        self,
        broker: EventBroker,
        maxsize: int,
        accept: Callable[[TaskEvent], bool] | None,
    ) -> None:
        self._broker = broker
        self._maxsize = maxsize
        self._accept = accept
        self._queue: deque[TaskEvent] = deque()
        self._cond = threading.Condition()
        self._closed = False
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
        self.dropped = 0

    def _offer(self, event: TaskEvent) -> None:
        if self._accept is not None and not self._accept(event):
            return
        with self._cond:
            if self._closed:
                return
            if event.kind is EventKind.PROGRESS and not self._add_progress(event):
                self.dropped += 1
                return
            if event.kind is EventKind.STATUS:
                self._queue.append(event)
            self._cond.notify_all()
            waiters = list(self._waiters)
        for loop, flag in waiters:
            loop.call_soon_threadsafe(flag.set)

    def _add_progress(self, event: TaskEvent) -> bool:
        for index, queued in enumerate(self._queue):
            if queued.kind is EventKind.PROGRESS and queued.task_id == event.task_id:
                self._queue[index] = event  # keep only the newest progress of a task
                return True
        if len(self._queue) >= self._maxsize:
            return False
        self._queue.append(event)
        return True

    def get(self, timeout: float | None = None) -> TaskEvent | None:
        """The next event, or None after ``timeout`` seconds or once closed."""
        with self._cond:
            if not self._queue and not self._closed:
                self._cond.wait(timeout)
            return self._queue.popleft() if self._queue else None

    async def get_async(self, timeout: float | None = None) -> TaskEvent | None:
        """``get`` for asyncio code: waits without blocking the event loop."""
        loop = asyncio.get_running_loop()
        flag = asyncio.Event()
        with self._cond:
            if self._queue or self._closed:
                return self._queue.popleft() if self._queue else None
            self._waiters.append((loop, flag))
        try:
            await asyncio.wait_for(flag.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            with self._cond:
                self._waiters.remove((loop, flag))
        with self._cond:
            return self._queue.popleft() if self._queue else None

    def __iter__(self) -> Iterator[TaskEvent]:
        while (event := self.get()) is not None:
            yield event

    async def __aiter__(self) -> AsyncIterator[TaskEvent]:
        while (event := await self.get_async()) is not None:
            yield event

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        self._broker._remove(self)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            waiters = list(self._waiters)
        for loop, flag in waiters:
            loop.call_soon_threadsafe(flag.set)


class EventBroker:
    """Fans task events out to subscribers; thread-safe; one per process, passed around."""

    def __init__(self, *, remember: int = 10_000) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[Subscription] = []
        self._versions: OrderedDict[str, tuple[int, TaskStatus]] = OrderedDict()
        self._remember = remember

    def subscribe(
        self, *, maxsize: int = 256, accept: Callable[[TaskEvent], bool] | None = None
    ) -> Subscription:
        """A new subscription to events ``accept`` lets through (all when None)."""
        subscription = Subscription(self, maxsize, accept)
        with self._lock:
            self._subscribers.append(subscription)
        return subscription

    def publish(self, event: TaskEvent) -> bool:
        """Deliver ``event`` unless a newer or equal version of its task was delivered.

        A progress event that shows a status other than the last one delivered for its task
        is delivered as a status event (so it is never dropped)."""
        with self._lock:
            seen = self._versions.get(event.task_id)
            if seen is not None and seen[0] >= event.version:
                return False
            if event.kind is EventKind.PROGRESS and (seen is None or seen[1] != event.status):
                event = dataclasses.replace(event, kind=EventKind.STATUS)
            self._versions[event.task_id] = (event.version, event.status)
            self._versions.move_to_end(event.task_id)
            while len(self._versions) > self._remember:
                self._versions.popitem(last=False)
            subscribers = list(self._subscribers)
        for subscription in subscribers:
            subscription._offer(event)
        return True

    def publish_task(self, task: ExportTask, kind: EventKind = EventKind.STATUS) -> bool:
        return self.publish(TaskEvent.of(task, kind))

    def seen_version(self, task_id: str) -> int | None:
        with self._lock:
            seen = self._versions.get(task_id)
        return None if seen is None else seen[0]

    def _remove(self, subscription: Subscription) -> None:
        with self._lock:
            if subscription in self._subscribers:
                self._subscribers.remove(subscription)
