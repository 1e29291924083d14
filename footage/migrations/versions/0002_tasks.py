"""Export tasks.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("camera_id", sa.String(64), nullable=False),
        sa.Column("camera_name", sa.String(200), nullable=False),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("start_us", sa.BigInteger, nullable=False),
        sa.Column("end_us", sa.BigInteger, nullable=False),
        sa.Column("options", sa.Text, nullable=False),
        sa.Column("file_stem", sa.String(300), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False, server_default="0"),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("keepalive", sa.String(16), nullable=False),
        sa.Column("failure_code", sa.String(64), nullable=True),
        sa.Column("failure_message", sa.Text, nullable=True),
        sa.Column("progress", sa.Float, nullable=False, server_default="0"),
        sa.Column("attempt", sa.Integer, nullable=False, server_default="0"),
        sa.Column("created_us", sa.BigInteger, nullable=False),
        sa.Column("started_us", sa.BigInteger, nullable=True),
        sa.Column("finished_us", sa.BigInteger, nullable=True),
        sa.Column("polled_us", sa.BigInteger, nullable=True),
        sa.Column("expires_us", sa.BigInteger, nullable=True),
        sa.Column("heartbeat_us", sa.BigInteger, nullable=True),
        sa.Column("updated_us", sa.BigInteger, nullable=False),
        sa.Column("files", sa.Text, nullable=False, server_default="[]"),
        sa.Column("retry_of", sa.String(36), nullable=True),
        sa.Column("node", sa.String(200), nullable=True),
        sa.Column("destroyed_us", sa.BigInteger, nullable=True),
        sa.Column("version", sa.Integer, nullable=False, server_default="1"),
    )
    op.create_index(
        "ix_tasks_claim", "tasks", ["status", sa.text("priority DESC"), "created_us", "id"]
    )
    op.create_index("ix_tasks_created", "tasks", ["created_us", "id"])
    op.create_index("ix_tasks_owner_created", "tasks", ["owner", "created_us", "id"])
    op.create_index("ix_tasks_updated", "tasks", ["updated_us"])
    op.create_index("ix_tasks_status_expires", "tasks", ["status", "expires_us"])
    op.create_index("ix_tasks_status_source", "tasks", ["status", "source"])


def downgrade() -> None:
    op.drop_table("tasks")
