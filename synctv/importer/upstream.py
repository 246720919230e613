"""Import an upstream SyncTV (Go) database into this server's database.

Users keep their bcrypt hashes (same algorithm and format, so their passwords keep working) and their ids, so
rooms, memberships and movies keep pointing at them. Every row is inserted only if its primary key is not
present yet: running the import again inserts nothing. Rows that cannot be taken over are listed in the report
with the reason. All rows are written in one transaction (all or nothing); site settings follow in a second one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from synctv.core import movies as movie_rules
from synctv.core import playback, validation
from synctv.core.permissions import GUEST_USER_ID, MemberRole, MemberStatus, Role, RoomStatus
from synctv.core.site_settings import SettingError, all_defs, coerce
from synctv.importer.source import (
    ROOM_SETTING_COLUMNS,
    VENDOR_TABLES,
    UpstreamSource,
    as_bool,
    as_bytes,
    as_datetime,
    as_int,
    as_json,
    as_text,
)
from synctv.store import Store
from synctv.store.database import sessionmaker
from synctv.store.ids import utcnow
from synctv.store.models import Movie, Room, RoomMember, RoomSettings, User, UserProvider

KINDS = ("users", "providers", "rooms", "members", "movies", "settings")


@dataclass
class Report:
    imported: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    present: dict[str, int] = field(default_factory=lambda: dict.fromkeys(KINDS, 0))
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, which, why)
    notes: list[str] = field(default_factory=list)

    def skip(self, kind: str, which: str, why: str) -> None:
        self.skipped.append((kind, which, why))

    @property
    def changed(self) -> int:
        return sum(self.imported.values())

    def lines(self) -> list[str]:
        out = [f"{kind}: {self.imported[kind]} imported, {self.present[kind]} already present"
               + (f", {n} skipped" if (n := sum(1 for k, _, _ in self.skipped if k == kind)) else "")
               for kind in KINDS]
        out += [f"skipped {kind} {which}: {why}" for kind, which, why in self.skipped]
        out += [f"note: {note}" for note in self.notes]
        return out


def _created(row: dict[str, Any], now: datetime) -> tuple[datetime, datetime]:
    created = as_datetime(row.get("created_at")) or now
    return created, as_datetime(row.get("updated_at")) or created


def _known(value: int, enum: type[Role] | type[RoomStatus] | type[MemberStatus] | type[MemberRole]) -> bool:
    return value in {int(v) for v in enum}


class _Import:
    def __init__(self, source: UpstreamSource, s: AsyncSession, report: Report) -> None:
        self.source = source
        self.s = s
        self.report = report
        self.now = utcnow()
        self.users: set[str] = set()  # user ids present here after the import (imported or already there)
        self.rooms: set[str] = set()
        self.movies: set[str] = set()

    async def _existing(self, *columns: Any) -> set[Any]:
        rows = await self.s.execute(select(*columns))
        return {tuple(r) if len(columns) > 1 else r[0] for r in rows}

    async def users_(self) -> None:
        r = self.report
        ids = await self._existing(User.id)
        names = {n.lower(): i for i, n in await self.s.execute(select(User.id, User.username))}
        emails = {e.lower() for e in await self._existing(User.email) if e}
        for row in await self.source.rows("users"):
            uid = as_text(row["id"]).lower()
            name = as_text(row["username"])
            label = f"{name} ({uid})"
            if uid == GUEST_USER_ID:
                self.users.add(uid)  # this server has its own built-in guest with the same id
                continue
            if uid in ids:
                r.present["users"] += 1
                self.users.add(uid)
                continue
            if not validation.is_id(uid):
                r.skip("users", label, "id is not 32 hex characters")
                continue
            try:
                validation.username(name)
            except validation.ValidationError as exc:
                r.skip("users", label, f"username not accepted here: {exc}")
                continue
            if name.lower() in names:
                r.skip("users", label, f"username already taken by user {names[name.lower()]} on this server")
                continue
            role = as_int(row["role"])
            if not _known(role, Role):
                r.skip("users", label, f"unknown role {role}")
                continue
            hashed = as_bytes(row["hashed_password"])
            if not hashed.startswith((b"$2a$", b"$2b$", b"$2y$")):
                r.skip("users", label, "password hash is not bcrypt")
                continue
            email: str | None = as_text(row.get("email")).strip() or None
            if email is not None and email.lower() in emails:
                r.notes.append(f"user {label}: e-mail {email} already belongs to another user here; imported "
                               f"without it")
                email = None
            created, updated = _created(row, self.now)
            self.s.add(User(id=uid, created_at=created, updated_at=updated, username=name, email=email,
                            hashed_password=hashed, role=role,
                            registered_by_provider=as_bool(row.get("registered_by_provider")),
                            registered_by_email=as_bool(row.get("registered_by_email")) and email is not None))
            names[name.lower()] = uid
            if email:
                emails.add(email.lower())
            self.users.add(uid)
            r.imported["users"] += 1
        await self.s.flush()

    async def providers(self) -> None:
        r = self.report
        keys = await self._existing(UserProvider.provider, UserProvider.provider_user_id)
        bound = await self._existing(UserProvider.provider, UserProvider.user_id)
        for row in await self.source.rows("user_providers"):
            provider, pid, uid = as_text(row["provider"]), as_text(row["provider_user_id"]), as_text(row["user_id"])
            label = f"{provider}:{pid}"
            if (provider, pid) in keys:
                r.present["providers"] += 1
                continue
            if uid not in self.users:
                r.skip("providers", label, f"its user {uid} was not imported")
                continue
            if (provider, uid) in bound:
                r.skip("providers", label, f"user {uid} is already bound to another {provider} account here")
                continue
            self.s.add(UserProvider(provider=provider, provider_user_id=pid, user_id=uid,
                                    created_at=_created(row, self.now)[0]))
            keys.add((provider, pid))
            bound.add((provider, uid))
            r.imported["providers"] += 1
        await self.s.flush()

    async def rooms_(self) -> None:
        r = self.report
        ids = await self._existing(Room.id)
        names = {n.lower(): i for i, n in await self.s.execute(select(Room.id, Room.name))}
        settings = {as_text(row["id"]): row for row in await self.source.rows("room_settings")}
        for row in await self.source.rows("rooms"):
            rid, name, creator = as_text(row["id"]).lower(), as_text(row["name"]), as_text(row["creator_id"])
            label = f"{name} ({rid})"
            if rid in ids:
                r.present["rooms"] += 1
                self.rooms.add(rid)
                continue
            if creator not in self.users or creator == GUEST_USER_ID:
                r.skip("rooms", label, f"its creator {creator} was not imported")
                continue
            if name.lower() in names:
                r.skip("rooms", label, f"room name already taken by room {names[name.lower()]} on this server")
                continue
            try:
                validation.room_name(name)
            except validation.ValidationError as exc:
                r.skip("rooms", label, f"room name not accepted here: {exc}")
                continue
            status = as_int(row["status"])
            if not _known(status, RoomStatus):
                r.skip("rooms", label, f"unknown status {status}")
                continue
            current_raw = as_json(row.get("current"), None)
            current = ""
            if current_raw is not None:
                # Re-encoded through this server's reader, so what is stored is what a room owner can load.
                current = json.dumps(playback.current_to_json(playback.current_from_json(current_raw)),
                                     separators=(",", ":"))
            created, updated = _created(row, self.now)
            self.s.add(Room(id=rid, created_at=created, updated_at=updated, name=name, creator_id=creator,
                            hashed_password=as_bytes(row["hashed_password"]), status=status, current=current,
                            owner_epoch=0, recent_ops=""))
            values: dict[str, Any] = {}
            srow = settings.get(rid)
            if srow is None:
                r.notes.append(f"room {label} had no settings row; it gets the default settings")
            else:
                for key in ROOM_SETTING_COLUMNS:
                    if key in srow and srow[key] is not None:
                        values[key] = as_int(srow[key]) if key.endswith("permissions") else as_bool(srow[key])
            self.s.add(RoomSettings(id=rid, updated_at=updated, **values))
            names[name.lower()] = rid
            self.rooms.add(rid)
            r.imported["rooms"] += 1
        await self.s.flush()

    async def members(self) -> None:
        r = self.report
        keys = await self._existing(RoomMember.user_id, RoomMember.room_id)
        for row in await self.source.rows("room_members"):
            uid, rid = as_text(row["user_id"]), as_text(row["room_id"])
            label = f"{uid} of room {rid}"
            if (uid, rid) in keys:
                r.present["members"] += 1
                continue
            if uid == GUEST_USER_ID:
                r.skip("members", label, "the guest's rights in a room come from its guest_permissions setting")
                continue
            if rid not in self.rooms:
                r.skip("members", label, "its room was not imported")
                continue
            if uid not in self.users:
                r.skip("members", label, "its user was not imported")
                continue
            status, role = as_int(row["status"]), as_int(row["role"])
            if not _known(status, MemberStatus) or not _known(role, MemberRole):
                r.skip("members", label, f"unknown status {status} or role {role}")
                continue
            created, updated = _created(row, self.now)
            self.s.add(RoomMember(user_id=uid, room_id=rid, created_at=created, updated_at=updated, status=status,
                                  role=role, permissions=as_int(row["permissions"]) & 0xFFFFFFFF,
                                  admin_permissions=as_int(row["admin_permissions"]) & 0xFFFFFFFF))
            keys.add((uid, rid))
            r.imported["members"] += 1
        await self.s.flush()

    async def movies_(self) -> None:
        r = self.report
        ids = await self._existing(Movie.id)
        pending = [row for row in await self.source.rows("movies")]
        by_id = {as_text(row["id"]): row for row in pending}
        # Parents before children (the parent is a foreign key); a folder that is skipped skips its children.
        done: set[str] = set()
        order: list[dict[str, Any]] = []

        def visit(row: dict[str, Any], depth: int = 0) -> None:
            mid = as_text(row["id"])
            if mid in done or depth > 64:
                return
            parent = as_text(row.get("base_parent_id"))
            if parent and parent in by_id:
                visit(by_id[parent], depth + 1)
            done.add(mid)
            order.append(row)

        for row in pending:
            visit(row)
        for row in order:
            mid, rid, creator = as_text(row["id"]), as_text(row["room_id"]), as_text(row["creator_id"])
            label = f"{as_text(row['base_name'])!r} ({mid})"
            parent = as_text(row.get("base_parent_id"))
            if mid in ids:
                r.present["movies"] += 1
                self.movies.add(mid)
                continue
            if rid not in self.rooms:
                r.skip("movies", label, "its room was not imported")
                continue
            if creator not in self.users:
                r.skip("movies", label, f"its creator {creator} was not imported")
                continue
            if parent and parent not in self.movies:
                r.skip("movies", label, f"its folder {parent} was not imported")
                continue
            vendor = as_text(row.get("base_vendor_info_vendor"))
            if vendor:
                r.skip("movies", label, f"{vendor} movies are not available on this server")
                continue
            base_in = {
                "url": as_text(row["base_url"]), "name": as_text(row["base_name"]),
                "type": as_text(row.get("base_type")), "live": as_bool(row.get("base_live")),
                "proxy": as_bool(row.get("base_proxy")), "rtmpSource": as_bool(row.get("base_rtmp_source")),
                "headers": as_json(row.get("base_headers"), {}), "subtitles": as_json(row.get("base_subtitles"), {}),
                "moreSources": as_json(row.get("base_more_sources"), []), "danmu": as_text(row.get("base_danmu")),
                "streamDanmu": as_text(row.get("base_stream_danmu")), "parentId": parent,
                "isFolder": as_bool(row.get("base_is_folder")),
            }
            try:
                base = movie_rules.normalize(base_in, proxy=movie_rules.ProxyRules(movie_proxy=True, live_proxy=True))
            except validation.ValidationError as exc:
                r.skip("movies", label, str(exc))
                continue
            created, updated = _created(row, self.now)
            self.s.add(Movie(id=mid, created_at=created, updated_at=updated, room_id=rid, creator_id=creator,
                             position=as_int(row["position"]), parent_id=parent or None, name=base["name"],
                             url=base["url"], is_folder=base["isFolder"],
                             base=json.dumps(base, separators=(",", ":"))))
            self.movies.add(mid)
            r.imported["movies"] += 1
        await self.s.flush()


async def _settings(source: UpstreamSource, store: Store, report: Report, dry_run: bool) -> None:
    current = store.settings.all()
    defs = all_defs(current)
    changes: dict[str, object] = {}
    for row in await source.rows("settings"):
        name, value = as_text(row["name"]), as_text(row["value"])
        d = defs.get(name)
        if d is None:
            report.skip("settings", name, "not a setting of this server")
            continue
        if d.read_only:
            continue  # database_version, version: this server's own
        try:
            coerced = coerce(d, value)
        except SettingError as exc:
            report.skip("settings", name, str(exc))
            continue
        if coerced == current.get(name):
            report.present["settings"] += 1
        else:
            changes[name] = coerced
    if not changes:
        return
    if not dry_run:
        try:
            await store.settings.set_many(changes)
        except SettingError as exc:
            for name in changes:
                report.skip("settings", name, str(exc))
            return
    report.imported["settings"] += len(changes)


async def run_import(source: UpstreamSource, store: Store, *, dry_run: bool = False) -> Report:
    report = Report()
    async with sessionmaker(store.engine)() as s:
        job = _Import(source, s, report)
        await job.users_()
        await job.providers()
        await job.rooms_()
        await job.members()
        await job.movies_()
        if dry_run:
            await s.rollback()
        else:
            await s.commit()
    await _settings(source, store, report, dry_run)
    for table in VENDOR_TABLES:
        n = await source.count(table)
        if n:
            report.notes.append(f"{table}: {n} row(s) not imported (vendor accounts and backends are not "
                                f"available on this server)")
    return report
