"""A series of pictures: right frames, gaps skipped, one pass, progress and cancel."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from footage.domain import Segment, TimeRange, to_us
from footage.media.picture import picture_series, run_series
from footage.media.picture.reader import FrameReader
from tests.helpers.media import picture_ms, segments_of, tiny_report

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
FPS, GOP = 25, 25


@pytest.fixture(scope="module")
def segments(tmp_path_factory: pytest.TempPathFactory) -> list[Segment]:
    """40 s in four 10 s segments."""
    report = tiny_report(
        tmp_path_factory.mktemp("archive"),
        START,
        timedelta(seconds=40),
        segment_seconds=10.0,
        container="mp4",
        resolution=(320, 180),
        fps=FPS,
        gop=GOP,
    )
    return segments_of(report)


def expected_ms(moment: datetime) -> int:
    """The stamp of the last frame at or before ``moment`` (frames every 40 ms from START)."""
    since = to_us(moment) - to_us(START)
    return to_us(START) // 1000 + since // 40_000 * 40


def span(start_s: float, end_s: float) -> TimeRange:
    return TimeRange(start=START + timedelta(seconds=start_s), end=START + timedelta(seconds=end_s))


def test_series_shows_the_frame_at_or_before_each_moment(
    segments: list[Segment], tmp_path: Path
) -> None:
    every = timedelta(seconds=0.77)  # lands between frames, on and off key frames
    pictures = picture_series(segments, span(0.5, 40), every, tmp_path, file_stem="cam1")
    moments = [START + timedelta(seconds=0.5) + every * n for n in range(52)]
    assert len(pictures) == len(moments)
    for number, (picture, moment) in enumerate(zip(pictures, moments, strict=True), start=1):
        assert picture.path == tmp_path / f"cam1_{number:04d}.jpg"
        assert picture_ms(picture.path) == expected_ms(moment), picture.path.name
        assert to_us(picture.shown_at) == expected_ms(moment) * 1000
    assert sorted(p.name for p in tmp_path.iterdir()) == [p.path.name for p in pictures]


def test_moments_in_gaps_are_skipped_and_reported(segments: list[Segment], tmp_path: Path) -> None:
    with_gap = [segments[0], segments[1], segments[3]]  # nothing from 20 s to 30 s
    result = run_series(with_gap, span(0, 60), timedelta(seconds=4), tmp_path)
    written = [to_us(p.shown_at) // 1000 - to_us(START) // 1000 for p in result.pictures]
    assert written == [0, 4000, 8000, 12000, 16000, 32000, 36000]
    assert [to_us(s.at) // 1000 - to_us(START) // 1000 for s in result.skipped] == [
        20000,
        24000,
        28000,
        40000,
        44000,
        48000,
        52000,
        56000,
    ]
    assert all("no recording of camera cam1" in s.reason for s in result.skipped)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == [f"picture_{n:04d}.jpg" for n in (1, 2, 3, 4, 5, 9, 10)]
    for picture in result.pictures:
        assert picture_ms(picture.path) == to_us(picture.shown_at) // 1000
    assert not result.cancelled


def test_a_missing_file_skips_its_moments(segments: list[Segment], tmp_path: Path) -> None:
    missing = replace(segments[1], path=str(tmp_path / "lost.mp4"))
    result = run_series([segments[0], missing], span(8, 14), timedelta(seconds=2), tmp_path / "out")
    assert len(result.pictures) == 1
    assert len(result.skipped) == 2
    assert all("lost.mp4" in s.reason for s in result.skipped)


def test_cancel_stops_the_series(segments: list[Segment], tmp_path: Path) -> None:
    asked: list[bool] = []

    def cancel() -> bool:
        asked.append(True)
        return True

    result = run_series(segments, span(0, 40), timedelta(seconds=0.04), tmp_path, cancel=cancel)
    assert result.cancelled
    assert asked
    assert len(result.pictures) < 1000  # of 1000 moments
    assert sorted(tmp_path.iterdir()) == sorted(p.path for p in result.pictures)
    for picture in result.pictures[:20]:
        assert picture_ms(picture.path) == to_us(picture.shown_at) // 1000


def test_progress_is_reported_in_the_calling_thread(
    segments: list[Segment], tmp_path: Path
) -> None:
    seen: list[tuple[float, str]] = []

    def progress(fraction: float) -> None:
        seen.append((fraction, threading.current_thread().name))

    result = run_series(segments, span(0, 40), timedelta(seconds=0.5), tmp_path, progress=progress)
    assert not result.cancelled and len(result.pictures) == 80
    fractions = [fraction for fraction, _ in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    assert {name for _, name in seen} == {threading.current_thread().name}


class CountingReader(FrameReader):
    """Counts the packets sent to the decoder (the drain counts as one)."""

    decoded = 0

    def _collect(self, packet: Any) -> None:
        self.decoded += 1
        super()._collect(packet)


def test_moments_in_one_gop_are_decoded_once(segments: list[Segment]) -> None:
    offsets = [100_000, 300_000, 520_000, 840_000]  # frames 2, 7, 13, 21 of the first GOP
    with CountingReader(Path(segments[0].path), threads=1) as reader:
        shown = [
            reader.shown_at(offset, next_offset_us=following)
            for offset, following in zip(offsets, [*offsets[1:], None], strict=True)
        ]
        assert [frame.offset_us for frame in shown if frame] == [80_000, 280_000, 520_000, 840_000]
        assert reader.decoded <= 22 + 1


def test_far_moments_skip_the_frames_between(segments: list[Segment]) -> None:
    with CountingReader(Path(segments[0].path), threads=1) as reader:
        first = reader.shown_at(200_000)
        later = reader.shown_at(4_120_000)  # three GOPs on: read past, not decoded
        last = reader.shown_at(9_960_000)  # far: a seek
        assert first and later and last
        assert (first.offset_us, later.offset_us, last.offset_us) == (200_000, 4_120_000, 9_960_000)
        assert reader.decoded <= (6 + 1) + (4 + 1) + (25 + 1)


def test_earlier_moments_are_still_right(segments: list[Segment]) -> None:
    with FrameReader(Path(segments[0].path)) as reader:
        for offset in (5_500_000, 5_300_000, 1_000_000, 5_520_000, 0):
            shown = reader.shown_at(offset, next_offset_us=5_600_000)
            assert shown is not None
            assert shown.offset_us == offset // 40_000 * 40_000
