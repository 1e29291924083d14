"""The ``footage`` command line: one module per command group."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from footage.cli.context import CliState
from footage.domain import FootageError

app = typer.Typer(
    name="footage",
    help="Export server and download toolkit for recorded surveillance video.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="TOML settings file (default: $FOOTAGE_CONFIG)"),
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="where footage keeps its database")
    ] = None,
) -> None:
    ctx.obj = CliState(config_file=config, data_dir=data_dir)


def _register() -> None:
    from footage.cli import archive, batch, client, demo, devices, export, serve, users, worker

    app.add_typer(archive.app, name="archive")
    app.add_typer(export.app, name="export")
    app.command("convert")(export.convert)
    app.add_typer(devices.app, name="devices")
    app.add_typer(batch.app, name="batch")
    app.add_typer(client.app, name="client")
    app.add_typer(users.app, name="users")
    demo.register(app)
    serve.register(app)
    worker.register(app)


def main() -> None:
    _register()
    try:
        app()
    except FootageError as exc:
        Console(stderr=True).print(f"[bold red]error:[/] {exc.message}", highlight=False)
        sys.exit(2)
