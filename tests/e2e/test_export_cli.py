"""``footage export clip|snapshot`` and ``footage convert`` as a user runs them."""

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import av
import pytest

from footage.media.synth import decode_stamp
from tests.helpers.commands import run_footage
from tests.helpers.media import picture_ms

START = "2026-11-21T08:00:00Z"
START_MS = int(datetime(2026, 11, 21, 8, tzinfo=UTC).timestamp()) * 1000
Completed = subprocess.CompletedProcess[str]


def _footage(tmp: Path, *args: str) -> Completed:
    return run_footage(tmp / "data", *args)


def _clip(archive: Path, start: str, end: str, out: Path, *extra: str) -> Completed:
    """``footage export clip`` of camera cam1 of the generated archive."""
    where = ("--archive", str(archive / "a"), "--camera", "cam1")
    return _footage(
        archive, "export", "clip", *where, "--start", start, "--end", end, "-o", str(out), *extra
    )


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("export-cli")
    made = _footage(
        tmp,
        "archive",
        "generate",
        str(tmp / "a"),
        "--cameras",
        "1",
        "--duration",
        "40s",
        "--segment-seconds",
        "10",
        "--resolution",
        "160x96",
        "--fps",
        "10",
        "--gop",
        "10",
        "--start",
        START,
        "--stamps",
        "exact",
    )
    assert made.returncode == 0, made.stderr
    return tmp


def _first_stamp(path: Path) -> int:
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        return decode_stamp(frame.to_ndarray(format="rgb24"))


def test_clip_json_reports_the_exact_range(archive: Path) -> None:
    out = archive / "out" / "clip.mp4"
    result = _clip(archive, "2026-11-21T08:00:12.3Z", "2026-11-21T08:00:27Z", out, "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    (made,) = data["files"]
    assert made["path"] == str(out) and out.stat().st_size == made["size"]
    assert made["first"] == "2026-11-21T08:00:12.300000Z"
    assert data["gaps"] == []
    # the player starts on the frame shown at 12.3 s (10 fps: the frame of 12.3 s itself)
    assert _first_stamp(out) == START_MS + 12_300


def test_snapshot_and_convert(archive: Path) -> None:
    pic = archive / "pic.jpg"
    shot = _footage(
        archive,
        "export",
        "snapshot",
        "--archive",
        str(archive / "a"),
        "--camera",
        "cam1",
        "--at",
        "2026-11-21T08:00:05.05Z",
        "-o",
        str(pic),
        "--json",
    )
    assert shot.returncode == 0, shot.stderr
    assert json.loads(shot.stdout)["pictures"][0]["shown_at"] == "2026-11-21T08:00:05.000000Z"
    assert picture_ms(pic) == START_MS + 5_000

    clips = archive / "clips"
    clips.mkdir()
    (clips / "broken.mp4").write_bytes(b"\x00" * 1000)
    made = _clip(archive, "2026-11-21T08:00:01Z", "2026-11-21T08:00:03Z", clips)
    assert made.returncode == 0, made.stderr
    converted = _footage(archive, "convert", str(clips), "--json")
    assert converted.returncode == 1  # one clip failed, the other was converted
    report = json.loads(converted.stdout)
    assert len(report["converted"]) == 1 and len(report["failed"]) == 1
    assert report["failed"][0]["clip"].endswith("broken.mp4")
    jpg = Path(report["converted"][0]["pictures"][0])
    assert picture_ms(jpg) == START_MS + 1_000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--camera", "nope", "--start", START, "--end", "2026-11-21T08:00:10Z"],
            "known cameras: cam1",
        ),
        (
            ["--camera", "cam1", "--start", "2026-11-21T08:00:10Z", "--end", START],
            "not after the start",
        ),
        (
            [
                "--camera",
                "cam1",
                "--start",
                "2026-11-20T08:00:00Z",
                "--end",
                "2026-11-20T08:01:00Z",
            ],
            "no recording of camera cam1 between",
        ),
        (["--camera", "cam1", "--start", "yesterday", "--end", "now"], "ISO 8601"),
    ],
)
def test_bad_input_is_explained_and_writes_nothing(
    archive: Path, args: list[str], message: str
) -> None:
    out = archive / f"bad-{abs(hash(tuple(args)))}"
    result = _footage(
        archive, "export", "clip", "--archive", str(archive / "a"), *args, "-o", str(out)
    )
    assert result.returncode == 2
    assert message in " ".join(result.stderr.split())
    assert not out.exists() or not any(out.iterdir())
