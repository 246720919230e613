"""The SQLite fast writer never waits for the write lock on the event loop's thread."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from synctv.core.permissions import Role, RoomStatus
from synctv.store import Store
from synctv.store.database import sqlite_path
from synctv.store.live_state import SqliteWriter
from tests.support.servers import make_config


async def test_a_held_write_lock_is_waited_for_off_the_loop(tmp_path: Path) -> None:
    cfg = make_config(tmp_path)
    store = await Store.open(cfg)
    try:
        user = await store.users.create("w", b"x", Role.USER)
        room = await store.rooms.create("r", user.id, b"", RoomStatus.ACTIVE, {})
        epoch, _, _ = await store.rooms.take_ownership(room.id)
        path = str(sqlite_path(cfg))
        writer = SqliteWriter(path)
        assert await writer.save(room.id, epoch, '{"a":1}', "[]") and writer.contended == 0
        holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        gaps: list[float] = []

        async def ticker() -> None:
            last = time.monotonic()
            while True:
                await asyncio.sleep(0.01)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        tick = asyncio.ensure_future(ticker())
        asyncio.get_running_loop().call_later(0.4, holder.execute, "COMMIT")
        saved = await writer.save(room.id, epoch, '{"a":2}', "[]")
        tick.cancel()
        assert saved and writer.contended == 1
        assert max(gaps) < 0.2, max(gaps)  # the loop kept running while the write waited for the lock
        assert not await writer.save(room.id, epoch - 1, '{"a":3}', "[]")  # still fenced by the epoch
        holder.close()
        await writer.close()
    finally:
        await store.close()
