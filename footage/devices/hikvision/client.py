"""``HikvisionDevice``: record search, download, pictures and clock over ISAPI."""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta

import httpx

from footage.devices.device import DeviceBase
from footage.devices.errors import DeviceError
from footage.devices.hikvision.clock import TIME_PATH, parse_time_status
from footage.devices.hikvision.download import download_request, playback_uri
from footage.devices.hikvision.picture import live_picture_path
from footage.devices.hikvision.search import Match, SearchPage, build_search, parse_search
from footage.devices.hikvision.status import status_error, vendor_error
from footage.devices.hikvision.xmlutil import parse_xml, text
from footage.devices.models import DeviceInfo, Recording, Stage, StageStatus
from footage.devices.transfer import TransferRequest
from footage.domain import TimeRange

log = logging.getLogger(__name__)
SEARCH_PATH = "/ISAPI/ContentMgmt/search"
INFO_PATH = "/ISAPI/System/deviceInfo"
DEVICE_PAGE_CAP = 64  # devices answer at most this many matches a page
MIN_SPLIT = timedelta(seconds=1)


class HikvisionDevice(DeviceBase):
    """A Hikvision NVR or camera. Channel ``n`` is track ``n*100 + stream`` (101, 201…)."""

    download_method = "GET"  # some firmwares want POST

    def _response_error(self, response: httpx.Response) -> DeviceError | None:
        return vendor_error(response, self.config.name)

    def _reported_error(self, body: bytes) -> DeviceError | None:
        return status_error(body, device=self.config.name)

    def track(self, channel: int) -> int:
        return self.config.device_channel(channel) * 100 + self.config.stream

    def _device_info(self) -> DeviceInfo:
        response = self.session.request("GET", INFO_PATH)
        root = parse_xml(response.content, "device information")
        return DeviceInfo(
            vendor="hikvision",
            model=text(root, "model"),
            serial=text(root, "serialNumber"),
            firmware=text(root, "firmwareVersion"),
        )

    def _read_clock(self) -> tuple[datetime, timedelta | None]:
        return parse_time_status(self.session.request("GET", TIME_PATH).content)

    # --- search -------------------------------------------------------------------------

    def _search(self, channel: int, span: TimeRange) -> list[Recording]:
        found: list[Recording] = []
        pending = [span]
        while pending:
            window = pending.pop(0)
            matches, truncated = self._search_window(self.track(channel), window)
            if truncated and window.duration > MIN_SPLIT:
                middle = window.start + window.duration / 2
                self._warn(
                    f"{len(matches)} matches in {window} reached the device's listing limit "
                    f"({self.config.truncation_limit}); searching each half separately"
                )
                pending[:0] = [
                    TimeRange(start=window.start, end=middle),
                    TimeRange(start=middle, end=window.end),
                ]
                continue
            if truncated:
                self._warn(f"results in {window} may be truncated by the device")
            found.extend(self._recording(channel, match) for match in matches)
        return found

    def _search_window(self, track: int, window: TimeRange) -> tuple[list[Match], bool]:
        search_id = str(uuid.uuid4())
        start, end = self.clock.to_device(window.start), self.clock.to_device(window.end)
        page_size = max(1, min(self.config.page_size, DEVICE_PAGE_CAP))
        matches: list[Match] = []
        while True:
            page = self._page(search_id, track, start, end, len(matches), page_size)
            matches.extend(page.matches)
            if len(matches) >= self.config.truncation_limit:
                return matches, True
            if not page.more:
                return matches, False
            if not page.matches:
                raise DeviceError(
                    f"{self.config.name}: the device says MORE but sent no matches",
                    vendor_code="MORE",
                    device=self.config.name,
                )

    def _page(
        self, search_id: str, track: int, start: datetime, end: datetime, position: int, size: int
    ) -> SearchPage:
        body = build_search(
            search_id=search_id,
            track_id=track,
            start=start,
            end=end,
            position=position,
            max_results=size,
        )
        response = self.session.request(
            "POST", SEARCH_PATH, content=body, headers={"Content-Type": "application/xml"}
        )
        return parse_search(response.content, device=self.config.name)

    def _recording(self, channel: int, match: Match) -> Recording:
        return Recording(
            channel=channel,
            start=self.clock.from_device(match.start),
            end=self.clock.from_device(match.end),
            locator=match.playback_uri,
            size=match.size,
            name=match.name,
            kind=match.content_type or "video",
        )

    def _warn(self, message: str) -> None:
        log.warning("%s: %s", self.config.name, message)
        self.session.emit(Stage.SEARCH, StageStatus.WARNING, message, reason="truncated")

    # --- download and pictures ----------------------------------------------------------

    def _download_requests(self, channel: int, span: TimeRange) -> list[TransferRequest]:
        uri = playback_uri(
            self.config.host,
            self.track(channel),
            self.clock.to_device(span.start),
            self.clock.to_device(span.end),
        )
        return [download_request(uri, method=self.download_method)]

    def _live_picture_request(self, channel: int) -> tuple[str, dict[str, str]]:
        return live_picture_path(self.config.device_channel(channel), self.config.stream), {}
