"""The media paths' shared movie read: concurrent asks share one query, a movie of another room is not found,
and an edit made before an ask is always seen."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from synctv.core.permissions import Role, RoomStatus
from synctv.store import Store
from tests.support.servers import make_config


async def test_concurrent_reads_share_one_query_and_stay_fresh(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    store = await Store.open(make_config(tmp_path))
    try:
        user = await store.users.create("m", b"x", Role.USER)
        room = await store.rooms.create("r", user.id, b"", RoomStatus.ACTIVE, {})
        other = await store.rooms.create("o", user.id, b"", RoomStatus.ACTIVE, {})
        (movie,) = await store.movies.add(room.id, user.id, [{"name": "a", "url": "http://x/a.mp4"}])
        queries: list[int] = []
        read_many = store.movies._read_many

        async def counted(keys: dict[tuple[str, str], None]) -> Any:
            queries.append(len(keys))
            return await read_many(keys)

        monkeypatch.setattr(store.movies._reads, "_run", counted)
        got = await asyncio.gather(*(store.movies.get_shared(room.id, movie.id) for _ in range(50)))
        assert all(m is not None and m.id == movie.id for m in got)
        assert sum(queries) == 1 and len(queries) == 1  # fifty asks, one query
        assert await store.movies.get_shared(other.id, movie.id) is None  # another room's movie is not found
        assert await store.movies.get_shared(room.id, "0" * 32) is None
        assert await store.movies.update_base(room.id, movie.id, {"name": "b", "url": "http://x/b.mp4"})
        edited = await store.movies.get_shared(room.id, movie.id)
        assert edited is not None and edited.url == "http://x/b.mp4"  # an edit before the ask is seen
        await store.movies.delete(room.id, [movie.id])
        assert await store.movies.get_shared(room.id, movie.id) is None  # asked after the delete: not served stale
    finally:
        await store.close()
