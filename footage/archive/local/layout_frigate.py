"""Frigate's layout: ``recordings/YYYY-MM-DD/HH/<camera>/MM.SS.mp4`` (UTC, whole seconds).

The archive root may be Frigate's media folder (holding ``recordings/``) or ``recordings``
itself.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import PurePosixPath

from footage.archive.local.layout import ParsedPath, check_camera_id
from footage.domain import InvalidRequest, ensure_utc

_NAME = re.compile(r"(\d{2})\.(\d{2})\.([A-Za-z0-9]+)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_HOUR = re.compile(r"\d{2}")


class FrigateLayout:
    name = "frigate"

    def relpath(self, camera_id: str, start: datetime, ext: str) -> PurePosixPath:
        t = ensure_utc(start)
        if t.microsecond:
            raise InvalidRequest("Frigate file names hold whole seconds; start on a whole second")
        return PurePosixPath(
            "recordings",
            t.strftime("%Y-%m-%d"),
            t.strftime("%H"),
            check_camera_id(camera_id),
            t.strftime("%M.%S") + f".{ext}",
        )

    def parse(self, rel: PurePosixPath) -> ParsedPath | None:
        parts = rel.parts
        if len(parts) == 5 and parts[0] == "recordings":
            parts = parts[1:]
        if len(parts) != 4:
            return None
        day, hour, camera, name = parts
        match = _NAME.fullmatch(name)
        if match is None or not _DATE.fullmatch(day) or not _HOUR.fullmatch(hour):
            return None
        try:
            start = datetime.strptime(
                f"{day} {hour}:{match.group(1)}:{match.group(2)}", "%Y-%m-%d %H:%M:%S"
            ).replace(tzinfo=UTC)
        except ValueError:
            return None
        return ParsedPath(
            layout=self.name, camera_id=camera, start=start, ext=match.group(3).lower()
        )
