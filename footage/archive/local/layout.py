"""The on-disk layout protocol and the registry of known layouts.

A layout maps (camera, start time, extension) to a path relative to the archive root and back.
Times in paths are UTC.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from typing import Protocol

from footage.domain import InvalidRequest

MEDIA_EXTENSIONS = frozenset({"mp4", "m4s", "ts", "mkv"})
_CAMERA_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def check_camera_id(camera: str) -> str:
    if not _CAMERA_ID.fullmatch(camera):
        raise InvalidRequest(
            f"camera id {camera!r} is not valid: use 1-64 letters, digits, '_', '.' or '-', "
            "starting with a letter or digit"
        )
    return camera


@dataclass(frozen=True, slots=True, kw_only=True)
class ParsedPath:
    layout: str
    camera_id: str
    start: datetime
    ext: str


class Layout(Protocol):
    name: str

    def relpath(self, camera_id: str, start: datetime, ext: str) -> PurePosixPath:
        """Where a segment of ``camera_id`` starting at ``start`` (UTC) is written."""
        ...

    def parse(self, rel: PurePosixPath) -> ParsedPath | None:
        """The camera and start time a relative path stands for, or None if not this layout."""
        ...


def layouts() -> dict[str, Layout]:
    from footage.archive.local.layout_frigate import FrigateLayout
    from footage.archive.local.layout_mediamtx import MediaMTXLayout
    from footage.archive.local.layout_native import NativeLayout

    found: list[Layout] = [NativeLayout(), FrigateLayout(), MediaMTXLayout()]
    return {layout.name: layout for layout in found}


def get_layout(name: str) -> Layout:
    known = layouts()
    try:
        return known[name]
    except KeyError:
        raise InvalidRequest(
            f"unknown layout {name!r}; choose one of {', '.join(sorted(known))}"
        ) from None


def detect(rel: PurePosixPath) -> ParsedPath | None:
    """Parse ``rel`` with whichever known layout recognises it (they do not overlap)."""
    if rel.suffix.lstrip(".").lower() not in MEDIA_EXTENSIONS:
        return None
    for layout in layouts().values():
        parsed = layout.parse(rel)
        if parsed is not None:
            return parsed
    return None
