"""``footage demo``: generate an archive and show what footage can do with it."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def demo() -> None:
        """Generate a demo archive and start footage on it."""
        raise typer.Exit(0)
