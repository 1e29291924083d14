"""Translation between the export proto and footage's tasks: options in, states out.

A session is one task per camera (see ``session_ref``). Its ``State`` combines the tasks'.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from footage.api.grpc.gen import export_pb2 as pb
from footage.domain import InvalidRequest, TimeRange, ensure_utc
from footage.tasks.model import ExportRequest, ExportTask, TaskKind, TaskStatus

MAX_SOURCES = 64

_STREAM_FORMATS = {
    pb.STREAM_FORMAT_UNSPECIFIED: "mp4",
    pb.STREAM_FORMAT_MP4: "mp4",
    pb.STREAM_FORMAT_MKV: "mkv",
    pb.STREAM_FORMAT_TS: "ts",
}
_FORMAT_ENUM = {"mp4": pb.STREAM_FORMAT_MP4, "mkv": pb.STREAM_FORMAT_MKV, "ts": pb.STREAM_FORMAT_TS}
_STATUS = {
    TaskStatus.QUEUED: pb.STATUS_QUEUED,
    TaskStatus.RUNNING: pb.STATUS_RUNNING,
    TaskStatus.DONE: pb.STATUS_DONE,
    TaskStatus.FAILED: pb.STATUS_FAILED,
    TaskStatus.CANCELLED: pb.STATUS_CANCELLED,
    TaskStatus.EXPIRED: pb.STATUS_EXPIRED,
}
# How a session's status combines its parts': the first of these any part has.
_PRECEDENCE = (
    TaskStatus.RUNNING,
    TaskStatus.QUEUED,
    TaskStatus.FAILED,
    TaskStatus.CANCELLED,
    TaskStatus.EXPIRED,
    TaskStatus.DONE,
)
_OFFSET = re.compile(r"^([+-])(\d{2}):?(\d{2})$")


@dataclass(frozen=True, slots=True, kw_only=True)
class StartPlan:
    """What ``StartSession`` asks for, in domain terms: one request for these cameras."""

    request: ExportRequest
    camera_ids: tuple[str, ...]


# ---- times ---------------------------------------------------------------------------------


def format_time(value: datetime | None) -> str:
    """``2026-03-01T08:00:00.000Z``, or empty for None."""
    if value is None:
        return ""
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_zone(text: str) -> tzinfo:
    """``UTC``, ``+08:00``/``-0530`` or an IANA name."""
    value = text.strip()
    if value.upper() in ("UTC", "Z"):
        return UTC
    match = _OFFSET.match(value)
    if match:
        delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3)))
        return timezone(-delta if match.group(1) == "-" else delta)
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidRequest(
            f"settings.timezone {text!r} is not a time zone; use UTC, an offset such as "
            "+08:00 or an IANA name such as Europe/Berlin"
        ) from exc


def parse_timestamp(field: str, text: str, zone: tzinfo | None) -> datetime:
    """An ISO 8601 time; one without an offset is read in ``zone`` (refused without one)."""
    if not text.strip():
        raise InvalidRequest(f"{field} is empty; give an ISO 8601 time such as 2026-03-01T08:00Z")
    try:
        value = datetime.fromisoformat(text.strip().replace("z", "Z"))
    except ValueError as exc:
        raise InvalidRequest(
            f"{field} {text!r} is not an ISO 8601 time; use e.g. 2026-03-01T08:00:00Z"
        ) from exc
    if value.tzinfo is None:
        if zone is None:
            raise InvalidRequest(
                f"{field} {text!r} has no offset; add one (Z, +08:00) or set settings.timezone"
            )
        value = value.replace(tzinfo=zone)
    return ensure_utc(value)


def offset_minutes(zone_name: str, at: datetime | None) -> int:
    """The offset from UTC of ``zone_name`` at ``at``, in minutes (0 if unknown)."""
    try:
        zone = parse_zone(zone_name)
    except InvalidRequest:
        return 0
    offset = (at or datetime.now(UTC)).astimezone(zone).utcoffset()
    return 0 if offset is None else int(offset.total_seconds() // 60)


# ---- options -> request --------------------------------------------------------------------


def start_plan(
    options: pb.Options,
    *,
    now: datetime | None = None,
    live_limit: timedelta = timedelta(hours=1),
) -> StartPlan:
    """The export ``options`` describe; ``InvalidRequest`` saying what is wrong, if anything.

    Archive mode exports ``[start, end)``; live mode records from ``now`` for ``duration_ms``
    (a stream) — or, with ``duration_ms = 0``, until StopSession, at most ``live_limit`` — or
    takes the picture the camera shows now (a snapshot)."""
    mode = options.WhichOneof("mode")
    if mode is None:
        raise InvalidRequest(
            "session_options.mode is not set; set archive (start, end, sources) or live "
            "(sources, duration_ms)"
        )
    output = options.WhichOneof("output_type")
    if output is None:
        raise InvalidRequest("session_options.output_type is not set; set stream or snapshot")
    settings = options.settings
    kind, fmt, audio, exact, interval = _output(options, output)
    if mode == "live":
        camera_ids = _camera_ids(options.live.sources, options.live.discrete, "live")
        span = _live_span(options.live, output, now or datetime.now(UTC), live_limit)
        if interval is not None:
            raise InvalidRequest(
                "snapshot.interval_ms is for the archive; a live snapshot is one picture now"
            )
    else:
        archive = options.archive
        camera_ids = _camera_ids(archive.sources, archive.discrete, "archive")
        zone = parse_zone(settings.timezone) if settings.timezone.strip() else None
        span = TimeRange(
            start=parse_timestamp("archive.start_timestamp", archive.start_timestamp, zone),
            end=parse_timestamp("archive.end_timestamp", archive.end_timestamp, zone),
        )
    request = ExportRequest(
        camera_id=camera_ids[0],
        range=span,
        kind=kind,
        format=fmt,
        audio=audio,
        exact=exact,
        max_file_size=options.max_file_size or None,
        picture_interval=interval,
        comment=settings.comment,
        file_name=settings.file_name,
        live=mode == "live",
        until_stopped=mode == "live" and output == "stream" and options.live.duration_ms == 0,
    )
    return StartPlan(request=request, camera_ids=camera_ids)


def _live_span(live: pb.LiveMode, output: str, now: datetime, limit: timedelta) -> TimeRange:
    """From now for the asked length (a clip; until stopped: at most ``limit``), or the
    instant now (a picture)."""
    if output == "snapshot":
        return TimeRange(start=now, end=now + timedelta(seconds=1))
    if live.duration_ms == 0:
        return TimeRange(start=now, end=now + limit)
    if live.duration_ms < 1000:
        raise InvalidRequest(f"live.duration_ms {live.duration_ms} is under a second")
    return TimeRange(start=now, end=now + timedelta(milliseconds=live.duration_ms))


def _output(options: pb.Options, output: str) -> tuple[TaskKind, str, bool, bool, timedelta | None]:
    """(kind, format, audio, exact cut, picture interval) of the output type."""
    if output == "stream":
        stream = options.stream
        if stream.format not in _STREAM_FORMATS:
            raise InvalidRequest(f"stream.format {stream.format} is unknown; use MP4, MKV or TS")
        fmt = _STREAM_FORMATS[stream.format]
        return TaskKind.CLIP, fmt, not stream.reject_audio, stream.exact_cut, None
    snapshot = options.snapshot
    if snapshot.format not in (pb.SNAPSHOT_FORMAT_UNSPECIFIED, pb.SNAPSHOT_FORMAT_JPEG):
        raise InvalidRequest(f"snapshot.format {snapshot.format} is unknown; use JPEG")
    ms = snapshot.interval_ms
    return TaskKind.PICTURES, "jpg", True, False, timedelta(milliseconds=ms) if ms else None


def _camera_ids(sources: Sequence[pb.Source], discrete: bool, mode: str) -> tuple[str, ...]:
    ids = tuple(source.camera_id.strip() for source in sources)
    if not ids:
        raise InvalidRequest(f"{mode}.sources is empty; name at least one camera")
    if len(ids) > MAX_SOURCES:
        raise InvalidRequest(f"{mode}.sources names {len(ids)} cameras; at most {MAX_SOURCES}")
    if any(not camera for camera in ids):
        raise InvalidRequest(f"{mode}.sources has a source without camera_id")
    if len(ids) > 1 and not discrete:
        raise InvalidRequest(
            f"footage writes one file per camera: set {mode}.discrete = true to export "
            "several cameras in one session"
        )
    return ids


# ---- tasks -> state ------------------------------------------------------------------------


def file_path(task: ExportTask, name: str, *, grouped: bool) -> str:
    """The ``Result.File.path`` of output ``name``: prefixed by the camera in a group."""
    return f"{task.camera_id}/{name}" if grouped else name


def _failure(task: ExportTask) -> pb.Failure | None:
    if task.failure is None:
        return None
    return pb.Failure(code=task.failure.code, message=task.failure.message)


def _reached(task: ExportTask) -> datetime | None:
    """How far an export has got: its last frame when done, else estimated from progress."""
    last = [f.last_ts for f in task.files if f.last_ts is not None]
    if last:
        return max(last)
    if task.status is TaskStatus.QUEUED or task.progress <= 0:
        return None
    span = task.request.range
    return span.start + span.duration * min(task.progress, 100.0) / 100


def _files(task: ExportTask, *, grouped: bool) -> list[pb.Result.File]:
    if task.status is not TaskStatus.DONE or task.destroyed is not None:
        return []
    return [
        pb.Result.File(
            path=file_path(task, f.name, grouped=grouped),
            size=f.size,
            min_timestamp=format_time(f.first_ts),
            max_timestamp=format_time(f.last_ts),
            mime_type=f.mime_type,
            timezone=offset_minutes(f.timezone, f.first_ts),
            sha256=f.sha256,
            camera_id=task.camera_id,
        )
        for f in task.files
    ]


def session_state(tasks: Sequence[ExportTask]) -> pb.State:
    """The state of the session made of ``tasks`` (one per camera, in the session's order)."""
    statuses = {t.status for t in tasks}
    status = next(s for s in _PRECEDENCE if s in statuses)
    destroyed = any(t.destroyed is not None for t in tasks)
    if destroyed or status is TaskStatus.EXPIRED:
        estate = pb.State.S_REMOVED
    elif status.active:
        estate = pb.State.S_RUNNING
    else:
        estate = pb.State.S_COMPLETED
    grouped = len(tasks) > 1
    failure = next((f for f in map(_failure, tasks) if f is not None), None)
    reached = [r for r in map(_reached, tasks) if r is not None]
    expiries = [t.expires for t in tasks if t.expires is not None and t.status is TaskStatus.DONE]
    return pb.State(
        state=estate,
        last_frame_timestamp=format_time(max(reached)) if reached else "",
        result=pb.Result(
            files=[f for t in tasks for f in _files(t, grouped=grouped)],
            succeeded=estate == pb.State.S_COMPLETED and statuses == {TaskStatus.DONE},
        ),
        status=_STATUS[status],
        failure=failure,
        progress=sum(_progress(t) for t in tasks) / len(tasks),
        destroyed=destroyed,
        parts=[
            pb.Part(
                camera_id=t.camera_id,
                status=_STATUS[t.status],
                progress=_progress(t),
                failure=_failure(t),
            )
            for t in tasks
        ],
        expires=format_time(min(expiries)) if expiries and not destroyed else "",
    )


def _progress(task: ExportTask) -> float:
    return 100.0 if task.status in (TaskStatus.DONE, TaskStatus.EXPIRED) else task.progress


def task_options(task: ExportTask) -> pb.Options:
    """The options a session's task was started with, as the API states them (UTC times)."""
    request = task.request
    options = pb.Options(
        archive=pb.ArchiveMode(
            sources=[pb.Source(camera_id=task.camera_id)],
            start_timestamp=format_time(request.range.start),
            end_timestamp=format_time(request.range.end),
            discrete=True,
        ),
        settings=pb.CommonSettings(
            comment=request.comment, file_name=request.file_name, timezone="UTC"
        ),
        max_file_size=request.max_file_size or 0,
    )
    if request.kind is TaskKind.CLIP:
        options.stream.CopyFrom(
            pb.StreamType(
                format=_FORMAT_ENUM[request.format],
                reject_audio=not request.audio,
                exact_cut=request.exact,
            )
        )
    else:
        interval = request.picture_interval
        options.snapshot.CopyFrom(
            pb.SnapshotType(
                format=pb.SNAPSHOT_FORMAT_JPEG,
                interval_ms=0 if interval is None else interval // timedelta(milliseconds=1),
            )
        )
    return options
