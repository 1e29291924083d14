"""Rescans: new files are added, deleted ones forgotten, unchanged ones never opened; bad files
are reported without stopping the scan; a file deleted under the index is a clear error."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from footage.archive.local.index import SegmentIndex
from footage.archive.local.scan import scan
from footage.archive.local.source import LocalArchive
from footage.db import open_database
from footage.db.schema import segments
from footage.domain import NotFound, SourceUnavailable, TimeRange
from footage.media.probe import ProbeResult, probe
from footage.media.synth import GenerationReport
from tests.helpers.media import tiny_report

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
WHOLE = TimeRange(start=T0 - timedelta(hours=1), end=T0 + timedelta(hours=1))

_opened: list[str] | None = None


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if _opened is not None and event == "open" and isinstance(args[0], str):
        _opened.append(args[0])


sys.addaudithook(_audit)


class CountingProbe:
    """The real probe, counting the files it is asked to open."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, path: str) -> ProbeResult:
        self.paths.append(path)
        return probe(path)


def archive(root: Path, *, cameras: int = 2, seconds: int = 8) -> GenerationReport:
    duration = timedelta(seconds=seconds)
    return tiny_report(root, T0, duration, cameras=cameras, segment_seconds=2, resolution=(96, 64))


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = open_database(f"sqlite:///{tmp_path / 'footage.db'}")
    yield engine
    engine.dispose()


@pytest.fixture
def report(tmp_path: Path) -> GenerationReport:
    return archive(tmp_path / "archive")


def indexed(engine: Engine) -> set[str]:
    with engine.connect() as conn:
        return set(conn.execute(select(segments.c.path)).scalars())


def test_rescan_with_nothing_new_opens_no_media_file(
    tmp_path: Path, engine: Engine, report: GenerationReport
) -> None:
    global _opened
    first = CountingProbe()
    assert scan(engine, report.root, probe=first).added == len(report.segments) == 8
    assert len(first.paths) == 8

    again = CountingProbe()
    _opened = []
    try:
        result = scan(engine, report.root, probe=again)
        opened, _opened = _opened, None
    finally:
        _opened = None
    assert again.paths == []
    assert not [path for path in opened if path.endswith(".mp4")]
    assert (result.added, result.updated, result.removed, result.unchanged) == (0, 0, 0, 8)


def test_rescan_picks_up_new_files(
    tmp_path: Path, engine: Engine, report: GenerationReport
) -> None:
    later = [s.path for s in report.segments if s.start >= T0 + timedelta(seconds=4)]
    aside = tmp_path / "aside"
    moved = []
    for path in later:
        target = aside / path.relative_to(report.root)
        target.parent.mkdir(parents=True, exist_ok=True)
        moved.append((shutil.move(path, target), path))
    assert scan(engine, report.root).added == 8 - len(later)
    tl = SegmentIndex(engine).timeline(
        "cam1", TimeRange(start=T0, end=T0 + timedelta(seconds=8)), 0.5
    )
    assert [(g.start, g.end) for g in tl.gaps] == [(T0 + timedelta(seconds=4), tl.end)]

    for source, back in moved:
        shutil.move(source, back)
    counting = CountingProbe()
    result = scan(engine, report.root, probe=counting)
    assert sorted(counting.paths) == sorted(str(p) for p in later)
    assert (result.added, result.unchanged, result.removed) == (len(later), 8 - len(later), 0)
    assert indexed(engine) == {str(s.path) for s in report.segments}
    tl = SegmentIndex(engine).timeline(
        "cam1", TimeRange(start=T0, end=T0 + timedelta(seconds=8)), 0.5
    )
    assert tl.gaps == ()


def test_rescan_forgets_deleted_files_and_empty_cameras(
    engine: Engine, report: GenerationReport
) -> None:
    scan(engine, report.root)
    cam1 = [s.path for s in report.segments if s.camera_id == "cam1"]
    cam2 = [s.path for s in report.segments if s.camera_id == "cam2"]
    cam2[0].unlink()
    counting = CountingProbe()
    result = scan(engine, report.root, probe=counting)
    assert (result.removed, result.unchanged, counting.paths) == (1, 7, [])
    assert str(cam2[0]) not in indexed(engine)

    for path in cam1:
        path.unlink()
    assert scan(engine, report.root).removed == 4
    index = SegmentIndex(engine)
    assert [c.id for c in index.cameras()] == ["cam2"]
    with pytest.raises(NotFound, match="known cameras: cam2"):
        index.timeline("cam1", WHOLE, 0.5)


