"""``GET /ISAPI/System/time``: the device's local time and the zone it says it is in."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from footage.devices.errors import DeviceError
from footage.devices.hikvision.xmlutil import local_name, parse_xml, text

TIME_PATH = "/ISAPI/System/time"
_POSIX_ZONE = re.compile(r"^[A-Za-z]{3,}([+-]?)(\d{1,2})(?::(\d{2}))?(?::(\d{2}))?")


def posix_offset(zone: str) -> timedelta | None:
    """UTC offset of a POSIX TZ string (``CST-8:00:00`` is UTC+8: the sign is inverted)."""
    match = _POSIX_ZONE.match(zone.strip())
    if not match:
        return None
    sign = 1 if match.group(1) == "-" else -1
    return sign * timedelta(
        hours=int(match.group(2)),
        minutes=int(match.group(3) or 0),
        seconds=int(match.group(4) or 0),
    )


def parse_time_status(body: bytes) -> tuple[datetime, timedelta | None]:
    """(device wall clock, its UTC offset if known) from a ``<Time>`` document."""
    root = parse_xml(body, "time")
    if local_name(root) != "Time":
        raise DeviceError(f"expected <Time>, got <{local_name(root)}>")
    local = text(root, "localTime")
    if not local:
        raise DeviceError("the device's <Time> has no localTime")
    zulu = local.endswith(("Z", "z"))  # often the wall clock with a misleading Z
    try:
        moment = datetime.fromisoformat(local[:-1] if zulu else local)
    except ValueError as exc:
        raise DeviceError(f"cannot read the device time {local!r}") from exc
    if moment.tzinfo is not None:
        offset = moment.utcoffset()
        return moment.replace(tzinfo=None), offset
    return moment, posix_offset(text(root, "timeZone"))
