"""Translation between ``ExportTask`` values and rows of the ``tasks`` table."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from footage.domain import Gap, TimeRange, from_us, to_us
from footage.tasks.model import (
    ExportRequest,
    ExportTask,
    Failure,
    Keepalive,
    Origin,
    TaskFile,
    TaskKind,
    TaskStatus,
)


def _us(value: datetime | None) -> int | None:
    return None if value is None else to_us(value)


def _dt(value: int | None) -> datetime | None:
    return None if value is None else from_us(value)


def options_json(request: ExportRequest) -> str:
    interval = request.picture_interval
    interval_us = None if interval is None else interval // timedelta(microseconds=1)
    return json.dumps(
        {
            "format": request.format,
            "audio": request.audio,
            "exact": request.exact,
            "max_file_size": request.max_file_size,
            "picture_interval_us": interval_us,
            "comment": request.comment,
            "file_name": request.file_name,
            "live": request.live,
            "until_stopped": request.until_stopped,
        },
        separators=(",", ":"),
    )


def files_json(files: Sequence[TaskFile]) -> str:
    return json.dumps(
        [
            {
                "name": f.name,
                "size": f.size,
                "sha256": f.sha256,
                "mime_type": f.mime_type,
                "first_us": _us(f.first_ts),
                "last_us": _us(f.last_ts),
                "timezone": f.timezone,
                "gaps": [[to_us(g.start), to_us(g.end)] for g in f.gaps],
            }
            for f in files
        ],
        separators=(",", ":"),
    )


def _files(text: str) -> tuple[TaskFile, ...]:
    return tuple(
        TaskFile(
            name=item["name"],
            size=item["size"],
            sha256=item["sha256"],
            mime_type=item["mime_type"],
            first_ts=_dt(item["first_us"]),
            last_ts=_dt(item["last_us"]),
            timezone=item["timezone"],
            gaps=tuple(Gap(start=from_us(a), end=from_us(b)) for a, b in item["gaps"]),
        )
        for item in json.loads(text)
    )


def task_values(task: ExportTask) -> dict[str, Any]:
    """Column values for inserting ``task``."""
    request = task.request
    return {
        "id": task.id,
        "owner": task.owner,
        "origin": task.origin.value,
        "camera_id": request.camera_id,
        "camera_name": task.camera_name,
        "source": task.source,
        "kind": request.kind.value,
        "start_us": request.range.start_us,
        "end_us": request.range.end_us,
        "options": options_json(request),
        "file_stem": task.file_stem,
        "priority": task.priority,
        "status": task.status.value,
        "keepalive": task.keepalive.value,
        "failure_code": task.failure.code if task.failure else None,
        "failure_message": task.failure.message if task.failure else None,
        "progress": task.progress,
        "attempt": task.attempt,
        "created_us": to_us(task.created),
        "started_us": _us(task.started),
        "finished_us": _us(task.finished),
        "polled_us": _us(task.polled),
        "expires_us": _us(task.expires),
        "heartbeat_us": _us(task.heartbeat),
        "updated_us": to_us(task.updated or task.created),
        "files": files_json(task.files),
        "retry_of": task.retry_of,
        "node": task.node,
        "destroyed_us": _us(task.destroyed),
        "version": task.version or 1,
    }


def _request(row: Mapping[Any, Any]) -> ExportRequest:
    options = json.loads(row["options"])
    interval = options["picture_interval_us"]
    return ExportRequest(
        camera_id=row["camera_id"],
        range=TimeRange.from_us(row["start_us"], row["end_us"]),
        kind=TaskKind(row["kind"]),
        format=options["format"],
        audio=options["audio"],
        exact=options["exact"],
        max_file_size=options["max_file_size"],
        picture_interval=None if interval is None else timedelta(microseconds=interval),
        comment=options["comment"],
        file_name=options["file_name"],
        live=options["live"],
        until_stopped=options.get("until_stopped", False),
    )


def task_from_row(row: Mapping[Any, Any]) -> ExportTask:
    code = row["failure_code"]
    return ExportTask(
        id=row["id"],
        owner=row["owner"],
        origin=Origin(row["origin"]),
        request=_request(row),
        camera_name=row["camera_name"],
        source=row["source"],
        file_stem=row["file_stem"],
        created=from_us(row["created_us"]),
        status=TaskStatus(row["status"]),
        priority=row["priority"],
        keepalive=Keepalive(row["keepalive"]),
        failure=None if code is None else Failure(code=code, message=row["failure_message"] or ""),
        progress=row["progress"],
        attempt=row["attempt"],
        started=_dt(row["started_us"]),
        finished=_dt(row["finished_us"]),
        polled=_dt(row["polled_us"]),
        expires=_dt(row["expires_us"]),
        heartbeat=_dt(row["heartbeat_us"]),
        updated=from_us(row["updated_us"]),
        files=_files(row["files"]),
        retry_of=row["retry_of"],
        node=row["node"],
        destroyed=_dt(row["destroyed_us"]),
        version=row["version"],
    )
