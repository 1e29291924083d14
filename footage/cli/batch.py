"""``footage batch``: a clip and/or picture per spreadsheet row, from NVRs, with a live view.

Exit codes: 0 every row is complete; 1 some rows failed, timed out or did not run (the
summary and ``footage batch missing DIR`` say which and why); 2 the input is wrong (a bad
manifest or device table, a folder used by another run).
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from footage.batch import (
    BatchRun,
    Columns,
    RowChanged,
    RowRecord,
    RowStatus,
    RunOptions,
    RunSnapshot,
    RunSummary,
    convert_leftovers,
    delete_run,
    prepare_retry,
    prepare_run,
    read_devices_table,
    read_manifest,
    reconcile,
)
from footage.batch.manifest import parse_tz
from footage.batch.state import has_state
from footage.domain import NotFound

app = typer.Typer(
    help="Spreadsheet batches: one clip/picture per row from NVRs; missing, retry, convert.",
    no_args_is_help=True,
)
console = Console()

Folder = Annotated[Path, typer.Argument(help="the run's output folder (DIR/<manifest name>)")]
Json = Annotated[bool, typer.Option("--json", help="print a JSON summary for scripts")]
PerDevice = Annotated[
    int, typer.Option("--per-device", min=1, max=16, help="rows of one device at once")
]
RowTimeout = Annotated[
    float, typer.Option("--row-timeout", help="seconds one row's download may take")
]
Last = Annotated[int, typer.Option("--last", min=1, help="rows shown in the live view")]
STATUS_STYLE = {
    RowStatus.SUCCESS: "green",
    RowStatus.TIMEOUT: "yellow",
    RowStatus.FAILED: "red",
    RowStatus.RUNNING: "cyan",
    RowStatus.PENDING: "dim",
}


@app.command()
def run(
    manifest: Annotated[Path, typer.Argument(help=".xlsx or .csv: id, time, camera/dock")],
    devices: Annotated[
        Path, typer.Option("--devices", "-d", help="device table: .xlsx, .csv or .toml")
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="output root folder")],
    clip_seconds: Annotated[
        float, typer.Option("--clip-seconds", help="seconds of video from each row's time")
    ] = 1.0,
    picture: Annotated[bool, typer.Option("--picture/--no-picture", help="write <id>.jpg")] = True,
    clip: Annotated[bool, typer.Option("--clip/--no-clip", help="keep <id>.mp4")] = False,
    per_device: PerDevice = 1,
    tz: Annotated[
        str, typer.Option("--tz", help="zone of times without an offset: UTC, +08:00, local")
    ] = "UTC",
    id_column: Annotated[str | None, typer.Option("--id-column")] = None,
    time_column: Annotated[str | None, typer.Option("--time-column")] = None,
    camera_column: Annotated[
        str | None, typer.Option("--camera-column", help="the camera/dock column")
    ] = None,
    row_timeout: RowTimeout = 120.0,
    last: Last = 15,
    as_json: Json = False,
) -> None:
    """Download each row of MANIFEST into OUTPUT/<manifest name>/ (re-running resumes)."""
    columns = Columns.named(id=id_column, time=time_column, camera=camera_column)
    rows = read_manifest(manifest, columns=columns, tz=parse_tz(tz))
    table = read_devices_table(devices)
    options = RunOptions(
        clip_seconds=clip_seconds,
        picture=picture,
        clip=clip,
        per_device=per_device,
        row_timeout=row_timeout,
        tz=tz,
        recent_rows=last,
    )
    _execute(prepare_run(rows, table, output, options), as_json)


@app.command()
def retry(
    folder: Folder,
    devices: Annotated[
        Path | None, typer.Option("--devices", "-d", help="another device table")
    ] = None,
    per_device: PerDevice = 1,
    row_timeout: RowTimeout = 120.0,
    last: Last = 15,
    as_json: Json = False,
) -> None:
    """Download the missing ones again: every row without a valid file."""
    table = read_devices_table(devices) if devices is not None else None
    prepared = prepare_retry(
        _run_folder(folder),
        table,
        per_device=per_device,
        row_timeout=row_timeout,
        recent_rows=last,
    )
    _execute(prepared, as_json)


@app.command()
def missing(folder: Folder, as_json: Json = False) -> None:
    """List the rows without a valid file, with the reason (exit 1 if there are any)."""
    result = reconcile(_run_folder(folder))
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        table = Table("row", "id", "time (UTC)", "camera", "files", "last attempt")
        for item in result.missing:
            problems = "; ".join(f"{name}: {what}" for name, what in item.problems.items())
            row = item.row
            table.add_row(
                str(row.line),
                row.id,
                row.at.strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
                row.camera,
                problems,
                _last_attempt(row),
            )
        if result.missing:
            console.print(table)
        console.print(
            f"{len(result.complete)} of {result.expected} rows complete, "
            f"{len(result.missing)} missing; files: {result.counters.jpg} .jpg, "
            f"{result.counters.mp4} .mp4"
            + (f"; {len(result.unexpected)} files of no row" if result.unexpected else "")
        )
    if result.missing:
        raise typer.Exit(1)


@app.command()
def convert(folder: Folder, as_json: Json = False) -> None:
    """Turn the clips left in FOLDER into the rows' pictures (MP4 -> JPG)."""
    summary = convert_leftovers(_run_folder(folder))
    if as_json:
        typer.echo(json.dumps(summary.to_json(), indent=2, ensure_ascii=False))
    else:
        console.print(f"{len(summary.converted)} clips converted, {len(summary.failed)} failed")
        for ident, reason in summary.failed:
            console.print(f"  [red]{ident}[/]: {reason}", highlight=False)
    if summary.failed:
        raise typer.Exit(1)


