"""The JSON shapes of the batch API (``/api/v1/batch``): runs, device stages, rows, counts."""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict, Field

from footage.batch import DeviceView, RowRecord, RowStatus
from footage.batch.service import RunView

API = "/api/v1"
RowFilter = Literal["all", "problems", "success", "pending", "running", "failed", "timeout"]
_PROBLEMS = (RowStatus.FAILED, RowStatus.TIMEOUT)


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class BatchDeviceOut(_Out):
    name: str
    vendor: str
    address: str
    stage: str = Field(description="the latest stage: connect, login, search, download, logout…")
    status: str = Field(description="of that stage: started, ok, failed, retry…")
    detail: str
    reason: str | None = Field(description="why it failed: timeout, auth_failed, unreachable…")
    vendor_code: str | None = Field(description="the device's own error code")
    vendor_text: str | None = Field(description="the device's own error text")
    stages: dict[str, str] = Field(description="each stage reached and its latest status")
    rows_total: int
    rows_done: int
    rows_failed: int

    @classmethod
    def of(cls, view: DeviceView) -> BatchDeviceOut:
        return cls(
            name=view.name,
            vendor=view.vendor,
            address=view.address,
            stage=view.stage,
            status=view.status,
            detail=view.detail,
            reason=view.reason,
            vendor_code=view.vendor_code,
            vendor_text=view.vendor_text,
            stages=dict(view.stages),
            rows_total=view.rows_total,
            rows_done=view.rows_done,
            rows_failed=view.rows_failed,
        )


class BatchRowOut(_Out):
    id: str
    line: int = Field(description="the row's line in the manifest (the header is line 1)")
    time: str = Field(description="the row's time, UTC")
    camera: str = Field(description="the dock/camera of the row")
    device: str | None
    status: Literal["pending", "running", "success", "timeout", "failed"]
    reason: str | None
    message: str
    vendor_code: str | None
    vendor_text: str | None
    files: list[str]
    attempts: int
    skipped: bool = Field(description="complete before this run started")

    @classmethod
    def of(cls, row: RowRecord) -> BatchRowOut:
        return cls(
            id=row.id,
            line=row.line,
            time=row.at.isoformat(),
            camera=row.camera,
            device=row.device,
            status=row.status.value,
            reason=row.reason,
            message=row.message,
            vendor_code=row.vendor_code,
            vendor_text=row.vendor_text,
            files=sorted(row.files),
            attempts=row.attempts,
            skipped=row.skipped,
        )


class BatchTotalsOut(_Out):
    total: int
    pending: int
    running: int
    success: int
    skipped: int
    timeout: int
    failed: int


class BatchCountersOut(_Out):
    jpg: int = Field(description=".jpg files in the run's folder now")
    mp4: int = Field(description=".mp4 files in the run's folder now")


class BatchOptionsOut(_Out):
    clip_seconds: float
    picture: bool
    clip: bool
    per_device: int
    row_timeout: float
    tz: str


class BatchRunOut(_Out):
    name: str = Field(description="the run's name: its manifest's file name without suffix")
    owner: str
    running: bool
    created: str | None
    started_at: str | None
    finished_at: str | None
    error: str | None = Field(description="an unexpected failure of the run itself")
    options: BatchOptionsOut | None
    devices: list[BatchDeviceOut] = Field(description="device stages of the latest run")
    totals: BatchTotalsOut
    counters: BatchCountersOut
    rows: list[BatchRowOut] = Field(description="the page of rows asked for")
    rows_matching: int = Field(description="rows matching the filter, over all pages")
    offset: int
    zip_url: str = Field(description="every .jpg and .mp4 of the run as one ZIP")

    @classmethod
    def of(
        cls, view: RunView, *, offset: int = 0, limit: int = 0, which: RowFilter = "all"
    ) -> BatchRunOut:
        matching = [row for row in view.rows if _matches(row, which)]
        settings = view.settings
        return cls(
            name=view.name,
            owner=view.owner,
            running=view.running,
            created=_text(settings.get("created")),
            started_at=view.started_at,
            finished_at=view.finished_at,
            error=view.error,
            options=_options(settings),
            devices=[BatchDeviceOut.of(d) for d in view.devices],
            totals=BatchTotalsOut(**view.totals.to_json()),
            counters=BatchCountersOut(**view.counters.to_json()),
            rows=[BatchRowOut.of(r) for r in matching[offset : offset + limit]],
            rows_matching=len(matching),
            offset=offset,
            zip_url=f"{API}/batch/runs/{quote(view.name)}/files.zip",
        )


class BatchRunListOut(_Out):
    runs: list[BatchRunOut] = Field(description="newest first; without rows")


class DockOut(_Out):
    dock: str
    device: str
    channel: int


class BatchServerDevicesOut(_Out):
    configured: bool = Field(description="whether the server has a device table (nvr.devices)")
    name: str | None
    docks: list[DockOut]


class ConvertFailureOut(_Out):
    id: str
    reason: str


class BatchConvertOut(_Out):
    converted: list[str] = Field(description="ids of the rows whose picture was made")
    failed: list[ConvertFailureOut]


class BatchDeleteOut(_Out):
    removed: int = Field(description="files deleted")
    bytes: int
    kept: list[str] = Field(description="files in the folder footage did not make (kept)")
    folder_removed: bool


class BatchMissingRowOut(_Out):
    row: BatchRowOut
    problems: dict[str, str] = Field(description="file name -> missing, or what is wrong")


class BatchMissingOut(_Out):
    expected: int
    complete: int
    missing: list[BatchMissingRowOut]
    unexpected: list[str] = Field(description=".jpg/.mp4 files of no row")
    counters: BatchCountersOut


def _matches(row: RowRecord, which: RowFilter) -> bool:
    if which == "all":
        return True
    if which == "problems":
        return row.status in _PROBLEMS
    return row.status.value == which


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _options(settings: dict[str, Any]) -> BatchOptionsOut | None:
    try:
        return BatchOptionsOut(
            clip_seconds=float(settings["clip_seconds"]),
            picture=bool(settings["picture"]),
            clip=bool(settings["clip"]),
            per_device=int(settings["per_device"]),
            row_timeout=float(settings["row_timeout"]),
            tz=str(settings["tz"]),
        )
    except (KeyError, TypeError, ValueError):
        return None
