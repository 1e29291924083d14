"""Export tasks as values: the request, the task with its state, failures and output files."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from footage.domain import Gap, InvalidRequest, TimeRange


class TaskStatus(StrEnum):
    QUEUED = "queued"  # In Queue
    RUNNING = "running"  # Preparing
    DONE = "done"
    FAILED = "failed"  # Error, with a reason
    CANCELLED = "cancelled"
    EXPIRED = "expired"  # done, files deleted by retention or keepalive

    @property
    def active(self) -> bool:
        return self in (TaskStatus.QUEUED, TaskStatus.RUNNING)

    @property
    def retryable(self) -> bool:
        return self in (TaskStatus.FAILED, TaskStatus.CANCELLED, TaskStatus.EXPIRED)


class TaskKind(StrEnum):
    CLIP = "clip"
    PICTURES = "pictures"


class Origin(StrEnum):
    WEB = "web"
    REST = "rest"
    GRPC = "grpc"
    BATCH = "batch"
    CLI = "cli"


class Keepalive(StrEnum):
    """Whether a client must keep polling: API sessions are stopped and removed when not."""

    NONE = "none"  # web, batch, CLI: kept by the retention window
    API_LIVE = "api_live"  # a live clip: abandoned after 5 min without a poll
    API_OTHER = "api_other"  # any other API export: abandoned after 30 min without a poll


class Reason(StrEnum):
    """Stable failure codes (``Failure.code``); media and source errors keep their own codes."""

    NO_RECORDING = "no_recording"
    SOURCE_UNAVAILABLE = "source_unavailable"
    NO_SPACE = "no_space"
    TIMEOUT = "timeout"
    MEDIA_ERROR = "media_error"
    ABANDONED = "abandoned"
    INTERRUPTED = "interrupted"
    CANCELLED = "cancelled"
    INTERNAL = "internal"


CLIP_FORMATS = frozenset({"mp4", "mkv", "ts"})
PICTURE_FORMATS = frozenset({"jpg"})


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportRequest:
    """What to export from one camera. ``file_name`` is a template for the output's stem."""

    camera_id: str
    range: TimeRange
    kind: TaskKind = TaskKind.CLIP
    format: str = "mp4"
    audio: bool = True
    exact: bool = False
    max_file_size: int | None = None
    picture_interval: timedelta | None = None
    comment: str = ""
    file_name: str = ""
    live: bool = False
    until_stopped: bool = False  # a live clip that records until stopped (or to range.end)

    def __post_init__(self) -> None:
        if self.until_stopped and not (self.live and self.kind is TaskKind.CLIP):
            raise InvalidRequest("only a live clip can record until it is stopped")
        allowed = CLIP_FORMATS if self.kind is TaskKind.CLIP else PICTURE_FORMATS
        if self.format not in allowed:
            raise InvalidRequest(
                f"format {self.format!r} is not available for {self.kind.value} exports; "
                f"use one of {', '.join(sorted(allowed))}"
            )
        if self.max_file_size is not None and self.max_file_size < 1_000_000:
            raise InvalidRequest("max_file_size must be at least 1000000 bytes (1 MB)")
        if self.picture_interval is not None:
            if self.kind is not TaskKind.PICTURES:
                raise InvalidRequest("picture_interval applies to picture exports only")
            if self.picture_interval <= timedelta(0):
                raise InvalidRequest("picture_interval must be positive, e.g. 10s")
        if len(self.comment) > 1000:
            raise InvalidRequest("the comment is longer than 1000 characters")

    def for_camera(self, camera_id: str) -> ExportRequest:
        """The same request for another camera (one task per camera)."""
        return ExportRequest(
            camera_id=camera_id,
            range=self.range,
            kind=self.kind,
            format=self.format,
            audio=self.audio,
            exact=self.exact,
            max_file_size=self.max_file_size,
            picture_interval=self.picture_interval,
            comment=self.comment,
            file_name=self.file_name,
            live=self.live,
            until_stopped=self.until_stopped,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class Failure:
    code: str
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskFile:
    """One finished, validated output file (``name`` is relative to the task's folder)."""

    name: str
    size: int
    sha256: str
    mime_type: str
    first_ts: datetime | None = None
    last_ts: datetime | None = None
    timezone: str = "UTC"
    gaps: tuple[Gap, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class ExportTask:
    id: str
    owner: str
    origin: Origin
    request: ExportRequest
    camera_name: str
    source: str
    file_stem: str
    created: datetime
    status: TaskStatus = TaskStatus.QUEUED
    priority: int = 0
    keepalive: Keepalive = Keepalive.NONE
    failure: Failure | None = None
    progress: float = 0.0  # percent, 0-100
    attempt: int = 0
    started: datetime | None = None
    finished: datetime | None = None
    polled: datetime | None = None
    expires: datetime | None = None
    heartbeat: datetime | None = None
    updated: datetime | None = None
    files: tuple[TaskFile, ...] = field(default_factory=tuple)
    retry_of: str | None = None
    node: str | None = None
    destroyed: datetime | None = None
    version: int = 0

    @property
    def camera_id(self) -> str:
        return self.request.camera_id


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskFilter:
    """Which tasks a listing shows; destroyed tasks are never listed."""

    owner: str | None = None
    statuses: frozenset[TaskStatus] | None = None
    camera_id: str | None = None
    origin: Origin | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class TaskPage:
    tasks: tuple[ExportTask, ...]
    next_token: str | None  # None on the last page
