"""Domain objects shared by every layer: time ranges, cameras, segments and the error hierarchy."""

from footage.domain.archive import Camera, Gap, Segment, Span, Timeline
from footage.domain.errors import (
    Conflict,
    FootageError,
    InvalidRequest,
    LoginScope,
    MediaError,
    NoSpace,
    NotFound,
    PermissionDenied,
    SourceTimeout,
    SourceUnavailable,
    TooManyLogins,
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
    "LoginScope",
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
    "TooManyLogins",
    "Unauthenticated",
    "ensure_utc",
    "from_us",
    "parse_duration",
    "parse_time",
    "to_us",
]
