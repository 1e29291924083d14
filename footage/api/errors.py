"""The one table from domain errors to HTTP statuses and gRPC codes, and the JSON error shape.

Both API layers use it; neither decides statuses on its own. The first entry an error is an
instance of wins, so the table's order settles errors with two parents (a device's
"no recording" is both ``SourceUnavailable`` and ``NotFound``: it is reported as not found).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from footage.domain import (
    Conflict,
    FootageError,
    InvalidRequest,
    MediaError,
    NoSpace,
    NotFound,
    PermissionDenied,
    SourceTimeout,
    SourceUnavailable,
    TooManyLogins,
    Unauthenticated,
)


@dataclass(frozen=True, slots=True)
class Mapping:
    http_status: int
    grpc_code: str  # a grpc.StatusCode name; kept as text so HTTP code needs no grpc import


TABLE: tuple[tuple[type[FootageError], Mapping], ...] = (
    (Unauthenticated, Mapping(401, "UNAUTHENTICATED")),
    (PermissionDenied, Mapping(403, "PERMISSION_DENIED")),
    (NotFound, Mapping(404, "NOT_FOUND")),
    (InvalidRequest, Mapping(400, "INVALID_ARGUMENT")),
    (Conflict, Mapping(409, "FAILED_PRECONDITION")),
    (NoSpace, Mapping(507, "RESOURCE_EXHAUSTED")),
    # after NoSpace: a client reading the table backwards takes RESOURCE_EXHAUSTED as no_space
    (TooManyLogins, Mapping(429, "RESOURCE_EXHAUSTED")),
    (SourceTimeout, Mapping(504, "DEADLINE_EXCEEDED")),
    (MediaError, Mapping(422, "DATA_LOSS")),
    (SourceUnavailable, Mapping(503, "UNAVAILABLE")),
    (FootageError, Mapping(500, "INTERNAL")),
)


def mapping_for(exc: FootageError) -> Mapping:
    return next(mapping for cls, mapping in TABLE if isinstance(exc, cls))


def error_body(exc: FootageError) -> dict[str, Any]:
    """The JSON error shape of every HTTP error: ``{"error": {"code", "message"}}``."""
    return {"error": {"code": exc.code, "message": exc.message}}
