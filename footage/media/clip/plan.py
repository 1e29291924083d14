"""Which segments an export reads, the window of each, where each lands, and the gaps between."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from footage.domain import Gap, InvalidRequest, NotFound, Segment, TimeRange, from_us, to_us

# Holes shorter than this between consecutive segments are recorder jitter, not gaps.
GAP_TOLERANCE_US = 250_000


@dataclass(frozen=True, kw_only=True)
class Piece:
    """The part of one segment an export uses.

    ``begin_us``/``end_us`` are the wall-clock window (µs since the epoch) to show from this
    segment; ``out_us`` is where the segment's first frame lands on the output timeline, which
    starts at the first piece's segment start and skips gaps.
    """

    segment: Segment
    begin_us: int
    end_us: int
    out_us: int
    first: bool
    last: bool
    truncated: bool  # ends early because the next segment overlaps it

    @property
    def start_us(self) -> int:
        return to_us(self.segment.start)

    @property
    def seconds(self) -> float:
        return (self.end_us - self.begin_us) / 1e6


@dataclass(frozen=True, kw_only=True)
class ClipPlan:
    camera_id: str
    requested: TimeRange
    pieces: tuple[Piece, ...]
    gaps: tuple[Gap, ...]

    @property
    def recorded_seconds(self) -> float:
        return sum(p.seconds for p in self.pieces)


def plan_clip(
    segments: Sequence[Segment], span: TimeRange, *, on_gap: str, camera: str = ""
) -> ClipPlan:
    """Choose the segments overlapping ``span``; raise ``NotFound`` when there are none."""
    lo, hi = span.start_us, span.end_us
    chosen = sorted(
        (s for s in segments if to_us(s.end) > lo and to_us(s.start) < hi),
        key=lambda s: (to_us(s.start), to_us(s.end)),
    )
    camera_id = segments[0].camera_id if segments else (camera or "unknown")
    if not chosen:
        raise NotFound(
            f"no recording of camera {camera_id} between {span.start.isoformat()} "
            f"and {span.end.isoformat()}"
        )
    pieces, gaps = _pieces(chosen, lo, hi)
    if gaps and on_gap == "fail":
        listed = ", ".join(f"{g.start.isoformat()} to {g.end.isoformat()}" for g in gaps)
        raise InvalidRequest(
            f"camera {camera_id} has no recording from {listed} within the requested range; "
            "ask for a range without gaps or allow gaps to be skipped"
        )
    return ClipPlan(camera_id=camera_id, requested=span, pieces=tuple(pieces), gaps=tuple(gaps))


def _pieces(chosen: list[Segment], lo: int, hi: int) -> tuple[list[Piece], list[Gap]]:
    kept = _drop_contained(chosen)
    gaps: list[Gap] = []
    pieces: list[Piece] = []
    first_start = to_us(kept[0].start)
    if first_start > lo + GAP_TOLERANCE_US:
        gaps.append(Gap(start=from_us(lo), end=from_us(first_start)))
    skipped = 0
    for i, seg in enumerate(kept):
        s, e = to_us(seg.start), to_us(seg.end)
        if i and s > to_us(kept[i - 1].end) + GAP_TOLERANCE_US:
            prev_end = to_us(kept[i - 1].end)
            gaps.append(Gap(start=from_us(prev_end), end=from_us(s)))
            skipped += s - prev_end
        end, truncated = min(e, hi), False
        if i + 1 < len(kept) and to_us(kept[i + 1].start) < end:
            end, truncated = to_us(kept[i + 1].start), True
        begin = max(s, lo)
        if end <= begin:
            continue
        out = s - first_start - skipped
        pieces.append(
            Piece(
                segment=seg,
                begin_us=begin,
                end_us=end,
                out_us=out,
                first=not pieces,
                last=False,
                truncated=truncated,
            )
        )
    last_end = to_us(kept[-1].end)
    if last_end < hi - GAP_TOLERANCE_US:
        gaps.append(Gap(start=from_us(last_end), end=from_us(hi)))
    pieces[-1] = replace(pieces[-1], last=True, truncated=False)
    return pieces, gaps


def _drop_contained(chosen: list[Segment]) -> list[Segment]:
    """Drop segments lying wholly inside an earlier one (duplicate recordings)."""
    kept: list[Segment] = []
    reach = None
    for seg in chosen:
        end = to_us(seg.end)
        if reach is not None and end <= reach:
            continue
        kept.append(seg)
        reach = end
    return kept
