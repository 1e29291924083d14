"""``DahuaDevice``: mediaFileFind search, loadfile/RPC_Loadfile download, snapshot, clock."""

from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from footage.devices.dahua.clock import TIME_PATH, parse_current_time
from footage.devices.dahua.download import load_by_time, load_file, split_windows
from footage.devices.dahua.errors import body_error, vendor_error
from footage.devices.dahua.keyvalue import expect_ok, parse_lines, result_value
from footage.devices.dahua.picture import snapshot_request
from footage.devices.dahua.search import (
    FoundFile,
    create_path,
    find_file_path,
    next_path,
    object_path,
    parse_found,
)
from footage.devices.device import DeviceBase
from footage.devices.errors import DeviceError
from footage.devices.models import DeviceInfo, Progress, Recording, Stage
from footage.devices.transfer import Transfer, TransferRequest, download_to_file
from footage.domain import TimeRange

log = logging.getLogger(__name__)
INFO_PATH = "/cgi-bin/magicBox.cgi?action=getSystemInfo"
FIND_COUNT = 100
MAX_PAGES = 10_000  # a device that never says found=0 must not loop forever


class DahuaDevice(DeviceBase):
    """A Dahua NVR or camera over its HTTP API (``channel_base`` 0 or 1, per firmware)."""

    def _response_error(self, response: httpx.Response) -> DeviceError | None:
        return vendor_error(response, self.config.name)

    def _reported_error(self, body: bytes) -> DeviceError | None:
        return body_error(body, device=self.config.name)

    def _text(self, path: str) -> str:
        return self.session.request("GET", path).text

    def _device_info(self) -> DeviceInfo:
        values = parse_lines(self._text(INFO_PATH))
        return DeviceInfo(
            vendor="dahua",
            model=values.get("deviceType", ""),
            serial=values.get("serialNumber", ""),
            firmware=values.get("softwareVersion", ""),
        )

    def _read_clock(self) -> tuple[datetime, timedelta | None]:
        return parse_current_time(self._text(TIME_PATH), self.config.name), None

    # --- search -------------------------------------------------------------------------

    def _search(self, channel: int, span: TimeRange) -> list[Recording]:
        name = self.config.name
        object_id = result_value(self._text(create_path()), "factory.create", name)
        try:
            start, end = self.clock.to_device(span.start), self.clock.to_device(span.end)
            body = self._text(
                find_file_path(object_id, self.config.device_channel(channel), start, end)
            )
            if body.strip().upper() != "OK":
                return []  # devices answer Error when nothing matches the condition
            return [self._recording(channel, f) for f in self._find_all(object_id)]
        finally:
            self._release(object_id)

    def _find_all(self, object_id: str) -> list[FoundFile]:
        files: list[FoundFile] = []
        for _ in range(MAX_PAGES):
            count = max(1, min(self.config.page_size, FIND_COUNT))
            body = self._text(next_path(object_id, count))
            found, page = parse_found(body, device=self.config.name)
            files.extend(page)
            if found == 0 or not page:
                return files
        raise DeviceError(f"{self.config.name}: findNextFile never answered found=0")

    def _release(self, object_id: str) -> None:
        for action in ("close", "destroy"):
            try:
                expect_ok(self._text(object_path(action, object_id)), action, self.config.name)
            except DeviceError as exc:  # the search result stands; the device cleans up later
                log.info("%s: %s of find %s failed: %s", self.config.name, action, object_id, exc)

    def _recording(self, channel: int, found: FoundFile) -> Recording:
        return Recording(
            channel=channel,
            start=self.clock.from_device(found.start),
            end=self.clock.from_device(found.end),
            locator=found.path,
            size=found.length,
            name=Path(found.path).name,
            kind="video",
            flags=found.flags + found.events,
        )

    # --- download and pictures ----------------------------------------------------------

    def _download_requests(self, channel: int, span: TimeRange) -> list[TransferRequest]:
        start, end = self.clock.to_device(span.start), self.clock.to_device(span.end)
        device_channel = self.config.device_channel(channel)
        subtype = self.config.stream - 1
        return [
            load_by_time(device_channel, a, b, subtype)
            for a, b in split_windows(start, end, self.config.max_window)
        ]

    def download_file(
        self,
        recording: Recording,
        out_path: Path,
        *,
        deadline_s: float | None = None,
        progress: Progress | None = None,
    ) -> Transfer:
        """The recorded ``.dav`` file as the device stores it (``RPC_Loadfile``), resumable."""
        deadline = time.monotonic() + (deadline_s or self.config.timeouts.download)
        self.connect()
        with self.session.stage(Stage.DOWNLOAD, recording.locator):
            return download_to_file(
                self.session,
                load_file(recording.locator),
                out_path,
                deadline=deadline,
                body_error=self._body_error,
                progress=progress,
            )

    def _live_picture_request(self, channel: int) -> tuple[str, dict[str, str]]:
        return snapshot_request(self.config.device_channel(channel))
