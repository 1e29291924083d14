"""Logging in and out (the session cookie), who am I, and API tokens for scripts."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter, Request, Response, status

from footage.api.http import csrf
from footage.api.http.deps import SESSION_COOKIE, Authenticated, RuntimeDep
from footage.api.http.responses import errors
from footage.api.http.schemas import LoginIn, MeOut, TokenIn, TokenOut
from footage.auth import User, throttle
from footage.runtime import Runtime

router = APIRouter(prefix="/api/v1/auth", tags=["auth"])
SESSION_TTL = timedelta(hours=12)


def me_out(user: User, session: str | None) -> MeOut:
    return MeOut(
        name=user.name,
        permissions=sorted(p.value for p in user.permissions),
        cameras=None if user.cameras is None else sorted(user.cameras),
        is_admin=user.is_admin,
        csrf_token=csrf.token_for(session) if session else None,
    )


def start_session(runtime: Runtime, request: Request, response: Response, user: User) -> str:
    """Issue a session for ``user`` and set its cookie (HttpOnly, SameSite=Lax, Secure on
    https)."""
    secret = runtime.users.issue(user.name, kind="session", label="web", ttl=SESSION_TTL)
    response.set_cookie(
        SESSION_COOKIE,
        secret,
        max_age=int(SESSION_TTL.total_seconds()),
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
    )
    return secret


def end_session(runtime: Runtime, response: Response, secret: str | None) -> None:
    if secret:
        runtime.users.revoke(secret)
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="lax")


def client_address(request: Request) -> str:
    """The client's address: the connection's, or, from a proxy of ``server.trusted_proxies``,
    the one its ``X-Forwarded-For`` names."""
    peer = request.client.host if request.client else None
    forwarded = request.headers.getlist("x-forwarded-for")
    return throttle.client_address(peer, forwarded, request.app.state.trusted_proxies)


@router.post("/login", response_model=MeOut, responses=errors(429))
def login(body: LoginIn, request: Request, response: Response, runtime: RuntimeDep) -> MeOut:
    """Check the name and password and start a session (sets the session cookie).

    Repeated failures from one address are throttled: 429 with Retry-After, the password not
    checked."""
    user = runtime.users.login(body.name, body.password, address=client_address(request))
    secret = start_session(runtime, request, response, user)
    return me_out(user, secret)


@router.post("/logout", status_code=status.HTTP_204_NO_CONTENT, responses=errors(403))
def logout(response: Response, runtime: RuntimeDep, caller: Authenticated) -> None:
    """End the session (a cookie-authenticated call needs the X-CSRF-Token header)."""
    end_session(runtime, response, caller.session)


@router.get("/me", response_model=MeOut, responses=errors())
def me(caller: Authenticated) -> MeOut:
    """The caller: name, permissions, cameras, and (with a session) its CSRF token."""
    return me_out(caller.user, caller.session)


@router.post(
    "/tokens",
    response_model=TokenOut,
    status_code=status.HTTP_201_CREATED,
    responses=errors(403),
)
def issue_token(body: TokenIn, runtime: RuntimeDep, caller: Authenticated) -> TokenOut:
    """A new API token for the caller (shown once; only its hash is kept)."""
    ttl = None if body.ttl_hours is None else timedelta(hours=body.ttl_hours)
    token = runtime.users.issue(caller.user.name, kind="token", label=body.label, ttl=ttl)
    return TokenOut(token=token)
