"""An INSERT that skips rows whose key already exists, in each database's own words."""

from __future__ import annotations

from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession


def insert_ignoring_duplicates(s: AsyncSession, model: Any) -> Any:
    dialect = s.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite_insert(model).on_conflict_do_nothing()
    if dialect == "postgresql":
        return pg_insert(model).on_conflict_do_nothing()
    return insert(model).prefix_with("IGNORE")  # MySQL / MariaDB
