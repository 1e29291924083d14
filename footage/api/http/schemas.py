"""The JSON shapes of the REST API (pydantic models: only here, at the edge)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from footage.domain import Camera, Timeline
from footage.tasks.model import ExportTask, TaskFile, TaskKind

API = "/api/v1"
Format = Literal["mp4", "mkv", "ts", "jpg"]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class ErrorDetail(_Out):
    code: str = Field(description="stable machine-readable reason, e.g. not_found")
    message: str = Field(description="what went wrong and what to do about it")


class ErrorOut(_Out):
    error: ErrorDetail


class CameraOut(_Out):
    id: str
    name: str
    source: str
    group: str
    first: datetime | None = Field(None, description="start of the earliest recording")
    last: datetime | None = Field(None, description="end of the latest recording")

    @classmethod
    def of(
        cls, camera: Camera, first: datetime | None = None, last: datetime | None = None
    ) -> CameraOut:
        return cls(
            id=camera.id,
            name=camera.name,
            source=camera.source,
            group=camera.group,
            first=first,
            last=last,
        )


class CameraGroupOut(_Out):
    id: str = Field(description="the group's key: the camera's group, else its source")
    name: str
    cameras: list[CameraOut]


class CameraListOut(_Out):
    cameras: list[CameraOut]
    groups: list[CameraGroupOut] = Field(description="the same cameras as a tree")


class SpanOut(_Out):
    start: datetime
    end: datetime


class TimelineOut(_Out):
    camera_id: str
    start: datetime
    end: datetime
    spans: list[SpanOut] = Field(description="stretches of continuous recording")
    gaps: list[SpanOut] = Field(description="stretches with no recording")

    @classmethod
    def of(cls, timeline: Timeline) -> TimelineOut:
        return cls(
            camera_id=timeline.camera_id,
            start=timeline.start,
            end=timeline.end,
            spans=[SpanOut(start=s.start, end=s.end) for s in timeline.spans],
            gaps=[SpanOut(start=g.start, end=g.end) for g in timeline.gaps],
        )


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    cameras: list[str] = Field(
        min_length=1, max_length=256, description="one task is created per camera, in order"
    )
    start: str = Field(
        "", description="ISO 8601 with an offset, e.g. 2026-03-01T08:00:00Z (not with live)"
    )
    end: str = Field("", description="ISO 8601 with an offset; at most tasks.max_range after start")
    live: bool = Field(
        False,
        description="the cameras' live streams instead of the archive: a clip of the next "
        "`duration` seconds from when the export runs, or (jpg) the picture of that moment",
    )
    duration: float | None = Field(
        None, gt=0, le=86400, description="live clips: seconds to record (at most tasks.max_range)"
    )
    format: Format = Field("mp4", description="mp4, mkv or ts clip; jpg: a picture")
    audio: bool = Field(True, description="export the sound (clips)")
    exact: bool = Field(False, description="cut exactly at start (else at the key frame before)")
    picture_interval: float | None = Field(
        None, gt=0, le=86400, description="jpg only: a picture every N seconds (else one at start)"
    )
    file_name: str = Field(
        "", max_length=200, description="file name template, e.g. {camera}_{start}"
    )
    comment: str = Field("", max_length=1000)


class FileOut(_Out):
    name: str
    size: int
    sha256: str
    mime_type: str
    url: str = Field(description="download URL (supports Range and If-Range)")
    first_ts: datetime | None = None
    last_ts: datetime | None = None

    @classmethod
    def of(cls, task_id: str, item: TaskFile) -> FileOut:
        return cls(
            name=item.name,
            size=item.size,
            sha256=item.sha256,
            mime_type=item.mime_type,
            url=f"{API}/exports/{task_id}/files/{quote(item.name)}",
            first_ts=item.first_ts,
            last_ts=item.last_ts,
        )


class FailureOut(_Out):
    code: str
    message: str


class TaskOut(_Out):
    id: str
    owner: str
    origin: str
    camera_id: str
    camera_name: str
    kind: str
    format: str
    audio: bool
    start: datetime
    end: datetime
    status: Literal["queued", "running", "done", "failed", "cancelled", "expired"]
    progress: float = Field(description="percent, 0-100")
    file_name: str = Field(description="the (first) output's name, or the one it will have")
    created: datetime
    started: datetime | None
    finished: datetime | None
    expires: datetime | None = Field(description="when the files are deleted")
    failure: FailureOut | None = Field(description="why it failed or was cancelled")
    files: list[FileOut]
    retry_of: str | None = Field(description="the task this one retries")
    version: int

    @classmethod
    def of(cls, task: ExportTask) -> TaskOut:
        request = task.request
        ext = "jpg" if request.kind is TaskKind.PICTURES else request.format
        return cls(
            id=task.id,
            owner=task.owner,
            origin=task.origin.value,
            camera_id=task.camera_id,
            camera_name=task.camera_name,
            kind=request.kind.value,
            format=request.format,
            audio=request.audio,
            start=request.range.start,
            end=request.range.end,
            status=task.status.value,
            progress=round(task.progress, 1),
            file_name=task.files[0].name if task.files else f"{task.file_stem}.{ext}",
            created=task.created,
            started=task.started,
            finished=task.finished,
            expires=task.expires,
            failure=FailureOut(code=task.failure.code, message=task.failure.message)
            if task.failure
            else None,
            files=[FileOut.of(task.id, f) for f in task.files],
            retry_of=task.retry_of,
            version=task.version,
        )


class TaskListOut(_Out):
    tasks: list[TaskOut]
    next_page_token: str | None = Field(description="pass as page_token for the next page")
    total: int = Field(description="tasks matching the filters, over all pages")


class CreatedOut(_Out):
    tasks: list[TaskOut]


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class MeOut(_Out):
    name: str
    permissions: list[str]
    cameras: list[str] | None = Field(description="the cameras the user may see; null: all")
    is_admin: bool
    csrf_token: str | None = Field(
        None, description="with a session cookie: the X-CSRF-Token for unsafe requests"
    )


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field("", max_length=200)
    ttl_hours: float | None = Field(None, gt=0, le=24 * 366, description="null: no expiry")


class TokenOut(_Out):
    token: str = Field(description="shown once: send it as Authorization: Bearer <token>")
