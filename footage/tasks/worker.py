"""Workers: threads that claim queued tasks and run them, in the server or in ``footage worker``.

``concurrency`` exports run at once (default one). A heartbeat thread tells the store this node
still holds its tasks and learns which of them were cancelled (or stopped, or handed to another
worker) by anyone, in any process; a watcher thread reacts at once to events of this process.
Stopping the pool cancels the running exports and puts them back in the queue (or fails them
with ``interrupted``, per the policy), to be run again from the start.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
import threading
import time
import uuid
from dataclasses import dataclass

from footage.domain import Conflict, FootageError, NotFound
from footage.media.clip import Cancelled, CancelToken
from footage.tasks.clock import Clock
from footage.tasks.events import EventBroker, EventKind, Subscription, TaskEvent
from footage.tasks.model import ExportTask, Failure, Reason, TaskFile, TaskStatus
from footage.tasks.policy import TaskPolicy
from footage.tasks.runner import TaskRunner
from footage.tasks.store import SourceLimits, TaskStore

log = logging.getLogger(__name__)


def node_name(base: str = "") -> str:
    """A name unique to this process: ``<base or host>/<pid>-<random>``."""
    return f"{base or socket.gethostname()}/{os.getpid()}-{uuid.uuid4().hex[:6]}"


@dataclass
class _Held:
    task: ExportTask
    token: CancelToken


class _Progress:
    """Receives the media layer's progress; records (and publishes) it at most every
    ``every`` seconds, the first time ``first`` seconds in: short exports cost no writes."""

    def __init__(
        self, pool: WorkerPool, task: ExportTask, every: float = 0.5, first: float = 0.2
    ) -> None:
        self._pool = pool
        self._task = task
        self._every = every
        self._next = time.monotonic() + first

    def __call__(self, fraction: float) -> None:
        now = time.monotonic()
        if now < self._next or fraction >= 1.0:  # done is recorded by finish
            return
        self._next = now + self._every
        self._pool._report(self._task, max(0.0, min(1.0, fraction)) * 100)


class WorkerPool:
    def __init__(
        self,
        *,
        store: TaskStore,
        runner: TaskRunner,
        broker: EventBroker,
        clock: Clock,
        policy: TaskPolicy | None = None,
        node: str | None = None,
        concurrency: int = 1,
        limits: SourceLimits | None = None,
        poll_interval: float = 0.5,
        heartbeat_interval: float = 1.0,
    ) -> None:
        self.node = node or node_name()
        self._store = store
        self._runner = runner
        self._broker = broker
        self._clock = clock
        self._policy = policy or TaskPolicy()
        self._concurrency = concurrency
        self._limits = limits or SourceLimits()
        self._poll = poll_interval
        self._beat = heartbeat_interval
        self._held: dict[str, _Held] = {}
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._subscription: Subscription | None = None

    def running(self) -> set[str]:
        """Ids of the tasks this pool is executing right now."""
        with self._lock:
            return set(self._held)

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        if self._threads:
            return
        self._stopping.clear()
        subscription = self._broker.subscribe(maxsize=64, accept=self._concerns)
        self._subscription = subscription
        targets = [self._work] * self._concurrency + [self._heartbeats]
        targets.append(lambda: self._watch(subscription))
        for index, target in enumerate(targets):
            thread = threading.Thread(target=target, name=f"task-worker-{index}", daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        """Cancel what runs, put it back in the queue (or fail it), and wait for the threads."""
        self._stopping.set()
        self._wake.set()
        if self._subscription is not None:
            self._subscription.close()
        with self._lock:
            for held in self._held.values():
                held.token.cancel()
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def __enter__(self) -> WorkerPool:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _work(self) -> None:
        task: ExportTask | None = None
        while not self._stopping.is_set():
            if task is None:
                task = self._claim()
            if task is None:
                self._wake.wait(self._poll)
                self._wake.clear()
                continue
            self._broker.publish_task(task)
            task = self._execute(task)

    def _claim(self) -> ExportTask | None:
        try:
            return self._store.claim(node=self.node, now=self._clock.now(), limits=self._limits)
        except Exception:
            log.exception("claiming a task failed; trying again")
            return None

    def _execute(self, task: ExportTask) -> ExportTask | None:
        """Run ``task`` and record how it ended; the next task, when claimed with its end."""
        token = CancelToken()
        with self._lock:
            self._held[task.id] = _Held(task=task, token=token)
        if self._stopping.is_set():  # claimed as the pool stopped: put it back at once
            token.cancel()
        try:
            if task.attempt > self._policy.max_attempts:
                raise FootageError(
                    f"the export was interrupted {task.attempt - 1} times; not trying again",
                    code=Reason.INTERRUPTED.value,
                )
            files = self._runner.run(task, _Progress(self, task), token)
        except Cancelled:
            self._cancelled(task)
        except FootageError as exc:
            self._end(task, Failure(code=exc.code, message=exc.message))
        except Exception as exc:
            log.exception("export task %s failed unexpectedly", task.id)
            self._end(task, Failure(code=Reason.INTERNAL.value, message=f"unexpected error: {exc}"))
        else:
            return self._finish(task, files)
        finally:
            with self._lock:
                self._held.pop(task.id, None)
            self._wake.set()  # a slot of this source is free again
        return None

    def _finish(self, task: ExportTask, files: list[TaskFile]) -> ExportTask | None:
        """Record the outputs and, unless stopping, claim the next task in the same commit."""
        now = self._clock.now()
        expires = self._policy.expires_on_finish(task, now)
        following: ExportTask | None = None
        try:
            if self._stopping.is_set():
                done = self._store.finish(
                    task.id, task.attempt, files=files, now=now, expires=expires
                )
            else:
                done, following = self._store.finish_and_claim(
                    task.id,
                    task.attempt,
                    files=files,
                    now=now,
                    expires=expires,
                    node=self.node,
                    limits=self._limits,
                )
        except (Conflict, NotFound):
            # cancelled (or taken over) just as it finished: its files must not stay
            self._runner.discard(task)
            return None
        except Exception:  # the store failed: no heartbeat now, so recovery re-runs it
            log.exception("recording the end of task %s failed", task.id)
            return None
        self._broker.publish_task(done)
        return following

    def _cancelled(self, task: ExportTask) -> None:
        if not self._stopping.is_set():
            self._end(task, Failure(code=Reason.CANCELLED.value, message="cancelled"), cancel=True)
            return
        now = self._clock.now()
        try:
            if self._policy.on_interrupt == "fail":
                message = f"footage stopped on {self.node} while the export was running"
                ended = self._store.fail(
                    task.id,
                    task.attempt,
                    failure=Failure(code=Reason.INTERRUPTED.value, message=message),
                    now=now,
                )
            else:
                ended = self._store.release(task.id, task.attempt, now=now)
        except (Conflict, NotFound):
            return
        self._broker.publish_task(ended)

    def _end(self, task: ExportTask, failure: Failure, *, cancel: bool = False) -> None:
        status = TaskStatus.CANCELLED if cancel else TaskStatus.FAILED
        try:
            ended = self._store.fail(
                task.id, task.attempt, failure=failure, now=self._clock.now(), status=status
            )
        except (Conflict, NotFound):
            return  # already cancelled, stopped or taken over: that record stands
        self._broker.publish_task(ended)

    def _report(self, task: ExportTask, percent: float) -> None:
        try:
            version = self._store.progress(task.id, task.attempt, percent, self._clock.now())
        except Exception:
            log.exception("recording progress of task %s failed", task.id)
            return
        if version is not None:
            running = dataclasses.replace(
                task, progress=percent, version=version, updated=self._clock.now()
            )
            self._broker.publish_task(running, EventKind.PROGRESS)

    def _heartbeats(self) -> None:
        while not self._stopping.wait(self._beat):
            with self._lock:
                held = {task_id: h.task.attempt for task_id, h in self._held.items()}
            if not held:
                continue
            try:
                alive = self._store.heartbeat(node=self.node, held=held, now=self._clock.now())
            except Exception:
                log.exception("heartbeat failed; trying again")
                continue
            self._cancel(set(held) - alive)

    def _concerns(self, event: TaskEvent) -> bool:
        """What the watcher reacts to: new work, a freed slot, a stop. Not the end of a task
        this pool records itself (its worker goes on to the next without being woken): the
        watcher's thread then stays asleep while a busy pool finishes task after task."""
        if event.kind is not EventKind.STATUS or event.status is TaskStatus.RUNNING:
            return False
        if event.status is TaskStatus.DONE:
            with self._lock:
                return event.task_id not in self._held
        return True

    def _watch(self, subscription: Subscription) -> None:
        for event in subscription:
            if event.status is TaskStatus.QUEUED or not event.status.active:
                self._wake.set()
            if event.status in (TaskStatus.CANCELLED, TaskStatus.FAILED):
                self._cancel({event.task_id})

    def _cancel(self, task_ids: set[str]) -> None:
        with self._lock:
            for task_id in task_ids:
                held = self._held.get(task_id)
                if held is not None:
                    held.token.cancel()
