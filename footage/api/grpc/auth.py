"""Who is calling: the bearer token in a call's metadata (``authorization: Bearer ftg_...``)."""

from __future__ import annotations

import grpc

from footage.auth import User, UserStore
from footage.domain import Unauthenticated

HEADER = "authorization"


def bearer_token(metadata: tuple[tuple[str, str | bytes], ...] | None) -> str:
    """The token of the ``authorization`` entry; ``Unauthenticated`` if there is none."""
    values = [v for k, v in metadata or () if k.lower() == HEADER]
    if not values:
        raise Unauthenticated(
            "no credentials: send the metadata 'authorization: Bearer <token>' "
            "(issue a token with `footage users token`)"
        )
    value = values[0]
    text = value.decode("latin-1") if isinstance(value, bytes) else value
    scheme, _, token = text.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("the authorization metadata must be 'Bearer <token>'")
    return token.strip()


class TokenAuth:
    """Resolves each call's token to a user of the user store."""

    def __init__(self, users: UserStore) -> None:
        self._users = users

    def user(self, context: grpc.ServicerContext) -> User:
        return self._users.resolve(bearer_token(tuple(context.invocation_metadata())))
