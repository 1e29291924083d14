"""The FastAPI application: REST under /api/v1 (OpenAPI at /api/v1/openapi.json, docs at
/api/v1/docs), the web page, and its static assets. Every error leaves in the one JSON shape
of ``footage.api.errors``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from footage.api.errors import error_body, mapping_for
from footage.api.http import (
    pages,
    routes_auth,
    routes_batch,
    routes_cameras,
    routes_events,
    routes_exports,
    routes_files,
    routes_pictures,
    routes_timeline,
)
from footage.auth.throttle import parse_networks
from footage.domain import FootageError, InvalidRequest, TooManyLogins
from footage.runtime import Runtime

log = logging.getLogger(__name__)
_HTTP_CODES = {
    401: "unauthenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
}


def create_app(runtime: Runtime, *, heartbeat: float = 15.0) -> FastAPI:
    """The HTTP application of ``runtime`` (which the caller starts and closes).

    ``heartbeat``: seconds between keep-alive comments on event streams."""
    app = FastAPI(
        title="footage",
        version="1",
        summary="Export server for recorded surveillance video",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=lambda route: route.name,
    )
    app.state.runtime = runtime
    app.state.heartbeat = heartbeat
    app.state.trusted_proxies = parse_networks(runtime.settings.server.trusted_proxies)
    for module in (
        routes_auth,
        routes_cameras,
        routes_timeline,
        routes_pictures,
        routes_exports,
        routes_files,
        routes_events,
        routes_batch,
        pages,
    ):
        app.include_router(module.router)
    static = Path(__file__).parent / "static"
    app.mount("/static", StaticFiles(directory=static), name="static")
    _errors(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _errors(app: FastAPI) -> None:
    @app.exception_handler(FootageError)
    async def domain_error(_request: Request, exc: FootageError) -> JSONResponse:
        status = mapping_for(exc).http_status
        if status >= 500:
            log.warning("%s: %s", type(exc).__name__, exc.message)
        headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
        if isinstance(exc, TooManyLogins):
            headers = {"Retry-After": str(exc.retry_after)}
        return JSONResponse(error_body(exc), status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def bad_input(_request: Request, exc: RequestValidationError) -> JSONResponse:
        return JSONResponse(error_body(InvalidRequest(_describe(exc.errors()))), status_code=400)

    @app.exception_handler(HTTPException)
    async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(exc.status_code, "error")
        body = {"error": {"code": code, "message": str(exc.detail)}}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)


def _describe(errors: Any) -> str:
    parts = []
    for error in errors:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query"))
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else error.get("msg"))
    return "; ".join(parts) or "the request is not valid"


def _openapi(app: FastAPI) -> dict[str, Any]:
    """The generated document, with FastAPI's 422 validation answers replaced by our 400."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(
        title=app.title,
        version=app.version,
        summary=app.summary,
        routes=app.routes,
        description='REST API of footage. Errors: `{"error": {"code", "message"}}`.',
    )
    for path in schema.get("paths", {}).values():
        for operation in path.values():
            operation.get("responses", {}).pop("422", None)
    components = schema.get("components", {}).get("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    app.openapi_schema = schema
    return schema
