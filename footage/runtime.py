"""The composition root: everything a footage process runs, built from the settings."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from footage.archive.composite import CompositeArchive
from footage.archive.live import LiveStreams
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
        sources = open_sources(settings, self.engine)
        self.local, self.nvr, self.archive, self.live = (
            sources.local,
            sources.nvr,
            sources.archive,
            sources.live,
        )
        self.users = UserStore(self.engine)
        self.tasks = TaskSystem(
            settings=settings,
            engine=self.engine,
            archive=self.archive,
            live=self.live,
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


@dataclass(frozen=True)
class Sources:
    """What every process that exports reads (the server, ``footage worker``): the local
    archive, the NVRs of ``nvr.devices`` (None when unset), the source joining them, and the
    cameras' live streams. The owner closes ``nvr`` when done."""

    local: LocalArchive
    nvr: NvrArchive | None
    archive: ArchiveSource
    live: LiveStreams


def open_sources(settings: Settings, engine: Engine) -> Sources:
    local = LocalArchive(engine, settings.archive_root, settings.archive.gap_tolerance)
    devices = settings.nvr_devices
    if devices is None:
        return Sources(local, None, local, LiveStreams(settings.live.streams))
    if not devices.is_file():
        raise InvalidRequest(f"nvr.devices: the device table {devices} does not exist")
    table = read_devices_table(devices)
    docks = {
        dock: (table.devices[target.device], target.channel) for dock, target in table.docks.items()
    }
    live = LiveStreams.join(settings.live.streams, docks)
    nvr = nvr_archive(table, settings.nvr_cache_dir)
    try:
        return Sources(local, nvr, CompositeArchive([local, nvr]), live)
    except BaseException:
        nvr.close()
        raise
