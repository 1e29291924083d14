"""Device time against ours: the zone a device writes its times in, and its clock's skew.

NVRs label recordings with their wall clock; Hikvision writes it with a ``Z`` that often
does not mean UTC, Dahua without any zone. :class:`DeviceClock` converts both ways using
``DeviceConfig.timezone`` and, with ``clock="correct"``, the skew measured from the device.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from footage.devices.models import ClockReading, DeviceConfig
from footage.domain import InvalidRequest, ensure_utc

#: What a driver reads from the device: its wall clock (naive) and, if it says, its offset.
ClockSource = Callable[[], tuple[datetime, timedelta | None]]

_OFFSET = re.compile(r"^([+-])(\d{1,2}):?(\d{2})?$")
_QUARTER = timedelta(minutes=15)
_HALF_SECOND = timedelta(milliseconds=500)


def parse_zone(text: str) -> tzinfo | None:
    """A ``tzinfo`` for ``UTC``, ``+08:00``/``-0530`` or an IANA name; None for ``device``."""
    value = text.strip()
    if value.lower() == "device":
        return None
    if value.upper() in ("UTC", "Z", "GMT"):
        return UTC
    match = _OFFSET.match(value)
    if match:
        sign = -1 if match.group(1) == "-" else 1
        delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0))
        return timezone(sign * delta)
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidRequest(
            f"unknown device time zone {text!r}; use device, UTC, an offset such as +08:00 "
            "or an IANA name such as Asia/Shanghai"
        ) from exc


def estimate(device_now: datetime, host_now: datetime) -> tuple[timedelta, timedelta]:
    """(zone offset, skew) from a wall clock without a zone: the offset rounded to 15 min."""
    total = device_now.replace(tzinfo=UTC) - host_now
    zone = round(total / _QUARTER) * _QUARTER
    return zone, total - zone


class DeviceClock:
    def __init__(
        self,
        config: DeviceConfig,
        source: ClockSource,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._config = config
        self._source = source
        self._now = now
        self._zone = parse_zone(config.timezone)
        self._reading: ClockReading | None = None
        self._lock = threading.Lock()

    @property
    def needs_device(self) -> bool:
        """True when converting times requires reading the device clock first."""
        return self._zone is None or self._config.clock == "correct"

    def measure(self) -> ClockReading:
        """Ask the device for its time now (and remember the reading)."""
        before = time.monotonic()
        host_before = self._now()
        device_now, reported = self._source()
        rtt = time.monotonic() - before
        host_now = host_before + timedelta(seconds=rtt / 2)
        if device_now.microsecond == 0:  # whole seconds: on average half a second behind
            device_now += _HALF_SECOND
        if reported is not None:
            zone = reported
            skew = device_now.replace(tzinfo=UTC) - zone - host_now
        elif self._zone is not None:
            aware = device_now.replace(tzinfo=self._zone)
            zone = aware.utcoffset() or timedelta(0)
            skew = aware.astimezone(UTC) - host_now
        else:
            zone, skew = estimate(device_now, host_now)
        reading = ClockReading(
            device_time=device_now,
            utc_offset=zone,
            skew=skew,
            measured_at=host_now,
            round_trip=rtt,
        )
        with self._lock:
            self._reading = reading
        return reading

    def reading(self) -> ClockReading:
        with self._lock:
            cached = self._reading
        return cached if cached is not None else self.measure()

    def _shift(self) -> timedelta:
        """The skew to correct, in whole seconds (the resolution of device clocks)."""
        if self._config.clock != "correct":
            return timedelta(0)
        return timedelta(seconds=round(self.reading().skew.total_seconds()))

    def to_device(self, moment: datetime) -> datetime:
        """The device wall-clock time (naive) of the UTC instant ``moment``."""
        utc = ensure_utc(moment) + self._shift()
        if self._zone is None:
            return (utc + self.reading().utc_offset).replace(tzinfo=None)
        return utc.astimezone(self._zone).replace(tzinfo=None)

    def from_device(self, wall: datetime) -> datetime:
        """The UTC instant of a device time: naive wall clock, or aware if the device said."""
        if wall.tzinfo is not None and wall.utcoffset() is not None:
            return ensure_utc(wall) - self._shift()
        if self._zone is None:
            utc = wall.replace(tzinfo=UTC) - self.reading().utc_offset
        else:
            utc = wall.replace(tzinfo=self._zone).astimezone(UTC)
        return utc - self._shift()
