"""``probe``: the fast path (header or tail read) agrees with a full packet scan; bad files fail
with a MediaError naming the file and the problem."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from footage.domain import MediaError
from footage.media.probe import probe

FORMATS = {
    "mp4": ("mp4", {}),
    "fmp4": ("mp4", {"movflags": "frag_keyframe+empty_moov+default_base_moof"}),
    "ts": ("mpegts", {}),
    "mkv": ("matroska", {}),
}


def make_clip(
    path: Path,
    container: str,
    *,
    seconds: float = 3.0,
    fps: int = 10,
    size: tuple[int, int] = (96, 64),
    audio: bool = True,
    bframes: int = 0,
    video: bool = True,
) -> Path:
    fmt, options = FORMATS[container]
    out = av.open(str(path), "w", format=fmt, options=options)
    streams = []
    if video:
        stream = out.add_stream("libx264", rate=fps)
        stream.width, stream.height, stream.pix_fmt = size[0], size[1], "yuv420p"
        stream.codec_context.options = {"g": str(fps), "bf": str(bframes), "preset": "ultrafast"}
        streams.append(stream)
    sound = out.add_stream("aac", rate=16000, layout="mono") if audio else None
    frames = round(seconds * fps)
    for index in range(frames if video else 0):
        picture = np.full((size[1], size[0], 3), index * 7 % 256, np.uint8)
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24")
        frame.pts, frame.time_base = index, Fraction(1, fps)
        out.mux(streams[0].encode(frame))
    if video:
        out.mux(streams[0].encode(None))
    if sound is not None:
        for first in range(0, round(seconds * 16000), 1024):
            chunk = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
            )
            chunk.sample_rate, chunk.pts, chunk.time_base = 16000, first, Fraction(1, 16000)
            out.mux(sound.encode(chunk))
        out.mux(sound.encode(None))
    out.close()
    return path


def full_scan(path: Path) -> tuple[int, int]:
    """(first pts, duration) of the video stream in µs from every packet in the file."""
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stops, starts = [], []
        for packet in container.demux(stream):
            if packet.pts is None:
                continue
            starts.append(packet.pts)
            stops.append(packet.pts + packet.duration)
        tb = stream.time_base
    first = min(starts)
    return round(first * tb * 1_000_000), round((max(stops) - first) * tb * 1_000_000)


@pytest.mark.parametrize("container", ["mp4", "fmp4", "ts", "mkv"])
@pytest.mark.parametrize("bframes", [0, 2])
@pytest.mark.parametrize("seconds", [1.0, 7.3])
def test_probe_agrees_with_a_full_packet_scan(
    tmp_path: Path, container: str, bframes: int, seconds: float
) -> None:
    ext = "mkv" if container == "mkv" else "ts" if container == "ts" else "mp4"
    clip = make_clip(tmp_path / f"clip.{ext}", container, seconds=seconds, bframes=bframes)
    result = probe(clip)
    first, duration = full_scan(clip)
    assert result.container == container
    assert (result.video_codec, result.width, result.height) == ("h264", 96, 64)
    assert result.fps == 10.0
    assert result.audio_codec == "aac"
    assert result.first_pts_us == first
    assert result.duration_us == duration
    assert abs(result.duration_us - round(seconds * 1_000_000)) <= 100_000


def test_probe_without_audio(tmp_path: Path) -> None:
    result = probe(make_clip(tmp_path / "a.mp4", "fmp4", audio=False))
    assert result.audio_codec is None
    assert result.duration_us == 3_000_000


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"hello, not a video\n" * 50, "not readable media"),
        (bytes(range(256)) * 200, "not readable media"),
    ],
)
def test_not_media_is_a_media_error(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "bad.mp4"
    path.write_bytes(content)
    with pytest.raises(MediaError, match=message) as caught:
        probe(path)
    assert str(path) in caught.value.message


def test_a_missing_file_is_a_media_error(tmp_path: Path) -> None:
    with pytest.raises(MediaError, match="No such file"):
        probe(tmp_path / "gone.mp4")


def test_audio_only_has_no_video(tmp_path: Path) -> None:
    clip = make_clip(tmp_path / "a.mp4", "mp4", video=False)
    with pytest.raises(MediaError, match="no video stream"):
        probe(clip)


@pytest.mark.parametrize("container", ["mp4", "fmp4", "ts"])
def test_truncated_files_are_media_errors(tmp_path: Path, container: str) -> None:
    ext = "ts" if container == "ts" else "mp4"
    clip = make_clip(tmp_path / f"clip.{ext}", container, seconds=6)
    data = clip.read_bytes()
    clip.write_bytes(data[: len(data) * 2 // 3 + 1])
    with pytest.raises(MediaError, match="truncated") as caught:
        probe(clip)
    assert str(clip) in caught.value.message
