"""Claim on PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` so concurrent workers never wait on
(or take) the same task, then a per-source advisory lock to keep each source's limit exact:
two workers claiming different tasks of one NVR at once would otherwise both see a free slot."""

from __future__ import annotations

from sqlalchemy import Connection, RowMapping, func, literal, select, update

from footage.db.schema import tasks
from footage.tasks.claim import claimed_values, eligible, running_count
from footage.tasks.store import SourceLimits

_ATTEMPTS = 8  # sources found full after locking are skipped; give up after this many


def claim(
    engine_connect: Connection, *, node: str, now_us: int, limits: SourceLimits
) -> RowMapping | None:
    """Run on a connection outside a transaction: each try is its own transaction."""
    conn = engine_connect
    excluded: frozenset[str] = frozenset()
    for _ in range(_ATTEMPTS):
        with conn.begin():
            picked = conn.execute(
                eligible(limits, excluded).with_for_update(skip_locked=True, of=tasks)
            ).first()
            if picked is None:
                return None
            task_id, source = picked
            conn.execute(select(func.pg_advisory_xact_lock(func.hashtext("footage:" + source))))
            running = int(conn.execute(running_count(literal(source))).scalar_one())
            if running >= limits.limit(source):
                excluded |= {source}
                continue
            statement = (
                update(tasks)
                .where(tasks.c.id == task_id)
                .values(**claimed_values())
                .returning(*tasks.c)
            )
            params = {"node": node, "now_us": now_us}
            return conn.execute(statement, params).mappings().first()
    return None
