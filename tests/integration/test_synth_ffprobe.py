"""Every layout x container (and both codecs) gives segments Debian's ffprobe/ffmpeg accept."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from footage.archive.local.layout import get_layout
from footage.media.synth import SynthOptions, generate

pytestmark = [
    pytest.mark.ffmpeg,
    pytest.mark.skipif(
        shutil.which("ffprobe") is None or shutil.which("ffmpeg") is None,
        reason="Debian's ffprobe/ffmpeg are not on PATH (apt-get install ffmpeg)",
    ),
]

START = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
COMBOS = [
    (layout, container, "h264")
    for layout in ("native", "frigate", "mediamtx")
    for container in ("fmp4", "mp4", "ts")
] + [("native", "fmp4", "hevc"), ("mediamtx", "ts", "hevc"), ("frigate", "mp4", "hevc")]
FORMATS = {"fmp4": "mov,mp4,m4a,3gp,3g2,mj2", "mp4": "mov,mp4,m4a,3gp,3g2,mj2", "ts": "mpegts"}


def _probe(path: Path) -> dict:  # type: ignore[type-arg]
    done = subprocess.run(
        ["ffprobe", "-v", "error", "-of", "json", "-show_streams", "-show_format", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and done.stderr == "", done.stderr
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def _decode_errors(path: Path) -> str:
    done = subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
        check=False,
    )
    return done.stderr if done.returncode == 0 else f"exit {done.returncode}: {done.stderr}"


def _mp4_boxes(path: Path) -> list[bytes]:
    data = path.read_bytes()
    boxes, pos = [], 0
    while pos + 8 <= len(data):
        size = int.from_bytes(data[pos : pos + 4], "big")
        boxes.append(data[pos + 4 : pos + 8])
        if size < 8:
            break
        pos += size
    return boxes


@pytest.mark.parametrize(("layout", "container", "codec"), COMBOS)
def test_segments_probe_and_decode_cleanly(
    tmp_path: Path, layout: str, container: str, codec: str
) -> None:
    options = SynthOptions(
        cameras=1,
        duration=timedelta(seconds=6),
        start=START,
        segment_seconds=2,
        layout=layout,
        container=container,
        codec=codec,
        resolution=(160, 96),
        fps=10,
        gop=10,
    )
    report = generate(tmp_path, options)
    assert len(report.segments) == 3
    ext = "ts" if container == "ts" else "mp4"
    written = sorted(p for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(s.path for s in report.segments), "stray or missing files"
    for segment in report.segments:
        rel = get_layout(layout).relpath("cam1", segment.start, ext)
        assert segment.path == tmp_path / Path(*rel.parts)
        info = _probe(segment.path)
        assert info["format"]["format_name"] == FORMATS[container]
        video, audio = info["streams"]
        assert (video["codec_type"], video["codec_name"]) == ("video", codec)
        assert (video["width"], video["height"], video["r_frame_rate"]) == (160, 96, "10/1")
        assert (audio["codec_name"], audio["channels"], audio["sample_rate"]) == (
            "aac",
            1,
            "16000",
        )
        if container != "ts":
            assert video["codec_tag_string"] == ("avc1" if codec == "h264" else "hvc1")
            assert float(video["start_time"]) == 0.0
            assert abs(float(video["duration"]) - 2.0) < 1e-3
        boxes = _mp4_boxes(segment.path) if container != "ts" else []
        if container == "fmp4":
            assert b"moof" in boxes and boxes.index(b"moov") < boxes.index(b"moof")
        if container == "mp4":
            assert b"moof" not in boxes and boxes.index(b"moov") < boxes.index(b"mdat")
        assert _decode_errors(segment.path) == ""


def test_no_audio_means_one_stream(tmp_path: Path) -> None:
    options = SynthOptions(
        cameras=1,
        duration=timedelta(seconds=2),
        start=START,
        segment_seconds=2,
        resolution=(160, 96),
        fps=10,
        audio=False,
        bitrate=50_000,
    )
    (segment,) = generate(tmp_path, options).segments
    streams = _probe(segment.path)["streams"]
    assert [s["codec_type"] for s in streams] == ["video"]
    assert _decode_errors(segment.path) == ""


@pytest.mark.parametrize(("container", "codec"), [("mp4", "hevc"), ("ts", "h264")])
def test_looped_and_cut_segments_probe_cleanly(tmp_path: Path, container: str, codec: str) -> None:
    options = SynthOptions(
        cameras=1,
        duration=timedelta(seconds=40),
        start=START,
        segment_seconds=5,
        container=container,
        codec=codec,
        resolution=(160, 96),
        fps=5,
        gop=5,
        gaps=True,
        stamps="loop",
    )
    report = generate(tmp_path, options)
    assert report.gaps("cam1"), "expected an outage, so that a segment is cut short"
    lengths = {round((s.end - s.start).total_seconds(), 3) for s in report.segments}
    assert len(lengths) > 1, "no segment was cut short"
    for segment in report.segments:
        video = _probe(segment.path)["streams"][0]
        assert video["codec_name"] == codec
        if container == "mp4":
            assert video["codec_tag_string"] == "hvc1"
        expected = (segment.end - segment.start).total_seconds()
        assert abs(float(video["duration"]) - expected) < 1e-3
        assert _decode_errors(segment.path) == ""
