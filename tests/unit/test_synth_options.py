"""Checking synthetic-footage options: bad values are refused with a message that helps."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from footage.domain import InvalidRequest
from footage.media.synth import SynthOptions, generate
from footage.media.synth.options import check_options, resolve

START = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"layout": "zoneminder"}, r"unknown layout 'zoneminder'; choose one of"),
        ({"container": "avi"}, r"unknown container 'avi'; choose one of fmp4, mp4, ts"),
        ({"codec": "vp9"}, r"unknown codec 'vp9'; choose one of h264, hevc"),
        ({"stamps": "sometimes"}, r"unknown stamps mode"),
        ({"fps": 0}, r"fps must be a whole number from 1"),
        ({"fps": -5}, r"fps must be a whole number"),
        ({"gop": 0}, r"gop must be a whole number"),
        ({"cameras": 0}, r"cameras must be a whole number"),
        ({"resolution": (641, 360)}, r"odd side; 4:2:0 video needs even"),
        ({"resolution": (640, 361)}, r"odd side"),
        ({"resolution": (64, 32)}, r"out of range; use from 80x48"),
        ({"resolution": (8000, 4000)}, r"out of range"),
        ({"segment_seconds": 0}, r"segment_seconds must be positive"),
        ({"segment_seconds": 1.03}, r"whole number\s+of frames"),
        ({"duration": timedelta(0)}, r"duration must be positive"),
        ({"bitrate": 100}, r"bitrate 100 bit/s is too low"),
        ({"camera_prefix": "bad/name"}, r"camera id 'bad/name1' is not valid"),
        ({"start": datetime(2026, 11, 21, 9, 0)}, r"has no time zone"),
        ({"layout": "frigate", "segment_seconds": 2.5, "fps": 10}, r"whole-second\s+segment"),
        (
            {"layout": "frigate", "start": START + timedelta(milliseconds=500)},
            r"start on a whole\s+second",
        ),
    ],
)
def test_bad_options_say_what_to_do(changes: dict[str, object], message: str) -> None:
    options = SynthOptions(**{"start": START, **changes})  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest, match=message):
        check_options(options)


def test_generate_checks_before_writing(tmp_path: Path) -> None:
    with pytest.raises(InvalidRequest):
        generate(tmp_path / "out", SynthOptions(codec="mpeg2"))
    assert not (tmp_path / "out").exists()


def test_good_options_pass() -> None:
    check_options(SynthOptions())
    check_options(SynthOptions(layout="frigate", segment_seconds=10, container="ts"))
    check_options(SynthOptions(segment_seconds=2.5, fps=10, gop=5, codec="hevc"))


def test_resolve_floors_a_missing_start_to_a_whole_second() -> None:
    now = datetime(2026, 11, 21, 9, 30, 15, 654321, tzinfo=UTC)
    settled = resolve(SynthOptions(duration=timedelta(minutes=10)), now=now)
    assert settled.start == datetime(2026, 11, 21, 9, 20, 15, tzinfo=UTC)


def test_resolve_keeps_a_given_start_in_utc() -> None:
    local = datetime(2026, 11, 21, 17, 0, tzinfo=timezone(timedelta(hours=8)))
    assert resolve(SynthOptions(start=local)).start == START


@pytest.mark.parametrize(
    ("cameras", "duration", "expected"),
    [
        (3, timedelta(minutes=10), "exact"),
        (1, timedelta(minutes=30), "exact"),
        (2, timedelta(minutes=16), "loop"),
        (3, timedelta(hours=24), "loop"),
    ],
)
def test_auto_stamps_pick_exact_only_for_small_archives(
    cameras: int, duration: timedelta, expected: str
) -> None:
    settled = resolve(SynthOptions(cameras=cameras, duration=duration, start=START))
    assert settled.stamps == expected


def test_explicit_stamps_are_kept() -> None:
    options = SynthOptions(duration=timedelta(hours=24), stamps="exact", start=START)
    assert resolve(options).stamps == "exact"
