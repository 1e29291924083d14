"""The event stream of one batch run (``GET /api/v1/batch/runs/{name}/events``).

A stream sends the run as ``GET /api/v1/batch/runs/{name}`` shows it (``event: snapshot``,
the same JSON) when it opens, and again whenever the run changes, until the client goes.
What wakes it:

- the run's own change notifications: the subscribers of its :class:`RunMonitor` (device
  stages, row statuses, the engine's file counts, start and end); a retry starts a new run
  with a new monitor, which the stream follows;
- the REST actions that change a run outside its monitor (start, retry, stop, MP4 → JPG,
  delete), which call :meth:`RunHub.changed`;
- a check every :data:`TICK` seconds of the folder's ``.jpg``/``.mp4`` counts (a user may
  add or delete files at any time) and, while the run runs, of the whole run.

Bursts are coalesced: at most one message every :data:`MIN_GAP` seconds, always ending with
the latest state; a message equal to the one before is not sent. The folder is counted at
most once every :data:`MIN_GAP` seconds however many streams follow the run
(:meth:`RunHub.counts`). Comments (``: ping``) keep an idle connection open. A deleted run
ends its streams with ``event: gone``. Each message is the whole state, so a client that
reconnects needs no replay (``Last-Event-ID`` is not used).

Streams wait on the event loop, never in a worker thread (only the short reading of a
snapshot runs in the thread pool), so they hold no thread; they end when the client goes
(the response is cancelled) or, like the task events, when the server's graceful shutdown
ends open responses.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
import threading
import time
import weakref
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.concurrency import run_in_threadpool

from footage.api.http.schemas_batch import BatchRunOut, RowFilter
from footage.batch.counters import Counters, count_files
from footage.batch.monitor import RunMonitor
from footage.batch.service import BatchService
from footage.domain import NotFound

log = logging.getLogger(__name__)
MIN_GAP = 0.2  # seconds between two messages of a stream (at most 5 a second)
TICK = 1.0  # seconds between checks of the folder's counts (and of a running run)
_FORGET = 60.0  # seconds after which a folder's cached counts are dropped


class Wake:
    """An ``asyncio.Event`` of one loop that any thread may set (quick, never raises)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._event = asyncio.Event()

    def set(self, *_args: object) -> None:
        if self._loop.is_closed():
            return
        with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
            self._loop.call_soon_threadsafe(self._event.set)

    def take(self) -> bool:
        """Whether it was set (and clear it)."""
        was = self._event.is_set()
        self._event.clear()
        return was

    async def wait(self, timeout: float) -> bool:
        """Wait until set or ``timeout`` seconds passed; whether it is set."""
        if timeout > 0 and not self._event.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), timeout)
        return self._event.is_set()


class RunHub:
    """What the streams of one :class:`BatchService` share: listeners by run name, and
    rate-limited counts of the runs' folders. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: dict[str, list[Callable[[], None]]] = {}
        self._counts: dict[Path, tuple[float, Counters]] = {}
        self._counting = threading.Lock()

    def listen(self, name: str, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` whenever :meth:`changed` is called for ``name``; returns the
        call that stops it."""
        with self._lock:
            self._listeners.setdefault(name, []).append(listener)

        def stop() -> None:
            with self._lock:
                found = self._listeners.get(name, [])
                if listener in found:
                    found.remove(listener)
                if not found:
                    self._listeners.pop(name, None)

        return stop

    def changed(self, name: str) -> None:
        """Run ``name`` changed outside its monitor (started, retried, converted, deleted…)."""
        with self._lock:
            listeners = list(self._listeners.get(name, ()))
        for listener in listeners:
            listener()

    def counts(self, folder: Path, max_age: float) -> Counters:
        """The ``.jpg``/``.mp4`` counts of ``folder``, counted again only when the last count
        is older than ``max_age`` seconds (one count at a time, shared by every stream)."""
        with self._counting:
            now = time.monotonic()
            cached = self._counts.get(folder)
            if cached is not None and now - cached[0] < max_age:
                return cached[1]
            counts = count_files(folder)
            self._counts[folder] = (time.monotonic(), counts)
            for path, (at, _) in list(self._counts.items()):
                if now - at > _FORGET:
                    del self._counts[path]
            return counts


_hubs: weakref.WeakKeyDictionary[BatchService, RunHub] = weakref.WeakKeyDictionary()
_hubs_lock = threading.Lock()


