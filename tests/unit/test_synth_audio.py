"""The synthetic tone: locked to the absolute clock, so segments join without a phase jump."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from footage.media.synth import AUDIO_RATE, expected_sample, tone_hz, tone_samples
from footage.media.synth.audio import AMPLITUDE, sample_index

T0_US = 1_795_000_000_000_000


def test_each_camera_has_its_own_whole_hertz_tone_below_nyquist() -> None:
    tones = [tone_hz(i) for i in range(1, 61)]
    assert len(set(tones)) == 60
    assert all(isinstance(f, int) and 0 < f < AUDIO_RATE / 2 for f in tones)


def test_expected_sample_is_the_sine_of_absolute_time() -> None:
    for offset_us in (0, 62_500, 1_000_000, 123_456_750):
        t_us = T0_US + offset_us
        exact = AMPLITUDE * math.sin(2 * math.pi * tone_hz(2) * (t_us % 1_000_000) / 1e6)
        assert abs(expected_sample(t_us, 2) - exact) < 1e-6


@given(
    first=st.integers(min_value=0, max_value=10**14),
    split=st.integers(min_value=0, max_value=3000),
    rest=st.integers(min_value=0, max_value=3000),
    camera=st.integers(min_value=1, max_value=100),
)
def test_pieces_join_into_the_whole(first: int, split: int, rest: int, camera: int) -> None:
    whole = tone_samples(first, split + rest, camera)
    joined = np.concatenate(
        [tone_samples(first, split, camera), tone_samples(first + split, rest, camera)]
    )
    assert np.array_equal(whole, joined)


def test_tone_samples_agree_with_expected_sample() -> None:
    first = sample_index(T0_US, AUDIO_RATE)
    samples = tone_samples(first, 50, 3)
    for i in (0, 1, 17, 49):
        t_us = T0_US + i * 1_000_000 // AUDIO_RATE
        assert abs(float(samples[i]) - expected_sample(t_us, 3)) < 1e-6
