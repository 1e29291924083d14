"""Who is calling: the session cookie (web page) or a bearer token (scripts) → a ``User``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer

from footage.api.http import csrf
from footage.auth import Permission, User
from footage.domain import NotFound, Unauthenticated
from footage.runtime import Runtime

SESSION_COOKIE = "footage_session"

bearer_scheme = HTTPBearer(
    auto_error=False,
    scheme_name="token",
    description="An API token from `footage users token NAME` or POST /api/v1/auth/tokens.",
)
cookie_scheme = APIKeyCookie(
    name=SESSION_COOKIE,
    auto_error=False,
    scheme_name="session",
    description="The web page's session (POST /api/v1/auth/login); unsafe requests also "
    f"need the {csrf.HEADER} header.",
)


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated user; ``session`` is the cookie's secret when it authenticated."""

    user: User
    session: str | None = None

    @property
    def owner(self) -> str | None:
        """Whose tasks the caller may touch: their own, or anyone's (None) for an admin."""
        return None if self.user.is_admin else self.user.name

    @property
    def by_cookie(self) -> bool:
        return self.session is not None

    def require_camera(self, camera_id: str) -> None:
        """Cameras a user may not see do not exist for them (404, not 403)."""
        if not self.user.can_see_camera(camera_id):
            raise NotFound(f"no camera {camera_id!r}")


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def session_user(runtime: Runtime, secret: str | None) -> User | None:
    """The user of a session cookie, or None (missing, expired or revoked)."""
    if not secret:
        return None
    try:
        return runtime.users.resolve(secret, kind="session")
    except Unauthenticated:
        return None


def get_caller(
    request: Request,
    runtime: RuntimeDep,
    token: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer_scheme)],
    session: Annotated[str | None, Depends(cookie_scheme)],
) -> Caller:
    """The authenticated caller; a cookie-authenticated unsafe request must pass CSRF."""
    if token is not None:
        return Caller(runtime.users.resolve(token.credentials, kind="token"))
    if session:
        user = runtime.users.resolve(session, kind="session")
        if request.method not in csrf.SAFE_METHODS:
            csrf.check(session, request.headers.get(csrf.HEADER))
        return Caller(user, session)
    raise Unauthenticated(
        "log in first, or send an API token in the header Authorization: Bearer ftg_…"
    )


def _requiring(permission: Permission) -> Callable[[Caller], Caller]:
    def dependency(caller: Annotated[Caller, Depends(get_caller)]) -> Caller:
        caller.user.require(permission)
        return caller

    return dependency


Authenticated = Annotated[Caller, Depends(get_caller)]
Viewer = Annotated[Caller, Depends(_requiring(Permission.VIEW))]
Exporter = Annotated[Caller, Depends(_requiring(Permission.EXPORT))]
