"""Chat history in real SQLite, PostgreSQL and MariaDB databases, each through its own hot-path writer: bounded
by count and by age, newest kept, oldest first, and a deleted room's message fails alone."""

from __future__ import annotations

import asyncio
import sqlite3
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from synctv.core.permissions import Role, RoomStatus
from synctv.store import Store
from synctv.store.chat import PRUNE_EVERY, ChatEntry
from synctv.store.database import sqlite_path
from synctv.store.live_state import CoreWriter, PostgresWriter, SqliteWriter
from tests.support.servers import make_config

WRITERS = {"sqlite": SqliteWriter, "postgres": PostgresWriter, "mariadb": CoreWriter}


@pytest.fixture(params=[pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres),
                        "mariadb"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    kind = request.param
    if kind == "sqlite":
        cfg = make_config(tmp_path)
    elif kind == "postgres":
        cfg = make_config(tmp_path, request.getfixturevalue("pg_server").create_database("c_" + uuid.uuid4().hex[:8]))
    else:
        dsn = request.getfixturevalue("mariadb_server").create_database("c_" + uuid.uuid4().hex[:8])
        cfg = make_config(tmp_path, dsn, SYNCTV_DATABASE_TYPE="mysql")
    opened = await Store.open(cfg)
    assert isinstance(opened.chat.writer, WRITERS[kind])
    yield opened
    await opened.close()


async def test_history_is_bounded_by_count_and_age(store: Store) -> None:
    user = await store.users.create("talker", b"x", Role.USER)
    room = await store.rooms.create("chatty", user.id, b"", RoomStatus.ACTIVE, {})
    other = await store.rooms.create("other", user.id, b"", RoomStatus.ACTIVE, {})
    for i in range(PRUNE_EVERY * 2):
        await store.chat.add(room.id, ChatEntry(1000 + i, user.id, "talker", f"m{i}"), keep=5,
                             older_than_ms=1000 + i - 3)
    await store.chat.add(other.id, ChatEntry(1, user.id, "talker", "elsewhere"), keep=5)
    kept = await store.chat.recent(room.id, limit=100)
    # pruned on the last insert: the newest 5, then nothing older than 3 ms before the newest
    assert [e.content for e in kept] == [f"m{i}" for i in range(PRUNE_EVERY * 2 - 4, PRUNE_EVERY * 2)]
    assert [e.content for e in await store.chat.recent(room.id, limit=2)] == [f"m{PRUNE_EVERY * 2 - 2}",
                                                                              f"m{PRUNE_EVERY * 2 - 1}"]
    assert await store.chat.recent(room.id, limit=100, since_ms=10**9) == []
    assert await store.chat.recent(room.id, limit=0) == []
    assert [e.content for e in await store.chat.recent(other.id, limit=10)] == ["elsewhere"]
    await store.rooms.delete(room.id)  # the history goes with its room
    assert await store.chat.recent(room.id, limit=10) == []


async def test_concurrent_chat_in_many_rooms_is_written_together_and_a_gone_room_fails_alone(store: Store) -> None:
    user = await store.users.create("many", b"x", Role.USER)
    rooms = [await store.rooms.create(f"r{i}", user.id, b"", RoomStatus.ACTIVE, {}) for i in range(6)]
    gone = rooms.pop()
    await store.rooms.delete(gone.id)
    adds = [store.chat.add(r.id, ChatEntry(10 + n, user.id, "many", f"{r.name}-{n}"), keep=50)
            for n in range(3) for r in rooms]
    results = await asyncio.gather(*adds, store.chat.add(gone.id, ChatEntry(1, user.id, "many", "lost"), keep=50),
                                   return_exceptions=True)
    assert all(r is None for r in results[:-1]) and isinstance(results[-1], Exception)
    reads = await asyncio.gather(*(store.chat.recent(r.id, limit=10) for r in rooms for _ in range(3)))
    for i, r in enumerate(rooms):
        for got in reads[i * 3:(i + 1) * 3]:
            assert [e.content for e in got] == [f"{r.name}-{n}" for n in range(3)]


async def test_a_held_sqlite_write_lock_is_waited_for_off_the_loop(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    store = await Store.open(cfg)
    try:
        user = await store.users.create("w", b"x", Role.USER)
        room = await store.rooms.create("r", user.id, b"", RoomStatus.ACTIVE, {})
        writer = store.chat.writer
        assert isinstance(writer, SqliteWriter)
        holder = sqlite3.connect(str(sqlite_path(cfg)), isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        loop = asyncio.get_running_loop()
        loop.call_later(0.3, holder.execute, "COMMIT")
        started = time.monotonic()
        stalls: list[float] = []

        async def ticker() -> None:
            last = time.monotonic()
            while True:
                await asyncio.sleep(0.01)
                stalls.append(time.monotonic() - last)
                last = time.monotonic()

        tick = asyncio.ensure_future(ticker())
        await store.chat.add(room.id, ChatEntry(1, user.id, "w", "waited"), keep=10)
        tick.cancel()
        assert writer.contended == 1 and time.monotonic() - started >= 0.25
        assert max(stalls) < 0.2, max(stalls)  # the loop kept running while the insert waited for the lock
        assert [e.content for e in await store.chat.recent(room.id, limit=5)] == ["waited"]
        holder.close()
    finally:
        await store.close()
