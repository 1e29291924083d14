"""Spreadsheet rows from ``.xlsx`` or ``.csv``: a header row, then cells keyed by column name.

Both manifests and device tables are read through :func:`read_rows`; each row keeps its
line number in the file (1-based, counting the header) so errors can name it.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from footage.domain import InvalidRequest


@dataclass(frozen=True, slots=True)
class SheetRow:
    line: int  # 1-based row number in the file (the header is line 1 of its own)
    cells: dict[str, Any]  # normalised column name -> cell value (None when empty)


@dataclass(frozen=True, slots=True)
class Sheet:
    path: Path
    header: list[str]  # as written
    rows: list[SheetRow]

    def column(self, wanted: Sequence[str], what: str) -> str:
        """The normalised name of the first column in ``wanted`` the header has."""
        have = {normalise(name) for name in self.header}
        for name in wanted:
            if normalise(name) in have:
                return normalise(name)
        looked = ", ".join(repr(name) for name in wanted)
        raise InvalidRequest(
            f"{self.path.name}: no column for the {what}; looked for {looked}; "
            f"the header row has {', '.join(repr(h) for h in self.header) or 'nothing'}"
        )

    def optional(self, wanted: Sequence[str]) -> str | None:
        have = {normalise(name) for name in self.header}
        return next((normalise(n) for n in wanted if normalise(n) in have), None)


def normalise(name: str) -> str:
    """Column names match case-blind, ignoring spaces, ``_`` and ``-``."""
    return "".join(ch for ch in str(name).strip().lower() if ch not in " _-\t")


def read_rows(path: Path) -> Sheet:
    """The header and the non-empty rows of the first sheet of ``path`` (.xlsx or .csv)."""
    path = Path(path)
    if not path.is_file():
        raise InvalidRequest(f"{path} does not exist or is not a file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        raw = list(_xlsx_rows(path))
    elif suffix in (".csv", ".txt", ".tsv"):
        raw = list(_csv_rows(path))
    else:
        raise InvalidRequest(f"{path.name}: use an .xlsx or .csv file, not {suffix or 'no suffix'}")
    lines = [(line, cells) for line, cells in raw if any(_filled(c) for c in cells)]
    if not lines:
        raise InvalidRequest(f"{path.name} is empty: it needs a header row and data rows")
    header_line, header_cells = lines[0]
    header = [str(c).strip() if _filled(c) else "" for c in header_cells]
    keys = [normalise(h) for h in header]
    seen: set[str] = set()
    for key, name in zip(keys, header, strict=True):
        if key and key in seen:
            raise InvalidRequest(f"{path.name}: the column {name!r} appears twice in the header")
        seen.add(key)
    rows = []
    for line, cells in lines[1:]:
        values = {
            key: (cells[i] if i < len(cells) and _filled(cells[i]) else None)
            for i, key in enumerate(keys)
            if key
        }
        rows.append(SheetRow(line=line, cells=values))
    del header_line
    return Sheet(path=path, header=[h for h in header if h], rows=rows)


def _filled(value: Any) -> bool:
    return value is not None and not (isinstance(value, str) and not value.strip())


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    from openpyxl import load_workbook  # type: ignore[import-untyped]

    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise InvalidRequest(f"{path.name} is not a readable .xlsx workbook: {exc}") from exc
    try:
        sheet = book.worksheets[0]
        for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(row)
    finally:
        book.close()


def _csv_rows(path: Path) -> Iterator[tuple[int, list[Any]]]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")  # spreadsheets saved as CSV on Chinese Windows
        except UnicodeDecodeError as exc:
            raise InvalidRequest(f"{path.name}: cannot read the text encoding ({exc})") from exc
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    for row in reader:
        yield reader.line_num, [cell.strip() for cell in row]
