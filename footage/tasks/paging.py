"""Opaque page tokens for keyset pagination on (created, id), newest first."""

from __future__ import annotations

import base64
import binascii

from footage.domain import InvalidRequest


def encode_token(created_us: int, task_id: str) -> str:
    raw = f"{created_us}:{task_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_token(token: str) -> tuple[int, str]:
    """The (created_us, id) cursor a token stands for; ``InvalidRequest`` if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        created, _, task_id = raw.partition(":")
        if not task_id:
            raise ValueError(token)
        return int(created), task_id
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise InvalidRequest(
            "the page token is not valid; start again from the first page"
        ) from exc
