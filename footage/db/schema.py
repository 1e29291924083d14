"""Table definitions (SQLAlchemy Core). Migrations in ``footage/migrations`` create them.

Times are stored as integer microseconds since the Unix epoch (UTC): exact, sortable, and
the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
)

metadata = MetaData()

cameras = Table(
    "cameras",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("source", String(64), nullable=False, server_default="local"),
    Column("group_name", String(200), nullable=False, server_default=""),
)

segments = Table(
    "segments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("camera_id", String(64), ForeignKey("cameras.id", ondelete="CASCADE"), nullable=False),
    Column("path", String(1024), nullable=False, unique=True),
    Column("layout", String(32), nullable=False),
    Column("start_us", BigInteger, nullable=False),
    Column("end_us", BigInteger, nullable=False),
    Column("container", String(16), nullable=False),
    Column("video_codec", String(32), nullable=False),
    Column("width", Integer, nullable=False),
    Column("height", Integer, nullable=False),
    Column("fps", Float, nullable=False),
    Column("audio_codec", String(32), nullable=True),
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
    Index("ix_segments_camera_start", "camera_id", "start_us"),
    Index("ix_segments_camera_end", "camera_id", "end_us"),
)
