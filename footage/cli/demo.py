"""``footage demo``: a generated archive, two emulated NVRs and the server, in one command.

Everything lives in one folder (default ``DATA_DIR/demo``): the archive, its database, the
NVRs' recordings, exports. A second run reuses what the first made.
"""

from __future__ import annotations

import re
import shutil
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import typer

from footage.archive.local.index import SegmentIndex
from footage.archive.local.scan import scan
from footage.auth import Permission, UserStore
from footage.cli.archive import print_cameras, print_generated, print_scan, progress_bar
from footage.cli.context import state
from footage.config import (
    ArchiveSettings,
    LiveSettings,
    NvrSettings,
    ServerSettings,
    Settings,
)
from footage.db import open_database
from footage.domain import Conflict, NotFound, parse_duration

_MARKER = ".demo-archive-complete"
_OURS = re.compile(r"cam\d+")  # the camera folders the demo writes
DEMO_USER = "demo"
DEMO_PASSWORD = "footage-demo"
NVR_USER = "admin"
NVR_PASSWORD = "demo-pass"  # what footage/batch/sample/devices.toml expects
NVR_START = datetime(2024, 5, 1, 8, 0, tzinfo=UTC)  # the sample manifest's day (16:00 +08:00)


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
    port: Annotated[int, typer.Option(help="HTTP port of the web page and REST API")] = 8080,
    grpc_port: Annotated[int, typer.Option(help="gRPC port (0: off)")] = 50051,
    hikvision_port: Annotated[int, typer.Option(help="emulated Hikvision NVR (0: off)")] = 18081,
    dahua_port: Annotated[int, typer.Option(help="emulated Dahua NVR (0: off)")] = 18082,
    rtsp_port: Annotated[
        int, typer.Option(help="live video of every demo camera over RTSP (0: off)")
    ] = 18554,
    serve: Annotated[
        bool, typer.Option("--serve/--no-serve", help="start the servers after preparing")
    ] = True,
) -> None:
    """Generate and index a demo archive, start emulated NVRs and serve the web page."""
    home = (folder or state(ctx).settings.data_dir / "demo").expanduser().absolute()
    archive = home / "archive"
    engine = open_database(f"sqlite:///{home / 'footage.db'}")
    try:
        _prepare_archive(home, archive, cameras, duration, fresh)
        with progress_bar("indexing", quiet=False) as progress:
            print_scan(scan(engine, archive, workers=2, progress=progress))
        print_cameras(SegmentIndex(engine).summaries())
        _ensure_user(UserStore(engine))
    finally:
        engine.dispose()
    table = _device_table(home, hikvision_port, dahua_port, rtsp_port)
    local = [f"cam{n}" for n in range(1, cameras + 1)]
    settings = Settings(
        data_dir=home,
        archive=ArchiveSettings(root=str(archive)),
        server=ServerSettings(host="127.0.0.1", port=port, grpc_port=grpc_port),
        nvr=NvrSettings(devices=str(table) if serve and table else ""),
        live=LiveSettings(streams=_live_streams(local, rtsp_port) if serve else {}),
    )
    if not serve:
        _print_guide(home, settings, hikvision_port, dahua_port, rtsp_port)
        return
    with ExitStack() as stack:
        _start_emulators(stack, home, hikvision_port, dahua_port)
        _start_live(stack, local, hikvision_port, dahua_port, rtsp_port)
        from footage.cli.serve import run_servers

        _print_guide(home, settings, hikvision_port, dahua_port, rtsp_port)
        run_servers(settings)


def _prepare_archive(home: Path, archive: Path, cameras: int, duration: str, fresh: bool) -> None:
    from footage.media.synth import SynthOptions, generate

    marker = home / _MARKER
    if not fresh and marker.exists():
        typer.echo(f"using the demo archive in {archive} (--fresh makes a new one)")
        return
    marker.unlink(missing_ok=True)
    _clear(archive)
    typer.echo(f"generating {cameras} cameras x {duration} of footage in {archive} …")
    options = SynthOptions(cameras=cameras, duration=parse_duration(duration), gaps=True)
    with progress_bar("generating", quiet=False) as progress:
        report = generate(archive, options, progress=progress)
    marker.write_text(f"{archive}\n")
    print_generated(report)


def _ensure_user(users: UserStore) -> None:
    try:
        users.get(DEMO_USER)
    except NotFound:
        users.add(DEMO_USER, DEMO_PASSWORD, [Permission.ADMIN, Permission.EXPORT, Permission.VIEW])


def _nvr_archive(home: Path) -> Path:
    """Ten minutes of four cameras on the sample manifest's day, for the emulated NVRs."""
    from footage.media.synth import SynthOptions, generate

    root = home / "nvr-archive"
    done = home / ".nvr-archive-complete"
    if not done.exists():
        shutil.rmtree(root, ignore_errors=True)
        typer.echo("generating the emulated NVRs' recordings …")
        generate(
            root,
            SynthOptions(
                cameras=4,
                start=NVR_START,
                duration=timedelta(minutes=10),
                segment_seconds=60,
                resolution=(320, 180),
                fps=10,
                gop=10,
                stamps="exact",
            ),
        )
        done.write_text(f"{root}\n")
    return root


