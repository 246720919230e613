"""Roles, statuses and permission bits, and the rules that combine them (upstream §1.4).

The evaluation order matters and is kept in one place: site admin, creator, membership, room admin,
room-wide `can_*` toggles, then the member's own bits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import Any

GUEST_USER_ID = "00000000000000000000000000000001"


class Role(IntEnum):
    BANNED = 1
    PENDING = 2
    USER = 3
    ADMIN = 4
    ROOT = 5


class RoomStatus(IntEnum):
    BANNED = 1
    PENDING = 2
    ACTIVE = 3


class MemberStatus(IntEnum):
    NOT_JOINED = 0
    BANNED = 1
    PENDING = 2
    ACTIVE = 3


class MemberRole(IntEnum):
    UNKNOWN = 0
    MEMBER = 1
    ADMIN = 2
    CREATOR = 3


class Perm(IntFlag):
    GET_MOVIE_LIST = 1
    ADD_MOVIE = 2
    DELETE_MOVIE = 4
    EDIT_MOVIE = 8
    SET_CURRENT_MOVIE = 16
    SET_CURRENT_STATUS = 32
    SEND_CHAT_MESSAGE = 64
    WEBRTC = 128


class AdminPerm(IntFlag):
    APPROVE_PENDING_MEMBER = 1
    BAN_ROOM_MEMBER = 2
    SET_USER_PERMISSION = 4
    SET_ROOM_SETTINGS = 8
    SET_ROOM_PASSWORD = 16
    DELETE_ROOM = 32


ALL_PERMISSIONS = 0xFFFFFFFF
NO_PERMISSION = 0
DEFAULT_PERMISSIONS = int(Perm.GET_MOVIE_LIST | Perm.SEND_CHAT_MESSAGE | Perm.WEBRTC)  # 193
ALL_ADMIN_PERMISSIONS = 0xFFFFFFFF
DEFAULT_ADMIN_PERMISSIONS = 31

# Room settings that veto a member bit for non-admins; WebRTC has no toggle.
TOGGLES: dict[Perm, str] = {
    Perm.GET_MOVIE_LIST: "can_get_movie_list",
    Perm.ADD_MOVIE: "can_add_movie",
    Perm.DELETE_MOVIE: "can_delete_movie",
    Perm.EDIT_MOVIE: "can_edit_movie",
    Perm.SET_CURRENT_MOVIE: "can_set_current_movie",
    Perm.SET_CURRENT_STATUS: "can_set_current_status",
    Perm.SEND_CHAT_MESSAGE: "can_send_chat_message",
}


@dataclass(frozen=True, slots=True)
class Subject:
    """Who is acting: a user (or the guest) with their site role."""

    user_id: str
    role: Role

    @property
    def is_guest(self) -> bool:
        return self.user_id == GUEST_USER_ID

    @property
    def is_site_admin(self) -> bool:
        return self.role >= Role.ADMIN


@dataclass(frozen=True, slots=True)
class Membership:
    role: MemberRole = MemberRole.MEMBER
    status: MemberStatus = MemberStatus.ACTIVE
    permissions: int = DEFAULT_PERMISSIONS
    admin_permissions: int = 0


def effective_permissions(
    subject: Subject, creator_id: str, member: Membership | None, settings: Mapping[str, Any]
) -> int:
    """The member bits this subject may use in the room right now."""
    if subject.is_site_admin or subject.user_id == creator_id:
        return ALL_PERMISSIONS
    if subject.is_guest:
        bits = int(settings.get("guest_permissions", 0))
    else:
        if member is None or member.status != MemberStatus.ACTIVE:
            return NO_PERMISSION
        if member.role >= MemberRole.ADMIN:
            return ALL_PERMISSIONS
        bits = member.permissions
    for perm, key in TOGGLES.items():
        if not settings.get(key, True):
            bits &= ~int(perm)
    return bits & ALL_PERMISSIONS


def has_permission(
    subject: Subject, creator_id: str, member: Membership | None, settings: Mapping[str, Any], perm: Perm
) -> bool:
    return effective_permissions(subject, creator_id, member, settings) & int(perm) == int(perm)


def has_admin_permission(subject: Subject, creator_id: str, member: Membership | None, perm: AdminPerm) -> bool:
    if subject.is_site_admin:
        return True
    if subject.is_guest:
        return False
    if subject.user_id == creator_id:
        return True
    if member is None or member.role < MemberRole.ADMIN or member.status != MemberStatus.ACTIVE:
        return False
    return member.admin_permissions & int(perm) == int(perm)


def is_room_admin(subject: Subject, creator_id: str, member: Membership | None) -> bool:
    """Room-admin tier: member role admin, the creator, or a site admin (who bypasses room checks anyway)."""
    if subject.is_site_admin or subject.user_id == creator_id:
        return True
    return member is not None and member.role >= MemberRole.ADMIN and member.status == MemberStatus.ACTIVE
