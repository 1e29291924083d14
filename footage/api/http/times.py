"""Reading times and ranges from query parameters and bodies, with messages that say how."""

from __future__ import annotations

from datetime import timedelta

from footage.domain import InvalidRequest, TimeRange, parse_time


def time_range(
    start: str, end: str, *, limit: timedelta | None = None, what: str = ""
) -> TimeRange:
    """``start``..``end`` (ISO 8601 with offsets, or ``now``); ``limit`` bounds its length."""
    try:
        span = TimeRange(start=parse_time(start), end=parse_time(end))
    except InvalidRequest as exc:
        raise InvalidRequest(f"{what}{exc.message}") from exc
    if limit is not None and span.duration > limit:
        raise InvalidRequest(
            f"{what}the range {span.duration} is longer than the {limit} allowed; ask for less"
        )
    return span
