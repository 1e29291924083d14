"""Picture options, segment lookup, series moments and conversion modes (no media files)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import av
import numpy as np
import pytest
from av.video.reformatter import ColorRange

from footage.domain import InvalidRequest, NotFound, Segment, TimeRange
from footage.media.picture import ConvertMode, PictureOptions
from footage.media.picture.jpeg import frame_to_rgb, source_range
from footage.media.picture.locate import SegmentIndex
from footage.media.picture.series import MAX_PICTURES, series_moments
from tests.helpers.media import fake_segment

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def segment(start_s: float, end_s: float, camera: str = "cam1") -> Segment:
    return fake_segment(
        T0, start_s, end_s, camera, container="mp4", width=320, height=180, fps=25.0
    )


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (PictureOptions(), (1920, 1080)),
        (PictureOptions(width=640), (640, 360)),
        (PictureOptions(height=270), (480, 270)),
        (PictureOptions(width=100, height=100), (100, 100)),
        (PictureOptions(width=1), (1, 1)),
    ],
)
def test_size_keeps_the_aspect_ratio_when_one_side_is_given(
    options: PictureOptions, expected: tuple[int, int]
) -> None:
    assert options.size_for(1920, 1080) == expected


@pytest.mark.parametrize(
    "arguments", [{"width": 0}, {"height": -1}, {"width": 20_000}, {"quality": 0}, {"quality": 101}]
)
def test_options_out_of_range_are_refused(arguments: dict[str, int]) -> None:
    with pytest.raises(InvalidRequest):
        PictureOptions(**arguments)


def test_index_finds_the_segment_holding_a_moment() -> None:
    first, second, third = segment(0, 10), segment(10, 20), segment(30, 40)
    index = SegmentIndex([third, first, second])
    assert index.at(T0) is first
    assert index.at(T0 + timedelta(seconds=9.999999)) is first
    assert index.at(T0 + timedelta(seconds=10)) is second  # half-open: the next one starts
    assert index.at(T0 + timedelta(seconds=25)) is None
    assert index.at(T0 + timedelta(seconds=40)) is None
    assert index.at(T0 - timedelta(microseconds=1)) is None


def test_index_prefers_the_later_of_overlapping_segments() -> None:
    long, late = segment(0, 60), segment(20, 30)
    index = SegmentIndex([long, late])
    assert index.at(T0 + timedelta(seconds=25)) is late
    assert index.at(T0 + timedelta(seconds=35)) is long  # past the short one: the long again


def test_not_recorded_names_camera_time_and_neighbours() -> None:
    index = SegmentIndex([segment(0, 10), segment(30, 40)])
    error = index.not_recorded(T0 + timedelta(seconds=20))
    assert isinstance(error, NotFound)
    assert "camera cam1" in error.message
    assert "2026-03-01T12:00:20+00:00" in error.message
    assert "12:00:10" in error.message and "12:00:30" in error.message


def test_segments_of_two_cameras_are_refused() -> None:
    with pytest.raises(InvalidRequest, match="cam1, cam2"):
        SegmentIndex([segment(0, 10), segment(10, 20, camera="cam2")])


def test_series_moments_cover_the_half_open_range() -> None:
    span = TimeRange(start=T0, end=T0 + timedelta(seconds=10))
    moments = series_moments(span, timedelta(seconds=2.5))
    assert moments == [T0 + timedelta(seconds=s) for s in (0, 2.5, 5, 7.5)]
    assert len(series_moments(span, timedelta(seconds=3))) == 4  # 0, 3, 6, 9


def test_series_moments_refuse_bad_intervals() -> None:
    span = TimeRange(start=T0, end=T0 + timedelta(hours=2))
    with pytest.raises(InvalidRequest):
        series_moments(span, timedelta(0))
    with pytest.raises(InvalidRequest, match=str(MAX_PICTURES)):
        series_moments(span, timedelta(milliseconds=10))


def test_convert_modes_check_their_values() -> None:
    assert ConvertMode.at_offset(timedelta(seconds=3)).offset == timedelta(seconds=3)
    with pytest.raises(InvalidRequest):
        ConvertMode.at_offset(timedelta(seconds=-1))
    with pytest.raises(InvalidRequest):
        ConvertMode.periodic(timedelta(0))


def yuv_frame(luma: int, *, fmt: str = "yuv420p", color_range: int = 0) -> av.VideoFrame:
    planes = np.full((48, 32), 128, dtype=np.uint8)
    planes[:32] = luma
    frame = av.VideoFrame.from_ndarray(planes, format=fmt)
    frame.color_range = color_range
    return frame


def test_untagged_and_limited_frames_are_read_as_limited_range() -> None:
    assert source_range(yuv_frame(16)) is ColorRange.MPEG
    assert source_range(yuv_frame(16, color_range=1)) is ColorRange.MPEG
    assert source_range(yuv_frame(0, color_range=2)) is ColorRange.JPEG
    assert source_range(yuv_frame(0, fmt="yuvj420p")) is ColorRange.JPEG
    rgb = av.VideoFrame.from_ndarray(np.zeros((4, 4, 3), dtype=np.uint8), format="rgb24")
    assert source_range(rgb) is None


@pytest.mark.parametrize(
    ("luma", "tag", "expected"),
    [(16, 0, 0), (235, 0, 255), (16, 1, 0), (235, 1, 255), (0, 2, 0), (255, 2, 255), (128, 2, 128)],
)
def test_limited_range_black_and_white_become_full_range(
    luma: int, tag: int, expected: int
) -> None:
    rgb = frame_to_rgb(yuv_frame(luma, color_range=tag), 32, 32)
    assert rgb.shape == (32, 32, 3)
    assert np.abs(rgb.astype(int) - expected).max() <= 1
