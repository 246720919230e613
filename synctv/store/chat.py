"""Chat history per room: the newest messages, bounded by count and age."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from synctv.store.batching import Batcher
from synctv.store.live_state import ChatPrune, ChatRow, CoreWriter, LiveStateWriter, RoomGone
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
    def __init__(self, sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine) -> None:
        self._sessions = sessions
        # Writes go through the hot-path writer (set once the store opens; no ORM session per message).
        self.writer: LiveStateWriter = CoreWriter(engine)
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
        rows: list[ChatRow] = [(a.room_id, a.entry.sent_at_ms, a.entry.user_id, a.entry.username, a.entry.content)
                               for a in adds.values()]
        if len(rows) > 1:
            try:
                await self._write(rows, list(adds.values()))
                return dict.fromkeys(adds)
            except RoomGone:  # a room deleted meanwhile: its message alone fails
                pass
        out: dict[int, BaseException | None] = {}
        for key, row in zip(adds, rows, strict=True):
            try:
                await self._write([row], [adds[key]])
                out[key] = None
            except RoomGone as exc:
                out[key] = exc
        return out

    async def _write(self, rows: list[ChatRow], adds: list[_Add]) -> None:
        prunes = self._prunes_due(adds)
        try:
            await self.writer.add_chat(rows, prunes)
        except BaseException:
            for p in prunes:  # not pruned after all: due again on the next insert
                self._pending[p.room_id] = PRUNE_EVERY - 1
            raise

    def _prunes_due(self, adds: list[_Add]) -> list[ChatPrune]:
        prunes: dict[str, ChatPrune] = {}
        for a in adds:
            count = self._pending.get(a.room_id, 0) + 1
            self._pending[a.room_id] = count
            if count >= PRUNE_EVERY:
                prunes[a.room_id] = ChatPrune(a.room_id, a.keep, a.older_than_ms)
        for room_id in prunes:
            del self._pending[room_id]
        return list(prunes.values())

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

