"""`/api/admin`: site administration (admins; some actions root only).

Hierarchy (upstream §1.10): nobody acts on another root; only root acts on admins or their rooms; nobody bans
or deletes themselves; creating a root user requires root. Unlike upstream, `GET /api/admin/room/members` works
and a user's joined rooms are listed at `GET /api/admin/user/joined`.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from synctv.api.auth import UserCtx, load_room, require_admin, require_root
from synctv.api.context import services
from synctv.api.requests import field_id, field_str, json_object, list_query, query_filter, query_id, validated
from synctv.api.responses import bad_request, forbidden, no_content, not_found, ok
from synctv.api.routes_user import delete_user_and_rooms
from synctv.api.routing import LIST_QUERY, Routes
from synctv.api.views import room_list_item, room_member, user_info
from synctv.auth.passwords import hash_password
from synctv.core import commands as c
from synctv.core import validation
from synctv.core.permissions import GUEST_USER_ID, MemberRole, MemberStatus, Role, RoomStatus
from synctv.core.site_settings import SettingDef, SettingError, SettingValue
from synctv.rooms.actor import RoomUnavailable
from synctv.services import Services
from synctv.store.models import Room, User
from synctv.store.pagination import ListQuery
from synctv.store.rooms import RoomRow

routes = Routes("admin")

ROLE_NAMES: dict[str, Role] = {"banned": Role.BANNED, "pending": Role.PENDING, "user": Role.USER,
                               "admin": Role.ADMIN, "root": Role.ROOT}
_ROOM_STATUS = {"active": RoomStatus.ACTIVE, "pending": RoomStatus.PENDING, "banned": RoomStatus.BANNED}
_MEMBER_STATUS = {"active": MemberStatus.ACTIVE, "pending": MemberStatus.PENDING, "banned": MemberStatus.BANNED}
_MEMBER_ROLE = {"admin": MemberRole.ADMIN, "member": MemberRole.MEMBER, "creator": MemberRole.CREATOR}
_ID_BODY = {"id": "string"}


# --- helpers ---


async def _load_user(svc: Services, user_id: str) -> User:
    user = await svc.store.users.get(user_id)
    if user is None:
        raise not_found("user not found")
    if user.id == GUEST_USER_ID:
        raise bad_request("the guest user cannot be managed")
    return user


def _guard_user(me: UserCtx, target: User, action: str, *, allow_self: bool) -> None:
    """Hierarchy: never on another root; admins only by root; bans and deletions never on oneself."""
    if target.id == me.id:
        if not allow_self:
            raise bad_request(f"cannot {action} yourself")
        return
    if target.role >= Role.ROOT:
        raise forbidden(f"cannot {action} a root user")
    if target.role >= Role.ADMIN and me.role < Role.ROOT:
        raise forbidden(f"only root can {action} an admin")


async def _guard_room(svc: Services, me: UserCtx, room: Room, action: str) -> None:
    if room.creator_id == me.id:
        return
    creator = await svc.store.users.get(room.creator_id)
    if creator is None:
        return
    if creator.role >= Role.ROOT:
        raise forbidden(f"cannot {action} a root user's room")
    if creator.role >= Role.ADMIN and me.role < Role.ROOT:
        raise forbidden(f"only root can {action} an admin's room")


def _parse_role(value: Any) -> Role:
    """A role as a number (1..5) or a name; missing or 0 means a normal user."""
    if value is None or value == 0 or value == "":
        return Role.USER
    if isinstance(value, str):
        role = ROLE_NAMES.get(value.lower())
        if role is None:
            raise bad_request("invalid role")
        return role
    return Role(validated(validation.role_value, value))


async def _kick_everywhere(svc: Services, user_id: str, reason: str) -> None:
    """Close the user's live connections on this instance (other instances hear about it via invalidation)."""
    for room_id in svc.hub.rooms():
        if svc.hub.user_connections(room_id, user_id):
            try:
                await svc.router.submit(room_id, c.KickUser(user_id, reason))
            except RoomUnavailable:
                pass


async def _close_rooms_of(svc: Services, user_id: str, reason: str) -> None:
    _, rows = await svc.store.rooms.list(ListQuery(max=10_000), include_hidden=True, creator_id=user_id)
    for row in rows:
        await svc.router.close_room(row.id, reason)


