"""``global.cgi?action=getCurrentTime``: the device's wall clock (Dahua reports no zone)."""

from __future__ import annotations

import re
from datetime import datetime

from footage.devices.dahua.keyvalue import result_value
from footage.devices.errors import DeviceError

TIME_PATH = "/cgi-bin/global.cgi?action=getCurrentTime"
_TIME = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T](\d{1,2}):(\d{1,2}):(\d{1,2})$")


def parse_current_time(body: str, device: str = "") -> datetime:
    """``result=2011-7-3 21:02:32`` -> a naive wall-clock time."""
    value = result_value(body, "getCurrentTime", device)
    match = _TIME.match(value.strip())
    if not match:
        raise DeviceError(f"{device}: cannot read the device time {value!r}", device=device)
    year, month, day, hour, minute, second = (int(g) for g in match.groups())
    return datetime(year, month, day, hour, minute, second)
