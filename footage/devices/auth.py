"""HTTP authentication for devices: Digest with a Basic fallback, and a lockout guard.

Dahua devices lock the client's address out for minutes after five failed logins, and
Hikvision ones do much the same. :class:`LockoutGuard` counts refused credentials across all
requests to one device and, once ``limit`` consecutive refusals are seen, refuses to send
credentials again until :meth:`LockoutGuard.reset` — the driver then reports ``auth_failed``
without costing the account another attempt.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncGenerator, Generator

import httpx

from footage.devices.errors import AuthFailed
from footage.devices.models import AuthMode

_BUSY_WORDS = ("too many", "busy", "max connection", "maximum connection")


class LockoutGuard:
    """Counts consecutive refused credentials; trips at ``limit``."""

    def __init__(self, limit: int, device: str = "") -> None:
        self.limit = limit
        self.device = device
        self._lock = threading.Lock()
        self._failures = 0
        self.total_failures = 0

    @property
    def tripped(self) -> bool:
        with self._lock:
            return self._failures >= self.limit

    @property
    def failures(self) -> int:
        with self._lock:
            return self._failures

    def check(self) -> None:
        """Raise ``AuthFailed`` when the guard has tripped (nothing is sent)."""
        if self.tripped:
            raise AuthFailed(
                f"{self.device}: not logging in again after {self.limit} refused logins in a "
                "row, so the device does not lock the account or this address out; check the "
                "user name and password, then retry",
                vendor_code="401",
                device=self.device,
            )

    def failed(self) -> None:
        with self._lock:
            self._failures += 1
            self.total_failures += 1

    def succeeded(self) -> None:
        with self._lock:
            self._failures = 0

    def reset(self) -> None:
        self.succeeded()


def is_busy_refusal(response: httpx.Response) -> bool:
    """A 401 that means "too many connections" rather than a wrong password (Dahua)."""
    if response.status_code != 401:
        return False
    text = response.text.lower()
    return any(word in text for word in _BUSY_WORDS)


def _challenge_schemes(response: httpx.Response) -> set[str]:
    return {
        value.split(" ", 1)[0].strip().lower()
        for value in response.headers.get_list("www-authenticate")
        if value.strip()
    }


class DeviceAuth(httpx.Auth):
    """Digest (``httpx.DigestAuth``) or Basic, chosen from the device's challenge.

    ``mode="auto"`` answers a Digest challenge with Digest and a Basic-only challenge (old
    firmware) with Basic, then keeps using the scheme that worked. Every refused credential
    is counted by ``guard``; once it trips, the flow stops and the 401 is returned.
    Sync clients only (the drivers use ``httpx.Client``).
    """

    def __init__(self, user: str, password: str, mode: AuthMode, guard: LockoutGuard) -> None:
        self._digest = httpx.DigestAuth(user, password)
        self._basic = httpx.BasicAuth(user, password)
        self._mode = mode
        self._guard = guard
        self._use_basic = mode == "basic"
        self._lock = threading.Lock()

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        self._guard.check()
        inner: httpx.Auth = self._basic if self._use_basic else self._digest
        flow = inner.sync_auth_flow(request)
        with self._lock:  # Digest nonce counts must not be handed out twice
            outgoing = next(flow)
        switched = False
        while True:
            response = yield outgoing
            credentialed = "authorization" in outgoing.headers
            if response.status_code == 401:
                response.read()  # a 401 body is a short text or XML
                if is_busy_refusal(response):
                    return
                if credentialed:
                    self._guard.failed()
                    if self._guard.tripped:
                        return
                elif self._should_switch_to_basic(response, switched):
                    switched = True
                    with self._lock:
                        self._use_basic = True
                    flow = self._basic.sync_auth_flow(request)
                    outgoing = next(flow)
                    continue
            elif credentialed:
                self._guard.succeeded()
            try:
                with self._lock:
                    outgoing = flow.send(response)
            except StopIteration:
                return

    def _should_switch_to_basic(self, response: httpx.Response, switched: bool) -> bool:
        if switched or self._mode != "auto" or self._use_basic:
            return False
        schemes = _challenge_schemes(response)
        return "basic" in schemes and "digest" not in schemes

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        raise NotImplementedError("device drivers use a sync httpx.Client")
        yield request  # pragma: no cover - makes this an async generator
