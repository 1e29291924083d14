"""HTTP ``Range`` requests (RFC 9110 §14): one byte range of a file, or the whole file."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPEC = re.compile(r"^\s*(\d*)\s*-\s*(\d*)\s*$")


class RangeNotSatisfiable(Exception):
    """The range names no byte of the file (answered with 416 and ``bytes */size``)."""


@dataclass(frozen=True, slots=True)
class ByteRange:
    start: int
    end: int  # inclusive

    @property
    def length(self) -> int:
        return self.end - self.start + 1

    def content_range(self, size: int) -> str:
        return f"bytes {self.start}-{self.end}/{size}"


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """The byte range ``header`` asks of a ``size``-byte file; None means the whole file.

    A unit other than ``bytes`` and a list of several ranges are ignored (the whole file is
    sent, as RFC 9110 allows); a range that is malformed, reversed or starts past the end
    raises ``RangeNotSatisfiable``. An end past the file's end is cut to its last byte.
    """
    if header is None:
        return None
    unit, _, specs = header.partition("=")
    if unit.strip().lower() != "bytes":
        return None
    if "," in specs:
        return None
    match = _SPEC.match(specs)
    if match is None:
        raise RangeNotSatisfiable(f"cannot read the range {header!r}")
    first, last = match.group(1), match.group(2)
    if not first and not last:
        raise RangeNotSatisfiable(f"cannot read the range {header!r}")
    if not first:  # a suffix: the last N bytes
        count = int(last)
        if count == 0 or size == 0:
            raise RangeNotSatisfiable(f"the range {header!r} selects no byte")
        return ByteRange(max(0, size - count), size - 1)
    start = int(first)
    end = size - 1 if not last else min(int(last), size - 1)
    if last and int(last) < start:
        raise RangeNotSatisfiable(f"the range {header!r} ends before it starts")
    if start >= size:
        raise RangeNotSatisfiable(f"the range {header!r} starts past the end ({size} bytes)")
    return ByteRange(start, end)


def if_range_allows(if_range: str | None, etag: str) -> bool:
    """Whether a ``Range`` may be honoured under ``If-Range`` (strong ETag comparison only).

    A date in ``If-Range`` is not trusted (files are identified by content): the whole file
    is sent instead, which is always correct."""
    if if_range is None:
        return True
    value = if_range.strip()
    return not value.startswith("W/") and value == etag
