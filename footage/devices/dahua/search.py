"""``mediaFileFind.cgi``: factory.create, findFile, findNextFile to ``found=0``, close, destroy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from footage.devices.dahua.keyvalue import as_int, list_field, parse_items, parse_lines
from footage.devices.errors import DeviceError

FIND_PATH = "/cgi-bin/mediaFileFind.cgi"
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def format_time(wall: datetime) -> str:
    return wall.strftime(TIME_FORMAT)  # no microseconds: devices reject them


def parse_time(value: str) -> datetime:
    try:
        return datetime.strptime(value.strip(), TIME_FORMAT)
    except ValueError as exc:
        raise DeviceError(f"the device wrote a time that cannot be read: {value!r}") from exc


def query(pairs: list[tuple[str, str]]) -> str:
    """A query string as Dahua wants it: spaces as ``%20`` (never ``+``), brackets kept."""
    return "&".join(f"{quote(k, safe='[]._')}={quote(v, safe=':-_.')}" for k, v in pairs)


def create_path() -> str:
    return f"{FIND_PATH}?action=factory.create"


def find_file_path(object_id: str, channel: int, start: datetime, end: datetime) -> str:
    return f"{FIND_PATH}?" + query(
        [
            ("action", "findFile"),
            ("object", object_id),
            ("condition.Channel", str(channel)),
            ("condition.StartTime", format_time(start)),
            ("condition.EndTime", format_time(end)),
            ("condition.Types[0]", "dav"),
        ]
    )


def next_path(object_id: str, count: int) -> str:
    return f"{FIND_PATH}?" + query(
        [("action", "findNextFile"), ("object", object_id), ("count", str(count))]
    )


def object_path(action: str, object_id: str) -> str:
    return f"{FIND_PATH}?" + query([("action", action), ("object", object_id)])


@dataclass(frozen=True, slots=True, kw_only=True)
class FoundFile:
    channel: int
    start: datetime  # device wall clock
    end: datetime
    path: str
    length: int | None
    duration: int | None
    type: str
    flags: tuple[str, ...]
    events: tuple[str, ...]


def parse_found(body: str, *, device: str = "") -> tuple[int, list[FoundFile]]:
    """(``found``, the files) of one findNextFile answer."""
    values = parse_lines(body)
    found = as_int(values.get("found"))
    if found is None:
        raise DeviceError(
            f"{device}: findNextFile answered without found=: {body.strip()[:120]}",
            vendor_text=body.strip()[:120],
            device=device,
        )
    files = [_file(item, device) for item in parse_items(values)]
    return found, files


def _file(item: dict[str, str], device: str) -> FoundFile:
    path = item.get("FilePath", "")
    if not path or "StartTime" not in item or "EndTime" not in item:
        raise DeviceError(f"{device}: a found file lacks its FilePath or times", device=device)
    return FoundFile(
        channel=as_int(item.get("Channel"), 0) or 0,
        start=parse_time(item["StartTime"]),
        end=parse_time(item["EndTime"]),
        path=path,
        length=as_int(item.get("Length")),
        duration=as_int(item.get("Duration")),
        type=item.get("Type", "dav"),
        flags=tuple(list_field(item, "Flags")),
        events=tuple(list_field(item, "Events")),
    )
