"""NVR device drivers (Hikvision ISAPI, Dahua HTTP API) and protocol-faithful emulators."""

from __future__ import annotations

import httpx

from footage.devices.device import Device, DeviceBase, PictureSource
from footage.devices.errors import (
    AuthFailed,
    DeviceBusy,
    DeviceError,
    DeviceTimeout,
    DeviceUnreachable,
    IncompleteTransfer,
    NoRecording,
    Reason,
)
from footage.devices.limiter import DeviceLimiter
from footage.devices.models import (
    ClockReading,
    DeviceConfig,
    DeviceInfo,
    DownloadResult,
    PictureResult,
    Recording,
    RetryPolicy,
    Stage,
    StageCallback,
    StageEvent,
    StageStatus,
    Timeouts,
)


def open_device(
    config: DeviceConfig,
    client: httpx.Client | None = None,
    *,
    on_stage: StageCallback | None = None,
    limiter: DeviceLimiter | None = None,
) -> DeviceBase:
    """The driver for ``config.vendor``; pass one ``httpx.Client`` per device."""
    if config.vendor == "hikvision":
        from footage.devices.hikvision.client import HikvisionDevice

        return HikvisionDevice(config, client, on_stage=on_stage, limiter=limiter)
    from footage.devices.dahua.client import DahuaDevice

    return DahuaDevice(config, client, on_stage=on_stage, limiter=limiter)


__all__ = [
    "AuthFailed",
    "ClockReading",
    "Device",
    "DeviceBase",
    "DeviceBusy",
    "DeviceConfig",
    "DeviceError",
    "DeviceInfo",
    "DeviceLimiter",
    "DeviceTimeout",
    "DeviceUnreachable",
    "DownloadResult",
    "IncompleteTransfer",
    "NoRecording",
    "PictureResult",
    "PictureSource",
    "Reason",
    "Recording",
    "RetryPolicy",
    "Stage",
    "StageCallback",
    "StageEvent",
    "StageStatus",
    "Timeouts",
    "open_device",
]
