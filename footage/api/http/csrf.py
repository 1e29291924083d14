"""CSRF protection for requests authenticated by the session cookie.

A session's CSRF token is derived from its secret (HMAC-SHA256), so it needs no storage and
a page on another site, which cannot read the HttpOnly session cookie, cannot compute it.
The page sends it in the ``X-CSRF-Token`` header (scripts) or a ``csrf_token`` form field
(forms). Requests with a bearer token carry no ambient credential and are exempt.

The login form has no session yet: it uses a double-submit cookie (``footage_login_csrf``)
whose value must come back in the form.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from footage.domain import PermissionDenied

HEADER = "X-CSRF-Token"
FIELD = "csrf_token"
LOGIN_COOKIE = "footage_login_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def token_for(session_secret: str) -> str:
    """The CSRF token of a session."""
    return hmac.new(session_secret.encode(), b"footage-csrf", hashlib.sha256).hexdigest()


def check(session_secret: str, sent: str | None) -> None:
    """Raise ``PermissionDenied`` unless ``sent`` is the session's CSRF token."""
    if not sent or not hmac.compare_digest(sent, token_for(session_secret)):
        raise PermissionDenied(
            f"the CSRF token is missing or wrong: send the {HEADER} header (or reload the page)"
        )


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


def check_login(cookie: str | None, sent: str | None) -> None:
    """The login form's double-submit check."""
    if not cookie or not sent or not hmac.compare_digest(cookie, sent):
        raise PermissionDenied("the login form expired; reload the page and log in again")
