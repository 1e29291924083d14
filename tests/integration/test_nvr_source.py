"""An NVR as an ArchiveSource: channels become cameras, the timeline comes from the device's
search (gaps included), and a short range opens as a downloaded MP4 segment whose start is
the time of its first frame."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from footage.archive.nvr import NvrArchive
from footage.domain import NotFound, TimeRange
from footage.media.picture import picture_at
from tests.helpers.devices import EMULATORS, emulator_config
from tests.helpers.media import picture_ms, tiny_archive

START = datetime(2024, 1, 1, 10, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def archive_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two recorded stretches per camera, 10:00:00-10:00:30 and 10:01:00-10:01:20."""
    root = tmp_path_factory.mktemp("nvr-archive")
    for start, seconds in ((START, 30), (START + timedelta(minutes=1), 20)):
        duration = timedelta(seconds=seconds)
        tiny_archive(root, start, duration, cameras=2, segment_seconds=10.0, workers=1)
    return root


@pytest.fixture(params=["hikvision", "dahua"])
def nvr(request: pytest.FixtureRequest, archive_root: Path, tmp_path: Path) -> Iterator[NvrArchive]:
    with EMULATORS[request.param](archive_root, work_dir=tmp_path / "emu", password="pw") as emu:
        config = emulator_config(emu, password="pw", name="gate")
        with NvrArchive.from_channel_counts([(config, 2)], tmp_path / "cache") as source:
            yield source


def test_channels_are_cameras(nvr: NvrArchive) -> None:
    source = next(iter(nvr._configs.values()))
    where = f"nvr:{source.host}:{source.port}"
    assert [(c.id, c.source, c.group) for c in nvr.cameras()] == [
        ("gate-ch1", where, "gate"),
        ("gate-ch2", where, "gate"),
    ]
    with pytest.raises(NotFound, match="gate-ch1, gate-ch2"):
        nvr.camera("gate-ch9")


def test_the_timeline_comes_from_the_device_search(nvr: NvrArchive) -> None:
    span = TimeRange(start=START + timedelta(seconds=20), end=START + timedelta(seconds=70))
    timeline = nvr.timeline("gate-ch2", span)
    assert [(s.start, s.end) for s in timeline.spans] == [
        (span.start, START + timedelta(seconds=30)),
        (START + timedelta(seconds=60), span.end),
    ]
    assert [(g.start, g.end) for g in timeline.gaps] == [
        (START + timedelta(seconds=30), START + timedelta(seconds=60))
    ]


def test_a_short_range_opens_as_a_segment(nvr: NvrArchive, tmp_path: Path) -> None:
    span = TimeRange(
        start=START + timedelta(seconds=63, milliseconds=500), end=START + timedelta(seconds=66)
    )
    segments = nvr.segments("gate-ch1", span)
    assert len(segments) == 1
    segment = segments[0]
    assert segment.start <= span.start and segment.end >= span.end - timedelta(seconds=0.2)
    assert (segment.width, segment.height, segment.container) == (160, 96, "mp4")
    # the segment's clock is right: the frame shown at a moment carries that moment's stamp
    picture = picture_at([segment], span.start, tmp_path / "p.jpg")
    shown = picture_ms(picture.path)
    assert abs(shown - int(span.start.timestamp() * 1000)) <= 100
    assert nvr.segments("gate-ch1", span) == segments  # from the cache
    empty = TimeRange(start=START + timedelta(seconds=40), end=START + timedelta(seconds=45))
    assert nvr.segments("gate-ch1", empty) == []
