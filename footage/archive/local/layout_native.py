"""footage's own layout: ``<camera>/YYYY-MM-DD/HH/YYYYMMDDTHHMMSS.ffffffZ.<ext>`` (UTC)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import PurePosixPath

from footage.archive.local.layout import ParsedPath, check_camera_id
from footage.domain import ensure_utc

_NAME = re.compile(r"(\d{8}T\d{6}\.\d{6})Z\.([A-Za-z0-9]+)")


class NativeLayout:
    name = "native"

    def relpath(self, camera_id: str, start: datetime, ext: str) -> PurePosixPath:
        t = ensure_utc(start)
        stamp = t.strftime("%Y%m%dT%H%M%S.%f") + "Z"
        return PurePosixPath(
            check_camera_id(camera_id), t.strftime("%Y-%m-%d"), t.strftime("%H"), f"{stamp}.{ext}"
        )

    def parse(self, rel: PurePosixPath) -> ParsedPath | None:
        parts = rel.parts
        if len(parts) != 4:
            return None
        match = _NAME.fullmatch(parts[3])
        if match is None:
            return None
        try:
            start = datetime.strptime(match.group(1), "%Y%m%dT%H%M%S.%f").replace(tzinfo=UTC)
        except ValueError:
            return None
        if parts[1] != start.strftime("%Y-%m-%d") or parts[2] != start.strftime("%H"):
            return None
        return ParsedPath(
            layout=self.name, camera_id=parts[0], start=start, ext=match.group(2).lower()
        )
