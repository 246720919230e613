"""The hot-path writes: a room's live state (`current` + recent op ids), conditional on the ownership epoch,
and its chat history.

Every accepted STATUS or movie change is persisted before it is published, and every chat message joins the
room's history before anyone sees it, so these statements sit on the playback and chat paths. They bypass the
ORM session: on SQLite they run on a dedicated connection in the event loop's thread when the write lock is
free (a WAL commit with synchronous=NORMAL takes tens of microseconds, far less than handing it to a worker
thread) and in a worker thread when it is not; on PostgreSQL they are prepared statements on a small asyncpg
pool. Other databases use SQLAlchemy core.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from synctv.store.models import ChatMessage, Room

log = logging.getLogger(__name__)

# Times a database's fast writer could not start and the generic one was used instead, by dialect (metrics).
FALLBACKS: Counter[str] = Counter()

_SQLITE_SQL = "UPDATE rooms SET current = ?, recent_ops = ? WHERE id = ? AND owner_epoch = ?"
# (room_id, sent_at_ms, user_id, username, content)
ChatRow = tuple[str, int, str, str, str]
_CHAT_INSERT = ("INSERT INTO chat_messages (room_id, sent_at_ms, user_id, username, content) "
                "VALUES ({0}, {1}, {2}, {3}, {4})")
# Everything but the newest `keep` rows of a room; a room with fewer rows has no cutoff, and `id <= NULL` is false.
_CHAT_PRUNE_COUNT = ("DELETE FROM chat_messages WHERE room_id = {0} AND id <= (SELECT id FROM chat_messages "
                     "WHERE room_id = {0} ORDER BY id DESC LIMIT 1 OFFSET {1})")
_CHAT_PRUNE_AGE = "DELETE FROM chat_messages WHERE room_id = {0} AND sent_at_ms < {1}"


@dataclass(frozen=True, slots=True)
class ChatPrune:
    room_id: str
    keep: int  # the newest rows kept
    older_than_ms: int  # rows sent before this go too (0: no age limit)


class RoomGone(Exception):
    """A chat row names a room that no longer exists (deleted meanwhile): nothing of its batch was written."""


class LiveStateWriter(Protocol):
    async def save(self, room_id: str, epoch: int, current_json: str, recent_ops: str) -> bool:
        """True if the write committed; False if the epoch is stale (another instance owns the room)."""
        ...

    async def add_chat(self, rows: Sequence[ChatRow], prunes: Sequence[ChatPrune]) -> None:
        """Insert the rows and apply the prunes in one transaction; `RoomGone` if a row's room is gone."""
        ...

    async def close(self) -> None: ...


class SqliteWriter:
    """The write runs in the event loop's thread only when it can take SQLite's write lock at once (busy_timeout
    0): waiting there for a lock held by a transaction of the worker-thread connections would stall the loop
    those transactions need to finish. When the lock is held, the write waits in a worker thread instead."""

    def __init__(self, path: str) -> None:
        self._db = self._connect(path, busy_ms=0)
        self._waiting_db = self._connect(path, busy_ms=5000)
        self._waiting_lock = threading.Lock()
        self._sql = _SQLITE_SQL
        self.contended = 0  # writes that found the lock held and waited in a thread

    @staticmethod
    def _connect(path: str, busy_ms: int) -> sqlite3.Connection:
        db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute(f"PRAGMA busy_timeout={int(busy_ms)}")
        db.execute("PRAGMA foreign_keys=ON")  # per connection in SQLite: chat rows of a deleted room must fail
        return db

    async def save(self, room_id: str, epoch: int, current_json: str, recent_ops: str) -> bool:
        params = (current_json, recent_ops, room_id, epoch)
        try:
            return self._db.execute(self._sql, params).rowcount == 1
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", None) not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
        self.contended += 1
        return await asyncio.to_thread(self._save_waiting, params)

    def _save_waiting(self, params: tuple[str, str, str, int]) -> bool:
        with self._waiting_lock:
            return self._waiting_db.execute(self._sql, params).rowcount == 1

    async def add_chat(self, rows: Sequence[ChatRow], prunes: Sequence[ChatPrune]) -> None:
        try:
            return _sqlite_chat(self._db, rows, prunes)
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", None) not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                raise
        self.contended += 1
        await asyncio.to_thread(self._add_chat_waiting, rows, prunes)

    def _add_chat_waiting(self, rows: Sequence[ChatRow], prunes: Sequence[ChatPrune]) -> None:
        with self._waiting_lock:
            _sqlite_chat(self._waiting_db, rows, prunes)

    async def close(self) -> None:
        self._db.close()
        with self._waiting_lock:
            self._waiting_db.close()


_SQLITE_CHAT_INSERT = _CHAT_INSERT.format("?", "?", "?", "?", "?")
_SQLITE_CHAT_PRUNE_COUNT = _CHAT_PRUNE_COUNT.format("?1", "?2")
_SQLITE_CHAT_PRUNE_AGE = _CHAT_PRUNE_AGE.format("?", "?")


