"""One row's work: download its clip from its device, make its picture, check both.

Outputs appear only complete (the drivers and the JPEG writer write to a temporary name
and rename). A valid clip already on disk is not downloaded again (a run killed between
the download and the picture resumes with the picture). Every failure becomes the row's
status with a reason and, for device failures, the vendor's own code and text.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from footage.batch.model import FileStamp, RowReason, RowRecord, RowStatus, RunOptions
from footage.batch.validate import check_output, stamp
from footage.devices import Device, DeviceError, DownloadResult, Reason
from footage.domain import FootageError, TimeRange
from footage.media.picture import ConvertMode, convert_clip


@dataclass(frozen=True, slots=True, kw_only=True)
class RowTarget:
    device: Device
    device_name: str
    channel: int


class RowFailure(Exception):
    def __init__(self, status: RowStatus, reason: str, message: str, **vendor: str | None):
        super().__init__(message)
        self.status = status
        self.reason = reason
        self.message = message
        self.vendor_code = vendor.get("vendor_code")
        self.vendor_text = vendor.get("vendor_text")


def run_row(row: RowRecord, target: RowTarget, folder: Path, options: RunOptions) -> RowRecord:
    """Do ``row`` and return its finished record (never raises for a row's own failure)."""
    attempt = row.with_(attempts=row.attempts + 1, device=target.device_name)
    try:
        files, offset = _produce(attempt, target, folder, options)
    except RowFailure as failure:
        return attempt.with_(
            status=failure.status,
            reason=failure.reason,
            message=failure.message,
            vendor_code=failure.vendor_code,
            vendor_text=failure.vendor_text,
            files={},
            finished_at=datetime.now(UTC),
            skipped=False,
        )
    return attempt.with_(
        status=RowStatus.SUCCESS,
        reason=None,
        message="",
        vendor_code=None,
        vendor_text=None,
        files=files,
        picture_offset=offset,
        finished_at=datetime.now(UTC),
        skipped=False,
    )


def failed(row: RowRecord, reason: str, message: str, device: str | None = None) -> RowRecord:
    return row.with_(
        status=RowStatus.FAILED,
        reason=reason,
        message=message,
        vendor_code=None,
        vendor_text=None,
        device=device,
        files={},
        finished_at=datetime.now(UTC),
        skipped=False,
    )


def device_failure(row: RowRecord, exc: DeviceError, device: str) -> RowRecord:
    status = RowStatus.TIMEOUT if exc.reason is Reason.TIMEOUT else RowStatus.FAILED
    return row.with_(
        status=status,
        reason=exc.reason.value,
        message=exc.message,
        vendor_code=exc.vendor_code,
        vendor_text=exc.vendor_text,
        device=device,
        files={},
        finished_at=datetime.now(UTC),
        skipped=False,
    )


def _produce(
    row: RowRecord, target: RowTarget, folder: Path, options: RunOptions
) -> tuple[dict[str, FileStamp], float | None]:
    clip = folder / f"{row.name}.mp4"
    picture = folder / f"{row.name}.jpg"
    offset = row.picture_offset
    known = row.files.get(clip.name)
    if offset is None or check_output(clip, known) is not None:
        offset = _download(row, target, clip, options)
    files: dict[str, FileStamp] = {}
    if options.clip:
        files[clip.name] = _valid(clip)
    if options.picture:
        _make_picture(clip, offset)
        files[picture.name] = _valid(picture)
        if not options.clip:
            clip.unlink(missing_ok=True)
    return files, offset


def _download(row: RowRecord, target: RowTarget, clip: Path, options: RunOptions) -> float:
    span = TimeRange(
        start=row.at, end=_whole_second_up(row.at + timedelta(seconds=options.clip_seconds))
    )
    clip.unlink(missing_ok=True)  # an invalid leftover is never mistaken for the new one
    try:
        result = target.device.download(target.channel, span, clip, deadline_s=options.row_timeout)
    except DeviceError as exc:
        status = RowStatus.TIMEOUT if exc.reason is Reason.TIMEOUT else RowStatus.FAILED
        raise RowFailure(
            status,
            exc.reason.value,
            exc.message,
            vendor_code=exc.vendor_code,
            vendor_text=exc.vendor_text,
        ) from exc
    problem = check_output(clip)
    if problem is not None:
        clip.unlink(missing_ok=True)
        raise RowFailure(
            RowStatus.FAILED, RowReason.INVALID_OUTPUT, f"{clip.name} is not valid: {problem}"
        )
    return picture_offset(result, span)


def picture_offset(result: DownloadResult, span: TimeRange) -> float:
    """Seconds into the clip of ``span.start`` (the clip starts at a key frame before it).

    With absolute frame times from the device (Dahua DHAV) the offset is exact; without
    them (Hikvision PS) the clip is taken to end where it was asked to end (devices take
    whole seconds, so the engine asks for spans ending on one).
    """
    if result.first_frame is not None:
        offset = (span.start - result.first_frame).total_seconds()
    else:
        offset = result.duration - (span.end - span.start).total_seconds()
    return min(max(offset, 0.0), max(result.duration - 0.001, 0.0))


def _whole_second_up(moment: datetime) -> datetime:
    if moment.microsecond == 0:
        return moment
    return moment.replace(microsecond=0) + timedelta(seconds=1)


def _make_picture(clip: Path, offset: float) -> None:
    try:
        convert_clip(clip, ConvertMode.at_offset(timedelta(seconds=offset)), threads=1)
    except FootageError as exc:
        raise RowFailure(
            RowStatus.FAILED,
            RowReason.PICTURE_FAILED,
            f"no picture could be made of {clip.name}: {exc.message}",
        ) from exc


def _valid(path: Path) -> FileStamp:
    problem = check_output(path)
    if problem is not None:
        path.unlink(missing_ok=True)
        raise RowFailure(
            RowStatus.FAILED, RowReason.INVALID_OUTPUT, f"{path.name} is not valid: {problem}"
        )
    return stamp(path)
