"""Serving an app with uvicorn in a background thread (embedding, the demo, the tests)."""

from __future__ import annotations

import threading
import time
from typing import Any

import uvicorn

from footage.netutil import listening_socket


class ServerThread:
    """uvicorn on ``host``:``port`` (0: a free port) in a daemon thread; ``url`` once started.

    Open streams are given ``grace`` seconds to end when stopping."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, grace: int = 2):
        self._socket = listening_socket(host, port)
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://{host}:{self.port}"
        # proxy_headers off: X-Forwarded-For is the app's to judge (server.trusted_proxies)
        config = uvicorn.Config(
            app,
            log_level="warning",
            timeout_graceful_shutdown=grace,
            lifespan="off",
            proxy_headers=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="http", daemon=True)

    def _run(self) -> None:
        self._server.run(sockets=[self._socket])

    def start(self, timeout: float = 10.0) -> str:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the HTTP server did not start on {self.url}")
            time.sleep(0.02)
        return self.url

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)
        self._socket.close()

    def __enter__(self) -> str:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()
