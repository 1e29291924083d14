"""Claim on PostgreSQL: ``SELECT … FOR UPDATE SKIP LOCKED`` so concurrent workers never wait on
(or take) the same task, then a per-source advisory lock to keep each source's limit exact:
two workers claiming different tasks of one NVR at once would otherwise both see a free slot.

A try is two statements. The first picks a task (skipping rows other claims hold) and takes
its source's advisory lock. The second counts the source's running tasks and takes the task
only if a slot is free: under READ COMMITTED it reads a snapshot taken after the lock was
granted, so it sees every claim of that source made before it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Connection,
    Dialect,
    Integer,
    String,
    bindparam,
    func,
    literal,
    select,
    update,
)

from footage.db.schema import tasks
from footage.tasks.claim import QUEUED, claimed_values, eligible, limits_key, running_count
from footage.tasks.prepared import Prepared
from footage.tasks.store import SourceLimits

_ATTEMPTS = 8  # sources found full after locking are skipped; give up after this many


@dataclass(frozen=True, slots=True)
class Try:
    """What one try gave: the claimed row, or the source found full (``row`` None), or
    neither when nothing is queued."""

    row: dict[str, Any] | None = None
    full: str | None = None


class PostgresClaim:
    """Builds the statements once per set of source limits (building costs more than running
    them); ``attempt`` runs in the caller's transaction, calling the claim runs whole tries."""

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._picks: dict[object, Prepared] = {}
        self._take: Prepared | None = None

    def __call__(
        self,
        conn: Connection,
        *,
        node: str,
        now_us: int,
        limits: SourceLimits,
        excluded: frozenset[str] = frozenset(),
    ) -> dict[str, Any] | None:
        """Run on a connection outside a transaction: each try is its own transaction."""
        for _ in range(_ATTEMPTS):
            with conn.begin():
                tried = self.attempt(
                    conn, node=node, now_us=now_us, limits=limits, excluded=excluded
                )
            if tried.full is None:
                return tried.row
            excluded |= {tried.full}
        return None

    def attempt(
        self,
        conn: Connection,
        *,
        node: str,
        now_us: int,
        limits: SourceLimits,
        excluded: frozenset[str] = frozenset(),
    ) -> Try:
        """One try inside the caller's transaction (which keeps the source locked till it ends)."""
        picked = self._pick(limits, excluded).first(conn, {})
        if picked is None:
            return Try()
        task_id, source = picked["id"], picked["source"]
        params = {
            "picked_id": task_id,
            "picked_source": source,
            "source_limit": limits.limit(source),
            "node": node,
            "now_us": now_us,
        }
        row = self._taking().first(conn, params)
        return Try(row=row) if row is not None else Try(full=source)

    def _pick(self, limits: SourceLimits, excluded: frozenset[str]) -> Prepared:
        key = (limits_key(limits), tuple(sorted(excluded)))
        statement = self._picks.get(key)
        if statement is None:
            chosen = eligible(limits, excluded).with_for_update(skip_locked=True, of=tasks)
            picked = chosen.subquery("picked")
            lock = func.pg_advisory_xact_lock(func.hashtext(literal("footage:") + picked.c.source))
            statement = Prepared(select(picked.c.id, picked.c.source, lock), self._dialect)
            self._picks[key] = statement
        return statement

    def _taking(self) -> Prepared:
        if self._take is None:
            source = bindparam("picked_source", type_=String)
            taking = (
                update(tasks)
                .where(
                    tasks.c.id == bindparam("picked_id", type_=String),
                    tasks.c.status == QUEUED,
                    running_count(source).scalar_subquery()
                    < bindparam("source_limit", type_=Integer),
                )
                .values(**claimed_values())
                .returning(*tasks.c)
            )
            self._take = Prepared(taking, self._dialect)
        return self._take
