"""Dahua error bodies (``Error`` + a line of text) -> device errors."""

from __future__ import annotations

import httpx

from footage.devices.dahua.keyvalue import error_text
from footage.devices.errors import AuthFailed, DeviceBusy, DeviceError, NoRecording


def body_error(body: bytes, *, device: str = "", status: int = 200) -> DeviceError | None:
    text = body.decode("utf-8", "replace")
    message = error_text(text)
    if message is None:
        return None
    lowered = message.lower()
    vendor_code = str(status) if status != 200 else "Error"
    where = f"{device}: the device answered Error: {message}"
    if "too many" in lowered or "busy" in lowered:
        return DeviceBusy(where, vendor_code=vendor_code, vendor_text=message, device=device)
    if "authority" in lowered or "unauthorized" in lowered:
        return AuthFailed(where, vendor_code=vendor_code, vendor_text=message, device=device)
    if "no record" in lowered or "not found" in lowered or "no file" in lowered:
        return NoRecording(where, vendor_code=vendor_code, vendor_text=message, device=device)
    return DeviceError(where, vendor_code=vendor_code, vendor_text=message, device=device)


def vendor_error(response: httpx.Response, device: str = "") -> DeviceError | None:
    return body_error(response.content, device=device, status=response.status_code)
