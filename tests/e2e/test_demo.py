"""``footage demo`` as a new user runs it: a subprocess, a fresh data folder."""

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import grpc
import httpx

from footage.api.grpc.gen import export_pb2 as pb
from footage.api.grpc.gen import export_pb2_grpc
from tests.helpers.commands import clean_env, run_footage


def test_demo_generates_indexes_and_reuses(tmp_path: Path) -> None:
    first = run_footage(tmp_path, "demo", "--cameras", "2", "--duration", "10m", "--no-serve")
    assert first.returncode == 0, first.stderr
    assert "generating 2 cameras" in first.stdout
    assert "cam1" in first.stdout and "cam2" in first.stdout

    home = tmp_path / "demo"
    cameras = run_footage(home, "archive", "cameras", "--json")
    assert cameras.returncode == 0, cameras.stderr
    listed = json.loads(cameras.stdout)
    assert [c["id"] for c in listed] == ["cam1", "cam2"]
    # gaps are switched on, so each camera recorded less than the ten minutes asked for
    assert all(0 < c["recorded_seconds"] < 600 for c in listed)

    again = run_footage(tmp_path, "demo", "--cameras", "2", "--duration", "10m", "--no-serve")
    assert again.returncode == 0, again.stderr
    assert "using the demo archive" in again.stdout
    assert "user demo, password footage-demo" in again.stdout
    assert " 0 added" in again.stdout


def test_demo_refuses_to_delete_foreign_files(tmp_path: Path) -> None:
    archive = tmp_path / "demo" / "archive"
    archive.mkdir(parents=True)
    (archive / "holiday.mp4").write_bytes(b"precious")
    result = run_footage(tmp_path, "demo", "--duration", "1m", "--no-serve")
    assert result.returncode == 2
    assert "did not make" in result.stderr
    assert (archive / "holiday.mp4").read_bytes() == b"precious"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_demo_serves_the_page_and_the_emulated_nvrs(tmp_path: Path) -> None:
    """The README's first command: a server on localhost, ready for a browser."""
    http_port, grpc_port, hik_port, dahua_port, rtsp_port = (_free_port() for _ in range(5))
    args = [
        sys.executable,
        "-m",
        "footage",
        "--data-dir",
        str(tmp_path),
        "demo",
        "--cameras",
        "1",
        "--duration",
        "5m",
        "--port",
        str(http_port),
        "--grpc-port",
        str(grpc_port),
        "--hikvision-port",
        str(hik_port),
        "--dahua-port",
        str(dahua_port),
        "--rtsp-port",
        str(rtsp_port),
    ]
    with subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=clean_env()
    ) as proc:
        try:
            seen = _read_until(proc, "footage serving", timeout=240)
            assert f"http://127.0.0.1:{http_port}/" in seen
            base = f"http://127.0.0.1:{http_port}"
            login = httpx.get(f"{base}/login", timeout=10)
            assert login.status_code == 200 and "<form" in login.text
            session = httpx.post(
                f"{base}/api/v1/auth/login",
                timeout=10,
                json={"name": "demo", "password": "footage-demo"},
            )
            assert session.status_code == 200, session.text
            cameras = httpx.get(f"{base}/api/v1/cameras", cookies=session.cookies, timeout=10)
            assert cameras.status_code == 200
            assert "cam1" in cameras.text
            assert '"D1"' in cameras.text  # an emulated NVR's channel, served beside the archive
            clock = httpx.get(
                f"http://127.0.0.1:{hik_port}/ISAPI/System/time",
                timeout=10,
                auth=httpx.DigestAuth("admin", "demo-pass"),
            )
            assert clock.status_code == 200 and "<Time" in clock.text
            denied = httpx.get(
                f"http://127.0.0.1:{dahua_port}/cgi-bin/snapshot.cgi?channel=1",
                timeout=10,
                auth=httpx.DigestAuth("admin", "wrong-pass"),
            )
            assert denied.status_code == 401
            # live mode over gRPC: an NVR dock's and a local camera's next second
            token = run_footage(tmp_path / "demo", "users", "token", "demo").stdout.strip()
            _live_export(grpc_port, token, ["D3", "cam1"])
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                raise
        assert proc.stdout is not None
        stopped = proc.stdout.read()
    assert proc.returncode == 0
    assert "Traceback" not in stopped, stopped  # Ctrl-C is a normal end, quietly


def _live_export(grpc_port: int, token: str, cameras: list[str]) -> None:
    options = pb.Options(
        live=pb.LiveMode(
            sources=[pb.Source(camera_id=c) for c in cameras], duration_ms=1000, discrete=True
        ),
        stream=pb.StreamType(),
    )
    auth = (("authorization", f"Bearer {token}"),)
    with grpc.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        stub = export_pb2_grpc.ExportServiceStub(channel)
        started = stub.StartSession(pb.StartSessionRequest(session_options=options), metadata=auth)
        deadline = time.monotonic() + 60
        while True:
            request = pb.GetSessionStateRequest(session_id=started.started_session_id)
            state = stub.GetSessionState(request, metadata=auth).session_state
            if state.state != pb.State.S_RUNNING or time.monotonic() > deadline:
                break
            time.sleep(0.2)
    assert state.result.succeeded, state
    assert sorted(f.camera_id for f in state.result.files) == sorted(cameras)


def _read_until(proc: subprocess.Popen[str], marker: str, timeout: float) -> str:
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    raise AssertionError(f"no {marker!r} within {timeout} s; output:\n{''.join(seen)}")
