"""Service, workers, keepalive, retention and recovery on a real SQLite store, with a scripted
runner and a manual clock (no export media, no sleeping for minutes)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from footage.db import open_database
from footage.domain import Camera, Conflict, InvalidRequest, NotFound, TimeRange
from footage.media.clip import CancelToken
from footage.tasks.clock import ManualClock
from footage.tasks.events import EventBroker, EventKind
from footage.tasks.feed import ChangeFeed
from footage.tasks.keepalive import stop_abandoned
from footage.tasks.maintenance import Maintenance
from footage.tasks.model import (
    ExportRequest,
    ExportTask,
    Origin,
    TaskFile,
    TaskFilter,
    TaskStatus,
)
from footage.tasks.policy import TaskPolicy
from footage.tasks.runner import Progress
from footage.tasks.service import TaskService
from footage.tasks.store import SourceLimits
from footage.tasks.store_sql import SqlTaskStore
from footage.tasks.worker import WorkerPool

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
SPAN = TimeRange(start=T0 - timedelta(hours=2), end=T0 - timedelta(hours=1, minutes=50))


class Cameras:
    def camera(self, camera_id: str) -> Camera:
        if camera_id == "missing":
            raise NotFound("there is no camera missing")
        source = "nvr" if camera_id.startswith("nvr") else "local"
        return Camera(id=camera_id, name=camera_id.upper(), source=source)


class ScriptedRunner:
    """Runs until ``release`` is set (or cancelled); writes one small file."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.release = threading.Event()
        self.started: queue.Queue[str] = queue.Queue()
        self.discarded: list[str] = []

    def run(self, task: ExportTask, progress: Progress, cancel: CancelToken) -> list[TaskFile]:
        folder = self.root / task.id
        folder.mkdir(parents=True, exist_ok=True)
        self.started.put(task.id)
        begun, reported = time.monotonic(), False
        while not self.release.wait(0.01):
            cancel.check()
            if not reported and time.monotonic() - begun > 0.3:
                progress(0.25)  # the pool records progress from 0.2 s on
                reported = True
        (folder / "clip.mp4").write_bytes(b"0123456789")
        return [TaskFile(name="clip.mp4", size=10, sha256="0" * 64, mime_type="video/mp4")]

    def discard(self, task: ExportTask) -> None:
        self.discarded.append(task.id)


class Rig:
    def __init__(self, tmp_path: Path, policy: TaskPolicy) -> None:
        self.engine = open_database(f"sqlite:///{tmp_path / 'footage.db'}")
        self.root = tmp_path / "exports"
        self.clock = ManualClock(T0)
        self.store = SqlTaskStore(self.engine)
        self.broker = EventBroker()
        self.policy = policy
        self.runner = ScriptedRunner(self.root)
        self.service = TaskService(
            store=self.store,
            broker=self.broker,
            clock=self.clock,
            cameras=Cameras(),
            output_root=self.root,
            policy=policy,
        )
        self.maintenance = Maintenance(
            store=self.store,
            broker=self.broker,
            clock=self.clock,
            policy=policy,
            output_root=self.root,
        )

    def pool(self, concurrency: int = 1, node: str = "n1") -> WorkerPool:
        return WorkerPool(
            store=self.store,
            runner=self.runner,
            broker=self.broker,
            clock=self.clock,
            policy=self.policy,
            node=node,
            concurrency=concurrency,
            limits=SourceLimits(default=3, per_source={"nvr": 1}),
            poll_interval=0.05,
            heartbeat_interval=0.05,
        )

    def submit(self, camera: str = "cam1", origin: Origin = Origin.WEB, **kw: object) -> ExportTask:
        request = ExportRequest(camera_id=camera, range=SPAN, **kw)  # type: ignore[arg-type]
        return self.service.submit(request, owner="alice", origin=origin)

    def started(self) -> str:
        return self.runner.started.get(timeout=5)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    made = Rig(tmp_path, TaskPolicy(stale_after=timedelta(seconds=15)))
    yield made
    made.engine.dispose()


