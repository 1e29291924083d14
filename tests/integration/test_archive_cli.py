"""``footage archive`` as a subprocess: generate, scan, then the timeline reports exactly the
spans and gaps the generator wrote."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.commands import run_footage

START = "2026-11-21T08:00:00Z"


def footage(data: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = run_footage(data, "archive", *args, timeout=600, COLUMNS="120")
    if ok:
        assert done.returncode == 0, done.stderr
    return done


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, Any]]:
    base = tmp_path_factory.mktemp("cli")
    data, archive = base / "data", base / "archive"
    done = footage(
        data,
        "generate",
        str(archive),
        "--cameras=2",
        "--duration=10m",
        "--segment-seconds=60",
        "--gaps",
        f"--start={START}",
        "--resolution=160x96",
        "--fps=10",
        "--gop=20",
        "--json",
    )
    report = json.loads(done.stdout)
    scanned = json.loads(footage(data, "scan", str(archive), "--json").stdout)
    assert scanned["added"] == len(report["segments"])
    assert (scanned["failed"], scanned["removed"], scanned["unchanged"]) == ([], 0, 0)
    return data, archive, report


def test_timeline_reports_the_generated_spans_and_gaps(
    generated: tuple[Path, Path, dict[str, Any]],
) -> None:
    data, _, report = generated
    assert report["cameras"] == ["cam1", "cam2"]
    assert any(report["gaps"][camera] for camera in report["cameras"]), "no gaps generated"
    for camera in report["cameras"]:
        spans = report["spans"][camera]
        first, last = spans[0]["start"], spans[-1]["end"]
        done = footage(
            data, "timeline", "--camera", camera, "--start", first, "--end", last, "--json"
        )
        timeline = json.loads(done.stdout)
        assert timeline["camera"] == camera
        assert [{"start": s["start"], "end": s["end"]} for s in timeline["spans"]] == spans
        assert [{"start": g["start"], "end": g["end"]} for g in timeline["gaps"]] == report["gaps"][
            camera
        ]
        for item in timeline["spans"] + timeline["gaps"]:
            assert item["seconds"] > 0


def test_timeline_over_the_whole_window_adds_edge_gaps(
    generated: tuple[Path, Path, dict[str, Any]],
) -> None:
    data, _, report = generated
    done = footage(
        data,
        "timeline",
        "--camera=cam1",
        "--start=2026-11-21T07:59:00Z",
        "--end=2026-11-21T08:11:00Z",
        "--json",
    )
    timeline = json.loads(done.stdout)
    assert timeline["gaps"][0]["start"] == "2026-11-21T07:59:00.000000Z"
    assert timeline["gaps"][-1]["end"] == "2026-11-21T08:11:00.000000Z"
    inner = [{"start": g["start"], "end": g["end"]} for g in timeline["gaps"][1:-1]]
    assert inner == report["gaps"]["cam1"]


def test_human_timeline_and_cameras(generated: tuple[Path, Path, dict[str, Any]]) -> None:
    data, _, report = generated
    window = ["--camera=cam1", f"--start={START}", "--end=2026-11-21T08:10:00Z"]
    done = footage(data, "timeline", *window)
    exact = json.loads(footage(data, "timeline", *window, "--json").stdout)
    rows = [line for line in done.stdout.splitlines() if "2026-11-21T" in line]
    assert len(rows) == len(exact["spans"]) + len(exact["gaps"])
    assert sum(" gap " in row for row in rows) == len(exact["gaps"]) >= len(report["gaps"]["cam1"])
    assert "recorded" in done.stdout
    cameras = footage(data, "cameras").stdout
    assert "cam1" in cameras and "cam2" in cameras
    listed = json.loads(footage(data, "cameras", "--json").stdout)
    counts = {c["id"]: c["segments"] for c in listed}
    expected = {
        camera: sum(1 for s in report["segments"] if s["camera_id"] == camera)
        for camera in report["cameras"]
    }
    assert counts == expected


def test_rescan_finds_nothing_new(generated: tuple[Path, Path, dict[str, Any]]) -> None:
    data, archive, report = generated
    done = footage(data, "scan", str(archive))
    assert f"0 added, 0 updated, 0 removed, {len(report['segments'])} unchanged" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--camera=cam9", f"--start={START}", "--end=2026-11-21T08:10:00Z"], "known cameras"),
        (["--camera=cam1", "--start=2026-11-21T08:10:00Z", f"--end={START}"], "not after"),
        (["--camera=cam1", "--start=yesterday", f"--end={START}"], "cannot read time"),
    ],
)
def test_timeline_errors_exit_2_with_a_message(
    generated: tuple[Path, Path, dict[str, Any]], args: list[str], message: str
) -> None:
    data, _, _ = generated
    done = footage(data, "timeline", *args, ok=False)
    assert done.returncode == 2
    assert message in done.stderr.replace("\n", " ")
    assert "Traceback" not in done.stderr
