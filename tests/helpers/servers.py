"""footage's HTTP server on a real loopback port, over a runtime with users (and their tokens),
as the REST and browser tests use it."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

from footage.api.http.app import create_app
from footage.api.http.server import ServerThread
from footage.archive.local.scan import scan
from footage.auth import Permission
from footage.config.settings import Settings, TasksSettings
from footage.runtime import Runtime

#: users by name: (permissions as ``Permission.parse_many`` reads them, cameras or None: all)
Users = Mapping[str, tuple[str, list[str] | None]]


def api_time(moment: datetime) -> str:
    """``moment`` (UTC) as the APIs take and give it: ISO 8601 ending in ``Z``."""
    return moment.isoformat().replace("+00:00", "Z")


def quick_tasks() -> TasksSettings:
    """Task settings that notice changes within a tenth of a second and need no free space."""
    return TasksSettings(poll_interval=0.05, heartbeat_interval=0.1, min_free_mb=0)


@dataclass
class Site:
    """A served runtime: its base URL, the runtime, and its users' bearer tokens."""

    url: str
    runtime: Runtime
    tokens: dict[str, str]  # bearer tokens by user name

    def client(
        self, user: str | None = None, *, path: str = "", timeout: float = 30
    ) -> httpx.Client:
        """A client for the URLs under ``path``, sending ``user``'s token (none: anonymous)."""
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        return httpx.Client(base_url=self.url + path, headers=headers, timeout=timeout)


@contextmanager
def serve(
    data_dir: Path,
    *,
    users: Users,
    password: str,
    workers: int,
    archive: Path | None = None,
    start: bool = True,
    tokens: bool = True,
    heartbeat: float = 15.0,
    **settings: Any,
) -> Iterator[Site]:
    """A runtime on ``data_dir`` and its HTTP app (event-stream ``heartbeat`` in seconds) served
    on a free port until the block ends; the runtime is closed then.

    ``archive``: the local recordings, indexed before the server starts. ``users`` all get
    ``password`` and, if ``tokens``, a bearer token each. ``workers``: export workers of the
    runtime, which is started unless ``start`` is false. ``settings``: further ``Settings``
    sections; ``tasks`` defaults to ``quick_tasks()``.
    """
    settings.setdefault("tasks", quick_tasks())
    if archive is not None:
        settings["archive"] = {"root": str(archive)}
    runtime = Runtime(Settings(data_dir=data_dir, **settings), workers=workers)
    try:
        if archive is not None:
            scan(runtime.engine, archive)
        issued = {}
        for name, (permissions, cameras) in users.items():
            runtime.users.add(name, password, Permission.parse_many(permissions), cameras)
            if tokens:
                issued[name] = runtime.users.issue(name)
        if start:
            runtime.start()
        with ServerThread(create_app(runtime, heartbeat=heartbeat)) as url:
            yield Site(url, runtime, issued)
    finally:
        runtime.close()


def error_body(response: httpx.Response, status: int) -> dict[str, str]:
    """The error a REST answer carries, after checking its status and the error shape."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    return dict(body["error"])
