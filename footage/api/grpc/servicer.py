"""``footage.export.v1.ExportService``: requests translated onto sessions (tasks), errors onto
status codes by the one table in ``footage.api.errors``.

Streamed answers settle their status before the first message: a download opens (and checks)
its file before it sends a byte.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import grpc

from footage.api.errors import mapping_for
from footage.api.grpc import convert
from footage.api.grpc.auth import TokenAuth
from footage.api.grpc.gen import export_pb2 as pb
from footage.api.grpc.gen import export_pb2_grpc
from footage.api.grpc.sessions import Sessions, session_id
from footage.auth import Permission
from footage.domain import FootageError, InvalidRequest

log = logging.getLogger(__name__)

ERROR_CODE_KEY = "footage-error-code"
DEFAULT_PAGE = 100
DEFAULT_CHUNK_KB = 1024
MAX_CHUNK_KB = 4096


@contextmanager
def translated(context: grpc.ServicerContext) -> Iterator[None]:
    """Turn footage's errors into the status the table names (and unexpected ones into
    INTERNAL, logged)."""
    try:
        yield
    except FootageError as exc:
        context.set_trailing_metadata(((ERROR_CODE_KEY, exc.code),))
        context.abort(grpc.StatusCode[mapping_for(exc).grpc_code], exc.message)
    except Exception:
        if context.is_active():
            log.exception("gRPC call failed")
            context.set_trailing_metadata(((ERROR_CODE_KEY, "internal"),))
            context.abort(grpc.StatusCode.INTERNAL, "internal error; the server log says more")
        raise


class ExportServicer(export_pb2_grpc.ExportServiceServicer):
    def __init__(self, sessions: Sessions, auth: TokenAuth) -> None:
        self._sessions = sessions
        self._auth = auth

    def StartSession(
        self, request: pb.StartSessionRequest, context: grpc.ServicerContext
    ) -> pb.StartSessionResponse:
        with translated(context):
            user = self._auth.user(context)
            user.require(Permission.EXPORT)  # before judging the options
            plan = convert.start_plan(request.session_options, live_limit=self._sessions.max_range)
            return pb.StartSessionResponse(started_session_id=self._sessions.start(plan, user))

    def GetSessionState(
        self, request: pb.GetSessionStateRequest, context: grpc.ServicerContext
    ) -> pb.GetSessionStateResponse:
        with translated(context):
            user = self._auth.user(context)
            tasks = self._sessions.poll(request.session_id, user)
            return pb.GetSessionStateResponse(session_state=convert.session_state(tasks))

    def ListSessions(
        self, request: pb.ListSessionsRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.ListSessionsResponse]:
        with translated(context):
            user = self._auth.user(context)
            size = request.page_size or DEFAULT_PAGE
            token: str | None = request.page_token or None
            first = True
            while first or token:
                page = self._sessions.page(user, size=size, token=token)
                first, token = False, page.next_token
                yield pb.ListSessionsResponse(
                    sessions=[
                        pb.SessionInfo(
                            session=pb.Session(id=session_id([t]), options=convert.task_options(t)),
                            state=convert.session_state([t]),
                        )
                        for t in page.tasks
                    ],
                    next_page_token=token or "",
                )

    def StopSession(
        self, request: pb.StopSessionRequest, context: grpc.ServicerContext
    ) -> pb.StopSessionResponse:
        with translated(context):
            user = self._auth.user(context)
            tasks = self._sessions.stop(request.session_id, user)
            return pb.StopSessionResponse(session_state=convert.session_state(tasks))

    def DestroySession(
        self, request: pb.DestroySessionRequest, context: grpc.ServicerContext
    ) -> pb.DestroySessionResponse:
        with translated(context):
            user = self._auth.user(context)
            self._sessions.destroy(request.session_id, user)
            return pb.DestroySessionResponse()

    def DownloadFile(
        self, request: pb.DownloadFileRequest, context: grpc.ServicerContext
    ) -> Iterator[pb.FileChunk]:
        with translated(context):
            user = self._auth.user(context)
            chunk = _chunk_size(request.chunk_size_kb)
            if request.start_from_chunk_index and request.start_from_offset:
                raise InvalidRequest("give start_from_chunk_index or start_from_offset, not both")
            offset = request.start_from_offset or request.start_from_chunk_index * chunk
            opened = self._sessions.open(request.session_id, request.file_path, offset, user)
            with opened.handle as handle:
                position = offset
                while position < opened.size:
                    index = position // chunk
                    data = handle.read((index + 1) * chunk - position)
                    if not data:
                        break
                    yield pb.FileChunk(
                        index=index, data=data, offset=position, file_size=opened.size
                    )
                    position += len(data)
            self._sessions.touch(opened.task_id)


def _chunk_size(kb: int) -> int:
    if kb > MAX_CHUNK_KB:
        raise InvalidRequest(f"chunk_size_kb {kb} is too large; use 1 to {MAX_CHUNK_KB}")
    return (kb or DEFAULT_CHUNK_KB) * 1024
