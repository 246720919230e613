"""Room memberships: status, role and permission bits per (user, room)."""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from synctv.core.permissions import MemberRole, MemberStatus
from synctv.store.ids import utcnow
from synctv.store.models import RoomMember, User
from synctv.store.pagination import ListQuery, like_pattern, paginate


class MembershipGone(LookupError):
    """The room (or the user) of a membership being created was deleted meanwhile."""


class MemberStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def get(self, room_id: str, user_id: str) -> RoomMember | None:
        async with self._sessions() as s:
            return await s.get(RoomMember, (user_id, room_id))

    async def get_or_create(self, room_id: str, user_id: str, *, status: MemberStatus, permissions: int,
                            role: MemberRole = MemberRole.MEMBER, admin_permissions: int = 0) -> RoomMember:
        existing = await self.get(room_id, user_id)
        if existing is not None:
            return existing
        now = utcnow()
        member = RoomMember(user_id=user_id, room_id=room_id, created_at=now, updated_at=now, status=int(status),
                            role=int(role), permissions=permissions, admin_permissions=admin_permissions)
        async with self._sessions() as s:
            s.add(member)
            try:
                await s.commit()
            except IntegrityError:
                await s.rollback()
                found = await s.get(RoomMember, (user_id, room_id))
                if found is None:  # not a concurrent join: the room or user row is gone (foreign key)
                    raise MembershipGone(room_id) from None
                return found
        return member

    async def update(self, room_id: str, user_id: str, **values: Any) -> bool:
        async with self._sessions() as s:
            res = await s.execute(update(RoomMember)
                                  .where(RoomMember.room_id == room_id, RoomMember.user_id == user_id)
                                  .values(updated_at=utcnow(), **values))
            await s.commit()
            return bool(res.rowcount)  # type: ignore[attr-defined]

    async def delete(self, room_id: str, user_id: str) -> bool:
        async with self._sessions() as s:
            res = await s.execute(delete(RoomMember).where(RoomMember.room_id == room_id,
                                                           RoomMember.user_id == user_id))
            await s.commit()
            return bool(res.rowcount)  # type: ignore[attr-defined]

    async def list(self, room_id: str, q: ListQuery, *, status: MemberStatus | None = None,
                   role: MemberRole | None = None) -> tuple[int, builtins.list[tuple[RoomMember, str]]]:
        stmt = (select(RoomMember, User.username).join(User, User.id == RoomMember.user_id)
                .where(RoomMember.room_id == room_id))
        if status is not None:
            stmt = stmt.where(RoomMember.status == int(status))
        if role is not None:
            stmt = stmt.where(RoomMember.role == int(role))
        if q.keyword:
            pattern = like_pattern(q.keyword)
            modes: dict[str, Any] = {"name": [User.username.ilike(pattern, "\\")],
                                     "id": [User.id.ilike(pattern, "\\")]}
            stmt = stmt.where(or_(*modes.get(q.search, modes["name"] + modes["id"])))
        col = User.username if q.sort == "name" else RoomMember.created_at
        stmt = stmt.order_by(col.desc() if q.desc else col.asc(), User.id)
        async with self._sessions() as s:
            total, rows = await paginate(s, stmt, q)
        return total, [(r[0], r[1]) for r in rows]

    async def set_all_member_permissions(self, room_id: str, permissions: int) -> int:
        """Every plain member's permission bits (not admins', not the creator's): "apply to all members"."""
        async with self._sessions() as s:
            res = await s.execute(update(RoomMember).where(RoomMember.room_id == room_id,
                                                           RoomMember.role == int(MemberRole.MEMBER))
                                  .values(permissions=permissions, updated_at=utcnow()))
            await s.commit()
            return int(res.rowcount)  # type: ignore[attr-defined]