def _live_path(camera: str) -> str:
    return f"/live/{camera}"


def _live_streams(cameras: list[str], rtsp_port: int) -> dict[str, str]:
    """The local demo cameras' live streams (the NVR docks get theirs from the device table)."""
    if not rtsp_port:
        return {}
    login = f"{NVR_USER}:{NVR_PASSWORD}"
    return {c: f"rtsp://{login}@127.0.0.1:{rtsp_port}{_live_path(c)}" for c in cameras}


def _start_live(
    stack: ExitStack, cameras: list[str], hik_port: int, dahua_port: int, rtsp_port: int
) -> None:
    """One RTSP server for the live video of every demo camera: the local ones under
    ``/live/<camera>``, the NVR docks under their vendor's paths (as in the device table)."""
    if not rtsp_port:
        return
    from footage.live import RtspEmulator

    streams = {_live_path(c): c for c in cameras}
    if hik_port:
        streams |= {"/Streaming/Channels/101": "D1", "/Streaming/Channels/201": "D2"}
    if dahua_port:
        streams |= {f"/cam/realmonitor?channel={n}&subtype=0": f"D{n + 2}" for n in (1, 2)}
    emulator = RtspEmulator(streams, port=rtsp_port, user=NVR_USER, password=NVR_PASSWORD)
    stack.enter_context(emulator)


def _device_table(home: Path, hik_port: int, dahua_port: int, rtsp_port: int) -> Path | None:
    """The sample's docks on the ports the emulators really use: the server's NVR cameras."""
    docks = [
        ("D1", "hikvision", hik_port, 1),
        ("D2", "hikvision", hik_port, 2),
        ("D3", "dahua", dahua_port, 1),
        ("D4", "dahua", dahua_port, 2),
    ]
    entries = [
        f'[[dock]]\ndock = "{dock}"\nvendor = "{vendor}"\naddress = "127.0.0.1"\n'
        f'port = {port}\nuser = "{NVR_USER}"\npassword = "{NVR_PASSWORD}"\n'
        f'channel = {channel}\nchannel_base = 1\ntimezone = "UTC"\n'
        + (f"rtsp_port = {rtsp_port}\n" if rtsp_port else "")
        for dock, vendor, port, channel in docks
        if port
    ]
    if not entries:
        return None
    home.mkdir(parents=True, exist_ok=True)
    table = home / "devices.toml"
    table.write_text("# The emulated NVRs of footage demo\n\n" + "\n".join(entries))
    return table


def _start_emulators(stack: ExitStack, home: Path, hik_port: int, dahua_port: int) -> None:
    if not hik_port and not dahua_port:
        return
    from footage.devices.dahua.emulator import DahuaEmulator
    from footage.devices.hikvision.emulator import HikvisionEmulator

    root = _nvr_archive(home)
    common: dict[str, Any] = {"user": NVR_USER, "password": NVR_PASSWORD}
    if hik_port:
        # a few transient faults, which the drivers retry: the batch run shows them cope
        stack.enter_context(
            HikvisionEmulator(
                root,
                channels=["cam1", "cam2"],
                port=hik_port,
                work_dir=home / "nvr-hikvision",
                faults="truncate:0.05/download,400:0.05/download",
                seed=7,
                **common,
            )
        )
    if dahua_port:
        stack.enter_context(
            DahuaEmulator(
                root,
                channels=["cam3", "cam4"],
                port=dahua_port,
                work_dir=home / "nvr-dahua",
                **common,
            )
        )


def _print_guide(
    home: Path, settings: Settings, hik_port: int, dahua_port: int, rtsp_port: int
) -> None:
    hour_ago = (datetime.now(UTC) - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    sample = resources.files("footage.batch") / "sample"
    server = settings.server
    lines = [
        "",
        f"Web page:  http://{server.host}:{server.port}/   "
        f"user {DEMO_USER}, password {DEMO_PASSWORD}",
        f"REST API:  http://{server.host}:{server.port}/api/v1/docs",
    ]
    if server.grpc_port:
        lines.append(
            f"gRPC API:  {server.host}:{server.grpc_port}   (token: footage users token "
            f"{DEMO_USER} --data-dir {home})"
        )
    if hik_port or dahua_port:
        lines.append(
            f"NVRs:      Hikvision 127.0.0.1:{hik_port}, Dahua 127.0.0.1:{dahua_port} "
            f"({NVR_USER}/{NVR_PASSWORD})"
        )
        lines.append(
            f"Batch run: footage batch run {sample / 'shipments.csv'} --devices "
            f"{sample / 'devices.toml'} -o {home / 'batch-out'} --tz +08:00"
        )
    if rtsp_port:
        lines.append(
            f"Live:      rtsp://127.0.0.1:{rtsp_port}/live/cam1 ({NVR_USER}/{NVR_PASSWORD}); "
            "gRPC live mode records any camera's next seconds"
        )
    lines += [
        f"CLI:       footage --data-dir {home} archive timeline --camera cam1 "
        f"--start {hour_ago} --end now",
        f"           footage --data-dir {home} export clip --archive {home / 'archive'} "
        f"--camera cam1 --start {hour_ago} --end now -o clips/",
        "",
    ]
    typer.echo("\n".join(lines))


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
