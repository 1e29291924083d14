"""One JPEG of the frame shown at a given moment."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path

from footage.domain import NotFound, Segment, ensure_utc
from footage.media.picture.jpeg import JpegWriter
from footage.media.picture.locate import SegmentIndex, offset_us, open_segment
from footage.media.picture.options import DEFAULT_OPTIONS, PictureFile, PictureOptions


def picture_at(
    segments: Sequence[Segment],
    at: datetime,
    out_path: Path,
    options: PictureOptions = DEFAULT_OPTIONS,
) -> PictureFile:
    """Write to ``out_path`` a JPEG of the frame shown at ``at``: the last frame at or before it.

    Raises ``NotFound`` when no segment holds ``at``, ``SourceUnavailable`` when the segment's
    file is missing and ``MediaError`` when it cannot be decoded.
    """
    at = ensure_utc(at)
    index = SegmentIndex(segments)
    segment = index.at(at)
    if segment is None:
        raise index.not_recorded(at)
    with open_segment(segment) as reader:
        shown = reader.shown_at(offset_us(segment, at))
        if shown is None:
            raise NotFound(
                f"no decodable picture of camera {index.camera} at {at.isoformat()}: "
                f"{segment.path} has no key frame at or before it"
            )
        shown_at = segment.start + timedelta(microseconds=shown.offset_us)
        return JpegWriter(options).write(shown.frame, Path(out_path), shown_at)
