"""The gRPC server: the export service, health checking and reflection on one port.

``stop(grace)`` first reports NOT_SERVING, refuses new calls, lets calls in progress (a
download) run for up to ``grace`` seconds and then cancels what is left: the client sees
CANCELLED, never a silently short file, and the server closes the file it was reading.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from footage.api.grpc.auth import TokenAuth
from footage.api.grpc.gen import export_pb2, export_pb2_grpc
from footage.api.grpc.servicer import MAX_CHUNK_KB, ExportServicer
from footage.api.grpc.sessions import Sessions

if TYPE_CHECKING:
    from footage.runtime import Runtime

log = logging.getLogger(__name__)

SERVICE_NAME = export_pb2.DESCRIPTOR.services_by_name["ExportService"].full_name
MAX_REQUEST_BYTES = 1024 * 1024  # requests are small: options, ids, tokens
MAX_RESPONSE_BYTES = MAX_CHUNK_KB * 1024 + 64 * 1024  # the largest chunk and its framing


class GrpcServer:
    """One gRPC server over ``runtime``'s users and tasks, listening on ``address``.

    ``workers`` threads serve calls (a download holds one while it streams); calls beyond
    ``max_concurrent`` are refused with RESOURCE_EXHAUSTED.
    """

    def __init__(
        self,
        runtime: Runtime,
        address: str,
        *,
        workers: int = 16,
        max_concurrent: int = 64,
    ) -> None:
        self._address = address
        self._server = grpc.server(
            ThreadPoolExecutor(max_workers=workers, thread_name_prefix="grpc"),
            maximum_concurrent_rpcs=max_concurrent,
            options=[
                ("grpc.max_receive_message_length", MAX_REQUEST_BYTES),
                ("grpc.max_send_message_length", MAX_RESPONSE_BYTES),
                ("grpc.so_reuseport", 0),
            ],
        )
        servicer = ExportServicer(Sessions(runtime.tasks.service), TokenAuth(runtime.users))
        export_pb2_grpc.add_ExportServiceServicer_to_server(servicer, self._server)
        self._health = health.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(self._health, self._server)
        reflection.enable_server_reflection(
            (SERVICE_NAME, health.SERVICE_NAME, reflection.SERVICE_NAME), self._server
        )
        self._port = self._server.add_insecure_port(address)
        if self._port == 0:
            raise OSError(f"cannot listen for gRPC on {address}")
        self._started = False

    @property
    def port(self) -> int:
        """The port listened on (the one the system chose when ``address`` said port 0)."""
        return self._port

    def start(self) -> None:
        self._server.start()
        self._started = True
        for name in ("", SERVICE_NAME):
            self._health.set(name, health_pb2.HealthCheckResponse.SERVING)
        log.info("gRPC listening on %s (port %d)", self._address, self._port)

    def stop(self, grace: float | None = 5.0) -> None:
        """Stop accepting calls; give running ones ``grace`` seconds, then cancel them."""
        if not self._started:
            return
        self._started = False
        self._health.enter_graceful_shutdown()
        self._server.stop(grace).wait()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the server has stopped (or ``timeout`` passes): True if stopped."""
        return bool(self._server.wait_for_termination(timeout))

    def __enter__(self) -> GrpcServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
