"""The clip export entry point: plan, then the bulk MP4 path or the PyAV packet path."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from footage.domain import MediaError, NotFound, Segment, SourceUnavailable, TimeRange, from_us
from footage.durable import Flusher
from footage.media.clip.assemble import PieceCut, cut_piece, group_files
from footage.media.clip.cancel import CancelToken
from footage.media.clip.digest import FollowingDigest
from footage.media.clip.mp4_boxes import BoxError
from footage.media.clip.mp4_layout import layout_file
from footage.media.clip.mp4_moov import MovieInfo
from footage.media.clip.mp4_samples import Mp4Media, read_mp4
from footage.media.clip.mp4_writer import write_mp4
from footage.media.clip.options import ClipOptions, ClipResult, OutputFile
from footage.media.clip.output import OutputSet, validate
from footage.media.clip.plan import ClipPlan, plan_clip
from footage.media.clip.remux import Remuxer

_MP4_CONTAINERS = {"mp4", "fmp4", "mov", "m4v"}

log = logging.getLogger(__name__)


class _Stages:
    """Wall time of each stage of the bulk path, logged at DEBUG (``stage``, ``seconds``)."""

    def __init__(self) -> None:
        self._at = time.perf_counter()

    def done(self, stage: str) -> None:
        now = time.perf_counter()
        if log.isEnabledFor(logging.DEBUG):
            extra = {"stage": stage, "seconds": now - self._at}
            log.debug("clip stage %s took %.3f s", stage, now - self._at, extra=extra)
        self._at = now


@dataclass(frozen=True, kw_only=True)
class _Written:
    temp: Path
    sha256: str
    first_us: int
    last_us: int
    codec: str
    width: int
    height: int


class _Progress:
    """Turns recorded seconds done into a 0-100 % callback, never going backwards."""

    def __init__(self, callback: Callable[[float], None] | None, total: float) -> None:
        self._callback = callback
        self._total = max(total, 1e-9)
        self._base = 0.0
        self._last = -1.0

    def at(self, seconds: float) -> None:
        pct = min(100.0, 100.0 * (self._base + seconds) / self._total)
        if self._callback is not None and pct > self._last:
            self._last = pct
            self._callback(pct)

    def advance(self, seconds: float) -> None:
        self._base += seconds


def export_clip(
    segments: Sequence[Segment],
    span: TimeRange,
    out_dir: Path,
    options: ClipOptions,
    progress: Callable[[float], None] | None = None,
    cancel: CancelToken | None = None,
) -> ClipResult:
    """Export ``span`` of one camera's ``segments`` into ``out_dir`` by stream copy."""
    token = cancel or CancelToken()
    plan = plan_clip(segments, span, on_gap=options.on_gap, camera=options.camera_name)
    for piece in plan.pieces:
        if not os.path.isfile(piece.segment.path):
            raise SourceUnavailable(
                f"segment file {piece.segment.path} of camera {plan.camera_id} is missing; "
                "it may have been deleted by retention"
            )
    outputs = OutputSet(out_dir, options)
    reporter = _Progress(progress, plan.recorded_seconds)
    try:
        token.check()
        stages = _Stages()
        medias = _bulk_sources(plan, options, token)
        if medias is not None:
            stages.done("parse")
            written = _bulk(plan, medias, options, outputs, token, reporter, stages)
        else:
            written = _packets(plan, options, outputs, token, reporter)
        token.check()
        finals = outputs.publish([w.temp for w in written])
    except BaseException:
        outputs.discard()
        raise
    reporter.at(plan.recorded_seconds)
    files = tuple(_output_file(w, f, options) for w, f in zip(written, finals, strict=True))
    return ClipResult(
        files=files,
        gaps=plan.gaps,
        requested=span,
        recorded_seconds=plan.recorded_seconds,
    )


def _output_file(w: _Written, final: Path, options: ClipOptions) -> OutputFile:
    return OutputFile(
        path=final,
        size=final.stat().st_size,
        sha256=w.sha256,
        mime_type=options.mime_type,
        first_ts=from_us(w.first_us),
        last_ts=from_us(w.last_us),
        video_codec=w.codec,
        width=w.width,
        height=w.height,
    )


