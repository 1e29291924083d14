"""Dahua's ``key=value`` bodies: ``found=2``, ``items[0].StartTime=…``, ``result=…``, ``Error``."""

from __future__ import annotations

import re
from typing import Any

from footage.devices.errors import DeviceError

_ITEM = re.compile(r"^items\[(\d+)\]\.(.+)$")


def parse_lines(body: str) -> dict[str, str]:
    """Every ``key=value`` line (CRLF or LF); lines without ``=`` are ignored."""
    values: dict[str, str] = {}
    for line in body.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip()
    return values


def parse_items(values: dict[str, str]) -> list[dict[str, str]]:
    """``items[i].Field`` keys grouped per item, in index order (``Flags[0]`` kept as is)."""
    grouped: dict[int, dict[str, str]] = {}
    for key, value in values.items():
        match = _ITEM.match(key)
        if match:
            grouped.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return [grouped[index] for index in sorted(grouped)]


def list_field(item: dict[str, str], name: str) -> list[str]:
    """``Flags[0]``, ``Flags[1]``… of one item as a list."""
    found: list[tuple[int, str]] = []
    prefix = f"{name}["
    for key, value in item.items():
        inside = key[len(prefix) : -1]
        if value and key.startswith(prefix) and key.endswith("]") and inside.isdigit():
            found.append((int(inside), value))
    return [value for _, value in sorted(found)]


def error_text(body: str) -> str | None:
    """The message of an ``Error`` body (``Error\\r\\nBad Request!``), or None."""
    lines = [line.strip() for line in body.strip().splitlines() if line.strip()]
    if not lines or lines[0].lower() != "error":
        return None
    return " ".join(lines[1:]) or "Error"


def expect_ok(body: str, what: str, device: str = "") -> None:
    """Raise unless the body is ``OK`` (what findFile, close and destroy answer)."""
    if body.strip().upper() == "OK":
        return
    message = error_text(body) or body.strip()[:120]
    raise DeviceError(f"{device}: {what} failed: {message}", vendor_text=message, device=device)


def result_value(body: str, what: str, device: str = "") -> str:
    """The value of ``result=…`` (factory.create's object id, getCurrentTime's time)."""
    value = parse_lines(body).get("result")
    if not value:
        message = error_text(body) or body.strip()[:120]
        raise DeviceError(
            f"{device}: {what} gave no result: {message}", vendor_text=message, device=device
        )
    return value


def as_int(value: Any, default: int | None = None) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return default
