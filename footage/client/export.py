"""``ExportClient``: the gRPC export API from Python, for integrators.

    with ExportClient("nvr-export:50051", token) as client:
        session = client.start(clip_options(["cam1"], start, end, format="mp4"))
        state = client.wait(session)
        paths = client.download_all(session, Path("exports"), state=state)
        client.destroy(session)

Server errors come back as footage's own errors (``NotFound``, ``InvalidRequest``, ...), the
status code mapped back through the same table the server uses.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

import grpc

from footage.api.errors import TABLE
from footage.api.grpc.gen import export_pb2 as pb
from footage.api.grpc.gen import export_pb2_grpc
from footage.closeable import Closeable
from footage.domain import FootageError, InvalidRequest, MediaError, ensure_utc
from footage.durable import publish

_T = TypeVar("_T")
Progress = Callable[[int, int], None]  # (bytes on disk, file size)
StateCallback = Callable[[pb.State], None]
PART = ".part"
_FORMATS = {"mp4": pb.STREAM_FORMAT_MP4, "mkv": pb.STREAM_FORMAT_MKV, "ts": pb.STREAM_FORMAT_TS}


class ChecksumMismatch(MediaError):
    """A downloaded file's SHA-256 differs from the one the server states."""


def _error(exc: grpc.RpcError) -> FootageError:
    """The footage error a status code stands for (the server's table read backwards)."""
    code = exc.code() if isinstance(exc, grpc.Call) else None
    details = (exc.details() if isinstance(exc, grpc.Call) else None) or str(exc)
    for cls, mapping in TABLE:
        if code is not None and mapping.grpc_code == code.name:
            return cls(details)
    name = code.name if code is not None else "UNKNOWN"
    return FootageError(f"{details} ({name})", code=name.lower())


def _call(fn: Callable[[], _T]) -> _T:
    try:
        return fn()
    except grpc.RpcError as exc:
        raise _error(exc) from exc


def local_path(out_dir: Path, path: str) -> Path:
    """Where file ``path`` of a session goes under ``out_dir`` (refusing escapes)."""
    parts = path.split("/")
    if not path or path.startswith("/") or "\\" in path or any(p in ("", ".", "..") for p in parts):
        raise InvalidRequest(f"the server named a file {path!r} that cannot be saved safely")
    return out_dir.joinpath(*parts)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def clip_options(
    cameras: Sequence[str],
    start: datetime,
    end: datetime,
    *,
    format: str = "mp4",
    pictures: bool = False,
    picture_interval: timedelta | None = None,
    reject_audio: bool = False,
    exact: bool = False,
    max_file_size: int | None = None,
    comment: str = "",
    file_name: str = "",
) -> pb.Options:
    """The ``Options`` of an archive export of ``cameras`` (a clip, or pictures)."""
    options = pb.Options(
        archive=pb.ArchiveMode(
            sources=[pb.Source(camera_id=c) for c in cameras],
            start_timestamp=ensure_utc(start).isoformat(),
            end_timestamp=ensure_utc(end).isoformat(),
            discrete=True,
        ),
        settings=pb.CommonSettings(comment=comment, file_name=file_name),
        max_file_size=max_file_size or 0,
    )
    if pictures:
        every = 0 if picture_interval is None else picture_interval // timedelta(milliseconds=1)
        options.snapshot.CopyFrom(
            pb.SnapshotType(format=pb.SNAPSHOT_FORMAT_JPEG, interval_ms=every)
        )
    else:
        options.stream.CopyFrom(_stream(format, reject_audio=reject_audio, exact=exact))
    return options


def live_options(
    cameras: Sequence[str],
    *,
    seconds: float | None = None,
    picture: bool = False,
    format: str = "mp4",
    reject_audio: bool = False,
    comment: str = "",
    file_name: str = "",
) -> pb.Options:
    """The ``Options`` of a live export of ``cameras``: a clip of the next ``seconds`` (None:
    until the session is stopped), or with ``picture`` the picture of that moment."""
    if seconds is not None and not seconds >= 1:
        raise InvalidRequest(f"a live clip lasts at least a second, not {seconds:g} s")
    options = pb.Options(
        live=pb.LiveMode(
            sources=[pb.Source(camera_id=c) for c in cameras],
            duration_ms=0 if seconds is None else round(seconds * 1000),
            discrete=True,
        ),
        settings=pb.CommonSettings(comment=comment, file_name=file_name),
    )
    if picture:
        options.snapshot.CopyFrom(pb.SnapshotType(format=pb.SNAPSHOT_FORMAT_JPEG))
    else:
        options.stream.CopyFrom(_stream(format, reject_audio=reject_audio, exact=False))
    return options


def _stream(format: str, *, reject_audio: bool, exact: bool) -> pb.StreamType:
    if format not in _FORMATS:
        raise InvalidRequest(f"format {format!r} is unknown; use mp4, mkv or ts")
    return pb.StreamType(format=_FORMATS[format], reject_audio=reject_audio, exact_cut=exact)


