"""Planning a clip: which segments, their windows, output positions and gaps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from footage.domain import InvalidRequest, NotFound, Segment, TimeRange, to_us
from footage.media.clip import Cancelled, CancelToken, ClipOptions
from footage.media.clip.plan import plan_clip
from tests.helpers.media import fake_segment

T0 = datetime(2026, 5, 1, 10, 0, tzinfo=UTC)


def seg(start: float, end: float, cam: str = "cam1") -> Segment:
    return fake_segment(T0, start, end, cam)


def span(start: float, end: float) -> TimeRange:
    return TimeRange(start=T0 + timedelta(seconds=start), end=T0 + timedelta(seconds=end))


def us(seconds: float) -> int:
    return to_us(T0) + round(seconds * 1e6)


def test_contiguous_segments_give_windows_and_positions() -> None:
    plan = plan_clip([seg(10, 20), seg(0, 10), seg(20, 30)], span(5, 25), on_gap="skip")
    assert [p.begin_us for p in plan.pieces] == [us(5), us(10), us(20)]
    assert [p.end_us for p in plan.pieces] == [us(10), us(20), us(25)]
    assert [p.out_us for p in plan.pieces] == [0, 10_000_000, 20_000_000]
    assert [p.first for p in plan.pieces] == [True, False, False]
    assert [p.last for p in plan.pieces] == [False, False, True]
    assert plan.gaps == ()
    assert plan.recorded_seconds == pytest.approx(20.0)


def test_gaps_are_reported_and_skipped_on_the_output_timeline() -> None:
    plan = plan_clip([seg(0, 10), seg(15, 20)], span(-3, 24), on_gap="skip")
    assert [(g.start, g.end) for g in plan.gaps] == [
        (T0 - timedelta(seconds=3), T0),
        (T0 + timedelta(seconds=10), T0 + timedelta(seconds=15)),
        (T0 + timedelta(seconds=20), T0 + timedelta(seconds=24)),
    ]
    assert plan.pieces[1].out_us == 10_000_000  # lands right after the first segment
    assert plan.recorded_seconds == pytest.approx(15.0)


def test_small_holes_are_jitter_not_gaps() -> None:
    plan = plan_clip([seg(0, 10), seg(10.1, 20)], span(0, 20), on_gap="fail")
    assert plan.gaps == ()
    assert plan.pieces[1].out_us == 10_100_000


def test_gap_fails_when_asked() -> None:
    with pytest.raises(InvalidRequest, match="10:00:10"):
        plan_clip([seg(0, 10), seg(15, 20)], span(0, 20), on_gap="fail")


def test_no_recording_names_camera_and_range() -> None:
    with pytest.raises(NotFound) as info:
        plan_clip([seg(0, 10, cam="door")], span(30, 40), on_gap="skip")
    text = str(info.value)
    assert "door" in text and "10:00:30" in text and "10:00:40" in text


def test_overlapping_segments_are_cut_where_the_next_begins() -> None:
    plan = plan_clip([seg(0, 12), seg(10, 20), seg(11, 19)], span(0, 20), on_gap="skip")
    assert len(plan.pieces) == 2  # the one inside the second is dropped
    assert plan.pieces[0].end_us == us(10) and plan.pieces[0].truncated
    assert plan.pieces[1].begin_us == us(10)


def test_options_are_checked() -> None:
    with pytest.raises(InvalidRequest, match="format"):
        ClipOptions(format="avi")
    with pytest.raises(InvalidRequest, match="gap"):
        ClipOptions(on_gap="ignore")
    with pytest.raises(InvalidRequest, match="stem"):
        ClipOptions(file_stem="../x")
    assert ClipOptions(format="ts").mime_type == "video/mp2t"


def test_cancel_token() -> None:
    token = CancelToken()
    token.check()
    token.cancel()
    assert token.cancelled
    with pytest.raises(Cancelled) as info:
        token.check()
    assert info.value.code == "cancelled"
