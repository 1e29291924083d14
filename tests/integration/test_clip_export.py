"""Clip export on real media: exact ranges, no drift, gaps, splits, codec changes, cancel."""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from footage.domain import Segment, to_us
from footage.media.synth import paint_stamp
from tests.helpers.clips import (
    FFMPEG,
    FRAME_MS,
    at,
    check_clean,
    export,
    ms,
    shown,
    synth,
)

needs_ffmpeg = pytest.mark.skipif(FFMPEG is None, reason="Debian ffmpeg is not on PATH")
_MUX = {
    "fmp4": ("mp4", {"movflags": "frag_keyframe+empty_moov+default_base_moof"}),
    "mp4": ("mp4", {"movflags": "+faststart"}),
    "ts": ("mpegts", {}),
}


def bframe_segments(
    root: Path, *, container: str, count: int, seconds: int = 2, fps: int = 10, size=(160, 96)
) -> list[Segment]:
    """H.264 segments with B-frames (x264 ``bf=2``) and 48 kHz AAC, encoded here."""
    root.mkdir(parents=True, exist_ok=True)
    fmt, options = _MUX[container]
    segments = []
    for n in range(count):
        start = at(n * seconds)
        path = root / f"seg{n:03d}.{'ts' if container == 'ts' else 'mp4'}"
        with av.open(str(path), "w", format=fmt, options=options) as out:
            _encode(out, start, seconds, fps, size)
        segments.append(
            Segment(
                camera_id="cam9",
                path=str(path),
                start=start,
                end=start + timedelta(seconds=seconds),
                container=container,
                video_codec="h264",
                width=size[0],
                height=size[1],
                fps=fps,
                audio_codec="aac",
                size=path.stat().st_size,
            )
        )
    return segments


