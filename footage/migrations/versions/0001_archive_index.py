"""The archive index: cameras, segments and the files a scan could not read.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cameras",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("source", sa.String(64), nullable=False, server_default="local"),
        sa.Column("group_name", sa.String(200), nullable=False, server_default=""),
    )
    op.create_table(
        "segments",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "camera_id",
            sa.String(64),
            sa.ForeignKey("cameras.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("path", sa.String(1024), nullable=False, unique=True),
        sa.Column("layout", sa.String(32), nullable=False),
        sa.Column("start_us", sa.BigInteger, nullable=False),
        sa.Column("end_us", sa.BigInteger, nullable=False),
        sa.Column("container", sa.String(16), nullable=False),
        sa.Column("video_codec", sa.String(32), nullable=False),
        sa.Column("width", sa.Integer, nullable=False),
        sa.Column("height", sa.Integer, nullable=False),
        sa.Column("fps", sa.Float, nullable=False),
        sa.Column("audio_codec", sa.String(32), nullable=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
    )
    op.create_index("ix_segments_camera_start", "segments", ["camera_id", "start_us", "end_us"])
    op.create_index("ix_segments_camera_end", "segments", ["camera_id", "end_us", "start_us"])
    op.create_table(
        "scan_failures",
        sa.Column("path", sa.String(1024), primary_key=True),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("mtime_ns", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.String(1000), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("scan_failures")
    op.drop_table("segments")
    op.drop_table("cameras")
