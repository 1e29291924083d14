"""The task store contract: every adapter (SQLite, PostgreSQL) must pass all of it."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine

from footage.domain import Conflict, Gap, NotFound, TimeRange, to_us
from footage.tasks.model import (
    ExportRequest,
    ExportTask,
    Failure,
    Keepalive,
    Origin,
    TaskFile,
    TaskFilter,
    TaskKind,
    TaskStatus,
)
from footage.tasks.paging import decode_token
from footage.tasks.store import SourceLimits
from footage.tasks.store_sql import SqlTaskStore
from tests.helpers.tasks import new_task

T0 = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
ONE = SourceLimits(default=1)
MANY = SourceLimits(default=100)
STOP = Failure(code="cancelled", message="cancelled by alice")


def make_task(n: int, **changes: object) -> ExportTask:
    created = T0 + timedelta(seconds=n)
    request = ExportRequest(
        camera_id=str(changes.pop("camera_id", "cam1")),
        range=TimeRange(start=T0 - timedelta(hours=1), end=T0 - timedelta(minutes=50)),
        format="mkv",
        audio=False,
        max_file_size=5_000_000,
        comment="gate 3",
        file_name="{camera}_{start}",
    )
    task = new_task(
        request,
        created,
        id=f"t{n:06d}",
        owner="alice",
        camera_name="Gate",
        file_stem="cam1_20260301",
        polled=created,
    )
    return dataclasses.replace(task, **changes)  # type: ignore[arg-type]


@pytest.fixture
def store(engine: Engine) -> SqlTaskStore:
    return SqlTaskStore(engine)


def test_enqueue_then_get_round_trips_every_field(store: SqlTaskStore) -> None:
    pictures = ExportRequest(
        camera_id="cam2",
        range=TimeRange(start=T0, end=T0 + timedelta(minutes=5)),
        kind=TaskKind.PICTURES,
        format="jpg",
        picture_interval=timedelta(seconds=2.5),
        live=True,
    )
    task = make_task(
        1, request=pictures, keepalive=Keepalive.API_LIVE, origin=Origin.GRPC, retry_of="t000000"
    )
    store.enqueue([task, make_task(2)])
    assert store.get(task.id) == dataclasses.replace(task, updated=task.created, version=1)
    with pytest.raises(NotFound, match="no task nope"):
        store.get("nope")


def test_claim_is_fifo_within_priority(store: SqlTaskStore) -> None:
    store.enqueue([make_task(3), make_task(1), make_task(2), make_task(4, priority=5)])
    order = [store.claim(node="n1", now=T0, limits=MANY) for _ in range(5)]
    assert [t.id if t else None for t in order] == [
        "t000004",
        "t000001",
        "t000002",
        "t000003",
        None,
    ]
    first = order[0]
    assert first is not None
    assert (first.status, first.node, first.attempt, first.started) == (
        TaskStatus.RUNNING,
        "n1",
        1,
        T0,
    )


def test_per_source_limit(store: SqlTaskStore) -> None:
    limits = SourceLimits(default=2, per_source={"nvr": 1})
    store.enqueue(
        [make_task(1, source="nvr"), make_task(2, source="nvr"), make_task(3), make_task(4)]
    )
    claimed = [store.claim(node="n", now=T0, limits=limits) for _ in range(4)]
    ids = [t.id if t else None for t in claimed]
    assert ids == ["t000001", "t000003", "t000004", None]
    assert claimed[0] is not None
    store.finish("t000001", 1, files=[], now=T0, expires=None)
    again = store.claim(node="n", now=T0, limits=limits)
    assert again is not None and again.id == "t000002"


def test_concurrent_claims_never_hand_out_a_task_twice(store: SqlTaskStore) -> None:
    store.enqueue([make_task(n) for n in range(60)])
    got: list[str] = []
    lock = threading.Lock()

    def drain(node: str) -> None:
        while (task := store.claim(node=node, now=T0, limits=MANY)) is not None:
            with lock:
                got.append(task.id)

    threads = [threading.Thread(target=drain, args=(f"n{i}",)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(got) == [f"t{n:06d}" for n in range(60)]


DRAIN = """
import sys
from datetime import datetime, UTC
from footage.db import open_database
from footage.tasks.store import SourceLimits
from footage.tasks.store_sql import SqlTaskStore
store = SqlTaskStore(open_database(sys.argv[1], migrate=False))
print("ready", flush=True)
sys.stdin.readline()
now = datetime(2026, 3, 1, tzinfo=UTC)
while (task := store.claim(node=sys.argv[2], now=now, limits=SourceLimits(default=1000))):
    print(task.id, flush=True)
