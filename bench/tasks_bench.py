"""Benchmark of the export task queue. Run: ``python bench/tasks_bench.py [--database-url URL]``.

1. Queue overhead: N small exports (2 s clips of a generated archive) submitted at once and
   run by the worker pool (one at a time, the default), against the same exports called
   directly in a loop. Target: the queue adds at most 20 %.
2. Listing: one page of 10 among 100,000 tasks (first page, and a page deep in the list reached
   by its token), against listing all of them. Target: below 1/100. On SQLite only (it needs
   an empty database): with ``--database-url`` only the queue is measured.

The machine may be busy with other work: the rounds of the queue and of the direct loop are
interleaved, medians of at least 3 are reported, with each round's ratio and the overhead per
export in milliseconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

from footage.archive.local.scan import scan
from footage.archive.local.source import LocalArchive
from footage.config.settings import Settings, TasksSettings
from footage.db import open_database
from footage.domain import TimeRange
from footage.media.clip import ClipOptions, export_clip
from footage.media.synth import SynthOptions, generate
from footage.tasks.model import ExportRequest, ExportTask, Origin, TaskFilter, TaskStatus
from footage.tasks.paging import decode_token
from footage.tasks.store_sql import SqlTaskStore
from footage.tasks.system import TaskSystem

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def clip_spans(count: int) -> list[TimeRange]:
    """``count`` 2-second ranges spread over a 10-minute archive."""
    return [
        TimeRange(
            start=START + timedelta(seconds=(n * 7) % 590),
            end=START + timedelta(seconds=(n * 7) % 590 + 2),
        )
        for n in range(count)
    ]


def direct(archive: LocalArchive, spans: list[TimeRange], out: Path) -> float:
    """The same exports, called one after another."""
    began = time.perf_counter()
    for n, span in enumerate(spans):
        segments = archive.segments("cam1", span)
        options = ClipOptions(format="mp4", audio=False, exact=False, file_stem="cam1")
        export_clip(segments, span, out / f"direct{n:05d}", options)
    return time.perf_counter() - began


def queued(system: TaskSystem, spans: list[TimeRange]) -> float:
    """Submit all at once, then wait for the last one (one worker runs them in order)."""
    requests = [ExportRequest(camera_id="cam1", range=span, audio=False) for span in spans]
    began = time.perf_counter()
    tasks = system.service.submit_batch(requests, owner="bench", origin=Origin.BATCH)
    last = system.service.wait(tasks[-1].id, timeout=600)
    elapsed = time.perf_counter() - began
    failed = system.service.count(TaskFilter(statuses=frozenset(TaskStatus) - {TaskStatus.DONE}))
    assert last.status is TaskStatus.DONE and not failed, "an export failed"
    return elapsed


@dataclass(frozen=True)
class Overhead:
    """Wall-clock seconds of each round of the direct loop and of the queue (run alternately),
    and the CPU seconds of the whole process in each (steadier on a machine shared with others)."""

    direct: list[float]
    queued: list[float]
    direct_cpu: list[float]
    queued_cpu: list[float]

    @property
    def ratio(self) -> float:
        return statistics.median(self.queued) / statistics.median(self.direct)

    @property
    def cpu_ratio(self) -> float:
        return statistics.median(self.queued_cpu) / statistics.median(self.direct_cpu)

    def per_task_ms(self, count: int) -> float:
        return (statistics.median(self.queued) - statistics.median(self.direct)) / count * 1000


def _measured(wall: list[float], cpu: list[float], run: Callable[[], float]) -> None:
    began = time.process_time()
    wall.append(run())
    cpu.append(time.process_time() - began)


def queue_overhead(url: str, work: Path, count: int, rounds: int) -> Overhead:
    """Medians of ``rounds`` rounds of each, interleaved (direct first in even rounds, the
    queue first in odd ones) so a machine busy with others weighs on both alike."""
    archive_root = work / "archive"
    synth = SynthOptions(
        cameras=1,
        duration=timedelta(minutes=10),
        start=START,
        segment_seconds=10.0,
        resolution=(160, 96),
        fps=10,
        gop=10,
        audio=False,
        stamps="loop",
    )
    generate(archive_root, synth, workers=1)
    engine = open_database(url)
    scan(engine, archive_root)
    archive = LocalArchive(engine, archive_root, 0.5)
    spans = clip_spans(count)
    direct(archive, spans[:20], work / "warm")  # warm the page cache and imports
    settings = Settings(data_dir=work / "data", tasks=TasksSettings(min_free_mb=0))
    result = Overhead(direct=[], queued=[], direct_cpu=[], queued_cpu=[])
    with TaskSystem(settings=settings, engine=engine, archive=archive) as system:
        queued(system, spans[:20])  # warm the queue's statements too
        for round_ in range(rounds):
            out = work / f"direct{round_}"
            if round_ % 2:
                _measured(result.queued, result.queued_cpu, partial(queued, system, spans))
            _measured(result.direct, result.direct_cpu, partial(direct, archive, spans, out))
            if not round_ % 2:
                _measured(result.queued, result.queued_cpu, partial(queued, system, spans))
            shutil.rmtree(out)
            shutil.rmtree(system.output_root)
    engine.dispose()
    return result


def fill(store: SqlTaskStore, count: int) -> None:
    request = ExportRequest(
        camera_id="cam1", range=TimeRange(start=START, end=START + timedelta(1))
    )
    base = ExportTask(
        id="",
        owner="",
        origin=Origin.WEB,
        request=request,
        camera_name="Gate",
        source="local",
        file_stem="cam1",
        created=START,
        status=TaskStatus.DONE,
    )
    batch = 5000
    for first in range(0, count, batch):
        store.enqueue(
            [
                dataclasses.replace(
                    base,
                    id=f"{n:012d}",
                    owner=f"user{n % 20}",
                    created=START + timedelta(seconds=n),
                )
                for n in range(first, min(count, first + batch))
            ]
        )


def timed(action: object, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        began = time.perf_counter()
        action()  # type: ignore[operator]
        runs.append(time.perf_counter() - began)
    return statistics.median(runs)


def listing(url: str, count: int) -> tuple[float, float, float, float]:
    engine = open_database(url)
    store = SqlTaskStore(engine)
    fill(store, count)
    query = TaskFilter()
    deep = store.list_page(query, limit=count // 2, after=None).next_token
    assert deep is not None
    after = decode_token(deep)
    first_s = timed(lambda: store.list_page(query, limit=10, after=None), 50)
    deep_s = timed(lambda: store.list_page(query, limit=10, after=after), 50)
    owner_s = timed(lambda: store.list_page(TaskFilter(owner="user7"), limit=10, after=None), 50)
    all_s = timed(lambda: store.list_page(query, limit=count, after=None), 3)
    engine.dispose()
    return first_s, deep_s, owner_s, all_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="default: a SQLite file in a temp dir")
    parser.add_argument("--exports", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5, help="at least 3; medians are reported")
    args = parser.parse_args()
    if args.rounds < 3:
        parser.error("--rounds must be at least 3 (medians of fewer mean little)")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = args.database_url or f"sqlite:///{work / 'queue.db'}"
        overhead = queue_overhead(url, work, args.exports, args.rounds)
        # listing needs an empty database of its own: a fresh SQLite file
        listed = None if args.database_url else listing(f"sqlite:///{work / 'list.db'}", args.tasks)
    direct_s, queue_s = statistics.median(overhead.direct), statistics.median(overhead.queued)
    print(f"medians of {args.rounds} interleaved rounds; each round's queue / direct:", end="")
    print("".join(f" {q / d:.3f}" for d, q in zip(overhead.direct, overhead.queued, strict=True)))
    print(f"queue overhead per export: {overhead.per_task_ms(args.exports):.2f} ms", end="")
    print(f" (an export called directly: {direct_s / args.exports * 1000:.2f} ms)")
    print(f"process CPU time, queue / direct (medians): {overhead.cpu_ratio:.3f}")
    rows = [
        (f"{args.exports} exports, direct loop", direct_s, "baseline"),
        (f"{args.exports} exports, via the queue", queue_s, f"{overhead.ratio:.3f} (<= 1.2)"),
    ]
    if listed is not None:
        first_s, deep_s, owner_s, all_s = listed
        rows += [
            (f"list all {args.tasks} tasks", all_s, "baseline"),
            ("first page of 10", first_s, f"1/{all_s / first_s:,.0f} (< 1/100)"),
            ("page of 10 in the middle (token)", deep_s, f"1/{all_s / deep_s:,.0f} (< 1/100)"),
            ("first page of 10, one owner", owner_s, f"1/{all_s / owner_s:,.0f} (< 1/100)"),
        ]
    print(f"{'measurement':<40} {'seconds':>10}  ratio")
    for name, seconds, ratio in rows:
        print(f"{name:<40} {seconds:>10.4f}  {ratio}")


if __name__ == "__main__":
    main()
