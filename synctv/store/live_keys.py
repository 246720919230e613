"""Which publish key of a movie is the valid one (so that any instance can check a publisher's key)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from synctv.store.models import LivePublishKey


class LiveKeyStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def replace(self, movie_id: str, key_id: str, expires_at: datetime) -> None:
        async with self._sessions() as s:
            row = await s.get(LivePublishKey, movie_id)
            if row is None:
                s.add(LivePublishKey(movie_id=movie_id, key_id=key_id, expires_at=expires_at))
            else:
                row.key_id, row.expires_at = key_id, expires_at
            await s.commit()

    async def current(self, movie_id: str) -> str | None:
        async with self._sessions() as s:
            row = await s.get(LivePublishKey, movie_id)
            return None if row is None else row.key_id
