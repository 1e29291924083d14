"""``NvrArchive``: the recordings inside NVRs as an ``ArchiveSource``.

Each channel of a device is a camera: ``<dock>`` when built from a batch device table
(``footage.batch.devices_table.nvr_archive``),
``<device>-ch<N>`` when built from device settings and channel counts. The timeline comes
from the device's recording search; :meth:`NvrArchive.segments` downloads the asked range
(remuxed to MP4) into a cache folder and returns it as one segment, so the export tasks
can cut clips and take pictures from it as from local recordings.

Limits, by design of the devices rather than of this class:

- ``segments`` downloads the whole range before returning (devices cannot seek inside a
  download), at most ``max_span`` (1 h by default) at a time; the cache keeps each range
  until :meth:`NvrArchive.clear_cache`.
- The segment starts at the key frame the device began with. Dahua media carries absolute
  times, so that start is exact; Hikvision's program stream does not, so its start is
  taken as the end of the range minus the clip's length (devices answer in whole seconds).
- A segment never spans a recording gap inside the range: the device just sends what it
  has, and the gap is visible in :meth:`timeline`, not inside the segment.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import httpx

from footage.archive.local.timeline import build_timeline
from footage.closeable import Closeable
from footage.devices import DeviceBase, DeviceConfig, NoRecording, open_device
from footage.domain import (
    Camera,
    InvalidRequest,
    MediaError,
    NotFound,
    Segment,
    Timeline,
    TimeRange,
    to_us,
)
from footage.media.probe import ProbeResult, probe

DEFAULT_MAX_SPAN = timedelta(hours=1)


@dataclass(frozen=True, slots=True, kw_only=True)
class NvrChannel:
    camera_id: str
    device: str  # name of the device (key of the devices mapping)
    channel: int  # 1-based
    name: str = ""


class NvrArchive(Closeable):
    """An ``ArchiveSource`` over NVRs; close it (or use ``with``) to log out of them."""

    def __init__(
        self,
        devices: Iterable[DeviceConfig],
        channels: Iterable[NvrChannel],
        cache_dir: Path,
        *,
        gap_tolerance: float = 2.0,
        max_span: timedelta = DEFAULT_MAX_SPAN,
    ) -> None:
        self._configs = {config.name: config for config in devices}
        self._channels = {c.camera_id: c for c in channels}
        for channel in self._channels.values():
            if channel.device not in self._configs:
                raise InvalidRequest(f"camera {channel.camera_id}: no device {channel.device!r}")
        self.cache_dir = Path(cache_dir)
        self.gap_tolerance = gap_tolerance
        self.max_span = max_span
        self._drivers: dict[str, tuple[httpx.Client, DeviceBase]] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_channel_counts(
        cls,
        devices: Iterable[tuple[DeviceConfig, int]],
        cache_dir: Path,
        *,
        gap_tolerance: float = 2.0,
        max_span: timedelta = DEFAULT_MAX_SPAN,
    ) -> NvrArchive:
        """Cameras ``<device>-ch1`` … ``<device>-chN`` for each (device, channel count)."""
        pairs = list(devices)
        channels = [
            NvrChannel(camera_id=f"{config.name}-ch{n}", device=config.name, channel=n)
            for config, count in pairs
            for n in range(1, count + 1)
        ]
        return cls(
            [config for config, _ in pairs],
            channels,
            cache_dir,
            gap_tolerance=gap_tolerance,
            max_span=max_span,
        )

    # --- ArchiveSource ------------------------------------------------------------------

    def cameras(self) -> list[Camera]:
        return sorted((self._camera(c) for c in self._channels.values()), key=lambda c: c.id)

    def camera(self, camera_id: str) -> Camera:
        return self._camera(self._channel(camera_id))

    def timeline(self, camera_id: str, span: TimeRange) -> Timeline:
        channel = self._channel(camera_id)
        tolerance = timedelta(seconds=self.gap_tolerance)
        wide = TimeRange(start=span.start - tolerance, end=span.end + tolerance)
        recordings = self._driver(channel.device).search(channel.channel, wide)
        bounds = sorted((to_us(r.start), to_us(r.end)) for r in recordings)
        return build_timeline(camera_id, span, bounds, int(self.gap_tolerance * 1_000_000))

    def segments(self, camera_id: str, span: TimeRange) -> list[Segment]:
        """The range as one downloaded MP4 segment ([] when the device has nothing there)."""
        channel = self._channel(camera_id)
        if span.end - span.start > self.max_span:
            raise InvalidRequest(
                f"an NVR range is at most {self.max_span}; {span} is longer: split it"
            )
        path = self._cache_path(camera_id, span)
        cached = self._cached(camera_id, path)
        if cached is not None:
            return [cached]
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            result = self._driver(channel.device).download(channel.channel, span, path)
        except NoRecording:
            return []
        device_end = span.end.replace(microsecond=0)  # devices are asked whole seconds
        first = result.first_frame or (device_end - timedelta(seconds=result.duration))
        _start_file(path).write_text(first.isoformat())
        return [self._segment(camera_id, path, first, probe(path))]

    # --- the rest -----------------------------------------------------------------------

    def clear_cache(self) -> None:
        """Remove every downloaded range (the next ``segments`` call downloads again)."""
        for path in self.cache_dir.glob("*/*"):
            path.unlink(missing_ok=True)

    def close(self) -> None:
        with self._lock:
            drivers, self._drivers = self._drivers, {}
        for client, driver in drivers.values():
            driver.close()
            client.close()

    def _channel(self, camera_id: str) -> NvrChannel:
        found = self._channels.get(camera_id)
        if found is None:
            known = ", ".join(sorted(self._channels)) or "none"
            raise NotFound(f"no NVR camera {camera_id!r}; known: {known}")
        return found

    def _camera(self, channel: NvrChannel) -> Camera:
        name = channel.name or f"{channel.device} channel {channel.channel}"
        config = self._configs[channel.device]
        source = f"nvr:{config.host}:{config.port}"  # per-device limits in the task layer
        return Camera(id=channel.camera_id, name=name, source=source, group=channel.device)

    def _driver(self, device: str) -> DeviceBase:
        with self._lock:
            found = self._drivers.get(device)
            if found is None:
                config = self._configs[device]
                client = httpx.Client(verify=config.verify_tls)
                found = (client, open_device(config, client))
                self._drivers[device] = found
        return found[1]

    def _cache_path(self, camera_id: str, span: TimeRange) -> Path:
        folder = hashlib.sha1(camera_id.encode(), usedforsecurity=False).hexdigest()[:12]
        return self.cache_dir / folder / f"{span.start_us}-{span.end_us}.mp4"

    def _cached(self, camera_id: str, path: Path) -> Segment | None:
        try:
            start = datetime.fromisoformat(_start_file(path).read_text().strip())
            return self._segment(camera_id, path, start, probe(path))
        except (OSError, ValueError, MediaError):
            return None

    def _segment(self, camera_id: str, path: Path, start: datetime, info: ProbeResult) -> Segment:
        return Segment(
            camera_id=camera_id,
            path=str(path),
            start=start,
            end=start + timedelta(microseconds=info.duration_us),
            container=info.container,
            video_codec=info.video_codec,
            width=info.width,
            height=info.height,
            fps=info.fps,
            audio_codec=info.audio_codec,
            size=path.stat().st_size,
        )


def _start_file(path: Path) -> Path:
    return path.with_suffix(".start")
