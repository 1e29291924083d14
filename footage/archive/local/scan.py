"""Scan an archive folder into the segment index.

The walk reads directory entries only (``os.scandir`` and its cached ``stat``); a file is
opened only when it is new or its size or mtime changed since the last scan. New and changed
files are probed (in a process pool when there are many) and the index is brought up to date
in one transaction with bulk statements.
"""

from __future__ import annotations

import multiprocessing
import os
import time
from collections.abc import Callable, Container, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from itertools import repeat
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, bindparam, delete, insert, select, update

from footage.archive.local.layout import ParsedPath, check_camera_id, detect
from footage.db.schema import cameras, scan_failures, segments
from footage.domain import FootageError, InvalidRequest, to_us
from footage.media.probe import ProbeResult
from footage.media.probe import probe as probe_media

ProbeFn = Callable[[str], ProbeResult]
Progress = Callable[[int, int], None]

_T = TypeVar("_T")
_POOL_MIN = 400  # below this, starting worker processes costs more than it saves
_BATCH = 500


@dataclass(frozen=True, slots=True, kw_only=True)
class ScanReport:
    root: str
    added: int
    updated: int
    removed: int
    unchanged: int
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: int = 0
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        return {
            "root": self.root,
            "added": self.added,
            "updated": self.updated,
            "removed": self.removed,
            "unchanged": self.unchanged,
            "failed": [{"path": path, "reason": reason} for path, reason in self.failed],
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True, slots=True)
class _Found:
    path: str
    parts: tuple[str, ...]  # relative to the root
    size: int
    mtime_ns: int
    parsed: ParsedPath | None  # None for paths already indexed (parsed when needed)


@dataclass(slots=True)
class _Changes:
    inserts: list[dict[str, Any]] = field(default_factory=list)
    updates: list[dict[str, Any]] = field(default_factory=list)
    deletes: list[int] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    cleared_failures: list[str] = field(default_factory=list)


def scan(
    engine: Engine,
    root: str | os.PathLike[str],
    *,
    workers: int = 1,
    probe: ProbeFn = probe_media,
    progress: Progress | None = None,
    pool_from: int = _POOL_MIN,
) -> ScanReport:
    """Bring the index up to date with the media files under ``root``.

    New and changed files are probed by ``workers`` processes when there are at least
    ``pool_from`` of them (``probe`` must then be picklable), else in this process.
    ``progress(done, total)`` is called after each probe.
    """
    began = time.perf_counter()
    base = Path(root).expanduser().resolve()
    if not base.is_dir():
        raise InvalidRequest(f"archive folder {base} does not exist or is not a folder")
    with engine.connect() as conn:
        known = _known_segments(conn, base)
        failures = _known_failures(conn, base)
    found, skipped = walk(base, known)
    changes = _Changes()
    to_probe, unchanged, failed = _compare(found, known, failures)
    changes.deletes = [row[0] for path, row in known.items() if path not in found]
    removed = len(changes.deletes)
    changes.cleared_failures = [path for path in failures if path not in found]
    pool = workers if len(to_probe) >= pool_from else 1
    outcomes = _probe_all([item.path for item in to_probe], probe, pool, progress)
    for item, (result, reason) in zip(to_probe, outcomes, strict=True):
        _record(item, result, reason, known, failures, changes, failed)
    with engine.begin() as conn:
        _write(conn, changes)
    return ScanReport(
        root=str(base),
        added=len(changes.inserts),
        updated=len(changes.updates),
        removed=removed,
        unchanged=unchanged,
        failed=sorted(failed),
        skipped=skipped,
        seconds=time.perf_counter() - began,
    )


def _compare(
    found: dict[str, _Found],
    known: dict[str, tuple[int, int, int]],
    failures: dict[str, tuple[int, int, str]],
) -> tuple[list[_Found], int, list[tuple[str, str]]]:
    """(files to probe, how many are unchanged, known failures still there unchanged)."""
    to_probe: list[_Found] = []
    unchanged = 0
    failed: list[tuple[str, str]] = []
    for path, item in found.items():
        row = known.get(path)
        if row is not None and row[1:] == (item.size, item.mtime_ns):
            unchanged += 1
            continue
        failure = failures.get(path)
        if failure is not None and failure[:2] == (item.size, item.mtime_ns):
            failed.append((path, failure[2]))
            continue
        parsed = item.parsed or _parse(item.parts)
        if parsed is None:
            failed.append((path, "the name no longer matches a known layout"))
            continue
        to_probe.append(replace(item, parsed=parsed))
    return to_probe, unchanged, failed


def walk(base: Path, known: Container[str] = ()) -> tuple[dict[str, _Found], int]:
    """Media files under ``base`` a layout recognises (or ``known`` already holds), and how
    many other files were skipped. Reads directory entries only; parses new names only."""
    found: dict[str, _Found] = {}
    skipped = 0
    stack: list[tuple[str, tuple[str, ...]]] = [(str(base), ())]
    while stack:
        folder, parts = stack.pop()
        with os.scandir(folder) as entries:
            for entry in entries:
                if entry.name.startswith("."):
                    skipped += 0 if entry.is_dir() else 1
                elif entry.is_dir():
                    stack.append((entry.path, (*parts, entry.name)))
                elif entry.is_file():
                    item = _recognise(entry, parts, entry.path in known)
                    if item is None:
                        skipped += 1
                    else:
                        found[item.path] = item
    return found, skipped


