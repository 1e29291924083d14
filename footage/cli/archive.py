"""``footage archive``: generate synthetic footage, scan archives, list cameras, timelines."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Recorded archives: generate, scan, cameras, timeline.", no_args_is_help=True
)
