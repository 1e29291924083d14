"""The synthetic sound track: a sine tone locked to the absolute clock.

Camera *k* (1-based) plays ``tone_hz(k)`` Hz, a whole number, at amplitude ``AMPLITUDE``.
Absolute sample *n* (``n = round(t_us * rate / 1e6)``, counted from the Unix epoch) has the
value ``AMPLITUDE * sin(2π * ((n * f) mod rate) / rate)``: computed from whole numbers, so
consecutive segments continue the same wave without a phase jump, and a test can check any
decoded sample against ``expected_sample``.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

AUDIO_RATE = 16_000
AMPLITUDE = 0.25


def tone_hz(camera_index: int) -> int:
    """The tone of camera ``camera_index`` (1-based): 300, 400, ... Hz, repeating after 60."""
    return 300 + 100 * ((camera_index - 1) % 60)


def sample_index(t_us: int, sample_rate: int) -> int:
    """The absolute sample number at ``t_us`` microseconds since the epoch (rounded)."""
    return (t_us * sample_rate + 500_000) // 1_000_000


def expected_sample(t_us: int, camera_index: int, sample_rate: int = AUDIO_RATE) -> float:
    """The value the sound track of camera ``camera_index`` has at ``t_us`` (before coding)."""
    n = sample_index(t_us, sample_rate)
    cycles = (n % sample_rate) * tone_hz(camera_index) % sample_rate
    return AMPLITUDE * math.sin(2 * math.pi * cycles / sample_rate)


def tone_samples(
    first: int, count: int, camera_index: int, sample_rate: int = AUDIO_RATE
) -> npt.NDArray[np.float32]:
    """Absolute samples ``first .. first + count - 1`` of camera ``camera_index``'s tone."""
    n = np.arange(first, first + count, dtype=np.int64) % sample_rate
    cycles = n * tone_hz(camera_index) % sample_rate
    return (AMPLITUDE * np.sin(2 * np.pi * cycles / sample_rate)).astype(np.float32)
