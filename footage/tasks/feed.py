"""The change feed: brings changes made by other processes (a ``footage worker``) to the broker.

Once per ``interval`` it asks the store for tasks changed since shortly before the newest change
it has seen: one cheap indexed query. The ``lookback`` covers transactions that committed after
a later-stamped one; the broker drops the versions it has already delivered.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from footage.tasks.clock import Clock
from footage.tasks.events import EventBroker, EventKind, TaskEvent
from footage.tasks.loop import BackgroundLoop
from footage.tasks.store import TaskStore

log = logging.getLogger(__name__)
_BATCH = 1000


class ChangeFeed(BackgroundLoop):
    thread_name = "task-feed"

    def __init__(
        self,
        store: TaskStore,
        broker: EventBroker,
        clock: Clock,
        *,
        interval: float = 0.5,
        lookback: timedelta = timedelta(seconds=1),
    ) -> None:
        self._store = store
        self._broker = broker
        self._interval = interval
        self._lookback = lookback
        self._newest: datetime = clock.now()
        super().__init__()

    def poll(self) -> int:
        """Publish what changed since the last poll; how many events were new."""
        delivered = 0
        since = self._newest - self._lookback
        while True:
            changes = self._store.changes(since=since, limit=_BATCH)
            for change in changes:
                event = TaskEvent.of_change(change, EventKind.PROGRESS)
                delivered += self._broker.publish(event)
                self._newest = max(self._newest, change.updated)
            if len(changes) < _BATCH or changes[-1].updated <= since:
                return delivered
            since = changes[-1].updated

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.poll()
            except Exception:  # keep following; the next poll retries
                log.exception("reading task changes failed")
