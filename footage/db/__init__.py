"""The database: engine creation (SQLite by default, PostgreSQL by URL), schema and migrations."""

from footage.db.engine import open_database
from footage.db.schema import metadata

__all__ = ["metadata", "open_database"]
