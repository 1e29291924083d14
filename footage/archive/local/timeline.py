"""Turn segment time bounds into a timeline: merged spans and the gaps between them."""

from __future__ import annotations

from collections.abc import Iterable

from footage.domain import Gap, Span, Timeline, TimeRange, from_us


def merge_spans(bounds: Iterable[tuple[int, int]], tolerance_us: int) -> list[tuple[int, int]]:
    """Merge ``(start_us, end_us)`` pairs sorted by start; holes up to ``tolerance_us`` close."""
    merged: list[tuple[int, int]] = []
    for start, end in bounds:
        if merged and start - merged[-1][1] <= tolerance_us:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def build_timeline(
    camera_id: str,
    span: TimeRange,
    bounds: Iterable[tuple[int, int]],
    tolerance_us: int,
) -> Timeline:
    """The timeline of ``camera_id`` within ``span`` from segment bounds sorted by start.

    ``bounds`` should include the segments within ``tolerance_us`` of either edge, so a hole
    shorter than the tolerance just outside the range does not show as a gap at its edge.
    Everything is clipped to ``span``; a gap is any part of ``span`` no merged span covers.
    """
    lo, hi = span.start_us, span.end_us
    clipped = [
        (max(start, lo), min(end, hi))
        for start, end in merge_spans(bounds, tolerance_us)
        if end > lo and start < hi
    ]
    gaps: list[tuple[int, int]] = []
    cursor = lo
    for start, end in clipped:
        if start > cursor:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    if cursor < hi:
        gaps.append((cursor, hi))
    return Timeline(
        camera_id=camera_id,
        start=span.start,
        end=span.end,
        spans=tuple(Span(start=from_us(s), end=from_us(e)) for s, e in clipped),
        gaps=tuple(Gap(start=from_us(s), end=from_us(e)) for s, e in gaps),
    )
