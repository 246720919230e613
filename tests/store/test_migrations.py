"""The Alembic migrations build exactly the schema the models describe (on SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from synctv.store.models import Base
from tests.support.servers import Server


async def test_migrations_match_the_models(server: Server) -> None:
    def diff(conn: Any) -> list[Any]:
        return list(compare_metadata(MigrationContext.configure(conn), Base.metadata))

    async with server.store.engine.connect() as conn:
        changes = await conn.run_sync(diff)
    assert changes == []
