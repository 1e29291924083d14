"""``footage worker``: run export workers as a process of their own, sharing the database."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Annotated

import typer
from rich.console import Console

from footage.cli.context import state


def register(app: typer.Typer) -> None:
    app.command(name="worker")(worker)


def worker(
    ctx: typer.Context,
    workers: Annotated[
        int | None,
        typer.Option("--workers", "-w", min=1, help="exports at once (default: tasks.workers)"),
    ] = None,
    maintenance: Annotated[
        bool,
        typer.Option(help="also run keepalive, retention and recovery"),
    ] = True,
) -> None:
    """Run queued exports until stopped (Ctrl-C or SIGTERM puts running ones back in the queue)."""
    from footage.runtime import open_sources
    from footage.tasks.system import TaskSystem

    cli = state(ctx)
    settings = cli.settings
    sources = open_sources(settings, cli.engine)
    nvr = sources.nvr
    count = workers or max(1, settings.tasks.workers)
    system = TaskSystem(
        settings=settings,
        engine=cli.engine,
        archive=sources.archive,
        live=sources.live,
        workers=count,
        feed=False,
        maintenance=maintenance,
    )
    stop = threading.Event()

    def _on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    console = Console(stderr=True)
    try:
        with system:
            console.print(
                f"worker {system.pool.node}: {count} at once, writing to {system.output_root}",
                highlight=False,
            )
            stop.wait()
    finally:
        if nvr is not None:
            nvr.close()
    console.print("worker stopped", highlight=False)
