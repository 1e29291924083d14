from pathlib import Path

import pytest
import sqlalchemy as sa

from footage.db import open_database
from footage.domain import SourceUnavailable


def test_migrates_a_new_file_and_is_idempotent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'nested' / 'footage.db'}"
    engine = open_database(url)
    tables = set(sa.inspect(engine).get_table_names())
    assert {"cameras", "segments", "alembic_version"} <= tables
    with engine.connect() as conn:
        assert conn.execute(sa.text("PRAGMA journal_mode")).scalar() == "wal"
    engine.dispose()
    engine = open_database(url)  # a second open finds nothing to do
    with engine.connect() as conn:
        versions = conn.execute(sa.text("SELECT version_num FROM alembic_version")).all()
    assert len(versions) == 1
    engine.dispose()


def test_unreachable_database_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(SourceUnavailable, match="cannot open or migrate the database"):
        open_database(f"sqlite:///{blocker / 'footage.db'}")
