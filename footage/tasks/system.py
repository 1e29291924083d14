"""All of a process's task machinery, built from the settings: what the server and
``footage worker`` start and stop."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from footage.archive.live import LiveStreams
from footage.archive.source import ArchiveSource
from footage.config import Settings
from footage.tasks.clock import Clock, SystemClock
from footage.tasks.events import EventBroker
from footage.tasks.feed import ChangeFeed
from footage.tasks.maintenance import Maintenance
from footage.tasks.policy import TaskPolicy
from footage.tasks.runner import ExportRunner, free_bytes
from footage.tasks.service import TaskService
from footage.tasks.store import SourceLimits
from footage.tasks.store_sql import SqlTaskStore
from footage.tasks.worker import WorkerPool, node_name


def output_root(settings: Settings) -> Path:
    configured = settings.tasks.output_dir
    return Path(configured).expanduser() if configured else settings.data_dir / "exports"


class TaskSystem:
    """Store, broker, service, workers, maintenance and change feed of one process.

    ``workers`` overrides ``tasks.workers``; ``feed`` follows changes other processes make
    (the server wants it, a worker process does not)."""

    def __init__(
        self,
        *,
        settings: Settings,
        engine: Engine,
        archive: ArchiveSource,
        live: LiveStreams | None = None,
        clock: Clock | None = None,
        workers: int | None = None,
        feed: bool = True,
        maintenance: bool = True,
        free_space: Callable[[Path], int] = free_bytes,
    ) -> None:
        config = settings.tasks
        self.clock = clock or SystemClock()
        self.policy = TaskPolicy.from_settings(config)
        self.output_root = output_root(settings)
        self.store = SqlTaskStore(engine)
        self.broker = EventBroker()
        self.service = TaskService(
            store=self.store,
            broker=self.broker,
            clock=self.clock,
            cameras=archive,
            output_root=self.output_root,
            policy=self.policy,
            live=live or LiveStreams({}),
        )
        self.runner = ExportRunner(
            archive=archive,
            live=live,
            live_timeout=settings.live.connect_timeout,
            output_root=self.output_root,
            min_free_bytes=config.min_free_mb * 1_000_000,
            free_space=free_space,
        )
        self.workers = config.workers if workers is None else workers
        self.pool = WorkerPool(
            store=self.store,
            runner=self.runner,
            broker=self.broker,
            clock=self.clock,
            policy=self.policy,
            node=node_name(config.node),
            concurrency=self.workers,
            limits=SourceLimits(default=config.source_limit, per_source=config.source_limits),
            poll_interval=config.poll_interval,
            heartbeat_interval=config.heartbeat_interval,
        )
        self.maintenance = Maintenance(
            store=self.store,
            broker=self.broker,
            clock=self.clock,
            policy=self.policy,
            output_root=self.output_root,
            interval=config.maintenance_interval,
        )
        self.feed = ChangeFeed(self.store, self.broker, self.clock, interval=config.poll_interval)
        self._use_feed = feed
        self._use_maintenance = maintenance

    def start(self) -> None:
        """Clean up after a previous run, then start the loops."""
        if self._use_maintenance:
            self.maintenance.run_once(deep=True)
            self.maintenance.start()
        if self.workers > 0:
            self.pool.start()
        if self._use_feed:
            self.feed.start()

    def stop(self) -> None:
        """Stop the loops; running exports go back to the queue (or fail, per settings)."""
        self.feed.stop()
        self.pool.stop()
        self.maintenance.stop()

    def __enter__(self) -> TaskSystem:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
