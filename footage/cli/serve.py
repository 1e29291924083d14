"""``footage serve``: the HTTP server (web page + REST) and the gRPC server, side by side."""

from __future__ import annotations

from typing import Annotated

import typer

from footage.cli.context import state
from footage.config import Settings


def register(app: typer.Typer) -> None:
    app.command()(serve)


def serve(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="default: server.host")] = None,
    port: Annotated[int | None, typer.Option(help="HTTP port; default: server.port")] = None,
    grpc_port: Annotated[
        int | None, typer.Option(help="gRPC port, 0 = off; default: server.grpc_port")
    ] = None,
) -> None:
    """Serve the web page, the REST API and the gRPC API until interrupted."""
    settings = state(ctx).settings
    server = settings.server.model_copy(
        update={
            k: v
            for k, v in {"host": host, "port": port, "grpc_port": grpc_port}.items()
            if v is not None
        }
    )
    run_servers(settings.model_copy(update={"server": server}))


def run_servers(settings: Settings, *, banner: str = "") -> None:
    """Start the runtime, gRPC (if on) and HTTP; block until Ctrl-C; stop in order."""
    import uvicorn

    from footage.api.grpc.server import GrpcServer
    from footage.api.http.app import create_app
    from footage.runtime import Runtime

    with Runtime(settings) as runtime:
        grpc_server = None
        if settings.server.grpc_port:
            grpc_server = GrpcServer(runtime, f"{settings.server.host}:{settings.server.grpc_port}")
            grpc_server.start()
        config = uvicorn.Config(
            create_app(runtime),
            host=settings.server.host,
            port=settings.server.port,
            log_level="warning",
            timeout_graceful_shutdown=5,  # open event streams must not block Ctrl-C
            proxy_headers=False,  # X-Forwarded-For is the app's to judge (server.trusted_proxies)
            # no startup/shutdown hooks: with lifespan on, the Ctrl-C that uvicorn re-raises
            # cancels the lifespan task, which logs a traceback on every normal stop
            lifespan="off",
        )
        where = f"http://{settings.server.host}:{settings.server.port}/"
        typer.echo(
            f"{banner}footage serving {where}"
            + (
                f" and gRPC on {settings.server.host}:{settings.server.grpc_port}"
                if grpc_server
                else ""
            )
            + " (Ctrl-C stops)"
        )
        try:
            uvicorn.Server(config).run()
        except KeyboardInterrupt:
            pass  # uvicorn re-raises the Ctrl-C it handled: stopping on it is a normal end
        finally:
            if grpc_server is not None:
                grpc_server.stop(grace=5.0)
