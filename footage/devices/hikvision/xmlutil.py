"""Namespace-blind reading of ISAPI XML (firmwares use ``hikvision.com`` or ``isapi.org``)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from footage.devices.errors import DeviceError


def parse_xml(body: bytes, what: str) -> ET.Element:
    try:
        return ET.fromstring(body)
    except ET.ParseError as exc:
        raise DeviceError(
            f"the device's {what} is not readable XML ({exc})",
            vendor_text=body[:120].decode("utf-8", "replace"),
        ) from exc


def local_name(element: ET.Element) -> str:
    return element.tag.rsplit("}", 1)[-1]


def text(element: ET.Element, path: str, default: str = "") -> str:
    """Text of the first element at ``path`` (``/``-separated local names), any namespace."""
    found = element.find("/".join(f"{{*}}{part}" for part in path.split("/")))
    if found is None or found.text is None:
        return default
    return found.text.strip()


def children(element: ET.Element, path: str) -> list[ET.Element]:
    return element.findall("/".join(f"{{*}}{part}" for part in path.split("/")))
