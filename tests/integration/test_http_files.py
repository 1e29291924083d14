"""Downloads that resume (Range, If-Range, ETag, 416) and the server-sent event stream of
task changes, against a real server and real exports."""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.media import tiny_archive
from tests.helpers.servers import api_time, serve

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def at(minutes: float) -> str:
    return api_time(START + timedelta(minutes=minutes))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    archive = tmp_path_factory.mktemp("archive")
    tiny_archive(archive, START, timedelta(minutes=10), audio=True, stamps="loop", workers=1)
    with serve(
        tmp_path_factory.mktemp("data"),
        archive=archive,
        users={"ann": ("export", None), "bob": ("export", None)},
        password="password-1",
        workers=1,
        heartbeat=0.3,
    ) as served:
        yield served.url, served.tokens


def client(server: tuple[str, dict[str, str]], user: str = "ann") -> httpx.Client:
    url, tokens = server
    return httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens[user]}"})


def finished_file(c: httpx.Client, minutes: float = 2) -> dict[str, Any]:
    body = {"cameras": ["cam1"], "start": at(1), "end": at(1 + minutes), "format": "mkv"}
    (task,) = c.post("/api/v1/exports", json=body).json()["tasks"]
    deadline = time.monotonic() + 30
    while task["status"] in ("queued", "running") and time.monotonic() < deadline:
        time.sleep(0.05)
        task = c.get(f"/api/v1/exports/{task['id']}").json()
    assert task["status"] == "done", task
    file: dict[str, Any] = task["files"][0]
    return file


@pytest.fixture(scope="module")
def file(server: tuple[str, dict[str, str]]) -> dict[str, Any]:
    with client(server) as c:
        return finished_file(c)


def test_whole_file_has_length_etag_and_attachment_name(
    server: tuple[str, dict[str, str]], file: dict[str, Any]
) -> None:
    with client(server) as c:
        response = c.get(file["url"])
    assert response.status_code == 200
    assert response.headers["accept-ranges"] == "bytes"
    assert int(response.headers["content-length"]) == file["size"] == len(response.content)
    assert response.headers["etag"] == f'"{file["sha256"]}"'
    assert hashlib.sha256(response.content).hexdigest() == file["sha256"]
    disposition = response.headers["content-disposition"]
    assert (
        disposition.startswith("attachment;") and f"filename*=UTF-8''{file['name']}" in disposition
    )
    assert response.headers["content-type"] == "video/x-matroska"


