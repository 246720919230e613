"""Rooms, their settings, and the fenced live state (`current`)."""

from __future__ import annotations

import builtins
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import aliased

from synctv.core.permissions import (
    ALL_ADMIN_PERMISSIONS,
    ALL_PERMISSIONS,
    MemberRole,
    MemberStatus,
    RoomStatus,
)
from synctv.observability import tracing
from synctv.store.batching import Batcher
from synctv.store.ids import new_id, utcnow
from synctv.store.live_state import LiveStateWriter
from synctv.store.models import ROOM_SETTING_KEYS, Room, RoomMember, RoomSettings, User
from synctv.store.pagination import ListQuery, like_pattern, paginate
from synctv.store.users import Conflict


class FenceRejected(Exception):
    """A live-state write carried a stale ownership epoch: another instance owns the room now."""


@dataclass(frozen=True, slots=True)
class RoomRow:
    id: str
    name: str
    creator_id: str
    creator: str
    status: int
    created_at: datetime
    need_password: bool
    hidden: bool


@dataclass(frozen=True, slots=True)
class AccessInfo:
    room: Room
    settings: dict[str, Any]
    creator_role: int | None
    member: RoomMember | None


def settings_dict(row: RoomSettings) -> dict[str, Any]:
    return {key: getattr(row, key) for key in ROOM_SETTING_KEYS}


