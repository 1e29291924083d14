"""NVR cameras inside the server: ``nvr.devices`` makes each dock of a device table a camera
beside the local archive (``CompositeArchive``); an export task on one downloads the range
from the emulated device and exports it like a local recording, with the right clock; device
failures are clear errors (503 over HTTP, not 500) and id clashes stop the startup."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import httpx
import pytest

from footage.api.http.app import create_app
from footage.api.http.server import ServerThread
from footage.archive.composite import CompositeArchive
from footage.archive.local.scan import scan
from footage.auth import Permission
from footage.config.settings import Settings
from footage.db import open_database
from footage.devices.emulator_server import EmulatorBase
from footage.domain import InvalidRequest, NotFound, SourceUnavailable, TimeRange
from footage.media.probe import probe
from footage.media.synth.stamp import decode_stamp
from footage.runtime import Runtime
from footage.tasks.model import ExportRequest, Origin, TaskStatus
from tests.helpers.commands import clean_env
from tests.helpers.devices import hik_and_dahua
from tests.helpers.media import tiny_archive
from tests.helpers.servers import quick_tasks

START = datetime(2024, 1, 1, 10, 0, 0, tzinfo=UTC)
GOP_S = 1.0  # gop 10 at 10 fps


def synth(root: Path, prefix: str, seconds: int) -> Path:
    return tiny_archive(
        root,
        START,
        timedelta(seconds=seconds),
        cameras=2,
        segment_seconds=10.0,
        camera_prefix=prefix,
        workers=1,
    )


@pytest.fixture(scope="module")
def roots(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the NVRs' recordings, the server's local archive)."""
    nvr = synth(tmp_path_factory.mktemp("nvr-footage"), "cam", 60)
    local = synth(tmp_path_factory.mktemp("local-footage"), "yard", 20)
    return nvr, local


@pytest.fixture(scope="module")
def nvrs(
    roots: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, EmulatorBase]]:
    with hik_and_dahua(roots[0], tmp_path_factory.mktemp("emulators")) as started:
        yield started


def table(path: Path, rows: list[tuple[str, str, str, int, str, int]]) -> Path:
    """A device table: (dock, vendor, host, port, password, channel) per row."""
    lines = ["dock,vendor,address,port,user,password,channel,timezone"]
    lines += [f"{d},{v},{h},{p},admin,{pw},{c},UTC" for d, v, h, p, pw, c in rows]
    path.write_text("\n".join(lines) + "\n")
    return path


def runtime_for(tmp_path: Path, local: Path, devices: Path) -> Runtime:
    settings = Settings(
        data_dir=tmp_path,
        archive={"root": str(local)},
        nvr={"devices": str(devices)},
        tasks=quick_tasks(),
    )
    engine = open_database(settings.database_url)
    scan(engine, local)  # indexed before startup, as `footage archive scan` does
    return Runtime(settings, engine=engine, workers=1)


@pytest.fixture
def runtime(
    tmp_path: Path, roots: tuple[Path, Path], nvrs: dict[str, EmulatorBase]
) -> Iterator[Runtime]:
    hik, dah = nvrs["hik"], nvrs["dah"]
    devices = table(
        tmp_path / "devices.csv",
        [
            ("D1", "hikvision", hik.host, hik.port, "pw", 1),
            ("D2", "dahua", dah.host, dah.port, "pw", 2),
        ],
    )
    made = runtime_for(tmp_path, roots[1], devices)
    made.start()
    try:
        yield made
    finally:
        made.close()


def test_nvr_docks_join_the_local_cameras(runtime: Runtime, nvrs: dict[str, EmulatorBase]) -> None:
    assert isinstance(runtime.archive, CompositeArchive)
    hik, dah = nvrs["hik"], nvrs["dah"]
    cameras = {c.id: c.source for c in runtime.archive.cameras()}
    assert cameras == {
        "D1": f"nvr:{hik.host}:{hik.port}",
        "D2": f"nvr:{dah.host}:{dah.port}",
        "yard1": "local",
        "yard2": "local",
    }
    assert runtime.local.camera("yard1").source == "local"
    with pytest.raises(NotFound, match="D1, D2, yard1"):
        runtime.archive.camera("nope")
    # local cameras still read from the index
    (segment, *_) = runtime.archive.segments(
        "yard2", TimeRange(start=START, end=START + timedelta(seconds=1))
    )
    assert segment.camera_id == "yard2"


def test_the_timeline_of_an_nvr_camera_comes_from_the_device(runtime: Runtime) -> None:
    span = TimeRange(start=START - timedelta(minutes=1), end=START + timedelta(minutes=2))
    timeline = runtime.archive.timeline("D2", span)
    assert len(timeline.spans) == 1
    (recorded,) = timeline.spans
    assert abs((recorded.start - START).total_seconds()) <= 1
    assert abs((recorded.end - (START + timedelta(seconds=60))).total_seconds()) <= 1