@pytest.mark.parametrize(
    ("spec", "first", "last"),
    [("bytes=0-99", 0, 99), ("bytes=1000-4095", 1000, 4095), ("bytes=-500", -500, -1)],
)
def test_ranges_give_exactly_the_bytes_asked(
    server: tuple[str, dict[str, str]], file: dict[str, Any], spec: str, first: int, last: int
) -> None:
    size = file["size"]
    with client(server) as c:
        whole = c.get(file["url"]).content
        response = c.get(file["url"], headers={"Range": spec})
    start, end = first % size, last % size
    assert response.status_code == 206
    assert response.content == whole[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{size}"
    assert int(response.headers["content-length"]) == end - start + 1


def test_the_last_bytes_and_an_end_past_the_file(
    server: tuple[str, dict[str, str]], file: dict[str, Any]
) -> None:
    size = file["size"]
    with client(server) as c:
        tail = c.get(file["url"], headers={"Range": f"bytes={size - 10}-{size + 1000}"})
    assert tail.status_code == 206 and len(tail.content) == 10
    assert tail.headers["content-range"] == f"bytes {size - 10}-{size - 1}/{size}"


@pytest.mark.parametrize("spec", ["bytes={size}-", "bytes=10-5", "bytes=-0", "bytes=x-y"])
def test_unsatisfiable_ranges_are_416(
    server: tuple[str, dict[str, str]], file: dict[str, Any], spec: str
) -> None:
    with client(server) as c:
        response = c.get(file["url"], headers={"Range": spec.format(size=file["size"])})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{file['size']}"
    assert response.json()["error"]["code"] == "range_not_satisfiable"


def test_resuming_gives_the_same_file(
    server: tuple[str, dict[str, str]], file: dict[str, Any], tmp_path: Path
) -> None:
    """What ``curl -C -`` does: keep the bytes you have, ask for the rest (If-Range)."""
    with client(server) as c:
        partial = b""
        with c.stream("GET", file["url"]) as response:
            for chunk in response.iter_bytes(4096):
                partial += chunk
                if len(partial) >= file["size"] // 3:
                    break
        rest = c.get(
            file["url"],
            headers={"Range": f"bytes={len(partial)}-", "If-Range": f'"{file["sha256"]}"'},
        )
        assert rest.status_code == 206
        assert hashlib.sha256(partial + rest.content).hexdigest() == file["sha256"]
        changed = c.get(file["url"], headers={"Range": "bytes=10-", "If-Range": '"other"'})
        assert changed.status_code == 200 and len(changed.content) == file["size"]
        cached = c.get(file["url"], headers={"If-None-Match": f'"{file["sha256"]}"'})
        assert cached.status_code == 304 and cached.content == b""
        head = c.head(file["url"], headers={"Range": "bytes=0-9"})
        assert head.status_code == 206 and head.headers["content-length"] == "10"


def test_files_of_another_user_are_404(
    server: tuple[str, dict[str, str]], file: dict[str, Any]
) -> None:
    with client(server, "bob") as c:
        assert c.get(file["url"]).status_code == 404
    with client(server) as c:
        bad = file["url"].rsplit("/", 1)[0] + "/..%2F..%2Ffootage.db"
        assert c.get(bad).status_code == 404


# -- server-sent events ----------------------------------------------------------------------
class EventReader:
    """Reads an event stream in a thread, collecting (event, id, data) and comments."""

    def __init__(self, c: httpx.Client, headers: dict[str, str] | None = None) -> None:
        self.events: list[tuple[str, str, dict[str, Any]]] = []
        self.comments: list[str] = []
        self.connected = threading.Event()
        self.content_type = ""
        self._c = c
        self._headers = headers or {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._read()
        except httpx.HTTPError:
            pass  # the server went away (the end of the module's tests)

    def _read(self) -> None:
        kind, ident, data = "message", "", ""
        with self._c.stream("GET", "/api/v1/events", headers=self._headers) as response:
            self.content_type = response.headers["content-type"]
            for line in response.iter_lines():
                if self._stop.is_set():
                    return
                if line.startswith(":"):
                    self.comments.append(line)
                    self.connected.set()
                elif line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("id: "):
                    ident = line[4:]
                elif line.startswith("data: "):
                    data = line[6:]
                elif line == "" and data:
                    self.events.append((kind, ident, json.loads(data)))
                    kind, ident, data = "message", "", ""

    def wait_for(self, check: Any, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while not check() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert check(), (self.events, self.comments)

    def close(self) -> None:
        self._stop.set()


def test_events_follow_an_export_from_queue_to_done(server: tuple[str, dict[str, str]]) -> None:
    timeout = httpx.Timeout(10, read=None)
    with client(server) as ann, client(server, "bob") as bob:
        ann.timeout = bob.timeout = timeout
        reader, other = EventReader(ann), EventReader(bob)
        try:
            assert reader.connected.wait(10) and other.connected.wait(10)
            assert reader.content_type.startswith("text/event-stream")
            file = finished_file(ann, minutes=3)
            task_id = file["url"].split("/")[4]

            def statuses() -> list[str]:
                return [
                    d["status"] for k, _, d in reader.events if k == "status" and d["id"] == task_id
                ]

            reader.wait_for(lambda: "done" in statuses())
            assert statuses() == ["queued", "running", "done"]
            done = next(d for k, _, d in reader.events if k == "status" and d["status"] == "done")
            assert done["files"][0]["sha256"] == file["sha256"]
            progress = [d for k, _, d in reader.events if k == "progress"]
            assert all(0 <= d["progress"] <= 100 for d in progress)
            reader.wait_for(lambda: ": ping" in reader.comments)  # heartbeats keep it open
            assert not [d for _, _, d in other.events if d["id"] == task_id]  # bob sees none
            queued_id = next(i for k, i, d in reader.events if d["status"] == "queued")
        finally:
            reader.close()
            other.close()

        # reconnecting with Last-Event-ID replays what changed since
        again = EventReader(ann, {"Last-Event-ID": queued_id})
        try:
            again.wait_for(
                lambda: any(
                    d["id"] == task_id and d["status"] == "done" for _, _, d in again.events
                )
            )
        finally:
            again.close()
