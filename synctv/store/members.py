"""Room memberships: status, role and permission bits per (user, room)."""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from synctv.core.permissions import MemberRole, MemberStatus
from synctv.store.batching import Batcher
from synctv.store.ids import utcnow
from synctv.store.inserts import insert_ignoring_duplicates
from synctv.store.models import RoomMember, User
from synctv.store.pagination import ListQuery, like_pattern, paginate


class MembershipGone(LookupError):
    """The room (or the user) of a membership being created was deleted meanwhile."""


@dataclass(frozen=True, slots=True)
class _NewMember:
    status: int
    role: int
    permissions: int
    admin_permissions: int


class MemberStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._creates: Batcher[tuple[str, str], _NewMember, RoomMember] = Batcher(self._create_many)

    async def get(self, room_id: str, user_id: str) -> RoomMember | None:
        async with self._sessions() as s:
            return await s.get(RoomMember, (user_id, room_id))

    async def get_many(self, room_id: str, user_ids: builtins.list[str]) -> dict[str, RoomMember]:
        async with self._sessions() as s:
            found = await self._select(s, [(room_id, u) for u in user_ids])
        return {u: m for (_, u), m in found.items()}

    async def get_or_create(self, room_id: str, user_id: str, *, status: MemberStatus, permissions: int,
                            role: MemberRole = MemberRole.MEMBER, admin_permissions: int = 0) -> RoomMember:
        """The membership, created with these values if there is none. Concurrent first joins are written in
        one transaction (group commit); `MembershipGone` when the room or the user was deleted meanwhile."""
        return await self._creates.get((room_id, user_id), _NewMember(int(status), int(role), permissions,
                                                                      admin_permissions))

    async def _create_many(self, wanted: dict[tuple[str, str], _NewMember]
                           ) -> dict[tuple[str, str], RoomMember | BaseException]:
        async with self._sessions() as s:
            found = await self._select(s, list(wanted))
            missing = [k for k in wanted if k not in found]
            if missing:
                now = utcnow()
                rows = [{"room_id": r, "user_id": u, "created_at": now, "updated_at": now, "status": v.status,
                         "role": v.role, "permissions": v.permissions, "admin_permissions": v.admin_permissions}
                        for (r, u) in missing for v in (wanted[(r, u)],)]
                try:
                    # A row another instance inserted meanwhile is kept (theirs was first), not an error.
                    await s.execute(insert_ignoring_duplicates(s, RoomMember), rows)
                    await s.commit()
                except IntegrityError:  # a foreign key: some room or user is gone; find which, one by one
                    await s.rollback()
                    for row in rows:
                        try:
                            await s.execute(insert_ignoring_duplicates(s, RoomMember), [row])
                            await s.commit()
                        except IntegrityError:
                            await s.rollback()
                found.update(await self._select(s, missing))
        return {k: found.get(k) or MembershipGone(k[0]) for k in wanted}

    @staticmethod
    async def _select(s: AsyncSession, keys: builtins.list[tuple[str, str]]
                      ) -> dict[tuple[str, str], RoomMember]:
        by_room: dict[str, builtins.list[str]] = {}
        for room_id, user_id in keys:
            by_room.setdefault(room_id, []).append(user_id)
        out: dict[tuple[str, str], RoomMember] = {}
        for room_id, user_ids in by_room.items():
            for m in await s.scalars(select(RoomMember).where(RoomMember.room_id == room_id,
                                                              RoomMember.user_id.in_(user_ids))):
                out[(room_id, m.user_id)] = m
        return out

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
