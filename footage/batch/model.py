"""What a batch run is made of: its options, each row's record and status, the totals."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from footage.devices import RetryPolicy, Timeouts
from footage.domain import InvalidRequest, ensure_utc


class RowStatus(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCESS = "success"
    TIMEOUT = "timeout"
    FAILED = "failed"

    @property
    def finished(self) -> bool:
        return self in (RowStatus.SUCCESS, RowStatus.TIMEOUT, RowStatus.FAILED)


class RowReason(StrEnum):
    """Reasons of the batch itself; device failures carry ``footage.devices.Reason`` values."""

    UNKNOWN_DOCK = "unknown_dock"  # the manifest names a dock the device table does not list
    PICTURE_FAILED = "picture_failed"  # the clip came, but no picture could be made of it
    INVALID_OUTPUT = "invalid_output"  # a file was written but does not decode/probe
    ERROR = "error"  # an unexpected failure (a bug): the message says what


@dataclass(frozen=True, kw_only=True)
class RunOptions:
    """What each row produces and how hard the devices are pushed.

    ``clip_seconds`` of video from the row's time; ``clip`` keeps it as ``<id>.mp4``,
    ``picture`` writes the frame shown at the row's time as ``<id>.jpg``. ``per_device``
    rows of one device run at once; devices always run in parallel with each other.
    ``row_timeout`` bounds one row's download (seconds).
    """

    clip_seconds: float = 1.0
    picture: bool = True
    clip: bool = False
    per_device: int = 1
    row_timeout: float = 120.0
    tz: str = "UTC"
    timeouts: Timeouts | None = None  # default: the drivers' own, with row_timeout
    retry: RetryPolicy | None = None
    recent_rows: int = 20  # rows a live view keeps in its "latest" list

    def __post_init__(self) -> None:
        if not self.clip and not self.picture:
            raise InvalidRequest("a batch makes a picture, a clip or both: not neither")
        if not 0.1 <= self.clip_seconds <= 3600:
            raise InvalidRequest(f"--clip-seconds {self.clip_seconds} is out of range (0.1-3600)")
        if not 1 <= self.per_device <= 16:
            raise InvalidRequest(f"--per-device {self.per_device} is out of range (1-16)")
        if self.row_timeout <= 0:
            raise InvalidRequest("the row timeout must be positive")

    def wants(self) -> tuple[str, ...]:
        """The suffixes of the outputs every row must have."""
        return tuple(s for s, on in ((".mp4", self.clip), (".jpg", self.picture)) if on)

    def settings(self) -> dict[str, Any]:
        """What the state file remembers of these options."""
        return {
            "clip_seconds": self.clip_seconds,
            "picture": self.picture,
            "clip": self.clip,
            "per_device": self.per_device,
            "row_timeout": self.row_timeout,
            "tz": self.tz,
        }

    @classmethod
    def from_settings(cls, values: dict[str, Any], **changes: Any) -> RunOptions:
        known = {k: values[k] for k in cls().settings() if k in values}
        return replace(cls(**known), **changes)


@dataclass(frozen=True, slots=True, kw_only=True)
class FileStamp:
    """An output file as it was when validated: re-validated only if it changed."""

    size: int
    mtime_ns: int


@dataclass(frozen=True, kw_only=True)
class RowRecord:
    """One manifest row and what became of it."""

    index: int  # position in the manifest
    id: str
    name: str  # file stem of its outputs
    at: datetime  # UTC
    camera: str
    line: int
    status: RowStatus = RowStatus.PENDING
    reason: str | None = None
    message: str = ""
    vendor_code: str | None = None
    vendor_text: str | None = None
    device: str | None = None
    attempts: int = 0
    files: dict[str, FileStamp] = field(default_factory=dict)
    picture_offset: float | None = None  # seconds into the clip of the row's time
    finished_at: datetime | None = None
    skipped: bool = False  # found complete and valid when the run started

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", ensure_utc(self.at))

    def with_(self, **changes: Any) -> RowRecord:
        return replace(self, **changes)

    def describe(self) -> str:
        """Status, reason and the vendor's own code/text, for a status column."""
        if self.status is RowStatus.SUCCESS:
            return "success (already complete)" if self.skipped else "success"
        parts = [self.status.value]
        if self.reason and self.reason != self.status.value:
            parts.append(self.reason)
        vendor = " ".join(p for p in (self.vendor_code, self.vendor_text) if p)
        if vendor:
            parts.append(f"({vendor})")
        return " ".join(parts)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "line": self.line,
            "time": self.at.isoformat(),
            "camera": self.camera,
            "device": self.device,
            "status": self.status.value,
            "reason": self.reason,
            "message": self.message,
            "vendor_code": self.vendor_code,
            "vendor_text": self.vendor_text,
            "files": sorted(self.files),
            "attempts": self.attempts,
            "skipped": self.skipped,
        }


@dataclass(frozen=True, kw_only=True)
class Totals:
    total: int = 0
    pending: int = 0
    running: int = 0
    success: int = 0
    skipped: int = 0  # of the successes: complete before this run started
    timeout: int = 0
    failed: int = 0

    @classmethod
    def of(cls, rows: list[RowRecord]) -> Totals:
        count = {status: 0 for status in RowStatus}
        for row in rows:
            count[row.status] += 1
        return cls(
            total=len(rows),
            pending=count[RowStatus.PENDING],
            running=count[RowStatus.RUNNING],
            success=count[RowStatus.SUCCESS],
            skipped=sum(1 for r in rows if r.skipped and r.status is RowStatus.SUCCESS),
            timeout=count[RowStatus.TIMEOUT],
            failed=count[RowStatus.FAILED],
        )

    @property
    def complete(self) -> bool:
        return self.success == self.total

    def to_json(self) -> dict[str, int]:
        return {
            "total": self.total,
            "pending": self.pending,
            "running": self.running,
            "success": self.success,
            "skipped": self.skipped,
            "timeout": self.timeout,
            "failed": self.failed,
        }


def parse_stamp(value: Any) -> datetime | None:
    return None if not value else ensure_utc(datetime.fromisoformat(str(value)))
