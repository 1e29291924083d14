"""What the generator wrote: every segment, and per camera the spans and gaps they make."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

from footage.domain import Gap, NotFound, Span
from footage.media.synth.options import SynthOptions


def iso(moment: datetime) -> str:
    """ISO 8601 in UTC with microseconds and a ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True, kw_only=True)
class WrittenSegment:
    """One file: ``end`` is ``start`` + frames / fps, to the microsecond."""

    camera_id: str
    path: Path
    start: datetime
    end: datetime


@dataclass(frozen=True, kw_only=True)
class GenerationReport:
    """The archive under ``root``; ``options`` has ``start`` and ``stamps`` settled."""

    root: Path
    options: SynthOptions
    segments: tuple[WrittenSegment, ...]

    def _of(self, camera_id: str) -> list[WrittenSegment]:
        if camera_id not in self.options.camera_ids():
            raise NotFound(
                f"no camera {camera_id!r} in this archive; it has "
                f"{', '.join(self.options.camera_ids())}"
            )
        return sorted((s for s in self.segments if s.camera_id == camera_id), key=lambda s: s.start)

    def spans(self, camera_id: str) -> list[Span]:
        """Continuous recording: segments merged where one ends exactly as the next starts."""
        spans: list[Span] = []
        for segment in self._of(camera_id):
            if spans and spans[-1].end == segment.start:
                spans[-1] = Span(start=spans[-1].start, end=segment.end)
            else:
                spans.append(Span(start=segment.start, end=segment.end))
        return spans

    def gaps(self, camera_id: str) -> list[Gap]:
        """The holes between the first start and the last end of ``camera_id``."""
        spans = self.spans(camera_id)
        return [Gap(start=a.end, end=b.start) for a, b in pairwise(spans)]

    @property
    def size(self) -> int:
        """Bytes written."""
        return sum(segment.path.stat().st_size for segment in self.segments)

    def to_json(self) -> dict[str, Any]:
        options = self.options
        cameras = options.camera_ids()
        return {
            "root": str(self.root),
            "options": {
                "cameras": options.cameras,
                "start": iso(options.start) if options.start else None,
                "duration_s": options.duration / timedelta(seconds=1),
                "segment_seconds": options.segment_seconds,
                "layout": options.layout,
                "container": options.container,
                "codec": options.codec,
                "resolution": list(options.resolution),
                "fps": options.fps,
                "gop": options.gop,
                "audio": options.audio,
                "gaps": options.gaps,
                "seed": options.seed,
                "stamps": options.stamps,
                "bitrate": options.bitrate,
            },
            "cameras": cameras,
            "segments": [
                {
                    "camera_id": s.camera_id,
                    "path": s.path.relative_to(self.root).as_posix(),
                    "start": iso(s.start),
                    "end": iso(s.end),
                }
                for s in self.segments
            ],
            "spans": {
                c: [{"start": iso(s.start), "end": iso(s.end)} for s in self.spans(c)]
                for c in cameras
            },
            "gaps": {
                c: [{"start": iso(g.start), "end": iso(g.end)} for g in self.gaps(c)]
                for c in cameras
            },
        }
