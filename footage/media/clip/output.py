"""Output files: temporary names while written, validation, renaming, and cleanup."""

from __future__ import annotations

import contextlib
from pathlib import Path

import av
import av.container

from footage.domain import MediaError, NoSpace
from footage.durable import publish
from footage.media.clip.options import ClipOptions


class OutputSet:
    """The files of one export: written under ``.<name>.part`` names in ``out_dir`` and
    renamed to ``<stem>.<ext>`` (or ``<stem>_001.<ext>``, ...) only when all are valid."""

    def __init__(self, out_dir: Path, options: ClipOptions) -> None:
        self._dir = out_dir
        self._stem = options.file_stem
        self._ext = options.format
        self._temps: list[Path] = []
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise NoSpace(f"cannot create the output folder {out_dir}: {exc}") from exc

    def new_temp(self) -> Path:
        path = self._dir / f".{self._stem}_{len(self._temps) + 1:03d}.{self._ext}.part"
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        self._temps.append(path)
        return path

    def final_names(self, count: int) -> list[Path]:
        if count == 1:
            return [self._dir / f"{self._stem}.{self._ext}"]
        return [self._dir / f"{self._stem}_{i:03d}.{self._ext}" for i in range(1, count + 1)]

    def publish(self, temps: list[Path]) -> list[Path]:
        """Rename ``temps`` (already on the disk) to their final names, durably."""
        finals = self.final_names(len(temps))
        publish(list(zip(temps, finals, strict=True)), synced=True)
        self._temps = [t for t in self._temps if t not in temps]
        return finals

    def discard(self) -> None:
        """Remove every temporary file (after an error or a cancel)."""
        for path in self._temps:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        self._temps = []


def validate(path: Path) -> tuple[str, int, int]:
    """Probe ``path`` with PyAV: a video stream whose first packet is a key frame and whose
    last frames decode. Returns (codec, width, height)."""
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            first = next(p for p in container.demux(stream) if p.size)
            if not first.is_keyframe:
                raise MediaError(f"the clip {path.name} does not start with a key frame")
            ctx = stream.codec_context
            info = (ctx.name, ctx.width, ctx.height)
            if not _decode_tail(container, stream):
                raise MediaError(f"the last frames of {path.name} do not decode")
            return info
    except (av.error.FFmpegError, StopIteration, IndexError) as exc:
        raise MediaError(f"the written clip {path.name} is not valid: {exc}") from exc


def _decode_tail(container: av.container.InputContainer, stream: av.stream.Stream) -> bool:
    """Seek to the last key frame and decode to the end."""
    tb = stream.time_base
    if tb is None:
        return False
    end = stream.duration
    if end is None and container.duration is not None:
        end = int(container.duration / av.time_base / tb)
    target = (stream.start_time or 0) + (end or 0)
    stream.codec_context.thread_type = "AUTO"
    for back in (0, 10, 60):
        try:
            container.seek(max(target - int(back / tb), 0), stream=stream)
        except av.error.FFmpegError:
            continue
        frames = 0
        for packet in container.demux(stream):
            frames += len(packet.decode())
        if frames:
            return True
    return False
