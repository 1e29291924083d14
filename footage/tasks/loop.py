"""A background thread with start/stop and context-manager use, for the tasks' loops."""

from __future__ import annotations

import threading
from typing import Self


class BackgroundLoop:
    """Subclasses implement ``_run`` (return when ``self._stop`` is set) and name the thread."""

    thread_name = "task-loop"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        raise NotImplementedError

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
