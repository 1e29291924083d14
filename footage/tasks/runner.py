"""Running one task: the disk check, the archive's segments, the media export, the outputs.

Each attempt writes into the task's own folder, emptied first (an attempt always starts from
the beginning) and removed when the attempt does not succeed. The media layer writes every
file under a temporary name and renames it only once complete and validated, so the files
this returns, and only those, are registered as the task's outputs.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Protocol

from footage.archive.live import LiveStreams
from footage.archive.source import ArchiveSource
from footage.domain import FootageError, Gap, InvalidRequest, NoSpace, NotFound, Segment
from footage.media.clip import Cancelled, CancelToken, ClipOptions, export_clip
from footage.media.clip.options import OutputFile
from footage.media.picture import PictureFile, picture_at, picture_series
from footage.tasks.model import ExportTask, Reason, TaskFile, TaskKind
from footage.tasks.naming import stop_marker

Progress = Callable[[float], None]  # fraction done, 0 to 1 (clips report percent: scaled)
JPEG = "image/jpeg"


class TaskRunner(Protocol):
    def run(self, task: ExportTask, progress: Progress, cancel: CancelToken) -> list[TaskFile]:
        """Export ``task``; raise ``Cancelled`` when cancelled, a ``FootageError`` on failure."""
        ...

    def discard(self, task: ExportTask) -> None:
        """Delete whatever ``task`` wrote (its outputs were not registered after all)."""
        ...


def free_bytes(path: Path) -> int:
    """Free space on the file system holding ``path`` (or its nearest existing parent)."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return shutil.disk_usage(candidate).free
    return shutil.disk_usage(Path.cwd()).free


