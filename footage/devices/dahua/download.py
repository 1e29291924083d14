"""Dahua downloads: ``loadfile.cgi`` by time (windows of at most ~6 h) or ``RPC_Loadfile``."""

from __future__ import annotations

from datetime import datetime, timedelta
from urllib.parse import quote

from footage.devices.dahua.search import format_time, query
from footage.devices.transfer import TransferRequest

LOADFILE_PATH = "/cgi-bin/loadfile.cgi"
RPC_LOADFILE_PATH = "/cgi-bin/RPC_Loadfile"
MAX_WINDOW = timedelta(hours=6)


def split_windows(
    start: datetime, end: datetime, limit: timedelta = MAX_WINDOW
) -> list[tuple[datetime, datetime]]:
    """``[start, end)`` in consecutive pieces no longer than ``limit``."""
    pieces: list[tuple[datetime, datetime]] = []
    cursor = start
    while cursor < end:
        stop = min(cursor + limit, end)
        pieces.append((cursor, stop))
        cursor = stop
    return pieces


def load_by_time(channel: int, start: datetime, end: datetime, subtype: int = 0) -> TransferRequest:
    path = f"{LOADFILE_PATH}?" + query(
        [
            ("action", "startLoad"),
            ("channel", str(channel)),
            ("startTime", format_time(start)),
            ("endTime", format_time(end)),
            ("subtype", str(subtype)),
        ]
    )
    return TransferRequest(method="GET", path=path)


def load_file(file_path: str) -> TransferRequest:
    """``RPC_Loadfile/<FilePath>``: the whole recorded file; resumable with Range."""
    return TransferRequest(
        method="GET", path=RPC_LOADFILE_PATH + quote(file_path, safe="/[]@._-"), resumable=True
    )
