"""Batch runs of the "Download monitor": upload a manifest (and a device table), start,
follow device stages, row statuses and file counts (as they change: an event stream),
retry the missing, MP4 → JPG, delete, and download the results (one file, or every file as
a streamed ZIP)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Form, Query, Request, UploadFile
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, StreamingResponse

from footage.api.http.batch_live import StreamQuery, hub_of, run_events
from footage.api.http.deps import Caller, Exporter, RuntimeDep
from footage.api.http.responses import errors
from footage.api.http.routes_files import content_disposition
from footage.api.http.schemas_batch import (
    BatchConvertOut,
    BatchCountersOut,
    BatchDeleteOut,
    BatchMissingOut,
    BatchMissingRowOut,
    BatchRowOut,
    BatchRunListOut,
    BatchRunOut,
    BatchServerDevicesOut,
    ConvertFailureOut,
    DockOut,
    RowFilter,
)
from footage.batch import Columns, RunOptions, reconcile
from footage.batch.service import MAX_UPLOAD, Upload
from footage.domain import InvalidRequest, NotFound
from footage.runtime import Runtime

router = APIRouter(prefix="/api/v1/batch", tags=["batch"])
CHUNK = 256 * 1024
OUTPUT_SUFFIXES = (".jpg", ".jpeg", ".mp4")
RUN = "/runs/{name}"


async def _upload(file: UploadFile, what: str) -> Upload:
    if not file.filename:
        raise InvalidRequest(f"the {what} has no file name; send it as a file")
    data = await file.read(MAX_UPLOAD + 1)
    return Upload(filename=file.filename, data=data)


def _out(runtime: Runtime, caller: Caller, name: str) -> BatchRunOut:
    view = runtime.batch.view(name, caller.owner)
    return BatchRunOut.of(view, limit=50)


@router.get("/devices", response_model=BatchServerDevicesOut, responses=errors(403))
def server_devices(runtime: RuntimeDep, caller: Exporter) -> BatchServerDevicesOut:
    """The server's own device table (``nvr.devices``), which a run may use instead of an
    uploaded one (passwords are not shown)."""
    table = runtime.batch.server_table()
    if table is None:
        return BatchServerDevicesOut(configured=False, name=None, docks=[])
    docks = [DockOut(dock=d.dock, device=d.device, channel=d.channel) for d in table.docks.values()]
    return BatchServerDevicesOut(configured=True, name=table.path.name, docks=docks)


@router.get("/runs", response_model=BatchRunListOut, responses=errors(403))
def list_runs(runtime: RuntimeDep, caller: Exporter) -> BatchRunListOut:
    """The caller's runs (an administrator's: everyone's), newest first, without rows."""
    runs = runtime.batch.runs(caller.owner)
    return BatchRunListOut(runs=[BatchRunOut.of(view) for view in runs])


@router.post("/runs", response_model=BatchRunOut, status_code=201, responses=errors(403, 409))
async def start_run(
    runtime: RuntimeDep,
    caller: Exporter,
    manifest: Annotated[
        UploadFile, File(description=".csv or .xlsx: an id, a time and a dock per row")
    ],
    devices: Annotated[
        UploadFile | None,
        File(description="device table (.toml, .csv, .xlsx); omit to use the server's"),
    ] = None,
    clip_seconds: Annotated[float, Form(description="seconds of video from each row")] = 1.0,
    picture: Annotated[bool, Form(description="write <id>.jpg")] = True,
    clip: Annotated[bool, Form(description="keep <id>.mp4")] = False,
    per_device: Annotated[int, Form(description="rows of one device at once (1-16)")] = 1,
    row_timeout: Annotated[float, Form(description="seconds one row's download may take")] = 120,
    tz: Annotated[str, Form(description="zone of times without an offset: UTC, +08:00…")] = "UTC",
    id_column: Annotated[str, Form(description="the id column (default: guessed)")] = "",
    time_column: Annotated[str, Form(description="the time column (default: guessed)")] = "",
    camera_column: Annotated[str, Form(description="the dock column (default: guessed)")] = "",
) -> BatchRunOut:
    """Start (or resume) the run named after the manifest, in the background.

    A bad manifest or device table is a 400 naming the file, row and column; a run of the
    same name still running, or another user's, is a 409."""
    options = RunOptions(
        clip_seconds=clip_seconds,
        picture=picture,
        clip=clip,
        per_device=per_device,
        row_timeout=row_timeout,
        tz=tz.strip() or "UTC",
    )
    columns = Columns.named(
        id=id_column.strip() or None,
        time=time_column.strip() or None,
        camera=camera_column.strip() or None,
    )
    sent = await _upload(manifest, "manifest")
    chosen = devices is not None and bool(devices.filename)
    table = await _upload(devices, "device table") if devices is not None and chosen else None
    view = await run_in_threadpool(
        lambda: runtime.batch.start(
            owner=caller.user.name, manifest=sent, devices=table, options=options, columns=columns
        )
    )
    hub_of(runtime.batch).changed(view.name)
    return BatchRunOut.of(view, limit=50)


