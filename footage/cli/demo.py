"""``footage demo``: a generated archive, indexed and ready, in a folder of its own."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from footage.archive.local.index import SegmentIndex
from footage.archive.local.scan import scan
from footage.cli.archive import print_cameras, print_generated, print_scan, progress_bar
from footage.cli.context import state
from footage.db import open_database
from footage.domain import Conflict, parse_duration

_MARKER = ".demo-archive-complete"
_OURS = re.compile(r"cam\d+")  # the camera folders the demo writes


def register(app: typer.Typer) -> None:
    app.command()(demo)


def demo(
    ctx: typer.Context,
    cameras: Annotated[int, typer.Option(min=1, max=16, help="how many cameras")] = 3,
    duration: Annotated[str, typer.Option(help="recorded time per camera")] = "24h",
    fresh: Annotated[bool, typer.Option(help="throw the old demo archive away first")] = False,
    folder: Annotated[
        Path | None, typer.Option("--dir", help="demo folder; default: DATA_DIR/demo")
    ] = None,
) -> None:
    """Generate a demo archive (with gaps, as real cameras have) and index it."""
    from footage.media.synth import SynthOptions, generate

    home = folder or state(ctx).settings.data_dir / "demo"
    archive = home / "archive"
    engine = open_database(f"sqlite:///{home / 'footage.db'}")
    marker = home / _MARKER
    if fresh or not marker.exists():
        marker.unlink(missing_ok=True)
        _clear(archive)
        typer.echo(f"generating {cameras} cameras x {duration} of footage in {archive} …")
        options = SynthOptions(cameras=cameras, duration=parse_duration(duration), gaps=True)
        with progress_bar("generating", quiet=False) as progress:
            report = generate(archive, options, progress=progress)
        marker.write_text(f"{archive}\n")
        print_generated(report)
    else:
        typer.echo(f"using the demo archive in {archive} (--fresh makes a new one)")
    with progress_bar("indexing", quiet=False) as progress:
        print_scan(scan(engine, archive, workers=2, progress=progress))
    print_cameras(SegmentIndex(engine).summaries())
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    typer.echo(
        "\nTry:\n"
        f"  footage --data-dir {home} archive cameras\n"
        f"  footage --data-dir {home} archive timeline --camera cam1 "
        f"--start {hour_ago} --end now"
    )
    engine.dispose()


def _clear(archive: Path) -> None:
    """Remove an earlier (or half-made) demo archive; refuse to touch anything else."""
    if not archive.exists():
        return
    foreign = [p for p in archive.iterdir() if not _OURS.fullmatch(p.name)]
    if foreign:
        raise Conflict(
            f"{archive} holds files footage demo did not make ({foreign[0].name}); "
            "choose another folder with --dir"
        )
    shutil.rmtree(archive)
