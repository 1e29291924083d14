"""Where each camera's live video comes from: an ``rtsp://`` address per camera id.

NVR docks take theirs from the device table (the device's RTSP port and the vendor's path
for the channel); other cameras are listed in the settings (``[live] streams``). Live-mode
exports (record the next seconds, take a picture now) read these addresses.
"""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import quote, urlsplit, urlunsplit

from footage.devices import DeviceConfig
from footage.domain import InvalidRequest


def rtsp_url(config: DeviceConfig, channel: int) -> str:
    """The live stream of ``channel`` (1-based) of an NVR, credentials included.

    Hikvision: ``/Streaming/Channels/<channel><stream:02>`` (101 = channel 1, main stream);
    Dahua: ``/cam/realmonitor?channel=<channel>&subtype=<stream - 1>`` (0 = main stream)."""
    if config.vendor == "hikvision":
        path = f"/Streaming/Channels/{config.device_channel(channel) * 100 + config.stream}"
    else:
        path = f"/cam/realmonitor?channel={channel}&subtype={config.stream - 1}"
    login = f"{quote(config.user, safe='')}:{quote(config.password, safe='')}@"
    return f"rtsp://{login}{config.host}:{config.rtsp_port}{path}"


def public_url(url: str) -> str:
    """``url`` without user name and password, for messages and logs."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        if parts.port is not None:
            host += f":{parts.port}"
        return urlunsplit((parts.scheme, host, parts.path, parts.query, ""))
    except ValueError:
        return "(an invalid URL)"


class LiveStreams:
    """The live address of each camera that has one."""

    def __init__(self, urls: Mapping[str, str]) -> None:
        for camera_id, url in urls.items():
            if urlsplit(url).scheme not in ("rtsp", "rtsps"):
                raise InvalidRequest(
                    f"live stream of camera {camera_id!r}: {public_url(url)!r} is not "
                    "an rtsp:// address"
                )
        self._urls = dict(urls)

    def __contains__(self, camera_id: object) -> bool:
        return camera_id in self._urls

    def cameras(self) -> list[str]:
        return sorted(self._urls)

    def url(self, camera_id: str) -> str:
        """The address of ``camera_id``; ``InvalidRequest`` saying how to give one if none."""
        found = self._urls.get(camera_id)
        if found is None:
            known = ", ".join(self.cameras()) or "none"
            raise InvalidRequest(
                f"camera {camera_id!r} has no live stream (cameras with one: {known}); give it "
                f'one in the settings ([live] streams = {{ {camera_id} = "rtsp://…" }}) or, for '
                "an NVR dock, the device's rtsp_port in the device table"
            )
        return found

    @classmethod
    def join(
        cls, configured: Mapping[str, str], docks: Mapping[str, tuple[DeviceConfig, int]]
    ) -> LiveStreams:
        """The streams of the settings and of NVR ``docks`` (dock -> (device, channel)); a
        camera in both keeps the address the settings give."""
        urls = {dock: rtsp_url(config, channel) for dock, (config, channel) in docks.items()}
        urls.update(configured)
        return cls(urls)
