"""`/api/room`: discovery, creation, joining, room info and room settings."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from synctv.api.auth import (
    load_room,
    membership,
    request_room_id,
    require_user,
    room_access,
    room_admin_access,
)
from synctv.api.bruteforce import Attempt, verify
from synctv.api.context import services
from synctv.api.requests import field_bool, field_id, field_str, json_object, list_query, page_query, validated
from synctv.api.responses import bad_request, forbidden, no_content, not_found, ok
from synctv.api.routes_user import joined_status
from synctv.api.routing import LIST_QUERY, Routes
from synctv.api.views import check_room, room_list_item
from synctv.auth.passwords import check_password, hash_password
from synctv.core import commands as c
from synctv.core import validation
from synctv.core.permissions import (
    GUEST_USER_ID,
    AdminPerm,
    MemberStatus,
    RoomStatus,
    effective_permissions,
)
from synctv.core.playlist import MAX_NEXT_DELAY_S, PlayMode
from synctv.services import Services
from synctv.store.ids import to_ms
from synctv.store.models import ROOM_SETTING_KEYS

routes = Routes("room")


def _enabled_guest(svc: Services, settings: dict[str, Any], need_password: bool) -> bool:
    return not settings.get("disable_guest") and svc.store.settings.bool("enable_guest") and not need_password


@routes.get("/api/room/check", "Public facts about a room (works for password rooms)", query=("roomId",))
async def check(request: web.Request) -> web.Response:
    svc = services(request)
    room_id = request_room_id(request)
    row = await svc.store.rooms.describe(room_id)
    if row is None:
        raise not_found("room not found")
    settings = await svc.store.rooms.get_settings(room_id) or {}
    viewers = (await svc.router.viewer_counts([room_id])).get(room_id, 0)
    return ok(check_room(row, viewers, _enabled_guest(svc, settings, row.need_password)))


@routes.get("/api/room/hot", "Rooms with the most viewers right now", query=("page", "max"))
async def hot(request: web.Request) -> web.Response:
    svc = services(request)
    q = page_query(request)
    counts = dict(await svc.router.hot_rooms())
    rows = [r for r in await svc.store.rooms.describe_many(list(counts))
            if r.status == RoomStatus.ACTIVE and not r.hidden]
    rows.sort(key=lambda r: (-counts.get(r.id, 0), r.name))
    page = rows[q.offset:q.offset + q.max]
    return ok({"total": len(rows), "list": [dict(room_list_item(r, counts.get(r.id, 0)), status=0) for r in page]})


@routes.get("/api/room/list", "Active, visible rooms", query=LIST_QUERY)
async def room_list(request: web.Request) -> web.Response:
    svc = services(request)
    q = list_query(request, searches=("all", "name", "creator", "id"))
    total, rows = await svc.store.rooms.list(q, status=RoomStatus.ACTIVE)
    counts = await svc.router.viewer_counts([r.id for r in rows])
    return ok({"total": total, "list": [room_list_item(r, counts.get(r.id, 0)) for r in rows]})


@routes.post("/api/room/create", "Create a room", auth="user",
             body={"roomName": "string", "password": "string", "settings": "object"}, status=201)
async def create(request: web.Request) -> web.Response:
    svc = services(request)
    user = await require_user(request)
    body = await json_object(request)
    name = validated(validation.room_name, field_str(body, "roomName"))
    password = validated(validation.password, field_str(body, "password", required=False), allow_empty=True)
    raw_settings = body.get("settings") or {}
    if not isinstance(raw_settings, dict):
        raise bad_request("settings must be an object")
    hidden = field_bool(raw_settings, "hidden")
    s = svc.store.settings
    status = RoomStatus.ACTIVE
    if not user.is_admin:
        if s.bool("disable_create_room"):
            raise bad_request("create room is disabled")
        if s.bool("room_must_need_pwd") and not password:
            raise bad_request("room must have a password")
        if s.bool("room_must_no_need_pwd") and password:
            raise bad_request("room must not have a password")
        limit = s.int("user_max_room_count")
        if limit > 0 and await svc.store.rooms.count_by_creator(user.id) >= limit:
            raise bad_request("room count exceeds limit")
        if s.bool("create_room_need_review"):
            status = RoomStatus.PENDING
    hashed = await hash_password(password) if password else b""
    room = await svc.store.rooms.create(name, user.id, hashed, status, {"hidden": hidden})
    return ok({"roomId": room.id, "status": room.status}, status=201)


@routes.post("/api/room/login", "Join a room (password rooms need the password)", auth="user",
             body={"roomId": "string", "password": "string"}, status=200)
async def room_login(request: web.Request) -> web.Response:
    svc = services(request)
    user = await require_user(request)
    body = await json_object(request)
    room_id = field_id(body, "roomId", "room ID")
    password = field_str(body, "password", required=False)
    room = await load_room(svc, room_id)
    if room.status != RoomStatus.ACTIVE and not user.is_admin:
        raise forbidden("room is not active")
    settings = await svc.store.rooms.get_settings(room_id) or {}
    row = await svc.store.members.get(room_id, user.id)
    if row is None:
        if room.hashed_password and not user.is_admin and \
                not await verify(Attempt(request, "room-password", room_id), password, room.hashed_password):
            raise forbidden("password error")
        if settings.get("disable_join_new_user") and not user.is_admin:
            raise forbidden("room does not accept new members")
        review = bool(settings.get("join_need_review")) and not user.is_admin
        row = await svc.store.members.get_or_create(
            room_id, user.id, status=MemberStatus.PENDING if review else MemberStatus.ACTIVE,
            permissions=int(settings.get("user_default_permissions", 193)))
    member = membership(row)
    perms = effective_permissions(user.subject, room.creator_id, member, settings)
    return ok({"status": row.status, "role": row.role, "permissions": perms,
               "adminPermissions": row.admin_permissions if row.role >= 2 or user.is_admin else 0})


@routes.get("/api/room/joined", "Whether I joined a room", auth="user", query=("roomId",))
async def room_joined(request: web.Request) -> web.Response:
    return await joined_status(request, await require_user(request))


def _me(ctx: Any) -> dict[str, Any]:
    member = ctx.member
    perms = effective_permissions(ctx.user.subject, ctx.room.creator_id, member, ctx.settings)
    admin_perms = 0xFFFFFFFF if (ctx.user.is_admin or ctx.is_creator) else (member.admin_permissions if member else 0)
    return {"permissions": perms, "adminPermissions": admin_perms,
            "role": int(member.role) if member else (3 if ctx.is_creator else 1),
            "status": int(member.status) if member else int(MemberStatus.ACTIVE)}


@routes.get("/api/room/me", "My membership in the room", auth="room")
async def room_me(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_access(request)
    row = None if ctx.user.is_guest else await svc.store.members.get(ctx.room_id, ctx.user.id)
    join_at = to_ms(row.created_at) if row else to_ms(ctx.room.created_at)
    return ok({"userId": ctx.user.id, "roomId": ctx.room_id, "joinAt": join_at, **_me(ctx)})


@routes.get("/api/room/info", "Room details with my membership", auth="room")
async def room_info(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_access(request)
    row = await svc.store.rooms.describe(ctx.room_id)
    if row is None:
        raise not_found("room not found")
    mrow = None if ctx.user.is_guest else await svc.store.members.get(ctx.room_id, ctx.user.id)
    member = {"id": ctx.user.id, "username": ctx.user.username,
              "joinAt": to_ms(mrow.created_at) if mrow else 0, **_me(ctx)}
    return ok({"id": row.id, "name": row.name, "needPassword": row.need_password, "creator": row.creator,
               "creatorId": row.creator_id, "createdAt": to_ms(row.created_at), "status": row.status,
               "enabledGuest": _enabled_guest(svc, ctx.settings, row.need_password), "member": member})


@routes.get("/api/room/settings", "Room settings", auth="room!g")
async def room_settings(request: web.Request) -> web.Response:
    ctx = await room_access(request, allow_guest=False)
    return ok(ctx.settings)


@routes.post("/api/room/pwd/check", "Check a room password", auth="room!g", body={"password": "string"},
             status=200)
async def check_pwd(request: web.Request) -> web.Response:
    ctx = await room_access(request, allow_guest=False)
    password = field_str(await json_object(request), "password")
    valid = bool(ctx.room.hashed_password) and await verify(Attempt(request, "room-password", ctx.room_id), password,
                                                            ctx.room.hashed_password)
    return ok({"valid": valid or (not ctx.room.hashed_password and not password)})


@routes.get("/api/room/admin/settings", "Room settings (room admins)", auth="room-admin")
async def admin_settings(request: web.Request) -> web.Response:
    ctx = await room_admin_access(request)
    return ok(ctx.settings)


def parse_room_settings(body: dict[str, Any]) -> dict[str, Any]:
    if not body:
        raise bad_request("no settings given")
    values: dict[str, Any] = {}
    for key, value in body.items():
        typ = ROOM_SETTING_KEYS.get(key)
        if typ is None:
            raise bad_request(f"unknown room setting: {key!s:.64}")
        if typ is bool:
            if not isinstance(value, bool):
                raise bad_request(f"{key} must be a boolean")
        else:
            values[key] = validated(validation.uint32, value, key)
            bound = _BOUNDED_SETTINGS.get(key)
            if bound is not None and values[key] > bound:
                raise bad_request(f"{key} must be between 0 and {bound}")
            continue
        values[key] = value
    return values


# Integer room settings that are not permission bits: their largest value.
_BOUNDED_SETTINGS = {"play_mode": max(PlayMode), "play_next_delay": MAX_NEXT_DELAY_S}


@routes.post("/api/room/admin/settings", "Change room settings", auth="room-admin",
             body={"<setting>": "boolean|integer"})
async def set_admin_settings(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_admin_access(request, AdminPerm.SET_ROOM_SETTINGS)
    values = parse_room_settings(await json_object(request))
    await svc.store.rooms.update_settings(ctx.room_id, values)
    await svc.router.submit(ctx.room_id, c.Invalidate(c.CacheKind.SETTINGS))
    if values.get("disable_guest"):
        await svc.router.submit(ctx.room_id, c.KickUser(GUEST_USER_ID, "guests are disabled"))
    return no_content()


@routes.post("/api/room/admin/members/apply-default-permissions",
             "Give every plain member the room's current default permissions (admins and the creator keep theirs)",
             auth="room-admin", status=200)
async def apply_default_permissions(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_admin_access(request, AdminPerm.SET_USER_PERMISSION)
    bits = int(ctx.settings.get("user_default_permissions", 0))
    changed = await svc.store.members.set_all_member_permissions(ctx.room_id, bits)
    # Reloading the room's settings also drops the owner's cached memberships.
    await svc.router.submit(ctx.room_id, c.Invalidate(c.CacheKind.SETTINGS))
    return ok({"updated": changed, "permissions": bits})


@routes.post("/api/room/admin/chat/clear", "Delete the room's chat history", auth="room-admin")
async def admin_clear_chat(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_admin_access(request, AdminPerm.SET_ROOM_SETTINGS)
    await svc.store.chat.clear(ctx.room_id)
    return no_content()


@routes.post("/api/room/admin/delete", "Delete the room", auth="room-admin")
async def admin_delete(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_admin_access(request, AdminPerm.DELETE_ROOM)
    await svc.store.rooms.delete(ctx.room_id)
    await svc.router.close_room(ctx.room_id, "room deleted")
    return no_content()


@routes.post("/api/room/admin/pwd", "Set or remove (empty) the room password", auth="room-admin",
             body={"password": "string"})
async def admin_pwd(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_admin_access(request, AdminPerm.SET_ROOM_PASSWORD)
    password = validated(validation.password, field_str(await json_object(request), "password"), allow_empty=True)
    s = svc.store.settings
    if not ctx.user.is_admin:
        if s.bool("room_must_need_pwd") and not password:
            raise bad_request("room must have a password")
        if s.bool("room_must_no_need_pwd") and password:
            raise bad_request("room must not have a password")
    if password and ctx.room.hashed_password and await check_password(password, ctx.room.hashed_password):
        raise bad_request("password is the same")
    await svc.store.rooms.set_password(ctx.room_id, await hash_password(password) if password else b"")
    return no_content()

