"""A batch manifest: rows of (id, time, camera-or-dock) from an ``.xlsx`` or ``.csv`` file.

Times without an offset are read in the manifest's zone (``--tz``, UTC unless told); each
id becomes a file name (``<id>.jpg`` / ``<id>.mp4``), so ids must be unique and must not
collide once characters a file name cannot hold are replaced. Every bad row is reported at
once, each naming its row and column.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from footage.batch.table import Sheet, read_rows
from footage.devices.clock import parse_zone
from footage.domain import InvalidRequest, ensure_utc

ID_COLUMNS = ("id", "shipment", "shipment id", "waybill", "order", "运单号", "单号", "编号")
TIME_COLUMNS = ("time", "scan time", "timestamp", "datetime", "扫描时间", "时间")
CAMERA_COLUMNS = ("camera", "dock", "loading dock", "channel", "月台", "摄像头", "通道")
MAX_LISTED = 20
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')
_SLASH_DATE = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})(.*)$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})[T ]?(\d{2})(\d{2})(\d{2})$")


@dataclass(frozen=True, kw_only=True)
class Columns:
    """Which header names hold the id, the time and the camera (first match wins)."""

    id: tuple[str, ...] = ID_COLUMNS
    time: tuple[str, ...] = TIME_COLUMNS
    camera: tuple[str, ...] = CAMERA_COLUMNS

    @classmethod
    def named(
        cls, *, id: str | None = None, time: str | None = None, camera: str | None = None
    ) -> Columns:
        """Defaults, with any of the three replaced by exactly one name."""
        base = cls()
        return cls(
            id=(id,) if id else base.id,
            time=(time,) if time else base.time,
            camera=(camera,) if camera else base.camera,
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class ManifestRow:
    id: str
    at: datetime  # UTC
    camera: str  # a dock of the device table
    line: int  # row number in the manifest file
    name: str  # the file stem of the row's outputs

    def __post_init__(self) -> None:
        object.__setattr__(self, "at", ensure_utc(self.at))


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.line}, column {self.column!r}: {self.message}"


class ManifestError(InvalidRequest):
    """Some rows of a manifest cannot be used; ``problems`` lists each one."""

    def __init__(self, path: Path, problems: list[RowProblem]) -> None:
        listed = "; ".join(str(p) for p in problems[:MAX_LISTED])
        more = f"; and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
        super().__init__(f"{path.name}: {len(problems)} bad row(s): {listed}{more}")
        self.problems = problems


@dataclass(frozen=True, kw_only=True)
class Manifest:
    path: Path
    name: str  # the output sub-folder: the manifest's file stem, made safe
    rows: list[ManifestRow] = field(default_factory=list)


def parse_tz(text: str) -> tzinfo:
    """The zone of naive manifest times: ``UTC``, ``+08:00``, an IANA name or ``local``."""
    if text.strip().lower() == "local":
        local = datetime.now().astimezone().tzinfo
        assert local is not None
        return local
    if text.strip().lower() == "device":
        raise InvalidRequest("--tz takes UTC, an offset such as +08:00, an IANA name or local")
    zone = parse_zone(text)
    assert zone is not None
    return zone


def safe_name(value: str) -> str:
    """``value`` as a file stem: separators and control characters become ``_``."""
    text = unicodedata.normalize("NFC", value.strip())
    text = _UNSAFE.sub("_", text).strip(". ")
    return text[:200] or "_"


def read_manifest(path: Path, *, columns: Columns | None = None, tz: tzinfo = UTC) -> Manifest:
    """Read and check every row; raises ``ManifestError`` listing each bad row."""
    path = Path(path)
    sheet = read_rows(path)
    columns = columns or Columns()
    id_key = sheet.column(columns.id, "id")
    time_key = sheet.column(columns.time, "time")
    camera_key = sheet.column(columns.camera, "camera or dock")
    names = {key: _header_name(sheet, key) for key in (id_key, time_key, camera_key)}
    problems: list[RowProblem] = []
    rows: list[ManifestRow] = []
    seen_ids: dict[str, int] = {}
    seen_names: dict[str, tuple[str, int]] = {}
    for row in sheet.rows:
        found = len(problems)
        ident = _text(row.cells.get(id_key))
        camera = _text(row.cells.get(camera_key))
        when: datetime | None = None
        if not ident:
            problems.append(RowProblem(row.line, names[id_key], "the id is empty"))
        if not camera:
            problems.append(RowProblem(row.line, names[camera_key], "the camera/dock is empty"))
        try:
            when = parse_cell_time(row.cells.get(time_key), tz)
        except InvalidRequest as exc:
            problems.append(RowProblem(row.line, names[time_key], exc.message))
        if ident and ident in seen_ids:
            problems.append(
                RowProblem(
                    row.line, names[id_key], f"the id {ident!r} is already on row {seen_ids[ident]}"
                )
            )
        name = safe_name(ident)
        clash = seen_names.get(name.lower())
        if ident and clash is not None and clash[0] != ident:
            problems.append(
                RowProblem(
                    row.line,
                    names[id_key],
                    f"the id {ident!r} makes the same file name as {clash[0]!r} on row {clash[1]}",
                )
            )
        if len(problems) > found or when is None:
            continue
        seen_ids[ident] = row.line
        seen_names[name.lower()] = (ident, row.line)
        rows.append(ManifestRow(id=ident, at=when, camera=camera, line=row.line, name=name))
    if problems:
        raise ManifestError(path, problems)
    if not rows:
        raise InvalidRequest(f"{path.name} has a header but no data rows")
    return Manifest(path=path, name=safe_name(path.stem), rows=rows)


def _header_name(sheet: Sheet, key: str) -> str:
    from footage.batch.table import normalise

    return next((h for h in sheet.header if normalise(h) == key), key)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a numeric id typed into a spreadsheet cell
    return str(value).strip()


def parse_cell_time(value: Any, tz: tzinfo) -> datetime:
    """A manifest cell as a UTC instant; naive values are read in ``tz``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidRequest("the time is empty")
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = _excel_serial(value)
    else:
        moment = _parse_text(str(value).strip())
    if moment.tzinfo is None or moment.utcoffset() is None:
        moment = moment.replace(tzinfo=tz)
    return moment.astimezone(UTC)


def _parse_text(text: str) -> datetime:
    candidate = text.replace("Z", "+00:00").replace("z", "+00:00")
    slash = _SLASH_DATE.match(candidate)
    if slash:
        year, month, day, rest = slash.groups()
        candidate = f"{year}-{int(month):02d}-{int(day):02d}{rest}"
    compact = _COMPACT.match(candidate)
    if compact:
        y, mo, d, h, mi, s = compact.groups()
        candidate = f"{y}-{mo}-{d}T{h}:{mi}:{s}"
    try:
        return datetime.fromisoformat(candidate)
    except ValueError:
        raise InvalidRequest(
            f"cannot read {text!r} as a time; write e.g. 2024-05-01 14:03:07, "
            "2024/05/01 14:03:07 or 2024-05-01T14:03:07+08:00"
        ) from None


def _excel_serial(value: float) -> datetime:
    """An Excel date serial (days since 1899-12-30) as a naive datetime."""
    if not 1 <= value < 2_958_466:
        raise InvalidRequest(f"{value!r} is a number, not a time")
    return datetime(1899, 12, 30) + timedelta(milliseconds=round(float(value) * 86_400_000))