def _encode(out: av.container.OutputContainer, start: datetime, seconds: int, fps: int, size):
    v = out.add_stream("libx264", rate=fps)
    v.width, v.height, v.pix_fmt = size[0], size[1], "yuv420p"
    v.options = {"g": str(fps), "bf": "2", "x264-params": "scenecut=0:b-adapt=0"}
    a = out.add_stream("aac", rate=48000)
    a.layout = "mono"
    base_ms = to_us(start) // 1000
    for i in range(seconds * fps):
        luma = np.full((size[1], size[0]), 90, np.uint8)
        paint_stamp(luma, base_ms + i * 1000 // fps)
        yuv = np.concatenate([luma, np.full((size[1] // 2, size[0]), 128, np.uint8)])
        frame = av.VideoFrame.from_ndarray(yuv, format="yuv420p")
        frame.pts = i
        frame.time_base = Fraction(1, fps)
        for p in v.encode(frame):
            out.mux(p)
    for p in v.encode():
        out.mux(p)
    t = 0
    while t < seconds * 48000:
        tone = np.sin((np.arange(t, t + 1024) / 48000) * 2 * np.pi * 440) * 0.3
        frame = av.AudioFrame.from_ndarray(
            tone.astype(np.float32)[None], format="fltp", layout="mono"
        )
        frame.sample_rate, frame.pts = 48000, t
        for p in a.encode(frame):
            out.mux(p)
        t += 1024
    for p in a.encode():
        out.mux(p)


def top_level_boxes(path: Path) -> list[bytes]:
    data = path.read_bytes()
    kinds, pos = [], 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        if size == 1:
            size = int.from_bytes(data[pos + 8 : pos + 16], "big")
        kinds.append(data[pos + 4 : pos + 8])
        pos += size
    return kinds


@pytest.fixture(scope="module")
def fmp4_archive(tmp_path_factory: pytest.TempPathFactory) -> list[Segment]:
    return synth(tmp_path_factory.mktemp("fmp4"), container="fmp4")


@pytest.fixture(scope="module")
def mp4_archive(tmp_path_factory: pytest.TempPathFactory) -> list[Segment]:
    return synth(tmp_path_factory.mktemp("mp4"), container="mp4")


@pytest.fixture(scope="module")
def ts_archive(tmp_path_factory: pytest.TempPathFactory) -> list[Segment]:
    return synth(tmp_path_factory.mktemp("ts"), container="ts")


@pytest.fixture(scope="module")
def bframe_archives(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[Segment]]:
    root = tmp_path_factory.mktemp("bframes")
    return {c: bframe_segments(root / c, container=c, count=5) for c in ("fmp4", "mp4", "ts")}


def archive(request: pytest.FixtureRequest, name: str) -> list[Segment]:
    if name.startswith("b-"):
        return request.getfixturevalue("bframe_archives")[name[2:]]
    return request.getfixturevalue(f"{name}_archive")


@pytest.mark.parametrize("source", ["fmp4", "mp4", "ts", "b-fmp4", "b-mp4", "b-ts"])
def test_mp4_shows_exactly_the_requested_range(
    request: pytest.FixtureRequest, tmp_path: Path, source: str
) -> None:
    segments = archive(request, source)
    result = export(segments, 1.35, 8.55, tmp_path, camera_name="Gate 3", comment="case 7")
    (clip,) = result.files
    assert clip.path == tmp_path / "clip.mp4"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.mp4"]
    seen = shown(clip.path)
    assert seen.first_key
    assert ms(1.35) <= seen.stamps[0] <= ms(1.35) + FRAME_MS
    assert ms(8.55) - FRAME_MS <= seen.stamps[-1] < ms(8.55)
    assert np.all(np.diff(seen.stamps) == FRAME_MS)
    assert seen.video_seconds == pytest.approx(7.2, abs=0.11)
    assert seen.audio_seconds == pytest.approx(seen.video_seconds, abs=0.065)
    assert clip.first_ts == at(1.35)
    assert to_us(clip.last_ts) // 1000 == seen.stamps[-1]
    assert (clip.video_codec, clip.width, clip.height, clip.mime_type) == (
        "h264",
        160,
        96,
        "video/mp4",
    )
    assert clip.size == clip.path.stat().st_size
    assert clip.sha256 == hashlib.sha256(clip.path.read_bytes()).hexdigest()
    boxes = top_level_boxes(clip.path)
    assert boxes.index(b"moov") < boxes.index(b"mdat")  # faststart
    with av.open(str(clip.path)) as c:
        assert c.metadata["title"] == "Gate 3" and c.metadata["comment"] == "case 7"
        assert c.metadata["creation_time"].startswith("2026-03-01T08:00:01")
    check_clean(clip.path)


@pytest.mark.parametrize("fmt", ["mkv", "ts"])
@pytest.mark.parametrize("source", ["fmp4", "ts", "b-mp4"])
def test_mkv_and_ts_start_at_the_key_frame(
    request: pytest.FixtureRequest, tmp_path: Path, source: str, fmt: str
) -> None:
    result = export(archive(request, source), 1.35, 8.55, tmp_path, format=fmt)
    (clip,) = result.files
    assert clip.path.name == f"clip.{fmt}"
    seen = shown(clip.path)
    assert seen.first_key
    assert seen.stamps[0] == ms(1.0)  # the key frame at or before the start
    assert clip.first_ts == at(1.0)
    assert ms(8.55) - FRAME_MS <= seen.stamps[-1] <= ms(8.55) + FRAME_MS
    assert to_us(clip.last_ts) // 1000 == seen.stamps[-1]
    assert np.all(np.diff(seen.stamps) == FRAME_MS)
    check_clean(clip.path)


def test_inexact_mp4_starts_at_the_key_frame(fmp4_archive: list[Segment], tmp_path: Path) -> None:
    (clip,) = export(fmp4_archive, 5.5, 7.0, tmp_path, exact=False).files
    seen = shown(clip.path)
    assert seen.stamps[0] == ms(5.0) and clip.first_ts == at(5.0)


def test_audio_can_be_left_out(fmp4_archive: list[Segment], tmp_path: Path) -> None:
    (clip,) = export(fmp4_archive, 1.0, 3.0, tmp_path, audio=False).files
    with av.open(str(clip.path)) as c:
        assert len(c.streams.audio) == 0 and len(c.streams.video) == 1
