"""Delete the files of a run: its outputs, its temporary files and its state.

Only what the run made is touched: ``<id>.jpg``/``<id>.mp4`` of its rows, hidden temporary
files, the state and lock files. Anything else found in the folder is kept and reported,
and the folder itself goes only when it ends up empty.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from footage.batch.state import LOCK_FILE, STATE_FILE, RunState

TEMP_SUFFIXES = (".part", ".raw", ".piece", ".tmp")


@dataclass(frozen=True, kw_only=True)
class DeleteReport:
    folder: Path
    removed: int = 0
    bytes: int = 0
    kept: list[str] = field(default_factory=list)  # files footage did not make
    folder_removed: bool = False

    def to_json(self) -> dict[str, object]:
        return {
            "folder": str(self.folder),
            "removed": self.removed,
            "bytes": self.bytes,
            "kept": self.kept,
            "folder_removed": self.folder_removed,
        }


def is_temporary(path: Path) -> bool:
    """A hidden file a writer leaves while working (``.x.mp4.part``, ``.x.jpg.123.tmp``)."""
    return path.name.startswith(".") and path.name.endswith(TEMP_SUFFIXES)


def remove_temporary(folder: Path) -> int:
    """Remove the temporary files a killed run left behind; returns how many."""
    removed = 0
    if not folder.is_dir():
        return 0
    for path in folder.iterdir():
        if path.is_file() and is_temporary(path):
            path.unlink(missing_ok=True)
            removed += 1
    return removed


def delete_run(folder: Path) -> DeleteReport:
    """Delete every file the run in ``folder`` made (raises ``NotFound`` if none ran there)."""
    folder = Path(folder)
    with RunState(folder, create=False) as state:
        names = {f"{row.name}{suffix}" for row in state.rows() for suffix in (".jpg", ".mp4")}
    removed = size = 0
    kept = []
    ours = {STATE_FILE, f"{STATE_FILE}-wal", f"{STATE_FILE}-shm", f"{STATE_FILE}-journal"}
    for path in sorted(folder.iterdir()):
        if not path.is_file():
            kept.append(path.name + "/")
            continue
        if path.name in names or path.name in ours or is_temporary(path):
            size += path.stat().st_size
            path.unlink(missing_ok=True)
            removed += 1
        elif path.name != LOCK_FILE:
            kept.append(path.name)
    (folder / LOCK_FILE).unlink(missing_ok=True)
    gone = False
    if not any(folder.iterdir()):
        folder.rmdir()
        gone = True
    return DeleteReport(folder=folder, removed=removed, bytes=size, kept=kept, folder_removed=gone)
