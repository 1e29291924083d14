"""The ISAPI documents the Hikvision emulator reads and writes (its own code, not the driver's)."""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime, timedelta
from xml.sax.saxutils import escape

_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
STATUS_TEXT = {
    1: "OK",
    2: "Device Busy",
    3: "Device Error",
    4: "Invalid Operation",
    5: "Invalid XML Format",
    6: "Invalid XML Content",
    7: "Reboot Required",
}


class BadRequest(Exception):
    """A request document the device refuses; ``sub`` is the ISAPI subStatusCode."""

    def __init__(self, status: int, sub: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.sub = sub


def response_status(namespace: str, url: str, status: int, sub: str, message: str = "") -> str:
    msg = f"<errorMsg>{escape(message)}</errorMsg>" if message else ""
    return (
        f'{_DECLARATION}<ResponseStatus version="2.0" xmlns="{namespace}">'
        f"<requestURL>{escape(url)}</requestURL><statusCode>{status}</statusCode>"
        f"<statusString>{STATUS_TEXT.get(status, 'Error')}</statusString>"
        f"<subStatusCode>{sub}</subStatusCode>{msg}</ResponseStatus>"
    )


def _find(root: ET.Element, path: str) -> ET.Element | None:
    return root.find("/".join(f"{{*}}{part}" for part in path.split("/")))


def _text(root: ET.Element, path: str) -> str | None:
    found = _find(root, path)
    return found.text.strip() if found is not None and found.text else None


def _time(value: str | None, field: str) -> datetime:
    if not value:
        raise BadRequest(6, "badXmlContent", f"{field} is missing")
    try:
        return datetime.fromisoformat(value.rstrip("Zz")).replace(tzinfo=None)
    except ValueError:
        raise BadRequest(6, "badXmlContent", f"{field} {value!r} is not a time") from None


@dataclass(frozen=True, slots=True)
class SearchRequest:
    search_id: str
    tracks: list[int]
    start: datetime  # device wall clock
    end: datetime
    position: int
    max_results: int


def parse_search_request(body: bytes, cap: int) -> SearchRequest:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise BadRequest(5, "badXmlFormat", "the body is not XML") from None
    search_id = _text(root, "searchID") or ""
    try:
        uuid.UUID(search_id)
    except ValueError:
        raise BadRequest(6, "badParameters", f"searchID {search_id!r} is not a UUID") from None
    tracks = [
        int(node.text)
        for path in ("trackList/trackID", "trackIDList/trackID")
        for node in root.findall("/".join(f"{{*}}{p}" for p in path.split("/")))
        if node.text and node.text.strip().isdigit()
    ]
    if not tracks:
        raise BadRequest(6, "badXmlContent", "no trackID in trackList or trackIDList")
    start = _time(_text(root, "timeSpanList/timeSpan/startTime"), "startTime")
    end = _time(_text(root, "timeSpanList/timeSpan/endTime"), "endTime")
    position = _text(root, "searchResultPostion") or _text(root, "searchResultPosition") or "0"
    wanted = _text(root, "maxResults") or str(cap)
    if not position.isdigit() or not wanted.isdigit():
        raise BadRequest(6, "badXmlContent", "maxResults and searchResultPostion are numbers")
    return SearchRequest(search_id, tracks, start, end, int(position), min(int(wanted), cap))


@dataclass(frozen=True, slots=True)
class MatchItem:
    track: int
    start: datetime  # labels as the device writes them
    end: datetime
    uri: str


def search_result(
    namespace: str, search_id: str, status: str, total: int, items: list[MatchItem]
) -> str:
    parts = [
        f'{_DECLARATION}<CMSearchResult version="2.0" xmlns="{namespace}">',
        f"<searchID>{escape(search_id)}</searchID>",
        "<responseStatus>true</responseStatus>",
        f"<responseStatusStrg>{status}</responseStatusStrg>",
        f"<numOfMatches>{len(items)}</numOfMatches>",
    ]
    if items:
        parts.append("<matchList>")
        parts.extend(_item(item) for item in items)
        parts.append("</matchList>")
    parts.append("</CMSearchResult>")
    return "".join(parts)


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _item(item: MatchItem) -> str:
    return (
        "<searchMatchItem>"
        f"<sourceID>{{{uuid.uuid5(uuid.NAMESPACE_URL, item.uri)}}}</sourceID>"
        f"<trackID>{item.track}</trackID>"
        f"<timeSpan><startTime>{_iso(item.start)}</startTime>"
        f"<endTime>{_iso(item.end)}</endTime></timeSpan>"
        "<mediaSegmentDescriptor><contentType>video</contentType>"
        f"<codecType>H.264-BP</codecType><playbackURI>{escape(item.uri)}</playbackURI>"
        "</mediaSegmentDescriptor>"
        "<metadataMatches><metadataDescriptor>recordType.meta.hikvision.com/timing"
        "</metadataDescriptor></metadataMatches>"
        "</searchMatchItem>"
    )


def playback_uri_of(body: bytes) -> str:
    try:
        root = ET.fromstring(body)
    except ET.ParseError:
        raise BadRequest(5, "badXmlFormat", "the body is not XML") from None
    uri = _text(root, "playbackURI")
    if not uri:
        raise BadRequest(6, "badXmlContent", "no playbackURI")
    return uri


def device_info(namespace: str, serial: str) -> str:
    return (
        f'{_DECLARATION}<DeviceInfo version="2.0" xmlns="{namespace}">'
        "<deviceName>footage emulator</deviceName>"
        f"<deviceID>{uuid.uuid5(uuid.NAMESPACE_DNS, serial)}</deviceID>"
        "<model>DS-EMULATOR-NVR</model>"
        f"<serialNumber>{serial}</serialNumber>"
        "<firmwareVersion>V4.0.0</firmwareVersion>"
        "<deviceType>NVR</deviceType></DeviceInfo>"
    )


def time_status(namespace: str, wall: datetime, offset: timedelta) -> str:
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    hours, mins = divmod(abs(minutes), 60)
    posix_sign = "-" if minutes >= 0 else "+"  # POSIX TZ inverts the sign
    return (
        f'{_DECLARATION}<Time version="2.0" xmlns="{namespace}">'
        "<timeMode>manual</timeMode>"
        f"<localTime>{wall.strftime('%Y-%m-%dT%H:%M:%S')}{sign}{hours:02d}:{mins:02d}</localTime>"
        f"<timeZone>CST{posix_sign}{hours}:{mins:02d}:00</timeZone></Time>"
    )
