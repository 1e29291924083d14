"""``footage client``: export from a footage server over gRPC, as an integrator would.

The server and token come from ``--server``/``--token`` or the environment
(``FOOTAGE_CLIENT_SERVER``, ``FOOTAGE_CLIENT_TOKEN``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskID,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.table import Table

from footage.api.grpc.gen import export_pb2 as pb
from footage.client import ExportClient, clip_options, live_options
from footage.domain import FootageError, parse_duration, parse_time

app = typer.Typer(help="Export from a footage server over gRPC.", no_args_is_help=True)

Server = Annotated[
    str,
    typer.Option("--server", envvar="FOOTAGE_CLIENT_SERVER", help="host:port of the gRPC API"),
]
Token = Annotated[
    str,
    typer.Option(
        "--token",
        envvar="FOOTAGE_CLIENT_TOKEN",
        help="API token (`footage users token`)",
        show_default=False,
    ),
]
OutDir = Annotated[Path, typer.Option("--output", "-o", help="folder for the files")]
ChunkKb = Annotated[int, typer.Option("--chunk-kb", help="download chunk size, KiB")]
DEFAULT_SERVER = "127.0.0.1:50051"
_STATE = {v: k.removeprefix("S_").lower() for k, v in pb.State.EState.items()}
_STATUS = {v: k.removeprefix("STATUS_").lower() for k, v in pb.Status.items()}


def _err() -> Console:
    return Console(stderr=True)


@contextmanager
def _client(server: str, token: str) -> Iterator[ExportClient]:
    with ExportClient(server, token) as client:
        yield client


def _describe(state: pb.State) -> str:
    text = f"{_STATE[state.state]} ({_STATUS[state.status]})"
    if state.HasField("failure"):
        text += f": {state.failure.code}: {state.failure.message}"
    return text


def _wait(client: ExportClient, session: str, interval: float) -> pb.State:
    with Progress(
        TextColumn("[bold]exporting[/]"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.description}"),
        console=_err(),
        transient=True,
    ) as bar:
        job = bar.add_task("queued", total=100)

        def show(state: pb.State) -> None:
            bar.update(job, completed=state.progress, description=_STATUS[state.status])

        return client.wait(session, interval=interval, on_state=show)


def _download(
    client: ExportClient, session: str, state: pb.State, out_dir: Path, chunk_kb: int
) -> list[Path]:
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=_err(),
    ) as bar:
        jobs: dict[str, TaskID] = {}

        def show(file: pb.Result.File, done: int, total: int) -> None:
            if file.path not in jobs:
                jobs[file.path] = bar.add_task(file.path, total=total)
            bar.update(jobs[file.path], completed=done)

        return client.download_all(
            session, out_dir, state=state, chunk_kb=chunk_kb, on_progress=show
        )


def _fetch(
    client: ExportClient,
    session: str,
    state: pb.State,
    out_dir: Path,
    chunk_kb: int,
    *,
    keep: bool,
) -> None:
    """After a session ended: download and check its files (their paths on stdout), then
    destroy it unless ``keep``; a session that did not succeed is an error."""
    if not state.result.succeeded:
        raise FootageError(f"the export did not succeed: {_describe(state)}")
    for path in _download(client, session, state, out_dir, chunk_kb):
        typer.echo(path)
    if not keep:
        client.destroy(session)


@app.command("export")
def export(
    camera: Annotated[list[str], typer.Option("--camera", "-c", help="camera id (repeatable)")],
    start: Annotated[str, typer.Option(help="ISO 8601 with offset, e.g. 2026-03-01T08:00Z")],
    end: Annotated[str, typer.Option(help="ISO 8601 with offset")],
    token: Token,
    server: Server = DEFAULT_SERVER,
    format: Annotated[str, typer.Option("--format", "-f", help="mp4, mkv or ts")] = "mp4",
    pictures: Annotated[bool, typer.Option(help="JPEG pictures instead of a clip")] = False,
    interval: Annotated[
        str | None, typer.Option(help="with --pictures: one every e.g. 10s (default: one)")
    ] = None,
    audio: Annotated[bool, typer.Option(help="keep the sound")] = True,
    exact: Annotated[bool, typer.Option(help="cut at the exact times (not key frames)")] = False,
    comment: Annotated[str, typer.Option()] = "",
    file_name: Annotated[str, typer.Option(help="file name template, e.g. {camera}_{start}")] = "",
    wait: Annotated[
        bool, typer.Option(help="wait for the export, download, verify and destroy it")
    ] = False,
    output: OutDir = Path("."),
    keep: Annotated[bool, typer.Option(help="with --wait: keep the session on the server")] = False,
    poll: Annotated[float, typer.Option(help="seconds between polls")] = 1.0,
    chunk_kb: ChunkKb = 1024,
) -> None:
    """Start an export; with --wait also follow it, download and check its files."""
    options = clip_options(
        camera,
        parse_time(start),
        parse_time(end),
        format=format,
        pictures=pictures,
        picture_interval=parse_duration(interval) if interval else None,
        reject_audio=not audio,
        exact=exact,
        comment=comment,
        file_name=file_name,
    )
    with _client(server, token) as client:
        session = client.start(options)
        if not wait:
            typer.echo(session)
            return
        _err().print(f"session {session}", highlight=False)
        _fetch(client, session, _wait(client, session, poll), output, chunk_kb, keep=keep)


@app.command("live")
def live(
    camera: Annotated[list[str], typer.Option("--camera", "-c", help="camera id (repeatable)")],
    token: Token,
    server: Server = DEFAULT_SERVER,
    seconds: Annotated[
        float | None,
        typer.Option(
            min=1, help="record this long; without it: until Ctrl-C (or `footage client stop`)"
        ),
    ] = None,
    picture: Annotated[bool, typer.Option(help="the picture of now instead of a clip")] = False,
    format: Annotated[str, typer.Option("--format", "-f", help="mp4, mkv or ts")] = "mp4",
    audio: Annotated[bool, typer.Option(help="keep the sound")] = True,
    comment: Annotated[str, typer.Option()] = "",
    file_name: Annotated[str, typer.Option(help="file name template, e.g. {camera}_{start}")] = "",
    output: OutDir = Path("."),
    keep: Annotated[bool, typer.Option(help="keep the session on the server")] = False,
    poll: Annotated[float, typer.Option(help="seconds between polls")] = 1.0,
    chunk_kb: ChunkKb = 1024,
) -> None:
    """Record the cameras' live streams (or take their picture now), then download and check
    the files. Without --seconds the recording goes on until Ctrl-C, which stops it and
    keeps what was recorded."""
    options = live_options(
        camera,
        seconds=seconds,
        picture=picture,
        format=format,
        reject_audio=not audio,
        comment=comment,
        file_name=file_name,
    )
    with _client(server, token) as client:
        session = client.start(options)
        until = "Ctrl-C" if seconds is None and not picture else "the end"
        _err().print(f"session {session}: recording until {until}", highlight=False)
        try:
            state = _wait(client, session, poll)
        except KeyboardInterrupt:
            _err().print("stopping: keeping what was recorded …", highlight=False)
            client.stop(session)
            state = _wait(client, session, poll)
        _fetch(client, session, state, output, chunk_kb, keep=keep)


@app.command("sessions")
def sessions(
    token: Token,
    server: Server = DEFAULT_SERVER,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List your sessions (every session, for an administrator), newest first."""
    with _client(server, token) as client:
        found = list(client.sessions())
    rows = [
        {
            "id": info.session.id,
            "cameras": [s.camera_id for s in info.session.options.archive.sources],
            "start": info.session.options.archive.start_timestamp,
            "end": info.session.options.archive.end_timestamp,
            "state": _STATE[info.state.state],
            "status": _STATUS[info.state.status],
            "progress": round(info.state.progress, 1),
            "files": len(info.state.result.files),
        }
        for info in found
    ]
    if as_json:
        typer.echo(json.dumps(rows, indent=2))
        return
    table = Table(*rows[0].keys()) if rows else Table("id")
    for row in rows:
        table.add_row(*(", ".join(v) if isinstance(v, list) else str(v) for v in row.values()))
    Console().print(table)