"""


def test_concurrent_claims_from_processes(store: SqlTaskStore, database_url: str) -> None:
    store.enqueue([make_task(n) for n in range(300)])
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", DRAIN, database_url, f"p{i}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(3)
    ]
    for process in processes:
        assert process.stdout is not None and process.stdout.readline() == "ready\n"
    for process in processes:  # start claiming together
        assert process.stdin is not None
        process.stdin.write("go\n")
        process.stdin.flush()
    outputs = [process.communicate(timeout=60)[0].split() for process in processes]
    claimed = [task_id for output in outputs for task_id in output]
    assert sorted(claimed) == [f"t{n:06d}" for n in range(300)], outputs


def test_concurrent_claims_respect_the_source_limit(store: SqlTaskStore) -> None:
    limits = SourceLimits(default=1, per_source={"nvr": 2})
    store.enqueue([make_task(n, source="nvr") for n in range(20)])
    for round_ in range(3):
        barrier = threading.Barrier(6)
        got: list[str] = []

        def claim_one(
            node: str, barrier: threading.Barrier = barrier, got: list[str] = got
        ) -> None:
            barrier.wait()
            task = store.claim(node=node, now=T0, limits=limits)
            if task is not None:
                got.append(task.id)

        threads = [threading.Thread(target=claim_one, args=(f"n{i}",)) for i in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert len(got) == 2, f"round {round_}: {got}"
        for task_id in got:
            store.finish(task_id, 1, files=[], now=T0, expires=None)


CLIP = TaskFile(name="clip.mp4", size=10, sha256="cd" * 32, mime_type="video/mp4")


def test_finish_and_claim_ends_one_task_and_takes_the_next(store: SqlTaskStore) -> None:
    store.enqueue([make_task(1), make_task(2), make_task(3, priority=1)])
    first = store.claim(node="n", now=T0, limits=ONE)
    assert first is not None and first.id == "t000003"
    later, expires = T0 + timedelta(seconds=4), T0 + timedelta(hours=24)
    # one source, one slot: the slot the finished task held is free for the next
    done, following = store.finish_and_claim(
        "t000003", 1, files=[CLIP], now=later, expires=expires, node="m", limits=ONE
    )
    assert (done.status, done.files, done.progress, done.finished, done.expires) == (
        TaskStatus.DONE,
        (CLIP,),
        100.0,
        later,
        expires,
    )
    assert following is not None
    assert (following.id, following.status, following.node, following.attempt) == (
        "t000001",
        TaskStatus.RUNNING,
        "m",
        1,
    )
    assert (following.started, following.heartbeat, following.updated) == (later, later, later)
    # what it returns is what was written
    assert store.get("t000003") == done
    assert store.get("t000001") == following
    _, last = store.finish_and_claim(
        "t000001", 1, files=[], now=later, expires=None, node="m", limits=ONE
    )
    assert last is not None and last.id == "t000002"
    done, nothing = store.finish_and_claim(
        "t000002", 1, files=[], now=later, expires=None, node="m", limits=ONE
    )
    assert (done.status, nothing) == (TaskStatus.DONE, None)
    assert store.count(TaskFilter(statuses=frozenset({TaskStatus.DONE}))) == 3


def test_finish_and_claim_refused_claims_nothing(store: SqlTaskStore) -> None:
    store.enqueue([make_task(1), make_task(2), make_task(3)])
    store.claim(node="n", now=T0, limits=ONE)
    with pytest.raises(Conflict, match="attempt 7 is no longer running"):
        store.finish_and_claim("t000001", 7, files=[], now=T0, expires=None, node="n", limits=MANY)
    store.stop("t000001", status=TaskStatus.CANCELLED, failure=STOP, now=T0)
    with pytest.raises(Conflict, match="cannot finish task t000001: it is cancelled"):
        store.finish_and_claim("t000001", 1, files=[], now=T0, expires=None, node="n", limits=MANY)
    with pytest.raises(NotFound):
        store.finish_and_claim("nope", 1, files=[], now=T0, expires=None, node="n", limits=MANY)
    assert store.get("t000001").status is TaskStatus.CANCELLED
    assert [store.get(t).status for t in ("t000002", "t000003")] == [TaskStatus.QUEUED] * 2


def test_finish_and_claim_respects_other_sources_limits(store: SqlTaskStore) -> None:
    limits = SourceLimits(default=2, per_source={"nvr": 1})
    store.enqueue([make_task(1, source="nvr"), make_task(2), make_task(3, source="nvr")])
    first, second = (store.claim(node="n", now=T0, limits=limits) for _ in range(2))
    assert (first and first.id, second and second.id) == ("t000001", "t000002")
    # finishing the local task frees no slot of the NVR, which still runs t000001
    _, following = store.finish_and_claim(
        "t000002", 1, files=[], now=T0, expires=None, node="n", limits=limits
    )
    assert following is None
    _, following = store.finish_and_claim(
        "t000001", 1, files=[], now=T0, expires=None, node="n", limits=limits
    )
    assert following is not None and following.id == "t000003"


def test_concurrent_finish_and_claim_keeps_every_limit(store: SqlTaskStore) -> None:
    limits = SourceLimits(default=1, per_source={"nvr": 2})
    store.enqueue([make_task(n, source="nvr" if n % 3 else "local") for n in range(45)])
    claimed: list[str] = []
    running: list[int] = []
    running_now = TaskFilter(statuses=frozenset({TaskStatus.RUNNING}))
    lock = threading.Lock()

    def work(node: str) -> None:
        task = store.claim(node=node, now=T0, limits=limits)
        while task is not None:
            seen = store.count(running_now)  # every committed state keeps the limits
            with lock:
                claimed.append(task.id)
                running.append(seen)
            _, task = store.finish_and_claim(
                task.id, task.attempt, files=[], now=T0, expires=None, node=node, limits=limits
            )
            task = task or store.claim(node=node, now=T0, limits=limits)  # as the worker does

    threads = [threading.Thread(target=work, args=(f"n{i}",)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(claimed) == sorted(f"t{n:06d}" for n in range(45))
    assert max(running) <= 3  # two NVR exports and one local at most
    assert store.count(TaskFilter(statuses=frozenset({TaskStatus.DONE}))) == 45


def test_legal_and_illegal_transitions(store: SqlTaskStore) -> None:
    store.enqueue([make_task(1), make_task(2)])
    with pytest.raises(Conflict, match="it is queued"):
        store.finish("t000001", 0, files=[], now=T0, expires=None)
    cancelled = store.stop("t000002", status=TaskStatus.CANCELLED, failure=STOP, now=T0)
    assert (cancelled.status, cancelled.failure, cancelled.finished) == (
        TaskStatus.CANCELLED,
        STOP,
        T0,
    )
    with pytest.raises(Conflict, match="cannot cancel task t000002: it is cancelled"):
        store.stop("t000002", status=TaskStatus.CANCELLED, failure=STOP, now=T0)
    claimed = store.claim(node="n", now=T0, limits=ONE)
    assert claimed is not None and claimed.attempt == 1
    released = store.release("t000001", 1, now=T0)
    assert (released.status, released.node, released.attempt) == (TaskStatus.QUEUED, None, 1)
    again = store.claim(node="m", now=T0, limits=ONE)
    assert again is not None and again.attempt == 2
    with pytest.raises(Conflict, match="attempt 1 is no longer running"):
        store.finish("t000001", 1, files=[], now=T0, expires=None)
    with pytest.raises(Conflict, match="it is running"):
        store.expire("t000001", now=T0)
    with pytest.raises(Conflict, match="it is running"):
        store.destroy("t000001", now=T0)
    done = store.finish("t000001", 2, files=[], now=T0, expires=T0 + timedelta(hours=24))
    assert (done.status, done.progress, done.expires) == (
        TaskStatus.DONE,
        100.0,
        T0 + timedelta(hours=24),
    )
    with pytest.raises(Conflict, match="it is done"):
        store.fail("t000001", 2, failure=STOP, now=T0)
    with pytest.raises(Conflict, match="it is done"):
        store.stop("t000001", status=TaskStatus.CANCELLED, failure=STOP, now=T0)
    assert store.expire("t000001", now=T0).status is TaskStatus.EXPIRED
    with pytest.raises(Conflict, match="it is expired"):
        store.expire("t000001", now=T0)
    with pytest.raises(NotFound):
        store.release("nope", 1, now=T0)


def test_fail_records_the_reason_and_files_round_trip(store: SqlTaskStore) -> None:
    store.enqueue([make_task(1), make_task(2)])
    store.claim(node="n", now=T0, limits=MANY)
    store.claim(node="n", now=T0, limits=MANY)
    reason = Failure(code="no_space", message="only 10 MB free")
    failed = store.fail("t000001", 1, failure=reason, now=T0 + timedelta(seconds=3))
    assert (failed.status, failed.failure, failed.finished) == (
        TaskStatus.FAILED,
        reason,
        T0 + timedelta(seconds=3),
    )
    output = TaskFile(
        name="cam1.mp4",
        size=1234,
        sha256="ab" * 32,
        mime_type="video/mp4",
        first_ts=T0,
        last_ts=T0 + timedelta(seconds=59, microseconds=900_000),
        gaps=(Gap(start=T0 + timedelta(seconds=10), end=T0 + timedelta(seconds=12)),),
    )
    store.finish("t000002", 1, files=[output], now=T0, expires=None)
    assert store.get("t000002").files == (output,)


def test_heartbeat_and_progress_belong_to_the_holder(store: SqlTaskStore) -> None:
    store.enqueue([make_task(1), make_task(2)])
    store.claim(node="n", now=T0, limits=MANY)
    store.claim(node="n", now=T0, limits=MANY)
    later = T0 + timedelta(seconds=5)
    assert store.heartbeat(node="n", held={"t000001": 1, "t000002": 1}, now=later) == {
        "t000001",
        "t000002",
    }
    assert store.get("t000001").heartbeat == later
    assert store.heartbeat(node="other", held={"t000001": 1}, now=later) == set()
    assert store.heartbeat(node="n", held={"t000001": 7}, now=later) == set()
    version = store.progress("t000001", 1, 42.5, later)
    task = store.get("t000001")
    assert (task.progress, task.version) == (42.5, version)
    store.stop("t000002", status=TaskStatus.CANCELLED, failure=STOP, now=later)
    assert store.heartbeat(node="n", held={"t000001": 1, "t000002": 1}, now=later) == {"t000001"}
    assert store.progress("t000002", 1, 50.0, later) is None
    assert store.stale(heartbeat_before=later, limit=10) == []
    stale = store.stale(heartbeat_before=later + timedelta(seconds=1), limit=10)
    assert [t.id for t in stale] == ["t000001"]


def test_list_page_is_newest_first_and_stable_while_inserting(store: SqlTaskStore) -> None:
    store.enqueue([make_task(n) for n in range(25)])
    # two tasks created in the same microsecond are ordered by id
    store.enqueue([make_task(100, id="t000024b", created=T0 + timedelta(seconds=24))])
    seen: list[str] = []
    page = store.list_page(TaskFilter(), limit=10, after=None)
    while True:
        seen.extend(t.id for t in page.tasks)
        n = 200 + len(seen)
        store.enqueue([make_task(n, id=f"new{n}", created=T0 + timedelta(hours=1, seconds=n))])
        if page.next_token is None:
            break
        page = store.list_page(TaskFilter(), limit=10, after=decode_token(page.next_token))
    expected = ["t000024b"] + [f"t{n:06d}" for n in range(24, -1, -1)]
    assert seen == expected
    assert store.count(TaskFilter()) == 26 + 3


def test_list_page_filters(store: SqlTaskStore) -> None:
    store.enqueue(
        [
            make_task(1),
            make_task(2, owner="bob"),
            make_task(3, camera_id="cam9"),
            make_task(4, origin=Origin.REST),
            make_task(5),
        ]
    )
    store.stop("t000005", status=TaskStatus.CANCELLED, failure=STOP, now=T0)
    store.destroy("t000005", now=T0)

    def ids(**criteria: object) -> list[str]:
        page = store.list_page(TaskFilter(**criteria), limit=10, after=None)  # type: ignore[arg-type]
        return [t.id for t in page.tasks]

    assert ids() == ["t000004", "t000003", "t000002", "t000001"]
    assert ids(owner="bob") == ["t000002"]
    assert ids(camera_id="cam9") == ["t000003"]
    assert ids(origin=Origin.REST) == ["t000004"]
    assert ids(statuses=frozenset({TaskStatus.CANCELLED})) == []
    assert ids(created_from=T0 + timedelta(seconds=2), created_to=T0 + timedelta(seconds=4)) == [
        "t000003",
        "t000002",
    ]
    assert store.count(TaskFilter(owner="alice")) == 3
    assert store.get("t000005").destroyed == T0
    assert store.referenced(["t000001", "t000005", "zzz"]) == {"t000001": TaskStatus.QUEUED}


def test_touch_expiry_and_keepalive_queries(store: SqlTaskStore) -> None:
    store.enqueue(
        [
            make_task(1, keepalive=Keepalive.API_OTHER),
            make_task(2, keepalive=Keepalive.API_LIVE),
            make_task(3, keepalive=Keepalive.API_OTHER),
        ]
    )
    store.claim(node="n", now=T0, limits=MANY)
    store.finish("t000001", 1, files=[], now=T0, expires=T0 + timedelta(hours=1))
    later = T0 + timedelta(minutes=40)
    touched = store.touch("t000001", now=later, expires=later + timedelta(hours=1))
    assert (touched.polled, touched.expires) == (later, later + timedelta(hours=1))
    queued = store.touch("t000003", now=later, expires=later + timedelta(hours=1))
    assert (queued.polled, queued.expires) == (later, None)
    with pytest.raises(NotFound):
        store.touch("nope", now=later, expires=None)
    assert store.due_to_expire(later + timedelta(minutes=59), limit=10) == []
    due = store.due_to_expire(later + timedelta(hours=1), limit=10)
    assert [t.id for t in due] == ["t000001"]
    live = store.unpolled(Keepalive.API_LIVE, polled_before=T0 + timedelta(minutes=5), limit=10)
    assert [t.id for t in live] == ["t000002"]
    other = store.unpolled(Keepalive.API_OTHER, polled_before=later, limit=10)
    assert other == []
    assert [
        t.id
        for t in store.unpolled(
            Keepalive.API_OTHER, polled_before=later + timedelta(seconds=1), limit=10
        )
    ] == ["t000003"]


def test_changes_report_versions_in_order(store: SqlTaskStore) -> None:
    store.enqueue([make_task(1), make_task(2)])
    claimed = store.claim(node="n", now=T0 + timedelta(seconds=10), limits=ONE)
    assert claimed is not None and claimed.version == 2
    store.progress("t000001", 1, 10.0, T0 + timedelta(seconds=11))
    changes = store.changes(since=T0 + timedelta(seconds=2), limit=10)
    assert [(c.task_id, c.status, c.version, c.progress) for c in changes] == [
        ("t000002", TaskStatus.QUEUED, 1, 0.0),
        ("t000001", TaskStatus.RUNNING, 3, 10.0),
    ]
    assert changes[-1].updated == T0 + timedelta(seconds=11)
    assert to_us(changes[-1].updated) > to_us(changes[0].updated)
