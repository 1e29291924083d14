"""Command-line value parsers shared by the command groups."""

from __future__ import annotations

import re

from footage.domain import InvalidRequest

_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT]?)(I?B?)", re.IGNORECASE)
_FACTOR = {"": 1, "K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}


def parse_size(text: str) -> int:
    """``500M``, ``2G``, ``64KiB``, ``1048576`` → bytes (binary multiples)."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise InvalidRequest(f"cannot read size {text!r}; use e.g. 500M, 2G or 1048576")
    return int(float(match.group(1)) * _FACTOR[match.group(2).upper()])


def parse_resolution(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit():
        raise InvalidRequest(f"cannot read resolution {text!r}; use WIDTHxHEIGHT, e.g. 640x360")
    return int(width), int(height)
