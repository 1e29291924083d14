"""A 200-row batch over four emulated NVRs (2 Hikvision, 2 Dahua) with faults on: every row
ends with the right status and reason, nothing broken counts as a success, "download the
missing again" completes it, and a run SIGKILLed midway resumes without re-downloading."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from footage.archive.source import ArchiveSource
from footage.batch import (
    RowRecord,
    RowStatus,
    RunOptions,
    prepare_retry,
    prepare_run,
    read_devices_table,
    read_manifest,
    reconcile,
)
from footage.batch.monitor import DeviceChanged, RowChanged
from footage.devices import RetryPolicy, Timeouts
from footage.devices.emulator_server import EmulatorBase, open_archive
from footage.devices.faults import FaultPlan
from tests.helpers.devices import start_emulator, stopping
from tests.helpers.media import picture_time, tiny_archive

START = datetime(2024, 1, 1, 10, 0, 0, tzinfo=UTC)
RECORDED = 120  # seconds of footage per camera
FAST = RunOptions(
    clip=True,
    picture=True,
    timeouts=Timeouts(connect=2, read=5, idle=0.6),
    retry=RetryPolicy(attempts=2, backoff=0.01),
)


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> ArchiveSource:
    root = tmp_path_factory.mktemp("batch-archive")
    duration = timedelta(seconds=RECORDED)
    tiny_archive(root, START, duration, cameras=2, segment_seconds=10.0, workers=1)
    return open_archive(root, tmp_path_factory.mktemp("batch-index"))


def emulator(vendor: str, archive: ArchiveSource, tmp: Path, **options: Any) -> EmulatorBase:
    work = tmp / f"emu-{len(list(tmp.glob('emu-*')))}"
    return start_emulator(vendor, archive, work, stall=3, slow=0.01, password="pw", **options)


@pytest.fixture
def nvrs(archive: ArchiveSource, tmp_path: Path) -> Iterator[dict[str, EmulatorBase]]:
    started = {
        # transient faults on four downloads: each is retried and succeeds
        "hik1": emulator(
            "hikvision",
            archive,
            tmp_path,
            faults="truncate@0/download,reset@5/download,400@10/download,busy@15/download",
        ),
        # every download answers HTTP 200 with an XML error document
        "hik2": emulator("hikvision", archive, tmp_path, faults="xmlerror:1/download"),
        # the first four downloads stall: the first two rows time out (two attempts each)
        "dah1": emulator("dahua", archive, tmp_path, faults="stall@0-3/download"),
        # every request is refused: the login fails
        "dah2": emulator("dahua", archive, tmp_path, faults="401:1"),
    }
    with stopping(started):
        yield started


def write_table(path: Path, nvrs: dict[str, EmulatorBase]) -> Path:
    lines = ["dock,vendor,address,port,user,password,channel,timezone,name"]
    for name, emu in nvrs.items():
        for channel in (1, 2):
            lines.append(
                f"{name}-{channel},{emu.vendor},{emu.host},{emu.port},admin,pw,{channel},UTC,{name}"
            )
    path.write_text("\n".join(lines) + "\n")
    return path


def write_manifest(path: Path, plan: list[tuple[str, int]]) -> tuple[Path, dict[str, str]]:
    """Rows spread over the devices as ``plan`` says ((device, rows) pairs); id -> device."""
    lines = ["Shipment,Scan Time,Dock"]
    device_of = {}
    number = 0
    for device, count in plan:
        for k in range(count):
            at = START + timedelta(seconds=2 + (number * 7.3) % (RECORDED - 6))
            at = at.replace(microsecond=(at.microsecond // 100_000) * 100_000)
            ident = f"SH{number:04d}"
            lines.append(f"{ident},{at.strftime('%Y-%m-%d %H:%M:%S.%f')[:-5]},{device}-{1 + k % 2}")
            device_of[ident] = device
            number += 1
    path.write_text("\n".join(lines) + "\n")
    return path, device_of


def expected(row: RowRecord, device: str, dah1_rows: list[str]) -> tuple[RowStatus, str | None]:
    if device == "hik2":
        return RowStatus.FAILED, "device_error"
    if device == "dah2":
        return RowStatus.FAILED, "auth_failed"
    if device == "dah1" and row.id in dah1_rows[:2]:
        return RowStatus.TIMEOUT, "timeout"
    return RowStatus.SUCCESS, None


def test_two_hundred_rows_with_faults_then_the_missing_again(
    nvrs: dict[str, EmulatorBase], tmp_path: Path
) -> None:
    table = read_devices_table(write_table(tmp_path / "devices.csv", nvrs))
    plan = [("hik1", 70), ("hik2", 70), ("dah1", 30), ("dah2", 30)]
    path, device_of = write_manifest(tmp_path / "shipments.csv", plan)
    manifest = read_manifest(path)
    assert len(manifest.rows) == 200
    events: list[object] = []
    run = prepare_run(manifest, table, tmp_path / "out", FAST)
    run.subscribe(events.append)
    summary = run.start().wait(timeout=120)
    assert summary is not None
    folder = summary.folder
    rows = {row.id: row for row in run.snapshot().rows}
    dah1_rows = [i for i, d in device_of.items() if d == "dah1"]

    for ident, row in rows.items():
        status, reason = expected(row, device_of[ident], dah1_rows)
        assert (row.status, row.reason) == (status, reason), (ident, row.describe(), row.message)
        files = {folder / f"{row.name}.jpg", folder / f"{row.name}.mp4"}
        if status is RowStatus.SUCCESS:
            assert all(f.exists() for f in files)
            assert abs(picture_time(folder / f"{row.name}.jpg") - row.at) <= timedelta(
                milliseconds=100
            )
        else:
            assert not any(f.exists() for f in files), ident
            assert row.message
    hik2 = next(r for r in rows.values() if device_of[r.id] == "hik2")
    assert hik2.vendor_code == "3/deviceError" and hik2.vendor_text
    dah2 = next(r for r in rows.values() if device_of[r.id] == "dah2")
    assert dah2.vendor_code == "401"
    assert [kind for _, _, kind in nvrs["hik1"].faults.applied] == [
        "truncate",
        "reset",
        "400",
        "busy",
    ]
    assert summary.totals.success == 70 + 28 and summary.totals.timeout == 2
    assert summary.counters.jpg == summary.counters.mp4 == 98
    assert summary.exit_code == 1

    views = {e.device.name: e.device for e in events if isinstance(e, DeviceChanged)}
    assert views["dah2"].stages["login"] == "failed" and views["dah2"].rows_failed == 30
    assert views["hik1"].stages["logout"] == "ok" and views["hik1"].rows_done == 70
    finished = [e.row for e in events if isinstance(e, RowChanged) and e.row.status.finished]
    assert len(finished) == 200

    # a truncated clip and an error page under an output's name never count as success
    victim, other = [r for r in rows.values() if device_of[r.id] == "hik2"][:2]
    good = next(r for r in rows.values() if r.status is RowStatus.SUCCESS)
    clip = (folder / f"{good.name}.mp4").read_bytes()
    (folder / f"{victim.name}.mp4").write_bytes(clip[: len(clip) - 200])
    (folder / f"{victim.name}.jpg").write_bytes((folder / f"{good.name}.jpg").read_bytes()[:-300])
    (folder / f"{other.name}.jpg").write_bytes(b'<?xml version="1.0"?><ResponseStatus/>')
    (folder / f"{other.name}.mp4").write_bytes(b"Error\r\nInternal Error!\r\n")
    report = reconcile(folder)
    assert len(report.complete) == 98 and len(report.missing) == 102
    problems = {m.row.id: m.problems for m in report.missing}
    assert "truncated" in problems[victim.id][f"{victim.name}.mp4"]
    assert "truncated" in problems[victim.id][f"{victim.name}.jpg"]
    assert "not a JPEG" in problems[other.id][f"{other.name}.jpg"]

    before = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.glob("*.jpg")}
    for emu in nvrs.values():
        emu.faults = FaultPlan()
    retry = prepare_retry(folder, per_device=2, retry=FAST.retry, timeouts=FAST.timeouts)
    again = retry.run()
    assert again.totals.success == 200 and again.totals.skipped == 98, again.failures[:3]
    assert again.exit_code == 0
    for row in retry.snapshot().rows:
        assert abs(picture_time(folder / f"{row.name}.jpg") - row.at) <= timedelta(milliseconds=100)
    for name, stamp in before.items():
        if name not in (f"{victim.name}.jpg", f"{other.name}.jpg"):
            path = folder / name
            assert (path.stat().st_ino, path.stat().st_mtime_ns) == stamp, name
    assert not reconcile(folder).missing


def test_a_run_killed_midway_resumes_without_downloading_again(
    archive: ArchiveSource, tmp_path: Path
) -> None:
    emus = {
        "hikA": emulator("hikvision", archive, tmp_path, faults="slow:1/download"),
        "hikB": emulator("hikvision", archive, tmp_path, faults="slow:1/download"),
    }
    with stopping(emus):
        devices = write_table(tmp_path / "devices.csv", emus)
        manifest, _ = write_manifest(tmp_path / "kill.csv", [("hikA", 20), ("hikB", 20)])
        out = tmp_path / "out"
        folder = out / "kill"
        command = [sys.executable, "-m", "footage", "batch", "run", str(manifest)]
        command += ["--devices", str(devices), "-o", str(out), "--json"]
        process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=tmp_path
        )
        deadline = time.monotonic() + 60
        while len(list(folder.glob("*.jpg"))) < 8:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            assert time.monotonic() < deadline
            time.sleep(0.02)
        os.kill(process.pid, signal.SIGKILL)
        process.wait()
        if process.stderr:
            process.stderr.close()
        done = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.glob("*.jpg")}
        assert 8 <= len(done) < 40
        requests = {name: emu.stats.requests for name, emu in emus.items()}

        finished = subprocess.run(
            command, capture_output=True, text=True, cwd=tmp_path, timeout=120, check=False
        )
        assert finished.returncode == 0, finished.stdout + finished.stderr
        summary = json.loads(finished.stdout)
        assert summary["totals"]["success"] == 40
        assert summary["totals"]["skipped"] >= len(done)
        for name, stamp in done.items():
            path = folder / name
            assert (path.stat().st_ino, path.stat().st_mtime_ns) == stamp, name
        # each remaining row costs one search and one download; finished rows cost nothing
        spent = sum(emu.stats.requests - requests[name] for name, emu in emus.items())
        assert spent <= 2 * (40 - summary["totals"]["skipped"]) + 2 * 2 + 4
        assert not [p for p in folder.iterdir() if p.name.endswith((".part", ".raw", ".tmp"))]
