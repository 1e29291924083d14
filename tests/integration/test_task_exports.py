"""Export tasks end to end: generated archives, the real media layer, workers in threads."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from footage.archive.local.scan import scan
from footage.archive.local.source import LocalArchive
from footage.config.settings import Settings, TasksSettings
from footage.db import open_database
from footage.domain import TimeRange
from footage.media.probe import probe
from footage.tasks.model import ExportRequest, Origin, TaskKind, TaskStatus
from footage.tasks.system import TaskSystem
from tests.helpers.media import tiny_archive

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
FREE = {"bytes": 10**12}


@pytest.fixture(scope="module")
def archive_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("archive")
    return tiny_archive(root, START, timedelta(minutes=60), cameras=2, stamps="loop", workers=1)


@pytest.fixture
def system(tmp_path: Path, archive_root: Path) -> Iterator[TaskSystem]:
    engine = open_database(f"sqlite:///{tmp_path / 'footage.db'}")
    scan(engine, archive_root)
    settings = Settings(
        data_dir=tmp_path,
        tasks=TasksSettings(poll_interval=0.05, heartbeat_interval=0.1, stale_after=1.0),
    )
    FREE["bytes"] = 10**12
    made = TaskSystem(
        settings=settings,
        engine=engine,
        archive=LocalArchive(engine, archive_root, 0.5),
        free_space=lambda _path: FREE["bytes"],
    )
    with made:
        yield made
    engine.dispose()


def span(start_min: float, minutes: float) -> TimeRange:
    begin = START + timedelta(minutes=start_min)
    return TimeRange(start=begin, end=begin + timedelta(minutes=minutes))


def test_clips_for_several_cameras_are_exported_and_verifiable(system: TaskSystem) -> None:
    request = ExportRequest(camera_id="cam1", range=span(10, 2), format="mp4", audio=False)
    tasks = system.service.submit_many(request, ["cam1", "cam2"], owner="ann", origin=Origin.WEB)
    done = [system.service.wait(task.id, timeout=30) for task in tasks]
    assert [t.status for t in done] == [TaskStatus.DONE, TaskStatus.DONE]
    assert done[1].started is not None and done[0].finished is not None
    assert done[1].started >= done[0].finished  # one export at a time
    for task in done:
        (output,) = task.files
        path = system.output_root / task.id / output.name
        data = path.read_bytes()
        assert (output.size, output.sha256) == (len(data), hashlib.sha256(data).hexdigest())
        assert output.name == f"{task.camera_id}_20260301T081000Z.mp4"
        assert output.mime_type == "video/mp4" and output.first_ts == request.range.start
        assert abs(probe(path).duration_us - 120_000_000) <= 100_000
        with system.service.open_file(task.id, output.name, 1000) as handle:
            assert handle.read(64) == data[1000:1064]
        assert task.node == system.pool.node and task.attempt == 1
    assert sorted(p.name for p in system.output_root.iterdir()) == sorted(t.id for t in done)


def test_pictures_every_ten_seconds(system: TaskSystem) -> None:
    request = ExportRequest(
        camera_id="cam2",
        range=span(5, 1),
        kind=TaskKind.PICTURES,
        format="jpg",
        picture_interval=timedelta(seconds=10),
        file_name="{camera}_{comment}",
        comment="dock4",
    )
    task = system.service.wait(
        system.service.submit(request, owner="ann", origin=Origin.REST).id, 30
    )
    assert task.status is TaskStatus.DONE
    assert [f.name for f in task.files] == [f"cam2_dock4_{n:04d}.jpg" for n in range(1, 7)]
    assert {f.mime_type for f in task.files} == {"image/jpeg"}
    assert task.files[1].first_ts == START + timedelta(minutes=5, seconds=10)


def test_a_running_export_is_cancelled_within_a_second_leaving_nothing(
    system: TaskSystem,
) -> None:
    request = ExportRequest(camera_id="cam1", range=span(0, 60), format="mkv", audio=False)
    task = system.service.submit(request, owner="ann", origin=Origin.WEB)
    deadline = time.monotonic() + 20
    while system.service.get(task.id).progress <= 0:
        assert time.monotonic() < deadline, "the export never reported progress"
        time.sleep(0.01)
    folder = system.output_root / task.id
    assert any(folder.iterdir())  # the export is writing
    cancelled_at = time.monotonic()
    cancelled = system.service.cancel(task.id)
    while system.pool.running():
        time.sleep(0.005)
    stopped_in = time.monotonic() - cancelled_at
    assert stopped_in < 1.0, f"the export ran on for {stopped_in:.2f} s"
    assert cancelled.status is TaskStatus.CANCELLED
    assert not folder.exists()
    final = system.service.get(task.id)
    assert (final.status, final.files, final.progress < 100) == (TaskStatus.CANCELLED, (), True)


def test_no_space_fails_cleanly_then_retry_succeeds(system: TaskSystem) -> None:
    FREE["bytes"] = 50_000_000
    request = ExportRequest(camera_id="cam1", range=span(0, 1))
    failed = system.service.wait(
        system.service.submit(request, owner="ann", origin=Origin.WEB).id, 30
    )
    assert failed.status is TaskStatus.FAILED and failed.failure is not None
    assert failed.failure.code == "no_space"
    assert "only 50 MB free" in failed.failure.message
    FREE["bytes"] = 10**12
    retried = system.service.wait(system.service.retry(failed.id).id, 30)
    assert (retried.status, retried.retry_of) == (TaskStatus.DONE, failed.id)
    assert system.service.get(failed.id).status is TaskStatus.FAILED


def test_a_range_without_recording_fails_with_its_reason(system: TaskSystem) -> None:
    request = ExportRequest(camera_id="cam2", range=span(-30, 5))
    task = system.service.wait(
        system.service.submit(request, owner="ann", origin=Origin.WEB).id, 30
    )
    assert task.failure is not None and task.failure.code == "no_recording"
    assert not (system.output_root / task.id).exists()
    destroyed = system.service.destroy(task.id)
    assert destroyed.destroyed is not None
    assert system.service.list_page().tasks == ()
