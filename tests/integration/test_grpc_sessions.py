"""Listing in pages, keepalive and download-window expiry with a hand-moved clock, isolation
between users, health checking, reflection and graceful shutdown."""

from __future__ import annotations

import hashlib
import itertools
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from footage.api.grpc.gen import export_pb2 as pb
from footage.tasks.clock import ManualClock
from tests.helpers.grpc import Api, archive_root, clip_options, finished_session, open_api

__all__ = ["archive_root"]
NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def idle(tmp_path: Path, archive_root: Path) -> Iterator[Api]:
    """No workers: sessions stay queued. The clock moves only when told to."""
    yield from open_api(tmp_path, archive_root, workers=0, clock=ManualClock(NOW))


@pytest.fixture
def timed(tmp_path: Path, archive_root: Path) -> Iterator[Api]:
    """One worker and a clock that moves only when told to."""
    yield from open_api(tmp_path, archive_root, workers=1, clock=ManualClock(NOW))


def advance(api: Api, minutes: float) -> None:
    clock = api.runtime.tasks.clock
    assert isinstance(clock, ManualClock)
    clock.advance(timedelta(minutes=minutes))
    api.runtime.tasks.maintenance.run_once()


def pages(api: Api, size: int, token: str = "", user: str = "ann") -> list[list[str]]:
    request = pb.ListSessionsRequest(page_size=size, page_token=token)
    answers = list(api.stub.ListSessions(request, metadata=api.auth(user)))
    assert [bool(a.next_page_token) for a in answers] == [True] * (len(answers) - 1) + [False]
    return [[s.session.id for s in a.sessions] for a in answers]


def flat(lists: list[list[str]]) -> list[str]:
    return list(itertools.chain.from_iterable(lists))


def test_250_sessions_in_pages_of_100(idle: Api) -> None:
    started = [idle.start(clip_options(start=i % 9)) for i in range(250)]
    newest_first = started[::-1]
    got = pages(idle, 100)
    assert [len(p) for p in got] == [100, 100, 50]
    assert flat(got) == newest_first
    request = pb.ListSessionsRequest(page_size=100)
    first = next(iter(idle.stub.ListSessions(request, metadata=idle.auth())))
    assert first.sessions[0].state.state == pb.State.S_RUNNING
    assert first.sessions[0].state.status == pb.STATUS_QUEUED
    resumed = pages(idle, 100, first.next_page_token)
    assert flat(resumed) == newest_first[100:]
    # sessions started after the first page was read do not shift the pages that follow
    idle.start(clip_options())
    assert flat(pages(idle, 100, first.next_page_token)) == newest_first[100:]
    assert len(flat(pages(idle, 1000))) == 251
    assert pages(idle, 100, user="bob") == [[]]


def test_an_unpolled_session_is_stopped_as_abandoned(idle: Api) -> None:
    session = idle.start(clip_options())
    advance(idle, 29)
    assert idle.state(session).status == pb.STATUS_QUEUED  # the poll resets the timer
    advance(idle, 29)
    assert idle.runtime.tasks.service.get(session).status.active
    advance(idle, 2)  # 31 min since the last poll
    state = idle.state(session)
    assert state.state == pb.State.S_COMPLETED and not state.result.succeeded
    assert state.status == pb.STATUS_FAILED and state.failure.code == "abandoned"


