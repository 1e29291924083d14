"""Time handling: tz-aware datetimes (UTC inside), microsecond integers for storage, parsing."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from footage.domain.errors import InvalidRequest

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ensure_utc(value: datetime) -> datetime:
    """Return ``value`` in UTC; naive datetimes are refused (their zone is unknowable)."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidRequest(
            f"time {value.isoformat()} has no time zone; add an offset such as Z or +08:00"
        )
    return value.astimezone(UTC)


def to_us(value: datetime) -> int:
    """Microseconds since the Unix epoch, exactly (no float rounding)."""
    delta = ensure_utc(value) - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def parse_time(text: str, *, now: datetime | None = None) -> datetime:
    """Parse ISO 8601 with an offset (``2026-11-21T08:00:00+08:00``, ``...Z``) or ``now``."""
    raw = text.strip()
    if raw.lower() == "now":
        return ensure_utc(now or datetime.now(UTC))
    try:
        value = datetime.fromisoformat(raw.replace("z", "Z"))
    except ValueError as exc:
        raise InvalidRequest(
            f"cannot read time {text!r}; use ISO 8601 with an offset, "
            "e.g. 2026-11-21T08:00:00Z or 2026-11-21T16:00:00+08:00"
        ) from exc
    return ensure_utc(value)


_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|us|s|m|h|d)", re.IGNORECASE)
_UNITS_S = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}


def parse_duration(text: str) -> timedelta:
    """Parse ``90m``, ``24h``, ``1h30m``, ``10s``, ``1.5s`` or plain seconds (``60``)."""
    raw = text.strip().replace(" ", "")
    if re.fullmatch(r"\d+(\.\d+)?", raw):
        return timedelta(seconds=float(raw))
    pos = 0
    total = 0.0
    for match in _DURATION.finditer(raw):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS_S[match.group(2).lower()]
        pos = match.end()
    if pos != len(raw) or not raw:
        raise InvalidRequest(f"cannot read duration {text!r}; use e.g. 90s, 10m, 1h30m or 24h")
    return timedelta(seconds=total)


@dataclass(frozen=True, slots=True, kw_only=True)
class TimeRange:
    """A half-open interval ``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        object.__setattr__(self, "start", ensure_utc(self.start))
        object.__setattr__(self, "end", ensure_utc(self.end))
        if self.end <= self.start:
            raise InvalidRequest(
                f"the end {self.end.isoformat()} is not after the start {self.start.isoformat()}; "
                "give an end later than the start"
            )

    @property
    def duration(self) -> timedelta:
        return self.end - self.start

    @property
    def start_us(self) -> int:
        return to_us(self.start)

    @property
    def end_us(self) -> int:
        return to_us(self.end)

    @classmethod
    def from_us(cls, start_us: int, end_us: int) -> TimeRange:
        return cls(start=from_us(start_us), end=from_us(end_us))

    def __str__(self) -> str:
        return f"{self.start.isoformat()} to {self.end.isoformat()}"