def test_a_changed_file_is_probed_again(
    tmp_path: Path, engine: Engine, report: GenerationReport
) -> None:
    scan(engine, report.root)
    longer = archive(tmp_path / "longer", cameras=1, seconds=4)
    victim = report.segments[0].path  # cam1 at T0, 2 s long
    shutil.copyfile(longer.segments[0].path, victim)
    counting = CountingProbe()
    result = scan(engine, report.root, probe=counting)
    assert (result.updated, result.unchanged, counting.paths) == (1, 7, [str(victim)])


def test_bad_files_are_reported_and_the_scan_goes_on(
    engine: Engine, report: GenerationReport
) -> None:
    folder = report.segments[0].path.parent
    garbage = folder / "20261121T080010.000000Z.mp4"
    garbage.write_bytes(b"this is not a video file\n" * 40)
    empty = folder / "20261121T080012.000000Z.mp4"
    empty.touch()
    (folder / ".20261121T080014.000000Z.mp4").write_bytes(b"hidden")
    (folder / "20261121T080016.000000Z.mp4.part").write_bytes(b"being written")
    (folder / "notes.txt").write_text("not a segment")

    result = scan(engine, report.root)
    assert result.added == 8
    failed = dict(result.failed)
    assert set(failed) == {str(garbage), str(empty)}
    assert "not readable media" in failed[str(garbage)]
    assert "empty" in failed[str(empty)]
    assert result.skipped == 3

    # unchanged bad files are reported again without being opened
    counting = CountingProbe()
    again = scan(engine, report.root, probe=counting)
    assert (counting.paths, dict(again.failed), again.unchanged) == ([], failed, 8)

    # once replaced with media, the file is indexed
    shutil.copyfile(report.segments[1].path, garbage)
    fixed = scan(engine, report.root)
    assert (fixed.added, [p for p, _ in fixed.failed]) == (1, [str(empty)])


def test_a_process_pool_indexes_the_same(tmp_path: Path, engine: Engine) -> None:
    report = archive(tmp_path / "archive", cameras=2, seconds=20)
    assert len(report.segments) == 20
    pooled = scan(engine, report.root, workers=2, pool_from=1)
    serial_engine = open_database(f"sqlite:///{tmp_path / 'serial.db'}")
    serial = scan(serial_engine, report.root, workers=1)
    assert pooled.added == serial.added == 20
    with engine.connect() as a, serial_engine.connect() as b:
        query = select(segments).order_by(segments.c.path)
        rows_a = [dict(r) for r in a.execute(query).mappings()]
        rows_b = [dict(r) for r in b.execute(query).mappings()]
    serial_engine.dispose()
    assert rows_a == rows_b


def test_a_file_deleted_under_the_index_is_source_unavailable(
    engine: Engine, report: GenerationReport
) -> None:
    scan(engine, report.root)
    source = LocalArchive(engine, report.root, 0.5)
    first, second = source.segments("cam1", WHOLE)[:2]
    assert source.check_segment(first) == Path(first.path)
    with source.open_segment(first) as handle:
        assert len(handle.read(8)) == 8

    Path(second.path).unlink()
    with pytest.raises(SourceUnavailable, match="deleted or moved since the last scan") as caught:
        source.check_segment(second)
    assert second.path in caught.value.message
    assert f"footage archive scan {report.root}" in caught.value.message
    with pytest.raises(SourceUnavailable, match="deleted or moved"):
        source.open_segment(second)

    Path(first.path).write_bytes(b"short")
    with pytest.raises(SourceUnavailable, match="changed size"):
        source.check_segment(first)


def test_local_archive_answers_from_the_index(engine: Engine, report: GenerationReport) -> None:
    scan(engine, report.root)
    source = LocalArchive(engine, report.root, 0.5)
    assert [c.id for c in source.cameras()] == ["cam1", "cam2"]
    assert source.camera("cam2").id == "cam2"
    span = TimeRange(start=T0 + timedelta(seconds=1), end=T0 + timedelta(seconds=5))
    assert [s.start for s in source.segments("cam2", span)] == [
        T0,
        T0 + timedelta(seconds=2),
        T0 + timedelta(seconds=4),
    ]
    timeline = source.timeline("cam2", span)
    assert [(s.start, s.end) for s in timeline.spans] == [(span.start, span.end)]
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(segments)).scalar() == 8
