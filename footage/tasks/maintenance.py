"""The periodic maintenance loop: recovery, keepalive, retention and leftover cleanup.

Recovery of dead workers runs every tick (a third of ``stale_after``, so a crashed worker's
export restarts soon); the rest runs every ``interval``. Every step is a conditional store
operation, so several processes may run maintenance on one database at once.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

from footage.tasks.clock import Clock
from footage.tasks.events import EventBroker
from footage.tasks.keepalive import stop_abandoned
from footage.tasks.loop import BackgroundLoop
from footage.tasks.policy import TaskPolicy
from footage.tasks.recovery import clean_outputs, recover_stale
from footage.tasks.retention import expire_due
from footage.tasks.store import TaskStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True, kw_only=True)
class MaintenanceReport:
    recovered: int = 0
    abandoned: int = 0
    expired: int = 0
    cleaned: int = 0


class Maintenance(BackgroundLoop):
    thread_name = "task-maintenance"

    def __init__(
        self,
        *,
        store: TaskStore,
        broker: EventBroker,
        clock: Clock,
        policy: TaskPolicy,
        output_root: Path,
        interval: float = 60.0,
    ) -> None:
        self._store = store
        self._broker = broker
        self._clock = clock
        self._policy = policy
        self._root = Path(output_root)
        self._interval = interval
        self._tick = min(interval, max(0.05, policy.stale_after.total_seconds() / 3))
        super().__init__()

    def recover(self) -> int:
        recovered = recover_stale(self._store, self._broker, self._clock, self._policy, self._root)
        return len(recovered)

    def run_once(self, *, deep: bool = False) -> MaintenanceReport:
        """One full pass; ``deep`` also cleans temporary files in finished tasks' folders."""
        return MaintenanceReport(
            recovered=self.recover(),
            abandoned=len(stop_abandoned(self._store, self._broker, self._clock, self._policy)),
            expired=len(expire_due(self._store, self._broker, self._clock, self._root)),
            cleaned=clean_outputs(self._store, self._root, deep=deep),
        )

    def _run(self) -> None:
        last_full = time.monotonic()
        while not self._stop.wait(self._tick):
            try:
                if time.monotonic() - last_full >= self._interval:
                    last_full = time.monotonic()
                    self.run_once()
                else:
                    self.recover()
            except Exception:
                log.exception("task maintenance failed; trying again")
