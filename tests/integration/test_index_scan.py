"""Scanning generated archives of every layout and container indexes exactly what was written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from footage.archive.local.index import SegmentIndex
from footage.archive.local.scan import scan
from footage.db import open_database
from footage.db.schema import segments
from footage.domain import TimeRange, to_us
from footage.media.synth import GenerationReport
from tests.helpers.media import tiny_report

T0 = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)


def tiny(root: Path, layout: str, container: str, *, gaps: bool) -> GenerationReport:
    return tiny_report(
        root,
        T0,
        timedelta(seconds=20 if gaps else 8),
        segment_seconds=2,
        layout=layout,
        container=container,
        gaps=gaps,
        audio=True,
    )


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    return open_database(f"sqlite:///{tmp_path / 'footage.db'}")


@pytest.mark.parametrize("layout", ["native", "frigate", "mediamtx"])
@pytest.mark.parametrize("container", ["fmp4", "mp4", "ts"])
@pytest.mark.parametrize("gaps", [False, True], ids=["continuous", "gaps"])
def test_scan_indexes_every_generated_segment(
    tmp_path: Path, engine: Engine, layout: str, container: str, gaps: bool
) -> None:
    report = tiny(tmp_path / "archive", layout, container, gaps=gaps)
    written = {str(s.path.resolve()): s for s in report.segments}
    assert len(written) >= 4

    result = scan(engine, tmp_path / "archive", workers=1)

    assert (result.added, result.updated, result.removed, result.failed) == (len(written), 0, 0, [])
    with engine.connect() as conn:
        rows = conn.execute(select(segments)).mappings().all()
    assert {row["path"] for row in rows} == set(written)
    for row in rows:
        expected = written[row["path"]]
        assert row["camera_id"] == expected.camera_id == "cam1"
        assert row["layout"] == layout
        assert row["start_us"] == to_us(expected.start)
        assert abs(row["end_us"] - to_us(expected.end)) <= 1
        assert row["container"] == container
        assert (row["video_codec"], row["width"], row["height"]) == ("h264", 160, 96)
        assert row["fps"] == 10.0
        assert row["audio_codec"] == "aac"

    first, last = report.segments[0].start, max(s.end for s in report.segments)
    timeline = SegmentIndex(engine).timeline("cam1", TimeRange(start=first, end=last), 0.5)
    assert list(timeline.spans) == report.spans("cam1")
    assert list(timeline.gaps) == report.gaps("cam1")
    assert bool(timeline.gaps) == gaps
