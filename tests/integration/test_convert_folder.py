"""MP4 -> JPG for a folder: first frame, an offset, every N seconds; bad files fail alone."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from footage.domain import NotFound, to_us
from footage.media.picture import ConvertMode, PictureOptions, convert_folder
from tests.helpers.media import picture_ms, tiny_report

START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
BASE_MS = to_us(START) // 1000


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Three 3 s clips (25 fps, key frame every second), starting at 0, 3 and 6 s."""
    root = tmp_path_factory.mktemp("source")
    media = {"container": "mp4", "resolution": (320, 180), "fps": 25, "gop": 25, "audio": True}
    report = tiny_report(root, START, timedelta(seconds=9), segment_seconds=3.0, **media)
    return [w.path for w in sorted(report.segments, key=lambda w: w.start)]


@pytest.fixture
def folder(tmp_path: Path, clips: list[Path]) -> Path:
    """a.mp4, b.MP4, sub/c.mp4, plus garbage.mp4, empty.mp4, truncated.mp4 and notes.txt.

    truncated.mp4 ends inside its header (unreadable); sub/cut.mp4 keeps its header and its
    first second of video only.
    """
    shutil.copyfile(clips[0], tmp_path / "a.mp4")
    shutil.copyfile(clips[1], tmp_path / "b.MP4")
    (tmp_path / "sub").mkdir()
    shutil.copyfile(clips[2], tmp_path / "sub" / "c.mp4")
    (tmp_path / "garbage.mp4").write_bytes(np.random.default_rng(1).bytes(50_000))
    (tmp_path / "empty.mp4").write_bytes(b"")
    whole = clips[0].read_bytes()
    (tmp_path / "truncated.mp4").write_bytes(whole[:1000])
    (tmp_path / "sub" / "cut.mp4").write_bytes(whole[: len(whole) // 3])
    (tmp_path / "notes.txt").write_text("not a clip")
    return tmp_path


def stamp_ms(path: Path) -> int:
    return picture_ms(path) - BASE_MS


def test_first_frame_with_bad_files_failing_alone(folder: Path) -> None:
    seen: list[float] = []
    report = convert_folder(folder, ConvertMode.first_frame(), workers=2, progress=seen.append)
    assert [(clip.name, [p.name for p in jpgs]) for clip, jpgs in report.converted] == [
        ("a.mp4", ["a.jpg"]),
        ("b.MP4", ["b.jpg"]),
    ]
    assert stamp_ms(folder / "a.jpg") == 0
    assert stamp_ms(folder / "b.jpg") == 3000
    failed = dict((clip.name, reason) for clip, reason in report.failed)
    assert sorted(failed) == ["empty.mp4", "garbage.mp4", "truncated.mp4"]
    assert "empty" in failed["empty.mp4"]
    assert "not readable" in failed["garbage.mp4"]
    assert "truncated.mp4" in failed["truncated.mp4"]
    assert seen[-1] == 1.0 and len(seen) == 5
    assert not (folder / "sub" / "c.jpg").exists()
    assert not list(folder.glob(".*"))  # no temporary files left


def test_frame_at_an_offset_and_recursion(folder: Path) -> None:
    mode = ConvertMode.at_offset(timedelta(seconds=1.23))
    report = convert_folder(folder, mode, workers=1, recursive=True)
    assert [clip.name for clip, _ in report.converted] == ["a.mp4", "b.MP4", "c.mp4"]
    assert stamp_ms(folder / "a.jpg") == 1200  # the frame at or before the offset
    assert stamp_ms(folder / "b.jpg") == 4200
    assert stamp_ms(folder / "sub" / "c.jpg") == 7200
    reasons = dict((clip.name, reason) for clip, reason in report.failed)
    assert sorted(reasons) == ["cut.mp4", "empty.mp4", "garbage.mp4", "truncated.mp4"]
    assert "cut.mp4 is truncated" in reasons["cut.mp4"]
    assert not (folder / "sub" / "cut.jpg").exists()


def test_the_first_frame_of_a_cut_clip_is_still_there(folder: Path) -> None:
    report = convert_folder(folder / "sub", ConvertMode.first_frame(), workers=1)
    assert [clip.name for clip, _ in report.converted] == ["c.mp4", "cut.mp4"]
    assert stamp_ms(folder / "sub" / "cut.jpg") == 0


def test_an_offset_past_the_end_fails_that_clip(folder: Path) -> None:
    report = convert_folder(folder, ConvertMode.at_offset(timedelta(seconds=5)), workers=1)
    assert report.converted == []
    reasons = dict((clip.name, reason) for clip, reason in report.failed)
    assert "past its end" in reasons["a.mp4"]


def test_every_n_seconds(folder: Path) -> None:
    mode = ConvertMode.periodic(timedelta(seconds=0.9))
    report = convert_folder(folder, mode, workers=1)
    converted = dict((clip.name, jpgs) for clip, jpgs in report.converted)
    assert [p.name for p in converted["a.mp4"]] == [f"a_{n:04d}.jpg" for n in range(1, 5)]
    assert [stamp_ms(p) for p in converted["a.mp4"]] == [0, 880, 1800, 2680]
    assert [stamp_ms(p) for p in converted["b.MP4"]] == [3000, 3880, 4800, 5680]


def test_picture_options_apply(folder: Path) -> None:
    options = PictureOptions(width=160, quality=50)
    report = convert_folder(folder / "sub", ConvertMode.first_frame(), options=options, workers=1)
    for _, jpgs in report.converted:
        with Image.open(jpgs[0]) as image:
            assert image.size == (160, 90)


def test_a_missing_folder_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="nowhere"):
        convert_folder(tmp_path / "nowhere", ConvertMode.first_frame())


def test_an_empty_folder_converts_nothing(tmp_path: Path) -> None:
    report = convert_folder(tmp_path, ConvertMode.first_frame())
    assert report.converted == [] and report.failed == []


def test_a_clip_starting_mid_gop_gives_its_first_key_frame(
    tmp_path: Path, clips: list[Path]
) -> None:
    """Stream-copied from the 10th frame: the first decodable frame is the key frame at 1 s."""
    clip = tmp_path / "mid.mp4"
    with av.open(str(clips[0])) as source, av.open(str(clip), "w") as out:
        video = source.streams.video[0]
        copy = out.add_stream_from_template(video)
        for number, packet in enumerate(p for p in source.demux(video) if p.size):
            if number >= 10:
                packet.stream = copy
                out.mux(packet)
    report = convert_folder(tmp_path, ConvertMode.first_frame(), workers=1)
    assert report.failed == []
    assert stamp_ms(tmp_path / "mid.jpg") == 1000
