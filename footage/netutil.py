"""Sockets for the servers footage starts itself (the HTTP server thread, the emulators)."""

from __future__ import annotations

import socket

from footage.domain import InvalidRequest


def listening_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket whose accepted connections get ``TCP_NODELAY``.

    The protocol must be given as ``IPPROTO_TCP``, not left at 0: accepted sockets inherit
    it, and asyncio only sets ``TCP_NODELAY`` on a transport whose socket says
    ``proto == IPPROTO_TCP``. Without it uvicorn's separate writes of the headers and of a
    small body meet Nagle's algorithm and the client's delayed ACK, and every answer on a
    kept-alive connection waits ~40 ms. ``TCP_NODELAY`` on the listener as well, which
    Linux copies to the connections it accepts, in case a server loop skips that step.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InvalidRequest(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
    sock.listen(64)
    return sock
