"""Exports are on the disk before they are published, and a full disk loses nothing.

The order of the system calls is watched (a power cut cannot be staged here); the full disk
is real: a small tmpfs mounted for the test (root only; skipped where mounting is refused)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from footage.domain import NoSpace, Segment, TimeRange
from footage.media.clip import ClipOptions, export_clip
from tests.helpers.clips import at, export, synth


@pytest.fixture(scope="module")
def segments(tmp_path_factory: pytest.TempPathFactory) -> list[Segment]:
    """20 s of 640x360 at 25 fps in 5 s segments (about 290 KB)."""
    root = tmp_path_factory.mktemp("durable")
    return synth(root, seconds=20.0, segment=5.0, resolution=(640, 360), fps=25)


def test_every_file_is_flushed_before_its_name_appears(
    segments: list[Segment], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    events: list[tuple[str, str]] = []
    real_fdatasync, real_replace = os.fdatasync, os.replace

    def fdatasync(fd: int) -> None:
        events.append(("flushed", os.readlink(f"/proc/self/fd/{fd}")))
        real_fdatasync(fd)

    def replace(src: Any, dst: Any) -> None:
        events.append(("renamed", f"{src} -> {dst}"))
        real_replace(src, dst)

    monkeypatch.setattr(os, "fdatasync", fdatasync)
    monkeypatch.setattr(os, "replace", replace)
    # several files: --max-file-size splits the range at key frames
    size = max(sum(s.size or 0 for s in segments) // 3, 65536)
    result = export(segments, 0.5, 19.5, tmp_path, max_file_size=size)
    assert len(result.files) >= 2
    for f in result.files:
        temp = tmp_path / f".clip_{result.files.index(f) + 1:03d}.mp4.part"
        flushed = events.index(("flushed", str(temp)))
        renamed = events.index(("renamed", f"{temp} -> {f.path}"))
        assert flushed < renamed
    # every rename comes after every flush: no file is named while another is unsaved
    last_flush = max(i for i, e in enumerate(events) if e[0] == "flushed")
    first_rename = min(i for i, e in enumerate(events) if e[0] == "renamed")
    assert last_flush < first_rename


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 160 KB file system of its own (tmpfs), unmounted afterwards."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=160k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.mark.parametrize("fmt", ["mp4", "mkv"])
def test_a_full_disk_is_a_clear_error_and_leaves_nothing(
    segments: list[Segment], small_disk: Path, fmt: str
) -> None:
    big = segments
    total = sum(s.size or 0 for s in big)
    assert total > 160 * 1024, "the footage must be larger than the disk"
    out = small_disk / "exports"
    with pytest.raises(NoSpace, match="free some space"):
        export_clip(big, _span(0.0, 20.0), out, ClipOptions(format=fmt))
    assert list(out.iterdir()) == []  # no final file, no temporary one
    # with room again the same export works
    result = export_clip(big, _span(0.0, 4.0), out, ClipOptions(format=fmt))
    assert [f.path.parent for f in result.files] == [out]
    assert [p.name for p in out.iterdir()] == [f"clip.{fmt}"]


def _span(start: float, end: float) -> TimeRange:
    return TimeRange(start=at(start), end=at(end))
