"""``footage export``: clips and pictures straight from an archive folder, and ``convert``."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from footage.archive.local.scan import scan
from footage.archive.local.source import LocalArchive
from footage.cli.context import state
from footage.cli.parsing import parse_size
from footage.domain import InvalidRequest, Segment, TimeRange, parse_duration, parse_time

app = typer.Typer(help="Export clips and pictures from an archive.", no_args_is_help=True)

ArchiveOpt = Annotated[
    Path | None,
    typer.Option("--archive", help="archive folder (indexed first); default: archive.root"),
]
CameraOpt = Annotated[str, typer.Option("--camera", help="camera id")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print the result as JSON")]


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _open_archive(ctx: typer.Context, folder: Path | None) -> LocalArchive:
    cli = state(ctx)
    root = folder or cli.settings.archive_root
    if not root.is_dir():
        raise InvalidRequest(f"archive folder {root} does not exist; pass --archive DIR")
    scan(cli.engine, root, workers=cli.settings.archive.scan_workers)
    return LocalArchive(cli.engine, root, cli.settings.archive.gap_tolerance)


def _segments(archive: LocalArchive, camera: str, span: TimeRange) -> list[Segment]:
    archive.camera(camera)  # unknown camera: NotFound naming the known ones
    return archive.segments(camera, span)


@contextmanager
def _progress(label: str, *, quiet: bool) -> Iterator[Any]:
    """A 0-100 % bar on stderr; yields a ``(fraction)`` callback."""
    bar = Progress(
        TextColumn(label),
        BarColumn(),
        TaskProgressColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        transient=True,
        disable=quiet,
    )
    with bar:
        task = bar.add_task(label, total=100.0)

        def update(fraction: float) -> None:
            value = fraction * 100.0 if fraction <= 1.0 else fraction
            bar.update(task, completed=min(100.0, value))

        yield update


@contextmanager
def _cancel_on_interrupt(cancel: Any) -> Iterator[None]:
    """Ctrl-C cancels the export (which removes its partial files) instead of killing it."""
    previous = signal.getsignal(signal.SIGINT)
    signal.signal(signal.SIGINT, lambda *_: cancel.cancel())
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _out_target(out: Path, camera: str, start: datetime, fmt: str | None) -> tuple[Path, str, str]:
    """(folder, file stem, format) from ``-o``: a file name with a suffix, or a folder."""
    suffix = out.suffix.lower().lstrip(".")
    if suffix in {"mp4", "mkv", "ts"}:
        if fmt is not None and fmt != suffix:
            raise InvalidRequest(f"-o {out} ends in .{suffix} but --format is {fmt}")
        return out.parent, out.stem, suffix
    stem = f"{camera}_{start.astimezone(UTC):%Y%m%dT%H%M%SZ}"
    return out, stem, fmt or "mp4"


@app.command("clip")
def clip(
    ctx: typer.Context,
    camera: CameraOpt,
    start: Annotated[str, typer.Option(help="ISO time with offset")],
    end: Annotated[str, typer.Option(help="ISO time with offset, or now")],
    out: Annotated[Path, typer.Option("-o", "--out", help="output file or folder")],
    archive: ArchiveOpt = None,
    fmt: Annotated[str | None, typer.Option("--format", help="mp4, mkv or ts")] = None,
    audio: Annotated[bool, typer.Option("--audio/--no-audio")] = True,
    max_file_size: Annotated[
        str | None, typer.Option(help="split into files of at most this size, e.g. 500M")
    ] = None,
    exact: Annotated[
        bool, typer.Option("--exact/--keyframe", help="start exactly, or at the key frame")
    ] = True,
    on_gap: Annotated[str, typer.Option(help="skip (report gaps) or fail")] = "skip",
    comment: Annotated[str, typer.Option(help="stored in the file's metadata")] = "",
    as_json: JsonOpt = False,
) -> None:
    """Export a clip by stream copy (no re-encoding)."""
    from footage.media.clip import CancelToken, ClipOptions, export_clip

    span = TimeRange(start=parse_time(start), end=parse_time(end))
    folder, stem, container = _out_target(out, camera, span.start, fmt)
    source = _open_archive(ctx, archive)
    options = ClipOptions(
        format=container,
        audio=audio,
        exact=exact,
        on_gap=on_gap,
        comment=comment,
        max_file_size=parse_size(max_file_size) if max_file_size else None,
        camera_name=source.camera(camera).name,
        file_stem=stem,
    )
    segments = _segments(source, camera, span)
    folder.mkdir(parents=True, exist_ok=True)
    cancel = CancelToken()
    with _progress("exporting", quiet=as_json) as progress, _cancel_on_interrupt(cancel):
        result = export_clip(segments, span, folder, options, progress=progress, cancel=cancel)
    data = {
        "camera": camera,
        "requested": {"start": _iso(span.start), "end": _iso(span.end)},
        "recorded_seconds": result.recorded_seconds,
        "files": [
            {
                "path": str(f.path),
                "size": f.size,
                "sha256": f.sha256,
                "mime_type": f.mime_type,
                "first": _iso(f.first_ts),
                "last": _iso(f.last_ts),
                "codec": f.video_codec,
                "width": f.width,
                "height": f.height,
            }
            for f in result.files
        ],
        "gaps": [
            {"start": _iso(g.start), "end": _iso(g.end), "seconds": g.duration.total_seconds()}
            for g in result.gaps
        ],
    }
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    for f in result.files:
        typer.echo(
            f"{f.path}  {f.size / 1e6:.1f} MB  {_iso(f.first_ts)} → {_iso(f.last_ts)}"
            f"  sha256 {f.sha256}"
        )
    for g in result.gaps:
        typer.echo(
            f"gap (no recording): {_iso(g.start)} → {_iso(g.end)} "
            f"({g.duration.total_seconds():.1f} s)"
        )


@app.command("snapshot")
def snapshot(
    ctx: typer.Context,
    camera: CameraOpt,
    at: Annotated[str, typer.Option(help="ISO time of the picture (or of the first)")],
    out: Annotated[Path, typer.Option("-o", "--out", help="a .jpg file, or a folder for --every")],
    archive: ArchiveOpt = None,
    every: Annotated[str | None, typer.Option(help="series: a picture every N, e.g. 10s")] = None,
    end: Annotated[str | None, typer.Option(help="end of the series")] = None,
    width: Annotated[int | None, typer.Option(min=16, help="scale to this width")] = None,
    height: Annotated[int | None, typer.Option(min=16, help="scale to this height")] = None,
    quality: Annotated[int, typer.Option(min=1, max=100, help="JPEG quality")] = 90,
    as_json: JsonOpt = False,
) -> None:
    """The JPG of the frame shown at a moment, or a series of them."""
    from footage.media.picture import PictureOptions, picture_at, run_series

    moment = parse_time(at)
    options = PictureOptions(width=width, height=height, quality=quality)
    source = _open_archive(ctx, archive)
    if every is None:
        if end is not None:
            raise InvalidRequest("--end goes with --every (a series of pictures)")
        target = (
            out
            if out.suffix.lower() in {".jpg", ".jpeg"}
            else out / (f"{camera}_{moment.astimezone(UTC):%Y%m%dT%H%M%S_%fZ}.jpg")
        )
        target.parent.mkdir(parents=True, exist_ok=True)
        span = TimeRange(start=moment, end=moment + parse_duration("1ms"))
        pics = [picture_at(_segments(source, camera, span), moment, target, options)]
        skipped: list[dict[str, str]] = []
    else:
        if end is None:
            raise InvalidRequest("a series (--every) needs --end")
        span = TimeRange(start=moment, end=parse_time(end))
        out.mkdir(parents=True, exist_ok=True)
        with _progress("pictures", quiet=as_json) as progress:
            result = run_series(
                _segments(source, camera, span),
                span,
                parse_duration(every),
                out,
                options,
                camera,
                progress=progress,
            )
        pics = result.pictures
        skipped = [{"at": _iso(s.at), "reason": s.reason} for s in result.skipped]
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "pictures": [
                        {
                            "path": str(p.path),
                            "size": p.size,
                            "sha256": p.sha256,
                            "shown_at": _iso(p.shown_at),
                        }
                        for p in pics
                    ],
                    "skipped": skipped,
                },
                indent=2,
            )
        )
        return
    for p in pics:
        typer.echo(f"{p.path}  shows {_iso(p.shown_at)}  sha256 {p.sha256}")
    for s in skipped:
        typer.echo(f"skipped {s['at']}: {s['reason']}")


def convert(
    folder: Annotated[Path, typer.Argument(help="folder of .mp4 clips")],
    at: Annotated[str | None, typer.Option(help="the frame at this offset, e.g. 2s")] = None,
    every: Annotated[str | None, typer.Option(help="a picture every N, e.g. 10s")] = None,
    recursive: Annotated[bool, typer.Option(help="also clips in sub-folders")] = False,
    workers: Annotated[int | None, typer.Option(min=1, help="processes; default: cores")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Turn every MP4 clip in FOLDER into JPG pictures next to it (default: first frame)."""
    from footage.media.picture import ConvertMode, convert_folder

    if at is not None and every is not None:
        raise InvalidRequest("choose --at or --every, not both")
    if not folder.is_dir():
        raise InvalidRequest(f"{folder} is not a folder")
    mode = (
        ConvertMode.periodic(parse_duration(every))
        if every
        else ConvertMode.at_offset(parse_duration(at))
        if at
        else ConvertMode.first_frame()
    )
    with _progress("converting", quiet=as_json) as progress:
        report = convert_folder(
            folder, mode, workers=workers, recursive=recursive, progress=progress
        )
    if as_json:
        typer.echo(
            json.dumps(
                {
                    "converted": [
                        {"clip": str(c), "pictures": [str(p) for p in ps]}
                        for c, ps in report.converted
                    ],
                    "failed": [{"clip": str(c), "reason": r} for c, r in report.failed],
                },
                indent=2,
            )
        )
    else:
        typer.echo(f"converted {len(report.converted)} clips, {len(report.failed)} failed")
        for clip_path, reason in report.failed:
            typer.echo(f"  {clip_path}: {reason}")
    if report.failed:
        raise typer.Exit(1)
