"""What the drivers take and give: device settings, recordings, download and clock results."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Literal

from footage.domain import InvalidRequest, TimeRange, ensure_utc

Vendor = Literal["hikvision", "dahua"]
AuthMode = Literal["auto", "digest", "basic"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Timeouts:
    """Seconds. ``idle`` is the longest silence inside a body; ``download`` the whole budget."""

    connect: float = 5.0
    read: float = 20.0
    idle: float = 30.0
    download: float = 600.0
    slot: float | None = None  # wait for a free per-device slot; None waits as long as needed


@dataclass(frozen=True, slots=True, kw_only=True)
class RetryPolicy:
    """Retries of transient failures (busy, reset, truncated body, Hikvision's HTTP 400)."""

    attempts: int = 3
    backoff: float = 1.0  # seconds before the 2nd attempt, doubled after each
    resume: bool = True  # ask for the rest with a Range header where the endpoint allows


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceConfig:
    """How to reach one NVR/camera and how to read its times.

    ``channel`` numbers given to the drivers are always 1-based ("camera 1"); ``channel_base``
    is the number the device's own API gives its first channel: ``1`` for most devices, ``0``
    for Dahua firmwares that count from zero.

    ``timezone`` says in which zone the device's timestamps are written (Hikvision's ``...Z``
    times are the device's wall clock on many firmwares): ``"device"`` asks the device clock
    and uses the offset it reports (Dahua reports none: the offset to our clock is rounded to
    15 minutes), ``"UTC"``, a fixed offset such as ``"+08:00"`` or an IANA name.
    ``clock="correct"`` also shifts every time by the measured skew of the device clock, so a
    device whose clock is two minutes fast still yields the footage of the requested moment.
    """

    vendor: Vendor
    host: str
    port: int = 80
    user: str = "admin"
    password: str = ""
    scheme: Literal["http", "https"] = "http"
    name: str = ""
    channel_base: int = 1
    stream: int = 1  # 1 main stream, 2 sub stream
    rtsp_port: int = 554  # live video (RTSP), for live-mode exports
    timezone: str = "device"
    clock: Literal["trust", "correct"] = "trust"
    auth: AuthMode = "auto"
    max_concurrent: int = 1
    lockout_after: int = 2  # consecutive refused logins before the driver stops trying
    page_size: int = 64  # matches per page (Hikvision caps at 64, Dahua findNextFile at 100)
    truncation_limit: int = 4000  # matches after which a device silently stops listing
    max_window: timedelta = timedelta(hours=6)  # Dahua loadfile.cgi refuses longer windows
    timeouts: Timeouts = field(default_factory=Timeouts)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    verify_tls: bool = True

    def __post_init__(self) -> None:
        if self.vendor not in ("hikvision", "dahua"):
            raise InvalidRequest(f"unknown device vendor {self.vendor!r}; use hikvision or dahua")
        if self.max_concurrent < 1:
            raise InvalidRequest("max_concurrent must be at least 1")
        if self.lockout_after < 1:
            raise InvalidRequest("lockout_after must be at least 1")
        if self.channel_base not in (0, 1):
            raise InvalidRequest(f"channel_base must be 0 or 1, not {self.channel_base}")
        if not self.name:
            object.__setattr__(self, "name", f"{self.vendor}@{self.host}:{self.port}")

    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"

    def device_channel(self, channel: int) -> int:
        """The device's number for our 1-based ``channel``."""
        if channel < 1:
            raise InvalidRequest(f"channel numbers start at 1, not {channel}")
        return channel - 1 + self.channel_base


@dataclass(frozen=True, slots=True, kw_only=True)
class Recording:
    """One recorded file/segment a device listed, with its times in UTC."""

    channel: int
    start: datetime
    end: datetime
    locator: str  # Hikvision playbackURI, Dahua FilePath
    size: int | None = None
    name: str | None = None
    kind: str = "video"
    flags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", ensure_utc(self.start))
        object.__setattr__(self, "end", ensure_utc(self.end))

    @property
    def span(self) -> TimeRange:
        return TimeRange(start=self.start, end=max(self.end, self.start + timedelta(seconds=1)))


@dataclass(frozen=True, slots=True, kw_only=True)
class DownloadResult:
    path: Path  # the MP4
    raw_bytes: int  # bytes received from the device (all attempts that were kept)
    raw_format: str  # "hikvision-ps", "mpeg-ps", "dhav", "mpeg-ts"
    requested: TimeRange
    duration: float  # seconds of video in the MP4
    first_frame: datetime | None  # UTC, when the device media carries absolute times
    attempts: int
    seconds: float


@dataclass(frozen=True, slots=True, kw_only=True)
class PictureResult:
    path: Path
    source: Literal["recording", "live"]
    at: datetime
    size: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ClockReading:
    """The device clock against ours, taken at ``measured_at`` (our UTC clock)."""

    device_time: datetime  # the device's wall clock as it reports it (naive)
    utc_offset: timedelta  # the device's zone offset (reported, configured or estimated)
    skew: timedelta  # device clock minus our clock, after the zone offset
    measured_at: datetime
    round_trip: float

    @property
    def offset(self) -> timedelta:
        """Device local time minus UTC: zone offset plus skew."""
        return self.utc_offset + self.skew


@dataclass(frozen=True, slots=True, kw_only=True)
class DeviceInfo:
    vendor: Vendor
    model: str = ""
    serial: str = ""
    firmware: str = ""


class Stage(StrEnum):
    CONNECT = "connect"
    LOGIN = "login"
    CLOCK = "clock"
    SEARCH = "search"
    DOWNLOAD = "download"
    PICTURE = "picture"
    LOGOUT = "logout"


class StageStatus(StrEnum):
    STARTED = "started"
    OK = "ok"
    FAILED = "failed"
    WARNING = "warning"


@dataclass(frozen=True, slots=True, kw_only=True)
class StageEvent:
    device: str
    stage: Stage
    status: StageStatus
    detail: str = ""
    reason: str | None = None
    vendor_code: str | None = None
    vendor_text: str | None = None


StageCallback = Callable[[StageEvent], None]
Progress = Callable[[int, int | None], None]  # (bytes so far, bytes expected or None)
