from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from footage.domain import InvalidRequest, TimeRange, from_us, parse_duration, parse_time, to_us


def test_parse_time_converts_offsets_to_utc() -> None:
    value = parse_time("2026-11-21T16:00:00+08:00")
    assert value == datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
    assert value.utcoffset() == timedelta(0)
    assert parse_time("2026-11-21T08:00:00Z") == value


def test_parse_time_refuses_naive_and_garbage_with_a_hint() -> None:
    with pytest.raises(InvalidRequest, match="no time zone"):
        parse_time("2026-11-21T08:00:00")
    with pytest.raises(InvalidRequest, match="ISO 8601"):
        parse_time("yesterday-ish")


def test_parse_time_now_uses_given_clock() -> None:
    now = datetime(2030, 1, 2, 3, 4, 5, tzinfo=timezone(timedelta(hours=2)))
    assert parse_time("now", now=now) == datetime(2030, 1, 2, 1, 4, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90m", 5400),
        ("24h", 86400),
        ("1h30m", 5400),
        ("10s", 10),
        ("1.5s", 1.5),
        ("60", 60),
        ("250ms", 0.25),
        ("2d", 172800),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text).total_seconds() == pytest.approx(seconds)


@pytest.mark.parametrize("text", ["", "h", "10x", "5m garbage", "m5"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(InvalidRequest, match="duration"):
        parse_duration(text)


def test_range_requires_end_after_start() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(InvalidRequest, match="not after the start"):
        TimeRange(start=start, end=start)
    assert TimeRange(start=start, end=start + timedelta(seconds=1)).duration == timedelta(seconds=1)


@given(st.integers(min_value=-(10**15), max_value=10**16))
def test_microseconds_round_trip_exactly(us: int) -> None:
    assert to_us(from_us(us)) == us