def wait_until(check: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_submit_validates_and_makes_one_task_per_camera(rig: Rig) -> None:
    request = ExportRequest(camera_id="cam1", range=SPAN, format="mkv", comment="dock 4")
    tasks = rig.service.submit_many(request, ["cam1", "nvr2"], owner="alice", origin=Origin.WEB)
    assert [(t.camera_id, t.camera_name, t.source) for t in tasks] == [
        ("cam1", "CAM1", "local"),
        ("nvr2", "NVR2", "nvr"),
    ]
    assert tasks[0].id < tasks[1].id and tasks[0].request.format == "mkv"
    assert tasks[1].file_stem == "nvr2_20260301T060000Z"
    with pytest.raises(NotFound):
        rig.service.submit_many(request, ["cam3", "missing"], owner="alice", origin=Origin.WEB)
    assert rig.service.count() == 2  # all or none
    with pytest.raises(InvalidRequest, match="no camera selected"):
        rig.service.submit_many(request, [], owner="alice", origin=Origin.WEB)
    long = ExportRequest(camera_id="cam1", range=TimeRange(start=T0, end=T0 + timedelta(hours=2)))
    with pytest.raises(InvalidRequest, match="longer than"):
        rig.service.submit(long, owner="alice", origin=Origin.WEB)


def test_one_at_a_time_in_fifo_order(rig: Rig) -> None:
    first, second = rig.submit("cam1"), rig.submit("cam2")
    with rig.pool():
        assert rig.started() == first.id
        time.sleep(0.2)
        assert rig.store.get(second.id).status is TaskStatus.QUEUED
        rig.runner.release.set()
        assert rig.started() == second.id
        done = rig.service.wait(second.id, timeout=5)
    assert done.status is TaskStatus.DONE and done.files[0].name == "clip.mp4"
    assert done.expires == T0 + timedelta(hours=24)
    assert rig.service.get(first.id).status is TaskStatus.DONE


def test_cancel_reaches_a_running_export_at_once(rig: Rig) -> None:
    task = rig.submit()
    with rig.pool() as pool:
        rig.started()
        cancelled = rig.service.cancel(task.id, by="bob")
        started = time.monotonic()
        wait_until(lambda: not pool.running(), 1.0)
        assert cancelled.status is TaskStatus.CANCELLED
        assert cancelled.failure is not None and cancelled.failure.message == "cancelled by bob"
        with pytest.raises(Conflict, match="it is cancelled"):
            rig.service.cancel(task.id)
        final = rig.service.wait(task.id, timeout=5)
        assert time.monotonic() - started < 1.0
    assert final.status is TaskStatus.CANCELLED


def test_cancel_from_another_process_is_seen_by_heartbeat(rig: Rig) -> None:
    task = rig.submit()
    other = TaskService(
        store=SqlTaskStore(rig.engine),
        broker=EventBroker(),  # another process: this pool gets no event
        clock=rig.clock,
        cameras=Cameras(),
        output_root=rig.root,
    )
    with rig.pool() as pool:
        rig.started()
        other.cancel(task.id)
        started = time.monotonic()
        wait_until(lambda: not pool.running(), 2.0)
        assert time.monotonic() - started < 1.0
    assert rig.store.get(task.id).status is TaskStatus.CANCELLED


def test_retry_and_destroy(rig: Rig) -> None:
    task = rig.submit()
    with pytest.raises(Conflict, match="only failed, cancelled or expired"):
        rig.service.retry(task.id)
    rig.service.cancel(task.id)
    again = rig.service.retry(task.id)
    assert (again.retry_of, again.status, again.request) == (
        task.id,
        TaskStatus.QUEUED,
        task.request,
    )
    assert again.id != task.id
    assert rig.service.get(task.id).status is TaskStatus.CANCELLED  # the old one stays
    with rig.pool():
        rig.runner.release.set()
        done = rig.service.wait(again.id, timeout=5)
    assert (rig.root / done.id / "clip.mp4").is_file()
    with pytest.raises(NotFound):
        rig.service.destroy(done.id, owner="mallory")
    gone = rig.service.destroy(done.id, owner="alice")
    assert gone.destroyed == T0
    assert not (rig.root / done.id).exists()
    listed = rig.service.list_page(TaskFilter(owner="alice")).tasks
    assert [t.id for t in listed] == [task.id]
    with pytest.raises(NotFound, match="destroyed"):
        rig.service.open_file(done.id, "clip.mp4")


def abandon(rig: Rig) -> int:
    """Only the keepalive step: with a manual clock, recovery would see every worker as dead."""
    return len(stop_abandoned(rig.store, rig.broker, rig.clock, rig.policy))


def test_keepalive_stops_unpolled_sessions(rig: Rig) -> None:
    live = rig.submit(origin=Origin.GRPC, live=True)
    other = rig.submit("cam2", origin=Origin.REST)
    web = rig.submit("cam3", origin=Origin.WEB)
    with rig.pool(concurrency=3):
        for _ in range(3):
            rig.started()
        rig.clock.advance(timedelta(minutes=4, seconds=59))
        assert abandon(rig) == 0
        rig.clock.advance(timedelta(seconds=2))
        rig.service.touch(other.id)
        assert abandon(rig) == 1
        ended = rig.service.wait(live.id, timeout=5)
        assert (ended.status, ended.failure and ended.failure.code) == (
            TaskStatus.FAILED,
            "abandoned",
        )
        wait_until(lambda: rig.store.get(live.id).status is TaskStatus.FAILED)
        rig.clock.advance(timedelta(minutes=29))
        assert abandon(rig) == 0
        rig.clock.advance(timedelta(minutes=2))
        assert abandon(rig) == 1
        assert rig.service.get(other.id).failure.code == "abandoned"  # type: ignore[union-attr]
        assert rig.service.get(web.id).status is TaskStatus.RUNNING  # web tasks need no polls
        rig.runner.release.set()
        rig.service.wait(web.id, timeout=5)


def test_api_files_go_an_hour_after_the_last_poll_web_files_after_a_day(rig: Rig) -> None:
    api = rig.submit(origin=Origin.REST)
    web = rig.submit("cam2", origin=Origin.WEB)
    rig.runner.release.set()
    with rig.pool():
        rig.service.wait(api.id, timeout=5)
        rig.service.wait(web.id, timeout=5)
    rig.clock.advance(timedelta(minutes=50))
    handle = rig.service.open_file(api.id, "clip.mp4", 4)  # a download counts as a poll
    assert handle.read() == b"456789"
    handle.close()
    rig.clock.advance(timedelta(minutes=59))
    assert rig.maintenance.run_once().expired == 0
    rig.clock.advance(timedelta(minutes=2))
    assert rig.maintenance.run_once().expired == 1
    expired = rig.service.get(api.id)
    assert expired.status is TaskStatus.EXPIRED and not (rig.root / api.id).exists()
    with pytest.raises(Conflict, match="expired"):
        rig.service.open_file(api.id, "clip.mp4")
    rig.clock.set(T0 + timedelta(hours=23, minutes=59))
    assert rig.maintenance.run_once().expired == 0
    assert (rig.root / web.id / "clip.mp4").is_file()
    rig.clock.set(T0 + timedelta(hours=24, minutes=1))
    assert rig.maintenance.run_once().expired == 1
    assert rig.service.get(web.id).status is TaskStatus.EXPIRED
    assert not (rig.root / web.id).exists()
    history = rig.service.list_page(TaskFilter(owner="alice")).tasks
    assert [t.status for t in history] == [TaskStatus.EXPIRED, TaskStatus.EXPIRED]
    assert rig.service.retry(web.id).retry_of == web.id


def test_open_file_refuses_what_is_not_an_output(rig: Rig) -> None:
    task = rig.submit()
    rig.runner.release.set()
    with rig.pool():
        rig.service.wait(task.id, timeout=5)
    (rig.root / "secret.txt").write_text("no")
    for name in ("../secret.txt", "/etc/passwd", "clip.mp4/..", ""):
        with pytest.raises(NotFound):
            rig.service.open_file(task.id, name)
    with pytest.raises(InvalidRequest, match="outside"):
        rig.service.open_file(task.id, "clip.mp4", 11)
    with pytest.raises(NotFound):
        rig.service.open_file(task.id, "clip.mp4", owner="bob")
    with rig.service.open_file(task.id, "clip.mp4", 10) as handle:
        assert handle.read() == b""


def test_a_dead_workers_task_is_run_again_or_failed(rig: Rig) -> None:
    requeued, failed = rig.submit(), rig.submit("cam2")
    for _ in range(2):
        assert rig.store.claim(node="dead/1", now=T0, limits=SourceLimits(default=5))
    rig.clock.advance(timedelta(seconds=14))
    assert rig.maintenance.recover() == 0
    rig.clock.advance(timedelta(seconds=2))
    rig.store.heartbeat(node="dead/1", held={requeued.id: 1}, now=rig.clock.now())
    strict = Maintenance(
        store=rig.store,
        broker=rig.broker,
        clock=rig.clock,
        policy=TaskPolicy(on_interrupt="fail"),
        output_root=rig.root,
    )
    assert strict.recover() == 1  # the one whose worker went quiet, failed as configured
    interrupted = rig.service.get(failed.id)
    assert interrupted.failure is not None and interrupted.failure.code == "interrupted"
    assert rig.maintenance.recover() == 0
    rig.clock.advance(timedelta(seconds=16))
    assert rig.maintenance.recover() == 1  # and now the other, re-queued by default
    back = rig.service.get(requeued.id)
    assert (back.status, back.attempt, back.created) == (TaskStatus.QUEUED, 1, requeued.created)
    rig.runner.release.set()
    with rig.pool():
        done = rig.service.wait(requeued.id, timeout=5)
    assert (done.status, done.attempt) == (TaskStatus.DONE, 2)


def test_too_many_interruptions_fail_the_task(rig: Rig) -> None:
    task = rig.submit()
    for attempt in range(1, 4):
        claimed = rig.store.claim(node="dead/1", now=rig.clock.now(), limits=SourceLimits())
        assert claimed is not None and claimed.attempt == attempt
        rig.clock.advance(timedelta(seconds=16))
        assert rig.maintenance.recover() == 1
    ended = rig.service.get(task.id)
    assert ended.failure is not None and ended.failure.code == "interrupted"
    assert "attempt 3 of 3" in ended.failure.message


def test_stopping_the_pool_puts_running_tasks_back(rig: Rig) -> None:
    task = rig.submit()
    pool = rig.pool()
    pool.start()
    rig.started()
    pool.stop()
    back = rig.service.get(task.id)
    assert (back.status, back.attempt, back.node) == (TaskStatus.QUEUED, 1, None)
    rig.runner.release.set()
    with rig.pool(node="n2"):
        done = rig.service.wait(task.id, timeout=5)
    assert (done.status, done.attempt, done.node) == (TaskStatus.DONE, 2, "n2")


def test_leftovers_are_cleaned(rig: Rig) -> None:
    done, failed = rig.submit(), rig.submit("cam2")
    rig.runner.release.set()
    with rig.pool():
        rig.service.wait(done.id, timeout=5)
        rig.service.wait(failed.id, timeout=5)
    (rig.root / done.id / ".clip_002.mp4.part").write_bytes(b"x")
    (rig.root / "orphan").mkdir()
    (rig.root / ".stray.tmp").write_bytes(b"x")
    rig.service.destroy(failed.id)
    (rig.root / failed.id).mkdir()
    report = rig.maintenance.run_once(deep=True)
    assert report.cleaned == 4
    assert sorted(p.name for p in rig.root.rglob("*")) == sorted([done.id, "clip.mp4"])


def test_progress_and_status_events_reach_subscribers(rig: Rig) -> None:
    with rig.broker.subscribe() as events:
        task = rig.submit()
        with rig.pool():
            rig.started()
            wait_until(lambda: rig.store.get(task.id).progress == 25.0)
            rig.runner.release.set()
            rig.service.wait(task.id, timeout=5)
        seen = []
        while (event := events.get(0)) is not None:
            seen.append((event.kind, event.status, event.progress))
    assert seen == [
        (EventKind.STATUS, TaskStatus.QUEUED, 0.0),
        (EventKind.STATUS, TaskStatus.RUNNING, 0.0),
        (EventKind.PROGRESS, TaskStatus.RUNNING, 25.0),
        (EventKind.STATUS, TaskStatus.DONE, 100.0),
    ]


def test_the_change_feed_brings_other_processes_changes(rig: Rig) -> None:
    other = TaskService(
        store=SqlTaskStore(rig.engine),
        broker=EventBroker(),
        clock=rig.clock,
        cameras=Cameras(),
        output_root=rig.root,
    )
    feed = ChangeFeed(rig.store, rig.broker, rig.clock, interval=0.02)
    with rig.broker.subscribe() as events, feed:
        task = other.submit(
            ExportRequest(camera_id="cam1", range=SPAN), owner="a", origin=Origin.CLI
        )
        first = events.get(5)
        other.cancel(task.id)
        second = events.get(5)
        assert events.get(0.1) is None  # nothing twice
    assert first is not None and second is not None
    assert (first.task_id, first.status, first.kind) == (
        task.id,
        TaskStatus.QUEUED,
        EventKind.STATUS,
    )
    assert (second.status, second.failure_code) == (TaskStatus.CANCELLED, "cancelled")


def test_per_source_limit_in_the_pool(rig: Rig) -> None:
    a, b, c = rig.submit("nvr1"), rig.submit("nvr2"), rig.submit("cam1")
    with rig.pool(concurrency=3) as pool:
        got = {rig.started(), rig.started()}
        assert got == {a.id, c.id}
        time.sleep(0.2)
        assert pool.running() == {a.id, c.id}
        rig.runner.release.set()
        assert rig.service.wait(b.id, timeout=5).status is TaskStatus.DONE


class ChainCounter:
    """The rig's store, counting the tasks the pool got with the end of the one before."""

    def __init__(self, store: SqlTaskStore) -> None:
        self._store = store
        self.chained = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    def finish_and_claim(self, *args: object, **kwargs: object) -> object:
        done, following = self._store.finish_and_claim(*args, **kwargs)  # type: ignore[arg-type]
        self.chained += following is not None
        return done, following


def test_a_busy_pool_neither_polls_nor_sleeps_between_tasks(rig: Rig) -> None:
    rig.runner.release.set()
    store = ChainCounter(rig.store)
    pool = WorkerPool(
        store=store,  # type: ignore[arg-type]
        runner=rig.runner,
        broker=rig.broker,
        clock=rig.clock,
        policy=rig.policy,
        node="n1",
        poll_interval=600,  # a pool that waited for its poll would time out below
        heartbeat_interval=600,
    )
    request = ExportRequest(camera_id="cam1", range=SPAN)
    with pool:
        time.sleep(0.1)  # idle, waiting for work
        tasks = rig.service.submit_batch([request] * 12, owner="alice", origin=Origin.WEB)
        assert rig.service.wait(tasks[-1].id, timeout=10).status is TaskStatus.DONE
    assert [rig.runner.started.get_nowait() for _ in tasks] == [t.id for t in tasks]
    assert store.chained == 11  # each finish claimed the next in its transaction
    done = rig.service.count(TaskFilter(statuses=frozenset({TaskStatus.DONE})))
    assert done == 12
