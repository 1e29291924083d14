import asyncio
import threading
from datetime import UTC, datetime

from footage.tasks.events import EventBroker, EventKind, TaskEvent
from footage.tasks.model import TaskStatus

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def event(
    task_id: str,
    version: int,
    status: TaskStatus = TaskStatus.RUNNING,
    kind: EventKind = EventKind.PROGRESS,
    progress: float = 0.0,
) -> TaskEvent:
    return TaskEvent(
        kind=kind,
        task_id=task_id,
        owner="alice",
        status=status,
        progress=progress,
        version=version,
        updated=T0,
    )


def test_versions_are_delivered_once_and_in_order() -> None:
    broker = EventBroker()
    with broker.subscribe() as sub:
        assert broker.publish(event("a", 1, TaskStatus.QUEUED, EventKind.STATUS))
        assert not broker.publish(event("a", 1, TaskStatus.QUEUED, EventKind.STATUS))
        assert broker.publish(event("a", 3, TaskStatus.RUNNING, EventKind.STATUS))
        assert not broker.publish(event("a", 2, TaskStatus.RUNNING))  # older than seen
        got = [sub.get(0), sub.get(0), sub.get(0)]
    assert [(e.version if e else None) for e in got] == [1, 3, None]
    assert broker.seen_version("a") == 3


def test_a_slow_subscriber_loses_progress_but_never_a_status() -> None:
    broker = EventBroker()
    sub = broker.subscribe(maxsize=3)
    broker.publish(event("a", 1, TaskStatus.RUNNING, EventKind.STATUS))
    for version in range(2, 50):  # progress of one task: only the newest is kept
        broker.publish(event("a", version, progress=float(version)))
    for task in "bcdef":
        broker.publish(event(task, 1, TaskStatus.RUNNING, EventKind.STATUS))
        broker.publish(event(task, 2, progress=5.0))  # queue full: dropped
    broker.publish(event("a", 60, TaskStatus.DONE, EventKind.STATUS))
    got = []
    while (item := sub.get(0)) is not None:
        got.append((item.task_id, item.kind.value, item.version))
    assert got == [
        ("a", "status", 1),
        ("a", "progress", 49),
        ("b", "status", 1),
        ("c", "status", 1),
        ("d", "status", 1),
        ("e", "status", 1),
        ("f", "status", 1),
        ("a", "status", 60),
    ]
    assert sub.dropped == 5


def test_a_progress_event_with_a_new_status_counts_as_a_status() -> None:
    broker = EventBroker()
    with broker.subscribe(accept=lambda e: e.kind is EventKind.STATUS) as sub:
        broker.publish(event("a", 1, TaskStatus.QUEUED, EventKind.STATUS))
        broker.publish(event("a", 4, TaskStatus.DONE))  # as the change feed reports it
        broker.publish(event("a", 5, TaskStatus.DONE))  # same status: plain progress
        assert [e.status for e in (sub.get(0), sub.get(0))] == [
            TaskStatus.QUEUED,
            TaskStatus.DONE,
        ]
        assert sub.get(0) is None


def test_blocking_iteration_across_threads_ends_on_close() -> None:
    broker = EventBroker()
    sub = broker.subscribe()
    seen: list[int] = []
    reader = threading.Thread(target=lambda: seen.extend(e.version for e in sub))
    reader.start()
    for version in (1, 2, 3):
        broker.publish(event("a", version, kind=EventKind.STATUS))
    while len(seen) < 3:
        reader.join(0.01)
    sub.close()
    reader.join(2)
    assert not reader.is_alive()
    assert seen == [1, 2, 3]
    assert not broker.publish(event("a", 3)) and broker.publish(event("a", 4))


def test_asyncio_consumers_are_woken_from_other_threads() -> None:
    broker = EventBroker()

    async def consume() -> list[int]:
        got: list[int] = []
        with broker.subscribe() as sub:
            threading.Timer(0.05, broker.publish, [event("a", 1, kind=EventKind.STATUS)]).start()
            first = await sub.get_async(timeout=5)
            assert first is not None
            got.append(first.version)
            assert await sub.get_async(timeout=0.05) is None
            threading.Timer(0.05, sub.close).start()
            async for item in sub:
                got.append(item.version)
        return got

    assert asyncio.run(consume()) == [1]
