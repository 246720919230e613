"""Chat history per room: the newest messages, bounded by count and age."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from synctv.store.batching import Batcher
from synctv.store.models import ChatMessage

# Old rows are pruned on one insert in this many (a prune is a range delete; doing it on every insert is waste).
PRUNE_EVERY = 16


@dataclass(frozen=True, slots=True)
class ChatEntry:
    sent_at_ms: int
    user_id: str
    username: str
    content: str


@dataclass(frozen=True, slots=True)
class _Add:
    room_id: str
    entry: ChatEntry
    keep: int
    older_than_ms: int


class ChatStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._pending: dict[str, int] = {}  # inserts per room since its last prune
        self._seq = itertools.count()
        # Rooms chatting at the same moment share one write transaction; joiners of one room, one read.
        self._adds: Batcher[int, _Add, None] = Batcher(self._add_many)
        self._reads: Batcher[tuple[str, int], None, list[ChatEntry]] = Batcher(self._recent_many)

    async def add(self, room_id: str, entry: ChatEntry, *, keep: int, older_than_ms: int = 0) -> None:
        """Store one message; every `PRUNE_EVERY` inserts, drop what is beyond the newest `keep` and what was
        sent before `older_than_ms` (0: no age limit)."""
        await self._adds.get(next(self._seq), _Add(room_id, entry, keep, older_than_ms))

    async def _add_many(self, adds: dict[int, _Add]) -> dict[int, BaseException | None]:
        rows = [{"room_id": a.room_id, "sent_at_ms": a.entry.sent_at_ms, "user_id": a.entry.user_id,
                 "username": a.entry.username, "content": a.entry.content} for a in adds.values()]
        if len(rows) > 1:
            try:
                await self._write(rows, adds)
                return dict.fromkeys(adds)
            except IntegrityError:  # a room deleted meanwhile: its message alone fails
                pass
        out: dict[int, BaseException | None] = {}
        for key, row in zip(adds, rows, strict=True):
            try:
                await self._write([row], {key: adds[key]})
                out[key] = None
            except IntegrityError as exc:
                out[key] = exc
        return out

    async def _write(self, rows: list[dict[str, object]], adds: dict[int, _Add]) -> None:
        async with self._sessions() as s:
            await s.execute(insert(ChatMessage), rows)
            await self._prune_due(s, adds)
            await s.commit()

    async def _prune_due(self, s: AsyncSession, adds: dict[int, _Add]) -> None:
        prunes: dict[str, _Add] = {}
        for a in adds.values():
            count = self._pending.get(a.room_id, 0) + 1
            self._pending[a.room_id] = count
            if count >= PRUNE_EVERY:
                prunes[a.room_id] = a
        for room_id, a in prunes.items():
            del self._pending[room_id]
            await self._prune(s, room_id, a.keep)
            if a.older_than_ms:
                await s.execute(delete(ChatMessage).where(ChatMessage.room_id == room_id,
                                                          ChatMessage.sent_at_ms < a.older_than_ms))

    async def _prune(self, s: AsyncSession, room_id: str, keep: int) -> None:
        cutoff = await s.scalar(select(ChatMessage.id).where(ChatMessage.room_id == room_id)
                                .order_by(ChatMessage.id.desc()).offset(keep).limit(1))
        if cutoff is not None:
            await s.execute(delete(ChatMessage).where(ChatMessage.room_id == room_id, ChatMessage.id <= cutoff))

    async def recent(self, room_id: str, *, limit: int, since_ms: int = 0) -> list[ChatEntry]:
        """The newest `limit` messages sent at or after `since_ms`, oldest first."""
        if limit <= 0:
            return []
        return [e for e in await self._reads.get((room_id, limit), None) if e.sent_at_ms >= since_ms]

    async def _recent_many(self, keys: dict[tuple[str, int], None]
                           ) -> dict[tuple[str, int], list[ChatEntry] | BaseException]:
        out: dict[tuple[str, int], list[ChatEntry] | BaseException] = {}
        async with self._sessions() as s:
            for room_id, limit in keys:
                rows = (await s.execute(select(ChatMessage.sent_at_ms, ChatMessage.user_id, ChatMessage.username,
                                               ChatMessage.content).where(ChatMessage.room_id == room_id)
                                        .order_by(ChatMessage.id.desc()).limit(limit))).all()
                out[(room_id, limit)] = [ChatEntry(int(r[0]), r[1], r[2], r[3]) for r in reversed(rows)]
        return out

    async def clear(self, room_id: str) -> int:
        async with self._sessions() as s:
            res = await s.execute(delete(ChatMessage).where(ChatMessage.room_id == room_id))
            await s.commit()
            return int(res.rowcount)  # type: ignore[attr-defined]

