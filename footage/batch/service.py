"""The batch runs of a server: one folder each under ``root``, started from uploaded files.

What the web "Download monitor" and the REST API under ``/api/v1/batch`` call. A run is
named after its manifest (``shipments.csv`` runs in ``root/shipments/``); starting a run of
a name that exists resumes it. Each run records its owner in its state; a user sees their
own runs, an administrator (``owner=None``) every run. The registry of runs is the folder:
after a restart every past run is listed again from its state file (rows, statuses,
counts); only the device stages of a run are kept in memory, for as long as the process.

Uploaded manifests and device tables are kept under ``root/.inputs/<run>/`` (mode 0600;
the device table holds passwords), because "download the missing again" reads the device
table the run used.
"""

from __future__ import annotations

import contextlib
import csv
import logging
import os
import shutil
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any, TypeVar

from footage.batch.cleanup import DeleteReport, delete_run
from footage.batch.convert import ConvertSummary, convert_leftovers
from footage.batch.counters import Counters, count_files
from footage.batch.devices_table import DevicesTable, read_devices_table
from footage.batch.manifest import Columns, parse_tz, read_manifest, safe_name
from footage.batch.model import RowRecord, RunOptions, Totals
from footage.batch.monitor import DeviceView, RunMonitor
from footage.batch.run import BatchRun, prepare_retry, prepare_run
from footage.batch.state import RunState, has_state
from footage.domain import Conflict, InvalidRequest, NotFound

log = logging.getLogger(__name__)
T = TypeVar("T")
INPUTS = ".inputs"
MAX_UPLOAD = 20 * 1024 * 1024
MANIFEST_SUFFIXES = (".csv", ".xlsx")
TABLE_SUFFIXES = (".csv", ".xlsx", ".toml")


@dataclass(frozen=True, slots=True, kw_only=True)
class Upload:
    """A file sent by a user: its name as they called it, and its bytes."""

    filename: str
    data: bytes


@dataclass(frozen=True, kw_only=True)
class RunView:
    """A run as a monitor shows it: settings, device stages, rows, totals, file counts."""

    name: str
    owner: str
    folder: Path
    running: bool
    settings: dict[str, Any]
    devices: list[DeviceView]
    rows: list[RowRecord]
    totals: Totals
    counters: Counters
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None


@dataclass
class _Live:
    run: BatchRun
    owner: str
    error: str | None = None
    watcher: threading.Thread | None = field(default=None, repr=False)

    @property
    def running(self) -> bool:
        return self.watcher is not None and self.watcher.is_alive()


