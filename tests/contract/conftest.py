"""The task store contract runs on every adapter: SQLite always, PostgreSQL when configured.

Set ``FOOTAGE_TEST_POSTGRES_URL`` (e.g.
``postgresql+psycopg://footage:footage@127.0.0.1:5432/footage_test``) to include PostgreSQL;
each test then gets a schema of its own, so parallel (xdist) workers never meet. Without it the
PostgreSQL runs are skipped, except under ``CI=true``, where they fail: CI must not skip them.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from footage.db import open_database

POSTGRES_ENV = "FOOTAGE_TEST_POSTGRES_URL"


def _postgres_url() -> str:
    url = os.environ.get(POSTGRES_ENV, "")
    if url:
        return url
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{POSTGRES_ENV} is not set under CI=true; the PostgreSQL contract must run")
    pytest.skip(f"PostgreSQL contract tests need {POSTGRES_ENV} (a database footage may use)")


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL of an empty database, SQLite or PostgreSQL (``params``)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'footage.db'}"
        return
    base = _postgres_url()
    schema = f"test_{uuid.uuid4().hex[:16]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in base else "?"
    try:
        yield f"{base}{separator}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = open_database(database_url)
    try:
        yield engine
    finally:
        engine.dispose()


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "database_url" in metafunc.fixturenames:
        metafunc.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)
