"""``footage demo`` as a new user runs it: a subprocess, a fresh data folder."""

import json
import os
import subprocess
import sys
from pathlib import Path


def _footage(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FOOTAGE_")}
    return subprocess.run(
        [sys.executable, "-m", "footage", "--data-dir", str(data_dir), *args],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        check=False,
    )


def test_demo_generates_indexes_and_reuses(tmp_path: Path) -> None:
    first = _footage(tmp_path, "demo", "--cameras", "2", "--duration", "10m")
    assert first.returncode == 0, first.stderr
    assert "generating 2 cameras" in first.stdout
    assert "cam1" in first.stdout and "cam2" in first.stdout

    home = tmp_path / "demo"
    cameras = _footage(home, "archive", "cameras", "--json")
    assert cameras.returncode == 0, cameras.stderr
    listed = json.loads(cameras.stdout)
    assert [c["id"] for c in listed] == ["cam1", "cam2"]
    # gaps are switched on, so each camera recorded less than the ten minutes asked for
    assert all(0 < c["recorded_seconds"] < 600 for c in listed)

    again = _footage(tmp_path, "demo", "--cameras", "2", "--duration", "10m")
    assert again.returncode == 0, again.stderr
    assert "using the demo archive" in again.stdout
    assert " 0 added" in again.stdout


def test_demo_refuses_to_delete_foreign_files(tmp_path: Path) -> None:
    archive = tmp_path / "demo" / "archive"
    archive.mkdir(parents=True)
    (archive / "holiday.mp4").write_bytes(b"precious")
    result = _footage(tmp_path, "demo", "--duration", "1m")
    assert result.returncode == 2
    assert "did not make" in result.stderr
    assert (archive / "holiday.mp4").read_bytes() == b"precious"