class BatchService:
    """Start, follow, retry, convert and delete the batch runs under ``root``."""

    def __init__(self, root: Path, *, default_devices: Path | None = None) -> None:
        self.root = Path(root)
        self.default_devices = default_devices
        self._lock = threading.Lock()
        self._live: dict[str, _Live] = {}
        self._closed = False

    # --- starting -----------------------------------------------------------------------

    def start(
        self,
        *,
        owner: str,
        manifest: Upload,
        devices: Upload | None,
        options: RunOptions,
        columns: Columns | None = None,
    ) -> RunView:
        """Start (or resume) the run of ``manifest``; ``devices`` None: the server's table."""
        name = _run_name(manifest.filename)
        inputs = self.root / INPUTS / name / uuid.uuid4().hex[:12]
        try:
            manifest_path = _save(inputs, manifest, MANIFEST_SUFFIXES, "manifest")
            rows = _parse(lambda: read_manifest(manifest_path, columns=columns, tz=_tz(options)))
            table = self._table(inputs, devices)
            with self._lock:
                self._check_free(name, owner)
                run = prepare_run(rows, table, self.root, options)
                self._launch(name, owner, run)
        except BaseException:
            shutil.rmtree(inputs, ignore_errors=True)
            with contextlib.suppress(OSError):
                inputs.parent.rmdir()  # when no earlier start of this run left its inputs
            raise
        return self.view(name, owner)

    def retry(self, name: str, owner: str | None, per_device: int | None = None) -> RunView:
        """ "Download the missing again": every row of ``name`` without a valid file."""
        folder = self._folder(name, owner)
        with self._lock:
            self._check_idle(name)
            settings = _settings(folder)
            devices = Path(str(settings.get("devices", "")))
            if not devices.is_file():
                raise Conflict(
                    f"the device table of run {name!r} ({devices.name}) is gone; start the "
                    "run again with a device table"
                )
            table = _parse(lambda: read_devices_table(devices))
            changes = {} if per_device is None else {"per_device": per_device}
            run = prepare_retry(folder, table, **changes)
            self._launch(name, str(settings.get("owner", "")), run)
        return self.view(name, owner)

    def stop(self, name: str, owner: str | None) -> RunView:
        """Start no further rows of ``name`` (rows under way finish)."""
        self._folder(name, owner)
        with self._lock:
            live = self._live.get(name)
        if live is not None:
            live.run.stop()
        return self.view(name, owner)

    # --- after a run --------------------------------------------------------------------

    def convert(self, name: str, owner: str | None) -> ConvertSummary:
        """MP4 → JPG for the clips the run has left (not while it runs)."""
        folder = self._folder(name, owner)
        with self._lock:
            self._check_idle(name)
        return convert_leftovers(folder)

    def delete(self, name: str, owner: str | None) -> DeleteReport:
        """Delete every file the run made, its state and its inputs (not while it runs)."""
        folder = self._folder(name, owner)
        with self._lock:
            self._check_idle(name)
            report = delete_run(folder)
            self._live.pop(name, None)
            shutil.rmtree(self.root / INPUTS / name, ignore_errors=True)
        return report

    # --- reading ------------------------------------------------------------------------

    def runs(self, owner: str | None) -> list[RunView]:
        """The runs ``owner`` may see (every run for None), newest first."""
        found = []
        if self.root.is_dir():
            for folder in self.root.iterdir():
                if folder.name.startswith(".") or not has_state(folder):
                    continue
                try:
                    found.append(self.view(folder.name, owner, rows=False))
                except NotFound:
                    continue
        return sorted(found, key=lambda v: str(v.settings.get("created", "")), reverse=True)

    def view(
        self, name: str, owner: str | None, *, rows: bool = True, counters: Counters | None = None
    ) -> RunView:
        """``name`` as ``owner`` may see it; ``counters``: the file counts to show instead of
        counting the folder now (a caller that counts at a limited rate)."""
        folder = self._folder(name, owner)
        with self._lock:
            live = self._live.get(name)
        settings = _settings(folder)
        error = live.error if live else None
        if live is not None and live.running:
            snap = live.run.snapshot()
            records, devices = snap.rows, snap.devices
            started, finished = snap.started_at, snap.finished_at
        else:
            records = _rows(folder)
            if live is not None:
                records = _with_skipped(records, live.run.monitor.rows())
            devices = live.run.snapshot().devices if live else []
            started = live.run.monitor.started_at if live else None
            finished = live.run.monitor.finished_at if live else None
        return RunView(
            name=name,
            owner=str(settings.get("owner", "")),
            folder=folder,
            running=live is not None and live.running,
            settings=settings,
            devices=devices,
            rows=records if rows else [],
            totals=Totals.of(records),
            counters=count_files(folder) if counters is None else counters,
            started_at=started.isoformat() if started else None,
            finished_at=finished.isoformat() if finished else None,
            error=error,
        )

    def monitor(self, name: str) -> RunMonitor | None:
        """The monitor of the latest run of ``name`` this process started (None if none since
        it started): what a live view subscribes to. A retry starts a new run, with a new
        monitor. The caller checks first that its user may see ``name``."""
        with self._lock:
            live = self._live.get(name)
        return None if live is None else live.run.monitor

    def folder(self, name: str, owner: str | None) -> Path:
        """The output folder of a run ``owner`` may see (for downloads)."""
        return self._folder(name, owner)

    def server_table(self) -> DevicesTable | None:
        """The device table of the server's settings (``nvr.devices``), if any."""
        if self.default_devices is None:
            return None
        return _parse(lambda: read_devices_table(self._default()))

    def close(self) -> None:
        """Stop every run (rows under way finish) and wait for them."""
        with self._lock:
            self._closed = True
            lives = list(self._live.values())
        for live in lives:
            live.run.stop()
        for live in lives:
            if live.watcher is not None:
                live.watcher.join(timeout=30)

    # --- the parts ----------------------------------------------------------------------

    def _table(self, inputs: Path, devices: Upload | None) -> DevicesTable:
        if devices is None:
            if self.default_devices is None:
                raise InvalidRequest(
                    "send a device table (.toml, .csv or .xlsx): this server has none "
                    "configured (nvr.devices)"
                )
            return _parse(lambda: read_devices_table(self._default()))
        path = _save(inputs, devices, TABLE_SUFFIXES, "device table")
        return _parse(lambda: read_devices_table(path))

    def _default(self) -> Path:
        assert self.default_devices is not None
        if not self.default_devices.is_file():
            raise Conflict(f"the server's device table {self.default_devices} is missing")
        return self.default_devices

    def _check_free(self, name: str, owner: str) -> None:
        self._check_idle(name)
        if self._closed:
            raise Conflict("the server is shutting down")
        folder = self.root / name
        if has_state(folder):
            before = str(_settings(folder).get("owner", ""))
            if before != owner:
                raise Conflict(f"a run named {name!r} belongs to another user; rename the manifest")

    def _check_idle(self, name: str) -> None:
        live = self._live.get(name)
        if live is not None and live.running:
            raise Conflict(f"the run {name!r} is still running; wait for it or stop it")

    def _launch(self, name: str, owner: str, run: BatchRun) -> None:
        """Record the owner, start the run, and keep it (its device stages) in memory."""
        try:
            with RunState(run.folder, lock=False) as state:
                state.save_settings({"owner": owner})
        except BaseException:
            run.close()
            raise
        live = _Live(run=run, owner=owner)

        def watch() -> None:
            try:
                run.run()
            except Exception as exc:  # shown with the run; the run's rows say the rest
                log.exception("the batch run %s failed", name)
                live.error = f"{type(exc).__name__}: {exc}"

        live.watcher = threading.Thread(target=watch, name=f"batch-{name}", daemon=True)
        live.watcher.start()
        self._live[name] = live

    def _folder(self, name: str, owner: str | None) -> Path:
        folder = self.root / name
        if (
            not name
            or name.startswith(".")
            or folder.resolve().parent != self.root.resolve()
            or not has_state(folder)
        ):
            raise NotFound(f"no batch run {name!r}")
        if owner is not None and str(_settings(folder).get("owner", "")) != owner:
            raise NotFound(f"no batch run {name!r}")
        return folder


