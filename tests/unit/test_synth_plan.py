"""Planning a synthetic archive: segments, outages, and the report's spans and gaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path, PurePosixPath

import pytest

from footage.archive.local.layout import get_layout
from footage.domain import Gap, NotFound, Span, from_us, to_us
from footage.media.synth import GenerationReport, SynthOptions, WrittenSegment, plan_archive
from footage.media.synth.options import resolve
from footage.media.synth.plan import PlannedSegment, outages

START = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


def _options(**changes: object) -> SynthOptions:
    base: dict[str, object] = {
        "cameras": 3,
        "duration": timedelta(minutes=10),
        "start": START,
        "segment_seconds": 60.0,
        "gaps": True,
    }
    base.update(changes)
    return resolve(SynthOptions(**base))  # type: ignore[arg-type]


def _by_camera(planned: list[PlannedSegment], camera_id: str) -> list[PlannedSegment]:
    return [p for p in planned if p.camera_id == camera_id]


def test_without_gaps_segments_tile_the_whole_duration() -> None:
    options = _options(gaps=False, duration=timedelta(minutes=10, seconds=30))
    planned = plan_archive(options)
    for camera_id in options.camera_ids():
        mine = _by_camera(planned, camera_id)
        assert len(mine) == 11
        assert mine[0].stretch.start_us == to_us(START)
        assert mine[-1].stretch.end_us == to_us(START + options.duration)
        assert mine[-1].stretch.frames == 30 * options.fps  # the last one is cut short
        for a, b in pairwise(mine):
            assert a.stretch.end_us == b.stretch.start_us
            assert a.stretch.frames == 60 * options.fps


def test_ten_minutes_with_gaps_has_a_gap_on_every_camera() -> None:
    options = _options()
    for index in range(1, options.cameras + 1):
        found = outages(options, index)
        assert found, f"camera {index} has no outage"
        for begin, end in found:
            assert begin % 1_000_000 == 0 and end % 1_000_000 == 0
            assert end > begin


def test_outages_are_deterministic_for_a_seed_and_vary_with_it() -> None:
    first = [outages(_options(seed=7), i) for i in (1, 2, 3)]
    again = [outages(_options(seed=7), i) for i in (1, 2, 3)]
    other = [outages(_options(seed=8), i) for i in (1, 2, 3)]
    assert first == again
    assert first != other
    assert plan_archive(_options(seed=7)) == plan_archive(_options(seed=7))


def test_outages_vary_in_length_over_a_day() -> None:
    options = _options(duration=timedelta(hours=24), cameras=1)
    lengths = [(end - begin) / 1e6 for begin, end in outages(options, 1)]
    assert 3 <= len(lengths) <= 8
    assert any(length < 60 for length in lengths), lengths
    assert any(length > 120 for length in lengths), lengths


def test_recording_resumes_with_a_new_segment_after_each_outage() -> None:
    options = _options(duration=timedelta(hours=6), cameras=1, seed=3)
    planned = plan_archive(options)
    starts = {p.stretch.start_us for p in planned}
    ends = {p.stretch.end_us for p in planned}
    for begin, end in outages(options, 1):
        assert end in starts, "no segment starts where the outage ends"
        assert begin in ends, "the segment before the outage is not cut at its start"
        assert not any(begin < p.stretch.start_us < end for p in planned)


def test_short_archives_get_no_gaps() -> None:
    options = _options(duration=timedelta(seconds=6), segment_seconds=2.0)
    assert outages(options, 1) == []


def test_frigate_segments_start_on_whole_seconds() -> None:
    options = _options(layout="frigate", segment_seconds=10, duration=timedelta(hours=1))
    for p in plan_archive(options):
        assert p.stretch.start_us % 1_000_000 == 0
        assert p.relpath.parts[0] == "recordings"


def test_paths_come_from_the_layout() -> None:
    for layout in ("native", "frigate", "mediamtx"):
        for container, ext in (("fmp4", "mp4"), ("mp4", "mp4"), ("ts", "ts")):
            options = _options(layout=layout, container=container, gaps=False)
            for p in plan_archive(options)[:3]:
                start = from_us(p.stretch.start_us)
                assert p.relpath == get_layout(layout).relpath(p.camera_id, start, ext)


def test_frame_times_round_to_the_microsecond_and_meet_exactly() -> None:
    options = _options(fps=30, segment_seconds=1.0, gaps=False, duration=timedelta(seconds=5))
    planned = _by_camera(plan_archive(options), "cam1")
    assert [p.stretch.frames for p in planned] == [30] * 5
    assert planned[0].stretch.frame_us(1) - planned[0].stretch.frame_us(0) == 33_333
    assert planned[0].stretch.frame_us(2) - planned[0].stretch.frame_us(0) == 66_667
    for a, b in pairwise(planned):
        assert a.stretch.end_us == b.stretch.start_us


def _segment(camera: str, start_s: float, end_s: float) -> WrittenSegment:
    return WrittenSegment(
        camera_id=camera,
        path=Path("/r") / camera / f"{start_s}.mp4",
        start=START + timedelta(seconds=start_s),
        end=START + timedelta(seconds=end_s),
    )


def _at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


def test_report_merges_spans_and_finds_gaps() -> None:
    report = GenerationReport(
        root=Path("/r"),
        options=_options(cameras=2),
        segments=(
            _segment("cam1", 0, 60),
            _segment("cam1", 60, 95.5),
            _segment("cam1", 130, 190),
            _segment("cam1", 190, 200),
            _segment("cam1", 250, 300),
            _segment("cam2", 0, 60),
        ),
    )
    assert report.spans("cam1") == [
        Span(start=_at(0), end=_at(95.5)),
        Span(start=_at(130), end=_at(200)),
        Span(start=_at(250), end=_at(300)),
    ]
    assert report.gaps("cam1") == [
        Gap(start=_at(95.5), end=_at(130)),
        Gap(start=_at(200), end=_at(250)),
    ]
    assert report.gaps("cam2") == []
    with pytest.raises(NotFound, match="cam9"):
        report.spans("cam9")
    data = report.to_json()
    assert data["cameras"] == ["cam1", "cam2"]
    assert data["gaps"]["cam1"][0] == {
        "start": "2026-11-21T09:01:35.500000Z",
        "end": "2026-11-21T09:02:10.000000Z",
    }
    assert data["segments"][0]["path"] == PurePosixPath("cam1/0.mp4").as_posix()
    assert data["spans"]["cam2"] == [
        {"start": "2026-11-21T09:00:00.000000Z", "end": "2026-11-21T09:01:00.000000Z"}
    ]
