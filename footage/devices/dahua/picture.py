"""Dahua live picture: ``/cgi-bin/snapshot.cgi?channel=N`` (devices rate-limit it)."""

from __future__ import annotations

SNAPSHOT_PATH = "/cgi-bin/snapshot.cgi"


def snapshot_request(device_channel: int) -> tuple[str, dict[str, str]]:
    return SNAPSHOT_PATH, {"channel": str(device_channel)}
