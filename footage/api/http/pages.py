"""The web page: login, archive export and export history (server-side templates; the
scripts in ``static/`` then talk to the REST API)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from footage.api.http import csrf, i18n
from footage.api.http.deps import SESSION_COOKIE, RuntimeDep, session_user
from footage.api.http.routes_auth import client_address, end_session, start_session
from footage.auth import Permission, User
from footage.domain import PermissionDenied, TooManyLogins, Unauthenticated

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
_YEAR = 365 * 24 * 3600


def _safe_next(target: str | None) -> str:
    """Only a path on this site: never another site (``//host``) after logging in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/export"
    return target


def _render(
    request: Request,
    template: str,
    *,
    user: User | None = None,
    session: str | None = None,
    status: int = 200,
    **extra: Any,
) -> HTMLResponse:
    language = i18n.choose(request)
    t = i18n.Translator(language)
    runtime = request.app.state.runtime
    config = {
        "lang": language,
        "maxRange": runtime.settings.tasks.max_range,
        "user": None
        if user is None
        else {
            "name": user.name,
            "canExport": user.can(Permission.EXPORT),
            "isAdmin": user.is_admin,
        },
        "csrf": csrf.token_for(session) if session else None,
        "texts": t.texts,
    }
    context = {
        "t": t,
        "lang": language,
        "languages": i18n.LANGUAGES,
        "user": user,
        "can_export": user is not None and user.can(Permission.EXPORT),
        "csrf_token": config["csrf"],
        "page": template.removesuffix(".html"),
        "page_config": json.dumps(config, ensure_ascii=False).replace("</", "<\\/"),
        **extra,
    }
    response = templates.TemplateResponse(request, template, context, status_code=status)
    if request.query_params.get("lang") in i18n.LANGUAGES:
        response.set_cookie(i18n.COOKIE, language, max_age=_YEAR, samesite="lax", path="/")
    response.headers["Cache-Control"] = "no-store"
    return response


def _login_redirect(request: Request) -> RedirectResponse:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


@router.get("/")
def home() -> RedirectResponse:
    return RedirectResponse("/export", status_code=303)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    token = request.cookies.get(csrf.LOGIN_COOKIE) or csrf.new_login_token()
    response = _render(request, "login.html", login_csrf=token, next=_safe_next(next))
    response.set_cookie(
        csrf.LOGIN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/login",
        secure=request.url.scheme == "https",
    )
    return response


@router.post("/login", response_class=HTMLResponse)
def login_form(
    request: Request,
    runtime: RuntimeDep,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/export",
) -> Response:
    t = i18n.Translator(i18n.choose(request))
    token = request.cookies.get(csrf.LOGIN_COOKIE)
    try:
        csrf.check_login(token, csrf_token)
        user = runtime.users.login(name, password, address=client_address(request))
    except TooManyLogins as exc:
        key = "login_throttled_user" if exc.scope == "user" else "login_throttled_address"
        refused = _render(
            request,
            "login.html",
            status=429,
            login_csrf=token or "",
            next=_safe_next(next),
            error=t(key, seconds=exc.retry_after),
            name=name,
        )
        refused.headers["Retry-After"] = str(exc.retry_after)
        return refused
    except PermissionDenied:
        return _render(
            request,
            "login.html",
            status=403,
            login_csrf=token or "",
            next=_safe_next(next),
            error=t("login_expired"),
            name=name,
        )
    except Unauthenticated:
        return _render(
            request,
            "login.html",
            status=401,
            login_csrf=token or "",
            next=_safe_next(next),
            error=t("login_failed"),
            name=name,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    start_session(runtime, request, response, user)
    return response


@router.post("/logout")
def logout_form(
    request: Request, runtime: RuntimeDep, csrf_token: Annotated[str, Form()] = ""
) -> Response:
    secret = request.cookies.get(SESSION_COOKIE)
    response = RedirectResponse("/login", status_code=303)
    if secret and session_user(runtime, secret) is not None:
        csrf.check(secret, csrf_token)
        end_session(runtime, response, secret)
    return response


def _page(request: Request, runtime: RuntimeDep, name: str) -> Response:
    secret = request.cookies.get(SESSION_COOKIE)
    user = session_user(runtime, secret)
    if user is None:
        return _login_redirect(request)
    return _render(request, name, user=user, session=secret)


@router.get("/export", response_class=HTMLResponse)
def export_page(request: Request, runtime: RuntimeDep) -> Response:
    return _page(request, runtime, "export.html")


@router.get("/history", response_class=HTMLResponse)
def history_page(request: Request, runtime: RuntimeDep) -> Response:
    return _page(request, runtime, "history.html")


@router.get("/monitor", response_class=HTMLResponse)
def monitor_page(request: Request, runtime: RuntimeDep) -> Response:
    """The download monitor of batch runs (the page says so when the user may not export)."""
    return _page(request, runtime, "monitor.html")


@router.get("/api/v1/docs", response_class=HTMLResponse)
def api_docs(request: Request, runtime: RuntimeDep) -> Response:
    """A reader of the OpenAPI document, served from here (no outside assets)."""
    secret = request.cookies.get(SESSION_COOKIE)
    return _render(request, "api_docs.html", user=session_user(runtime, secret), session=secret)
