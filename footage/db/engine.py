"""Open a database by URL and bring its schema to the newest migration."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event

from footage.domain import SourceUnavailable


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(Path(__file__).parent.parent / "migrations"))
    return config


def open_database(url: str, *, migrate: bool = True) -> Engine:
    """Create an engine for ``url`` (creating a SQLite file's folder) and migrate it."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        folder = Path(url.removeprefix("sqlite:///")).expanduser().parent
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise SourceUnavailable(
                f"cannot open or migrate the database {url}: cannot create {folder}: "
                f"{exc.strerror}; set database.url or data_dir to a writable place"
            ) from exc
    engine = create_engine(url)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if migrate:
        try:
            with engine.begin() as connection:
                config = _alembic_config()
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
        except Exception as exc:  # the driver's own errors vary; say what failed
            engine.dispose()
            raise SourceUnavailable(f"cannot open or migrate the database {url}: {exc}") from exc
    return engine
