"""What every claim shares: which queued tasks are eligible, in which order, and what a claim
writes. The dialect modules make it atomic (``claim_sqlite``, ``claim_postgres``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Select,
    String,
    and_,
    bindparam,
    case,
    func,
    literal,
    select,
)
from sqlalchemy.orm import aliased

from footage.db.schema import tasks
from footage.tasks.model import TaskStatus
from footage.tasks.store import SourceLimits

QUEUED = TaskStatus.QUEUED.value
RUNNING = TaskStatus.RUNNING.value


def source_limit(limits: SourceLimits, source: ColumnElement[str]) -> ColumnElement[int]:
    if not limits.per_source:
        return literal(limits.default)
    whens = {name: value for name, value in limits.per_source.items()}
    return case(whens, value=source, else_=limits.default)


def running_count(source: ColumnElement[str]) -> Select[Any]:
    running = aliased(tasks)
    return select(func.count()).where(and_(running.c.status == RUNNING, running.c.source == source))


def full_sources(limits: SourceLimits) -> Select[Any]:
    """Sources running as many exports as they may: one small grouped read of running rows."""
    running = aliased(tasks)
    return (
        select(running.c.source)
        .where(running.c.status == RUNNING)
        .group_by(running.c.source)
        .having(func.count() >= source_limit(limits, running.c.source))
    )


def eligible(limits: SourceLimits, excluded: frozenset[str] = frozenset()) -> Select[Any]:
    """The first queued task whose source has a free slot: priority first, then FIFO.

    The full sources are found once per claim (not once per queued row), and the order is
    that of the ``ix_tasks_claim`` index, so a claim reads a few rows however long the queue."""
    query = (
        select(tasks.c.id, tasks.c.source)
        .where(tasks.c.status == QUEUED, tasks.c.source.not_in(full_sources(limits)))
        .order_by(tasks.c.priority.desc(), tasks.c.created_us, tasks.c.id)
        .limit(1)
    )
    for source in sorted(excluded):  # plain comparisons: the statement is compiled once
        query = query.where(tasks.c.source != source)
    return query


def claimed_values() -> dict[str, Any]:
    """What a claim writes; binds ``node`` and ``now_us``."""
    now_us = bindparam("now_us", type_=BigInteger)
    return {
        "status": RUNNING,
        "node": bindparam("node", type_=String),
        "attempt": tasks.c.attempt + 1,
        "progress": 0.0,
        "started_us": now_us,
        "heartbeat_us": now_us,
        "updated_us": now_us,
        "version": tasks.c.version + 1,
    }


def limits_key(limits: SourceLimits) -> tuple[int, tuple[tuple[str, int], ...]]:
    """A hashable key of ``limits``, for caching the statements built from them."""
    return limits.default, tuple(sorted(limits.per_source.items()))
