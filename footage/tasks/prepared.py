"""Core statements compiled once and run on the driver's cursor: a busy worker's hot path.

SQLAlchemy spends more on each execution of a statement (its cache key, the parameters, the
result's set-up: about 40 µs) than SQLite spends running a one-row UPDATE (about 7 µs). The
few statements a worker runs for every task (claim, finish) are compiled here once for the
engine's dialect and run on the DBAPI cursor of a SQLAlchemy connection, inside the
transaction that connection began: pooling, transactions and errors stay SQLAlchemy's. Their
parameters and columns are strings and numbers, which both drivers pass as they are; bind
processors are applied all the same, and statements SQLAlchemy must rewrite per execution
(expanding ``IN``) are refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Dialect
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler


class Prepared:
    """``statement`` compiled for ``dialect``; ``first`` runs it and returns its first row."""

    def __init__(self, statement: ClauseElement, dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        assert isinstance(compiled, SQLCompiler)
        if compiled.post_compile_params or compiled.literal_execute_params:
            raise ValueError("a prepared statement cannot have expanding parameters")
        self.sql = compiled.string
        self._defaults = {name: bind.effective_value for name, bind in compiled.binds.items()}
        self._order = compiled.positiontup  # None when the driver takes named parameters
        processors: dict[str, Callable[[Any], Any]] = {}
        for name, bind in compiled.binds.items():
            process = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if process is not None:
                processors[name] = process
        self._processors = processors

    def first(self, conn: Connection, params: Mapping[str, Any]) -> dict[str, Any] | None:
        """The first row (column name -> value) of running this in ``conn``'s transaction."""
        cursor = self._run(conn, params)
        try:
            row = cursor.fetchone()
            if row is None:
                return None
            return dict(zip([column[0] for column in cursor.description], row, strict=True))
        finally:
            cursor.close()

    def all(self, conn: Connection, params: Mapping[str, Any]) -> list[Sequence[Any]]:
        """Every row, as a sequence of values in the order of the statement's columns."""
        cursor = self._run(conn, params)
        try:
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def _run(self, conn: Connection, params: Mapping[str, Any]) -> DBAPICursor:
        values = {**self._defaults, **params}
        for name, process in self._processors.items():
            values[name] = process(values[name])
        args: Any = values if self._order is None else [values[name] for name in self._order]
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(self.sql, args)
        except BaseException:
            cursor.close()
            raise
        return cursor


def begin_immediate(conn: Connection) -> None:
    """On SQLite: take the write lock now, in the transaction ``conn.begin()`` opened."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    try:
        cursor.execute("BEGIN IMMEDIATE")
    finally:
        cursor.close()
