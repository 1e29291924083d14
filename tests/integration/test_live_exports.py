"""Live-mode exports end to end: gRPC StartSession in live mode on an NVR dock (its RTSP
address from the device table) and on a local camera (from ``[live] streams``), run by a
worker against the RTSP emulator over real sockets; the files show the moments recorded."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import av
import grpc
import httpx
import pytest
from PIL import Image

from footage.api.grpc.gen import export_pb2 as pb
from footage.api.grpc.gen import export_pb2_grpc
from footage.api.grpc.server import GrpcServer
from footage.api.http.app import create_app
from footage.api.http.server import ServerThread
from footage.archive.local.scan import scan
from footage.auth import Permission
from footage.config.settings import Settings
from footage.devices.emulator_server import EmulatorBase
from footage.domain import TimeRange
from footage.live import RtspEmulator
from footage.media.probe import probe
from footage.media.synth import decode_stamp
from footage.runtime import Runtime
from footage.tasks.model import ExportRequest, Origin, TaskStatus
from tests.helpers.commands import clean_env
from tests.helpers.devices import hik_and_dahua
from tests.helpers.media import tiny_archive
from tests.helpers.servers import quick_tasks

START = datetime(2024, 1, 1, 10, 0, 0, tzinfo=UTC)
HIK_PATH = "/Streaming/Channels/101"  # channel 1, main stream


@pytest.fixture(scope="module")
def local_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("local")
    return tiny_archive(root, START, timedelta(seconds=20), cameras=1, camera_prefix="yard")


@pytest.fixture(scope="module")
def nvrs(
    local_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, EmulatorBase]]:
    with hik_and_dahua(local_root, tmp_path_factory.mktemp("emulators")) as started:
        yield started


@pytest.fixture(scope="module")
def rtsp() -> Iterator[RtspEmulator]:
    streams = {HIK_PATH: "D1", "/cam/realmonitor?channel=1&subtype=0": "D2", "/yard": "yard1"}
    with RtspEmulator(streams, password="pw") as emulator:
        yield emulator


class Api:
    def __init__(self, runtime: Runtime, server: GrpcServer, token: str) -> None:
        self.runtime = runtime
        self.target = f"127.0.0.1:{server.port}"
        self.token = token
        self.channel = grpc.insecure_channel(self.target)
        self.stub = export_pb2_grpc.ExportServiceStub(self.channel)
        self.metadata = (("authorization", f"Bearer {token}"),)

    def start(self, options: pb.Options) -> str:
        request = pb.StartSessionRequest(session_options=options)
        return self.stub.StartSession(request, metadata=self.metadata).started_session_id

    def wait(self, session: str) -> pb.State:
        deadline = time.monotonic() + 60
        while True:
            request = pb.GetSessionStateRequest(session_id=session)
            state = self.stub.GetSessionState(request, metadata=self.metadata).session_state
            if state.state != pb.State.S_RUNNING:
                return state
            assert time.monotonic() < deadline, state
            time.sleep(0.1)


@pytest.fixture
def api(
    tmp_path: Path, local_root: Path, nvrs: dict[str, EmulatorBase], rtsp: RtspEmulator
) -> Iterator[Api]:
    hik, dah = nvrs["hik"], nvrs["dah"]
    devices = tmp_path / "devices.csv"
    devices.write_text(
        "dock,vendor,address,port,user,password,channel,timezone,rtsp_port\n"
        f"D1,hikvision,{hik.host},{hik.port},admin,pw,1,UTC,{rtsp.port}\n"
        f"D2,dahua,{dah.host},{dah.port},admin,pw,1,UTC,{rtsp.port}\n"
    )
    settings = Settings(
        data_dir=tmp_path,
        archive={"root": str(local_root)},
        nvr={"devices": str(devices)},
        live={"streams": {"yard1": rtsp.url("/yard")}, "connect_timeout": 5.0},
        tasks=quick_tasks(),
    )
    runtime = Runtime(settings, workers=2)
    scan(runtime.engine, local_root)
    runtime.users.add("ann", "password-ann", [Permission.EXPORT])
    token = runtime.users.issue("ann")
    runtime.start()
    server = GrpcServer(runtime, "127.0.0.1:0")
    server.start()
    made = Api(runtime, server, token)
    try:
        yield made
    finally:
        made.channel.close()
        server.stop(grace=1.0)
        runtime.close()


def live(cameras: list[str], **output: object) -> pb.Options:
    mode = pb.LiveMode(
        sources=[pb.Source(camera_id=c) for c in cameras],
        duration_ms=int(output.pop("duration_ms", 0)),  # type: ignore[call-overload]
        discrete=len(cameras) > 1,
    )
    return pb.Options(live=mode, **output)  # type: ignore[arg-type]


def _stamps(path: Path) -> tuple[int, int, int]:
    """(first stamp ms, last stamp ms, frames) of a clip."""
    stamps = []
    with av.open(str(path)) as container:
        for frame in container.decode(video=0):
            stamps.append(decode_stamp(frame.to_ndarray(format="rgb24")))
    return stamps[0], stamps[-1], len(stamps)


def test_a_live_clip_from_an_nvr_dock_and_a_local_camera(api: Api, rtsp: RtspEmulator) -> None:
    asked = time.time() * 1000
    session = api.start(live(["D1", "yard1"], duration_ms=2000, stream=pb.StreamType()))
    state = api.wait(session)
    done = time.time() * 1000
    assert state.result.succeeded, state
    assert len(state.result.files) == 2
    task_ids = dict(zip(["D1", "yard1"], session.split("+"), strict=True))
    for file in state.result.files:
        task_id = task_ids[file.camera_id]
        path = api.runtime.tasks.output_root / task_id / file.path.split("/", 1)[1]
        info = probe(path)
        assert info.container == "mp4" and (info.width, info.height) == (320, 180)
        first, last, frames = _stamps(path)
        # every frame was captured while the session ran, two seconds of them (10 fps)
        assert asked - 100 <= first <= last <= done, (first - asked, done - last)
        assert 1700 <= last - first <= 2100 and 17 <= frames <= 21, (last - first, frames)
        # the file's times are the wall-clock times of its frames (to a frame or two)
        min_ts = datetime.fromisoformat(file.min_timestamp.replace("Z", "+00:00"))
        assert abs(min_ts.timestamp() * 1000 - first) <= 500
        assert file.sha256 and file.size == path.stat().st_size
    assert rtsp.stats[HIK_PATH] >= 1 and rtsp.stats["/yard"] >= 1


def test_a_live_clip_until_stopped_keeps_what_was_recorded(api: Api) -> None:
    session = api.start(live(["yard1"], duration_ms=0, stream=pb.StreamType()))
    service = api.runtime.tasks.service
    deadline = time.monotonic() + 30
    while service.get(session).status is not TaskStatus.RUNNING:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(2.0)  # connected within a few tenths of a second, then recording
    request = pb.StopSessionRequest(session_id=session)
    stopping = api.stub.StopSession(request, metadata=api.metadata).session_state
    asked_stop = time.time() * 1000
    assert stopping.state == pb.State.S_RUNNING  # it finishes the file first
    state = api.wait(session)
    assert state.result.succeeded, state
    (file,) = state.result.files
    path = api.runtime.tasks.output_root / session / file.path
    first, last, _ = _stamps(path)
    assert 1000 <= last - first <= 2500, last - first
    assert last <= asked_stop + 500  # it stopped when asked, not at the hour's end
    assert not (api.runtime.tasks.output_root / ".stop" / session).exists()


def test_stopping_a_queued_until_stopped_clip_cancels_it(api: Api) -> None:
    api.runtime.tasks.pool.stop()  # nothing runs: the session stays queued
    session = api.start(live(["yard1"], duration_ms=0, stream=pb.StreamType()))
    request = pb.StopSessionRequest(session_id=session)
    state = api.stub.StopSession(request, metadata=api.metadata).session_state
    assert state.state == pb.State.S_COMPLETED and not state.result.succeeded
    assert api.runtime.tasks.service.get(session).status is TaskStatus.CANCELLED


def test_a_live_snapshot_is_the_picture_of_now(api: Api) -> None:
    asked = time.time() * 1000
    session = api.start(live(["D2"], snapshot=pb.SnapshotType()))
    state = api.wait(session)
    assert state.result.succeeded, state
    (file,) = state.result.files
    assert file.mime_type == "image/jpeg"
    path = api.runtime.tasks.output_root / session / file.path
    with Image.open(path) as picture:
        shown = decode_stamp(picture.convert("RGB"))  # type: ignore[arg-type]
    assert asked - 100 <= shown <= time.time() * 1000


def test_retrying_a_live_export_records_again_from_now(api: Api) -> None:
    session = api.start(live(["yard1"], duration_ms=1000, stream=pb.StreamType()))
    first = api.runtime.tasks.service.wait(session, timeout=60)
    assert first.status is TaskStatus.DONE
    api.runtime.tasks.service.destroy(first.id)
    # a destroyed task cannot be retried; a cancelled one can, and records anew from now
    session = api.start(live(["yard1"], duration_ms=1000, stream=pb.StreamType()))
    api.runtime.tasks.service.cancel(session)
    cancelled = api.runtime.tasks.service.wait(session, timeout=60)
    time.sleep(1.2)
    again = api.runtime.tasks.service.retry(cancelled.id)
    assert again.request.range.start >= cancelled.request.range.end
    assert again.request.range.duration == timedelta(seconds=1)
    assert api.runtime.tasks.service.wait(again.id, timeout=60).status is TaskStatus.DONE


def _client(api: Api, out: Path, *args: str) -> subprocess.Popen[str]:
    """``footage client live`` against the test server, files into ``out``."""
    command = [sys.executable, "-m", "footage", "client", "live", "-o", str(out), *args]
    env = clean_env(FOOTAGE_CLIENT_SERVER=api.target, FOOTAGE_CLIENT_TOKEN=api.token)
    return subprocess.Popen(
        command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


def test_the_client_cli_records_for_a_time_and_until_ctrl_c(api: Api, tmp_path: Path) -> None:
    timed = _client(api, tmp_path / "timed", "--camera", "yard1", "--seconds", "1")
    out, err = timed.communicate(timeout=120)
    assert timed.returncode == 0, err
    (path,) = [Path(line) for line in out.split()]
    first, last, _ = _stamps(path)
    assert 700 <= last - first <= 1100, last - first

    until = _client(api, tmp_path / "until", "--camera", "D1")
    assert until.stderr is not None
    seen = ""
    while "until Ctrl-C" not in seen:  # the session started
        line = until.stderr.readline()
        assert line, seen
        seen += line
    time.sleep(2.0)
    until.send_signal(signal.SIGINT)
    out, err = until.communicate(timeout=120)
    assert until.returncode == 0, seen + err
    (path,) = [Path(line) for line in out.split()]
    first, last, _ = _stamps(path)
    assert 1000 <= last - first <= 2500, last - first
    assert "keeping what was recorded" in err


def test_live_exports_over_rest(api: Api) -> None:
    token = api.metadata[0][1].removeprefix("Bearer ")
    headers = {"Authorization": f"Bearer {token}"}
    with (
        ServerThread(create_app(api.runtime)) as url,
        httpx.Client(base_url=url, headers=headers, timeout=30) as client,
    ):
        bad = client.post("/api/v1/exports", json={"cameras": ["yard1"], "live": True})
        assert bad.status_code == 400 and "duration" in bad.json()["error"]["message"]
        mixed = {"cameras": ["yard1"], "live": True, "duration": 1, "start": "2024-01-01T10:00Z"}
        assert client.post("/api/v1/exports", json=mixed).status_code == 400
        made = client.post(
            "/api/v1/exports", json={"cameras": ["D1"], "live": True, "format": "jpg"}
        )
        assert made.status_code == 201, made.text
        (task,) = made.json()["tasks"]
        done = api.runtime.tasks.service.wait(task["id"], timeout=60)
        assert done.status is TaskStatus.DONE, done.failure
        (file,) = client.get(f"/api/v1/exports/{task['id']}").json()["files"]
        picture = client.get(file["url"])
        assert picture.status_code == 200 and picture.content.startswith(b"\xff\xd8")


def test_a_live_stream_that_does_not_answer_fails_with_a_reason(
    tmp_path: Path, local_root: Path
) -> None:
    with socket.socket() as holder:  # a port nothing listens on
        holder.bind(("127.0.0.1", 0))
        port = holder.getsockname()[1]
    settings = Settings(
        data_dir=tmp_path,
        archive={"root": str(local_root)},
        live={"streams": {"yard1": f"rtsp://admin:secret@127.0.0.1:{port}/x"}},
        tasks=quick_tasks(),
    )
    with Runtime(settings, workers=1) as runtime:
        scan(runtime.engine, local_root)
        now = datetime.now(UTC)
        request = ExportRequest(
            camera_id="yard1", range=TimeRange(start=now, end=now + timedelta(seconds=2)), live=True
        )
        task = runtime.tasks.service.submit(request, owner="ann", origin=Origin.REST)
        failed = runtime.tasks.service.wait(task.id, timeout=60)
    assert failed.status is TaskStatus.FAILED and failed.failure is not None
    assert f"127.0.0.1:{port}" in failed.failure.message
    assert "secret" not in failed.failure.message
