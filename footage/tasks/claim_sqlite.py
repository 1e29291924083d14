"""Claim on SQLite: one ``UPDATE … WHERE id = (SELECT …) RETURNING`` inside ``BEGIN IMMEDIATE``.

The immediate transaction takes SQLite's single write lock before reading, so no two claims
(threads or processes) can see the same queued task or the same free slot of a source."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Dialect, update

from footage.db.schema import tasks
from footage.tasks.claim import QUEUED, claimed_values, eligible, limits_key
from footage.tasks.prepared import Prepared
from footage.tasks.store import SourceLimits


class SqliteClaim:
    """Builds the claim statement once per set of source limits (building costs more than
    running it), then runs it inside a write (``BEGIN IMMEDIATE``) transaction."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._statements: dict[object, Prepared] = {}

    def __call__(
        self, conn: Connection, *, node: str, now_us: int, limits: SourceLimits
    ) -> dict[str, Any] | None:
        key = limits_key(limits)
        statement = self._statements.get(key)
        if statement is None:
            chosen: Any = eligible(limits).with_only_columns(tasks.c.id).scalar_subquery()
            statement = Prepared(
                update(tasks)
                .where(tasks.c.id == chosen, tasks.c.status == QUEUED)
                .values(**claimed_values())
                .returning(*tasks.c),
                self._dialect,
            )
            self._statements[key] = statement
        return statement.first(conn, {"node": node, "now_us": now_us})
