"""A per-device limit on simultaneous requests (devices serve one or two sessions at a time)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from footage.devices.errors import DeviceBusy


class DeviceLimiter:
    """At most ``limit`` requests to one device at once; share one per device address."""

    def __init__(self, limit: int = 1, device: str = "") -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.device = device
        self._slots = threading.BoundedSemaphore(limit)
        self._lock = threading.Lock()
        self._active = 0
        self.peak = 0

    @property
    def active(self) -> int:
        with self._lock:
            return self._active

    @contextmanager
    def slot(self, timeout: float | None = None) -> Iterator[None]:
        """Hold one slot for the duration of the block; ``DeviceBusy`` if none frees in time."""
        if not self._slots.acquire(timeout=timeout):
            raise DeviceBusy(
                f"{self.device}: all {self.limit} connection slots stayed busy for {timeout:.0f}s",
                device=self.device,
            )
        with self._lock:
            self._active += 1
            self.peak = max(self.peak, self._active)
        try:
            yield
        finally:
            with self._lock:
                self._active -= 1
            self._slots.release()