class ExportClient(Closeable):
    """One channel to a footage server; every call carries the bearer ``token``.

    ``credentials`` makes the channel TLS (``grpc.ssl_channel_credentials()``); ``timeout``
    bounds each unary call (streams run as long as they need).
    """

    def __init__(
        self,
        target: str,
        token: str,
        *,
        credentials: grpc.ChannelCredentials | None = None,
        timeout: float = 30.0,
    ) -> None:
        if not token:
            raise InvalidRequest("no token: pass one from `footage users token`")
        self._channel = (
            grpc.secure_channel(target, credentials)
            if credentials is not None
            else grpc.insecure_channel(target)
        )
        self._stub = export_pb2_grpc.ExportServiceStub(self._channel)
        self._metadata = (("authorization", f"Bearer {token}"),)
        self._timeout = timeout

    def close(self) -> None:
        self._channel.close()

    # ---- sessions ------------------------------------------------------------------------

    def start(self, options: pb.Options) -> str:
        """Start a session (see :func:`clip_options`); its id."""
        request = pb.StartSessionRequest(session_options=options)
        answer = _call(
            lambda: self._stub.StartSession(request, metadata=self._metadata, timeout=self._timeout)
        )
        return answer.started_session_id

    def state(self, session_id: str) -> pb.State:
        """The session's state (a poll: it keeps the session and its files alive)."""
        request = pb.GetSessionStateRequest(session_id=session_id)
        answer = _call(
            lambda: self._stub.GetSessionState(
                request, metadata=self._metadata, timeout=self._timeout
            )
        )
        return answer.session_state

    def wait(
        self,
        session_id: str,
        *,
        interval: float = 1.0,
        timeout: float | None = None,
        on_state: StateCallback | None = None,
    ) -> pb.State:
        """Poll until the session is no longer S_RUNNING (or ``timeout`` seconds passed)."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            state = self.state(session_id)
            if on_state is not None:
                on_state(state)
            if state.state != pb.State.S_RUNNING:
                return state
            if deadline is not None and time.monotonic() >= deadline:
                return state
            time.sleep(interval)

    def sessions(self, *, page_size: int = 100) -> Iterator[pb.SessionInfo]:
        """Every session of the user (all, for an administrator), newest first."""
        request = pb.ListSessionsRequest(page_size=page_size)
        pages = self._stub.ListSessions(request, metadata=self._metadata)
        try:
            for page in pages:
                yield from page.sessions
        except grpc.RpcError as exc:
            raise _error(exc) from exc

    def stop(self, session_id: str) -> pb.State:
        request = pb.StopSessionRequest(session_id=session_id)
        answer = _call(
            lambda: self._stub.StopSession(request, metadata=self._metadata, timeout=self._timeout)
        )
        return answer.session_state

    def destroy(self, session_id: str) -> None:
        request = pb.DestroySessionRequest(session_id=session_id)
        _call(
            lambda: self._stub.DestroySession(
                request, metadata=self._metadata, timeout=self._timeout
            )
        )

    # ---- files ---------------------------------------------------------------------------

    def chunks(
        self, session_id: str, path: str, *, offset: int = 0, chunk_kb: int = 1024
    ) -> Iterator[pb.FileChunk]:
        """The raw chunks of one file from byte ``offset``."""
        request = pb.DownloadFileRequest(
            session_id=session_id, file_path=path, chunk_size_kb=chunk_kb, start_from_offset=offset
        )
        try:
            yield from self._stub.DownloadFile(request, metadata=self._metadata)
        except grpc.RpcError as exc:
            raise _error(exc) from exc

    def download(
        self,
        session_id: str,
        file: pb.Result.File,
        out_dir: Path,
        *,
        chunk_kb: int = 1024,
        on_progress: Progress | None = None,
    ) -> Path:
        """Save ``file`` under ``out_dir`` and check its SHA-256; the path it was saved at.

        The bytes go to ``<name>.part`` first, renamed when complete and verified; an
        interrupted download resumes from where that file ends. A file already saved with
        the right checksum is not fetched again."""
        target = local_path(out_dir, file.path)
        if target.is_file() and target.stat().st_size == file.size:
            if sha256_of(target) == file.sha256:
                return target
        target.parent.mkdir(parents=True, exist_ok=True)
        part = target.with_name(target.name + PART)
        have = part.stat().st_size if part.is_file() else 0
        if have > file.size:
            have = 0
        digest = hashlib.sha256()
        if have:
            with part.open("rb") as handle:
                while block := handle.read(1 << 20):
                    digest.update(block)
        with part.open("ab" if have else "wb") as out:
            if on_progress is not None:
                on_progress(have, file.size)
            for chunk in self.chunks(session_id, file.path, offset=have, chunk_kb=chunk_kb):
                out.write(chunk.data)
                digest.update(chunk.data)
                have += len(chunk.data)
                if on_progress is not None:
                    on_progress(have, file.size)
        if have != file.size or digest.hexdigest() != file.sha256:
            part.unlink()
            raise ChecksumMismatch(
                f"{file.path}: got {have} bytes with SHA-256 {digest.hexdigest()}, expected "
                f"{file.size} bytes with {file.sha256}; the partial file was deleted, try again"
            )
        publish([(part, target)])
        return target

    def download_all(
        self,
        session_id: str,
        out_dir: Path,
        *,
        state: pb.State | None = None,
        chunk_kb: int = 1024,
        on_progress: Callable[[pb.Result.File, int, int], None] | None = None,
    ) -> list[Path]:
        """Every file of a completed session, saved and verified under ``out_dir``."""
        current = state or self.state(session_id)
        saved = []
        for file in current.result.files:
            report: Progress | None = None
            if on_progress is not None:
                report = lambda done, total, f=file: on_progress(f, done, total)  # noqa: E731
            saved.append(
                self.download(session_id, file, out_dir, chunk_kb=chunk_kb, on_progress=report)
            )
        return saved
