"""The composition root: everything a footage process runs, built from the settings."""

from __future__ import annotations

from sqlalchemy import Engine

from footage.archive.local.source import LocalArchive
from footage.auth import UserStore
from footage.config import Settings
from footage.db import open_database
from footage.tasks.clock import Clock
from footage.tasks.system import TaskSystem


class Runtime:
    """Database, archive, users and the task system of one process.

    ``start`` runs the task loops (workers, maintenance, change feed); ``close`` stops them
    and releases the database. Usable as a context manager.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        engine: Engine | None = None,
        clock: Clock | None = None,
        workers: int | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine or open_database(settings.database_url)
        self.archive = LocalArchive(
            self.engine, settings.archive_root, settings.archive.gap_tolerance
        )
        self.users = UserStore(self.engine)
        self.tasks = TaskSystem(
            settings=settings,
            engine=self.engine,
            archive=self.archive,
            clock=clock,
            workers=workers,
        )

    def start(self) -> None:
        self.tasks.start()

    def close(self) -> None:
        self.tasks.stop()
        self.engine.dispose()

    def __enter__(self) -> Runtime:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()
