"""Sessions: the ones in use (listed in the profile) and the ended ones (a logout or a revoke from the profile;
JWTs are otherwise valid until they expire).

A session is the token's id (`jti`), so every encoding of the same token is revoked with it. Ids are stored
hashed; revoked ones are cached in memory and reloaded when another instance announces a logout. Use is
recorded at most once a minute per session and instance (`SEEN_EVERY_S`), so a busy client costs no writes, and
in the background: the request does not wait for it, and the uses of a wave of requests (a join storm of new
sessions) are written in one transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from synctv.store.batching import Batcher
from synctv.store.ids import utcnow
from synctv.store.inserts import insert_ignoring_duplicates
from synctv.store.models import RevokedToken, UserSession

log = logging.getLogger(__name__)

SEEN_EVERY_S = 60.0
_SEEN_MEMORY = 10_000


def session_hash(session_id: str) -> str:
    return hashlib.sha256(b"session:" + session_id.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class _Use:
    user_id: str
    user_version: int
    created_at: datetime
    expires_at: datetime
    user_agent: str


class SessionStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._revoked: set[str] = set()
        self._seen: dict[str, float] = {}  # session hash -> monotonic time of the last recorded use
        self._uses: Batcher[str, _Use, None] = Batcher(self._record_many)
        self._recording: set[asyncio.Task[None]] = set()
        self.use_failures = 0

    async def load(self) -> None:
        async with self._sessions() as s:
            await s.execute(delete(RevokedToken).where(RevokedToken.expires_at < utcnow()))
            await s.commit()
            self._revoked = set(await s.scalars(select(RevokedToken.token_hash)))

    async def revoke(self, session_id: str, expires_at: datetime) -> None:
        await self.revoke_hashed(session_hash(session_id), expires_at)

    async def revoke_hashed(self, digest: str, expires_at: datetime) -> None:
        async with self._sessions() as s:
            await s.execute(delete(UserSession).where(UserSession.id == digest))
            await s.commit()
        async with self._sessions() as s:
            s.add(RevokedToken(token_hash=digest, expires_at=expires_at))
            try:
                await s.commit()
            except IntegrityError:
                pass
        self._revoked.add(digest)

    def is_revoked(self, session_id: str) -> bool:
        return bool(self._revoked) and session_hash(session_id) in self._revoked

    def seen_recently(self, session_id: str) -> bool:
        at = self._seen.get(session_hash(session_id))
        return at is not None and time.monotonic() - at < SEEN_EVERY_S

    def note_use(self, session_id: str, user_id: str, user_version: int, created_at: datetime,
                 expires_at: datetime, user_agent: str) -> None:
        """Record a use of the session in the background (created on its first use; its device is the first one
        seen). The profile's "last used" is a convenience: a database that can't be written refuses nobody."""
        digest = session_hash(session_id)
        if len(self._seen) >= _SEEN_MEMORY:
            self._seen.clear()
        self._seen[digest] = time.monotonic()
        use = _Use(user_id, user_version, created_at, expires_at, user_agent[:200])
        task = asyncio.ensure_future(self._uses.get(digest, use))
        self._recording.add(task)
        task.add_done_callback(self._recorded)

    def _recorded(self, task: asyncio.Task[None]) -> None:
        self._recording.discard(task)
        if task.cancelled() or task.exception() is None:
            return
        self.use_failures += 1
        if self.use_failures == 1 or self.use_failures % 100 == 0:
            log.warning("session use not recorded: %s", task.exception(), extra={"failures": self.use_failures})

    async def flush(self) -> None:
        """Wait for the uses noted so far to be written (or to fail)."""
        while self._recording:
            await asyncio.gather(*list(self._recording), return_exceptions=True)

    async def _record_many(self, uses: dict[str, _Use]) -> dict[str, BaseException | None]:
        now = utcnow()
        rows = [{"id": digest, "user_id": u.user_id, "user_version": u.user_version, "created_at": u.created_at,
                 "last_seen_at": now, "expires_at": u.expires_at, "user_agent": u.user_agent}
                for digest, u in uses.items()]
        async with self._sessions() as s:
            await s.execute(insert_ignoring_duplicates(s, UserSession), rows)  # first uses (any instance's)
            await s.execute(update(UserSession).where(UserSession.id.in_(list(uses))).values(last_seen_at=now))
            await s.commit()
        return dict.fromkeys(uses)

    async def of_user(self, user_id: str, user_version: int) -> list[UserSession]:
        """The user's sessions still in use: not expired, not ended by a password change, newest use first."""
        await self.flush()  # this instance's latest uses included
        async with self._sessions() as s:
            await s.execute(delete(UserSession).where(UserSession.expires_at < utcnow()))
            await s.commit()
            rows = await s.scalars(select(UserSession).where(UserSession.user_id == user_id)
                                   .order_by(UserSession.last_seen_at.desc()))
            return [r for r in rows if r.user_version == user_version and r.id not in self._revoked]
