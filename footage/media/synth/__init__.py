"""Synthetic recorded footage: camera-like archives whose frames carry their own time.

``generate(root, SynthOptions(...))`` writes segments at the paths a layout gives and reports
them. Every frame shows its wall-clock time as text and as a block pattern that
``decode_stamp`` reads back; the sound is a tone locked to the clock (``expected_sample``).
"""

from footage.media.synth.audio import AUDIO_RATE, expected_sample, tone_hz, tone_samples
from footage.media.synth.generate import generate
from footage.media.synth.options import SynthOptions
from footage.media.synth.plan import plan_archive
from footage.media.synth.report import GenerationReport, WrittenSegment
from footage.media.synth.stamp import Stamp, decode_stamp, paint_stamp, read_stamp

__all__ = [
    "AUDIO_RATE",
    "GenerationReport",
    "Stamp",
    "SynthOptions",
    "WrittenSegment",
    "decode_stamp",
    "expected_sample",
    "generate",
    "paint_stamp",
    "plan_archive",
    "read_stamp",
    "tone_hz",
    "tone_samples",
]
