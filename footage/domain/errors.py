"""The one error hierarchy. Every layer raises these; the API layers map them to protocol codes."""

from __future__ import annotations

from typing import Literal

LoginScope = Literal["user", "address"]


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


class TooManyLogins(FootageError):
    """A login refused unseen: too many failures from this address (HTTP 429, gRPC
    RESOURCE_EXHAUSTED). ``retry_after``: whole seconds until an attempt is let through;
    ``scope``: whether the user name from this address (``user``) or the whole address
    (``address``) is locked."""

    code = "too_many_logins"

    def __init__(
        self,
        message: str,
        *,
        retry_after: int = 1,
        scope: LoginScope = "user",
        code: str | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after
        self.scope: LoginScope = scope


class NoSpace(FootageError):
    code = "no_space"


class Unauthenticated(FootageError):
    code = "unauthenticated"
