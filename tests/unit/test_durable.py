"""Durable publication: data on the disk before the rename, the rename on the disk after.

A power cut cannot be staged here, so these tests watch the system calls in their order
(the calls still happen: the wrappers record, then call the real function)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from footage import durable
from footage.domain import MediaError


def _name(fd: int) -> str:
    return os.readlink(f"/proc/self/fd/{fd}")


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every fdatasync/fsync/replace (and sync_file_range) made, with the path it touched."""
    seen: list[tuple[str, str]] = []

    def spy(name: str, real: Callable[..., Any], by_fd: bool) -> Callable[..., Any]:
        def wrapper(*args: Any) -> Any:
            seen.append((name, _name(args[0]) if by_fd else str(args[1])))
            return real(*args)

        return wrapper

    monkeypatch.setattr(os, "fdatasync", spy("fdatasync", os.fdatasync, True))
    monkeypatch.setattr(os, "fsync", spy("fsync", os.fsync, True))
    monkeypatch.setattr(os, "replace", spy("replace", os.replace, False))
    if durable._sync_file_range is not None:
        monkeypatch.setattr(
            durable, "_sync_file_range", spy("sync_file_range", durable._sync_file_range, True)
        )
    return seen


def test_publish_syncs_the_data_then_renames_then_syncs_the_folder(
    tmp_path: Path, calls: list[tuple[str, str]]
) -> None:
    temp, final = tmp_path / ".clip.mp4.part", tmp_path / "clip.mp4"
    temp.write_bytes(b"x" * 1000)
    durable.publish([(temp, final)])
    assert calls == [
        ("fdatasync", str(temp)),
        ("replace", str(final)),
        ("fsync", str(tmp_path)),
    ]
    assert final.read_bytes() == b"x" * 1000 and not temp.exists()


def test_publish_of_synced_files_renames_all_then_syncs_each_folder_once(
    tmp_path: Path, calls: list[tuple[str, str]]
) -> None:
    pairs = [(tmp_path / f".{i}.part", tmp_path / f"{i}.mp4") for i in range(3)]
    for temp, _ in pairs:
        temp.write_bytes(b"data")
    durable.publish(pairs, synced=True)
    assert [c[0] for c in calls] == ["replace"] * 3 + ["fsync"]
    assert all(final.exists() for _, final in pairs)


def test_write_file_is_complete_or_absent(tmp_path: Path, calls: list[tuple[str, str]]) -> None:
    target = tmp_path / "sub" / "picture.jpg"
    durable.write_file(target, b"\xff\xd8 jpeg")
    assert target.read_bytes() == b"\xff\xd8 jpeg"
    assert [c[0] for c in calls] == ["fdatasync", "replace", "fsync"]
    assert calls[0][1].endswith(".tmp") and calls[1][1] == str(target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["picture.jpg"]


def test_write_file_error_names_the_file_and_leaves_nothing(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"")
    with pytest.raises(MediaError, match=r"picture\.jpg"):
        durable.write_file(blocker / "picture.jpg", b"data")
    assert [p.name for p in tmp_path.iterdir()] == ["not-a-folder"]


def _write_in_steps(path: Path, flusher: durable.Flusher, total: int, step: int) -> None:
    with open(path, "r+b") as out:
        written = 0
        while written < total:
            out.write(b"\0" * step)
            out.flush()
            written += step
            flusher.advance(written)


@pytest.mark.skipif(durable._sync_file_range is None, reason="no sync_file_range here")
def test_flusher_starts_the_writes_behind_the_writer_and_flushes_at_the_end(
    tmp_path: Path, calls: list[tuple[str, str]]
) -> None:
    path = tmp_path / "big.part"
    path.write_bytes(b"")
    flusher = durable.Flusher(path)
    total = 4 * durable._WRITE_BEHIND_STEP
    _write_in_steps(path, flusher, total, durable._WRITE_BEHIND_STEP // 4)
    flusher.wait()
    kinds = [c[0] for c in calls]
    assert kinds[-1] == "fdatasync" and calls[-1][1] == str(path)
    assert 1 <= kinds.count("sync_file_range") <= 4  # behind the writer, a stretch at a time


def test_flusher_without_write_behind_still_flushes(
    tmp_path: Path, calls: list[tuple[str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(durable, "_sync_file_range", lambda *args: -1)  # refused by the fs
    path = tmp_path / "big.part"
    path.write_bytes(b"")
    flusher = durable.Flusher(path)
    _write_in_steps(path, flusher, 3 * durable._WRITE_BEHIND_STEP, durable._WRITE_BEHIND_STEP)
    flusher.wait()
    assert calls == [("fdatasync", str(path))]


def test_flusher_abort_stops_without_flushing(tmp_path: Path, calls: list[tuple[str, str]]) -> None:
    path = tmp_path / "x.part"
    path.write_bytes(b"abc")
    flusher = durable.Flusher(path)
    flusher.abort()
    assert ("fdatasync", str(path)) not in calls
