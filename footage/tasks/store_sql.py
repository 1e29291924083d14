"""The task store on SQLAlchemy Core: SQLite (embedded default, WAL) and PostgreSQL (psycopg 3).

The two differ only in how a claim is made atomic (``claim_sqlite``, ``claim_postgres``) and in
how a write transaction starts: on SQLite with ``BEGIN IMMEDIATE``, so a transaction that reads
before it writes cannot fail half-way on another writer's commit.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Engine,
    Integer,
    RowMapping,
    bindparam,
    case,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)

from footage.db.schema import tasks
from footage.domain import Conflict, NotFound, from_us, to_us
from footage.tasks import claim_postgres, claim_sqlite
from footage.tasks.model import (
    ExportTask,
    Failure,
    Keepalive,
    TaskFile,
    TaskFilter,
    TaskPage,
    TaskStatus,
)
from footage.tasks.paging import encode_token
from footage.tasks.prepared import Prepared, begin_immediate
from footage.tasks.rows import files_json, task_from_row, task_values
from footage.tasks.store import SourceLimits, TaskChange

_QUEUED, _RUNNING, _DONE = TaskStatus.QUEUED, TaskStatus.RUNNING, TaskStatus.DONE
_ACTIVE = (_QUEUED, _RUNNING)
_CHUNK = 500


class SqlTaskStore:
    """``TaskStore`` on a SQLAlchemy engine made by ``footage.db.open_database``."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        self._claim_sqlite = claim_sqlite.SqliteClaim(engine.dialect)
        self._claim_postgres = claim_postgres.PostgresClaim(engine.dialect)
        self._statements: dict[object, Prepared] = {}
        self._changes: Prepared | None = None

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """A transaction, committed unless an exception leaves it (rolled back then)."""
        with self._engine.connect() as conn, conn.begin():
            if self._sqlite:
                begin_immediate(conn)
            yield conn

    def _read(self, statement: Any) -> list[RowMapping]:
        with self._engine.connect() as conn:
            return list(conn.execute(statement).mappings())

    def enqueue(self, tasks_: Sequence[ExportTask]) -> None:
        if not tasks_:
            return
        with self._write() as conn:
            conn.execute(insert(tasks), [task_values(task) for task in tasks_])

    def claim(self, *, node: str, now: datetime, limits: SourceLimits) -> ExportTask | None:
        if self._sqlite:
            with self._write() as conn:
                row = self._claim_sqlite(conn, node=node, now_us=to_us(now), limits=limits)
        else:
            with self._engine.connect() as conn:
                row = self._claim_postgres(conn, node=node, now_us=to_us(now), limits=limits)
        return None if row is None else task_from_row(row)

    def heartbeat(self, *, node: str, held: Mapping[str, int], now: datetime) -> set[str]:
        if not held:
            return set()
        statement = (
            update(tasks)
            .where(tasks.c.id.in_(list(held)), tasks.c.node == node, tasks.c.status == _RUNNING)
            .values(heartbeat_us=to_us(now))
            .returning(tasks.c.id, tasks.c.attempt)
        )
        with self._write() as conn:
            rows = conn.execute(statement).all()
        return {task_id for task_id, attempt in rows if held.get(task_id) == attempt}

    def progress(self, task_id: str, attempt: int, percent: float, now: datetime) -> int | None:
        now_us = to_us(now)
        statement = (
            update(tasks)
            .where(tasks.c.id == task_id, tasks.c.attempt == attempt, tasks.c.status == _RUNNING)
            .values(
                progress=max(0.0, min(100.0, percent)),
                heartbeat_us=now_us,
                updated_us=now_us,
                version=tasks.c.version + 1,
            )
            .returning(tasks.c.version)
        )
        with self._write() as conn:
            version = conn.execute(statement).scalar()
        return None if version is None else int(version)

    def _transition(
        self,
        task_id: str,
        *,
        allowed: Sequence[TaskStatus],
        values: dict[str, Any],
        now: datetime,
        verb: str,
        attempt: int | None = None,
    ) -> ExportTask:
        with self._write() as conn:
            row = self._apply(
                conn, task_id, allowed=allowed, values=values, now=now, verb=verb, attempt=attempt
            )
        return task_from_row(row)

    def _apply(
        self,
        conn: Connection,
        task_id: str,
        *,
        allowed: Sequence[TaskStatus],
        values: dict[str, Any],
        now: datetime,
        verb: str,
        attempt: int | None,
    ) -> dict[str, Any]:
        """Run one transition in ``conn``'s transaction: the changed row, or the refusal."""
        statement = self._transition_sql(tuple(allowed), tuple(sorted(values)), attempt is not None)
        params = {f"v_{key}": value for key, value in values.items()}
        params.update(b_task_id=task_id, b_now_us=to_us(now), b_attempt=attempt)
        row = statement.first(conn, params)
        if row is not None:
            return row
        current = conn.execute(
            select(tasks.c.status, tasks.c.attempt).where(tasks.c.id == task_id)
        ).first()
        if current is None:
            raise NotFound(f"there is no task {task_id}")
        status, held = current
        if attempt is not None and held != attempt and status == _RUNNING:
            raise Conflict(f"cannot {verb} task {task_id}: attempt {attempt} is no longer running")
        raise Conflict(f"cannot {verb} task {task_id}: it is {status}")

    def _transition_sql(
        self, allowed: tuple[TaskStatus, ...], keys: tuple[str, ...], fenced: bool
    ) -> Prepared:
        """The conditional UPDATE of one transition, built once (binds ``v_<column>``)."""
        cache_key = (allowed, keys, fenced)
        statement = self._statements.get(cache_key)
        if statement is None:
            conditions: list[ColumnElement[bool]] = [
                tasks.c.id == bindparam("b_task_id"),
                or_(*(tasks.c.status == status.value for status in allowed)),
            ]
            if fenced:
                conditions.append(tasks.c.attempt == bindparam("b_attempt"))
            values: dict[str, Any] = {
                key: bindparam(f"v_{key}", type_=tasks.c[key].type) for key in keys
            }
            if "destroyed_us" in values:  # destroying twice keeps the first time
                values["destroyed_us"] = func.coalesce(tasks.c.destroyed_us, values["destroyed_us"])
            statement = Prepared(
                update(tasks)
                .where(*conditions)
                .values(**values, updated_us=bindparam("b_now_us"), version=tasks.c.version + 1)
                .returning(*tasks.c),
                self._engine.dialect,
            )
            self._statements[cache_key] = statement
        return statement

    def finish(
        self,
        task_id: str,
        attempt: int,
        *,
        files: Sequence[TaskFile],
        now: datetime,
        expires: datetime | None,
    ) -> ExportTask:
        values = _finished(files, now, expires)
        return self._transition(
            task_id, allowed=[_RUNNING], values=values, now=now, verb="finish", attempt=attempt
        )

    def finish_and_claim(
        self,
        task_id: str,
        attempt: int,
        *,
        files: Sequence[TaskFile],
        now: datetime,
        expires: datetime | None,
        node: str,
        limits: SourceLimits,
    ) -> tuple[ExportTask, ExportTask | None]:
        values = _finished(files, now, expires)
        now_us = to_us(now)
        with self._write() as conn:
            done = self._apply(
                conn,
                task_id,
                allowed=[_RUNNING],
                values=values,
                now=now,
                verb="finish",
                attempt=attempt,
            )
            if self._sqlite:
                row = self._claim_sqlite(conn, node=node, now_us=now_us, limits=limits)
            else:  # one try, in this transaction
                row = self._claim_postgres.attempt(
                    conn, node=node, now_us=now_us, limits=limits
                ).row
        return task_from_row(done), None if row is None else task_from_row(row)

    def fail(
        self,
        task_id: str,
        attempt: int,
        *,
        failure: Failure,
        now: datetime,
        status: TaskStatus = TaskStatus.FAILED,
    ) -> ExportTask:
        if status not in (TaskStatus.FAILED, TaskStatus.CANCELLED):
            raise ValueError(f"a task fails as failed or cancelled, not {status}")
        return self._transition(
            task_id,
            allowed=[_RUNNING],
            values=_ended(status, failure, now),
            now=now,
            verb="fail",
            attempt=attempt,
        )

    def release(self, task_id: str, attempt: int, *, now: datetime) -> ExportTask:
        values = {
            "status": _QUEUED.value,
            "node": None,
            "progress": 0.0,
            "started_us": None,
            "heartbeat_us": None,
        }
        return self._transition(
            task_id, allowed=[_RUNNING], values=values, now=now, verb="re-queue", attempt=attempt
        )

    def stop(
        self, task_id: str, *, status: TaskStatus, failure: Failure, now: datetime
    ) -> ExportTask:
        if status not in (TaskStatus.FAILED, TaskStatus.CANCELLED):
            raise ValueError(f"a task stops as failed or cancelled, not {status}")
        verb = "cancel" if status is TaskStatus.CANCELLED else "stop"
        return self._transition(
            task_id, allowed=_ACTIVE, values=_ended(status, failure, now), now=now, verb=verb
        )

    def expire(self, task_id: str, *, now: datetime) -> ExportTask:
        values = {"status": TaskStatus.EXPIRED.value}
        return self._transition(task_id, allowed=[_DONE], values=values, now=now, verb="expire")

    def destroy(self, task_id: str, *, now: datetime) -> ExportTask:
        ended = [s for s in TaskStatus if not s.active]
        values = {"destroyed_us": to_us(now)}
        return self._transition(task_id, allowed=ended, values=values, now=now, verb="destroy")

    def touch(self, task_id: str, *, now: datetime, expires: datetime | None) -> ExportTask:
        new_expiry: Any = tasks.c.expires_us
        if expires is not None:
            new_expiry = case((tasks.c.status == _DONE, to_us(expires)), else_=tasks.c.expires_us)
        statement = (
            update(tasks)
            .where(tasks.c.id == task_id)
            .values(polled_us=to_us(now), expires_us=new_expiry)
            .returning(*tasks.c)
        )
        with self._write() as conn:
            row = conn.execute(statement).mappings().first()
        if row is None:
            raise NotFound(f"there is no task {task_id}")
        return task_from_row(row)

    def get(self, task_id: str) -> ExportTask:
        rows = self._read(select(tasks).where(tasks.c.id == task_id))
        if not rows:
            raise NotFound(f"there is no task {task_id}")
        return task_from_row(rows[0])

    def list_page(
        self, query: TaskFilter, *, limit: int, after: tuple[int, str] | None
    ) -> TaskPage:
        conditions = _filter(query)
        if after is not None:
            created_us, task_id = after
            # a row-value comparison: both databases seek the (created_us, id) index with it
            conditions.append(tuple_(tasks.c.created_us, tasks.c.id) < tuple_(created_us, task_id))
        statement = (
            select(tasks)
            .where(*conditions)
            .order_by(tasks.c.created_us.desc(), tasks.c.id.desc())
            .limit(limit + 1)
        )
        found = [task_from_row(row) for row in self._read(statement)]
        page = tuple(found[:limit])
        more = len(found) > limit and page
        token = encode_token(to_us(page[-1].created), page[-1].id) if more else None
        return TaskPage(tasks=page, next_token=token)

    def count(self, query: TaskFilter) -> int:
        statement = select(func.count()).select_from(tasks).where(*_filter(query))
        with self._engine.connect() as conn:
            return int(conn.execute(statement).scalar_one())

    def due_to_expire(self, now: datetime, *, limit: int) -> list[ExportTask]:
        statement = (
            select(tasks)
            .where(tasks.c.status == _DONE, tasks.c.expires_us <= to_us(now))
            .order_by(tasks.c.expires_us)
            .limit(limit)
        )
        return [task_from_row(row) for row in self._read(statement)]

    def unpolled(
        self, keepalive: Keepalive, *, polled_before: datetime, limit: int
    ) -> list[ExportTask]:
        last_poll = func.coalesce(tasks.c.polled_us, tasks.c.created_us)
        statement = (
            select(tasks)
            .where(
                tasks.c.status.in_([s.value for s in _ACTIVE]),
                tasks.c.keepalive == keepalive.value,
                last_poll < to_us(polled_before),
            )
            .order_by(tasks.c.created_us)
            .limit(limit)
        )
        return [task_from_row(row) for row in self._read(statement)]

    def stale(self, *, heartbeat_before: datetime, limit: int) -> list[ExportTask]:
        statement = (
            select(tasks)
            .where(tasks.c.status == _RUNNING, tasks.c.heartbeat_us < to_us(heartbeat_before))
            .order_by(tasks.c.created_us)
            .limit(limit)
        )
        return [task_from_row(row) for row in self._read(statement)]

    def referenced(self, task_ids: Sequence[str]) -> dict[str, TaskStatus]:
        found: dict[str, TaskStatus] = {}
        for start in range(0, len(task_ids), _CHUNK):
            chunk = list(task_ids[start : start + _CHUNK])
            statement = select(tasks.c.id, tasks.c.status).where(
                tasks.c.id.in_(chunk), tasks.c.destroyed_us.is_(None)
            )
            found.update({row["id"]: TaskStatus(row["status"]) for row in self._read(statement)})
        return found

    def changes(self, *, since: datetime, limit: int) -> list[TaskChange]:
        if self._changes is None:  # polled twice a second, re-reading recent rows: kept cheap
            statement = (
                select(
                    tasks.c.id,
                    tasks.c.owner,
                    tasks.c.status,
                    tasks.c.progress,
                    tasks.c.version,
                    tasks.c.updated_us,
                    tasks.c.failure_code,
                )
                .where(tasks.c.updated_us >= bindparam("since", type_=BigInteger))
                .order_by(tasks.c.updated_us)
                .limit(bindparam("limit", type_=Integer))
            )
            self._changes = Prepared(statement, self._engine.dialect)
        with self._engine.connect() as conn:
            rows = self._changes.all(conn, {"since": to_us(since), "limit": limit})
        return [_change(*row) for row in rows]


