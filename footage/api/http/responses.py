"""The error responses each route documents in OpenAPI (all in the one JSON error shape)."""

from __future__ import annotations

from typing import Any

from footage.api.http.schemas import ErrorOut

_TEXT = {
    400: "bad input (the message says which)",
    401: "not logged in, or the token is not valid",
    403: "the user lacks a permission, or the CSRF token is missing",
    404: "no such camera, task or file (another user's task is not found either)",
    409: "the task is not in a state that allows this",
    416: "the range selects no byte of the file",
    429: "too many failed logins from this address: not checked; Retry-After says when to try",
    422: "the recording cannot be read",
    503: "the recording is unavailable",
}


_HEADERS: dict[int, dict[str, Any]] = {
    429: {
        "Retry-After": {
            "description": "seconds to wait before trying again",
            "schema": {"type": "integer"},
        }
    },
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: 400 and 401 always, plus ``statuses``."""
    return {
        status: {"model": ErrorOut, "description": _TEXT[status]}
        | ({"headers": _HEADERS[status]} if status in _HEADERS else {})
        for status in sorted({400, 401, *statuses})
    }
