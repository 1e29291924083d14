"""The Hikvision driver against the ISAPI emulator over real sockets."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from PIL import Image

from footage.devices import DeviceConfig, NoRecording, StageEvent, Timeouts
from footage.devices.hikvision.client import HikvisionDevice
from footage.devices.hikvision.emulator import HikvisionEmulator
from footage.devices.hikvision.search import NAMESPACE_ISAPI
from footage.domain import TimeRange
from footage.media.synth import decode_stamp
from tests.helpers.devices import emulator_config
from tests.helpers.media import tiny_archive

START = datetime(2024, 1, 1, 10, 0, 0, tzinfo=UTC)
GOP = timedelta(seconds=1)  # gop 10 at 10 fps
TIMEOUTS = Timeouts(connect=2, read=5, idle=2, download=30)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hik-archive")
    duration = timedelta(minutes=2)
    return tiny_archive(root, START, duration, cameras=2, segment_seconds=2.0, audio=True)


@pytest.fixture(scope="module")
def emulator(
    archive: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[HikvisionEmulator]:
    work = tmp_path_factory.mktemp("hik-emulator")
    with HikvisionEmulator(
        archive, user="admin", password="s3cret", utc_offset=timedelta(hours=8), work_dir=work
    ) as emu:
        yield emu


def config(emu: HikvisionEmulator, **changes: Any) -> DeviceConfig:
    options = {"user": "admin", "password": "s3cret", "timeouts": TIMEOUTS}
    return emulator_config(emu, **(options | changes))


@pytest.fixture
def device(emulator: HikvisionEmulator) -> Iterator[HikvisionDevice]:
    with httpx.Client() as client, HikvisionDevice(config(emulator), client) as dev:
        yield dev


def stamps(path: Path) -> list[datetime]:
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    return [
        datetime.fromtimestamp(decode_stamp(f.to_ndarray(format="rgb24")) / 1000, UTC)
        for f in (frames[0], frames[-1])
    ]


def test_search_pages_through_every_segment(device: HikvisionDevice) -> None:
    span = TimeRange(start=START, end=START + timedelta(minutes=2))
    found = device.search(2, span)  # 60 segments of 2 s, pages of at most 64
    assert len(found) == 60
    assert found[0].start == START and found[-1].end == span.end
    assert all(a.end == b.start for a, b in itertools.pairwise(found))
    assert all("/tracks/201/" in r.locator for r in found)


def test_search_pages_of_ten(emulator: HikvisionEmulator) -> None:
    with httpx.Client() as client, HikvisionDevice(config(emulator, page_size=10), client) as dev:
        before = emulator.stats.requests
        found = dev.search(1, TimeRange(start=START, end=START + timedelta(seconds=61)))
        assert len(found) == 31
        assert emulator.stats.requests - before >= 4 + 1  # 4 pages and the login


def test_truncated_listings_are_split(archive: Path, tmp_path: Path) -> None:
    events: list[StageEvent] = []
    with HikvisionEmulator(archive, password="p", max_matches=16, work_dir=tmp_path) as emu:
        cfg = config(emu, password="p", truncation_limit=16, timezone="UTC")
        with httpx.Client() as client, HikvisionDevice(cfg, client, on_stage=events.append) as dev:
            found = dev.search(1, TimeRange(start=START, end=START + timedelta(minutes=2)))
    assert len(found) == 60  # every segment despite the device listing at most 16
    assert any(e.reason == "truncated" for e in events)


def test_download_is_an_mp4_of_the_requested_range(device: HikvisionDevice, tmp_path: Path) -> None:
    span = TimeRange(start=START + timedelta(seconds=30.5), end=START + timedelta(seconds=41))
    progress: list[int] = []
    result = device.download(
        1, span, tmp_path / "clip.mp4", progress=lambda n, _t: progress.append(n)
    )
    assert result.raw_format == "hikvision-ps" and result.attempts == 1
    assert progress[-1] == result.raw_bytes > 0
    first, last = stamps(result.path)
    assert span.start - GOP <= first <= span.start
    assert span.end - GOP <= last < span.end
    assert not list(tmp_path.glob(".*"))  # no raw or partial files left behind


def test_download_without_recording(device: HikvisionDevice, tmp_path: Path) -> None:
    span = TimeRange(start=START + timedelta(hours=5), end=START + timedelta(hours=6))
    with pytest.raises(NoRecording):
        device.download(1, span, tmp_path / "none.mp4")
    assert not (tmp_path / "none.mp4").exists()


def test_picture_from_the_recording_and_live(device: HikvisionDevice, tmp_path: Path) -> None:
    at = START + timedelta(seconds=20)
    recorded = device.picture(1, at, tmp_path / "at.jpg", source="recording")
    assert recorded.source == "recording"
    shown = decode_stamp(np.asarray(Image.open(recorded.path).convert("RGB")))
    assert abs(shown - at.timestamp() * 1000) <= GOP.total_seconds() * 1000
    live = device.picture(1, at, tmp_path / "live.jpg", source="live")
    assert live.source == "live" and live.path.read_bytes()[:2] == b"\xff\xd8"


def test_clock_offset_reports_zone_and_skew(archive: Path, tmp_path: Path) -> None:
    with HikvisionEmulator(
        archive,
        password="p",
        utc_offset=timedelta(hours=-5),
        faults="clock:+120",
        work_dir=tmp_path,
    ) as emu:
        cfg = config(emu, password="p", clock="correct")
        with httpx.Client() as client, HikvisionDevice(cfg, client) as dev:
            reading = dev.clock_offset()
            assert reading.utc_offset == timedelta(hours=-5)
            assert abs(reading.skew.total_seconds() - 120) < 1.5
            span = TimeRange(start=START + timedelta(seconds=10), end=START + timedelta(seconds=15))
            first, _ = stamps(dev.download(1, span, tmp_path / "c.mp4").path)
            assert span.start - GOP <= first <= span.start  # the skew was corrected


def test_isapi_namespace_and_basic_auth(archive: Path, tmp_path: Path) -> None:
    with HikvisionEmulator(
        archive, password="p", namespace=NAMESPACE_ISAPI, auth="basic", work_dir=tmp_path
    ) as emu:
        with (
            httpx.Client() as client,
            HikvisionDevice(config(emu, password="p", timezone="UTC"), client) as dev,
        ):
            found = dev.search(1, TimeRange(start=START, end=START + timedelta(seconds=10)))
            assert len(found) == 5
            assert dev.info is not None and dev.info.model
