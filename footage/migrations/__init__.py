"""Alembic migrations of footage's database."""