def _run_name(filename: str) -> str:
    stem = Path(filename.replace("\\", "/")).stem
    name = safe_name(stem)
    if not stem.strip() or name.startswith(".") or name == "_":
        raise InvalidRequest(f"cannot name a run after the file {filename!r}; rename it")
    return name


def _save(folder: Path, upload: Upload, suffixes: tuple[str, ...], what: str) -> Path:
    base = Path(upload.filename.replace("\\", "/")).name
    suffix = Path(base).suffix.lower()
    if suffix not in suffixes:
        raise InvalidRequest(
            f"the {what} {base!r} must be a {', '.join(suffixes)} file, not {suffix or 'no suffix'}"
        )
    if not upload.data:
        raise InvalidRequest(f"the {what} {base!r} is empty")
    if len(upload.data) > MAX_UPLOAD:
        raise InvalidRequest(f"the {what} {base!r} is larger than {MAX_UPLOAD // 1_000_000} MB")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{safe_name(Path(base).stem)}{suffix}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(upload.data)
    return path


def _parse(read: Callable[[], T]) -> T:
    """Run a reader of a user's file: what it cannot read is the user's error (400)."""
    try:
        result = read()
    except (csv.Error, ValueError, UnicodeError, OSError) as exc:
        raise InvalidRequest(f"cannot read the file: {exc}") from exc
    return result


def _tz(options: RunOptions) -> tzinfo:
    return parse_tz(options.tz)


def _settings(folder: Path) -> dict[str, Any]:
    with RunState(folder, create=False, lock=False) as state:
        return state.settings()


def _rows(folder: Path) -> list[RowRecord]:
    with RunState(folder, create=False, lock=False) as state:
        return state.rows()


def _with_skipped(stored: list[RowRecord], shown: list[RowRecord]) -> list[RowRecord]:
    """The stored rows, marked "already complete" as the last run found them (the state
    does not keep that mark) unless they changed since."""
    last = {row.id: row for row in shown if row.skipped}
    marked = []
    for row in stored:
        before = last.get(row.id)
        if before is not None and before.with_(skipped=False) == row:
            row = before
        marked.append(row)
    return marked
