"""Chat history per room: the newest messages, bounded by count and age."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from synctv.store.models import ChatMessage

# Old rows are pruned on one insert in this many (a prune is a range delete; doing it on every insert is waste).
PRUNE_EVERY = 16


@dataclass(frozen=True, slots=True)
class ChatEntry:
    sent_at_ms: int
    user_id: str
    username: str
    content: str


class ChatStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._pending: dict[str, int] = {}  # inserts per room since its last prune

    async def add(self, room_id: str, entry: ChatEntry, *, keep: int, older_than_ms: int = 0) -> None:
        """Store one message; every `PRUNE_EVERY` inserts, drop what is beyond the newest `keep` and what was
        sent before `older_than_ms` (0: no age limit)."""
        async with self._sessions() as s:
            row = ChatMessage(room_id=room_id, sent_at_ms=entry.sent_at_ms, user_id=entry.user_id,
                              username=entry.username, content=entry.content)
            s.add(row)
            await s.flush()
            count = self._pending.get(room_id, 0) + 1
            self._pending[room_id] = count
            if count >= PRUNE_EVERY:
                del self._pending[room_id]
                await self._prune(s, room_id, keep)
                if older_than_ms:
                    await s.execute(delete(ChatMessage).where(ChatMessage.room_id == room_id,
                                                              ChatMessage.sent_at_ms < older_than_ms))
            await s.commit()

    async def _prune(self, s: AsyncSession, room_id: str, keep: int) -> None:
        cutoff = await s.scalar(select(ChatMessage.id).where(ChatMessage.room_id == room_id)
                                .order_by(ChatMessage.id.desc()).offset(keep).limit(1))
        if cutoff is not None:
            await s.execute(delete(ChatMessage).where(ChatMessage.room_id == room_id, ChatMessage.id <= cutoff))

    async def recent(self, room_id: str, *, limit: int, since_ms: int = 0) -> list[ChatEntry]:
        """The newest `limit` messages sent at or after `since_ms`, oldest first."""
        if limit <= 0:
            return []
        async with self._sessions() as s:
            rows = (await s.scalars(select(ChatMessage).where(ChatMessage.room_id == room_id,
                                                              ChatMessage.sent_at_ms >= since_ms)
                                    .order_by(ChatMessage.id.desc()).limit(limit))).all()
        return [ChatEntry(r.sent_at_ms, r.user_id, r.username, r.content) for r in reversed(rows)]

    async def clear(self, room_id: str) -> int:
        async with self._sessions() as s:
            res = await s.execute(delete(ChatMessage).where(ChatMessage.room_id == room_id))
            await s.commit()
            return int(res.rowcount)  # type: ignore[attr-defined]

