"""Which segment holds a moment, and the errors for moments no segment holds."""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from footage.domain import InvalidRequest, NotFound, Segment, SourceUnavailable, to_us
from footage.media.picture.reader import FrameReader


class SegmentIndex:
    """The segments of one camera, searchable by moment (``start <= at < end``).

    Where segments overlap, the one that started last holds the moment.
    """

    def __init__(self, segments: Sequence[Segment]) -> None:
        cameras = sorted({segment.camera_id for segment in segments})
        if len(cameras) > 1:
            raise InvalidRequest(f"segments of several cameras ({', '.join(cameras)}) were given")
        self.camera = cameras[0] if cameras else "(none)"
        self._segments = sorted(segments, key=lambda segment: (segment.start, segment.end))
        self._starts = [segment.start for segment in self._segments]
        self._ends_so_far = list(itertools.accumulate((s.end for s in self._segments), max))

    def at(self, moment: datetime) -> Segment | None:
        index = bisect.bisect_right(self._starts, moment) - 1
        while index >= 0 and self._ends_so_far[index] > moment:
            if self._segments[index].end > moment:
                return self._segments[index]
            index -= 1
        return None

    def not_recorded(self, moment: datetime) -> NotFound:
        """The error for a moment no segment holds, saying where the nearest recordings are."""
        message = f"no recording of camera {self.camera} at {moment.isoformat()}"
        index = bisect.bisect_right(self._starts, moment)
        hints = []
        if index > 0:
            hints.append(f"the recording before ends at {self._ends_so_far[index - 1].isoformat()}")
        if index < len(self._segments):
            hints.append(f"the next begins at {self._starts[index].isoformat()}")
        return NotFound(f"{message} ({'; '.join(hints)})" if hints else message)


def offset_us(segment: Segment, moment: datetime) -> int:
    """Microseconds from the segment's first frame to ``moment``."""
    return to_us(moment) - to_us(segment.start)


def open_segment(segment: Segment, *, threads: int = 0) -> FrameReader:
    """A reader of the segment's file; a missing file is named with its camera and time."""
    try:
        return FrameReader(Path(segment.path), threads=threads)
    except SourceUnavailable as exc:
        raise SourceUnavailable(
            f"the recording of camera {segment.camera_id} from {segment.start.isoformat()} "
            f"is unavailable: {exc.message}"
        ) from exc
