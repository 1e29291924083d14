"""Recovery after a crash or restart.

Queued tasks keep their place (the queue is the database). Tasks whose worker stopped sending
heartbeats are run again from the start (their next claim counts attempt + 1) or, when so
configured or after ``max_attempts``, failed with the reason ``interrupted``. Leftovers on disk
(temporary files, folders of tasks that failed, were cancelled, expired or destroyed) go.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from footage.domain import Conflict, NotFound
from footage.tasks.clock import Clock
from footage.tasks.events import EventBroker
from footage.tasks.model import ExportTask, Failure, Reason, TaskStatus
from footage.tasks.policy import TaskPolicy
from footage.tasks.store import TaskStore

_BATCH = 500
_ENDED_WITHOUT_FILES = (TaskStatus.FAILED, TaskStatus.CANCELLED, TaskStatus.EXPIRED)


def recover_stale(
    store: TaskStore, broker: EventBroker, clock: Clock, policy: TaskPolicy, output_root: Path
) -> list[ExportTask]:
    """Re-queue (or fail) running tasks whose worker has not been heard of for a while.

    A failed one's folder (with the dead worker's temporary files) goes at once; a re-queued
    one's is emptied by its next attempt."""
    now = clock.now()
    recovered: list[ExportTask] = []
    for task in store.stale(heartbeat_before=now - policy.stale_after, limit=_BATCH):
        try:
            if policy.on_interrupt == "fail" or task.attempt >= policy.max_attempts:
                message = (
                    f"the worker {task.node} stopped while the export was running "
                    f"(attempt {task.attempt} of {policy.max_attempts})"
                )
                failure = Failure(code=Reason.INTERRUPTED.value, message=message)
                ended = store.fail(task.id, task.attempt, failure=failure, now=now)
                shutil.rmtree(Path(output_root) / task.id, ignore_errors=True)
            else:
                ended = store.release(task.id, task.attempt, now=now)
        except (Conflict, NotFound):
            continue  # its worker came back, or someone else recovered it
        broker.publish_task(ended)
        recovered.append(ended)
    return recovered


def is_temporary(path: Path) -> bool:
    """Names the media layer writes before the final rename (``.x.tmp``, ``x.part``)."""
    name = path.name
    return name.startswith(".") or name.endswith((".part", ".tmp"))


def clean_outputs(store: TaskStore, output_root: Path, *, deep: bool = False) -> int:
    """Remove what no task owns any more; how many files and folders went.

    Folders of queued and running tasks are left alone (a worker may be writing there). With
    ``deep``, temporary files inside finished tasks' folders go too (after a crash)."""
    root = Path(output_root)
    if not root.is_dir():
        return 0
    entries = sorted(root.iterdir())
    folders = [entry for entry in entries if entry.is_dir()]
    statuses = store.referenced([folder.name for folder in folders])
    removed = 0
    for entry in entries:
        if not entry.is_dir():
            if is_temporary(entry):
                entry.unlink(missing_ok=True)
                removed += 1
            continue
        status = statuses.get(entry.name)
        if status is None or status in _ENDED_WITHOUT_FILES:
            shutil.rmtree(entry, ignore_errors=True)
            removed += 1
        elif status is TaskStatus.DONE and deep:
            removed += _clean_done(store, entry)
    return removed


def _clean_done(store: TaskStore, folder: Path) -> int:
    try:
        task = store.get(folder.name)
    except NotFound:
        return 0
    outputs = {folder / f.name for f in task.files}
    removed = 0
    for path in sorted(folder.rglob("*"), reverse=True):
        if path.is_file() and path not in outputs:
            path.unlink(missing_ok=True)
            removed += 1
    return removed
