"""The one error hierarchy. Every layer raises these; the API layers map them to protocol codes."""

from __future__ import annotations


class FootageError(Exception):
    """Root of all errors footage raises on purpose.

    ``code`` is a stable machine-readable reason; the message says what went wrong and,
    where possible, what to do about it.
    """

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class NotFound(FootageError):
    code = "not_found"


class InvalidRequest(FootageError):
    code = "invalid_request"


class Conflict(FootageError):
    code = "conflict"


class PermissionDenied(FootageError):
    code = "permission_denied"


class SourceUnavailable(FootageError):
    code = "source_unavailable"


class SourceTimeout(FootageError):
    code = "timeout"


class MediaError(FootageError):
    code = "media_error"


class NoSpace(FootageError):
    code = "no_space"


class Unauthenticated(FootageError):
    code = "unauthenticated"