class ExportRunner:
    """Exports tasks from an archive source into ``output_root/<task id>/``."""

    def __init__(
        self,
        *,
        archive: ArchiveSource,
        output_root: Path,
        live: LiveStreams | None = None,
        live_timeout: float = 10.0,
        min_free_bytes: int = 1024 * 1024 * 1024,
        free_space: Callable[[Path], int] = free_bytes,
    ) -> None:
        self._archive = archive
        self._live = live or LiveStreams({})
        self._live_timeout = live_timeout
        self._root = Path(output_root)
        self._min_free = min_free_bytes
        self._free_space = free_space

    def folder(self, task: ExportTask) -> Path:
        return self._root / task.id

    def discard(self, task: ExportTask) -> None:
        shutil.rmtree(self.folder(task), ignore_errors=True)

    def run(self, task: ExportTask, progress: Progress, cancel: CancelToken) -> list[TaskFile]:
        self._check_space()
        folder = self.folder(task)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        try:
            if task.request.live:
                return self._live_export(task, folder, progress, cancel)
            segments = self._archive.segments(task.camera_id, task.request.range)
            if not segments:
                raise _no_recording(task)
            cancel.check()
            if task.request.kind is TaskKind.CLIP:
                return self._clip(task, segments, folder, progress, cancel)
            return self._pictures(task, segments, folder, progress, cancel)
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def _check_space(self) -> None:
        self._root.mkdir(parents=True, exist_ok=True)
        free = self._free_space(self._root)
        if free < self._min_free:
            raise NoSpace(
                f"only {free // 1_000_000} MB free on the disk of {self._root}; an export needs "
                f"{self._min_free // 1_000_000} MB: free some space or lower tasks.min_free_mb"
            )

    def _clip(
        self,
        task: ExportTask,
        segments: Sequence[Segment],
        folder: Path,
        progress: Progress,
        cancel: CancelToken,
    ) -> list[TaskFile]:
        request = task.request
        options = ClipOptions(
            format=request.format,
            audio=request.audio,
            exact=request.exact,
            max_file_size=request.max_file_size,
            camera_name=task.camera_name,
            comment=request.comment,
            file_stem=task.file_stem,
        )
        try:
            result = export_clip(
                segments, request.range, folder, options, lambda pct: progress(pct / 100), cancel
            )
        except NotFound as exc:  # nothing recorded in the range
            raise FootageError(exc.message, code=Reason.NO_RECORDING.value) from exc
        if not result.files:
            raise _no_recording(task)
        return [
            _task_file(item, folder, _gaps_within(result.gaps, item.first_ts, item.last_ts))
            for item in result.files
        ]

    def _pictures(
        self,
        task: ExportTask,
        segments: Sequence[Segment],
        folder: Path,
        progress: Progress,
        cancel: CancelToken,
    ) -> list[TaskFile]:
        request = task.request
        if request.picture_interval is None:
            try:
                pictures = [picture_at(segments, request.range.start, folder / _jpg(task))]
            except NotFound as exc:
                raise FootageError(exc.message, code=Reason.NO_RECORDING.value) from exc
            progress(1.0)
        else:
            pictures = picture_series(
                segments,
                request.range,
                request.picture_interval,
                folder,
                file_stem=task.file_stem,
                progress=progress,
                cancel=lambda: cancel.cancelled,
            )
            cancel.check()  # a cancelled series returns what it wrote so far
        if not pictures:
            raise _no_recording(task)
        return [_picture_file(p, folder) for p in pictures]

    def _live_export(
        self, task: ExportTask, folder: Path, progress: Progress, cancel: CancelToken
    ) -> list[TaskFile]:
        """Record the camera's live stream for the request's length from now (a clip), or
        take the picture it shows now."""
        from footage.live import live_picture

        request = task.request
        url = self._live.url(task.camera_id)
        marker = stop_marker(self._root, task.id)
        if request.kind is TaskKind.CLIP:
            try:
                made = self._record(task, url, folder, progress, cancel, marker)
            finally:
                marker.unlink(missing_ok=True)
        elif request.picture_interval is not None:
            raise InvalidRequest(
                "a live picture export takes one picture now; picture series are for the archive"
            )
        else:
            made = live_picture(
                url, folder, stem=task.file_stem, connect_timeout=self._live_timeout, cancel=cancel
            )
            progress(1.0)
        return [_task_file(made, folder)]

    def _record(
        self,
        task: ExportTask,
        url: str,
        folder: Path,
        progress: Progress,
        cancel: CancelToken,
        marker: Path,
    ) -> OutputFile:
        from footage.live import record_clip

        request = task.request
        return record_clip(
            url,
            folder,
            stem=task.file_stem,
            seconds=request.range.duration.total_seconds(),
            fmt=request.format,
            audio=request.audio,
            progress=lambda pct: progress(pct / 100),
            cancel=cancel,
            connect_timeout=self._live_timeout,
            camera_name=task.camera_name,
            comment=request.comment,
            stop=marker.exists if request.until_stopped else None,
        )


def _task_file(item: OutputFile, folder: Path, gaps: tuple[Gap, ...] = ()) -> TaskFile:
    return TaskFile(
        name=item.path.relative_to(folder).as_posix(),
        size=item.size,
        sha256=item.sha256,
        mime_type=item.mime_type,
        first_ts=item.first_ts,
        last_ts=item.last_ts,
        gaps=gaps,
    )


def _jpg(task: ExportTask) -> str:
    return f"{task.file_stem}.jpg"


def _picture_file(picture: PictureFile, folder: Path) -> TaskFile:
    return TaskFile(
        name=picture.path.relative_to(folder).as_posix(),
        size=picture.size,
        sha256=picture.sha256,
        mime_type=JPEG,
        first_ts=picture.shown_at,
        last_ts=picture.shown_at,
    )


def _gaps_within(gaps: Sequence[Gap], first: datetime, last: datetime) -> tuple[Gap, ...]:
    return tuple(
        Gap(start=max(g.start, first), end=min(g.end, last))
        for g in gaps
        if g.start < last and g.end > first
    )


def _no_recording(task: ExportTask) -> FootageError:
    return FootageError(
        f"camera {task.camera_id} has no recording between {task.request.range}",
        code=Reason.NO_RECORDING.value,
    )


__all__ = ["Cancelled", "ExportRunner", "Progress", "TaskRunner", "free_bytes"]
