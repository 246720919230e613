"""Room members: listing, approval, bans, removal and permission changes (room admins and the creator)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from synctv.api.auth import RoomCtx, room_access, room_admin_access, room_creator_access
from synctv.api.context import services
from synctv.api.requests import field_id, field_int, json_object, list_query, query_filter, validated
from synctv.api.responses import bad_request, forbidden, no_content, not_found, ok
from synctv.api.routing import LIST_QUERY, Routes
from synctv.api.views import room_member
from synctv.core import commands as c
from synctv.core import validation
from synctv.core.permissions import (
    ALL_PERMISSIONS,
    GUEST_USER_ID,
    AdminPerm,
    MemberRole,
    MemberStatus,
)
from synctv.rooms.actor import RoomUnavailable
from synctv.services import Services
from synctv.store.models import RoomMember

routes = Routes("members")

_ROLES = {"admin": MemberRole.ADMIN, "member": MemberRole.MEMBER, "creator": MemberRole.CREATOR}
_STATUSES = {"active": MemberStatus.ACTIVE, "pending": MemberStatus.PENDING, "banned": MemberStatus.BANNED}


async def _online(svc: Services, room_id: str) -> dict[str, int]:
    try:
        online = (await svc.router.state(room_id)).online
        return online if isinstance(online, dict) else {}
    except RoomUnavailable:
        return {}


async def _list(request: web.Request, ctx: RoomCtx, status: MemberStatus | None) -> web.Response:
    svc = services(request)
    q = list_query(request, sorts=("name", "join"))
    role = query_filter(request, "role", _ROLES)
    total, rows = await svc.store.members.list(ctx.room_id, q, status=status, role=role)
    online = await _online(svc, ctx.room_id)
    return ok({"total": total, "list": [room_member(m, name, online.get(m.user_id, 0)) for m, name in rows]})


@routes.get("/api/room/members", "Members of the room", auth="room!g", query=(*LIST_QUERY, "role"))
async def members(request: web.Request) -> web.Response:
    ctx = await room_access(request, allow_guest=False)
    return await _list(request, ctx, None)


@routes.get("/api/room/admin/members", "Members by status (room admins)", auth="room-admin",
            query=(*LIST_QUERY, "status", "role"))
async def admin_members(request: web.Request) -> web.Response:
    ctx = await room_admin_access(request)
    # `status=` (present, empty) is the web client's "all": pending members with their approve button, banned
    # ones with unban; only a missing key means active
    return await _list(request, ctx, query_filter(request, "status", _STATUSES, default="active"))


async def _target(svc: Services, ctx: RoomCtx, body: dict[str, Any]) -> RoomMember:
    user_id = field_id(body, "id", "user id")
    if user_id == GUEST_USER_ID:
        raise bad_request("the guest is managed through room settings")
    target = await svc.store.members.get(ctx.room_id, user_id)
    if target is None:
        raise not_found("member not found")
    return target


def _guard(ctx: RoomCtx, target: RoomMember, action: str) -> None:
    if target.user_id == ctx.user.id:
        raise forbidden(f"cannot {action} yourself")
    if target.role == MemberRole.CREATOR:
        raise forbidden(f"cannot {action} the room creator")
    if target.role >= MemberRole.ADMIN and not ctx.is_creator and not ctx.user.is_admin:
        raise forbidden(f"only the creator can {action} an admin")


async def _notify(svc: Services, ctx: RoomCtx, target_user: str) -> None:
    await svc.router.submit(ctx.room_id, c.NotifyMyStatus(ctx.user.ref, target_user))


@routes.post("/api/room/admin/members/approve", "Approve a pending member", auth="room-admin", body={"id": "string"})
async def approve(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_admin_access(request, AdminPerm.APPROVE_PENDING_MEMBER)
    target = await _target(svc, ctx, await json_object(request))
    if target.status != MemberStatus.PENDING:
        raise bad_request("member is not pending")
    await svc.store.members.update(ctx.room_id, target.user_id, status=int(MemberStatus.ACTIVE))
    await _notify(svc, ctx, target.user_id)
    return no_content()


@routes.post("/api/room/admin/members/delete", "Remove a member (closes their connections)", auth="room-admin",
             body={"id": "string"})
async def remove(request: web.Request) -> web.Response:
    svc = services(request)
    # Upstream gates removal on the approve bit; removing is a sanction, so it needs the ban bit.
    ctx = await room_admin_access(request, AdminPerm.BAN_ROOM_MEMBER)
    target = await _target(svc, ctx, await json_object(request))
    _guard(ctx, target, "remove")
    await svc.store.members.delete(ctx.room_id, target.user_id)
    await svc.router.submit(ctx.room_id, c.KickUser(target.user_id, "removed from the room"))
    return no_content()


@routes.post("/api/room/admin/members/ban", "Ban a member (closes their connections)", auth="room-admin",
             body={"id": "string"})
async def ban(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_admin_access(request, AdminPerm.BAN_ROOM_MEMBER)
    target = await _target(svc, ctx, await json_object(request))
    _guard(ctx, target, "ban")
    await svc.store.members.update(ctx.room_id, target.user_id, status=int(MemberStatus.BANNED))
    await svc.router.submit(ctx.room_id, c.KickUser(target.user_id, "banned from the room"))
    return no_content()


@routes.post("/api/room/admin/members/unban", "Unban a member", auth="room-admin", body={"id": "string"})
async def unban(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_admin_access(request, AdminPerm.BAN_ROOM_MEMBER)
    target = await _target(svc, ctx, await json_object(request))
    if target.status != MemberStatus.BANNED:
        raise bad_request("member is not banned")
    await svc.store.members.update(ctx.room_id, target.user_id, status=int(MemberStatus.ACTIVE))
    await svc.router.submit(ctx.room_id, c.Invalidate(c.CacheKind.MEMBER, target.user_id))
    return no_content()


@routes.post("/api/room/admin/members/member", "Make an admin a member with the given permissions",
             auth="room-creator", body={"id": "string", "permissions": "integer"})
async def demote(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_creator_access(request)
    body = await json_object(request)
    perms = validated(validation.uint32, field_int(body, "permissions"), "permissions")
    target = await _target(svc, ctx, body)
    _guard(ctx, target, "change")
    await svc.store.members.update(ctx.room_id, target.user_id, role=int(MemberRole.MEMBER), permissions=perms,
                                   admin_permissions=0)
    await _notify(svc, ctx, target.user_id)
    return no_content()


@routes.post("/api/room/admin/members/member/permissions", "Set a member's permission bits", auth="room-creator",
             body={"id": "string", "permissions": "integer"})
async def member_permissions(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_creator_access(request)
    body = await json_object(request)
    perms = validated(validation.uint32, field_int(body, "permissions"), "permissions")
    if body.get("id") == GUEST_USER_ID:
        await svc.store.rooms.update_settings(ctx.room_id, {"guest_permissions": perms})
        await svc.router.submit(ctx.room_id, c.Invalidate(c.CacheKind.SETTINGS))
        return no_content()
    target = await _target(svc, ctx, body)
    _guard(ctx, target, "change")
    if target.role >= MemberRole.ADMIN:
        raise bad_request("member is an admin; demote them first")
    await svc.store.members.update(ctx.room_id, target.user_id, permissions=perms)
    await _notify(svc, ctx, target.user_id)
    return no_content()


@routes.post("/api/room/admin/members/admin", "Make a member an admin", auth="room-creator",
             body={"id": "string", "adminPermissions": "integer"})
async def promote(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_creator_access(request)
    body = await json_object(request)
    admin_perms = validated(validation.uint32, field_int(body, "adminPermissions"), "adminPermissions")
    target = await _target(svc, ctx, body)
    _guard(ctx, target, "change")
    if target.status != MemberStatus.ACTIVE:
        raise bad_request("member is not active")
    await svc.store.members.update(ctx.room_id, target.user_id, role=int(MemberRole.ADMIN),
                                   permissions=ALL_PERMISSIONS, admin_permissions=admin_perms)
    await _notify(svc, ctx, target.user_id)
    return no_content()


@routes.post("/api/room/admin/members/admin/permissions", "Set an admin's admin-permission bits",
             auth="room-creator", body={"id": "string", "adminPermissions": "integer"})
async def admin_permissions(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await room_creator_access(request)
    body = await json_object(request)
    admin_perms = validated(validation.uint32, field_int(body, "adminPermissions"), "adminPermissions")
    target = await _target(svc, ctx, body)
    _guard(ctx, target, "change")
    if target.role != MemberRole.ADMIN:
        raise bad_request("member is not an admin")
    await svc.store.members.update(ctx.room_id, target.user_id, admin_permissions=admin_perms)
    await _notify(svc, ctx, target.user_id)
    return no_content()
