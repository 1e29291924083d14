"""The ``Device`` protocol every NVR driver implements, and the part the drivers share.

A driver is built with its ``DeviceConfig`` and, ideally, an injected ``httpx.Client`` (one
per device); it reports its stages (connect, login, clock, search, download, picture, logout)
to ``on_stage`` for the batch monitor. Vendor drivers supply the requests; downloading to
disk, remuxing to MP4 and taking pictures from recordings happen here.
"""

from __future__ import annotations

import logging
import os
import time
from abc import abstractmethod
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal, Protocol

import httpx

from footage.closeable import Closeable
from footage.devices.clock import DeviceClock
from footage.devices.errors import DeviceError, NoRecording
from footage.devices.limiter import DeviceLimiter
from footage.devices.models import (
    ClockReading,
    DeviceConfig,
    DeviceInfo,
    DownloadResult,
    PictureResult,
    Progress,
    Recording,
    Stage,
    StageCallback,
    StageStatus,
)
from footage.devices.session import DeviceSession
from footage.devices.transfer import TransferRequest, download_to_file
from footage.domain import MediaError, TimeRange, ensure_utc
from footage.durable import write_file
from footage.media.device_media import picture_from_media, remux_to_mp4

log = logging.getLogger(__name__)
PictureSource = Literal["auto", "recording", "live"]
LIVE_FALLBACK_WINDOW = timedelta(minutes=2)
_PICTURE_WINDOW = timedelta(seconds=2)


class Device(Protocol):
    config: DeviceConfig

    def connect(self) -> DeviceInfo: ...

    def search(self, channel: int, span: TimeRange) -> list[Recording]: ...

    def download(
        self,
        channel: int,
        span: TimeRange,
        out_path: Path,
        *,
        deadline_s: float | None = None,
        progress: Progress | None = None,
    ) -> DownloadResult: ...

    def picture(
        self, channel: int, at: datetime, out_path: Path, *, source: PictureSource = "auto"
    ) -> PictureResult: ...

    def clock_offset(self) -> ClockReading: ...

    def close(self) -> None: ...


