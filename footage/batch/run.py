"""The batch engine: every row of a manifest from its device, devices in parallel.

Each device gets one lane: one HTTP client, one login, a ``DeviceLimiter`` of
``per_device`` slots and as many workers; lanes run side by side. A row's outcome is
committed to the run's state as soon as it is known, and published to the monitor.

Python API (what the web "Download monitor" uses)::

    run = prepare_run(manifest, table, output_root, RunOptions())   # or prepare_retry(folder)
    unsubscribe = run.subscribe(on_event)    # DeviceChanged, RowChanged, CountersChanged…
    run.start()                              # a background thread; run.run() in the foreground
    run.snapshot()                           # devices, rows, counters, totals, at any time
    summary = run.wait()                     # RunSummary; run.stop() ends it early
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

import httpx

from footage.batch.cleanup import remove_temporary
from footage.batch.counters import Counters, FolderCounter
from footage.batch.devices_table import DevicesTable, read_devices_table
from footage.batch.manifest import Manifest
from footage.batch.model import RowReason, RowRecord, RowStatus, RunOptions, Totals
from footage.batch.monitor import RunMonitor, RunSnapshot, Subscriber
from footage.batch.reconcile import row_outputs
from footage.batch.row import RowTarget, device_failure, failed, run_row
from footage.batch.state import RunState
from footage.closeable import Closeable
from footage.devices import DeviceError, DeviceLimiter, RetryPolicy, Timeouts, open_device
from footage.domain import Conflict

log = logging.getLogger(__name__)
_Work = queue.SimpleQueue[tuple[RowRecord, int]]


@dataclass(frozen=True, kw_only=True)
class RunSummary:
    folder: Path
    totals: Totals
    counters: Counters
    seconds: float
    stopped: bool = False
    failures: list[RowRecord] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """0 when every row is complete, 1 when some failed, timed out or did not run."""
        return 0 if self.totals.complete else 1

    def to_json(self) -> dict[str, Any]:
        return {
            "folder": str(self.folder),
            "totals": self.totals.to_json(),
            "counters": self.counters.to_json(),
            "seconds": round(self.seconds, 3),
            "stopped": self.stopped,
            "failures": [row.to_json() for row in self.failures],
        }


class BatchRun(Closeable):
    """One prepared run of a folder; holds the folder's lock until it finishes or closes."""

    def __init__(
        self,
        *,
        folder: Path,
        state: RunState,
        records: list[RowRecord],
        table: DevicesTable,
        options: RunOptions,
    ) -> None:
        self.folder = folder
        self.options = options
        self.table = table
        self._state = state
        self.monitor = RunMonitor(folder, records, recent=options.recent_rows)
        self._counter = FolderCounter(folder)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._summary: RunSummary | None = None
        self._error: BaseException | None = None
        self._used = False

    # --- the API ------------------------------------------------------------------------

    def subscribe(self, subscriber: Subscriber) -> Any:
        return self.monitor.subscribe(subscriber)

    def snapshot(self) -> RunSnapshot:
        return self.monitor.snapshot()

    def start(self) -> Self:
        """Run in a background thread; :meth:`wait` for the summary."""
        self._thread = threading.Thread(target=self._background, name="batch-run", daemon=True)
        self._thread.start()
        return self

    def wait(self, timeout: float | None = None) -> RunSummary | None:
        """The summary once the background run ended (None if ``timeout`` passed first)."""
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                return None
        if self._error is not None:
            raise self._error
        return self._summary

    def stop(self) -> None:
        """Start no further rows; rows under way finish."""
        self._stopping.set()

    def close(self) -> None:
        """Stop the run, wait for its background thread, and release the folder."""
        self.stop()
        if self._thread is not None:
            self._thread.join()
        self._state.close()

    def _background(self) -> None:
        try:
            self._summary = self.run()
        except BaseException as exc:  # handed to wait()
            log.exception("the batch run in %s failed", self.folder)
            self._error = exc

    # --- the engine ---------------------------------------------------------------------

    def run(self) -> RunSummary:
        """Do every row not yet complete; returns the summary (the state stays closed)."""
        if self._used:
            raise Conflict("this run has already run; prepare a new one")
        self._used = True
        began = time.monotonic()
        try:
            self.monitor.run_started()
            self._publish_counters(force=True)
            lanes = self._lanes()
            threads = [
                threading.Thread(target=self._lane, args=(name, rows), name=f"batch-{name}")
                for name, rows in lanes.items()
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            self._publish_counters(force=True)
            self.monitor.run_finished()
        finally:
            self._state.close()
        rows = self.monitor.rows()
        return RunSummary(
            folder=self.folder,
            totals=Totals.of(rows),
            counters=self._counter.last,
            seconds=time.monotonic() - began,
            stopped=self._stopping.is_set(),
            failures=[r for r in rows if r.status in (RowStatus.FAILED, RowStatus.TIMEOUT)],
        )

    def _lanes(self) -> dict[str, list[tuple[RowRecord, int]]]:
        """The rows still to do, by device (rows of unknown docks fail at once)."""
        lanes: dict[str, list[tuple[RowRecord, int]]] = defaultdict(list)
        for row in self.monitor.rows():
            if row.status is RowStatus.SUCCESS:
                continue
            target = self.table.target(row.camera)
            if target is None:
                known = ", ".join(sorted(self.table.docks)[:10])
                self._finish(
                    failed(
                        row,
                        RowReason.UNKNOWN_DOCK,
                        f"the device table {self.table.path.name} lists no dock "
                        f"{row.camera!r} (it lists {known})",
                    )
                )
                continue
            lanes[target.device].append((row, target.channel))
        for name, rows in lanes.items():
            config = self.table.devices[name]
            self.monitor.add_device(name, config.vendor, config.base_url, len(rows))
        return lanes

    def _lane(self, name: str, rows: list[tuple[RowRecord, int]]) -> None:
        per_device = self.options.per_device
        timeouts = replace(self.options.timeouts or Timeouts(), download=self.options.row_timeout)
        config = replace(
            self.table.devices[name],
            max_concurrent=per_device,
            timeouts=timeouts,
            retry=self.options.retry or RetryPolicy(),
        )
        limiter = DeviceLimiter(per_device, name)
        with httpx.Client(verify=config.verify_tls) as client:
            device = open_device(config, client, on_stage=self.monitor.on_stage, limiter=limiter)
            try:
                device.connect()
            except DeviceError as exc:  # no login, no rows: each says why
                for row, _ in rows:
                    self._finish(device_failure(row, exc, name))
                return
            try:
                work: _Work = queue.SimpleQueue()
                for item in rows:
                    work.put(item)
                workers = [
                    threading.Thread(target=self._worker, args=(device, name, work))
                    for _ in range(min(per_device, len(rows)))
                ]
                for worker in workers:
                    worker.start()
                for worker in workers:
                    worker.join()
            finally:
                device.close()

    def _worker(
        self, device: Any, name: str, work: queue.SimpleQueue[tuple[RowRecord, int]]
    ) -> None:
        while not self._stopping.is_set():
            try:
                row, channel = work.get_nowait()
            except queue.Empty:
                return
            self.monitor.row_changed(row.with_(status=RowStatus.RUNNING, device=name))
            target = RowTarget(device=device, device_name=name, channel=channel)
            try:
                done = run_row(row, target, self.folder, self.options)
            except Exception as exc:  # a bug or the disk: this row fails, the run goes on
                log.exception("row %s failed unexpectedly", row.id)
                done = failed(row, RowReason.ERROR, f"{type(exc).__name__}: {exc}", device=name)
            self._finish(done)

    def _finish(self, row: RowRecord) -> None:
        self._state.record(row)
        self.monitor.row_changed(row)
        self._publish_counters()

    def _publish_counters(self, *, force: bool = False) -> None:
        counts = self._counter.refresh(force=force)
        if counts is not None:
            self.monitor.counters_changed(counts)


# --- preparing runs -----------------------------------------------------------------------


def prepare_run(
    manifest: Manifest, table: DevicesTable, output_root: Path, options: RunOptions
) -> BatchRun:
    """A run of ``manifest`` into ``output_root/<manifest name>/`` (resumes one there)."""
    folder = Path(output_root) / manifest.name
    state = RunState(folder)
    try:
        settings = state.settings()
        _check_same_outputs(folder, settings, options)
        state.save_settings(
            {
                **options.settings(),
                "manifest": str(manifest.path.resolve()),
                "devices": str(table.path.resolve()),
                "created": settings.get("created", datetime.now(UTC).isoformat()),
            }
        )
        records = state.sync(manifest.rows)
        return _prepared(folder, state, records, table, options)
    except BaseException:
        state.close()
        raise


def prepare_retry(folder: Path, table: DevicesTable | None = None, **changes: Any) -> BatchRun:
    """ "Download the missing again": a run of the rows of ``folder`` not yet complete.

    The device table is the one the run used unless ``table`` is given; ``changes``
    override run options that do not change the outputs (``per_device``, ``row_timeout``,
    ``timeouts``, ``retry``).
    """
    folder = Path(folder)
    state = RunState(folder, create=False)
    try:
        settings = state.settings()
        options = RunOptions.from_settings(settings, **changes)
        _check_same_outputs(folder, settings, options)
        if table is None:
            table = read_devices_table(Path(settings["devices"]))
        return _prepared(folder, state, state.rows(), table, options)
    except BaseException:
        state.close()
        raise


def _check_same_outputs(folder: Path, settings: dict[str, Any], options: RunOptions) -> None:
    before = settings.get("clip_seconds")
    if before is not None and float(before) != options.clip_seconds:
        raise Conflict(
            f"{folder} holds a run with --clip-seconds {before:g}; delete it first "
            f"(footage batch delete {folder}) or write to another folder"
        )


def _prepared(
    folder: Path,
    state: RunState,
    records: list[RowRecord],
    table: DevicesTable,
    options: RunOptions,
) -> BatchRun:
    """Clear temporary leftovers; mark each row complete (files valid) or pending."""
    remove_temporary(folder)
    checked = []
    for row in records:
        valid, problems = row_outputs(row, folder, options)
        if not problems:
            fresh = row.with_(status=RowStatus.SUCCESS, files=valid, skipped=True)
        else:
            fresh = row.with_(status=RowStatus.PENDING, skipped=False)
        if fresh != row:
            state.record(fresh)
        checked.append(fresh)
    return BatchRun(folder=folder, state=state, records=checked, table=table, options=options)


def start_run(
    manifest: Manifest,
    table: DevicesTable,
    output_root: Path,
    options: RunOptions,
    subscriber: Subscriber | None = None,
) -> BatchRun:
    """Prepare, subscribe ``subscriber`` (so it misses nothing) and start in the background."""
    run = prepare_run(manifest, table, output_root, options)
    if subscriber is not None:
        run.subscribe(subscriber)
    return run.start()
