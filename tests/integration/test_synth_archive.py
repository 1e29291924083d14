"""Generated archives read back with PyAV: per-frame stamps, loop marks, sound, gaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from footage.domain import MediaError, from_us, to_us
from footage.media.synth import (
    AUDIO_RATE,
    GenerationReport,
    SynthOptions,
    decode_stamp,
    generate,
    plan_archive,
    read_stamp,
    tone_samples,
)
from footage.media.synth.audio import sample_index
from footage.media.synth.options import resolve

START = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
#: AAC at 48 kbit/s keeps a pure tone within about 0.01 of the source (amplitude 0.25).
TOLERANCE = 0.03
TINY: dict[str, object] = {"resolution": (160, 96), "fps": 10, "gop": 10, "start": START}


def _options(**changes: object) -> SynthOptions:
    return SynthOptions(**{**TINY, **changes})  # type: ignore[arg-type]


def _frames(path: Path) -> list[av.VideoFrame]:
    with av.open(str(path)) as container:
        return list(container.decode(video=0))


def _stamps_of(report: GenerationReport, fps: int) -> None:
    """Every decoded frame shows its segment's start + index / fps, to the ms."""
    for segment in report.segments:
        frames = _frames(segment.path)
        expected_frames = (to_us(segment.end) - to_us(segment.start)) * fps // 1_000_000
        assert len(frames) == expected_frames, segment.path
        assert frames[0].key_frame
        origin = to_us(segment.start)
        for index, frame in enumerate(frames):
            want = (origin + index * 1_000_000 // fps + 500) // 1000
            assert decode_stamp(frame) == want, (segment.path, index)


@pytest.mark.parametrize("container", ["fmp4", "mp4", "ts"])
def test_exact_stamps_on_every_frame(tmp_path: Path, container: str) -> None:
    options = _options(
        cameras=2, duration=timedelta(seconds=6), segment_seconds=2, container=container
    )
    report = generate(tmp_path, options)
    assert report.options.stamps == "exact"
    assert len(report.segments) == 6
    _stamps_of(report, options.fps)


def test_exact_stamps_with_hevc_and_odd_frame_times(tmp_path: Path) -> None:
    options = _options(
        cameras=1,
        duration=timedelta(seconds=2, milliseconds=500),
        start=START + timedelta(milliseconds=123),
        segment_seconds=1,
        fps=30,
        gop=15,
        codec="hevc",
        layout="mediamtx",
    )
    report = generate(tmp_path, options)
    assert [len(_frames(s.path)) for s in report.segments] == [30, 30, 15]
    for segment in report.segments:
        origin = to_us(segment.start)
        for index, frame in enumerate(_frames(segment.path)):
            want = origin + Fraction(index * 1_000_000, 30)
            assert abs(decode_stamp(frame) - want / 1000) <= Fraction(1, 2)


def test_worker_processes_write_the_same_archive(tmp_path: Path) -> None:
    options = _options(cameras=2, duration=timedelta(seconds=8), segment_seconds=2)
    calls: list[tuple[int, int]] = []
    pooled = generate(tmp_path / "pool", options, lambda d, t: calls.append((d, t)), workers=2)
    alone = generate(tmp_path / "alone", options, workers=1)
    assert calls == [(i, 8) for i in range(1, 9)]
    assert [s.start for s in pooled.segments] == [s.start for s in alone.segments]
    for a, b in zip(pooled.segments, alone.segments, strict=True):
        assert a.path.relative_to(tmp_path / "pool") == b.path.relative_to(tmp_path / "alone")
        assert a.path.read_bytes() == b.path.read_bytes()
    _stamps_of(pooled, options.fps)


def test_loop_stamps_are_marked_and_never_taken_for_true_times(tmp_path: Path) -> None:
    options = _options(cameras=2, duration=timedelta(seconds=8), segment_seconds=2, stamps="loop")
    report = generate(tmp_path, options)
    assert len(report.segments) == 8
    for camera_id in ("cam1", "cam2"):
        mine = [s for s in report.segments if s.camera_id == camera_id]
        template = mine[0].path.read_bytes()
        assert all(s.path.read_bytes() == template for s in mine[1:])
        for segment in mine:
            frames = _frames(segment.path)
            assert len(frames) == 20
            stamps = [read_stamp(f) for f in frames]
            assert all(s.loop for s in stamps)
            first_ms = to_us(mine[0].start) // 1000
            assert [s.ms for s in stamps] == [first_ms + 100 * i for i in range(20)]
            with pytest.raises(MediaError, match="LOOP"):
                decode_stamp(frames[0])


def test_no_half_files_are_left_behind(tmp_path: Path) -> None:
    report = generate(
        tmp_path, _options(cameras=1, duration=timedelta(seconds=4), segment_seconds=2)
    )
    names = [p.name for p in tmp_path.rglob("*") if p.is_file()]
    assert len(names) == len(report.segments)
    assert not [n for n in names if n.startswith(".") or n.endswith(".part")]


def _samples(path: Path) -> list[tuple[int, np.ndarray]]:
    """(offset from the first video frame in samples, mono samples) per decoded audio frame."""
    with av.open(str(path)) as container:
        video_start = next(container.decode(video=0)).time
    with av.open(str(path)) as container:
        frames = list(container.decode(audio=0))
    assert video_start is not None
    out = []
    for frame in frames:
        assert frame.time is not None and frame.sample_rate == AUDIO_RATE
        offset = round((frame.time - video_start) * AUDIO_RATE)
        out.append((offset, frame.to_ndarray()[0]))
    return out


@pytest.mark.parametrize("container", ["fmp4", "mp4", "ts"])
def test_sound_continues_across_segment_boundaries(tmp_path: Path, container: str) -> None:
    options = _options(
        cameras=2, duration=timedelta(seconds=4), segment_seconds=2, container=container
    )
    report = generate(tmp_path, options)
    for camera_index, camera_id in ((1, "cam1"), (2, "cam2")):
        mine = [s for s in report.segments if s.camera_id == camera_id]
        checked_end = checked_start = 0
        for number, segment in enumerate(mine):
            first = sample_index(to_us(segment.start), AUDIO_RATE)
            length = sample_index(to_us(segment.end), AUDIO_RATE) - first
            for offset, samples in _samples(segment.path):
                keep = [i for i in range(len(samples)) if 0 <= offset + i < length]
                if not keep:
                    continue
                got = samples[keep[0] : keep[-1] + 1]
                want = tone_samples(first + offset + keep[0], len(got), camera_index)
                assert np.max(np.abs(got - want)) < TOLERANCE, (segment.path, offset)
                if number == 0 and offset + keep[-1] == length - 1:
                    checked_end += 1
                if number == 1 and offset + keep[0] == 0:
                    checked_start += 1
        assert (checked_end, checked_start) == (1, 1), "the boundary was not covered"


def test_a_wrong_tone_would_be_noticed(tmp_path: Path) -> None:
    options = _options(cameras=1, duration=timedelta(seconds=2), segment_seconds=2)
    (segment,) = generate(tmp_path, options).segments
    first = sample_index(to_us(segment.start), AUDIO_RATE)
    offset, samples = _samples(segment.path)[5]
    shifted = tone_samples(first + offset + 3, len(samples), 1)
    assert np.max(np.abs(samples - shifted)) > 2 * TOLERANCE
    other_camera = tone_samples(first + offset, len(samples), 2)
    assert np.max(np.abs(samples - other_camera)) > 2 * TOLERANCE


def test_gaps_in_a_ten_minute_archive(tmp_path: Path) -> None:
    options = _options(
        cameras=2,
        duration=timedelta(minutes=10),
        segment_seconds=60,
        fps=5,
        gaps=True,
        seed=11,
        stamps="loop",
    )
    report = generate(tmp_path, options)
    assert report.options.stamps == "loop"
    files = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert files == sorted(s.path for s in report.segments)
    again = plan_archive(resolve(options))
    assert [(from_us(p.stretch.start_us), from_us(p.stretch.end_us)) for p in again] == [
        (s.start, s.end) for s in report.segments
    ]
    for camera_id in ("cam1", "cam2"):
        gaps = report.gaps(camera_id)
        assert gaps, f"{camera_id} has no gap"
        spans = report.spans(camera_id)
        assert spans[0].start == START
        assert spans[-1].end == START + timedelta(minutes=10)
        covered = sum(((s.end - s.start) for s in spans), timedelta())
        missing = sum(((g.end - g.start) for g in gaps), timedelta())
        assert covered + missing == timedelta(minutes=10)
        for gap in gaps:
            assert gap.end.microsecond == 0 and gap.start.microsecond == 0
            resumed = next(
                s for s in report.segments if s.camera_id == camera_id and s.start == gap.end
            )
            frames = _frames(resumed.path)
            assert frames[0].key_frame
            expected = (to_us(resumed.end) - to_us(resumed.start)) * 5 // 1_000_000
            assert len(frames) == expected
        cut = [
            s
            for s in report.segments
            if s.camera_id == camera_id and s.end in {g.start for g in gaps}
        ]
        for segment in cut:
            frames = _frames(segment.path)
            assert len(frames) == (to_us(segment.end) - to_us(segment.start)) * 5 // 1_000_000
            assert all(read_stamp(f).loop for f in frames)
