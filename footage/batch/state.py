"""A run's durable state: an SQLite file inside the run's output folder.

It holds the run's settings, every manifest row and what became of it. Each finished row
is one committed transaction, so a run killed at any moment loses at most the rows that
were in flight; re-running skips rows recorded (and still present and valid) as complete.
A lock file keeps two runs from using one folder at the same time. The device passwords
are never written here: the state remembers the path of the device table instead.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from footage.batch.manifest import ManifestRow
from footage.batch.model import FileStamp, RowRecord, RowStatus, parse_stamp
from footage.closeable import Closeable
from footage.domain import Conflict, NotFound

STATE_FILE = ".footage-batch.sqlite"
LOCK_FILE = ".footage-batch.lock"
SCHEMA_VERSION = 1

_SCHEMA = """
create table if not exists settings (key text primary key, value text not null);
create table if not exists rows (
    idx integer not null,
    id text primary key,
    name text not null,
    at text not null,
    camera text not null,
    line integer not null,
    status text not null,
    reason text,
    message text not null default '',
    vendor_code text,
    vendor_text text,
    device text,
    attempts integer not null default 0,
    files text not null default '{}',
    picture_offset real,
    finished_at text
);
"""
_COLUMNS = (
    "idx, id, name, at, camera, line, status, reason, message, vendor_code, vendor_text, "
    "device, attempts, files, picture_offset, finished_at"
)


class RunState(Closeable):
    """The state file of one output folder; thread-safe; use as a context manager.

    ``lock=False`` opens it beside a run that holds the lock (to read, as ``missing`` does).
    """

    def __init__(self, folder: Path, *, create: bool = True, lock: bool = True) -> None:
        self.folder = Path(folder)
        self.path = self.folder / STATE_FILE
        if not create and not self.path.exists():
            raise NotFound(f"{self.folder} holds no batch run (no {STATE_FILE} in it)")
        self.folder.mkdir(parents=True, exist_ok=True)
        self._lock_handle = _take_lock(self.folder / LOCK_FILE) if lock else None
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("pragma journal_mode=wal")
        self._db.execute("pragma synchronous=full")
        self._db.executescript(_SCHEMA)

    # --- settings -----------------------------------------------------------------------

    def settings(self) -> dict[str, Any]:
        with self._lock:
            found = self._db.execute("select key, value from settings").fetchall()
        return {key: json.loads(value) for key, value in found}

    def save_settings(self, values: dict[str, Any]) -> None:
        with self._lock, self._db:
            self._db.execute("begin")
            self._db.executemany(
                "insert or replace into settings (key, value) values (?, ?)",
                [(key, json.dumps(value)) for key, value in values.items()],
            )
            self._db.execute(
                "insert or replace into settings (key, value) values ('schema', ?)",
                (json.dumps(SCHEMA_VERSION),),
            )

    # --- rows ---------------------------------------------------------------------------

    def rows(self) -> list[RowRecord]:
        with self._lock:
            found = self._db.execute(f"select {_COLUMNS} from rows order by idx").fetchall()
        return [_record(row) for row in found]

    def sync(self, manifest_rows: Iterable[ManifestRow]) -> list[RowRecord]:
        """Make the stored rows those of the manifest: unchanged rows keep their record; a
        row whose time or camera changed starts again; rows no longer listed are dropped."""
        known = {row.id: row for row in self.rows()}
        records = []
        for index, row in enumerate(manifest_rows):
            old = known.get(row.id)
            fresh = RowRecord(
                index=index, id=row.id, name=row.name, at=row.at, camera=row.camera, line=row.line
            )
            if old is not None and old.at == row.at and old.camera == row.camera:
                fresh = old.with_(index=index, line=row.line, name=row.name)
            records.append(fresh)
        with self._lock, self._db:
            self._db.execute("begin")
            self._db.execute("delete from rows")
            self._db.executemany(
                f"insert into rows ({_COLUMNS}) values ({', '.join('?' * 16)})",
                [_values(r) for r in records],
            )
        return records

    def record(self, row: RowRecord) -> None:
        """Store one row's record (one committed transaction)."""
        with self._lock, self._db:
            self._db.execute("begin")
            self._db.execute(
                f"insert or replace into rows ({_COLUMNS}) values ({', '.join('?' * 16)})",
                _values(row),
            )

    # --- lifecycle ----------------------------------------------------------------------

    def close(self) -> None:
        with self._lock:
            self._db.close()
        if self._lock_handle is not None:
            self._lock_handle.close()


def has_state(folder: Path) -> bool:
    return (Path(folder) / STATE_FILE).is_file()


def _take_lock(path: Path) -> IO[bytes]:
    handle = path.open("a+b")
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: no advisory lock
        return handle
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise Conflict(f"another batch run is using {path.parent}; wait for it to finish") from None
    return handle


def _values(row: RowRecord) -> tuple[Any, ...]:
    files = {name: [stamp.size, stamp.mtime_ns] for name, stamp in row.files.items()}
    status = RowStatus.PENDING if row.status is RowStatus.RUNNING else row.status
    return (
        row.index,
        row.id,
        row.name,
        row.at.isoformat(),
        row.camera,
        row.line,
        status.value,
        row.reason,
        row.message,
        row.vendor_code,
        row.vendor_text,
        row.device,
        row.attempts,
        json.dumps(files),
        row.picture_offset,
        row.finished_at.isoformat() if row.finished_at else None,
    )


def _record(values: tuple[Any, ...]) -> RowRecord:
    files = {
        name: FileStamp(size=int(size), mtime_ns=int(mtime))
        for name, (size, mtime) in json.loads(values[13]).items()
    }
    return RowRecord(
        index=values[0],
        id=values[1],
        name=values[2],
        at=datetime.fromisoformat(values[3]).astimezone(UTC),
        camera=values[4],
        line=values[5],
        status=RowStatus(values[6]),
        reason=values[7],
        message=values[8],
        vendor_code=values[9],
        vendor_text=values[10],
        device=values[11],
        attempts=values[12],
        files=files,
        picture_offset=values[14],
        finished_at=parse_stamp(values[15]),
    )