@app.command()
def delete(
    folder: Folder,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False,
    as_json: Json = False,
) -> None:
    """Delete every file of the run in FOLDER: pictures, clips and its state."""
    target = _run_folder(folder)
    if not yes and not typer.confirm(f"Delete every file of the batch run in {target}?"):
        raise typer.Exit(1)
    report = delete_run(target)
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2, ensure_ascii=False))
        return
    console.print(f"{report.removed} files removed ({report.bytes / 1e6:.1f} MB)")
    if report.kept:
        console.print(f"kept {len(report.kept)} files footage did not make: {report.kept[:5]}")


# --- running with a live view -------------------------------------------------------------


def _execute(prepared: BatchRun, as_json: bool) -> None:
    live = console.is_terminal and not as_json
    if not live and not as_json:
        prepared.subscribe(_print_finished_row)
    with prepared:
        previous = signal.getsignal(signal.SIGINT)

        def interrupted(signum: int, frame: Any) -> None:
            console.print("[yellow]stopping: rows under way finish, no new ones start[/]")
            prepared.stop()

        signal.signal(signal.SIGINT, interrupted)
        try:
            prepared.start()
            summary = _watch(prepared) if live else prepared.wait()
        finally:
            signal.signal(signal.SIGINT, previous)
    assert summary is not None
    if as_json:
        typer.echo(json.dumps(summary.to_json(), indent=2, ensure_ascii=False))
    else:
        _print_summary(summary)
    raise typer.Exit(summary.exit_code)


def _watch(prepared: BatchRun) -> RunSummary | None:
    with Live(_render(prepared.snapshot()), console=console, refresh_per_second=4) as view:
        while (summary := prepared.wait(0.25)) is None:
            view.update(_render(prepared.snapshot()))
        view.update(_render(prepared.snapshot()))
    return summary


def _render(snap: RunSnapshot) -> Group:
    devices = Table("device", "address", "stage", "rows", "failed", title="devices")
    for device in snap.devices:
        style = "red" if device.status == "failed" else ""
        devices.add_row(
            device.name,
            device.address,
            Text(device.describe(), style=style),
            f"{device.rows_done}/{device.rows_total}",
            str(device.rows_failed),
        )
    rows = Table("row", "id", "time (UTC)", "camera", "status", title="latest rows")
    for row in snap.recent:
        rows.add_row(
            str(row.line),
            row.id,
            row.at.strftime("%H:%M:%S.%f")[:-3],
            row.camera,
            Text(row.describe(), style=STATUS_STYLE[row.status]),
        )
    t = snap.totals
    counters = Text(
        f"{t.success}/{t.total} done ({t.skipped} already complete), {t.failed} failed, "
        f"{t.timeout} timed out, {t.running} running, {t.pending} waiting — files: "
        f"{snap.counters.jpg} .jpg, {snap.counters.mp4} .mp4"
    )
    return Group(devices, rows, counters)


def _print_finished_row(event: object) -> None:
    if isinstance(event, RowChanged) and event.row.status.finished:
        row = event.row
        console.print(f"row {row.line} {row.id}: {row.describe()}", highlight=False)


def _print_summary(summary: RunSummary) -> None:
    t = summary.totals
    console.print(
        f"[bold]{t.success} of {t.total} rows complete[/] ({t.skipped} already were), "
        f"{t.failed} failed, {t.timeout} timed out, {t.pending} not run, "
        f"in {summary.seconds:.1f}s — {summary.counters.jpg} .jpg, "
        f"{summary.counters.mp4} .mp4 in {summary.folder}",
        highlight=False,
    )
    for row in summary.failures[:20]:
        console.print(f"  row {row.line} {row.id}: {_last_attempt(row)}", highlight=False)
    if len(summary.failures) > 20:
        console.print(f"  … and {len(summary.failures) - 20} more")
    if not t.complete:
        console.print(
            f"list them: footage batch missing {summary.folder}\n"
            f"try again: footage batch retry {summary.folder}",
            highlight=False,
        )


def _last_attempt(row: RowRecord) -> str:
    if row.attempts == 0 and not row.reason:
        return "not tried yet"
    text = row.describe() if row.status.finished else f"{row.reason or 'pending'}"
    return f"{text}: {row.message}" if row.message else text


def _run_folder(folder: Path) -> Path:
    """``folder`` itself, or the one run folder inside an output root."""
    if has_state(folder):
        return folder
    runs = [p for p in folder.iterdir() if has_state(p)] if folder.is_dir() else []
    if len(runs) == 1:
        return runs[0]
    if runs:
        names = ", ".join(sorted(p.name for p in runs))
        raise NotFound(f"{folder} holds several runs ({names}); name one of them")
    raise NotFound(f"{folder} holds no batch run")
