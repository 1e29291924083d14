"""Crash recovery: ``footage worker`` processes killed with SIGKILL in the middle of exports."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from footage.archive.local.scan import scan
from footage.archive.local.source import LocalArchive
from footage.db import open_database
from footage.domain import TimeRange
from footage.tasks.clock import SystemClock
from footage.tasks.events import EventBroker
from footage.tasks.model import ExportRequest, ExportTask, Origin, TaskFilter, TaskStatus
from footage.tasks.policy import TaskPolicy
from footage.tasks.service import TaskService
from footage.tasks.store_sql import SqlTaskStore
from tests.helpers.commands import clean_env
from tests.helpers.media import tiny_archive

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
WORKER = (
    "from footage.cli import app; from footage.cli.worker import register; register(app); app()"
)


@pytest.fixture(scope="module")
def archive_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("archive")
    return tiny_archive(root, START, timedelta(minutes=60), cameras=2, stamps="loop", workers=1)


class Site:
    """A data folder with a database, a config file and a service, as the server would have."""

    def __init__(self, tmp_path: Path, archive_root: Path, on_interrupt: str) -> None:
        self.data = tmp_path / "data"
        self.config = tmp_path / "footage.toml"
        self.config.write_text(
            f'data_dir = "{self.data}"\n'
            f'[archive]\nroot = "{archive_root}"\n'
            "[tasks]\nmin_free_mb = 0\npoll_interval = 0.1\nheartbeat_interval = 0.2\n"
            f'stale_after = 1.0\nmaintenance_interval = 5.0\non_interrupt = "{on_interrupt}"\n'
            "max_attempts = 10\n"
        )
        self.engine: Engine = open_database(f"sqlite:///{self.data / 'footage.db'}")
        scan(self.engine, archive_root)
        self.exports = self.data / "exports"
        self.service = TaskService(
            store=SqlTaskStore(self.engine),
            broker=EventBroker(),
            clock=SystemClock(),
            cameras=LocalArchive(self.engine, archive_root, 0.5),
            output_root=self.exports,
            policy=TaskPolicy(),
        )
        self.log = tmp_path / "worker.log"

    def submit(self, camera: str, start_min: int, minutes: int) -> ExportTask:
        begin = START + timedelta(minutes=start_min)
        request = ExportRequest(
            camera_id=camera,
            range=TimeRange(start=begin, end=begin + timedelta(minutes=minutes)),
            format="mkv",
            audio=False,
        )
        return self.service.submit(request, owner="ops", origin=Origin.WEB)

    def worker(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as log:
            return subprocess.Popen(
                [sys.executable, "-c", WORKER, "--config", str(self.config), "worker"],
                env=clean_env(),
                stdout=log,
                stderr=log,
            )

    def started(self, count: int, timeout: float = 30) -> None:
        """Wait until ``count`` workers have said they run (each prints one line)."""
        deadline = time.monotonic() + timeout
        while self.log.read_text().count("at once, writing to") < count:
            assert time.monotonic() < deadline, self.log.read_text()
            time.sleep(0.02)

    def tasks(self) -> list[ExportTask]:
        return list(self.service.list_page(TaskFilter(), page_size=100).tasks)

    def wait_all_ended(self, timeout: float) -> list[ExportTask]:
        deadline = time.monotonic() + timeout
        while True:
            tasks = self.tasks()
            if not any(t.status.active for t in tasks):
                return tasks
            assert time.monotonic() < deadline, f"not finished: {tasks}\n{self.log.read_text()}"
            time.sleep(0.1)

    def leftovers(self) -> list[str]:
        return sorted(
            p.name
            for p in self.exports.rglob("*")
            if p.name.startswith(".") or p.name.endswith((".part", ".tmp"))
        )


def stop(process: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    process.send_signal(sig)
    process.wait(timeout=30)


@pytest.mark.slow
def test_workers_killed_at_random_moments_lose_nothing(tmp_path: Path, archive_root: Path) -> None:
    site = Site(tmp_path, archive_root, "requeue")
    # half-hour clips (about 0.4 s of work each): the kills, 0.1 to 1.5 s after a worker
    # starts, must find exports running, however fast the media layer gets
    submitted = [site.submit(f"cam{1 + n % 2}", n * 5, 30) for n in range(6)]
    rng = random.Random(int.from_bytes(os.urandom(4), "big"))
    interrupted: set[str] = set()
    try:
        for kill in range(5):
            worker = site.worker()
            site.started(kill + 1)
            time.sleep(rng.uniform(0.1, 1.5))
            stop(worker)
            tasks = site.tasks()
            assert sorted(t.id for t in tasks) == sorted(t.id for t in submitted)
            interrupted |= {t.id for t in tasks if t.status is TaskStatus.RUNNING}
        worker = site.worker()
        tasks = site.wait_all_ended(timeout=90)
        stop(worker, signal.SIGTERM)
    finally:
        site.engine.dispose()
    assert [t.status for t in tasks] == [TaskStatus.DONE] * 6, site.log.read_text()
    assert interrupted, "no kill landed while an export was running"
    for task in tasks:
        assert (task.attempt > 1) == (task.id in interrupted)
        (output,) = task.files
        data = (site.exports / task.id / output.name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == output.sha256
    assert site.leftovers() == []
    assert sorted(p.name for p in site.exports.iterdir()) == sorted(t.id for t in tasks)


@pytest.mark.slow
def test_when_so_configured_an_interrupted_export_fails(tmp_path: Path, archive_root: Path) -> None:
    site = Site(tmp_path, archive_root, "fail")
    try:
        long = site.submit("cam1", 0, 60)
        queued = site.submit("cam2", 0, 1)
        worker = site.worker()
        deadline = time.monotonic() + 30
        while site.service.get(long.id).progress <= 0:
            assert time.monotonic() < deadline, site.log.read_text()
            time.sleep(0.05)
        stop(worker)
        assert site.leftovers() != []  # the killed export left its temporary file
        assert site.service.get(queued.id).status is TaskStatus.QUEUED
        worker = site.worker()
        tasks = {t.id: t for t in site.wait_all_ended(timeout=60)}
        stop(worker, signal.SIGTERM)
    finally:
        site.engine.dispose()
    failed = tasks[long.id]
    assert failed.status is TaskStatus.FAILED and failed.failure is not None
    assert failed.failure.code == "interrupted"
    assert tasks[queued.id].status is TaskStatus.DONE
    assert site.leftovers() == []
    assert not (site.exports / long.id).exists()
