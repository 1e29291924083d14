"""``generate``: write a synthetic recorded archive, using every core where it helps.

``exact`` stamps encode every segment (segments are shared out to worker processes).
``loop`` stamps encode one template segment per camera (cameras shared out to processes),
then write every other full segment as a kernel copy of it and every shorter one (cut by an
outage or the end) as a remux of its first frames.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import (
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    as_completed,
)
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from pathlib import Path

from footage.domain import from_us
from footage.media.synth.draw import FrameRenderer
from footage.media.synth.options import SynthOptions, resolve
from footage.media.synth.plan import PlannedSegment, Stretch, plan_archive
from footage.media.synth.report import GenerationReport, WrittenSegment
from footage.media.synth.writer import EncodeSettings, copy_file, encode_stretch, remux_prefix

Progress = Callable[[int, int], None]

#: Below this many frames in all, exact mode encodes in this process (no pool start-up).
_POOL_MIN_FRAMES = 1_000
_COPY_THREADS = 4


@dataclass(frozen=True, slots=True, kw_only=True)
class _Job:
    final: Path
    settings: EncodeSettings
    stretch: Stretch


_RendererKey = tuple[str, int, int, int, bool]


def _encode(job: _Job, renderers: dict[_RendererKey, FrameRenderer]) -> None:
    s = job.stretch
    key = (s.camera_id, s.camera_index, job.settings.width, job.settings.height, s.loop)
    renderer = renderers.get(key)
    if renderer is None:
        renderer = renderers[key] = FrameRenderer(
            camera_id=s.camera_id,
            camera_index=s.camera_index,
            width=job.settings.width,
            height=job.settings.height,
            loop=s.loop,
        )
    encode_stretch(job.final, job.settings, renderer, s)


@lru_cache(maxsize=1)
def _worker_renderers() -> dict[_RendererKey, FrameRenderer]:
    """The renderers of this worker process (each draws its static scene once)."""
    return {}


def _encode_in_worker(job: _Job) -> None:
    _encode(job, _worker_renderers())


def _settings(options: SynthOptions, threads: int) -> EncodeSettings:
    width, height = options.resolution
    return EncodeSettings(
        container=options.container,
        codec=options.codec,
        width=width,
        height=height,
        fps=options.fps,
        gop=options.gop,
        bitrate=options.bitrate,
        audio=options.audio,
        threads=threads,
    )


class _Counter:
    def __init__(self, total: int, progress: Progress | None) -> None:
        self.done, self.total, self._progress = 0, total, progress

    def add(self, count: int = 1) -> None:
        self.done += count
        if self._progress is not None:
            self._progress(self.done, self.total)


def _pool(workers: int) -> ProcessPoolExecutor:
    return ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("forkserver")
    )


def _drain(futures: list[Future[None]], counter: _Counter) -> None:
    """Wait for ``futures``, counting each; the first failure cancels the rest and is raised."""
    try:
        for future in as_completed(futures):
            future.result()
            counter.add()
    except BaseException:
        for future in futures:
            future.cancel()
        raise


def _encode_all(jobs: list[_Job], workers: int, counter: _Counter) -> None:
    if workers <= 1 or len(jobs) <= 1:
        renderers: dict[_RendererKey, FrameRenderer] = {}
        for job in jobs:
            _encode(job, renderers)
            counter.add()
        return
    with _pool(min(workers, len(jobs))) as executor:
        _drain([executor.submit(_encode_in_worker, job) for job in jobs], counter)


def _write_exact(
    root: Path,
    options: SynthOptions,
    planned: list[PlannedSegment],
    workers: int,
    counter: _Counter,
) -> None:
    # One encoder thread each: segments run in parallel instead, and the bytes do not depend
    # on how many workers there were.
    settings = _settings(options, threads=1)
    jobs = [_Job(final=root / p.relpath, settings=settings, stretch=p.stretch) for p in planned]
    _encode_all(jobs, workers, counter)


def _write_loop(
    root: Path,
    options: SynthOptions,
    planned: list[PlannedSegment],
    workers: int,
    counter: _Counter,
) -> None:
    templates: dict[str, PlannedSegment] = {}
    for segment in planned:
        best = templates.get(segment.camera_id)
        if best is None or segment.stretch.frames > best.stretch.frames:
            templates[segment.camera_id] = segment
    busy = min(workers, len(templates))
    settings = _settings(options, 1 if busy > 1 else 0)
    jobs = [
        _Job(final=root / t.relpath, settings=settings, stretch=replace(t.stretch, loop=True))
        for t in templates.values()
    ]
    _encode_all(jobs, busy, counter)
    chosen = {id(t) for t in templates.values()}
    calls: list[partial[None]] = []
    for segment in planned:
        if id(segment) in chosen:
            continue
        template = templates[segment.camera_id]
        source, final = root / template.relpath, root / segment.relpath
        if segment.stretch.frames == template.stretch.frames:
            calls.append(partial(copy_file, source, final))
        else:
            frames = segment.stretch.frames
            calls.append(
                partial(remux_prefix, source, final, frames, options.fps, options.container)
            )
    with ThreadPoolExecutor(max_workers=_COPY_THREADS) as executor:
        _drain([executor.submit(call) for call in calls], counter)


def generate(
    root: Path,
    options: SynthOptions,
    progress: Progress | None = None,
    *,
    workers: int | None = None,
) -> GenerationReport:
    """Write the archive ``options`` describe under ``root`` and report what was written.

    ``progress(done, total)`` is called after each segment. ``workers`` caps the processes
    used (default: one per core, and none for tiny exact archives); workers are started with
    the ``forkserver`` method, so a script calling this must guard its entry point with
    ``if __name__ == "__main__":`` (or pass ``workers=1``). Raises InvalidRequest for bad
    options and MediaError if a file cannot be written.
    """
    settled = resolve(options)
    planned = plan_archive(settled)
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    if workers is None:
        workers = os.cpu_count() or 1
        if settled.stamps == "exact" and sum(p.stretch.frames for p in planned) < _POOL_MIN_FRAMES:
            workers = 1
    counter = _Counter(len(planned), progress)
    if settled.stamps == "exact":
        _write_exact(root, settled, planned, workers, counter)
    else:
        _write_loop(root, settled, planned, workers, counter)
    segments = tuple(
        WrittenSegment(
            camera_id=p.camera_id,
            path=root / p.relpath,
            start=from_us(p.stretch.start_us),
            end=from_us(p.stretch.end_us),
        )
        for p in planned
    )
    return GenerationReport(root=root, options=settled, segments=segments)
