"""``footage devices``: run an NVR emulator; search, download, picture and clock of a device."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast

import httpx
import typer
from rich.console import Console
from rich.table import Table

from footage.devices import DeviceBase, DeviceConfig, open_device
from footage.devices.clock import parse_zone
from footage.devices.emulator_server import EmulatorBase
from footage.devices.errors import DeviceError
from footage.devices.hikvision.search import NAMESPACE_HIKVISION, NAMESPACE_ISAPI
from footage.devices.models import Vendor as VendorName
from footage.domain import InvalidRequest, TimeRange, parse_time

app = typer.Typer(
    help="NVR devices: emulate one, or search, download, take pictures from a real one.",
    no_args_is_help=True,
)
console = Console()

Vendor = Annotated[str, typer.Argument(help="hikvision or dahua")]
Host = Annotated[str, typer.Option("--host", help="device address")]
Port = Annotated[int, typer.Option("--port", help="device HTTP port")]
User = Annotated[str, typer.Option("--user", help="device user")]
Password = Annotated[
    str, typer.Option("--password", envvar="FOOTAGE_DEVICE_PASSWORD", help="device password")
]
Channel = Annotated[int, typer.Option("--channel", help="channel number, from 1")]
Base = Annotated[int, typer.Option("--channel-base", help="the device's first channel: 0 or 1")]
Zone = Annotated[
    str, typer.Option("--timezone", help="zone of device times: device, UTC, +08:00, IANA name")
]


def _vendor(value: str) -> str:
    if value not in ("hikvision", "dahua"):
        raise InvalidRequest(f"unknown vendor {value!r}; use hikvision or dahua")
    return value


_T = TypeVar("_T")


def _config(
    vendor: str, host: str, port: int, user: str, password: str, base: int, zone: str
) -> DeviceConfig:
    return DeviceConfig(
        vendor=cast(VendorName, _vendor(vendor)),
        host=host,
        port=port,
        user=user,
        password=password,
        channel_base=base,
        timezone=zone,
    )


@app.command()
def emulate(
    vendor: Vendor,
    archive: Annotated[Path, typer.Option("--archive", help="footage archive folder to serve")],
    port: Annotated[int, typer.Option("--port")] = 8080,
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    user: Annotated[str, typer.Option("--user")] = "admin",
    password: Annotated[str, typer.Option("--password")] = "admin",
    faults: Annotated[str | None, typer.Option("--faults", help="e.g. slow:0.3,busy:0.1")] = None,
    seed: Annotated[int, typer.Option("--seed", help="seed of the fault dice")] = 0,
    channels: Annotated[
        str | None, typer.Option("--channels", help="camera ids for channels 1, 2… (cam1,cam2)")
    ] = None,
    auth: Annotated[str, typer.Option("--auth", help="digest, or basic (old firmware)")] = "digest",
    utc_offset: Annotated[
        str, typer.Option("--utc-offset", help="device zone, e.g. +08:00")
    ] = "UTC",
    namespace: Annotated[
        str, typer.Option("--namespace", help="Hikvision XML namespace: hikvision or isapi")
    ] = "hikvision",
    channel_base: Base = 1,
) -> None:
    """Serve ARCHIVE as a Hikvision (ISAPI) or Dahua (HTTP API) NVR until interrupted."""
    if auth not in ("digest", "basic"):
        raise InvalidRequest("--auth is digest or basic")
    zone = parse_zone(utc_offset)
    offset = timedelta(0) if zone is None else (zone.utcoffset(None) or timedelta(0))
    common: dict[str, Any] = {
        "user": user,
        "password": password,
        "faults": faults,
        "seed": seed,
        "channels": [c.strip() for c in channels.split(",") if c.strip()] if channels else None,
        "host": host,
        "port": port,
        "auth": auth,
        "utc_offset": offset,
    }
    emulator: EmulatorBase
    if _vendor(vendor) == "hikvision":
        from footage.devices.hikvision.emulator import HikvisionEmulator

        ns = NAMESPACE_ISAPI if namespace == "isapi" else NAMESPACE_HIKVISION
        emulator = HikvisionEmulator(archive, namespace=ns, **common)
    else:
        from footage.devices.dahua.emulator import DahuaEmulator

        emulator = DahuaEmulator(archive, channel_base=channel_base, **common)
    console.print(
        f"{vendor} emulator on {emulator.url} serving channels "
        + ", ".join(f"{i + 1}={c}" for i, c in enumerate(emulator.channels))
    )
    try:
        emulator.serve_forever()
    finally:
        emulator.stop()


def _span(start: str, end: str) -> TimeRange:
    return TimeRange(start=parse_time(start), end=parse_time(end))


@app.command()
def search(
    vendor: Vendor,
    host: Host,
    start: Annotated[str, typer.Option("--from", help="ISO 8601 with an offset")],
    end: Annotated[str, typer.Option("--to", help="ISO 8601 with an offset")],
    port: Port = 80,
    user: User = "admin",
    password: Password = "",
    channel: Channel = 1,
    channel_base: Base = 1,
    timezone: Zone = "device",
) -> None:
    """List the recordings of a channel in a time range."""
    config = _config(vendor, host, port, user, password, channel_base, timezone)
    recordings = _on_device(config, lambda device: device.search(channel, _span(start, end)))
    table = Table("start (UTC)", "end (UTC)", "size", "locator")
    for rec in recordings:
        table.add_row(rec.start.isoformat(), rec.end.isoformat(), str(rec.size or ""), rec.locator)
    console.print(table)


@app.command()
def download(
    vendor: Vendor,
    host: Host,
    start: Annotated[str, typer.Option("--from")],
    end: Annotated[str, typer.Option("--to")],
    out: Annotated[Path, typer.Option("--out", help="MP4 file to write")],
    port: Port = 80,
    user: User = "admin",
    password: Password = "",
    channel: Channel = 1,
    channel_base: Base = 1,
    timezone: Zone = "device",
    deadline: Annotated[float, typer.Option("--deadline", help="seconds")] = 600.0,
) -> None:
    """Download a time range of a channel as MP4."""
    config = _config(vendor, host, port, user, password, channel_base, timezone)
    result = _on_device(
        config, lambda device: device.download(channel, _span(start, end), out, deadline_s=deadline)
    )
    console.print(f"{result.path}: {result.duration:.1f}s, {result.raw_bytes} bytes received")


@app.command()
def picture(
    vendor: Vendor,
    host: Host,
    at: Annotated[str, typer.Option("--at", help="ISO 8601 with an offset, or now")],
    out: Annotated[Path, typer.Option("--out", help="JPEG file to write")],
    port: Port = 80,
    user: User = "admin",
    password: Password = "",
    channel: Channel = 1,
    channel_base: Base = 1,
    timezone: Zone = "device",
    live: Annotated[bool, typer.Option("--live", help="the live picture")] = False,
) -> None:
    """Save the picture of a channel at a moment (from the recording, or live)."""
    config = _config(vendor, host, port, user, password, channel_base, timezone)
    result = _on_device(
        config,
        lambda device: device.picture(
            channel, parse_time(at), out, source="live" if live else "auto"
        ),
    )
    console.print(f"{result.path}: {result.size} bytes ({result.source})")


@app.command()
def clock(
    vendor: Vendor,
    host: Host,
    port: Port = 80,
    user: User = "admin",
    password: Password = "",
    timezone: Zone = "device",
) -> None:
    """Show the device clock: its zone offset and how far it is off ours."""
    config = _config(vendor, host, port, user, password, 1, timezone)
    reading = _on_device(config, lambda device: device.clock_offset())
    console.print(
        f"device time {reading.device_time.isoformat()}, zone offset {reading.utc_offset}, "
        f"skew {reading.skew.total_seconds():+.1f}s"
    )


def _on_device(config: DeviceConfig, action: Callable[[DeviceBase], _T]) -> _T:
    """Open the device of ``config``, do ``action`` with it, and close it again (logging out);
    a device error is printed and exits with 3."""
    with httpx.Client() as client, open_device(config, client) as device:
        try:
            return action(device)
        except DeviceError as exc:
            console.print(f"[bold red]{exc.describe()}:[/] {exc.message}", highlight=False)
            raise typer.Exit(3) from exc
