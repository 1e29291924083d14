"""The live model of a run for UIs: device stages, row statuses, counters, as events.

A :class:`RunMonitor` is fed by the engine (from its worker threads) and hands every change
to its subscribers, in order, one at a time. A UI takes a :meth:`~RunMonitor.snapshot`
first and then applies the events it is sent; subscribers are called from worker threads,
so they must be quick (hand the event to a queue) and must not raise (errors are logged).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from footage.batch.counters import Counters
from footage.batch.model import RowRecord, RowStatus, Totals
from footage.devices import StageEvent, StageStatus

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class DeviceView:
    """One device as the monitor shows it: its latest stage and the outcome of each stage."""

    name: str
    vendor: str
    address: str
    stage: str = "waiting"
    status: str = ""
    detail: str = ""
    reason: str | None = None
    vendor_code: str | None = None
    vendor_text: str | None = None
    stages: dict[str, str] = field(default_factory=dict)  # stage -> its latest status
    rows_total: int = 0
    rows_done: int = 0
    rows_failed: int = 0

    def describe(self) -> str:
        text = f"{self.stage} {self.status}".strip()
        if self.status == StageStatus.FAILED and self.reason:
            vendor = " ".join(p for p in (self.vendor_code, self.vendor_text) if p)
            text += f": {self.reason}" + (f" ({vendor})" if vendor else "")
        return text


@dataclass(frozen=True, kw_only=True)
class DeviceChanged:
    device: DeviceView
    event: StageEvent | None = None


@dataclass(frozen=True, kw_only=True)
class RowChanged:
    row: RowRecord


@dataclass(frozen=True, kw_only=True)
class CountersChanged:
    counters: Counters


@dataclass(frozen=True, kw_only=True)
class RunChanged:
    phase: str  # "started" | "finished"
    totals: Totals


Event = DeviceChanged | RowChanged | CountersChanged | RunChanged
Subscriber = Callable[[Event], None]


@dataclass(frozen=True, kw_only=True)
class RunSnapshot:
    folder: Path
    running: bool
    started_at: datetime | None
    finished_at: datetime | None
    devices: list[DeviceView]
    rows: list[RowRecord]
    recent: list[RowRecord]  # the rows changed last, newest first
    counters: Counters
    totals: Totals


class RunMonitor:
    def __init__(self, folder: Path, rows: list[RowRecord], *, recent: int = 20) -> None:
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self._deliver = threading.Lock()
        self._subscribers: list[Subscriber] = []
        self._rows = {row.id: row for row in rows}
        self._order = [row.id for row in rows]
        self._devices: dict[str, DeviceView] = {}
        self._recent: deque[str] = deque(maxlen=max(recent, 1))
        self._counters = Counters()
        self.started_at: datetime | None = None
        self.finished_at: datetime | None = None

    # --- subscriptions ------------------------------------------------------------------

    def subscribe(self, subscriber: Subscriber) -> Callable[[], None]:
        """Call ``subscriber`` with every event from now on; returns the unsubscribe call."""
        with self._lock:
            self._subscribers.append(subscriber)

        def unsubscribe() -> None:
            with self._lock:
                if subscriber in self._subscribers:
                    self._subscribers.remove(subscriber)

        return unsubscribe

    def _publish(self, event: Event) -> None:
        with self._lock:
            subscribers = list(self._subscribers)
        with self._deliver:
            for subscriber in subscribers:
                try:
                    subscriber(event)
                except Exception:  # a broken UI must not stop the run
                    log.exception("a batch monitor subscriber failed on %r", event)

    # --- fed by the engine --------------------------------------------------------------

    def add_device(self, name: str, vendor: str, address: str, rows: int) -> None:
        view = DeviceView(name=name, vendor=vendor, address=address, rows_total=rows)
        with self._lock:
            self._devices[name] = view
        self._publish(DeviceChanged(device=view))

    def on_stage(self, event: StageEvent) -> None:
        """A ``footage.devices`` stage callback."""
        with self._lock:
            old = self._devices.get(event.device)
            if old is None:
                return
            view = replace(
                old,
                stage=event.stage.value,
                status=event.status.value,
                detail=event.detail,
                reason=event.reason,
                vendor_code=event.vendor_code,
                vendor_text=event.vendor_text,
                stages={**old.stages, event.stage.value: event.status.value},
            )
            self._devices[event.device] = view
        self._publish(DeviceChanged(device=view, event=event))

    def row_changed(self, row: RowRecord) -> None:
        device_view = None
        with self._lock:
            old = self._rows.get(row.id)
            self._rows[row.id] = row
            if row.id in self._recent:
                self._recent.remove(row.id)
            self._recent.append(row.id)
            newly_done = row.status.finished and (old is None or not old.status.finished)
            if newly_done and row.device in self._devices:
                view = self._devices[row.device]
                device_view = replace(
                    view,
                    rows_done=view.rows_done + 1,
                    rows_failed=view.rows_failed + (row.status is not RowStatus.SUCCESS),
                )
                self._devices[row.device] = device_view
        self._publish(RowChanged(row=row))
        if device_view is not None:
            self._publish(DeviceChanged(device=device_view))

    def counters_changed(self, counters: Counters) -> None:
        with self._lock:
            self._counters = counters
        self._publish(CountersChanged(counters=counters))

    def run_started(self) -> None:
        with self._lock:
            self.started_at = datetime.now(UTC)
            self.finished_at = None
        self._publish(RunChanged(phase="started", totals=self.totals()))

    def run_finished(self) -> None:
        with self._lock:
            self.finished_at = datetime.now(UTC)
        self._publish(RunChanged(phase="finished", totals=self.totals()))

    # --- reading ------------------------------------------------------------------------

    def rows(self) -> list[RowRecord]:
        with self._lock:
            return [self._rows[key] for key in self._order]

    def totals(self) -> Totals:
        return Totals.of(self.rows())

    def snapshot(self) -> RunSnapshot:
        with self._lock:
            rows = [self._rows[key] for key in self._order]
            recent = [self._rows[key] for key in reversed(self._recent)]
            devices = list(self._devices.values())
            counters = self._counters
            started, finished = self.started_at, self.finished_at
        return RunSnapshot(
            folder=self.folder,
            running=started is not None and finished is None,
            started_at=started,
            finished_at=finished,
            devices=devices,
            rows=rows,
            recent=recent,
            counters=counters,
            totals=Totals.of(rows),
        )
