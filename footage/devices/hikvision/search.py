"""ISAPI record search: the ``CMSearchDescription`` request and the ``CMSearchResult`` pages.

Parsing is namespace-blind, a single ``searchMatchItem`` is a list of one, and times keep
what the device wrote: ``...Z`` becomes a naive wall-clock time (many firmwares write their
local time with a ``Z``), an explicit offset an aware one. ``DeviceClock`` decides the rest.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

from footage.devices.errors import DeviceError
from footage.devices.hikvision.status import status_error
from footage.devices.hikvision.xmlutil import children, local_name, parse_xml, text

NAMESPACE_HIKVISION = "http://www.hikvision.com/ver20/XMLSchema"
NAMESPACE_ISAPI = "http://www.isapi.org/ver20/XMLSchema"
RECORD_TYPE_METADATA = "//recordType.meta.std-cgi.com"
STATUS_OK, STATUS_MORE, STATUS_NONE = "OK", "MORE", "NO MATCHES"


def format_time(wall: datetime) -> str:
    """ISAPI time text: the device's wall clock with the customary ``Z``."""
    return wall.strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: str) -> datetime:
    """``2021-08-18T15:18:15Z`` -> naive; ``...+08:00`` -> aware; ``DeviceError`` otherwise."""
    raw = value.strip()
    try:
        if raw.endswith(("Z", "z")):
            return datetime.fromisoformat(raw[:-1]).replace(tzinfo=None)
        return datetime.fromisoformat(raw)
    except ValueError as exc:
        raise DeviceError(f"the device wrote a time that cannot be read: {value!r}") from exc


def build_search(
    *,
    search_id: str,
    track_id: int,
    start: datetime,
    end: datetime,
    position: int,
    max_results: int,
    namespace: str = NAMESPACE_HIKVISION,
) -> bytes:
    """A ``CMSearchDescription`` body for one page (``start``/``end`` device wall clock)."""
    root = ET.Element("CMSearchDescription", {"version": "2.0", "xmlns": namespace})
    ET.SubElement(root, "searchID").text = search_id
    tracks = ET.SubElement(root, "trackList")
    ET.SubElement(tracks, "trackID").text = str(track_id)
    span = ET.SubElement(ET.SubElement(root, "timeSpanList"), "timeSpan")
    ET.SubElement(span, "startTime").text = format_time(start)
    ET.SubElement(span, "endTime").text = format_time(end)
    ET.SubElement(root, "maxResults").text = str(max_results)
    ET.SubElement(root, "searchResultPostion").text = str(position)  # sic: the device's spelling
    metadata = ET.SubElement(root, "metadataList")
    ET.SubElement(metadata, "metadataDescriptor").text = RECORD_TYPE_METADATA
    xml = bytes(ET.tostring(root, encoding="utf-8", xml_declaration=False))
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + xml


@dataclass(frozen=True, slots=True, kw_only=True)
class Match:
    track_id: int
    start: datetime  # as the device wrote it (see module docstring)
    end: datetime
    playback_uri: str
    content_type: str = "video"
    codec: str = ""
    name: str | None = None
    size: int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SearchPage:
    status: str  # OK, MORE or NO MATCHES
    num_matches: int
    matches: list[Match]
    search_id: str = ""

    @property
    def more(self) -> bool:
        return self.status == STATUS_MORE


def parse_search(body: bytes, *, device: str = "") -> SearchPage:
    """One ``CMSearchResult`` page; a ``ResponseStatus`` body raises the error it reports."""
    error = status_error(body, device=device)
    if error is not None:
        raise error
    root = parse_xml(body, "search result")
    if local_name(root) != "CMSearchResult":
        raise DeviceError(
            f"{device}: expected a CMSearchResult, got <{local_name(root)}>",
            vendor_text=body[:120].decode("utf-8", "replace"),
            device=device,
        )
    status = text(root, "responseStatusStrg").upper()
    if text(root, "responseStatus").lower() == "false" and status not in (STATUS_NONE,):
        raise DeviceError(
            f"{device}: the search failed ({status or 'no status'})",
            vendor_code=status or None,
            device=device,
        )
    items = [_match(item, device) for item in children(root, "matchList/searchMatchItem")]
    declared = text(root, "numOfMatches")
    return SearchPage(
        status=status or (STATUS_NONE if not items else STATUS_OK),
        num_matches=int(declared) if declared.isdigit() else len(items),
        matches=items,
        search_id=text(root, "searchID"),
    )


def _match(item: ET.Element, device: str) -> Match:
    uri = text(item, "mediaSegmentDescriptor/playbackURI")
    start = text(item, "timeSpan/startTime")
    end = text(item, "timeSpan/endTime")
    if not uri or not start or not end:
        raise DeviceError(f"{device}: a search match lacks its times or playbackURI")
    query = parse_qs(urlsplit(uri).query)
    size = query.get("size", [""])[0]
    track = text(item, "trackID")
    return Match(
        track_id=int(track) if track.isdigit() else 0,
        start=parse_time(start),
        end=parse_time(end),
        playback_uri=uri,
        content_type=text(item, "mediaSegmentDescriptor/contentType", "video"),
        codec=text(item, "mediaSegmentDescriptor/codecType"),
        name=query.get("name", [None])[0] or text(item, "mediaSegmentDescriptor/name") or None,
        size=int(size) if size.isdigit() else None,
    )