def hub_of(service: BatchService) -> RunHub:
    """The hub of ``service`` (made on first use)."""
    with _hubs_lock:
        hub = _hubs.get(service)
        if hub is None:
            hub = _hubs[service] = RunHub()
        return hub


@dataclass(frozen=True, kw_only=True)
class StreamQuery:
    """Who follows which run, and which page of its rows the messages carry."""

    service: BatchService
    name: str
    owner: str | None
    offset: int = 0
    limit: int = 50
    rows: RowFilter = "all"

    def snapshot(self, hub: RunHub) -> BatchRunOut:
        """The run now, as GET /batch/runs/{name} shows it (raises NotFound once gone)."""
        folder = self.service.root / self.name
        view = self.service.view(self.name, self.owner, counters=hub.counts(folder, MIN_GAP))
        if not view.running:  # a final state: its counts taken now, not a moment ago
            view = self.service.view(self.name, self.owner, counters=hub.counts(folder, 0.0))
        return BatchRunOut.of(view, offset=self.offset, limit=self.limit, which=self.rows)


def _frame(event: str, event_id: int, data: str) -> str:
    return f"id: {event_id}\nevent: {event}\ndata: {data}\n\n"


async def run_events(query: StreamQuery, heartbeat: float) -> AsyncIterator[str]:
    """The ``text/event-stream`` of ``query``'s run (see the module's description)."""
    hub = hub_of(query.service)
    wake = Wake(asyncio.get_running_loop())
    stop_listening = hub.listen(query.name, wake.set)
    watched: RunMonitor | None = None
    unsubscribe: Callable[[], None] | None = None
    last: BatchRunOut | None = None
    last_data = ""
    sequence = 0
    began = time.monotonic()
    computed_at = sent_at = checked_at = began - TICK  # the first snapshot at once
    due = True
    try:
        yield "retry: 2000\n: connected\n\n"
        while True:
            monitor = query.service.monitor(query.name)
            if monitor is not watched:  # the first, or a new run (a retry): follow it
                if unsubscribe is not None:
                    unsubscribe()
                unsubscribe = monitor.subscribe(wake.set) if monitor is not None else None
                watched, due = monitor, True
            now = time.monotonic()
            due = wake.take() or due
            if now - checked_at >= TICK:
                checked_at = now
                due = due or await run_in_threadpool(_should_recheck, hub, query, last)
            if last is not None and last.running and watched and watched.finished_at:
                due = True  # ended: its last state once the run's thread is done
            if due:
                if now - computed_at < MIN_GAP:  # coalesce: whatever else comes meanwhile
                    await asyncio.sleep(MIN_GAP - (now - computed_at))
                    continue
                due, computed_at = False, time.monotonic()
                try:
                    out = await run_in_threadpool(query.snapshot, hub)
                except NotFound:
                    sequence += 1
                    yield _frame("gone", sequence, _json({"name": query.name}))
                    return
                except (OSError, sqlite3.Error) as exc:  # e.g. while it is being deleted
                    log.debug("batch run %s: no snapshot now: %s", query.name, exc)
                    await asyncio.sleep(TICK)
                    due = True
                    continue
                data = out.model_dump_json()
                if data != last_data:
                    sequence += 1
                    last, last_data, sent_at = out, data, time.monotonic()
                    yield _frame("snapshot", sequence, data)
                continue
            waits = [sent_at + heartbeat, checked_at + TICK]
            if last is not None and last.running and watched and watched.finished_at:
                waits.append(computed_at + MIN_GAP)
            if await wake.wait(min(waits) - time.monotonic()):
                continue
            if time.monotonic() - sent_at >= heartbeat:
                sent_at = time.monotonic()
                yield ": ping\n\n"
    finally:
        stop_listening()
        if unsubscribe is not None:
            unsubscribe()


def _should_recheck(hub: RunHub, query: StreamQuery, last: BatchRunOut | None) -> bool:
    """Whether the periodic check finds reason for a new snapshot: the folder's counts
    changed, or the run is running (its end is checked even if its monitor never says)."""
    if last is None or last.running:
        return True
    counts = hub.counts(query.service.root / query.name, TICK)
    return (counts.jpg, counts.mp4) != (last.counters.jpg, last.counters.mp4)


def _json(data: Any) -> str:
    return json.dumps(data, separators=(",", ":"))
