"""Stream a device's media response to disk: never in memory, within a deadline, checked.

The first bytes decide whether the body is media at all (an HTTP 200 carrying an XML error
is an error); the body must be as long as announced; silence longer than the idle timeout,
or a transfer outlasting the deadline, is a ``timeout``. Transient failures (busy, reset,
short body, the endpoint's own transient statuses) are retried, resuming with a ``Range``
request where the endpoint honours one, until the attempts or the deadline run out.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from footage.devices.errors import DeviceError, DeviceTimeout, IncompleteTransfer
from footage.devices.models import Progress
from footage.devices.session import DeviceSession
from footage.media.device_media import SNIFF_BYTES, MediaKind, looks_like_text, sniff

BodyError = Callable[[bytes], DeviceError]
_CHUNK = 64 * 1024
_ERROR_BODY_LIMIT = 64 * 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Transfer:
    path: Path
    size: int
    kind: MediaKind
    attempts: int


@dataclass(frozen=True, slots=True, kw_only=True)
class TransferRequest:
    method: str
    path: str
    params: Any = None
    content: bytes | None = None
    headers: dict[str, str] | None = None
    resumable: bool = False  # the endpoint honours ``Range: bytes=N-``
    transient_statuses: frozenset[int] = frozenset()


def download_to_file(
    session: DeviceSession,
    request: TransferRequest,
    out: Path,
    *,
    deadline: float,
    body_error: BodyError,
    progress: Progress | None = None,
) -> Transfer:
    """Write the body of ``request`` to ``out``; ``deadline`` is a ``time.monotonic()`` value."""
    attempts = 0
    state = _State(out)

    def attempt() -> Transfer:
        nonlocal attempts
        attempts += 1
        _check_deadline(session, deadline, state.size)
        kind = _one_attempt(session, request, state, deadline, body_error, progress)
        return Transfer(path=out, size=state.size, kind=kind, attempts=attempts)

    try:
        return session.retrying(attempt, deadline=deadline)
    except BaseException:
        out.unlink(missing_ok=True)
        raise


class _State:
    def __init__(self, out: Path) -> None:
        self.out = out
        self.size = 0
        self.kind: MediaKind | None = None
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(b"")


def _check_deadline(session: DeviceSession, deadline: float, size: int) -> None:
    if time.monotonic() >= deadline:
        raise DeviceTimeout(
            f"{session.name}: the download did not finish within its deadline "
            f"({size} bytes received)",
            device=session.name,
        )


def _one_attempt(
    session: DeviceSession,
    request: TransferRequest,
    state: _State,
    deadline: float,
    body_error: BodyError,
    progress: Progress | None,
) -> MediaKind:
    headers = dict(request.headers or {})
    resuming = request.resumable and state.size > 0 and state.kind is not None
    if resuming:
        headers["Range"] = f"bytes={state.size}-"
    idle = min(session.config.timeouts.idle, max(deadline - time.monotonic(), 0.1))
    with session.stream(
        request.method,
        request.path,
        params=request.params,
        content=request.content,
        headers=headers,
        read_timeout=idle,
        transient_statuses=request.transient_statuses,
    ) as response:
        if not (resuming and response.status_code == 206):
            state.size = 0  # the device started over: so do we
        expected = _expected_total(response, state.size)
        try:
            return _receive(session, response, state, expected, deadline, body_error, progress)
        except httpx.HTTPError as exc:
            raise session.translate(exc, request.path) from exc


def _expected_total(response: httpx.Response, offset: int) -> int | None:
    length = response.headers.get("content-length")
    if length is None or not length.isdigit():
        return None
    return offset + int(length)


def _receive(
    session: DeviceSession,
    response: httpx.Response,
    state: _State,
    expected: int | None,
    deadline: float,
    body_error: BodyError,
    progress: Progress | None,
) -> MediaKind:
    mode = "ab" if state.size else "wb"
    head = b""
    kind = state.kind if state.size else None
    chunks = response.iter_raw(_CHUNK)
    with state.out.open(mode) as handle:
        for chunk in chunks:
            if kind is None:
                head += chunk
                if len(head) < SNIFF_BYTES:
                    continue
                kind = _classify(session, head, chunks, body_error)
                chunk, head = head, b""
            handle.write(chunk)
            state.size += len(chunk)
            if progress is not None:
                progress(state.size, expected)
            _check_deadline(session, deadline, state.size)
        if kind is None:
            kind = _classify(session, head, chunks, body_error)
            handle.write(head)
            state.size += len(head)
    state.kind = kind
    if expected is not None and state.size != expected:
        raise IncompleteTransfer(
            f"{session.name}: the body ended after {state.size} of {expected} bytes",
            vendor_text=f"{state.size}/{expected} bytes",
            device=session.name,
        )
    return kind


def _classify(
    session: DeviceSession, head: bytes, rest: Iterator[bytes], body_error: BodyError
) -> MediaKind:
    kind = sniff(head)
    if kind is not None:
        return kind
    if looks_like_text(head):
        body = head
        for chunk in rest:
            body += chunk
            if len(body) >= _ERROR_BODY_LIMIT:
                break
        raise body_error(body)
    raise DeviceError(
        f"{session.name}: the device sent something that is not media "
        f"(starts {head[:16].hex(' ')})",
        vendor_text=f"unknown body starting {head[:8]!r}",
        device=session.name,
    )
