"""Copying byte ranges into an output file while its SHA-256 follows on another thread."""

from __future__ import annotations

import hashlib
import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from footage.domain import MediaError
from footage.media.clip.bytecopy import CHUNK, write_with_copies
from footage.media.clip.cancel import Cancelled, CancelToken
from footage.media.clip.digest import FollowingDigest
from footage.media.clip.mp4_layout import CopyPlan

BUFFER = 1 << 20


def _sources(tmp_path: Path) -> list[Path]:
    rng = np.random.default_rng(7)
    paths = []
    for i, size in enumerate((3 * BUFFER + 17, 2 * CHUNK + 5 * BUFFER + 3)):
        path = tmp_path / f"src{i}.bin"
        path.write_bytes(rng.integers(0, 256, size, dtype=np.uint8).tobytes())
        paths.append(path)
    return paths


def _plan(paths: list[Path], ranges: list[tuple[int, int, int]]) -> CopyPlan:
    return CopyPlan(
        sources=paths,
        src=np.array([r[0] for r in ranges], np.int64),
        offset=np.array([r[1] for r in ranges], np.int64),
        length=np.array([r[2] for r in ranges], np.int64),
        seconds=np.ones(len(ranges)),
    )


# ranges chosen to cross page, window and the copier's chunk boundaries
RANGES = [
    (0, 5, BUFFER + 9),
    (1, 1, 2 * CHUNK + 2 * BUFFER),
    (1, 2 * CHUNK + 4 * BUFFER, 77),
    (0, 0, 1),
]


def _expected(header: bytes, paths: list[Path]) -> bytes:
    data = [p.read_bytes() for p in paths]
    return header + b"".join(data[s][o : o + n] for s, o, n in RANGES)


@pytest.mark.parametrize("kernel", [True, False])
def test_ranges_are_copied_and_hashed_as_written(tmp_path: Path, kernel: bool) -> None:
    paths = _sources(tmp_path)
    header = b"head" * 1000
    expected = _expected(header, paths)
    out = tmp_path / "out.bin"
    cancel = CancelToken()
    seen: list[float] = []
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    digest = FollowingDigest(out, len(expected), cancel)
    try:
        write_with_copies(
            fd,
            header,
            _plan(paths, RANGES),
            cancel=cancel,
            progress=seen.append,
            written=digest.advance,
            kernel=kernel,
        )
    finally:
        os.close(fd)
    assert out.read_bytes() == expected
    assert digest.hexdigest() == hashlib.sha256(expected).hexdigest()
    assert seen == [1.0, 2.0, 3.0, 4.0]


def test_the_digest_waits_for_the_writer(tmp_path: Path) -> None:
    path = tmp_path / "growing.bin"
    parts = [bytes([i]) * (BUFFER + i) for i in range(4)]
    total = sum(map(len, parts))
    with open(path, "wb") as f:
        digest = FollowingDigest(path, total, CancelToken())
        done = 0
        for part in parts:
            time.sleep(0.02)
            f.write(part)
            f.flush()
            done += len(part)
            digest.advance(done)
    assert digest.hexdigest() == hashlib.sha256(b"".join(parts)).hexdigest()


def test_a_file_shorter_than_announced_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "short.bin"
    path.write_bytes(b"x" * 100)
    digest = FollowingDigest(path, 200, CancelToken())
    digest.advance(200)
    with pytest.raises(MediaError, match="shorter"):
        digest.hexdigest()


def test_cancel_stops_a_waiting_digest(tmp_path: Path) -> None:
    path = tmp_path / "never.bin"
    path.write_bytes(b"")
    token = CancelToken()
    digest = FollowingDigest(path, 10, token)  # the writer never advances
    threading.Timer(0.05, token.cancel).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        digest.hexdigest()
    assert time.monotonic() - started < 1.0


def test_a_truncated_source_is_a_media_error(tmp_path: Path) -> None:
    paths = _sources(tmp_path)
    out = tmp_path / "out.bin"
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    size = paths[0].stat().st_size
    try:
        with pytest.raises(MediaError, match="ended early"):
            write_with_copies(
                fd,
                b"",
                _plan(paths, [(0, size - 10, 20)]),
                cancel=CancelToken(),
                progress=lambda _: None,
                written=lambda _: None,
            )
    finally:
        os.close(fd)