class RoomStore:
    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        # The fast path for live-state writes (set by Store.open); None: through the ORM session.
        self.writer: LiveStateWriter | None = None
        self.write_observer: Callable[[str, float], None] | None = None
        # Every join asks this; a storm of joins to one room shares one room query and one member query.
        self._access: Batcher[tuple[str, str], None, AccessInfo | None] = Batcher(self._access_many)

    async def create(self, name: str, creator_id: str, hashed_password: bytes, status: RoomStatus,
                     settings: dict[str, Any]) -> Room:
        now = utcnow()
        room = Room(id=new_id(), created_at=now, updated_at=now, name=name, creator_id=creator_id,
                    hashed_password=hashed_password, status=int(status), current="", owner_epoch=0)
        async with self._sessions() as s:
            try:
                s.add(room)
                await s.flush()
                s.add(RoomSettings(id=room.id, updated_at=now, **{**_default_settings(), **settings}))
                s.add(RoomMember(user_id=creator_id, room_id=room.id, created_at=now, updated_at=now,
                                 status=int(MemberStatus.ACTIVE), role=int(MemberRole.CREATOR),
                                 permissions=ALL_PERMISSIONS, admin_permissions=ALL_ADMIN_PERMISSIONS))
                await s.commit()
            except IntegrityError:
                raise Conflict("room already exists") from None
        return room

    async def get(self, room_id: str) -> Room | None:
        async with self._sessions() as s:
            return await s.get(Room, room_id)

    async def count_by_creator(self, creator_id: str) -> int:
        async with self._sessions() as s:
            return int(await s.scalar(select(func.count()).select_from(Room).where(Room.creator_id == creator_id))
                       or 0)

    async def set_status(self, room_id: str, status: RoomStatus) -> bool:
        return await self._update(room_id, status=int(status))

    async def set_password(self, room_id: str, hashed_password: bytes) -> bool:
        return await self._update(room_id, hashed_password=hashed_password)

    async def _update(self, room_id: str, **values: Any) -> bool:
        async with self._sessions() as s:
            res = await s.execute(update(Room).where(Room.id == room_id).values(updated_at=utcnow(), **values))
            await s.commit()
            return bool(res.rowcount)  # type: ignore[attr-defined]

    async def delete(self, room_id: str) -> bool:
        async with self._sessions() as s:
            res = await s.execute(delete(Room).where(Room.id == room_id))
            await s.commit()
            return bool(res.rowcount)  # type: ignore[attr-defined]

    async def access_info(self, room_id: str, user_id: str) -> AccessInfo | None:
        """Everything room-level access checks need: the room, its settings, its creator's role and the caller's
        membership (if any)."""
        return await self._access.get((room_id, user_id), None)

    async def _access_many(self, keys: dict[tuple[str, str], None]
                           ) -> dict[tuple[str, str], AccessInfo | BaseException | None]:
        by_room: dict[str, list[str]] = {}
        for room_id, user_id in keys:
            by_room.setdefault(room_id, []).append(user_id)
        creator = aliased(User)
        rooms_stmt = (select(Room, RoomSettings, creator.role)
                      .join(RoomSettings, RoomSettings.id == Room.id)
                      .outerjoin(creator, creator.id == Room.creator_id)
                      .where(Room.id.in_(list(by_room))))
        async with self._sessions() as s:
            rooms = {row[0].id: row for row in (await s.execute(rooms_stmt)).all()}
            members: dict[tuple[str, str], RoomMember] = {}
            for room_id, user_ids in by_room.items():
                if room_id not in rooms:
                    continue
                for m in await s.scalars(select(RoomMember).where(RoomMember.room_id == room_id,
                                                                  RoomMember.user_id.in_(user_ids))):
                    members[(room_id, m.user_id)] = m
        out: dict[tuple[str, str], AccessInfo | BaseException | None] = {}
        for key in keys:
            row = rooms.get(key[0])
            out[key] = None if row is None else AccessInfo(room=row[0], settings=settings_dict(row[1]),
                                                           creator_role=row[2], member=members.get(key))
        return out

    async def get_settings(self, room_id: str) -> dict[str, Any] | None:
        async with self._sessions() as s:
            row = await s.get(RoomSettings, room_id)
            return settings_dict(row) if row else None

    async def update_settings(self, room_id: str, values: dict[str, Any]) -> dict[str, Any]:
        async with self._sessions() as s:
            await s.execute(update(RoomSettings).where(RoomSettings.id == room_id)
                            .values(updated_at=utcnow(), **values))
            await s.commit()
            row = await s.get(RoomSettings, room_id, populate_existing=True)
            return settings_dict(row) if row else {}

    # --- live state, fenced by the ownership epoch ---

    async def take_ownership(self, room_id: str) -> tuple[int, str, str] | None:
        """Raise the room's epoch (compare-and-set); return (new epoch, current JSON, recent op ids JSON)."""
        async with self._sessions() as s:
            for _ in range(8):
                row = (await s.execute(select(Room.owner_epoch, Room.current, Room.recent_ops)
                                       .where(Room.id == room_id))).first()
                if row is None:
                    return None
                epoch, current, ops = int(row[0]), row[1], row[2]
                res = await s.execute(update(Room).where(Room.id == room_id, Room.owner_epoch == epoch)
                                      .values(owner_epoch=epoch + 1))
                await s.commit()
                if res.rowcount:  # type: ignore[attr-defined]
                    return epoch + 1, current or "", ops or ""
        raise FenceRejected(f"could not take ownership of room {room_id}: epoch keeps changing")

    async def save_current(self, room_id: str, epoch: int, current_json: str, recent_ops: str = "") -> None:
        if self.writer is not None:
            started = time.perf_counter()
            with tracing.span("db UPDATE", {"db.statement": "UPDATE rooms SET current, recent_ops (fenced)"}):
                committed = await self.writer.save(room_id, epoch, current_json, recent_ops)
            if self.write_observer is not None:
                self.write_observer("UPDATE", time.perf_counter() - started)
        else:
            async with self._sessions() as s:
                res = await s.execute(update(Room).where(Room.id == room_id, Room.owner_epoch == epoch)
                                      .values(current=current_json, recent_ops=recent_ops))
                await s.commit()
                committed = bool(res.rowcount)  # type: ignore[attr-defined]
        if not committed:
            raise FenceRejected(f"room {room_id}: ownership epoch {epoch} is stale")

    # --- listing ---

    def _list_stmt(self, q: ListQuery, search_modes: dict[str, Any]) -> Any:
        stmt = (select(Room, User.username, RoomSettings.hidden)
                .join(User, User.id == Room.creator_id)
                .join(RoomSettings, RoomSettings.id == Room.id))
        if q.keyword:
            conds = search_modes.get(q.search)
            stmt = stmt.where(or_(*(conds if conds is not None else [c for v in search_modes.values() for c in v])))
        if q.sort == "name":
            col: Any = Room.name
        else:
            col = Room.created_at
        return stmt.order_by(col.desc() if q.desc else col.asc(), Room.id)

    def _modes(self, keyword: str, with_creator_id: bool = False) -> dict[str, Any]:
        pattern = like_pattern(keyword)
        modes: dict[str, Any] = {
            "name": [Room.name.ilike(pattern, "\\")],
            "creator": [User.username.ilike(pattern, "\\")],
            "id": [Room.id.ilike(pattern, "\\")],
        }
        if with_creator_id:
            modes["creatorId"] = [Room.creator_id == keyword]
        return modes

    async def list(self, q: ListQuery, *, status: RoomStatus | None = None, include_hidden: bool = False,
                   creator_id: str | None = None, admin: bool = False) -> tuple[int, builtins.list[RoomRow]]:
        stmt = self._list_stmt(q, self._modes(q.keyword, with_creator_id=admin))
        if status is not None:
            stmt = stmt.where(Room.status == int(status))
        if not include_hidden:
            stmt = stmt.where(RoomSettings.hidden.is_(False))
        if creator_id is not None:
            stmt = stmt.where(Room.creator_id == creator_id)
        async with self._sessions() as s:
            total, rows = await paginate(s, stmt, q)
        return total, [_row(r[0], r[1], r[2]) for r in rows]

    async def list_joined(self, user_id: str, q: ListQuery) -> tuple[int, builtins.list[tuple[RoomRow, RoomMember]]]:
        stmt = self._list_stmt(q, self._modes(q.keyword))
        stmt = (stmt.add_columns(RoomMember)
                .join(RoomMember, (RoomMember.room_id == Room.id) & (RoomMember.user_id == user_id))
                .where(Room.creator_id != user_id))
        async with self._sessions() as s:
            total, rows = await paginate(s, stmt, q)
        return total, [(_row(r[0], r[1], r[2]), r[3]) for r in rows]

    async def describe(self, room_id: str) -> RoomRow | None:
        async with self._sessions() as s:
            r = (await s.execute(select(Room, User.username, RoomSettings.hidden)
                                 .join(User, User.id == Room.creator_id)
                                 .join(RoomSettings, RoomSettings.id == Room.id)
                                 .where(Room.id == room_id))).first()
            return _row(r[0], r[1], r[2]) if r else None

    async def describe_many(self, room_ids: builtins.list[str]) -> builtins.list[RoomRow]:
        if not room_ids:
            return []
        async with self._sessions() as s:
            rows = (await s.execute(select(Room, User.username, RoomSettings.hidden)
                                    .join(User, User.id == Room.creator_id)
                                    .join(RoomSettings, RoomSettings.id == Room.id)
                                    .where(Room.id.in_(room_ids)))).all()
            return [_row(r[0], r[1], r[2]) for r in rows]


def _row(room: Room, creator: str, hidden: bool) -> RoomRow:
    return RoomRow(id=room.id, name=room.name, creator_id=room.creator_id, creator=creator, status=room.status,
                   created_at=room.created_at, need_password=bool(room.hashed_password), hidden=bool(hidden))


def _default_settings() -> dict[str, Any]:
    return {
        "hidden": False, "disable_join_new_user": False, "join_need_review": False,
        "user_default_permissions": 193, "disable_guest": False, "guest_permissions": 0,
        "can_get_movie_list": True, "can_add_movie": True, "can_delete_movie": True, "can_edit_movie": True,
        "can_set_current_movie": True, "can_set_current_status": True, "can_send_chat_message": True,
    }
