"""Who is calling: token extraction, user authentication, and room access (upstream's middleware tiers)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiohttp import hdrs, web

from synctv.api.context import services
from synctv.api.responses import forbidden, not_found, unauthorized
from synctv.auth.passwords import user_version
from synctv.auth.tokens import TokenError
from synctv.core.commands import UserRef
from synctv.core.permissions import (
    GUEST_USER_ID,
    AdminPerm,
    MemberRole,
    Membership,
    MemberStatus,
    Perm,
    Role,
    RoomStatus,
    Subject,
    has_admin_permission,
    has_permission,
    is_room_admin,
)
from synctv.core.validation import is_id
from synctv.services import Services
from synctv.store.models import Room

log = logging.getLogger(__name__)

@dataclass(frozen=True, slots=True)
class UserCtx:
    id: str
    username: str
    role: Role
    session_id: str = ""
    user_version: int = 0
    issued_at: int = 0  # when the session's token was issued (a fresh login may change the password)
    expires_at: int = 0

    @property
    def ref(self) -> UserRef:
        """Who the user is, as room commands carry it (never the role: the room's owner resolves that)."""
        return UserRef(self.id, self.username, self.session_id)

    @property
    def is_guest(self) -> bool:
        return self.id == GUEST_USER_ID

    @property
    def subject(self) -> Subject:
        return Subject(self.id, self.role)

    @property
    def is_admin(self) -> bool:
        return self.role >= Role.ADMIN


GUEST = UserCtx(GUEST_USER_ID, "guest", Role.USER)
USER_KEY: web.RequestKey[UserCtx] = web.RequestKey("synctv.user", UserCtx)


@dataclass(frozen=True, slots=True)
class RoomCtx:
    user: UserCtx
    room: Room
    settings: dict[str, Any]
    member: Membership | None

    @property
    def room_id(self) -> str:
        return self.room.id

    def can(self, perm: Perm) -> bool:
        return has_permission(self.user.subject, self.room.creator_id, self.member, self.settings, perm)

    def require(self, perm: Perm, message: str = "no permission") -> None:
        if not self.can(perm):
            raise forbidden(message)

    def can_admin(self, perm: AdminPerm) -> bool:
        return has_admin_permission(self.user.subject, self.room.creator_id, self.member, perm)

    @property
    def is_room_admin(self) -> bool:
        return is_room_admin(self.user.subject, self.room.creator_id, self.member)

    @property
    def is_creator(self) -> bool:
        return self.user.id == self.room.creator_id


# Where a browser cannot send a header: the WebSocket, and media URLs handed to <video>, hls.js or a subtitle
# track (proxy, live and danmu streams). Anywhere else a token in the URL would only end up in logs.
URL_TOKEN_PATHS = ("/api/room/ws",)
URL_TOKEN_PREFIXES = ("/api/room/movie/proxy/", "/api/room/movie/live/", "/api/room/movie/danmu/")
URL_TOKEN_REFUSED = ("a token in the URL is accepted only on WebSocket and media URLs; "
                     "send it in the Authorization header")


def url_token_allowed(path: str) -> bool:
    return path in URL_TOKEN_PATHS or path.startswith(URL_TOKEN_PREFIXES)


def request_token(request: web.Request) -> str:
    """Authorization (raw or Bearer), then Sec-WebSocket-Protocol on upgrades, then ?token= where allowed."""
    auth = request.headers.get(hdrs.AUTHORIZATION, "").strip()
    if auth:
        return auth[7:].strip() if auth[:7].lower() == "bearer " else auth
    if request.headers.get(hdrs.UPGRADE, "").lower() == "websocket":
        proto = request.headers.get(hdrs.SEC_WEBSOCKET_PROTOCOL, "").strip()
        if proto:
            return proto
    token = request.query.get("token", "").strip()
    if token and not url_token_allowed(request.path):
        raise unauthorized(URL_TOKEN_REFUSED)
    return token


async def user_from_token(svc: Services, token: str) -> UserCtx:
    try:
        claims = svc.tokens.parse(token)
    except TokenError as exc:
        raise unauthorized(str(exc)) from None
    if svc.store.sessions.is_revoked(claims.session_id):
        raise unauthorized("authentication token expired")
    user = await svc.store.users.get(claims.user_id)
    if user is None or user.id == GUEST_USER_ID:
        raise unauthorized("authentication failed")
    if user_version(user.hashed_password) != claims.user_version:
        raise unauthorized("authentication token expired")
    if user.role == Role.BANNED:
        raise unauthorized("user account has been banned")
    if user.role == Role.PENDING:
        raise unauthorized("user account is pending approval")
    return UserCtx(user.id, user.username, Role(user.role), claims.session_id, claims.user_version,
                   claims.issued_at, claims.expires_at)


async def require_user(request: web.Request) -> UserCtx:
    cached: UserCtx | None = request.get(USER_KEY)
    if cached is not None:
        return cached
    token = request_token(request)
    if not token:
        raise unauthorized("authentication failed")
    svc = services(request)
    user = await user_from_token(svc, token)
    request[USER_KEY] = user
    if user.session_id and not svc.store.sessions.seen_recently(user.session_id):
        svc.store.sessions.note_use(user.session_id, user.id, user.user_version, _utc(user.issued_at),
                                    _utc(user.expires_at), request.headers.get(hdrs.USER_AGENT, ""))
    return user


def _utc(unix_s: int) -> datetime:
    return datetime.fromtimestamp(unix_s, tz=UTC).replace(tzinfo=None)


async def require_admin(request: web.Request) -> UserCtx:
    user = await require_user(request)
    if user.role < Role.ADMIN:
        raise forbidden("user is not an administrator")
    return user


async def require_root(request: web.Request) -> UserCtx:
    user = await require_user(request)
    if user.role < Role.ROOT:
        raise forbidden("user is not a root user")
    return user


async def optional_user(request: web.Request) -> UserCtx:
    """A user token if one is given (and valid), otherwise the guest when guests are enabled."""
    if request_token(request):
        return await require_user(request)
    if not services(request).store.settings.bool("enable_guest"):
        raise unauthorized("authentication failed")
    return GUEST


def request_room_id(request: web.Request) -> str:
    room_id = (request.headers.get("X-Room-Id") or request.query.get("roomId") or
               request.match_info.get("roomId") or "")
    if not is_id(room_id):
        raise unauthorized("invalid room ID")
    return room_id


def membership(row: Any) -> Membership | None:
    if row is None:
        return None
    return Membership(role=MemberRole(row.role), status=MemberStatus(row.status), permissions=row.permissions,
                      admin_permissions=row.admin_permissions)


async def load_room(svc: Services, room_id: str) -> Room:
    room = await svc.store.rooms.get(room_id)
    if room is None:
        raise not_found("room not found")
    return room


async def room_access(request: web.Request, *, allow_guest: bool = True, room_id: str | None = None) -> RoomCtx:
    """Room-tier auth: room status, guests, password rooms (members only), membership status.

    Unlike upstream, a password room refuses non-members everywhere except `/api/room/check` and
    `/api/room/login` (403 `password required`).
    """
    svc = services(request)
    user = await optional_user(request)
    info = await svc.store.rooms.access_info(room_id or request_room_id(request), user.id)
    if info is None:
        raise not_found("room not found")
    room, settings = info.room, info.settings
    if user.is_guest:
        if settings.get("disable_guest") or room.hashed_password:
            raise unauthorized("guests are not allowed to perform this action")
        if not allow_guest:
            raise forbidden("guests are not allowed to perform this action")
    if not user.is_admin:
        if room.status == RoomStatus.BANNED:
            raise unauthorized("room has been banned")
        if room.status == RoomStatus.PENDING:
            raise unauthorized("room is pending approval")
        if info.creator_role is None or info.creator_role in (Role.BANNED, Role.PENDING):
            raise unauthorized("room is unavailable")
    member = None
    if not user.is_guest:
        row = info.member
        if row is None and not room.hashed_password:
            if settings.get("disable_join_new_user") and not user.is_admin:
                raise forbidden("room does not accept new members")
            review = bool(settings.get("join_need_review")) and not user.is_admin
            row = await svc.store.members.get_or_create(
                room.id, user.id, status=MemberStatus.PENDING if review else MemberStatus.ACTIVE,
                permissions=int(settings.get("user_default_permissions", 193)))
        member = membership(row)
        if member is None and not user.is_admin:
            raise forbidden("password required")
        if member is not None and member.status == MemberStatus.BANNED:
            raise unauthorized("user has been banned from this room")
        if member is not None and member.status == MemberStatus.PENDING:
            raise unauthorized("user account is pending approval")
    return RoomCtx(user=user, room=room, settings=settings, member=member)


async def room_admin_access(request: web.Request, perm: AdminPerm | None = None) -> RoomCtx:
    ctx = await room_access(request, allow_guest=False)
    if not ctx.is_room_admin:
        raise forbidden("user is not a room administrator")
    if perm is not None and not ctx.can_admin(perm):
        raise forbidden("no permission")
    return ctx


async def room_creator_access(request: web.Request) -> RoomCtx:
    ctx = await room_access(request, allow_guest=False)
    if not ctx.is_creator and not ctx.user.is_admin:
        raise forbidden("user is not the room creator")
    return ctx
