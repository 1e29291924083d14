"""ISAPI ``ResponseStatus`` bodies -> device errors, keeping the device's own codes."""

from __future__ import annotations

import httpx

from footage.devices.errors import DeviceBusy, DeviceError, NoRecording
from footage.devices.hikvision.xmlutil import local_name, parse_xml, text

_BUSY_CODES = frozenset({"devicebusy", "busy", "nomoreconnection", "overmaxconnection"})
_NO_RECORD = frozenset({"notfound", "norecord", "norecordfile", "nofile"})


def status_error(body: bytes, *, device: str = "") -> DeviceError | None:
    """The error a ``ResponseStatus`` body reports; None if the body is not one or says OK."""
    stripped = body.lstrip()
    if not stripped.startswith(b"<"):
        return None
    try:
        root = parse_xml(stripped, "status")
    except DeviceError:
        return None
    if local_name(root) != "ResponseStatus":
        return None
    code = text(root, "statusCode")
    sub = text(root, "subStatusCode")
    words = text(root, "statusString")
    detail = text(root, "errorMsg") or text(root, "description")
    if code == "1" and sub.lower() in ("", "ok"):
        return None
    vendor_code = "/".join(p for p in (code, sub, text(root, "errorCode")) if p)
    vendor_text = "; ".join(p for p in (words, detail) if p)
    message = f"{device}: the device reports {words or 'an error'} ({vendor_code})"
    kind: type[DeviceError] = DeviceError
    if code == "2" or sub.lower() in _BUSY_CODES or "busy" in words.lower():
        kind = DeviceBusy
    elif sub.lower() in _NO_RECORD:
        kind = NoRecording
    return kind(message, vendor_code=vendor_code, vendor_text=vendor_text, device=device)


def vendor_error(response: httpx.Response, device: str = "") -> DeviceError | None:
    return status_error(response.content, device=device)
