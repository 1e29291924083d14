"""The Python client and ``footage client`` against a real server: export, resume, verify."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from footage.api.grpc.gen import export_pb2 as pb
from footage.cli.client import app
from footage.client import ChecksumMismatch, ExportClient, clip_options
from footage.domain import InvalidRequest, NotFound, PermissionDenied, Unauthenticated
from tests.helpers.grpc import START, Api, archive_root, finished_session, open_api

__all__ = ["archive_root"]


@pytest.fixture
def api(tmp_path: Path, archive_root: Path) -> Iterator[Api]:
    yield from open_api(tmp_path / "server", archive_root)


@pytest.fixture
def idle(tmp_path: Path, archive_root: Path) -> Iterator[Api]:
    yield from open_api(tmp_path / "server", archive_root, workers=0)


@pytest.fixture
def client(api: Api) -> Iterator[ExportClient]:
    with ExportClient(api.target, api.tokens["ann"]) as made:
        yield made


def test_export_download_verify_destroy(api: Api, client: ExportClient, tmp_path: Path) -> None:
    options = clip_options(
        ["cam1", "cam2"], START + timedelta(minutes=3), START + timedelta(minutes=3.5)
    )
    session = client.start(options)
    seen: list[int] = []
    state = client.wait(session, interval=0.05, on_state=lambda s: seen.append(s.state))
    assert state.result.succeeded and seen[-1] == pb.State.S_COMPLETED
    saved = client.download_all(session, tmp_path / "out", state=state, chunk_kb=8)
    assert [p.relative_to(tmp_path / "out").as_posix() for p in saved] == [
        f.path for f in state.result.files
    ]
    for path, file in zip(saved, state.result.files, strict=True):
        assert hashlib.sha256(path.read_bytes()).hexdigest() == file.sha256
    assert [info.session.id for info in client.sessions()] == session.split("+")[::-1]
    client.destroy(session)
    assert client.state(session).state == pb.State.S_REMOVED
    assert list(client.sessions()) == []


def test_an_interrupted_download_resumes_where_the_file_ends(idle: Api, tmp_path: Path) -> None:
    client = ExportClient(idle.target, idle.tokens["ann"])
    session, made = finished_session(idle, 3_000_000)
    file = client.state(session).result.files[0]
    assert (file.size, file.sha256) == (made.size, made.sha256)
    head = next(client.chunks(session, file.path, chunk_kb=1024)).data
    part = tmp_path / (file.path + ".part")
    part.write_bytes(head)
    reports: list[tuple[int, int]] = []
    path = client.download(
        session, file, tmp_path, chunk_kb=256, on_progress=lambda d, t: reports.append((d, t))
    )
    assert reports[0] == (len(head), file.size) and reports[-1] == (file.size, file.size)
    assert len(reports) == 1 + (file.size - len(head) + 256 * 1024 - 1) // (256 * 1024)
    assert sha(path) == file.sha256 and not part.exists()
    again: list[tuple[int, int]] = []
    client.download(session, file, tmp_path, on_progress=lambda d, t: again.append((d, t)))
    assert again == []  # already there and verified: not fetched again

    path.unlink()
    part.write_bytes(b"x" * 1000)  # a partial file that is not the server's
    with pytest.raises(ChecksumMismatch, match="expected"):
        client.download(session, file, tmp_path)
    assert not part.exists()
    assert sha(client.download(session, file, tmp_path)) == file.sha256
    client.close()


def test_errors_come_back_as_footage_errors(api: Api, client: ExportClient) -> None:
    with pytest.raises(NotFound):
        client.state("01890000-0000-7000-8000-000000000000")
    with pytest.raises(InvalidRequest, match="not a session id"):
        client.state("nope")
    with pytest.raises(InvalidRequest, match="format"):
        clip_options(["cam1"], START, START + timedelta(minutes=1), format="avi")
    with ExportClient(api.target, "ftg_wrong") as stranger:
        with pytest.raises(Unauthenticated):
            list(stranger.sessions())
    with ExportClient(api.target, api.tokens["viewer"]) as viewer:
        with pytest.raises(PermissionDenied):
            viewer.start(clip_options(["cam1"], START, START + timedelta(minutes=1)))


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_cli(api: Api, tmp_path: Path) -> None:
    runner = CliRunner()
    env = {"FOOTAGE_CLIENT_SERVER": api.target, "FOOTAGE_CLIENT_TOKEN": api.tokens["ann"]}
    times = ["--start", "2026-03-01T08:02:00Z", "--end", "2026-03-01T08:02:20+00:00"]
    out = tmp_path / "cli"
    result = runner.invoke(
        app,
        ["export", "-c", "cam2", *times, "--format", "ts", "--wait", "-o", str(out)],
        env=env,
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    saved = Path(result.stdout.strip().splitlines()[-1])
    assert saved == out / "cam2_20260301T080200Z.ts" and saved.stat().st_size > 0
    listed = runner.invoke(app, ["sessions", "--json"], env=env, catch_exceptions=False)
    assert json.loads(listed.stdout) == []  # destroyed after the download

    pictures = ["--pictures", "--interval", "10s", "-o", str(tmp_path / "pictures")]
    kept = runner.invoke(
        app,
        ["export", "-c", "cam1", *times, *pictures, "--wait", "--keep"],
        env=env,
        catch_exceptions=False,
    )
    assert kept.exit_code == 0, kept.output
    (row,) = json.loads(runner.invoke(app, ["sessions", "--json"], env=env).stdout)
    assert (row["cameras"], row["state"], row["status"], row["files"]) == (
        ["cam1"],
        "completed",
        "done",
        2,
    )
    assert sorted(p.name for p in (tmp_path / "pictures").iterdir()) == [
        "cam1_20260301T080200Z_0001.jpg",
        "cam1_20260301T080200Z_0002.jpg",
    ]

    started = runner.invoke(app, ["export", "-c", "cam1", *times], env=env)
    session = started.stdout.strip()
    api.runtime.tasks.service.wait(session, timeout=60)
    dest = tmp_path / "again"
    first = runner.invoke(app, ["download", session, "-o", str(dest)], env=env)
    assert first.exit_code == 0, first.output
    (path,) = [Path(p) for p in first.stdout.split()]
    whole = path.read_bytes()
    path.unlink()
    path.with_name(path.name + ".part").write_bytes(whole[:5000])
    resumed = runner.invoke(app, ["download", session, "-o", str(dest), "--chunk-kb", "4"], env=env)
    assert resumed.exit_code == 0 and path.read_bytes() == whole
    state = runner.invoke(app, ["state", session], env=env)
    assert state.stdout.startswith("completed (done), 100%")
    assert runner.invoke(app, ["destroy", session], env=env).exit_code == 0
    missing = runner.invoke(app, ["download", session, "-o", str(dest)], env=env)
    assert missing.exit_code != 0 and "removed" in str(missing.exception)
