"""What an archive holds: cameras, recorded segments, and timelines of spans and gaps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from footage.domain.timerange import ensure_utc


@dataclass(frozen=True, slots=True, kw_only=True)
class Camera:
    id: str
    name: str
    source: str = "local"
    group: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Segment:
    """One recorded media file: ``start`` is the wall-clock time of its first frame."""

    camera_id: str
    path: str
    start: datetime
    end: datetime
    container: str
    video_codec: str
    width: int
    height: int
    fps: float
    audio_codec: str | None
    size: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", ensure_utc(self.start))
        object.__setattr__(self, "end", ensure_utc(self.end))

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True, slots=True, kw_only=True)
class Span:
    """A stretch of continuous recording."""

    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True, kw_only=True)
class Gap:
    """A stretch with no recording."""

    start: datetime
    end: datetime

    @property
    def duration(self) -> timedelta:
        return self.end - self.start


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeline:
    camera_id: str
    start: datetime
    end: datetime
    spans: tuple[Span, ...] = field(default_factory=tuple)
    gaps: tuple[Gap, ...] = field(default_factory=tuple)
