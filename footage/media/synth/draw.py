"""Drawing synthetic camera pictures straight into YUV 4:2:0 planes with numpy.

Each camera gets its own static scene (sky, ground, buildings, a road), rendered once. Per
frame only a car driving along the road, the readable time text (Pillow) and the
machine-readable stamp (``stamp.py``) are drawn on a copy of it.
"""

from __future__ import annotations

import random
from typing import cast

import av
import numpy as np
import numpy.typing as npt
from PIL import Image, ImageDraw, ImageFont

from footage.domain import from_us
from footage.media.synth.stamp import WHITE, StampGeometry, paint_stamp, stamp_geometry

Planes = npt.NDArray[np.uint8]

_PALETTE = (
    ((90, 140, 200), (70, 110, 60)),
    ((200, 150, 110), (110, 100, 80)),
    ((120, 120, 150), (60, 80, 90)),
    ((160, 190, 210), (100, 120, 70)),
    ((60, 60, 100), (50, 50, 50)),
)


def rgb_to_yuv420(rgb: npt.NDArray[np.uint8]) -> Planes:
    """BT.601 video-range conversion; returns the (H*3/2, W) array yuv420p frames use."""
    height, width = rgb.shape[:2]
    r, g, b = (rgb[:, :, c].astype(np.float32) for c in range(3))
    y = 16 + (65.481 * r + 128.553 * g + 24.966 * b) / 255
    u = 128 + (-37.797 * r - 74.203 * g + 112.0 * b) / 255
    v = 128 + (112.0 * r - 93.786 * g - 18.214 * b) / 255

    def half(plane: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        quads = plane.reshape(height // 2, 2, width // 2, 2)
        return cast(npt.NDArray[np.float32], quads.mean(axis=(1, 3)))

    out = np.empty((height * 3 // 2, width), dtype=np.uint8)
    out[:height] = np.clip(np.rint(y), 0, 255)
    out[height : height * 5 // 4] = np.clip(np.rint(half(u)), 0, 255).reshape(-1, width)
    out[height * 5 // 4 :] = np.clip(np.rint(half(v)), 0, 255).reshape(-1, width)
    return out


def _scene(camera_index: int, width: int, height: int) -> npt.NDArray[np.uint8]:
    rng = random.Random(camera_index)
    sky, ground = (np.array(c, dtype=np.float32) for c in _PALETTE[(camera_index - 1) % 5])
    horizon = int(height * (0.35 + 0.1 * rng.random()))
    rows = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    image = np.empty((height, width, 3), dtype=np.float32)
    image[:horizon] = sky * (1.15 - 0.4 * rows[:horizon])
    image[horizon:] = ground * (0.7 + 0.5 * rows[horizon:])
    for _ in range(3 + rng.randrange(4)):
        w = int(width * rng.uniform(0.08, 0.22))
        h = int(height * rng.uniform(0.1, 0.3))
        x = rng.randrange(0, max(1, width - w))
        shade = rng.uniform(0.35, 0.9)
        image[max(0, horizon - h) : horizon, x : x + w] = (
            255
            * shade
            * np.array([rng.uniform(0.8, 1.0), rng.uniform(0.8, 1.0), rng.uniform(0.8, 1.0)])
        )
    road_top, road_bottom = _road(height)
    image[road_top:road_bottom] = (70, 70, 75)
    image[(road_top + road_bottom) // 2 : (road_top + road_bottom) // 2 + 2, ::24] = 220
    return np.clip(image, 0, 255).astype(np.uint8)


def _road(height: int) -> tuple[int, int]:
    top = int(height * 0.62) // 2 * 2
    return top, top + max(8, height // 8) // 2 * 2


class FrameRenderer:
    """Pictures of one camera: ``render(ms, t_us)`` gives the frame for that moment."""

    def __init__(
        self, *, camera_id: str, camera_index: int, width: int, height: int, loop: bool
    ) -> None:
        geometry = stamp_geometry(width, height)
        if geometry is None:
            raise ValueError(f"{width}x{height} is too small for the time stamp")
        self.camera_id = camera_id
        self.width, self.height = width, height
        self.loop = loop
        self._font = ImageFont.load_default(size=max(8, height // 22))
        self._margin = max(2, height // 60) // 2 * 2
        sample = f"8888-88-88 88:88:88.888 UTC  {camera_id}" + ("  LOOP" if loop else "")
        _, _, right, bottom = self._font.getbbox(sample)
        box_w = min(width - 2 * self._margin, int(right + 8) // 2 * 2)
        box_h = min(geometry.y - self._margin, int(bottom + 6) // 2 * 2)
        self._box = (self._margin, self._margin, box_w, box_h)
        self._alpha = np.zeros((box_h, box_w), dtype=np.uint16)
        self._suffix = f" UTC  {camera_id}" + ("  LOOP" if loop else "")
        self._seconds: tuple[int, npt.NDArray[np.uint16]] | None = None
        self._pieces: dict[str, npt.NDArray[np.uint16]] = {}
        rng = random.Random(1000 + camera_index)
        self._car_w = max(8, width // 12) // 2 * 2
        self._car_h = max(4, height // 18) // 2 * 2
        self._car_color = rgb_to_yuv420(
            np.full((4, 4, 3), [rng.randrange(40, 256) for _ in range(3)], dtype=np.uint8)
        )[[0, 4, 5], 0]
        self._speed = width * rng.uniform(0.08, 0.2)  # pixels per second
        self._background = self._bake(rgb_to_yuv420(_scene(camera_index, width, height)), geometry)
        self._frame = np.empty_like(self._background)

    def _bake(self, planes: Planes, stamp: StampGeometry) -> Planes:
        """Darken the text box and grey the stamp band once, in the static background."""
        x, y, w, h = self._box
        planes[y : y + h, x : x + w] //= 3
        for plane in self._chroma(planes):
            plane[y // 2 : (y + h) // 2, x // 2 : (x + w) // 2] = 128
            band_rows = slice(stamp.y // 2, (stamp.y + stamp.height) // 2)
            plane[band_rows, stamp.x // 2 : (stamp.x + stamp.width) // 2] = 128
        return planes

    def _chroma(self, planes: Planes) -> tuple[Planes, Planes]:
        h, w = self.height, self.width
        u = planes[h : h * 5 // 4].reshape(h // 2, w // 2)
        v = planes[h * 5 // 4 :].reshape(h // 2, w // 2)
        return u, v

    def render(self, ms: int, t_us: int) -> av.VideoFrame:
        """The picture showing time ``ms`` (text and stamp) with the scene at ``t_us``."""
        frame = self._frame
        np.copyto(frame, self._background)
        luma = frame[: self.height]
        self._draw_car(frame, t_us)
        self._draw_text(luma, ms)
        paint_stamp(luma, ms, loop=self.loop)
        return av.VideoFrame.from_ndarray(frame, format="yuv420p")

    def _draw_car(self, frame: Planes, t_us: int) -> None:
        travel = self.width + self._car_w
        x = int(t_us * self._speed / 1_000_000) % travel - self._car_w
        x0, x1 = max(0, x) // 2 * 2, min(self.width, x + self._car_w) // 2 * 2
        if x1 <= x0:
            return
        top, bottom = _road(self.height)
        y0 = (top + bottom - self._car_h) // 2 // 2 * 2
        y1 = y0 + self._car_h
        frame[y0:y1, x0:x1] = self._car_color[0]
        u, v = self._chroma(frame)
        u[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = self._car_color[1]
        v[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2] = self._car_color[2]

    def _piece(self, text: str) -> npt.NDArray[np.uint16]:
        """``text`` drawn white on black, as wide as the font advances over it."""
        height = self._box[3]
        width = max(1, int(self._font.getlength(text) + 0.5))
        image = Image.new("L", (width, height), 0)
        ImageDraw.Draw(image).text((0, 2), text, fill=255, font=self._font)
        return np.asarray(image, dtype=np.uint16)

    def _cached(self, text: str) -> npt.NDArray[np.uint16]:
        piece = self._pieces.get(text)
        if piece is None:
            piece = self._pieces[text] = self._piece(text)
        return piece

    def _draw_text(self, luma: Planes, ms: int) -> None:
        """``YYYY-MM-DD HH:MM:SS.mmm UTC  cam`` (+ ``LOOP``), from pieces drawn once each."""
        second = ms // 1000
        if self._seconds is None or self._seconds[0] != second:
            self._seconds = (
                second,
                self._piece(f"{from_us(second * 1_000_000):%Y-%m-%d %H:%M:%S}"),
            )
        alpha = self._alpha
        alpha.fill(0)
        cursor = 4
        for piece in (
            self._seconds[1],
            self._cached(f".{ms % 1000:03d}"),
            self._cached(self._suffix),
        ):
            width = min(piece.shape[1], alpha.shape[1] - cursor)
            if width <= 0:
                break
            np.maximum(
                alpha[:, cursor : cursor + width],
                piece[:, :width],
                out=alpha[:, cursor : cursor + width],
            )
            cursor += piece.shape[1]
        x, y, w, h = self._box
        box = luma[y : y + h, x : x + w]
        box[:] = (box * (255 - alpha) + WHITE * alpha) // 255