async def _rooms_page(svc: Services, total: int, rows: list[RoomRow]) -> web.Response:
    counts = await svc.router.viewer_counts([r.id for r in rows])
    return ok({"total": total, "list": [room_list_item(r, counts.get(r.id, 0)) for r in rows]})


# --- settings ---


def _grouped(values: dict[str, SettingValue], defs: dict[str, SettingDef],
             want: str | None = None) -> dict[str, dict[str, SettingValue]]:
    out: dict[str, dict[str, SettingValue]] = {}
    for name, d in defs.items():
        if want is None or d.group == want or (want == "oauth2" and d.group.startswith("oauth2_")):
            out.setdefault(d.group, {})[name] = values[name]
    return out


@routes.get("/api/admin/settings", "All site settings by group", auth="admin")
async def get_settings(request: web.Request) -> web.Response:
    await require_admin(request)
    settings = services(request).store.settings
    return ok(_grouped(settings.all(), settings.definitions()))


@routes.get("/api/admin/settings/{group}", "One group of site settings (`oauth2`: every oauth2_* group)",
            auth="admin")
async def get_settings_group(request: web.Request) -> web.Response:
    await require_admin(request)
    settings = services(request).store.settings
    grouped = _grouped(settings.all(), settings.definitions(), request.match_info["group"])
    if not grouped:
        raise bad_request("group not found")
    return ok(grouped)


@routes.post("/api/admin/settings", "Change site settings ({name: value, ...}; all or nothing)", auth="admin",
             body={"<name>": "any"})
async def set_settings(request: web.Request) -> web.Response:
    svc = services(request)
    await require_admin(request)
    body = await json_object(request)
    try:
        await svc.store.settings.set_many(body)
    except SettingError as exc:
        raise bad_request(str(exc)) from None
    await svc.invalidate("settings")
    return no_content()


# --- users ---


@routes.post("/api/admin/user/add", "Create a user (an admin or root user needs root)", auth="admin",
             body={"username": "string", "password": "string", "role": "integer"})
async def user_add(request: web.Request) -> web.Response:
    svc = services(request)
    me = await require_admin(request)
    body = await json_object(request)
    username = validated(validation.username, field_str(body, "username"))
    password = validated(validation.password, field_str(body, "password"),
                         min_length=svc.store.settings.int(validation.PASSWORD_MIN_LENGTH))
    role = _parse_role(body.get("role"))
    if role >= Role.ADMIN and me.role < Role.ROOT:  # as granting admin elsewhere: root only
        raise forbidden("only root can add an admin or root user")
    await svc.store.users.create(username, await hash_password(password), role)
    return no_content()


@routes.post("/api/admin/user/delete", "Delete a user with their rooms", auth="admin", body=_ID_BODY)
async def user_delete(request: web.Request) -> web.Response:
    svc = services(request)
    me = await require_admin(request)
    target = await _load_user(svc, field_id(await json_object(request), "id", "user id"))
    _guard_user(me, target, "delete", allow_self=False)
    await _kick_everywhere(svc, target.id, "user deleted")
    await delete_user_and_rooms(svc, target.id)
    return no_content()


@routes.post("/api/admin/user/password", "Set a user's password (their tokens stop working)", auth="admin",
             body={"id": "string", "password": "string"})
async def user_password(request: web.Request) -> web.Response:
    svc = services(request)
    me = await require_admin(request)
    body = await json_object(request)
    user_id = field_id(body, "id", "user id")
    password = validated(validation.password, field_str(body, "password"),
                         min_length=svc.store.settings.int(validation.PASSWORD_MIN_LENGTH))
    target = await _load_user(svc, user_id)
    _guard_user(me, target, "change the password of", allow_self=True)
    await svc.store.users.set_password(target.id, await hash_password(password))
    await svc.invalidate("user", target.id)
    return no_content()


@routes.post("/api/admin/user/username", "Set a user's username", auth="admin",
             body={"id": "string", "username": "string"})
async def user_username(request: web.Request) -> web.Response:
    svc = services(request)
    me = await require_admin(request)
    body = await json_object(request)
    user_id = field_id(body, "id", "user id")
    username = validated(validation.username, field_str(body, "username"))
    target = await _load_user(svc, user_id)
    _guard_user(me, target, "change the username of", allow_self=True)
    if username != target.username:
        await svc.store.users.set_username(target.id, username)
        await svc.invalidate("user", target.id)
    return no_content()


