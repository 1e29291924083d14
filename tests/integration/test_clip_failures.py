"""Clip export failures: nothing recorded, missing or corrupt segments, cancellation."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from pathlib import Path

import pytest

from footage.domain import MediaError, NotFound, Segment, SourceUnavailable, TimeRange
from footage.media.clip import Cancelled, CancelToken, ClipOptions, export_clip
from tests.helpers.clips import at, export, synth


@pytest.fixture(scope="module")
def segments(tmp_path_factory: pytest.TempPathFactory) -> list[Segment]:
    return synth(tmp_path_factory.mktemp("src"), seconds=12, segment=4.0)


def test_nothing_recorded_names_camera_and_range(segments: list[Segment], tmp_path: Path) -> None:
    with pytest.raises(NotFound) as info:
        export(segments, 100.0, 110.0, tmp_path)
    message = str(info.value)
    assert "cam1" in message
    assert at(100).isoformat() in message and at(110).isoformat() in message


def test_a_deleted_segment_is_source_unavailable(segments: list[Segment], tmp_path: Path) -> None:
    gone = replace(segments[1], path=str(tmp_path / "deleted.mp4"))
    with pytest.raises(SourceUnavailable, match=r"deleted\.mp4"):
        export([segments[0], gone, segments[2]], 1.0, 11.0, tmp_path / "out")
    assert not (tmp_path / "out").exists() or list((tmp_path / "out").iterdir()) == []


@pytest.mark.parametrize("fmt", ["mp4", "mkv"])
def test_a_corrupt_segment_is_a_media_error_naming_it(
    segments: list[Segment], tmp_path: Path, fmt: str
) -> None:
    bad = tmp_path / "corrupt.mp4"
    bad.write_bytes(b"\x00\x00\x00\x10nonsense" + bytes(5000))
    broken = replace(segments[1], path=str(bad))
    out = tmp_path / "out"
    with pytest.raises(MediaError, match=r"corrupt\.mp4"):
        export([segments[0], broken, segments[2]], 1.0, 11.0, out, format=fmt)
    assert list(out.iterdir()) == []


@pytest.mark.parametrize("fmt", ["mp4", "ts"])
def test_cancel_from_the_progress_callback_leaves_nothing(
    segments: list[Segment], tmp_path: Path, fmt: str
) -> None:
    token = CancelToken()
    seen: list[float] = []

    def progress(pct: float) -> None:
        seen.append(pct)
        if pct > 20:
            token.cancel()

    span = TimeRange(start=at(0.5), end=at(11.5))
    with pytest.raises(Cancelled):
        export_clip(segments, span, tmp_path, ClipOptions(format=fmt), progress, token)
    assert seen and all(0 <= p <= 100 for p in seen)
    assert list(tmp_path.iterdir()) == []


def test_cancel_from_another_thread_stops_within_a_second(
    segments: list[Segment], tmp_path: Path
) -> None:
    token = CancelToken()
    cancelled_at: list[float] = []

    def slow_progress(_: float) -> None:
        time.sleep(0.05)  # a slow consumer keeps the export busy for several seconds

    def cancel_soon() -> None:
        time.sleep(0.3)
        cancelled_at.append(time.monotonic())
        token.cancel()

    span = TimeRange(start=at(0.0), end=at(12.0))
    thread = threading.Thread(target=cancel_soon)
    thread.start()
    with pytest.raises(Cancelled):
        export_clip(segments, span, tmp_path, ClipOptions(format="mp4"), slow_progress, token)
    stopped = time.monotonic()
    thread.join()
    assert stopped - cancelled_at[0] < 1.0
    assert list(tmp_path.iterdir()) == []


def test_progress_reaches_one_hundred(segments: list[Segment], tmp_path: Path) -> None:
    seen: list[float] = []
    span = TimeRange(start=at(0.5), end=at(11.5))
    export_clip(segments, span, tmp_path, ClipOptions(format="mp4"), seen.append)
    assert seen[-1] == 100.0
    assert seen == sorted(seen)
