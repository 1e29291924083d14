"""What the gRPC tests share: a generated archive, a runtime over it, a server on a real port
and users with tokens, and sessions made without workers."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest

from footage.api.grpc.gen import export_pb2 as pb
from footage.api.grpc.gen import export_pb2_grpc
from footage.api.grpc.server import GrpcServer
from footage.archive.local.scan import scan
from footage.auth import Permission
from footage.config.settings import ArchiveSettings, Settings, TasksSettings
from footage.runtime import Runtime
from footage.tasks.clock import Clock
from footage.tasks.model import TaskFile
from footage.tasks.store import SourceLimits
from tests.helpers.media import tiny_archive
from tests.helpers.servers import api_time

START = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
Metadata = tuple[tuple[str, str], ...]


def at(minutes: float) -> str:
    return api_time(START + timedelta(minutes=minutes))


@pytest.fixture(scope="module")
def archive_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two cameras, ten minutes, 160x96 at 10 fps, one-minute segments."""
    root = tmp_path_factory.mktemp("archive")
    return tiny_archive(root, START, timedelta(minutes=10), cameras=2, stamps="loop", workers=1)


@dataclass
class Api:
    runtime: Runtime
    server: GrpcServer
    channel: grpc.Channel
    stub: export_pb2_grpc.ExportServiceStub
    tokens: dict[str, str]

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.server.port}"

    def auth(self, user: str = "ann") -> Metadata:
        return (("authorization", f"Bearer {self.tokens[user]}"),)

    def start(self, options: pb.Options, user: str = "ann") -> str:
        request = pb.StartSessionRequest(session_options=options)
        return self.stub.StartSession(request, metadata=self.auth(user)).started_session_id

    def state(self, session_id: str, user: str = "ann") -> pb.State:
        request = pb.GetSessionStateRequest(session_id=session_id)
        return self.stub.GetSessionState(request, metadata=self.auth(user)).session_state

    def wait(self, session_id: str, user: str = "ann", timeout: float = 60) -> pb.State:
        """Poll like a client until the session leaves S_RUNNING."""
        for task_id in session_id.split("+"):
            self.runtime.tasks.service.wait(task_id, timeout=timeout, recheck=0.05)
        state = self.state(session_id, user)
        assert state.state != pb.State.S_RUNNING, state
        return state

    def download(self, session_id: str, path: str, user: str = "ann", **kw: int) -> bytes:
        request = pb.DownloadFileRequest(session_id=session_id, file_path=path, **kw)
        chunks = self.stub.DownloadFile(request, metadata=self.auth(user))
        return b"".join(chunk.data for chunk in chunks)


def clip_options(
    cameras: tuple[str, ...] = ("cam1",), start: float = 1, minutes: float = 1, **stream: object
) -> pb.Options:
    return pb.Options(
        archive=pb.ArchiveMode(
            sources=[pb.Source(camera_id=c) for c in cameras],
            start_timestamp=at(start),
            end_timestamp=at(start + minutes),
            discrete=len(cameras) > 1,
        ),
        stream=pb.StreamType(**stream),  # type: ignore[arg-type]
    )


def open_api(
    tmp_path: Path, archive_root: Path, *, workers: int = 1, clock: Clock | None = None
) -> Iterator[Api]:
    settings = Settings(
        data_dir=tmp_path,
        archive=ArchiveSettings(root=str(archive_root)),
        tasks=TasksSettings(
            poll_interval=0.05, heartbeat_interval=0.1, stale_after=1.0, min_free_mb=0
        ),
    )
    runtime = Runtime(settings, clock=clock, workers=workers)
    scan(runtime.engine, archive_root)
    users = runtime.users
    users.add("ann", "password-ann", [Permission.EXPORT])
    users.add("bob", "password-bob", [Permission.EXPORT])
    users.add("root", "password-root", [Permission.ADMIN])
    users.add("viewer", "password-viewer", [Permission.VIEW])
    users.add("cam2only", "password-cam2", [Permission.EXPORT], cameras=["cam2"])
    tokens = {name: users.issue(name) for name in ("ann", "bob", "root", "viewer", "cam2only")}
    runtime.start()
    server = GrpcServer(runtime, "127.0.0.1:0")
    server.start()
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    try:
        yield Api(runtime, server, channel, export_pb2_grpc.ExportServiceStub(channel), tokens)
    finally:
        channel.close()
        server.stop(grace=1.0)
        runtime.close()


def finished_session(api: Api, size: int, user: str = "ann") -> tuple[str, TaskFile]:
    """A completed session whose one output is ``size`` bytes of filler, made through the task
    store's own operations (queue, claim, finish) — for a server without workers."""
    session = api.start(clip_options(), user=user)
    system = api.runtime.tasks
    now = system.clock.now()
    others = []
    while claimed := system.store.claim(node="test", now=now, limits=SourceLimits(default=10**6)):
        if claimed.id == session:
            break
        others.append(claimed)
    assert claimed is not None
    for other in others:  # older queued sessions go back in their place
        system.store.release(other.id, other.attempt, now=now)
    folder = system.output_root / session
    folder.mkdir(parents=True)
    path = folder / "filler.bin"
    block = hashlib.sha256(session.encode()).digest() * (1 << 15)  # 1 MiB
    digest = hashlib.sha256()
    with path.open("wb") as out:
        left = size
        while left:
            piece = block[: min(left, len(block))]
            out.write(piece)
            digest.update(piece)
            left -= len(piece)
    file = TaskFile(
        name=path.name, size=size, sha256=digest.hexdigest(), mime_type="application/octet-stream"
    )
    system.store.finish(
        session, claimed.attempt, files=[file], now=now, expires=now + timedelta(hours=1)
    )
    return session, file
