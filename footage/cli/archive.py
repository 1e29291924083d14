"""``footage archive``: generate synthetic footage, scan archives, list cameras, timelines."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from footage.archive.local.index import SegmentIndex
from footage.archive.local.scan import ScanReport, scan
from footage.cli.context import state
from footage.cli.parsing import parse_resolution
from footage.domain import Timeline, TimeRange, parse_duration, parse_time

app = typer.Typer(
    help="Recorded archives: generate, scan, cameras, timeline.", no_args_is_help=True
)

_PROGRESS_MIN = 50  # show a progress bar from this many files on
JsonFlag = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _human(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _short(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _length(value: timedelta) -> str:
    total = value.total_seconds()
    hours, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{int(hours)}:{int(minutes):02d}:{seconds:06.3f}"


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, indent=2))


@contextmanager
def progress_bar(label: str, *, quiet: bool) -> Iterator[Callable[[int, int], None]]:
    """A ``(done, total)`` callback drawing a bar on stderr once the work looks long."""
    bar = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
    )
    task: list[Any] = []

    def advance(done: int, total: int) -> None:
        if quiet or total < _PROGRESS_MIN:
            return
        if not task:
            bar.start()
            task.append(bar.add_task(label, total=total))
        bar.update(task[0], completed=done, total=total)

    try:
        yield advance
    finally:
        if task:
            bar.stop()


@app.command()
def generate(
    folder: Annotated[Path, typer.Argument(help="where to write the archive")],
    cameras: Annotated[int, typer.Option(help="how many cameras")] = 3,
    duration: Annotated[str, typer.Option(help="length per camera, e.g. 90m, 24h")] = "1h",
    start: Annotated[
        str | None, typer.Option(help="ISO start time; default: now - duration")
    ] = None,
    segment_seconds: Annotated[float, typer.Option(help="length of one file")] = 60.0,
    layout: Annotated[str, typer.Option(help="native, frigate or mediamtx")] = "native",
    container: Annotated[str, typer.Option(help="fmp4, mp4 or ts")] = "fmp4",
    resolution: Annotated[str, typer.Option(help="WIDTHxHEIGHT")] = "640x360",
    fps: Annotated[int, typer.Option(help="frames per second")] = 25,
    gop: Annotated[int, typer.Option(help="frames between key frames")] = 50,
    codec: Annotated[str, typer.Option(help="h264 or hevc")] = "h264",
    audio: Annotated[bool, typer.Option("--audio/--no-audio", help="add a tone track")] = True,
    gaps: Annotated[bool, typer.Option("--gaps/--no-gaps", help="leave recording gaps")] = False,
    seed: Annotated[int, typer.Option(help="seed of the gap pattern")] = 0,
    stamps: Annotated[str, typer.Option(help="auto, exact or loop")] = "auto",
    as_json: JsonFlag = False,
) -> None:
    """Write a synthetic archive of time-stamped test footage."""
    from footage.media.synth import SynthOptions
    from footage.media.synth import generate as synthesize

    options = SynthOptions(
        cameras=cameras,
        duration=parse_duration(duration),
        start=parse_time(start) if start else None,
        segment_seconds=segment_seconds,
        layout=layout,
        container=container,
        resolution=parse_resolution(resolution),
        fps=fps,
        gop=gop,
        codec=codec,
        audio=audio,
        gaps=gaps,
        seed=seed,
        stamps=stamps,
    )
    with progress_bar("generating", quiet=as_json) as progress:
        report = synthesize(folder, options, progress=progress)
    if as_json:
        data = report.to_json()
        typer.echo(data if isinstance(data, str) else json.dumps(data, indent=2))
        return
    print_generated(report)


def print_generated(report: Any) -> None:
    size = sum(Path(item.path).stat().st_size for item in report.segments)
    cameras = sorted({item.camera_id for item in report.segments})
    gaps = sum(len(report.gaps(camera)) for camera in cameras)
    typer.echo(
        f"wrote {len(report.segments)} segments of {len(cameras)} cameras "
        f"({size / 1e6:.1f} MB, {gaps} gaps) to {report.root}"
    )


@app.command("scan")
def scan_command(
    ctx: typer.Context,
    folder: Annotated[
        Path | None, typer.Argument(help="archive folder; default: the configured archive.root")
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="probe processes; default: archive.scan_workers")
    ] = None,
    as_json: JsonFlag = False,
) -> None:
    """Index the recordings in FOLDER (only new and changed files are opened)."""
    cli = state(ctx)
    root = folder or cli.settings.archive_root
    with progress_bar("probing", quiet=as_json) as progress:
        report = scan(
            cli.engine,
            root,
            workers=workers or cli.settings.archive.scan_workers,
            progress=progress,
        )
    if as_json:
        _print_json(report.to_json())
    else:
        print_scan(report)


def print_scan(report: ScanReport) -> None:
    typer.echo(
        f"scanned {report.root} in {report.seconds:.2f} s: {report.added} added, "
        f"{report.updated} updated, {report.removed} removed, {report.unchanged} unchanged, "
        f"{len(report.failed)} failed, {report.skipped} skipped"
    )
    for path, reason in report.failed:
        typer.echo(f"  failed: {path}: {reason}")


@app.command("cameras")
def cameras_command(ctx: typer.Context, as_json: JsonFlag = False) -> None:
    """List the indexed cameras with their first and last recording."""
    summaries = SegmentIndex(state(ctx).engine).summaries()
    if as_json:
        _print_json(
            [
                {
                    "id": item.camera.id,
                    "segments": item.segments,
                    "first": _iso(item.first),
                    "last": _iso(item.last),
                    "recorded_seconds": item.recorded.total_seconds(),
                }
                for item in summaries
            ]
        )
        return
    print_cameras(summaries)


def print_cameras(summaries: list[Any]) -> None:
    table = Table("camera", "segments", "first (UTC)", "last (UTC)", "hours", box=box.SIMPLE)
    for item in summaries:
        hours = item.recorded.total_seconds() / 3600
        table.add_row(
            item.camera.id,
            str(item.segments),
            _short(item.first),
            _short(item.last),
            f"{hours:.2f}",
        )
    Console().print(table)


@app.command("timeline")
def timeline_command(
    ctx: typer.Context,
    camera: Annotated[str, typer.Option(help="camera id")],
    start: Annotated[str, typer.Option(help="ISO 8601 start, e.g. 2026-11-21T08:00:00Z")],
    end: Annotated[str, typer.Option(help="ISO 8601 end")],
    as_json: JsonFlag = False,
) -> None:
    """Show the recorded spans and the gaps of a camera between two times."""
    cli = state(ctx)
    span = TimeRange(start=parse_time(start), end=parse_time(end))
    timeline = SegmentIndex(cli.engine).timeline(camera, span, cli.settings.archive.gap_tolerance)
    if as_json:
        _print_json(timeline_json(timeline))
    else:
        _print_timeline(timeline)


def timeline_json(timeline: Timeline) -> dict[str, Any]:
    def item(start: datetime, end: datetime) -> dict[str, Any]:
        return {"start": _iso(start), "end": _iso(end), "seconds": (end - start).total_seconds()}

    return {
        "camera": timeline.camera_id,
        "start": _iso(timeline.start),
        "end": _iso(timeline.end),
        "spans": [item(span.start, span.end) for span in timeline.spans],
        "gaps": [item(gap.start, gap.end) for gap in timeline.gaps],
    }


def _print_timeline(timeline: Timeline) -> None:
    rows = [("recorded", s.start, s.end) for s in timeline.spans]
    rows += [("gap", g.start, g.end) for g in timeline.gaps]
    table = Table("", "from", "to", "length", title=f"{timeline.camera_id}")
    for kind, begin, finish in sorted(rows, key=lambda row: row[1]):
        style = "red" if kind == "gap" else None
        table.add_row(kind, _human(begin), _human(finish), _length(finish - begin), style=style)
    Console().print(table)
