"""The event stream of a batch run (``GET /api/v1/batch/runs/{name}/events``) over a real
socket against emulated NVRs: the run first, then successive snapshots as rows finish, the
final state, pings while idle, file counts that follow the folder, a retry followed on the
same stream, ``gone`` after a delete; who may follow a run; many open streams hold no
server thread; and a stopping server ends its streams."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from footage.devices.emulator_server import EmulatorBase
from tests.helpers.devices import hik_and_dahua
from tests.helpers.media import tiny_archive
from tests.helpers.servers import Site, error_body, serve

START = datetime(2024, 1, 1, 10, 0, 0, tzinfo=UTC)
PASSWORD = "password-1"
USERS = {"ann": ("export", None), "bob": ("export", None), "vic": ("view", None)}
HEARTBEAT = 0.5
ROWS = 8


@pytest.fixture(scope="module")
def nvrs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, EmulatorBase]]:
    root = tmp_path_factory.mktemp("events-footage")
    tiny_archive(root, START, timedelta(seconds=40), cameras=2, segment_seconds=10.0, workers=1)
    work = tmp_path_factory.mktemp("events-emulators")
    # slow bodies: a row takes a moment, so a run is seen to advance
    with hik_and_dahua(root, work, faults="slow:1/download") as started:
        started["hik"].faults.slow_delay = 0.03
        yield started


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    root = tmp_path_factory.mktemp("events-site")
    with serve(root, users=USERS, password=PASSWORD, workers=0, heartbeat=HEARTBEAT) as server:
        yield server


def client(site: Site, user: str | None = None) -> httpx.Client:
    return site.client(user, path="/api/v1/batch", timeout=httpx.Timeout(30, read=None))


def device_table(path: Path, nvrs: dict[str, EmulatorBase] | None) -> Path:
    """D1, D2 on the Hikvision (or on a port where nothing answers, without ``nvrs``)."""
    host, port = (nvrs["hik"].host, nvrs["hik"].port) if nvrs else ("127.0.0.1", 9)
    path.write_text(
        "dock,vendor,address,port,user,password,channel,timezone,name\n"
        f"D1,hikvision,{host},{port},admin,pw,1,UTC,gate\n"
        f"D2,hikvision,{host},{port},admin,pw,2,UTC,gate\n"
    )
    return path


def manifest(rows: int, dock: str = "D{n}") -> bytes:
    lines = ["Shipment,Scan Time,Dock"]
    for n in range(rows):
        at = START + timedelta(seconds=3 + n * 4)
        lines.append(f"SH{n:02d},{at:%Y-%m-%d %H:%M:%S},{dock.format(n=n % 2 + 1)}")
    return ("\n".join(lines) + "\n").encode()


def start(c: httpx.Client, name: str, data: bytes, devices: Path) -> dict[str, Any]:
    files = {
        "manifest": (name, data, "text/csv"),
        "devices": (devices.name, devices.read_bytes(), "text/csv"),
    }
    answer = c.post("/runs", files=files, data={"clip": "true"})
    assert answer.status_code == 201, answer.text
    view: dict[str, Any] = answer.json()
    return view


def finished(c: httpx.Client, name: str, timeout: float = 90) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        view: dict[str, Any] = c.get(f"/runs/{name}").json()
        if not view["running"]:
            return view
        assert time.monotonic() < deadline, view["totals"]
        time.sleep(0.2)


class Stream:
    """A reader of one run's event stream in a thread: the messages (kind, data, arrival)
    and comments it got, until the server ends it or :meth:`close`."""

    def __init__(self, c: httpx.Client, name: str, **params: Any) -> None:
        self.messages: list[tuple[str, dict[str, Any], float]] = []
        self.comments: list[tuple[str, float]] = []
        self.status = 0
        self.content_type = ""
        self.ended = threading.Event()
        self._c, self._name, self._params = c, name, params
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._read()
        except httpx.HTTPError:
            pass  # closed
        finally:
            self.ended.set()

    def _read(self) -> None:
        kind, data = "message", ""
        url = f"/runs/{self._name}/events"
        with self._c.stream("GET", url, params=self._params) as response:
            self.status = response.status_code
            self.content_type = response.headers.get("content-type", "")
            if response.status_code != 200:
                response.read()
                return
            for line in response.iter_lines():
                if self._stop.is_set():
                    return
                with self._lock:
                    if line.startswith(":"):
                        self.comments.append((line, time.monotonic()))
                    elif line.startswith("event: "):
                        kind = line[7:]
                    elif line.startswith("data: "):
                        data = line[6:]
                    elif line == "" and data:
                        self.messages.append((kind, json.loads(data), time.monotonic()))
                        kind, data = "message", ""

    def snapshots(self) -> list[dict[str, Any]]:
        with self._lock:
            return [d for k, d, _ in self.messages if k == "snapshot"]

    def kinds(self) -> list[str]:
        with self._lock:
            return [k for k, _, _ in self.messages]

    def pings_after(self, moment: float) -> int:
        with self._lock:
            return sum(1 for text, at in self.comments if text == ": ping" and at > moment)

    def wait_for(self, check: Callable[[], bool], timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while not check() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert check(), (self.kinds(), [s["totals"] for s in self.snapshots()][-5:])

    def close(self) -> None:
        self._stop.set()


def done(view: dict[str, Any]) -> int:
    totals = view["totals"]
    return int(totals["success"] + totals["failed"] + totals["timeout"])


def test_a_stream_follows_a_run_its_files_a_retry_and_its_deletion(
    site: Site, nvrs: dict[str, EmulatorBase], tmp_path: Path
) -> None:
    devices = device_table(tmp_path / "devices.csv", nvrs)
    with client(site, "ann") as ann:
        began = time.monotonic()
        start(ann, "followed.csv", manifest(ROWS), devices)
        stream = Stream(ann, "followed", limit=100)
        try:
            stream.wait_for(lambda: bool(stream.snapshots()), timeout=10)
            assert stream.status == 200 and stream.content_type.startswith("text/event-stream")
            first = stream.snapshots()[0]
            assert first["name"] == "followed" and first["totals"]["total"] == ROWS
            assert first["running"] and len(first["rows"]) == ROWS  # the whole run, at once

            # successive snapshots as rows finish, then the final state
            stream.wait_for(lambda: not stream.snapshots()[-1]["running"], timeout=90)
            ran = time.monotonic() - began
            snaps = stream.snapshots()
            progress = [done(s) for s in snaps]
            assert progress == sorted(progress), progress  # never goes back
            assert len(set(progress)) >= 3, progress  # seen advancing, not just start and end
            final = snaps[-1]
            assert final["totals"]["success"] == ROWS and final["finished_at"]
            assert {r["status"] for r in final["rows"]} == {"success"}
            assert final["counters"] == {"jpg": ROWS, "mp4": ROWS}
            devices_seen = {d["name"]: d for d in final["devices"]}
            assert devices_seen["gate"]["stages"]["download"] == "ok"
            assert devices_seen["gate"]["rows_done"] == ROWS
            assert final == ann.get("/runs/followed", params={"limit": 100}).json()
            # bursts are coalesced: at most 5 messages a second (and one to begin with)
            assert len(snaps) <= 5 * ran + 2, (len(snaps), ran)

            # idle: heartbeats, and no message while nothing changes
            quiet = time.monotonic()
            count = len(stream.snapshots())
            stream.wait_for(lambda: stream.pings_after(quiet) >= 2, timeout=10)
            assert len(stream.snapshots()) == count

            # the folder is what counts: a file deleted by hand shows at once
            folder = site.runtime.settings.batch_dir / "followed"
            (folder / "SH00.jpg").unlink()
            (folder / "SH00.mp4").unlink()
            stream.wait_for(lambda: stream.snapshots()[-1]["counters"]["jpg"] == ROWS - 1, 10)

            # "download the missing again" starts a new run: the same stream follows it
            assert ann.post("/runs/followed/retry").status_code == 200
            stream.wait_for(
                lambda: (
                    not stream.snapshots()[-1]["running"]
                    and stream.snapshots()[-1]["counters"] == {"jpg": ROWS, "mp4": ROWS}
                ),
                timeout=60,
            )
            again = stream.snapshots()[-1]
            assert again["started_at"] > final["started_at"]  # the new run's
            assert again["totals"]["success"] == ROWS

            # a deleted run ends its streams
            assert ann.delete("/runs/followed").status_code == 200
            stream.wait_for(lambda: stream.kinds()[-1:] == ["gone"], timeout=10)
            assert stream.ended.wait(10)
        finally:
            stream.close()


def test_who_may_follow_a_run(site: Site, tmp_path: Path) -> None:
    devices = device_table(tmp_path / "devices.csv", None)
    with client(site, "ann") as ann, client(site, "bob") as bob:
        with client(site, "vic") as vic, client(site) as anonymous:
            start(ann, "private.csv", manifest(2, dock="D9"), devices)  # fail at once
            finished(ann, "private")
            error_body(bob.get("/runs/private/events"), 404)  # another user's run
            error_body(ann.get("/runs/nothing/events"), 404)
            error_body(vic.get("/runs/private/events"), 403)  # may not export
            error_body(anonymous.get("/runs/private/events"), 401)
            error_body(ann.get("/runs/private/events", params={"rows": "odd"}), 400)
            # the page of rows asked for, as GET returns it
            stream = Stream(ann, "private", rows="failed", limit=1)
            try:
                stream.wait_for(lambda: bool(stream.snapshots()), timeout=10)
                expected = ann.get("/runs/private", params={"rows": "failed", "limit": 1})
                assert stream.snapshots()[0] == expected.json()
                assert len(stream.snapshots()[0]["rows"]) == 1
            finally:
                stream.close()


def test_open_streams_hold_no_server_thread(site: Site, tmp_path: Path) -> None:
    """More streams than the server's thread pool has threads (40), and it still answers."""
    devices = device_table(tmp_path / "devices.csv", None)
    limits = httpx.Limits(max_connections=100)
    with httpx.Client(
        base_url=f"{site.url}/api/v1/batch",
        headers={"Authorization": f"Bearer {site.tokens['ann']}"},
        timeout=httpx.Timeout(30, read=None),
        limits=limits,
    ) as ann:
        start(ann, "crowd.csv", manifest(2, dock="D9"), devices)
        finished(ann, "crowd")
        streams = [Stream(ann, "crowd") for _ in range(45)]
        try:
            for stream in streams:
                stream.wait_for(lambda s=stream: bool(s.snapshots()), timeout=30)
            began = time.monotonic()
            assert ann.get("/runs/crowd").status_code == 200
            assert ann.get("/runs").status_code == 200
            assert time.monotonic() - began < 5
        finally:
            for stream in streams:
                stream.close()


def test_a_stopping_server_ends_its_streams(tmp_path: Path) -> None:
    devices = device_table(tmp_path / "devices.csv", None)
    with serve(tmp_path / "data", users=USERS, password=PASSWORD, workers=0) as server:
        ann = client(server, "ann")
        start(ann, "brief.csv", manifest(2, dock="D9"), devices)
        finished(ann, "brief")
        stream = Stream(ann, "brief")
        stream.wait_for(lambda: bool(stream.snapshots()), timeout=10)
        assert not stream.ended.is_set()
        stopping = time.monotonic()
    try:
        # the server gives open responses 2 s to end, then ends them; the runtime closes
        assert time.monotonic() - stopping < 10
        assert stream.ended.wait(5)
    finally:
        ann.close()
