"""Every bad input gets its status code and a message saying what is wrong."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest

from footage.api.grpc.gen import export_pb2 as pb
from tests.helpers.grpc import Api, archive_root, at, clip_options, finished_session, open_api

__all__ = ["archive_root"]
Code = grpc.StatusCode


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory, archive_root: Path) -> Iterator[Api]:
    """No workers: started sessions stay queued."""
    yield from open_api(tmp_path_factory.mktemp("errors"), archive_root, workers=0)


def fails(call: Callable[[], object], code: grpc.StatusCode, *words: str) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        result = call()
        if isinstance(result, Iterator):
            list(result)
    err = caught.value
    assert err.code() == code, err.details()
    for word in words:
        assert word in err.details(), err.details()
    return err


def start(api: Api, options: pb.Options, user: str = "ann") -> Callable[[], object]:
    request = pb.StartSessionRequest(session_options=options)
    return lambda: api.stub.StartSession(request, metadata=api.auth(user))


def archive(**fields: object) -> pb.ArchiveMode:
    values: dict[str, object] = {
        "sources": [pb.Source(camera_id="cam1")],
        "start_timestamp": at(1),
        "end_timestamp": at(2),
    }
    return pb.ArchiveMode(**{**values, **fields})  # type: ignore[arg-type]


def clip(**fields: object) -> pb.Options:
    return pb.Options(archive=archive(**fields), stream=pb.StreamType())


@pytest.mark.parametrize(
    ("metadata", "words"),
    [
        ((), "no credentials"),
        ((("authorization", "Basic YW5uOnB3"),), "Bearer"),
        ((("authorization", "Bearer ftg_not-a-token"),), "not valid"),
    ],
)
def test_unauthenticated(api: Api, metadata: tuple[tuple[str, str], ...], words: str) -> None:
    request = pb.GetSessionStateRequest(session_id="0" * 8 + "-0000-7000-8000-" + "0" * 12)
    err = fails(lambda: api.stub.GetSessionState(request, metadata=metadata), Code.UNAUTHENTICATED)
    assert words in err.details()
    trailing = dict(err.trailing_metadata() or ())  # type: ignore[attr-defined]
    assert trailing["footage-error-code"] == "unauthenticated"
    listing = pb.ListSessionsRequest()
    fails(lambda: api.stub.ListSessions(listing, metadata=metadata), Code.UNAUTHENTICATED)


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (pb.Options(stream=pb.StreamType()), ("mode is not set",)),
        (pb.Options(archive=archive()), ("output_type is not set",)),
        (clip(sources=[]), ("sources is empty",)),
        (clip(sources=[pb.Source(camera_id="")]), ("without camera_id",)),
        (clip(start_timestamp=""), ("start_timestamp is empty",)),
        (clip(end_timestamp="yesterday"), ("end_timestamp", "not an ISO 8601")),
        (clip(start_timestamp="2026-03-01T08:01:00"), ("has no offset", "timezone")),
        (clip(end_timestamp=at(0)), ("not after the start",)),
        (clip(end_timestamp=at(120)), ("longer than",)),
        (
            clip(sources=[pb.Source(camera_id="cam1"), pb.Source(camera_id="cam2")]),
            ("discrete = true",),
        ),
        (
            clip(sources=[pb.Source(camera_id="cam1")] * 2, discrete=True),
            ("more than once",),
        ),
        (
            clip(sources=[pb.Source(camera_id=f"c{i}") for i in range(65)], discrete=True),
            ("at most 64",),
        ),
        (
            pb.Options(archive=archive(), stream=pb.StreamType(format=9)),  # type: ignore[arg-type]
            ("stream.format 9",),
        ),
        (
            pb.Options(archive=archive(), snapshot=pb.SnapshotType(format=7)),  # type: ignore[arg-type]
            ("snapshot.format 7",),
        ),
        (pb.Options(archive=archive(), stream=pb.StreamType(), max_file_size=10), ("1 MB",)),
        (
            pb.Options(
                archive=archive(),
                stream=pb.StreamType(),
                settings=pb.CommonSettings(timezone="Mars/Olympus"),
            ),
            ("timezone", "Mars/Olympus"),
        ),
        (
            pb.Options(
                archive=archive(),
                stream=pb.StreamType(),
                settings=pb.CommonSettings(file_name="{camera}_{nope}"),
            ),
            ("file name template", "{camera}"),
        ),
        (
            pb.Options(
                archive=archive(),
                stream=pb.StreamType(),
                settings=pb.CommonSettings(comment="x" * 1001),
            ),
            ("comment",),
        ),
    ],
)
def test_bad_options(api: Api, options: pb.Options, words: tuple[str, ...]) -> None:
    err = fails(start(api, options), Code.INVALID_ARGUMENT, *words)
    assert dict(err.trailing_metadata())["footage-error-code"] == "invalid_request"  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("live", "output", "words"),
    [
        (
            pb.LiveMode(sources=[pb.Source(camera_id="cam1")], duration_ms=200),
            "stream",
            ("under a second",),
        ),
        (pb.LiveMode(duration_ms=5000), "stream", ("live.sources",)),
        (
            pb.LiveMode(sources=[pb.Source(camera_id="cam1"), pb.Source(camera_id="cam2")]),
            "snapshot",
            ("live.discrete",),
        ),
        (
            pb.LiveMode(sources=[pb.Source(camera_id="cam1")], duration_ms=10_000_000),
            "stream",
            ("longer than",),
        ),
    ],
)
def test_bad_live_options(api: Api, live: pb.LiveMode, output: str, words: tuple[str, ...]) -> None:
    outputs = {"stream": pb.StreamType(), "snapshot": pb.SnapshotType()}
    options = pb.Options(live=live, **{output: outputs[output]})  # type: ignore[arg-type]
    fails(start(api, options), Code.INVALID_ARGUMENT, *words)


def test_live_export_of_a_camera_without_a_live_stream(api: Api) -> None:
    options = pb.Options(
        live=pb.LiveMode(sources=[pb.Source(camera_id="cam1")], duration_ms=5000),
        stream=pb.StreamType(),
    )
    fails(start(api, options), Code.INVALID_ARGUMENT, "cam1", "no live stream", "[live] streams")


def test_live_snapshot_series_is_refused(api: Api) -> None:
    options = pb.Options(
        live=pb.LiveMode(sources=[pb.Source(camera_id="cam1")]),
        snapshot=pb.SnapshotType(interval_ms=1000),
    )
    fails(start(api, options), Code.INVALID_ARGUMENT, "one picture now")


def test_unknown_camera(api: Api) -> None:
    fails(start(api, clip(sources=[pb.Source(camera_id="cam9")])), Code.NOT_FOUND, "cam9")


def test_permissions(api: Api) -> None:
    fails(start(api, clip_options(), user="viewer"), Code.PERMISSION_DENIED, "export")
    fails(start(api, pb.Options(), user="viewer"), Code.PERMISSION_DENIED, "export")
    fails(start(api, clip_options(("cam1",)), user="cam2only"), Code.PERMISSION_DENIED, "cam1")
    assert api.start(clip_options(("cam2",)), user="cam2only")


def test_request_over_the_size_limit(api: Api) -> None:
    huge = pb.Options(
        archive=archive(), stream=pb.StreamType(), settings=pb.CommonSettings(comment="x" * 2**21)
    )
    fails(start(api, huge), Code.RESOURCE_EXHAUSTED)


@pytest.mark.parametrize(
    ("session_id", "code", "words"),
    [
        ("", Code.INVALID_ARGUMENT, ("session_id is empty",)),
        ("../../etc", Code.INVALID_ARGUMENT, ("not a session id",)),
        ("01890000-0000-7000-8000-000000000000", Code.NOT_FOUND, ("no session",)),
    ],
)
def test_bad_session_ids(
    api: Api, session_id: str, code: grpc.StatusCode, words: tuple[str, ...]
) -> None:
    meta = api.auth()
    stub = api.stub
    fails(
        lambda: stub.GetSessionState(
            pb.GetSessionStateRequest(session_id=session_id), metadata=meta
        ),
        code,
        *words,
    )
    fails(
        lambda: stub.StopSession(pb.StopSessionRequest(session_id=session_id), metadata=meta), code
    )
    fails(
        lambda: stub.DestroySession(pb.DestroySessionRequest(session_id=session_id), metadata=meta),
        code,
    )
    request = pb.DownloadFileRequest(session_id=session_id, file_path="a.mp4")
    fails(lambda: stub.DownloadFile(request, metadata=meta), code)


def test_bad_pages(api: Api) -> None:
    for request, words in (
        (pb.ListSessionsRequest(page_token="%%%"), "page token"),
        (pb.ListSessionsRequest(page_size=1001), "page_size"),
        (pb.ListSessionsRequest(page_size=-1), "page_size"),
    ):
        fails(
            lambda r=request: api.stub.ListSessions(r, metadata=api.auth()),
            Code.INVALID_ARGUMENT,
            words,
        )  # type: ignore[misc]


def test_download_before_completion(api: Api) -> None:
    session = api.start(clip_options())
    request = pb.DownloadFileRequest(session_id=session, file_path="cam1_20260301T080100Z.mp4")
    fails(
        lambda: api.stub.DownloadFile(request, metadata=api.auth()),
        Code.FAILED_PRECONDITION,
        "still queued",
    )


@pytest.mark.parametrize(
    ("fields", "code", "words"),
    [
        ({"file_path": "../filler.bin"}, Code.INVALID_ARGUMENT, ("not a path of a session file",)),
        ({"file_path": "/etc/passwd"}, Code.INVALID_ARGUMENT, ("relative",)),
        ({"file_path": "C:/x"}, Code.INVALID_ARGUMENT, ("relative",)),
        ({"file_path": "a\\b"}, Code.INVALID_ARGUMENT, ("relative",)),
        ({"file_path": ""}, Code.INVALID_ARGUMENT, ("file_path is empty",)),
        ({"file_path": "other.bin"}, Code.NOT_FOUND, ("other.bin",)),
        ({"chunk_size_kb": 5000}, Code.INVALID_ARGUMENT, ("chunk_size_kb", "4096")),
        (
            {"start_from_chunk_index": 1, "start_from_offset": 5},
            Code.INVALID_ARGUMENT,
            ("not both",),
        ),
        ({"start_from_offset": 300_001}, Code.INVALID_ARGUMENT, ("past the end", "300000 bytes")),
        (
            {"start_from_chunk_index": 3, "chunk_size_kb": 128},
            Code.INVALID_ARGUMENT,
            ("byte 393216", "past the end"),
        ),
    ],
)
def test_bad_downloads(
    api: Api, fields: dict[str, object], code: grpc.StatusCode, words: tuple[str, ...]
) -> None:
    session, file = finished_session(api, 300_000)
    values: dict[str, object] = {"session_id": session, "file_path": file.name, **fields}
    request = pb.DownloadFileRequest(**values)  # type: ignore[arg-type]
    fails(lambda: api.stub.DownloadFile(request, metadata=api.auth()), code, *words)
    assert api.download(session, file.name) != b""  # the session itself is fine
