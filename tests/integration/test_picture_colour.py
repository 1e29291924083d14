"""Colours of a picture match ffmpeg's reading of the same frame; limited range is expanded."""

from __future__ import annotations

import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
import pytest
from PIL import Image, ImageFilter

from footage.domain import Segment
from footage.media.picture import PictureOptions, picture_at

pytestmark = [
    pytest.mark.ffmpeg,
    pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="needs Debian's ffmpeg"),
]

WIDTH, HEIGHT = 320, 240
START = datetime(2026, 2, 1, 6, 0, tzinfo=UTC)
BLACK, WHITE = (slice(8, 48), slice(14, 28)), (slice(8, 48), slice(54, 68))  # patch centres


def scene() -> npt.NDArray[np.uint8]:
    """Colour bars (soft-edged, as a lens makes them), a hue sweep and fine grey detail."""
    rows, cols = np.mgrid[0:HEIGHT, 0:WIDTH]
    hue = cols / WIDTH
    picture = np.stack([127.5 + 127.5 * np.cos(2 * np.pi * (hue - k / 3)) for k in range(3)], -1)
    picture *= (rows / HEIGHT * 0.8 + 0.2)[..., None]
    bars = [(0, 0, 0), (255, 255, 255), (255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0)]
    for number, colour in enumerate(bars):
        picture[:64, number * 40 + 2 : number * 40 + 40] = colour
    picture[:64, 240:] = (128, 128, 128)
    detail = np.random.default_rng(5).integers(-60, 60, (HEIGHT // 8, WIDTH // 8))
    picture[160:] += detail.repeat(8, 0).repeat(8, 1)[160:, :, None]
    image = Image.fromarray(picture.clip(0, 255).astype(np.uint8))
    softened = image.filter(ImageFilter.GaussianBlur(3))
    return np.asarray(softened)


def encode(path: Path, *, full_range: bool = False, bt709: bool = False) -> None:
    """Ten frames of the scene, H.264 near-losslessly, tagged as a camera would tag them."""
    source = av.VideoFrame.from_ndarray(scene(), format="rgb24")
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=25)
        stream.width, stream.height = WIDTH, HEIGHT
        stream.pix_fmt = "yuvj420p" if full_range else "yuv420p"
        stream.codec_context.options = {"preset": "ultrafast", "crf": "4"}
        stream.codec_context.color_range = 2 if full_range else 1
        if bt709:
            stream.codec_context.colorspace = 1
        for number in range(10):
            frame = source.reformat(
                format=stream.pix_fmt,
                dst_colorspace="ITU709" if bt709 else "ITU601",
                dst_color_range="JPEG" if full_range else "MPEG",
            )
            frame.pts = number
            frame.color_range = 2 if full_range else 1
            if bt709:
                frame.colorspace = 1
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)


def as_segment(path: Path) -> Segment:
    return Segment(
        camera_id="cam1",
        path=str(path),
        start=START,
        end=START + timedelta(seconds=0.4),
        container="mp4",
        video_codec="h264",
        width=WIDTH,
        height=HEIGHT,
        fps=25.0,
        audio_codec=None,
        size=path.stat().st_size,
    )


def ffmpeg_rgb(path: Path, offset_s: float) -> npt.NDArray[np.uint8]:
    """Debian ffmpeg's RGB of the frame at ``offset_s``: the reference."""
    command = ["ffmpeg", "-v", "error", "-ss", f"{offset_s}", "-i", str(path), "-frames:v", "1"]
    raw = subprocess.run(
        [*command, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"], capture_output=True, check=True
    ).stdout
    return np.frombuffer(raw, dtype=np.uint8).reshape(HEIGHT, WIDTH, 3)


def psnr(ours: npt.NDArray[np.uint8], reference: npt.NDArray[np.uint8]) -> float:
    mse = float(np.mean((ours.astype(np.float64) - reference.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else float(10 * np.log10(255**2 / mse))


def jpeg_rgb(path: Path) -> npt.NDArray[np.uint8]:
    with Image.open(path) as image:
        return np.asarray(image.convert("RGB"))


@pytest.mark.parametrize(
    ("full_range", "bt709"),
    [(False, False), (False, True), (True, False)],
    ids=["limited-601", "limited-709", "full-range"],
)
def test_colours_match_ffmpeg(tmp_path: Path, full_range: bool, bt709: bool) -> None:
    clip = tmp_path / "clip.mp4"
    encode(clip, full_range=full_range, bt709=bt709)
    at = START + timedelta(seconds=0.2)
    picture = picture_at([as_segment(clip)], at, tmp_path / "shot.jpg", PictureOptions(quality=95))
    ours, reference = jpeg_rgb(picture.path), ffmpeg_rgb(clip, 0.2)
    assert psnr(ours, reference) >= 40
    assert ours[BLACK].max() <= 6  # pure black is black, not the grey of limited range
    assert ours[WHITE].min() >= 245  # and white is white (washed out: 16 and 235)


def test_a_washed_out_picture_would_fail_the_comparison(tmp_path: Path) -> None:
    """The check above can fail: limited range read as full scores far below 40 dB."""
    clip = tmp_path / "clip.mp4"
    encode(clip)
    with av.open(str(clip)) as container:
        frame = next(container.decode(video=0))
        naive = frame.reformat(format="rgb24", src_color_range="JPEG", dst_color_range="JPEG")
        washed_out = np.asarray(naive.to_ndarray(), dtype=np.uint8)
    assert psnr(washed_out, ffmpeg_rgb(clip, 0.0)) < 30
    assert washed_out[BLACK].min() >= 12 and washed_out[WHITE].max() <= 240
