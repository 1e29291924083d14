"""Parsing of HTTP Range and If-Range headers."""

from __future__ import annotations

import pytest

from footage.api.http.ranges import (
    ByteRange,
    RangeNotSatisfiable,
    if_range_allows,
    parse_range,
)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, None),
        ("bytes=0-0", ByteRange(0, 0)),
        ("bytes=0-", ByteRange(0, 999)),
        ("bytes=500-", ByteRange(500, 999)),
        ("bytes=-1", ByteRange(999, 999)),
        ("bytes=-5000", ByteRange(0, 999)),
        ("bytes=10-20000", ByteRange(10, 999)),
        ("BYTES = 1 - 2", ByteRange(1, 2)),
        ("items=0-1", None),
        ("bytes=0-1,5-6", None),
    ],
)
def test_ranges(header: str | None, expected: ByteRange | None) -> None:
    assert parse_range(header, 1000) == expected


@pytest.mark.parametrize("header", ["bytes=1000-", "bytes=5-4", "bytes=-0", "bytes=-", "bytes=a-"])
def test_unsatisfiable(header: str) -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range(header, 1000)


def test_empty_file_has_no_range() -> None:
    with pytest.raises(RangeNotSatisfiable):
        parse_range("bytes=-10", 0)


def test_content_range_and_length() -> None:
    assert ByteRange(10, 19).length == 10
    assert ByteRange(10, 19).content_range(100) == "bytes 10-19/100"


def test_if_range_compares_strong_etags_only() -> None:
    assert if_range_allows(None, '"a"')
    assert if_range_allows('"a"', '"a"')
    assert not if_range_allows('W/"a"', '"a"')
    assert not if_range_allows("Sat, 21 Nov 2026 10:00:00 GMT", '"a"')