def _recognise(entry: os.DirEntry[str], parts: tuple[str, ...], known: bool) -> _Found | None:
    if entry.name.endswith(".part"):
        return None
    rel = (*parts, entry.name)
    parsed = None if known else _parse(rel)
    if parsed is None and not known:
        return None
    stat = entry.stat()
    return _Found(entry.path, rel, stat.st_size, stat.st_mtime_ns, parsed)


def _parse(rel: tuple[str, ...]) -> ParsedPath | None:
    parsed = detect(PurePosixPath(*rel))
    if parsed is None:
        return None
    try:
        check_camera_id(parsed.camera_id)
    except InvalidRequest:
        return None
    return parsed


def _under(column: Any, base: Path) -> Any:
    """``column`` holds a path inside ``base`` (a range on the path index, no LIKE)."""
    prefix = str(base).rstrip(os.sep) + os.sep
    return (column >= prefix) & (column < prefix[:-1] + chr(ord(os.sep) + 1))


def _known_segments(conn: Connection, base: Path) -> dict[str, tuple[int, int, int]]:
    c = segments.c
    query = select(c.path, c.id, c.size, c.mtime_ns).where(_under(c.path, base))
    return {path: (row_id, size, mtime) for path, row_id, size, mtime in conn.execute(query)}


def _known_failures(conn: Connection, base: Path) -> dict[str, tuple[int, int, str]]:
    c = scan_failures.c
    query = select(c.path, c.size, c.mtime_ns, c.reason).where(_under(c.path, base))
    return {path: (size, mtime, reason) for path, size, mtime, reason in conn.execute(query)}


def _probe_one(probe: ProbeFn, path: str) -> tuple[ProbeResult | None, str | None]:
    try:
        return probe(path), None
    except (FootageError, OSError) as exc:
        return None, getattr(exc, "message", None) or str(exc)


def _probe_all(
    paths: Sequence[str], probe: ProbeFn, workers: int, progress: Progress | None
) -> Iterator[tuple[ProbeResult | None, str | None]]:
    total = len(paths)
    if workers > 1:
        # forkserver: a fork of a threaded parent (a progress bar, a server) may deadlock
        context = multiprocessing.get_context("forkserver")
        chunk = max(1, min(64, total // (workers * 8)))
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            outcomes = pool.map(_probe_one, repeat(probe), paths, chunksize=chunk)
            yield from _counted(outcomes, total, progress)
    else:
        yield from _counted((_probe_one(probe, path) for path in paths), total, progress)


def _counted(
    outcomes: Iterator[tuple[ProbeResult | None, str | None]], total: int, progress: Progress | None
) -> Iterator[tuple[ProbeResult | None, str | None]]:
    for done, outcome in enumerate(outcomes, 1):
        yield outcome
        if progress is not None:
            progress(done, total)


def _record(
    item: _Found,
    result: ProbeResult | None,
    reason: str | None,
    known: dict[str, tuple[int, int, int]],
    failures: dict[str, tuple[int, int, str]],
    changes: _Changes,
    failed: list[tuple[str, str]],
) -> None:
    row = known.get(item.path)
    if item.path in failures:
        changes.cleared_failures.append(item.path)
    if result is None:
        why = reason or "unreadable"
        failed.append((item.path, why))
        changes.failures.append(
            {"path": item.path, "size": item.size, "mtime_ns": item.mtime_ns, "reason": why}
        )
        if row is not None:
            changes.deletes.append(row[0])
        return
    values = _segment_row(item, result)
    if row is None:
        changes.inserts.append(values)
    else:
        changes.updates.append({**values, "row_id": row[0]})


def _segment_row(item: _Found, result: ProbeResult) -> dict[str, Any]:
    parsed = item.parsed
    assert parsed is not None  # _compare parsed every file it sends to be probed
    start_us = to_us(parsed.start)
    return {
        "camera_id": parsed.camera_id,
        "path": item.path,
        "layout": parsed.layout,
        "start_us": start_us,
        "end_us": start_us + result.duration_us,
        "container": result.container,
        "video_codec": result.video_codec,
        "width": result.width,
        "height": result.height,
        "fps": result.fps,
        "audio_codec": result.audio_codec,
        "size": item.size,
        "mtime_ns": item.mtime_ns,
    }


def _write(conn: Connection, changes: _Changes) -> None:
    for ids in _batches(changes.deletes):
        conn.execute(delete(segments).where(segments.c.id.in_(ids)))
    for paths in _batches(changes.cleared_failures):
        conn.execute(delete(scan_failures).where(scan_failures.c.path.in_(paths)))
    _add_cameras(conn, {row["camera_id"] for row in changes.inserts + changes.updates})
    for rows in _batches(changes.inserts):
        conn.execute(insert(segments), rows)
    statement = update(segments).where(segments.c.id == bindparam("row_id"))
    for rows in _batches(changes.updates):
        conn.execute(statement, rows)
    for rows in _batches(changes.failures):
        conn.execute(insert(scan_failures), rows)
    in_use = select(segments.c.camera_id).distinct()
    conn.execute(delete(cameras).where(cameras.c.source == "local", cameras.c.id.not_in(in_use)))


def _add_cameras(conn: Connection, wanted: set[str]) -> None:
    have = set(conn.execute(select(cameras.c.id)).scalars())
    missing = sorted(wanted - have)
    if missing:
        conn.execute(insert(cameras), [{"id": cid, "name": cid} for cid in missing])


def _batches(items: list[_T]) -> Iterator[list[_T]]:
    for begin in range(0, len(items), _BATCH):
        yield items[begin : begin + _BATCH]
