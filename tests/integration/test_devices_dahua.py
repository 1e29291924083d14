"""The Dahua driver against the Dahua emulator over real sockets."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import av
import httpx
import numpy as np
import pytest
from PIL import Image

from footage.devices import DeviceConfig, DeviceError, NoRecording, Timeouts
from footage.devices.dahua.client import DahuaDevice
from footage.devices.dahua.emulator import DahuaEmulator
from footage.domain import TimeRange
from footage.media.device_media import remux_to_mp4
from footage.media.synth import decode_stamp
from tests.helpers.devices import emulator_config
from tests.helpers.media import tiny_archive

START = datetime(2024, 1, 1, 10, 0, 0, tzinfo=UTC)
GOP = timedelta(seconds=1)
TIMEOUTS = Timeouts(connect=2, read=5, idle=2, download=30)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("dahua-archive")
    duration = timedelta(seconds=90)
    return tiny_archive(root, START, duration, cameras=2, segment_seconds=1.0, audio=True)


@pytest.fixture(scope="module")
def emulator(archive: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DahuaEmulator]:
    work = tmp_path_factory.mktemp("dahua-emulator")
    with DahuaEmulator(
        archive,
        password="s3cret",
        channel_base=0,
        utc_offset=timedelta(hours=8),
        work_dir=work,
    ) as emu:
        yield emu


def config(emu: DahuaEmulator, **changes: Any) -> DeviceConfig:
    options = {"password": "s3cret", "channel_base": 0, "timezone": "+08:00", "timeouts": TIMEOUTS}
    return emulator_config(emu, **(options | changes))


@pytest.fixture
def device(emulator: DahuaEmulator) -> Iterator[DahuaDevice]:
    with httpx.Client() as client, DahuaDevice(config(emulator), client) as dev:
        yield dev


def shown(frame: av.VideoFrame) -> datetime:
    return datetime.fromtimestamp(decode_stamp(frame.to_ndarray(format="rgb24")) / 1000, UTC)


def test_find_lists_every_file_over_several_pages(device: DahuaDevice) -> None:
    found = device.search(2, TimeRange(start=START, end=START + timedelta(seconds=90)))
    assert len(found) == 90  # findNextFile pages of 64 and 26, then found=0
    assert found[0].start == START and found[-1].end == START + timedelta(seconds=90)
    assert found[0].locator.startswith("/mnt/dvr/2024-01-01/001/dav/18/18.00.00-")
    assert found[0].flags == ("Timing",)


def test_find_releases_its_objects(device: DahuaDevice, emulator: DahuaEmulator) -> None:
    device.search(1, TimeRange(start=START, end=START + timedelta(seconds=5)))
    assert emulator._finders == {}  # close and destroy were sent


def test_one_based_channels_on_a_zero_based_device_miss(emulator: DahuaEmulator) -> None:
    span = TimeRange(start=START, end=START + timedelta(seconds=5))
    with httpx.Client() as client, DahuaDevice(config(emulator, channel_base=1), client) as dev:
        assert "/001/" in dev.search(1, span)[0].locator  # the device's channel 1: camera 2
        with pytest.raises(DeviceError) as caught:
            dev.search(2, span)
    assert caught.value.vendor_text == "Bad Request!"


def test_download_by_time_is_exact(device: DahuaDevice, tmp_path: Path) -> None:
    span = TimeRange(start=START + timedelta(seconds=30.5), end=START + timedelta(seconds=40))
    result = device.download(1, span, tmp_path / "clip.mp4")
    assert result.raw_format == "dhav"
    assert result.first_frame is not None
    assert span.start - GOP <= result.first_frame <= span.start
    with av.open(str(result.path)) as container:
        frames = list(container.decode(video=0))
    assert span.start - GOP <= shown(frames[0]) <= span.start
    assert span.end - GOP <= shown(frames[-1]) < span.end


def test_no_recording(device: DahuaDevice, tmp_path: Path) -> None:
    span = TimeRange(start=START - timedelta(hours=2), end=START - timedelta(hours=1))
    with pytest.raises(NoRecording):
        device.download(1, span, tmp_path / "none.mp4")


def test_windows_over_six_hours_are_refused_by_the_device(emulator: DahuaEmulator) -> None:
    path = (
        "/cgi-bin/loadfile.cgi?action=startLoad&channel=0&startTime=2024-01-01%2000:00:00"
        "&endTime=2024-01-01%2007:00:00&subtype=0"
    )
    with httpx.Client(auth=httpx.DigestAuth("admin", "s3cret")) as client:
        response = client.get(emulator.url + path)
    assert response.status_code == 400 and response.text.startswith("Error")


def test_long_downloads_are_split_into_device_windows(
    emulator: DahuaEmulator, tmp_path: Path
) -> None:
    cfg = config(emulator, max_window=timedelta(seconds=4))
    span = TimeRange(start=START + timedelta(seconds=10), end=START + timedelta(seconds=20))
    with httpx.Client() as client, DahuaDevice(cfg, client) as dev:
        result = dev.download(1, span, tmp_path / "joined.mp4")
    assert result.attempts == 3  # three pieces of at most 4 s, appended
    assert 9 <= result.duration <= 12


def test_whole_file_download_resumes(device: DahuaDevice, tmp_path: Path) -> None:
    recording = device.search(1, TimeRange(start=START, end=START + timedelta(seconds=1)))[0]
    transfer = device.download_file(recording, tmp_path / "file.dav")
    assert transfer.kind == "dhav" and transfer.size == transfer.path.stat().st_size
    remux_to_mp4(transfer.path, tmp_path / "file.mp4")


def test_picture_is_the_exact_frame(device: DahuaDevice, tmp_path: Path) -> None:
    at = START + timedelta(seconds=12.3)
    result = device.picture(1, at, tmp_path / "at.jpg", source="recording")
    image = np.asarray(Image.open(result.path).convert("RGB"))
    assert decode_stamp(image) == int(at.timestamp() * 1000)
    live = device.picture(1, at, tmp_path / "live.jpg", source="live")
    assert live.path.read_bytes()[:2] == b"\xff\xd8"


def test_clock_without_zone_is_estimated(archive: Path, tmp_path: Path) -> None:
    with DahuaEmulator(
        archive,
        password="p",
        utc_offset=timedelta(hours=5, minutes=30),
        faults="clock:-45",
        work_dir=tmp_path,
    ) as emu:
        cfg = config(emu, password="p", channel_base=1, timezone="device", clock="correct")
        with httpx.Client() as client, DahuaDevice(cfg, client) as dev:
            reading = dev.clock_offset()
            assert reading.utc_offset == timedelta(hours=5, minutes=30)
            assert abs(reading.skew.total_seconds() + 45) < 1.5
            span = TimeRange(start=START + timedelta(seconds=10), end=START + timedelta(seconds=12))
            result = dev.download(1, span, tmp_path / "c.mp4")
            assert result.first_frame == span.start
