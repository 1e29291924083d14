"""The composition root: everything a footage process runs, built from the settings."""

from __future__ import annotations

from sqlalchemy import Engine

from footage.archive.composite import CompositeArchive
from footage.archive.local.source import LocalArchive
from footage.archive.nvr import NvrArchive
from footage.archive.source import ArchiveSource
from footage.auth import UserStore
from footage.batch.devices_table import nvr_archive, read_devices_table
from footage.batch.service import BatchService
from footage.config import Settings
from footage.db import open_database
from footage.domain import InvalidRequest
from footage.tasks.clock import Clock
from footage.tasks.system import TaskSystem


class Runtime:
    """Database, archive, users, the task system and the batch runs of one process.

    ``archive`` is what exports, the web page and the gRPC API read: the local folder
    (``local``), joined by the cameras of the NVRs of ``nvr.devices`` (``nvr``) when set.
    ``start`` runs the task loops (workers, maintenance, change feed); ``close`` stops them,
    stops batch runs, logs out of the NVRs and releases the database. Usable as a context
    manager.
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
        self.local, self.nvr, self.archive = open_archives(settings, self.engine)
        self.users = UserStore(self.engine)
        self.tasks = TaskSystem(
            settings=settings,
            engine=self.engine,
            archive=self.archive,
            clock=clock,
            workers=workers,
        )
        self.batch = BatchService(settings.batch_dir, default_devices=settings.nvr_devices)

    def start(self) -> None:
        self.tasks.start()

    def close(self) -> None:
        self.tasks.stop()
        self.batch.close()
        if self.nvr is not None:
            self.nvr.close()
        self.engine.dispose()

    def __enter__(self) -> Runtime:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def open_archives(
    settings: Settings, engine: Engine
) -> tuple[LocalArchive, NvrArchive | None, ArchiveSource]:
    """The local archive, the NVRs of ``nvr.devices`` (None when unset), and the source that
    joins them: what every process that exports reads (the server, ``footage worker``).
    The caller closes the NVR archive when done."""
    local = LocalArchive(engine, settings.archive_root, settings.archive.gap_tolerance)
    devices = settings.nvr_devices
    if devices is None:
        return local, None, local
    if not devices.is_file():
        raise InvalidRequest(f"nvr.devices: the device table {devices} does not exist")
    nvr = nvr_archive(read_devices_table(devices), settings.nvr_cache_dir)
    try:
        return local, nvr, CompositeArchive([local, nvr])
    except BaseException:
        nvr.close()
        raise
