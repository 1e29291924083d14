"""Keepalive of API sessions: an export nobody polls any more is stopped as ``abandoned``.

The timeout counts from the submission or the last poll (or download): 5 minutes for a live
clip, 30 minutes for everything else (both configurable). What happens to a finished session's
files (deleted an hour after the last poll or download) is its expiry time, kept by
``retention``.
"""

from __future__ import annotations

from footage.domain import Conflict
from footage.tasks.clock import Clock
from footage.tasks.events import EventBroker
from footage.tasks.model import ExportTask, Failure, Keepalive, Reason, TaskStatus
from footage.tasks.policy import TaskPolicy
from footage.tasks.store import TaskStore

_BATCH = 500


def stop_abandoned(
    store: TaskStore, broker: EventBroker, clock: Clock, policy: TaskPolicy
) -> list[ExportTask]:
    """Stop every queued or running API session whose poll timeout has passed."""
    now = clock.now()
    stopped: list[ExportTask] = []
    for kind in (Keepalive.API_LIVE, Keepalive.API_OTHER):
        timeout = policy.poll_timeout(kind)
        assert timeout is not None
        for task in store.unpolled(kind, polled_before=now - timeout, limit=_BATCH):
            failure = Failure(
                code=Reason.ABANDONED.value,
                message=f"stopped: the session was not polled for {timeout}",
            )
            try:
                ended = store.stop(task.id, status=TaskStatus.FAILED, failure=failure, now=now)
            except Conflict:
                continue  # it ended meanwhile
            broker.publish_task(ended)
            stopped.append(ended)
    return stopped
