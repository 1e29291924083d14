"""A JPEG every N seconds over a time range, in one pass over the recording."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from footage.domain import FootageError, InvalidRequest, Segment, TimeRange
from footage.media.picture.jpeg import JpegWriter
from footage.media.picture.locate import SegmentIndex, offset_us, open_segment
from footage.media.picture.options import DEFAULT_OPTIONS, PictureFile, PictureOptions

MAX_PICTURES = 100_000
MAX_WORKERS = 4
_POLL_S = 0.05  # how often the caller's thread reports progress and asks about cancelling

log = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class SkippedPicture:
    """A moment of the series with no picture, and why (a gap, a missing or damaged file)."""

    at: datetime
    reason: str


@dataclass(frozen=True, kw_only=True)
class SeriesResult:
    pictures: list[PictureFile] = field(default_factory=list)
    skipped: list[SkippedPicture] = field(default_factory=list)
    cancelled: bool = False


def series_moments(span: TimeRange, every: timedelta) -> list[datetime]:
    """``span.start``, ``span.start + every``, ... while before ``span.end``."""
    if every <= timedelta(0):
        raise InvalidRequest(f"the interval {every} between pictures must be positive")
    count = -(-span.duration // every)
    if count > MAX_PICTURES:
        raise InvalidRequest(
            f"a picture every {every} over {span} makes {count} pictures; "
            f"the limit is {MAX_PICTURES}, so use a longer interval or a shorter range"
        )
    return [span.start + every * number for number in range(count)]


def picture_series(
    segments: Sequence[Segment],
    span: TimeRange,
    every: timedelta,
    out_dir: Path,
    options: PictureOptions = DEFAULT_OPTIONS,
    file_stem: str = "picture",
    progress: Callable[[float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
) -> list[PictureFile]:
    """The pictures written by ``run_series`` (see there); skipped moments are only logged."""
    return run_series(
        segments, span, every, out_dir, options, file_stem, progress=progress, cancel=cancel
    ).pictures


def run_series(
    segments: Sequence[Segment],
    span: TimeRange,
    every: timedelta,
    out_dir: Path,
    options: PictureOptions = DEFAULT_OPTIONS,
    file_stem: str = "picture",
    *,
    progress: Callable[[float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    workers: int | None = None,
) -> SeriesResult:
    """Write ``<file_stem>_0001.jpg`` ... into ``out_dir``: the frame shown at each moment.

    The number is the moment's place in the series (1 = ``span.start``), so a skipped moment
    leaves a hole in the numbering. Moments with no recording, or whose file is missing or
    cannot be decoded, are skipped and reported. Each segment is read once, front to back;
    up to ``workers`` segments (default: one per core, at most ``MAX_WORKERS``) are read at
    the same time by threads. ``progress`` (the fraction of moments done) and ``cancel``
    are called from the calling thread only; when ``cancel`` returns true the series stops
    within a picture per worker and the result says so (pictures already written stay).
    """
    if not file_stem or Path(file_stem).name != file_stem:
        raise InvalidRequest(f"the file stem {file_stem!r} must be a plain file name")
    moments = series_moments(span, every)
    index = SegmentIndex(segments)
    series = _Series(index, options, Path(out_dir), file_stem, len(moments))
    runs = _runs(index, moments)
    count = max(1, min(workers or os.cpu_count() or 1, MAX_WORKERS, len(runs)))
    with ThreadPoolExecutor(max_workers=count, thread_name_prefix="picture-series") as pool:
        pending: set[Future[None]] = {pool.submit(series.take, seg, run) for seg, run in runs}
        try:
            while pending:
                finished, pending = wait(pending, timeout=_POLL_S, return_when=FIRST_COMPLETED)
                for future in finished:
                    future.result()  # a failure to write (no space...) ends the series
                series.report(progress)
                if cancel is not None and not series.stopped and cancel():
                    series.stop()
        finally:
            series.stop()  # on an error, let the other workers end early too
    series.report(progress)
    return series.result()


Numbered = list[tuple[int, datetime]]


def _runs(index: SegmentIndex, moments: list[datetime]) -> list[tuple[Segment | None, Numbered]]:
    """Consecutive moments grouped by the segment holding them (None: no recording)."""
    runs: list[tuple[Segment | None, Numbered]] = []
    for number, moment in enumerate(moments, start=1):
        segment = index.at(moment)
        if runs and runs[-1][0] is segment:
            runs[-1][1].append((number, moment))
        else:
            runs.append((segment, [(number, moment)]))
    return runs


class _Series:
    """One series run, shared by its worker threads: what was written and skipped, and how
    far it got. Workers add to it under a lock; the caller's thread reads it."""

    def __init__(
        self, index: SegmentIndex, options: PictureOptions, out_dir: Path, stem: str, total: int
    ) -> None:
        self._index = index
        self._options = options
        self._out_dir = out_dir
        self._stem = stem
        self._width = max(4, len(str(total)))
        self._total = total
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._cancelled = False
        self._done = 0
        self._reported = 0
        self._pictures: list[tuple[int, PictureFile]] = []
        self._skipped: list[SkippedPicture] = []

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def stop(self) -> None:
        with self._lock:
            self._cancelled = self._cancelled or self._done < self._total
        self._stop.set()

    def report(self, progress: Callable[[float], None] | None) -> None:
        with self._lock:
            done = self._done
        if progress is not None and done > self._reported:
            self._reported = done
            progress(done / self._total)

    def result(self) -> SeriesResult:
        with self._lock:
            pictures = [picture for _, picture in sorted(self._pictures, key=lambda p: p[0])]
            skipped = sorted(self._skipped, key=lambda s: s.at)
            return SeriesResult(pictures=pictures, skipped=skipped, cancelled=self._cancelled)

    def take(self, segment: Segment | None, numbered: Numbered) -> None:
        """Write the pictures of one run of moments (in a worker thread)."""
        if self._stop.is_set():
            return
        if segment is None:
            for _, moment in numbered:
                self._skip(moment, str(self._index.not_recorded(moment)))
            return
        try:
            reader = open_segment(segment, threads=1)
        except FootageError as exc:
            for _, moment in numbered:
                self._skip(moment, exc.message)
            return
        writer = JpegWriter(self._options)
        offsets = [offset_us(segment, moment) for _, moment in numbered]
        with reader:
            for place, (number, moment) in enumerate(numbered):
                if self._stop.is_set():
                    return
                following = offsets[place + 1] if place + 1 < len(offsets) else None
                try:
                    shown = reader.shown_at(offsets[place], next_offset_us=following)
                except FootageError as exc:
                    self._skip(moment, exc.message)
                    continue
                if shown is None:
                    self._skip(moment, f"{segment.path} has no key frame at or before it")
                    continue
                path = self._out_dir / f"{self._stem}_{number:0{self._width}d}.jpg"
                shown_at = segment.start + timedelta(microseconds=shown.offset_us)
                picture = writer.write(shown.frame, path, shown_at)
                with self._lock:
                    self._pictures.append((number, picture))
                    self._done += 1

    def _skip(self, moment: datetime, reason: str) -> None:
        log.info("no picture at %s: %s", moment.isoformat(), reason)
        with self._lock:
            self._skipped.append(SkippedPicture(at=moment, reason=reason))
            self._done += 1
