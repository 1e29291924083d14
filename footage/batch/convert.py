"""MP4 -> JPG for the clips a run has left: each row's clip becomes ``<id>.jpg``.

A row's picture is the frame shown at the row's time, so each clip is converted at the
offset recorded when it was downloaded (the first frame when none was recorded), rather
than one offset for the whole folder. A row whose picture is then valid is complete; its
clip is removed when the run asked for pictures only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from footage.batch.model import RowRecord, RowStatus, RunOptions
from footage.batch.reconcile import row_outputs
from footage.batch.state import RunState
from footage.batch.validate import check_output
from footage.domain import FootageError
from footage.media.picture import ConvertMode, convert_clip


@dataclass(frozen=True, kw_only=True)
class ConvertSummary:
    folder: Path
    converted: list[str] = field(default_factory=list)  # row ids
    failed: list[tuple[str, str]] = field(default_factory=list)  # (row id, reason)

    def to_json(self) -> dict[str, object]:
        return {
            "folder": str(self.folder),
            "converted": self.converted,
            "failed": [{"id": i, "reason": r} for i, r in self.failed],
        }


def convert_leftovers(folder: Path) -> ConvertSummary:
    """Make the missing pictures of ``folder``'s rows from the clips present."""
    folder = Path(folder)
    summary = ConvertSummary(folder=folder)
    with RunState(folder, create=False) as state:
        options = RunOptions.from_settings(state.settings())
        for row in state.rows():
            clip = folder / f"{row.name}.mp4"
            picture = folder / f"{row.name}.jpg"
            if check_output(picture, row.files.get(picture.name)) is None:
                continue
            if check_output(clip, row.files.get(clip.name)) is not None:
                continue
            try:
                mode = ConvertMode.at_offset(timedelta(seconds=row.picture_offset or 0.0))
                convert_clip(clip, mode, threads=1)
            except FootageError as exc:
                summary.failed.append((row.id, exc.message))
                continue
            summary.converted.append(row.id)
            state.record(_after(row, folder, options))
    return summary


def _after(row: RowRecord, folder: Path, options: RunOptions) -> RowRecord:
    """The row's record once its picture exists (complete if all it needs is valid)."""
    valid, problems = row_outputs(row, folder, options)
    if problems:
        return row
    if not options.clip:
        (folder / f"{row.name}.mp4").unlink(missing_ok=True)
    return row.with_(
        status=RowStatus.SUCCESS,
        reason=None,
        message="",
        vendor_code=None,
        vendor_text=None,
        files=valid,
        finished_at=datetime.now(UTC),
    )
