"""The device table: which NVR (and channel) records each dock named in a manifest.

One row per dock: ``dock, vendor, address, port, user, password, channel, channel_base,
timezone`` (and optionally ``name``, and ``rtsp_port`` for live exports, 554 by default), from
``.xlsx``, ``.csv`` or TOML (``[[dock]]`` tables with the same keys). Docks on the same address
and port are channels of one device: they share its connection limit, so they must agree on
vendor, credentials, clock settings and RTSP port.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from footage.batch.table import SheetRow, normalise, read_rows
from footage.devices import DeviceConfig
from footage.devices.clock import parse_zone
from footage.domain import InvalidRequest

if TYPE_CHECKING:
    from footage.archive.nvr import NvrArchive

KEYS = {
    "dock": ("dock", "camera", "月台"),
    "vendor": ("vendor", "brand", "厂商"),
    "address": ("address", "host", "ip", "地址"),
    "port": ("port", "端口"),
    "rtsp_port": ("rtsp port", "rtspport", "rtsp"),
    "user": ("user", "username", "用户名"),
    "password": ("password", "pass", "密码"),
    "channel": ("channel", "通道"),
    "channel_base": ("channel base", "channelbase"),
    "timezone": ("timezone", "time zone", "tz", "时区"),
    "name": ("name", "device", "设备"),
}
REQUIRED = ("dock", "vendor", "address")
VENDORS = {"hikvision": "hikvision", "hik": "hikvision", "海康": "hikvision", "dahua": "dahua"}
VENDORS["大华"] = "dahua"


@dataclass(frozen=True, slots=True, kw_only=True)
class DockTarget:
    dock: str
    device: str  # the device's name (key of ``DevicesTable.devices``)
    channel: int  # 1-based


@dataclass(frozen=True, kw_only=True)
class DevicesTable:
    path: Path
    docks: dict[str, DockTarget]
    devices: dict[str, DeviceConfig]

    def target(self, dock: str) -> DockTarget | None:
        found = self.docks.get(dock.strip())
        if found is None:  # docks match case-blind ("d1" is "D1")
            wanted = dock.strip().lower()
            found = next((t for k, t in self.docks.items() if k.lower() == wanted), None)
        return found


def read_devices_table(path: Path) -> DevicesTable:
    """Read ``path`` (.xlsx, .csv or .toml); raises ``InvalidRequest`` naming the bad row."""
    path = Path(path)
    if path.suffix.lower() == ".toml":
        entries = _toml_entries(path)
    else:
        sheet = read_rows(path)
        entries = [(row.line, _sheet_entry(row)) for row in sheet.rows]
    if not entries:
        raise InvalidRequest(f"{path.name} lists no docks")
    return _build(path, entries)


def _sheet_entry(row: SheetRow) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for key, aliases in KEYS.items():
        for alias in aliases:
            value = row.cells.get(normalise(alias))
            if value is not None:
                entry[key] = value
                break
    return entry


def _toml_entries(path: Path) -> list[tuple[int, dict[str, Any]]]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"{path.name} is not valid TOML: {exc}") from exc
    docks = data.get("dock", data.get("docks"))
    if not isinstance(docks, list) or not all(isinstance(d, Mapping) for d in docks):
        raise InvalidRequest(f"{path.name}: write one [[dock]] table per dock")
    unknown = set(data) - {"dock", "docks"}
    if unknown:
        raise InvalidRequest(f"{path.name}: unknown top-level key(s) {sorted(unknown)}")
    entries = []
    for number, dock in enumerate(docks, start=1):
        extra = set(dock) - set(KEYS)
        if extra:
            raise InvalidRequest(
                f"{path.name}: dock #{number}: unknown key(s) {sorted(extra)}; "
                f"use {', '.join(KEYS)}"
            )
        entries.append((number, dict(dock)))
    return entries


def _build(path: Path, entries: list[tuple[int, dict[str, Any]]]) -> DevicesTable:
    docks: dict[str, DockTarget] = {}
    devices: dict[str, DeviceConfig] = {}
    by_address: dict[tuple[str, int], str] = {}
    where_word = "dock #" if path.suffix.lower() == ".toml" else "row "
    for line, entry in entries:
        where = f"{path.name} {where_word}{line}"
        try:
            config, dock, channel = _entry(entry)
        except InvalidRequest as exc:
            raise InvalidRequest(f"{where}: {exc.message}") from None
        if dock in docks:
            raise InvalidRequest(f"{where}: the dock {dock!r} is listed twice")
        address = (config.host.lower(), config.port)
        name = by_address.get(address)
        if name is None:
            if config.name in devices:
                raise InvalidRequest(f"{where}: two devices are both named {config.name!r}")
            devices[config.name] = config
            by_address[address] = name = config.name
        else:
            _same_device(where, devices[name], config)
        docks[dock] = DockTarget(dock=dock, device=name, channel=channel)
    return DevicesTable(path=path, docks=docks, devices=devices)


def _entry(entry: dict[str, Any]) -> tuple[DeviceConfig, str, int]:
    for key in REQUIRED:
        if not str(entry.get(key) or "").strip():
            raise InvalidRequest(f"the column {key!r} is empty")
    vendor = VENDORS.get(str(entry["vendor"]).strip().lower())
    if vendor is None:
        raise InvalidRequest(f"unknown vendor {entry['vendor']!r}; use hikvision or dahua")
    zone = str(entry.get("timezone") or "device").strip()
    parse_zone(zone)  # fails early, naming the row
    config = DeviceConfig(
        vendor=vendor,  # type: ignore[arg-type]
        host=str(entry["address"]).strip(),
        port=_int(entry, "port", 80, 1, 65535),
        rtsp_port=_int(entry, "rtsp_port", 554, 1, 65535),
        user=str(entry.get("user") or "admin").strip(),
        password=_password(entry.get("password")),
        channel_base=_int(entry, "channel_base", 1, 0, 1),
        timezone=zone,
        name=str(entry.get("name") or "").strip(),
    )
    return config, _dock(entry["dock"]), _int(entry, "channel", 1, 1, 4096)


def _dock(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _password(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _int(entry: dict[str, Any], key: str, default: int, low: int, high: int) -> int:
    value = entry.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return default
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidRequest(f"{key} {value!r} is not a number") from None
    if not number.is_integer() or not low <= number <= high:
        raise InvalidRequest(f"{key} {value!r} must be a whole number from {low} to {high}")
    return int(number)


def _same_device(where: str, first: DeviceConfig, other: DeviceConfig) -> None:
    for attribute in ("vendor", "user", "password", "channel_base", "timezone", "rtsp_port"):
        if getattr(first, attribute) != getattr(other, attribute):
            raise InvalidRequest(
                f"{where}: {other.host}:{other.port} is already listed with another "
                f"{attribute}; docks of one device must agree on it"
            )


def nvr_archive(table: DevicesTable, cache_dir: Path) -> NvrArchive:
    """The table's docks as the cameras of an ``NvrArchive`` (camera id = dock)."""
    from footage.archive.nvr import NvrArchive, NvrChannel

    channels = [
        NvrChannel(camera_id=dock, device=target.device, channel=target.channel)
        for dock, target in table.docks.items()
    ]
    return NvrArchive(table.devices.values(), channels, cache_dir)
