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
