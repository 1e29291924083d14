"""``SegmentIndex`` on a real SQLite file holding a day of ten cameras: answers and query plans."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, insert, text

from footage.archive.local.index import SegmentIndex
from footage.db import open_database
from footage.db.schema import cameras, segments
from footage.domain import NotFound, TimeRange, to_us

DAY = datetime(2026, 11, 21, tzinfo=UTC)
MIN = 60_000_000
CAMERAS = [f"cam{n}" for n in range(1, 11)]
HOLES = {100, 101, 700}  # minutes with no file on cam1 (a 2-minute and a 1-minute gap)


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    db = tmp_path_factory.mktemp("index") / "footage.db"
    engine = open_database(f"sqlite:///{db}")
    base = to_us(DAY)
    rows: list[dict[str, Any]] = []
    for camera in CAMERAS:
        for minute in range(1440):
            if camera == "cam1" and minute in HOLES:
                continue
            start = base + minute * MIN
            rows.append(
                {
                    "camera_id": camera,
                    "path": f"/archive/{camera}/{minute:04d}.mp4",
                    "layout": "native",
                    "start_us": start,
                    "end_us": start + MIN - (200_000 if minute == 300 else 0),
                    "container": "fmp4",
                    "video_codec": "h264",
                    "width": 160,
                    "height": 96,
                    "fps": 10.0,
                    "audio_codec": None,
                    "size": 1000,
                    "mtime_ns": 1,
                }
            )
    with engine.begin() as conn:
        conn.execute(insert(cameras), [{"id": c, "name": c} for c in CAMERAS])
        conn.execute(insert(segments), rows)
    yield engine
    engine.dispose()


def at(minutes: float) -> datetime:
    return DAY + timedelta(minutes=minutes)


def test_cameras_are_sorted(engine: Engine) -> None:
    assert [c.id for c in SegmentIndex(engine).cameras()] == sorted(CAMERAS)


def test_unknown_camera_names_the_known_ones(engine: Engine) -> None:
    with pytest.raises(NotFound, match="cam1, cam10, cam2"):
        SegmentIndex(engine).camera("cam99")
    with pytest.raises(NotFound):
        SegmentIndex(engine).timeline("cam99", TimeRange(start=at(0), end=at(1)), 0.5)


def test_segments_overlapping_a_range_in_order(engine: Engine) -> None:
    found = SegmentIndex(engine).segments("cam2", TimeRange(start=at(10), end=at(13)))
    # the file ending exactly at the start and the one starting exactly at the end are out
    assert [Path(s.path).name for s in found] == ["0010.mp4", "0011.mp4", "0012.mp4"]
    found = SegmentIndex(engine).segments("cam2", TimeRange(start=at(10.5), end=at(12.01)))
    assert [Path(s.path).name for s in found] == ["0010.mp4", "0011.mp4", "0012.mp4"]
    first = found[0]
    assert (first.start, first.end, first.camera_id) == (at(10), at(11), "cam2")
    assert (first.container, first.width, first.height, first.audio_codec) == (
        "fmp4",
        160,
        96,
        None,
    )


def test_timeline_of_a_day(engine: Engine) -> None:
    tl = SegmentIndex(engine).timeline("cam1", TimeRange(start=at(-5), end=at(1445)), 0.5)
    spans = [(s.start, s.end) for s in tl.spans]
    gaps = [(g.start, g.end) for g in tl.gaps]
    # the 0.2 s hole after minute 300 is within the 0.5 s tolerance
    assert spans == [(at(0), at(100)), (at(102), at(700)), (at(701), at(1440))]
    assert gaps == [(at(-5), at(0)), (at(100), at(102)), (at(700), at(701)), (at(1440), at(1445))]


def test_a_narrower_tolerance_shows_short_holes(engine: Engine) -> None:
    tl = SegmentIndex(engine).timeline("cam1", TimeRange(start=at(290), end=at(310)), 0.1)
    hole = at(300) + timedelta(seconds=59.8)
    assert [(s.start, s.end) for s in tl.spans] == [(at(290), hole), (at(301), at(310))]
    assert [(g.start, g.end) for g in tl.gaps] == [(hole, at(301))]


def test_summaries(engine: Engine) -> None:
    summary = {s.camera.id: s for s in SegmentIndex(engine).summaries()}
    assert summary["cam1"].segments == 1440 - len(HOLES)
    assert summary["cam2"].segments == 1440
    assert (summary["cam2"].first, summary["cam2"].last) == (at(0), at(1440))
    assert summary["cam2"].recorded == timedelta(hours=24, seconds=-0.2)


def _plans(engine: Engine, call: Any) -> list[str]:
    """The SQLite query plans of the SELECTs on ``segments`` that ``call`` runs."""
    seen: list[tuple[str, Any]] = []

    def remember(conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM segments" in statement:
            seen.append((statement, params))

    event.listen(engine, "before_cursor_execute", remember)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    assert seen, "the call ran no query on segments"
    plans = []
    with engine.connect() as conn:
        for statement, params in seen:
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).all()
            plans.append(" | ".join(str(row[-1]) for row in rows))
    return plans


@pytest.mark.parametrize("minute", [5, 720, 1430])
def test_queries_search_the_camera_time_indexes(engine: Engine, minute: int) -> None:
    index = SegmentIndex(engine)
    span = TimeRange(start=at(minute), end=at(minute + 3))
    for call in (
        lambda: index.timeline("cam3", span, 0.5),
        lambda: index.segments("cam3", span),
    ):
        for plan in _plans(engine, call):
            assert "SEARCH segments USING" in plan, plan
            assert "ix_segments_camera_" in plan, plan
            assert "SCAN segments" not in plan, plan


def test_the_timeline_is_read_from_the_index_alone(engine: Engine) -> None:
    index = SegmentIndex(engine)
    span = TimeRange(start=at(600), end=at(660))
    (plan,) = _plans(engine, lambda: index.timeline("cam4", span, 0.5))
    assert "COVERING INDEX" in plan, plan


def test_database_has_the_indexes(engine: Engine) -> None:
    with engine.connect() as conn:
        names = {row[1] for row in conn.execute(text("PRAGMA index_list('segments')"))}
    assert {"ix_segments_camera_start", "ix_segments_camera_end"} <= names
