"""The user store: accounts, password checks, API tokens and web sessions."""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Engine

from footage.auth.model import Permission, User
from footage.auth.passwords import Passwords
from footage.auth.schema import credentials, users
from footage.auth.throttle import LoginThrottle
from footage.domain import Conflict, InvalidRequest, NotFound, Unauthenticated, from_us, to_us

TOKEN = "token"
SESSION = "session"
_PREFIX = {TOKEN: "ftg_", SESSION: "fts_"}


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(UTC)


class UserStore:
    def __init__(
        self,
        engine: Engine,
        *,
        passwords: Passwords | None = None,
        now: Callable[[], datetime] = _now,
        throttle: LoginThrottle | None = None,
    ) -> None:
        self._engine = engine
        self._passwords = passwords or Passwords()
        self._now = now
        self.throttle = throttle or LoginThrottle()

    # -- accounts -------------------------------------------------------------------------
    def add(
        self,
        name: str,
        password: str,
        permissions: Iterable[Permission],
        cameras: Iterable[str] | None = None,
    ) -> User:
        name = name.strip()
        if not name or len(name) > 200:
            raise InvalidRequest("a user name needs 1 to 200 characters")
        row = {
            "name": name,
            "password_hash": self._passwords.hash(password),
            "permissions": ",".join(sorted(p.value for p in permissions)),
            "cameras": None if cameras is None else ",".join(sorted(set(cameras))),
            "created_us": to_us(self._now()),
        }
        with self._engine.begin() as conn:
            if conn.execute(sa.select(users.c.id).where(users.c.name == name)).first():
                raise Conflict(f"user {name!r} exists already; use `footage users passwd`")
            conn.execute(users.insert().values(**row))
        return self.get(name)

    def get(self, name: str) -> User:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.name == name)).first()
        if row is None:
            raise NotFound(f"no user named {name!r}")
        return _user(row._mapping)

    def list(self) -> list[User]:
        with self._engine.connect() as conn:
            rows = conn.execute(sa.select(users).order_by(users.c.name)).all()
        return [_user(row._mapping) for row in rows]

    def set_password(self, name: str, password: str) -> None:
        digest = self._passwords.hash(password)
        with self._engine.begin() as conn:
            done = conn.execute(
                users.update().where(users.c.name == name).values(password_hash=digest)
            )
            if done.rowcount == 0:
                raise NotFound(f"no user named {name!r}")
            user_id = conn.execute(sa.select(users.c.id).where(users.c.name == name)).scalar()
            conn.execute(
                credentials.delete().where(
                    (credentials.c.user_id == user_id) & (credentials.c.kind == SESSION)
                )
            )

    def remove(self, name: str) -> None:
        with self._engine.begin() as conn:
            user_id = conn.execute(sa.select(users.c.id).where(users.c.name == name)).scalar()
            if user_id is None:
                raise NotFound(f"no user named {name!r}")
            conn.execute(credentials.delete().where(credentials.c.user_id == user_id))
            conn.execute(users.delete().where(users.c.id == user_id))

    def authenticate(self, name: str, password: str) -> User:
        with self._engine.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.name == name)).first()
        if row is None or row.disabled:
            self._passwords.verify(_dummy_hash(), password)  # same work either way
            raise Unauthenticated("wrong user name or password")
        if not self._passwords.verify(row.password_hash, password):
            raise Unauthenticated("wrong user name or password")
        return _user(row._mapping)

    def login(self, name: str, password: str, *, address: str) -> User:
        """``authenticate`` for a login from ``address`` (the client's), throttled: over its
        budget of failures it raises ``TooManyLogins`` without checking the password."""
        with self.throttle.attempt(name, address):
            return self.authenticate(name, password)

    # -- tokens and sessions ----------------------------------------------------------------
    def issue(
        self, name: str, *, kind: str = TOKEN, label: str = "", ttl: timedelta | None = None
    ) -> str:
        """A new secret for ``name``; only its SHA-256 is stored, so show it once."""
        user = self.get(name)
        secret = _PREFIX[kind] + secrets.token_urlsafe(32)
        now = self._now()
        with self._engine.begin() as conn:
            conn.execute(
                credentials.insert().values(
                    user_id=user.id,
                    kind=kind,
                    secret_sha256=_digest(secret),
                    label=label,
                    created_us=to_us(now),
                    expires_us=None if ttl is None else to_us(now + ttl),
                )
            )
        return secret

    def resolve(self, secret: str, *, kind: str = TOKEN) -> User:
        """The user a token or session secret belongs to; ``Unauthenticated`` if none."""
        now_us = to_us(self._now())
        query = (
            sa.select(users, credentials.c.id.label("credential_id"), credentials.c.expires_us)
            .join(credentials, credentials.c.user_id == users.c.id)
            .where((credentials.c.secret_sha256 == _digest(secret)) & (credentials.c.kind == kind))
        )
        with self._engine.begin() as conn:
            row = conn.execute(query).first()
            if row is None or row.disabled:
                raise Unauthenticated("the token is not valid; log in again or issue a new one")
            if row.expires_us is not None and row.expires_us <= now_us:
                raise Unauthenticated("the token has expired; log in again")
            conn.execute(
                credentials.update()
                .where(credentials.c.id == row.credential_id)
                .values(last_used_us=now_us)
            )
        return _user(row._mapping)

    def revoke(self, secret: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(credentials.delete().where(credentials.c.secret_sha256 == _digest(secret)))


@functools.cache
def _dummy_hash() -> str:
    return Passwords().hash("not-a-real-password")


def _user(row: Any) -> User:
    cameras = row["cameras"]
    return User(
        id=row["id"],
        name=row["name"],
        permissions=Permission.parse_many(row["permissions"]),
        cameras=None if cameras is None else frozenset(c for c in cameras.split(",") if c),
        created=from_us(row["created_us"]),
    )