@routes.get("/api/admin/user/list", "Users (filter by role; search all|name|id)", auth="admin",
            query=(*LIST_QUERY, "role"))
async def user_list(request: web.Request) -> web.Response:
    svc = services(request)
    await require_admin(request)
    q = list_query(request)
    role = query_filter(request, "role", ROLE_NAMES)
    total, users = await svc.store.users.list(q, role=role)
    return ok({"total": total, "list": [user_info(u, with_email=False) for u in users]})


@routes.post("/api/admin/user/approve", "Approve a pending user", auth="admin", body=_ID_BODY)
async def user_approve(request: web.Request) -> web.Response:
    svc = services(request)
    await require_admin(request)
    target = await _load_user(svc, field_id(await json_object(request), "id", "user id"))
    if target.role != Role.PENDING:
        raise bad_request("user is not pending")
    await svc.store.users.set_role(target.id, Role.USER)
    await svc.invalidate("user", target.id)
    return no_content()


@routes.post("/api/admin/user/ban", "Ban a user (closes their connections and their rooms)", auth="admin",
             body=_ID_BODY)
async def user_ban(request: web.Request) -> web.Response:
    svc = services(request)
    me = await require_admin(request)
    target = await _load_user(svc, field_id(await json_object(request), "id", "user id"))
    _guard_user(me, target, "ban", allow_self=False)
    if target.role == Role.BANNED:
        raise bad_request("user is already banned")
    await svc.store.users.set_role(target.id, Role.BANNED)
    await _kick_everywhere(svc, target.id, "user account has been banned")
    await _close_rooms_of(svc, target.id, "room creator has been banned")
    await svc.invalidate("user", target.id)
    return no_content()


@routes.post("/api/admin/user/unban", "Unban a user", auth="admin", body=_ID_BODY)
async def user_unban(request: web.Request) -> web.Response:
    svc = services(request)
    await require_admin(request)
    target = await _load_user(svc, field_id(await json_object(request), "id", "user id"))
    if target.role != Role.BANNED:
        raise bad_request("user is not banned")
    await svc.store.users.set_role(target.id, Role.USER)
    await svc.invalidate("user", target.id)
    return no_content()


@routes.get("/api/admin/user/rooms", "Rooms a user created", auth="admin", query=("id", *LIST_QUERY, "status"))
async def user_rooms(request: web.Request) -> web.Response:
    svc = services(request)
    await require_admin(request)
    user_id = query_id(request, "id")
    q = list_query(request)
    status = query_filter(request, "status", _ROOM_STATUS)
    total, rows = await svc.store.rooms.list(q, status=status, include_hidden=True, creator_id=user_id)
    return await _rooms_page(svc, total, rows)


@routes.get("/api/admin/user/joined", "Rooms a user joined (not their own)", auth="admin",
            query=("id", *LIST_QUERY))
async def user_joined(request: web.Request) -> web.Response:
    svc = services(request)
    await require_admin(request)
    user_id = query_id(request, "id")
    q = list_query(request)
    total, rows = await svc.store.rooms.list_joined(user_id, q)
    counts = await svc.router.viewer_counts([r.id for r, _ in rows])
    items = [dict(room_list_item(r, counts.get(r.id, 0)), memberStatus=m.status, memberRole=m.role)
             for r, m in rows]
    return ok({"total": total, "list": items})


# --- rooms ---


@routes.post("/api/admin/room/password", "Set a room's password (non-empty)", auth="admin",
             body={"id": "string", "password": "string"})
async def room_password(request: web.Request) -> web.Response:
    svc = services(request)
    me = await require_admin(request)
    body = await json_object(request)
    room_id = field_id(body, "id", "room id")
    password = validated(validation.password, field_str(body, "password"))
    room = await load_room(svc, room_id)
    await _guard_room(svc, me, room, "change the password of")
    await svc.store.rooms.set_password(room.id, await hash_password(password))
    return no_content()


@routes.get("/api/admin/room/list", "All rooms (filter by status; search all|name|creator|creatorId|id)",
            auth="admin", query=(*LIST_QUERY, "status"))
async def room_list(request: web.Request) -> web.Response:
    svc = services(request)
    await require_admin(request)
    q = list_query(request, searches=("all", "name", "creator", "creatorId", "id"))
    status = query_filter(request, "status", _ROOM_STATUS)
    total, rows = await svc.store.rooms.list(q, status=status, include_hidden=True, admin=True)
    return await _rooms_page(svc, total, rows)


