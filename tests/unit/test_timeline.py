"""Timelines from segment bounds: merging within the tolerance, gaps, clipping to the range."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from footage.archive.local.timeline import build_timeline, merge_spans
from footage.domain import Timeline, TimeRange, from_us, to_us

S = 1_000_000
BASE = 1_800_000_000 * S  # 2027-01-15, any fixed instant


def _range(lo_s: float, hi_s: float) -> TimeRange:
    return TimeRange.from_us(BASE + round(lo_s * S), BASE + round(hi_s * S))


def _segments(*pairs: tuple[float, float]) -> list[tuple[int, int]]:
    return [(BASE + round(a * S), BASE + round(b * S)) for a, b in pairs]


def _seconds(items: tuple[object, ...]) -> list[tuple[float, float]]:
    out = []
    for item in items:
        start: datetime = item.start  # type: ignore[attr-defined]
        end: datetime = item.end  # type: ignore[attr-defined]
        out.append(((to_us(start) - BASE) / S, (to_us(end) - BASE) / S))
    return out


def _timeline(bounds: list[tuple[int, int]], lo: float, hi: float, tol: float = 0.5) -> Timeline:
    return build_timeline("cam1", _range(lo, hi), bounds, round(tol * S))


def test_contiguous_segments_make_one_span() -> None:
    tl = _timeline(_segments((0, 60), (60, 120), (120, 180)), 0, 180)
    assert _seconds(tl.spans) == [(0, 180)]
    assert tl.gaps == ()


def test_holes_within_the_tolerance_are_not_gaps() -> None:
    tl = _timeline(_segments((0, 60), (60.4, 120), (120.5, 180)), 0, 180, tol=0.5)
    assert _seconds(tl.spans) == [(0, 180)]
    assert tl.gaps == ()


def test_a_hole_longer_than_the_tolerance_is_a_gap() -> None:
    tl = _timeline(_segments((0, 60), (60.6, 120)), 0, 120, tol=0.5)
    assert _seconds(tl.spans) == [(0, 60), (60.6, 120)]
    assert _seconds(tl.gaps) == [(60, 60.6)]


def test_spans_and_gaps_are_clipped_to_the_range() -> None:
    tl = _timeline(_segments((0, 60), (90, 150), (200, 260)), 30, 230)
    assert _seconds(tl.spans) == [(30, 60), (90, 150), (200, 230)]
    assert _seconds(tl.gaps) == [(60, 90), (150, 200)]
    assert (tl.start, tl.end) == (from_us(BASE + 30 * S), from_us(BASE + 230 * S))


def test_leading_and_trailing_gaps_inside_the_range() -> None:
    tl = _timeline(_segments((10, 20)), 0, 30)
    assert _seconds(tl.spans) == [(10, 20)]
    assert _seconds(tl.gaps) == [(0, 10), (20, 30)]


def test_no_segments_is_one_gap() -> None:
    tl = _timeline([], 0, 30)
    assert tl.spans == ()
    assert _seconds(tl.gaps) == [(0, 30)]


def test_a_short_hole_just_outside_the_range_leaves_no_edge_gap() -> None:
    # the neighbour before the range ends 0.2 s before the next segment, inside the range
    tl = _timeline(_segments((-60, 0.1), (0.3, 60)), 0.2, 60)
    assert _seconds(tl.spans) == [(0.2, 60)]
    assert tl.gaps == ()


def test_overlapping_and_nested_segments_merge() -> None:
    tl = _timeline(_segments((0, 100), (10, 20), (50, 120), (130, 140)), 0, 140)
    assert _seconds(tl.spans) == [(0, 120), (130, 140)]
    assert _seconds(tl.gaps) == [(120, 130)]


def test_microseconds_are_kept_exactly() -> None:
    bounds = [(BASE + 1, BASE + 59_999_999), (BASE + 61_000_001, BASE + 120_000_000)]
    tl = build_timeline("cam1", TimeRange.from_us(BASE, BASE + 120_000_000), bounds, 500_000)
    assert [to_us(g.start) - BASE for g in tl.gaps] == [0, 59_999_999]
    assert [to_us(g.end) - BASE for g in tl.gaps] == [1, 61_000_001]


def test_merge_spans_keeps_the_longest_end() -> None:
    assert merge_spans([(0, 10), (2, 5), (10, 12), (20, 30)], 0) == [(0, 12), (20, 30)]


segment_lists = st.lists(st.tuples(st.integers(-50, 1_000), st.integers(1, 120)), max_size=30).map(
    lambda items: sorted((BASE + a * S // 10, BASE + (a + n) * S // 10) for a, n in items)
)


@given(
    bounds=segment_lists,
    lo=st.integers(-100, 1_000),
    length=st.integers(1, 1_200),
    tol_tenths=st.integers(0, 20),
)
def test_spans_and_gaps_tile_the_range(
    bounds: list[tuple[int, int]], lo: int, length: int, tol_tenths: int
) -> None:
    lo_us, hi_us, tol = BASE + lo * S // 10, BASE + (lo + length) * S // 10, tol_tenths * S // 10
    tl = build_timeline("cam1", TimeRange.from_us(lo_us, hi_us), bounds, tol)
    pieces = sorted(
        [(to_us(s.start), to_us(s.end), "span") for s in tl.spans]
        + [(to_us(g.start), to_us(g.end), "gap") for g in tl.gaps]
    )
    # the pieces tile [lo, hi) exactly, alternate between span and gap, and are not empty
    assert pieces[0][0] == lo_us and pieces[-1][1] == hi_us
    for (_, end, kind), (start, _, next_kind) in pairwise(pieces):
        assert end == start and kind != next_kind
    assert all(start < end for start, end, _ in pieces)
    for start, end, kind in pieces:
        touching = [(a, b) for a, b in bounds if a < end and b > start]
        if kind == "gap":
            # no segment records inside a gap
            assert not touching
            # a gap between two spans is longer than the tolerance
            if lo_us < start and end < hi_us:
                assert end - start > tol
        else:
            # a span starts and ends where recording does (or at the range's edges)
            assert start == lo_us or any(a == start for a, _ in bounds)
            assert end == hi_us or any(b == end for _, b in bounds)
