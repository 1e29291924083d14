"""The picture shown at a moment: the right frame, from synthetic footage that stamps its time."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from footage.domain import MediaError, NotFound, Segment, SourceUnavailable, to_us
from footage.media.picture import PictureOptions, picture_at
from tests.helpers.media import picture_ms, segments_of, tiny_report

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
FPS, GOP = 25, 25  # a key frame every second


def archive(root: Path, container: str, codec: str) -> list[Segment]:
    """30 s of one camera in three 10 s segments."""
    report = tiny_report(
        root,
        START,
        timedelta(seconds=30),
        segment_seconds=10.0,
        container=container,
        codec=codec,
        resolution=(320, 180),
        fps=FPS,
        gop=GOP,
    )
    return segments_of(report)


@pytest.fixture(scope="module", params=["mp4", "fmp4", "ts", "mp4-hevc"])
def segments(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> list[Segment]:
    container, _, codec = str(request.param).partition("-")
    root = tmp_path_factory.mktemp(f"archive-{request.param}")
    return archive(root, container, codec or "h264")


def shown_ms(moment_s: float) -> int:
    """Milliseconds after START of the last frame at or before ``moment_s``."""
    frame = round(moment_s * 1_000_000) * FPS // 1_000_000
    return frame * 1000 // FPS


@pytest.mark.parametrize(
    "moment_s",
    [
        0.0,  # the very first frame
        3.0,  # exactly on a key frame
        3.2,  # exactly on a frame inside a GOP
        3.05,  # between frames: the earlier one
        3.079999,  # a microsecond before the next frame
        5.001,  # just after a key frame
        5.999,  # the last frame of a GOP
        9.999,  # the last frame of a segment
        10.0,  # a segment boundary: the next segment's first frame
        10.01,
        29.99,  # the last frame recorded
    ],
)
def test_picture_shows_the_frame_at_or_before_the_moment(
    segments: list[Segment], tmp_path: Path, moment_s: float
) -> None:
    at = START + timedelta(seconds=moment_s)
    picture = picture_at(segments, at, tmp_path / "shot.jpg")
    expected_ms = to_us(START) // 1000 + shown_ms(moment_s)
    assert picture_ms(picture.path) == expected_ms
    assert to_us(picture.shown_at) == expected_ms * 1000
    assert picture.shown_at <= at


def test_picture_records_size_and_hash_and_leaves_no_temporary(
    segments: list[Segment], tmp_path: Path
) -> None:
    out = tmp_path / "pictures" / "shot.jpg"  # the folder is made
    picture = picture_at(segments, START + timedelta(seconds=4), out)
    data = out.read_bytes()
    assert data[:2] == b"\xff\xd8"
    assert picture.path == out
    assert picture.size == len(data)
    assert picture.sha256 == hashlib.sha256(data).hexdigest()
    assert [p.name for p in out.parent.iterdir()] == ["shot.jpg"]


def test_picture_size_and_quality(segments: list[Segment], tmp_path: Path) -> None:
    at = START + timedelta(seconds=4)
    small = picture_at(segments, at, tmp_path / "small.jpg", PictureOptions(width=160))
    with Image.open(small.path) as image:
        assert image.size == (160, 90)
    exact = picture_at(segments, at, tmp_path / "exact.jpg", PictureOptions(width=100, height=50))
    with Image.open(exact.path) as image:
        assert image.size == (100, 50)
    low = picture_at(segments, at, tmp_path / "low.jpg", PictureOptions(quality=20))
    high = picture_at(segments, at, tmp_path / "high.jpg", PictureOptions(quality=98))
    assert low.size < high.size
    assert picture_ms(high.path) == to_us(at) // 1000


@pytest.mark.parametrize("moment_s", [-0.001, 30.0, 3600.0])
def test_no_recording_names_camera_and_time(
    segments: list[Segment], tmp_path: Path, moment_s: float
) -> None:
    at = START + timedelta(seconds=moment_s)
    with pytest.raises(NotFound, match="no recording of camera cam1 at") as caught:
        picture_at(segments, at, tmp_path / "shot.jpg")
    assert at.isoformat() in caught.value.message
    assert not (tmp_path / "shot.jpg").exists()


def test_a_gap_between_segments_is_not_found(segments: list[Segment], tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="cam1"):
        picture_at([segments[0], segments[2]], START + timedelta(seconds=15), tmp_path / "x.jpg")


def test_a_missing_file_is_source_unavailable_naming_it(
    segments: list[Segment], tmp_path: Path
) -> None:
    gone = replace(segments[1], path=str(tmp_path / "gone.mp4"))
    with pytest.raises(SourceUnavailable, match=r"gone\.mp4") as caught:
        picture_at([segments[0], gone], START + timedelta(seconds=12), tmp_path / "x.jpg")
    assert "cam1" in caught.value.message


def test_a_damaged_file_is_a_media_error(segments: list[Segment], tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(bytes(range(256)) * 64)
    damaged = replace(segments[0], path=str(junk))
    with pytest.raises(MediaError, match=r"junk\.mp4"):
        picture_at([damaged], START + timedelta(seconds=2), tmp_path / "x.jpg")