def _finished(files: Sequence[TaskFile], now: datetime, expires: datetime | None) -> dict[str, Any]:
    return {
        "status": _DONE.value,
        "files": files_json(files),
        "progress": 100.0,
        "finished_us": to_us(now),
        "expires_us": None if expires is None else to_us(expires),
    }


def _ended(status: TaskStatus, failure: Failure, now: datetime) -> dict[str, Any]:
    return {
        "status": status.value,
        "failure_code": failure.code,
        "failure_message": failure.message,
        "finished_us": to_us(now),
    }


def _filter(query: TaskFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [tasks.c.destroyed_us.is_(None)]
    if query.owner is not None:
        conditions.append(tasks.c.owner == query.owner)
    if query.statuses is not None:
        conditions.append(tasks.c.status.in_(sorted(s.value for s in query.statuses)))
    if query.camera_id is not None:
        conditions.append(tasks.c.camera_id == query.camera_id)
    if query.origin is not None:
        conditions.append(tasks.c.origin == query.origin.value)
    if query.created_from is not None:
        conditions.append(tasks.c.created_us >= to_us(query.created_from))
    if query.created_to is not None:
        conditions.append(tasks.c.created_us < to_us(query.created_to))
    return conditions


def _change(
    task_id: str,
    owner: str,
    status: str,
    progress: float,
    version: int,
    updated_us: int,
    failure_code: str | None,
) -> TaskChange:
    return TaskChange(
        task_id=task_id,
        owner=owner,
        status=TaskStatus(status),
        progress=progress,
        version=version,
        updated=from_us(updated_us),
        failure_code=failure_code,
    )