@app.command("state")
def state(session: str, token: Token, server: Server = DEFAULT_SERVER) -> None:
    """A session's state (a poll: it keeps the session alive)."""
    with _client(server, token) as client:
        current = client.state(session)
    typer.echo(_describe(current) + f", {current.progress:.0f}%")
    for file in current.result.files:
        typer.echo(f"{file.path}\t{file.size}\t{file.sha256}")


@app.command("download")
def download(
    session: str,
    token: Token,
    server: Server = DEFAULT_SERVER,
    output: OutDir = Path("."),
    chunk_kb: ChunkKb = 1024,
) -> None:
    """Download and check a completed session's files; resumes interrupted downloads."""
    with _client(server, token) as client:
        current = client.state(session)
        if current.state != pb.State.S_COMPLETED:
            raise FootageError(f"session {session} is {_describe(current)}; nothing to download")
        for path in _download(client, session, current, output, chunk_kb):
            typer.echo(path)


@app.command("stop")
def stop(session: str, token: Token, server: Server = DEFAULT_SERVER) -> None:
    """Stop a queued or running session."""
    with _client(server, token) as client:
        typer.echo(_describe(client.stop(session)))


@app.command("destroy")
def destroy(session: str, token: Token, server: Server = DEFAULT_SERVER) -> None:
    """Stop a session if needed and delete its files."""
    with _client(server, token) as client:
        client.destroy(session)
    typer.echo(f"destroyed {session}")