async def _room_from_body(request: web.Request) -> Room:
    return await load_room(services(request), field_id(await json_object(request), "id", "room id"))


@routes.post("/api/admin/room/approve", "Approve a pending room", auth="admin", body=_ID_BODY)
async def room_approve(request: web.Request) -> web.Response:
    svc = services(request)
    await require_admin(request)
    room = await _room_from_body(request)
    if room.status != RoomStatus.PENDING:
        raise bad_request("room is not pending")
    await svc.store.rooms.set_status(room.id, RoomStatus.ACTIVE)
    return no_content()


@routes.post("/api/admin/room/ban", "Ban a room (disconnects everyone)", auth="admin", body=_ID_BODY)
async def room_ban(request: web.Request) -> web.Response:
    svc = services(request)
    me = await require_admin(request)
    room = await _room_from_body(request)
    await _guard_room(svc, me, room, "ban")
    if room.status == RoomStatus.BANNED:
        raise bad_request("room is already banned")
    await svc.store.rooms.set_status(room.id, RoomStatus.BANNED)
    await svc.router.close_room(room.id, "room banned")
    return no_content()


@routes.post("/api/admin/room/unban", "Unban a room", auth="admin", body=_ID_BODY)
async def room_unban(request: web.Request) -> web.Response:
    svc = services(request)
    await require_admin(request)
    room = await _room_from_body(request)
    if room.status != RoomStatus.BANNED:
        raise bad_request("room is not banned")
    await svc.store.rooms.set_status(room.id, RoomStatus.ACTIVE)
    return no_content()


@routes.post("/api/admin/room/delete", "Delete a room (disconnects everyone)", auth="admin", body=_ID_BODY)
async def room_delete(request: web.Request) -> web.Response:
    svc = services(request)
    me = await require_admin(request)
    room = await _room_from_body(request)
    await _guard_room(svc, me, room, "delete")
    await svc.store.rooms.delete(room.id)
    await svc.router.close_room(room.id, "room deleted")
    return no_content()


async def _online(svc: Services, room: Room) -> dict[str, int]:
    if room.status != RoomStatus.ACTIVE:
        return {}
    try:
        online = (await svc.router.state(room.id)).online
    except RoomUnavailable:
        return {}
    return online if isinstance(online, dict) else {}


@routes.get("/api/admin/room/members", "Members of any room (by status and role)", auth="admin",
            query=("roomId", *LIST_QUERY, "status", "role"))
async def room_members(request: web.Request) -> web.Response:
    svc = services(request)
    await require_admin(request)
    key = "roomId" if "roomId" in request.query or "id" not in request.query else "id"
    room = await load_room(svc, query_id(request, key))
    q = list_query(request, sorts=("name", "join"))
    status = query_filter(request, "status", _MEMBER_STATUS, default="active")
    role = query_filter(request, "role", _MEMBER_ROLE)
    total, rows = await svc.store.members.list(room.id, q, status=status, role=role)
    online = await _online(svc, room)
    return ok({"total": total, "list": [room_member(m, name, online.get(m.user_id, 0)) for m, name in rows]})


# --- site admins (root only) ---


@routes.post("/api/admin/admin/add", "Make a user a site admin", auth="root", body=_ID_BODY)
async def admin_add(request: web.Request) -> web.Response:
    svc = services(request)
    await require_root(request)
    target = await _load_user(svc, field_id(await json_object(request), "id", "user id"))
    if target.role >= Role.ADMIN:
        raise bad_request("user is already an admin")
    if target.role != Role.USER:
        raise bad_request("only an active user can become an admin")
    await svc.store.users.set_role(target.id, Role.ADMIN)
    await svc.invalidate("user", target.id)
    return no_content()


@routes.post("/api/admin/admin/delete", "Make a site admin a normal user (not for roots)", auth="root",
             body=_ID_BODY)
async def admin_delete(request: web.Request) -> web.Response:
    svc = services(request)
    await require_root(request)
    target = await _load_user(svc, field_id(await json_object(request), "id", "user id"))
    if target.role >= Role.ROOT:
        raise forbidden("cannot demote a root user")
    if target.role != Role.ADMIN:
        raise bad_request("user is not an admin")
    await svc.store.users.set_role(target.id, Role.USER)
    await svc.invalidate("user", target.id)
    return no_content()

