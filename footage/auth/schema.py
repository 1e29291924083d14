"""Tables of users and their credentials (API tokens and web sessions)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, ForeignKey, Integer, String, Table

from footage.db.schema import metadata

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("password_hash", String(300), nullable=False),
    Column("permissions", String(200), nullable=False),
    Column("cameras", String(4000), nullable=True),
    Column("created_us", BigInteger, nullable=False),
    Column("disabled", Boolean, nullable=False, server_default="0"),
)

# Only a SHA-256 of each secret is kept: a leaked database gives no usable token.
credentials = Table(
    "credentials",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),  # token | session
    Column("secret_sha256", String(64), nullable=False, unique=True),
    Column("label", String(200), nullable=False, server_default=""),
    Column("created_us", BigInteger, nullable=False),
    Column("expires_us", BigInteger, nullable=True),
    Column("last_used_us", BigInteger, nullable=True),
)
