"""Persistence: SQLAlchemy models, repositories and Alembic migrations."""

from __future__ import annotations

import time

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine

from synctv.config import Config
from synctv.store.chat import ChatStore
from synctv.store.database import create_engine, migrate, sessionmaker
from synctv.store.email_codes import EmailCodeStore
from synctv.store.live_keys import LiveKeyStore
from synctv.store.live_state import open_writer
from synctv.store.members import MemberStore
from synctv.store.movies import MovieStore
from synctv.store.oauth2 import OAuth2StateStore, ProviderStore
from synctv.store.rooms import RoomStore
from synctv.store.sessions import SessionStore
from synctv.store.settings import SettingsStore
from synctv.store.users import UserStore
from synctv.store.vendor_accounts import VendorAccountStore, VendorBackendStore


class Store:
    """All repositories over one engine."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        # Monotonic time of the last statement that succeeded: under load the pool can be busy for seconds,
        # and a busy database is a reachable one.
        self.last_success = 0.0
        event.listen(engine.sync_engine, "after_cursor_execute", self._note_success)
        sessions = sessionmaker(engine)
        self.users = UserStore(sessions)
        self.rooms = RoomStore(sessions)
        self.members = MemberStore(sessions)
        self.movies = MovieStore(sessions)
        self.settings = SettingsStore(sessions)
        self.sessions = SessionStore(sessions)
        self.oauth2_states = OAuth2StateStore(sessions)
        self.providers = ProviderStore(sessions)
        self.email_codes = EmailCodeStore(sessions)
        self.chat = ChatStore(sessions, engine)
        self.vendor_accounts = VendorAccountStore(sessions)
        self.vendor_backends = VendorBackendStore(sessions)
        self.live_keys = LiveKeyStore(sessions)

    @classmethod
    async def open(cls, cfg: Config, *, run_migrations: bool = True, read_only: bool = False) -> Store:
        """Connect (and migrate). `read_only` writes nothing: no migrations, no default rows, no live-state writer."""
        engine = create_engine(cfg)
        store = cls(engine)
        try:
            if run_migrations and not read_only:
                await migrate(engine)
            if read_only:
                await store.settings.reload()
            else:
                store.rooms.writer = store.chat.writer = await open_writer(engine)
                await store.settings.load()
            await store.sessions.load()
        except BaseException:
            await store.close()
            raise
        return store

    def _note_success(self, *args: object) -> None:
        self.last_success = time.monotonic()

    def recently_reachable(self, within: float) -> bool:
        return time.monotonic() - self.last_success < within

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    async def ping(self) -> bool:
        try:
            async with self.engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except Exception:
            return False

    async def close(self) -> None:
        await self.sessions.flush()
        if self.rooms.writer is not None:
            await self.rooms.writer.close()
            self.rooms.writer = None
        await self.engine.dispose()