def test_files_stay_an_hour_after_the_last_poll_or_download(timed: Api) -> None:
    session = timed.start(clip_options(minutes=0.5))
    (file,) = timed.wait(session).result.files
    folder = timed.runtime.tasks.output_root / session
    advance(timed, 50)
    assert timed.state(session).state == pb.State.S_COMPLETED  # a poll: an hour from now
    advance(timed, 50)
    data = timed.download(session, file.path)  # a download: an hour from now
    assert hashlib.sha256(data).hexdigest() == file.sha256
    advance(timed, 59)
    assert folder.is_dir()
    advance(timed, 2)
    assert not folder.exists()
    state = timed.state(session)
    assert state.state == pb.State.S_REMOVED and state.status == pb.STATUS_EXPIRED
    assert not state.result.files and not state.destroyed
    with pytest.raises(grpc.RpcError) as err:
        timed.download(session, file.path)
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_users_see_only_their_own_sessions(idle: Api) -> None:
    mine = idle.start(clip_options(), user="ann")
    theirs = idle.start(clip_options(), user="bob")
    for call, request in (
        (idle.stub.GetSessionState, pb.GetSessionStateRequest(session_id=mine)),
        (idle.stub.StopSession, pb.StopSessionRequest(session_id=mine)),
        (idle.stub.DestroySession, pb.DestroySessionRequest(session_id=mine)),
        (idle.stub.GetSessionState, pb.GetSessionStateRequest(session_id=f"{theirs}+{mine}")),
    ):
        with pytest.raises(grpc.RpcError) as err:
            call(request, metadata=idle.auth("bob"))  # type: ignore[operator]
        assert err.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(grpc.RpcError) as err:
        idle.download(mine, "cam1_20260301T080100Z.mp4", user="bob")
    assert err.value.code() == grpc.StatusCode.NOT_FOUND
    assert pages(idle, 10, user="bob") == [[theirs]]
    assert pages(idle, 10, user="ann") == [[mine]]
    assert pages(idle, 10, user="root") == [[theirs, mine]]
    assert idle.state(mine, user="root").status == pb.STATUS_QUEUED
    assert idle.state(mine).status == pb.STATUS_QUEUED  # bob's attempts changed nothing


def test_health_and_reflection(idle: Api) -> None:
    health = health_pb2_grpc.HealthStub(idle.channel)
    for service in ("", "footage.export.v1.ExportService"):
        answer = health.Check(health_pb2.HealthCheckRequest(service=service))
        assert answer.status == health_pb2.HealthCheckResponse.SERVING
    reflect = reflection_pb2_grpc.ServerReflectionStub(idle.channel)
    (listed,) = reflect.ServerReflectionInfo(
        iter([reflection_pb2.ServerReflectionRequest(list_services="")])
    )
    names = {s.name for s in listed.list_services_response.service}
    assert {"footage.export.v1.ExportService", "grpc.health.v1.Health"} <= names
    (described,) = reflect.ServerReflectionInfo(
        iter(
            [
                reflection_pb2.ServerReflectionRequest(
                    file_containing_symbol="footage.export.v1.ExportService"
                )
            ]
        )
    )
    assert described.file_descriptor_response.file_descriptor_proto


def test_graceful_stop_lets_a_download_finish(idle: Api) -> None:
    session, file = finished_session(idle, 8 * 1024 * 1024)
    request = pb.DownloadFileRequest(session_id=session, file_path=file.name, chunk_size_kb=64)
    download = idle.stub.DownloadFile(request, metadata=idle.auth())
    first = next(download)  # the call is running when the server begins to stop
    stopping = threading.Thread(target=idle.server.stop, kwargs={"grace": 10.0})
    stopping.start()
    data = first.data + b"".join(c.data for c in download)
    assert hashlib.sha256(data).hexdigest() == file.sha256
    stopping.join()
    health = health_pb2_grpc.HealthStub(idle.channel)
    with pytest.raises(grpc.RpcError):  # no new calls once stopped
        health.Check(health_pb2.HealthCheckRequest(service=""), timeout=1)


def test_stop_cuts_a_download_past_its_grace_cleanly(idle: Api) -> None:
    session, file = finished_session(idle, 32 * 1024 * 1024)
    request = pb.DownloadFileRequest(session_id=session, file_path=file.name, chunk_size_kb=64)
    download = idle.stub.DownloadFile(request, metadata=idle.auth())
    received = len(next(download).data)  # then the client stops reading: the server blocks
    idle.server.stop(grace=0.2)
    with pytest.raises(grpc.RpcError) as err:
        for chunk in download:
            received += len(chunk.data)
    assert err.value.code() in (grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE)
    assert received < file.size  # an error, never a short file that looks complete