@router.get(RUN, response_model=BatchRunOut, responses=errors(403, 404))
def get_run(
    name: str,
    runtime: RuntimeDep,
    caller: Exporter,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=0, le=1000)] = 50,
    rows: Annotated[RowFilter, Query(description="which rows: all, problems, success…")] = "all",
) -> BatchRunOut:
    """The run now: device stages, totals, file counts and a page of its rows."""
    view = runtime.batch.view(name, caller.owner)
    return BatchRunOut.of(view, offset=offset, limit=limit, which=rows)


@router.get(
    f"{RUN}/events",
    response_class=StreamingResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "the run (as GET /batch/runs/{name} shows it) whenever it changes",
        },
        **errors(403, 404),
    },
)
async def run_events_stream(
    name: str,
    request: Request,
    runtime: RuntimeDep,
    caller: Exporter,
    offset: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=0, le=1000)] = 50,
    rows: Annotated[RowFilter, Query(description="which rows: all, problems, success…")] = "all",
) -> StreamingResponse:
    """The run as it changes (``text/event-stream``): ``event: snapshot`` carries what
    GET /batch/runs/{name} returns for the same query, first at once and then after every
    change (device stage, row status, file counts; at most 5 a second, ending with the
    latest); ``event: gone`` when the run is deleted (the stream ends); ``: ping`` comments
    keep an idle connection open."""
    await run_in_threadpool(runtime.batch.folder, name, caller.owner)  # 404 before streaming
    query = StreamQuery(
        service=runtime.batch,
        name=name,
        owner=caller.owner,
        offset=offset,
        limit=limit,
        rows=rows,
    )
    heartbeat: float = request.app.state.heartbeat
    return StreamingResponse(
        run_events(query, heartbeat),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


@router.post(f"{RUN}/retry", response_model=BatchRunOut, responses=errors(403, 404, 409))
def retry_run(
    name: str,
    runtime: RuntimeDep,
    caller: Exporter,
    per_device: Annotated[int | None, Query(ge=1, le=16)] = None,
) -> BatchRunOut:
    """Download the missing again: every row without a valid file, with the same table."""
    runtime.batch.retry(name, caller.owner, per_device)
    hub_of(runtime.batch).changed(name)
    return _out(runtime, caller, name)


@router.post(f"{RUN}/stop", response_model=BatchRunOut, responses=errors(403, 404))
def stop_run(name: str, runtime: RuntimeDep, caller: Exporter) -> BatchRunOut:
    """Start no further rows (rows under way finish); "download the missing" resumes."""
    runtime.batch.stop(name, caller.owner)
    hub_of(runtime.batch).changed(name)
    return _out(runtime, caller, name)


@router.post(f"{RUN}/convert", response_model=BatchConvertOut, responses=errors(403, 404, 409))
def convert_run(name: str, runtime: RuntimeDep, caller: Exporter) -> BatchConvertOut:
    """MP4 → JPG: the picture of every row whose clip is there but whose picture is not."""
    try:
        summary = runtime.batch.convert(name, caller.owner)
    finally:
        hub_of(runtime.batch).changed(name)
    return BatchConvertOut(
        converted=summary.converted,
        failed=[ConvertFailureOut(id=i, reason=r) for i, r in summary.failed],
    )


@router.delete(RUN, response_model=BatchDeleteOut, responses=errors(403, 404, 409))
def delete_run(name: str, runtime: RuntimeDep, caller: Exporter) -> BatchDeleteOut:
    """Delete every file of the run: its pictures and clips, its state, its inputs."""
    report = runtime.batch.delete(name, caller.owner)
    hub_of(runtime.batch).changed(name)
    return BatchDeleteOut(
        removed=report.removed,
        bytes=report.bytes,
        kept=report.kept,
        folder_removed=report.folder_removed,
    )


@router.get(f"{RUN}/missing", response_model=BatchMissingOut, responses=errors(403, 404))
def missing_rows(name: str, runtime: RuntimeDep, caller: Exporter) -> BatchMissingOut:
    """The rows without a valid file (reconciliation of the rows with the folder)."""
    result = reconcile(runtime.batch.folder(name, caller.owner))
    return BatchMissingOut(
        expected=result.expected,
        complete=len(result.complete),
        missing=[
            BatchMissingRowOut(row=BatchRowOut.of(m.row), problems=m.problems)
            for m in result.missing
        ],
        unexpected=result.unexpected,
        counters=BatchCountersOut(**result.counters.to_json()),
    )


def _outputs(folder: Path) -> list[Path]:
    return sorted(
        path
        for path in folder.iterdir()
        if path.suffix.lower() in OUTPUT_SUFFIXES and not path.name.startswith(".")
    )


class _Sink(io.RawIOBase):
    """An unseekable stream collecting what ``zipfile`` writes, taken chunk by chunk."""

    def __init__(self) -> None:
        self._chunks: list[bytes] = []

    def writable(self) -> bool:
        return True

    def write(self, data: object) -> int:
        chunk = bytes(data)  # type: ignore[call-overload]
        self._chunks.append(chunk)
        return len(chunk)

    def take(self) -> bytes:
        data, self._chunks = b"".join(self._chunks), []
        return data


def _zip(files: list[Path]) -> Iterator[bytes]:
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", zipfile.ZIP_STORED) as archive:
        for path in files:
            try:
                info = zipfile.ZipInfo.from_file(path, path.name)
                with path.open("rb") as source, archive.open(info, "w") as target:
                    while chunk := source.read(CHUNK):
                        target.write(chunk)
                        yield sink.take()
            except FileNotFoundError:  # deleted since the listing: left out
                continue
    yield sink.take()


@router.get(
    f"{RUN}/files.zip",
    response_class=StreamingResponse,
    responses={200: {"content": {"application/zip": {}}}, **errors(403, 404)},
)
def download_zip(name: str, runtime: RuntimeDep, caller: Exporter) -> StreamingResponse:
    """Every .jpg and .mp4 of the run, as one ZIP (streamed as it is made)."""
    folder = runtime.batch.folder(name, caller.owner)
    files = _outputs(folder)
    return StreamingResponse(
        _zip(files),
        media_type="application/zip",
        headers={"Content-Disposition": content_disposition(f"{name}.zip")},
    )


@router.get(
    f"{RUN}/files/{{file}}",
    response_class=FileResponse,
    responses={200: {"content": {"image/jpeg": {}, "video/mp4": {}}}, **errors(403, 404)},
)
def download_file(name: str, file: str, runtime: RuntimeDep, caller: Exporter) -> FileResponse:
    """One picture or clip of the run."""
    folder = runtime.batch.folder(name, caller.owner)
    path = folder / file
    if (
        "/" in file
        or "\\" in file
        or file.startswith(".")
        or path.suffix.lower() not in OUTPUT_SUFFIXES
        or not path.is_file()
    ):
        raise NotFound(f"run {name!r} has no file {file!r}")
    media = "video/mp4" if path.suffix.lower() == ".mp4" else "image/jpeg"
    return FileResponse(path, media_type=media, filename=path.name)
