"""`/api/user`: login, signup, session, profile, my rooms."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Any

from aiohttp import web

from synctv.api.auth import UserCtx, load_room, request_room_id, request_token, require_user
from synctv.api.bruteforce import Attempt, verify
from synctv.api.context import services
from synctv.api.requests import field_id, field_str, json_object, list_query, query_filter, validated
from synctv.api.responses import bad_request, forbidden, no_content, not_found, ok
from synctv.api.routing import LIST_QUERY, Routes
from synctv.api.views import check_room, room_list_item, user_info
from synctv.auth.passwords import check_password, hash_password, user_version
from synctv.core import commands as c
from synctv.core import validation
from synctv.core.permissions import GUEST_USER_ID, MemberStatus, Role, RoomStatus
from synctv.services import Services
from synctv.store.pagination import ListQuery
from synctv.store.sessions import session_hash

routes = Routes("user")


def token_payload(svc: Services, user_id: str, hashed: bytes, role: int) -> dict[str, Any]:
    """`{token, role}`, or `{message, role}` and no token for a banned or pending account."""
    if role == Role.BANNED:
        return {"message": "user account has been banned", "role": role}
    if role == Role.PENDING:
        return {"message": "user account is pending approval", "role": role}
    return {"token": svc.tokens.issue(user_id, user_version(hashed)), "role": role}


def token_response(svc: Services, user_id: str, hashed: bytes, role: int) -> web.Response:
    return ok(token_payload(svc, user_id, hashed, role))


@routes.post("/api/user/login", "Log in with a username or e-mail and a password",
             body={"username": "string", "email": "string", "password": "string"}, status=200)
async def login(request: web.Request) -> web.Response:
    svc = services(request)
    body = await json_object(request)
    username = field_str(body, "username", required=False)
    email = field_str(body, "email", required=False)
    password = field_str(body, "password")
    if bool(username) == bool(email):
        raise bad_request("give either username or email")
    user = await (svc.store.users.get_by_username(username) if username else svc.store.users.get_by_email(email))
    if user is not None and user.id == GUEST_USER_ID:
        user = None
    # The same answer, after the same work, for an unknown account and a wrong password.
    if not await verify(Attempt(request, "login", username or email), password,
                        user.hashed_password if user is not None else None) or user is None:
        raise forbidden("password incorrect")
    return token_response(svc, user.id, user.hashed_password, user.role)


@routes.post("/api/user/signup", "Sign up with a username and a password",
             body={"username": "string", "password": "string"}, status=200)
async def signup(request: web.Request) -> web.Response:
    svc = services(request)
    settings = svc.store.settings
    if settings.bool("disable_user_signup") or not settings.bool("enable_password_signup"):
        raise bad_request("signup is disabled")
    body = await json_object(request)
    username = validated(validation.username, field_str(body, "username"))
    password = validated(validation.password, field_str(body, "password"),
                         min_length=settings.int(validation.PASSWORD_MIN_LENGTH))
    review = settings.bool("signup_need_review") or settings.bool("password_signup_need_review")
    hashed = await hash_password(password)
    user = await svc.store.users.create(username, hashed, Role.PENDING if review else Role.USER)
    return token_response(svc, user.id, hashed, user.role)


@routes.post("/api/user/logout", "End this session (the token stops working; the account stays)", auth="user")
async def logout(request: web.Request) -> web.Response:
    svc = services(request)
    me_ = await require_user(request)
    claims_exp = _token_expiry(svc, request_token(request))
    await svc.store.sessions.revoke(me_.session_id, claims_exp)
    await svc.invalidate("sessions")
    return no_content()


_SESSION_ID = re.compile(r"[0-9a-f]{64}")


def _unix(at: datetime) -> int:
    return int(at.replace(tzinfo=UTC).timestamp())


@routes.get("/api/user/sessions", "My signed-in sessions (this one marked current), most recently used first",
            auth="user")
async def my_sessions(request: web.Request) -> web.Response:
    svc = services(request)
    me_ = await require_user(request)
    current = session_hash(me_.session_id)
    rows = await svc.store.sessions.of_user(me_.id, me_.user_version)
    return ok({"list": [{"id": r.id, "createdAt": _unix(r.created_at), "lastSeenAt": _unix(r.last_seen_at),
                         "expiresAt": _unix(r.expires_at), "userAgent": r.user_agent, "current": r.id == current}
                        for r in rows]})


@routes.post("/api/user/sessions/revoke", "End one of my sessions (its token stops working at once)", auth="user",
             body={"id": "string"})
async def revoke_session(request: web.Request) -> web.Response:
    svc = services(request)
    me_ = await require_user(request)
    session_id = field_str(await json_object(request), "id")
    if not _SESSION_ID.fullmatch(session_id):
        raise bad_request("invalid session id")
    mine = {r.id: r for r in await svc.store.sessions.of_user(me_.id, me_.user_version)}
    row = mine.get(session_id)
    if row is None:  # someone else's session looks exactly like one that doesn't exist
        raise not_found("session not found")
    await svc.store.sessions.revoke_hashed(row.id, row.expires_at)
    await svc.invalidate("sessions")
    return no_content()


@routes.post("/api/user/sessions/revoke-others", "End every session of mine but this one", auth="user")
async def revoke_other_sessions(request: web.Request) -> web.Response:
    svc = services(request)
    me_ = await require_user(request)
    current = session_hash(me_.session_id)
    ended = 0
    for row in await svc.store.sessions.of_user(me_.id, me_.user_version):
        if row.id != current:
            await svc.store.sessions.revoke_hashed(row.id, row.expires_at)
            ended += 1
    if ended:
        await svc.invalidate("sessions")
    return ok({"ended": ended})


def _token_expiry(svc: Services, token: str) -> datetime:
    import jwt

    exp = jwt.decode(token, options={"verify_signature": False}).get("exp", 0)
    return datetime.fromtimestamp(int(exp), tz=UTC).replace(tzinfo=None)


@routes.post("/api/user/delete", "Delete my account (explicit; needs the password)", auth="user",
             body={"password": "string"})
async def delete_account(request: web.Request) -> web.Response:
    svc = services(request)
    me = await require_user(request)
    body = await json_object(request)
    password = field_str(body, "password")
    user = await svc.store.users.get(me.id)
    if user is None:
        raise not_found("user not found")
    if not await check_password(password, user.hashed_password):
        raise forbidden("password incorrect")
    if me.role >= Role.ROOT:
        raise forbidden("a root user cannot delete their own account")
    await delete_user_and_rooms(svc, me.id)
    return no_content()


async def delete_user_and_rooms(svc: Services, user_id: str) -> None:
    """Delete a user; their rooms go with them, so close those rooms first."""
    _, rows = await svc.store.rooms.list(ListQuery(max=10_000), include_hidden=True, creator_id=user_id)
    await svc.store.users.delete(user_id)
    for row in rows:
        await svc.router.close_room(row.id, "room deleted")
    await svc.invalidate("user", user_id)


@routes.get("/api/user/me", "My account", auth="user")
async def me(request: web.Request) -> web.Response:
    svc = services(request)
    ctx = await require_user(request)
    user = await svc.store.users.get(ctx.id)
    if user is None:
        raise not_found("user not found")
    return ok(user_info(user))


_STATUS = {"active": RoomStatus.ACTIVE, "pending": RoomStatus.PENDING, "banned": RoomStatus.BANNED}


@routes.get("/api/user/rooms", "Rooms I created", auth="user", query=(*LIST_QUERY, "status"))
async def my_rooms(request: web.Request) -> web.Response:
    svc = services(request)
    user = await require_user(request)
    q = list_query(request)
    status = query_filter(request, "status", _STATUS, default="active")  # `status=` (empty): every status
    total, rows = await svc.store.rooms.list(q, status=status, include_hidden=True, creator_id=user.id)
    counts = await svc.router.viewer_counts([r.id for r in rows])
    return ok({"total": total, "list": [room_list_item(r, counts.get(r.id, 0)) for r in rows]})


@routes.get("/api/user/rooms/joined", "Rooms I joined (not my own)", auth="user", query=LIST_QUERY)
async def joined_rooms(request: web.Request) -> web.Response:
    svc = services(request)
    user = await require_user(request)
    q = list_query(request)
    total, rows = await svc.store.rooms.list_joined(user.id, q)
    counts = await svc.router.viewer_counts([r.id for r, _ in rows])
    items = [dict(room_list_item(r, counts.get(r.id, 0)), memberStatus=m.status, memberRole=m.role)
             for r, m in rows]
    return ok({"total": total, "list": items})


@routes.post("/api/user/username", "Change my username", auth="user", body={"username": "string"})
async def set_username(request: web.Request) -> web.Response:
    svc = services(request)
    user = await require_user(request)
    body = await json_object(request)
    name = validated(validation.username, field_str(body, "username"))
    await svc.store.users.set_username(user.id, name)
    await svc.invalidate("user", user.id)
    return no_content()


FRESH_LOGIN_S = 600


@routes.post("/api/user/password", "Change my password (every other session ends); needs a login within the "
             "last 10 minutes or the current password as oldPassword", auth="user",
             body={"password": "string", "oldPassword": "string"}, status=200)
async def set_password(request: web.Request) -> web.Response:
    svc = services(request)
    me_ = await require_user(request)
    body = await json_object(request)
    password = validated(validation.password, field_str(body, "password"),
                         min_length=svc.store.settings.int(validation.PASSWORD_MIN_LENGTH))
    old = field_str(body, "oldPassword", required=False)
    user = await svc.store.users.get(me_.id)
    if user is None:
        raise not_found("user not found")
    # A stolen token alone must not take the account over: prove it is you (a fresh login, or the password).
    if old:
        if not await check_password(old, user.hashed_password):
            raise forbidden("password incorrect")
    elif time.time() - me_.issued_at > FRESH_LOGIN_S:
        raise forbidden("log in again (or send your current password as oldPassword) to change the password")
    if await check_password(password, user.hashed_password):
        raise bad_request("password is the same")
    hashed = await hash_password(password)
    await svc.store.users.set_password(user.id, hashed)
    await svc.invalidate("user", user.id)
    return token_response(svc, user.id, hashed, user.role)


@routes.post("/api/user/room/delete", "Delete a room I created", auth="user", body={"id": "string"})
async def delete_my_room(request: web.Request) -> web.Response:
    svc = services(request)
    user = await require_user(request)
    room_id = field_id(await json_object(request), "id", "room id")
    room = await load_room(svc, room_id)
    if room.creator_id != user.id:
        raise forbidden("not creator")
    await svc.store.rooms.delete(room_id)
    await svc.router.close_room(room_id, "room deleted")
    return no_content()


@routes.post("/api/user/room/exit", "Leave a room (deletes my membership)", auth="user", body={"id": "string"})
async def exit_room(request: web.Request) -> web.Response:
    svc = services(request)
    user = await require_user(request)
    room_id = field_id(await json_object(request), "id", "room id")
    room = await load_room(svc, room_id)
    if room.creator_id == user.id:
        raise bad_request("the creator cannot exit the room")
    if not await svc.store.members.delete(room_id, user.id):
        raise not_found("member not found")
    await svc.router.submit(room_id, c.KickUser(user.id, "left the room"))
    return no_content()


async def joined_status(request: web.Request, user: UserCtx) -> web.Response:
    svc = services(request)
    room_id = request_room_id(request)
    row = await svc.store.rooms.describe(room_id)
    if row is None:
        raise not_found("room not found")
    member = await svc.store.members.get(room_id, user.id)
    settings = await svc.store.rooms.get_settings(room_id) or {}
    enabled_guest = (not settings.get("disable_guest") and svc.store.settings.bool("enable_guest")
                     and not row.need_password)
    status = member.status if member else int(MemberStatus.NOT_JOINED)
    return ok({"joined": member is not None, "status": status,
               "room": check_room(row, (await svc.router.viewer_counts([room_id])).get(room_id, 0), enabled_guest)})


@routes.get("/api/user/room/joined", "Whether I joined a room", auth="user", query=("roomId",))
async def user_room_joined(request: web.Request) -> web.Response:
    return await joined_status(request, await require_user(request))
