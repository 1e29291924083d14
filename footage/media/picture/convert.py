"""MP4 -> JPG for a folder of clips: first frame, frame at an offset, or every N seconds.

Clips are converted side by side in worker processes (one per core by default); a clip
that cannot be converted becomes one failed entry with a readable reason and the rest go on.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from footage.domain import FootageError, InvalidRequest, MediaError, NotFound
from footage.media.picture.jpeg import JpegWriter
from footage.media.picture.options import DEFAULT_OPTIONS, PictureOptions
from footage.media.picture.reader import FrameReader

CLIP_SUFFIXES = (".mp4",)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class ConvertKind(StrEnum):
    FIRST = "first"  # the clip's first decodable frame -> <stem>.jpg
    OFFSET = "offset"  # the frame shown at an offset into the clip -> <stem>.jpg
    EVERY = "every"  # a frame every N seconds -> <stem>_0001.jpg, <stem>_0002.jpg, ...


@dataclass(frozen=True, kw_only=True)
class ConvertMode:
    """Which frames of each clip become pictures; build with the class methods."""

    kind: ConvertKind
    offset: timedelta = timedelta(0)
    every: timedelta | None = None

    def __post_init__(self) -> None:
        if self.offset < timedelta(0):
            raise InvalidRequest(f"the offset {self.offset} into a clip cannot be negative")
        if self.kind is ConvertKind.EVERY and (self.every is None or self.every <= timedelta(0)):
            raise InvalidRequest("a picture every N seconds needs a positive N")

    @classmethod
    def first_frame(cls) -> ConvertMode:
        return cls(kind=ConvertKind.FIRST)

    @classmethod
    def at_offset(cls, offset: timedelta) -> ConvertMode:
        return cls(kind=ConvertKind.OFFSET, offset=offset)

    @classmethod
    def periodic(cls, every: timedelta) -> ConvertMode:
        return cls(kind=ConvertKind.EVERY, every=every)


@dataclass(frozen=True, kw_only=True)
class ConvertReport:
    """Each converted clip with its pictures, and each failed clip with the reason."""

    converted: list[tuple[Path, list[Path]]] = field(default_factory=list)
    failed: list[tuple[Path, str]] = field(default_factory=list)


def convert_clip(
    clip: Path, mode: ConvertMode, options: PictureOptions = DEFAULT_OPTIONS, *, threads: int = 0
) -> list[Path]:
    """Write the pictures ``mode`` asks for next to ``clip``; raises ``FootageError``."""
    writer = JpegWriter(options)
    with FrameReader(clip, threads=threads) as reader:
        offsets = _offsets(clip, mode, reader.duration_us)
        if mode.kind is ConvertKind.EVERY:
            paths = [clip.with_name(f"{clip.stem}_{n:04d}.jpg") for n in range(1, len(offsets) + 1)]
        else:
            paths = [clip.with_suffix(".jpg")]
        following = [*offsets[1:], None]
        for offset, next_offset, path in zip(offsets, following, paths, strict=True):
            shown = reader.shown_at(offset, next_offset_us=next_offset)
            if shown is None and mode.kind is ConvertKind.FIRST:
                first_key = reader.first_key_offset_us()  # the clip starts mid-GOP
                shown = None if first_key is None else reader.shown_at(first_key)
            if shown is None:
                raise MediaError(f"{clip} has no decodable video frame at {offset / 1e6:g} s")
            writer.write(shown.frame, path, _EPOCH + timedelta(microseconds=shown.offset_us))
    return paths


def _offsets(clip: Path, mode: ConvertMode, duration_us: int | None) -> list[int]:
    if mode.kind is ConvertKind.FIRST:
        return [0]
    if duration_us is None:
        raise MediaError(f"{clip} does not say how long it is; damaged?")
    if duration_us <= 0:
        raise MediaError(f"{clip} has no video frames")
    if mode.kind is ConvertKind.OFFSET:
        offset = _us(mode.offset)
        if offset >= duration_us:
            raise MediaError(
                f"{clip} is {duration_us / 1e6:g} s long; "
                f"the offset {offset / 1e6:g} s is past its end"
            )
        return [offset]
    assert mode.every is not None
    step = _us(mode.every)
    return list(range(0, duration_us, step))


def _us(value: timedelta) -> int:
    return (value.days * 86_400 + value.seconds) * 1_000_000 + value.microseconds


def find_clips(
    folder: Path, *, recursive: bool, suffixes: Iterable[str] = CLIP_SUFFIXES
) -> list[Path]:
    """The clips in ``folder`` (and below it when ``recursive``), sorted; hidden files skipped."""
    if not folder.is_dir():
        raise NotFound(f"folder {folder} does not exist or is not a folder")
    wanted = {suffix.lower() for suffix in suffixes}
    candidates = folder.rglob("*") if recursive else folder.iterdir()
    return sorted(
        path
        for path in candidates
        if path.suffix.lower() in wanted and not path.name.startswith(".") and path.is_file()
    )


def convert_folder(
    folder: Path,
    mode: ConvertMode,
    *,
    options: PictureOptions = DEFAULT_OPTIONS,
    workers: int | None = None,
    recursive: bool = False,
    progress: Callable[[float], None] | None = None,
    suffixes: Iterable[str] = CLIP_SUFFIXES,
) -> ConvertReport:
    """Convert every clip in ``folder``; ``workers`` processes (default: one per core).

    With one worker the clips are converted in this process. ``progress`` gets the fraction
    of clips done. Results are in clip order.
    """
    clips = find_clips(Path(folder), recursive=recursive, suffixes=suffixes)
    count = min(workers or os.cpu_count() or 1, len(clips))
    outcomes: dict[Path, _Outcome] = {}
    tick = _Ticker(len(clips), progress)
    if count <= 1:
        for clip in clips:
            outcomes[clip] = _convert_one(clip, mode, options, 0)
            tick()
    else:
        crashed = _convert_in_pool(clips, mode, options, count, outcomes, tick)
        for clip in crashed:  # one at a time, so a clip that kills its worker is singled out
            if _convert_in_pool([clip], mode, options, 1, outcomes, tick):
                outcomes[clip] = (None, "the worker process converting it crashed; damaged file?")
                tick()
    report = ConvertReport()
    for clip in clips:
        paths, reason = outcomes[clip]
        if paths is not None:
            report.converted.append((clip, paths))
        else:
            report.failed.append((clip, reason or "unknown failure"))
    return report


_Outcome = tuple[list[Path] | None, str | None]


class _Ticker:
    def __init__(self, total: int, progress: Callable[[float], None] | None) -> None:
        self._total = total
        self._done = 0
        self._progress = progress

    def __call__(self) -> None:
        self._done += 1
        if self._progress is not None:
            self._progress(self._done / self._total)


def _convert_in_pool(
    clips: list[Path],
    mode: ConvertMode,
    options: PictureOptions,
    workers: int,
    outcomes: dict[Path, _Outcome],
    tick: Callable[[], None],
) -> list[Path]:
    """Convert ``clips`` in a pool of ``workers`` processes; returns those lost to a crash."""
    crashed: list[Path] = []
    context = multiprocessing.get_context("spawn")  # no fork of a threaded server process
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures: dict[Future[_Outcome], Path] = {
            pool.submit(_convert_one, clip, mode, options, 1): clip for clip in clips
        }
        for future in as_completed(futures):
            clip = futures[future]
            try:
                outcomes[clip] = future.result()
            except BrokenProcessPool:
                crashed.append(clip)
                continue
            tick()
    return sorted(crashed)


def _convert_one(clip: Path, mode: ConvertMode, options: PictureOptions, threads: int) -> _Outcome:
    try:
        return convert_clip(clip, mode, options, threads=threads), None
    except FootageError as exc:
        return None, exc.message
    except Exception as exc:  # one clip's surprise must not stop the others
        return None, f"unexpected {type(exc).__name__}: {exc}"
