"""Ended sessions: a logout revokes its session (JWTs are otherwise valid until they expire).

A session is the token's id (`jti`), so every encoding of the same token is revoked with it. Revoked ids are
stored hashed, cached in memory and reloaded when another instance announces a logout.
"""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from synctv.store.ids import utcnow
from synctv.store.models import RevokedToken


def session_hash(session_id: str) -> str:
    return hashlib.sha256(b"session:" + session_id.encode()).hexdigest()


class SessionStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._revoked: set[str] = set()

    async def load(self) -> None:
        async with self._sessions() as s:
            await s.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
            await s.commit()
            self._revoked = set(await s.scalars(select(RevokedToken.token_hash)))

    async def revoke(self, session_id: str, expires_at: datetime) -> None:
        digest = session_hash(session_id)
        async with self._sessions() as s:
            s.add(RevokedToken(token_hash=digest, expires_at=expires_at))
            try:
                await s.commit()
            except IntegrityError:
                pass
        self._revoked.add(digest)

    def is_revoked(self, session_id: str) -> bool:
        return bool(self._revoked) and session_hash(session_id) in self._revoked
