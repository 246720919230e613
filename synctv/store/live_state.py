"""The hot-path write: a room's live state (`current` + recent op ids), conditional on the ownership epoch.

Every accepted STATUS or movie change is persisted before it is published, so this one statement sits on the
playback path. It bypasses the ORM session: on SQLite it runs on a dedicated connection in the event loop's
thread when the write lock is free (a WAL commit with synchronous=NORMAL takes tens of microseconds, far less
than handing it to a worker thread) and in a worker thread when it is not, on PostgreSQL it is a prepared
statement on a small asyncpg pool. Other databases use SQLAlchemy core.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from collections import Counter
from typing import Any, Protocol

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from synctv.store.models import Room

log = logging.getLogger(__name__)

# Times a database's fast writer could not start and the generic one was used instead, by dialect (metrics).
FALLBACKS: Counter[str] = Counter()

_SQLITE_SQL = "UPDATE rooms SET current = ?, recent_ops = ? WHERE id = ? AND owner_epoch = ?"


class LiveStateWriter(Protocol):
    async def save(self, room_id: str, epoch: int, current_json: str, recent_ops: str) -> bool:
        """True if the write committed; False if the epoch is stale (another instance owns the room)."""
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

    async def close(self) -> None:
        self._db.close()
        with self._waiting_lock:
            self._waiting_db.close()


class PostgresWriter:
    def __init__(self, pool: Any) -> None:
        self._pool = pool
        self._sql = "UPDATE rooms SET current = $1, recent_ops = $2 WHERE id = $3 AND owner_epoch = $4"

    @classmethod
    async def open(cls, dsn: str) -> PostgresWriter:
        import asyncpg

        return cls(await asyncpg.create_pool(dsn, min_size=1, max_size=4))

    async def save(self, room_id: str, epoch: int, current_json: str, recent_ops: str) -> bool:
        status: str = await self._pool.execute(self._sql, current_json, recent_ops, room_id, epoch)
        return status.endswith(" 1")

    async def close(self) -> None:
        await self._pool.close()


class CoreWriter:
    """Any other database: one SQLAlchemy core statement per write, no ORM session."""

    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine

    async def save(self, room_id: str, epoch: int, current_json: str, recent_ops: str) -> bool:
        async with self._engine.begin() as conn:
            res = await conn.execute(update(Room).where(Room.id == room_id, Room.owner_epoch == epoch)
                                     .values(current=current_json, recent_ops=recent_ops))
            return bool(res.rowcount)

    async def close(self) -> None:
        return None


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
