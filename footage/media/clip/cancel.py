"""Cooperative cancellation of a running export."""

from __future__ import annotations

import threading

from footage.domain import FootageError


class Cancelled(FootageError):
    """The export was cancelled; every partial file has been removed."""

    code = "cancelled"


class CancelToken:
    """A thread-safe flag: any thread may ``cancel()``; the export checks it often."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise ``Cancelled`` when cancellation was requested."""
        if self._event.is_set():
            raise Cancelled("the export was cancelled")
