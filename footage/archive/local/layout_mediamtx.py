"""MediaMTX's layout: ``recordings/<path>/%Y-%m-%d_%H-%M-%S-%f.<mp4|ts>`` (taken as UTC).

``<path>`` is the stream path and becomes the camera id; camera ids are flat, so only
single-component paths are recognised.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import PurePosixPath

from footage.archive.local.layout import ParsedPath, check_camera_id
from footage.domain import ensure_utc

_NAME = re.compile(r"(\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2}-\d{6})\.([A-Za-z0-9]+)")


class MediaMTXLayout:
    name = "mediamtx"

    def relpath(self, camera_id: str, start: datetime, ext: str) -> PurePosixPath:
        t = ensure_utc(start)
        return PurePosixPath(
            "recordings", check_camera_id(camera_id), t.strftime("%Y-%m-%d_%H-%M-%S-%f") + f".{ext}"
        )

    def parse(self, rel: PurePosixPath) -> ParsedPath | None:
        parts = rel.parts
        if len(parts) == 3 and parts[0] == "recordings":
            parts = parts[1:]
        if len(parts) != 2:
            return None
        match = _NAME.fullmatch(parts[1])
        if match is None:
            return None
        try:
            start = datetime.strptime(match.group(1), "%Y-%m-%d_%H-%M-%S-%f").replace(tzinfo=UTC)
        except ValueError:
            return None
        return ParsedPath(
            layout=self.name, camera_id=parts[0], start=start, ext=match.group(2).lower()
        )