def _bulk_sources(
    plan: ClipPlan, options: ClipOptions, cancel: CancelToken
) -> list[Mp4Media] | None:
    """Sample tables of every piece when the bulk MP4 path applies, else ``None``."""
    if options.format != "mp4":
        return None
    if any(p.segment.container.lower() not in _MP4_CONTAINERS for p in plan.pieces):
        return None
    medias = []
    for piece in plan.pieces:
        cancel.check()
        try:
            medias.append(read_mp4(Path(piece.segment.path)))
        except (BoxError, ValueError, IndexError):
            return None  # an MP4 this reader does not follow: let FFmpeg read it
        except FileNotFoundError as exc:
            raise SourceUnavailable(f"segment file {piece.segment.path} is missing") from exc
        except OSError as exc:
            raise MediaError(f"cannot read segment {piece.segment.path}: {exc}") from exc
    return medias


def _bulk(
    plan: ClipPlan,
    medias: list[Mp4Media],
    options: ClipOptions,
    outputs: OutputSet,
    cancel: CancelToken,
    reporter: _Progress,
    stages: _Stages,
) -> list[_Written]:
    cuts: list[PieceCut] = []
    for piece, media in zip(plan.pieces, medias, strict=True):
        cut = cut_piece(piece, media, exact=options.exact, audio=options.audio)
        if cut is not None:
            cuts.append(cut)
    if not cuts:
        raise NotFound(f"no decodable picture of camera {plan.camera_id} in {plan.requested}")
    groups = group_files(cuts, options.max_file_size)
    written = []
    for i, group in enumerate(groups):
        cancel.check()
        layout = layout_file(group, final=i == len(groups) - 1)
        info = MovieInfo(
            created=from_us(layout.first_us), title=options.camera_name, comment=options.comment
        )
        temp = outputs.new_temp()
        stages.done("layout")
        digest, flusher = write_mp4(temp, layout, info, cancel=cancel, progress=reporter.at)
        reporter.advance(float(layout.copies.seconds.sum()))
        stages.done("copy")
        codec, width, height, sha256 = _finish(temp, digest, flusher, stages)
        written.append(
            _Written(
                temp=temp,
                sha256=sha256,
                first_us=layout.first_us,
                last_us=layout.last_us,
                codec=codec,
                width=width,
                height=height,
            )
        )
    return written


def _packets(
    plan: ClipPlan,
    options: ClipOptions,
    outputs: OutputSet,
    cancel: CancelToken,
    reporter: _Progress,
) -> list[_Written]:
    remuxer = Remuxer(plan, options, outputs.new_temp, cancel, reporter.at)
    written = []
    for f in remuxer.run():
        cancel.check()
        digest = FollowingDigest(f.path, f.path.stat().st_size, cancel)
        digest.advance(f.path.stat().st_size)
        flusher = Flusher(f.path)
        flusher.finish()
        codec, width, height, sha256 = _finish(f.path, digest, flusher, None)
        written.append(
            _Written(
                temp=f.path,
                sha256=sha256,
                first_us=f.first_us,
                last_us=f.last_us,
                codec=codec,
                width=width,
                height=height,
            )
        )
    return written


def _finish(
    path: Path, digest: FollowingDigest, flusher: Flusher, stages: _Stages | None
) -> tuple[str, int, int, str]:
    """Validate a written file on this thread while ``digest`` hashes it on another and
    ``flusher`` puts it on the disk on a third; (codec, width, height, SHA-256) once all three
    are done. The file is published only after this, so its name never points at bytes that
    a crash could still lose."""
    try:
        codec, width, height = validate(path)
    except BaseException:
        digest.abort()
        flusher.abort()
        raise
    finally:
        if stages is not None:
            stages.done("validate")
    sha256 = digest.hexdigest()
    if stages is not None:
        stages.done("hash tail")
    flusher.wait()
    if stages is not None:
        stages.done("flush tail")
    return codec, width, height, sha256
