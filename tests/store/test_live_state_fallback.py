"""The PostgreSQL fast live-state writer's fallback is explicit: logged with its cause and counted (metric
`synctv_db_fast_writer_fallbacks_total`), never silent."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from synctv.store import live_state
from synctv.store.live_state import CoreWriter, PostgresWriter, open_writer
from tests.support.pg_server import PostgresServer, free_port


async def test_a_fast_writer_that_cannot_start_falls_back_loudly(caplog: pytest.LogCaptureFixture) -> None:
    # Nothing listens there: asyncpg's own pool cannot connect.
    engine = create_async_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none")
    before = live_state.FALLBACKS["postgresql"]
    with caplog.at_level(logging.WARNING, logger="synctv.store.live_state"):
        writer = await open_writer(engine)
    try:
        assert isinstance(writer, CoreWriter)
        assert live_state.FALLBACKS["postgresql"] == before + 1
        assert any("fast live-state writer could not start" in r.getMessage() for r in caplog.records)
    finally:
        await writer.close()
        await engine.dispose()


@pytest.mark.postgres
async def test_the_fast_writer_is_used_when_it_can_start(pg_server: PostgresServer) -> None:
    dsn = pg_server.create_database("w_fast")
    engine = create_async_engine(dsn)
    before = live_state.FALLBACKS["postgresql"]
    writer = await open_writer(engine)
    try:
        assert isinstance(writer, PostgresWriter)
        assert live_state.FALLBACKS["postgresql"] == before
    finally:
        await writer.close()
        await engine.dispose()
