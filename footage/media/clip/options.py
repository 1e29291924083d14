"""What a clip export is asked to do, and what it produced."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from footage.domain import Gap, InvalidRequest, TimeRange

FORMATS = {"mp4": "video/mp4", "mkv": "video/x-matroska", "ts": "video/mp2t"}
GAP_POLICIES = ("skip", "fail")


@dataclass(frozen=True, kw_only=True)
class ClipOptions:
    format: str = "mp4"
    audio: bool = True
    exact: bool = True
    max_file_size: int | None = None
    on_gap: str = "skip"
    camera_name: str = ""
    comment: str = ""
    file_stem: str = "clip"

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise InvalidRequest(
                f"unknown clip format {self.format!r}; use one of {', '.join(FORMATS)}"
            )
        if self.on_gap not in GAP_POLICIES:
            raise InvalidRequest(f"unknown gap policy {self.on_gap!r}; use skip or fail")
        if self.max_file_size is not None and self.max_file_size < 64 * 1024:
            raise InvalidRequest(
                f"max_file_size {self.max_file_size} is too small; give at least 65536 bytes"
            )
        stem = self.file_stem
        if not stem or "/" in stem or "\\" in stem or stem.startswith("."):
            raise InvalidRequest(f"file stem {stem!r} is not a plain file name")

    @property
    def mime_type(self) -> str:
        return FORMATS[self.format]


@dataclass(frozen=True, kw_only=True)
class OutputFile:
    path: Path
    size: int
    sha256: str
    mime_type: str
    first_ts: datetime
    last_ts: datetime
    video_codec: str
    width: int
    height: int


@dataclass(frozen=True, kw_only=True)
class ClipResult:
    files: tuple[OutputFile, ...]
    gaps: tuple[Gap, ...]
    requested: TimeRange
    recorded_seconds: float
