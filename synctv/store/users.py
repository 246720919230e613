"""Users: accounts, roles, the built-in guest, and the first root."""

from __future__ import annotations

import builtins
import secrets
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from synctv.core.permissions import GUEST_USER_ID, Role
from synctv.core.validation import username_with_suffix
from synctv.store.batching import Batcher
from synctv.store.ids import new_id, utcnow
from synctv.store.models import User
from synctv.store.pagination import ListQuery, like_pattern, paginate
from synctv.store.settings import USERS_VERSION_ROW, bump_marker


class Conflict(Exception):
    """A unique value (user name, room name, e-mail) is already taken."""


class UserStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        # Every authenticated request reads its user: concurrent reads share one query.
        self._by_id: Batcher[str, None, User | None] = Batcher(self._get_many)

    async def create(self, username: str, hashed_password: bytes, role: Role = Role.USER,
                     user_id: str | None = None) -> User:
        now = utcnow()
        user = User(id=user_id or new_id(), created_at=now, updated_at=now, username=username, email=None,
                    hashed_password=hashed_password, role=int(role), registered_by_provider=False,
                    registered_by_email=False)
        async with self._sessions() as s:
            s.add(user)
            try:
                await s.commit()
            except IntegrityError:
                raise Conflict("username already exists") from None
        return user

    async def create_by_email(self, username: str, email: str, hashed_password: bytes, role: Role) -> User:
        """A user signed up by e-mail; a taken username gets upstream's `#NNNN` suffix. `Conflict` when the
        address is taken."""
        for attempt in range(12):
            name = username if attempt == 0 else username_with_suffix(username, secrets.randbelow(9999))
            if await self.get_by_username(name) is not None:
                continue
            now = utcnow()
            user = User(id=new_id(), created_at=now, updated_at=now, username=name, email=email,
                        hashed_password=hashed_password, role=int(role), registered_by_provider=False,
                        registered_by_email=True)
            async with self._sessions() as s:
                s.add(user)
                try:
                    await s.commit()
                except IntegrityError:
                    await s.rollback()
                    if await self.get_by_email(email) is not None:
                        raise Conflict("email already used") from None
                    continue
            return user
        raise Conflict("no free username could be found")

    async def set_email(self, user_id: str, email: str | None) -> bool:
        async with self._sessions() as s:
            try:
                res = await s.execute(update(User).where(User.id == user_id).values(updated_at=utcnow(), email=email))
                await s.commit()
            except IntegrityError:
                raise Conflict("email already used") from None
            return bool(res.rowcount)  # type: ignore[attr-defined]

    async def get(self, user_id: str) -> User | None:
        return await self._by_id.get(user_id, None)

    async def _get_many(self, ids: dict[str, None]) -> dict[str, User | BaseException | None]:
        async with self._sessions() as s:
            rows = {u.id: u for u in await s.scalars(select(User).where(User.id.in_(list(ids))))}
        return {i: rows.get(i) for i in ids}

    async def get_by_username(self, username: str) -> User | None:
        async with self._sessions() as s:
            return await s.scalar(select(User).where(User.username == username))

    async def get_by_email(self, email: str) -> User | None:
        async with self._sessions() as s:
            return await s.scalar(select(User).where(User.email == email))

    async def find(self, id_or_name: str) -> builtins.list[User]:
        async with self._sessions() as s:
            rows = await s.scalars(select(User).where(or_(User.id == id_or_name,
                                                           User.username.ilike(like_pattern(id_or_name), "\\")))
                                   .order_by(User.username).limit(100))
            return list(rows)

    async def _update(self, user_id: str, **values: Any) -> bool:
        async with self._sessions() as s:
            try:
                res = await s.execute(update(User).where(User.id == user_id).values(updated_at=utcnow(), **values))
                await bump_marker(s, USERS_VERSION_ROW)
                await s.commit()
            except IntegrityError:
                raise Conflict("username already exists") from None
            return bool(res.rowcount)  # type: ignore[attr-defined]

    async def set_role(self, user_id: str, role: Role) -> bool:
        return await self._update(user_id, role=int(role))

    async def set_password(self, user_id: str, hashed_password: bytes) -> bool:
        return await self._update(user_id, hashed_password=hashed_password)

    async def set_username(self, user_id: str, username: str) -> bool:
        return await self._update(user_id, username=username)

    async def delete(self, user_id: str) -> bool:
        # Rooms, memberships, movies and providers go with the user (ON DELETE CASCADE).
        async with self._sessions() as s:
            res = await s.execute(delete(User).where(User.id == user_id))
            await bump_marker(s, USERS_VERSION_ROW)
            await s.commit()
            return bool(res.rowcount)  # type: ignore[attr-defined]

    async def by_role(self, role: Role) -> builtins.list[User]:
        async with self._sessions() as s:
            return list(await s.scalars(select(User).where(User.role == int(role)).order_by(User.username)))

    async def count_role(self, role: Role) -> int:
        async with self._sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(User).where(User.role == int(role))) or 0)

    async def list(self, q: ListQuery, role: Role | None = None) -> tuple[int, builtins.list[User]]:
        stmt = select(User).where(User.id != GUEST_USER_ID)
        if role is not None:
            stmt = stmt.where(User.role == int(role))
        if q.keyword:
            pattern = like_pattern(q.keyword)
            conds: dict[str, list[Any]] = {"name": [User.username.ilike(pattern, "\\")],
                                           "id": [User.id.ilike(pattern, "\\")]}
            chosen = conds.get(q.search, conds["name"] + conds["id"])
            stmt = stmt.where(or_(*chosen))
        col = User.username if q.sort == "name" else User.created_at
        stmt = stmt.order_by(col.desc() if q.desc else col.asc(), User.id)
        async with self._sessions() as s:
            total, rows = await paginate(s, stmt, q)
        return total, [r[0] for r in rows]

    async def ensure_guest(self, hashed_password: bytes) -> None:
        async with self._sessions() as s:
            if await s.get(User, GUEST_USER_ID) is not None:
                return
        try:
            await self.create("guest", hashed_password, Role.USER, user_id=GUEST_USER_ID)
        except Conflict:
            pass
