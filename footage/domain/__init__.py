"""Domain objects shared by every layer: time ranges, cameras, segments and the error hierarchy."""

from footage.domain.archive import Camera, Gap, Segment, Span, Timeline
from footage.domain.errors import (
    Conflict,
    FootageError,
    InvalidRequest,
    MediaError,
    NoSpace,
    NotFound,
    PermissionDenied,
    SourceTimeout,
    SourceUnavailable,
    Unauthenticated,
)
from footage.domain.timerange import (
    TimeRange,
    ensure_utc,
    from_us,
    parse_duration,
    parse_time,
    to_us,
)

__all__ = [
    "Camera",
    "Conflict",
    "FootageError",
    "Gap",
    "InvalidRequest",
    "MediaError",
    "NoSpace",
    "NotFound",
    "PermissionDenied",
    "Segment",
    "SourceTimeout",
    "SourceUnavailable",
    "Span",
    "TimeRange",
    "Timeline",
    "Unauthenticated",
    "ensure_utc",
    "from_us",
    "parse_duration",
    "parse_time",
    "to_us",
]
