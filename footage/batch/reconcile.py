"""Reconciliation: the ids a run expects against the files present and valid.

A row is complete when every output the run asks for (``<id>.jpg``, ``<id>.mp4``) is in
the folder and valid (the JPG decodes, the MP4 probes and is whole). Everything else is
missing, with the reason: the file is absent, or what is wrong with it, and what the last
attempt said. "Download the missing again" is :func:`footage.batch.run.prepare_retry`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from footage.batch.counters import Counters, count_files
from footage.batch.model import FileStamp, RowRecord, RunOptions
from footage.batch.state import RunState
from footage.batch.validate import check_output, stamp


@dataclass(frozen=True, kw_only=True)
class MissingRow:
    row: RowRecord
    problems: dict[str, str]  # file name -> "missing" or what is wrong with it

    def to_json(self) -> dict[str, object]:
        return {**self.row.to_json(), "problems": self.problems}


@dataclass(frozen=True, kw_only=True)
class Reconciliation:
    folder: Path
    expected: int
    complete: list[RowRecord] = field(default_factory=list)
    missing: list[MissingRow] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)  # .jpg/.mp4 of no row
    counters: Counters = field(default_factory=Counters)

    def to_json(self) -> dict[str, object]:
        return {
            "folder": str(self.folder),
            "expected": self.expected,
            "complete": len(self.complete),
            "missing": [m.to_json() for m in self.missing],
            "unexpected": self.unexpected,
            "counters": self.counters.to_json(),
        }


def row_outputs(
    row: RowRecord, folder: Path, options: RunOptions
) -> tuple[dict[str, FileStamp], dict[str, str]]:
    """(valid outputs with their stamps, problems) of ``row``; no problems means complete."""
    valid: dict[str, FileStamp] = {}
    problems: dict[str, str] = {}
    for suffix in options.wants():
        name = f"{row.name}{suffix}"
        problem = check_output(folder / name, row.files.get(name))
        if problem is None:
            valid[name] = stamp(folder / name)
        else:
            problems[name] = problem
    return valid, problems


def reconcile(folder: Path) -> Reconciliation:
    """Compare the rows of the run in ``folder`` with the files there (reads only)."""
    folder = Path(folder)
    with RunState(folder, create=False, lock=False) as state:
        options = RunOptions.from_settings(state.settings())
        rows = state.rows()
    complete: list[RowRecord] = []
    missing: list[MissingRow] = []
    names: set[str] = set()
    for row in rows:
        names.update(f"{row.name}{suffix}" for suffix in (".jpg", ".mp4"))
        _, problems = row_outputs(row, folder, options)
        if problems:
            missing.append(MissingRow(row=row, problems=problems))
        else:
            complete.append(row)
    unexpected = sorted(
        path.name
        for path in folder.iterdir()
        if path.suffix.lower() in (".jpg", ".jpeg", ".mp4")
        and not path.name.startswith(".")
        and path.name not in names
    )
    return Reconciliation(
        folder=folder,
        expected=len(rows),
        complete=complete,
        missing=missing,
        unexpected=unexpected,
        counters=count_files(folder),
    )
