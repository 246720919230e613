"""OAuth2 persistence: flows in progress (single-use states) and the users' provider bindings."""

from __future__ import annotations

import builtins
import secrets
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from synctv.core.permissions import Role
from synctv.core.validation import username_with_suffix
from synctv.store.ids import new_id, utcnow
from synctv.store.models import OAuth2State, User, UserProvider

USERNAME_TRIES = 12


class BindingConflict(Exception):
    """The provider account is bound to another user, or the user already has a binding of that provider."""


class LastWayIn(Exception):
    """Unbinding would leave a provider-registered user with no way to log in."""


class OAuth2StateStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def put(self, state: OAuth2State, ttl_s: float) -> None:
        now = utcnow()
        state.expires_at = now + timedelta(seconds=ttl_s)
        async with self._sessions() as s:
            await s.execute(delete(OAuth2State).where(OAuth2State.expires_at < now))
            s.add(state)
            await s.commit()

    async def take(self, state_hash: str) -> OAuth2State | None:
        """Consume a state: only the first caller gets it, on whichever instance; an expired one is gone."""
        async with self._sessions() as s:
            row = await s.get(OAuth2State, state_hash)
            if row is None:
                return None
            res = await s.execute(delete(OAuth2State).where(OAuth2State.state_hash == state_hash))
            await s.commit()
            if res.rowcount != 1:  # type: ignore[attr-defined]
                return None  # another request consumed it first
            if row.expires_at < utcnow():
                return None
            return row


class ProviderStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def for_user(self, user_id: str) -> builtins.list[UserProvider]:
        async with self._sessions() as s:
            return list(await s.scalars(select(UserProvider).where(UserProvider.user_id == user_id)))

    async def find(self, provider: str, provider_user_id: str) -> UserProvider | None:
        async with self._sessions() as s:
            return await s.get(UserProvider, (provider, provider_user_id))

    async def bind(self, user_id: str, provider: str, provider_user_id: str) -> None:
        async with self._sessions() as s:
            s.add(UserProvider(provider=provider, provider_user_id=provider_user_id, user_id=user_id,
                               created_at=utcnow()))
            try:
                await s.commit()
            except IntegrityError:
                raise BindingConflict("this account is already bound") from None

    async def unbind(self, user_id: str, provider: str) -> bool:
        async with self._sessions() as s:
            # Lock the user row so that two unbinds at once cannot both pass the last-way-in check.
            user = await s.scalar(select(User).where(User.id == user_id).with_for_update())
            if user is None:
                return False
            res = await s.execute(delete(UserProvider).where(UserProvider.user_id == user_id,
                                                             UserProvider.provider == provider))
            if not res.rowcount:  # type: ignore[attr-defined]
                return False
            left = await s.scalar(select(func.count()).select_from(UserProvider)
                                  .where(UserProvider.user_id == user_id))
            if user.registered_by_provider and not left:
                await s.rollback()
                raise LastWayIn("the last provider of an account registered with it cannot be unbound")
            await s.commit()
            return True

    async def create_user_with_binding(self, username: str, hashed_password: bytes, role: Role, provider: str,
                                       provider_user_id: str) -> User:
        """The new user and its binding in one transaction: neither exists without the other.

        A taken username gets upstream's `#NNNN` suffix. If the provider account was bound meanwhile (a
        concurrent callback), nothing is written and `BindingConflict` is raised.
        """
        now = utcnow()
        for attempt in range(USERNAME_TRIES):
            name = username if attempt == 0 else username_with_suffix(username, secrets.randbelow(9999))
            async with self._sessions() as s:
                if await s.scalar(select(User.id).where(User.username == name)) is not None:
                    continue
                user = User(id=new_id(), created_at=now, updated_at=now, username=name, email=None,
                            hashed_password=hashed_password, role=int(role), registered_by_provider=True,
                            registered_by_email=False)
                s.add(user)
                s.add(UserProvider(provider=provider, provider_user_id=provider_user_id, user_id=user.id,
                                   created_at=now))
                try:
                    await s.commit()
                except IntegrityError:
                    await s.rollback()
                    if await self.find(provider, provider_user_id) is not None:
                        raise BindingConflict("this account is already bound") from None
                    continue  # the name was taken meanwhile
                return user
        raise BindingConflict("no free username could be found")
