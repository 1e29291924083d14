"""The machine-readable time stamp burnt into every synthetic frame, and reading it back.

The pattern is a grid of 20 x 4 square cells (black = 0, white = 1) in the bottom-left corner,
cells of 16, 8 or 4 pixels (the largest that fits the picture), aligned to 16-pixel
macroblock rows so it survives lossy coding. Read row by row, the 80 cells are::

    guard 1011 | 44-bit ms since the epoch | loop flag | version 101 | CRC-24 | guard 1101

The CRC-24 (OpenPGP polynomial) covers the 48 bits between the guards. A frame made by
looping a template carries the loop flag: its time is the template's, not its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import av
import numpy as np
import numpy.typing as npt

from footage.domain import MediaError

COLS, ROWS = 20, 4
CELLS = COLS * ROWS
MS_BITS = 44
_START_GUARD = (1, 0, 1, 1)
_STOP_GUARD = (1, 1, 0, 1)
_VERSION = (1, 0, 1)
_CRC_BITS = 24
_CRC_POLY = 0x864CFB
_CRC_INIT = 0xB704CE
_BLOCK_SIZES = (16, 8, 4)
BLACK, WHITE = 16, 235  # video-range luma
_LOW, _HIGH = 96, 160  # a readable cell is darker or brighter than these (full range)


@dataclass(frozen=True, slots=True, kw_only=True)
class Stamp:
    ms: int
    loop: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class StampGeometry:
    block: int
    x: int
    y: int

    @property
    def width(self) -> int:
        return COLS * self.block

    @property
    def height(self) -> int:
        return ROWS * self.block


def stamp_geometry(width: int, height: int) -> StampGeometry | None:
    """Where the pattern sits in a ``width`` x ``height`` picture, or None if it cannot fit."""
    for block in _BLOCK_SIZES:
        if COLS * block <= width and ROWS * block * 3 <= height:
            y = (height - ROWS * block) // 16 * 16
            return StampGeometry(block=block, x=0, y=y)
    return None


def _crc24(value: int, nbits: int) -> int:
    crc = _CRC_INIT
    for shift in range(nbits - 1, -1, -1):
        top = (crc >> 23) & 1
        crc = (crc << 1) & 0xFFFFFF
        if ((value >> shift) & 1) ^ top:
            crc ^= _CRC_POLY
    return crc


def _to_bits(value: int, nbits: int) -> list[int]:
    return [(value >> shift) & 1 for shift in range(nbits - 1, -1, -1)]


def _from_bits(bits: npt.NDArray[np.uint8]) -> int:
    value = 0
    for bit in bits:
        value = (value << 1) | int(bit)
    return value


def stamp_bits(ms: int, *, loop: bool = False) -> npt.NDArray[np.uint8]:
    """The 80 cells (0/1, row by row) that encode ``ms`` and the loop flag."""
    if not 0 <= ms < 1 << MS_BITS:
        raise ValueError(f"{ms} ms is outside what the stamp can hold")
    payload = (ms << 4) | (int(loop) << 3) | _from_bits(np.array(_VERSION, dtype=np.uint8))
    bits = [
        *_START_GUARD,
        *_to_bits(payload, MS_BITS + 4),
        *_to_bits(_crc24(payload, MS_BITS + 4), _CRC_BITS),
        *_STOP_GUARD,
    ]
    return np.array(bits, dtype=np.uint8)


def paint_stamp(luma: npt.NDArray[np.uint8], ms: int, *, loop: bool = False) -> StampGeometry:
    """Paint the pattern for ``ms`` into a luma plane (H, W) in place; return where it went."""
    height, width = luma.shape
    geometry = stamp_geometry(width, height)
    if geometry is None:
        raise ValueError(f"a {width}x{height} picture is too small for the time stamp")
    cells = stamp_bits(ms, loop=loop).reshape(ROWS, COLS) * np.uint8(WHITE - BLACK) + BLACK
    block = geometry.block
    pixels = np.repeat(np.repeat(cells, block, axis=0), block, axis=1)
    luma[geometry.y : geometry.y + geometry.height, geometry.x : geometry.x + geometry.width] = (
        pixels
    )
    return geometry


def _luma(image: Any) -> npt.NDArray[np.int32]:
    if isinstance(image, av.VideoFrame):
        image = image.to_ndarray(format="gray")
    array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] in (3, 4) and array.dtype == np.uint8:
        rgb = array[:, :, :3].astype(np.int32)
        return (77 * rgb[:, :, 0] + 150 * rgb[:, :, 1] + 29 * rgb[:, :, 2]) >> 8
    if array.ndim == 2 and array.dtype == np.uint8:
        return array.astype(np.int32)
    raise MediaError(
        f"cannot read a time stamp from an array of shape {array.shape} and type "
        f"{array.dtype}; give an RGB (H, W, 3) uint8 image or an av.VideoFrame"
    )


def _read_cells(luma: npt.NDArray[np.int32], geometry: StampGeometry) -> Stamp | None:
    block = geometry.block
    inner = slice(block // 4, block - block // 4)
    band = luma[geometry.y : geometry.y + geometry.height, geometry.x : geometry.x + geometry.width]
    cells = band.reshape(ROWS, block, COLS, block)[:, inner, :, inner].mean(axis=(1, 3))
    cells = cells.reshape(-1)
    if np.any((cells > _LOW) & (cells < _HIGH)):
        return None
    bits = (cells >= _HIGH).astype(np.uint8)
    if tuple(bits[:4]) != _START_GUARD or tuple(bits[-4:]) != _STOP_GUARD:
        return None
    payload = _from_bits(bits[4 : 4 + MS_BITS + 4])
    crc = _from_bits(bits[4 + MS_BITS + 4 : -4])
    if payload & 0b111 != 0b101 or _crc24(payload, MS_BITS + 4) != crc:
        return None
    return Stamp(ms=payload >> 4, loop=bool(payload & 0b1000))


def read_stamp(image: Any) -> Stamp:
    """The stamp in ``image`` (RGB uint8 array, luma array or av.VideoFrame).

    Raises MediaError when no valid pattern is there.
    """
    luma = _luma(image)
    height, width = luma.shape
    geometry = stamp_geometry(width, height)
    found = None if geometry is None else _read_cells(luma, geometry)
    if found is not None:
        return found
    raise MediaError(
        f"no valid time stamp pattern in this {width}x{height} picture; it reads only "
        "frames made by footage's synthetic-footage generator"
    )


def decode_stamp(image: Any, *, allow_loop: bool = False) -> int:
    """Milliseconds since the epoch that ``image`` shows.

    A looped frame (see ``Stamp.loop``) shows its template's time, not its own; it raises
    MediaError unless ``allow_loop`` is true, so a caller never takes it for a true time.
    """
    stamp = read_stamp(image)
    if stamp.loop and not allow_loop:
        raise MediaError(
            "this frame carries a LOOP stamp (a copy of a template segment), so its time is "
            "not its own; generate with stamps='exact' for true per-frame times"
        )
    return stamp.ms
