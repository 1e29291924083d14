"""Clip export over many segments: no drift, gaps skipped, splits by size, codec changes."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import av
import numpy as np
import pytest

from footage.domain import InvalidRequest, Segment, to_us
from tests.helpers.clips import FRAME_MS, at, check_clean, export, ms, shown, synth

AAC_FRAME_S = 1024 / 16000  # the generator's audio: 16 kHz AAC


@pytest.fixture(scope="module")
def sixty(tmp_path_factory: pytest.TempPathFactory) -> list[Segment]:
    """Sixty 2-second segments (fragmented MP4)."""
    return synth(tmp_path_factory.mktemp("sixty"), seconds=120, segment=2.0, resolution=(80, 48))


@pytest.mark.parametrize("fmt", ["mp4", "ts"])
def test_sixty_boundaries_do_not_drift(sixty: list[Segment], tmp_path: Path, fmt: str) -> None:
    result = export(sixty, 0.0, 120.0, tmp_path, format=fmt)
    (clip,) = result.files
    seen = shown(clip.path)
    assert len(seen.stamps) == 1200
    assert np.all(np.diff(seen.stamps) == FRAME_MS)  # continuous across every boundary
    assert seen.stamps[0] == ms(0) and seen.stamps[-1] == ms(119.9)
    with av.open(str(clip.path)) as c:
        video = c.streams.video[0]
        frames = [f for f in c.decode(video)]
        duration = float((frames[-1].pts - frames[0].pts) * video.time_base) + 0.1
    with av.open(str(clip.path)) as c:
        audio = c.streams.audio[0]
        a_frames = [f for f in c.decode(audio)]
        a_start = float(a_frames[0].pts * audio.time_base)
        a_end = float(a_frames[-1].pts * audio.time_base) + a_frames[-1].samples / audio.rate
    assert duration == pytest.approx(120.0, abs=0.1)  # within one frame of the recording
    assert a_end - a_start == pytest.approx(duration, abs=AAC_FRAME_S)
    assert result.recorded_seconds == pytest.approx(120.0)
    check_clean(clip.path)


def test_gaps_are_skipped_and_reported(sixty: list[Segment], tmp_path: Path) -> None:
    holed = sixty[:5] + sixty[8:12]  # 10 s .. 16 s missing
    result = export(holed, 3.0, 23.0, tmp_path)
    assert [(g.start, g.end) for g in result.gaps] == [(at(10), at(16))]
    (clip,) = result.files
    seen = shown(clip.path)
    steps = np.diff(seen.stamps)
    jumps = np.flatnonzero(steps != FRAME_MS)
    assert len(jumps) == 1 and steps[jumps[0]] == 6000 + FRAME_MS  # shown right after 9.9 s
    assert seen.stamps[0] == ms(3.0) and seen.stamps[-1] == ms(22.9)
    assert seen.video_seconds == pytest.approx(14.0, abs=0.11)  # 20 s asked, 6 s missing
    assert result.recorded_seconds == pytest.approx(14.0)
    check_clean(clip.path)


def test_a_gap_fails_when_asked(sixty: list[Segment], tmp_path: Path) -> None:
    holed = sixty[:5] + sixty[8:12]
    with pytest.raises(InvalidRequest, match="08:00:10"):
        export(holed, 3.0, 23.0, tmp_path, on_gap="fail")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("fmt", ["mp4", "mkv"])
def test_split_by_size_gives_valid_files_with_their_own_times(
    sixty: list[Segment], tmp_path: Path, fmt: str
) -> None:
    total = sum(s.size for s in sixty[:15])
    limit = total // 3
    result = export(sixty, 0.5, 29.5, tmp_path, format=fmt, max_file_size=limit)
    assert len(result.files) >= 3
    assert [f.path.name for f in result.files] == [
        f"clip_{i:03d}.{fmt}" for i in range(1, len(result.files) + 1)
    ]
    previous = None
    for clip in result.files:
        assert clip.size <= limit
        seen = shown(clip.path)
        assert seen.first_key
        assert np.all(np.diff(seen.stamps) == FRAME_MS)
        assert to_us(clip.last_ts) // 1000 == seen.stamps[-1]
        if previous is None:
            assert ms(0.0) <= seen.stamps[0] <= ms(0.6)
        else:
            assert seen.stamps[0] == previous + FRAME_MS  # nothing lost between files
            assert seen.stamps[0] % 1000 == 0  # each starts at a key frame
            assert to_us(clip.first_ts) // 1000 == seen.stamps[0]
        previous = seen.stamps[-1]
        check_clean(clip.path)
    assert previous is not None and previous >= ms(29.4)


@pytest.mark.parametrize("fmt", ["mp4", "mkv"])
def test_a_resolution_change_starts_a_new_file(tmp_path: Path, fmt: str) -> None:
    first = synth(tmp_path / "a", seconds=4, segment=2.0, resolution=(160, 96))
    second = synth(tmp_path / "b", seconds=4, segment=2.0, resolution=(192, 108), start=at(4))
    result = export(first + second, 1.0, 7.0, tmp_path / "out", format=fmt)
    assert [(f.width, f.height) for f in result.files] == [(160, 96), (192, 108)]
    assert [f.first_ts for f in result.files][1] == at(4)
    for clip in result.files:
        seen = shown(clip.path)
        assert np.all(np.diff(seen.stamps) == FRAME_MS)
        check_clean(clip.path)
    assert shown(result.files[0].path).stamps[-1] == ms(3.9)


@pytest.mark.parametrize("container", ["fmp4", "ts"])
def test_hevc_sources_export_as_hvc1(tmp_path: Path, container: str) -> None:
    segments = synth(tmp_path / "src", container=container, codec="hevc", seconds=6)
    (clip,) = export(segments, 1.35, 5.55, tmp_path / "out").files
    assert clip.video_codec == "hevc"
    with av.open(str(clip.path)) as c:
        assert c.streams.video[0].codec_context.codec_tag == "hvc1"
    seen = shown(clip.path)
    assert ms(1.35) <= seen.stamps[0] <= ms(1.45)
    assert ms(5.45) <= seen.stamps[-1] < ms(5.55)
    check_clean(clip.path)


def test_segments_that_overlap_do_not_repeat_time(sixty: list[Segment], tmp_path: Path) -> None:
    late = replace(sixty[1], start=sixty[1].start - timedelta(seconds=0.5))
    # the second segment claims to start 0.5 s early: the first is cut there
    (clip,) = export([sixty[0], late, sixty[2]], 0.0, 6.0, tmp_path).files
    seen = shown(clip.path)
    assert np.all(np.diff(seen.stamps) > 0)
    check_clean(clip.path)