class DeviceBase(Closeable):
    """Shared driver machinery; vendors implement the ``_``-prefixed request builders."""

    def __init__(
        self,
        config: DeviceConfig,
        client: httpx.Client | None = None,
        *,
        on_stage: StageCallback | None = None,
        limiter: DeviceLimiter | None = None,
        keep_raw: bool = False,
    ) -> None:
        self.config = config
        self.session = DeviceSession(
            config,
            client,
            vendor_error=self._response_error,
            on_stage=on_stage,
            limiter=limiter,
        )
        self.clock = DeviceClock(config, self._read_clock)
        self.keep_raw = keep_raw
        self.info: DeviceInfo | None = None

    # --- vendor parts -------------------------------------------------------------------

    @abstractmethod
    def _response_error(self, response: httpx.Response) -> DeviceError | None:
        """The error an answer reports in the vendor's terms; None if it reports none."""

    @abstractmethod
    def _reported_error(self, body: bytes) -> DeviceError | None:
        """The error a body reports in the vendor's terms; None if it is not an error."""

    @abstractmethod
    def _device_info(self) -> DeviceInfo: ...

    @abstractmethod
    def _read_clock(self) -> tuple[datetime, timedelta | None]: ...

    @abstractmethod
    def _search(self, channel: int, span: TimeRange) -> list[Recording]: ...

    @abstractmethod
    def _download_requests(self, channel: int, span: TimeRange) -> list[TransferRequest]: ...

    @abstractmethod
    def _live_picture_request(self, channel: int) -> tuple[str, dict[str, str]]: ...

    def _body_error(self, body: bytes) -> DeviceError:
        """The error for a body sent instead of media: the vendor's, else the text's start."""
        error = self._reported_error(body)
        if error is not None:
            return error
        return DeviceError(
            f"{self.config.name}: the device sent text instead of media",
            vendor_text=body[:200].decode("utf-8", "replace"),
            device=self.config.name,
        )

    # --- the Device protocol ------------------------------------------------------------

    def connect(self) -> DeviceInfo:
        """Reach the device and log in (read its identity); reports connect and login."""
        if self.info is not None:
            return self.info
        self.session.emit(Stage.CONNECT, StageStatus.STARTED, self.config.base_url)
        try:
            info = self._device_info()
        except DeviceError as exc:
            login_failed = exc.reason.value in ("auth_failed", "device_busy")
            self.session.emit(
                Stage.CONNECT,
                StageStatus.OK if login_failed else StageStatus.FAILED,
                "" if login_failed else exc.message,
                reason=None if login_failed else exc.reason.value,
            )
            if login_failed:
                self.session.emit(
                    Stage.LOGIN,
                    StageStatus.FAILED,
                    exc.message,
                    reason=exc.reason.value,
                    vendor_code=exc.vendor_code,
                    vendor_text=exc.vendor_text,
                )
            raise
        self.session.emit(Stage.CONNECT, StageStatus.OK, self.config.base_url)
        self.session.emit(Stage.LOGIN, StageStatus.OK, info.model)
        self.info = info
        return info

    def search(self, channel: int, span: TimeRange) -> list[Recording]:
        """Recordings of ``channel`` overlapping ``span``, in time order, times in UTC."""
        self.connect()
        with self.session.stage(Stage.SEARCH, f"channel {channel} {span}"):
            found = self._search(channel, span)
        unique = {(r.locator, r.start, r.end): r for r in found}
        return sorted(unique.values(), key=lambda r: (r.start, r.end, r.locator))

    def download(
        self,
        channel: int,
        span: TimeRange,
        out_path: Path,
        *,
        deadline_s: float | None = None,
        progress: Progress | None = None,
    ) -> DownloadResult:
        """Download ``span`` of ``channel`` and remux it to the MP4 ``out_path``."""
        began = time.monotonic()
        deadline = began + (deadline_s or self.config.timeouts.download)
        self.connect()
        with self.session.stage(Stage.DOWNLOAD, f"channel {channel} {span}"):
            if not self.search(channel, span):
                raise NoRecording(
                    f"{self.config.name}: channel {channel} has no recording in {span}",
                    device=self.config.name,
                )
            raw = out_path.with_name(f".{out_path.name}.raw")
            size, attempts = self._fetch(channel, span, raw, deadline, progress)
            try:
                result = remux_to_mp4(raw, out_path)
            except MediaError as exc:
                raise DeviceError(
                    f"{self.config.name}: the device sent media that cannot be read: {exc.message}",
                    vendor_text=exc.message,
                    device=self.config.name,
                ) from exc
            finally:
                if not self.keep_raw:
                    raw.unlink(missing_ok=True)
        first = None
        if result.first_wall_ms is not None:
            wall = datetime(1970, 1, 1) + timedelta(milliseconds=result.first_wall_ms)
            first = self.clock.from_device(wall)
        return DownloadResult(
            path=out_path,
            raw_bytes=size,
            raw_format=result.kind,
            requested=span,
            duration=result.duration,
            first_frame=first,
            attempts=attempts,
            seconds=time.monotonic() - began,
        )

    def _fetch(
        self,
        channel: int,
        span: TimeRange,
        raw: Path,
        deadline: float,
        progress: Progress | None,
    ) -> tuple[int, int]:
        """Fetch every request of the span into ``raw`` (pieces appended in order)."""
        total = 0
        attempts = 0
        requests = self._download_requests(channel, span)
        raw.unlink(missing_ok=True)
        piece = raw.with_name(raw.name + ".piece")
        try:
            for request in requests:
                done = total

                def report(n: int, expected: int | None, base: int = done) -> None:
                    if progress is not None:
                        progress(base + n, None if expected is None else base + expected)

                transfer = download_to_file(
                    self.session,
                    request,
                    piece,
                    deadline=deadline,
                    body_error=self._body_error,
                    progress=report,
                )
                attempts += transfer.attempts
                total += transfer.size
                _append(piece, raw)
        finally:
            piece.unlink(missing_ok=True)
        return total, attempts

    def picture(
        self, channel: int, at: datetime, out_path: Path, *, source: PictureSource = "auto"
    ) -> PictureResult:
        """A JPEG of ``channel`` at ``at``: from the recording, or the live picture."""
        at = ensure_utc(at)
        self.connect()
        with self.session.stage(Stage.PICTURE, f"channel {channel} at {at.isoformat()}"):
            if source != "live":
                try:
                    return self._recorded_picture(channel, at, out_path)
                except NoRecording:
                    near_now = abs(datetime.now(UTC) - at) <= LIVE_FALLBACK_WINDOW
                    if source == "recording" or not near_now:
                        raise
                    log.info("%s: no recording at %s; live picture", self.config.name, at)
            return self._live_picture(channel, at, out_path)

    def _recorded_picture(self, channel: int, at: datetime, out_path: Path) -> PictureResult:
        window = TimeRange(start=at, end=at + _PICTURE_WINDOW)
        if not self.search(channel, window):
            raise NoRecording(
                f"{self.config.name}: channel {channel} has no recording at {at.isoformat()}",
                device=self.config.name,
            )
        raw = out_path.with_name(f".{out_path.name}.raw")
        deadline = time.monotonic() + self.config.timeouts.download
        try:
            self._fetch(channel, window, raw, deadline, None)
            wall_ms = _wall_ms(self.clock.to_device(at))
            size = picture_from_media(raw, out_path, at_wall_ms=wall_ms)
        except MediaError as exc:
            raise DeviceError(
                f"{self.config.name}: cannot take a picture from the device media: {exc.message}",
                device=self.config.name,
            ) from exc
        finally:
            raw.unlink(missing_ok=True)
        return PictureResult(path=out_path, source="recording", at=at, size=size)

    def _live_picture(self, channel: int, at: datetime, out_path: Path) -> PictureResult:
        path, params = self._live_picture_request(channel)
        response = self.session.request("GET", path, params=params or None)
        body = response.content
        if not body.startswith(b"\xff\xd8"):
            raise self._body_error(body)
        write_file(out_path, body)
        return PictureResult(path=out_path, source="live", at=datetime.now(UTC), size=len(body))

    def clock_offset(self) -> ClockReading:
        """Measure the device clock now: its zone offset and its skew against ours."""
        with self.session.stage(Stage.CLOCK):
            return self.clock.measure()

    def close(self) -> None:
        with self.session.stage(Stage.LOGOUT):
            self.session.close()


def _append(piece: Path, raw: Path) -> None:
    """Append ``piece`` to ``raw`` in chunks (or move it when ``raw`` does not exist yet)."""
    if not raw.exists():
        os.replace(piece, raw)
        return
    with piece.open("rb") as source, raw.open("ab") as target:
        while chunk := source.read(1024 * 1024):
            target.write(chunk)


def _wall_ms(wall: datetime) -> int:
    return int((wall - datetime(1970, 1, 1)).total_seconds() * 1000)
