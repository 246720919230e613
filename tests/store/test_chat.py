"""Chat history in a real SQLite database: bounded by count and by age, newest kept, oldest first."""

from __future__ import annotations

from pathlib import Path

from synctv.core.permissions import Role, RoomStatus
from synctv.store import Store
from synctv.store.chat import PRUNE_EVERY, ChatEntry
from tests.support.servers import make_config


async def test_history_is_bounded_by_count_and_age(tmp_path: Path) -> None:
    store = await Store.open(make_config(tmp_path))
    try:
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
    finally:
        await store.close()


async def test_concurrent_chat_in_many_rooms_is_written_together_and_a_gone_room_fails_alone(tmp_path: Path) -> None:
    import asyncio

    store = await Store.open(make_config(tmp_path))
    try:
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
    finally:
        await store.close()
