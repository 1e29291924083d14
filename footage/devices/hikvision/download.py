"""``/ISAPI/ContentMgmt/download``: a playbackURI for a time range, and the request body."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape

from footage.devices.hikvision.search import NAMESPACE_HIKVISION
from footage.devices.transfer import TransferRequest

DOWNLOAD_PATH = "/ISAPI/ContentMgmt/download"
#: Back-to-back downloads sometimes get HTTP 400 that succeeds on retry (field reports).
TRANSIENT_STATUSES = frozenset({400})


def uri_time(wall: datetime) -> str:
    return wall.strftime("%Y%m%dT%H%M%SZ")


def parse_uri_time(value: str) -> datetime:
    return datetime.strptime(value.rstrip("Zz"), "%Y%m%dT%H%M%S")


def playback_uri(host: str, track_id: int, start: datetime, end: datetime) -> str:
    """``rtsp://host/Streaming/tracks/101/?starttime=…&endtime=…`` (device wall clock)."""
    return (
        f"rtsp://{host}/Streaming/tracks/{track_id}/"
        f"?starttime={uri_time(start)}&endtime={uri_time(end)}"
    )


def uri_span(uri: str) -> tuple[datetime, datetime] | None:
    """The (start, end) wall-clock times a playbackURI asks for, if it names them."""
    query = parse_qs(urlsplit(uri).query)
    try:
        return parse_uri_time(query["starttime"][0]), parse_uri_time(query["endtime"][0])
    except (KeyError, IndexError, ValueError):
        return None


def download_body(uri: str, namespace: str = NAMESPACE_HIKVISION) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<downloadRequest version="1.0" xmlns="{namespace}">'
        f"<playbackURI>{escape(uri)}</playbackURI></downloadRequest>"
    ).encode()


def download_request(uri: str, *, method: str = "GET") -> TransferRequest:
    return TransferRequest(
        method=method,
        path=DOWNLOAD_PATH,
        content=download_body(uri),
        headers={"Content-Type": "application/xml"},
        transient_statuses=TRANSIENT_STATUSES,
    )
