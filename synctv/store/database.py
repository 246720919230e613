"""Engine creation from configuration and Alembic migrations applied at start-up."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event, text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from synctv.config import Config

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def database_url(cfg: Config) -> str:
    db = cfg.database
    if db.custom_dsn:
        dsn = db.custom_dsn
        # Accept plain driver URLs and pick the asyncio driver.
        for plain, aio in (("postgresql://", "postgresql+asyncpg://"), ("postgres://", "postgresql+asyncpg://"),
                           ("mysql://", "mysql+asyncmy://"), ("sqlite://", "sqlite+aiosqlite://")):
            if dsn.startswith(plain):
                return aio + dsn[len(plain):]
        return dsn
    if db.type == "sqlite3":
        if db.name == "memory":
            return "sqlite+aiosqlite:///:memory:"
        return f"sqlite+aiosqlite:///{cfg.resolve_path(db.name + '.db')}"
    user = quote(db.user, safe="")
    password = quote(db.password, safe="")
    auth = f"{user}:{password}@" if db.user else ""
    if db.type == "postgres":
        port = db.port or 5432
        url = f"postgresql+asyncpg://{auth}{db.host or '127.0.0.1'}:{port}/{db.name}"
        return url + (f"?ssl={db.ssl_mode}" if db.ssl_mode else "")
    port = db.port or 3306
    return f"mysql+asyncmy://{auth}{db.host or '127.0.0.1'}:{port}/{db.name}?charset=utf8mb4"


def sqlite_path(cfg: Config) -> Path | None:
    """The SQLite database file the configuration points at (None for other databases and `:memory:`)."""
    url = database_url(cfg)
    prefix = "sqlite+aiosqlite:///"
    if not url.startswith(prefix):
        return None
    path = url[len(prefix):].split("?", 1)[0]
    if not path or path == ":memory:" or path.startswith("file:"):
        return None
    return Path(path)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def create_engine(cfg: Config) -> AsyncEngine:
    url = database_url(cfg)
    if url.startswith("sqlite"):
        engine = create_async_engine(url)
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas)
        return engine
    return create_async_engine(
        url,
        pool_size=max(1, min(cfg.database.max_idle_conns, cfg.database.max_open_conns)),
        max_overflow=max(0, cfg.database.max_open_conns - cfg.database.max_idle_conns),
        pool_pre_ping=True,
        pool_recycle=7200,
    )


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker[Any]:
    return async_sessionmaker(engine, expire_on_commit=False)


def _alembic_config(connection: Connection) -> AlembicConfig:
    acfg = AlembicConfig()
    acfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    acfg.attributes["connection"] = connection
    return acfg


# Instances of a cluster start together against one database: only one migrates at a time.
_MIGRATION_LOCK_ID = 0x5379_6E63


_MYSQL_LOCK = "synctv_migrate"
_MYSQL_LOCK_WAIT_S = 60


def _upgrade(connection: Connection) -> None:
    dialect = connection.dialect.name
    if dialect == "postgresql":
        # Released with the transaction.
        connection.execute(text(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_ID})"))
    elif dialect == "mysql":
        # A session lock: 1 = held, 0 = another instance kept it for the whole wait, NULL = an error. It outlives
        # the transaction, so it is released explicitly.
        got = connection.execute(text("SELECT GET_LOCK(:name, :wait)"),
                                 {"name": _MYSQL_LOCK, "wait": _MYSQL_LOCK_WAIT_S}).scalar()
        if got != 1:
            raise RuntimeError(f"database: could not take the migration lock {_MYSQL_LOCK!r} within "
                               f"{_MYSQL_LOCK_WAIT_S} s (another instance is migrating, or the lock failed)")
        try:
            command.upgrade(_alembic_config(connection), "head")
        finally:
            connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": _MYSQL_LOCK})
        return
    command.upgrade(_alembic_config(connection), "head")


async def migrate(engine: AsyncEngine) -> None:
    """Bring the schema to the newest revision (idempotent; safe on every start)."""
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade)
