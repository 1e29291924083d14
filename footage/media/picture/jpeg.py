"""Decoded video frame -> full-range RGB -> JPEG file, written under a temporary name."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from av.video.reformatter import ColorRange, Interpolation, VideoReformatter
from PIL import Image

from footage.durable import write_file
from footage.media.picture.options import PictureFile, PictureOptions

_RANGE_FULL = 2  # AVCOL_RANGE_JPEG, as decoders tag frames


def source_range(frame: Any) -> ColorRange | None:
    """The colour range of a decoded frame's samples, or None where range does not apply.

    Camera H.264/HEVC is limited range (16-235) unless the stream says otherwise; decoders
    report full-range 8-bit streams as ``yuvj*`` formats. An untagged YUV frame is limited,
    which is what every player assumes too.
    """
    fmt = frame.format
    if fmt.is_rgb:
        return None
    if int(frame.color_range) == _RANGE_FULL or fmt.name.startswith("yuvj"):
        return ColorRange.JPEG
    return ColorRange.MPEG


def frame_to_rgb(frame: Any, width: int, height: int) -> npt.NDArray[np.uint8]:
    """Full-range RGB (0-255) of ``frame`` scaled to ``width`` x ``height``.

    The matrix (BT.601/709/2020) comes from the frame's own tag (swscale treats an untagged
    frame as BT.601, as ffmpeg does); the range is made explicit so limited-range video
    never ends up washed out (black at 16, white at 235).
    """
    return rgb_converter(frame, width, height, VideoReformatter())


def rgb_converter(
    frame: Any, width: int, height: int, reformatter: VideoReformatter
) -> npt.NDArray[np.uint8]:
    shrinking = width * height < frame.width * frame.height
    rgb = reformatter.reformat(
        frame,
        width=width,
        height=height,
        format="rgb24",
        src_color_range=source_range(frame),
        dst_color_range=ColorRange.JPEG,
        interpolation=Interpolation.AREA if shrinking else Interpolation.BICUBIC,
    )
    return np.asarray(rgb.to_ndarray(), dtype=np.uint8)


class JpegWriter:
    """Writes frames as JPEG files of one size and quality; keeps its scaler between frames."""

    def __init__(self, options: PictureOptions) -> None:
        self._options = options
        self._reformatter = VideoReformatter()

    def encode(self, frame: Any) -> bytes:
        width, height = self._options.size_for(frame.width, frame.height)
        rgb = rgb_converter(frame, width, height, self._reformatter)
        buffer = io.BytesIO()
        Image.fromarray(rgb).save(buffer, format="JPEG", quality=self._options.quality)
        return buffer.getvalue()

    def write(self, frame: Any, path: Path, shown_at: datetime) -> PictureFile:
        data = self.encode(frame)
        write_file(path, data)
        return PictureFile(
            path=path, size=len(data), sha256=hashlib.sha256(data).hexdigest(), shown_at=shown_at
        )
