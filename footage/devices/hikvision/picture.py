"""Hikvision pictures: the live picture of a channel (the recorded one comes from a download)."""

from __future__ import annotations


def live_picture_path(device_channel: int, stream: int = 1) -> str:
    """``/ISAPI/Streaming/channels/101/picture`` for channel 1's main stream."""
    return f"/ISAPI/Streaming/channels/{device_channel * 100 + stream}/picture"