def _sqlite_chat(db: sqlite3.Connection, rows: Sequence[ChatRow], prunes: Sequence[ChatPrune]) -> None:
    db.execute("BEGIN IMMEDIATE")  # with busy_timeout 0, a held lock fails here, before anything is written
    try:
        db.executemany(_SQLITE_CHAT_INSERT, rows)
        for p in prunes:
            db.execute(_SQLITE_CHAT_PRUNE_COUNT, (p.room_id, p.keep))
            if p.older_than_ms:
                db.execute(_SQLITE_CHAT_PRUNE_AGE, (p.room_id, p.older_than_ms))
        db.execute("COMMIT")
    except BaseException as exc:
        db.execute("ROLLBACK")
        if isinstance(exc, sqlite3.IntegrityError):
            raise RoomGone(str(exc)) from exc
        raise


async def _keep_session(conn: Any) -> None:
    """The pool's reset: this writer's statements leave no session state (no LISTEN, SET or advisory lock), so
    the default reset query, one round trip per release, has nothing to undo; asyncpg still rolls back an open
    transaction itself before calling this."""


class PostgresWriter:
    def __init__(self, pool: Any) -> None:
        self._pool = pool
        self._sql = "UPDATE rooms SET current = $1, recent_ops = $2 WHERE id = $3 AND owner_epoch = $4"

    @classmethod
    async def open(cls, dsn: str) -> PostgresWriter:
        import asyncpg

        return cls(await asyncpg.create_pool(dsn, min_size=1, max_size=4, reset=_keep_session))

    async def save(self, room_id: str, epoch: int, current_json: str, recent_ops: str) -> bool:
        status: str = await self._pool.execute(self._sql, current_json, recent_ops, room_id, epoch)
        return status.endswith(" 1")

    async def add_chat(self, rows: Sequence[ChatRow], prunes: Sequence[ChatPrune]) -> None:
        import asyncpg

        try:
            if not prunes:  # executemany alone is atomic: no BEGIN/COMMIT round trips
                await self._pool.executemany(_PG_CHAT_INSERT, rows)
                return
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.executemany(_PG_CHAT_INSERT, rows)
                for p in prunes:
                    await conn.execute(_PG_CHAT_PRUNE_COUNT, p.room_id, p.keep)
                    if p.older_than_ms:
                        await conn.execute(_PG_CHAT_PRUNE_AGE, p.room_id, p.older_than_ms)
        except asyncpg.ForeignKeyViolationError as exc:  # a room deleted meanwhile
            raise RoomGone(str(exc)) from exc

    async def close(self) -> None:
        await self._pool.close()


_PG_CHAT_INSERT = _CHAT_INSERT.format("$1", "$2", "$3", "$4", "$5")
_PG_CHAT_PRUNE_COUNT = _CHAT_PRUNE_COUNT.format("$1", "$2")
_PG_CHAT_PRUNE_AGE = _CHAT_PRUNE_AGE.format("$1", "$2")


class CoreWriter:
    """Any other database: one SQLAlchemy core statement per write, no ORM session."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def save(self, room_id: str, epoch: int, current_json: str, recent_ops: str) -> bool:
        async with self._engine.begin() as conn:
            res = await conn.execute(update(Room).where(Room.id == room_id, Room.owner_epoch == epoch)
                                     .values(current=current_json, recent_ops=recent_ops))
            return bool(res.rowcount)

    async def add_chat(self, rows: Sequence[ChatRow], prunes: Sequence[ChatPrune]) -> None:
        cols = ("room_id", "sent_at_ms", "user_id", "username", "content")
        try:
            async with self._engine.begin() as conn:
                await conn.execute(insert(ChatMessage), [dict(zip(cols, r, strict=True)) for r in rows])
                for p in prunes:
                    await _core_prune(conn, p)
        except IntegrityError as exc:
            raise RoomGone(str(exc.orig)) from exc

    async def close(self) -> None:
        return None


async def _core_prune(conn: AsyncConnection, p: ChatPrune) -> None:
    # Two statements: MySQL refuses a DELETE whose subquery reads the same table.
    cutoff = await conn.scalar(select(ChatMessage.id).where(ChatMessage.room_id == p.room_id)
                               .order_by(ChatMessage.id.desc()).offset(p.keep).limit(1))
    if cutoff is not None:
        await conn.execute(delete(ChatMessage).where(ChatMessage.room_id == p.room_id, ChatMessage.id <= cutoff))
    if p.older_than_ms:
        await conn.execute(delete(ChatMessage).where(ChatMessage.room_id == p.room_id,
                                                     ChatMessage.sent_at_ms < p.older_than_ms))


async def open_writer(engine: AsyncEngine) -> LiveStateWriter:
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return SqliteWriter(url.database)
    if url.get_backend_name() == "postgresql":
        dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        try:
            return await PostgresWriter.open(dsn)
        except Exception as exc:  # e.g. options asyncpg does not take from a URL: the generic path still works
            # Said and counted: the generic path is slower, and a silent fallback hides a misconfiguration.
            FALLBACKS["postgresql"] += 1
            log.warning("database: the PostgreSQL fast live-state writer could not start (%s: %s); live-state "
                        "writes use the generic path", type(exc).__name__, exc)
            return CoreWriter(engine)
    return CoreWriter(engine)
