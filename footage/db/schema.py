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
    Text,
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
    # Both indexes also cover the other bound, so timelines are read from the index alone.
    Index("ix_segments_camera_start", "camera_id", "start_us", "end_us"),
    Index("ix_segments_camera_end", "camera_id", "end_us", "start_us"),
)

# Files a scan could not read, with the size and mtime it saw: a rescan reports them again
# without opening them until they change.
scan_failures = Table(
    "scan_failures",
    metadata,
    Column("path", String(1024), primary_key=True),
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
    Column("reason", String(1000), nullable=False),
)

# Export tasks (footage/tasks). The request's options and the output files are JSON text;
# everything a query filters or sorts on is a column of its own.
tasks = Table(
    "tasks",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("owner", String(200), nullable=False),
    Column("origin", String(16), nullable=False),
    Column("camera_id", String(64), nullable=False),
    Column("camera_name", String(200), nullable=False),
    Column("source", String(64), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("start_us", BigInteger, nullable=False),
    Column("end_us", BigInteger, nullable=False),
    Column("options", Text, nullable=False),
    Column("file_stem", String(300), nullable=False),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("status", String(16), nullable=False),
    Column("keepalive", String(16), nullable=False),
    Column("failure_code", String(64), nullable=True),
    Column("failure_message", Text, nullable=True),
    Column("progress", Float, nullable=False, server_default="0"),
    Column("attempt", Integer, nullable=False, server_default="0"),
    Column("created_us", BigInteger, nullable=False),
    Column("started_us", BigInteger, nullable=True),
    Column("finished_us", BigInteger, nullable=True),
    Column("polled_us", BigInteger, nullable=True),
    Column("expires_us", BigInteger, nullable=True),
    Column("heartbeat_us", BigInteger, nullable=True),
    Column("updated_us", BigInteger, nullable=False),
    Column("files", Text, nullable=False, server_default="[]"),
    Column("retry_of", String(36), nullable=True),
    Column("node", String(200), nullable=True),
    Column("destroyed_us", BigInteger, nullable=True),
    Column("version", Integer, nullable=False, server_default="1"),
    Index("ix_tasks_created", "created_us", "id"),
    Index("ix_tasks_owner_created", "owner", "created_us", "id"),
    Index("ix_tasks_updated", "updated_us"),
    Index("ix_tasks_status_expires", "status", "expires_us"),
    Index("ix_tasks_status_source", "status", "source"),
)
# The claim order: priority (highest first), then FIFO.
Index("ix_tasks_claim", tasks.c.status, tasks.c.priority.desc(), tasks.c.created_us, tasks.c.id)
