"""Retention: a finished task's files are deleted once its expiry time has come; the task then
shows EXPIRED and stays in the history.

The expiry is set when the task finishes (web, batch, CLI: ``web_keep`` later, 24 h by default;
API sessions: an hour after the last poll or download, moved by every poll). Maintenance runs
often enough (``maintenance_interval``) that files go within ``web_delete_within`` (48 h).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from footage.domain import Conflict
from footage.tasks.clock import Clock
from footage.tasks.events import EventBroker
from footage.tasks.model import ExportTask
from footage.tasks.store import TaskStore

_BATCH = 500


def expire_due(
    store: TaskStore, broker: EventBroker, clock: Clock, output_root: Path
) -> list[ExportTask]:
    """Delete the files of every task whose time has come, then mark it EXPIRED."""
    now = clock.now()
    expired: list[ExportTask] = []
    while True:
        due = store.due_to_expire(now, limit=_BATCH)
        for task in due:
            shutil.rmtree(Path(output_root) / task.id, ignore_errors=True)
            try:
                ended = store.expire(task.id, now=now)
            except Conflict:
                continue
            broker.publish_task(ended)
            expired.append(ended)
        if len(due) < _BATCH:
            return expired
