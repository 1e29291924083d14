"""The machine-readable time stamp: painting, reading back, refusing garbage."""

from __future__ import annotations

import av
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from footage.domain import MediaError
from footage.media.synth import decode_stamp, paint_stamp, read_stamp
from footage.media.synth.stamp import CELLS, MS_BITS, stamp_bits, stamp_geometry

MS = 1_795_000_000_123


def _picture(width: int, height: int, ms: int, *, loop: bool = False) -> np.ndarray:
    rng = np.random.default_rng(ms % 1000)
    luma = rng.integers(40, 200, size=(height, width), dtype=np.uint8)
    paint_stamp(luma, ms, loop=loop)
    return np.repeat(luma[:, :, None], 3, axis=2)


@pytest.mark.parametrize("size", [(640, 360), (160, 96), (80, 48), (1920, 1080), (352, 288)])
def test_round_trip_at_every_size(size: tuple[int, int]) -> None:
    image = _picture(*size, MS)
    assert decode_stamp(image) == MS
    assert read_stamp(image).loop is False


def test_block_size_follows_the_picture() -> None:
    assert stamp_geometry(640, 360) is not None
    assert stamp_geometry(640, 360).block == 16  # type: ignore[union-attr]
    assert stamp_geometry(160, 96).block == 8  # type: ignore[union-attr]
    assert stamp_geometry(80, 48).block == 4  # type: ignore[union-attr]
    assert stamp_geometry(78, 48) is None
    assert stamp_geometry(80, 46) is None


def test_cells_sit_on_macroblock_rows() -> None:
    geometry = stamp_geometry(640, 360)
    assert geometry is not None
    assert geometry.y % 16 == 0 and geometry.x % 16 == 0
    assert geometry.y + geometry.height <= 360


def test_loop_flag_is_reported_and_refused_by_default() -> None:
    image = _picture(640, 360, MS, loop=True)
    assert read_stamp(image).loop is True
    assert read_stamp(image).ms == MS
    with pytest.raises(MediaError, match="LOOP"):
        decode_stamp(image)
    assert decode_stamp(image, allow_loop=True) == MS


def test_reads_a_video_frame_and_a_luma_plane() -> None:
    image = _picture(320, 180, MS)
    frame = av.VideoFrame.from_ndarray(image, format="rgb24").reformat(format="yuv420p")
    assert decode_stamp(frame) == MS
    assert decode_stamp(np.ascontiguousarray(image[:, :, 0])) == MS


@settings(max_examples=200, deadline=None)
@given(ms=st.integers(min_value=0, max_value=(1 << MS_BITS) - 1), loop=st.booleans())
def test_any_time_round_trips(ms: int, loop: bool) -> None:
    stamp = read_stamp(_picture(160, 96, ms, loop=loop))
    assert (stamp.ms, stamp.loop) == (ms, loop)


def test_out_of_range_times_are_refused() -> None:
    with pytest.raises(ValueError):
        stamp_bits(-1)
    with pytest.raises(ValueError):
        stamp_bits(1 << MS_BITS)
    assert len(stamp_bits(0)) == CELLS


@pytest.mark.parametrize(
    "image",
    [
        np.zeros((360, 640, 3), np.uint8),
        np.full((360, 640, 3), 255, np.uint8),
        np.random.default_rng(1).integers(0, 256, size=(360, 640, 3), dtype=np.uint8),
        (np.random.default_rng(2).integers(0, 2, size=(360, 640, 3)) * 255).astype(np.uint8),
        np.zeros((40, 40, 3), np.uint8),
    ],
    ids=["black", "white", "noise", "binary-noise", "too-small"],
)
def test_garbage_is_not_a_stamp(image: np.ndarray) -> None:
    with pytest.raises(MediaError, match="no valid time stamp"):
        decode_stamp(image)


def test_one_flipped_cell_is_caught() -> None:
    geometry = stamp_geometry(640, 360)
    assert geometry is not None
    for cell in (0, 10, 50, 70, 79):
        image = _picture(640, 360, MS)
        row, col = divmod(cell, 20)
        y = geometry.y + row * geometry.block
        x = geometry.x + col * geometry.block
        image[y : y + geometry.block, x : x + geometry.block] ^= 255
        with pytest.raises(MediaError):
            decode_stamp(image)


def test_a_blurred_cell_is_refused_rather_than_guessed() -> None:
    geometry = stamp_geometry(640, 360)
    assert geometry is not None
    image = _picture(640, 360, MS)
    image[geometry.y : geometry.y + 16, 32:48] = 128
    with pytest.raises(MediaError):
        decode_stamp(image)


def test_wrong_array_types_are_refused() -> None:
    with pytest.raises(MediaError, match="RGB"):
        decode_stamp(np.zeros((360, 640, 3), np.float32))
    with pytest.raises(MediaError):
        decode_stamp(np.zeros((2, 360, 640, 3), np.uint8))
