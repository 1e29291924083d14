"""Task ids: time-ordered, UUIDv7-shaped strings that sort in creation order."""

from __future__ import annotations

import os
import threading
import uuid
from datetime import datetime

from footage.domain import to_us


class TaskIds:
    """Makes ids ``xxxxxxxx-xxxx-7xxx-yxxx-xxxxxxxxxxxx``: 48 bits of milliseconds, a 12-bit
    counter (monotonic within a process, also within one millisecond) and 62 random bits."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._counter = 0

    def new(self, now: datetime) -> str:
        ms = to_us(now) // 1000
        with self._lock:
            if ms <= self._last_ms:
                ms = self._last_ms
                self._counter += 1
                if self._counter > 0xFFF:
                    ms += 1
                    self._counter = 0
            else:
                self._counter = 0
            self._last_ms = ms
            counter = self._counter
        rand = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
        value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | rand
        return str(uuid.UUID(int=value))
