"""What both device emulators share: the archive, the clock, auth, faults, the HTTP server.

An emulator is a Starlette app served by uvicorn on a real loopback socket, in a background
thread (``with HikvisionEmulator(...) as emu: emu.url``) or in the foreground
(:meth:`EmulatorBase.serve_forever`, for ``footage devices emulate``). Every request passes
authentication (the vendor's scheme), is counted (``stats``: requests, peak concurrency,
failed logins) and may be given a fault from the :class:`FaultPlan`.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
import threading
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute
from starlette.types import Receive, Scope, Send

from footage.archive.source import ArchiveSource
from footage.devices.digest_server import Authenticator, AuthScheme
from footage.devices.faults import ANSWER_KINDS, FaultPlan
from footage.domain import NotFound
from footage.netutil import listening_socket

Handler = Callable[[Request], Awaitable[Response]]
_CHUNK = 8 * 1024
_SLOW_CHUNK = 1024


@dataclass
class EmulatorStats:
    requests: int = 0
    active: int = 0
    peak: int = 0
    auth_failures: int = 0


def open_archive(root: Path, work_dir: Path) -> ArchiveSource:
    """Scan ``root`` into an index under ``work_dir`` and serve it as a ``LocalArchive``."""
    from footage.archive.local.scan import scan
    from footage.archive.local.source import LocalArchive
    from footage.db import open_database

    engine = open_database(f"sqlite:///{work_dir / 'emulator-index.db'}")
    scan(engine, root)
    return LocalArchive(engine, root, gap_tolerance=2.0)


class EmulatorBase(ABC):
    vendor = "device"
    realm = "device"

    def __init__(
        self,
        archive: ArchiveSource | str | Path,
        *,
        user: str = "admin",
        password: str = "admin",
        faults: FaultPlan | str | None = None,
        seed: int = 0,
        channels: Sequence[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        auth: AuthScheme = "digest",
        utc_offset: timedelta = timedelta(0),
        work_dir: Path | None = None,
        lock_after: int = 5,
        lock_seconds: float = 300.0,
        max_sessions: int = 2,
    ) -> None:
        self._own_work = work_dir is None
        self.work_dir = Path(work_dir or tempfile.mkdtemp(prefix=f"footage-{self.vendor}-"))
        self.work_dir.mkdir(parents=True, exist_ok=True)
        if isinstance(archive, (str, Path)):
            archive = open_archive(Path(archive), self.work_dir)
        self.archive = archive
        known = [camera.id for camera in archive.cameras()]
        self.channels = list(channels) if channels else known
        missing = sorted(set(self.channels) - set(known))
        if missing:
            raise NotFound(f"cameras {', '.join(missing)} are not in the archive ({known})")
        plan = faults if isinstance(faults, FaultPlan) else FaultPlan.parse(faults, seed=seed)
        self.faults = plan
        self.auth = Authenticator(
            user, password, self.realm, auth, lock_after=lock_after, lock_seconds=lock_seconds
        )
        self.utc_offset = utc_offset
        self.max_sessions = max_sessions
        self.host = host
        self.stats = EmulatorStats()
        self._stats_lock = threading.Lock()
        self._socket = listening_socket(host, port)
        self.port: int = self._socket.getsockname()[1]
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self.app = Starlette(routes=self.routes())
        self.app.add_middleware(_Gate, emulator=self)

    # --- vendor parts -------------------------------------------------------------------

    @abstractmethod
    def routes(self) -> list[BaseRoute]: ...

    @abstractmethod
    def scope_of(self, path: str) -> str:
        """The fault scope of a request path: search, download, picture, time or info."""

    @abstractmethod
    def fault_response(self, kind: str, request: Request) -> Response:
        """The answer for an answering fault (401, busy, 400, xmlerror)."""

    def unauthorized(self, *, stale: bool = False, locked: bool = False) -> Response:
        body = "Error\r\nAccount locked\r\n" if locked else "Error\r\nUnauthorized\r\n"
        return Response(
            body,
            status_code=401,
            headers={"WWW-Authenticate": self.auth.challenge(stale=stale)},
            media_type="text/plain",
        )

    # --- clock and channels -------------------------------------------------------------

    @property
    def skew(self) -> timedelta:
        return timedelta(seconds=self.faults.clock_skew)

    def wall(self, moment: datetime) -> datetime:
        """The device's wall clock (naive) at the UTC instant ``moment``."""
        return (moment.astimezone(UTC) + self.utc_offset + self.skew).replace(tzinfo=None)

    def utc(self, wall: datetime) -> datetime:
        return wall.replace(tzinfo=UTC) - self.utc_offset - self.skew

    def now_wall(self) -> datetime:
        return self.wall(datetime.now(UTC))

    def camera(self, index: int) -> str | None:
        """The camera id of the 0-based channel ``index`` or None."""
        return self.channels[index] if 0 <= index < len(self.channels) else None

    # --- bodies -------------------------------------------------------------------------

    def media_response(
        self,
        path: Path,
        request: Request,
        *,
        media_type: str,
        offset: int = 0,
        on_finish: Callable[[], None] | None = None,
    ) -> Response:
        """Stream the file at ``path`` (from ``offset``) with this request's body faults."""
        faults: frozenset[str] = request.state.faults
        response = FaultyFile(path, faults, self.faults, media_type=media_type, offset=offset)
        if offset:
            response.status_code = 206
            total = path.stat().st_size
            response.headers["content-range"] = f"bytes {offset}-{total - 1}/{total}"
        response.on_finish = on_finish
        return response

    def cache_file(self, name: str) -> Path:
        folder = self.work_dir / "media"
        folder.mkdir(exist_ok=True)
        return folder / name

    # --- server lifecycle ---------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def _config(self) -> uvicorn.Config:
        return uvicorn.Config(
            self.app,
            log_config=None,
            log_level="critical",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=1,
            timeout_keep_alive=30,
        )

    def start(self) -> Self:
        server = uvicorn.Server(self._config())
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [self._socket]}, daemon=True, name=self.vendor
        )
        self._thread.start()
        while not server.started:
            if not self._thread.is_alive():
                raise RuntimeError(f"the {self.vendor} emulator did not start")
            threading.Event().wait(0.01)
        return self

    def serve_forever(self) -> None:
        uvicorn.Server(self._config()).run(sockets=[self._socket])

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._socket.close()
        if self._own_work:
            shutil.rmtree(self.work_dir, ignore_errors=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # --- accounting ---------------------------------------------------------------------

    def enter(self) -> None:
        with self._stats_lock:
            self.stats.requests += 1
            self.stats.active += 1
            self.stats.peak = max(self.stats.peak, self.stats.active)

    def leave(self) -> None:
        with self._stats_lock:
            self.stats.active -= 1


class _Gate:
    """ASGI middleware: authenticate, count, and apply answering faults."""

    def __init__(self, app: Any, emulator: EmulatorBase) -> None:
        self.app = app
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        emu = self.emulator
        request = Request(scope, receive)
        target = scope.get("raw_path", b"").decode("latin-1") or request.url.path
        if scope.get("query_string"):
            target += "?" + scope["query_string"].decode("latin-1")
        client = request.client.host if request.client else "?"
        verdict = emu.auth.check(
            client, request.method, target, request.headers.get("authorization")
        )
        if not verdict.ok:
            with emu._stats_lock:
                emu.stats.auth_failures = emu.auth.failures
            await emu.unauthorized(stale=verdict.stale, locked=verdict.locked)(scope, receive, send)
            return
        faults = emu.faults.decide(emu.scope_of(request.url.path))
        scope.setdefault("state", {})["faults"] = faults
        emu.enter()
        try:
            answer = next((kind for kind in ANSWER_KINDS if kind in faults), None)
            if answer is not None:
                response = emu.fault_response(answer, request)
                await response(scope, receive, send)
                return
            await self.app(scope, receive, send)
        finally:
            emu.leave()


class FaultyFile(Response):
    """A file body with Content-Length, sent in chunks, damaged as the faults say."""

    def __init__(
        self,
        path: Path,
        faults: frozenset[str],
        plan: FaultPlan,
        *,
        media_type: str,
        offset: int = 0,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(None, status_code=status_code, headers=headers, media_type=media_type)
        self.path = path
        self.faults = faults
        self.plan = plan
        self.offset = offset
        self.size = path.stat().st_size - offset
        self.headers["content-length"] = str(self.size)
        self.on_finish: Callable[[], None] | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._send(receive, send)
        finally:
            if self.on_finish is not None:
                self.on_finish()

    async def _send(self, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        cut = self.size // 2 if self.faults & {"truncate", "stall", "reset"} else self.size
        sent = 0
        with self.path.open("rb") as handle:
            handle.seek(self.offset)
            size = _SLOW_CHUNK if "slow" in self.faults else _CHUNK
            for chunk in _chunks(handle, cut, size):
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                sent += len(chunk)
                if "slow" in self.faults:
                    await asyncio.sleep(self.plan.slow_delay)
        if "stall" in self.faults:
            await _wait_disconnect(receive, self.plan.stall_seconds)
            raise _Dropped("stalled body")
        if "reset" in self.faults:
            raise _Dropped("connection reset")
        if "truncate" in self.faults:
            return  # the server closes a response shorter than its Content-Length
        await send({"type": "http.response.body", "body": b"", "more_body": False})


class _Dropped(Exception):
    """Raised inside a response to make uvicorn drop the connection mid-body."""


def _chunks(handle: Any, limit: int, size: int) -> Iterable[bytes]:
    left = limit
    while left > 0:
        chunk = handle.read(min(size, left))
        if not chunk:
            return
        left -= len(chunk)
        yield chunk


async def _wait_disconnect(receive: Receive, seconds: float) -> None:
    async def until_gone() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    try:
        await asyncio.wait_for(until_gone(), timeout=seconds)
    except TimeoutError:
        pass
