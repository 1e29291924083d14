"""One device's HTTP session: the injected client, auth, the slot limit, stages, error mapping.

Every request of a driver goes through :class:`DeviceSession`, so the rules hold everywhere:
at most ``max_concurrent`` requests at once, credentials withheld after repeated refusals,
httpx errors translated once into :mod:`footage.devices.errors`, vendor error bodies decoded
by the driver's ``vendor_error`` function, and transient failures retried with back-off.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import httpx

from footage.devices.auth import DeviceAuth, LockoutGuard, is_busy_refusal
from footage.devices.errors import (
    AuthFailed,
    DeviceBusy,
    DeviceError,
    DeviceTimeout,
    DeviceUnreachable,
    IncompleteTransfer,
)
from footage.devices.limiter import DeviceLimiter
from footage.devices.models import DeviceConfig, Stage, StageCallback, StageEvent, StageStatus

VendorError = Callable[[httpx.Response], DeviceError | None]
_T = TypeVar("_T")
_BUSY_STATUSES = frozenset({453, 503})


def _no_vendor_error(_response: httpx.Response) -> DeviceError | None:
    return None


class DeviceSession:
    def __init__(
        self,
        config: DeviceConfig,
        client: httpx.Client | None = None,
        *,
        vendor_error: VendorError = _no_vendor_error,
        on_stage: StageCallback | None = None,
        limiter: DeviceLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.config = config
        self.name = config.name
        self._owns_client = client is None
        self.client = client or httpx.Client(verify=config.verify_tls)
        self.guard = LockoutGuard(config.lockout_after, config.name)
        self.auth = DeviceAuth(config.user, config.password, config.auth, self.guard)
        self.limiter = limiter or DeviceLimiter(config.max_concurrent, config.name)
        self._vendor_error = vendor_error
        self._on_stage = on_stage
        self._sleep = sleep

    # --- stages -------------------------------------------------------------------------

    def emit(self, stage: Stage, status: StageStatus, detail: str = "", **extra: Any) -> None:
        if self._on_stage is not None:
            self._on_stage(
                StageEvent(device=self.name, stage=stage, status=status, detail=detail, **extra)
            )

    @contextmanager
    def stage(self, stage: Stage, detail: str = "") -> Iterator[None]:
        """Report ``stage`` started, then ok or failed (with the reason) around the block."""
        self.emit(stage, StageStatus.STARTED, detail)
        try:
            yield
        except DeviceError as exc:
            self.emit(
                stage,
                StageStatus.FAILED,
                exc.message,
                reason=exc.reason.value,
                vendor_code=exc.vendor_code,
                vendor_text=exc.vendor_text,
            )
            raise
        except Exception as exc:
            self.emit(stage, StageStatus.FAILED, str(exc), reason=getattr(exc, "code", "error"))
            raise
        self.emit(stage, StageStatus.OK, detail)

    # --- requests -----------------------------------------------------------------------

    def url(self, path: str) -> str:
        return self.config.base_url + path

    def timeout(self, read: float | None = None) -> httpx.Timeout:
        t = self.config.timeouts
        return httpx.Timeout(connect=t.connect, read=read or t.read, write=t.read, pool=t.connect)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        content: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        transient_statuses: frozenset[int] = frozenset(),
    ) -> httpx.Response:
        """Send and read a small response; error statuses raise (retried when transient)."""

        def once() -> httpx.Response:
            with self.limiter.slot(self.config.timeouts.slot):
                try:
                    response = self.client.request(
                        method,
                        self.url(path),
                        params=params,
                        content=content,
                        headers=headers,
                        auth=self.auth,
                        timeout=self.timeout(),
                    )
                except httpx.HTTPError as exc:
                    raise self.translate(exc, path) from exc
            self.check(response, transient_statuses)
            return response

        return self.retrying(once)

    @contextmanager
    def stream(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        content: bytes | str | None = None,
        headers: dict[str, str] | None = None,
        read_timeout: float | None = None,
        transient_statuses: frozenset[int] = frozenset(),
    ) -> Iterator[httpx.Response]:
        """An open streamed response with a success status, holding a device slot."""
        with self.limiter.slot(self.config.timeouts.slot):
            try:
                request = self.client.build_request(
                    method,
                    self.url(path),
                    params=params,
                    content=content,
                    headers=headers,
                    timeout=self.timeout(read_timeout or self.config.timeouts.idle),
                )
                response = self.client.send(request, auth=self.auth, stream=True)
            except httpx.HTTPError as exc:
                raise self.translate(exc, path) from exc
            try:
                if response.status_code >= 300:
                    try:
                        response.read()
                    except httpx.HTTPError as exc:
                        raise self.translate(exc, path) from exc
                    self.check(response, transient_statuses)
                yield response
            finally:
                response.close()

    def retrying(self, action: Callable[[], _T], *, deadline: float | None = None) -> _T:
        """Run ``action``; retry transient ``DeviceError`` with back-off while time is left."""
        policy = self.config.retry
        delay = policy.backoff
        for attempt in range(1, policy.attempts + 1):
            try:
                return action()
            except DeviceError as exc:
                out_of_time = deadline is not None and time.monotonic() + delay >= deadline
                if not exc.transient or attempt == policy.attempts or out_of_time:
                    raise
            self._sleep(delay)
            delay *= 2
        raise AssertionError("unreachable")  # pragma: no cover

    # --- error mapping ------------------------------------------------------------------

    def check(self, response: httpx.Response, transient: frozenset[int] = frozenset()) -> None:
        """Raise the ``DeviceError`` an error response stands for (vendor body first)."""
        status = response.status_code
        if status < 300:
            return
        vendor = None if status in (401, 403) else self._vendor_error(response)
        if vendor is not None:
            if status in transient:
                vendor.transient = True
            raise vendor
        raise self.status_error(response, transient)

    def status_error(self, response: httpx.Response, transient: frozenset[int]) -> DeviceError:
        status = response.status_code
        text = _short(response)
        code = str(status)
        where = f"{self.name}: {response.request.method} {response.request.url.path}"
        if status == 401:
            if is_busy_refusal(response):
                return DeviceBusy(
                    f"{where}: the device refuses more connections (HTTP 401: {text})",
                    vendor_code=code,
                    vendor_text=text,
                    device=self.name,
                )
            if self.guard.tripped:
                return AuthFailed(
                    f"{where}: the user name or password was refused "
                    f"{self.guard.failures} times in a row; not trying again so the account "
                    "is not locked — check the credentials, then retry",
                    vendor_code=code,
                    vendor_text=text,
                    device=self.name,
                )
            return AuthFailed(
                f"{where}: the user name or password was refused (HTTP 401)",
                vendor_code=code,
                vendor_text=text,
                device=self.name,
            )
        if status == 403:
            return AuthFailed(
                f"{where}: the account may not do this (HTTP 403)",
                vendor_code=code,
                vendor_text=text,
                device=self.name,
            )
        if status in _BUSY_STATUSES:
            return DeviceBusy(
                f"{where}: the device is busy (HTTP {status}); it serves only one or two "
                "sessions at a time",
                vendor_code=code,
                vendor_text=text,
                device=self.name,
            )
        error = DeviceError(
            f"{where}: the device answered HTTP {status} {response.reason_phrase}: {text}",
            vendor_code=code,
            vendor_text=text,
            device=self.name,
        )
        error.transient = status in transient
        return error

    def translate(self, exc: httpx.HTTPError, path: str) -> DeviceError:
        """The ``DeviceError`` for an httpx transport error."""
        where = f"{self.name}: {path}"
        if isinstance(exc, httpx.ConnectTimeout):
            return DeviceTimeout(f"{where}: no connection within the timeout", device=self.name)
        if isinstance(exc, httpx.TimeoutException):
            return DeviceTimeout(f"{where}: the device stopped answering ({exc})", device=self.name)
        if isinstance(exc, httpx.ConnectError):
            return DeviceUnreachable(f"{where}: cannot connect ({exc})", device=self.name)
        if isinstance(exc, (httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)):
            return IncompleteTransfer(
                f"{where}: the connection broke off ({exc})", vendor_text=str(exc), device=self.name
            )
        return DeviceError(f"{where}: {exc}", device=self.name)

    def close(self) -> None:
        if self._owns_client:
            self.client.close()


def _short(response: httpx.Response, limit: int = 200) -> str:
    try:
        text = response.text
    except (httpx.ResponseNotRead, UnicodeDecodeError):
        return ""
    return " ".join(text.split())[:limit]
