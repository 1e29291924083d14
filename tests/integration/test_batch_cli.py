"""``footage batch`` commands against an emulated NVR: run (with rows that cannot succeed),
missing, convert of leftover clips, retry and delete; exit codes as documented."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from footage.cli.batch import app
from footage.devices.hikvision.emulator import HikvisionEmulator
from tests.helpers.media import picture_time, tiny_archive

START = datetime(2024, 1, 1, 10, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def archive_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli-archive")
    return tiny_archive(root, START, timedelta(seconds=30), segment_seconds=10.0, workers=1)


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args))
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.output


def test_run_missing_convert_retry_delete(archive_root: Path, tmp_path: Path) -> None:
    with HikvisionEmulator(archive_root, work_dir=tmp_path / "emu", password="pw") as emu:
        devices = tmp_path / "devices.toml"
        devices.write_text(
            f'[[dock]]\ndock = "D1"\nvendor = "hikvision"\naddress = "{emu.host}"\n'
            f'port = {emu.port}\npassword = "pw"\ntimezone = "UTC"\n'
        )
        manifest = tmp_path / "docks.csv"
        manifest.write_text(
            "id,time,dock\n"
            "A,2024-01-01 18:00:03.5,D1\n"  # +08:00: 10:00:03.5Z
            "B,2024-01-01 18:00:12,D1\n"
            "C,2024-01-01 19:00:00,D1\n"  # an hour after the recording
            "D,2024-01-01 18:00:05,D9\n"  # no such dock
        )
        out = tmp_path / "out"
        code, output = invoke(
            "run",
            str(manifest),
            "-d",
            str(devices),
            "-o",
            str(out),
            "--tz",
            "+08:00",
            "--clip",
            "--json",
        )
        assert code == 1, output
        summary = json.loads(output)
        assert (summary["totals"]["success"], summary["totals"]["failed"]) == (2, 2)
        reasons = {f["id"]: f["reason"] for f in summary["failures"]}
        assert reasons == {"C": "no_recording", "D": "unknown_dock"}
        folder = out / "docks"
        assert abs(picture_time(folder / "A.jpg") - (START + timedelta(seconds=3.5))) <= timedelta(
            milliseconds=100
        )

        code, output = invoke("missing", str(out), "--json")
        assert code == 1
        missing = {m["id"]: m for m in json.loads(output)["missing"]}
        assert set(missing) == {"C", "D"} and missing["C"]["problems"]["C.jpg"] == "missing"
        assert "no_recording" in invoke("missing", str(folder))[1]

        # a picture lost after the run: convert makes it again from the clip left behind
        (folder / "B.jpg").unlink()
        code, output = invoke("convert", str(folder), "--json")
        assert code == 0 and json.loads(output)["converted"] == ["B"]
        assert abs(picture_time(folder / "B.jpg") - (START + timedelta(seconds=12))) <= timedelta(
            milliseconds=100
        )

        requests = emu.stats.requests
        code, output = invoke("retry", str(folder), "--json")
        assert code == 1
        again = json.loads(output)
        assert again["totals"]["skipped"] == 2 and again["totals"]["failed"] == 2
        assert emu.stats.requests - requests <= 3  # login + C's search; A, B not fetched

        assert invoke("delete", str(folder))[0] == 1  # not confirmed
        assert folder.exists()
        code, output = invoke("delete", str(folder), "--yes", "--json")
        assert code == 0 and json.loads(output)["folder_removed"]
        assert not folder.exists()