@pytest.mark.parametrize("dock", ["D1", "D2"])
def test_an_export_task_on_an_nvr_camera(runtime: Runtime, dock: str) -> None:
    begin = START + timedelta(seconds=20, milliseconds=500)
    request = ExportRequest(
        camera_id=dock, range=TimeRange(start=begin, end=begin + timedelta(seconds=5)), audio=False
    )
    task = runtime.tasks.service.submit(request, owner="ann", origin=Origin.WEB)
    assert task.source.startswith("nvr:")  # per-device limits apply
    done = runtime.tasks.service.wait(task.id, timeout=60)
    assert done.status is TaskStatus.DONE, done.failure
    (output,) = done.files
    path = runtime.tasks.output_root / done.id / output.name
    info = probe(path)
    assert info.container == "mp4" and (info.width, info.height) == (160, 96)
    assert 4.5 <= info.duration_us / 1e6 <= 5 + GOP_S + 0.2
    with av.open(str(path)) as container:
        frame = next(container.decode(video=0))
        first = decode_stamp(frame.to_ndarray(format="rgb24"))
    wanted = begin.timestamp() * 1000
    # not exact: the clip starts at the key frame at or before the start (within a GOP)
    assert wanted - GOP_S * 1000 - 150 <= first <= wanted + 150, first - wanted


def test_a_footage_worker_process_exports_nvr_cameras_too(
    tmp_path: Path, roots: tuple[Path, Path], nvrs: dict[str, EmulatorBase]
) -> None:
    """``footage worker`` reads the same sources as the server: queued tasks on NVR cameras
    are done by it, not failed as unknown cameras."""
    hik = nvrs["hik"]
    devices = table(tmp_path / "devices.csv", [("D1", "hikvision", hik.host, hik.port, "pw", 1)])
    made = runtime_for(tmp_path, roots[1], devices)  # never started: no workers in here
    begin = START + timedelta(seconds=10)  # the NVRs record 60 s, the local archive 20 s
    span = TimeRange(start=begin, end=begin + timedelta(seconds=4))
    tasks = [
        made.tasks.service.submit(
            ExportRequest(camera_id=camera, range=span, audio=False), owner="ann", origin=Origin.CLI
        )
        for camera in ("D1", "yard1")
    ]
    env = {
        "FOOTAGE_ARCHIVE__ROOT": str(roots[1]),
        "FOOTAGE_NVR__DEVICES": str(devices),
        "FOOTAGE_TASKS__POLL_INTERVAL": "0.05",
        "FOOTAGE_TASKS__MIN_FREE_MB": "0",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "footage", "--data-dir", str(tmp_path), "worker"],
        env=clean_env(**env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        ended = [made.tasks.service.wait(t.id, timeout=60, recheck=0.1) for t in tasks]
    finally:
        worker.send_signal(signal.SIGINT)
        output, _ = worker.communicate(timeout=30)
        made.close()
    for task in ended:
        assert task.status is TaskStatus.DONE, (task.camera_id, task.failure, output)
        (file,) = task.files
        assert probe(made.tasks.output_root / task.id / file.name).video_codec == "h264"
    assert worker.returncode == 0, output


def test_a_camera_id_in_two_sources_stops_the_startup(
    tmp_path: Path, roots: tuple[Path, Path], nvrs: dict[str, EmulatorBase]
) -> None:
    hik = nvrs["hik"]
    devices = table(tmp_path / "clash.csv", [("yard1", "hikvision", hik.host, hik.port, "pw", 1)])
    with pytest.raises(InvalidRequest, match="'yard1' is in local and nvr:"):
        runtime_for(tmp_path, roots[1], devices).close()


def test_a_missing_device_table_is_a_clear_startup_error(
    tmp_path: Path, roots: tuple[Path, Path]
) -> None:
    with pytest.raises(InvalidRequest, match=r"nvr\.devices"):
        runtime_for(tmp_path, roots[1], tmp_path / "nowhere.toml")


def test_device_failures_are_clear_errors_not_500s(
    tmp_path: Path, roots: tuple[Path, Path], nvrs: dict[str, EmulatorBase]
) -> None:
    dah = nvrs["dah"]
    with socket.socket() as probe_socket:  # a port nothing listens on
        probe_socket.bind(("127.0.0.1", 0))
        port = probe_socket.getsockname()[1]
    devices = table(
        tmp_path / "broken.csv",
        [
            ("WRONG", "dahua", dah.host, dah.port, "not-the-password", 1),
            ("GONE", "hikvision", "127.0.0.1", port, "pw", 1),
        ],
    )
    made = runtime_for(tmp_path, roots[1], devices)
    made.users.add("ann", "password-1", [Permission.EXPORT])
    token = made.users.issue("ann")
    span = TimeRange(start=START, end=START + timedelta(minutes=1))
    with pytest.raises(SourceUnavailable):
        made.archive.timeline("GONE", span)
    made.start()
    try:
        with (
            ServerThread(create_app(made)) as url,
            httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"}) as client,
        ):
            query = {"start": span.start.isoformat(), "end": span.end.isoformat()}
            for dock, reason in (("WRONG", "auth_failed"), ("GONE", "unreachable")):
                answer = client.get(f"/api/v1/cameras/{dock}/timeline", params=query, timeout=60)
                assert answer.status_code == 503, answer.text
                error = answer.json()["error"]
                assert error["code"] == reason and error["message"], error
            # an export task on it fails with the device's reason
            request = ExportRequest(camera_id="GONE", range=span, audio=False)
            task = made.tasks.service.submit(request, owner="ann", origin=Origin.WEB)
            failed = made.tasks.service.wait(task.id, timeout=60)
            assert failed.status is TaskStatus.FAILED
            assert failed.failure is not None and failed.failure.code == "unreachable"
    finally:
        made.close()
