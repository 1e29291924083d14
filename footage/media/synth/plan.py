"""Deciding what to write: outages (gaps) per camera and the segments between them.

All times are integer microseconds since the epoch. A *run* is a stretch of continuous
recording; it is cut into segments of ``segment_seconds`` and its last segment is cut short
where the run ends (an outage or the end of the archive). Frame ``n`` of a run starting at
``base_us`` is shown at ``base_us + n / fps`` (rounded to the microsecond), so consecutive
segments meet exactly.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import PurePosixPath

from footage.archive.local.layout import get_layout
from footage.domain import from_us, to_us
from footage.media.synth.options import SynthOptions, segment_frames

_SECOND = 1_000_000
_MAX_OUTAGES = 8


@dataclass(frozen=True, slots=True, kw_only=True)
class Stretch:
    """What one encoded file shows: ``frames`` frames of a run that starts at ``base_us``."""

    camera_id: str
    camera_index: int
    base_us: int  # time of frame 0 of the run this stretch belongs to
    first_frame: int  # index of this stretch's first frame in that run
    frames: int
    fps: int
    loop: bool = False

    def frame_us(self, index: int) -> int:
        """Wall-clock microseconds of frame ``index`` of this stretch (``frames`` = its end)."""
        n = self.first_frame + index
        return self.base_us + (2 * n * _SECOND + self.fps) // (2 * self.fps)

    @property
    def start_us(self) -> int:
        return self.frame_us(0)

    @property
    def end_us(self) -> int:
        return self.frame_us(self.frames)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedSegment:
    relpath: PurePosixPath
    stretch: Stretch

    @property
    def camera_id(self) -> str:
        return self.stretch.camera_id


def _outage_seconds(kind: int, segment_s: float, rng: random.Random) -> int:
    if kind == 0:  # shorter than a segment
        return max(1, int(segment_s * rng.uniform(0.2, 0.8)))
    if kind == 1:  # spanning several segments
        return max(2, int(segment_s * rng.uniform(1.5, 4.0)))
    return max(1, int(segment_s * rng.uniform(0.8, 1.6)))


def outages(options: SynthOptions, camera_index: int) -> list[tuple[int, int]]:
    """Deterministic outages ``[(start_us, end_us), ...]`` of one camera, on whole seconds.

    Each keeps at least one segment of recording before the first and after the last; their
    lengths vary from a second up to a few segments. None when ``gaps`` is off or the
    archive is shorter than four segments (or 20 s).
    """
    assert options.start is not None
    start_us = to_us(options.start)
    total = to_us(options.start + options.duration) - start_us
    segment_us = round(options.segment_seconds * _SECOND)
    if not options.gaps or total < max(4 * segment_us, 20 * _SECOND):
        return []
    rng = random.Random(f"footage-synth:{options.seed}:{camera_index}")
    low, high = start_us + segment_us, start_us + total - segment_us
    count = min(_MAX_OUTAGES, rng.randint(1, 2) + total // (4 * 3600 * _SECOND))
    slot = (high - low) // count
    kinds = [(rng.randrange(3) + i) % 3 for i in range(count)]
    found: list[tuple[int, int]] = []
    for i, kind in enumerate(kinds):
        slot_start, slot_end = low + i * slot, low + (i + 1) * slot
        length = min(_outage_seconds(kind, options.segment_seconds, rng), slot // 2 // _SECOND)
        first = -(-slot_start // _SECOND)
        last = (slot_end // _SECOND) - length - 1
        if length < 1 or last < first:
            continue
        begin = rng.randint(first, last) * _SECOND
        found.append((begin, begin + length * _SECOND))
    return found


def runs(options: SynthOptions, camera_index: int) -> list[tuple[int, int]]:
    """The stretches ``[(start_us, end_us), ...]`` a camera records, between its outages."""
    assert options.start is not None
    start_us = to_us(options.start)
    end_us = to_us(options.start + options.duration)
    result: list[tuple[int, int]] = []
    cursor = start_us
    for begin, end in outages(options, camera_index):
        result.append((cursor, begin))
        cursor = end
    result.append((cursor, end_us))
    return result


def plan_archive(options: SynthOptions) -> list[PlannedSegment]:
    """Every segment to write, camera by camera in time order (``options`` resolved)."""
    layout = get_layout(options.layout)
    per_segment = segment_frames(options)
    planned: list[PlannedSegment] = []
    for camera_index, camera_id in enumerate(options.camera_ids(), start=1):
        for run_start, run_end in runs(options, camera_index):
            frames = (run_end - run_start) * options.fps // _SECOND
            for first in range(0, frames, per_segment):
                stretch = Stretch(
                    camera_id=camera_id,
                    camera_index=camera_index,
                    base_us=run_start,
                    first_frame=first,
                    frames=min(per_segment, frames - first),
                    fps=options.fps,
                )
                rel = layout.relpath(camera_id, from_us(stretch.start_us), options.extension)
                planned.append(PlannedSegment(relpath=rel, stretch=stretch))
    return planned
